"""The devtools host routes, authorises and runs functions as the Functions host would."""

from __future__ import annotations

import hmac
import json
import logging
import select
import socket
import threading
from collections.abc import Iterator
from urllib.parse import quote

import azure.functions as func
import pytest

from devtools.host import HostServer, LocalHost, _Handler, compile_route
from tests.kit.app import desk_host

FUNCTION_KEY, MASTER_KEY = "fk", "mk"
ran: list[str] = []


def build_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="open/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def open_route(req: func.HttpRequest) -> func.HttpResponse:
        body = {"name": req.route_params["name"], "q": req.params.get("q")}
        return func.HttpResponse(json.dumps(body), mimetype="application/json")

    @app.route(route="items/{id:int}", methods=["GET", "DELETE"])
    def keyed(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(req.route_params["id"])

    @app.route(route="root/only", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
    def admin_only(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(req.get_body())

    @app.route(route="broken", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def broken(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("U0123 secret")  # the message must not reach the answer

    @app.route(route="admin/things", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def reserved(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("never served")

    @app.timer_trigger(schedule="%TEST_SCHEDULE%", arg_name="timer")
    def tick(timer: func.TimerRequest) -> None:
        ran.append("tick")

    @app.timer_trigger(schedule="%TEST_SCHEDULE%", arg_name="timer")
    def summarised(timer: func.TimerRequest) -> None:
        logging.getLogger("desk.timers").info("summarised examined=3 acted=1 skipped=2")
        logging.getLogger("desk.other").info("not part of the summary")

    @app.timer_trigger(schedule="%UNSET_SCHEDULE%", arg_name="timer")
    def orphan(timer: func.TimerRequest) -> None:
        ran.append("orphan")

    return app


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> LocalHost:
    monkeypatch.setenv("TEST_SCHEDULE", "0 */5 * * * *")
    monkeypatch.delenv("UNSET_SCHEDULE", raising=False)
    ran.clear()
    return LocalHost(build_app(), "api", FUNCTION_KEY, MASTER_KEY)


def test_anonymous_routes_get_route_and_query_parameters(host: LocalHost) -> None:
    status, headers, body = host.handle("GET", "/api/open/みらい?q=1", {}, b"")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"name": "みらい", "q": "1"}


@pytest.mark.parametrize(
    ("headers", "target", "status"),
    [
        ({}, "/api/items/7", 401),
        ({"x-functions-key": "wrong"}, "/api/items/7", 401),
        ({"x-functions-key": FUNCTION_KEY}, "/api/items/7", 200),
        ({"X-Functions-Key": MASTER_KEY}, "/api/items/7", 200),
        ({}, f"/api/items/7?code={FUNCTION_KEY}", 200),
    ],
)
def test_function_level_routes_need_a_key(host: LocalHost, headers, target, status) -> None:
    assert host.handle("GET", target, headers, b"")[0] == status


def test_admin_level_routes_need_the_master_key(host: LocalHost) -> None:
    assert host.handle("POST", "/api/root/only", {"x-functions-key": FUNCTION_KEY}, b"x")[0] == 401
    assert host.handle("POST", "/api/root/only", {"x-functions-key": MASTER_KEY}, b"x")[0] == 200


def test_route_constraints_methods_and_unknown_paths(host: LocalHost) -> None:
    key = {"x-functions-key": FUNCTION_KEY}
    assert host.handle("GET", "/api/items/abc", key, b"")[0] == 404
    assert host.handle("POST", "/api/items/7", key, b"")[0] == 405
    assert host.handle("DELETE", "/api/items/7", key, b"")[0] == 200
    assert host.handle("GET", "/api/nothing", key, b"")[0] == 404
    assert host.handle("GET", "/open/x", key, b"")[0] == 404  # outside the route prefix


def test_an_exception_in_a_function_is_a_bare_500(host: LocalHost) -> None:
    status, _, body = host.handle("GET", "/api/broken", {}, b"")
    assert status == 500
    assert b"secret" not in body


JSON = {"Content-Type": "application/json"}


def test_timers_run_on_the_admin_endpoint_with_the_master_key(host: LocalHost) -> None:
    def run(name: str, key: str, headers: dict[str, str] = JSON) -> int:
        return host.handle(
            "POST", f"/admin/functions/{name}", {"x-functions-key": key, **headers}, b"{}"
        )[0]

    assert run("tick", FUNCTION_KEY) == 401
    assert run("tick", MASTER_KEY, {}) == 415  # the real host's admin API takes JSON only
    assert run("tick", MASTER_KEY, {"Content-Type": "text/plain"}) == 415
    assert ran == []
    assert run("tick", MASTER_KEY, {"Content-Type": "application/json; charset=utf-8"}) == 202
    assert run("nope", MASTER_KEY) == 404
    assert ran == ["tick"]


def test_the_admin_endpoint_answers_with_the_timers_summary_line(host: LocalHost) -> None:
    status, headers, body = host.handle(
        "POST", "/admin/functions/summarised", {"x-functions-key": MASTER_KEY, **JSON}, b"{}"
    )
    assert status == 202
    assert headers["Content-Type"].startswith("text/plain")
    assert body.decode() == "summarised examined=3 acted=1 skipped=2\n"


def test_timer_schedules_resolve_app_settings(host: LocalHost) -> None:
    assert host.timers["tick"].schedule is not None
    assert host.timers["orphan"].schedule is None
    assert host.timers["orphan"].problem == "app setting UNSET_SCHEDULE is not set"


def test_routes_the_real_host_reserves_are_refused_as_it_refuses_them(host: LocalHost) -> None:
    assert host.errors == {
        "reserved": "the specified route conflicts with one or more built in routes"
    }
    assert host.handle("GET", "/api/admin/things", {}, b"")[0] == 404


def _one_route_app(name: str, route: str, methods: list[str]) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name(name)
    @app.route(route=route, methods=methods)
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("first")

    return app


@pytest.mark.parametrize("route", ["/api/things", "~/api/things"])
def test_a_route_template_starting_with_a_slash_is_refused(route: str) -> None:
    host = LocalHost(_one_route_app("things", route, ["GET"]), "", FUNCTION_KEY, MASTER_KEY)
    assert "cannot start with" in host.errors["things"]
    assert host.handle("GET", "/api/things", {}, b"")[0] == 404


@pytest.mark.parametrize("name", ["1things", "things!", "x" * 129, "ünïcode"])
def test_an_invalid_function_name_is_refused(name: str) -> None:
    host = LocalHost(_one_route_app(name, "api/things", ["GET"]), "", FUNCTION_KEY, MASTER_KEY)
    assert "name is invalid" in host.errors[name]
    assert host.handle("GET", "/api/things", {}, b"")[0] == 404


def test_two_functions_with_one_route_and_an_overlapping_method_are_refused() -> None:
    app = _one_route_app("first", "api/things/{id}", ["GET", "POST"])

    @app.function_name("second")
    @app.route(route="API/things/{other}", methods=["POST", "PUT"])
    def second(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("second")

    @app.function_name("third")
    @app.route(route="api/things/{id}", methods=["DELETE"])
    def third(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("third")

    host = LocalHost(app, "", FUNCTION_KEY, MASTER_KEY)
    assert set(host.errors) == {"second"}
    assert "POST" in host.errors["second"]
    assert host.handle("POST", "/api/things/1", {}, b"")[2] == b"first"
    assert host.handle("DELETE", "/api/things/1", {}, b"")[2] == b"third"


def test_keys_are_compared_in_constant_time(
    host: LocalHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        compared.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr("devtools.host.hmac.compare_digest", spy)
    assert host.handle("GET", "/api/items/7", {"x-functions-key": "wrong"}, b"")[0] == 401
    assert (b"wrong", FUNCTION_KEY.encode()) in compared
    assert (b"wrong", MASTER_KEY.encode()) in compared


@pytest.mark.parametrize("key", ["ключ", "\udcff", "", "fk\n", FUNCTION_KEY * 1000])
def test_odd_keys_are_refused_not_crashed_on(host: LocalHost, key: str) -> None:
    assert host.handle("GET", "/api/items/7", {"x-functions-key": key}, b"")[0] == 401
    target = f"/api/items/7?code={quote(key.encode('utf-8', 'surrogatepass'), safe='')}"
    assert host.handle("GET", target, {}, b"")[0] == 401


def test_the_desks_own_routes_load_on_the_real_host_and_keep_their_public_paths() -> None:
    host = desk_host()
    assert host.errors == {}
    routes = {f.route for f in host.http}
    assert "api/line/webhook" in routes
    # The API under api/, the experts' console (issue 13) under console/.
    assert all(route.startswith(("api/", "console")) for route in routes)
    assert "console" in routes


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("line/webhook", "line/webhook", {}),
        ("line/webhook", "LINE/Webhook/", {}),
        ("admin/sessions/{sessionId}", "admin/sessions/s-1", {"sessionId": "s-1"}),
        ("admin/sessions/{sessionId}/claim", "admin/sessions/s-1/claim", {"sessionId": "s-1"}),
        ("files/{*rest}", "files/a/b/c", {"rest": "a/b/c"}),
        ("opt/{id?}", "opt", {"id": None}),
        ("opt/{id?}", "opt/3", {"id": "3"}),
        ("opt/{id:int?}", "opt", {"id": None}),
        ("opt/{id:int?}", "opt/3", {"id": "3"}),
    ],
)
def test_route_templates(template: str, path: str, params: dict[str, str | None]) -> None:
    match = compile_route(template).match(path)
    assert match is not None
    assert match.groupdict() == params


def test_a_route_template_does_not_match_deeper_paths_or_broken_constraints() -> None:
    assert compile_route("api/sessions/{sessionId}").match("api/sessions/a/claim") is None
    assert compile_route("opt/{id:int?}").match("opt/x") is None


@pytest.fixture
def served() -> Iterator[HostServer]:
    server = HostServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_client_that_stops_sending_is_dropped_after_the_timeout(served: HostServer) -> None:
    served.request_timeout = 0.2
    host, port = served.server_address[:2]
    assert isinstance(host, str)
    with socket.create_connection((host, port), timeout=30) as client:
        client.sendall(b"GET /api/things HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        assert client.recv(1024) == b""  # the host closed the connection


def test_the_listen_backlog_takes_a_burst_of_connections() -> None:
    server = HostServer(("127.0.0.1", 0), _Handler)  # listening, but accepting nothing yet
    clients: list[socket.socket] = []
    try:
        for _ in range(200):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(server.server_address[:2])
            clients.append(client)
        _, writable, _ = select.select([], clients, [], 5)
        assert len(writable) == 200  # every connection was queued, none left waiting
    finally:
        for client in clients:
            client.close()
        server.server_close()

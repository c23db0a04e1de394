"""The devtools host routes, authorises and runs functions as the Functions host would."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from devtools.host import LocalHost, compile_route
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


def test_timers_run_on_the_admin_endpoint_with_the_master_key(host: LocalHost) -> None:
    assert (
        host.handle("POST", "/admin/functions/tick", {"x-functions-key": FUNCTION_KEY}, b"")[0]
        == 401
    )
    assert (
        host.handle("POST", "/admin/functions/tick", {"x-functions-key": MASTER_KEY}, b"")[0] == 202
    )
    assert (
        host.handle("POST", "/admin/functions/nope", {"x-functions-key": MASTER_KEY}, b"")[0] == 404
    )
    assert ran == ["tick"]


def test_timer_schedules_resolve_app_settings(host: LocalHost) -> None:
    assert host.timers["tick"].schedule is not None
    assert host.timers["orphan"].schedule is None
    assert host.timers["orphan"].problem == "app setting UNSET_SCHEDULE is not set"


def test_routes_the_real_host_reserves_are_refused_as_it_refuses_them(host: LocalHost) -> None:
    assert host.errors == {"reserved": "route conflicts with built-in routes"}
    assert host.handle("GET", "/api/admin/things", {}, b"")[0] == 404


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

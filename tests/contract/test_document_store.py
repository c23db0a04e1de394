"""The DocumentStore contract. Every back end must pass all of it."""

from __future__ import annotations

import logging
import threading
import time

import azure.identity
import pytest
from azure.core.credentials import AccessToken
from azure.cosmos import CosmosClient, PartitionKey

from devtools.cosmos_testserver import EMULATOR_KEY
from shared.adapters.cosmos_store import CosmosStore
from shared.errors import AlreadyExists, ConfigurationError, PreconditionFailed
from shared.logsafe import SDK_LOGGERS, quiet_sdk_loggers
from shared.ports import DESK, USERS
from tests.contract.conftest import Backend


def user_doc(doc_id: str = "a", user: str = "U1", **fields: object) -> dict[str, object]:
    return {"id": doc_id, "userId": user, "type": "note", **fields}


def test_reading_a_missing_document_gives_none(backend: Backend) -> None:
    assert backend.store.read(USERS, "U1", "missing") is None


def test_create_then_read_returns_the_document_with_an_etag(backend: Backend) -> None:
    created = backend.store.create(USERS, user_doc(text="相談したいです", n=3))
    read = backend.store.read(USERS, "U1", "a")
    assert read is not None
    assert read["text"] == "相談したいです"
    assert read["n"] == 3
    assert read["_etag"] == created["_etag"]


def test_create_refuses_an_id_taken_in_the_partition(backend: Backend) -> None:
    backend.store.create(USERS, user_doc(v=1))
    with pytest.raises(AlreadyExists):
        backend.store.create(USERS, user_doc(v=2))
    stored = backend.store.read(USERS, "U1", "a")
    assert stored is not None
    assert stored["v"] == 1


def test_the_same_id_in_another_partition_is_another_document(backend: Backend) -> None:
    backend.store.create(USERS, user_doc(user="U1", v=1))
    backend.store.create(USERS, user_doc(user="U2", v=2))
    first, second = backend.store.read(USERS, "U1", "a"), backend.store.read(USERS, "U2", "a")
    assert first is not None
    assert second is not None
    assert (first["v"], second["v"]) == (1, 2)


def test_containers_are_separate(backend: Backend) -> None:
    backend.store.create(USERS, user_doc(doc_id="x"))
    backend.store.create(DESK, {"id": "x", "pk": "U1", "type": "desk"})
    assert backend.store.delete(USERS, "U1", "x") is True
    assert backend.store.read(DESK, "U1", "x") is not None


def test_upsert_inserts_then_overwrites_with_a_new_etag(backend: Backend) -> None:
    first = backend.store.upsert(USERS, user_doc(v=1))
    second = backend.store.upsert(USERS, user_doc(v=2))
    stored = backend.store.read(USERS, "U1", "a")
    assert stored is not None
    assert stored["v"] == 2
    assert first["_etag"] != second["_etag"] == stored["_etag"]


def test_replace_with_the_current_etag_succeeds(backend: Backend) -> None:
    created = backend.store.create(USERS, user_doc(v=1))
    replaced = backend.store.replace(USERS, user_doc(v=2), etag=created["_etag"])
    assert replaced["_etag"] != created["_etag"]
    stored = backend.store.read(USERS, "U1", "a")
    assert stored is not None
    assert stored["v"] == 2


def test_replace_with_a_stale_etag_fails_and_changes_nothing(backend: Backend) -> None:
    created = backend.store.create(USERS, user_doc(v=1))
    backend.store.replace(USERS, user_doc(v=2), etag=created["_etag"])
    with pytest.raises(PreconditionFailed):
        backend.store.replace(USERS, user_doc(v=3), etag=created["_etag"])
    stored = backend.store.read(USERS, "U1", "a")
    assert stored is not None
    assert stored["v"] == 2


def test_replace_of_a_missing_document_fails(backend: Backend) -> None:
    with pytest.raises(PreconditionFailed):
        backend.store.replace(USERS, user_doc(), etag="whatever")


def test_delete_reports_whether_the_document_was_there(backend: Backend) -> None:
    backend.store.create(USERS, user_doc())
    assert backend.store.delete(USERS, "U1", "a") is True
    assert backend.store.delete(USERS, "U1", "a") is False
    assert backend.store.read(USERS, "U1", "a") is None


def test_increment_creates_the_document_then_adds_to_its_counts(backend: Backend) -> None:
    first = backend.store.increment(USERS, user_doc(label="x"), {"n": 1, "m1": 1})
    assert (first["n"], first["m1"], first["label"]) == (1, 1, "x")
    second = backend.store.increment(USERS, user_doc(label="ignored"), {"n": 1, "m2": 2})
    assert (second["n"], second["m1"], second["m2"], second["label"]) == (2, 1, 2, "x")
    back = backend.store.increment(USERS, user_doc(), {"n": -1})
    assert back["n"] == 1
    stored = backend.store.read(USERS, "U1", "a")
    assert stored is not None
    assert (stored["n"], stored["m2"]) == (1, 2)
    assert back["_etag"] == stored["_etag"]


def test_increment_sets_fields_in_the_same_operation(backend: Backend) -> None:
    """Per-session fields named by a session id (`u_20251104T100000-abcdef`): what the
    change tally of the open sessions stores (issue 21)."""
    name = "u_20251104T100000-abcdef"
    first = backend.store.increment(USERS, user_doc(), {"version": 1, name: 1}, {"s_x": 0})
    assert (first["version"], first[name], first["s_x"]) == (1, 1, 0)
    second = backend.store.increment(USERS, user_doc(), {"version": 1}, {"s_x": 4, name: 7})
    assert (second["version"], second[name], second["s_x"]) == (2, 7, 4)
    stored = backend.store.read(USERS, "U1", "a")
    assert stored is not None
    assert (stored[name], stored["s_x"]) == (7, 4)


def test_increments_from_many_threads_each_see_their_own_total(backend: Backend) -> None:
    """Two or three instances counting one user's messages at once: none is lost, and no two
    callers are told the same total (what makes "one notice per window" hold)."""
    totals: list[int] = []

    def count() -> None:
        for _ in range(10):
            totals.append(int(backend.store.increment(USERS, user_doc(), {"n": 1})["n"]))

    threads = [threading.Thread(target=count) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(totals) == list(range(1, 31))


def test_a_count_before_an_id_is_a_place_in_a_queue(backend: Backend) -> None:
    for doc_id, status in (("a", "w"), ("b", "x"), ("c", "w"), ("d", "w")):
        backend.store.create(USERS, user_doc(doc_id=doc_id, status=status))
    count = backend.store.count_partition
    assert count(USERS, "U1", doc_type="note", where={"status": "w"}, before_id="d") == 2
    assert count(USERS, "U1", doc_type="note", where={"status": "w"}, before_id="a") == 0
    assert count(USERS, "U1", doc_type="note", before_id="zz") == 4


def test_query_partition_returns_one_partition_in_id_order(backend: Backend) -> None:
    for doc_id in ("c", "a", "b"):
        backend.store.create(USERS, user_doc(doc_id=doc_id))
    backend.store.create(USERS, user_doc(doc_id="z", type="other"))
    backend.store.create(USERS, user_doc(doc_id="a", user="U2"))
    everything = backend.store.query_partition(USERS, "U1")
    notes = backend.store.query_partition(USERS, "U1", doc_type="note")
    assert [d["id"] for d in everything] == ["a", "b", "c", "z"]
    assert [d["id"] for d in notes] == ["a", "b", "c"]
    assert all(d["userId"] == "U1" for d in everything)


def test_a_document_without_its_partition_key_is_refused(backend: Backend) -> None:
    with pytest.raises(ValueError, match="userId"):
        backend.store.create(USERS, {"id": "a", "type": "note"})


def test_expired_documents_are_invisible_and_their_id_is_free(backend: Backend) -> None:
    backend.store.create(USERS, user_doc(ttl=60))
    backend.store.create(USERS, user_doc(doc_id="keep"))
    _let_time_pass(backend, seconds=61)
    assert backend.store.read(USERS, "U1", "a") is None
    assert [d["id"] for d in backend.store.query_partition(USERS, "U1")] == ["keep"]
    backend.store.create(USERS, user_doc(v="again"))


def test_deleting_an_expired_document_reports_it_was_not_there(backend: Backend) -> None:
    backend.store.create(USERS, user_doc(ttl=60))
    _let_time_pass(backend, seconds=61)
    assert backend.store.delete(USERS, "U1", "a") is False


def test_purge_expired_removes_only_expired_documents(backend: Backend) -> None:
    backend.store.create(USERS, user_doc(ttl=60))
    backend.store.create(USERS, user_doc(doc_id="keep"))
    _let_time_pass(backend, seconds=61)
    removed = backend.store.purge_expired()
    assert removed == (0 if backend.is_cosmos else 1)  # Cosmos DB expires by itself
    assert backend.store.read(USERS, "U1", "keep") is not None


def _let_time_pass(backend: Backend, seconds: int) -> None:
    if backend.clock is not None:
        backend.clock.advance(seconds=seconds)
        return
    if backend.name == "cosmos-testserver":
        pytest.skip("@vercel/cosmosdb-server never expires items; a real account does")
    # A real account expires in the background: wait for it, bounded.
    deadline = time.monotonic() + seconds + 120
    while time.monotonic() < deadline:
        time.sleep(5)
        if backend.store.read(USERS, "U1", "a") is None:
            return
    pytest.fail("a real Cosmos DB account did not expire the document in time")


def test_cosmos_sdk_logs_carry_no_user_ids_once_quieted(
    cosmos_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    for name in SDK_LOGGERS:  # as a fresh worker process has them
        logging.getLogger(name).setLevel(logging.NOTSET)
    store = CosmosStore(cosmos_endpoint, "logs", key=EMULATOR_KEY, verify_tls=False)
    user_id = "U" + "5" * 32
    with caplog.at_level(logging.DEBUG):
        store.read(USERS, user_id, "user")  # unquieted: the SDK names the partition key
        assert user_id in caplog.text
        caplog.clear()
        quiet_sdk_loggers()
        store.upsert(USERS, {"id": "user", "userId": user_id})
        store.read(USERS, user_id, "user")
    assert user_id not in caplog.text


def test_a_cosmos_container_without_ttl_or_with_another_key_is_refused(cosmos_endpoint) -> None:
    client = CosmosClient(cosmos_endpoint, EMULATOR_KEY, connection_verify=False)
    database = client.create_database_if_not_exists("misprovisioned")
    database.create_container_if_not_exists("users", partition_key=PartitionKey(path="/userId"))
    store = CosmosStore(cosmos_endpoint, "misprovisioned", key=EMULATOR_KEY, verify_tls=False)
    with pytest.raises(ConfigurationError, match=r"users is set up wrongly .*TTL off"):
        store.read(USERS, "U1", "a")


def test_managed_identity_never_creates_containers_and_names_a_missing_one(
    cosmos_endpoint, monkeypatch
) -> None:
    class FixedToken:  # stands in for the managed identity; the test server accepts any token
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            return AccessToken("token", 4_102_444_800)

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FixedToken)
    store = CosmosStore(cosmos_endpoint, "never-provisioned", verify_tls=False)
    with pytest.raises(ConfigurationError, match="never-provisioned/users does not exist"):
        store.read(USERS, "U1", "a")


def test_filters_keyset_paging_and_counts(backend: Backend) -> None:
    for n in range(7):
        status = "waiting" if n % 2 == 0 else "closed"
        backend.store.create(
            DESK,
            {
                "id": f"s{n}",
                "pk": "sessions",
                "type": "session",
                "status": status,
                "urgent": n == 4,
                "n": n,
            },
        )
    backend.store.create(
        DESK, {"id": "other", "pk": "sessions", "type": "note", "status": "waiting"}
    )
    waiting = {"status": "waiting"}
    first = backend.store.query_partition(
        DESK, "sessions", doc_type="session", where=waiting, limit=2
    )
    assert [d["id"] for d in first] == ["s0", "s2"]
    rest = backend.store.query_partition(
        DESK, "sessions", doc_type="session", where=waiting, after_id="s2", limit=10
    )
    assert [d["id"] for d in rest] == ["s4", "s6"]
    assert backend.store.count_partition(DESK, "sessions", doc_type="session", where=waiting) == 4
    assert backend.store.count_partition(DESK, "sessions", where={"status": "waiting"}) == 5
    urgent = backend.store.query_partition(DESK, "sessions", where={"urgent": True, "n": 4})
    assert [d["id"] for d in urgent] == ["s4"]
    assert backend.store.count_partition(DESK, "elsewhere") == 0


def test_filter_field_names_are_checked_before_they_reach_a_query(backend: Backend) -> None:
    with pytest.raises(ValueError, match="field name"):
        backend.store.query_partition(DESK, "sessions", where={"status = 1 OR 1": "x"})


def test_deleting_a_partition_removes_all_of_it_but_what_is_kept(backend: Backend) -> None:
    for doc_id in ("user", "m1", "m2", "event:1"):
        backend.store.create(USERS, user_doc(doc_id=doc_id, user="U1"))
    backend.store.create(USERS, user_doc(doc_id="m1", user="U2"))
    assert backend.store.delete_partition(USERS, "U1", keep="user") == 3
    assert [d["id"] for d in backend.store.query_partition(USERS, "U1")] == ["user"]
    assert backend.store.delete_partition(USERS, "U1") == 1
    assert backend.store.delete_partition(USERS, "U1") == 0  # idempotent
    assert backend.store.read(USERS, "U2", "m1") is not None

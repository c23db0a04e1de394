"""DocumentStore on Azure Cosmos DB (NoSQL API) through `azure-cosmos`.

- One CosmosClient per process, created on first use, never at import time.
- On connecting, each container's partition key and TTL setting are checked: without TTL on,
  Cosmos DB ignores the documents' `ttl` and event receipts would pile up for ever.
- With a key (emulators, tests) the database and containers are created when missing. With
  Entra ID (managed identity in Azure) the data-plane role cannot create them: infrastructure
  code provisions them, and a missing one is a ConfigurationError that names it.
- Per-item TTL is switched on for containers this code creates (`default_ttl=-1`): documents
  with a `ttl` field expire for free; `purge_expired` has nothing to do.
- The SDK retries 429s itself (9 times, up to 30 s by default). The desk has a 1-2 s budget
  on the webhook path, so the retry window is shortened to fit it; what still fails becomes
  StoreUnavailable and the event is left for LINE's redelivery.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from shared.budget import seconds_left
from shared.errors import (
    AlreadyExists,
    ConfigurationError,
    PreconditionFailed,
    StoreUnavailable,
)
from shared.ports import PARTITION_KEYS, Document, Filters, add_counts, field_name

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy

T = TypeVar("T")


class CosmosStore:
    """A DocumentStore backed by one Cosmos DB database with one container per record family."""

    def __init__(
        self,
        endpoint: str,
        database: str,
        *,
        key: str | None = None,
        verify_tls: bool = True,
        max_retry_seconds: int = 2,
        partition_delete: bool = False,
    ) -> None:
        self._endpoint = endpoint
        self._database_name = database
        self._key = key
        self._verify_tls = verify_tls
        self._max_retry_seconds = max_retry_seconds
        # delete_all_items_by_partition_key needs the account's "delete by partition key"
        # feature; the test server and the emulator lack it, so it is opt-in by setting.
        self._partition_delete = partition_delete
        self._lock = threading.Lock()
        self._containers: dict[str, ContainerProxy] = {}

    # -- DocumentStore -------------------------------------------------------------------

    def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        """Point read (1 RU per KB); None when absent."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError  # noqa: PLC0415

        proxy = self._container(container)
        try:
            return self._guard(
                lambda: dict(proxy.read_item(doc_id, partition_key=partition, **_limits()))
            )
        except CosmosResourceNotFoundError:
            return None

    def create(self, container: str, doc: Document) -> Document:
        """Insert; AlreadyExists on Cosmos DB's 409."""
        from azure.cosmos.exceptions import CosmosResourceExistsError  # noqa: PLC0415

        proxy = self._container(container)
        _check_key(container, doc)
        try:
            return self._guard(lambda: dict(proxy.create_item(_strip(doc), **_limits())))
        except CosmosResourceExistsError:
            raise AlreadyExists(None, "store_exists") from None

    def upsert(self, container: str, doc: Document) -> Document:
        """Insert or overwrite."""
        proxy = self._container(container)
        _check_key(container, doc)
        return self._guard(lambda: dict(proxy.upsert_item(_strip(doc), **_limits())))

    def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        """Overwrite with If-Match: Cosmos DB's 412 (or 404) becomes PreconditionFailed."""
        from azure.core import MatchConditions  # noqa: PLC0415
        from azure.cosmos.exceptions import (  # noqa: PLC0415
            CosmosAccessConditionFailedError,
            CosmosResourceNotFoundError,
        )

        proxy = self._container(container)
        _check_key(container, doc)
        try:
            return self._guard(
                lambda: dict(
                    proxy.replace_item(
                        doc["id"],
                        _strip(doc),
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                        **_limits(),
                    )
                )
            )
        except (CosmosAccessConditionFailedError, CosmosResourceNotFoundError):
            raise PreconditionFailed(None, "store_changed") from None

    def increment(
        self,
        container: str,
        doc: Document,
        deltas: Mapping[str, int],
        sets: Mapping[str, Any] | None = None,
    ) -> Document:
        """One patch with `incr` and `set` operations (atomic on the service); a 404 creates
        `doc` with them applied, and a 409 from a create that lost the race patches after all."""
        from azure.cosmos.exceptions import (  # noqa: PLC0415
            CosmosResourceExistsError,
            CosmosResourceNotFoundError,
        )

        proxy = self._container(container)
        partition = _check_key(container, doc)
        operations = [
            *({"op": "set", "path": f"/{name}", "value": v} for name, v in (sets or {}).items()),
            *({"op": "incr", "path": f"/{name}", "value": d} for name, d in deltas.items()),
        ]

        def patch() -> Document:
            return dict(
                proxy.patch_item(doc["id"], partition, patch_operations=operations, **_limits())
            )

        try:
            return self._guard(patch)
        except CosmosResourceNotFoundError:
            pass
        try:
            return self._guard(
                lambda: dict(proxy.create_item(_strip(add_counts(doc, deltas, sets)), **_limits()))
            )
        except CosmosResourceExistsError:
            return self._guard(patch)

    def delete(self, container: str, partition: str, doc_id: str) -> bool:
        """Remove one document; False on Cosmos DB's 404."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError  # noqa: PLC0415

        proxy = self._container(container)
        try:
            self._guard(lambda: proxy.delete_item(doc_id, partition_key=partition, **_limits()))
        except CosmosResourceNotFoundError:
            return False
        return True

    def query_partition(
        self,
        container: str,
        partition: str,
        *,
        doc_type: str | None = None,
        where: Filters | None = None,
        after_id: str | None = None,
        limit: int | None = None,
    ) -> list[Document]:
        """A single-partition query (the partition key is in the SQL and the request)."""
        top = "TOP @limit " if limit is not None else ""
        sql, parameters = _select(f"{top}*", container, partition, doc_type, where)
        if after_id is not None:
            sql += " AND c.id > @after"
            parameters.append({"name": "@after", "value": after_id})
        if limit is not None:
            parameters.append({"name": "@limit", "value": int(limit)})
        sql += " ORDER BY c.id"
        proxy = self._container(container)
        return self._guard(
            lambda: [
                dict(item)
                for item in proxy.query_items(
                    sql, parameters=parameters, partition_key=partition, **_limits()
                )
            ]
        )

    def count_partition(
        self,
        container: str,
        partition: str,
        *,
        doc_type: str | None = None,
        where: Filters | None = None,
        before_id: str | None = None,
    ) -> int:
        """`SELECT VALUE COUNT(1)` in one partition (ids before `before_id`, when given)."""
        sql, parameters = _select("VALUE COUNT(1)", container, partition, doc_type, where)
        if before_id is not None:
            sql += " AND c.id < @before"
            parameters.append({"name": "@before", "value": before_id})
        proxy = self._container(container)
        counts: list[Any] = self._guard(
            lambda: list(
                proxy.query_items(sql, parameters=parameters, partition_key=partition, **_limits())
            )
        )
        return int(counts[0]) if counts else 0

    def delete_partition(self, container: str, partition: str, *, keep: str | None = None) -> int:
        """Query the partition's ids and delete them one by one (portable: every account and
        emulator); with `partition_delete` on and nothing to keep, one service-side call."""
        proxy = self._container(container)
        if self._partition_delete and keep is None:
            count = self.count_partition(container, partition)
            self._guard(lambda: proxy.delete_all_items_by_partition_key(partition, **_limits()))
            return count
        sql = f"SELECT c.id FROM c WHERE c.{PARTITION_KEYS[container]} = @partition"  # noqa: S608 -- constant field
        parameters: list[dict[str, Any]] = [{"name": "@partition", "value": partition}]
        ids: list[str] = self._guard(
            lambda: [
                str(item["id"])
                for item in proxy.query_items(
                    sql, parameters=parameters, partition_key=partition, **_limits()
                )
            ]
        )
        return sum(self.delete(container, partition, doc_id) for doc_id in ids if doc_id != keep)

    def compact(self) -> None:
        """Nothing to do: a deleted Cosmos DB document is gone from the service's view."""

    def purge_expired(self) -> int:
        """Nothing to do: Cosmos DB expires documents with a `ttl` by itself."""
        return 0

    # -- internals -----------------------------------------------------------------------

    def _container(self, name: str) -> ContainerProxy:
        with self._lock:
            if not self._containers:
                self._containers = self._connect()
            return self._containers[name]

    def _connect(self) -> dict[str, ContainerProxy]:
        from azure.cosmos import CosmosClient, PartitionKey  # noqa: PLC0415
        from azure.cosmos.exceptions import CosmosResourceNotFoundError  # noqa: PLC0415

        credential: Any
        if self._key:
            credential = self._key
        else:
            from azure.identity import DefaultAzureCredential  # noqa: PLC0415

            credential = DefaultAzureCredential()
        client = CosmosClient(
            self._endpoint,
            credential=credential,
            connection_verify=self._verify_tls,
            retry_total=9,
            retry_backoff_max=self._max_retry_seconds,
            connection_timeout=5,
        )
        containers: dict[str, ContainerProxy] = {}
        if self._key:
            database = self._guard(
                lambda: client.create_database_if_not_exists(self._database_name)
            )
            for name, field in PARTITION_KEYS.items():
                key = PartitionKey(path=f"/{field}")
                containers[name] = self._guard(
                    functools.partial(
                        database.create_container_if_not_exists, name, key, default_ttl=-1
                    )
                )
        else:
            database = client.get_database_client(self._database_name)
            containers = {name: database.get_container_client(name) for name in PARTITION_KEYS}
        for name, proxy in containers.items():
            try:
                properties = self._guard(proxy.read)
            except CosmosResourceNotFoundError:
                raise ConfigurationError(
                    f"Cosmos DB container {self._database_name}/{name} does not exist; "
                    "provision it with the infrastructure code (" + _expected(name) + ")"
                ) from None
            self._check(name, properties)
        return containers

    def _check(self, name: str, properties: dict[str, Any]) -> None:
        """Refuse a container that would break the desk quietly (wrong key, no TTL)."""
        paths = properties.get("partitionKey", {}).get("paths", [])
        if paths != [f"/{PARTITION_KEYS[name]}"] or "defaultTtl" not in properties:
            raise ConfigurationError(
                f"Cosmos DB container {self._database_name}/{name} is set up wrongly "
                f"(partition key {paths}, TTL {'on' if 'defaultTtl' in properties else 'off'}); "
                "it needs " + _expected(name)
            )

    def _guard(self, operation: Callable[[], T]) -> T:
        """Run an SDK call; throttling, timeouts and transport errors become StoreUnavailable."""
        from azure.core.exceptions import AzureError  # noqa: PLC0415
        from azure.cosmos.exceptions import (  # noqa: PLC0415
            CosmosAccessConditionFailedError,
            CosmosHttpResponseError,
            CosmosResourceExistsError,
            CosmosResourceNotFoundError,
        )

        try:
            return operation()
        except (
            CosmosResourceNotFoundError,
            CosmosResourceExistsError,
            CosmosAccessConditionFailedError,
        ):
            raise
        except CosmosHttpResponseError as exc:
            raise StoreUnavailable(f"Cosmos DB answered HTTP {exc.status_code}") from None
        except AzureError as exc:
            raise StoreUnavailable(f"Cosmos DB unreachable: {type(exc).__name__}") from None


def _select(
    projection: str,
    container: str,
    partition: str,
    doc_type: str | None,
    where: Filters | None,
) -> tuple[str, list[dict[str, Any]]]:
    """Query text and parameters; only checked field names and literals enter the text."""
    key = PARTITION_KEYS[container]
    sql = f"SELECT {projection} FROM c WHERE c.{key} = @partition"  # noqa: S608 -- see docstring
    parameters: list[dict[str, Any]] = [{"name": "@partition", "value": partition}]
    filters = {**({"type": doc_type} if doc_type is not None else {}), **(where or {})}
    for index, (name, value) in enumerate(filters.items()):
        sql += f" AND c.{field_name(name)} = @f{index}"
        parameters.append({"name": f"@f{index}", "value": value})
    return sql, parameters


def _expected(name: str) -> str:
    return f"partition key /{PARTITION_KEYS[name]}, TTL on with no default (-1)"


# One store call's timeout outside any budget (timers, scripts): the SDK's own read timeout
# is minutes, and its retries have none.
CALL_SECONDS = 30.0


def _limits() -> dict[str, Any]:
    """The SDK's per-call timeouts, cut to what is left of the call's budget: `timeout` bounds
    the operation with its retries, `read_timeout` one answer that does not come."""
    left = seconds_left(CALL_SECONDS)
    return {"timeout": left, "read_timeout": left, "connection_timeout": min(left, 5.0)}


def _check_key(container: str, doc: Document) -> str:
    """The document's partition key value (ValueError when it or the id is missing)."""
    field = PARTITION_KEYS[container]
    partition = doc.get(field)
    if not isinstance(partition, str) or not partition:
        raise ValueError(f"a {container} document needs a string {field}")
    if not isinstance(doc.get("id"), str) or not doc.get("id"):
        raise ValueError("a document needs a string id")
    return partition


def _strip(doc: Document) -> Document:
    """The document without system properties, which Cosmos DB sets itself."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}

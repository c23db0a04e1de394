"""Staff as the services see a signed-in person (the development sign-in's object id)."""

from __future__ import annotations

from devtools.host import DEV_TENANT, dev_object_id
from shared.domain.staff import StaffRef, principal_key


def signed_in(name: str, object_id: str | None = None) -> StaffRef:
    """The person `dev_principal(name, ..., object_id)` signs in as."""
    return StaffRef(name, principal_key(DEV_TENANT, object_id or dev_object_id(name)))

"""Who a member of staff is: a display name for people, and a key for the desk.

Two people may share a common Japanese name; the desk tells them apart by their Microsoft
Entra object id (and tenant), which App Service authentication vouches for. A `StaffRef` is
the name (it is a `str`, shown wherever a name is shown) carrying that key: the holder of a
session, the audit's actor and presence use the key. A bare name, one nobody vouched for
(the admin API's `operator` under a function key, or a session handed over by name), has a
key made from the name alone, so it never matches a signed-in person's.
"""

from __future__ import annotations

from typing import Self

NAME_KEY = "name:"
KEY_CALLER_KEY = "key:"


class StaffRef(str):
    """A member of staff: the name (this string) and `key`, who they are. `script`: a
    function key's caller asserting the name, whose messages are marked as a script's."""

    key: str
    script: bool

    def __new__(cls, name: str, key: str, *, script: bool = False) -> Self:
        ref = super().__new__(cls, name)
        ref.key = key
        ref.script = script
        return ref

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        """A copy (as a store keeps a document) is the name alone: the key is stored apart."""
        return str, (str(self),)


def principal_key(tenant_id: str, object_id: str) -> str:
    """The key of a person App Service authentication signed in (Entra tenant and object id)."""
    return f"aad:{tenant_id}:{object_id}"


def staff_key(who: str) -> str:
    """Who `who` is: a StaffRef's key, else the key of a bare name."""
    key = getattr(who, "key", None)
    return key if isinstance(key, str) and key else f"{NAME_KEY}{who}"


def is_script(who: str) -> bool:
    """Does `who` act through a function key (its messages marked as sent by a script)?"""
    return bool(getattr(who, "script", False))

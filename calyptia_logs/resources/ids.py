"""IDs from the caller: checked to be UUIDs before they go anywhere near a URL."""

from __future__ import annotations

import re
from typing import Final
from uuid import UUID

from calyptia_logs.errors import InvalidIDError, excerpt

__all__ = ["as_uuid", "uuid_path"]

_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def as_uuid(value: str | UUID, what: str = "pipeline log ID") -> UUID:
    """Check that ``value`` is a UUID, before it goes anywhere near a URL.

    Raises:
        InvalidIDError: (a ``ValueError``) ``value`` is not a UUID.
    """
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    msg = f"invalid {what}: {excerpt(repr(value), 60)} is not a UUID"
    raise InvalidIDError(msg)


def uuid_path(value: str | UUID, what: str = "pipeline log ID") -> str:
    """The canonical text of a UUID for a URL path; :func:`as_uuid` rules apply.

    Canonical lowercase strings (what the API hands out) skip the parse.
    """
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return value
    return str(as_uuid(value, what))

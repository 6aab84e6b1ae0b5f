"""The one place that knows the API's JSON: camelCase names, UUIDs, RFC 3339 dates, enums.

A single configuration is applied to two cattrs converters built at import
time: a fast one (no detailed validation) used for every response, and a
detailed one used only after the fast one failed, to say which field was
wrong. Callers use :func:`decode`, :func:`structure`, :func:`unstructure` and
:func:`dumps`; nothing else in the library touches cattrs or orjson.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from uuid import UUID

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from calyptia_logs import server_values
from calyptia_logs.errors import ResponseDecodeError, excerpt
from calyptia_logs.models import (
    Created,
    Deleted,
    PipelineLog,
    PipelineLogCreate,
    PipelineLogsPage,
    PipelineLogStatus,
    PipelineLogUpdate,
    Updated,
)

__all__ = [
    "decode",
    "dumps",
    "format_datetime",
    "parse_datetime",
    "structure",
    "unstructure",
    "wire_name",
]

T = TypeVar("T")

#: Every model that crosses the wire, in either direction.
MODELS: Final = (
    PipelineLog,
    Created,
    Updated,
    Deleted,
    PipelineLogsPage,
    PipelineLogUpdate,
    PipelineLogCreate,
)

# Request bodies leave out fields that are not given: the API reads an absent
# field as "leave unchanged".
_OMIT_DEFAULTS: Final = frozenset({PipelineLogUpdate})


def wire_name(python_name: str) -> str:
    """Map snake_case to the API's Go-style camelCase: ``pipeline_id`` -> ``pipelineID``."""
    first, *rest = python_name.split("_")
    return first + "".join("ID" if word == "id" else word.capitalize() for word in rest)


def parse_datetime(value: object) -> datetime:
    """Parse an RFC 3339 timestamp (0 to 9 fraction digits, ``Z`` or an offset) into UTC.

    Fractions beyond microseconds are truncated (Python's datetime stops there).

    Raises:
        ValueError: The value is not a string, not a timestamp, or has no UTC offset.
    """
    if not isinstance(value, str):
        msg = f"expected an RFC 3339 timestamp string, got {type(value).__name__}"
        raise ValueError(msg)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is UTC:  # "Z" and "+00:00": the common case, already right
        return parsed
    if parsed.tzinfo is None:
        msg = f"timestamp {value!r} has no UTC offset"
        raise ValueError(msg)
    return parsed.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """Format a datetime as RFC 3339 in UTC with a ``Z`` suffix."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _strict(kind: type[T], name: str) -> Callable[[Any, Any], T]:
    """Build a hook that accepts exactly ``kind``: no ``"12"`` -> 12, no ``True`` -> 1."""

    def hook(value: Any, _: Any) -> T:
        if type(value) is kind:
            return value
        msg = f"expected {name}, got {type(value).__name__} {excerpt(repr(value), 40)}"
        raise TypeError(msg)

    return hook


def _structure_uuid(value: Any, _: Any) -> UUID:
    if not isinstance(value, str):
        msg = f"expected a UUID string, got {type(value).__name__}"
        raise TypeError(msg)
    return UUID(value)


def _structure_datetime(value: Any, _: Any) -> datetime:
    return parse_datetime(value)


def _structure_status(value: Any, _: Any) -> PipelineLogStatus:
    if type(value) is not str:
        msg = f"expected a status string, got {type(value).__name__}"
        raise TypeError(msg)
    try:
        return PipelineLogStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in PipelineLogStatus)
        msg = f"unknown status {excerpt(repr(value), 40)} (this client knows {known})"
        raise ValueError(msg) from None


_STATUSES: Final = {status.value: status for status in PipelineLogStatus}
_fromisoformat: Final = datetime.fromisoformat


def _fast_datetime(value: Any) -> datetime:
    parsed = _fromisoformat(value)  # a TypeError for a non-string
    if parsed.tzinfo is UTC:
        return parsed
    if parsed.tzinfo is None:
        msg = "no UTC offset"
        raise ValueError(msg)
    return parsed.astimezone(UTC)


def _structure_pipeline_log_fast(o: Any, _: Any) -> PipelineLog:
    """PipelineLog from JSON with the generated hook's checks, in one frame instead of eight.

    The hot path of every get, get_many and list item (benchmarks/instructions.py:
    cattrs' generated function calls one hook per field, and each Python frame
    costs more than the check inside it). Same rules: strict ``str`` and ``int``
    (no ``True`` for 1), UUIDs, RFC 3339 times with an offset, a known status.
    Any failure is explained by the detailed converter, field by field.
    """
    logs, lines = o["logs"], o["lines"]
    if type(logs) is not str or type(lines) is not int:
        msg = "logs must be a string and lines an integer"
        raise TypeError(msg)
    return PipelineLog(
        id=UUID(o["id"]),
        pipeline_id=UUID(o["pipelineID"]),
        logs=logs,
        lines=lines,
        status=_STATUSES[o["status"]],
        created_at=_fast_datetime(o["createdAt"]),
        updated_at=_fast_datetime(o["updatedAt"]),
    )


def _page_hooks(conv: cattrs.Converter) -> dict[str, Callable[[Any, Any], Any]]:
    """Field hooks for a list page: what Go's ``encoding/json`` writes, and bounded hints.

    A nil slice is written as ``null``: an empty page. ``count`` and
    ``pollingIntervalMs`` are hints, read by :mod:`~calyptia_logs.server_values`
    (a bad one is ignored or clamped, never fails the page); ``endCursor`` must
    be a bounded string or null.
    """
    list_hook = conv.get_structure_hook(list[PipelineLog])

    def items(value: Any, _: Any) -> list[PipelineLog]:
        if value is None:
            return []
        if type(value) is not list:
            msg = f"expected an array of pipeline logs, got {_json_type(value)}"
            raise TypeError(msg)
        return list_hook(value, list[PipelineLog])  # type: ignore[no-any-return]

    return {
        "items": items,
        "end_cursor": lambda value, _: server_values.cursor(value),
        "count": lambda value, _: server_values.count(value),
        "polling_interval_ms": lambda value, _: server_values.polling_interval_ms(value),
    }


def _configure(conv: cattrs.Converter, *, fast: bool = False) -> cattrs.Converter:
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(bool, _strict(bool, "a boolean"))
    # StrEnum is a str: without its own hook, the str hook above would take it.
    conv.register_structure_hook(PipelineLogStatus, _structure_status)
    conv.register_structure_hook(UUID, _structure_uuid)
    conv.register_unstructure_hook(UUID, str)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, format_datetime)
    for cls in MODELS:
        renames: dict[str, Any] = {
            a.name: override(rename=wire_name(a.name)) for a in attrs.fields(cls)
        }
        field_hooks = _page_hooks(conv) if cls is PipelineLogsPage else {}
        structure_overrides: dict[str, Any] = {
            name: override(rename=wire_name(name), struct_hook=field_hooks.get(name))
            for name in renames
        }
        if fast and cls is PipelineLog:
            # The hot path: by hand (see _structure_pipeline_log_fast); the detailed
            # converter keeps the generated hook, to explain failures field by field.
            conv.register_structure_hook(cls, _structure_pipeline_log_fast)
        else:
            conv.register_structure_hook(
                cls, make_dict_structure_fn(cls, conv, **structure_overrides)
            )
        conv.register_unstructure_hook(
            cls,
            make_dict_unstructure_fn(
                cls, conv, _cattrs_omit_if_default=cls in _OMIT_DEFAULTS, **renames
            ),
        )
    return conv


_FAST: Final = _configure(cattrs.Converter(detailed_validation=False), fast=True)
# The detailed converter only explains failures: built on the first one.
_DETAILED: list[cattrs.Converter] = []
# The fast converter's hooks, looked up once per class instead of per call.
_HOOKS: dict[type[Any], Callable[[Any, Any], Any]] = {}
_ATTR_PATH: Final = re.compile(r"\.([a-z][a-z0-9_]*)")


def _describe(exc: BaseException, type_: type[Any] | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, TypeError | ValueError) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)


def _explain(data: Any, cls: type[Any]) -> str:
    """Say which fields of ``data`` do not fit ``cls``, with JSON paths in wire names."""
    if attrs.has(cls) and not isinstance(data, dict):
        return f"expected a JSON object, got {_json_type(data)}"
    try:
        if not _DETAILED:
            _DETAILED.append(_configure(cattrs.Converter(detailed_validation=True)))
        _DETAILED[0].structure(data, cls)
    except Exception as exc:  # noqa: BLE001 - we only want its description
        problems = cattrs.transform_error(exc, path="$", format_exception=_describe)
    else:  # pragma: no cover - the fast converter failed, so this one should too
        return "unexpected shape"
    return "; ".join(_ATTR_PATH.sub(lambda m: "." + wire_name(m.group(1)), p) for p in problems)


def _json_type(data: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    names |= {int: "a number", float: "a number", type(None): "null"}
    return names.get(type(data), type(data).__name__)


def _hook(cls: type[T]) -> Callable[[Any, Any], T]:
    """The fast converter's structure hook for ``cls``, looked up once per class."""
    hook = _HOOKS.get(cls)
    if hook is None:
        hook = _HOOKS[cls] = _FAST.get_structure_hook(cls)
    return hook


def structure(data: Any, cls: type[T], *, status: int = 200) -> T:
    """Turn decoded JSON ``data`` into an instance of ``cls``.

    Raises:
        ResponseDecodeError: ``data`` does not match ``cls``; the message names each bad field.
    """
    try:
        return _hook(cls)(data, cls)
    except Exception as exc:  # every mismatch becomes our error, with detail
        raise _mismatch(data, cls, status) from exc


def _mismatch(data: Any, cls: type[Any], status: int) -> ResponseDecodeError:
    msg = f"response does not match {cls.__name__}: {_explain(data, cls)}"
    return ResponseDecodeError(msg, status=status, body=_excerpt_of(data))


def _excerpt_of(data: Any) -> str:
    """A short excerpt of decoded JSON, whatever its shape.

    orjson writes at most 254 levels of nesting and reads up to 1,024: a deep
    document that decoded fine must not fail again here (found by the wire fuzzer).
    """
    try:
        return excerpt(orjson.dumps(data, default=repr))
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return excerpt(repr(data))
    except RecursionError:
        return "(nested too deeply to show)"


def decode(body: bytes, cls: type[T], *, status: int = 200, content_type: str | None = None) -> T:
    """Parse a JSON response ``body`` into an instance of ``cls``.

    Raises:
        ResponseDecodeError: The body is not JSON (``syntax_error`` is set) or
            does not match ``cls``.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        kind = f" ({content_type})" if content_type else ""
        what = "an empty body" if not body else f"a body that is not valid JSON{kind}"
        msg = f"expected {cls.__name__} JSON but got {what}: {exc}"
        raise ResponseDecodeError(
            msg, status=status, body=excerpt(body), content_type=content_type, syntax_error=True
        ) from exc
    hook = _HOOKS.get(cls) or _hook(cls)  # not structure(): one frame fewer per response
    try:
        return hook(data, cls)  # type: ignore[no-any-return]
    except Exception as exc:  # every mismatch becomes our error, with detail
        error = _mismatch(data, cls, status)
        error.content_type = content_type
        error.body = excerpt(body)  # what the server sent, rather than a re-serialisation
        raise error from exc


def unstructure(value: Any) -> Any:
    """Turn a model (or a container of models) into JSON-ready Python data, camelCase keys."""
    return _FAST.unstructure(value)


def dumps(value: Any) -> bytes:
    """Serialise a model (or plain data) to JSON bytes."""
    return orjson.dumps(_FAST.unstructure(value))

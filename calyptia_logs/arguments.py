"""The trust boundary for numbers the caller passes: checked before any request is sent.

A caller's mistake is a ``TypeError`` (wrong type) or a ``ValueError`` (out of
range) that names the parameter, raised at the call, never a traceback from
deep inside aiohttp or orjson halfway through a request. (IDs are checked by
:func:`calyptia_logs.resources.as_uuid`; tokens and URLs by the transport core.)
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Final, overload

from calyptia_logs.server_values import CURSOR_MAX_CHARS

__all__ = ["MAX_INT64", "count", "cursor", "finite_seconds", "seconds", "text"]

#: The largest count the API takes: its numbers are Go ``int`` / ``uint``, 64 bits
#: on the servers it runs on (and orjson, which writes the body, stops there too).
MAX_INT64: Final = 2**63 - 1


def count(value: object, name: str, *, minimum: int = 1, maximum: int = MAX_INT64) -> int:
    """Check a whole number such as ``lines``, ``last`` or ``concurrency``.

    Raises:
        TypeError: Not an ``int`` (a ``bool``, a ``float`` and a ``str`` are refused).
        ValueError: Outside ``minimum`` .. ``maximum``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an integer, got {type(value).__name__} {value!r:.40}"
        raise TypeError(msg)
    if not minimum <= value <= maximum:
        bound = f"at least {minimum}" if maximum == MAX_INT64 else f"{minimum} to {maximum}"
        msg = f"{name} must be {bound}, got {value!r:.40}"
        raise ValueError(msg)
    return value


@overload
def seconds(value: float, name: str, *, zero: bool = ..., unit: str = ...) -> float: ...
@overload
def seconds(value: object, name: str, *, zero: bool = ..., unit: str = ...) -> float | None: ...
def seconds(value: object, name: str, *, zero: bool = False, unit: str = "seconds") -> float | None:
    """Check a duration: a finite number of seconds, positive (or zero, if allowed).

    ``None`` passes through: where a parameter accepts it, it means "no limit".
    ``unit`` names what the number counts, for the message (``max_rate`` is a
    rate, checked by the same rules).

    Raises:
        TypeError: Not a real number (a ``bool`` or a ``str`` is refused).
        ValueError: Negative, zero (unless allowed), NaN or infinite.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        msg = f"{name} must be a number of {unit}, got {type(value).__name__} {value!r:.40}"
        raise TypeError(msg)
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero):
        need = "finite and not negative" if zero else "finite and positive"
        hint = " (use None for no limit)" if math.isinf(number) else ""
        msg = f"{name} must be {need}, got {value!r}{hint}"
        raise ValueError(msg)
    return number


def finite_seconds(*, zero: bool = False) -> Any:
    """An attrs validator running :func:`seconds` on the field it validates."""

    def validate(_instance: object, attribute: Any, value: float) -> None:
        seconds(value, attribute.name, zero=zero)

    return validate


def text(value: object, name: str) -> str:
    """Check a text field such as ``logs``.

    Raises:
        TypeError: Not a ``str``.
    """
    if not isinstance(value, str):
        msg = f"{name} must be a str, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def cursor(value: object, name: str = "before") -> str:
    """Check a cursor handed back by the caller (a page's ``end_cursor``).

    Raises:
        TypeError: Not a ``str``.
        ValueError: Empty, or longer than any cursor the API hands out.
    """
    value = text(value, name)
    if not 0 < len(value) <= CURSOR_MAX_CHARS:
        msg = f"{name} must be a page's end_cursor (1 to {CURSOR_MAX_CHARS} characters)"
        raise ValueError(msg)
    return value

"""The trust boundary for values the server controls: each parsed once, here, into a bounded value.

A header or body field the client acts on is read through one of these
functions, which states the form it accepts and the bounds it keeps. What
falls outside is ignored (the client's default applies) or clamped; nothing
here raises, so a misbehaving server can never turn a good call into a crash,
a tight loop or a hang. Text the server sends that ends up in an exception or
a log line goes through :func:`one_line` first: one line, length-capped, and
without the client's own credentials.

What is accepted, and what happens otherwise:

* ``Retry-After``: ASCII digits, or an HTTP-date (RFC 9110's three formats,
  and the RFC 5322 forms ``email.utils`` reads); anything else is ignored (the
  policy's backoff applies).
* ``pollingIntervalMs``: an integer > 0, clamped to 250 ms .. 5 min; anything
  else is ignored (the default interval applies).
* ``count``: an integer, clamped to 0 .. 2**63-1; anything else reads as 0.
* integers wider than 64 bits: orjson reads them as floats, so a float beyond
  +/-2**63 in ``count`` or ``pollingIntervalMs`` is clamped as the integer it
  stands for would be (``count: 10**30`` is 2**63-1, a huge interval is 5 min).
* ``endCursor`` and the ``Link`` cursor: a string of at most 4,096 characters;
  a longer one is refused as a ``ResponseDecodeError`` (never cut).
* request-id headers: one line, at most 200 characters.
* error text (``error``, ``detail``, body excerpt, headers, other fields):
  one line, capped, the client's credentials removed.

This module imports nothing from the rest of the library.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

__all__ = [
    "CURSOR_MAX_CHARS",
    "DETAIL_MAX_CHARS",
    "HEADER_VALUE_MAX_CHARS",
    "MESSAGE_MAX_CHARS",
    "POLL_INTERVAL_MAX_MS",
    "POLL_INTERVAL_MIN_MS",
    "REDACTED",
    "RETRY_AFTER_CEILING",
    "count",
    "cursor",
    "error_fields",
    "one_line",
    "polling_interval_ms",
    "request_id",
    "retry_after",
]

#: What a credential is replaced with wherever it would appear.
REDACTED: Final = "<redacted>"
#: The largest ``Retry-After`` represented, in seconds (a year); anything longer
#: is clamped to it, and is in any case over the retry policy's ``max_retry_after``.
RETRY_AFTER_CEILING: Final = 365 * 24 * 3600.0
#: Bounds of the ``pollingIntervalMs`` hint: a server asking for less than a
#: quarter second (or for a negative interval) must not make us poll in a tight
#: loop; one asking for more than five minutes is likely wrong.
POLL_INTERVAL_MIN_MS: Final = 250
POLL_INTERVAL_MAX_MS: Final = 300_000
#: The longest cursor accepted. Real cursors are short opaque tokens; the cursor is
#: sent back in a query string, and URLs past a few KiB are refused by most servers.
CURSOR_MAX_CHARS: Final = 4096
#: ``count`` is a Go ``uint`` on the server; anything past int64 is nonsense.
COUNT_MAX: Final = 2**63 - 1
#: Floats at least this large stand for integers orjson could not read as 64-bit ones.
_WIDE: Final = float(2**63)
#: The largest ``quotaLimit`` taken as a rate hint (inf and 1e308 are not rates).
QUOTA_LIMIT_MAX: Final = 1_000_000.0
#: Caps for server text kept in exceptions: the ``error`` field, ``detail``, one
#: header value. (Body excerpts: :data:`calyptia_logs.errors.BODY_EXCERPT_CHARS`.)
MESSAGE_MAX_CHARS: Final = 300
DETAIL_MAX_CHARS: Final = 1000
HEADER_VALUE_MAX_CHARS: Final = 200
#: The most headers, and error-document fields, an exception keeps.
MAX_KEPT_ITEMS: Final = 50
#: The longest header the parsers here look at; aiohttp refuses fields over 8190 bytes anyway.
HEADER_MAX_CHARS: Final = 8192

# Control characters (C0, DEL, C1), and the Unicode line and paragraph separators
# and bidirectional overrides that split or disguise a log line.
# Lone surrogates too: aiohttp reads header bytes that are not UTF-8 as U+DC80..U+DCFF
# (surrogateescape), which a strict UTF-8 log writer cannot encode.
_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def one_line(text: str, limit: int | None = None, secrets: Iterable[str] = ()) -> str:
    r"""Make server text safe for a message or a log line.

    Every secret (and its percent-encoded form) is replaced by ``<redacted>``
    first, so that cutting can never leave half a token behind; then control
    characters and line separators are escaped (``\n``, ``\u001b``), and the
    result is cut to ``limit`` characters, saying how many were left out. Lone
    surrogates (undecodable bytes) are escaped too, so the result is always
    encodable as strict UTF-8.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
            encoded = quote(secret, safe="")
            if encoded != secret:
                text = text.replace(encoded, REDACTED)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(_escape, text)
    if limit is not None and len(text) > limit:
        return f"{text[:limit]}... ({len(text) - limit} more characters)"
    return text


# RFC 850's two-digit year ("Sunday, 06-Nov-94 08:49:37 GMT"), which RFC 9110 reads
# relative to now; email.utils reads it as 1969-2068.
_FULL_YEAR: Final = re.compile(r"(?<!\d)(\d{4})(?!\d)", re.ASCII)
_RFC850_YEAR: Final = re.compile(r"[A-Za-z]+, \d\d-[A-Za-z]{3}-(\d\d) ", re.ASCII)


def _http_date(value: str, now: float) -> datetime | None:
    """Parse an HTTP-date as an aware datetime, or ``None``.

    ``email.utils.parsedate_to_datetime`` reads RFC 9110's three formats
    (IMF-fixdate, RFC 850, asctime) and the RFC 5322 forms servers also send
    (a numeric zone, no weekday). On top of it: RFC 9110's rule for a two-digit
    year (more than 50 years ahead is the past century), and every failure of the
    parser (an impossible date, an overflowing zone) is "not a date".
    """
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": a UTC time of unknown zone (RFC 5322)
        when = when.replace(tzinfo=UTC)
    written = _FULL_YEAR.search(value)
    if written is not None and int(written.group(1)) != when.year:
        return None  # "0000" read as 2000: a year the server did not write
    if match := _RFC850_YEAR.match(value):
        this_year = datetime.fromtimestamp(now, UTC).year
        year = this_year - this_year % 100 + int(match.group(1))
        if year > this_year + 50:
            year -= 100
        try:
            when = when.replace(year=year)
        except ValueError:  # 29 Feb of a year that has none
            return None
    return when


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read ``Retry-After`` as seconds to wait: delay-seconds or an HTTP-date.

    RFC 9110: delay-seconds is ASCII digits only (a Unicode digit such as ``²`` is
    not one); an HTTP-date in the past means "now". The result is clamped to
    0 .. :data:`RETRY_AFTER_CEILING`.

    Args:
        value: The header value, if sent.
        now: The current POSIX time, for HTTP-dates (defaults to the clock).

    Returns:
        Seconds, or ``None`` when absent or not in either form (the policy's
        backoff applies then).
    """
    if not value or len(value) > HEADER_MAX_CHARS:
        return None
    value = value.strip(" \t")
    if value.isascii() and value.isdigit():
        # More digits than the ceiling has is the ceiling; no huge-int conversion.
        return RETRY_AFTER_CEILING if len(value) > 8 else min(float(value), RETRY_AFTER_CEILING)
    if now is None:
        now = time.time()
    when = _http_date(value, now)
    if when is None:
        return None
    return min(max(0.0, when.timestamp() - now), RETRY_AFTER_CEILING)


def polling_interval_ms(value: object) -> int | None:
    """Read the ``pollingIntervalMs`` hint, clamped to 250 ms .. 5 min.

    Returns:
        The hint in milliseconds, or ``None`` (use the default) when it is
        absent, not an integer (a float, a string, a boolean) or not positive.
    """
    value = _wide_integer(value)
    if value is None or value <= 0:
        return None
    return min(max(value, POLL_INTERVAL_MIN_MS), POLL_INTERVAL_MAX_MS)


def count(value: object) -> int:
    """Read a page's ``count``: an integer clamped to 0 .. 2**63-1; anything else is 0."""
    value = _wide_integer(value)
    if value is None:
        return 0
    return min(max(value, 0), COUNT_MAX)


def _wide_integer(value: object) -> int | None:
    """An integer field's value: an ``int``, or the clamp side of an integer wider than 64 bits.

    orjson reads an integer past the 64-bit range as a float (``10**30`` arrives as
    ``1e30``); only such floats stand for integers here, as +/-(2**63). Other floats,
    booleans and everything else are not integers (``None``).
    """
    if type(value) is int:
        return value
    if type(value) is float and abs(value) >= _WIDE:  # NaN fails the comparison
        return COUNT_MAX if value > 0 else -COUNT_MAX
    return None


def cursor(value: object) -> str | None:
    """Read an ``endCursor``: ``None``, ``""`` (no more pages) or a bounded string.

    Raises:
        TypeError: Not a string (a wrong-shape page; the converter reports it).
        ValueError: Longer than :data:`CURSOR_MAX_CHARS`: refused rather than
            cut, since a cut cursor would silently skip or repeat items.
    """
    if value is None:
        return None
    if type(value) is not str:
        msg = f"expected a cursor string or null, got {type(value).__name__}"
        raise TypeError(msg)
    if len(value) > CURSOR_MAX_CHARS:
        msg = f"cursor of {len(value)} characters is over the {CURSOR_MAX_CHARS} accepted"
        raise ValueError(msg)
    return value or None


def quota_limit(value: object) -> float | None:
    """Read a 429 body's ``quotaLimit`` (requests per period): a hint for the rate limiter.

    Returns:
        A positive finite number up to :data:`QUOTA_LIMIT_MAX`, clamped; ``None``
        for anything else (absent, not a number, a boolean, zero or negative, NaN).
    """
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        return None  # NaN fails "> 0" too
    return min(float(value), QUOTA_LIMIT_MAX)


def request_id(value: str | None, secrets: Iterable[str] = ()) -> str | None:
    """Read a request-ID header for logs and hooks: one line, at most 200 characters.

    A server may echo anything into it, the client's token included: ``secrets``
    are removed as from any other server text.
    """
    if not value:
        return None
    return one_line(value, HEADER_VALUE_MAX_CHARS, secrets)


def error_fields(doc: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Keep an error document's other fields (``quotaLimit``, ``index``, ...) as bounded scalars.

    At most 50 fields; keys and strings made one line and capped; numbers,
    booleans and null kept; nested objects and arrays left out.
    """
    secrets = tuple(secrets)
    kept: dict[str, Any] = {}
    for key, value in doc.items():
        if key in ("error", "detail"):
            continue
        if len(kept) >= MAX_KEPT_ITEMS:
            break
        if isinstance(value, str):
            kept[one_line(key, 100, secrets)] = one_line(value, HEADER_VALUE_MAX_CHARS, secrets)
        elif value is None or isinstance(value, bool | int | float):
            kept[one_line(key, 100, secrets)] = value
    return kept

"""From a blob to records: Fluent Bit's own log output, parsed into typed records. No I/O.

A ``DONE`` pipeline log's ``logs`` field is the text Fluent Bit printed::

    Fluent Bit v2.2.2
    * Copyright (C) 2015-2024 The Fluent Bit Authors
    [2024/02/07 10:24:50] [ info] [fluent bit] version=2.2.2, commit=eeea396e88, pid=1
    [2024/02/07 10:24:51] [ warn] [engine] failed to flush chunk '1-1707301490.9.flb', retry in 7s
    [2024/02/07 10:24:52] [error] [output:es:es.0] HTTP status=400 URI=/_bulk, response:
        {"error":{"root_cause":[{"type":"mapper_parsing_exception", ...
    [engine] caught signal (SIGSEGV)
    #0  0x55b2c1d3e4f0      in  flb_output_flush() at src/flb_output.c:123
    level=info caller=out_loki.go:57 id=0 [flb-go]="Starting fluent-bit-go-loki"

:func:`parse_records` turns it into :class:`LogRecord` values, one pass, lazily:

1. A record line starts with ``[YYYY/MM/DD HH:MM:SS(.fraction)]``, a space and a
   bracket. A bracket holding a level (``error``, ``warn``, ``warning``, ``info``,
   ``debug``, ``trace``; any padding or case) is the level, and the next bracket,
   if any, the component; otherwise the level is ``None`` and that bracket is
   the component.
2. ``[engine] caught signal (SIGSEGV)`` (or SIGABRT, SIGBUS, SIGFPE, SIGILL),
   with or without a timestamp, is an ``ERROR`` of component ``engine``: a crash
   is the error users look for first. A SIGTERM or SIGINT at shutdown is not.
3. A line that starts with whitespace, or a backtrace frame (``#0 ...``),
   continues the record before it (or stands alone, if there is none).
4. Any other non-blank line (banner, ASCII art, a Go plugin's logfmt, an
   unindented HTTP body) is a record of its own, without time, level or component.
5. Blank lines are skipped; every other line is in exactly one record's ``raw``,
   in order, unchanged.
"""

from __future__ import annotations

import enum
import fnmatch
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

import attrs

__all__ = ["LogLevel", "LogRecord", "filter_records", "parse_records"]


class LogLevel(enum.StrEnum):
    """A Fluent Bit log level, ordered by severity: ``ERROR > WARN > INFO > DEBUG > TRACE``.

    ``LogLevel("warning")`` (what older builds print) is ``WARN``; lookups
    ignore case and padding: ``LogLevel(" Info ")`` is ``INFO``.
    """

    ERROR = "error"
    WARN = "warn"
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"

    @property
    def severity(self) -> int:
        """How severe: 4 for ``ERROR`` down to 0 for ``TRACE``."""
        return _SEVERITY[self]

    @classmethod
    def _missing_(cls, value: object) -> LogLevel | None:
        if isinstance(value, str):
            return _LEVELS.get(value.strip().lower())
        return None

    def __lt__(self, other: object) -> bool:
        if isinstance(other, LogLevel):
            return self.severity < other.severity
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, LogLevel):
            return self.severity <= other.severity
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, LogLevel):
            return self.severity > other.severity
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, LogLevel):
            return self.severity >= other.severity
        return NotImplemented


_SEVERITY: Final = {
    LogLevel.TRACE: 0,
    LogLevel.DEBUG: 1,
    LogLevel.INFO: 2,
    LogLevel.WARN: 3,
    LogLevel.ERROR: 4,
}
_LEVELS: Final[dict[str, LogLevel]] = {level.value: level for level in LogLevel} | {
    "warning": LogLevel.WARN
}


@attrs.frozen(kw_only=True)
class LogRecord:
    """One record of Fluent Bit's log output.

    Attributes:
        time: When it was logged (timezone-aware, read in the ``tz`` given to
            :func:`parse_records`; fractions kept to microseconds), or ``None``.
        level: The level, or ``None`` for a line that has none (a banner, a Go plugin's line).
        component: The bracket after the level (``engine``, ``output:es:es.0``), or ``None``.
        message: The rest of the first line, stripped; each continuation line
            follows after a newline, stripped.
        raw: The record's source lines, unchanged, joined by newlines.
        line: The 1-based line number of the record's first line.
    """

    time: datetime | None
    level: LogLevel | None
    component: str | None
    message: str
    raw: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (``time`` in RFC 3339)."""
        return {
            "time": None if self.time is None else self.time.isoformat(),
            "level": None if self.level is None else self.level.value,
            "component": self.component,
            "message": self.message,
            "raw": self.raw,
            "line": self.line,
        }


# The crash report: "[engine] caught signal (SIGSEGV)", with or without a timestamp before it.
_CRASH: Final = re.compile(r"caught signal \((SIGSEGV|SIGABRT|SIGBUS|SIGFPE|SIGILL)\)")
_FRAME: Final = re.compile(r"#\d+\s")
# ANSI escape sequences (CSI: colours, bold): Fluent Bit colours its headers on a terminal.
_ANSI: Final = re.compile(r"\x1b\[[0-9;:?]*[ -/]*[@-~]")
# Two-digit fields of Fluent Bit's "YYYY/MM/DD HH:MM:SS(.fraction)": a lookup both checks
# (ASCII digits, in range) and converts, faster than a regex and int().
_HOURS: Final = {f"{i:02d}": i for i in range(24)}
_SIXTY: Final = {f"{i:02d}": i for i in range(60)}
_DATE: Final = re.compile(r"(\d{4})/(\d\d)/(\d\d)", re.ASCII)
_SECONDS: Final = [timedelta(seconds=i) for i in range(60)]
#: How much text is split into lines at a time: memory stays bounded by this, not the log.
CHUNK_CHARS: Final = 64 * 1024
# Bracket contents as Fluent Bit prints them, looked up before any strip() or lower().
_PADDED: Final[dict[str, LogLevel]] = {
    f"{pad}{name}": level
    for name, level in _LEVELS.items()
    for pad in ("", " ", "  ")
    if len(pad + name) <= 7 or not pad
}


def _lines(text: str) -> Iterator[str]:
    r"""Split ``text`` on "\n" only (as Fluent Bit writes lines), a bounded chunk at a time."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start + CHUNK_CHARS)
        if end == -1:
            yield from text[start:].split("\n")
            return
        yield from text[start:end].split("\n")
        start = end + 1


class _Clock:
    """Reads timestamp brackets in one zone, caching the day and the minute.

    Within a minute only the seconds change: the minute's datetime plus a
    precomputed ``timedelta`` is the same wall time in the same zone (aware
    arithmetic does not renormalise), at a quarter of the cost of a new datetime.
    """

    __slots__ = ("date", "minute", "minute_start", "tz", "ymd")

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.date = self.minute = ""
        self.ymd: tuple[int, int, int] | None = None
        self.minute_start: datetime | None = None

    def read(self, stamp: str) -> datetime | None:
        """The time in a bracket's text (``YYYY/MM/DD HH:MM:SS(.frac)``), or ``None``."""
        second = _SIXTY.get(stamp[17:19])
        if second is None or stamp[16:17] != ":":
            return None
        if stamp[:16] != self.minute:
            self.minute, self.minute_start = stamp[:16], self._minute(stamp)
        start = self.minute_start
        if start is None:
            return None
        if len(stamp) == 19:
            return start + _SECONDS[second]
        fraction = stamp[20:]
        if stamp[19] != "." or not (fraction.isascii() and fraction.isdigit()):
            return None
        return start + _SECONDS[second] + timedelta(microseconds=int(fraction[:6].ljust(6, "0")))

    def _minute(self, stamp: str) -> datetime | None:
        """The start of the minute ``YYYY/MM/DD HH:MM``, or ``None`` if it is not one."""
        if stamp[10:11] != " " or stamp[13:14] != ":":
            return None
        date = stamp[:10]
        if date != self.date:
            self.date, self.ymd = date, None
            if match := _DATE.fullmatch(date):
                year, month, day = map(int, match.groups())
                try:
                    datetime(year, month, day)  # only checks that the date exists
                    self.ymd = (year, month, day)
                except ValueError:  # 2024/02/30: only looks like a date
                    pass
        hour, minute = _HOURS.get(stamp[11:13]), _SIXTY.get(stamp[14:16])
        if self.ymd is None or hour is None or minute is None:
            return None
        return datetime(*self.ymd, hour, minute, 0, 0, self.tz)


def parse_records(  # noqa: PLR0912, PLR0915 - one loop, per line; kept flat for speed
    text: str, *, tz: tzinfo = UTC
) -> Iterator[LogRecord]:
    """Parse Fluent Bit's log output into records, lazily, in one pass. Never raises.

    Args:
        text: The log text (a pipeline log's ``logs``).
        tz: The zone the bracketed times are in (Fluent Bit prints local time
            without a zone; containers usually run in UTC).

    Yields:
        Each record, in input order. Only the record being read is held, and the
        text is split into lines a bounded chunk at a time.
    """
    # The record being read, in locals (this loop runs once per line: ~1 us each).
    first = 0
    time: datetime | None = None
    level: LogLevel | None = None
    component: str | None = None
    message = raw = ""
    more: list[str] | None = None  # continuation lines, when there are any
    last_stamp, last_time = "", None  # consecutive lines share the second: parse it once
    clock = _Clock(tz)
    padded, levels, frame = _PADDED.get, _LEVELS.get, _FRAME.match
    for number, line in enumerate(_lines(text), 1):
        if not line:
            continue
        head = line[0]
        if head.isspace():
            if line.isspace():
                continue  # rule 5: blank
            continuation = first != 0  # rule 3: indented
        else:
            continuation = head == "#" and first != 0 and frame(line) is not None  # a frame
        if continuation:
            if more is None:
                more = []
            more.append(line)
            continue
        if more is not None:
            yield _record(first, time, level, component, message, raw, more)
        elif first:
            yield _make(time, level, component, message, raw, first)
        first, raw, more = number, line, None
        time = level = component = None
        if head == "\x1b":  # coloured on a terminal: parsed without the codes (raw keeps them)
            line = _ANSI.sub("", line)  # noqa: PLW2901 - parsed without them; raw keeps them
            head = line[:1]
        if head == "[":
            # "[YYYY/MM/DD HH:MM:SS]" closes at 20; with a fraction, by 31.
            close = 20 if line[20:21] == "]" else line.find("]", 21, 32)
            stamp = line[1:close] if close > 0 else ""
            if stamp and stamp == last_stamp:
                time = last_time
            elif stamp:
                time = last_time = clock.read(stamp)
                last_stamp = stamp
            if time is not None and line[close + 1 : close + 3] == " [":
                end = line.find("]", close + 3)
                if end != -1:
                    inner = line[close + 3 : end]
                    level = padded(inner) or levels(inner.strip().lower())
                    after = end + 1
                    if level is None:
                        component = inner.strip()
                    elif line.startswith(" [", after) and (stop := line.find("]", after + 2)) > 0:
                        component, after = line[after + 2 : stop].strip(), stop + 1
                    message = line[after:].strip()
                    if (
                        component == "engine"
                        and message.startswith("caught signal (")
                        and _CRASH.match(message)
                    ):
                        level = LogLevel.ERROR  # rule 2: a crash is an error, whatever it says
                    continue
            time = None
            if line.startswith("[engine] caught signal (") and _CRASH.match(line, 9):
                level, component, message = LogLevel.ERROR, "engine", line[9:].strip()
                continue
        message = line.strip()
    if first:
        yield _record(first, time, level, component, message, raw, more)


_new: Final = object.__new__
_SET_TIME, _SET_LEVEL, _SET_COMPONENT, _SET_MESSAGE, _SET_RAW, _SET_LINE = (
    LogRecord.__dict__[name].__set__
    for name in ("time", "level", "component", "message", "raw", "line")
)


def _make(  # noqa: PLR0917 - the fields of the record, in order
    time: datetime | None,
    level: LogLevel | None,
    component: str | None,
    message: str,
    raw: str,
    line: int,
) -> LogRecord:
    """``LogRecord(...)`` in half the time: what attrs' ``__init__`` does, minus its overhead.

    The generated ``__init__`` sets each slot through ``object.__setattr__``
    (~0.7 us a record, a third of the whole parse); the slots' own descriptors
    set them directly. LogRecord has no validators, converters or defaults,
    so nothing is skipped (tests/test_records.py checks both).
    """
    record = _new(LogRecord)
    _SET_TIME(record, time)
    _SET_LEVEL(record, level)
    _SET_COMPONENT(record, component)
    _SET_MESSAGE(record, message)
    _SET_RAW(record, raw)
    _SET_LINE(record, line)
    return record


def _record(  # noqa: PLR0917 - the fields of the record, in order
    first: int,
    time: datetime | None,
    level: LogLevel | None,
    component: str | None,
    message: str,
    raw: str,
    more: list[str] | None,
) -> LogRecord:
    """Build a record, its continuation lines (if any) appended."""
    if more:
        message = "\n".join([message, *(line.strip() for line in more)])
        raw = "\n".join([raw, *more])
    return _make(time, level, component, message, raw, first)


def filter_records(
    records: Iterable[LogRecord],
    *,
    min_level: LogLevel | str | None = None,
    component: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    grep: str | re.Pattern[str] | None = None,
) -> Iterator[LogRecord]:
    """Keep the records that pass every filter given (lazily).

    Args:
        records: Records, from :func:`parse_records` or :meth:`PipelineLog.records`.
        min_level: Only records at least this severe (records without a level are left out).
        component: Only records whose component matches this glob (``output:es:*``).
        since: Only records at or after this time (records without a time are left out).
        until: Only records before this time (records without a time are left out).
        grep: Only records whose message matches this regular expression (``re.search``).

    Returns:
        An iterator over the records kept, read from ``records`` as it is consumed.

    Raises:
        ValueError: An unknown level, a naive ``since`` / ``until``, or an invalid
            regex; raised by the call itself, before any record is read.
    """
    level = None if min_level is None else LogLevel(min_level)
    if isinstance(grep, str):
        try:
            pattern: re.Pattern[str] | None = re.compile(grep)
        except re.error as exc:  # not a ValueError before Python 3.13's PatternError either
            msg = f"grep is not a valid regular expression: {exc}"
            raise ValueError(msg) from None
    else:
        pattern = grep
    for bound in (since, until):
        if bound is not None and bound.tzinfo is None:
            msg = "since and until must be timezone-aware datetimes"
            raise ValueError(msg)
    return _filtered(records, level, component, since, until, pattern)


def _filtered(  # noqa: PLR0917 - the checked arguments of filter_records, in its order
    records: Iterable[LogRecord],
    level: LogLevel | None,
    component: str | None,
    since: datetime | None,
    until: datetime | None,
    pattern: re.Pattern[str] | None,
) -> Iterator[LogRecord]:
    """The lazy part of :func:`filter_records`, on arguments already checked."""
    for record in records:
        if level is not None and (record.level is None or record.level < level):
            continue
        if component is not None and (
            record.component is None or not fnmatch.fnmatchcase(record.component, component)
        ):
            continue
        if (since is not None or until is not None) and record.time is None:
            continue
        if since is not None and record.time is not None and record.time < since:
            continue
        if until is not None and record.time is not None and record.time >= until:
            continue
        if pattern is not None and not pattern.search(record.message):
            continue
        yield record

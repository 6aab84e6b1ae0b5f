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
import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
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


# [YYYY/MM/DD HH:MM:SS(.fraction)] [bracket] ([bracket])? rest
_RECORD: Final = re.compile(
    r"\[(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\] \[([^\]\n]*)\]"
    r"(?: \[([^\]\n]*)\])?[ \t]?(.*)",
    re.ASCII | re.DOTALL,
)
# The crash report: "[engine] caught signal (SIGSEGV)", with or without a timestamp before it.
_CRASH: Final = re.compile(r"caught signal \((SIGSEGV|SIGABRT|SIGBUS|SIGFPE|SIGILL)\)")
_CRASH_BARE: Final = re.compile(r"\[engine\] (caught signal \(\w+\).*)", re.DOTALL)
_FRAME: Final = re.compile(r"#\d+\s")


def _time(match: re.Match[str], tz: tzinfo) -> datetime | None:
    year, month, day, hour, minute, second, fraction = match.group(1, 2, 3, 4, 5, 6, 7)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
        )
    except ValueError:  # 2024/13/45 99:99:99: a bracket that only looks like a time
        return None


class _Builder:
    """The record being read: its first line's fields and its lines so far."""

    __slots__ = ("component", "first", "level", "lines", "message", "time")

    def __init__(  # noqa: PLR0917 - private, built in one place
        self,
        first: int,
        line: str,
        time: datetime | None,
        level: LogLevel | None,
        component: str | None,
        message: str,
    ) -> None:
        self.first = first
        self.lines = [line]
        self.message = [message]
        self.time = time
        self.level = level
        self.component = component

    def build(self) -> LogRecord:
        return LogRecord(
            time=self.time,
            level=self.level,
            component=self.component,
            message="\n".join(self.message),
            raw="\n".join(self.lines),
            line=self.first,
        )


def _start(number: int, line: str, tz: tzinfo, cache: list[Any]) -> _Builder:
    """A new record from the line that begins it (rules 1, 2 and 4)."""
    match = _RECORD.match(line) if line.startswith("[") else None
    if match is not None:
        stamp = line[: match.end(6 if match.group(7) is None else 7) + 1]
        if stamp == cache[0]:
            time = cache[1]  # consecutive lines share the second: build the datetime once
        else:
            time = _time(match, tz)
            cache[0], cache[1] = stamp, time
        if time is not None:
            first, second, rest = match.group(8, 9, 10)
            level = _LEVELS.get(first.strip().lower())
            if level is None:
                # No level: the first bracket is the component, the second is message text.
                component: str | None = first.strip()
                rest = line[match.end(8) + 1 :].lstrip(" \t")
            else:
                component = None if second is None else second.strip()
            message = rest.strip()
            if component == "engine" and _CRASH.match(message):
                level = LogLevel.ERROR  # rule 2: a crash is an error, whatever else it says
            return _Builder(number, line, time, level, component, message)
    if line.startswith("[engine] "):
        crash = _CRASH_BARE.match(line)
        if crash is not None and _CRASH.match(crash.group(1)):
            return _Builder(number, line, None, LogLevel.ERROR, "engine", crash.group(1).strip())
    return _Builder(number, line, None, None, None, line.strip())


def parse_records(text: str, *, tz: tzinfo = UTC) -> Iterator[LogRecord]:
    """Parse Fluent Bit's log output into records, lazily, in one pass. Never raises.

    Args:
        text: The log text (a pipeline log's ``logs``).
        tz: The zone the bracketed times are in (Fluent Bit prints local time
            without a zone; containers usually run in UTC).

    Yields:
        Each record, in input order; only the record being read is held in memory.
    """
    cache: list[Any] = [None, None]
    current: _Builder | None = None
    # StringIO splits on "\n" only (as Fluent Bit writes lines), without building a list.
    for number, full in enumerate(io.StringIO(text, newline="\n"), 1):
        line = full[:-1] if full.endswith("\n") else full
        if not line or line.isspace():
            continue
        first = line[0]
        if current is not None and (first in " \t" or (first == "#" and _FRAME.match(line))):
            current.lines.append(line)
            current.message.append(line.strip())
            continue
        if current is not None:
            yield current.build()
        current = _start(number, line, tz, cache)
    if current is not None:
        yield current.build()


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

    Raises:
        ValueError: An unknown level, a naive ``since`` / ``until``, or an invalid regex.
    """
    level = None if min_level is None else LogLevel(min_level)
    pattern = re.compile(grep) if isinstance(grep, str) else grep
    for bound in (since, until):
        if bound is not None and bound.tzinfo is None:
            msg = "since and until must be timezone-aware datetimes"
            raise ValueError(msg)
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

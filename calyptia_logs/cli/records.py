"""Records on the command line: reading ``--since``, colouring levels, writing JSON lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

import click
import orjson
from rich.text import Text

from calyptia_logs.models import PipelineLog
from calyptia_logs.records import LogLevel, LogRecord

__all__ = ["LEVELS", "SinceType", "record_json", "record_text"]

#: What ``--min-level`` accepts (``warning`` is ``warn``).
LEVELS: Final = click.Choice(
    ["error", "warn", "warning", "info", "debug", "trace"], case_sensitive=False
)
STYLES: Final = {
    LogLevel.ERROR: "bold red",
    LogLevel.WARN: "yellow",
    LogLevel.INFO: "green",
    LogLevel.DEBUG: "dim",
    LogLevel.TRACE: "dim",
}
_DURATION: Final = re.compile(r"(\d{1,9})([smhd])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SinceType(click.ParamType):  # type: ignore[type-arg]  # generic since click 8.3
    """``--since`` / ``--until``: a duration ago (``90s``, ``15m``, ``2h``, ``7d``) or a time.

    A time is ISO 8601 (``2024-02-07T10:24:50``, ``2024-02-07 10:24``, with or
    without an offset; without one it is in ``--tz``, UTC by default).
    """

    name = "since"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Turn the option's text into a ``timedelta`` (a duration) or a ``datetime``."""
        if isinstance(value, datetime | timedelta):
            return value
        text = str(value).strip()
        if match := _DURATION.fullmatch(text):
            return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is neither a duration (90s, 15m, 2h, 7d) nor a time "
                "(2024-02-07T10:24:50)",
                param,
                ctx,
            )


def since_time(value: datetime | timedelta | None, tz: tzinfo) -> datetime | None:
    """A ``--since`` / ``--until`` bound as an aware datetime (a naive time is read in ``tz``)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return datetime.now(UTC) - value
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def record_text(record: LogRecord) -> Text:
    """A record as Fluent Bit wrote it, its level coloured (rich drops colour when piped).

    A ``Text`` is built, never markup: a log line full of ``[brackets]`` stays as it is.
    """
    text = Text(record.raw)
    if record.level is not None:
        # Colour the level's bracket (or, for a crash line, the whole first line).
        first = record.raw.split("\n", 1)[0]
        match = re.search(r"\[\s*(" + record.level.value + r"|warning)\s*\]", first, re.IGNORECASE)
        start, end = match.span() if match else (0, len(first))
        text.stylize(STYLES[record.level], start, end)
    return text


def record_json(record: LogRecord, log: PipelineLog | None = None) -> bytes:
    """One JSON line: the log's and pipeline's IDs (when given), then the record's fields."""
    data: dict[str, Any] = {}
    if log is not None:
        data = {"logID": str(log.id), "pipelineID": str(log.pipeline_id)}
    data.update(record.to_dict())
    return orjson.dumps(data)

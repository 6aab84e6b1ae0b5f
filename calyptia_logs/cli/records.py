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

__all__ = ["FLUENT_BIT_TIME", "LEVELS", "SinceType", "record_json", "record_text", "time_window"]

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


#: How Fluent Bit writes the time in its log headers: ``[2024/03/01 15:26:48]``.
FLUENT_BIT_TIME: Final = "%Y/%m/%d %H:%M:%S"


class SinceType(click.ParamType):  # type: ignore[type-arg]  # generic since click 8.3
    """``--since`` / ``--until``: a duration ago (``90s``, ``15m``, ``2h``, ``7d``) or a time.

    A time is ISO 8601 (``2024-02-07T10:24:50``, ``2024-02-07 10:24``, with or
    without an offset; without one it is in ``--tz``, UTC by default), or Fluent
    Bit's own ``2024/02/07 10:24:50`` (brackets allowed), as copied from its output.
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
            pass
        try:  # Fluent Bit's own header time, as copied from its output
            return datetime.strptime(text.strip("[]"), FLUENT_BIT_TIME)
        except ValueError:
            self.fail(
                f"{text!r} is neither a duration (90s, 15m, 2h, 7d) nor a time "
                "(2024-02-07T10:24:50, or Fluent Bit's 2024/02/07 10:24:50)",
                param,
                ctx,
            )


def time_window(
    since: datetime | timedelta | None, until: datetime | timedelta | None, tz: tzinfo
) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` as aware datetimes; an empty window is a usage error.

    Raises:
        click.BadParameter: ``--until`` is not after ``--since`` (nothing could match).
    """
    start, end = since_time(since, tz), since_time(until, tz)
    if start is not None and end is not None and end <= start:
        msg = (
            f"--until ({end.isoformat()}) is not after --since ({start.isoformat()}): "
            "nothing can match"
        )
        raise click.BadParameter(msg, param_hint="'--until'")
    return start, end


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

"""Option types of the command line: every number has a range, shown in ``--help``.

click's ``FloatRange`` lets NaN through (every comparison with NaN is false) and
has no notion of "finite"; :class:`Seconds` adds both, so ``--timeout nan``
and ``--timeout inf`` are usage errors like ``--timeout -1``.
"""

from __future__ import annotations

import codecs
import math
import sys
from pathlib import Path
from typing import Any, Final

import click

from calyptia_logs.arguments import MAX_INT64

__all__ = ["COUNT", "LINES", "Seconds", "TextFile"]


class Seconds(click.FloatRange):
    """A finite number of seconds within a range (by default more than 0, at most a day)."""

    name = "seconds"

    def __init__(self, maximum: float = 86_400.0, *, zero: bool = False) -> None:
        super().__init__(min=0.0, max=maximum, min_open=not zero)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Parse the number; refuse NaN and infinity as well as anything out of range."""
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return number


#: Lines of a log request: the API takes a 64-bit integer.
LINES: Final = click.IntRange(1, MAX_INT64)
#: A count of things to show or run at once.
COUNT: Final = click.IntRange(1, 1_000_000)


class TextFile(click.ParamType):  # type: ignore[type-arg]  # generic since click 8.3
    """A UTF-8 text file (``-``: stdin), read whole into a ``str``.

    A UTF-8 byte-order mark is dropped (Windows editors write one). Bytes that
    are not UTF-8 are a usage error that names the file and the byte offset,
    rather than a ``UnicodeDecodeError`` traceback at the first read.
    """

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Read and decode the file; refuse what cannot be read or is not UTF-8."""
        shown = "stdin" if value == "-" else str(value)
        try:
            data = sys.stdin.buffer.read() if value == "-" else Path(value).read_bytes()
        except OSError as exc:
            self.fail(f"cannot read {shown}: {exc.strerror or exc}", param, ctx)
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        try:
            return data[bom:].decode("utf-8")
        except UnicodeDecodeError as exc:
            offset = bom + exc.start
            self.fail(
                f"{shown} is not UTF-8 text: byte 0x{data[offset]:02x} at offset {offset}",
                param,
                ctx,
            )

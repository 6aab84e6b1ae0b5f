"""Terminal output for the CLI: consoles, tables and failure summaries (rich)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, NoReturn

from rich.console import Console
from rich.table import Table
from rich.text import Text

from calyptia_logs.cli.output import Failures
from calyptia_logs.models import PipelineLog
from calyptia_logs.server_values import one_line

__all__ = ["age", "closed_pipe", "console", "error_console", "logs_table", "print_failures"]



def closed_pipe() -> NoReturn:
    """The reader went away (``| head``): that ends the output, quietly and successfully.

    click and rich both exit 1 on a closed pipe, which breaks ``set -o pipefail``
    scripts. stdout is pointed at devnull so that the interpreter's final flush
    cannot fail again (the recipe in the documentation of Python's signal module).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


class _Console(Console):
    """rich's console, except that a closed pipe ends the command with exit 0 (rich's: 1)."""

    def on_broken_pipe(self) -> None:
        """Called by rich on ``BrokenPipeError``."""
        self.quiet = True
        closed_pipe()


console: Final = _Console(highlight=False)
error_console: Final = _Console(stderr=True, highlight=False)
#: The most characters of the user's input repeated in a message.
ECHO_MAX_CHARS: Final = 100


def age(when: datetime, now: datetime | None = None) -> str:
    """Say how long ago ``when`` was, kubectl style: ``42s``, ``5m``, ``3h``, ``2d``."""
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def logs_table(logs: Iterable[PipelineLog]) -> Table:
    """A table of pipeline logs: ID, STATUS, LINES, AGE."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "STATUS", "LINES"):
        table.add_column(column, no_wrap=True)
    table.add_column("AGE", justify="right", no_wrap=True)
    now = datetime.now(UTC)
    for log in logs:
        table.add_row(str(log.id), log.status.value, str(log.lines), age(log.created_at, now))
    return table


def print_failures(failures: Failures, *, total: int, failed_ids: Path | None = None) -> None:
    """Summarise failed bulk items on stderr: counts by error type, then the first few."""
    error_console.print(
        f"[bold red]{failures.count} of {total} failed[/]: "
        + ", ".join(f"{n} {kind}" for kind, n in failures.kinds.most_common())
    )
    for item_id, error in failures.first:
        # The ID is the user's input (a 50 MB line of an IDs file): shown capped, on one line.
        shown = one_line(str(item_id), ECHO_MAX_CHARS)
        error_console.print(Text(f"  {shown}: {error}"), soft_wrap=True)
    if failures.count > len(failures.first):
        error_console.print(f"  ... and {failures.count - len(failures.first)} more")
    if failed_ids is not None:
        error_console.print(
            Text(f"every failed ID is in {failed_ids}: retry them with --ids-file {failed_ids}"),
            soft_wrap=True,
        )

"""The CLI's longer-running jobs: bulk fetching to files, and watching a pipeline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

from calyptia_logs import converter
from calyptia_logs.cli.output import FailedIDs, Failures, JsonLines
from calyptia_logs.cli.records import record_json
from calyptia_logs.cli.render import error_console
from calyptia_logs.errors import CalyptiaError
from calyptia_logs.models import BulkResult, CollectResult, PipelineLog, PipelineLogStatus
from calyptia_logs.ratelimit import RateLimitState
from calyptia_logs.records import LogLevel, LogRecord
from calyptia_logs.resources import CalyptiaClient
from calyptia_logs.transport.core import RecentKeys

__all__ = ["collect_to", "fetch_progress", "fetch_to", "rate_limit_text", "watch_pipeline"]


#: Log IDs a watch remembers, to print each once (a bound on memory for a watch of days).
WATCH_REMEMBERED: Final = 100_000
#: Logs asked for per page while watching.
WATCH_PAGE: Final = 100


async def _new_done_logs(
    client: CalyptiaClient, pipeline_id: str, seen: RecentKeys, *, walk: bool
) -> tuple[list[PipelineLog], int | None]:
    """The DONE logs not seen yet, newest first, and the server's polling hint.

    With ``walk``, pages are followed back (``before=``) until one holds a log
    already seen, or there are no more; without it, only the newest page is read.
    """
    fresh: list[PipelineLog] = []
    before: str | None = None
    hint: int | None = None
    while True:
        page = await client.pipeline_logs.list(
            pipeline_id, status=PipelineLogStatus.DONE, last=WATCH_PAGE, before=before
        )
        hint = page.polling_interval_ms if hint is None else hint
        new = [log for log in page.items if seen.add(log.id)]
        fresh += new
        if not walk or len(new) < len(page.items) or not page.end_cursor:
            return fresh, hint
        before = page.end_cursor


class _Note(ProgressColumn):
    """The rate limiter's note: cut with an ellipsis, never wrapped, when the line is narrow."""

    def render(self, task: Task) -> Text:
        """The note, in yellow, on one line."""
        note = str(task.fields.get("limit", ""))
        return Text(note, style="yellow", no_wrap=True, overflow="ellipsis")


def fetch_progress(console: Console) -> Progress:
    """A progress bar for bulk fetches: done/total, rate, failures, rate limit, elapsed.

    In a narrow terminal (80 columns, throttled) decoration gives way first: the
    bar shrinks, then the rate-limit note is cut with an ellipsis; done/total,
    the rate and the failures always stay whole.
    """
    whole = Column(no_wrap=True)
    return Progress(
        TextColumn("[bold]{task.description}", table_column=whole),
        BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=0)),
        MofNCompleteColumn(table_column=whole),
        TaskProgressColumn(table_column=whole),
        TextColumn("{task.fields[rate]:>7.0f}/s", table_column=whole),
        TextColumn("[red]{task.fields[failed]} failed", table_column=whole),
        _Note(table_column=Column(min_width=0)),  # the one column that may shrink
        TimeElapsedColumn(table_column=whole),
        console=console,
        transient=False,
        expand=True,
    )


async def fetch_to(
    client: CalyptiaClient,
    ids: Sequence[str],
    *,
    out_dir: Path | None = None,
    jsonl: JsonLines | None = None,
    concurrency: int,
    min_level: LogLevel | str | None = None,
    failed_ids: FailedIDs | None = None,
    description: str = "fetching",
    console: Console = error_console,
) -> Failures:
    """Fetch ``ids`` with a progress bar, writing each log as it arrives.

    ``out_dir`` must exist. With neither ``out_dir`` nor ``jsonl`` the logs are
    fetched and dropped (the demo does that). With ``min_level``, only the
    records at least that severe are written: as JSON lines of records to
    ``jsonl``, as their raw lines to ``out_dir``.

    Returns:
        The failures (counted; the first few kept for the summary).
    """
    results = client.pipeline_logs.get_many(ids, concurrency=concurrency)
    return await _write_results(
        client, results, len(ids), out_dir, jsonl, min_level, failed_ids, description, console
    )


async def collect_to(
    client: CalyptiaClient,
    pipelines: Sequence[str],
    *,
    jsonl: JsonLines | None,
    lines: int,
    concurrency: int,
    delete_after: bool,
    min_level: LogLevel | str | None = None,
    failed_ids: FailedIDs | None = None,
    console: Console = error_console,
) -> Failures:
    """Run the bulk job over ``pipelines`` with a progress bar, writing each log as it is read."""
    results = client.pipeline_logs.collect(
        pipelines, lines=lines, concurrency=concurrency, delete_after=delete_after
    )
    return await _write_results(
        client, results, len(pipelines), None, jsonl, min_level, failed_ids, "collecting", console
    )


async def _write_results(
    client: CalyptiaClient,
    results: AsyncGenerator[BulkResult, None] | AsyncGenerator[CollectResult, None],
    total: int,
    out_dir: Path | None,
    jsonl: JsonLines | None,
    min_level: LogLevel | str | None,
    failed_ids: FailedIDs | None,
    description: str,
    console: Console,
) -> Failures:
    failures = Failures()
    started = time.perf_counter()
    async with aclosing(results) as running:
        with fetch_progress(console) as progress:
            task = progress.add_task(description, total=total, rate=0.0, failed=0, limit="")
            async for result in running:
                item_id = result.id if isinstance(result, BulkResult) else result.pipeline_id
                if result.log is None:
                    failures.add(item_id, result.error or CalyptiaError("no log"))
                    if failed_ids is not None:
                        failed_ids.add(item_id)
                elif jsonl is not None:
                    jsonl.write(_lines_of(result.log, min_level))
                elif out_dir is not None:
                    _write_log_file(result.log, min_level, out_dir)
                done = progress.tasks[0].completed + 1
                rate = done / max(time.perf_counter() - started, 1e-9)
                progress.update(
                    task,
                    advance=1,
                    rate=rate,
                    failed=failures.count,
                    limit=rate_limit_text(client.rate_limit),
                )
    return failures


def _lines_of(log: PipelineLog, min_level: LogLevel | str | None) -> list[bytes]:
    """A log's JSON lines: the whole log, or its records at ``min_level`` or above."""
    if min_level is None:
        return [converter.dumps(log)]
    return [record_json(record, log) for record in log.records(min_level=min_level)]


def _write_log_file(log: PipelineLog, min_level: LogLevel | str | None, out_dir: Path) -> None:
    """Write a log's text (or its raw records at ``min_level``) to ``out_dir/<id>.log``."""
    if min_level is None:
        (out_dir / f"{log.id}.log").write_text(log.logs)
        return
    found = list(log.records(min_level=min_level))
    if found:
        (out_dir / f"{log.id}.log").write_text("".join(r.raw + "\n" for r in found))


def rate_limit_text(state: RateLimitState) -> str:
    """The rate limiter in a few words for the progress bar: empty until the first 429."""
    if not state.throttled:
        return ""
    paced = f", paced {state.rate:.0f}/s" if state.rate is not None else ""
    return f"{state.throttled} throttled{paced}"


async def watch_pipeline(
    client: CalyptiaClient,
    pipeline_id: str,
    *,
    interval: float | None,
    duration: float | None,
    existing: bool,
    emit: Callable[[str], None],
    min_level: LogLevel | str | None = None,
    emit_record: Callable[[LogRecord], None] | None = None,
) -> int:
    """Poll a pipeline's newest DONE logs and ``emit`` each one once, oldest first.

    With ``min_level``, each log's header is followed by only its records at
    least that severe, handed to ``emit_record`` (default: their raw text to ``emit``).

    Returns:
        How many logs were emitted.
    """
    seen = RecentKeys(WATCH_REMEMBERED)
    first = True
    emitted = 0
    stop_at = None if duration is None else time.monotonic() + duration
    while True:
        # After the first poll, follow the cursor back to the logs already seen: however
        # many arrived since the last poll, none is dropped (a page holds at most 100).
        fresh, hint = await _new_done_logs(client, pipeline_id, seen, walk=not first)
        if existing or not first:
            for log in reversed(fresh):  # oldest first
                emit(
                    f"--- {log.id} ({log.lines} lines, {converter.format_datetime(log.updated_at)})"
                )
                if min_level is None:
                    emit(log.logs.rstrip("\n"))
                else:
                    for record in log.records(min_level=min_level):
                        (emit_record or (lambda r: emit(r.raw)))(record)
                emitted += 1
        first = False
        wait = interval if interval is not None else (hint or 1000) / 1000
        if stop_at is not None:
            remaining = stop_at - time.monotonic()
            if remaining <= 0:
                return emitted
            wait = min(wait, remaining)
        await asyncio.sleep(wait)

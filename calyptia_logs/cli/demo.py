"""``calyptia-logs demo``: a tour of the library against the embedded fake, with faults."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import aclosing

from rich.table import Table
from rich.text import Text

from calyptia_logs.cli.jobs import fetch_to
from calyptia_logs.cli.records import STYLES
from calyptia_logs.cli.render import console, logs_table
from calyptia_logs.resources import CalyptiaClient
from calyptia_logs.retry import RetryDetails, RetryPolicy
from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud

__all__ = ["run_demo"]


class RetryTally:
    """An ``on_retry`` hook that counts retries by reason."""

    def __init__(self) -> None:
        self.reasons: Counter[str] = Counter()

    def __call__(self, details: RetryDetails) -> None:
        self.reasons[details.reason] += 1

    @property
    def total(self) -> int:
        """All retries so far."""
        return sum(self.reasons.values())


async def run_demo(*, count: int, concurrency: int, fault_rate: float) -> int:
    """Run the tour; return how many bulk items failed (0 on a good day)."""
    # A little latency per answer, as over a network, so requests overlap at the server.
    fake = FakeCalyptiaCloud(fill_delay=0.3, polling_interval_ms=250, latency=0.002, seed=7)
    bulk_pipeline, listed_pipeline = fake.add_pipeline(), fake.add_pipeline()
    live_pipelines = [str(fake.add_pipeline()) for _ in range(3)]
    ids = [str(i) for i in fake.seed_logs(bulk_pipeline, count, lines=10)]
    fake.seed_logs(listed_pipeline, 230, lines=5)
    tally = RetryTally()
    policy = RetryPolicy(max_attempts=5, backoff_initial=0.05, backoff_max=0.5)
    console.rule("[bold]calyptia-logs demo")
    async with run_fake_cloud(fake) as cloud:
        console.print(f"Embedded fake Calyptia Cloud at {cloud.base_url} (no account, no network)")
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            retry=policy,
            on_retry=tally,
            connector_limit=concurrency,
        ) as client:
            await _request_and_wait(client, live_pipelines)
            await _paginate(client, fake, listed_pipeline)
            failed, injected, elapsed = await _bulk_fetch(
                client, fake, ids, concurrency, fault_rate
            )
            _summary(
                fake, client, tally, count=count, failed=failed, injected=injected, elapsed=elapsed
            )
    return failed


async def _request_and_wait(client: CalyptiaClient, pipelines: list[str]) -> None:
    console.rule("1. Collect: request logs, wait until the cluster fills them, clean up")
    started = time.perf_counter()
    # The bulk job: bounded, one result per pipeline as each is ready, requests deleted once read.
    jobs = client.pipeline_logs.collect(pipelines, lines=10, timeout=10, delete_after=True)
    async with aclosing(jobs) as results:
        logs = [result.log async for result in results if result.log is not None]
    waited = time.perf_counter() - started
    # Short IDs on purpose: at 80 columns (or piped) the status and lines must stay whole.
    table = Table(box=None, header_style="bold", expand=False)
    table.add_column("ID", no_wrap=True, min_width=8)
    table.add_column("STATUS", no_wrap=True, min_width=6)
    table.add_column("LINES", no_wrap=True, justify="right", min_width=5)
    table.add_column("FIRST RECORD", no_wrap=True, overflow="ellipsis", ratio=1)
    for log in logs:
        first = next(iter(log.records()), None)
        summary = Text()
        if first is not None:
            if first.level is not None:
                summary.append(first.level.value.upper(), STYLES[first.level])
                summary.append(" ")
            summary.append(first.message.split("\n", 1)[0])
        table.add_row(str(log.id)[:8], log.status.value, str(log.lines), summary)
    console.print(table)
    console.print(
        f"{len(logs)} of {len(pipelines)} pipelines collected in {waited:.2f}s "
        "(created NEW, polled until DONE, read, deleted)"
    )


async def _paginate(client: CalyptiaClient, fake: FakeCalyptiaCloud, pipeline: object) -> None:
    console.rule("2. List with cursor pagination")
    before = fake.request_count
    seen = [log async for log in client.pipeline_logs.iter(str(pipeline), page_size=50)]
    pages = fake.request_count - before
    console.print(logs_table(seen[:5]))
    console.print(f"... {len(seen)} logs in {pages} pages of 50, following endCursor")


async def _bulk_fetch(
    client: CalyptiaClient,
    fake: FakeCalyptiaCloud,
    ids: list[str],
    concurrency: int,
    fault_rate: float,
) -> tuple[int, int, float]:
    """Fetch ``ids`` under injected faults; return (failed, faults injected, seconds)."""
    console.rule(f"3. Bulk-fetch {len(ids)} logs while the server misbehaves")
    fake.inject_transient_faults(fault_rate)
    console.print(
        f"injecting {fault_rate:.0%} transient faults: 503s (some with Retry-After), "
        "connection resets and bodies cut short"
    )
    started = time.perf_counter()
    failures = await fetch_to(
        client,
        ids,
        concurrency=concurrency,
        description="fetch",
        console=console,
    )
    elapsed = time.perf_counter() - started
    injected = sum(rule.hits for rule in fake.rules)
    fake.clear_faults()
    return len(failures), injected, elapsed


def _summary(
    fake: FakeCalyptiaCloud,
    client: CalyptiaClient,
    tally: RetryTally,
    *,
    count: int,
    failed: int,
    injected: int,
    elapsed: float,
) -> None:
    console.rule("Summary")
    table = Table(box=None, show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    reasons = ", ".join(f"{n} {reason}" for reason, n in tally.reasons.most_common())
    rows = [
        ("fetched", f"{count - failed} of {count}"),
        ("failed", str(failed)),
        ("retried", f"{tally.total} ({reasons})" if reasons else "0"),
        ("faults injected", str(injected)),
        ("requests served", str(fake.request_count)),
        ("most in flight at the server", str(fake.max_in_flight)),
        (
            "retry budget left",
            f"{client.retry_budget.available:g} of {client.retry_budget.capacity:g} tokens "
            f"(the {client.retry_budget.retries_granted} retries spent some; "
            "each success refills it)",
        ),
        ("bulk fetch", f"{elapsed:.2f}s, {count / max(elapsed, 1e-9):,.0f} logs/s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    verdict = "every log fetched" if failed == 0 else f"{failed} logs failed"
    console.print(f"[bold {'green' if failed == 0 else 'red'}]{verdict}[/]")

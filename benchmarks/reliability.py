"""Reliability figures: the fault matrix, an outage, and a soak, against the embedded fake.

    python -m benchmarks.reliability [--soak-count N] [--no-write]

Writes ``docs/reliability.md``. The test suite runs the same code
(``tests/test_reliability.py``) and asserts on its outcomes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calyptia_logs import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CalyptiaClient,
    CalyptiaError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    RetryBudget,
    RetryBudgetExhaustedError,
    RetryPolicy,
    ServerError,
)
from calyptia_logs.errors import attempts_text
from calyptia_logs.retry import no_sleep
from calyptia_logs.testing import FakeCalyptiaCloud, Fault, RunningFake, run_fake_cloud

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
ENDPOINTS = ("get", "update", "delete", "create", "list")
#: Per-attempt timeout in the matrix; the slow fault answers after SLOW seconds.
TIMEOUT, SLOW = 0.25, 1.0


@dataclass(frozen=True)
class Case:
    """One row of the fault matrix: a fault, and what a correct client does about it."""

    name: str
    fault: Fault
    transient: bool
    error: type[CalyptiaError] | None = None  # for permanent faults
    status: int | None = None


CASES = (
    Case("503", Fault.http_status(503), transient=True),
    Case("502 HTML page from a proxy", Fault.html(502), transient=True),
    Case("504", Fault.http_status(504), transient=True),
    Case("429, Retry-After seconds", Fault.http_status(429, retry_after=1), transient=True),
    Case(
        "429, Retry-After HTTP date",
        Fault.http_status(429, retry_after="Mon, 01 Jan 2024 00:00:00 GMT"),
        transient=True,
    ),
    Case("429, Retry-After malformed", Fault.http_status(429, retry_after="soon"), transient=True),
    Case(
        "429, Retry-After over the cap",
        Fault.http_status(429, retry_after=3600),
        transient=False,
        error=RateLimitError,
        status=429,
    ),
    Case("connection dropped before headers", Fault.reset(), transient=True),
    Case("connection dropped mid-body", Fault.drop(), transient=True),
    Case("truncated JSON", Fault.truncated(), transient=True),
    Case("invalid JSON with 200", Fault.invalid_json(), transient=True),
    Case("wrong content type", Fault.wrong_content_type(), transient=True),
    Case(f"slow response past the {TIMEOUT}s timeout", Fault.slow(SLOW), transient=True),
    Case("401", Fault.http_status(401, detail="token expired"), False, AuthenticationError, 401),
    Case(
        "403", Fault.http_status(403, detail="not your project"), False, PermissionDeniedError, 403
    ),
    Case("404", Fault.http_status(404, detail="no such log"), False, NotFoundError, 404),
    Case("409", Fault.http_status(409, detail="already DONE"), False, ConflictError, 409),
    Case(
        "400 with detail",
        Fault.http_status(400, detail="lines: must be > 0"),
        False,
        BadRequestError,
        400,
    ),
)


def expected(endpoint: str, case: Case) -> type[CalyptiaError] | None:
    """What a correct client raises for ``case`` on ``endpoint`` (``None``: it survives).

    A create (POST) is retried only when it cannot have reached the server, or
    on 429/503 with ``Retry-After``: any other transient fault is surfaced,
    because retrying could create twice. A truncated answer to a DELETE
    follows a real delete, so the retry finds nothing: a 404, honestly reported.
    """
    if not case.transient:
        return case.error
    if case.name == "wrong content type":
        return None
    if endpoint == "delete" and case.fault.kind == "truncated":
        return NotFoundError
    if endpoint != "create":
        return None
    if (
        case.fault.kind == "status"
        and case.fault.status == 429
        and case.name.endswith(("seconds", "date"))
    ):
        return None
    return {
        "status": ServerError if case.fault.status != 429 else RateLimitError,
        "html": ServerError,
        "reset": APIConnectionError,
        "drop": APIConnectionError,
        "truncated": ResponseDecodeError,
        "invalid_json": ResponseDecodeError,
        "delay": APIConnectionError,  # APITimeoutError, a subclass
    }[case.fault.kind]


@dataclass
class Cell:
    endpoint: str
    case: Case
    outcome: str
    correct: bool
    attempts: int = 0


@dataclass
class Matrix:
    cells: list[Cell] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return len(self.cells)

    @property
    def survived(self) -> int:
        return sum(c.correct and c.outcome.startswith("survived") for c in self.cells)

    @property
    def surfaced(self) -> int:
        return sum(c.correct and not c.outcome.startswith("survived") for c in self.cells)

    @property
    def wrong(self) -> list[Cell]:
        return [c for c in self.cells if not c.correct]


def acquired_connections(client: CalyptiaClient) -> int:
    """Connections checked out of the client's pool (aiohttp keeps them in ``_acquired``)."""
    session = client.transport.session
    connector = session.connector if session is not None else None
    return len(getattr(connector, "_acquired", ()))


async def _call(
    client: CalyptiaClient, endpoint: str, log_id: uuid.UUID, pipeline: uuid.UUID
) -> None:
    logs = client.pipeline_logs
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "get": lambda: logs.get(log_id),
        "update": lambda: logs.update(log_id, lines=5),
        "delete": lambda: logs.delete(log_id),
        "create": lambda: logs.create(pipeline, lines=5),
        "list": lambda: logs.list(pipeline, last=10),
    }
    await calls[endpoint]()


async def run_cell(cloud: RunningFake, client: CalyptiaClient, endpoint: str, case: Case) -> Cell:
    """Inject ``case`` for one call to ``endpoint`` and judge what the client did."""
    cloud.clear_faults()
    pipeline = cloud.add_pipeline()
    (log_id,) = cloud.seed_logs(pipeline, 1)
    # Transient faults hit twice (of four attempts); permanent ones every time.
    cloud.inject(case.fault, times=2 if case.transient else None)
    before = cloud.request_count
    want = expected(endpoint, case)
    try:
        async with asyncio.timeout(10):  # nothing may hang
            await _call(client, endpoint, log_id, pipeline)
    except CalyptiaError as error:
        attempts = error.attempts
        ok = want is not None and isinstance(error, want)
        if ok and isinstance(error, APIStatusError) and case.status is not None:
            ok = error.status == case.status and error.detail == case.fault.detail
        outcome = f"{type(error).__name__} ({attempts_text(attempts)})"
    else:
        attempts = cloud.request_count - before
        ok = want is None
        outcome = f"survived ({attempts_text(attempts)})"
    await asyncio.sleep(0)  # let released connections settle
    if acquired_connections(client):
        ok, outcome = False, outcome + ", a connection left checked out"
    return Cell(endpoint, case, outcome, ok, attempts)


async def fault_matrix() -> Matrix:
    """Every endpoint against every fault of :data:`CASES`."""
    matrix = Matrix()
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=3600)) as cloud:
        policy = RetryPolicy(max_attempts=4, sleep=no_sleep)
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            timeout=TIMEOUT,
            retry=policy,
            retry_budget=RetryBudget.unlimited(),
        ) as client:
            for case in CASES:
                for endpoint in ENDPOINTS:
                    matrix.cells.append(await run_cell(cloud, client, endpoint, case))
    return matrix


@dataclass
class Outage:
    ids: int
    requests_during: int
    budget_retries: int
    failed_fast: int
    failed_other: int
    succeeded: int
    elapsed: float
    recovered: int
    recovered_of: int
    budget_after_recovery: float


async def outage(count: int = 5000, concurrency: int = 32) -> Outage:
    """A get_many of ``count`` IDs while every request fails with 503; then recovery."""
    async with run_fake_cloud() as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), count)
        cloud.inject(Fault.http_status(503), times=None)
        budget = RetryBudget()  # the default: 500 tokens, 5 a retry
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            retry=RetryPolicy(sleep=no_sleep),
            retry_budget=budget,
        ) as client:
            started = time.perf_counter()
            results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=concurrency)]
            elapsed = time.perf_counter() - started
            requests_during = cloud.request_count
            fast = sum(isinstance(r.error, RetryBudgetExhaustedError) for r in results)
            other = sum(
                r.error is not None and not isinstance(r.error, RetryBudgetExhaustedError)
                for r in results
            )
            granted = budget.retries_granted
            cloud.clear_faults()
            later = [
                r async for r in client.pipeline_logs.get_many(ids[:200], concurrency=concurrency)
            ]
        return Outage(
            ids=count,
            requests_during=requests_during,
            budget_retries=granted,
            failed_fast=fast,
            failed_other=other,
            succeeded=sum(r.ok for r in results),
            elapsed=elapsed,
            recovered=sum(r.ok for r in later),
            recovered_of=len(later),
            budget_after_recovery=budget.available,
        )


@dataclass
class Soak:
    count: int
    accounted: int
    duplicates: int
    succeeded: int
    failed: int
    retries: int
    elapsed: float
    rss_mb: list[float]
    fds: list[int]

    @property
    def rss_growth_second_half(self) -> float:
        """RSS at the end minus RSS half way: a leak shows here."""
        return self.rss_mb[-1] - self.rss_mb[len(self.rss_mb) // 2]

    @property
    def fd_growth_second_half(self) -> int:
        """How far the second half's most open descriptors exceed the first half's.

        Connections close and reopen as faults hit them, so the count moves within
        the pool's size; a leak shows as a second half that keeps climbing past it.
        """
        middle = len(self.fds) // 2
        return max(self.fds[middle:]) - max(self.fds[: middle + 1])


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextlib.asynccontextmanager
async def fake_process(count: int, fault_rate: float) -> AsyncIterator[tuple[str, str]]:
    """Run ``calyptia-logs fake-server`` in a separate process; yield its URL and pipeline ID."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from calyptia_logs.cli import main; main()",
        "fake-server",
        "--port",
        "0",
        "--seed-logs",
        str(count),
        "--fault-rate",
        str(fault_rate),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        pipeline = ""
        async with asyncio.timeout(60):
            while True:
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("the fake server exited before listening")
                if match := re.match(r"pipeline (\S+):", line):
                    pipeline = match.group(1)
                if match := re.search(r"listening on (\S+)", line):
                    break
        yield match.group(1), pipeline
    finally:
        process.terminate()
        await process.wait()


async def soak(count: int = 50_000, concurrency: int = 64, fault_rate: float = 0.05) -> Soak:
    """``count`` requests through get_many against a fake in another process, with faults."""
    async with fake_process(count, fault_rate) as (url, pipeline):
        retries = 0

        def on_retry(_: object) -> None:
            nonlocal retries
            retries += 1

        async with CalyptiaClient(
            token="fake-token",
            base_url=url,
            retry=RetryPolicy(max_attempts=6, backoff_initial=0.01, backoff_max=0.1),
            on_retry=on_retry,
        ) as client:
            ids = [log.id async for log in client.pipeline_logs.iter(pipeline, page_size=1000)]
            seen: set[object] = set()
            duplicates = succeeded = failed = 0
            rss, fds = [_rss_mb()], [_fds()]
            every = max(1, len(ids) // 20)
            started = time.perf_counter()
            async for result in client.pipeline_logs.get_many(ids, concurrency=concurrency):
                duplicates += result.id in seen
                seen.add(result.id)
                succeeded += result.ok
                failed += not result.ok
                if len(seen) % every == 0:
                    rss.append(_rss_mb())
                    fds.append(_fds())
            elapsed = time.perf_counter() - started
    return Soak(
        count=len(ids),
        accounted=len(seen),
        duplicates=duplicates,
        succeeded=succeeded,
        failed=failed,
        retries=retries,
        elapsed=elapsed,
        rss_mb=rss,
        fds=fds,
    )


def render(matrix: Matrix, out: Outage, soaked: Soak, soak_command: str) -> str:
    """The reliability page: matrix, outage and soak, with the command that reproduces them."""
    lines = [
        "# Reliability",
        "",
        "Figures from `python -m benchmarks.reliability`"
        f" ({time.strftime('%Y-%m-%d')}), against the embedded fake over real sockets.",
        "The test suite (`tests/test_reliability.py`) runs the same scenarios and asserts on them.",
        "",
        "## Fault matrix",
        "",
        f"Every endpoint against every fault: **{matrix.tried} tried, {matrix.survived} survived, "
        f"{matrix.surfaced} surfaced as the right typed error, {len(matrix.wrong)} wrong.**",
        "Transient faults hit the first two of up to four attempts; permanent ones every attempt.",
        f"The per-attempt timeout is {TIMEOUT}s. After every call no connection is left checked out.",
        "",
        "| fault | " + " | ".join(ENDPOINTS) + " |",
        "|---|" + "---|" * len(ENDPOINTS),
    ]
    for case in CASES:
        cells = [c for c in matrix.cells if c.case is case]
        shown = [("" if c.correct else "WRONG: ") + c.outcome for c in cells]
        lines.append(f"| {case.name} | " + " | ".join(shown) + " |")
    lines += [
        "",
        "A create (POST) is retried only when the request cannot have reached the server, or on",
        "429/503 with `Retry-After`: otherwise retrying could create a second log request, so the",
        "fault is surfaced. A truncated answer to a DELETE follows a real delete: the retry finds",
        "nothing and says so (404).",
        "",
        "## Outage",
        "",
        f"`get_many` over {out.ids:,} IDs while the server answers 503 to everything, with the",
        "default retry budget (500 tokens, 5 per retry):",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| requests sent during the outage | {out.requests_during:,} ({out.ids:,} first attempts "
        f"+ {out.requests_during - out.ids:,} retries) |",
        f"| retries the budget paid for | {out.budget_retries} |",
        f"| items failed fast (`RetryBudgetExhaustedError`) | {out.failed_fast:,} |",
        f"| items failed after their retries (`ServerError`) | {out.failed_other:,} |",
        f"| time to report all {out.ids:,} items | {out.elapsed:.2f}s |",
        f"| after recovery: calls that succeeded | {out.recovered} of {out.recovered_of} |",
        f"| budget after those successes | {out.budget_after_recovery:g} tokens |",
        "",
        "Without a budget the same outage would cost three attempts per item.",
        "",
        "## Soak",
        "",
        f"`{soak_command}`: `get_many` over {soaked.count:,} IDs, concurrency 64, 5% transient",
        "faults (503, 429, resets, cut bodies), against the fake in a separate process.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| items accounted for | {soaked.accounted:,} of {soaked.count:,} ({soaked.duplicates} duplicates) |",
        f"| succeeded / failed | {soaked.succeeded:,} / {soaked.failed:,} |",
        f"| retries | {soaked.retries:,} |",
        f"| time | {soaked.elapsed:.1f}s ({soaked.count / soaked.elapsed:,.0f} items/s) |",
        f"| RSS at start, middle, end | {soaked.rss_mb[0]:.1f} / "
        f"{soaked.rss_mb[len(soaked.rss_mb) // 2]:.1f} / {soaked.rss_mb[-1]:.1f} MB |",
        f"| RSS growth over the second half | {soaked.rss_growth_second_half:+.1f} MB |",
        f"| open file descriptors at start, middle, end, most | {soaked.fds[0]} / "
        f"{soaked.fds[len(soaked.fds) // 2]} / {soaked.fds[-1]} / {max(soaked.fds)} |",
        "",
    ]
    return "\n".join(lines)


async def run_all(soak_count: int) -> str:
    matrix = await fault_matrix()
    print(
        f"fault matrix: {matrix.tried} tried, {matrix.survived} survived, "
        f"{matrix.surfaced} surfaced, {len(matrix.wrong)} wrong",
        flush=True,
    )
    out = await outage()
    print(f"outage: {out.requests_during} requests for {out.ids} items", flush=True)
    soaked = await soak(soak_count)
    print(
        f"soak: {soaked.accounted} of {soaked.count} accounted for in {soaked.elapsed:.1f}s",
        flush=True,
    )
    command = "python -m benchmarks.reliability" + (
        f" --soak-count {soak_count}" if soak_count != 50_000 else ""
    )
    return render(matrix, out, soaked, command)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--soak-count", type=int, default=50_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = asyncio.run(run_all(args.soak_count))
    print(text)
    if not args.no_write:
        DOC.write_text(text)
        print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Bulk work under a server rate limit: goodput, requests per item, 429s, adaptive on and off.

    python -m benchmarks.ratelimit [--rate R] [--burst B] [--items N] [--write]

Against the embedded fake in a process of its own, limited to R requests per
second per token (burst B), each scenario runs with ``adaptive_rate_limit``
on (the default) and off:

* **bulk**: ``get_many`` of N IDs at concurrency 64 on a fresh client;
* **doubling**: ``get_many`` of 2N IDs while the fake doubles R once N/3, N/2
  or 2N/3 have succeeded (three runs: where the raise falls in the limiter's
  cycle of holding and probing decides how soon it is found); the figure is how
  long after the raise the goodput (successes in a sliding second) first reaches
  85 % of the new limit;
* **long**: ``get_many`` of ``--long`` IDs (10,000): the steady state, where
  failed probes of an unchanged limit have become rare;
* **burst**: 200 concurrent ``get()`` calls on a fresh client.

Goodput is successful items per second of wall time, as a share of R;
requests per item and the share of 429s are counted by the client's
``on_response`` hook (every HTTP exchange). Nothing is asserted: the targets
are printed beside the figures. Wall-clock figures drift between runs on a
shared machine; the counts (requests, 429s, failures) much less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from benchmarks.docs import ROOT, write_section
from calyptia_logs import CalyptiaClient, ResponseInfo
from calyptia_logs.testing import FakeCalyptiaCloud, serve_app
from calyptia_logs.testing.fake import Handler

CONCURRENCY = 64
BURST_CALLS = 200
#: How to read the table; the same every run, so written with it.
READING = (
    "Reading it: with the limiter on, the whole client honours each `Retry-After` (the fake "
    "sends 1 s, its smallest whole number), so every throttle costs about a second of "
    "goodput. A fresh client meets one at its first burst (it is dormant until then), and "
    "finding a raised limit takes probing above the old one, which under an unchanged limit "
    "costs another pause: in a 10 s run that is two pauses, about 15 % of it. Probes at the "
    "same level wait longer each time (2 s up to 16 s), so a long run loses less; a raise is "
    "found within a few seconds when it comes while the limiter probes, and later when it "
    "comes during a hold. With the limiter off, the retries of 64 concurrent calls keep "
    "hitting the limit and the retry budget runs out: items are lost."
)


# --- the server: the fake, rate limited, in its own process ----------------------------------


def serve(port_file: str, rate: float, burst: float, items: int, double_after: int) -> None:
    """Run the rate-limited fake; write ``port ids...`` to ``port_file``.

    With ``double_after`` > 0 the rate doubles once that many requests have
    succeeded; the moment (``time.monotonic()``, shared by processes on Linux)
    is written to ``port_file + ".doubled"``.
    """
    fake = FakeCalyptiaCloud(rate_limit=rate, rate_burst=burst, record_limit=1)
    ids = fake.seed_logs(fake.add_pipeline(), items, lines=5)

    @web.middleware
    async def doubling(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if double_after and fake.success_count >= double_after and fake.rate_limit == rate:
            fake.rate_limit = rate * 2
            Path(port_file + ".doubled").write_text(repr(time.monotonic()))
        return response

    async def main() -> None:
        app = fake.app()
        app.middlewares.insert(0, doubling)
        async with serve_app(app) as url:
            port = url.rsplit(":", 1)[1]
            Path(port_file).write_text(" ".join([port, *map(str, ids)]))
            await asyncio.Event().wait()

    asyncio.run(main())


@contextlib.contextmanager
def server(rate: float, burst: float, items: int, double_after: int = 0) -> Iterator[Server]:
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        args = [sys.executable, "-m", "benchmarks.ratelimit", "--serve", str(port_file)]
        args += ["--rate", str(rate), "--burst", str(burst), "--items", str(items)]
        args += ["--double-after", str(double_after)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALYPTIA_")}
        process = subprocess.Popen(args, cwd=ROOT, env=env)
        try:
            deadline = time.monotonic() + 60
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline:
                    raise RuntimeError("the rate-limited fake did not start")
                time.sleep(0.05)
            port, *ids = port_file.read_text().split()
            yield Server(f"http://127.0.0.1:{port}", ids, Path(str(port_file) + ".doubled"))
        finally:
            process.terminate()
            process.wait(timeout=10)


@dataclass
class Server:
    url: str
    ids: list[str]
    doubled_file: Path

    def doubled_at(self) -> float | None:
        return float(self.doubled_file.read_text()) if self.doubled_file.exists() else None


# --- the client side -----------------------------------------------------------------------


@dataclass
class Run:
    items: int
    succeeded: int = 0
    failed: int = 0
    requests: int = 0
    throttled: int = 0
    wall: float = 0.0
    success_times: list[float] = field(default_factory=list)
    final_rate: float | None = None

    def goodput(self) -> float:
        return self.succeeded / self.wall if self.wall else 0.0

    def follow_time(self, doubled_at: float | None, target: float) -> float | None:
        """Seconds from the raise until successes in a sliding second first reach ``target``."""
        if doubled_at is None:
            return None
        times = [t for t in self.success_times if t >= doubled_at]
        start = 0
        for end, when in enumerate(times):
            while times[start] < when - 1.0:
                start += 1
            if when - doubled_at >= 1.0 and end - start + 1 >= target:
                return when - doubled_at
        return None


@contextlib.asynccontextmanager
async def client(url: str, adaptive: bool, run: Run) -> AsyncIterator[CalyptiaClient]:
    def on_response(info: ResponseInfo) -> None:
        run.requests += 1
        run.throttled += info.status == 429

    async with CalyptiaClient(
        token="fake-token",
        base_url=url,
        adaptive_rate_limit=adaptive,
        on_response=on_response,
    ) as c:
        yield c
        run.final_rate = c.rate_limit.rate


async def bulk(url: str, ids: list[str], adaptive: bool) -> Run:
    run = Run(items=len(ids))
    async with client(url, adaptive, run) as c:
        started = time.perf_counter()
        async for result in c.pipeline_logs.get_many(ids, concurrency=CONCURRENCY):
            if result.ok:
                run.succeeded += 1
                run.success_times.append(time.monotonic())
            else:
                run.failed += 1
        run.wall = time.perf_counter() - started
    return run


async def burst(url: str, ids: list[str], adaptive: bool) -> Run:
    run = Run(items=BURST_CALLS)
    async with client(url, adaptive, run) as c:
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(c.pipeline_logs.get(ids[i % len(ids)]) for i in range(BURST_CALLS)),
            return_exceptions=True,
        )
        run.wall = time.perf_counter() - started
    run.failed = sum(isinstance(o, BaseException) for o in outcomes)
    run.succeeded = BURST_CALLS - run.failed
    return run


# --- the report --------------------------------------------------------------------------


def _row(scenario: str, adaptive: bool, run: Run, rate: float, extra: str = "") -> str:
    share = run.goodput() / rate
    per_item = run.requests / run.items if run.items else 0.0
    throttled = run.throttled / run.requests if run.requests else 0.0
    return (
        f"| {scenario} | {'on' if adaptive else 'off'} | {run.failed:,} of {run.items:,} | "
        f"{run.goodput():,.0f}/s ({share:.1%} of R) | {per_item:.2f} | {throttled:.1%} | "
        f"{run.wall:.1f} s | {extra} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--burst", type=float, default=30.0)
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--write", action="store_true", help="write to docs/benchmarks.md")
    parser.add_argument("--long", type=int, default=10_000, help="IDs of the long run")
    parser.add_argument("--only", choices=["bulk", "doubling", "long", "burst"])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--double-after", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.rate, args.burst, args.items, args.double_after)
        return 0
    rate, burst_size, items = args.rate, args.burst, args.items
    rows = []
    for adaptive in (True, False):
        if args.only in (None, "bulk"):
            with server(rate, burst_size, items) as srv:
                run = asyncio.run(bulk(srv.url, srv.ids, adaptive))
            rows.append(_row(f"get_many, {items:,} IDs", adaptive, run, rate))
            print(rows[-1], flush=True)
        if args.only in (None, "doubling"):
            for after in (items // 3, items // 2, 2 * items // 3):
                with server(rate, burst_size, 2 * items, double_after=after) as srv:
                    run = asyncio.run(bulk(srv.url, srv.ids, adaptive))
                    follow = run.follow_time(srv.doubled_at(), 0.85 * 2 * rate)
                shown = "never" if follow is None else f"{follow:.1f} s"
                scenario = f"get_many, {2 * items:,} IDs, R doubles after {after:,}"
                rows.append(_row(scenario, adaptive, run, rate)[:-2] + f"follows in {shown} |")
                print(rows[-1], flush=True)
        if args.only in (None, "long"):
            with server(rate, burst_size, args.long) as srv:
                run = asyncio.run(bulk(srv.url, srv.ids, adaptive))
            rows.append(_row(f"get_many, {args.long:,} IDs", adaptive, run, rate))
            print(rows[-1], flush=True)
        if args.only in (None, "burst"):
            with server(rate, burst_size, 50) as srv:
                run = asyncio.run(burst(srv.url, srv.ids, adaptive))
            rows.append(_row(f"{BURST_CALLS} concurrent get()", adaptive, run, rate))
            print(rows[-1], flush=True)
    text = "\n".join(
        [
            "## Under a rate limit",
            "",
            f"The embedded fake in its own process, limited to R = {rate:g} requests/s per token"
            f" (burst {burst_size:g}); a fresh client per run, concurrency {CONCURRENCY}. "
            "Adaptive is `CalyptiaClient(adaptive_rate_limit=...)`; goodput is successful "
            "items per second of wall time; requests and 429s are counted by the client's "
            "`on_response` hook. Targets with adaptive on: 0 failed items, goodput >= 85 % "
            "of R, <= 1.15 requests per item, a doubled limit followed within about 5 s "
            "(goodput in a sliding second >= 85 % of the new R).",
            "",
            f"- Command: `python -m benchmarks.ratelimit --write` ({time.strftime('%Y-%m-%d')})",
            "",
            "| scenario | adaptive | failed | goodput | requests per item | 429s | wall | |",
            "|---|---|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            READING,
        ]
    )
    print()
    print(text)
    if args.write:
        write_section("ratelimit", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bulk job measured: ``collect`` over many pipelines, and the CLI's memory when items fail.

    python -m benchmarks.bulkjob [--pipelines 1000] [--failing 100000] [--write]

1. ``collect`` over N pipelines against ``calyptia-logs fake-server`` (its own
   process; fill delay 2 s), once unlimited and once at R = 300 requests/s
   (burst 30): wall time, requests per pipeline, failed pipelines, peak RSS of
   the client process. Targets: 0 failed; unlimited, wall <= fill delay + 2 s;
   at R, wall <= 1.15 x (requests / R) + fill delay.
2. ``calyptia-logs fetch`` of M IDs that all fail (404) against M that all
   succeed: peak RSS of the CLI process. Target: failing <= succeeding + 80 MB.

Each measured client runs in a process of its own, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.docs import write_section

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "calyptia_logs.cli"]
FILL_DELAY = 2.0
RATE, BURST = 300.0, 30.0


@contextmanager
def fake_server(*options: str) -> Iterator[tuple[dict[str, str], list[str]]]:
    """A fake-server process; yields its export variables and its pipeline IDs."""
    server = subprocess.Popen(
        [*CLI, "fake-server", "--port", "0", *options], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        pipelines = []
        for line in server.stdout:
            if line.startswith("pipeline "):
                pipelines.append(line.split()[1].rstrip(":"))
            elif line.startswith("export "):
                env = dict(pair.split("=", 1) for pair in line.split()[1:])
                break
        yield env, pipelines
    finally:
        server.terminate()
        server.wait(timeout=30)


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command``; its peak RSS in MB, its wall seconds and its stdout."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = child.stdout.read().decode() if child.stdout else ""
    _, _, usage = os.wait4(child.pid, 0)
    return usage.ru_maxrss / 1024, time.perf_counter() - started, out


# --- 1. collect -------------------------------------------------------------------------------


async def _collect(count_file: str, concurrency: int) -> dict[str, float]:
    from calyptia_logs import CalyptiaClient

    pipelines = Path(count_file).read_text().split()
    exchanges = 0

    def count(_info: object) -> None:
        nonlocal exchanges
        exchanges += 1

    started = time.perf_counter()
    failed = 0
    async with CalyptiaClient(on_response=count, connector_limit=100) as client:
        async for result in client.pipeline_logs.collect(
            pipelines, lines=50, concurrency=concurrency, timeout=120, delete_after=True
        ):
            failed += not result.ok
    return {"wall": time.perf_counter() - started, "requests": exchanges, "failed": failed}


def collect_scenario(pipelines: int, concurrency: int, limited: bool) -> dict[str, float]:
    options = ["--pipelines", str(pipelines), "--seed-logs", "0", "--fill-delay", str(FILL_DELAY)]
    if limited:
        options += ["--rate-limit", str(RATE), "--rate-burst", str(BURST)]
    with fake_server(*options) as (env, ids), tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "pipelines.txt"
        listing.write_text("\n".join(ids))
        code = (
            "import asyncio, json, sys; from benchmarks.bulkjob import _collect; "
            f"print(json.dumps(asyncio.run(_collect({str(listing)!r}, {concurrency}))))"
        )
        rss, _, out = peak_rss_mb([sys.executable, "-c", code], {**os.environ, **env})
    result = json.loads(out)
    result["rss"] = rss
    result["per_pipeline"] = result["requests"] / pipelines
    return result


# --- 2. the CLI's memory when every item fails --------------------------------------------------


async def _listed(env: dict[str, str], pipeline: str) -> list[str]:
    from calyptia_logs import CalyptiaClient

    async with CalyptiaClient(
        token=env["CALYPTIA_CLOUD_TOKEN"], base_url=env["CALYPTIA_CLOUD_URL"]
    ) as client:
        return [str(log.id) async for log in client.pipeline_logs.iter(pipeline, page_size=1000)]


def fetch_memory(count: int) -> dict[str, float]:
    results = {}
    with fake_server("--seed-logs", str(count)) as (exported, pipelines), tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **exported}
        good = Path(tmp) / "good.txt"
        ids = asyncio.run(_listed(env, pipelines[0]))
        good.write_text("\n".join(ids))
        bad = Path(tmp) / "bad.txt"
        bad.write_text("\n".join(str(uuid.uuid4()) for _ in range(count)))
        for name, path in (("succeeding", good), ("failing", bad)):
            command = [*CLI, "fetch", "--ids-file", str(path), "--jsonl", os.devnull,
                       "--concurrency", "64"]
            rss, wall, _ = peak_rss_mb(command, env)
            results[name] = rss
            results[f"{name}_wall"] = wall
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--failing", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="write the tables to docs/")
    args = parser.parse_args(argv)
    rows = []
    for limited in (False, True):
        r = collect_scenario(args.pipelines, args.concurrency, limited)
        bound = (
            1.15 * r["requests"] / RATE + FILL_DELAY if limited else FILL_DELAY + 2
        )
        rows.append(
            f"| {'R = 300/s, burst 30' if limited else 'unlimited'} | {r['wall']:.1f} s | "
            f"{bound:.1f} s | {r['per_pipeline']:.2f} | {r['failed']:.0f} | {r['rss']:.0f} MB |"
        )
        print(rows[-1], flush=True)
    memory = fetch_memory(args.failing)
    print(memory, flush=True)
    when = time.strftime("%Y-%m-%d")
    text = (
        f"## The bulk job\n\n`python -m benchmarks.bulkjob --write` ({when}): `collect` over "
        f"{args.pipelines:,} pipelines of `fake-server` (a process of its own, fill delay "
        f"{FILL_DELAY:g} s), `concurrency={args.concurrency}`, `delete_after=True`, the client in a "
        "process of its own.\n\n"
        "| server | wall | target | requests per pipeline | failed | peak RSS |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
        "Requests per pipeline: a create, the reads until it is `DONE` (every 250 ms, the "
        "fake's `pollingIntervalMs`, jittered), a delete, and one polling-hint lookup per run. "
        "Under the rate limit, the target is 1.15 x (requests / R) + the fill delay.\n\n"
        f"`calyptia-logs fetch` of {args.failing:,} IDs, peak RSS of the CLI process: "
        f"{memory['succeeding']:.0f} MB when every item succeeds ({memory['succeeding_wall']:.0f} s), "
        f"{memory['failing']:.0f} MB when every item fails with a 404 "
        f"({memory['failing_wall']:.0f} s): "
        f"{memory['failing'] - memory['succeeding']:+.0f} MB (target: at most +80 MB). A failed "
        "item is counted and its ID written to `--failed-ids` as it fails; only the first ten "
        "are kept for the summary, and their errors carry no traceback."
    )
    if args.write:
        write_section("bulkjob", text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

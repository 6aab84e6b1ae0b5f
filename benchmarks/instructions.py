"""Instructions per request under valgrind's callgrind: repeatable, so they can gate CI.

    python -m benchmarks.instructions [--only NAMES] [--allocations] [--write]
                                      [--check] [--update-baseline]

Each scenario's client process (benchmarks.workload) runs under callgrind twice,
with SMALL and LARGE request counts, against the canned server in a process of
its own (not measured); the marginal cost per request is the difference over the
difference, so start-up and imports cancel out. Counts repeat far more closely
than CPU seconds (which drift 10-20 % between runs on this machine), though not
exactly: how often the event loop turns depends a little on timing, which moves a
count by up to ~1 % when the machine is busy. Both sides of a ratio move together,
so the gate compares ratios measured in the same run. Ratios are to the *typed floor*: bare aiohttp plus orjson plus a
hand-written slotted dataclass doing the same checks as the library (UUIDs, aware
datetimes, the status enum); a change of Python or aiohttp moves both sides.

``--check`` (CI) measures the gated scenarios and fails when the ratio of
``get()`` or ``get_many()`` to the typed floor is more than 3 % above the
committed baseline (benchmarks/instructions_baseline.json); ``--update-baseline``
rewrites it, a deliberate and reviewed change. ``--allocations`` adds the
blocks allocated per request for the floors, ``get()`` and ``get_many()``,
counted by valgrind's DHAT with PYTHONMALLOC=malloc (every object allocation
then goes through malloc).
Instructions are not time: cache misses and allocations weigh differently, so
docs/benchmarks.md shows instruction ratios beside the CPU-time ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).with_name("instructions_baseline.json")
#: A gated ratio may rise this much above the baseline before CI fails.
TOLERANCE = 0.03
GATED = ("typed floor", "get()", "get_many()")
#: Allocations are counted for these (DHAT is slow: ~2.5 minutes a scenario).
ALLOCATIONS = ("floor", "typed floor", "get()", "get_many()")


@dataclass(frozen=True)
class Scenario:
    name: str
    workload: str
    variant: str
    small: int
    large: int
    concurrency: int
    fault_every: int = 0
    target: str = ""


SCENARIOS = [
    Scenario("floor", "small-get", "floor", 500, 1500, 64),
    Scenario("typed floor", "small-get", "typed-floor", 500, 1500, 64),
    Scenario("get()", "small-get", "get", 500, 1500, 64, target="<= 1.05x"),
    Scenario("get_many()", "small-get", "get_many", 500, 1500, 64, target="<= 1.03x"),
    Scenario("retry path (every 10th a 503)", "retry-path", "get_many", 500, 1500, 64, 10),
    Scenario("create", "small-get", "create", 500, 1500, 64),
    Scenario("update", "small-get", "update", 500, 1500, 64),
    Scenario("list page (20 logs)", "small-get", "list", 200, 600, 16),
    Scenario("large log floor (~11 MB)", "large-get", "typed-floor", 2, 6, 2),
    Scenario("large log get()", "large-get", "get", 2, 6, 2, target="<= 1.00x"),
]


def environment() -> dict[str, str]:
    """The measured processes' environment: no hash randomisation, no stray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALYPTIA_", "PYTHON"))}
    return env | {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


@contextmanager
def canned_server(fault_every: int) -> Iterator[str]:
    """The benchmark server in its own process; yields its base URL."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        args = [sys.executable, "-m", "benchmarks.server", str(port_file)]
        if fault_every:
            args += ["--fault-every", str(fault_every)]
        server = subprocess.Popen(args, cwd=ROOT, env=environment())
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline:
                    raise RuntimeError("the benchmark server did not start")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def _valgrind(tool_args: list[str], command: list[str]) -> str:
    """Run ``command`` under valgrind; return valgrind's own output (stderr)."""
    dhat = "--tool=dhat" in tool_args
    done = subprocess.run(
        # DHAT prints its totals only without --quiet.
        ["valgrind", *([] if dhat else ["--quiet"]), *tool_args, *command],
        cwd=ROOT,
        env=environment() | ({"PYTHONMALLOC": "malloc"} if dhat else {}),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed under valgrind:\n{done.stderr[-2000:]}")
    return done.stderr


def instructions(command: list[str]) -> int:
    """Instructions the process executed (callgrind's total)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        _valgrind(["--tool=callgrind", f"--callgrind-out-file={out}"], command)
        text = out.read_text()
    match = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
    if match is None:
        raise RuntimeError("no total in callgrind's output")
    return int(match.group(1))


def allocations(command: list[str]) -> int:
    """Heap blocks the process allocated in all (DHAT, every object through malloc)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dhat.out"
        report = _valgrind(["--tool=dhat", f"--dhat-out-file={out}"], command)
    match = re.search(r"Total:\s+[\d,]+ bytes in ([\d,]+) blocks", report)
    if match is None:
        raise RuntimeError("no total in DHAT's report")
    return int(match.group(1).replace(",", ""))


def workload(scenario: Scenario, base_url: str, count: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.workload",
        scenario.workload,
        scenario.variant,
        base_url,
        str(count),
        str(scenario.concurrency),
    ]


def marginal(scenario: Scenario, measure: str) -> float:
    """The scenario's cost per request: (large run - small run) / (large - small)."""
    count = instructions if measure == "instructions" else allocations
    with canned_server(scenario.fault_every) as base_url:
        small = count(workload(scenario, base_url, scenario.small))
        large = count(workload(scenario, base_url, scenario.large))
    return (large - small) / (scenario.large - scenario.small)


def import_cost() -> tuple[int, int]:
    """Instructions of ``import aiohttp`` and of importing the client, over a bare start.

    Both from compiled bytecode, as after an install: a stale or missing ``.pyc``
    would add the compiler's work to the import (PYTHONDONTWRITEBYTECODE keeps the
    measured processes from writing their own).
    """
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "calyptia_logs")],
        check=True,
        capture_output=True,
    )
    bare = instructions([sys.executable, "-c", "pass"])
    aiohttp = instructions([sys.executable, "-c", "import aiohttp"]) - bare
    library = (
        instructions([sys.executable, "-c", "from calyptia_logs import CalyptiaClient"]) - bare
    )
    return aiohttp, library


def measure(names: set[str] | None, with_allocations: bool) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for scenario in SCENARIOS:
        if names is not None and scenario.name not in names:
            continue
        started = time.monotonic()
        row = {"instructions": marginal(scenario, "instructions")}
        if with_allocations and scenario.name in ALLOCATIONS:
            row["blocks"] = marginal(scenario, "allocations")
        results[scenario.name] = row
        print(
            f"  {scenario.name}: {row['instructions'] / 1000:,.1f}k instructions per request"
            + (f", {row['blocks']:,.0f} blocks" if "blocks" in row else "")
            + f" ({time.monotonic() - started:.0f}s)",
            flush=True,
        )
    return results


def table(results: dict[str, dict[str, float]], imports: tuple[int, int] | None) -> str:
    typed = results.get("typed floor", {}).get("instructions")
    floor = results.get("floor", {}).get("instructions")
    large_floor = results.get("large log floor (~11 MB)", {}).get("instructions")
    lines = [
        "| scenario | instructions per request | vs floor | vs typed floor | target | blocks per request |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for scenario in SCENARIOS:
        row = results.get(scenario.name)
        if row is None:
            continue
        ir = row["instructions"]
        base = large_floor if scenario.workload == "large-get" else typed
        versus_typed = f"{ir / base:.3f}x" if base else ""
        versus_floor = f"{ir / floor:.3f}x" if floor and scenario.workload != "large-get" else ""
        met = ""
        if scenario.target and base:
            limit = float(scenario.target.split()[1].rstrip("x"))
            met = f"{scenario.target} ({'met' if ir / base <= limit + 1e-9 else 'NOT met'})"
        blocks = f"{row['blocks']:,.0f}" if "blocks" in row else ""
        lines.append(
            f"| {scenario.name} | {ir / 1000:,.1f}k | {versus_floor} | {versus_typed} | {met} | {blocks} |"
        )
    if imports is not None:
        aiohttp, library = imports
        ratio = library / aiohttp
        lines.append(
            f"| from calyptia_logs import CalyptiaClient (vs import aiohttp) | {library / 1e6:,.1f}M (aiohttp "
            f"{aiohttp / 1e6:,.1f}M) | | {ratio:.2f}x of aiohttp | <= 1.25x "
            f"({'met' if ratio <= 1.25 else 'NOT met'}) | |"
        )
    return "\n".join(lines)


def ratios(results: dict[str, dict[str, float]]) -> dict[str, float]:
    typed = results["typed floor"]["instructions"]
    return {name: results[name]["instructions"] / typed for name in ("get()", "get_many()")}


def check(results: dict[str, dict[str, float]]) -> int:
    """Compare the gated ratios with the baseline; 1 on a regression of more than 3 %."""
    if not BASELINE.exists():
        print(f"no baseline at {BASELINE}: run with --update-baseline and commit it")
        return 1
    baseline = json.loads(BASELINE.read_text())
    failed = 0
    for name, ratio in ratios(results).items():
        allowed = baseline["ratios"][name] * (1 + TOLERANCE)
        verdict = "ok" if ratio <= allowed else "REGRESSION"
        failed += verdict != "ok"
        print(
            f"{name}: {ratio:.4f}x the typed floor (baseline {baseline['ratios'][name]:.4f}x, "
            f"allowed up to {allowed:.4f}x): {verdict}"
        )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--allocations", action="store_true", help="also count heap blocks (DHAT)")
    parser.add_argument("--write", action="store_true", help="write the table to docs/")
    parser.add_argument(
        "--check", action="store_true", help="gate get()/get_many() on the baseline"
    )
    parser.add_argument("--update-baseline", action="store_true", help="rewrite the baseline")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    names = set(GATED) if args.check and not args.only else None
    if args.only:
        names = {name.strip() for name in args.only.split(",")}
    print("measuring under callgrind (each run takes a while):", flush=True)
    results = measure(names, args.allocations)
    imports = import_cost() if names is None else None
    print()
    print(table(results, imports))
    if args.update_baseline:
        import aiohttp

        BASELINE.write_text(
            json.dumps(
                {
                    "python": sys.version.split()[0],
                    "aiohttp": aiohttp.__version__,
                    "ratios": {k: round(v, 4) for k, v in ratios(results).items()},
                    "instructions": {k: round(v["instructions"]) for k, v in results.items()},
                },
                indent=2,
            )
            + "\n"
        )
        print(f"\nbaseline written to {BASELINE.relative_to(ROOT)}")
    if args.write:
        _write(table(results, imports))
    return check(results) if args.check else 0


def _write(text: str) -> None:
    from benchmarks.docs import write_section
    from benchmarks.run import machine

    write_section(
        "instructions",
        "## Instructions per request\n\n"
        "The client process under valgrind's callgrind, against the canned server in a process of\n"
        "its own; the cost per request is the difference between runs of two request counts, so\n"
        "start-up and imports cancel out. Unlike CPU seconds, which drift 10-20 % between runs on\n"
        "this machine, these counts repeat closely (within about 1 %: how often the event loop turns\n"
        "depends a little on timing), so CI gates on them: `get()` and `get_many()` may not rise\n"
        "more than 3 % above the committed baseline, as ratios to the *typed floor* (bare\n"
        "aiohttp + orjson + a hand-written slotted dataclass doing the library's checks: UUIDs,\n"
        "aware datetimes, the status enum). Blocks are heap allocations per request (DHAT, with\n"
        "`PYTHONMALLOC=malloc` so that every object counts): fewer objects, less garbage-collector\n"
        "work under load. Instructions are not time; the CPU-time table above is the user-facing\n"
        "figure.\n\n"
        f"- Machine: {machine()}\n"
        f"- Command: `python -m benchmarks.instructions --allocations --write` "
        f"({time.strftime('%Y-%m-%d')})\n\n{text}\n",
    )


if __name__ == "__main__":
    sys.exit(main())

"""How fast Fluent Bit log text becomes records, and how little memory iterating takes.

    python -m benchmarks.records [--lines N] [--repeat K] [--write]

Parses N lines of typical Fluent Bit log output (the embedded fake's: one
record per line, the level, component and message mix of a busy output, in
the shapes Fluent Bit prints), best of K runs, and reports lines per second
for ``parse_records`` alone, with a ``min_level`` filter, and for a bare
``str.split`` + regex loop as a floor. Then the peak memory Python allocates
while iterating (tracemalloc), against the size of the text: iterating keeps
one record, so the peak should not grow with N. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import re
import time
import tracemalloc
from collections.abc import Callable, Iterable

from calyptia_logs import LogLevel, filter_records, parse_records
from calyptia_logs.testing import fluent_bit_lines

TARGET = 500_000  # lines per second, issue 14


def _floor(text: str) -> int:
    """The least a parser does: split lines and match a record pattern on each."""
    pattern = re.compile(r"\[(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\] \[([^\]]*)\]")
    return sum(1 for line in text.split("\n") if pattern.match(line))


def _drain(records: Iterable[object]) -> None:
    for _record in records:
        pass


def _best(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _peak_while_iterating(text: str) -> int:
    """Bytes Python allocated at the peak while consuming every record one by one."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    _drain(parse_records(text))
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write the tables to docs/")
    args = parser.parse_args(argv)
    out: list[str] = []
    text = fluent_bit_lines(args.lines, seed=1)
    lines = text.count("\n")
    rows = [
        ("floor: split + one regex match per line", _best(lambda: _floor(text), args.repeat)),
        ("parse_records, iterated", _best(lambda: _drain(parse_records(text)), args.repeat)),
        (
            "parse_records + filter_records(min_level=warn), iterated",
            _best(
                lambda: _drain(filter_records(parse_records(text), min_level=LogLevel.WARN)),
                args.repeat,
            ),
        ),
        (
            "parse_records into a list (what PipelineLog.records() does)",
            _best(lambda: list(parse_records(text)), args.repeat),
        ),
    ]
    out.append(f"{lines:,} lines, {len(text) / 1e6:.1f} MB of text, best of {args.repeat}\n")
    out.append("| variant | seconds | lines/s | target |")
    out.append("|---|---:|---:|---|")
    for name, seconds in rows:
        target = f">= {TARGET:,}" if name.startswith("parse_records,") else ""
        out.append(f"| {name} | {seconds:.3f} | {lines / seconds:,.0f} | {target} |")
    out.append("")
    out.append("| lines | text (MB) | peak allocated while iterating (MB) |")
    out.append("|---:|---:|---:|")
    for count in (args.lines // 10, args.lines):
        sample = fluent_bit_lines(count, seed=2)
        peak = _peak_while_iterating(sample)
        out.append(f"| {count:,} | {len(sample) / 1e6:.1f} | {peak / 1e6:.2f} |")
    print("\n".join(out))
    if args.write:
        _write("\n".join(out), args)


def _write(tables: str, args: argparse.Namespace) -> None:
    """Put the tables in their section of docs/benchmarks.md."""
    from benchmarks.docs import write_section
    from benchmarks.run import machine

    write_section(
        "records",
        "## Parsing log records\n\n"
        "`parse_records` over typical Fluent Bit log output (the embedded fake's: one record per\n"
        "line, the level, component and message mix of a busy output), against a floor that only\n"
        "splits lines and matches one regular expression per line. Iterated is how the parser is\n"
        "used on large logs; a list is what `PipelineLog.records()` returns (the objects then stay\n"
        "alive, which costs allocation and garbage-collector work on top). Memory is the peak that\n"
        "Python allocates while iterating (tracemalloc): one record and one 64 KiB chunk of lines,\n"
        "whatever the size of the log.\n\n"
        f"- Machine: {machine()}\n"
        f"- Command: `python -m benchmarks.records --lines {args.lines} --repeat {args.repeat} "
        f"--write` ({time.strftime('%Y-%m-%d')})\n\n{tables}\n",
    )

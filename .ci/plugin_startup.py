"""How much the calyptia_logs pytest plugin adds to pytest's start: printed, not asserted.

    python .ci/plugin_startup.py DIR

Runs ``pytest --collect-only -q`` in DIR, alternately with and without the plugin
(``-p no:calyptia_logs``), 15 times each, and prints the medians and their difference.
Wall time on a shared machine drifts; the median of interleaved runs keeps the
difference fair, and the import itself is shown by ``-X importtime``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

directory = sys.argv[1]
runs: dict[bool, list[float]] = {True: [], False: []}
for _ in range(15):
    for with_plugin in (True, False):
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        if not with_plugin:
            command += ["-p", "no:calyptia_logs"]
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=directory,
            capture_output=True,
            check=True,
        )
        runs[with_plugin].append(time.perf_counter() - started)
on, off = statistics.median(runs[True]), statistics.median(runs[False])
print(
    f"pytest start, median of 15: {on * 1000:.0f} ms with the plugin, {off * 1000:.0f} ms without"
)
print(f"the plugin adds {(on - off) * 1000:+.0f} ms")
done = subprocess.run(
    [sys.executable, "-X", "importtime", "-c", "import pytest, calyptia_logs.testing.plugin"],
    capture_output=True,
    text=True,
    check=True,
)
ours = [line for line in done.stderr.splitlines() if "calyptia_logs" in line]
print("import of the plugin (self | cumulative, microseconds):")
print("\n".join(ours))

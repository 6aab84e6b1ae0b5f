"""How much the calyptia_logs pytest plugin adds to pytest's start: printed, not asserted.

    python .ci/plugin_startup.py DIR

Runs ``pytest --collect-only -q`` in DIR, alternately with and without the plugin
(``-p no:calyptia_logs``), 15 times each, and prints the medians (CPU time) and their
difference. CPU time drifts less than wall time on a shared machine, and the median of
interleaved runs keeps the difference fair; the import itself is shown by ``-X importtime``.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys

directory = sys.argv[1]
runs: dict[bool, list[float]] = {True: [], False: []}
for _ in range(15):
    for with_plugin in (True, False):
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        if not with_plugin:
            command += ["-p", "no:calyptia_logs"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=directory,
            capture_output=True,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs[with_plugin].append(cpu)
on, off = statistics.median(runs[True]), statistics.median(runs[False])
print(
    f"pytest start, CPU time, median of 15: {on * 1000:.0f} ms with the plugin, "
    f"{off * 1000:.0f} ms without"
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

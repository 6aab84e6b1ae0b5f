"""The command line as a person sees it: a real pseudo-terminal, 80 columns wide."""

from __future__ import annotations

import os
import re
import sys

import pytest

pexpect = pytest.importorskip("pexpect", reason="pexpect drives a pseudo-terminal (POSIX)")

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b\][^\x07]*\x07")


def screen(*args: str, columns: int = 80, timeout: float = 120) -> list[str]:
    """Run ``calyptia-logs ARGS`` in a pseudo-terminal; return what it showed, line by line."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": "50"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        sys.executable,  # the interpreter running the tests: its venv need not be on PATH
        ["-m", "calyptia_logs.cli", *args],
        dimensions=(50, columns),
        env=env,
        encoding="utf-8",
        timeout=timeout,
    )
    output = child.read()
    child.close()
    assert child.exitstatus == 0, output
    # A progress bar redraws in place (\r, cursor moves): each redraw is a line the person saw.
    return [ANSI.sub("", line) for line in re.split(r"\r\n|\r|\n|\x1b\[\d*A", output)]


def test_the_demo_reads_well_in_an_80_column_terminal() -> None:
    lines = screen("demo", "--logs", "200", "--concurrency", "16")
    first = [line for line in lines if re.match(r"^ ?[0-9a-f]{8}\s+(NEW|DONE)\s+\d+\s", line)]
    assert len(first) == 3, "\n".join(lines)
    assert all(
        re.match(r"^ ?[0-9a-f]{8}\s+DONE\s+(5|10|20)\s+(ERROR|WARN|INFO) ", line) for line in first
    )
    assert not any("…" in line[:30] for line in first)  # ID, status and lines stay whole
    assert any(re.search(r"fetched\s+200 of 200", line) for line in lines)
    budget = next(line for line in lines if "retry budget left" in line)
    assert "refills" in budget or "refills" in lines[lines.index(budget) + 1]
    assert all(len(line) <= 80 for line in lines)


@pytest.mark.parametrize(("answer", "code", "kept"), [("n", 1, True), ("y", 0, False)])
def test_delete_asks_on_the_terminal(answer: str, code: int, kept: bool) -> None:
    from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud_in_thread

    with run_fake_cloud_in_thread(FakeCalyptiaCloud(fill_delay=0)) as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        env = {**os.environ, "CALYPTIA_CLOUD_URL": cloud.base_url, "CALYPTIA_CLOUD_TOKEN": cloud.token}
        env.pop("CALYPTIA_PROJECT_TOKEN", None)
        child = pexpect.spawn(
            sys.executable,
            ["-m", "calyptia_logs.cli", "delete", str(log_id)],
            dimensions=(50, 80),
            env=env,
            encoding="utf-8",
            timeout=60,
        )
        child.expect_exact(f"Delete pipeline log {log_id}? [y/N]: ")
        child.sendline(answer)
        rest = child.read()
        child.close()
        assert child.exitstatus == code, rest
        assert (log_id in cloud.logs) is kept
        if kept:
            assert f"not deleted: {log_id} (declined)" in rest
            assert "Aborted" not in rest


def test_the_progress_line_keeps_done_of_total_at_80_columns_while_throttled(
    tmp_path: object,
) -> None:
    from pathlib import Path

    from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud_in_thread

    fake = FakeCalyptiaCloud(fill_delay=0, rate_limit=200, rate_burst=5)
    with run_fake_cloud_in_thread(fake) as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 400)
        ids_file = Path(str(tmp_path)) / "ids.txt"
        ids_file.write_text("".join(f"{i}\n" for i in ids))
        lines = screen(
            "--url", cloud.base_url, "--token", cloud.token,
            "fetch", "--ids-file", str(ids_file), "--jsonl", os.devnull, "--concurrency", "32",
        )
        assert fake.throttled_count > 0  # it was throttled
    progress = [line for line in lines if line.startswith("fetching")]
    throttled = [line for line in progress if "thro" in line]
    assert throttled, "\n".join(progress)
    for line in progress:
        assert len(line) <= 80
        assert re.search(r" \d+/400 ", line), line  # done/total whole, however narrow
    assert any("400/400" in line for line in progress)

"""The bulk commands as a long job meets them: killed and resumed, failing, repeated, fed a pipeline."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from calyptia_logs.cli.commands import cli
from calyptia_logs.cli.output import JsonLines
from calyptia_logs.models import PipelineLogStatus
from calyptia_logs.testing import FakeCalyptiaCloud, Fault, RunningFake, run_fake_cloud_in_thread

COMMAND = [sys.executable, "-m", "calyptia_logs.cli"]


@pytest.fixture
def cloud() -> Iterator[RunningFake]:
    with run_fake_cloud_in_thread(FakeCalyptiaCloud(fill_delay=0)) as running:
        yield running


def environment(cloud: RunningFake) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALYPTIA_")}
    return env | {"CALYPTIA_CLOUD_URL": cloud.base_url, "CALYPTIA_CLOUD_TOKEN": cloud.token}


@pytest.mark.parametrize("records", [False, True], ids=["logs", "records"])
def test_killed_and_resumed_any_number_of_times_the_output_is_one_runs(
    cloud: RunningFake, tmp_path: Path, records: bool
) -> None:
    pipeline = cloud.add_pipeline()
    ids = cloud.seed_logs(pipeline, 1000, lines=40)
    (tmp_path / "ids.txt").write_text("".join(f"{i}\n" for i in ids))
    level = ["--min-level", "info"] if records else []  # several record lines per log
    base = [*COMMAND, "fetch", "--ids-file", str(tmp_path / "ids.txt"), "--concurrency", "2", *level]
    env = environment(cloud)
    whole = subprocess.run(
        [*base, "--jsonl", str(tmp_path / "whole.jsonl")], env=env, capture_output=True, timeout=300
    )
    assert whole.returncode == 0, whole.stderr
    cloud.inject(Fault.slow(0.01), times=None, method="GET")  # now a job of a few seconds
    out = tmp_path / "out.jsonl"
    rng = random.Random(19)
    kills = 0
    for _ in range(12):  # killed at random points, each time resumed
        child = subprocess.Popen(
            [*base, "--jsonl", str(out), "--resume"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.7, 1.6))
        if child.poll() is not None:
            break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        kills += 1
    done = subprocess.run([*base, "--jsonl", str(out), "--resume"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert kills >= 2  # the job was really interrupted mid-way, more than once
    expected = (tmp_path / "whole.jsonl").read_bytes().splitlines()
    got = out.read_bytes().splitlines()
    assert len(got) == len(expected)  # no duplicate
    assert sorted(got) == sorted(expected)  # no loss, nothing else


def test_resume_drops_a_cut_line_and_the_item_it_may_belong_to(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    lines = [
        b'{"logID":"a","n":1}',
        b'{"logID":"b","n":1}',
        b'{"logID":"b","n":2}',
    ]
    path.write_bytes(b"\n".join(lines) + b'\n{"logID":"b","n')  # killed inside b's third line
    output = JsonLines(path, key="logID", resume=True)
    output.close()
    assert output.done == {"a"}  # b is fetched again, whole
    assert path.read_bytes() == lines[0] + b"\n"


def test_resume_keeps_a_file_that_ended_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id":"a"}\n{"id":"b"}\n')
    output = JsonLines(path, key="id", resume=True)
    output.write([b'{"id":"c"}'])
    output.close()
    assert output.done == {"a", "b"}
    assert path.read_bytes() == b'{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n'


def test_failed_ids_go_to_a_file_that_ids_file_reads_back(cloud: RunningFake, tmp_path: Path) -> None:
    pipeline = cloud.add_pipeline()
    good = [str(i) for i in cloud.seed_logs(pipeline, 3)]
    missing = ["4b1d0c5e-1f7e-4d2a-a0b5-8c1e2f3a4b5c", "5c2e1d6f-2a8f-4e3b-b1c6-9d2f3a4b5c6d"]
    (tmp_path / "ids.txt").write_text("\n".join([*good, *missing, "not-an-id"]) + "\n")
    runner = CliRunner()
    base = ["--url", cloud.base_url, "--token", cloud.token, "fetch"]
    result = runner.invoke(
        cli,
        [*base, "--ids-file", str(tmp_path / "ids.txt"), "--jsonl", str(tmp_path / "out.jsonl"),
         "--failed-ids", str(tmp_path / "failed.txt")],
    )
    assert result.exit_code == 1
    assert f"3 of {len(good) + 3} failed" in result.stderr
    assert f"every failed ID is in {tmp_path / 'failed.txt'}" in result.stderr
    failed = (tmp_path / "failed.txt").read_text().split()
    assert sorted(failed) == sorted([*missing, "not-an-id"])
    again = runner.invoke(
        cli, [*base, "--ids-file", str(tmp_path / "failed.txt"), "--jsonl", os.devnull]
    )
    assert "3 of 3 failed" in again.stderr  # read back as IDs, every one of them


def test_repeated_ids_are_fetched_once_and_counted(cloud: RunningFake) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    before = cloud.request_count
    result = CliRunner().invoke(
        cli,
        ["--url", cloud.base_url, "--token", cloud.token, "fetch", str(log_id),
         str(log_id).upper(), str(log_id), "--jsonl", "-"],
    )
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert cloud.request_count - before == 1
    assert "2 repeated IDs fetched once" in result.stderr


def test_fetch_pipeline_lists_and_fetches_its_logs(cloud: RunningFake) -> None:
    pipeline = cloud.add_pipeline()
    done = {str(i) for i in cloud.seed_logs(pipeline, 30)}
    cloud.seed_logs(pipeline, 5, status=PipelineLogStatus.NEW)
    result = CliRunner().invoke(
        cli,
        ["--url", cloud.base_url, "--token", cloud.token, "fetch", "--pipeline", str(pipeline),
         "--status", "done", "--jsonl", "-"],
    )
    assert result.exit_code == 0, result.stderr
    assert {json.loads(line)["id"] for line in result.stdout.splitlines()} == done


def test_collect_writes_each_pipelines_log_and_resumes_past_them(
    cloud: RunningFake, tmp_path: Path
) -> None:
    pipelines = [str(cloud.add_pipeline()) for _ in range(6)]
    (tmp_path / "pipelines.txt").write_text("\n".join(pipelines[:4]) + "\n")
    out = tmp_path / "out.jsonl"
    base = ["--url", cloud.base_url, "--token", cloud.token, "collect", "--lines", "5"]
    first = CliRunner().invoke(
        cli, [*base, "--pipelines-file", str(tmp_path / "pipelines.txt"), "--jsonl", str(out),
              "--delete-after"]
    )
    assert first.exit_code == 0, first.stderr
    logs = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(log["pipelineID"] for log in logs) == sorted(pipelines[:4])
    assert all(log["status"] == "DONE" and log["lines"] == 5 for log in logs)
    assert not cloud.fake.logs  # deleted once read
    resumed = CliRunner().invoke(
        cli, [*base, *[f"--pipeline={p}" for p in pipelines], "--jsonl", str(out), "--resume"]
    )
    assert resumed.exit_code == 0, resumed.stderr
    assert "4 already in the output (--resume): skipped" in resumed.stderr
    logs = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(log["pipelineID"] for log in logs) == sorted(pipelines)


def test_collect_with_a_bad_token_fails_fast(cloud: RunningFake) -> None:
    pipelines = [str(cloud.add_pipeline()) for _ in range(50)]
    args = [f"--pipeline={p}" for p in pipelines]
    result = CliRunner().invoke(
        cli,
        ["--url", cloud.base_url, "--token", "wrong", "collect", *args, "--concurrency", "4",
         "--jsonl", os.devnull],
    )
    assert result.exit_code == 1
    assert "50 of 50 failed: 50 AuthenticationError" in result.stderr
    assert cloud.request_count <= 4

"""The command line, through click's runner, against the fake served from a thread."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from calyptia_logs.cli.commands import cli
from calyptia_logs.models import PipelineLogStatus
from calyptia_logs.testing import FakeCalyptiaCloud, Fault, RunningFake, run_fake_cloud_in_thread


@pytest.fixture
def cloud() -> Iterator[RunningFake]:
    with run_fake_cloud_in_thread(FakeCalyptiaCloud(fill_delay=0)) as running:
        yield running


def invoke(cloud: RunningFake, *args: str, token: str | None = None, **kwargs: object) -> Result:
    runner = CliRunner()
    base = ["--url", cloud.base_url, "--token", token or cloud.token]
    return runner.invoke(cli, [*base, *args], catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


def test_get_prints_the_logs_text(cloud: RunningFake) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1, lines=3)
    result = invoke(cloud, "get", str(log_id))
    assert result.exit_code == 0
    assert result.stdout == cloud.logs[log_id].logs
    assert result.stdout.count("\n") == 3


def test_get_json_prints_the_whole_object(cloud: RunningFake) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    result = invoke(cloud, "get", str(log_id), "--json")
    doc = json.loads(result.stdout)
    assert doc["id"] == str(log_id)
    assert doc["status"] == "DONE"


def test_not_found_is_one_line_on_stderr_and_exit_1(cloud: RunningFake) -> None:
    result = invoke(cloud, "get", str(uuid.uuid4()))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: 404 pipeline log not found")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_id_is_a_usage_error(cloud: RunningFake) -> None:
    result = invoke(cloud, "get", "../etc/passwd")
    assert result.exit_code == 2
    assert "is not a UUID" in result.stderr
    assert cloud.request_count == 0


def test_bad_token_is_an_authentication_error(cloud: RunningFake) -> None:
    result = invoke(cloud, "get", str(uuid.uuid4()), token="wrong")
    assert result.exit_code == 1
    assert "401 unauthorized" in result.stderr
    assert "wrong" not in result.stderr


def test_missing_token_is_a_usage_error(
    cloud: RunningFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALYPTIA_CLOUD_TOKEN", raising=False)
    monkeypatch.delenv("CALYPTIA_PROJECT_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["--url", cloud.base_url, "get", str(uuid.uuid4())])
    assert result.exit_code == 2
    assert "no credentials" in result.stderr


def test_token_and_url_come_from_the_environment(cloud: RunningFake) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    env = {"CALYPTIA_CLOUD_TOKEN": cloud.token, "CALYPTIA_CLOUD_URL": cloud.base_url}
    result = CliRunner().invoke(cli, ["get", str(log_id)], env=env)
    assert result.exit_code == 0
    assert cloud.requests[-1].headers["Authorization"] == f"Bearer {cloud.token}"


def test_list_shows_a_table_newest_first(cloud: RunningFake) -> None:
    pipeline = cloud.add_pipeline()
    ids = cloud.seed_logs(pipeline, 3)
    result = invoke(cloud, "list", "--pipeline", str(pipeline))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "LINES", "AGE"]
    assert [line.split()[0] for line in lines[1:]] == [str(i) for i in reversed(ids)]


def test_list_last_and_status(cloud: RunningFake) -> None:
    pipeline = cloud.add_pipeline()
    cloud.seed_logs(pipeline, 2, status=PipelineLogStatus.NEW)
    cloud.seed_logs(pipeline, 5)
    result = invoke(cloud, "list", "--pipeline", str(pipeline), "--last", "3", "--status", "done")
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 3
    assert all(row.split()[1] == "DONE" for row in rows)


def test_create_prints_the_new_id_and_wait_prints_logs(cloud: RunningFake) -> None:
    pipeline = cloud.add_pipeline()
    result = invoke(cloud, "create", "--pipeline", str(pipeline), "--lines", "4", "--wait")
    assert result.exit_code == 0
    first, *log_lines = result.stdout.splitlines()
    assert uuid.UUID(first) in cloud.logs
    assert len(log_lines) == 4


def test_update_status_lines_and_logs_file(cloud: RunningFake, tmp_path: Path) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    text = tmp_path / "logs.txt"
    text.write_text("hello\n")
    result = invoke(
        cloud, "update", str(log_id), "--status", "NEW", "--lines", "9", "--logs-file", str(text)
    )
    assert result.exit_code == 0
    assert result.stdout.startswith(f"updated {log_id} at ")
    log = cloud.logs[log_id]
    assert (log.status, log.lines, log.logs) == (PipelineLogStatus.NEW, 9, "hello\n")


def test_update_with_nothing_to_change_is_a_usage_error(cloud: RunningFake) -> None:
    result = invoke(cloud, "update", str(uuid.uuid4()))
    assert result.exit_code == 2
    assert "nothing to update" in result.stderr


def test_delete_yes_skips_the_question(cloud: RunningFake) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    result = invoke(cloud, "delete", str(log_id), "-y")
    assert (result.exit_code, result.stdout) == (0, f"deleted {log_id}\n")


def test_watch_prints_each_new_done_log_once(cloud: RunningFake) -> None:
    pipeline = cloud.add_pipeline()
    old = cloud.seed_logs(pipeline, 2)
    result = invoke(
        cloud,
        "watch",
        "--pipeline",
        str(pipeline),
        "--interval",
        "0.01",
        "--duration",
        "0.1",
        "--existing",
    )
    assert result.exit_code == 0
    headers = [line for line in result.stdout.splitlines() if line.startswith("--- ")]
    assert [h.split()[1] for h in headers] == [str(i) for i in old]


def test_watch_without_existing_prints_only_new_ones(cloud: RunningFake) -> None:
    pipeline = cloud.add_pipeline()
    cloud.seed_logs(pipeline, 2)
    result = invoke(
        cloud, "watch", "--pipeline", str(pipeline), "--interval", "0.01", "--duration", "0.05"
    )
    assert result.exit_code == 0
    assert result.stdout == ""


def test_fetch_to_a_directory(cloud: RunningFake, tmp_path: Path) -> None:
    ids = cloud.seed_logs(cloud.add_pipeline(), 20)
    out = tmp_path / "out"
    result = invoke(cloud, "fetch", *map(str, ids), "--out", str(out), "--concurrency", "4")
    assert result.exit_code == 0
    assert sorted(p.stem for p in out.iterdir()) == sorted(str(i) for i in ids)
    assert (out / f"{ids[0]}.log").read_text() == cloud.logs[ids[0]].logs
    assert "20/20" in result.stderr


def test_fetch_shows_the_rate_limit_in_its_progress_bar(cloud: RunningFake, tmp_path: Path) -> None:
    ids = cloud.seed_logs(cloud.add_pipeline(), 20, lines=1)
    # Retry-After: 0 keeps the test from pausing; the quota sets the paced rate.
    cloud.inject(Fault.http_status(429, retry_after=0, fields={"quotaLimit": 500}), times=1)
    result = invoke(cloud, "fetch", *map(str, ids), "--jsonl", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0
    assert "20/20" in result.stderr
    assert "1 throttled, paced 495/s" in result.stderr


def test_fetch_jsonl_from_an_ids_file_reports_failures(cloud: RunningFake, tmp_path: Path) -> None:
    ids = cloud.seed_logs(cloud.add_pipeline(), 10)
    missing = uuid.uuid4()
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join([*map(str, ids), str(missing), "garbage", ""]))
    out = tmp_path / "logs.jsonl"
    cloud.inject(Fault.http_status(503), times=3)  # transient: retried away
    result = invoke(cloud, "fetch", "--ids-file", str(ids_file), "--jsonl", str(out))
    assert result.exit_code == 1
    written = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(written) == sorted(str(i) for i in ids)
    assert "2 of 12 failed" in result.stderr
    assert "1 NotFoundError" in result.stderr
    assert "1 InvalidIDError" in result.stderr
    assert str(missing) in result.stderr


def test_fetch_needs_exactly_one_output(cloud: RunningFake, tmp_path: Path) -> None:
    result = invoke(cloud, "fetch", str(uuid.uuid4()))
    assert result.exit_code == 2
    assert "exactly one of --out" in result.stderr


def test_debug_shows_the_traceback(cloud: RunningFake) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--debug", "--url", cloud.base_url, "--token", cloud.token, "get", str(uuid.uuid4())]
    )
    assert result.exit_code == 1
    assert result.exc_info is not None
    assert type(result.exception).__name__ == "NotFoundError"


def test_demo_runs_the_tour_against_the_embedded_fake() -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--logs", "300", "--concurrency", "16"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "fetched" in result.stdout
    assert "300 of 300" in result.stdout
    assert "every log fetched" in result.stdout


async def test_watch_prints_every_log_that_arrived_between_two_polls() -> None:
    import asyncio

    from calyptia_logs import CalyptiaClient
    from calyptia_logs.cli.jobs import watch_pipeline
    from calyptia_logs.testing import run_fake_cloud

    async with run_fake_cloud() as cloud:
        pipeline = cloud.add_pipeline()
        cloud.seed_logs(pipeline, 5)  # there before the watch: not printed
        lines: list[str] = []
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            watching = asyncio.create_task(
                watch_pipeline(
                    client, str(pipeline), interval=0.3, duration=0.5, existing=False, emit=lines.append
                )
            )
            await asyncio.sleep(0.1)  # the first poll has run
            arrived = cloud.seed_logs(pipeline, 150)  # more than one page, within one interval
            printed = await watching
        headers = [line.split()[1] for line in lines if line.startswith("--- ")]
        assert printed == 150
        assert headers == [str(log_id) for log_id in arrived]  # each once, oldest first

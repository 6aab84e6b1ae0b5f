"""The command line's records: ``records``, ``fetch --min-level`` and ``watch --min-level``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import attrs
import pytest

from calyptia_logs.testing import FakeCalyptiaCloud, RunningFake, run_fake_cloud_in_thread
from tests.test_cli import invoke

SAMPLE = (Path(__file__).parent / "samples" / "fluent_bit" / "v2.2_es_errors.log").read_text()


@pytest.fixture
def cloud() -> Iterator[RunningFake]:
    with run_fake_cloud_in_thread(FakeCalyptiaCloud(fill_delay=0)) as running:
        yield running


def with_sample(cloud: RunningFake, count: int = 1) -> tuple[UUID, list[UUID]]:
    """A pipeline whose logs hold the es-errors sample."""
    pipeline = cloud.add_pipeline()
    ids = cloud.seed_logs(pipeline, count)
    for log_id in ids:
        cloud.fake.logs[log_id] = attrs.evolve(cloud.fake.logs[log_id], logs=SAMPLE)
    return pipeline, ids


def test_records_prints_every_record_as_written(cloud: RunningFake) -> None:
    _, (log_id,) = with_sample(cloud)
    result = invoke(cloud, "records", str(log_id))
    assert result.exit_code == 0
    assert result.stdout == "".join(line + "\n" for line in SAMPLE.splitlines() if line.strip())
    assert "\x1b[" not in result.stdout  # no colour when not a terminal


def test_records_filters_by_level_component_since_and_grep(cloud: RunningFake) -> None:
    _, (log_id,) = with_sample(cloud)
    errors = invoke(cloud, "records", str(log_id), "--min-level", "error").stdout.splitlines()
    assert [line[:30] for line in errors if line.startswith("[")] == [
        "[2024/02/07 10:24:51] [error] ",
        "[2024/02/07 10:24:52] [error] ",
    ]
    es = invoke(
        cloud, "records", str(log_id), "--component", "output:es:*", "--min-level", "WARNING"
    )
    assert es.stdout.count("[error] [output:es:es.0]") == 2
    late = invoke(cloud, "records", str(log_id), "--since", "2024-02-07T10:24:58")
    assert [line[:21] for line in late.stdout.splitlines()] == [
        "[2024/02/07 10:24:58]",
        "[2024/02/07 10:25:00]",
    ]
    window = invoke(
        cloud,
        "records",
        str(log_id),
        "--since",
        "2024-02-07T10:24:51",
        "--until",
        "2024-02-07T10:24:52",
    )
    assert [line[:21] for line in window.stdout.splitlines() if line.startswith("[")] == [
        "[2024/02/07 10:24:51]",
        "[2024/02/07 10:24:51]",
    ]
    grep = invoke(cloud, "records", str(log_id), "--grep", r"status=\d+ URI")
    assert grep.stdout.splitlines()[0].endswith("HTTP status=400 URI=/_bulk, response:")


def test_records_json_lines_carry_the_log_and_pipeline(cloud: RunningFake) -> None:
    pipeline, (log_id,) = with_sample(cloud)
    result = invoke(cloud, "records", str(log_id), "--min-level", "warn", "--json")
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["line"] for d in docs] == [9, 11, 12, 15, 16]
    assert {d["logID"] for d in docs} == {str(log_id)}
    assert {d["pipelineID"] for d in docs} == {str(pipeline)}
    assert docs[0]["level"] == "error"
    assert docs[0]["component"] == "output:es:es.0"
    assert docs[0]["time"] == "2024-02-07T10:24:51+00:00"


def test_records_tz_reads_the_times_in_that_zone(cloud: RunningFake) -> None:
    _, (log_id,) = with_sample(cloud)
    result = invoke(
        cloud, "records", str(log_id), "--json", "--tz", "Asia/Tokyo", "--min-level", "error"
    )
    assert json.loads(result.stdout.splitlines()[0])["time"] == "2024-02-07T10:24:51+09:00"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--min-level", "fatal"], "'fatal' is not one of"),
        (["--since", "yesterday"], "neither a duration"),
        (["--tz", "Mars/Base"], "unknown time zone"),
        (["--grep", "("], "invalid regular expression"),
    ],
)
def test_records_bad_options_are_usage_errors(
    cloud: RunningFake, args: list[str], says: str
) -> None:
    _, (log_id,) = with_sample(cloud)
    result = invoke(cloud, "records", str(log_id), *args)
    assert result.exit_code == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_records_of_a_new_log_says_so(cloud: RunningFake) -> None:
    from calyptia_logs.models import PipelineLogStatus

    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1, status=PipelineLogStatus.NEW)
    result = invoke(cloud, "records", str(log_id))
    assert result.exit_code == 0
    assert "still NEW" in result.stderr


def test_fetch_min_level_writes_only_matching_records(cloud: RunningFake, tmp_path: Path) -> None:
    pipeline, ids = with_sample(cloud, 3)
    out = tmp_path / "errors.jsonl"
    result = invoke(cloud, "fetch", *map(str, ids), "--jsonl", str(out), "--min-level", "error")
    assert result.exit_code == 0
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(docs) == 3 * 2
    assert {d["logID"] for d in docs} == {str(i) for i in ids}
    assert {d["pipelineID"] for d in docs} == {str(pipeline)}
    assert {d["level"] for d in docs} == {"error"}


def test_fetch_min_level_to_a_directory_keeps_raw_lines(cloud: RunningFake, tmp_path: Path) -> None:
    _, (log_id,) = with_sample(cloud)
    result = invoke(cloud, "fetch", str(log_id), "--out", str(tmp_path), "--min-level", "warn")
    assert result.exit_code == 0
    text = (tmp_path / f"{log_id}.log").read_text()
    assert [line[22:29] for line in text.splitlines() if line.startswith("[")] == [
        "[error]",
        "[ warn]",
        "[error]",
        "[ warn]",
        "[warnin",
    ]
    assert '    {"error":{"root_cause"' in text  # the continuation, unchanged


def test_watch_min_level_prints_only_matching_records(cloud: RunningFake) -> None:
    pipeline, _ = with_sample(cloud, 2)
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
        "--min-level",
        "error",
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert sum(line.startswith("--- ") for line in lines) == 2
    assert sum("[error]" in line for line in lines) == 4
    assert not any("[ info]" in line for line in lines)


def test_levels_are_coloured_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from calyptia_logs import parse_records
    from calyptia_logs.cli.records import record_text

    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, color_system="standard", width=300)
    for record in parse_records(SAMPLE):
        terminal.print(record_text(record), soft_wrap=True)
    text = out.getvalue()
    assert "\x1b[1;31m[error]\x1b[0m" in text  # bold red
    assert "\x1b[33m[ warn]\x1b[0m" in text  # yellow
    assert "\x1b[33m[warning]\x1b[0m" in text
    assert "[output:es:es.0]" in text  # brackets in the text are not taken as markup

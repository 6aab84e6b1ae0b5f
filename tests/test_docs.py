"""Every example in README.md and docs/ works as a user would copy it.

Each ```python block runs as a file of its own, unchanged, in a fresh process,
against a real ``calyptia-logs fake-server`` process started with its defaults,
through the ``CALYPTIA_CLOUD_URL`` and ``CALYPTIA_CLOUD_TOKEN`` of the export
line it prints, as a reader would (the pipeline ``9b2c0e8a-...`` that the
examples use is its first pipeline, with some logs). Blocks fenced as ```py need a package not installed
here (uvloop, prometheus_client, OpenTelemetry, pytest fixtures): they are compiled
and, where mypy is installed, type-checked. The ``$ calyptia-logs`` lines of the CLI
page run too.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud_in_thread
from calyptia_logs.testing.mocking import aioresponses_problem

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PYTHON = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
ILLUSTRATION = re.compile(r"^```py\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: The pipeline the examples use.
PIPELINE_ID = "9b2c0e8a-1d4f-4c5e-8f3a-6b7d2e1c0a9f"


def blocks(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return [
        (f"{page.name}[{index}]", source)
        for page in PAGES
        for index, source in enumerate(pattern.findall(page.read_text()))
    ]


def test_the_docs_have_runnable_examples() -> None:
    pages = {name.split("[")[0] for name, _ in blocks(PYTHON)}
    assert {
        "README.md",
        "index.md",
        "retries.md",
        "errors.md",
        "bulk.md",
        "testing.md",
        "pagination.md",
        "records.md",
    } <= pages


@pytest.fixture(scope="module")
def fake_server() -> Iterator[dict[str, str]]:
    """``calyptia-logs fake-server``, as the docs tell a reader to start it; its export line.

    One process, with its defaults (only the port is picked free), for every example:
    what a reader who follows the docs has running.
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "calyptia_logs.cli", "fake-server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        assert PIPELINE_ID in lines[0], lines
        export = next(line for line in lines if line.startswith("export "))
        yield dict(pair.split("=", 1) for pair in shlex.split(export)[1:])
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


@pytest.mark.parametrize(("name", "source"), blocks(PYTHON), ids=[n for n, _ in blocks(PYTHON)])
def test_every_example_runs_as_its_own_file_against_fake_server(
    name: str, source: str, tmp_path: Path, fake_server: dict[str, str]
) -> None:
    script = tmp_path / "example.py"
    script.write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALYPTIA_")}
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env | fake_server,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, f"{name}:\n{done.stderr}"
    if "aioresponses_problem()" in source:
        # The aioresponses recipe runs its tests where aioresponses can (aiohttp < 3.14).
        expected = "both passed" if aioresponses_problem() is None else "skipped:"
        assert expected in done.stdout, f"{name}:\n{done.stdout}"


@pytest.mark.parametrize(
    ("name", "source"), blocks(ILLUSTRATION), ids=[n for n, _ in blocks(ILLUSTRATION)]
)
def test_illustrations_compile(name: str, source: str) -> None:
    compile(source, name, "exec")


def test_illustrations_type_check(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is in the dev extra")
    files = []
    for index, (_name, source) in enumerate(blocks(ILLUSTRATION)):
        files.append(tmp_path / f"illustration_{index}.py")
        files[-1].write_text(source)
    out, err, status = api.run(
        [
            "--ignore-missing-imports",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            *map(str, files),
        ]
    )
    assert status == 0, out + err


CLI_LINE = re.compile(r"^\$ calyptia-logs (.+?)(?:\s+#.*)?$", re.MULTILINE)
SAMPLE_ID = "7b0c6a55-1f7e-4d2a-a0b5-8c1e2f3a4b5c"


def cli_examples() -> list[str]:
    """The ``$ calyptia-logs ...`` lines of the CLI page that run to completion by themselves."""
    lines = CLI_LINE.findall((DOCS / "cli.md").read_text())
    # fake-server runs until stopped, and pipes need a shell: those are shown, not run. A delete
    # that asks needs a terminal: tests/test_cli_terminal.py answers it in a pseudo-terminal.
    return [
        line
        for line in lines
        if not line.startswith(("fake-server", "demo"))
        and "|" not in line
        and not (line.startswith("delete") and "-y" not in line.split())
    ]


def test_the_cli_page_shows_every_command() -> None:
    from calyptia_logs.cli.commands import cli

    shown = {line.split()[0] for line in CLI_LINE.findall((DOCS / "cli.md").read_text())}
    assert shown == set(cli.commands)


@pytest.mark.parametrize("line", cli_examples())
def test_cli_examples_run(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    from click.testing import CliRunner

    from calyptia_logs.cli.commands import cli

    with run_fake_cloud_in_thread(FakeCalyptiaCloud(fill_delay=0)) as cloud:
        pipeline = cloud.add_pipeline()
        cloud.seed_logs(pipeline, 5)
        (log_id,) = cloud.seed_logs(pipeline, 1)
        monkeypatch.chdir(tmp_path)
        (tmp_path / "logs.txt").write_text("new text\n")
        (tmp_path / "ids.txt").write_text(f"{log_id}\n")
        (tmp_path / "failed.txt").write_text(f"{log_id}\n")  # as a run with a failure left it
        args = [
            str(pipeline) if arg == "P" else str(log_id) if arg == SAMPLE_ID else arg
            for arg in shlex.split(line)
        ]
        env = {"CALYPTIA_CLOUD_URL": cloud.base_url, "CALYPTIA_CLOUD_TOKEN": cloud.token}
        result = CliRunner().invoke(
            cli,
            [*args, *(["--duration", "0.05"] if args[0] == "watch" else [])],
            env=env,
            input="y\n",
        )
    assert result.exit_code == 0, result.output

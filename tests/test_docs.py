"""Every ```python example in docs/ runs, in order, page by page, against the embedded fake.

Each page gets a fresh fake (served from a thread) and a namespace shared by its
examples, like a notebook. The page may use, without setting them up: ``cloud``
(the running fake), ``pipeline_id`` and ``log_id`` (a seeded pipeline and log),
``asyncio``, ``CalyptiaClient``, ``RetryPolicy``, ``PipelineLogStatus``, and an
environment where ``CalyptiaClient()`` finds the fake. Top-level ``await`` works.
Blocks fenced as ```py are illustrations that need something not installed here
(uvloop, prometheus_client, OpenTelemetry, a real account) and are not run.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from calyptia_logs import CalyptiaClient, PipelineLogStatus, RetryPolicy
from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud_in_thread

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples(page: Path) -> list[str]:
    return FENCE.findall(page.read_text())


PAGES = [page for page in sorted(DOCS.glob("*.md")) if examples(page)]


def test_the_docs_have_runnable_examples() -> None:
    names = {page.name for page in PAGES}
    assert {
        "index.md",
        "retries.md",
        "errors.md",
        "bulk.md",
        "testing.md",
        "pagination.md",
    } <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A page's examples may change the environment (configuration.md does): keep it to the page.
    with (
        mock.patch.dict(os.environ),
        run_fake_cloud_in_thread(FakeCalyptiaCloud(fill_delay=0.05)) as cloud,
    ):
        pipeline = cloud.add_pipeline()
        (log_id,) = cloud.seed_logs(pipeline, 1)
        monkeypatch.setenv("CALYPTIA_CLOUD_URL", cloud.base_url)
        monkeypatch.setenv("CALYPTIA_CLOUD_TOKEN", cloud.token)
        monkeypatch.delenv("CALYPTIA_PROJECT_TOKEN", raising=False)
        namespace: dict[str, Any] = {
            "__name__": f"docs.{page.stem}",
            "asyncio": asyncio,
            "CalyptiaClient": CalyptiaClient,
            "PipelineLogStatus": PipelineLogStatus,
            "RetryPolicy": RetryPolicy,
            "cloud": cloud,
            "pipeline_id": str(pipeline),
            "log_id": str(log_id),
        }
        for index, source in enumerate(examples(page)):
            code = compile(
                source, f"{page.name}[{index}]", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
            result = eval(code, namespace)  # noqa: S307 - our own documentation
            if inspect.iscoroutine(result):
                asyncio.run(result)


CLI_LINE = re.compile(r"^\$ calyptia-logs (.+?)(?:\s+#.*)?$", re.MULTILINE)
SAMPLE_ID = "7b0c6a55-1f7e-4d2a-a0b5-8c1e2f3a4b5c"


def cli_examples() -> list[str]:
    """The ``$ calyptia-logs ...`` lines of the CLI page that run to completion by themselves."""
    lines = CLI_LINE.findall((DOCS / "cli.md").read_text())
    # fake-server runs until stopped, and pipes need a shell: those are shown, not run.
    return [
        line for line in lines if not line.startswith(("fake-server", "demo")) and "|" not in line
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

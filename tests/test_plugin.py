"""The pytest plugin as users meet it: in their own pytest, with and without pytest-asyncio."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_EXAMPLES = re.compile(r"^```py\n(.*?)^```", re.MULTILINE | re.DOTALL)


def fixture_examples() -> list[str]:
    """The pytest examples of docs/testing.md's fixture section, as written."""
    text = (ROOT / "docs" / "testing.md").read_text()
    section = text[text.index("## The pytest fixtures") : text.index("## Fault injection")]
    return FIXTURE_EXAMPLES.findall(section)


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a project of its own (tmp_path, an empty config), as a user's suite runs."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_docs_show_a_sync_and_an_async_example() -> None:
    sync, asynchronous = fixture_examples()
    assert "def test_my_sync_code(fake_cloud" in sync
    assert "@pytest.mark.asyncio" in asynchronous


def test_the_docs_examples_pass_under_pytest_asyncios_strict_mode(tmp_path: Path) -> None:
    for index, source in enumerate(fixture_examples()):
        (tmp_path / f"test_example_{index}.py").write_text(source)
    done = run_pytest(tmp_path, "-o", "asyncio_mode=strict")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_without_pytest_asyncio_pytest_runs_and_the_sync_fixture_works(tmp_path: Path) -> None:
    sync, _ = fixture_examples()
    (tmp_path / "test_sync.py").write_text(sync)
    (tmp_path / "test_plain.py").write_text("def test_plain() -> None:\n    assert True\n")
    # -p no:asyncio: pytest-asyncio is not loaded, as if it were not installed (CI also
    # runs a venv that has only pytest and this package).
    done = run_pytest(tmp_path, "-p", "no:asyncio")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_without_pytest_asyncio_the_async_fixture_is_simply_absent(tmp_path: Path) -> None:
    (tmp_path / "test_client.py").write_text("def test_client(fake_cloud_client):\n    pass\n")
    done = run_pytest(tmp_path, "-p", "no:asyncio")
    assert done.returncode == 1
    assert "fixture 'fake_cloud_client' not found" in done.stdout
    assert "fake_cloud" in done.stdout  # the sync one is listed as available


def test_pytest_with_the_plugin_and_pytest_asyncio_loads_no_client(tmp_path: Path) -> None:
    (tmp_path / "test_light.py").write_text(
        "import sys\n\n\ndef test_light() -> None:\n"
        "    assert 'aiohttp' not in sys.modules, 'the plugin loaded the client'\n"
    )
    done = run_pytest(tmp_path, "-p", "asyncio")
    assert done.returncode == 0, done.stdout + done.stderr


def test_loading_the_plugin_imports_neither_aiohttp_nor_the_client() -> None:
    code = (
        "import sys, pytest, calyptia_logs.testing.plugin\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiohttp', 'attrs', 'cattrs', 'orjson', 'tenacity') "
        "or m.startswith(('calyptia_logs.resources', 'calyptia_logs.transport')))\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["CalyptiaClient", "RetryPolicy", "NotFoundError", "LogLevel"])
def test_names_still_import_from_the_package(name: str) -> None:
    import calyptia_logs

    assert getattr(calyptia_logs, name).__name__ == name
    assert name in dir(calyptia_logs)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import calyptia_logs

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = calyptia_logs.Nope  # type: ignore[attr-defined]

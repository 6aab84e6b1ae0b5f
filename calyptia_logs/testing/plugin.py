"""The pytest plugin (registered through the ``pytest11`` entry point).

After ``pip install calyptia-logs``, every test suite can ask for:

* ``fake_cloud``: a :class:`~calyptia_logs.testing.RunningFake` on 127.0.0.1,
  fresh for each test. A synchronous fixture (the fake runs in a thread of its
  own), so sync and async tests can use it under any runner, with or without
  pytest-asyncio;
* ``fake_cloud_client``: a :class:`~calyptia_logs.CalyptiaClient` pointed at it,
  with retries that do not wait, closed after the test. An async fixture: it
  exists only where pytest-asyncio is installed, and works in its default
  strict mode (mark the test ``@pytest.mark.asyncio``).

Installing a package must never break pytest: this module imports nothing but
pytest when it loads (the package's ``__init__`` modules load their names on
first use), so it costs pytest's start a few milliseconds, and a suite without
pytest-asyncio runs as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from calyptia_logs.testing.server import RunningFake


@pytest.fixture
def fake_cloud() -> Iterator[RunningFake]:
    """A fake Calyptia Cloud listening on 127.0.0.1 (served from a thread), fresh for each test."""
    from calyptia_logs.testing.server import run_fake_cloud_in_thread  # noqa: PLC0415

    with run_fake_cloud_in_thread() as running:
        yield running


def pytest_configure(config: pytest.Config) -> None:
    """Add the async fixtures when pytest-asyncio is there to run them."""
    if config.pluginmanager.hasplugin("asyncio"):
        from calyptia_logs.testing import async_fixtures  # noqa: PLC0415

        config.pluginmanager.register(async_fixtures, "calyptia_logs.async_fixtures")

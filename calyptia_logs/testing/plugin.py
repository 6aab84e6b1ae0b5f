"""The pytest plugin (registered through the ``pytest11`` entry point).

After ``pip install calyptia-logs``, every test suite can ask for:

* ``fake_cloud``: a :class:`~calyptia_logs.testing.RunningFake` on 127.0.0.1,
  fresh for each test;
* ``fake_cloud_client``: a :class:`~calyptia_logs.CalyptiaClient` pointed at it,
  with retries that do not wait, closed after the test.

They are async fixtures, so the test suite needs pytest-asyncio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from calyptia_logs.resources import CalyptiaClient
from calyptia_logs.retry import RetryPolicy, no_sleep
from calyptia_logs.testing.server import RunningFake, run_fake_cloud


@pytest_asyncio.fixture
async def fake_cloud() -> AsyncIterator[RunningFake]:
    """A fake Calyptia Cloud listening on 127.0.0.1, fresh for each test."""
    async with run_fake_cloud() as running:
        yield running


@pytest_asyncio.fixture
async def fake_cloud_client(fake_cloud: RunningFake) -> AsyncIterator[CalyptiaClient]:
    """A client for ``fake_cloud`` whose retries do not wait."""
    async with CalyptiaClient(
        token=fake_cloud.token, base_url=fake_cloud.base_url, retry=RetryPolicy(sleep=no_sleep)
    ) as client:
        yield client

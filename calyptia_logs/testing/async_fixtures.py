"""The plugin's async fixtures, registered only where pytest-asyncio is installed.

See :mod:`calyptia_logs.testing.plugin`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from calyptia_logs.resources import CalyptiaClient
from calyptia_logs.retry import RetryPolicy, no_sleep
from calyptia_logs.testing.server import RunningFake


@pytest_asyncio.fixture
async def fake_cloud_client(fake_cloud: RunningFake) -> AsyncIterator[CalyptiaClient]:
    """A client for ``fake_cloud`` whose retries do not wait."""
    async with CalyptiaClient(
        token=fake_cloud.token, base_url=fake_cloud.base_url, retry=RetryPolicy(sleep=no_sleep)
    ) as client:
        yield client

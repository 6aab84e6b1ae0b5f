"""The plugin's async fixtures, registered only where pytest-asyncio is installed.

See :mod:`calyptia_logs.testing.plugin`. Like it, this module imports nothing heavy
when it loads: the client comes in when a test first asks for the fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest_asyncio

if TYPE_CHECKING:
    from calyptia_logs.resources import CalyptiaClient
    from calyptia_logs.testing.server import RunningFake


@pytest_asyncio.fixture
async def fake_cloud_client(fake_cloud: RunningFake) -> AsyncIterator[CalyptiaClient]:
    """A client for ``fake_cloud`` whose retries do not wait."""
    from calyptia_logs.resources import CalyptiaClient  # noqa: PLC0415
    from calyptia_logs.retry import RetryPolicy, no_sleep  # noqa: PLC0415

    async with CalyptiaClient(
        token=fake_cloud.token, base_url=fake_cloud.base_url, retry=RetryPolicy(sleep=no_sleep)
    ) as client:
        yield client

"""Shared fixtures: sample API documents, a real local server, and a strict aioresponses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from aiohttp import web

from calyptia_logs import CalyptiaClient, RetryPolicy
from calyptia_logs.retry import no_sleep
from calyptia_logs.testing import serve_app

TOKEN = "test-token-4f1c"
LOG_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PIPELINE_ID = "9b2c0e8a-1d4f-4c5e-8f3a-6b7d2e1c0a9f"


def log_json(**overrides: Any) -> dict[str, Any]:
    """A PipelineLog document as the API sends it."""
    doc = {
        "id": LOG_ID,
        "pipelineID": PIPELINE_ID,
        "logs": '[0] cpu.local: [1700000000.0, {"cpu_p"=>1.5}]\n',
        "lines": 100,
        "status": "DONE",
        "createdAt": "2024-05-01T10:00:00.123456789Z",
        "updatedAt": "2024-05-01T10:00:05+02:00",
    }
    doc.update(overrides)
    return doc


def new_id() -> str:
    return str(uuid.uuid4())


def serve(app: web.Application) -> AbstractAsyncContextManager[str]:
    """Run ``app`` on 127.0.0.1 on a free port; yield its base URL."""
    return serve_app(app)


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """The default policy with the waiting taken out."""
    return RetryPolicy(sleep=no_sleep)


@pytest.fixture
async def make_client(fast_retry: RetryPolicy) -> AsyncIterator[Callable[..., CalyptiaClient]]:
    """Build clients that are closed after the test, with no real waiting between retries."""
    clients: list[CalyptiaClient] = []

    def make(base_url: str = "https://api.test", **kwargs: Any) -> CalyptiaClient:
        kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("retry", fast_retry)
        client = CalyptiaClient(base_url=base_url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
def mock_api() -> Iterator[Any]:
    """A strict aioresponses; skips the test where aioresponses cannot run on this aiohttp."""
    from calyptia_logs.testing.mocking import aioresponses_problem, strict_aioresponses

    # CI runs the mocked suites on aiohttp 3.13; aioresponses 0.7.9 cannot mock 3.14.
    if (problem := aioresponses_problem()) is not None:
        pytest.skip(problem)
    with strict_aioresponses() as mocked:
        yield mocked

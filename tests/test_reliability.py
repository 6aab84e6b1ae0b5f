"""Reliability under faults and load: the fault matrix, an outage, a soak, cancellation.

The scenarios live in ``benchmarks/reliability.py``, which also writes
``docs/reliability.md``; here they are run and their outcomes asserted.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from aiohttp import web

from benchmarks.reliability import (
    CASES,
    ENDPOINTS,
    acquired_connections,
    fault_matrix,
    outage,
    soak,
)
from calyptia_logs import APITimeoutError, CalyptiaClient, RetryBudgetExhaustedError, RetryPolicy
from calyptia_logs.testing import Fault, run_fake_cloud
from tests.conftest import LOG_ID, log_json, serve


async def test_fault_matrix_every_endpoint_every_fault() -> None:
    matrix = await fault_matrix()
    assert matrix.tried == len(CASES) * len(ENDPOINTS)
    assert [(c.endpoint, c.case.name, c.outcome) for c in matrix.wrong] == []
    # Idempotent endpoints survive every transient fault but the lost DELETE answer.
    transient = [
        c for c in matrix.cells if c.case.transient and c.endpoint in ("get", "update", "list")
    ]
    assert all(c.outcome.startswith("survived") for c in transient)
    permanent = [c for c in matrix.cells if not c.case.transient]
    assert all(c.attempts == 1 for c in permanent)


async def test_outage_drains_the_budget_then_fails_fast_and_recovers() -> None:
    result = await outage(count=5000)
    # 500 tokens at 5 a retry: 100 retries in all, not 2 x 5000.
    assert result.budget_retries == 100
    assert result.requests_during == 5000 + 100
    assert result.failed_fast + result.failed_other == 5000
    assert result.failed_fast >= 4800
    assert result.succeeded == 0
    assert result.recovered == result.recovered_of == 200
    assert result.budget_after_recovery == 200


@pytest.mark.slow
async def test_soak_accounts_for_every_item_with_flat_memory_and_fds() -> None:
    count = int(os.environ.get("CALYPTIA_SOAK_COUNT", "5000"))
    result = await soak(count, concurrency=64, fault_rate=0.05)
    assert result.count == count
    assert result.accounted == count
    assert result.duplicates == 0
    assert result.succeeded + result.failed == count
    assert result.failed == 0
    assert result.retries > 0  # the faults happened
    assert result.rss_growth_second_half < 10
    assert result.fd_growth_second_half <= 2
    # Descriptors stay bounded by the connection pool, whatever the faults did.
    assert max(result.fds) <= result.fds[0] + 64 + 16


async def test_cancelling_a_caller_mid_retry_is_prompt_and_leaves_nothing() -> None:
    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        cloud.inject(Fault.http_status(503), times=None)
        # Real backoff this time: the caller is cancelled while the retry sleeps.
        policy = RetryPolicy(max_attempts=5, backoff_initial=30, backoff_max=30)
        async with CalyptiaClient(
            token=cloud.token, base_url=cloud.base_url, retry=policy
        ) as client:
            task = asyncio.ensure_future(client.pipeline_logs.get(log_id))
            while cloud.request_count == 0:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.perf_counter() - started < 1
            assert acquired_connections(client) == 0
            assert cloud.request_count == 1
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_deadline_covers_backoff_too() -> None:
    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        cloud.inject(Fault.http_status(503), times=None)
        policy = RetryPolicy(max_attempts=5, backoff_initial=30, backoff_max=30)
        async with CalyptiaClient(
            token=cloud.token, base_url=cloud.base_url, retry=policy, deadline=0.3
        ) as client:
            started = time.perf_counter()
            with pytest.raises(APITimeoutError, match="deadline"):
                await client.pipeline_logs.get(log_id)
            assert time.perf_counter() - started < 2
            assert acquired_connections(client) == 0


async def test_waiting_for_a_pooled_connection_does_not_count_against_the_timeout() -> None:
    # Two connections, eight concurrent calls of 0.1 s each, a 0.3 s timeout: every call
    # fits its timeout only if the wait for a free connection (up to 0.3 s) is not timed.
    async def slowish(_: web.Request) -> web.Response:
        await asyncio.sleep(0.1)
        return web.json_response(log_json())

    app = web.Application()
    app.router.add_get(f"/v1/pipeline_logs/{LOG_ID}", slowish)
    async with (
        serve(app) as url,
        CalyptiaClient(
            token="t", base_url=url, timeout=0.3, connector_limit=2, retry=RetryPolicy.disabled()
        ) as client,
    ):
        logs = await asyncio.gather(*(client.pipeline_logs.get(LOG_ID) for _ in range(8)))
    assert len(logs) == 8


async def test_budget_exhaustion_error_names_the_budget() -> None:
    async with run_fake_cloud() as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 20)
        cloud.inject(Fault.http_status(503), times=None)
        from calyptia_logs import RetryBudget

        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            retry=RetryPolicy(sleep=lambda _: asyncio.sleep(0)),
            retry_budget=RetryBudget(0),
        ) as client:
            results = [r async for r in client.pipeline_logs.get_many(ids)]
    assert all(isinstance(r.error, RetryBudgetExhaustedError) for r in results)
    assert "retry budget exhausted" in str(results[0].error)

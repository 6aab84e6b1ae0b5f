"""Observability: structured logs, the on_response and on_retry hooks, aiohttp trace configs."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from calyptia_logs import CalyptiaClient, ResponseInfo, RetryDetails, RetryPolicy
from calyptia_logs.retry import no_sleep
from calyptia_logs.testing import Fault, RunningFake


async def test_on_response_sees_every_exchange_with_a_path_template(
    fake_cloud: RunningFake,
) -> None:
    (log_id,) = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 1)
    fake_cloud.inject(Fault.http_status(503), times=1)
    seen: list[ResponseInfo] = []
    retries: list[RetryDetails] = []
    async with CalyptiaClient(
        token=fake_cloud.token,
        base_url=fake_cloud.base_url,
        retry=RetryPolicy(sleep=no_sleep),
        on_response=seen.append,
        on_retry=retries.append,
    ) as client:
        await client.pipeline_logs.get(log_id)
    assert [(i.method, i.path, i.status) for i in seen] == [
        ("GET", "/v1/pipeline_logs/{id}", 503),
        ("GET", "/v1/pipeline_logs/{id}", 200),
    ]
    assert all(i.elapsed > 0 for i in seen)
    (retry,) = retries
    assert (retry.attempt, retry.reason, retry.error.attempts) == (1, "HTTP 503", 1)


async def test_debug_log_records_carry_structured_metadata(
    fake_cloud: RunningFake, fake_cloud_client: CalyptiaClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="calyptia_logs")
    (log_id,) = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 1)
    await fake_cloud_client.pipeline_logs.get(log_id)
    (record,) = [r for r in caplog.records if r.name == "calyptia_logs"]
    extra: Any = record
    assert (extra.calyptia_method, extra.calyptia_path, extra.calyptia_status) == (
        "GET",
        "/v1/pipeline_logs/{id}",
        200,
    )
    assert extra.calyptia_elapsed > 0
    assert str(log_id) not in record.getMessage()  # templates keep label cardinality low


async def test_trace_configs_reach_aiohttp(fake_cloud: RunningFake) -> None:
    (log_id,) = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 1)
    started: list[str] = []

    async def on_request_start(
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        started.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with CalyptiaClient(
        token=fake_cloud.token, base_url=fake_cloud.base_url, trace_configs=[trace]
    ) as client:
        await client.pipeline_logs.get(log_id)
    assert started == [f"{fake_cloud.base_url}/v1/pipeline_logs/{log_id}"]

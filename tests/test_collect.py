"""The bulk job, ``collect``: over real sockets against the embedded fake."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import aclosing

import pytest

from calyptia_logs import (
    AuthenticationError,
    CalyptiaClient,
    CollectResult,
    InvalidIDError,
    PipelineLogStatus,
    WaitTimeoutError,
)
from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud


async def collected(client: CalyptiaClient, *args: object, **kwargs: object) -> list[CollectResult]:
    async with aclosing(client.pipeline_logs.collect(*args, **kwargs)) as results:  # type: ignore[arg-type]
        return [result async for result in results]


async def test_every_distinct_pipeline_gets_one_result_with_its_filled_log() -> None:
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=0.1)) as cloud:
        pipelines = [cloud.add_pipeline() for _ in range(20)]
        asked = [*map(str, pipelines), *map(str, pipelines[:5]), str(pipelines[0]).upper(), "nope"]
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            results = await collected(client, asked, lines=7, concurrency=4)
    by_pipeline = {str(r.pipeline_id): r for r in results}
    assert len(results) == 21  # 20 distinct pipelines (repeats once) and the bad one
    assert isinstance(by_pipeline["nope"].error, InvalidIDError)
    for pipeline in pipelines:
        result = by_pipeline[str(pipeline)]
        assert result.ok
        assert result.log is not None
        assert result.log.status is PipelineLogStatus.DONE
        assert result.log.pipeline_id == pipeline
        assert result.log.lines == 7
        assert result.log_id == result.log.id
    assert cloud.max_in_flight <= 4


async def test_requests_per_pipeline_stay_within_three_plus_the_polls() -> None:
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=0.3)) as cloud:
        pipelines = [cloud.add_pipeline() for _ in range(10)]
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            results = await collected(client, pipelines, delete_after=True)
        assert all(r.ok for r in results)
        polls = [r.method for r in cloud.requests if r.method == "GET" and "/pipeline_logs/" in r.path]
        creates = [r for r in cloud.requests if r.method == "POST"]
        deletes = [r for r in cloud.requests if r.method == "DELETE"]
        lists = [r for r in cloud.requests if r.method == "GET" and r.path.endswith("/logs")]
        assert len(creates) == len(deletes) == 10
        assert len(lists) == 1  # the polling hint, looked up once per run
        # Per pipeline: a create, a first read, the polls the fill needs, a delete.
        assert len(cloud.requests) <= 10 * 3 + (len(polls) - 10) + len(lists)
        assert not cloud.logs  # every request deleted once read


async def test_a_pipeline_past_its_timeout_fails_with_wait_timeout_and_the_rest_go_on() -> None:
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=60)) as cloud:
        pipelines = [cloud.add_pipeline() for _ in range(3)]
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            results = await collected(client, pipelines, timeout=0.3, delete_after=True)
        assert len(results) == 3
        for result in results:
            assert isinstance(result.error, WaitTimeoutError)
            assert result.log_id is not None  # created, never filled
            assert "not filled within 0.3s" in str(result.error)
        assert not cloud.logs  # given up, and deleted all the same


async def test_a_dead_token_sends_at_most_concurrency_requests() -> None:
    async with run_fake_cloud() as cloud:
        pipelines = [cloud.add_pipeline() for _ in range(100)]
        async with CalyptiaClient(token="wrong", base_url=cloud.base_url) as client:
            results = await collected(client, pipelines, concurrency=8)
        assert len(results) == 100
        assert all(isinstance(r.error, AuthenticationError) for r in results)
        assert all(r.log_id is None for r in results)
        assert cloud.request_count <= 8


async def test_cancelled_with_delete_after_the_unread_requests_are_deleted_on_the_way_out() -> None:
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=60)) as cloud:
        pipelines = [cloud.add_pipeline() for _ in range(6)]
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await collected(client, pipelines, delete_after=True, timeout=30)
            created = [r for r in cloud.requests if r.method == "POST"]
            assert len(created) == 6
        assert not cloud.logs  # each created request was deleted by the clean-up
    current = asyncio.current_task()
    assert not [t for t in asyncio.all_tasks() if t is not current and not t.done()]


async def test_stopping_early_with_aclosing_cancels_the_rest() -> None:
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=0.05)) as cloud:
        pipelines = [cloud.add_pipeline() for _ in range(50)]
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            async with aclosing(client.pipeline_logs.collect(pipelines, concurrency=4)) as results:
                async for result in results:
                    assert result.ok
                    break
        assert len([r for r in cloud.requests if r.method == "POST"]) <= 5


def test_bad_arguments_are_refused_at_the_call() -> None:
    client = CalyptiaClient(token="t", base_url="http://127.0.0.1:1")
    with pytest.raises(ValueError, match="lines"):
        client.pipeline_logs.collect([uuid.uuid4()], lines=0)
    with pytest.raises(ValueError, match="concurrency"):
        client.pipeline_logs.collect([uuid.uuid4()], concurrency=0)
    with pytest.raises(ValueError, match="timeout"):
        client.pipeline_logs.collect([uuid.uuid4()], timeout=float("inf"))

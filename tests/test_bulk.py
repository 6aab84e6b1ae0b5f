"""Bulk work: bounded_map on its own, and get_many / delete_many against the fake."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest

from calyptia_logs import (
    CalyptiaClient,
    InvalidIDError,
    NotFoundError,
    RetryBudget,
    RetryBudgetExhaustedError,
    RetryPolicy,
)
from calyptia_logs.resources.bulk import bounded_map
from calyptia_logs.retry import no_sleep
from calyptia_logs.testing import Fault, RunningFake, run_fake_cloud


class Work:
    """Work that records how many calls run at once, and which were cancelled."""

    def __init__(self, delay: float = 0.001) -> None:
        self.delay = delay
        self.running = 0
        self.max_running = 0
        self.cancelled = 0
        self.finished = 0

    async def __call__(self, item: int) -> int:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await asyncio.sleep(self.delay * random.random())
            self.finished += 1
            return item
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


async def test_every_item_yields_once_and_concurrency_is_bounded() -> None:
    work = Work()
    results = [r async for r in bounded_map(range(500), work, concurrency=7)]
    assert sorted(results) == list(range(500))
    assert work.max_running == 7


async def test_a_limit_function_lowers_the_calls_in_flight_and_raises_them_back() -> None:
    work = Work()
    asked: list[int] = []

    def limit(concurrency: int) -> int:
        asked.append(concurrency)
        return 2 if work.finished < 100 else concurrency  # "throttled" for the first 100

    results = [r async for r in bounded_map(range(300), work, concurrency=9, limit=limit)]
    assert sorted(results) == list(range(300))
    assert set(asked) == {9}
    assert work.max_running == 9  # back up once the limit lifted
    early = Work()
    _ = [r async for r in bounded_map(range(50), early, concurrency=9, limit=lambda _: 2)]
    assert early.max_running == 2


async def test_ordered_mode_keeps_input_order() -> None:
    work = Work()
    results = [r async for r in bounded_map(range(200), work, concurrency=8, ordered=True)]
    assert results == list(range(200))
    assert work.max_running <= 8


async def test_input_is_consumed_lazily() -> None:
    pulled = 0

    def source() -> Iterator[int]:
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield i

    async with aclosing(bounded_map(source(), Work(), concurrency=4)) as results:
        await anext(results)
        assert pulled <= 5


async def test_async_iterables_are_accepted() -> None:
    async def source() -> AsyncIterator[int]:
        for i in range(50):
            yield i

    assert sorted([r async for r in bounded_map(source(), Work(), concurrency=3)]) == list(
        range(50)
    )


async def test_closing_early_cancels_the_calls_in_flight() -> None:
    work = Work(delay=1.0)
    async with aclosing(bounded_map(range(100), work, concurrency=5)) as results:
        work.delay = 0
        # The first five are sleeping up to a second; nothing has finished yet.
        task = asyncio.ensure_future(anext(results))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert work.running == 0
    assert work.cancelled == 5
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_cancelling_the_consumer_leaves_no_task_behind() -> None:
    work = Work(delay=0.5)

    async def consume() -> None:
        async for _ in bounded_map(range(1000), work, concurrency=10):
            pass

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0.01)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert work.running == 0
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await anext(bounded_map([1], Work(), concurrency=0))


# --- against the fake ---------------------------------------------------------------------


def client_for(cloud: RunningFake, **kwargs: object) -> CalyptiaClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=8, sleep=no_sleep))
    return CalyptiaClient(token=cloud.token, base_url=cloud.base_url, **kwargs)  # type: ignore[arg-type]


async def test_get_many_2000_ids_under_20_percent_faults_loses_nothing() -> None:
    async with run_fake_cloud(latency=0.001) as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 2000, lines=2)
        for seed, fault in enumerate(
            [
                Fault.http_status(503),
                Fault.http_status(429, retry_after=0),
                Fault.reset(),
                Fault.drop(),
            ]
        ):
            cloud.inject(fault, times=None, probability=0.055, seed=seed)
        async with client_for(cloud) as client:
            results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=16)]
        injected = sum(rule.hits for rule in cloud.rules)
        assert injected > 300  # the faults really happened
        assert len(results) == 2000
        assert sorted(r.id for r in results) == sorted(ids)  # no duplicate, no loss
        assert all(r.ok and r.log is not None and r.log.id == r.id for r in results)
        assert cloud.max_in_flight <= 16
        assert cloud.max_in_flight >= 8  # and the concurrency was really used


async def test_get_many_reports_every_failure_per_item(fake_cloud: RunningFake) -> None:
    (present,) = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 1)
    missing = uuid.uuid4()
    async with client_for(fake_cloud) as client:
        results = [
            r async for r in client.pipeline_logs.get_many([present, "nope", missing], ordered=True)
        ]
    assert [r.id for r in results] == [present, "nope", missing]
    assert results[0].ok
    assert isinstance(results[1].error, InvalidIDError)
    assert isinstance(results[2].error, NotFoundError)


async def test_delete_many(fake_cloud: RunningFake) -> None:
    ids = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 30)
    async with client_for(fake_cloud) as client:
        results = [r async for r in client.pipeline_logs.delete_many(ids, concurrency=4)]
    assert sorted(r.id for r in results) == sorted(ids)
    assert all(r.deleted is not None and r.deleted.deleted for r in results)
    assert fake_cloud.logs == {}
    assert fake_cloud.max_in_flight <= 4


async def test_retry_budget_exhaustion_fails_fast(fake_cloud: RunningFake) -> None:
    ids = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 200)
    fake_cloud.inject(Fault.http_status(503), times=None)
    budget = RetryBudget(50, retry_cost=5)
    async with client_for(fake_cloud, retry_budget=budget) as client:
        results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=8)]
        assert len(results) == 200
        assert all(not r.ok for r in results)
        exhausted = [r for r in results if isinstance(r.error, RetryBudgetExhaustedError)]
        assert len(exhausted) >= 180
        assert "retry budget exhausted" in str(exhausted[0].error)
        # 200 first attempts, plus only the 10 retries the budget paid for.
        assert fake_cloud.request_count == 200 + 10
        # When the server recovers, calls succeed and refill the budget.
        fake_cloud.clear_faults()
        results = [r async for r in client.pipeline_logs.get_many(ids[:20])]
        assert all(r.ok for r in results)
        assert budget.available == 20


# --- a dead token fails fast; waiting is not a connection problem (issue 22) ------------------


@pytest.mark.parametrize("operation", ["get_many", "delete_many"])
async def test_a_dead_token_stops_sending_and_fails_every_item_with_that_error(
    operation: str,
) -> None:
    from calyptia_logs import AuthenticationError, CalyptiaClient

    async with run_fake_cloud() as cloud:
        ids = [str(log_id) for log_id in cloud.seed_logs(cloud.add_pipeline(), 200)]
        async with CalyptiaClient(token="not-the-token", base_url=cloud.base_url) as client:
            run = getattr(client.pipeline_logs, operation)(ids, concurrency=8)
            results = [r async for r in run]
        assert len(results) == 200  # one result per item still
        assert {str(r.id) for r in results} == set(ids)
        errors = {id(r.error) for r in results}
        assert all(isinstance(r.error, AuthenticationError) for r in results)
        assert len(errors) <= 8  # the in-flight ones each have theirs; the rest share the first
        assert cloud.request_count <= 8  # at most `concurrency` requests were sent


async def test_a_403_is_about_one_item_and_stops_nothing() -> None:
    from calyptia_logs import CalyptiaClient, PermissionDeniedError
    from tests.raw_server import RawRequest, Reply, http, raw_server
    from tests.test_untrusted_server import the_log_asked_for

    ids = [str(uuid.uuid4()) for _ in range(30)]
    forbidden = set(ids[::3])

    def answer(request: RawRequest) -> Reply:
        if request.path.rsplit("/", 1)[-1] in forbidden:
            return Reply(http(403, b'{"error": "forbidden"}', {"Content-Type": "application/json"}))
        return the_log_asked_for(request)

    async with raw_server(answer) as (url, server):
        async with CalyptiaClient(token="t", base_url=url) as client:
            results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=4)]
    assert {str(r.id) for r in results if not r.ok} == forbidden
    assert all(isinstance(r.error, PermissionDeniedError) for r in results if not r.ok)
    assert len(server.requests) == 30


async def test_a_wait_that_runs_out_is_a_wait_timeout_not_a_connection_error() -> None:
    from calyptia_logs import (
        APIConnectionError,
        CalyptiaClient,
        PipelineLogStatus,
        WaitTimeoutError,
    )

    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1, status=PipelineLogStatus.NEW)
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            with pytest.raises(WaitTimeoutError) as caught:
                await client.pipeline_logs.wait_until_done(log_id, timeout=0.2, poll_interval=0.05)
    assert not isinstance(caught.value, APIConnectionError)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.log_id == str(log_id)


async def test_request_logs_timeout_bounds_the_create_too() -> None:
    from calyptia_logs import CalyptiaClient, WaitTimeoutError

    async with run_fake_cloud() as cloud:
        pipeline = cloud.add_pipeline()
        cloud.inject(Fault.slow(5), method="POST")
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            started = asyncio.get_running_loop().time()
            with pytest.raises(WaitTimeoutError, match=r"not created within 0\.3s"):
                await client.pipeline_logs.request_logs(pipeline, timeout=0.3)
            assert asyncio.get_running_loop().time() - started < 1.5

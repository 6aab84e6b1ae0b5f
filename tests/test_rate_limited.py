"""The client against a rate-limited fake, over real sockets: pausing, pacing, budgets, counts."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest

from calyptia_logs import CalyptiaClient, RateLimitError, RetryBudget, RetryPolicy
from calyptia_logs.retry import MAX_THROTTLED_RETRIES, RetryDetails
from calyptia_logs.testing import FakeCalyptiaCloud, Fault, run_fake_cloud
from calyptia_logs.transport import ResponseInfo


class Waits:
    """An injected sleep: records what the client waits for, waits for nothing."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


# --- the fake's rate limit ----------------------------------------------------------------


async def test_the_fake_answers_429_with_retry_after_and_quota_once_the_bucket_is_empty() -> None:
    async with run_fake_cloud(rate_limit=1, rate_burst=2) as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        headers = {"Authorization": f"Bearer {cloud.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            statuses = []
            for _ in range(3):
                async with session.get(f"{cloud.base_url}/v1/pipeline_logs/{log_id}") as resp:
                    statuses.append(resp.status)
                    last = (resp.headers.get("Retry-After"), await resp.json())
        assert statuses == [200, 200, 429]
        assert last == ("1", {"error": "too many requests", "quotaLimit": 1, "quotaRemaining": 0})
        assert (cloud.request_count, cloud.success_count, cloud.throttled_count) == (3, 2, 1)


async def test_retry_after_counts_the_whole_seconds_until_a_token_is_free() -> None:
    async with run_fake_cloud(rate_limit=0.2, rate_burst=1) as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        headers = {"Authorization": f"Bearer {cloud.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            for _ in range(2):
                async with session.get(f"{cloud.base_url}/v1/pipeline_logs/{log_id}") as resp:
                    retry_after = resp.headers.get("Retry-After")
        assert retry_after == "5"  # one token per 5 s, the bucket just emptied


async def test_each_token_has_its_own_bucket() -> None:
    fake = FakeCalyptiaCloud(tokens=["a-token-1", "a-token-2"], rate_limit=1, rate_burst=1)
    async with run_fake_cloud(fake) as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        async with aiohttp.ClientSession() as session:
            statuses = []
            for token in ("a-token-1", "a-token-2", "a-token-1"):
                async with session.get(
                    f"{cloud.base_url}/v1/pipeline_logs/{log_id}",
                    headers={"Authorization": f"Bearer {token}"},
                ) as resp:
                    statuses.append(resp.status)
        assert statuses == [200, 200, 429]


async def test_the_limit_can_be_raised_lowered_and_lifted_while_the_fake_runs() -> None:
    async with run_fake_cloud(rate_limit=1, rate_burst=1) as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        url = f"{cloud.base_url}/v1/pipeline_logs/{log_id}"
        headers = {"Authorization": f"Bearer {cloud.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:

            async def status() -> int:
                async with session.get(url) as resp:
                    return resp.status

            assert [await status(), await status()] == [200, 429]
            cloud.fake.rate_limit = None
            assert {await status() for _ in range(20)} == {200}
            cloud.fake.rate_limit = 1000
            await asyncio.sleep(0.01)  # earns ten tokens at the new rate (burst 1 keeps one)
            assert await status() == 200


def test_a_rate_limit_must_be_a_positive_number() -> None:
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="rate_limit"):
            FakeCalyptiaCloud(rate_limit=bad)
    with pytest.raises(ValueError, match="rate_burst"):
        FakeCalyptiaCloud(rate_limit=1, rate_burst=0.5)


# --- the client under a rate limit ----------------------------------------------------------


async def test_one_429_holds_every_request_of_the_client_for_its_retry_after() -> None:
    waits = Waits()
    async with run_fake_cloud() as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 5)
        cloud.inject(Fault.http_status(429, retry_after=7), times=1)
        async with CalyptiaClient(
            token=cloud.token, base_url=cloud.base_url, retry=RetryPolicy(sleep=waits)
        ) as client:
            await client.pipeline_logs.get(ids[0])  # throttled once, then paced
            assert client.rate_limit.pacing
            waits.seconds.clear()
            await client.pipeline_logs.get(ids[1])  # another call: it waits too
        assert waits.seconds
        assert waits.seconds[0] == pytest.approx(7, abs=0.5)


async def test_throttled_retries_cost_no_budget_and_no_attempts() -> None:
    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        cloud.inject(Fault.http_status(429, retry_after=1), times=6)
        budget = RetryBudget(capacity=5, retry_cost=5)
        details: list[RetryDetails] = []
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            retry=RetryPolicy(max_attempts=2, sleep=Waits()),
            retry_budget=budget,
            on_retry=details.append,
        ) as client:
            log = await client.pipeline_logs.get(log_id)
        assert str(log.id) == str(log_id)
        assert budget.available == 5
        assert len(details) == 6
        assert all(d.throttled and d.rate_limit is not None for d in details)


async def test_without_adaptation_a_429_is_an_ordinary_retry() -> None:
    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        cloud.inject(Fault.http_status(429, retry_after=1), times=6)
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            retry=RetryPolicy(max_attempts=2, sleep=Waits()),
            adaptive_rate_limit=False,
        ) as client:
            with pytest.raises(RateLimitError) as caught:
                await client.pipeline_logs.get(log_id)
            assert caught.value.attempts == 2
            assert not client.rate_limit.pacing
            assert client.rate_limit.throttled == 2


async def test_a_server_that_always_throttles_ends_the_call_after_a_bounded_number_of_tries() -> (
    None
):
    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        cloud.inject(Fault.http_status(429, retry_after=1), times=None)
        async with CalyptiaClient(
            token=cloud.token, base_url=cloud.base_url, retry=RetryPolicy(sleep=Waits())
        ) as client:
            with pytest.raises(RateLimitError) as caught:
                await client.pipeline_logs.get(log_id)
        assert caught.value.attempts == MAX_THROTTLED_RETRIES + 1
        assert cloud.request_count == MAX_THROTTLED_RETRIES + 1


async def test_max_rate_paces_from_the_first_request() -> None:
    async with run_fake_cloud() as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 21, lines=1)
        async with CalyptiaClient(
            token=cloud.token, base_url=cloud.base_url, max_rate=100
        ) as client:
            assert client.rate_limit.pacing
            started = time.monotonic()
            await asyncio.gather(*(client.pipeline_logs.get(i) for i in ids))
            elapsed = time.monotonic() - started
            assert client.rate_limit.rate == 100
    # 21 requests at 100/s: a burst of a few (0.05 s of the rate), then one per 10 ms.
    assert 0.14 <= elapsed < 2


async def test_the_rate_is_passed_to_on_response_and_readable_on_the_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[ResponseInfo] = []
    async with run_fake_cloud() as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 2)
        cloud.inject(
            Fault.http_status(429, retry_after=1, fields={"quotaLimit": 40}),
            times=1,
        )
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            retry=RetryPolicy(sleep=Waits()),
            on_response=seen.append,
        ) as client:
            with caplog.at_level(logging.INFO, logger="calyptia_logs"):
                await client.pipeline_logs.get(ids[0])
            state = client.rate_limit
        assert [i.status for i in seen] == [429, 200]
        assert seen[-1].rate_limit == pytest.approx(40 * 0.99, rel=0.01)
        assert (state.throttled, state.quota_limit) == (1, 40)
        assert any("pacing at 39.6 requests/s" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
async def test_get_many_under_a_real_rate_limit_loses_nothing_and_rarely_hears_429() -> None:
    async with run_fake_cloud(rate_limit=200, rate_burst=10) as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 400, lines=1)
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            started = time.monotonic()
            results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=64)]
            elapsed = time.monotonic() - started
            state = client.rate_limit
    assert sum(r.ok for r in results) == 400
    assert state.pacing
    assert cloud.throttled_count <= 0.15 * cloud.request_count
    assert cloud.request_count <= 1.15 * 400
    assert elapsed < 10


async def test_the_same_get_many_without_adaptation_loses_items() -> None:
    async with run_fake_cloud(rate_limit=200, rate_burst=10) as cloud:
        ids = cloud.seed_logs(cloud.add_pipeline(), 200, lines=1)
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            retry=RetryPolicy(sleep=Waits()),
            adaptive_rate_limit=False,
        ) as client:
            results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=64)]
    assert sum(not r.ok for r in results) > 0  # what the limiter is for

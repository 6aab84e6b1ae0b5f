"""Caller input at the boundary: a ValueError or TypeError naming the parameter, before any request.

And the client's lifetime rules: one event loop per client, and no
``async with`` on a closed one.
"""

from __future__ import annotations

import asyncio
import gc
import math
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from calyptia_logs import CalyptiaClient, CalyptiaError, RetryPolicy
from calyptia_logs.testing import RunningFake, run_fake_cloud, run_fake_cloud_in_thread
from calyptia_logs.testing.fake import MAX_LINES
from tests.conftest import LOG_ID, PIPELINE_ID, TOKEN

Call = Callable[[CalyptiaClient], Awaitable[Any]]

BAD_CALLS: list[tuple[str, Call, type[Exception], str]] = [
    (
        "create lines 2**70",
        lambda c: c.pipeline_logs.create(PIPELINE_ID, lines=2**70),
        ValueError,
        "lines",
    ),
    ("create lines 0", lambda c: c.pipeline_logs.create(PIPELINE_ID, lines=0), ValueError, "lines"),
    (
        "create lines -1",
        lambda c: c.pipeline_logs.create(PIPELINE_ID, lines=-1),
        ValueError,
        "lines",
    ),
    (
        "create lines 1.0",
        lambda c: c.pipeline_logs.create(PIPELINE_ID, lines=1.0),
        TypeError,
        "lines",
    ),  # type: ignore[arg-type]
    (
        "create lines True",
        lambda c: c.pipeline_logs.create(PIPELINE_ID, lines=True),
        TypeError,
        "lines",
    ),
    (
        "update lines 2**63",
        lambda c: c.pipeline_logs.update(LOG_ID, lines=2**63),
        ValueError,
        "lines",
    ),
    ("list last 0", lambda c: c.pipeline_logs.list(PIPELINE_ID, last=0), ValueError, "last"),
    ("list last '5'", lambda c: c.pipeline_logs.list(PIPELINE_ID, last="5"), TypeError, "last"),  # type: ignore[arg-type]
    (
        "wait timeout -1",
        lambda c: c.pipeline_logs.wait_until_done(LOG_ID, timeout=-1),
        ValueError,
        "timeout",
    ),
    (
        "wait timeout nan",
        lambda c: c.pipeline_logs.wait_until_done(LOG_ID, timeout=math.nan),
        ValueError,
        "timeout",
    ),
    (
        "wait timeout inf",
        lambda c: c.pipeline_logs.wait_until_done(LOG_ID, timeout=math.inf),
        ValueError,
        "None for no limit",
    ),
    (
        "wait interval 0",
        lambda c: c.pipeline_logs.wait_until_done(LOG_ID, poll_interval=0),
        ValueError,
        "poll_interval",
    ),
    (
        "wait interval -1",
        lambda c: c.pipeline_logs.wait_until_done(LOG_ID, poll_interval=-1),
        ValueError,
        "poll_interval",
    ),
    (
        "request_logs timeout nan",
        lambda c: c.pipeline_logs.request_logs(PIPELINE_ID, timeout=math.nan),
        ValueError,
        "timeout",
    ),
]


@pytest.mark.parametrize(
    ("name", "call", "error", "names"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
async def test_bad_numbers_are_refused_before_any_request(
    name: str, call: Call, error: type[Exception], names: str, fake_cloud: RunningFake
) -> None:
    async with CalyptiaClient(token=fake_cloud.token, base_url=fake_cloud.base_url) as client:
        with pytest.raises(error, match=names):
            await call(client)
    assert fake_cloud.fake.request_count == 0
    assert not issubclass(error, CalyptiaError)


@pytest.mark.parametrize("concurrency", [0, -1, 2**64])
async def test_bulk_concurrency_is_checked_before_any_request(
    concurrency: int, fake_cloud: RunningFake
) -> None:
    async with CalyptiaClient(token=fake_cloud.token, base_url=fake_cloud.base_url) as client:
        with pytest.raises(ValueError, match="concurrency"):
            _ = [r async for r in client.pipeline_logs.get_many([LOG_ID], concurrency=concurrency)]
    assert fake_cloud.fake.request_count == 0


@pytest.mark.parametrize(
    ("options", "error", "names"),
    [
        ({"timeout": math.inf}, ValueError, "timeout"),
        ({"timeout": -1}, ValueError, "timeout"),
        ({"timeout": 0}, ValueError, "timeout"),
        ({"timeout": math.nan}, ValueError, "timeout"),
        ({"timeout": "30"}, TypeError, "timeout"),
        ({"timeout": aiohttp.ClientTimeout(total=math.inf)}, ValueError, "timeout.total"),
        ({"timeout": aiohttp.ClientTimeout(sock_read=-1)}, ValueError, "timeout.sock_read"),
        ({"deadline": math.inf}, ValueError, "deadline"),
        ({"deadline": 0}, ValueError, "deadline"),
        ({"max_response_size": 0}, ValueError, "max_response_size"),
        ({"connector_limit": -1}, ValueError, "connector_limit"),
        ({"connector_limit": 1.5}, TypeError, "connector_limit"),
    ],
)
def test_bad_client_options_are_refused_at_construction(
    options: dict[str, Any], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        CalyptiaClient(token=TOKEN, base_url="https://api.test", **options)


def test_no_deadline_is_none() -> None:
    client = CalyptiaClient(token=TOKEN, base_url="https://api.test", deadline=None)
    assert client.transport.deadline is None


@pytest.mark.parametrize(
    "options",
    [
        {"backoff_max": math.inf},
        {"backoff_initial": math.nan},
        {"max_retry_after": -1},
        {"max_retry_after": math.inf},
        {"max_attempts": 0},
        {"max_attempts": 2.5},
    ],
)
def test_bad_retry_policies_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        RetryPolicy(**options)


# --- one client, one event loop ------------------------------------------------------------


def test_a_client_used_from_a_second_event_loop_says_so_and_leaks_nothing() -> None:
    with run_fake_cloud_in_thread() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        client = CalyptiaClient(token=cloud.token, base_url=cloud.base_url)
        # The first loop ends with the client still open (and a pooled keep-alive socket).
        log = asyncio.run(client.pipeline_logs.get(log_id))
        assert log.id == log_id
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(CalyptiaError, match="another event loop"):
                asyncio.run(client.pipeline_logs.get(log_id))
            asyncio.run(client.close())
            del client
            gc.collect()
        leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert leaks == [], [str(w.message) for w in leaks]


def test_a_client_shared_with_a_live_loop_in_another_thread_is_refused() -> None:
    with run_fake_cloud_in_thread() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        client = CalyptiaClient(token=cloud.token, base_url=cloud.base_url)

        async def first() -> None:
            await client.pipeline_logs.get(log_id)
            # Another thread's loop tries while this one is alive.
            loop = asyncio.get_running_loop()
            error = await loop.run_in_executor(
                None, lambda: _raises(lambda: asyncio.run(client.pipeline_logs.get(log_id)))
            )
            assert isinstance(error, CalyptiaError)
            await client.close()

        asyncio.run(first())


def _raises(run: Callable[[], Any]) -> BaseException | None:
    try:
        run()
    except BaseException as exc:
        return exc
    return None


async def test_async_with_on_a_closed_client_fails_on_entry() -> None:
    client = CalyptiaClient(token=TOKEN, base_url="https://api.test")
    await client.close()
    with pytest.raises(CalyptiaError, match="closed"):
        async with client:
            pass  # pragma: no cover


# --- the fake never stalls -----------------------------------------------------------------


async def test_the_fake_refuses_absurd_lines_at_once() -> None:
    async with run_fake_cloud() as cloud:
        pipeline = cloud.add_pipeline()
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(CalyptiaError, match=f"0 to {MAX_LINES}") as caught:
                await client.pipeline_logs.create(pipeline, lines=2_147_483_648)
            assert loop.time() - started < 1.0
            assert getattr(caught.value, "status", None) == 400
            with pytest.raises(CalyptiaError, match=f"0 to {MAX_LINES}"):
                await client.pipeline_logs.update(
                    (await client.pipeline_logs.create(pipeline, lines=1)).id, lines=MAX_LINES + 1
                )
            created = await client.pipeline_logs.create(pipeline, lines=MAX_LINES)
        assert cloud.logs[created.id].lines == MAX_LINES


def test_seeding_is_bounded_too() -> None:
    from calyptia_logs.testing import FakeCalyptiaCloud

    fake = FakeCalyptiaCloud()
    with pytest.raises(ValueError, match="lines"):
        fake.seed_logs(fake.add_pipeline(), 1, lines=MAX_LINES + 1)


@pytest.mark.parametrize("amount", [math.nan, -1, "5"])
def test_bad_retry_budgets_are_refused(amount: Any) -> None:
    from calyptia_logs import RetryBudget

    with pytest.raises((ValueError, TypeError)):
        RetryBudget(amount)

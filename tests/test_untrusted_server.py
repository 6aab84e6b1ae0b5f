"""Whatever the server sends, over real sockets: a clear error or a safe clamp, never a crash.

Each test is one server-controlled value from issue 9's list: Retry-After,
error text, echoed credentials, the polling hint, and one item's failure in
a bulk run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from calyptia_logs import (
    APIConnectionError,
    CalyptiaClient,
    CalyptiaError,
    NotFoundError,
    PipelineLogStatus,
    ResponseDecodeError,
    RetryBudget,
    RetryPolicy,
    ServerError,
    WaitTimeoutError,
)
from calyptia_logs.retry import no_sleep
from calyptia_logs.testing import Fault, run_fake_cloud
from tests.conftest import LOG_ID, TOKEN, log_json, new_id
from tests.raw_server import RawRequest, Reply, always, http, raw_server
from tests.wire_fuzz import shown

OK_LOG = http(200, __import__("orjson").dumps(log_json()), {"Content-Type": "application/json"})


def the_log_asked_for(request: RawRequest) -> Reply:
    """A well-behaved answer to a get: the log whose ID is in the path."""
    doc = log_json(id=request.path.rsplit("/", 1)[-1])
    return Reply(http(200, __import__("orjson").dumps(doc), {"Content-Type": "application/json"}))


def then_ok(first: bytes, times: int = 1) -> Any:
    """Answer ``first`` ``times`` times, then a good pipeline log."""
    count = 0

    def answer(_: RawRequest) -> Reply:
        nonlocal count
        count += 1
        return Reply(first if count <= times else OK_LOG)

    return answer


BAD_RETRY_AFTERS = [
    "\u00b2",  # a Unicode digit: str.isdigit() says yes, RFC 9110 says no
    "Sun, 06 Nov 1994 08:49:37 +9999999999",  # a zone that overflows a timedelta
    "Mon, 31 Feb 2024 12:00:00 GMT",
    "-5",
    "1.5",
]


@pytest.mark.parametrize("value", BAD_RETRY_AFTERS)
async def test_a_bad_retry_after_falls_back_to_the_policy_backoff(value: str) -> None:
    waits: list[float] = []
    answer = then_ok(http(503, "", {"Retry-After": value}), times=2)
    async with raw_server(answer) as (url, _):
        policy = RetryPolicy(sleep=no_sleep, backoff_max=2.0)
        async with CalyptiaClient(
            token=TOKEN, base_url=url, retry=policy, on_retry=lambda d: waits.append(d.wait)
        ) as client:
            log = await client.pipeline_logs.get(LOG_ID)
    assert str(log.id) == LOG_ID
    assert len(waits) == 2
    assert all(0 <= w <= 2.0 for w in waits)


@pytest.mark.parametrize("value", BAD_RETRY_AFTERS)
async def test_a_bad_retry_after_on_a_500_is_a_server_error(value: str) -> None:
    async with raw_server(always(http(500, "", {"Retry-After": value}))) as (url, _):
        async with CalyptiaClient(
            token=TOKEN, base_url=url, retry=RetryPolicy.disabled()
        ) as client:
            with pytest.raises(ServerError) as caught:
                await client.pipeline_logs.get(LOG_ID)
    assert caught.value.status == 500


async def test_a_huge_retry_after_is_over_the_cap_and_raised_at_once() -> None:
    async with raw_server(always(http(429, "", {"Retry-After": "9" * 4000}))) as (url, server):
        async with CalyptiaClient(token=TOKEN, base_url=url, retry=RetryPolicy()) as client:
            with pytest.raises(CalyptiaError) as caught:
                await client.pipeline_logs.get(LOG_ID)
    assert len(server.requests) == 1
    assert getattr(caught.value, "retry_after", None) == 365 * 24 * 3600.0


async def test_get_many_goes_on_past_items_with_a_bad_retry_after() -> None:
    ids = [new_id() for _ in range(40)]
    bad = {ids[3], ids[17]}

    def answer(request: RawRequest) -> Reply:
        if request.path.rsplit("/", 1)[-1] in bad:
            return Reply(http(503, "", {"Retry-After": "\u00b2"}))
        return the_log_asked_for(request)

    async with (
        raw_server(answer) as (url, _),
        CalyptiaClient(token=TOKEN, base_url=url, retry=RetryPolicy(sleep=no_sleep)) as client,
    ):
        results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=8)]
    assert len(results) == 40
    failed = {str(r.id) for r in results if not r.ok}
    assert failed == bad
    assert all(isinstance(r.error, ServerError) for r in results if not r.ok)


@pytest.mark.parametrize(
    "body",
    [
        b'{"error": "line one\\nline two\\r\\nInjected: log line", "detail": "a\\nb\\u001b[31m"}',
        b"<html>\n<body>\nBad\n</body>\n</html>",
    ],
)
async def test_multi_line_server_text_becomes_one_line(body: bytes) -> None:
    async with raw_server(always(http(404, body))) as (url, _):
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:
            with pytest.raises(NotFoundError) as caught:
                await client.pipeline_logs.get(LOG_ID)
    error = caught.value
    for text in (str(error), repr(error), error.message, error.detail or "", error.body):
        assert "\n" not in text
        assert "\r" not in text
        assert "\x1b" not in text
    if body.startswith(b"{"):
        assert error.message == "line one\\nline two\\r\\nInjected: log line"


async def test_a_huge_error_text_is_capped() -> None:
    body = b'{"error": "' + b"e" * 100_000 + b'", "detail": "' + b"d" * 100_000 + b'"}'
    async with raw_server(always(http(400, body))) as (url, _):
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:
            with pytest.raises(CalyptiaError) as caught:
                await client.pipeline_logs.get(LOG_ID)
    assert len(str(caught.value)) < 2_500


@pytest.mark.parametrize(
    "status_line",
    [
        "HTTP/1.1 200 OK\nInjected: header",
        "garbage\r\nmore garbage",
        "HTTP/1.1 99999 Nope",
        "ICY 200 OK",
    ],
)
async def test_a_garbage_status_line_is_a_one_line_connection_error(status_line: str) -> None:
    async with raw_server(always(http(status_line, b"{}"), close=True)) as (url, _):
        async with CalyptiaClient(
            token=TOKEN, base_url=url, retry=RetryPolicy(sleep=no_sleep)
        ) as client:
            with pytest.raises(CalyptiaError) as caught:
                await client.pipeline_logs.get(LOG_ID)
    assert isinstance(caught.value, APIConnectionError | ResponseDecodeError)
    assert "\n" not in str(caught.value)
    assert "\r" not in str(caught.value)


def echo_everything(request: RawRequest) -> Reply:
    """A server that echoes the request's credentials in every place it can."""
    secret = request.headers.get("authorization") or request.headers.get("x-project-token", "")
    doc = {"error": f"bad token {secret}", "detail": f"you sent {secret!r}", "echo": secret}
    body = __import__("orjson").dumps(doc)
    return Reply(http(401, body, {"X-Echo": secret, "Location": f"/x?t={secret}"}))


def echo_in_a_success(request: RawRequest) -> Reply:
    """A good document but for one field: the converter's own error quotes that value."""
    secret = request.headers.get("authorization") or request.headers.get("x-project-token", "")
    body = __import__("orjson").dumps(log_json(status=secret, updatedAt=secret))
    return Reply(http(200, body))


@pytest.mark.parametrize("kind", ["token", "project_token"])
@pytest.mark.parametrize("answer", [echo_everything, echo_in_a_success])
async def test_a_server_echoing_the_token_never_gets_it_into_an_exception(
    kind: str, answer: Any
) -> None:
    secret = "calyptia-SECRET-7f3a9c"
    async with raw_server(answer) as (url, _):
        async with CalyptiaClient(base_url=url, **{kind: secret}) as client:
            with pytest.raises(CalyptiaError) as caught:
                await client.pipeline_logs.get(LOG_ID)
    text = shown(caught.value)
    assert secret not in text
    assert "<redacted>" in text


async def test_an_echoed_token_stays_out_of_a_retry_budget_error() -> None:
    secret = "calyptia-SECRET-7f3a9c"

    def answer(request: RawRequest) -> Reply:
        echoed = request.headers.get("authorization", "")
        return Reply(http(503, f'{{"error": "down for {echoed}"}}'))

    async with (
        raw_server(answer) as (url, _),
        CalyptiaClient(
            token=secret,
            base_url=url,
            retry=RetryPolicy(sleep=no_sleep),
            retry_budget=RetryBudget(capacity=0),
        ) as client,
    ):
        with pytest.raises(CalyptiaError) as caught:
            await client.pipeline_logs.get(LOG_ID)
    assert secret not in shown(caught.value)


# --- wait_until_done keeps its word -------------------------------------------------------


async def _polls(hint: int, timeout: float) -> tuple[int, float]:
    """GETs of the log made by a wait that cannot succeed, and the time it took."""
    async with run_fake_cloud(fill_delay=3600, polling_interval_ms=hint) as cloud:
        pipeline = cloud.add_pipeline()
        (log_id,) = cloud.seed_logs(pipeline, 1, status=PipelineLogStatus.NEW)
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            started = time.monotonic()
            with pytest.raises(WaitTimeoutError, match="still NEW"):
                await client.pipeline_logs.wait_until_done(log_id, timeout=timeout)
            took = time.monotonic() - started
        gets = [r for r in cloud.requests if r.path == f"/v1/pipeline_logs/{log_id}"]
    return len(gets), took


async def test_a_negative_polling_hint_does_not_make_a_tight_loop() -> None:
    gets, took = await _polls(-5, timeout=0.6)
    assert gets == 1  # the hint is ignored: the default interval (1 s) applies
    assert took < 1.0


async def test_a_1ms_polling_hint_is_clamped_to_a_quarter_second() -> None:
    gets, _ = await _polls(1, timeout=0.6)
    assert 2 <= gets <= 3  # at 0, 0.25 and 0.5 s; a 1 ms hint would be ~600


async def test_a_failing_hint_lookup_does_not_fail_the_wait() -> None:
    async with run_fake_cloud(fill_delay=0.2) as cloud:
        pipeline = cloud.add_pipeline()
        cloud.inject(Fault.http_status(403), times=None, method="GET", path=r".*/logs$")
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            created = await client.pipeline_logs.create(pipeline, lines=3)
            log = await client.pipeline_logs.wait_until_done(created.id, timeout=5)
    assert log.status is PipelineLogStatus.DONE


@pytest.mark.parametrize(
    "reply",
    [
        Reply(http(503, "", {"Retry-After": "30"})),  # a retry that would wait 30 s
        Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", hold=True),  # a stalled body
    ],
    ids=["retry-after", "stall"],
)
async def test_the_wait_timeout_bounds_the_poll_in_flight(reply: Reply) -> None:
    async with raw_server(always(reply.data, hold=reply.hold)) as (url, _):
        async with CalyptiaClient(token=TOKEN, base_url=url, timeout=30) as client:
            started = time.monotonic()
            with pytest.raises(WaitTimeoutError, match=r"after 0\.3s"):
                await client.pipeline_logs.wait_until_done(LOG_ID, timeout=0.3)
            assert time.monotonic() - started < 1.0
            assert client.transport.session is not None
            assert not client.transport.session.connector._acquired  # type: ignore[union-attr]


# --- bulk isolation ------------------------------------------------------------------------


async def test_one_items_unexpected_exception_never_stops_the_others() -> None:
    ids = [new_id() for _ in range(20)]
    poisoned = ids[5]

    def on_response(_info: Any) -> None:
        # A bug in a user's hook, hit by one item only (concurrency 1: the last request is it).
        if server.requests[-1].path.endswith(poisoned):
            raise RuntimeError("a bug in a user's hook")

    async with raw_server(the_log_asked_for) as (url, server):
        async with CalyptiaClient(token=TOKEN, base_url=url, on_response=on_response) as client:
            results = [r async for r in client.pipeline_logs.get_many(ids, concurrency=1)]
    assert len(results) == 20
    (failed,) = [r for r in results if not r.ok]
    assert str(failed.id) == poisoned
    assert isinstance(failed.error, CalyptiaError)
    assert isinstance(failed.error.__cause__, RuntimeError)
    assert "unexpected RuntimeError" in str(failed.error)


async def test_cancelling_a_bulk_run_is_not_an_item_failure() -> None:
    async with raw_server(always(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", hold=True)) as (
        url,
        _,
    ):
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:

            async def consume() -> list[Any]:
                return [r async for r in client.pipeline_logs.get_many([new_id(), new_id()])]

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

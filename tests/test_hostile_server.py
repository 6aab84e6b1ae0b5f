"""A hostile server, the second adversarial pass: each case failed on 0.2 and holds now.

Every test runs over a real socket (a raw ``asyncio`` server on 127.0.0.1, or
aiohttp's test server where well-formed HTTP is enough) and uses the public API
only. docs/reliability.md lists the cases with their outcomes.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import aiohttp
import orjson
import pytest

from calyptia_logs import (
    CalyptiaClient,
    PaginationError,
    RedirectError,
    ResponseDecodeError,
    RetryDetails,
    RetryPolicy,
    filter_records,
    parse_records,
)
from calyptia_logs.retry import no_sleep
from calyptia_logs.server_values import COUNT_MAX, POLL_INTERVAL_MAX_MS
from calyptia_logs.testing import run_fake_cloud
from tests.conftest import PIPELINE_ID, TOKEN, log_json, new_id
from tests.forward_proxy import forward_proxy
from tests.raw_server import RawRequest, Reply, http, raw_server

JSON = {"Content-Type": "application/json"}
SECRET = "hostile-SECRET-token-77c1"  # long enough to be scrubbed


def log_reply(log_id: str, **extra: Any) -> bytes:
    return http(200, orjson.dumps(log_json(id=log_id)), JSON | extra)


def asked_id(request: RawRequest) -> str:
    return request.path.split("?")[0].rsplit("/", 1)[-1]


# --- 1. cancelling a call that waits for a pooled connection --------------------------------


async def test_cancelling_calls_queued_for_a_connection_ends_each_with_cancelled_error() -> None:
    stalled = Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", hold=True)
    async with raw_server(lambda _r: stalled) as (url, _):
        async with CalyptiaClient(token=TOKEN, base_url=url, connector_limit=4) as client:
            tasks = [asyncio.create_task(client.pipeline_logs.get(new_id())) for _ in range(40)]
            await asyncio.sleep(0.2)  # 4 hold a connection, 36 wait for one
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(o, asyncio.CancelledError) for o in outcomes), {
                type(o).__name__ for o in outcomes
            }
            assert client.transport._slots is not None
            assert client.transport._slots.free == 4
            assert not client.transport._slots.waiters


async def test_a_timeout_around_a_task_group_of_queued_calls_is_a_timeout() -> None:
    stalled = Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", hold=True)
    async with raw_server(lambda _r: stalled) as (url, _):
        async with CalyptiaClient(token=TOKEN, base_url=url, connector_limit=2) as client:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2), asyncio.TaskGroup() as group:
                    for _ in range(50):
                        group.create_task(client.pipeline_logs.get(new_id()))


# --- 2. a response pushed on an idle keep-alive connection ----------------------------------


async def test_a_response_pushed_on_an_idle_connection_is_never_taken_as_an_answer() -> None:
    pushed = log_reply(new_id())

    def answer(request: RawRequest) -> Reply:
        # Each answer is right, and then one more arrives, unasked, a moment later.
        return Reply(log_reply(asked_id(request)), push=pushed, push_after=0.02)

    retries: list[RetryDetails] = []
    async with raw_server(answer) as (url, server):
        async with CalyptiaClient(token=TOKEN, base_url=url, on_retry=retries.append) as client:
            for _ in range(5):
                log_id = new_id()
                assert str((await client.pipeline_logs.get(log_id)).id) == log_id
                await asyncio.sleep(0.05)  # the push arrives while the connection is idle
    assert server.connections == 5  # none of the poisoned connections was reused ...
    assert not retries  # ... not even once, to find the shifted answer


async def test_an_answer_about_another_log_is_refused_and_its_connection_closed() -> None:
    asked: list[str] = []

    def answer(request: RawRequest) -> Reply:
        asked.append(asked_id(request))
        # Shifted answers: the first request of every connection gets another log.
        first_on_connection = len(asked) == 1
        return Reply(log_reply(new_id() if first_on_connection else asked[-1]))

    async with raw_server(answer) as (url, server):
        # The caller's own session (a plain aiohttp connector): the check still holds.
        async with aiohttp.ClientSession() as session:
            client = CalyptiaClient(token=TOKEN, base_url=url, session=session)
            log_id = new_id()
            log = await client.pipeline_logs.get(log_id)
            assert str(log.id) == log_id
            assert server.connections == 2  # the shifted connection was closed, not reused


async def test_a_server_that_always_answers_with_another_log_fails_the_call() -> None:
    async with raw_server(lambda _r: Reply(log_reply(new_id()))) as (url, server):
        async with CalyptiaClient(
            token=TOKEN, base_url=url, retry=RetryPolicy(sleep=no_sleep)
        ) as client:
            with pytest.raises(ResponseDecodeError, match="about pipeline log") as caught:
                await client.pipeline_logs.get(new_id())
    assert caught.value.mismatch
    assert caught.value.attempts == 3
    assert server.connections == 3  # each attempt on a fresh connection


async def test_a_page_of_another_pipeline_is_refused() -> None:
    other = log_json(id=new_id(), pipelineID=new_id())
    page = http(200, orjson.dumps({"items": [other], "endCursor": None}), JSON)
    async with raw_server(lambda _r: Reply(page)) as (url, _):
        async with CalyptiaClient(
            token=TOKEN, base_url=url, retry=RetryPolicy.disabled()
        ) as client:
            with pytest.raises(ResponseDecodeError, match="about pipeline"):
                await client.pipeline_logs.list(PIPELINE_ID)
            with pytest.raises(ResponseDecodeError, match="about pipeline"):
                _ = [log async for log in client.pipeline_logs.iter(PIPELINE_ID)]


# --- 3. junk redirect targets ----------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:99999/v1/x",
        "http://h:abc/v1/x",
        "http://[::1/v1/x",
        "http://user:pw@{origin}/v1/x",
        "ftp://127.0.0.1/x",
        "http://:80/no-host",
        "/v1/x\x7fy",
    ],
)
async def test_a_junk_redirect_location_is_a_redirect_error(location: str) -> None:
    def answer(request: RawRequest) -> Reply:
        target = location.replace("{origin}", request.headers["host"])
        return Reply(http(307, b"", {"Location": target}))

    async with raw_server(answer) as (url, server):
        async with CalyptiaClient(token=TOKEN, base_url=url, follow_redirects=True) as client:
            with pytest.raises(RedirectError, match="not followed") as caught:
                await client.pipeline_logs.get(new_id())
    assert len(server.requests) == 1  # nothing was sent where it pointed
    assert caught.value.status == 307


# --- 4. the token echoed in a request-ID header -----------------------------------------------


async def test_a_token_echoed_in_the_request_id_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def answer(request: RawRequest) -> Reply:
        echo = request.headers["authorization"]
        return Reply(log_reply(asked_id(request), **{"X-Request-Id": f"req-1 {echo}"}))

    infos: list[Any] = []
    caplog.set_level(logging.DEBUG, logger="calyptia_logs")
    async with raw_server(answer) as (url, _):
        async with CalyptiaClient(token=SECRET, base_url=url, on_response=infos.append) as client:
            await client.pipeline_logs.get(new_id())
    assert infos[0].request_id == "req-1 Bearer <redacted>"
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in str(vars(record))


# --- 5. pagination that never ends ------------------------------------------------------------


async def test_empty_pages_with_fresh_cursors_stop_the_walk() -> None:
    def answer(request: RawRequest) -> Reply:
        cursor = new_id()
        return Reply(http(200, orjson.dumps({"items": [], "endCursor": cursor}), JSON))

    async with raw_server(answer) as (url, server):
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:
            with pytest.raises(PaginationError, match="10 pages in a row without a new item"):
                _ = [log async for log in client.pipeline_logs.iter(PIPELINE_ID)]
    assert len(server.requests) == 10


async def test_repeated_items_with_fresh_cursors_are_yielded_once_then_stop() -> None:
    items = [log_json(id=new_id()) for _ in range(3)]

    def answer(request: RawRequest) -> Reply:
        return Reply(http(200, orjson.dumps({"items": items, "endCursor": new_id()}), JSON))

    seen = []
    async with raw_server(answer) as (url, server):
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:
            with pytest.raises(PaginationError):
                async for log in client.pipeline_logs.iter(PIPELINE_ID):
                    seen.append(str(log.id))
    assert seen == [item["id"] for item in items]
    assert len(server.requests) == 11  # one page with news, then ten without


# --- 6. integers wider than 64 bits -----------------------------------------------------------


async def test_integers_wider_than_64_bits_are_clamped_not_dropped() -> None:
    body = b'{"items": [], "endCursor": null, "count": 1000000000000000000000000000000, '
    body += b'"pollingIntervalMs": 1000000000000000000000000000000}'
    async with raw_server(lambda _r: Reply(http(200, body, JSON))) as (url, _):
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:
            page = await client.pipeline_logs.list(PIPELINE_ID)
    assert page.count == COUNT_MAX
    assert page.polling_interval_ms == POLL_INTERVAL_MAX_MS


# --- 7. bytes that are not UTF-8 in a header ---------------------------------------------------


async def test_undecodable_header_bytes_never_reach_an_error_as_surrogates() -> None:
    reply = b"HTTP/1.1 302 Found\r\nLocation: /caf\xe9\xff\r\nX-Junk: \xfe\xfd\r\n"
    reply += b"Content-Length: 0\r\n\r\n"
    async with raw_server(lambda _r: Reply(reply)) as (url, _):
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:
            with pytest.raises(RedirectError) as caught:
                await client.pipeline_logs.get(new_id())
    error = caught.value
    str(error).encode("utf-8")  # strict: a lone surrogate would raise here
    repr(error).encode("utf-8")
    for name, value in error.headers.items():
        f"{name}: {value}".encode()
    assert "\\udc" in str(error)  # the undecodable bytes are shown escaped


# --- 8. proxy credentials for a plain-http API ------------------------------------------------


async def test_proxy_credentials_go_with_plain_http_requests() -> None:
    expected = "Basic " + base64.b64encode(b"me:pr0xy-pass").decode()
    async with run_fake_cloud() as cloud, forward_proxy(require_auth=expected) as proxy:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        with_auth = proxy.url.replace("http://", "http://me:pr0xy-pass@")
        async with CalyptiaClient(
            token=cloud.token, base_url=cloud.base_url, proxy=with_auth
        ) as client:
            log = await client.pipeline_logs.get(log_id)
        assert str(log.id) == str(log_id)
        assert proxy.seen[0].headers["Proxy-Authorization"] == expected
        # The origin never sees it.
        assert all("proxy-authorization" not in r.headers for r in cloud.requests)


# --- 9. observability: one label per endpoint; no option silently ignored -----------------


async def test_retry_details_and_the_retry_log_carry_the_path_template(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = iter([Reply(http(503, b"")), None])

    def answer(request: RawRequest) -> Reply:
        return next(answers) or Reply(log_reply(asked_id(request)))

    details: list[RetryDetails] = []
    caplog.set_level(logging.INFO, logger="calyptia_logs")
    async with raw_server(answer) as (url, _):
        async with CalyptiaClient(
            token=TOKEN, base_url=url, retry=RetryPolicy(sleep=no_sleep), on_retry=details.append
        ) as client:
            log_id = new_id()
            await client.pipeline_logs.get(log_id)
    assert details[0].path == "/v1/pipeline_logs/{id}"
    (record,) = [r for r in caplog.records if r.levelno == logging.INFO]
    assert record.calyptia_path == "/v1/pipeline_logs/{id}"  # type: ignore[attr-defined]
    assert log_id not in record.getMessage()


@pytest.mark.parametrize(
    "option",
    [{"connector_limit": 8}, {"trace_configs": [aiohttp.TraceConfig()]}],
    ids=["connector_limit", "trace_configs"],
)
async def test_session_options_beside_a_callers_session_are_refused(
    option: dict[str, Any],
) -> None:
    async with aiohttp.ClientSession() as session:
        name = next(iter(option))
        with pytest.raises(ValueError, match=f"{name}= configure the client's own session"):
            CalyptiaClient(token=TOKEN, session=session, **option)


# --- 10. filter_records' arguments ------------------------------------------------------------


def test_a_bad_grep_is_a_value_error_when_filter_records_is_called() -> None:
    records = parse_records("[2024/03/01 15:26:48] [error] [output:es:es.0] failed\n")
    with pytest.raises(ValueError, match="grep is not a valid regular expression"):
        filter_records(records, grep="(unclosed")  # no iteration needed


def test_every_bad_filter_argument_is_refused_at_the_call() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="LogLevel"):
        filter_records([], min_level="loud")
    with pytest.raises(ValueError, match="timezone-aware"):
        filter_records([], since=datetime(2024, 1, 1))

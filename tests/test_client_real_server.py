"""The client over real sockets against small aiohttp.web servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import aiohttp
import pytest
from aiohttp import web

from calyptia_logs import (
    APIConnectionError,
    APITimeoutError,
    CalyptiaClient,
    CalyptiaError,
    PaginationError,
    RedirectError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryPolicy,
)
from calyptia_logs.retry import no_sleep
from tests.conftest import LOG_ID, PIPELINE_ID, TOKEN, log_json, new_id, serve

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def app_with(routes: dict[tuple[str, str], Handler]) -> web.Application:
    app = web.Application()
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, _coroutine(handler))
    return app


def _coroutine(handler: Handler) -> Handler:
    # aiohttp wants a coroutine function, not an object with an async __call__.
    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    return route


class Recorder:
    """A handler that answers from a script and records each request's headers."""

    def __init__(self, *answers: Handler) -> None:
        self.answers = list(answers)
        self.requests: list[web.Request] = []
        self.headers: list[dict[str, str]] = []

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        self.headers.append(dict(request.headers))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return await answer(request)


async def ok_log(_: web.Request) -> web.Response:
    return web.json_response(log_json())


async def slow_log(_: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response(log_json())


async def drop_mid_body(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 5000
    await response.prepare(request)
    await response.write(b'{"id": "3fa85f64-57')
    assert request.transport is not None
    request.transport.close()
    return response


async def close_before_headers(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.close()
    return web.Response()


LOG_PATH = f"/v1/pipeline_logs/{LOG_ID}"


async def test_headers_carry_token_user_agent_and_accept(make_client: Any) -> None:
    handler = Recorder(ok_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        await make_client(url).pipeline_logs.get(LOG_ID)
    (headers,) = handler.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("calyptia-logs/")
    assert "aiohttp/" in headers["User-Agent"]
    assert "X-Project-Token" not in headers


async def test_project_token_is_sent_in_its_header(make_client: Any) -> None:
    handler = Recorder(ok_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        await make_client(url, token=None, project_token="proj-1").pipeline_logs.get(LOG_ID)
    (headers,) = handler.headers
    assert headers["X-Project-Token"] == "proj-1"
    assert "Authorization" not in headers


async def test_environment_configures_a_client_with_no_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = Recorder(ok_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        monkeypatch.setenv("CALYPTIA_CLOUD_URL", url + "/")
        monkeypatch.setenv("CALYPTIA_CLOUD_TOKEN", "from-env")
        async with CalyptiaClient() as client:
            assert client.base_url == url
            await client.pipeline_logs.get(LOG_ID)
    assert handler.headers[0]["Authorization"] == "Bearer from-env"


async def test_slow_response_trips_the_timeout_and_is_retried(make_client: Any) -> None:
    handler = Recorder(slow_log, ok_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        log = await make_client(url, timeout=0.2).pipeline_logs.get(LOG_ID)
    assert log.id == UUID(LOG_ID)
    assert len(handler.requests) == 2


async def test_timeout_on_every_attempt_raises_api_timeout_error(make_client: Any) -> None:
    handler = Recorder(slow_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        with pytest.raises(APITimeoutError) as caught:
            await make_client(url, timeout=0.1).pipeline_logs.get(LOG_ID)
    assert caught.value.attempts == 3
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert "timed out" in str(caught.value)


async def test_connection_dropped_mid_body_is_retried(make_client: Any) -> None:
    handler = Recorder(drop_mid_body, ok_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        log = await make_client(url).pipeline_logs.get(LOG_ID)
    assert log.id == UUID(LOG_ID)
    assert len(handler.requests) == 2


async def test_connection_closed_before_headers_surfaces_after_retries(make_client: Any) -> None:
    handler = Recorder(close_before_headers)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        with pytest.raises(APIConnectionError) as caught:
            await make_client(url).pipeline_logs.get(LOG_ID)
    assert caught.value.attempts == 3
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


async def test_refused_connection_is_a_connection_error(make_client: Any) -> None:
    async with serve(web.Application()) as url:
        pass  # the port is free again: nothing listens there now
    with pytest.raises(APIConnectionError, match="cannot connect") as caught:
        await make_client(url).pipeline_logs.create(PIPELINE_ID)
    assert caught.value.request_sent is False
    assert caught.value.attempts == 3  # a create that never left is safe to retry


async def test_redirects_are_not_followed(make_client: Any) -> None:
    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound("https://elsewhere.test/steal")

    handler = Recorder(redirect)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        with pytest.raises(RedirectError) as caught:
            await make_client(url).pipeline_logs.get(LOG_ID)
    assert caught.value.location == "https://elsewhere.test/steal"
    assert len(handler.requests) == 1


async def test_body_over_the_size_cap_is_refused(make_client: Any) -> None:
    async def big(_: web.Request) -> web.Response:
        return web.json_response(log_json(logs="x" * 100_000))

    async def big_gzip(_: web.Request) -> web.Response:
        response = web.json_response(log_json(logs="x" * 100_000))
        response.enable_compression()
        return response

    routes = {("GET", LOG_PATH): big, ("GET", f"/v1/pipeline_logs/{PIPELINE_ID}"): big_gzip}
    async with serve(app_with(routes)) as url:
        client = make_client(url, max_response_size=10_000)
        with pytest.raises(ResponseTooLargeError, match="max_response_size"):
            await client.pipeline_logs.get(LOG_ID)
        with pytest.raises(ResponseTooLargeError):
            await client.pipeline_logs.get(PIPELINE_ID)


async def test_iter_follows_a_link_header_when_the_body_has_no_cursor(make_client: Any) -> None:
    ids = [new_id() for _ in range(3)]
    path = f"/v1/pipelines/{PIPELINE_ID}/logs"

    async def pages(request: web.Request) -> web.Response:
        before = request.query.get("before")
        index = 0 if before is None else int(before)
        body = {"items": [log_json(id=ids[index])], "count": 3}
        headers = {}
        if index + 1 < len(ids):
            headers["Link"] = f'<{path}?before={index + 1}>; rel="next"'
        return web.json_response(body, headers=headers)

    async with serve(app_with({("GET", path): pages})) as url:
        seen = [str(log.id) async for log in make_client(url).pipeline_logs.iter(PIPELINE_ID)]
    assert seen == ids


async def test_a_repeated_cursor_stops_the_walk(make_client: Any) -> None:
    path = f"/v1/pipelines/{PIPELINE_ID}/logs"

    async def same(_: web.Request) -> web.Response:
        return web.json_response({"items": [log_json()], "endCursor": "again", "count": 9})

    async with serve(app_with({("GET", path): same})) as url:
        seen = []
        with pytest.raises(PaginationError, match="twice"):
            async for log in make_client(url).pipeline_logs.iter(PIPELINE_ID):
                seen.append(log)
    assert len(seen) == 1  # the repeated log is yielded once


async def test_session_is_created_lazily_and_closed_by_close() -> None:
    handler = Recorder(ok_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url:
        client = CalyptiaClient(token=TOKEN, base_url=url)
        assert client.transport.session is None
        await client.pipeline_logs.get(LOG_ID)
        session = client.transport.session
        assert session is not None
        await client.close()
        assert session.closed
        await client.close()  # twice is fine
        with pytest.raises(CalyptiaError, match="closed"):
            await client.pipeline_logs.get(LOG_ID)


async def test_a_callers_session_is_used_and_left_open() -> None:
    handler = Recorder(ok_log)
    async with serve(app_with({("GET", LOG_PATH): handler})) as url, aiohttp.ClientSession() as own:
        async with CalyptiaClient(token=TOKEN, base_url=url, session=own) as client:
            await client.pipeline_logs.get(LOG_ID)
            assert client.transport.session is own
        assert not own.closed
        assert handler.headers[0]["Authorization"] == f"Bearer {TOKEN}"


async def test_deadline_bounds_the_whole_call_including_retries() -> None:
    handler = Recorder(slow_log)
    async with (
        serve(app_with({("GET", LOG_PATH): handler})) as url,
        CalyptiaClient(
            token=TOKEN, base_url=url, timeout=5, deadline=0.2, retry=RetryPolicy(sleep=no_sleep)
        ) as client,
    ):
        with pytest.raises(APITimeoutError, match=r"deadline of 0\.2s"):
            await client.pipeline_logs.get(LOG_ID)


async def test_client_repr_does_not_show_the_token() -> None:
    client = CalyptiaClient(token="very-secret-token-123", base_url="https://api.test")
    assert "very-secret-token-123" not in repr(client)
    assert "very-secret-token-123" not in repr(client.transport)
    await client.close()


async def test_an_html_page_with_200_is_a_decode_error_naming_the_content_type(
    make_client: Any,
) -> None:
    async def html(_: web.Request) -> web.Response:
        return web.Response(text="<html>captive portal</html>", content_type="text/html")

    async with serve(app_with({("GET", LOG_PATH): Recorder(html)})) as url:
        with pytest.raises(ResponseDecodeError, match=r"not valid JSON \(text/html") as caught:
            await make_client(url).pipeline_logs.get(LOG_ID)
    assert caught.value.content_type == "text/html; charset=utf-8"
    assert "captive portal" in caught.value.body
    assert caught.value.attempts == 3  # not JSON at all: retried like a body cut short


async def test_a_closed_caller_session_is_a_clear_error() -> None:
    own = aiohttp.ClientSession()
    await own.close()
    async with CalyptiaClient(token=TOKEN, base_url="http://127.0.0.1:9", session=own) as client:
        with pytest.raises(CalyptiaError, match="session this client uses is closed"):
            await client.pipeline_logs.get(LOG_ID)


async def test_connection_slots_hand_over_in_order_and_survive_cancellation() -> None:
    from calyptia_logs.transport.slots import Slots

    slots = Slots(1)
    assert slots.try_take()
    assert not slots.try_take()
    order: list[str] = []

    async def wait(name: str) -> None:
        await slots.take()
        order.append(name)

    first, second, third = (asyncio.create_task(wait(n)) for n in ("first", "second", "third"))
    await asyncio.sleep(0)
    second.cancel()  # cancelled while waiting: leaves the queue
    await asyncio.sleep(0)
    slots.give()  # to "first"
    await asyncio.sleep(0)
    assert order == ["first"]
    slots.give()  # "second" is gone: to "third"
    third.cancel()  # handed the slot, then cancelled before using it: passes it on
    await asyncio.gather(first, second, third, return_exceptions=True)
    assert order == ["first"]
    assert slots.free == 1
    assert not slots.waiters

"""Secret hygiene and transport safety: tokens never leak, redirects never carry them away."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest
from aiohttp import web

from calyptia_logs import (
    APIConnectionError,
    CalyptiaClient,
    CalyptiaError,
    RedirectError,
    RetryPolicy,
)
from calyptia_logs.retry import no_sleep
from calyptia_logs.testing import FakeCalyptiaCloud, Fault, run_fake_cloud
from tests.conftest import LOG_ID, log_json, serve

SECRET = "tok-SUPER-SECRET-7f3a9c"


def chain(error: BaseException) -> str:
    """Everything a person could see of an error: str, repr and the whole traceback."""
    parts = []
    seen: BaseException | None = error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(getattr(seen, "__dict__", {}))]
        seen = seen.__cause__ or seen.__context__
    parts.append("".join(traceback.format_exception(error)))
    return "\n".join(parts)


@pytest.mark.parametrize("kind", ["token", "project_token"])
async def test_the_token_never_appears_in_reprs_errors_or_debug_logs(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeCalyptiaCloud(tokens=[SECRET], project_tokens=[SECRET])
    async with run_fake_cloud(fake) as cloud:
        pipeline = cloud.add_pipeline()
        (log_id,) = cloud.seed_logs(pipeline, 1)
        cloud.inject(Fault.http_status(503), times=1)
        cloud.inject(Fault.reset(), times=1)
        client = CalyptiaClient(
            base_url=cloud.base_url, retry=RetryPolicy(sleep=no_sleep), **{kind: SECRET}
        )
        errors: list[CalyptiaError] = []
        async with client:
            await client.pipeline_logs.get(log_id)  # survives a 503 and a reset
            for fault in (
                Fault.http_status(401),
                Fault.html(502),
                Fault.invalid_json(),
                Fault.drop(),
            ):
                cloud.clear_faults()
                cloud.inject(fault, times=None)
                with pytest.raises(CalyptiaError) as caught:
                    await client.pipeline_logs.get(log_id)
                errors.append(caught.value)
            texts = [
                repr(client),
                str(client),
                repr(client.transport),
                repr(client.transport.credentials),
            ]
        assert SECRET in cloud.requests[0].headers.get("Authorization", "") + cloud.requests[
            0
        ].headers.get("X-Project-Token", "")
    texts += [chain(error) for error in errors]
    texts += [record.getMessage() + repr(record.__dict__) for record in caplog.records]
    assert any("retrying" in record.getMessage() for record in caplog.records)
    assert any("->" in record.getMessage() for record in caplog.records)  # DEBUG response lines
    for text in texts:
        assert SECRET not in text


async def test_a_connection_error_does_not_leak_the_token() -> None:
    async with serve(web.Application()) as url:
        pass  # nothing listens there now
    client = CalyptiaClient(token=SECRET, base_url=url, retry=RetryPolicy(sleep=no_sleep))
    async with client:
        with pytest.raises(APIConnectionError) as caught:
            await client.pipeline_logs.get(LOG_ID)
    assert SECRET not in chain(caught.value)


class Origin:
    """A second server on another port that records what it was sent."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    def app(self) -> web.Application:
        async def handler(request: web.Request) -> web.Response:
            self.headers.append(dict(request.headers))
            return web.json_response(log_json())

        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        return app


def redirecting(target: str, status: int = 302) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        if request.path.startswith("/here"):
            return web.json_response(log_json())
        return web.Response(status=status, headers={"Location": target})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.mark.parametrize("kind", ["token", "project_token"])
async def test_followed_redirects_never_send_credentials_to_another_origin(kind: str) -> None:
    other = Origin()
    async with (
        serve(other.app()) as elsewhere,
        serve(redirecting(f"{elsewhere}/x")) as url,
        CalyptiaClient(base_url=url, follow_redirects=True, **{kind: SECRET}) as client,
    ):
        log = await client.pipeline_logs.get(LOG_ID)
    assert str(log.id) == LOG_ID
    (headers,) = other.headers
    assert "Authorization" not in headers
    assert "X-Project-Token" not in headers
    assert SECRET not in repr(headers)
    assert headers["User-Agent"].startswith("calyptia-logs/")


async def test_same_origin_redirects_keep_the_credentials() -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        if request.path.startswith("/here"):
            return web.json_response(log_json())
        return web.Response(status=307, headers={"Location": "/here"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with (
        serve(app) as url,
        CalyptiaClient(token=SECRET, base_url=url, follow_redirects=True) as client,
    ):
        await client.pipeline_logs.get(LOG_ID)
    assert [h["Authorization"] for h in seen] == [f"Bearer {SECRET}"] * 2


async def test_redirects_are_not_followed_by_default() -> None:
    other = Origin()
    async with (
        serve(other.app()) as elsewhere,
        serve(redirecting(f"{elsewhere}/x")) as url,
        CalyptiaClient(token=SECRET, base_url=url) as client,
    ):
        with pytest.raises(RedirectError) as caught:
            await client.pipeline_logs.get(LOG_ID)
    assert caught.value.location == f"{elsewhere}/x"
    assert other.headers == []


async def test_a_redirect_loop_ends_in_an_error() -> None:
    async with (
        serve(redirecting("/loop")) as url,
        CalyptiaClient(token=SECRET, base_url=url, follow_redirects=True) as client,
    ):
        with pytest.raises(RedirectError, match="more than 10 redirects"):
            await client.pipeline_logs.get(LOG_ID)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token": "abc\r\nX-Injected: 1"}, "control characters"),
        ({"token": "abc\x00"}, "control characters"),
        ({"token": "t", "base_url": "http://cloud-api.example.com"}, "plain http"),
        ({"token": "t", "base_url": "file:///etc/passwd"}, "http"),
        ({"token": "t", "base_url": "https://"}, "host"),
    ],
)
def test_unsafe_configuration_is_refused_at_construction(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CalyptiaClient(**kwargs)


def test_plain_http_to_a_remote_host_needs_an_explicit_opt_in() -> None:
    client = CalyptiaClient(token="t", base_url="http://10.1.2.3:8080", allow_insecure_http=True)
    assert client.base_url == "http://10.1.2.3:8080"

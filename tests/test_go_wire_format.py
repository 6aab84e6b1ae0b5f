"""Bodies exactly as Go's encoding/json writes them for the API's types, over real sockets.

``tests/samples/go_encoding_json.json`` was written by ``tests/go_wire/main.go``
(``go run``, Go 1.19): nil slices as ``null``, nil pointers as ``null``, zero
times as year 1, nanosecond and offset times, ``omitempty`` fields left out,
and ``<``, ``>``, ``&`` and U+2028 escaped the way Go escapes them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
import pytest
from aiohttp import web

from calyptia_logs import (
    CalyptiaClient,
    NotFoundError,
    PipelineLogStatus,
    RateLimitError,
    RetryPolicy,
)
from calyptia_logs.testing import run_fake_cloud
from tests.conftest import LOG_ID, PIPELINE_ID, TOKEN, serve

GO: dict[str, str] = json.loads(
    (Path(__file__).parent / "samples" / "go_encoding_json.json").read_text()
)


def go_app(get: str, *, status: int = 200, list_body: str | None = None) -> web.Application:
    """Serve Go's bytes verbatim for every endpoint."""

    def answer(body: str, code: int) -> Any:
        async def handler(_: web.Request) -> web.Response:
            return web.Response(body=body.encode(), status=code, content_type="application/json")

        return handler

    app = web.Application()
    for method in ("GET", "PATCH", "DELETE"):
        app.router.add_route(method, "/v1/pipeline_logs/{id}", answer(get, status))
    app.router.add_get("/v1/pipelines/{id}/logs", answer(list_body or get, status))
    app.router.add_post("/v1/pipelines/{id}/logs", answer(get, status))
    return app


async def test_a_done_log_with_nanoseconds_offsets_and_go_escapes() -> None:
    async with serve(go_app(GO["log_done"])) as url, CalyptiaClient(token=TOKEN, base_url=url) as c:
        log = await c.pipeline_logs.get(LOG_ID)
    assert log.id == UUID(LOG_ID)
    assert log.pipeline_id == UUID(PIPELINE_ID)
    assert log.status is PipelineLogStatus.DONE
    assert log.logs == '[2024/02/07 10:24:50] [ info] <html> & "quotes"\n\u2028line\n'
    # Go writes all nine digits; Python keeps six.
    assert log.created_at == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    # "12:00:05.5+02:00": one fraction digit and an offset, read as the same instant in UTC.
    assert log.updated_at == datetime(2024, 5, 1, 10, 0, 5, 500000, tzinfo=UTC)


async def test_a_zero_time_decodes_as_year_one() -> None:
    body = GO["log_new_zero_time"]
    async with serve(go_app(body)) as url, CalyptiaClient(token=TOKEN, base_url=url) as c:
        log = await c.pipeline_logs.get(LOG_ID)
    assert log.updated_at == datetime(1, 1, 1, tzinfo=UTC)
    assert (log.status, log.lines, log.logs) == (PipelineLogStatus.NEW, 0, "")


@pytest.mark.parametrize("sample", ["page_nil_items", "page_empty_items"])
async def test_a_nil_slice_is_an_empty_page_for_list_and_iter(sample: str) -> None:
    async with (
        serve(go_app(GO[sample])) as url,
        CalyptiaClient(token=TOKEN, base_url=url) as client,
    ):
        page = await client.pipeline_logs.list(PIPELINE_ID)
        items = [log async for log in client.pipeline_logs.iter(PIPELINE_ID)]
    assert (page.items, page.end_cursor, page.count) == ([], None, 0)
    assert items == []


async def test_a_page_with_a_cursor() -> None:
    body = GO["page_with_cursor"]
    async with serve(go_app(body)) as url, CalyptiaClient(token=TOKEN, base_url=url) as client:
        page = await client.pipeline_logs.list(PIPELINE_ID)
    assert (len(page.items), page.end_cursor, page.count) == (2, "c2VxOjQy", 7)
    assert page.polling_interval_ms is None  # omitted by Go's type: the default applies


@pytest.mark.parametrize(
    ("sample", "check"),
    [
        ("created", lambda r: r.id == UUID(LOG_ID) and r.created_at.microsecond == 123456),
        ("updated", lambda r: r.updated_at == datetime(2024, 5, 1, 10, 0, 5, 500000, tzinfo=UTC)),
        ("deleted", lambda r: r.deleted and r.deleted_at is not None),
        ("deleted_nil_time", lambda r: r.deleted is False and r.deleted_at is None),
    ],
)
async def test_create_update_and_delete_answers(sample: str, check: Any) -> None:
    async with serve(go_app(GO[sample])) as url, CalyptiaClient(token=TOKEN, base_url=url) as c:
        logs = c.pipeline_logs
        if sample == "created":
            result: Any = await logs.create(PIPELINE_ID, lines=5)
        elif sample == "updated":
            result = await logs.update(LOG_ID, lines=5)
        else:
            result = await logs.delete(LOG_ID)
    assert check(result)


async def test_error_documents_with_go_escapes_and_omitted_fields() -> None:
    async with (
        serve(go_app(GO["error_detail"], status=404)) as url,
        CalyptiaClient(token=TOKEN, base_url=url) as client,
    ):
        with pytest.raises(NotFoundError) as caught:
            await client.pipeline_logs.get(LOG_ID)
    assert caught.value.message == "not found"
    assert caught.value.detail == 'pipeline log "x" <not> found & gone'
    assert caught.value.error_fields == {}  # omitempty fields are simply absent


async def test_a_quota_error_keeps_its_fields() -> None:
    async with (
        serve(go_app(GO["error_quota"], status=429)) as url,
        CalyptiaClient(token=TOKEN, base_url=url, retry=RetryPolicy.disabled()) as client,
    ):
        with pytest.raises(RateLimitError) as caught:
            await client.pipeline_logs.get(LOG_ID)
    assert caught.value.error_fields == {"quotaLimit": 300, "quotaRemaining": 0}


async def test_the_fake_accepts_what_the_go_client_sends() -> None:
    """The Go client sends ``lines: 0`` when unset, and ``null`` for every nil pointer."""
    async with run_fake_cloud() as cloud:
        pipeline = cloud.add_pipeline(PIPELINE_ID)
        (log_id,) = cloud.seed_logs(pipeline, 1, lines=3)
        headers = {"Authorization": f"Bearer {cloud.token}", "Content-Type": "application/json"}
        async with aiohttp.ClientSession(headers=headers) as http:
            create = GO["create_request_unset_lines"]
            async with http.post(
                f"{cloud.base_url}/v1/pipelines/{pipeline}/logs", data=create
            ) as r:
                assert r.status == 201
                created = UUID((await r.json())["id"])
            update = GO["update_request_all_nil"]
            async with http.patch(f"{cloud.base_url}/v1/pipeline_logs/{log_id}", data=update) as r:
                assert r.status == 200
            async with http.get(f"{cloud.base_url}/v1/pipelines/{pipeline}/logs?last=0") as r:
                page = await r.json()
        assert cloud.logs[created].lines == 100  # lines 0: the API's default
        assert cloud.logs[log_id].lines == 3  # all-null update: nothing changed
        assert len(page["items"]) == 2  # last=0: the default page size

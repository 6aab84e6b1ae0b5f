"""The fake's own behaviour, checked with a bare aiohttp session (not our client)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from calyptia_logs.models import PipelineLogStatus
from calyptia_logs.testing import FakeCalyptiaCloud, Fault, RunningFake, run_fake_cloud

AUTH = {"Authorization": "Bearer fake-token"}


@pytest.fixture
async def cloud() -> AsyncIterator[RunningFake]:
    async with run_fake_cloud(FakeCalyptiaCloud(fill_delay=0)) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as response:
        body = await response.read()
        try:
            return response.status, await response.json(content_type=None)
        except ValueError:
            return response.status, body


async def test_get_update_delete_round(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    pipeline = cloud.add_pipeline()
    (log_id,) = cloud.seed_logs(pipeline, 1, lines=3)
    url = f"{cloud.base_url}/v1/pipeline_logs/{log_id}"
    status, doc = await call(http, "GET", url)
    assert status == 200
    assert set(doc) == {"id", "pipelineID", "logs", "lines", "status", "createdAt", "updatedAt"}
    assert doc["logs"].count("\n") == 3
    status, doc = await call(http, "PATCH", url, json={"status": "NEW", "lines": 7, "logs": None})
    assert status == 200
    assert set(doc) == {"updatedAt"}
    assert cloud.logs[log_id].status is PipelineLogStatus.NEW
    assert cloud.logs[log_id].lines == 7
    status, doc = await call(http, "DELETE", url)
    assert (status, doc["deleted"]) == (200, True)
    status, doc = await call(http, "GET", url)
    assert (status, doc) == (404, {"error": "pipeline log not found"})


async def test_invalid_ids_are_400(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    status, doc = await call(http, "GET", f"{cloud.base_url}/v1/pipeline_logs/nope")
    assert status == 400
    assert doc["error"] == "invalid pipeline log ID"
    status, doc = await call(http, "POST", f"{cloud.base_url}/v1/pipelines/nope/logs", json={})
    assert (status, doc["error"]) == (400, "invalid pipeline ID")


async def test_patch_validates_its_body(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    url = f"{cloud.base_url}/v1/pipeline_logs/{log_id}"
    assert (await call(http, "PATCH", url, json={"status": "LATER"}))[0] == 400
    assert (
        await call(http, "PATCH", url, data=b"{", headers={"Content-Type": "application/json"})
    )[0] == 400


async def test_create_is_new_then_filled_by_the_cluster(http: aiohttp.ClientSession) -> None:
    async with run_fake_cloud(fill_delay=0.2) as cloud:
        await _create_and_watch_fill(cloud, http)


async def _create_and_watch_fill(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    pipeline = cloud.add_pipeline()
    status, doc = await call(
        http,
        "POST",
        f"{cloud.base_url}/v1/pipelines/{pipeline}/logs",
        json={"lines": 4, "logs": ""},
    )
    assert status == 201
    assert set(doc) == {"id", "createdAt"}
    log_id = uuid.UUID(doc["id"])
    _, got = await call(http, "GET", f"{cloud.base_url}/v1/pipeline_logs/{log_id}")
    assert (got["status"], got["logs"]) == ("NEW", "")
    await asyncio.sleep(0.3)
    _, got = await call(http, "GET", f"{cloud.base_url}/v1/pipeline_logs/{log_id}")
    assert got["status"] == "DONE"
    assert got["logs"].count("\n") == 4


async def test_create_on_an_unknown_pipeline_is_404(
    cloud: RunningFake, http: aiohttp.ClientSession
) -> None:
    status, doc = await call(
        http, "POST", f"{cloud.base_url}/v1/pipelines/{uuid.uuid4()}/logs", json={"lines": 1}
    )
    assert (status, doc["error"]) == (404, "pipeline not found")


async def test_list_paginates_backward_with_opaque_cursors(
    cloud: RunningFake, http: aiohttp.ClientSession
) -> None:
    pipeline = cloud.add_pipeline()
    ids = [str(i) for i in cloud.seed_logs(pipeline, 7)]
    url = f"{cloud.base_url}/v1/pipelines/{pipeline}/logs"
    seen: list[str] = []
    params: dict[str, str] = {"last": "3"}
    pages = 0
    while True:
        status, page = await call(http, "GET", url, params=params)
        assert status == 200
        assert page["count"] == 7
        assert page["pollingIntervalMs"] == 250
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if page["endCursor"] is None:
            break
        params["before"] = page["endCursor"]
    assert seen == list(reversed(ids))  # newest first
    assert pages == 3


async def test_list_filters_by_status(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    pipeline = cloud.add_pipeline()
    cloud.seed_logs(pipeline, 2, status=PipelineLogStatus.NEW)
    cloud.seed_logs(pipeline, 3)
    url = f"{cloud.base_url}/v1/pipelines/{pipeline}/logs"
    _, page = await call(http, "GET", url, params={"status": "NEW"})
    assert [i["status"] for i in page["items"]] == ["NEW", "NEW"]
    assert page["count"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"before": "garbage!"},
        {"before": "c2VxOng"},
        {"last": "-1"},
        {"last": "1001"},
        {"last": "\u00b2"},
        {"last": "9" * 5000},
        {"status": "OLD"},
    ],
)
async def test_bad_list_parameters_are_400(
    cloud: RunningFake, http: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    pipeline = cloud.add_pipeline()
    status, _ = await call(
        http, "GET", f"{cloud.base_url}/v1/pipelines/{pipeline}/logs", params=params
    )
    assert status == 400


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "fake-token"},
        {"X-Project-Token": "wrong"},
    ],
)
async def test_requests_without_a_valid_token_are_401(
    cloud: RunningFake, headers: dict[str, str]
) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    async with aiohttp.ClientSession() as bare:
        status, doc = await call(
            bare, "GET", f"{cloud.base_url}/v1/pipeline_logs/{log_id}", headers=headers
        )
    assert status == 401
    assert doc["error"] == "unauthorized"


async def test_project_token_is_accepted(cloud: RunningFake) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    async with aiohttp.ClientSession() as bare:
        status, _ = await call(
            bare,
            "GET",
            f"{cloud.base_url}/v1/pipeline_logs/{log_id}",
            headers={"X-Project-Token": "fake-token"},
        )
    assert status == 200


async def test_records_every_request(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    pipeline = cloud.add_pipeline()
    await call(http, "POST", f"{cloud.base_url}/v1/pipelines/{pipeline}/logs", json={"lines": 2})
    (recorded,) = cloud.requests
    assert recorded.method == "POST"
    assert recorded.path == f"/v1/pipelines/{pipeline}/logs"
    assert recorded.headers["Authorization"] == "Bearer fake-token"
    assert recorded.body == b'{"lines": 2}'


# --- faults -------------------------------------------------------------------------------


async def test_status_fault_with_retry_after_then_healthy(
    cloud: RunningFake, http: aiohttp.ClientSession
) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    rule = cloud.inject(Fault.http_status(429, retry_after=3), times=2, method="GET")
    url = f"{cloud.base_url}/v1/pipeline_logs/{log_id}"
    for _ in range(2):
        async with http.get(url) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "3"
            assert (await response.json())["error"] == "too many requests"
    assert (await call(http, "GET", url))[0] == 200
    assert rule.hits == 2


async def test_html_fault(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    cloud.inject(Fault.html(502))
    async with http.get(f"{cloud.base_url}/v1/pipeline_logs/{uuid.uuid4()}") as response:
        assert response.status == 502
        assert response.content_type == "text/html"
        assert "502 Bad Gateway" in await response.text()


async def test_delay_fault_answers_late(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    cloud.inject(Fault.slow(5))
    with pytest.raises(TimeoutError):
        await call(
            http,
            "GET",
            f"{cloud.base_url}/v1/pipeline_logs/{log_id}",
            timeout=aiohttp.ClientTimeout(total=0.1),
        )


async def test_drop_fault_breaks_the_body(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    cloud.inject(Fault.drop())
    with pytest.raises(aiohttp.ClientPayloadError):
        await call(http, "GET", f"{cloud.base_url}/v1/pipeline_logs/{log_id}")


async def test_reset_fault_closes_before_headers(
    cloud: RunningFake, http: aiohttp.ClientSession
) -> None:
    rule = cloud.inject(Fault.reset(), times=None)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "GET", f"{cloud.base_url}/v1/pipeline_logs/{uuid.uuid4()}")
    assert rule.hits >= 1


async def test_truncated_fault_is_a_framed_half_body(
    cloud: RunningFake, http: aiohttp.ClientSession
) -> None:
    (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
    url = f"{cloud.base_url}/v1/pipeline_logs/{log_id}"
    _, whole = await call(http, "GET", url)
    cloud.inject(Fault.truncated())
    status, body = await call(http, "GET", url)
    assert status == 200
    assert isinstance(body, bytes)
    assert 0 < len(body) < len(str(whole))


async def test_invalid_json_fault(cloud: RunningFake, http: aiohttp.ClientSession) -> None:
    cloud.inject(Fault.invalid_json())
    status, body = await call(http, "GET", f"{cloud.base_url}/v1/pipeline_logs/{uuid.uuid4()}")
    assert (status, body) == (200, b"{not json")


async def test_faults_match_method_and_path(
    cloud: RunningFake, http: aiohttp.ClientSession
) -> None:
    pipeline = cloud.add_pipeline()
    cloud.inject(Fault.http_status(503), times=None, method="DELETE", path=r"^/v1/pipeline_logs/")
    (log_id,) = cloud.seed_logs(pipeline, 1)
    assert (await call(http, "GET", f"{cloud.base_url}/v1/pipeline_logs/{log_id}"))[0] == 200
    assert (await call(http, "DELETE", f"{cloud.base_url}/v1/pipeline_logs/{log_id}"))[0] == 503
    cloud.clear_faults()
    assert (await call(http, "DELETE", f"{cloud.base_url}/v1/pipeline_logs/{log_id}"))[0] == 200


async def test_probabilistic_faults_are_repeatable_with_a_seed() -> None:
    outcomes = []
    for _ in range(2):
        async with run_fake_cloud() as cloud, aiohttp.ClientSession(headers=AUTH) as http:
            cloud.inject(Fault.http_status(503), times=None, probability=0.3, seed=42)
            url = f"{cloud.base_url}/v1/pipeline_logs/{uuid.uuid4()}"
            outcomes.append([(await call(http, "GET", url))[0] for _ in range(40)])
    assert outcomes[0] == outcomes[1]
    assert 4 <= outcomes[0].count(503) <= 20
    assert set(outcomes[0]) == {404, 503}

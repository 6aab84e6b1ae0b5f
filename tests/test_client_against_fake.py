"""The client against the embedded fake over real sockets: every endpoint, every fault."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from calyptia_logs import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CalyptiaClient,
    NotFoundError,
    PipelineLogStatus,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    WaitTimeoutError,
)
from calyptia_logs.retry import no_sleep
from calyptia_logs.testing import Fault, RunningFake, run_fake_cloud


async def test_every_endpoint_through_the_fixture(
    fake_cloud: RunningFake, fake_cloud_client: CalyptiaClient
) -> None:
    logs = fake_cloud_client.pipeline_logs
    pipeline = fake_cloud.add_pipeline()
    created = await logs.create(pipeline, lines=5)
    log = await logs.wait_until_done(created.id, timeout=5, poll_interval=0.01)
    assert (log.status, log.lines, log.logs.count("\n")) == (PipelineLogStatus.DONE, 5, 5)
    updated = await logs.update(created.id, status=PipelineLogStatus.NEW, logs="x")
    assert updated.updated_at >= log.updated_at
    assert (await logs.get(created.id)).logs == "x"
    page = await logs.list(pipeline, last=10)
    assert [item.id for item in page.items] == [created.id]
    assert page.polling_interval_ms == 250
    gone = await logs.delete(created.id)
    assert gone.deleted
    with pytest.raises(NotFoundError, match="pipeline log not found"):
        await logs.get(created.id)


async def test_iter_walks_every_page(
    fake_cloud: RunningFake, fake_cloud_client: CalyptiaClient
) -> None:
    pipeline = fake_cloud.add_pipeline()
    ids = fake_cloud.seed_logs(pipeline, 23)
    seen = [log.id async for log in fake_cloud_client.pipeline_logs.iter(pipeline, page_size=5)]
    assert seen == list(reversed(ids))
    pages = [r for r in fake_cloud.requests if r.path.endswith("/logs")]
    assert len(pages) == 5


async def test_iter_filters_by_status(
    fake_cloud: RunningFake, fake_cloud_client: CalyptiaClient
) -> None:
    pipeline = fake_cloud.add_pipeline()
    new = fake_cloud.seed_logs(pipeline, 3, status=PipelineLogStatus.NEW)
    fake_cloud.seed_logs(pipeline, 4)
    seen = [log.id async for log in fake_cloud_client.pipeline_logs.iter(pipeline, status="NEW")]
    assert sorted(seen) == sorted(new)


async def test_request_logs_uses_the_polling_hint(fake_cloud: RunningFake) -> None:
    fake_cloud.fake.fill_delay = 0.05
    fake_cloud.fake.polling_interval_ms = 20
    pipeline = fake_cloud.add_pipeline()
    async with CalyptiaClient(token=fake_cloud.token, base_url=fake_cloud.base_url) as client:
        log = await client.pipeline_logs.request_logs(pipeline, lines=3, timeout=5)
    assert log.status is PipelineLogStatus.DONE
    hints = [r for r in fake_cloud.requests if r.method == "GET" and r.path.endswith("/logs")]
    assert len(hints) == 1  # the hint is read once


async def test_wait_until_done_times_out(
    fake_cloud: RunningFake, fake_cloud_client: CalyptiaClient
) -> None:
    (log_id,) = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 1, status=PipelineLogStatus.NEW)
    with pytest.raises(WaitTimeoutError, match="still NEW"):
        await fake_cloud_client.pipeline_logs.wait_until_done(
            log_id, timeout=0.05, poll_interval=0.01
        )


async def test_wrong_token_is_an_authentication_error(fake_cloud: RunningFake) -> None:
    async with CalyptiaClient(token="wrong", base_url=fake_cloud.base_url) as client:
        with pytest.raises(AuthenticationError, match="401 unauthorized"):
            await client.pipeline_logs.get(uuid.uuid4())


async def test_project_token_works_against_the_fake(fake_cloud: RunningFake) -> None:
    (log_id,) = fake_cloud.seed_logs(fake_cloud.add_pipeline(), 1)
    async with CalyptiaClient(
        project_token=fake_cloud.token, base_url=fake_cloud.base_url
    ) as client:
        assert (await client.pipeline_logs.get(log_id)).id == log_id


async def test_bad_cursor_is_a_bad_request(
    fake_cloud: RunningFake, fake_cloud_client: CalyptiaClient
) -> None:
    pipeline = fake_cloud.add_pipeline()
    with pytest.raises(BadRequestError, match="invalid cursor"):
        await fake_cloud_client.pipeline_logs.list(pipeline, before="bogus")


TRANSIENT = [
    pytest.param(Fault.http_status(503), id="503"),
    pytest.param(Fault.http_status(429, retry_after=1), id="429-retry-after"),
    pytest.param(Fault.html(502), id="html-502"),
    pytest.param(Fault.http_status(504), id="504"),
    pytest.param(Fault.drop(), id="drop-mid-body"),
    pytest.param(Fault.reset(), id="reset"),
    pytest.param(Fault.truncated(), id="truncated-json"),
    pytest.param(Fault.invalid_json(), id="invalid-json"),
    pytest.param(Fault.slow(2), id="slow-past-timeout"),
]


# A truncated answer to a DELETE follows a real delete: see the test after this one.
COMBINATIONS = [
    pytest.param(endpoint, fault.values[0], id=f"{endpoint}-{fault.id}")
    for endpoint in ("get", "update", "delete", "list")
    for fault in TRANSIENT
    if not (endpoint == "delete" and fault.id == "truncated-json")
]


@pytest.mark.parametrize(("endpoint", "fault"), COMBINATIONS)
async def test_transient_faults_are_survived(endpoint: str, fault: Fault) -> None:
    async with run_fake_cloud() as cloud:
        pipeline = cloud.add_pipeline()
        (log_id,) = cloud.seed_logs(pipeline, 1)
        # Two failures in a row (aiohttp itself may retry a reset once), then health.
        rule = cloud.inject(fault, times=2)
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            timeout=0.3,
            retry=RetryPolicy(max_attempts=4, sleep=no_sleep),
        ) as client:
            await _call(client, endpoint, log_id, pipeline)
        assert rule.hits == 2


async def test_a_delete_whose_answer_was_lost_is_a_404_on_retry() -> None:
    # The first DELETE took effect but its answer was cut short; the retry finds
    # nothing to delete. The error says so (2 attempts) rather than guessing.
    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        cloud.inject(Fault.truncated(), times=1)
        async with CalyptiaClient(
            token=cloud.token, base_url=cloud.base_url, retry=RetryPolicy(sleep=no_sleep)
        ) as client:
            with pytest.raises(NotFoundError) as caught:
                await client.pipeline_logs.delete(log_id)
        assert caught.value.attempts == 2
        assert log_id not in cloud.logs


async def _call(client: CalyptiaClient, endpoint: str, log_id: Any, pipeline: Any) -> None:
    logs = client.pipeline_logs
    if endpoint == "get":
        assert (await logs.get(log_id)).id == log_id
    elif endpoint == "update":
        await logs.update(log_id, lines=3)
    elif endpoint == "delete":
        assert (await logs.delete(log_id)).deleted
    else:
        assert len((await logs.list(pipeline)).items) == 1


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        pytest.param(Fault.http_status(503), ServerError, id="503"),
        pytest.param(Fault.http_status(429, retry_after=600), RateLimitError, id="429-over-cap"),
        pytest.param(Fault.html(502), ServerError, id="html-502"),
        pytest.param(Fault.reset(), APIConnectionError, id="reset"),
        pytest.param(Fault.drop(), APIConnectionError, id="drop"),
        pytest.param(Fault.invalid_json(), ResponseDecodeError, id="invalid-json"),
        pytest.param(Fault.slow(2), APITimeoutError, id="slow"),
        pytest.param(Fault.http_status(400), BadRequestError, id="400"),
    ],
)
async def test_persistent_faults_surface_as_typed_errors(
    fault: Fault, error_type: type[Exception]
) -> None:
    async with run_fake_cloud() as cloud:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        cloud.inject(fault, times=None)
        async with CalyptiaClient(
            token=cloud.token,
            base_url=cloud.base_url,
            timeout=0.2,
            retry=RetryPolicy(sleep=no_sleep),
        ) as client:
            with pytest.raises(error_type):
                await client.pipeline_logs.get(log_id)


async def test_create_is_not_retried_after_a_fault_that_may_have_created(
    fake_cloud: RunningFake,
) -> None:
    pipeline = fake_cloud.add_pipeline()
    fake_cloud.inject(Fault.http_status(502), times=1, method="POST")
    async with CalyptiaClient(
        token=fake_cloud.token, base_url=fake_cloud.base_url, retry=RetryPolicy(sleep=no_sleep)
    ) as client:
        with pytest.raises(ServerError):
            await client.pipeline_logs.create(pipeline)
    assert sum(r.method == "POST" for r in fake_cloud.requests) == 1

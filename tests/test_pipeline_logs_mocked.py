"""The client against aioresponses: every endpoint, every error status, the retry paths."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from uuid import UUID

import aiohttp
import pytest
from yarl import URL

from calyptia_logs import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidIDError,
    NotFoundError,
    PermissionDeniedError,
    PipelineLogStatus,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
)
from calyptia_logs.retry import no_sleep
from tests.conftest import LOG_ID, PIPELINE_ID, log_json, new_id

BASE = "https://api.test"
LOG_URL = f"{BASE}/v1/pipeline_logs/{LOG_ID}"
LIST_URL = re.compile(rf"^{re.escape(BASE)}/v1/pipelines/{PIPELINE_ID}/logs(\?.*)?$")
CREATE_URL = f"{BASE}/v1/pipelines/{PIPELINE_ID}/logs"


def sent(mock_api: Any, method: str, url: str) -> list[Any]:
    """The calls aioresponses recorded for ``method url``."""
    return mock_api.requests.get((method, URL(url)), [])


class Sleeps:
    """An injected sleep that records what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


# --- every endpoint -----------------------------------------------------------------------


async def test_get_returns_a_pipeline_log(mock_api: Any, make_client: Any) -> None:
    mock_api.get(LOG_URL, payload=log_json())
    log = await make_client().pipeline_logs.get(LOG_ID)
    assert log.id == UUID(LOG_ID)
    assert log.pipeline_id == UUID(PIPELINE_ID)
    assert log.status is PipelineLogStatus.DONE
    assert log.created_at == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert log.updated_at == datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)


async def test_get_accepts_a_uuid_object(mock_api: Any, make_client: Any) -> None:
    mock_api.get(LOG_URL, payload=log_json())
    log = await make_client().pipeline_logs.get(UUID(LOG_ID))
    assert log.id == UUID(LOG_ID)


async def test_update_sends_only_the_fields_given(mock_api: Any, make_client: Any) -> None:
    mock_api.patch(LOG_URL, payload={"updatedAt": "2024-05-02T00:00:00Z"})
    updated = await make_client().pipeline_logs.update(LOG_ID, status=PipelineLogStatus.DONE)
    assert updated.updated_at == datetime(2024, 5, 2, tzinfo=UTC)
    (call,) = sent(mock_api, "PATCH", LOG_URL)
    assert json.loads(call.kwargs["data"]) == {"status": "DONE"}
    assert call.kwargs["headers"]["Content-Type"] == "application/json"


async def test_update_sends_all_three_fields(mock_api: Any, make_client: Any) -> None:
    mock_api.patch(LOG_URL, payload={"updatedAt": "2024-05-02T00:00:00Z"})
    await make_client().pipeline_logs.update(LOG_ID, status="DONE", lines=10, logs="a\nb")
    (call,) = sent(mock_api, "PATCH", LOG_URL)
    assert json.loads(call.kwargs["data"]) == {"logs": "a\nb", "lines": 10, "status": "DONE"}


async def test_delete_returns_deleted(mock_api: Any, make_client: Any) -> None:
    mock_api.delete(LOG_URL, payload={"deleted": True, "deletedAt": "2024-05-03T01:02:03Z"})
    gone = await make_client().pipeline_logs.delete(LOG_ID)
    assert gone.deleted is True
    assert gone.deleted_at == datetime(2024, 5, 3, 1, 2, 3, tzinfo=UTC)


async def test_delete_accepts_a_null_deleted_at(mock_api: Any, make_client: Any) -> None:
    mock_api.delete(LOG_URL, payload={"deleted": False, "deletedAt": None})
    gone = await make_client().pipeline_logs.delete(LOG_ID)
    assert gone.deleted is False
    assert gone.deleted_at is None


async def test_create_posts_lines_and_returns_created(mock_api: Any, make_client: Any) -> None:
    new = new_id()
    mock_api.post(CREATE_URL, status=201, payload={"id": new, "createdAt": "2024-05-01T00:00:00Z"})
    created = await make_client().pipeline_logs.create(PIPELINE_ID, lines=25)
    assert created.id == UUID(new)
    (call,) = sent(mock_api, "POST", CREATE_URL)
    assert json.loads(call.kwargs["data"]) == {"lines": 25, "logs": ""}


async def test_create_defaults_to_100_lines(mock_api: Any, make_client: Any) -> None:
    mock_api.post(
        CREATE_URL, status=201, payload={"id": new_id(), "createdAt": "2024-05-01T00:00:00Z"}
    )
    await make_client().pipeline_logs.create(PIPELINE_ID)
    (call,) = sent(mock_api, "POST", CREATE_URL)
    assert json.loads(call.kwargs["data"])["lines"] == 100


async def test_list_passes_last_status_and_before(mock_api: Any, make_client: Any) -> None:
    mock_api.get(
        LIST_URL,
        payload={"items": [log_json()], "endCursor": "c2", "count": 7, "pollingIntervalMs": 500},
    )
    page = await make_client().pipeline_logs.list(
        PIPELINE_ID, last=50, status=PipelineLogStatus.DONE, before="c1"
    )
    assert [item.id for item in page.items] == [UUID(LOG_ID)]
    assert (page.end_cursor, page.count, page.polling_interval_ms) == ("c2", 7, 500)
    (key,) = [k for k in mock_api.requests if k[0] == "GET"]
    assert dict(key[1].query) == {"last": "50", "status": "DONE", "before": "c1"}


async def test_list_tolerates_a_missing_polling_interval(mock_api: Any, make_client: Any) -> None:
    mock_api.get(LIST_URL, payload={"items": [], "endCursor": None, "count": 0})
    page = await make_client().pipeline_logs.list(PIPELINE_ID)
    assert page.polling_interval_ms is None
    assert page.items == []


async def test_iter_follows_end_cursor_across_pages(mock_api: Any, make_client: Any) -> None:
    ids = [new_id() for _ in range(5)]
    mock_api.get(
        LIST_URL,
        payload={"items": [log_json(id=i) for i in ids[:2]], "endCursor": "p2", "count": 5},
    )
    mock_api.get(
        LIST_URL,
        payload={"items": [log_json(id=i) for i in ids[2:4]], "endCursor": "p3", "count": 5},
    )
    mock_api.get(LIST_URL, payload={"items": [log_json(id=ids[4])], "endCursor": None, "count": 5})
    seen = [str(log.id) async for log in make_client().pipeline_logs.iter(PIPELINE_ID, page_size=2)]
    assert seen == ids
    befores = [dict(k[1].query).get("before") for k in mock_api.requests if k[0] == "GET"]
    assert befores == [None, "p2", "p3"]


# --- error statuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, APIStatusError),
        (501, ServerError),
    ],
)
async def test_error_status_maps_to_its_exception(
    mock_api: Any, make_client: Any, status: int, error_type: type[APIStatusError]
) -> None:
    mock_api.get(LOG_URL, status=status, payload={"error": "nope", "detail": "because"})
    with pytest.raises(error_type) as caught:
        await make_client().pipeline_logs.get(LOG_ID)
    error = caught.value
    assert (error.status, error.message, error.detail) == (status, "nope", "because")
    assert error.attempts == 1
    assert error.method == "GET"
    assert error.url == LOG_URL
    assert "nope (because)" in str(error)


async def test_permanent_errors_are_not_retried(mock_api: Any, make_client: Any) -> None:
    mock_api.get(LOG_URL, status=404, payload={"error": "pipeline log not found"})
    with pytest.raises(NotFoundError):
        await make_client().pipeline_logs.get(LOG_ID)
    assert len(sent(mock_api, "GET", LOG_URL)) == 1


async def test_html_error_page_from_a_proxy_keeps_an_excerpt(
    mock_api: Any, make_client: Any
) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    mock_api.get(LOG_URL, status=502, body=page, content_type="text/html", repeat=True)
    with pytest.raises(ServerError) as caught:
        await make_client().pipeline_logs.get(LOG_ID)
    assert caught.value.message == "Bad Gateway"
    assert "text/html" in (caught.value.detail or "")
    assert "<h1>502 Bad Gateway</h1>" in caught.value.body
    assert caught.value.attempts == 3


async def test_success_with_an_invalid_body_is_a_decode_error(
    mock_api: Any, make_client: Any
) -> None:
    mock_api.get(LOG_URL, payload=log_json(status="ARCHIVED"))
    with pytest.raises(ResponseDecodeError, match=r"unknown status 'ARCHIVED'.*\$\.status"):
        await make_client().pipeline_logs.get(LOG_ID)


# --- retries ------------------------------------------------------------------------------


async def test_503_then_200_is_retried(mock_api: Any, make_client: Any) -> None:
    mock_api.get(LOG_URL, status=503, payload={"error": "unavailable"})
    mock_api.get(LOG_URL, payload=log_json())
    log = await make_client().pipeline_logs.get(LOG_ID)
    assert log.id == UUID(LOG_ID)
    assert len(sent(mock_api, "GET", LOG_URL)) == 2


async def test_429_retry_after_seconds_is_waited(mock_api: Any, make_client: Any) -> None:
    sleeps = Sleeps()
    mock_api.get(LOG_URL, status=429, payload={"error": "slow down"}, headers={"Retry-After": "7"})
    mock_api.get(LOG_URL, payload=log_json())
    await make_client(retry=RetryPolicy(sleep=sleeps)).pipeline_logs.get(LOG_ID)
    # The rate limiter holds the retry (and the whole client) until the Retry-After is over.
    assert sleeps.waits == [pytest.approx(7.0, abs=0.05)]


async def test_429_retry_after_http_date_is_waited(mock_api: Any, make_client: Any) -> None:
    sleeps = Sleeps()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    mock_api.get(LOG_URL, status=429, payload={"error": "slow down"}, headers={"Retry-After": when})
    mock_api.get(LOG_URL, payload=log_json())
    await make_client(retry=RetryPolicy(sleep=sleeps)).pipeline_logs.get(LOG_ID)
    (wait,) = sleeps.waits
    assert 25 <= wait <= 30


async def test_retry_after_over_the_cap_is_raised_not_waited(
    mock_api: Any, make_client: Any
) -> None:
    sleeps = Sleeps()
    mock_api.get(LOG_URL, status=429, payload={"error": "quota"}, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError) as caught:
        await make_client(retry=RetryPolicy(sleep=sleeps)).pipeline_logs.get(LOG_ID)
    assert caught.value.retry_after == 3600
    assert sleeps.waits == []


async def test_connection_reset_then_success(mock_api: Any, make_client: Any) -> None:
    mock_api.get(LOG_URL, exception=aiohttp.ServerDisconnectedError())
    mock_api.get(LOG_URL, payload=log_json())
    log = await make_client().pipeline_logs.get(LOG_ID)
    assert log.id == UUID(LOG_ID)


async def test_gives_up_after_max_attempts_and_says_how_many(
    mock_api: Any, make_client: Any
) -> None:
    mock_api.get(LOG_URL, status=503, payload={"error": "down"}, repeat=True)
    with pytest.raises(ServerError) as caught:
        await make_client(retry=RetryPolicy(max_attempts=4, sleep=no_sleep)).pipeline_logs.get(
            LOG_ID
        )
    assert caught.value.attempts == 4
    assert "4 attempts" in str(caught.value)
    assert len(sent(mock_api, "GET", LOG_URL)) == 4


async def test_backoff_is_jittered_exponential_and_capped(mock_api: Any, make_client: Any) -> None:
    sleeps = Sleeps()
    mock_api.get(LOG_URL, status=500, payload={"error": "oops"}, repeat=True)
    policy = RetryPolicy(max_attempts=8, backoff_initial=0.5, backoff_max=2.0, sleep=sleeps)
    with pytest.raises(ServerError):
        await make_client(retry=policy).pipeline_logs.get(LOG_ID)
    ceilings = [0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert len(sleeps.waits) == len(ceilings)
    assert all(0 <= w <= c for w, c in zip(sleeps.waits, ceilings, strict=True))


async def test_disabled_policy_makes_one_attempt(mock_api: Any, make_client: Any) -> None:
    mock_api.get(LOG_URL, status=503, payload={"error": "down"}, repeat=True)
    with pytest.raises(ServerError) as caught:
        await make_client(retry=RetryPolicy.disabled()).pipeline_logs.get(LOG_ID)
    assert caught.value.attempts == 1
    assert len(sent(mock_api, "GET", LOG_URL)) == 1


async def test_post_is_not_retried_on_500(mock_api: Any, make_client: Any) -> None:
    mock_api.post(CREATE_URL, status=500, payload={"error": "boom"}, repeat=True)
    with pytest.raises(ServerError) as caught:
        await make_client().pipeline_logs.create(PIPELINE_ID)
    assert caught.value.attempts == 1
    assert len(sent(mock_api, "POST", CREATE_URL)) == 1


async def test_post_is_not_retried_after_a_reset(mock_api: Any, make_client: Any) -> None:
    # The request may have reached the server: retrying could create twice.
    mock_api.post(CREATE_URL, exception=aiohttp.ServerDisconnectedError(), repeat=True)
    with pytest.raises(APIConnectionError):
        await make_client().pipeline_logs.create(PIPELINE_ID)
    assert len(sent(mock_api, "POST", CREATE_URL)) == 1


async def test_post_is_retried_on_503_with_retry_after(mock_api: Any, make_client: Any) -> None:
    mock_api.post(CREATE_URL, status=503, payload={"error": "busy"}, headers={"Retry-After": "1"})
    mock_api.post(
        CREATE_URL, status=201, payload={"id": new_id(), "createdAt": "2024-05-01T00:00:00Z"}
    )
    await make_client().pipeline_logs.create(PIPELINE_ID)
    assert len(sent(mock_api, "POST", CREATE_URL)) == 2


async def test_patch_and_delete_are_retried(mock_api: Any, make_client: Any) -> None:
    mock_api.patch(LOG_URL, status=502, body="bad gateway")
    mock_api.patch(LOG_URL, payload={"updatedAt": "2024-05-02T00:00:00Z"})
    mock_api.delete(LOG_URL, status=504, body="")
    mock_api.delete(LOG_URL, payload={"deleted": True, "deletedAt": None})
    client = make_client()
    await client.pipeline_logs.update(LOG_ID, lines=5)
    await client.pipeline_logs.delete(LOG_ID)
    assert len(sent(mock_api, "PATCH", LOG_URL)) == 2
    assert len(sent(mock_api, "DELETE", LOG_URL)) == 2


# --- input checked before any traffic -----------------------------------------------------


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "../../v1/admin", f"{LOG_ID}/../x", 42])
async def test_invalid_ids_raise_before_any_request(
    mock_api: Any, make_client: Any, bad: Any
) -> None:
    client = make_client()
    with pytest.raises(InvalidIDError, match="not a UUID"):
        await client.pipeline_logs.get(bad)
    with pytest.raises(ValueError, match="not a UUID"):
        await client.pipeline_logs.delete(bad)
    assert mock_api.requests == {}


async def test_invalid_status_and_lines_raise_before_any_request(
    mock_api: Any, make_client: Any
) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="invalid status 'PENDING'"):
        await client.pipeline_logs.update(LOG_ID, status="PENDING")
    with pytest.raises(ValueError, match="lines must be at least 1"):
        await client.pipeline_logs.create(PIPELINE_ID, lines=0)
    with pytest.raises(ValueError, match="last must be at least 1"):
        await client.pipeline_logs.list(PIPELINE_ID, last=-1)
    assert mock_api.requests == {}

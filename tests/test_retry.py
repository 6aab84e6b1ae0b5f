"""The retry module on its own: the predicate, Retry-After, the budget, the loop (no I/O)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from calyptia_logs.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CalyptiaError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    RetryBudgetExhaustedError,
    ServerError,
)
from calyptia_logs.retry import RetryBudget, RetryDetails, RetryPolicy, no_sleep, parse_retry_after

POLICY = RetryPolicy(sleep=no_sleep)


def status_error(status: int, retry_after: float | None = None) -> APIStatusError:
    cls = {404: NotFoundError, 429: RateLimitError}.get(status, ServerError)
    return cls("x", status=status, retry_after=retry_after)


class Script:
    """An attempt function that raises the scripted errors in turn, then returns "ok"."""

    def __init__(self, *outcomes: CalyptiaError | BaseException) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.outcomes:
            raise self.outcomes.pop(0)
        return "ok"


@pytest.mark.parametrize(
    ("error", "method", "retried"),
    [
        (APIConnectionError("reset"), "GET", True),
        (APITimeoutError("slow"), "DELETE", True),
        (APIConnectionError("reset"), "POST", False),
        (APIConnectionError("refused", request_sent=False), "POST", True),
        (APITimeoutError("connect", request_sent=False), "POST", True),
        (status_error(503), "PATCH", True),
        (status_error(500), "GET", True),
        (status_error(408), "GET", True),
        (status_error(404), "GET", False),
        (status_error(500), "POST", False),
        (status_error(503), "POST", False),
        (status_error(503, retry_after=2), "POST", True),
        (status_error(429, retry_after=2), "POST", True),
        (status_error(429, retry_after=61), "GET", False),
        (ResponseDecodeError("bad", status=200, syntax_error=True), "GET", True),
        (ResponseDecodeError("shape", status=200, syntax_error=False), "GET", False),
        (ResponseDecodeError("bad", status=201, syntax_error=True), "POST", False),
        (ValueError("bug"), "GET", False),
    ],
)
def test_retry_predicate(error: BaseException, method: str, retried: bool) -> None:
    assert (POLICY.retry_reason(error, method) is not None) is retried


def test_retry_statuses_are_configurable() -> None:
    policy = RetryPolicy(retry_statuses={404})
    assert policy.retry_reason(status_error(404), "GET") == "HTTP 404"
    assert policy.retry_reason(status_error(503), "GET") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("12", 12.0),
        (" 3 ", 3.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-1", None),
    ],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert (
        parse_retry_after(
            format_datetime(datetime(2024, 1, 1, 12, 1, tzinfo=UTC), usegmt=True), now=now
        )
        == 60.0
    )


def test_policy_is_frozen_and_validated() -> None:
    with pytest.raises(AttributeError):
        POLICY.max_attempts = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    assert RetryPolicy.disabled().max_attempts == 1
    assert RetryPolicy().max_attempts == 3
    assert (RetryPolicy().backoff_initial, RetryPolicy().backoff_max) == (0.5, 8.0)


async def test_success_needs_no_retry() -> None:
    script = Script()
    assert await POLICY.call(script, method="GET", path="/x") == "ok"
    assert script.calls == 1


async def test_retries_until_success_and_counts_attempts() -> None:
    script = Script(status_error(503), APIConnectionError("reset"))
    assert await POLICY.call(script, method="GET", path="/x") == "ok"
    assert script.calls == 3


async def test_last_error_is_raised_with_its_attempt_count() -> None:
    errors = [status_error(503), status_error(502), status_error(504)]
    with pytest.raises(ServerError) as caught:
        await POLICY.call(Script(*errors), method="GET", path="/x")
    assert caught.value is errors[-1]
    assert caught.value.attempts == 3


async def test_a_permanent_error_after_a_retry_keeps_its_attempt_number() -> None:
    with pytest.raises(NotFoundError) as caught:
        await POLICY.call(Script(status_error(503), status_error(404)), method="GET", path="/x")
    assert caught.value.attempts == 2


async def test_cancellation_propagates_untouched() -> None:
    script = Script(status_error(503), asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await POLICY.call(script, method="GET", path="/x")
    assert script.calls == 2


async def test_retry_after_is_the_wait() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(sleep=sleep)
    await policy.call(Script(status_error(429, retry_after=4)), method="GET", path="/x")
    assert waits == [4.0]


async def test_retries_are_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="calyptia_logs")
    await POLICY.call(Script(status_error(503)), method="GET", path="/v1/pipeline_logs/abc")
    (record,) = [r for r in caplog.records if r.name == "calyptia_logs"]
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "GET /v1/pipeline_logs/abc" in message
    assert "attempt 1 of 3" in message
    assert "HTTP 503" in message


async def test_on_retry_hook_gets_frozen_details() -> None:
    seen: list[RetryDetails] = []
    await POLICY.call(
        Script(APITimeoutError("slow")), method="GET", path="/p", on_retry=seen.append
    )
    (details,) = seen
    assert (details.method, details.path, details.attempt, details.reason) == (
        "GET",
        "/p",
        1,
        "timeout",
    )
    with pytest.raises(AttributeError):
        details.attempt = 2  # type: ignore[misc]


def test_budget_spends_and_refunds() -> None:
    budget = RetryBudget(20, retry_cost=5, timeout_cost=10, success_refund=1)
    assert budget.try_acquire(budget.cost_of(status_error(503)))
    assert budget.try_acquire(budget.cost_of(APITimeoutError("t")))
    assert budget.available == 5
    assert not budget.try_acquire(10)
    budget.refund(100)
    assert budget.available == 20
    assert (budget.retries_granted, budget.retries_refused) == (2, 1)


async def test_exhausted_budget_fails_fast_naming_the_budget() -> None:
    budget = RetryBudget(5, retry_cost=5)
    await POLICY.call(Script(status_error(503)), method="GET", path="/x", budget=budget)
    assert budget.available == 5  # the success refunded what it spent
    budget.try_acquire(5)
    script = Script(status_error(503), status_error(503))
    with pytest.raises(RetryBudgetExhaustedError, match="retry budget exhausted") as caught:
        await POLICY.call(script, method="GET", path="/x", budget=budget)
    assert script.calls == 1
    assert isinstance(caught.value.last_error, ServerError)
    assert caught.value.__cause__ is caught.value.last_error


async def test_successes_refill_the_budget() -> None:
    budget = RetryBudget(10, success_refund=1)
    budget.try_acquire(10)
    for _ in range(5):
        await POLICY.call(Script(), method="GET", path="/x", budget=budget)
    assert budget.available == 5


def test_unlimited_budget_never_refuses() -> None:
    budget = RetryBudget.unlimited()
    assert all(budget.try_acquire(budget.cost_of(status_error(503))) for _ in range(10_000))

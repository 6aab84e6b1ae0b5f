"""Retries: what is retryable, how long to wait, and a client-wide budget against retry storms.

:class:`RetryPolicy` is a frozen value handed to the client. The first attempt
of every call runs with no retry machinery at all (the success path stays
cheap); only after a retryable failure does the call enter the retry loop,
driven by the policy's tenacity configuration with explicit stop, wait and
``reraise=True`` (tenacity's defaults retry forever and wrap errors in
``RetryError``) and the predicate :meth:`RetryPolicy.retry_reason`.

What is retried, by default:

* connection errors and timeouts, and the statuses 408, 429, 500, 502, 503, 504;
* for GET, PATCH and DELETE (idempotent on this API);
* for POST (create) only when the request cannot have reached the server (the
  connection was never established) or on 429/503 with ``Retry-After``,
  because a create that reached the server may have created a log request.

The wait is exponential backoff with full jitter (0.5 s doubling up to 8 s),
or the server's ``Retry-After`` when sent; a ``Retry-After`` over
``max_retry_after`` is not waited out: the error is raised at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import attrs

if TYPE_CHECKING:
    import tenacity

    from calyptia_logs.ratelimit import AdaptiveRateLimiter

from calyptia_logs.arguments import finite_seconds
from calyptia_logs.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CalyptiaError,
    RateLimitError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryBudgetExhaustedError,
)
from calyptia_logs.server_values import retry_after as parse_retry_after

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "RetryBudget",
    "RetryDetails",
    "RetryPolicy",
    "no_sleep",
    "parse_retry_after",
]

T = TypeVar("T")
logger: Final = logging.getLogger("calyptia_logs")

#: Retries of throttled attempts (429) a call may make while the rate limiter paces it; they
#: do not count against ``max_attempts`` (the limiter, not the attempt count, slows them).
MAX_THROTTLED_RETRIES: Final = 20
#: The statuses retried by default: timeouts, rate limits and transient server faults.
DEFAULT_RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
_RETRY_AFTER_ON_POST: Final = frozenset({429, 503})

Sleep = Callable[[float], Awaitable[None]]


async def no_sleep(_seconds: float) -> None:
    """A sleep that does not wait; pass it as ``RetryPolicy(sleep=no_sleep)`` in tests."""


@attrs.frozen(kw_only=True)
class RetryDetails:
    """What is known about a retry that is about to happen; handed to ``on_retry`` hooks.

    Attributes:
        method: The HTTP method.
        path: The request path as a template, IDs replaced by ``{id}`` (as in
            :class:`~calyptia_logs.ResponseInfo`): one label per endpoint for metrics;
            the concrete URL is the error's ``url``.
        attempt: The attempt that just failed (1-based).
        max_attempts: The policy's limit.
        wait: Seconds until the next attempt.
        reason: Why it is retried, in words.
        error: The error of the failed attempt.
        rate_limit: The client's paced rate in requests per second, or ``None``
            while its rate limiter is dormant.
        throttled: Whether the server throttled the attempt (429) and the rate
            limiter paces the retry: it then costs no budget and no attempt.
    """

    method: str
    path: str
    attempt: int
    max_attempts: int
    wait: float
    reason: str
    error: CalyptiaError
    rate_limit: float | None = None
    throttled: bool = False


OnRetry = Callable[[RetryDetails], None]


class RetryBudget:
    """A client-wide token bucket that stops retry storms (the AWS SDK "standard" mode).

    Every retry spends ``retry_cost`` tokens (``timeout_cost`` after a timeout);
    every success refunds what its call spent, or ``success_refund`` when it
    needed no retry. With the bucket empty, retryable failures are raised at
    once as :class:`~calyptia_logs.errors.RetryBudgetExhaustedError` instead
    of adding load to a server that is already failing.

    Args:
        capacity: The bucket size, and its starting level.
        retry_cost: Tokens one retry spends.
        timeout_cost: Tokens one retry after a timeout spends.
        success_refund: Tokens a success without retries gives back.
    """

    capacity: float
    available: float
    retry_cost: float
    timeout_cost: float
    success_refund: float
    retries_granted: int
    retries_refused: int

    def __init__(
        self,
        capacity: float = 500,
        *,
        retry_cost: float = 5,
        timeout_cost: float = 10,
        success_refund: float = 1,
    ) -> None:
        for name, amount in (
            ("capacity", capacity),
            ("retry_cost", retry_cost),
            ("timeout_cost", timeout_cost),
            ("success_refund", success_refund),
        ):
            if isinstance(amount, bool) or not isinstance(amount, int | float):
                msg = f"{name} must be a number, got {type(amount).__name__}"
                raise TypeError(msg)
            if math.isnan(amount) or amount < 0:  # inf is allowed: see unlimited()
                msg = f"retry budget amounts must not be negative or NaN, got {name}={amount!r}"
                raise ValueError(msg)
        self.capacity = capacity
        self.available = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.success_refund = success_refund
        self.retries_granted = 0
        self.retries_refused = 0

    @classmethod
    def unlimited(cls) -> RetryBudget:
        """A budget that never runs out (retries are then bounded only by the policy)."""
        return cls(float("inf"), retry_cost=0, timeout_cost=0, success_refund=0)

    def cost_of(self, error: CalyptiaError) -> float:
        """Tokens a retry after ``error`` costs."""
        return self.timeout_cost if isinstance(error, APITimeoutError) else self.retry_cost

    def try_acquire(self, cost: float) -> bool:
        """Spend ``cost`` tokens if there are that many; say whether the retry may go ahead."""
        if cost > self.available:
            self.retries_refused += 1
            return False
        self.available -= cost
        self.retries_granted += 1
        return True

    def refund(self, amount: float) -> None:
        """Give back ``amount`` tokens, up to the capacity."""
        self.available = min(self.capacity, self.available + amount)

    def __repr__(self) -> str:
        return f"RetryBudget(available={self.available:g}, capacity={self.capacity:g})"


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How the client retries a failed call. Frozen: share one freely.

    Attributes:
        max_attempts: Attempts in total, the first included; 1 disables retries.
        backoff_initial: The first backoff ceiling, in seconds (full jitter below it).
        backoff_max: The largest backoff ceiling, in seconds.
        retry_statuses: The HTTP statuses worth another attempt.
        max_retry_after: The longest ``Retry-After`` waited out; longer demands are raised.
        sleep: The coroutine function that waits; inject :func:`no_sleep` in tests.

    Example:
        >>> RetryPolicy(max_attempts=5, backoff_max=2.0).max_attempts
        5
    """

    max_attempts: int = attrs.field(
        default=3, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)]
    )
    backoff_initial: float = attrs.field(default=0.5, validator=finite_seconds(zero=True))
    backoff_max: float = attrs.field(default=8.0, validator=finite_seconds(zero=True))
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRY_STATUSES, converter=frozenset
    )
    max_retry_after: float = attrs.field(default=60.0, validator=finite_seconds(zero=True))
    sleep: Sleep = attrs.field(default=asyncio.sleep, eq=False, repr=False)
    _tenacity: Any = attrs.field(default=None, init=False, eq=False, repr=False)

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt."""
        return cls(max_attempts=1)

    def retry_reason(  # noqa: PLR0911 - one return per rule reads best here
        self, error: BaseException, method: str
    ) -> str | None:
        """Say why ``error`` is worth another attempt of a ``method`` request, or ``None``.

        This is the whole retry predicate: pure, and the same for every call.
        """
        idempotent = method in _IDEMPOTENT
        if isinstance(error, APIConnectionError):
            if idempotent or not error.request_sent:
                return "timeout" if isinstance(error, APITimeoutError) else "connection error"
            return None
        if isinstance(error, APIStatusError):
            if error.status not in self.retry_statuses:
                return None
            if error.retry_after is not None and error.retry_after > self.max_retry_after:
                return None  # not waited out: the caller hears about it now
            if not idempotent and not (
                error.status in _RETRY_AFTER_ON_POST and error.retry_after is not None
            ):
                return None
            return f"HTTP {error.status}"
        if (
            isinstance(error, ResponseDecodeError)
            and idempotent
            and not isinstance(error, ResponseTooLargeError)
        ):
            if error.mismatch:  # its connection is closed: the next attempt takes another
                return "the answer was about another object (shifted answers?)"
            if error.syntax_error:
                return "body is not valid JSON (truncated?)"
        return None

    def tenacity_config(self) -> tenacity.AsyncRetrying:
        """This policy as tenacity configuration: explicit stop, wait, sleep and ``reraise``.

        Built once per policy. The retry predicate is :meth:`retry_reason`,
        which also needs the request's method.
        """
        config: tenacity.AsyncRetrying | None = self._tenacity
        if config is None:
            # Imported on the first retry, not at start-up: the success path never needs it.
            import tenacity  # noqa: PLC0415

            config = tenacity.AsyncRetrying(
                stop=tenacity.stop_after_attempt(self.max_attempts),
                wait=tenacity.wait_random_exponential(
                    multiplier=self.backoff_initial, max=self.backoff_max
                ),
                sleep=self.sleep,
                reraise=True,
            )
            object.__setattr__(self, "_tenacity", config)
        return config

    async def call(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        method: str,
        path: str,
        budget: RetryBudget | None = None,
        on_retry: OnRetry | None = None,
        limiter: AdaptiveRateLimiter | None = None,
    ) -> T:
        """Run ``attempt`` under this policy.

        The first attempt runs bare; only a failure enters :meth:`recover`.

        Raises:
            CalyptiaError: The last attempt's error, with ``attempts`` set, or
                RetryBudgetExhaustedError when the budget refused a retry.
        """
        try:
            result = await attempt()
        except CalyptiaError as error:
            return await self.recover(
                error,
                attempt,
                method=method,
                path=path,
                budget=budget,
                on_retry=on_retry,
                limiter=limiter,
            )
        if budget is not None:
            budget.refund(budget.success_refund)
        return result

    async def recover(
        self,
        first: CalyptiaError,
        attempt: Callable[[], Awaitable[T]],
        *,
        method: str,
        path: str,
        budget: RetryBudget | None = None,
        on_retry: OnRetry | None = None,
        limiter: AdaptiveRateLimiter | None = None,
    ) -> T:
        """Carry on with a call whose first attempt failed with ``first``.

        Raises ``first`` at once if it is not retryable; otherwise hands the
        call to a tenacity loop that replays ``first`` as its own first
        attempt, so counts and waits are the same as if tenacity had run it.
        This split keeps the success path free of retry machinery.

        Raises:
            CalyptiaError: The last attempt's error, with ``attempts`` set, or
                RetryBudgetExhaustedError when the budget refused a retry.
        """
        if self.max_attempts == 1 or self.retry_reason(first, method) is None:
            raise first
        return await _RetryRun(
            policy=self,
            attempt=attempt,
            method=method,
            path=path,
            budget=budget,
            on_retry=on_retry,
            limiter=limiter,
        ).run(first)


def _retry_call_state(config: tenacity.AsyncRetrying) -> tenacity.RetryCallState:
    import tenacity  # noqa: PLC0415 - loaded by tenacity_config() already

    return tenacity.RetryCallState(config, None, (), {})


class _RetryRun(Generic[T]):
    """The slow path of one call: the retry loop, budget accounting and logging.

    The loop drives the policy's tenacity configuration (``stop_after_attempt``,
    ``wait_random_exponential``, ``reraise=True``) step by step rather than
    calling ``AsyncRetrying``, whose generic action machinery costs ~90 us per
    retried call (measured with ``benchmarks/``: nearly a whole request). As
    with ``reraise=True``, the last error itself is raised, never a ``RetryError``.
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        attempt: Callable[[], Awaitable[T]],
        method: str,
        path: str,
        budget: RetryBudget | None,
        on_retry: OnRetry | None,
        limiter: AdaptiveRateLimiter | None = None,
    ) -> None:
        self.policy = policy
        self.limiter = limiter
        self.attempt = attempt
        self.method = method
        self.path = path
        self.budget = budget
        self.on_retry = on_retry
        self.spent = 0.0

    async def run(self, first: CalyptiaError) -> T:
        policy = self.policy
        config = policy.tenacity_config()
        state = _retry_call_state(config)
        error = first
        number = 1
        throttled = 0  # paced retries after a 429: they count against no attempt limit
        while True:
            error.attempts = number
            state.attempt_number = number - throttled
            reason = policy.retry_reason(error, self.method)
            limiter = self._pacing(error)
            paced = limiter is not None
            if reason is None:
                raise error
            if limiter is not None:
                if throttled >= MAX_THROTTLED_RETRIES:
                    raise error
                # The limiter holds the next attempt until the client-wide pause is
                # over and the pace allows it: no sleep of our own on top.
                wait = limiter.delay()
            else:
                if config.stop(state):
                    raise error
                asked = error.retry_after if isinstance(error, APIStatusError) else None
                wait = float(config.wait(state) if asked is None else asked)
            self._before_sleep(error, reason, wait, number, paced=paced)
            if not paced:
                await policy.sleep(wait)
            number += 1
            throttled += paced
            try:
                result = await self.attempt()
            except CalyptiaError as exc:
                error = exc
                continue
            if self.budget is not None:
                self.budget.refund(self.spent or self.budget.success_refund)
            return result

    def _pacing(self, error: CalyptiaError) -> AdaptiveRateLimiter | None:
        """The limiter that takes over the retry of a throttle (a 429, adaptive on), if any."""
        limiter = self.limiter
        if limiter is not None and limiter.adaptive and isinstance(error, RateLimitError):
            return limiter
        return None

    def _before_sleep(
        self, error: CalyptiaError, reason: str, wait: float, number: int, *, paced: bool
    ) -> None:
        """Pay for the retry from the budget (or fail fast), log it, and tell the hook.

        A paced retry after a 429 costs nothing: the budget guards against outages,
        and the limiter already keeps throttled retries from adding load.
        """
        if self.budget is not None and not paced:
            cost = self.budget.cost_of(error)
            if not self.budget.try_acquire(cost):
                msg = (
                    f"retry budget exhausted ({self.budget.available:g} of "
                    f"{self.budget.capacity:g} tokens left, a retry costs {cost:g}): "
                    f"not retrying after {reason}; the budget refills as calls succeed. "
                    f"Last error: {error}"
                )
                raise RetryBudgetExhaustedError(msg, last_error=error, attempts=number) from error
            self.spent += cost
        logger.info(
            "retrying %s %s in %.2fs (attempt %d of %d failed: %s)",
            self.method,
            self.path,
            wait,
            number,
            self.policy.max_attempts,
            reason,
            extra={
                "calyptia_method": self.method,
                "calyptia_path": self.path,
                "calyptia_attempt": number,
                "calyptia_reason": reason,
                "calyptia_status": getattr(error, "status", None),
            },
        )
        if self.on_retry is not None:
            self.on_retry(
                RetryDetails(
                    method=self.method,
                    path=self.path,
                    attempt=number,
                    max_attempts=self.policy.max_attempts,
                    wait=wait,
                    reason=reason,
                    error=error,
                    rate_limit=None if self.limiter is None else self.limiter.rate,
                    throttled=paced,
                )
            )

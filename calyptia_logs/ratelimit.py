"""Adaptive client-side rate limiting: dormant until the server throttles, then paced.

One :class:`AdaptiveRateLimiter` serves every call of a client. It costs nothing
until the first ``429 Too Many Requests``: the transport checks
:attr:`~AdaptiveRateLimiter.pacing` and counts the request, nothing more. From then on:

* **The whole client honours ``Retry-After``.** No request of this client is
  sent before the instant the server named (capped at the retry policy's
  ``max_retry_after``), not only the retry of the request that was told.
* **Requests are paced** at :attr:`~AdaptiveRateLimiter.rate` requests per
  second. The rate follows a CUBIC curve (TCP CUBIC, botocore's adaptive mode),
  scaled to the rate itself: on a throttle it drops to ``BETA`` times what it
  was; it climbs back, concave, within ``RECOVERY`` seconds; holds there; then
  probes above it, convex, reaching twice that rate ``DOUBLING`` seconds into
  the probe. botocore's constants are absolute requests per second, so it takes
  several seconds to return to a few hundred; scaled, recovery and probing take
  the same time at 5 or 5,000 requests per second.
* **Failed probes are made rarer.** Every probe that meets the same limit costs
  a ``Retry-After`` pause of the whole client, so each throttle at about the
  same level (within ``SAME_LEVEL``) doubles the hold before the next probe,
  from ``FIRST_HOLD`` up to ``MAX_HOLD``; a throttle at a new level resets it.
* **The server's ``quotaLimit`` is an upper bound.** A 429 body's
  ``quotaLimit`` counts requests per period of at least a second, so the rate
  after a throttle is never set above it (``QUOTA_MARGIN`` under it).
* A throttle for a request sent *before* the last cut says nothing new and cuts
  nothing: one burst of 429s is one cut.
* Without a ``quotaLimit`` the first rate is ``BETA`` times the rate measured
  since the start (at least ``START_RATE``), doubling every half second until
  the next throttle (slow start).
* Once the rate has climbed past ``DORMANT_RATE`` the limiter is dormant again.

``max_rate`` caps the rate (and paces from the start) for users who know their
quota. Time comes from an injectable clock and sleep, so the algorithm is
tested without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Final, NamedTuple

from calyptia_logs import arguments

__all__ = [
    "BETA",
    "DORMANT_RATE",
    "DOUBLING",
    "FIRST_HOLD",
    "MAX_HOLD",
    "MIN_RATE",
    "QUOTA_MARGIN",
    "RECOVERY",
    "SAME_LEVEL",
    "START_RATE",
    "AdaptiveRateLimiter",
    "RateLimitState",
]

logger: Final = logging.getLogger("calyptia_logs")

#: The rate after a throttle, as a share of the rate before it (botocore: 0.7).
BETA: Final = 0.7
#: Seconds after a throttle (or after its pause) for the rate to climb back to where it was.
RECOVERY: Final = 1.5
#: Seconds a probe above the last peak takes to reach twice that peak: how fast a raised
#: server limit is found once probing starts.
DOUBLING: Final = 2.0
#: Seconds held at the peak before probing above it, after a throttle at a new level.
#: Each throttle at about the same level (within ``SAME_LEVEL``) doubles the hold, up to
#: ``MAX_HOLD``: a limit that does not move is probed less and less often, because
#: every failed probe costs a ``Retry-After`` pause of the whole client.
FIRST_HOLD: Final = 2.0
MAX_HOLD: Final = 16.0
SAME_LEVEL: Final = 0.15
#: The share of the server's ``quotaLimit`` paced at, at most: a little under it,
#: so that the server's bucket refills between bursts.
QUOTA_MARGIN: Final = 0.99
#: The least first rate without a ``quotaLimit`` to start from, in requests per second.
START_RATE: Final = 10.0
#: The lowest rate ever paced at: one request every ten seconds.
MIN_RATE: Final = 0.1
#: Above this rate (requests per second) the limiter stops pacing until the next throttle.
DORMANT_RATE: Final = 20_000.0
#: Requests the limiter may let out at once after an idle spell, in seconds of the rate
#: (the server's bucket allows a burst too; a small one keeps pacing smooth).
BURST_SECONDS: Final = 0.05

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimitState(NamedTuple):
    """How the client's rate limiter stands; readable any time as ``client.rate_limit``.

    A snapshot (a named tuple: cheap to define at import, immutable, compared by value).

    Attributes:
        pacing: Whether requests are paced now (after a throttle, or with ``max_rate``).
        rate: Requests per second allowed now; ``None`` while not pacing.
        throttled: 429 answers seen since the client was made.
        cuts: How many times the rate was lowered.
        paused_until: Seconds (``time.monotonic()``) until which nothing is sent,
            after a ``Retry-After``; ``None`` when not paused.
        quota_limit: The last ``quotaLimit`` the server sent, if any.
    """

    pacing: bool
    rate: float | None
    throttled: int
    cuts: int
    paused_until: float | None
    quota_limit: float | None


class AdaptiveRateLimiter:
    """Paces a client's requests after the server throttles it; see the module docs.

    Args:
        adaptive: Follow the server's 429s (``False``: only ``max_rate``, if any).
        max_rate: The most requests per second, ever (``None``: no cap).
        max_pause: The longest client-wide pause a ``Retry-After`` causes, in seconds.
        clock: Monotonic seconds (injectable for tests).
        sleep: The coroutine function that waits (injectable for tests).
    """

    adaptive: bool
    max_rate: float | None
    max_pause: float
    pacing: bool
    cuts: int
    throttled: int
    sent: int
    quota_limit: float | None

    def __init__(
        self,
        *,
        adaptive: bool = True,
        max_rate: float | None = None,
        max_pause: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.adaptive = adaptive
        self.max_rate = (
            None
            if max_rate is None
            else arguments.seconds(max_rate, "max_rate", unit="requests per second")
        )
        self.max_pause = max_pause
        self._clock = clock
        self._sleep = sleep
        #: Whether :meth:`acquire` must be awaited before a request (the only hot-path check).
        self.pacing = self.max_rate is not None
        #: Bumped on every cut: a request remembers it when sent (see :meth:`on_throttle`).
        self.cuts = 0
        self.throttled = 0
        self.quota_limit: float | None = None
        self._paused_until = 0.0
        self._base = self.max_rate or START_RATE  # the rate right after the last cut
        self._peak = self._base  # where the rate climbs back to after the last cut
        self._since = clock()  # when the current curve starts (the end of any pause)
        self._slow_start = True
        self._hold = 0.0  # seconds at the peak before probing above it
        self._next = 0.0  # when the next request may go
        self._lock = asyncio.Lock()
        self._logged_rate: float | None = None
        #: Requests sent, counted by the transport (one increment per request, even while
        #: dormant): the rate at the first throttle is measured from it.
        self.sent = 0
        self._mark = (clock(), 0)

    # --- the curve ------------------------------------------------------------------------

    def rate_at(self, now: float) -> float:
        """The allowed rate at ``now`` (requests per second) on the current curve."""
        t = now - self._since
        base, peak = self._base, self._peak
        if t <= 0:
            rate = base
        elif self._slow_start:
            rate = base * 2.0 ** min(t / 0.5, 64.0)  # doubles every half second
        elif t < RECOVERY:
            # Concave: fast at first, flattening as it nears the old peak (CUBIC's left half).
            rate = peak - (peak - base) * ((RECOVERY - t) / RECOVERY) ** 3
        elif t < RECOVERY + self._hold:
            rate = peak
        else:
            # Convex: slow at first, then fast, reaching twice the peak DOUBLING seconds in.
            probing = min(t - RECOVERY - self._hold, 3600.0)
            rate = peak * (1.0 + (probing / DOUBLING) ** 3)
        rate = max(MIN_RATE, rate)
        return rate if self.max_rate is None else min(rate, self.max_rate)

    @property
    def rate(self) -> float | None:
        """Requests per second allowed now; ``None`` while dormant."""
        return self.rate_at(self._clock()) if self.pacing else None

    def state(self) -> RateLimitState:
        """A snapshot of the limiter, for people and dashboards."""
        now = self._clock()
        return RateLimitState(
            pacing=self.pacing,
            rate=self.rate_at(now) if self.pacing else None,
            throttled=self.throttled,
            cuts=self.cuts,
            paused_until=self._paused_until if self._paused_until > now else None,
            quota_limit=self.quota_limit,
        )

    def concurrency(self, limit: int) -> int:
        """How many calls a bulk operation should keep in flight: fewer while throttled.

        While pacing, more calls in flight than half a second of the allowed
        rate only wait in the limiter, holding memory (and, for a caller's own
        queue, items); at least one, at most ``limit``.
        """
        if not self.pacing:
            return limit
        return max(1, min(limit, math.ceil(self.rate_at(self._clock()) * 0.5)))

    # --- signals --------------------------------------------------------------------------

    def on_throttle(
        self, *, sent_at_cut: int, retry_after: float | None, quota_limit: float | None
    ) -> None:
        """Take a 429 into account.

        Args:
            sent_at_cut: :attr:`cuts` when the throttled request was sent: a
                request sent before the last cut cuts nothing.
            retry_after: The answer's ``Retry-After``, already parsed and bounded.
            quota_limit: The answer's ``quotaLimit``, already parsed and bounded.
        """
        self.throttled += 1
        if not self.adaptive:
            return
        now = self._clock()
        if retry_after is not None and retry_after > 0:
            self._paused_until = max(self._paused_until, now + min(retry_after, self.max_pause))
        if quota_limit is not None:
            self.quota_limit = quota_limit
        if sent_at_cut != self.cuts:
            return
        current = self.rate_at(now) if self.pacing else None
        ceiling = None if quota_limit is None else quota_limit * QUOTA_MARGIN
        previous_peak = self._peak
        if current is None:
            # The first throttle: start from the server's quota if it told us, else from
            # BETA times the rate sent since the last throttle (or the start), in slow start.
            if ceiling is not None:
                self._peak = self._base = ceiling
            else:
                self._peak = self._base = max(START_RATE, BETA * self._measured_rate(now))
            self._slow_start = ceiling is None
        elif ceiling is not None and current > ceiling:
            # Above the quota the server named: straight back to it, and probe from there.
            self._peak = self._base = ceiling
            self._slow_start = False
        else:
            self._peak = current
            self._base = max(MIN_RATE, BETA * current)
            self._slow_start = False
        same_level = current is not None and abs(self._peak / previous_peak - 1) <= SAME_LEVEL
        self._hold = min(MAX_HOLD, max(FIRST_HOLD, 2 * self._hold)) if same_level else FIRST_HOLD
        # The curve starts when sending may resume: the pause is not recovery time.
        self._since = max(now, self._paused_until)
        self._mark = (now, self.sent)
        self.cuts += 1
        self.pacing = True
        self._log(now, retry_after)

    def _measured_rate(self, now: float) -> float:
        """Requests per second sent since the last cut (or since the limiter was made)."""
        since, sent = self._mark
        return (self.sent - sent) / max(now - since, 0.1)

    def _log(self, now: float, retry_after: float | None) -> None:
        rate = self.rate_at(now)
        previous = self._logged_rate
        if previous is not None and previous / 2 < rate < previous * 2 and not retry_after:
            return
        self._logged_rate = rate
        pause = f", pausing {retry_after:g}s as asked" if retry_after else ""
        logger.info(
            "rate limited by the server (%d throttled so far): pacing at %.1f requests/s%s",
            self.throttled,
            rate,
            pause,
            extra={"calyptia_rate": rate, "calyptia_throttled": self.throttled},
        )

    # --- pacing ---------------------------------------------------------------------------

    def _delay(self, now: float) -> float:
        return max(self._next, self._paused_until) - now

    def delay(self) -> float:
        """Seconds until the next request may go (0 when it may go now or when dormant)."""
        return max(0.0, self._delay(self._clock())) if self.pacing else 0.0

    async def acquire(self) -> None:
        """Wait for this request's turn: after any pause, one request per ``1 / rate`` s.

        Waiters go in FIFO order; a cancelled waiter gives its turn up. With an
        injected sleep that does not wait (tests), nothing waits here either.
        """
        async with self._lock:
            turn = max(self._next, self._paused_until)
            for _ in range(3):  # a new pause during the wait moves the turn: wait again
                delay = turn - self._clock()
                if delay <= 0:
                    break
                await self._sleep(delay)
                moved = max(self._next, self._paused_until)
                if moved <= turn:
                    break  # our turn (also when an injected sleep did not wait at all)
                turn = moved
            now = self._clock()
            rate = self.rate_at(now)
            # After an idle spell, a small burst may go at once (the next turn is never
            # further back than BURST_SECONDS), then one per 1/rate.
            self._next = max(self._next, now - BURST_SECONDS) + 1.0 / rate
            if rate >= DORMANT_RATE and self.max_rate is None:
                self.pacing = False  # recovered: dormant until the next throttle
                self._logged_rate = None
                logger.info("no longer rate limited: requests are not paced")

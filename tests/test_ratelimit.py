"""The adaptive rate limiter on its own: the curve, the signals, pacing (an injected clock)."""

from __future__ import annotations

import itertools
import logging
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calyptia_logs import ratelimit
from calyptia_logs.ratelimit import (
    BETA,
    DOUBLING,
    FIRST_HOLD,
    MAX_HOLD,
    MIN_RATE,
    QUOTA_MARGIN,
    RECOVERY,
    START_RATE,
    AdaptiveRateLimiter,
)


class Clock:
    """A clock that moves only when told to, or when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(clock: Clock, **options: object) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(clock=clock, sleep=clock.sleep, **options)  # type: ignore[arg-type]


def throttle(
    lim: AdaptiveRateLimiter, retry_after: float | None = None, quota: float | None = None
) -> None:
    lim.on_throttle(sent_at_cut=lim.cuts, retry_after=retry_after, quota_limit=quota)


def test_a_new_limiter_is_dormant_and_changes_nothing() -> None:
    lim = limiter(Clock())
    assert not lim.pacing
    assert lim.rate is None
    assert lim.delay() == 0
    assert lim.concurrency(64) == 64
    state = lim.state()
    assert (state.pacing, state.rate, state.throttled, state.paused_until) == (False, None, 0, None)


def test_the_first_throttle_paces_at_the_servers_quota_and_pauses_for_retry_after() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, retry_after=2, quota=300)
    assert lim.pacing
    assert lim.rate == pytest.approx(300 * QUOTA_MARGIN)
    assert lim.delay() == pytest.approx(2)
    state = lim.state()
    assert state.paused_until == pytest.approx(clock.now + 2)
    assert (state.throttled, state.cuts, state.quota_limit) == (1, 1, 300)


def test_without_a_quota_it_starts_below_the_measured_rate_and_doubles_each_half_second() -> None:
    clock = Clock()
    lim = limiter(clock)
    clock.now += 2
    lim.sent = 1000  # 500 requests/s over two seconds
    throttle(lim)
    assert lim.rate == pytest.approx(BETA * 500)
    clock.now += 0.5
    assert lim.rate == pytest.approx(2 * BETA * 500)
    clock.now += 0.5
    assert lim.rate == pytest.approx(4 * BETA * 500)


def test_a_slow_sender_starts_at_the_start_rate_not_below() -> None:
    clock = Clock()
    lim = limiter(clock)
    clock.now += 100  # one request in 100 s
    lim.sent = 1
    throttle(lim)
    assert lim.rate == START_RATE


def test_a_throttle_for_a_request_sent_before_the_last_cut_cuts_nothing() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, quota=100)
    clock.now += 5
    before = lim.rate
    sent_before_the_cut = lim.cuts - 1
    lim.on_throttle(sent_at_cut=sent_before_the_cut, retry_after=None, quota_limit=100)
    assert lim.rate == before
    assert lim.cuts == 1
    assert lim.throttled == 2  # counted all the same


def test_every_retry_after_pauses_the_client_even_without_a_cut() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, retry_after=1, quota=100)
    lim.on_throttle(sent_at_cut=0, retry_after=3, quota_limit=100)
    assert lim.delay() == pytest.approx(3)


def test_a_pause_is_capped_at_max_pause() -> None:
    lim = limiter(Clock(), max_pause=10)
    throttle(lim, retry_after=3600)
    assert lim.delay() == pytest.approx(10)


def test_the_curve_recovers_holds_then_probes_to_twice_the_peak() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim)  # slow start from START_RATE
    clock.now += 3  # 10 -> 640 requests/s
    peak = lim.rate
    assert peak is not None
    throttle(lim)  # a cut: BETA * peak, then back up
    start = clock.now
    assert lim.rate == pytest.approx(BETA * peak)
    rates = []
    for tenth in range(1, int((RECOVERY + FIRST_HOLD + DOUBLING) * 10) + 1):
        clock.now = start + tenth / 10
        rates.append(lim.rate)
    assert rates == sorted(rates)  # never down without a throttle
    clock.now = start + RECOVERY
    assert lim.rate == pytest.approx(peak)
    clock.now = start + RECOVERY + FIRST_HOLD
    assert lim.rate == pytest.approx(peak)
    clock.now = start + RECOVERY + FIRST_HOLD + DOUBLING
    assert lim.rate == pytest.approx(2 * peak)


def test_recovery_starts_when_the_pause_ends() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim)
    clock.now += 3
    peak = lim.rate
    throttle(lim, retry_after=5)
    clock.now += 5 + RECOVERY
    assert lim.rate == pytest.approx(peak)


def test_a_throttle_above_the_quota_goes_straight_back_to_it() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, quota=100)
    clock.now += RECOVERY + FIRST_HOLD + DOUBLING  # probing: twice the quota
    throttle(lim, quota=100)
    assert lim.rate == pytest.approx(100 * QUOTA_MARGIN)


def test_failed_probes_at_the_same_level_wait_longer_each_time() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, quota=100)
    holds = []
    for _ in range(6):
        # Find when probing starts: the first time the rate rises above the quota.
        start = clock.now
        while (lim.rate or 0) <= 100 * QUOTA_MARGIN * 1.001:
            clock.now += 0.25
        holds.append(round(clock.now - start - RECOVERY))
        throttle(lim, quota=100)
    assert holds[0] == FIRST_HOLD
    assert holds == sorted(holds)
    assert holds[-1] == MAX_HOLD


def test_a_new_level_resets_the_hold() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, quota=100)
    for _ in range(3):
        clock.now += 60
        throttle(lim, quota=100)
    clock.now += 60
    throttle(lim, quota=400)  # the server raised the limit: a new level
    start = clock.now
    clock.now = start + RECOVERY + FIRST_HOLD + 0.5
    assert (lim.rate or 0) > 400 * QUOTA_MARGIN


def test_max_rate_paces_from_the_start_and_caps_the_curve() -> None:
    clock = Clock()
    lim = limiter(clock, max_rate=50)
    assert lim.pacing
    assert lim.rate == 50
    throttle(lim)
    clock.now += 60
    assert lim.rate == 50


def test_without_adaptation_429s_are_counted_but_never_paced() -> None:
    lim = limiter(Clock(), adaptive=False)
    throttle(lim, retry_after=5, quota=10)
    assert lim.throttled == 1
    assert not lim.pacing
    assert lim.delay() == 0


async def test_pacing_spaces_requests_one_per_period_after_the_pause() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, retry_after=2, quota=100 / QUOTA_MARGIN)  # paced at 100/s
    sent = []
    for _ in range(50):
        await lim.acquire()
        sent.append(clock.now)
    assert sent[0] == pytest.approx(1002.0)  # nothing before the pause is over
    steady = sent[10:]  # after the small burst the server's refilled bucket allows
    gaps = [b - a for a, b in itertools.pairwise(steady)]
    assert sum(gaps) / len(gaps) == pytest.approx(0.01, rel=0.01)


async def test_after_an_idle_spell_only_a_small_burst_goes_at_once() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, quota=100 / QUOTA_MARGIN)
    clock.now += RECOVERY + FIRST_HOLD / 2  # idle, on the plateau at 100/s
    clock.sleeps.clear()
    for _ in range(20):
        await lim.acquire()
    at_once = 20 - len(clock.sleeps)
    assert at_once == math.floor(ratelimit.BURST_SECONDS * 100) + 1


async def test_the_limiter_goes_dormant_once_the_rate_is_far_above_any_use() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, quota=1000)
    clock.now += 600
    await lim.acquire()
    assert not lim.pacing
    assert lim.rate is None


def test_bulk_concurrency_drops_while_the_rate_is_low() -> None:
    clock = Clock()
    lim = limiter(clock)
    throttle(lim, quota=10)
    assert lim.concurrency(64) == math.ceil(10 * QUOTA_MARGIN * 0.5)
    throttle(lim, quota=1000, retry_after=None)
    clock.now += 60
    assert lim.concurrency(64) == 64


def test_a_big_change_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    lim = limiter(clock)
    with caplog.at_level(logging.INFO, logger="calyptia_logs"):
        throttle(lim, retry_after=1, quota=300)
    (record,) = caplog.records
    assert "pacing at 297.0 requests/s, pausing 1s as asked" in record.getMessage()
    assert record.calyptia_throttled == 1  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1e6, allow_nan=False),  # seconds until the event
            st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),  # Retry-After
            st.one_of(st.none(), st.floats(1e-3, 1e6, allow_nan=False)),  # quotaLimit
            st.integers(0, 10**7),  # requests sent meanwhile
            st.booleans(),  # sent before the last cut
        ),
        max_size=30,
    ),
    st.one_of(st.none(), st.floats(0.01, 1e5, allow_nan=False)),
)
def test_any_sequence_of_throttles_keeps_the_rate_finite_and_in_bounds(
    events: list[tuple[float, float | None, float | None, int, bool]], max_rate: float | None
) -> None:
    clock = Clock()
    lim = limiter(clock, max_rate=max_rate)
    for wait, retry_after, quota, sent, stale in events:
        clock.now += wait
        lim.sent += sent
        cut = lim.cuts - 1 if stale and lim.cuts else lim.cuts
        lim.on_throttle(sent_at_cut=cut, retry_after=retry_after, quota_limit=quota)
        for later in (0.0, 0.3, RECOVERY, 10.0, 1e4):
            rate = lim.rate_at(clock.now + later)
            assert math.isfinite(rate)
            assert rate >= min(MIN_RATE, max_rate or MIN_RATE)
            if max_rate is not None:
                assert rate <= max_rate
        assert 0 <= lim.delay() <= lim.max_pause + 1e-9

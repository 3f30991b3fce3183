# SPDX-License-Identifier: AGPL-3.0-or-later
"""Token buckets never grant more than `burst + rate × window`, and waits are exact."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.notify.ratelimit import Rate, RateLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


RATES = st.builds(Rate, per_s=st.floats(0.05, 50), burst=st.integers(1, 10))
STEPS = st.lists(st.floats(0, 2, allow_nan=False), min_size=1, max_size=300)


def _max_in_window(times: list[float], window: float) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


@settings(max_examples=200, deadline=None)
@given(rate=RATES, steps=STEPS, window=st.floats(0.01, 20))
def test_token_bucket_never_exceeds_its_rate_when_asked_at_any_times(
    rate: Rate, steps: list[float], window: float
) -> None:
    bucket, now, granted = TokenBucket(rate, 0.0), 0.0, []
    for step in steps:
        now += step
        if bucket.take(now) == 0.0:
            granted.append(now)
    assert _max_in_window(granted, window) <= rate.burst + rate.per_s * window + 1e-6


@settings(max_examples=50, deadline=None)
@given(
    global_rate=RATES, dest_rate=RATES, steps=STEPS, keys=st.lists(st.sampled_from("abc"), min_size=300, max_size=300)
)
def test_rate_limiter_respects_global_and_destination_rates_when_destinations_mix(
    global_rate: Rate, dest_rate: Rate, steps: list[float], keys: list[str]
) -> None:
    clock = Clock()
    limiter = RateLimiter(global_rate, clock)
    granted: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    for step, key in zip(steps, keys, strict=False):
        clock.now += step
        if limiter.take(key, dest_rate) == 0.0:
            granted[key].append(clock.now)
    everything = sorted(t for ts in granted.values() for t in ts)
    assert _max_in_window(everything, 1.0) <= global_rate.burst + global_rate.per_s + 1e-6
    for times in granted.values():
        assert _max_in_window(times, 1.0) <= dest_rate.burst + dest_rate.per_s + 1e-6


def test_token_bucket_returns_the_exact_wait_when_empty() -> None:
    bucket = TokenBucket(Rate(per_s=2, burst=1), 0.0)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.1) == pytest.approx(0.4)
    assert bucket.take(0.5) == 0.0


def test_rate_limiter_takes_no_global_token_when_the_destination_refuses() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(per_s=1, burst=2), clock)
    slow = Rate(per_s=0.01, burst=1)
    assert limiter.take("a", slow) == 0.0
    assert limiter.take("a", slow) > 0  # refused by "a"'s bucket...
    assert limiter.take("b", slow) == 0.0  # ...so the global bucket still had its second token


async def test_rate_limiter_acquire_waits_the_announced_delay_when_the_bucket_is_empty() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(per_s=30, burst=1), clock)
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)
        clock.now += delay

    for _ in range(3):
        await limiter.acquire("chat", None, sleep=sleep)
    assert waits == [pytest.approx(1 / 30)] * 2


def test_rate_limiter_forgets_idle_destinations_when_over_its_bound() -> None:
    clock = Clock()
    limiter = RateLimiter(None, clock, max_destinations=10)
    for i in range(100):
        limiter.take(f"d{i}", Rate(per_s=1, burst=1))
        clock.now += 1.0
    assert len(limiter) <= 10

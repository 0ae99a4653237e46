"""The poll policy: active and idle pace, Retry-After, doubling backoff, caps."""

from __future__ import annotations

import pytest

from chamelaion_desktop.core.polling import PollPolicy


def test_active_and_idle_intervals() -> None:
    policy = PollPolicy(active_interval=3.0, idle_interval=15.0, max_backoff=60.0)
    assert policy.next_delay(any_active=True) == 3.0
    assert policy.next_delay(any_active=False) == 15.0


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    policy = PollPolicy(active_interval=3.0, idle_interval=15.0, max_backoff=60.0)
    delays = [policy.next_delay(any_active=True, failures=n) for n in range(1, 8)]
    assert delays == [6.0, 12.0, 24.0, 48.0, 60.0, 60.0, 60.0]
    # Idle and failing: the doubling starts from the idle pace, same cap.
    assert [policy.next_delay(any_active=False, failures=n) for n in (1, 2, 3)] == [
        30.0,
        60.0,
        60.0,
    ]
    # A huge failure count must not overflow.
    assert policy.next_delay(any_active=True, failures=10_000) == 60.0


def test_retry_after_is_honoured_but_never_sooner_than_the_normal_pace() -> None:
    policy = PollPolicy(active_interval=3.0, idle_interval=15.0, max_backoff=60.0)
    assert policy.next_delay(any_active=True, rate_limited_for=20.0, failures=1) == 20.0
    assert policy.next_delay(any_active=True, rate_limited_for=1.0, failures=1) == 3.0
    assert policy.next_delay(any_active=False, rate_limited_for=1.0, failures=1) == 15.0
    # The server's word wins over the cap.
    assert policy.next_delay(any_active=True, rate_limited_for=300.0, failures=1) == 300.0


def test_repeated_429s_without_retry_after_double_up_to_the_cap() -> None:
    policy = PollPolicy(active_interval=3.0, idle_interval=15.0, max_backoff=20.0)
    delays = [
        policy.next_delay(any_active=True, rate_limited_for=0.0, failures=n) for n in range(1, 6)
    ]
    assert delays == [3.0, 6.0, 12.0, 20.0, 20.0]


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        PollPolicy(active_interval=0)
    with pytest.raises(ValueError, match="max_backoff"):
        PollPolicy(active_interval=10, max_backoff=5)

"""How long the job list waits between refreshes: active, idle, rate-limited, failing.

Source: API.md ("Jobs are asynchronous: submit, get a request_id, then poll a request or the
list"; "429 rate limit"; the SDK honours ``Retry-After``). The queue refreshes the first
page of ``GET /v1/lipsync/requests`` in a loop; this module only decides the pause after
each attempt, so it is pure arithmetic and tested without a server or Qt.

Rules, in order of precedence:

1. A 429 answer: wait what the server asked for (``Retry-After``), never less than the
   normal interval; when 429s keep coming, the wait doubles from the normal interval up to
   ``max_backoff`` (a server that sends no ``Retry-After`` gets the doubling alone). A
   ``Retry-After`` longer than ``max_backoff`` is honoured as it is: the server said so.
2. Any other failure (unreachable, timeout, 5xx, refused key): exponential backoff from the
   normal interval, doubling per consecutive failure, capped at ``max_backoff``.
3. Otherwise ``active_interval`` while any job is queued or processing (or a submission of
   ours has just been answered and may not be listed yet), ``idle_interval`` when nothing
   is moving.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Pauses between refreshes of the job list, in seconds.

    Attributes:
        active_interval: pause while something is queued or processing (default 3 s).
        idle_interval: pause when every job is completed or failed (default 15 s).
        max_backoff: longest pause after repeated failures or 429s without a longer
            ``Retry-After`` (default 60 s).

    Raises:
        ValueError: an interval is not positive, or ``max_backoff`` is shorter than the
            active interval.
    """

    active_interval: float = 3.0
    idle_interval: float = 15.0
    max_backoff: float = 60.0

    def __post_init__(self) -> None:
        if self.active_interval <= 0 or self.idle_interval <= 0:
            raise ValueError("poll intervals must be positive")
        if self.max_backoff < self.active_interval:
            raise ValueError("max_backoff must be at least the active interval")

    def interval(self, *, any_active: bool) -> float:
        """The normal pause: ``active_interval`` if ``any_active`` else ``idle_interval``."""
        return self.active_interval if any_active else self.idle_interval

    def next_delay(
        self, *, any_active: bool, rate_limited_for: float | None = None, failures: int = 0
    ) -> float:
        """Seconds to wait before the next refresh.

        Args:
            any_active: a job is queued or processing (or was just submitted).
            rate_limited_for: the last attempt got a 429; the seconds its ``Retry-After``
                asked for, or ``0.0`` when it gave none. ``None``: not rate-limited.
            failures: consecutive failed attempts, the last one included (429s too);
                0 after a success.

        Returns:
            A pause in seconds, always > 0.
        """
        base = self.interval(any_active=any_active)
        if failures <= 0 and rate_limited_for is None:
            return base
        # Doubling starts at the normal interval for the first failure, so the first retry
        # after a 429 waits no longer than Retry-After requires.
        doublings = max(0, failures - 1) if rate_limited_for is not None else max(1, failures)
        backoff = min(self.max_backoff, base * 2.0 ** min(doublings, 32))
        backoff = max(backoff, base)
        if rate_limited_for is not None:
            return max(rate_limited_for, backoff)
        return backoff

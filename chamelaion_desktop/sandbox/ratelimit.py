"""A sliding-window request limiter per account (API.md "Limits": 60 requests/min on the
generation endpoints, per token [assumed])."""

from __future__ import annotations

import math
from collections import deque

WINDOW = 60.0


class RateLimiter:
    """Counts accepted requests per account over the last ``WINDOW`` seconds.

    Args:
        limit: requests allowed per window; 0 disables limiting. Read on every call, so a
            caller may pass a fresh value each time.
    """

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def acquire(self, account: str, limit: int, now: float) -> float | None:
        """Record one request at ``now`` (monotonic seconds) if allowed.

        Returns:
            ``None`` when allowed (and counted), else the seconds until a slot frees (> 0).
        """
        if limit <= 0:
            return None
        hits = self._hits.setdefault(account, deque())
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        if len(hits) >= limit:
            return max(hits[0] + WINDOW - now, 0.001)
        hits.append(now)
        return None


def retry_after_headers(seconds: float) -> dict[str, str]:
    """``Retry-After`` (whole seconds, at least 1) and ``retry-after-ms`` for a 429."""
    return {
        "Retry-After": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }

"""Small helpers for tests that run on an event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Poll ``predicate`` every ``interval`` seconds until it is truthy.

    Raises:
        AssertionError: still falsy after ``timeout`` seconds (names the predicate).
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate!r}")
        await asyncio.sleep(interval)

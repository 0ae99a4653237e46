"""Small helpers for tests: waiting on an event loop, sample jobs, a Python child."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chamelaion_desktop.api.models import LipsyncRequest

#: The moment ``sample_jobs`` counts back from (UTC).
SAMPLE_NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)
_STATUSES = ("queued", "processing", "completed", "failed")


def sample_jobs(count: int, now: datetime = SAMPLE_NOW) -> list[LipsyncRequest]:
    """``count`` jobs, newest first (created 5 hours and 1 second apart before ``now``),
    cycling through the four statuses. Reference IDs run against creation order (sorting
    by reference reorders the rows) and every fifth job has none; failed jobs carry an
    error message of one to three sentences."""
    out = []
    for n in range(count):
        created = now - timedelta(hours=n * 5, seconds=n)
        status = _STATUSES[n % 4]
        out.append(
            LipsyncRequest(
                id=f"00000000-0000-4000-8000-{n:012d}",
                created_at=created,
                status=status,
                started_at=created + timedelta(seconds=4) if status != "queued" else None,
                finished_at=created + timedelta(seconds=95) if n % 4 >= 2 else None,
                reference_id=f"spot-{(n * 37) % 100:03d}" if n % 5 else None,
                error_message="video URL is not accessible " * (n % 3 + 1)
                if status == "failed"
                else None,
            )
        )
    return out


def run_python_json(script: str, *args: str, timeout: float = 60.0) -> Any:
    """Run ``script`` in a new Python (``python -c``, Qt offscreen) and return the JSON
    its last line of output holds.

    Raises:
        AssertionError: the child failed (with the end of its stderr).
    """
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6"}
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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

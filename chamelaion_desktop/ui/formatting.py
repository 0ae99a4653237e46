"""Small pure helpers of the jobs table: its texts, and which columns of a row changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def format_duration(seconds: float) -> str:
    """``"4.2 s"``, ``"42 s"``, ``"1 min 05 s"`` or ``"2 h 03 min"`` for a span in seconds."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def format_utc(moment: datetime) -> str:
    """Full ISO 8601 in UTC, e.g. ``"2026-11-21T14:03:22Z"`` (for tooltips)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def changed_columns(old: tuple[Any, ...], new: tuple[Any, ...]) -> int:
    """The columns whose raw value differs, as a bit mask (bit ``n``: column ``n``)."""
    mask = 0
    for column, (a, b) in enumerate(zip(old, new, strict=True)):
        if a != b:
            mask |= 1 << column
    return mask


def column_runs(mask: int, count: int) -> list[tuple[int, int]]:
    """The column mask as runs of adjacent columns: ``0b101110`` -> ``[(1, 3), (5, 5)]``."""
    runs: list[tuple[int, int]] = []
    for column in range(count):
        if mask >> column & 1:
            if runs and runs[-1][1] == column - 1:
                runs[-1] = (runs[-1][0], column)
            else:
                runs.append((column, column))
    return runs

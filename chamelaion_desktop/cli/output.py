"""How the CLI speaks: JSON or aligned text on stdout, notes and progress bars on stderr.

Results go to stdout (one JSON document with ``--json``); everything about the run
(status changes, progress, hints) goes to stderr, so ``--json`` output pipes cleanly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tqdm import tqdm

from ..api import LipsyncRequest, RequestPage


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``, as the API writes it; ``None`` stays ``None``."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def request_to_json(request: LipsyncRequest) -> dict[str, Any]:
    """A ``LipsyncRequest`` as the API spells it (API.md ``LipsyncRequest``), times in UTC."""
    return {
        "id": request.id,
        "status": request.status,
        "created_at": timestamp(request.created_at),
        "started_at": timestamp(request.started_at),
        "finished_at": timestamp(request.finished_at),
        "reference_id": request.reference_id,
        "output_url": request.output_url,
        "error_message": request.error_message,
    }


def page_to_json(page: RequestPage) -> dict[str, Any]:
    """A list answer in the API's shape: ``{"data": [...], "pagination": {...}}``."""
    return {
        "data": [request_to_json(r) for r in page.data],
        "pagination": {
            "limit": page.pagination.limit,
            "offset": page.pagination.offset,
            "total": page.pagination.total,
        },
    }


def _clock(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def format_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def requests_table(requests: Sequence[LipsyncRequest]) -> str:
    """The compact list view: id, status, creation time (UTC), processing time, reference."""
    rows = [
        (
            r.id,
            r.status,
            _clock(r.created_at),
            _seconds(r.processing_seconds),
            r.reference_id or "-",
        )
        for r in requests
    ]
    return format_table(rows, ("ID", "STATUS", "CREATED (UTC)", "TOOK", "REFERENCE_ID"))


def request_details(request: LipsyncRequest) -> str:
    """One request as ``field  value`` lines; absent optional fields are left out."""
    fields = [
        ("id", request.id),
        ("status", request.status),
        ("created_at", f"{_clock(request.created_at)} UTC"),
        ("started_at", request.started_at and f"{_clock(request.started_at)} UTC"),
        ("finished_at", request.finished_at and f"{_clock(request.finished_at)} UTC"),
        (
            "processing",
            request.processing_seconds is not None and _seconds(request.processing_seconds),
        ),
        ("reference_id", request.reference_id),
        ("error_message", request.error_message),
        ("output_url", request.output_url),
    ]
    return format_table([(name, str(value)) for name, value in fields if value], ("FIELD", "VALUE"))


class Console:
    """Where each kind of output goes, following ``--json`` and ``--quiet``.

    Reads ``sys.stdout``/``sys.stderr`` at each call, so redirected streams are honoured.
    """

    def __init__(self, *, as_json: bool, quiet: bool) -> None:
        self.as_json = as_json
        self.quiet = quiet

    def result(self, data: object, text: str) -> None:
        """The command's answer on stdout: ``data`` as JSON with ``--json``, else ``text``."""
        if self.as_json:
            print(json.dumps(data, indent=2, ensure_ascii=False), file=sys.stdout, flush=True)
        elif text:
            print(text, file=sys.stdout, flush=True)

    def note(self, text: str) -> None:
        """A remark about the run on stderr, silenced by ``--quiet``."""
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def error(self, text: str) -> None:
        """A failure on stderr; never silenced."""
        print(text, file=sys.stderr, flush=True)

    @property
    def progress_enabled(self) -> bool:
        """Bars only for a person watching: stderr is a terminal, no ``--quiet``/``--json``."""
        return not (self.quiet or self.as_json) and sys.stderr.isatty()

    def progress(self, label: str) -> ByteProgress:
        """A byte progress bar on stderr (inert when bars are disabled)."""
        return ByteProgress(label, enabled=self.progress_enabled)


class ByteProgress:
    """A ``ProgressCallback`` ``(bytes_done, bytes_total)`` drawing a tqdm bar on stderr.

    The bar is made on the first call, when the total is known (0 means unknown).
    Use as a context manager so the bar is closed even on errors.
    """

    def __init__(self, label: str, *, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self._bar: tqdm[Any] | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            self._bar = tqdm(
                total=total or None,
                desc=self.label,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Finish the bar's line on stderr."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ByteProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

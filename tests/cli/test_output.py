"""The CLI's presentation helpers: JSON shapes, the aligned table, the byte progress bar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chamelaion_desktop.api import LipsyncRequest
from chamelaion_desktop.cli.output import (
    ByteProgress,
    Console,
    format_table,
    request_to_json,
    requests_table,
)

DONE = LipsyncRequest(
    id="3f2b8c1e-0000-4000-8000-000000000001",
    created_at=datetime(2026, 4, 7, 10, 0, 5, tzinfo=UTC),
    status="completed",
    started_at=datetime(2026, 4, 7, 10, 0, 6, tzinfo=UTC),
    finished_at=datetime(2026, 4, 7, 10, 0, 8, 500000, tzinfo=UTC),
    output_url="https://cdn.example/out.mp4",
    reference_id="clip-7",
)
QUEUED = LipsyncRequest(
    id="3f2b8c1e-0000-4000-8000-000000000002",
    created_at=datetime(2026, 4, 7, 10, 1, 0, tzinfo=UTC),
    status="some-new-status",
)


def test_request_json_uses_the_api_field_names_and_utc_z_times() -> None:
    assert request_to_json(DONE) == {
        "id": DONE.id,
        "status": "completed",
        "created_at": "2026-04-07T10:00:05Z",
        "started_at": "2026-04-07T10:00:06Z",
        "finished_at": "2026-04-07T10:00:08.500000Z",
        "reference_id": "clip-7",
        "output_url": "https://cdn.example/out.mp4",
        "error_message": None,
    }


def test_the_table_aligns_columns_and_keeps_unknown_statuses() -> None:
    lines = requests_table([DONE, QUEUED]).splitlines()

    assert lines[0].index("STATUS") == lines[1].index("completed") == lines[2].index("some-new")
    assert lines[1].split("  ")[-1] == "clip-7"
    assert "2.5 s" in lines[1]
    assert lines[2].endswith("-")
    assert all(line == line.rstrip() for line in lines)


def test_format_table_pads_all_but_the_last_column() -> None:
    assert format_table([("a", "bb", "c")], ("X", "Y", "LONG")) == "X  Y   LONG\na  bb  c"


def test_the_progress_bar_counts_bytes_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with ByteProgress("Uploading", enabled=True) as bar:
        for done in (0, 400_000, 1_048_576):
            bar(done, 1_048_576)
    err = capsys.readouterr().err
    assert "Uploading" in err
    assert "1.00M/1.00M" in err
    assert "100%" in err


def test_a_disabled_bar_and_quiet_console_print_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ByteProgress("Downloading", enabled=False) as bar:
        bar(10, 10)
    console = Console(as_json=False, quiet=True)
    console.note("queued")
    assert console.progress_enabled is False
    assert capsys.readouterr().err == ""
    console.error("Error: still shown")
    assert capsys.readouterr().err == "Error: still shown\n"

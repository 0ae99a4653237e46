"""The submission journal on real SQLite files: fields, states, crashes, migrations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chamelaion_desktop.core.journal import (
    CANCELLED,
    FINISHED,
    PENDING,
    SCHEMA_VERSION,
    SUBMITTED,
    UPLOAD_FAILED,
    UPLOADING,
    InvalidTransition,
    Journal,
    JournalError,
)

VIDEO = "grid_s2_male_2sentences_6s.mp4"
AUDIO = "fleurs_es419_006_spanish_5.6s.wav"
REFERENCE = "grid_s2_male_2sentences_6s__fleurs_es419_006_spanish_5.6s"


class FakeClock:
    """Aware UTC instants that move only when told."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 3, 9, 30, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "journal.sqlite3"


@pytest.fixture
def journal(db_path: Path) -> Iterator[Journal]:
    opened = Journal(db_path)
    yield opened
    opened.close()


def test_every_field_round_trips_through_a_reopen(db_path: Path, media_dir: Path) -> None:
    clock = FakeClock()
    journal = Journal(db_path, clock=clock)
    entry = journal.record(media_dir / VIDEO, media_dir / AUDIO, REFERENCE, True)
    assert entry.state == PENDING
    assert entry.created_at == entry.updated_at == clock.now
    assert entry.video_size == (media_dir / VIDEO).stat().st_size > 0
    assert entry.audio_size == (media_dir / AUDIO).stat().st_size > 0
    clock.now += timedelta(seconds=5)
    journal.mark_uploading(entry.local_id)
    clock.now += timedelta(seconds=5)
    journal.mark_submitted(entry.local_id, "3f2b8c1e-0000-4000-8000-000000000001")
    clock.now += timedelta(seconds=60)
    done = journal.mark_finished(entry.local_id, "completed")
    journal.close()

    reopened = Journal(db_path)
    try:
        again = reopened.get(entry.local_id)
    finally:
        reopened.close()
    assert again == done
    assert again.local_id == entry.local_id
    assert again.created_at == datetime(2026, 11, 3, 9, 30, 0, 123456, tzinfo=UTC)
    assert again.created_at.tzinfo is not None
    assert again.updated_at == clock.now
    assert again.video_path == media_dir / VIDEO
    assert again.audio_path == media_dir / AUDIO
    assert again.reference_id == REFERENCE
    assert again.disable_active_speaker_detection is True
    assert again.state == FINISHED
    assert again.request_id == "3f2b8c1e-0000-4000-8000-000000000001"
    assert again.job_status == "completed"
    assert again.error_message is None
    assert again.attempts == 1


def test_relative_paths_are_stored_absolute(
    journal: Journal, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(media_dir)
    entry = journal.record(Path(VIDEO), Path(AUDIO), REFERENCE, False)
    assert entry.video_path.samefile(media_dir / VIDEO)
    assert entry.video_path.is_absolute() and entry.audio_path.is_absolute()
    assert entry.disable_active_speaker_detection is False


def test_a_file_name_in_a_foreign_encoding_comes_back_as_the_same_file(
    journal: Journal, tmp_path: Path, media_dir: Path
) -> None:
    # Latin-1 bytes on a UTF-8 system: Python sees surrogate escapes; SQLite text would refuse.
    odd = tmp_path / os.fsdecode(b"sc\xe8ne.mp4")
    odd.write_bytes(b"\0" * 10)
    entry = journal.record(odd, media_dir / AUDIO, "odd", False)
    assert journal.get(entry.local_id).video_path == odd
    assert journal.get(entry.local_id).video_size == 10


def test_failures_and_retries_keep_count_and_message(journal: Journal, media_dir: Path) -> None:
    entry = journal.record(media_dir / VIDEO, media_dir / AUDIO, REFERENCE, False)
    journal.mark_uploading(entry.local_id)
    failed = journal.mark_upload_failed(entry.local_id, "The service had a problem.")
    assert (failed.state, failed.error_message, failed.attempts) == (
        UPLOAD_FAILED,
        "The service had a problem.",
        1,
    )
    retried = journal.mark_uploading(entry.local_id)
    assert (retried.state, retried.error_message, retried.attempts) == (UPLOADING, None, 2)
    cancelled = journal.mark_cancelled(entry.local_id)
    assert cancelled.state == CANCELLED
    # A retry of a cancelled upload may find the job the first try made.
    assert journal.mark_submitted(entry.local_id, "req-1").state == SUBMITTED


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "mark_finished"),
        (["mark_uploading", "submit"], "mark_uploading"),
        (["mark_uploading", "submit"], "mark_upload_failed"),
        (["mark_uploading", "submit"], "mark_cancelled"),
        (["submit", "finish"], "mark_cancelled"),
    ],
)
def test_impossible_transitions_are_refused(
    journal: Journal, media_dir: Path, steps: list[str], refused: str
) -> None:
    entry = journal.record(media_dir / VIDEO, media_dir / AUDIO, REFERENCE, False)
    for step in steps:
        if step == "submit":
            journal.mark_submitted(entry.local_id, "req-1")
        elif step == "finish":
            journal.mark_finished(entry.local_id, "failed")
        else:
            getattr(journal, step)(entry.local_id)
    before = journal.get(entry.local_id)
    args = {"mark_finished": ("completed",), "mark_upload_failed": ("oops",)}.get(refused, ())
    with pytest.raises(InvalidTransition, match=f"cannot go from {before.state}"):
        getattr(journal, refused)(entry.local_id, *args)
    assert journal.get(entry.local_id) == before


def test_unknown_entries_and_bad_arguments(journal: Journal, media_dir: Path) -> None:
    with pytest.raises(KeyError):
        journal.get(42)
    with pytest.raises(KeyError):
        journal.mark_uploading(42)
    with pytest.raises(ValueError, match="reference_id"):
        journal.record(media_dir / VIDEO, media_dir / AUDIO, "", False)
    with pytest.raises(JournalError, match=r"video file .*missing\.mp4 cannot be read"):
        journal.record(media_dir / "missing.mp4", media_dir / AUDIO, "x", False)
    assert journal.entries() == []


def test_entries_are_newest_first_and_lookups_work(journal: Journal, media_dir: Path) -> None:
    ids = [
        journal.record(media_dir / VIDEO, media_dir / AUDIO, f"ref-{n}", False).local_id
        for n in range(4)
    ]
    assert [e.local_id for e in journal.entries()] == ids[::-1]
    assert [e.local_id for e in journal.entries(limit=2)] == ids[:1:-1]
    journal.mark_submitted(ids[1], "req-b")
    found = journal.by_request_id("req-b")
    assert found is not None and found.local_id == ids[1]
    assert journal.by_request_id("req-none") is None
    assert journal.request_ids_for("ref-1") == {"req-b"}
    assert journal.request_ids_for("ref-2") == set()
    finished = journal.mark_finished_by_request_id("req-b", "completed")
    assert finished is not None and finished.job_status == "completed"
    assert journal.mark_finished_by_request_id("not-ours", "completed") is None
    # The queue may report the same job again: harmless.
    assert journal.mark_finished_by_request_id("req-b", "completed") is not None


def test_an_upload_interrupted_by_a_crash_is_unfinished_at_next_start(
    db_path: Path, media_dir: Path
) -> None:
    # A real crash: another process records, starts uploading and dies without closing.
    script = (
        "import os, sys; from pathlib import Path\n"
        "from chamelaion_desktop.core.journal import Journal\n"
        "j = Journal(Path(sys.argv[1]))\n"
        "m = Path(sys.argv[2])\n"
        f"a = j.record(m / {VIDEO!r}, m / {AUDIO!r}, 'crashed', False)\n"
        f"b = j.record(m / {VIDEO!r}, m / {AUDIO!r}, 'never-started', False)\n"
        f"c = j.record(m / {VIDEO!r}, m / {AUDIO!r}, 'failed', False)\n"
        "j.mark_uploading(a.local_id)\n"
        "j.mark_uploading(c.local_id)\n"
        "j.mark_upload_failed(c.local_id, 'The service had a problem.')\n"
        "os._exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(db_path), str(media_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    journal = Journal(db_path)
    try:
        unfinished = journal.unfinished()
        assert [(e.reference_id, e.state) for e in unfinished] == [
            ("never-started", PENDING),
            ("crashed", UPLOADING),
        ]
        assert all(e.is_unfinished for e in unfinished)
        assert len(journal.entries()) == 3
    finally:
        journal.close()


def test_threads_can_share_one_journal(journal: Journal, media_dir: Path) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                entry = journal.record(media_dir / VIDEO, media_dir / AUDIO, f"t{n}-{i}", False)
                journal.mark_uploading(entry.local_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(journal.unfinished()) == 40


def test_a_new_file_gets_the_current_schema_in_wal_mode(db_path: Path) -> None:
    Journal(db_path).close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = {row[1] for row in db.execute("PRAGMA table_info(submissions)")}
    db.close()
    # Nothing in the schema could hold a secret.
    assert not {c for c in columns if "key" in c or "token" in c or "auth" in c}


def test_a_journal_from_a_newer_app_is_refused(db_path: Path) -> None:
    Journal(db_path).close()
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JournalError, match="newer version of the app"):
        Journal(db_path)


def test_a_file_that_is_not_a_journal_is_refused_plainly(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(JournalError, match=r"cannot be read.*Move it aside"):
        Journal(db_path)

"""The submission journal: every submission, recorded on disk before its upload starts.

Source: the issue "Every submission is recorded in a local journal ... before the upload
starts, and updated as it goes". One SQLite file in the app's data folder (WAL mode,
schema versions in ``PRAGMA user_version``). Quitting or crashing mid-upload leaves the
entry ``pending`` or ``uploading``; ``Journal.unfinished`` finds it on the next start.

States (``JournalEntry.state``)::

    pending --> uploading --> submitted --> finished
       |            |   \\
       |            |    `--> upload_failed --(retry)--> uploading / submitted
       `------------+-------> cancelled     --(retry)--> uploading / submitted

Blocking: every method does disk I/O. From async code use ``core.submit.AsyncJournal``,
which runs them on one worker thread, in order. No API key is ever
stored here: the table has no column for one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "CANCELLED",
    "FINISHED",
    "PENDING",
    "SCHEMA_VERSION",
    "STATES",
    "SUBMITTED",
    "UNFINISHED_STATES",
    "UPLOADING",
    "UPLOAD_FAILED",
    "InvalidTransition",
    "Journal",
    "JournalEntry",
    "JournalError",
]

PENDING = "pending"
UPLOADING = "uploading"
SUBMITTED = "submitted"
UPLOAD_FAILED = "upload_failed"
CANCELLED = "cancelled"
FINISHED = "finished"
STATES = (PENDING, UPLOADING, SUBMITTED, UPLOAD_FAILED, CANCELLED, FINISHED)
#: Interrupted by a quit or a crash: the upload may or may not have reached the service.
UNFINISHED_STATES = frozenset({PENDING, UPLOADING})

# Target state -> states it may be reached from. A retry (resume) may find the job of an
# earlier try, hence submitted from upload_failed and cancelled; finished -> finished lets
# the queue report a job twice without error.
_ALLOWED_FROM: dict[str, frozenset[str]] = {
    UPLOADING: frozenset({PENDING, UPLOADING, UPLOAD_FAILED, CANCELLED}),
    SUBMITTED: frozenset({PENDING, UPLOADING, UPLOAD_FAILED, CANCELLED}),
    UPLOAD_FAILED: frozenset({PENDING, UPLOADING, UPLOAD_FAILED, CANCELLED}),
    CANCELLED: frozenset({PENDING, UPLOADING, UPLOAD_FAILED}),
    FINISHED: frozenset({SUBMITTED, FINISHED}),
}

# One script per schema version; never edit a released one, append a new one instead.
_MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE submissions (
        local_id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        video_path BLOB NOT NULL,
        audio_path BLOB NOT NULL,
        video_size INTEGER NOT NULL,
        audio_size INTEGER NOT NULL,
        reference_id TEXT NOT NULL,
        disable_active_speaker_detection INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ({", ".join(f"'{s}'" for s in STATES)})),
        request_id TEXT,
        error_message TEXT,
        job_status TEXT,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX submissions_request_id ON submissions (request_id);
    CREATE INDEX submissions_reference_id ON submissions (reference_id);
    CREATE INDEX submissions_state ON submissions (state);
    """,
)
#: The schema version this code writes (``PRAGMA user_version``).
SCHEMA_VERSION = len(_MIGRATIONS)

_COLUMNS = (
    "local_id, created_at, updated_at, video_path, audio_path, video_size, audio_size, "
    "reference_id, disable_active_speaker_detection, state, request_id, error_message, "
    "job_status, attempts"
)


class JournalError(Exception):
    """The journal cannot be opened or written; ``str()`` is a plain sentence to show."""


class InvalidTransition(JournalError):
    """A state change the journal refuses, e.g. ``finished`` -> ``uploading`` (a bug)."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One submission as recorded.

    Attributes:
        local_id: the journal's own id (positive, increasing).
        created_at / updated_at: aware UTC instants of recording and of the last change.
        video_path / audio_path: absolute paths of the inputs as chosen.
        video_size / audio_size: their sizes in bytes when recorded (a retry checks them).
        reference_id: sent with the upload; how a retry finds a job the first try made.
        disable_active_speaker_detection: True for max-face preprocessing.
        state: one of ``STATES``.
        request_id: the job's UUID once submitted, else None.
        error_message: a plain sentence when ``state == "upload_failed"``.
        job_status: ``completed`` / ``failed`` (as the API spells it) once finished.
        attempts: how many uploads were started for this entry.
    """

    local_id: int
    created_at: datetime
    updated_at: datetime
    video_path: Path
    audio_path: Path
    video_size: int
    audio_size: int
    reference_id: str
    disable_active_speaker_detection: bool
    state: str
    request_id: str | None
    error_message: str | None
    job_status: str | None
    attempts: int

    @property
    def is_unfinished(self) -> bool:
        """True when a quit or crash interrupted it (``pending`` or ``uploading``)."""
        return self.state in UNFINISHED_STATES


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _path_blob(path: Path) -> bytes:
    # Bytes, not text: a file name in a foreign encoding (surrogate escapes) must not make
    # recording fail, and must come back as the same file.
    return os.fsencode(path)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        local_id=row[0],
        created_at=datetime.fromisoformat(row[1]),
        updated_at=datetime.fromisoformat(row[2]),
        video_path=Path(os.fsdecode(row[3])),
        audio_path=Path(os.fsdecode(row[4])),
        video_size=row[5],
        audio_size=row[6],
        reference_id=row[7],
        disable_active_speaker_detection=bool(row[8]),
        state=row[9],
        request_id=row[10],
        error_message=row[11],
        job_status=row[12],
        attempts=row[13],
    )


class Journal:
    """The submission journal in one SQLite file; thread-safe, blocking.

    Args:
        path: the database file, e.g. ``AppPaths.data_dir / "journal.sqlite3"``; it and its
            folder are created if missing, and older schemas are migrated.
        clock: returns the current aware UTC instant (tests inject one).

    Raises:
        JournalError: the file is not a journal (or not a database), was written by a newer
            version of the app, or cannot be created.
    """

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are explicit, so each write is one transaction.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"Cannot open the submission journal {self.path}: {exc}.") from exc
        try:
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise JournalError(
                f"The submission journal {self.path} cannot be read ({exc}). Move it aside "
                "and start the app again to begin a new one."
            ) from exc
        except JournalError:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- setup ----------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The file's ``PRAGMA user_version`` (``SCHEMA_VERSION`` once opened)."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"The submission journal {self.path} was written by a newer version of the "
                "app. Update the app to open it."
            )
        for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
            try:
                # executescript commits whatever is open first, so BEGIN goes in the script.
                self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            except sqlite3.Error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the database; later calls raise ``sqlite3.ProgrammingError``."""
        with self._lock:
            self._db.close()

    # -- writes ---------------------------------------------------------------------------

    def record(
        self, video: Path, audio: Path, reference_id: str, disable_active_speaker_detection: bool
    ) -> JournalEntry:
        """Record a submission as ``pending``, before anything is sent.

        Args:
            video, audio: the input files; stored as absolute paths with their sizes (bytes).
            reference_id: sent with the upload; must not be empty (a retry looks it up).
            disable_active_speaker_detection: the option as the user chose it.

        Returns:
            The new entry (``attempts == 0``).

        Raises:
            ValueError: empty ``reference_id``.
            JournalError: an input cannot be read (message names the file) or the write failed.
        """
        if not reference_id:
            raise ValueError("a reference_id is required to record a submission")
        video, audio = Path(video).absolute(), Path(audio).absolute()
        sizes = []
        for kind, path in (("video", video), ("audio", audio)):
            try:
                sizes.append(path.stat().st_size)
            except OSError as exc:
                raise JournalError(
                    f"The {kind} file {path} cannot be read ({exc.strerror or exc})."
                ) from exc
        now = _stamp(self._clock())
        sql = (
            "INSERT INTO submissions (created_at, updated_at, video_path, audio_path, "
            "video_size, audio_size, reference_id, disable_active_speaker_detection, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        params = (now, now, _path_blob(video), _path_blob(audio), *sizes, reference_id)
        with self._lock:
            cursor = self._write(sql, (*params, int(disable_active_speaker_detection), PENDING))
            local_id = cursor.lastrowid
            assert local_id is not None
            return self._get_locked(local_id)

    def mark_uploading(self, local_id: int) -> JournalEntry:
        """An upload starts: state ``uploading``, ``attempts`` + 1, the last error cleared."""
        return self._transition(
            local_id, UPLOADING, "attempts = attempts + 1, error_message = NULL", ()
        )

    def mark_submitted(self, local_id: int, request_id: str) -> JournalEntry:
        """The service created the job ``request_id`` (from the answer, or found by a retry)."""
        if not request_id:
            raise ValueError("request_id must not be empty")
        return self._transition(
            local_id, SUBMITTED, "request_id = ?, error_message = NULL", (request_id,)
        )

    def mark_upload_failed(self, local_id: int, message: str) -> JournalEntry:
        """The upload failed; ``message`` is the plain sentence the window shows."""
        return self._transition(local_id, UPLOAD_FAILED, "error_message = ?", (message,))

    def mark_cancelled(self, local_id: int) -> JournalEntry:
        """The user cancelled the upload (or dismissed an interrupted one)."""
        return self._transition(local_id, CANCELLED, "error_message = NULL", ())

    def mark_finished(self, local_id: int, job_status: str) -> JournalEntry:
        """The job reached a final status (``completed`` / ``failed``, as the API spells it)."""
        return self._transition(local_id, FINISHED, "job_status = ?", (job_status,))

    def mark_finished_by_request_id(self, request_id: str, job_status: str) -> JournalEntry | None:
        """As ``mark_finished`` for the entry with ``request_id``; None when no entry has it
        (a job submitted elsewhere, e.g. from the CLI)."""
        entry = self.by_request_id(request_id)
        if entry is None:
            return None
        return self.mark_finished(entry.local_id, job_status)

    # -- reads ----------------------------------------------------------------------------

    def get(self, local_id: int) -> JournalEntry:
        """The entry ``local_id``; raises ``KeyError`` when there is none."""
        with self._lock:
            return self._get_locked(local_id)

    def entries(self, limit: int | None = None) -> list[JournalEntry]:
        """All entries, newest first; at most ``limit`` when given."""
        return self._select("1", (), limit)

    def unfinished(self) -> list[JournalEntry]:
        """Entries a quit or crash interrupted (``pending`` / ``uploading``), newest first.

        ``upload_failed`` entries are not here: the window lists them as failed, with a retry.
        """
        return self._select("state IN (?, ?)", (PENDING, UPLOADING), None)

    def by_request_id(self, request_id: str) -> JournalEntry | None:
        """The newest entry submitted as ``request_id``, or None."""
        found = self._select("request_id = ?", (request_id,), 1)
        return found[0] if found else None

    def request_ids_for(self, reference_id: str) -> set[str]:
        """Request ids already recorded for ``reference_id`` (a retry must not claim them)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT request_id FROM submissions WHERE reference_id = ? "
                "AND request_id IS NOT NULL",
                (reference_id,),
            ).fetchall()
        return {row[0] for row in rows}

    # -- plumbing -------------------------------------------------------------------------

    def _select(
        self, where: str, params: Iterable[object], limit: int | None
    ) -> list[JournalEntry]:
        # local_id is the recording order; created_at could go backwards with the clock.
        sql = f"SELECT {_COLUMNS} FROM submissions WHERE {where} ORDER BY local_id DESC"  # noqa: S608
        args = list(params)
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_entry(row) for row in rows]

    def _get_locked(self, local_id: int) -> JournalEntry:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM submissions WHERE local_id = ?",  # noqa: S608
            (local_id,),
        ).fetchone()
        if row is None:
            raise KeyError(f"no journal entry {local_id}")
        return _entry(row)

    def _write(self, sql: str, params: Iterable[object]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, tuple(params))
        except sqlite3.OperationalError as exc:
            raise JournalError(
                f"Cannot write to the submission journal {self.path}: {exc}."
            ) from exc

    def _transition(
        self, local_id: int, state: str, assignments: str, params: tuple[object, ...]
    ) -> JournalEntry:
        allowed = _ALLOWED_FROM[state]
        marks = ", ".join("?" for _ in allowed)
        sql = (
            f"UPDATE submissions SET state = ?, updated_at = ?, {assignments} "  # noqa: S608
            f"WHERE local_id = ? AND state IN ({marks})"
        )
        with self._lock:
            now = _stamp(self._clock())
            cursor = self._write(sql, (state, now, *params, local_id, *sorted(allowed)))
            entry = self._get_locked(local_id)  # KeyError when there is no such entry
            if cursor.rowcount == 0:
                raise InvalidTransition(
                    f"journal entry {local_id} cannot go from {entry.state} to {state}"
                )
            return entry

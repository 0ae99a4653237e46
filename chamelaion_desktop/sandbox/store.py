"""Persistent jobs of the sandbox: one SQLite file under ``data_dir``, one thread owns it.

Every public method is a coroutine that runs its query on the store's own single thread, so
the server's event loop never blocks on SQLite and the connection never crosses threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

QUEUED = "queued"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    reference_id TEXT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    error_message TEXT,
    disable_active_speaker_detection INTEGER NOT NULL DEFAULT 0,
    video_url TEXT,
    audio_url TEXT,
    video_path TEXT,
    audio_path TEXT,
    output_path TEXT,
    inject_failure INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_account_created ON jobs (account, created_at, seq);
CREATE INDEX IF NOT EXISTS jobs_account_reference ON jobs (account, reference_id);
"""

_COLUMNS = (
    "id, account, reference_id, status, created_at, started_at, finished_at, error_message, "
    "disable_active_speaker_detection, video_url, audio_url, video_path, audio_path, "
    "output_path, inject_failure"
)
_NEWEST_FIRST = "ORDER BY created_at DESC, seq DESC"


@dataclass(frozen=True, slots=True)
class Job:
    """One lip-sync request as stored. Times are Unix seconds (UTC); paths are relative to
    ``data_dir``; ``account`` is a digest of the token, never the token itself."""

    id: str
    account: str
    reference_id: str | None
    status: str
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    error_message: str | None = None
    disable_active_speaker_detection: bool = False
    video_url: str | None = None
    audio_url: str | None = None
    video_path: str | None = None
    audio_path: str | None = None
    output_path: str | None = None
    inject_failure: bool = False

    @classmethod
    def _from_row(cls, row: tuple[Any, ...]) -> Job:
        values = list(row)
        values[8] = bool(values[8])
        values[14] = bool(values[14])
        return cls(*values)

    def _as_row(self) -> tuple[Any, ...]:
        return (
            self.id,
            self.account,
            self.reference_id,
            self.status,
            self.created_at,
            self.started_at,
            self.finished_at,
            self.error_message,
            int(self.disable_active_speaker_detection),
            self.video_url,
            self.audio_url,
            self.video_path,
            self.audio_path,
            self.output_path,
            int(self.inject_failure),
        )


class Store:
    """The job table. Create, then ``await open()``; ``await close()`` when done.

    Args:
        path: the SQLite file (created with its tables when missing).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-sqlite")
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    async def open(self) -> None:
        """Open (and create) the database on the store's thread."""

        def _open() -> None:
            db = sqlite3.connect(self._path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            self._db = db

        await self._run(_open)

    async def close(self) -> None:
        """Close the connection and stop the store's thread; idempotent."""

        def _close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        with contextlib.suppress(RuntimeError):  # executor already shut down
            await self._run(_close)
        self._executor.shutdown(wait=True)

    async def create(self, job: Job, quota: int) -> bool:
        """Insert ``job`` unless its account already holds ``quota`` jobs; True if inserted."""

        def _create() -> bool:
            db = self._conn()
            with db:
                db.execute("BEGIN IMMEDIATE")
                (count,) = db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE account = ?", (job.account,)
                ).fetchone()
                if count >= quota:
                    return False
                db.execute(
                    f"INSERT INTO jobs ({_COLUMNS}) VALUES ({', '.join('?' * 15)})",  # noqa: S608
                    job._as_row(),
                )
            return True

        return await self._run(_create)

    async def insert_many(self, jobs: Sequence[Job]) -> None:
        """Insert ``jobs`` in one transaction (``executemany``), bypassing the quota: seeding
        a history (``seed.py``) is the operator's act, not a client's request.

        Raises:
            sqlite3.IntegrityError: an id already exists (nothing is inserted then).
        """
        rows = [job._as_row() for job in jobs]

        def _insert() -> None:
            db = self._conn()
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    f"INSERT INTO jobs ({_COLUMNS}) VALUES ({', '.join('?' * 15)})",  # noqa: S608
                    rows,
                )

        await self._run(_insert)

    async def count(self, account: str) -> int:
        """Number of jobs ``account`` ever created (the quota counts these)."""

        def _count() -> int:
            row = self._conn().execute("SELECT COUNT(*) FROM jobs WHERE account = ?", (account,))
            return int(row.fetchone()[0])

        return await self._run(_count)

    async def get(self, job_id: str) -> Job | None:
        """The job with this UUID, whoever owns it."""

        def _get() -> Job | None:
            row = (
                self._conn()
                .execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))  # noqa: S608
                .fetchone()
            )
            return Job._from_row(row) if row else None

        return await self._run(_get)

    async def lookup(self, account: str, key: str) -> Job | None:
        """``account``'s job whose id is ``key``, else its newest job with that reference_id."""

        def _lookup() -> Job | None:
            db = self._conn()
            row = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE account = ? AND id = ?",  # noqa: S608
                (account, key),
            ).fetchone()
            if row is None:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE account = ? AND reference_id = ? "  # noqa: S608
                    f"{_NEWEST_FIRST} LIMIT 1",
                    (account, key),
                ).fetchone()
            return Job._from_row(row) if row else None

        return await self._run(_lookup)

    async def page(
        self, account: str, limit: int, offset: int, reference_id: str | None
    ) -> tuple[list[Job], int]:
        """One page of ``account``'s jobs, newest first, and the total matching count."""

        def _page() -> tuple[list[Job], int]:
            db = self._conn()
            where = "account = ?"
            args: list[Any] = [account]
            if reference_id is not None:
                where += " AND reference_id = ?"
                args.append(reference_id)
            (total,) = db.execute(
                f"SELECT COUNT(*) FROM jobs WHERE {where}",  # noqa: S608
                args,
            ).fetchone()
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE {where} {_NEWEST_FIRST} "  # noqa: S608
                "LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [Job._from_row(row) for row in rows], int(total)

        return await self._run(_page)

    async def unfinished(self) -> list[Job]:
        """Jobs still ``queued`` or ``processing`` (to resume after a restart), oldest first."""

        def _unfinished() -> list[Job]:
            rows = (
                self._conn()
                .execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE status IN (?, ?) "  # noqa: S608
                    "ORDER BY created_at, seq",
                    (QUEUED, PROCESSING),
                )
                .fetchall()
            )
            return [Job._from_row(row) for row in rows]

        return await self._run(_unfinished)

    async def update(self, job_id: str, **fields: Any) -> None:
        """Set columns of one job, e.g. ``status=``, ``started_at=``, ``output_path=``."""
        allowed = set(_COLUMNS.replace(" ", "").split(",")) - {"id", "account"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")

        def _update() -> None:
            assignments = ", ".join(f"{name} = ?" for name in fields)
            self._conn().execute(
                f"UPDATE jobs SET {assignments} WHERE id = ?",  # noqa: S608
                [*fields.values(), job_id],
            )

        await self._run(_update)

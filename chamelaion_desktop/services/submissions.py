"""Submissions for the window: record in the journal, upload, retry, cancel, with signals.

The issue: every submission is in the journal before its upload starts; a failed upload
keeps its inputs so one click tries again; a retry first checks by reference_id that the
first try did not already create the job (``core.submit.resume``); an upload can be
cancelled; quitting mid-upload leaves the entry unfinished, offered again at next start.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..api import ChamelaionError
from ..core import submit as workflow
from ..core.journal import CANCELLED, InvalidTransition, Journal, JournalEntry
from .session import ApiSession
from .tasks import TaskRegistry

log = logging.getLogger(__name__)

#: Entries ``load`` returns by default: enough history for the window, quick to read.
DEFAULT_LOAD_LIMIT = 500


def upload_task_name(local_id: int) -> str:
    """The ``TaskRegistry`` name of the upload (or retry) of journal entry ``local_id``."""
    return f"upload:{local_id}"


class SubmissionService(QObject):
    """Owns the uploads of the app and tells the window how they go.

    Args:
        session: ``session.client`` is asked for at the start of each upload.
        tasks: where every upload runs, named ``upload:<local_id>``.
        journal: the open journal (its owner closes it; call ``close`` first).
        clock: monotonic seconds, for the progress rate (tests may inject one).

    Signals:
        entryChanged(entry: JournalEntry): an entry was recorded or changed state.
        progress(local_id: int, bytes_sent: int, bytes_total: int, bytes_per_second: float):
            the upload's request body handed to the network so far, in bytes (64-bit), and
            the rate over the last ~2 s. At most ~10 a second per upload, plus the last one
            (``bytes_sent == bytes_total``).
        submitted(local_id: int, request_id: str): the job exists (uploaded, or found by a
            retry).
        failed(local_id: int, message: str): the upload or retry failed; ``message`` is a
            plain sentence (also in the entry's ``error_message``).
        cancelled(local_id: int): the user cancelled it (or dismissed an unfinished one).
    """

    entryChanged = Signal(object)
    # qlonglong: a Signal(int) is a 32-bit C int and overflows past 2 GiB. The stubs only
    # know Python types, not C++ type names.
    progress = Signal(int, "qlonglong", "qlonglong", float)  # type: ignore[arg-type]
    submitted = Signal(int, str)
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(
        self,
        session: ApiSession,
        tasks: TaskRegistry,
        journal: Journal,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._tasks = tasks
        self._journal = workflow.AsyncJournal(journal, on_change=self.entryChanged.emit)
        self._clock = clock
        self._cancel_requested: set[int] = set()
        self._records = itertools.count(1)
        self._pages = itertools.count(1)

    def close(self) -> None:
        """Stop the journal worker thread (after ``tasks.shutdown`` on quit)."""
        self._journal.close()

    async def load(self, limit: int | None = DEFAULT_LOAD_LIMIT) -> list[JournalEntry]:
        """The journal's entries, newest first (``is_unfinished`` ones were interrupted by a
        quit or crash: offer ``retry`` for them)."""
        return await self._journal.entries(limit)

    def submit(
        self, video: Path, audio: Path, reference_id: str, disable_active_speaker_detection: bool
    ) -> asyncio.Task[JournalEntry]:
        """Record a new submission (``entryChanged``: pending), then start its upload.

        Returns the recording task (awaiting it is optional): it gives the new entry once
        recorded. If recording fails (an input unreadable, the disk full) it raises
        ``JournalError`` with a plain message, reported through ``tasks.failed``.
        """
        return self._tasks.spawn(
            f"submit:{next(self._records)}",
            self._record_then_upload(video, audio, reference_id, disable_active_speaker_detection),
        )

    def resubmit(
        self, video: Path, audio: Path, reference_id: str, disable_active_speaker_detection: bool
    ) -> asyncio.Task[JournalEntry]:
        """Send the inputs of a job that failed on the server again, as a fresh entry.

        The files must still be on disk (recording checks them); otherwise as ``submit``.
        """
        return self.submit(video, audio, reference_id, disable_active_speaker_detection)

    def retry(self, local_id: int) -> asyncio.Task[None] | None:
        """Try entry ``local_id`` again: look for the first try's job by reference_id, and
        upload only if there is none (``core.submit.resume``).

        Returns the task, or None when that entry's upload is already running.
        """
        name = upload_task_name(local_id)
        if self._tasks.running(name):
            return None
        return self._tasks.spawn(name, self._retry(local_id), replace=False)

    def cancel(self, local_id: int) -> None:
        """Cancel the running upload of ``local_id`` (``cancelled`` follows), or mark an
        entry that is not uploading cancelled (dismissing an interrupted or failed one)."""
        self._cancel_requested.add(local_id)
        if not self._tasks.cancel(upload_task_name(local_id)):
            self._tasks.spawn(f"cancel:{local_id}", self._dismiss(local_id))

    def mark_finished(self, request_id: str, job_status: str) -> asyncio.Task[JournalEntry | None]:
        """The queue saw our job ``request_id`` reach ``job_status`` (completed / failed);
        records it (``entryChanged``). A request_id not in the journal is ignored."""
        return self._tasks.spawn(
            f"journal.finish:{request_id}",
            self._journal.mark_finished_by_request_id(request_id, job_status),
        )

    def mark_finished_many(
        self, jobs: Sequence[tuple[str, str]]
    ) -> asyncio.Task[list[JournalEntry]] | None:
        """``mark_finished`` for a page of ``(request_id, job_status)`` pairs at once: one
        task and one trip to the journal's thread. None when ``jobs`` is empty."""
        if not jobs:
            return None
        return self._tasks.spawn(
            f"journal.finish-page:{next(self._pages)}", self._journal.mark_finished_many(jobs)
        )

    # -- tasks ----------------------------------------------------------------------------

    async def _record_then_upload(
        self, video: Path, audio: Path, reference_id: str, disable: bool
    ) -> JournalEntry:
        entry = await self._journal.record(Path(video), Path(audio), reference_id, disable)
        self._tasks.spawn(
            upload_task_name(entry.local_id), self._upload(entry, resume=False), replace=False
        )
        return entry

    async def _retry(self, local_id: int) -> None:
        entry = await self._journal.get(local_id)
        await self._upload(entry, resume=True)

    async def _dismiss(self, local_id: int) -> None:
        try:
            await self._journal.mark_cancelled(local_id)
        except InvalidTransition:
            # Submitted or finished meanwhile: there is no upload left to cancel.
            log.info("journal entry %d is past uploading; nothing to cancel", local_id)
            return
        finally:
            self._cancel_requested.discard(local_id)
        self.cancelled.emit(local_id)

    async def _upload(self, entry: JournalEntry, *, resume: bool) -> None:
        local_id = entry.local_id
        self._cancel_requested.discard(local_id)
        meter = workflow.UploadMeter(clock=self._clock)

        def on_progress(sent: int, total: int) -> None:
            if meter.update(sent, total):
                self.progress.emit(local_id, sent, total, meter.rate)

        run = workflow.resume if resume else workflow.upload
        try:
            request_id = await run(
                self._session.client,
                self._journal,
                entry,
                progress=on_progress,
                user_cancelled=lambda: local_id in self._cancel_requested,
            )
        except asyncio.CancelledError:
            if local_id in self._cancel_requested:
                self._cancel_requested.discard(local_id)
                latest = await self._journal.get(local_id)
                if latest.state == CANCELLED:
                    self.cancelled.emit(local_id)
                elif latest.request_id:  # the answer came in as the cancel did
                    self.submitted.emit(local_id, latest.request_id)
            raise
        except ChamelaionError as exc:
            latest = await self._journal.get(local_id)
            self.failed.emit(local_id, latest.error_message or workflow.describe_upload_error(exc))
            return
        except Exception as exc:
            log.exception("upload of journal entry %d failed", local_id)
            latest = await self._journal.get(local_id)
            self.failed.emit(local_id, latest.error_message or f"The upload failed ({exc}).")
            return
        self.submitted.emit(local_id, request_id)

"""Connects the services' signals to the widgets of the main window.

The window lays widgets out; this object says what happens when a service reports
something (an upload progresses, a page of jobs arrives, the user asks for a retry). It
holds the little state that joins them: which upload the "New job" panel is showing, and
which jobs have been seen finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from ..api import TERMINAL_STATUSES, ChamelaionError, LipsyncRequest
from ..core.journal import JournalEntry, JournalError
from ..services.outputs import OutputCache
from ..services.queue import QueueService
from ..services.session import ApiSession
from ..services.submissions import SubmissionService
from ..services.tasks import TaskRegistry
from .input_panel import InputPanel
from .jobs_model import JobsTableModel
from .jobs_view import JobsPanel
from .preview import PreviewPanel

log = logging.getLogger(__name__)

#: Journal states of an upload that never got an answer: offered again on the next start.
INTERRUPTED_STATES = frozenset({"pending", "uploading"})


class Coordinator(QObject):
    """Joins the submission, queue and output services to the panels and the jobs model.

    Signals:
        message(str, int): a note for the status bar and how long to show it (ms; 0: until
            replaced).
        interruptedChanged(list): the journal entries of uploads interrupted by a quit or
            a crash (``JournalEntry`` list), for the window's banner.
    """

    message = Signal(str, int)
    interruptedChanged = Signal(list)

    def __init__(
        self,
        *,
        session: ApiSession,
        tasks: TaskRegistry,
        submissions: SubmissionService,
        queue: QueueService,
        outputs: OutputCache,
        model: JobsTableModel,
        inputs: InputPanel,
        jobs: JobsPanel,
        preview: PreviewPanel,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session, self._tasks = session, tasks
        self._submissions, self._queue, self._outputs = submissions, queue, outputs
        self._model, self._inputs, self._jobs = model, inputs, jobs
        self._active_upload: int | None = None
        self._sizes: dict[int, int] = {}
        self._references: dict[int, str] = {}
        self._finished_seen: set[str] = set()
        self._interrupted: dict[int, JournalEntry] = {}
        self._open_when_ready: dict[str, str] = {}  # request_id -> "open" | "folder"

        inputs.submitRequested.connect(self._submit)
        inputs.cancelRequested.connect(self._cancel)
        inputs.retryRequested.connect(self._retry_active)
        submissions.entryChanged.connect(self._entry_changed)
        submissions.progress.connect(self._progress)
        submissions.submitted.connect(self._submitted)
        submissions.failed.connect(self._failed)
        submissions.cancelled.connect(self._cancelled)
        queue.pageLoaded.connect(self._page_loaded)
        queue.reset.connect(model.clear)
        queue.errorChanged.connect(lambda text: self.message.emit(text, 0))
        queue.rateLimited.connect(
            lambda seconds: self.message.emit(
                "The service asked for fewer requests: the job list refreshes again in "
                f"{max(1, round(seconds))} s.",
                int(seconds * 1000) + 2000,
            )
        )
        jobs.moreRequested.connect(queue.load_more)
        jobs.currentRequestChanged.connect(preview.show_request)
        jobs.retryRequested.connect(self._retry_job)
        jobs.openOutputRequested.connect(lambda r: self._open_output(r, "open"))
        jobs.showInFolderRequested.connect(lambda r: self._open_output(r, "folder"))
        outputs.ready.connect(self._output_ready)
        outputs.failed.connect(lambda _id, text: self.message.emit(text, 8000))
        preview.message.connect(lambda text: self.message.emit(text, 5000))
        tasks.failed.connect(self._task_failed)

    def _task_failed(self, name: str, error: BaseException) -> None:
        # Every owned task's failure reaches the user, in words, never as a traceback.
        if isinstance(error, ChamelaionError):
            text = error.message
        else:
            text = (
                f"Something went wrong ({type(error).__name__}: {error}). Details are in the log."
            )
        self.message.emit(text, 0)

    # -- start-up -------------------------------------------------------------------

    async def restore(self) -> None:
        """Show uploads that a quit or crash interrupted (from the journal), then poll."""
        try:
            entries = await self._submissions.load()
        except Exception:  # a damaged journal must not keep the window from working
            log.exception("could not read the submission journal")
            self.message.emit("The list of earlier submissions could not be read.", 0)
            entries = []
        for entry in entries:
            if entry.state in INTERRUPTED_STATES:
                self._interrupted[entry.local_id] = entry
                self._references[entry.local_id] = entry.reference_id
                self._sizes[entry.local_id] = entry.video_size + entry.audio_size
                self._model.set_upload(
                    entry.local_id, entry.reference_id, 0, entry.video_size, "interrupted"
                )
        self.interruptedChanged.emit(list(self._interrupted.values()))
        self._queue.start()

    def resume_interrupted(self) -> None:
        """Upload every interrupted submission again (each checks by reference ID first)."""
        for local_id in list(self._interrupted):
            self._active_upload = local_id
            self._submissions.retry(local_id)

    def dismiss_interrupted(self) -> None:
        """Forget the interrupted submissions (marked cancelled in the journal)."""
        for local_id in list(self._interrupted):
            self._submissions.cancel(local_id)

    # -- new jobs -------------------------------------------------------------------

    def _submit(self, video: Path, audio: Path, reference_id: str, disable_asd: bool) -> None:
        recording = self._submissions.submit(video, audio, reference_id, disable_asd)
        recording.add_done_callback(self._recorded)

    def _recorded(self, recording: asyncio.Task[JournalEntry]) -> None:
        # If the journal could not record it (a file unreadable, the disk full), nothing
        # was sent: unlock the panel with the reason, keeping the inputs for another try.
        if not recording.cancelled() and recording.exception() is not None:
            self._inputs.upload_failed(_plain(recording.exception()))

    def _cancel(self) -> None:
        if self._active_upload is not None:
            self._submissions.cancel(self._active_upload)

    def _retry_active(self) -> None:
        if self._active_upload is not None:
            self._submissions.retry(self._active_upload)

    def _entry_changed(self, entry: JournalEntry) -> None:
        self._sizes[entry.local_id] = entry.video_size + entry.audio_size
        self._references[entry.local_id] = entry.reference_id
        if entry.state in INTERRUPTED_STATES:
            self._active_upload = entry.local_id
            self._model.set_upload(
                entry.local_id, entry.reference_id, 0, self._sizes[entry.local_id], ""
            )
        if entry.local_id in self._interrupted and entry.state not in INTERRUPTED_STATES:
            del self._interrupted[entry.local_id]
            self.interruptedChanged.emit(list(self._interrupted.values()))
            if entry.state == "cancelled":
                self._model.remove_upload(entry.local_id)

    def _progress(self, local_id: int, sent: int, total: int, rate: float) -> None:
        reference = self._reference_of(local_id)
        self._model.set_upload(local_id, reference, sent, total)
        if local_id == self._active_upload:
            self._inputs.show_upload_progress(sent, total, rate)

    def _submitted(self, local_id: int, request_id: str) -> None:
        if local_id == self._active_upload:
            self._inputs.upload_succeeded(request_id)
            self._active_upload = None
        self.message.emit(f"Submitted: request {request_id}.", 5000)
        self._queue.mark_active()
        self._tasks.spawn(f"show-request:{local_id}", self._show_submitted(local_id, request_id))

    async def _show_submitted(self, local_id: int, request_id: str) -> None:
        try:
            request = await self._session.client.get_request(request_id)
        except ChamelaionError:
            # The next poll lists it; the local row must not linger as a duplicate.
            self._model.remove_upload(local_id)
            self._queue.refresh_now()
            return
        self._model.replace_upload_with_request(local_id, request)

    def _failed(self, local_id: int, message: str) -> None:
        self._model.set_upload(
            local_id, self._reference_of(local_id), 0, self._sizes.get(local_id, 0), "upload failed"
        )
        if local_id == self._active_upload:
            self._inputs.upload_failed(message)
        else:
            self.message.emit(message, 0)

    def _cancelled(self, local_id: int) -> None:
        self._model.remove_upload(local_id)
        if local_id == self._active_upload:
            self._inputs.upload_cancelled()
            self._active_upload = None
        self.message.emit("Upload cancelled: no job was created.", 5000)

    def _reference_of(self, local_id: int) -> str:
        return self._references.get(local_id, "")

    # -- the queue ------------------------------------------------------------------

    def _page_loaded(self, requests: Sequence[LipsyncRequest], offset: int, total: int) -> None:
        self._model.upsert_requests(requests)
        self._jobs.set_total(total)
        finished = [
            (request.id, request.status)
            for request in requests
            if request.status in TERMINAL_STATUSES and request.id not in self._finished_seen
        ]
        self._finished_seen.update(request_id for request_id, _ in finished)
        # One journal trip per page, not per job: most listed jobs are not ours.
        self._submissions.mark_finished_many(finished)

    def _retry_job(self, request: LipsyncRequest) -> None:
        self._tasks.spawn(f"retry-job:{request.id}", self._resubmit(request))

    async def _resubmit(self, request: LipsyncRequest) -> None:
        entry = await self._submissions.entry_for_request(request.id)
        if entry is None:
            self.message.emit(
                "This job was not submitted from this computer, so its files are not known "
                "here: drop the video and the audio again to resubmit.",
                0,
            )
            return
        inputs = (entry.video_path, entry.audio_path)
        missing = [path for path in inputs if not await asyncio.to_thread(path.is_file)]
        if missing:
            self.message.emit(
                f"{missing[0].name} is no longer at {missing[0].parent}: "
                "drop the files again to resubmit.",
                0,
            )
            return
        self._submissions.resubmit(
            entry.video_path,
            entry.audio_path,
            entry.reference_id,
            entry.disable_active_speaker_detection,
        )

    # -- outputs --------------------------------------------------------------------

    def _open_output(self, request: LipsyncRequest, how: str) -> None:
        # fetch() answers from the cache (without touching the disk here) or downloads.
        self._open_when_ready[request.id] = how
        self._outputs.fetch(request)

    def _output_ready(self, request_id: str, path: str) -> None:
        how = self._open_when_ready.pop(request_id, None)
        if how is not None:
            self._open_path(Path(path), how)

    def _open_path(self, path: Path, how: str) -> None:
        target = path if how == "open" else path.parent
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):
            self.message.emit(f"No application could open {target}.", 8000)


def _plain(error: BaseException | None) -> str:
    """The sentence to show for ``error``: ours carry one; anything else points at the log."""
    if isinstance(error, ChamelaionError | JournalError):
        return str(error.message if isinstance(error, ChamelaionError) else error)
    return f"Something went wrong ({type(error).__name__}: {error}). Details are in the log."

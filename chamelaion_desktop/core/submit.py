"""The submit workflow: upload a journal entry, and resume one that may have reached the server.

Source: API.md (``POST /v1/lipsync/generate-with-media``; ``GET /v1/lipsync/requests`` with
``reference_id``, exact match) and its SDK note that a repeated POST after a lost answer can
create a duplicate, paid job. So the client never repeats such a POST blindly: ``resume``
first looks the job up by ``reference_id`` and uploads again only when none is found.

No Qt. Journal writes go through ``AsyncJournal`` (one worker thread, in call order).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..api import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ChamelaionError,
    LipsyncRequest,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    TokenLimitError,
    UploadError,
    ValidationError,
)
from .journal import FINISHED, SUBMITTED, Journal, JournalEntry, JournalError

if TYPE_CHECKING:
    from ..api import ChamelaionClient, ProgressCallback

T = TypeVar("T")

#: A job counts as this entry's first try if the server dated it no earlier than this
#: before the entry was recorded: the server's clock and ours may disagree by a few minutes.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)
#: The largest page ``list_requests`` is assumed to return (API.md [assumed]).
LOOKUP_PAGE_SIZE = 100

_MAY_EXIST = (
    "The job may have been created anyway: trying again first checks for it by its "
    "reference ID, so it is not sent twice."
)

#: Asked when an upload task is cancelled: True if the user cancelled it (the entry becomes
#: ``cancelled``), False if the app is quitting (the entry stays unfinished for next start).
UserCancelled = Callable[[], bool]


class InputsChangedError(UploadError):
    """A retry found an input file gone or changed since it was recorded; nothing was sent."""


class AsyncJournal:
    """A ``Journal`` for async code: each call runs on one worker thread, in call order.

    Every method submits its work as soon as it is called and awaits it. A caller cancelled
    meanwhile still waits for the write to land before the cancellation goes on, so the
    journal always says where an upload really got to, and writes never overtake each other.

    Args:
        journal: the blocking journal (not closed by ``close``: its owner closes it).
        on_change: called on the event loop with every entry a write returns, before the
            writer resumes (the service turns it into ``entryChanged``).
    """

    def __init__(
        self, journal: Journal, *, on_change: Callable[[JournalEntry], None] | None = None
    ) -> None:
        self.journal = journal
        self.on_change = on_change
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")

    def close(self) -> None:
        """Wait for queued calls, then stop the worker thread."""
        self._executor.shutdown(wait=True)

    async def _run(self, report: bool, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        inner = loop.run_in_executor(self._executor, functools.partial(fn, *args))
        if report:
            # Registered before shield's own callback, so it runs before the writer resumes.
            inner.add_done_callback(self._report)
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            await asyncio.wait([inner])
            raise

    def _report(self, future: asyncio.Future[Any]) -> None:
        if self.on_change is None or future.cancelled() or future.exception() is not None:
            return
        result = future.result()
        for entry in result if isinstance(result, list) else [result]:
            if entry is not None:
                self.on_change(entry)

    async def record(
        self, video: Path, audio: Path, reference_id: str, disable_active_speaker_detection: bool
    ) -> JournalEntry:
        """``Journal.record`` off the loop."""
        j = self.journal
        args = (video, audio, reference_id, disable_active_speaker_detection)
        return await self._run(True, j.record, *args)

    async def mark_uploading(self, local_id: int) -> JournalEntry:
        """``Journal.mark_uploading`` off the loop."""
        return await self._run(True, self.journal.mark_uploading, local_id)

    async def mark_submitted(self, local_id: int, request_id: str) -> JournalEntry:
        """``Journal.mark_submitted`` off the loop."""
        return await self._run(True, self.journal.mark_submitted, local_id, request_id)

    async def mark_upload_failed(self, local_id: int, message: str) -> JournalEntry:
        """``Journal.mark_upload_failed`` off the loop."""
        return await self._run(True, self.journal.mark_upload_failed, local_id, message)

    async def mark_cancelled(self, local_id: int) -> JournalEntry:
        """``Journal.mark_cancelled`` off the loop."""
        return await self._run(True, self.journal.mark_cancelled, local_id)

    async def mark_finished_by_request_id(
        self, request_id: str, job_status: str
    ) -> JournalEntry | None:
        """``Journal.mark_finished_by_request_id`` off the loop."""
        j = self.journal
        return await self._run(True, j.mark_finished_by_request_id, request_id, job_status)

    async def mark_finished_many(self, jobs: Sequence[tuple[str, str]]) -> list[JournalEntry]:
        """``Journal.mark_finished_by_request_id`` for every ``(request_id, job_status)`` in
        one trip to the journal's thread; returns the entries that changed (jobs of ours).

        A page of the job list holds up to 100 finished jobs, mostly not ours: one task and
        one executor call per job cost the GUI thread ~0.15 ms each (bench_ui.py).
        """
        journal = self.journal
        pairs = list(jobs)

        def finish() -> list[JournalEntry]:
            changed = []
            for request_id, job_status in pairs:
                entry = journal.mark_finished_by_request_id(request_id, job_status)
                if entry is not None:
                    changed.append(entry)
            return changed

        return await self._run(True, finish)

    async def get(self, local_id: int) -> JournalEntry:
        """``Journal.get`` off the loop."""
        return await self._run(False, self.journal.get, local_id)

    async def entries(self, limit: int | None = None) -> list[JournalEntry]:
        """``Journal.entries`` off the loop."""
        return await self._run(False, self.journal.entries, limit)

    async def request_ids_for(self, reference_id: str) -> set[str]:
        """``Journal.request_ids_for`` off the loop."""
        return await self._run(False, self.journal.request_ids_for, reference_id)


def describe_upload_error(exc: ChamelaionError) -> str:
    """A plain sentence for the window about why an upload failed, and what to do.

    A lost answer (``APIConnectionError`` with ``request_sent``, or an unreadable success
    answer) says the job may exist and that trying again checks first.
    """
    if isinstance(exc, APIConnectionError):
        return f"{exc.message} {_MAY_EXIST}" if exc.request_sent else exc.message
    if isinstance(exc, ResponseFormatError):
        return f"The service's answer could not be read ({exc.message}). {_MAY_EXIST}"
    if isinstance(exc, AuthenticationError):
        return f"The API key was not accepted ({exc.message}). Check it in the settings."
    if isinstance(exc, TokenLimitError):
        return f"Your plan's limit is reached ({exc.message}). No job was created."
    if isinstance(exc, RateLimitError):
        return f"Too many submissions in a short time ({exc.message}). Wait a minute, then retry."
    if isinstance(exc, ValidationError):
        return f"The service did not accept these files: {exc.message}."
    if isinstance(exc, ServerError):
        return f"The service had a problem ({exc.message}). Try again in a moment."
    if isinstance(exc, APIStatusError):
        return f"The service refused the upload: {exc}."
    return exc.message


def inputs_problem(entry: JournalEntry) -> str | None:
    """Why the recorded inputs can no longer be uploaded as they were, or None if they can.

    Blocking (``stat``). The sizes in bytes must match the recorded ones: a file replaced by
    another of a different size is not the submission the user made.
    """
    for kind, path, size in (
        ("video", entry.video_path, entry.video_size),
        ("audio", entry.audio_path, entry.audio_size),
    ):
        try:
            now = path.stat().st_size
        except OSError as exc:
            return (
                f"The {kind} file {path} is no longer there ({exc.strerror or exc}): "
                "put it back, or add the files again as a new submission."
            )
        if now != size:
            return (
                f"The {kind} file {path} has changed since it was added ({size} bytes then, "
                f"{now} now): add the files again as a new submission."
            )
    return None


async def upload(
    client: ChamelaionClient,
    journal: AsyncJournal,
    entry: JournalEntry,
    *,
    progress: ProgressCallback | None = None,
    user_cancelled: UserCancelled | None = None,
) -> str:
    """Upload ``entry``'s files (``POST generate-with-media``) and record every step.

    The entry goes ``uploading`` (attempts + 1), then ``submitted`` with the request_id. On
    a ``ChamelaionError`` it goes ``upload_failed`` with ``describe_upload_error``'s sentence
    and the error is re-raised. On cancellation it goes ``cancelled`` if ``user_cancelled``
    is None or returns True, else stays ``uploading`` (quitting: offered again next start).

    Args:
        client: the API client.
        journal: where the steps are written.
        entry: a recorded entry (any state but ``submitted`` / ``finished``).
        progress: ``(bytes_sent, bytes_total)`` of the whole request body, on the loop.
        user_cancelled: see ``UserCancelled``.

    Returns:
        The new job's request_id.

    Raises:
        ChamelaionError: the upload failed (the entry says why). ``JournalError``,
        ``asyncio.CancelledError``.
    """
    local_id = entry.local_id
    try:
        await journal.mark_uploading(local_id)
        answer = await client.generate_with_media(
            entry.video_path,
            entry.audio_path,
            reference_id=entry.reference_id,
            # None, not False: leave the API's default rather than sending an explicit false.
            disable_active_speaker_detection=True
            if entry.disable_active_speaker_detection
            else None,
            progress=progress,
        )
    except asyncio.CancelledError:
        if user_cancelled is None or user_cancelled():
            await journal.mark_cancelled(local_id)
        raise
    except ChamelaionError as exc:
        await journal.mark_upload_failed(local_id, describe_upload_error(exc))
        raise
    except JournalError:
        raise
    except Exception as exc:
        # A bug, not a user's problem; still, the entry must not stay "uploading" all session.
        await journal.mark_upload_failed(
            local_id, f"The upload stopped unexpectedly ({type(exc).__name__}). {_MAY_EXIST}"
        )
        raise
    await journal.mark_submitted(local_id, answer.request_id)
    return answer.request_id


async def find_existing(
    client: ChamelaionClient, entry: JournalEntry, *, exclude: Collection[str] = ()
) -> LipsyncRequest | None:
    """The job an earlier try of ``entry`` created, if the server has one.

    Looks up ``GET /v1/lipsync/requests?reference_id=…&limit=100`` and returns the newest job
    created no earlier than ``CLOCK_SKEW_ALLOWANCE`` (5 minutes) before the entry was
    recorded: an earlier job with the same reference_id belongs to another submission. Jobs
    whose request_id is in ``exclude`` (already claimed by other journal entries, e.g. a
    previous submission of the same files) are skipped.

    Raises:
        The errors of ``list_requests`` (``APIConnectionError``, ``AuthenticationError``…).
    """
    page = await client.list_requests(reference_id=entry.reference_id, limit=LOOKUP_PAGE_SIZE)
    earliest = entry.created_at - CLOCK_SKEW_ALLOWANCE
    ours = [
        job
        for job in page.data
        if job.created_at >= earliest
        and job.id not in exclude
        and job.reference_id in (None, entry.reference_id)
    ]
    return max(ours, key=lambda job: job.created_at, default=None)


async def resume(
    client: ChamelaionClient,
    journal: AsyncJournal,
    entry: JournalEntry,
    *,
    progress: ProgressCallback | None = None,
    user_cancelled: UserCancelled | None = None,
) -> str:
    """Finish an entry that may already have reached the server, without a duplicate job.

    For an entry left ``pending`` / ``uploading`` by a quit or crash, ``upload_failed`` or
    ``cancelled``: first ``find_existing``; if the job is there the entry becomes
    ``submitted`` with its request_id and nothing is uploaded. Otherwise the inputs must
    still be on disk with their recorded sizes, and ``upload`` runs. An entry already
    ``submitted`` / ``finished`` just returns its request_id.

    Returns:
        The request_id of the job (found or new).

    Raises:
        InputsChangedError: an input is gone or changed (the entry is ``upload_failed``
            with the same sentence); nothing was sent.
        ChamelaionError: the lookup or the upload failed (the entry says why).
        asyncio.CancelledError: as for ``upload``.
    """
    if entry.state in (SUBMITTED, FINISHED) and entry.request_id:
        return entry.request_id
    local_id = entry.local_id
    try:
        claimed = await journal.request_ids_for(entry.reference_id)
        existing = await find_existing(client, entry, exclude=claimed)
        problem = None if existing is not None else await asyncio.to_thread(inputs_problem, entry)
    except asyncio.CancelledError:
        if user_cancelled is None or user_cancelled():
            await journal.mark_cancelled(local_id)
        raise
    except ChamelaionError as exc:
        message = (
            "Could not check whether the earlier try reached the service, so nothing was "
            f"sent again. {describe_upload_error(exc)}"
        )
        await journal.mark_upload_failed(local_id, message)
        raise
    if existing is not None:
        await journal.mark_submitted(local_id, existing.id)
        return existing.id
    if problem is not None:
        await journal.mark_upload_failed(local_id, problem)
        raise InputsChangedError(problem)
    return await upload(client, journal, entry, progress=progress, user_cancelled=user_cancelled)


class UploadMeter:
    """Thins out upload progress for the window and measures the rate.

    An upload reports every 1 MiB chunk (1000 reports/s on a fast link); the window needs
    ~10 a second (qutebrowser batches progress repaints the same way).

    Args:
        min_interval: seconds between reports passed on.
        window: seconds of recent history the rate is measured over.
        clock: monotonic seconds; the upload is taken to start when the meter is made.
    """

    def __init__(
        self,
        *,
        min_interval: float = 0.1,
        window: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_interval = min_interval
        self.window = window
        self._clock = clock
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._samples.append((clock(), 0))
        self._last_passed: float | None = None
        self.rate = 0.0

    def update(self, sent: int, total: int) -> bool:
        """Take a report of ``sent`` of ``total`` bytes; True when it should be shown.

        The first report, the last (``sent >= total``) and then one every ``min_interval``
        seconds pass; ``rate`` (bytes per second over the last ``window`` seconds) is
        updated on those.
        """
        now = self._clock()
        due = self._last_passed is None or now - self._last_passed >= self.min_interval
        if not (due or sent >= total):
            return False
        self._last_passed = now
        samples = self._samples
        samples.append((now, sent))
        # Drop samples while the next one is already `window` old: the span stays ~window.
        while len(samples) > 2 and now - samples[1][0] >= self.window:
            samples.popleft()
        start_time, start_sent = samples[0]
        elapsed = now - start_time
        self.rate = (sent - start_sent) / elapsed if elapsed > 0 else 0.0
        return True

"""Completed jobs' output videos, downloaded once into the app's cache folder.

Source: API.md, ``LipsyncRequest.output_url`` (a signed, expiring link to the rendered MP4,
present once the job is ``completed``). The client's ``download_output`` streams it through a
``.part`` file beside the destination and fetches a fresh link when the old one has expired,
so a file under its final name is always complete: its presence is the cache hit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..api import (
    COMPLETED,
    FAILED,
    APIConnectionError,
    AuthenticationError,
    ChamelaionError,
    DownloadError,
    LipsyncRequest,
    NotFoundError,
)
from .session import ApiSession
from .tasks import TaskRegistry

log = logging.getLogger(__name__)

#: Request IDs are UUIDs; anything else must not be able to escape the cache folder.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
TASK_PREFIX = "output:"


class OutputCache(QObject):
    """Downloads each completed job's output once to ``<cache_dir>/outputs/<request_id>.mp4``.

    Args:
        session: ``session.client`` is asked at download time, so a new key applies at once.
        tasks: owns the download tasks, named ``output:<request_id>``.
        cache_dir: the app's cache folder (``AppPaths.cache_dir``); ``outputs/`` is created
            inside it on the first download.
        progress_interval: seconds between two ``progress`` signals of one download.

    Signals:
        progress(request_id: str, done: int, total: int): bytes written so far and the
            expected size in bytes (0 when the host does not say); at most every
            ``progress_interval`` seconds, and once at the end.
        ready(request_id: str, path: str): the complete file, downloaded or already cached.
        failed(request_id: str, message: str): plain words for the user; nothing was cached.
    """

    progress = Signal(str, int, int)
    ready = Signal(str, str)
    failed = Signal(str, str)

    def __init__(
        self,
        session: ApiSession,
        tasks: TaskRegistry,
        cache_dir: Path,
        parent: QObject | None = None,
        *,
        progress_interval: float = 0.1,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._tasks = tasks
        self._folder = Path(cache_dir) / "outputs"
        self._interval = progress_interval
        # request_id -> callers of fetch() waiting for the running download (see release()).
        self._wanted: dict[str, int] = {}
        self._cancelled: set[str] = set()

    @property
    def tasks(self) -> TaskRegistry:
        """The registry the downloads run in (the preview's file copies use it too)."""
        return self._tasks

    @property
    def folder(self) -> Path:
        """``<cache_dir>/outputs``, where the videos are kept (may not exist yet)."""
        return self._folder

    def path_for(self, request_id: str) -> Path:
        """Where the output of ``request_id`` is (or will be) cached.

        Raises:
            ValueError: ``request_id`` is not a plain identifier (it would leave the folder).
        """
        if not _SAFE_ID.fullmatch(request_id):
            raise ValueError(f"not a request ID: {request_id!r}")
        return self._folder / f"{request_id}.mp4"

    def cached_path(self, request_id: str) -> Path | None:
        """The cached, complete output of ``request_id``, or ``None``. One ``stat`` call."""
        try:
            path = self.path_for(request_id)
        except ValueError:
            return None
        return path if path.is_file() else None

    def is_downloading(self, request_id: str) -> bool:
        """True while the output of ``request_id`` is being fetched (not once cancelled)."""
        running = self._tasks.running(TASK_PREFIX + request_id)
        return running and request_id not in self._cancelled

    def fetch(self, request: LipsyncRequest, *, refresh: bool = False) -> None:
        """Make the output of ``request`` available; the answer comes as a signal.

        A cached file is announced with ``ready`` from the event loop, never inside this
        call, so callers may connect after calling. A second call while the same request is
        downloading joins that download (one ``ready`` or ``failed`` for both).

        Args:
            request: the job; a stale copy is fine (a missing or expired ``output_url`` is
                fetched afresh from ``GET /v1/lipsync/requests/{id}``).
            refresh: delete the cached file first and download again (e.g. it does not play).
        """
        name = TASK_PREFIX + request.id
        # A cancelled task still "runs" until it unwinds: never join that one.
        running = self._tasks.running(name) and request.id not in self._cancelled
        self._wanted[request.id] = self._wanted.get(request.id, 0) + 1 if running else 1
        if running and not refresh:
            return
        self._cancelled.discard(request.id)
        self._tasks.spawn(name, self._run(request, refresh))

    def release(self, request_id: str) -> None:
        """One caller of ``fetch`` no longer needs the output (e.g. the selection moved on).

        The download stops, partial file removed, once every caller that asked for it has
        released it; a download someone else still waits for goes on.
        """
        left = self._wanted.get(request_id, 0) - 1
        if left > 0:
            self._wanted[request_id] = left
            return
        self.cancel(request_id)

    def cancel(self, request_id: str) -> bool:
        """Stop the download of ``request_id`` whoever asked for it; its partial file is
        removed and no signal follows.

        Returns:
            False when no such download was running.
        """
        self._wanted.pop(request_id, None)
        if not self._tasks.cancel(TASK_PREFIX + request_id):
            return False
        self._cancelled.add(request_id)
        return True

    async def _run(self, request: LipsyncRequest, refresh: bool) -> None:
        request_id = request.id
        try:
            path = await self._obtain(request, refresh)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure must reach the user, in words
            message = describe_failure(request, exc)
            if isinstance(exc, ChamelaionError | OSError | ValueError):
                log.warning("output of %s not downloaded: %s", request_id, message)
            else:
                log.exception("output of %s not downloaded", request_id)
            self.failed.emit(request_id, message)
            return
        self.ready.emit(request_id, str(path))

    async def _obtain(self, request: LipsyncRequest, refresh: bool) -> Path:
        path = self.path_for(request.id)
        if refresh:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        elif await asyncio.to_thread(path.is_file):
            return path
        if request.status == FAILED:
            raise _NotReady(request)
        client = self._session.client
        if not request.output_url:
            # The copy we were given may predate completion: ask for the current state.
            request = await client.get_request(request.id)
            if request.status != COMPLETED or not request.output_url:
                raise _NotReady(request)
        await asyncio.to_thread(self._folder.mkdir, parents=True, exist_ok=True)
        last = 0.0

        def report(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= self._interval or (total and done >= total):
                last = now
                self.progress.emit(request.id, done, total)

        return await self._session.client.download_output(request, path, progress=report)


class _NotReady(Exception):
    """The job has no output (yet, or ever): ``describe_failure`` words it from its status."""

    def __init__(self, request: LipsyncRequest) -> None:
        super().__init__(request.status)
        self.request = request


def describe_failure(request: LipsyncRequest, exc: BaseException) -> str:
    """Plain words for why the output of ``request`` could not be fetched (no tracebacks).

    Names the problem and what to do about it, for the preview panel and the status bar.
    """
    if isinstance(exc, _NotReady):
        request = exc.request
    if request.status == FAILED:
        reason = (request.error_message or "no reason was given").rstrip(".")
        return f"This job failed: {reason}. It has no video; submit it again to retry."
    if isinstance(exc, _NotReady):
        return (
            f"This job is {request.status}: its video is not ready yet. "
            "It can be previewed once the job is completed."
        )
    if isinstance(exc, AuthenticationError):
        return "The server refused the API key. Check the key in Settings, then try again."
    if isinstance(exc, NotFoundError):
        return "The server no longer knows this job, so its video cannot be downloaded."
    if isinstance(exc, APIConnectionError):
        return (
            "The download was interrupted: the server could not be reached. "
            "Check the connection, then try again."
        )
    if isinstance(exc, DownloadError):
        return f"The video could not be downloaded: {exc.message} Try again."
    if isinstance(exc, ChamelaionError):
        return f"The video could not be downloaded ({exc}). Try again later."
    if isinstance(exc, OSError):
        return (
            f"The video could not be stored in the cache folder ({exc.strerror or exc}). "
            "Free some disk space or check the folder's permissions, then try again."
        )
    return f"The video could not be downloaded because of an unexpected error ({exc}). Try again."

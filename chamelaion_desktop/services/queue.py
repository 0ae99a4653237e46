"""The live job list: one poll loop over ``GET /v1/lipsync/requests``, paged on demand.

Source: API.md ("Endpoints": the paginated list, newest first [assumed]; "Jobs are
asynchronous: ... poll a request or the list"; 429 ``rate limit exceeded``). One list call
per tick, never one GET per job: the first page is refreshed on a ``PollPolicy`` schedule and
older pages are fetched only when the view asks (``load_more``).

Offsets shift as new jobs arrive at the top of the list, so positions are remembered as
ranks counted from the oldest job (``total - 1 - index``), which stay put. That keeps
``load_more`` free of gaps, and lets the loop refresh jobs still queued or processing that
sit below the first page: when there are some, every other tick fetches the page holding
them instead of the first page (still one call per tick).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from ..api import (
    APIConnectionError,
    AuthenticationError,
    ChamelaionError,
    LipsyncRequest,
    RateLimitError,
    RequestPage,
    ServerError,
)
from ..core.polling import PollPolicy
from .session import ApiSession
from .tasks import TaskRegistry

log = logging.getLogger(__name__)

POLL_TASK = "queue.poll"
MORE_TASK = "queue.more"
#: Largest page the API is assumed to serve (API.md [assumed]).
MAX_PAGE_SIZE = 100


def describe_failure(error: ChamelaionError, retry_in: float) -> str:
    """A plain sentence for the status bar: what failed, and when the next try is.

    Args:
        error: why the refresh failed.
        retry_in: seconds until the next attempt.
    """
    wait = f"Retrying in {max(1, round(retry_in))} s."
    detail = str(error).rstrip(". ")
    if isinstance(error, AuthenticationError):
        return (
            f"The service refused the API key ({error.message}). Check the key in Settings. {wait}"
        )
    if isinstance(error, APIConnectionError):
        return f"Cannot reach the service: {detail}. {wait}"
    if isinstance(error, ServerError):
        return f"The service has a problem ({error.message}). {wait}"
    return f"Could not refresh the job list: {detail}. {wait}"


class QueueService(QObject):
    """Keeps the job list fresh: polls the first page, loads older pages on request.

    Args:
        session: gives the current client; a ``changed`` session restarts from scratch.
        tasks: owns the poll loop (``queue.poll``) and the page loader (``queue.more``).
        policy: pauses between refreshes; ``PollPolicy()`` by default.
        page_size: requests per list call, 1 to 100.
        parent: Qt parent.

    Signals:
        pageLoaded(requests: list[LipsyncRequest], offset: int, total: int): one page of
            the list (newest first) as fetched; ``offset`` is the index of its first request,
            ``total`` the number of requests on the account. The first page arrives on every
            tick (every other tick while older pages hold unfinished jobs).
        rateLimited(seconds: float): the service answered 429; the next call waits that long.
        errorChanged(message: str): why refreshing fails, in plain words with the retry
            delay; an empty string once it works again.
        busy(active: bool): True while a list call is in flight.
        reset(): the account changed; forget every row (the only reason to reset a model).
    """

    pageLoaded = Signal(object, int, int)
    rateLimited = Signal(float)
    errorChanged = Signal(str)
    busy = Signal(bool)
    reset = Signal()

    def __init__(
        self,
        session: ApiSession,
        tasks: TaskRegistry,
        policy: PollPolicy | None = None,
        page_size: int = 50,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self._session = session
        self._tasks = tasks
        self._policy = policy or PollPolicy()
        self._page_size = page_size
        self._wake = asyncio.Event()
        self._running = False
        self._in_flight = 0
        self._error = ""
        self._stats = {"requests": 0, "rate_limited": 0, "errors": 0, "ticks": 0, "pages": 0}
        self._forget()
        session.changed.connect(self._on_session_changed)

    def _forget(self) -> None:
        self._total = 0
        self._oldest_rank: int | None = None  # rank of the oldest loaded row; 0: all loaded
        self._active: dict[str, int] = {}  # request_id -> rank, for unfinished jobs
        self._active_until = 0.0
        self._not_before = 0.0
        self._tick = 0

    # -- public API ---------------------------------------------------------------------

    @property
    def page_size(self) -> int:
        """Requests per list call."""
        return self._page_size

    @property
    def total(self) -> int:
        """Requests on the account, as of the last page (0 before the first)."""
        return self._total

    @property
    def has_more(self) -> bool:
        """True when older requests exist that no page has brought yet."""
        return self._oldest_rank is not None and self._oldest_rank > 0

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._running

    @property
    def stats(self) -> dict[str, int]:
        """Counters since creation: ``requests`` (list calls sent), ``rate_limited`` (429
        answers), ``errors`` (other failures), ``ticks`` (poll iterations), ``pages``
        (pages delivered). A copy."""
        return dict(self._stats)

    def start(self) -> None:
        """Start the poll loop (task ``queue.poll``) on the running loop; idempotent."""
        if self._running:
            return
        self._running = True
        self._tasks.spawn(POLL_TASK, self._poll())

    def stop(self) -> None:
        """Stop polling and cancel a page load in flight."""
        self._running = False
        self._tasks.cancel(POLL_TASK)
        self._tasks.cancel(MORE_TASK)

    def refresh_now(self) -> None:
        """Refresh at once instead of waiting for the next tick (a 429 wait still holds)."""
        self._wake.set()

    def mark_active(self) -> None:
        """A submission was just answered: refresh now and at the active pace, even before
        the new job shows up in the list."""
        self._active_until = self._now() + self._policy.idle_interval
        self._wake.set()

    def load_more(self) -> bool:
        """Fetch the next older page (task ``queue.more``), continuing where the loaded rows
        end. Ignored while one is in flight, before the first page, or when all are loaded.

        Returns:
            True when a page load was started.
        """
        if not self.has_more or self._tasks.running(MORE_TASK):
            return False
        self._tasks.spawn(MORE_TASK, self._load_more())
        return True

    # -- internals ----------------------------------------------------------------------

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _any_active(self) -> bool:
        return bool(self._active) or self._now() < self._active_until

    def _set_error(self, message: str) -> None:
        if message != self._error:
            self._error = message
            self.errorChanged.emit(message)

    def _set_in_flight(self, delta: int) -> None:
        before = self._in_flight
        self._in_flight += delta
        if (before == 0) != (self._in_flight == 0):
            self.busy.emit(self._in_flight > 0)

    async def _fetch(self, offset: int) -> RequestPage:
        self._stats["requests"] += 1
        self._set_in_flight(+1)
        try:
            # The loop is the retry: no retries inside the call, so every 429 and failure
            # reaches the policy and the counters.
            return await self._session.client.list_requests(
                limit=self._page_size, offset=offset, max_retries=0
            )
        except RateLimitError:
            self._stats["rate_limited"] += 1
            raise
        except ChamelaionError:
            self._stats["errors"] += 1
            raise
        finally:
            self._set_in_flight(-1)

    async def _respect_rate_limit(self) -> None:
        wait = self._not_before - self._now()
        if wait > 0:
            await asyncio.sleep(wait)

    def _on_rate_limited(self, error: RateLimitError, failures: int) -> float:
        delay = self._policy.next_delay(
            any_active=self._any_active(),
            rate_limited_for=error.retry_after or 0.0,
            failures=failures,
        )
        self._not_before = self._now() + delay
        log.info("job list rate-limited; next call in %.1f s", delay)
        self.rateLimited.emit(delay)
        return delay

    def _lagging_offset(self) -> int | None:
        """Index of the newest unfinished job below the first page, if any."""
        below = [
            index
            for index in (self._total - 1 - rank for rank in self._active.values())
            if index >= self._page_size
        ]
        return min(below) if below else None

    def _absorb(self, page: RequestPage, offset: int) -> None:
        total = page.pagination.total
        data: Sequence[LipsyncRequest] = page.data
        self._total = total
        for index, request in enumerate(data, start=offset):
            if request.is_terminal:
                self._active.pop(request.id, None)
            else:
                self._active[request.id] = total - 1 - index
        if data:
            oldest = max(0, total - offset - len(data))
            if self._oldest_rank is None or oldest < self._oldest_rank:
                self._oldest_rank = oldest
        elif offset == 0:
            self._oldest_rank = 0
        self._stats["pages"] += 1
        self.pageLoaded.emit(list(data), offset, total)

    async def _poll(self) -> None:
        failures = 0
        while True:
            await self._respect_rate_limit()
            self._wake.clear()
            if not self._session.has_api_key:
                self._set_error("Add your API key in Settings to see your lip-sync jobs.")
                await self._sleep(self._policy.idle_interval)
                continue
            lagging = self._lagging_offset() if self._tick % 2 else None
            offset = lagging or 0
            self._tick += 1
            self._stats["ticks"] += 1
            try:
                page = await self._fetch(offset)
            except RateLimitError as exc:
                failures += 1
                delay = self._on_rate_limited(exc, failures)
            except ChamelaionError as exc:
                failures += 1
                delay = self._policy.next_delay(any_active=self._any_active(), failures=failures)
                log.info("job list refresh failed (%s); retrying in %.1f s", exc, delay)
                self._set_error(describe_failure(exc, delay))
            else:
                failures = 0
                self._set_error("")
                if lagging is not None:
                    self._drop_missing(page, offset)
                self._absorb(page, offset)
                delay = self._policy.next_delay(any_active=self._any_active())
            await self._sleep(delay)

    def _drop_missing(self, page: RequestPage, offset: int) -> None:
        # A job expected on this page but absent cannot be located by rank any more (the
        # list changed under us); stop chasing it rather than fetch this page forever.
        present = {request.id for request in page.data}
        total, end = page.pagination.total, offset + len(page.data)
        for request_id, rank in list(self._active.items()):
            if offset <= total - 1 - rank < end and request_id not in present:
                del self._active[request_id]

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _load_more(self) -> None:
        await self._respect_rate_limit()
        if not self.has_more:
            return
        assert self._oldest_rank is not None
        offset = self._total - self._oldest_rank
        try:
            page = await self._fetch(offset)
        except RateLimitError as exc:
            self._on_rate_limited(exc, failures=1)
            return
        except ChamelaionError as exc:
            log.info("loading older jobs failed: %s", exc)
            self._set_error(f"Could not load older jobs: {str(exc).rstrip('. ')}. Scroll to retry.")
            return
        self._absorb(page, offset)

    def _on_session_changed(self) -> None:
        # Another account or server: nothing loaded so far belongs to it.
        was_running = self._running
        self.stop()
        self._forget()
        self._set_error("")
        self.reset.emit()
        if was_running:
            self.start()

"""The queue service against the real sandbox: live statuses, 429s, paging, one call a tick."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from chamelaion_desktop.api import LipsyncRequest
from chamelaion_desktop.core.polling import PollPolicy
from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread
from chamelaion_desktop.services.queue import QueueService
from chamelaion_desktop.services.session import ApiSession
from chamelaion_desktop.services.tasks import TaskRegistry
from tests.conftest import API_KEY, API_KEY_NAME, AsyncRunner
from tests.helpers import wait_until

OTHER_KEY = "other-key-2b81"
# Nothing listens on the discard port: URL jobs fail fast with "... URL is not accessible".
DEAD_VIDEO = "http://127.0.0.1:9/video.mp4"
DEAD_AUDIO = "http://127.0.0.1:9/audio.wav"
FAST = PollPolicy(active_interval=0.05, idle_interval=0.2, max_backoff=1.0)


@pytest.fixture
def sandbox_config(tmp_path: Path) -> SandboxConfig:
    """Jobs slow enough that a 50 ms poll sees each status, and a second account."""
    return SandboxConfig(
        data_dir=tmp_path / "sandbox",
        api_keys={API_KEY: API_KEY_NAME, OTHER_KEY: "Other account"},
        queue_delay=0.3,
        processing_time=0.3,
    )


class Recorder:
    """Everything a ``QueueService`` says, with the time of each page."""

    def __init__(self, service: QueueService) -> None:
        self.pages: list[tuple[float, list[LipsyncRequest], int, int]] = []
        self.statuses: dict[str, list[str]] = defaultdict(list)
        self.rate_limited: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.resets = 0
        self.busy: list[bool] = []
        service.pageLoaded.connect(self._page)
        service.rateLimited.connect(lambda s: self.rate_limited.append((time.monotonic(), s)))
        service.errorChanged.connect(self.errors.append)
        service.reset.connect(self._reset)
        service.busy.connect(self.busy.append)

    def _page(self, requests: list[LipsyncRequest], offset: int, total: int) -> None:
        self.pages.append((time.monotonic(), requests, offset, total))
        for request in requests:
            history = self.statuses[request.id]
            if not history or history[-1] != request.status:
                history.append(request.status)

    def _reset(self) -> None:
        self.resets += 1

    def offsets(self) -> list[int]:
        return [offset for _, _, offset, _ in self.pages]


@asynccontextmanager
async def running(
    sandbox: SandboxThread, key: str | None = API_KEY, **options: Any
) -> AsyncIterator[tuple[QueueService, ApiSession, Recorder]]:
    tasks = TaskRegistry()
    session = ApiSession(sandbox.base_url, key, tasks)
    options.setdefault("policy", FAST)
    service = QueueService(session, tasks, **options)
    recorder = Recorder(service)
    try:
        yield service, session, recorder
    finally:
        service.stop()
        await tasks.shutdown()
        await session.aclose()


async def create_jobs(session: ApiSession, count: int, prefix: str = "job") -> list[str]:
    ids = []
    for n in range(count):
        answer = await session.client.generate(DEAD_VIDEO, DEAD_AUDIO, reference_id=f"{prefix}-{n}")
        ids.append(answer.request_id)
    return ids


async def all_finished(session: ApiSession, total: int) -> None:
    async def done() -> bool:
        page = await session.client.list_requests(limit=100)
        return page.pagination.total == total and all(r.is_terminal for r in page.data)

    deadline = time.monotonic() + 20
    while not await done():
        assert time.monotonic() < deadline, "jobs did not finish"
        await asyncio.sleep(0.05)


def list_calls(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Server-side log of list requests (``GET /api/v1/lipsync/requests``) and GETs by id."""
    caplog.set_level(logging.DEBUG, logger="chamelaion_desktop.sandbox.server")

    def calls() -> list[str]:
        return [
            record.getMessage()
            for record in caplog.records
            if record.name == "chamelaion_desktop.sandbox.server"
            and record.getMessage().startswith("GET /api/v1/lipsync/requests")
        ]

    return calls


def test_rows_move_from_queued_to_completed_or_failed(
    arun: AsyncRunner, sandbox: SandboxThread, media_dir: Path
) -> None:
    async def scenario() -> None:
        async with running(sandbox) as (service, session, seen):
            service.start()
            await wait_until(lambda: seen.pages, timeout=5)
            assert seen.pages[0][1:] == ([], 0, 0)
            failing = await session.client.generate(DEAD_VIDEO, DEAD_AUDIO, reference_id="url")
            uploaded = await session.client.generate_with_media(
                media_dir / "grid_female_brbk7n_3s.mp4",
                media_dir / "fleurs_es419_006_spanish_5.6s.wav",
                reference_id="upload",
            )
            service.mark_active()

            def finished() -> bool:
                return seen.statuses[failing.request_id][-1:] == ["failed"] and seen.statuses[
                    uploaded.request_id
                ][-1:] == ["completed"]

            await wait_until(finished, timeout=30)
            assert seen.statuses[failing.request_id] == ["queued", "processing", "failed"]
            assert seen.statuses[uploaded.request_id] == ["queued", "processing", "completed"]
            last = {r.id: r for r in seen.pages[-1][1]}
            assert last[failing.request_id].error_message == "video URL is not accessible"
            assert last[uploaded.request_id].output_url
            assert seen.pages[-1][3] == 2
            assert seen.errors == [] and seen.rate_limited == [] and seen.resets == 0
            assert seen.busy[:2] == [True, False]

    arun(scenario())


def test_a_429_is_reported_waited_out_and_polling_goes_on(
    arun: AsyncRunner, sandbox: SandboxThread
) -> None:
    async def scenario() -> None:
        async with running(sandbox) as (service, _session, seen):
            service.start()
            await wait_until(lambda: len(seen.pages) >= 2, timeout=5)
            sandbox.faults.force_429 = 2
            await wait_until(lambda: len(seen.rate_limited) == 2, timeout=10)
            pages_before = len(seen.pages)
            await wait_until(lambda: len(seen.pages) >= pages_before + 3, timeout=10)

            assert sandbox.faults.force_429 == 0
            assert service.stats["rate_limited"] == 2
            # The sandbox asks for 1 s (Retry-After); the loop waits that long each time.
            first, second = seen.rate_limited
            assert first[1] == pytest.approx(1.0) and second[1] >= 1.0
            assert second[0] - first[0] >= 0.95
            after = next(t for t, *_ in seen.pages if t > second[0])
            assert after - second[0] >= 0.95
            assert seen.errors == []

    arun(scenario())


def test_load_more_pages_through_every_job_once_even_as_new_ones_arrive(
    arun: AsyncRunner, sandbox: SandboxThread, api_key: str
) -> None:
    async def scenario() -> None:
        async with running(sandbox, page_size=20) as (service, session, seen):
            older = await create_jobs(session, 45)
            await all_finished(session, 45)
            assert not service.load_more()  # nothing loaded yet: nothing to continue
            service.start()
            await wait_until(lambda: seen.pages, timeout=5)
            assert service.has_more and service.total == 45

            # Three new jobs push every offset down by three between pages.
            newer = await create_jobs(session, 3, prefix="new")
            service.refresh_now()
            await wait_until(lambda: seen.pages[-1][3] == 48, timeout=5)
            assert service.load_more()
            assert not service.load_more()  # one page at a time
            await wait_until(lambda: 23 in seen.offsets(), timeout=5)
            assert service.load_more()
            await wait_until(lambda: not service.has_more, timeout=5)
            assert not service.load_more()

            more = [(offset, page) for _, page, offset, _ in seen.pages if offset > 0]
            assert [(offset, len(page)) for offset, page in more] == [(23, 20), (43, 5)]
            more_ids = [request.id for _, page in more for request in page]
            assert len(more_ids) == len(set(more_ids)) == 25
            first_ids = {request.id for request in seen.pages[0][1]}
            assert first_ids.isdisjoint(more_ids)
            loaded = {r.id for _, page, _, _ in seen.pages for r in page}
            assert loaded == set(older) | set(newer)
            # The older pages come back newest first, as the list is.
            assert more_ids == list(reversed(older))[20:]

    arun(scenario())


def test_exactly_one_list_call_per_tick_and_no_call_per_job(
    arun: AsyncRunner, sandbox: SandboxThread, caplog: pytest.LogCaptureFixture
) -> None:
    calls = list_calls(caplog)

    async def scenario() -> None:
        async with running(sandbox) as (service, session, seen):
            await create_jobs(session, 6)
            stopped = asyncio.Event()

            def stop_after_ten_ticks(*_: object) -> None:
                # Stopped between ticks, so no call is cut off half-way.
                if service.stats["ticks"] >= 10 and not stopped.is_set():
                    service.stop()
                    stopped.set()

            service.pageLoaded.connect(stop_after_ten_ticks)
            service.start()
            await asyncio.wait_for(stopped.wait(), 10)
            await asyncio.sleep(0.2)
            stats = service.stats
            assert stats["ticks"] == stats["requests"] == stats["pages"] == 10
            assert len(seen.pages) == 10
            server = calls()
            assert len(server) == 10, server
            assert all(call.startswith("GET /api/v1/lipsync/requests 200") for call in server)

    arun(scenario())


def test_unfinished_jobs_below_the_first_page_are_refreshed_too(
    arun: AsyncRunner, sandbox: SandboxThread, caplog: pytest.LogCaptureFixture
) -> None:
    calls = list_calls(caplog)
    sandbox.config.queue_delay = 1.0  # still queued when the older page is loaded

    async def scenario() -> None:
        async with running(sandbox, page_size=5) as (service, session, seen):
            ids = await create_jobs(session, 8)
            service.start()
            await wait_until(lambda: seen.pages, timeout=5)
            assert service.load_more()
            await wait_until(lambda: 5 in seen.offsets(), timeout=5)
            oldest = ids[:3]
            assert [seen.statuses[i] for i in oldest] == [["queued"]] * 3
            await wait_until(lambda: all(seen.statuses[i][-1] == "failed" for i in ids), timeout=15)
            assert service.stats["ticks"] + 1 == service.stats["requests"]  # + load_more
        await asyncio.sleep(0.2)
        sent = service.stats["requests"]
        assert len(calls()) in (sent, sent - 1)  # the last may be cut off by stop()

    arun(scenario())


def test_another_account_resets_once_and_polls_afresh(
    arun: AsyncRunner, sandbox: SandboxThread
) -> None:
    async def scenario() -> None:
        async with running(sandbox) as (service, session, seen):
            await create_jobs(session, 2)
            service.start()
            await wait_until(lambda: seen.pages and seen.pages[-1][3] == 2, timeout=5)
            session.set_api_key(OTHER_KEY)
            assert seen.resets == 1
            count = len(seen.pages)
            await wait_until(lambda: len(seen.pages) > count, timeout=5)
            assert seen.pages[-1][1:] == ([], 0, 0)
            assert service.running and seen.resets == 1
            assert seen.errors == []

    arun(scenario())


def test_an_unreachable_service_is_explained_and_retried(
    arun: AsyncRunner, sandbox: SandboxThread
) -> None:
    async def scenario() -> None:
        tasks = TaskRegistry()
        session = ApiSession("http://127.0.0.1:1/api", API_KEY, tasks)
        service = QueueService(session, tasks, policy=FAST)
        seen = Recorder(service)
        try:
            service.start()
            await wait_until(lambda: seen.errors, timeout=5)
            assert seen.errors[0].startswith("Cannot reach the service: Could not connect")
            assert seen.errors[0].endswith("Retrying in 1 s.")
            assert API_KEY not in seen.errors[0]
            session.set_base_url(sandbox.base_url)
            await wait_until(lambda: seen.pages, timeout=5)
            assert seen.errors[-1] == ""
            assert service.stats["errors"] >= 1

            session.set_api_key(None)
            await wait_until(lambda: seen.errors[-1].startswith("Add your API key"), timeout=5)
        finally:
            service.stop()
            await tasks.shutdown()
            await session.aclose()

    arun(scenario())

"""SubmissionService on the qasync loop: real sandbox, real journal file, real media."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chamelaion_desktop.api import ChamelaionClient
from chamelaion_desktop.core.journal import (
    CANCELLED,
    FINISHED,
    UPLOAD_FAILED,
    UPLOADING,
    Journal,
    JournalEntry,
)
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.services.session import ApiSession
from chamelaion_desktop.services.submissions import SubmissionService, upload_task_name
from chamelaion_desktop.services.tasks import TaskRegistry
from tests.conftest import AsyncRunner
from tests.helpers import wait_until

VIDEO = "grid_s2_male_2sentences_6s.mp4"
AUDIO = "fleurs_es419_006_spanish_5.6s.wav"
MiB = 1024 * 1024


class Recorder:
    """Everything a service emitted, in order."""

    def __init__(self, service: SubmissionService) -> None:
        self.entries: list[JournalEntry] = []
        self.progress: list[tuple[int, int, int, float]] = []
        self.submitted: list[tuple[int, str]] = []
        self.failed: list[tuple[int, str]] = []
        self.cancelled: list[int] = []
        service.entryChanged.connect(self.entries.append)
        service.progress.connect(lambda *args: self.progress.append(args))
        service.submitted.connect(lambda *args: self.submitted.append(args))
        service.failed.connect(lambda *args: self.failed.append(args))
        service.cancelled.connect(self.cancelled.append)

    def states(self, local_id: int) -> list[str]:
        return [e.state for e in self.entries if e.local_id == local_id]


class App:
    """What app.py wires for the service: tasks, session, journal file, service."""

    def __init__(
        self,
        db_path: Path,
        sandbox: SandboxThread,
        api_key: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tasks = TaskRegistry()
        self.session = ApiSession(sandbox.base_url, api_key, self.tasks)
        self.journal = Journal(db_path)
        self.service = SubmissionService(self.session, self.tasks, self.journal, clock=clock)
        self.seen = Recorder(self.service)

    async def quit(self) -> None:
        await self.tasks.shutdown()
        self.service.close()
        self.journal.close()
        await self.session.aclose()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "journal.sqlite3"


@pytest.fixture
def app(db_path: Path, sandbox: SandboxThread, api_key: str, arun: AsyncRunner) -> Iterator[App]:
    started = App(db_path, sandbox, api_key)
    yield started
    arun(started.quit())


def every_report_passes() -> Callable[[], float]:
    """A clock a second further on at each call: the service then passes on every progress
    report, so a test can act at a precise point of an upload."""
    return itertools.count(0.0, 1.0).__next__


#: Cancel or quit this far into the video: the file is open and being read. (Earlier, while
#: the file is being opened, a cancellation leaks the handle in api/multipart.py.)
MIDWAY = 8 * MiB


def big_file(path: Path, size: int) -> Path:
    """A sparse file of ``size`` bytes: the sandbox stores uploads, it does not decode them."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


async def jobs_on_server(sandbox: SandboxThread, api_key: str) -> int:
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, max_retries=0) as client:
        return (await client.list_requests()).pagination.total


def test_submit_records_first_then_uploads_with_throttled_progress(
    app: App,
    arun: AsyncRunner,
    media_dir: Path,
    tmp_path: Path,
    sandbox: SandboxThread,
    api_key: str,
) -> None:
    video = big_file(tmp_path / "reel.mp4", 64 * MiB)  # 64 reads of 1 MiB, plus framing

    async def scenario() -> float:
        started = time.monotonic()
        entry = await app.service.submit(video, media_dir / AUDIO, "reel__es", True)
        # Recorded before the upload started, and only then the task was named after it.
        assert entry.state == "pending" and entry.attempts == 0
        await wait_until(lambda: app.seen.submitted or app.seen.failed, timeout=20)
        return time.monotonic() - started

    elapsed = arun(scenario())
    seen = app.seen
    assert seen.failed == []
    [(local_id, request_id)] = seen.submitted
    assert seen.states(local_id) == ["pending", "uploading", "submitted"]
    assert seen.entries[-1].request_id == request_id
    assert seen.entries[-1].disable_active_speaker_detection is True
    # Throttled: about ten a second plus the last, far fewer than the 64+ chunks.
    assert 1 <= len(seen.progress) <= min(16, 10 * elapsed + 2)
    last = seen.progress[-1]
    assert last[0] == local_id and last[1] == last[2] > 64 * MiB and last[3] > 0

    async def server_side() -> str | None:
        async with ChamelaionClient(api_key, base_url=sandbox.base_url) as client:
            return (await client.get_request(request_id)).reference_id

    assert arun(server_side()) == "reel__es"


def test_an_upload_past_2_gib_reports_64_bit_progress(app: App) -> None:
    # Signal(int) is 32-bit in Qt: byte counts past 2 GiB would wrap or fail.
    big = 5 * 1024**3
    app.service.progress.emit(7, big - 1, big, 1.5e8)
    assert app.seen.progress == [(7, big - 1, big, 1.5e8)]


def test_a_server_error_fails_plainly_and_retry_then_works(
    app: App, arun: AsyncRunner, media_dir: Path, sandbox: SandboxThread, api_key: str
) -> None:
    sandbox.faults.error_rate = 1.0

    async def scenario() -> None:
        entry = await app.service.submit(media_dir / VIDEO, media_dir / AUDIO, "err-1", False)
        await wait_until(lambda: app.seen.failed, timeout=10)
        [(local_id, message)] = app.seen.failed
        assert local_id == entry.local_id
        assert "internal error" in message
        assert app.seen.states(local_id)[-1] == UPLOAD_FAILED
        assert app.seen.entries[-1].error_message == message
        sandbox.faults.error_rate = 0.0
        assert await jobs_on_server(sandbox, api_key) == 0

        task = app.service.retry(local_id)
        assert task is not None
        await task
        assert app.seen.submitted and app.seen.submitted[0][0] == local_id
        assert app.seen.states(local_id)[-2:] == ["uploading", "submitted"]
        assert app.seen.entries[-1].attempts == 2
        assert await jobs_on_server(sandbox, api_key) == 1

    arun(scenario())


def test_cancel_midway_emits_cancelled_and_creates_no_job(
    db_path: Path,
    arun: AsyncRunner,
    media_dir: Path,
    tmp_path: Path,
    sandbox: SandboxThread,
    api_key: str,
) -> None:
    video = big_file(tmp_path / "long.mp4", 96 * MiB)
    app = App(db_path, sandbox, api_key, clock=every_report_passes())
    asked: list[int] = []

    def on_progress(local_id: int, sent: int, total: int, rate: float) -> None:
        if sent > MIDWAY and not asked:
            asked.append(sent)
            # A second click on retry while it uploads does not start a second upload.
            assert app.service.retry(local_id) is None
            app.service.cancel(local_id)

    app.service.progress.connect(on_progress)

    async def scenario() -> None:
        entry = await app.service.submit(video, media_dir / AUDIO, "long-1", False)
        await wait_until(lambda: app.seen.cancelled, timeout=20)
        assert app.seen.cancelled == [entry.local_id]
        assert app.seen.states(entry.local_id)[-1] == CANCELLED
        assert not app.tasks.running(upload_task_name(entry.local_id))
        await asyncio.sleep(0.2)  # let the server notice the cut
        assert await jobs_on_server(sandbox, api_key) == 0

    try:
        arun(scenario())
    finally:
        arun(app.quit())
    assert app.seen.submitted == [] and app.seen.failed == []
    assert asked and app.seen.progress[-1][1] < 48 * MiB


def test_quit_midway_then_restart_offers_it_and_retry_sends_it_once(
    db_path: Path,
    arun: AsyncRunner,
    media_dir: Path,
    tmp_path: Path,
    sandbox: SandboxThread,
    api_key: str,
) -> None:
    video = big_file(tmp_path / "long.mp4", 96 * MiB)
    first = App(db_path, sandbox, api_key, clock=every_report_passes())

    def on_progress(local_id: int, sent: int, total: int, rate: float) -> None:
        if sent > MIDWAY:
            # What quitting does to every task (TaskRegistry.shutdown), right here.
            first.tasks.cancel(upload_task_name(local_id))

    first.service.progress.connect(on_progress)

    async def quit_while_uploading() -> int:
        entry = await first.service.submit(video, media_dir / AUDIO, "quit-1", False)
        await wait_until(lambda: not first.tasks.running(upload_task_name(entry.local_id)))
        await first.quit()  # as on closing the window
        return entry.local_id

    local_id = arun(quit_while_uploading())
    assert first.seen.cancelled == []  # quitting is not cancelling

    second = App(db_path, sandbox, api_key)
    try:

        async def restart() -> None:
            entries = await second.service.load()
            [interrupted] = [e for e in entries if e.is_unfinished]
            assert (interrupted.local_id, interrupted.state) == (local_id, UPLOADING)
            task = second.service.retry(local_id)
            assert task is not None
            await task

        arun(restart(), timeout=60)
        assert [s for s, _ in second.seen.submitted] == [local_id]
        assert arun(jobs_on_server(sandbox, api_key)) == 1
    finally:
        arun(second.quit())


def test_finished_jobs_are_recorded_and_the_key_never_is(
    app: App, arun: AsyncRunner, media_dir: Path, db_path: Path, api_key: str
) -> None:
    async def scenario() -> None:
        await app.service.submit(media_dir / VIDEO, media_dir / AUDIO, "fin-1", False)
        await wait_until(lambda: app.seen.submitted, timeout=10)
        [(_, request_id)] = app.seen.submitted
        finished = await app.service.mark_finished(request_id, "completed")
        assert finished is not None
        assert (finished.state, finished.job_status) == (FINISHED, "completed")
        assert app.seen.entries[-1] == finished
        assert await app.service.mark_finished("someone-elses-job", "failed") is None
        assert app.seen.entries[-1] == finished

    arun(scenario())
    files = list(db_path.parent.glob("journal.sqlite3*"))
    assert files
    for path in files:
        assert api_key.encode() not in path.read_bytes()


def test_retry_with_inputs_gone_fails_plainly_and_dismiss_cancels(
    app: App,
    arun: AsyncRunner,
    media_dir: Path,
    tmp_path: Path,
    sandbox: SandboxThread,
    api_key: str,
) -> None:
    video = Path(shutil.copy(media_dir / VIDEO, tmp_path / "take 7.mp4"))
    entry = app.journal.record(video, media_dir / AUDIO, "gone-7", False)  # left pending
    video.unlink()

    async def scenario() -> None:
        task = app.service.retry(entry.local_id)
        assert task is not None
        await task
        [(local_id, message)] = app.seen.failed
        assert local_id == entry.local_id
        assert message.startswith(f"The video file {video} is no longer there")
        assert await jobs_on_server(sandbox, api_key) == 0
        app.service.cancel(entry.local_id)  # the user dismisses it
        await wait_until(lambda: app.seen.cancelled, timeout=5)
        assert app.seen.states(entry.local_id)[-1] == CANCELLED

    arun(scenario())


def test_an_unreadable_input_is_refused_before_anything_is_recorded(
    app: App, arun: AsyncRunner, media_dir: Path, tmp_path: Path
) -> None:
    reported: list[tuple[str, BaseException]] = []
    app.tasks.failed.connect(lambda name, error: reported.append((name, error)))

    async def scenario() -> None:
        task = app.service.submit(tmp_path / "moved away.mp4", media_dir / AUDIO, "x", False)
        await asyncio.wait([task])
        assert await app.service.load() == []

    arun(scenario())
    [(name, error)] = reported
    assert name.startswith("submit:")
    assert str(error).startswith(f"The video file {tmp_path / 'moved away.mp4'} cannot be read")
    assert app.seen.entries == [] and app.seen.failed == []


def test_a_page_of_finished_jobs_is_recorded_in_one_go(
    app: App, arun: AsyncRunner, media_dir: Path
) -> None:
    async def scenario() -> None:
        await app.service.submit(media_dir / VIDEO, media_dir / AUDIO, "fin-page", False)
        await wait_until(lambda: app.seen.submitted, timeout=10)
        [(_, request_id)] = app.seen.submitted
        assert app.service.mark_finished_many([]) is None
        page = [("someone-elses-job", "completed"), (request_id, "failed"), ("other", "failed")]
        task = app.service.mark_finished_many(page)
        assert task is not None
        [finished] = await task
        assert (finished.request_id, finished.state, finished.job_status) == (
            request_id,
            FINISHED,
            "failed",
        )
        assert app.seen.entries[-1] == finished

    arun(scenario())

"""The output cache downloads a real sandbox output once, refreshes expired links, and says
in plain words why a job without output has nothing to download."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import av
import httpx
import pytest

from chamelaion_desktop.api import COMPLETED, FAILED, LipsyncRequest
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.sandbox.config import FAULT_JOB_MESSAGE
from chamelaion_desktop.services.outputs import OutputCache
from chamelaion_desktop.services.session import ApiSession
from chamelaion_desktop.services.tasks import TaskRegistry
from tests.conftest import AsyncRunner
from tests.helpers import wait_until

VIDEO = "grid_s2_male_2sentences_6s.mp4"
AUDIO = "fleurs_es419_006_spanish_5.6s.wav"
SANDBOX_LOG = "chamelaion_desktop.sandbox.server"


class Signals:
    """Everything an ``OutputCache`` emitted, in order."""

    def __init__(self, cache: OutputCache) -> None:
        self.progress: list[tuple[str, int, int]] = []
        self.ready: list[tuple[str, str]] = []
        self.failed: list[tuple[str, str]] = []
        cache.progress.connect(lambda *args: self.progress.append(args))
        cache.ready.connect(lambda *args: self.ready.append(args))
        cache.failed.connect(lambda *args: self.failed.append(args))

    def clear(self) -> None:
        self.progress.clear()
        self.ready.clear()
        self.failed.clear()


@pytest.fixture
def cache_env(
    qloop: asyncio.AbstractEventLoop, sandbox: SandboxThread, api_key: str, tmp_path: Path
) -> Any:
    tasks = TaskRegistry()
    session = ApiSession(sandbox.base_url, api_key, tasks)
    cache = OutputCache(session, tasks, tmp_path / "cache")
    yield session, cache, Signals(cache)
    qloop.run_until_complete(session.aclose())


async def submit(
    session: ApiSession, media_dir: Path, *, reference_id: str = "ep101-es"
) -> LipsyncRequest:
    created = await session.client.generate_with_media(
        media_dir / VIDEO, media_dir / AUDIO, reference_id=reference_id
    )
    return await session.client.wait_for(created.request_id, poll_interval=0.05, timeout=20)


def output_requests(caplog: pytest.LogCaptureFixture, request_id: str) -> list[str]:
    """Sandbox log lines of GETs of the output file (the signed link), any status."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == SANDBOX_LOG and f"/files/{request_id}.mp4" in record.getMessage()
    ]


def test_downloads_once_then_serves_the_cached_file(
    arun: AsyncRunner,
    cache_env: Any,
    media_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session, cache, seen = cache_env
    caplog.set_level(logging.DEBUG, logger=SANDBOX_LOG)

    async def scenario() -> None:
        job = await submit(session, media_dir)
        assert job.status == COMPLETED
        assert cache.cached_path(job.id) is None
        cache.fetch(job)
        cache.fetch(job)  # joins the running download
        assert cache.is_downloading(job.id)
        await wait_until(lambda: seen.ready or seen.failed, timeout=15)
        await asyncio.sleep(0.1)  # a second download would have signalled by now
        expected = tmp_path / "cache" / "outputs" / f"{job.id}.mp4"
        assert seen.failed == []
        assert seen.ready == [(job.id, str(expected))]
        assert len(output_requests(caplog, job.id)) == 1
        size = expected.stat().st_size
        assert seen.progress and seen.progress[-1] == (job.id, size, size)
        assert sorted(p.name for p in expected.parent.iterdir()) == [expected.name]  # no .part
        assert cache.cached_path(job.id) == expected
        before = expected.stat()

        seen.clear()
        # Even a link that could never work must not be needed for a cached output.
        stale = dataclasses.replace(job, output_url="http://127.0.0.1:9/gone.mp4")
        cache.fetch(stale)
        assert seen.ready == []  # announced from the loop, after callers could connect
        await wait_until(lambda: seen.ready, timeout=5)
        assert seen.ready == [(job.id, str(expected))]
        assert seen.progress == [] and seen.failed == []
        after = expected.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert len(output_requests(caplog, job.id)) == 1

    arun(scenario())
    with av.open(str(tmp_path / "cache" / "outputs" / f"{seen.ready[0][0]}.mp4")) as video:
        assert video.streams.video and video.streams.audio
        assert video.duration is not None
        assert abs(video.duration / av.time_base - 5.64) < 0.1


def test_an_expired_link_is_fetched_afresh(
    arun: AsyncRunner,
    cache_env: Any,
    sandbox: SandboxThread,
    media_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session, cache, seen = cache_env
    sandbox.config.url_ttl = 0.01
    caplog.set_level(logging.DEBUG, logger=SANDBOX_LOG)

    async def scenario() -> None:
        job = await submit(session, media_dir)
        assert job.output_url is not None
        expires = int(parse_qs(urlsplit(job.output_url).query)["expires"][0])
        await wait_until(lambda: time.time() > expires + 0.05, timeout=3)
        async with httpx.AsyncClient() as http:
            refused = await http.get(job.output_url)
        assert refused.status_code == 403
        caplog.clear()

        cache.fetch(job)  # the expired link
        await wait_until(lambda: seen.ready or seen.failed, timeout=15)
        assert seen.failed == []
        assert [request_id for request_id, _ in seen.ready] == [job.id]
        size = await asyncio.to_thread(lambda: Path(seen.ready[0][1]).stat().st_size)
        assert size > 10_000
        statuses = [line.split()[2] for line in output_requests(caplog, job.id)]
        assert statuses == ["403", "200"]

    arun(scenario())


def test_a_stale_copy_of_a_job_that_completed_since_still_downloads(
    arun: AsyncRunner, cache_env: Any, media_dir: Path
) -> None:
    session, cache, seen = cache_env

    async def scenario() -> None:
        job = await submit(session, media_dir)
        as_first_listed = dataclasses.replace(job, status="queued", output_url=None)
        cache.fetch(as_first_listed)
        await wait_until(lambda: seen.ready or seen.failed, timeout=15)
        assert seen.failed == []
        assert seen.ready[0][0] == job.id

    arun(scenario())


def test_jobs_without_output_fail_in_plain_words(
    arun: AsyncRunner, cache_env: Any, sandbox: SandboxThread, media_dir: Path, tmp_path: Path
) -> None:
    session, cache, seen = cache_env

    async def scenario() -> None:
        sandbox.faults.fail_jobs = 1
        failed = await submit(session, media_dir, reference_id="ep102-es")
        assert failed.status == FAILED
        cache.fetch(failed)
        await wait_until(lambda: seen.failed, timeout=5)
        request_id, message = seen.failed[0]
        assert request_id == failed.id
        assert message.startswith("This job failed: ")
        assert FAULT_JOB_MESSAGE in message
        assert "Traceback" not in message and "Error" not in message

        seen.clear()
        sandbox.config.queue_delay = 60
        created = await session.client.generate_with_media(
            media_dir / VIDEO, media_dir / AUDIO, reference_id="ep103-es"
        )
        queued = await session.client.get_request(created.request_id)
        cache.fetch(queued)
        await wait_until(lambda: seen.failed, timeout=5)
        assert seen.failed == [
            (
                queued.id,
                "This job is queued: its video is not ready yet. "
                "It can be previewed once the job is completed.",
            )
        ]
        assert seen.ready == [] and seen.progress == []

    arun(scenario())
    assert not (tmp_path / "cache" / "outputs").exists() or not any(
        (tmp_path / "cache" / "outputs").iterdir()
    )


def test_cancel_stops_the_download_and_leaves_no_file(
    arun: AsyncRunner, cache_env: Any, sandbox: SandboxThread, media_dir: Path, tmp_path: Path
) -> None:
    session, cache, seen = cache_env

    async def scenario() -> None:
        job = await submit(session, media_dir)
        sandbox.faults.latency = 0.5
        cache.fetch(job)
        await asyncio.sleep(0.1)
        assert cache.cancel(job.id)
        await asyncio.sleep(0.6)
        assert (seen.ready, seen.failed) == ([], [])
        assert cache.cached_path(job.id) is None
        folder = tmp_path / "cache" / "outputs"
        assert [p.name for p in folder.iterdir()] == []

        # Two callers: the download goes on until both released it.
        cache.fetch(job)
        cache.fetch(job)
        cache.release(job.id)
        await asyncio.sleep(0.05)
        assert cache.is_downloading(job.id)
        cache.release(job.id)
        await asyncio.sleep(0.05)
        assert not cache.is_downloading(job.id)

        sandbox.faults.latency = 0
        cache.fetch(job)  # and it can be fetched again afterwards
        cache.release(job.id)
        cache.fetch(job)  # a fresh download counts its callers afresh
        await wait_until(lambda: seen.ready, timeout=15)
        assert (seen.ready, seen.failed) == ([(job.id, str(folder / f"{job.id}.mp4"))], [])

    arun(scenario())

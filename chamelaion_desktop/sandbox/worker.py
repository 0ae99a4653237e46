"""Moves jobs through ``queued`` -> ``processing`` -> ``completed`` | ``failed``.

Each job is an owned task on the server's loop; renders run one at a time on a dedicated
thread. A job interrupted by shutdown keeps its status in SQLite and is resumed on the next
start with the same ``data_dir`` (API.md: "Jobs are asynchronous: submit, get a request_id,
then poll").
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp

from .config import FAULT_JOB_MESSAGE, SandboxConfig
from .fetch import fetch
from .render import RenderError, render
from .store import COMPLETED, FAILED, PROCESSING, Job, Store

log = logging.getLogger(__name__)


class Worker:
    """Runs jobs.

    Args:
        config: timings (``queue_delay``, ``processing_time``, ``fetch_timeout``) are read
            when each job reaches that step, so changes at runtime take effect.
        store: where job states are written.
        session: HTTP client for URL jobs.
    """

    def __init__(self, config: SandboxConfig, store: Store, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._store = store
        self._session = session
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._render_executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="sandbox-render"
        )
        self._closed = False

    @property
    def data_dir(self) -> Path:
        return self._config.data_dir

    async def resume(self) -> int:
        """Schedule every job left ``queued`` or ``processing``; returns how many."""
        jobs = await self._store.unfinished()
        for job in jobs:
            self.submit(job)
        return len(jobs)

    def submit(self, job: Job) -> None:
        """Start driving ``job`` (must be called on the server's loop)."""
        if self._closed or job.id in self._tasks:
            return
        task = asyncio.get_running_loop().create_task(self._drive(job), name=f"job-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks = {key: value for key, value in self._tasks.items() if value is not task}
        if not task.cancelled() and task.exception() is not None:
            log.error("job task %s crashed", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        """Cancel every job task and wait for them; a running render finishes first."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self._render_executor.shutdown, True, cancel_futures=True)

    async def _drive(self, job: Job) -> None:
        if job.status != PROCESSING:
            wait = job.created_at + self._config.queue_delay - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        started = job.started_at if job.started_at is not None else time.time()
        if job.status != PROCESSING:
            await self._store.update(job.id, status=PROCESSING, started_at=started)
            log.debug("job %s processing", job.id)
        status, error, output = await self._work(job)
        remaining = started + self._config.processing_time - time.time()
        if remaining > 0:
            await asyncio.sleep(remaining)
        await self._store.update(
            job.id,
            status=status,
            finished_at=time.time(),
            error_message=error,
            output_path=output,
        )
        log.debug("job %s %s", job.id, status)

    async def _work(self, job: Job) -> tuple[str, str | None, str | None]:
        """Produce the output; returns (status, error_message, output path relative)."""
        if job.inject_failure:
            return FAILED, FAULT_JOB_MESSAGE, None
        if job.output_path:
            # Only seeded jobs (seed.py) carry an output before they run: they complete with
            # that shared file, so hundreds of them move through their statuses cheaply.
            return COMPLETED, None, job.output_path
        try:
            video, audio = await self._inputs(job)
            relative = f"outputs/{job.id}.mp4"
            final = self.data_dir / relative
            partial = final.with_suffix(".part")
            await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._render_executor, render, video, audio, partial)
            await asyncio.to_thread(os.replace, partial, final)
        except RenderError as exc:
            return FAILED, str(exc), None
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed unexpectedly", job.id)
            return FAILED, "internal error", None
        return COMPLETED, None, relative

    async def _inputs(self, job: Job) -> tuple[Path, Path]:
        if job.video_path and job.audio_path:
            return self.data_dir / job.video_path, self.data_dir / job.audio_path
        if not job.video_url or not job.audio_url:
            raise RenderError("the request has no inputs")
        folder = f"uploads/{job.id}"
        await asyncio.to_thread((self.data_dir / folder).mkdir, parents=True, exist_ok=True)
        paths: list[Path] = []
        for kind, url in (("video", job.video_url), ("audio", job.audio_url)):
            path = self.data_dir / folder / kind
            await fetch(
                self._session,
                url,
                path,
                kind,
                fetch_timeout=self._config.fetch_timeout,
                max_bytes=self._config.max_upload_bytes,
            )
            paths.append(path)
        await self._store.update(job.id, video_path=f"{folder}/video", audio_path=f"{folder}/audio")
        return paths[0], paths[1]

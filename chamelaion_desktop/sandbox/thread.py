"""A sandbox in its own thread and event loop, for synchronous callers (tests, CLI, Qt)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

from .config import Faults, SandboxConfig
from .seed import Seeded
from .server import Sandbox

#: Seconds ``start`` waits for the server to listen.
START_TIMEOUT = 30.0


class SandboxThread:
    """Runs a ``Sandbox`` on a private loop in a daemon thread.

    Args:
        config: as for ``Sandbox``; ``config.faults`` may be changed from any thread.
        host, port: as for ``Sandbox`` (port 0 picks a free one).
    """

    def __init__(self, config: SandboxConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = Sandbox(config, host=host, port=port)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def config(self) -> SandboxConfig:
        return self.sandbox.config

    @property
    def faults(self) -> Faults:
        """The live fault switches (``config.faults``)."""
        return self.sandbox.faults

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api`` once started."""
        return self.sandbox.base_url

    def __repr__(self) -> str:
        return f"SandboxThread({self.sandbox!r})"

    def start(self) -> SandboxThread:
        """Start the thread; return once the server listens.

        Raises:
            RuntimeError: already started, or the server did not come up within
                ``START_TIMEOUT`` seconds.
            OSError (or whatever ``Sandbox.start`` raised): startup failed.
        """
        if self._thread is not None:
            raise RuntimeError("the sandbox thread is already started")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._main, name="chamelaion-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError("the sandbox did not start in time")
        error = self._take_error()
        if error is not None:
            self._thread.join()
            self._thread = None
            raise error
        return self

    def _take_error(self) -> BaseException | None:
        error, self._error = self._error, None
        return error

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            # Handlers of clients that left mid-upload may still be waiting: cancel them so
            # their files are closed and removed, rather than destroyed with the loop.
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            self._loop = None

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.sandbox.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.sandbox.stop()

    def seed_jobs(self, count: int, active: int = 0, api_key: str | None = None) -> Seeded:
        """``Sandbox.seed_jobs`` on the server's loop; blocks until the rows are stored.

        Raises:
            RuntimeError: the thread is not started.
            ValueError: as ``Sandbox.seed_jobs``.
        """
        loop = self._loop
        if self._thread is None or loop is None:
            raise RuntimeError("the sandbox thread is not started")
        future = asyncio.run_coroutine_threadsafe(
            self.sandbox.seed_jobs(count, active, api_key), loop
        )
        return future.result(START_TIMEOUT)

    def stop(self) -> None:
        """Stop the server and join the thread; idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stop.set)
        thread.join()

    def __enter__(self) -> SandboxThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

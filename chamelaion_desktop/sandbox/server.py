"""The sandbox server's lifecycle on the caller's event loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from . import seed
from .auth import account_id
from .config import Faults, SandboxConfig
from .routes import ApiError, Routes, error_response
from .signing import Signer, load_secret
from .store import Store
from .worker import Worker

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Seconds aiohttp waits for open connections on shutdown.
SHUTDOWN_TIMEOUT = 1.0


def _http_error(exc: web.HTTPException) -> web.Response:
    if exc.status == 404:
        return error_response(404, "not found")
    if exc.status == 405:
        allow = exc.headers.get("Allow")
        return error_response(405, "method not allowed", {"Allow": allow} if allow else None)
    if exc.status == 413:
        return error_response(413, "request body too large")
    return error_response(exc.status, exc.reason.lower())


def _middleware(faults: Faults) -> Middleware:
    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Logs method, path (never the query: it carries signatures), status and duration;
        # never headers, so no token reaches a log.
        started = time.perf_counter()
        response: web.StreamResponse
        try:
            if faults.latency > 0:
                await asyncio.sleep(faults.latency)
            response = await handler(request)
        except ApiError as exc:
            response = error_response(exc.status, exc.message, exc.headers)
        except web.HTTPException as exc:
            response = _http_error(exc)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = error_response(500, "internal error")
        log.debug(
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        return response

    return observe


class Sandbox:
    """A local server that speaks the Chamelaion lip-sync API (API.md), on the running loop.

    Args:
        config: settings and faults; ``config.data_dir`` is created.
        host: interface to bind (loopback by default).
        port: TCP port; 0 picks a free one (see ``base_url`` after ``start``).

    Use ``async with Sandbox(config) as sandbox:`` or ``await start()`` / ``await stop()``.
    """

    def __init__(self, config: SandboxConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._store: Store | None = None
        self._worker: Worker | None = None
        self._session: aiohttp.ClientSession | None = None
        self._bound = False

    @property
    def faults(self) -> Faults:
        """The live fault switches (the same object as ``config.faults``)."""
        return self.config.faults

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/api``, the SDK's ``base_url``; valid once started (and after
        ``stop``, naming where it was).

        Raises:
            RuntimeError: the sandbox was never started.
        """
        if not self._bound:
            raise RuntimeError("the sandbox is not started")
        host = self.host
        if host in ("", "0.0.0.0"):  # noqa: S104 - wildcard binds are reachable on loopback
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/api"

    def __repr__(self) -> str:
        state = "running" if self._runner is not None else "stopped"
        return f"Sandbox({self.host}:{self.port}, {state})"

    async def start(self) -> None:
        """Open the store, resume unfinished jobs and listen.

        Raises:
            OSError: the port cannot be bound (everything opened so far is closed again).
        """
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        data_dir = self.config.data_dir
        try:
            secret = await asyncio.to_thread(self._prepare_dir)
            self._store = Store(data_dir / "sandbox.sqlite3")
            await self._store.open()
            self._session = aiohttp.ClientSession()
            self._worker = Worker(self.config, self._store, self._session)
            routes = Routes(self.config, self._store, Signer(secret), self._worker)
            app = web.Application(middlewares=[_middleware(self.config.faults)])
            routes.install(app)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
            await runner.setup()
            self._runner = runner
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            for address in runner.addresses:
                if isinstance(address, tuple):
                    self.port = int(address[1])
                    break
            self._bound = True
            resumed = await self._worker.resume()
        except BaseException:
            await self.stop()
            raise
        log.info("sandbox listening on %s (%d jobs resumed)", self.base_url, resumed)

    async def seed_jobs(
        self, count: int, active: int = 0, api_key: str | None = None
    ) -> seed.Seeded:
        """Add ``count`` finished jobs and ``active`` running ones to a key's history, fast
        (one transaction; 10,000 rows take well under a second). See ``seed.py``.

        Args:
            count: completed (~90 %) and failed jobs, created in the past.
            active: jobs the worker moves through queued, processing and completed (or
                failed) over the next ``queue_delay + processing_time`` seconds.
            api_key: the token that owns them; None: the first of ``config.api_keys``.

        Raises:
            RuntimeError: the sandbox is not started.
            ValueError: a negative count, or ``api_key`` is not one of ``config.api_keys``.
        """
        store, worker = self._store, self._worker
        if store is None or worker is None:
            raise RuntimeError("the sandbox is not started")
        keys = self.config.api_keys
        token = api_key if api_key is not None else next(iter(keys), None)
        if token is None or token not in keys:
            raise ValueError("seed_jobs: the API key is not one of the sandbox's keys")
        started = time.perf_counter()
        output = self.config.data_dir / seed.SEED_OUTPUT
        if not await asyncio.to_thread(output.is_file):
            await asyncio.to_thread(seed.write_seed_output, output)
        config = self.config
        history, running = await asyncio.to_thread(
            seed.seed_rows,
            account_id(token),
            count,
            active=active,
            now=time.time(),
            active_span=config.queue_delay + config.processing_time,
            queue_delay=config.queue_delay,
        )
        await store.insert_many([*history, *running])
        for job in running:
            worker.submit(job)
        elapsed = time.perf_counter() - started
        log.info("seeded %d finished and %d active jobs in %.2f s", count, active, elapsed)
        return seed.Seeded(len(history), tuple(job.id for job in running), elapsed)

    def _prepare_dir(self) -> bytes:
        data_dir = self.config.data_dir
        for sub in ("uploads", "outputs"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True)
        return load_secret(data_dir / "signing.key")

    async def stop(self) -> None:
        """Stop listening, cancel job tasks (they resume on the next start), close the store.

        Idempotent; safe after a failed ``start``.
        """
        runner, self._runner = self._runner, None
        worker, self._worker = self._worker, None
        session, self._session = self._session, None
        store, self._store = self._store, None
        if runner is not None:
            await runner.cleanup()
        if worker is not None:
            await worker.stop()
        if session is not None:
            await session.close()
        if store is not None:
            await store.close()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

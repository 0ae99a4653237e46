"""Shared fixtures: the real sample media and a real sandbox over loopback.

Qt must see ``QT_QPA_PLATFORM`` before anything imports it, or a headless run aborts.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
# QtMultimedia's FFmpeg backend reports its probing (no VA-API, no audio device).
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread

#: The token every test sandbox accepts, and its display name (``GET /v1/users/me``).
API_KEY = "test-key-7f3a9c"
API_KEY_NAME = "Test token"

MEDIA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "media"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """``../shared/media`` beside the repository: real speech video and audio, never copied."""
    if not (MEDIA_DIR / "grid_s2_male_2sentences_6s.mp4").is_file():
        pytest.fail(f"sample media missing: expected {MEDIA_DIR} (../shared/media)")
    return MEDIA_DIR


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def sandbox_config(tmp_path: Path) -> SandboxConfig:
    """Fast timings so jobs finish within a test; everything else as the real service."""
    return SandboxConfig(
        data_dir=tmp_path / "sandbox",
        api_keys={API_KEY: API_KEY_NAME},
        queue_delay=0.05,
        processing_time=0.1,
    )


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig) -> Iterator[SandboxThread]:
    """A real sandbox on a free loopback port, in its own thread and event loop."""
    with SandboxThread(sandbox_config) as server:
        yield server


T = TypeVar("T")
#: ``arun(coro, timeout=30.0)``: run a coroutine on the qasync loop, Qt events and all.
AsyncRunner = Callable[..., Any]


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync event loop over the test's QApplication: asyncio and Qt on one thread,
    as in the app. Tests drive it with ``arun``; widgets repaint while it runs."""
    import qasync  # only GUI and service tests pay for it

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    asyncio.set_event_loop(None)
    # A closed qasync loop leaves Qt timers in reference cycles; collected later on a worker
    # thread they make Qt warn ("Timers cannot be stopped from another thread") in another
    # test. Collect them here, on the GUI thread.
    gc.collect()


@pytest.fixture
def arun(qloop: asyncio.AbstractEventLoop) -> AsyncRunner:
    def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    return run

"""The whole app, as ``chamelaion-desktop`` builds it, against a real sandbox over loopback."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from chamelaion_desktop.app import run_app
from chamelaion_desktop.core.logs import RedactingFilter
from chamelaion_desktop.core.paths import AppPaths
from chamelaion_desktop.core.polling import PollPolicy
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.ui.main_window import MainWindow
from tests.helpers import wait_until

AppStarter = Callable[..., Any]
#: Quick refreshes, so every status of a job a test watches is seen.
FAST_POLL = PollPolicy(active_interval=0.2, idle_interval=0.5)


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    return AppPaths.under(tmp_path / "app")


@pytest.fixture
def start_app(sandbox: SandboxThread, api_key: str, app_paths: AppPaths, qapp: Any) -> AppStarter:
    """``async with start_app(files=[...]) as window``: the app's real composition root
    (``app.run_app``) against the test sandbox; the window closes on exit, and the app's
    shutdown (tasks cancelled, sessions closed) must then finish."""
    qapp.setQuitOnLastWindowClosed(False)

    @asynccontextmanager
    async def start(
        files: list[Path] | None = None, environ: dict[str, str] | None = None
    ) -> AsyncIterator[MainWindow]:
        args = argparse.Namespace(sandbox=False, base_url=sandbox.base_url, files=files or [])
        shown: list[MainWindow] = []
        task = asyncio.ensure_future(
            run_app(
                args,
                app_paths,
                RedactingFilter(),
                {"CHAMELAION_API_KEY": api_key} if environ is None else environ,
                shown=shown.append,
                poll_policy=FAST_POLL,
            )
        )
        await wait_until(lambda: shown or task.done(), timeout=15)
        if task.done():
            task.result()  # raises what went wrong
        window = shown[0]
        try:
            yield window
        finally:
            window.close()
            assert await asyncio.wait_for(task, 15) == 0

    return start

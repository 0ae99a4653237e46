"""The composition root: arguments, QApplication, the qasync loop, services, the window.

Only this module knows every layer (STYLE.md). ``chamelaion-desktop [--sandbox]
[--base-url URL] [VIDEO] [AUDIO]`` and ``python -m chamelaion_desktop``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .api.urls import ENV_API_KEY, ENV_BASE_URL, PRODUCTION_URL
from .core.logs import RedactingFilter
from .core.paths import AppPaths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from .core.credentials import CredentialStore
    from .core.polling import PollPolicy
    from .sandbox import SandboxThread
    from .services.session import ApiSession
    from .ui.main_window import MainWindow

log = logging.getLogger(__name__)

#: The key the built-in sandbox accepts; it only ever guards a server on 127.0.0.1.
SANDBOX_KEY = "sandbox-key"
#: Longest wait for the window's first paint before the deferred start-up work goes ahead
#: anyway (a window that is never exposed, e.g. started minimized, never paints).
FIRST_FRAME_TIMEOUT_S = 1.0


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``chamelaion-desktop``."""
    parser = argparse.ArgumentParser(
        prog="chamelaion-desktop",
        description="Lip-sync a video to a new audio track with the Chamelaion API.",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="start the built-in offline sandbox of the API and connect to it",
    )
    parser.add_argument("--base-url", help=f"API base URL (default: {PRODUCTION_URL})")
    parser.add_argument("--debug", action="store_true", help="log debug details to stderr")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("files", nargs="*", type=Path, help="a video and an audio file to open")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the app until its window closes; return the exit status."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("QT_API", "pyside6")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from .core.logs import configure_logging

    redactor = configure_logging(logging.DEBUG if args.debug else logging.WARNING)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Chamelaion Desktop")
    app.setOrganizationName("Chamelaion")
    app.setDesktopFileName("chamelaion-desktop")
    app.setWindowIcon(QIcon(str(resource_path("icons/chamelaion-desktop.svg"))))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    paths = AppPaths.default()
    try:
        with loop:
            return loop.run_until_complete(run_app(args, paths, redactor, os.environ))
    except KeyboardInterrupt:
        return 130


async def run_app(
    args: argparse.Namespace,
    paths: AppPaths,
    redactor: RedactingFilter,
    environ: Mapping[str, str],
    *,
    shown: Callable[[MainWindow], None] | None = None,
    poll_policy: PollPolicy | None = None,
) -> int:
    """Build the services and the window, run until the window closes, then shut down.

    The window is shown first; what its first frame does not need waits until that frame
    is painted (``show_first_frame``): the keychain lookup, the connection check, reading the
    journal's interrupted uploads and the first poll of the job list. The HTTP client, PyAV
    and QtMultimedia load on first use.

    Args:
        args: the parsed command line (``build_parser``).
        paths: where settings, the journal, the output cache and the sandbox's data live.
        redactor: the log filter; it learns the key in use so no log line shows it.
        environ: the environment (``CHAMELAION_API_KEY``, ``CHAMELAION_BASE_URL``).
        shown: called with the window once it is shown (tests and screenshots drive it).
        poll_policy: how often the job list refreshes (default: ``PollPolicy()``).

    Returns:
        The exit status (0).
    """
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from .core.credentials import CredentialStore
    from .core.journal import Journal
    from .services.connection import ConnectionService
    from .services.keys import KeyService
    from .services.outputs import OutputCache
    from .services.probe import ProbeService
    from .services.queue import QueueService
    from .services.session import ApiSession
    from .services.submissions import SubmissionService
    from .services.tasks import TaskRegistry
    from .ui.coordinator import Coordinator
    from .ui.input_panel import InputPanel
    from .ui.jobs_model import JobsTableModel
    from .ui.jobs_view import JobsPanel
    from .ui.main_window import MainWindow
    from .ui.preview import PreviewPanel
    from .ui.welcome_dialog import WelcomeDialog

    # The app ends when run_app returns, after its shutdown; Qt quitting the loop on the
    # last window's close would cut that shutdown short.
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.setQuitOnLastWindowClosed(False)
    await asyncio.to_thread(paths.ensure)
    tasks = TaskRegistry()
    store = CredentialStore()
    sandboxes: list[SandboxThread] = []
    base_url = initial_base_url(args.base_url, environ)
    key = environment_key(environ)
    if args.sandbox:
        sandbox = await asyncio.to_thread(start_sandbox, paths)
        sandboxes.append(sandbox)
        base_url, key = sandbox.base_url, SANDBOX_KEY
    if key:
        redactor.add_secret(key)
    session = ApiSession(
        base_url, key, tasks, sandbox_url=sandboxes[0].base_url if sandboxes else None
    )
    journal = await asyncio.to_thread(Journal, paths.data_dir / "journal.sqlite3")
    settings = QSettings(str(paths.config_dir / "settings.ini"), QSettings.Format.IniFormat)
    connection = ConnectionService(session, tasks)
    keys = KeyService(store, tasks)
    keys.saved.connect(lambda saved_key, *_: redactor.add_secret(saved_key))
    submissions = SubmissionService(session, tasks, journal)
    queue = QueueService(session, tasks, policy=poll_policy)
    outputs = OutputCache(session, tasks, paths.cache_dir)
    model = JobsTableModel()
    inputs = InputPanel(ProbeService(tasks))
    jobs = JobsPanel(model)
    preview = PreviewPanel(outputs)

    def use_sandbox() -> None:
        tasks.spawn("sandbox.start", _switch_to_sandbox(session, paths, sandboxes))

    window = MainWindow(
        session=session,
        connection=connection,
        keys=keys,
        inputs=inputs,
        jobs=jobs,
        preview=preview,
        model=model,
        settings=settings,
        use_sandbox=None if args.sandbox else use_sandbox,
        coordinator_factory=lambda w: Coordinator(
            session=session,
            tasks=tasks,
            submissions=submissions,
            queue=queue,
            outputs=outputs,
            model=model,
            inputs=inputs,
            jobs=jobs,
            preview=preview,
            parent=w,
        ),
    )
    closed = asyncio.get_running_loop().create_future()
    window.closed.connect(lambda: closed.done() or closed.set_result(None))
    # The rest waits for the first frame: on a busy machine a task that ran before the
    # paint (the first connection check builds the HTTP client) would delay it.
    await show_first_frame(window)
    stored_key = await keychain_key(store, base_url) if key is None and not args.sandbox else None
    if stored_key:
        redactor.add_secret(stored_key)
        session.set_api_key(stored_key)
    # The HTTP client (httpx's imports and TLS set-up, ~0.15 s) is made in a worker thread,
    # so the window just shown does not freeze when the first connection check needs it.
    await asyncio.to_thread(session.warm_up)
    connection.start()
    await window.coordinator.restore()
    if args.files:
        inputs.add_paths(list(args.files))
    if not session.has_api_key:
        welcome = WelcomeDialog(window)

        def welcome_done(_code: int) -> None:
            if welcome.choice() == "key":
                window.show_api_key_dialog()
            elif welcome.choice() == "sandbox":
                use_sandbox()

        welcome.finished.connect(welcome_done)
        welcome.open()
    # Everything built so far lives as long as the app: out of the garbage collector's
    # sight, a full collection scans only what came later (a 35 ms pause on the GUI thread
    # every few seconds with 10,000 jobs loaded, about a third of that after; bench_ui.py).
    gc.freeze()
    if shown is not None:
        shown(window)
    await closed
    await tasks.shutdown()
    await session.aclose()
    submissions.close()
    for sandbox in sandboxes:
        await asyncio.to_thread(sandbox.stop)
    return 0


async def show_first_frame(window: QWidget, timeout: float = FIRST_FRAME_TIMEOUT_S) -> None:
    """Show ``window``; return once its first paint pass is over, or after ``timeout``
    seconds, whichever comes first."""
    from PySide6.QtCore import QEvent, QObject

    loop = asyncio.get_running_loop()
    painted: asyncio.Future[None] = loop.create_future()

    def done() -> None:
        if not painted.done():
            painted.set_result(None)

    class PaintWatcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                # Resolved from the loop, so the children's paint events of the same pass
                # are over by then.
                loop.call_soon(done)
            return False

    watcher = PaintWatcher()
    window.installEventFilter(watcher)  # before show(): no platform can paint unseen
    window.show()
    try:
        await asyncio.wait_for(painted, timeout)
    except TimeoutError:
        log.debug("no first paint within %.1f s; going on", timeout)
    finally:
        window.removeEventFilter(watcher)


async def keychain_key(store: CredentialStore, base_url: str) -> str | None:
    """The key stored in the keychain for ``base_url`` (read in a worker thread: a keychain
    may talk to D-Bus or prompt), or None when there is none or no keychain works."""
    from .core.credentials import CredentialStoreError

    try:
        return await asyncio.to_thread(store.get, base_url)
    except CredentialStoreError as exc:
        log.warning("keychain unavailable: %s", exc.message)
        return None


def start_sandbox(paths: AppPaths) -> SandboxThread:
    """Start the built-in sandbox on a free loopback port; blocking (run in an executor).

    Its jobs persist under ``<data dir>/sandbox``, so the offline history survives restarts.
    """
    from .sandbox import SandboxConfig, SandboxThread

    config = SandboxConfig(
        data_dir=paths.data_dir / "sandbox",
        api_keys={SANDBOX_KEY: "Sandbox"},
        queue_delay=1.0,
        processing_time=3.0,
    )
    return SandboxThread(config).start()


async def _switch_to_sandbox(
    session: ApiSession, paths: AppPaths, sandboxes: list[SandboxThread]
) -> None:
    if not sandboxes:
        sandboxes.append(await asyncio.to_thread(start_sandbox, paths))
    session.set_sandbox_url(sandboxes[0].base_url)
    session.set_base_url(sandboxes[0].base_url)
    session.set_api_key(SANDBOX_KEY)


def resource_path(relative: str) -> Path:
    """A file under ``resources/`` (beside the package, or inside a frozen bundle)."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base / "resources" / relative


def initial_base_url(explicit: str | None, environ: Mapping[str, str]) -> str:
    """``--base-url``, else ``CHAMELAION_BASE_URL``, else production."""
    return (explicit or environ.get(ENV_BASE_URL) or PRODUCTION_URL).rstrip("/")


def environment_key(environ: Mapping[str, str]) -> str | None:
    """The key from ``CHAMELAION_API_KEY``, if set and not empty."""
    return environ.get(ENV_API_KEY) or None


if __name__ == "__main__":
    sys.exit(main())

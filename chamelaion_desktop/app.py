"""The composition root: arguments, QApplication, the qasync loop, services, the window.

Only this module knows every layer (STYLE.md). ``chamelaion-desktop [--sandbox]
[--base-url URL] [VIDEO] [AUDIO]`` and ``python -m chamelaion_desktop``.

Start-up order (``benchmarks/bench_startup.py`` measures it): the window is built from
widgets alone and painted first (``build_window``, ``paint_first_frame``); asyncio, qasync,
the services, the journal, the keychain and the HTTP client come after that first frame.
So ``asyncio`` is imported inside the functions that need it, not at the top.
"""

from __future__ import annotations

import argparse
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
    from PySide6.QtWidgets import QApplication, QWidget

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

    from PySide6.QtWidgets import QApplication

    from .core.logs import configure_logging

    quicker_pyside_import_hook()
    redactor = configure_logging(logging.DEBUG if args.debug else logging.WARNING)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Chamelaion Desktop")
    app.setOrganizationName("Chamelaion")
    app.setDesktopFileName("chamelaion-desktop")
    paths = AppPaths.default()
    # No cyclic garbage collection until the first frame: the start allocates a great deal
    # (PySide's enum types) and frees little; the collector's passes cost ~5 ms of it.
    gc.disable()
    try:
        window = build_window(args, paths, os.environ)
        paint_first_frame(window)
    finally:
        gc.enable()
    set_window_icon(app)

    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(
                run_app(args, paths, redactor, os.environ, window=window)
            )
    except KeyboardInterrupt:
        return 130


def quicker_pyside_import_hook() -> bool:
    """Make PySide6's import hook cheaper; return whether it could (False leaves it as is).

    Once PySide6 is loaded, every module imported after it is asked whether it mentions
    "PySide6" (for ``from __feature__ import ...``, which this app does not use):
    ``shibokensupport.feature._mod_uses_pyside`` reads each module's source through
    ``inspect.getsource`` (linecache, tokenize), 0.2-0.4 ms a module, 10-18 ms for the ~45
    modules the window imports. The same question is answered here by searching the
    module's file as bytes; modules without a ``.py`` file go to PySide's own check. An
    internal of PySide6 6.x: if it is gone or renamed, nothing is changed.
    """
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original) or getattr(original, "quicker", False):
        return False

    def mod_uses_pyside(module: object) -> bool:
        filename = getattr(module, "__file__", None)
        if not isinstance(filename, str) or not filename.endswith(".py"):
            return bool(original(module))
        try:
            with open(filename, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    mod_uses_pyside.quicker = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = mod_uses_pyside  # type: ignore[union-attr]
    return True


def build_window(
    args: argparse.Namespace, paths: AppPaths, environ: Mapping[str, str]
) -> MainWindow:
    """The main window with its panels, before any service exists: what the first frame
    shows, built without asyncio, the services, the journal or the HTTP stack
    (``MainWindow.attach`` joins them later). Reads the settings file (window geometry).
    """
    from PySide6.QtCore import QSettings

    from .api.urls import SANDBOX, environment_of
    from .services.connection_state import ConnectionState
    from .ui.input_panel import InputPanel
    from .ui.jobs_model import JobsTableModel
    from .ui.jobs_view import JobsPanel
    from .ui.main_window import MainWindow
    from .ui.preview import PreviewPanel

    if args.sandbox:  # its address is known once it runs, after the first frame
        state = ConnectionState(SANDBOX, "the built-in sandbox")
    else:
        base_url = initial_base_url(args.base_url, environ)
        state = ConnectionState(environment_of(base_url), base_url)
    settings = QSettings(str(paths.config_dir / "settings.ini"), QSettings.Format.IniFormat)
    model = JobsTableModel()
    return MainWindow(
        inputs=InputPanel(),
        jobs=JobsPanel(model),
        preview=PreviewPanel(),
        model=model,
        settings=settings,
        connection=state,
        offer_sandbox=not args.sandbox,
    )


def paint_first_frame(window: QWidget, timeout_ms: int = int(FIRST_FRAME_TIMEOUT_S * 1000)) -> None:
    """Show ``window`` and run Qt's own event loop until its first paint pass is over (or
    ``timeout_ms`` passed: a window never exposed never paints).

    Only before the qasync loop exists (``main``): under qasync this would nest an event
    loop. User input waits in the queue meanwhile, for the panels are not joined to their
    services yet.
    """
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

    local = QEventLoop()

    class PaintWatcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                # Quit from a zero timer: the children's paint events of the same pass
                # come first.
                QTimer.singleShot(0, local.quit)
            return False

    watcher = PaintWatcher()
    window.installEventFilter(watcher)  # before show(): no platform can paint unseen
    QTimer.singleShot(timeout_ms, local.quit)
    window.show()
    local.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    window.removeEventFilter(watcher)


def set_window_icon(app: QApplication) -> None:
    """The app's icon (an SVG: loads Qt's SVG icon engine, so it waits for the first frame)."""
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(resource_path("icons/chamelaion-desktop.svg"))))


async def run_app(
    args: argparse.Namespace,
    paths: AppPaths,
    redactor: RedactingFilter,
    environ: Mapping[str, str],
    *,
    shown: Callable[[MainWindow], None] | None = None,
    poll_policy: PollPolicy | None = None,
    window: MainWindow | None = None,
) -> int:
    """Build the services (and the window, unless given), run until the window closes, then
    shut down.

    The window is shown first; what its first frame does not need waits until that frame
    is painted: the services, the keychain lookup, the connection check, reading the
    journal's interrupted uploads and the first poll of the job list. The HTTP client, PyAV
    and QtMultimedia load on first use.

    Args:
        args: the parsed command line (``build_parser``).
        paths: where settings, the journal, the output cache and the sandbox's data live.
        redactor: the log filter; it learns the key in use so no log line shows it.
        environ: the environment (``CHAMELAION_API_KEY``, ``CHAMELAION_BASE_URL``).
        shown: called with the window once it is shown (tests and screenshots drive it).
        poll_policy: how often the job list refreshes (default: ``PollPolicy()``).
        window: the window ``build_window`` made and ``paint_first_frame`` showed (``main``
            does so before the loop starts); None builds and shows it here.

    Returns:
        The exit status (0).
    """
    import asyncio

    from PySide6.QtWidgets import QApplication

    # The app ends when run_app returns, after its shutdown; Qt quitting the loop on the
    # last window's close would cut that shutdown short.
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.setQuitOnLastWindowClosed(False)
    if window is None:
        window = build_window(args, paths, environ)
        # The services wait for the first frame: on a busy machine their imports and a
        # task that ran before the paint (the first connection check) would delay it.
        await show_first_frame(window)

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
    from .ui.welcome_dialog import WelcomeDialog

    closed = asyncio.get_running_loop().create_future()
    window.closed.connect(lambda: closed.done() or closed.set_result(None))
    if window.was_closed:  # closed while the services were coming
        closed.set_result(None)
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
    connection = ConnectionService(session, tasks)
    keys = KeyService(store, tasks)
    keys.saved.connect(lambda saved_key, *_: redactor.add_secret(saved_key))
    submissions = SubmissionService(session, tasks, journal)
    queue = QueueService(session, tasks, policy=poll_policy)
    outputs = OutputCache(session, tasks, paths.cache_dir)
    inputs, preview = window.inputs, window.preview
    inputs.attach_probe(ProbeService(tasks))
    preview.attach_outputs(outputs)

    def use_sandbox() -> None:
        tasks.spawn("sandbox.start", _switch_to_sandbox(session, paths, sandboxes))

    coordinator = Coordinator(
        session=session,
        tasks=tasks,
        submissions=submissions,
        queue=queue,
        outputs=outputs,
        model=window.model,
        inputs=inputs,
        jobs=window.jobs,
        preview=preview,
        parent=window,
    )
    window.attach(
        session=session,
        connection=connection,
        keys=keys,
        coordinator=coordinator,
        use_sandbox=None if args.sandbox else use_sandbox,
    )
    stored_key = await keychain_key(store, base_url) if key is None and not args.sandbox else None
    if stored_key:
        redactor.add_secret(stored_key)
        session.set_api_key(stored_key)
    # The HTTP client (httpx's imports and TLS set-up, ~0.15 s) is made in a worker thread,
    # so the window just shown does not freeze when the first connection check needs it.
    await asyncio.to_thread(session.warm_up)
    connection.start()
    await coordinator.restore()
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
    import asyncio

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
    import asyncio

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
    import asyncio

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

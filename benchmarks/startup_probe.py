"""Start-up probe: report when the first window's first frame is painted, then quit.

Run by ``bench_startup.py`` as ``python -c`` processes, one per measurement::

    python -c "import sys; sys.path.insert(0, BENCH_DIR); import startup_probe; \\
               startup_probe.main()" {bare|bare-qasync|app} [app arguments...]

- ``bare``: a plain PySide6 ``QMainWindow`` with a label, shown at once (the reference).
- ``bare-qasync``: the same window run by a ``qasync`` event loop, as the app is.
- ``app``: the real entry point, ``chamelaion_desktop.app.main`` (what ``python -m
  chamelaion_desktop`` runs), with its command-line arguments.

Both arm the same hook before anything is shown: ``QWidget.show`` is wrapped so that the
first ``QMainWindow`` shown gets an event filter (on that window only: an application-wide
filter would call into Python for every event of every widget and tax the bigger window
more). On that window's first ``Paint`` event a zero-timer is posted; it fires once the
paint pass (the window and all its children) is over, and then the probe prints::

    FRAME <seconds>

where ``<seconds>`` is ``CLOCK_MONOTONIC``, the clock ``time.perf_counter`` reads in the
parent, so the parent subtracts its own reading taken just before it started the process.
``MARK <name> <seconds>`` lines (interpreter up, probe armed, window shown) help find where
the time goes. The window is then closed the way a user closes it, so the app shuts down
normally; ``EXIT <seconds>`` is printed last. With ``STARTUP_PROBE_HARD_EXIT=1`` in the
environment the process ends at once after ``FRAME`` instead (for profilers). With
``STARTUP_PROBE_APP_ROOT=DIR`` the ``app`` mode runs the copy of ``chamelaion_desktop``
under ``DIR`` (e.g. ``git archive`` of an older commit) instead of the installed one.

This module imports only the standard library at the top: its own cost must be nil.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def now() -> float:
    """``CLOCK_MONOTONIC`` in seconds (the clock ``time.perf_counter`` uses on Linux)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _emit(label: str, value: float) -> None:
    sys.stdout.write(f"{label} {value:.6f}\n")
    sys.stdout.flush()


def arm() -> None:
    """Wrap ``QWidget.show`` so the first ``QMainWindow`` shown reports its first frame."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QMainWindow, QWidget

    original_show = QWidget.show
    state: dict[str, Any] = {"window": None, "painted": False}

    def frame_done() -> None:
        _emit("FRAME", now())
        if os.environ.get("STARTUP_PROBE_HARD_EXIT"):  # profiling: only the start matters
            os._exit(0)
        window = state["window"]
        window.removeEventFilter(watcher)
        window.close()  # as the user would: the app runs its own shutdown

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not state["painted"]:
                state["painted"] = True
                _emit("MARK paint", now())
                QTimer.singleShot(0, frame_done)
            return False

    watcher = Watcher()

    def show(self: QWidget) -> None:
        if state["window"] is None and isinstance(self, QMainWindow):
            state["window"] = self
            self.installEventFilter(watcher)
            _emit("MARK show", now())
        original_show(self)

    QWidget.show = show  # type: ignore[method-assign]
    state["watcher"] = watcher  # keep it alive


def run_bare() -> int:
    """Show a bare ``QMainWindow`` and run until the probe closes it."""
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    arm()
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.setCentralWidget(QLabel("bare window"))
    window.resize(1100, 700)
    window.show()
    return app.exec()


def run_bare_qasync() -> int:
    """The bare window again, but run by a qasync loop like the app: ``asyncio`` (with
    ``ssl``, ``socket``, ``subprocess``) and ``qasync`` are imported first, as the app's
    modules do. The floor for any window built on this stack."""
    import asyncio

    os.environ.setdefault("QT_API", "pyside6")
    import qasync

    arm()
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = QMainWindow()
    window.setWindowTitle("bare-qasync")
    window.setCentralWidget(QLabel("bare window on a qasync loop"))
    window.resize(1100, 700)
    app.lastWindowClosed.connect(loop.stop)
    window.show()
    with loop:
        loop.run_forever()
    return 0


def run_app(argv: list[str]) -> int:
    """Run ``chamelaion_desktop.app.main(argv)`` with the probe armed.

    The app's module is imported before the probe imports PySide6, as ``python -m
    chamelaion_desktop`` does: what a module costs depends on whether PySide6 is already
    loaded (its import hook then reads the source of every module that imports anything).
    """
    root = os.environ.get("STARTUP_PROBE_APP_ROOT")
    if root:  # another copy of the package (a baseline): bypass the editable install
        sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
        sys.path.insert(0, root)
    from chamelaion_desktop import app

    arm()
    return app.main(argv)


def main() -> None:
    """Entry point: ``sys.argv[1]`` is ``bare``, ``bare-qasync`` or ``app`` (then the app's
    arguments)."""
    _emit("MARK python", now())
    mode = sys.argv[1] if len(sys.argv) > 1 else "bare"
    if mode == "bare":
        status = run_bare()
    elif mode == "bare-qasync":
        status = run_bare_qasync()
    else:
        status = run_app(sys.argv[2:])
    _emit("EXIT", now())
    sys.exit(status)

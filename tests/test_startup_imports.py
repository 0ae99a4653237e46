"""The window's start stays light: what builds and paints the window, then its services,
does not load what it does not need (``benchmarks/bench_startup.py`` measures the time).

Each of these, imported at start-up, once cost the first frame 0.02-0.1 s: the HTTP stack
(the client is made on first use), PyAV (probing runs in a worker thread), keyring (read
after the first frame), QtMultimedia (made with the first preview), the sandbox.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import run_python_json

DEFERRED = (
    "httpx",
    "tenacity",
    "av",
    "keyring",
    "PySide6.QtMultimedia",
    "chamelaion_desktop.api.client",
    "chamelaion_desktop.sandbox",
)

#: Not before the first frame either (``app.main`` paints it before the event loop and the
#: services exist): together about 0.1 s of a 0.45 s start on the 2-core CI machine.
AFTER_FIRST_FRAME = (
    "asyncio",
    "qasync",
    "sqlite3",
    "chamelaion_desktop.core.journal",
    "chamelaion_desktop.core.credentials",
    "chamelaion_desktop.services.tasks",
    "chamelaion_desktop.services.connection",
    "chamelaion_desktop.services.submissions",
    "chamelaion_desktop.services.queue",
    "chamelaion_desktop.services.outputs",
    "chamelaion_desktop.ui.coordinator",
    # Dataclasses cost ~1 ms each to build: the typed API results and the media facts wait
    # for the first page of jobs and the first probed file.
    "chamelaion_desktop.api.models",
    "chamelaion_desktop.core.media",
    # Only for playing a preview: the player itself (made with the first completed job
    # shown), mapping libraries, the frame converter's thread pool.
    "chamelaion_desktop.ui.video_player",
    "chamelaion_desktop.ui.video_surface",
    "ctypes",
    "concurrent.futures",
)

# What ``app.main`` does before its first frame, then what ``app.run_app`` builds after it.
_SCRIPT = f"""
import json, sys
from pathlib import Path
from chamelaion_desktop import app
from chamelaion_desktop.core.paths import AppPaths
from PySide6.QtWidgets import QApplication

qt = QApplication([])
paths = AppPaths.under(Path(sys.argv[1]))
window = app.build_window(app.build_parser().parse_args([]), paths, {{}})
app.paint_first_frame(window, timeout_ms=300)
before_frame = sorted(n for n in {DEFERRED + AFTER_FIRST_FRAME!r} if n in sys.modules)

from chamelaion_desktop.core import credentials, journal
from chamelaion_desktop.services import (
    connection, keys, outputs, probe, queue, session, submissions, tasks,
)
from chamelaion_desktop.ui import coordinator, welcome_dialog

registry = tasks.TaskRegistry()
api = session.ApiSession("http://127.0.0.1:9/api", "key", registry)
store = credentials.CredentialStore()
window.inputs.attach_probe(probe.ProbeService(registry))
window.preview.attach_outputs(outputs.OutputCache(api, registry, Path(sys.argv[1])))
after = sorted(n for n in {DEFERRED!r} if n in sys.modules)
print(json.dumps([before_frame, after, window.isVisible()]))
"""


def test_the_first_frame_and_the_services_do_not_load_what_they_do_not_need(
    tmp_path: Path,
) -> None:
    before_frame, after, visible = run_python_json(_SCRIPT, str(tmp_path))
    assert before_frame == []
    assert after == []
    assert visible


def test_the_session_makes_its_client_on_first_use_or_in_warm_up() -> None:
    script = (
        "import sys, threading\n"
        "from chamelaion_desktop.services.session import ApiSession\n"
        "from chamelaion_desktop.services.tasks import TaskRegistry\n"
        "s = ApiSession('http://127.0.0.1:9/api', 'key', TaskRegistry())\n"
        "before = 'httpx' in sys.modules\n"
        "worker = threading.Thread(target=s.warm_up)\n"
        "worker.start(); worker.join()\n"
        "made = s._client\n"
        "print(before, 'httpx' in sys.modules, made is not None and made is s.client,\n"
        "      s.client.base_url)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", "True", "http://127.0.0.1:9/api"]

"""The window's start stays light: what builds the window and its services does not load
what the first frame does not need (``benchmarks/bench_startup.py`` measures the time).

Each of these, imported at start-up, once cost the first frame 0.02-0.1 s: the HTTP stack
(the client is made on first use), PyAV (probing runs in a worker thread), keyring (read
after the first frame), QtMultimedia (made with the first preview), the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DEFERRED = (
    "httpx",
    "tenacity",
    "av",
    "keyring",
    "PySide6.QtMultimedia",
    "chamelaion_desktop.api.client",
    "chamelaion_desktop.sandbox",
)

# What ``app.run_app`` imports and builds before it shows the window.
_SCRIPT = f"""
import json, sys
from pathlib import Path
import chamelaion_desktop.app
from chamelaion_desktop.core import credentials, journal
from chamelaion_desktop.services import (
    connection, keys, outputs, probe, queue, session, submissions, tasks,
)
from chamelaion_desktop.ui import (
    coordinator, input_panel, jobs_model, jobs_view, main_window, preview, welcome_dialog,
)
from PySide6.QtWidgets import QApplication

app = QApplication([])
registry = tasks.TaskRegistry()
api = session.ApiSession("http://127.0.0.1:9/api", "key", registry)
store = credentials.CredentialStore()
panels = [
    input_panel.InputPanel(probe.ProbeService(registry)),
    jobs_view.JobsPanel(jobs_model.JobsTableModel()),
    preview.PreviewPanel(outputs.OutputCache(api, registry, Path(sys.argv[1]))),
]
print(json.dumps(sorted(name for name in {DEFERRED!r} if name in sys.modules)))
"""


def test_building_the_window_does_not_load_what_the_first_frame_does_not_need(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


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

"""``app.quicker_pyside_import_hook`` answers PySide6's "does this module use PySide6?"
exactly as PySide6's own check does, only faster (``benchmarks/bench_startup.py``)."""

from __future__ import annotations

import json
import subprocess
import sys

_SCRIPT = """
import json, sys, time
import PySide6.QtCore
import shibokensupport.feature as feature
original = feature._mod_uses_pyside
from chamelaion_desktop import app
import chamelaion_desktop.ui.jobs_model, chamelaion_desktop.core.media, email.message
names = [
    "chamelaion_desktop.app",              # mentions PySide6 (a .py file)
    "chamelaion_desktop.ui.jobs_model",    # imports PySide6
    "chamelaion_desktop.core.media",       # no Qt at all
    "email.message",                       # the standard library
    "sys",                                 # built in: no file
    "_datetime",                           # an extension module (or built in)
    "PySide6.QtCore",                      # an extension module
]
modules = [sys.modules[n] for n in names]
before = [original(m) for m in modules]
changed = app.quicker_pyside_import_hook()
again = app.quicker_pyside_import_hook()
after = [feature._mod_uses_pyside(m) for m in modules]
print(json.dumps([changed, again, before, after]))
"""


def test_the_quicker_check_gives_pysides_own_answers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    changed, again, before, after = json.loads(done.stdout.splitlines()[-1])
    assert changed is True
    assert again is False  # installed once
    assert after == before
    assert before[:4] == [True, True, False, False]

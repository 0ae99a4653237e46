"""The key saved through the API key dialog lands in the real Secret Service, and only there.

Real widgets, a real KeyService and CredentialStore, the sandbox for the ``GET /v1/users/me``
check, gnome-keyring on a private D-Bus. Run with::

    scripts/with-keyring.sh .venv/bin/python -m pytest tests/keychain -q
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from chamelaion_desktop.core.credentials import CredentialStore
from chamelaion_desktop.core.paths import AppPaths
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.services.keys import KeyService
from chamelaion_desktop.services.tasks import TaskRegistry
from chamelaion_desktop.ui.settings_dialog import ApiKeyDialog
from tests.conftest import API_KEY_NAME, AsyncRunner
from tests.helpers import wait_until

from .conftest import ENABLED, RUN_HINT

pytestmark = [
    pytest.mark.keychain,
    pytest.mark.skipif(
        not ENABLED, reason=f"needs a real Secret Service in a throwaway HOME ({RUN_HINT})"
    ),
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]

#: Run in a fresh interpreter: reads the key back and prints only its SHA-256 and where
#: it came from, so the key itself never reaches the test output.
READ_BACK = """
import hashlib, sys
from chamelaion_desktop.core.credentials import CredentialStore
store = CredentialStore()
key = store.get(sys.argv[1])
print(store.backend_name)
print(hashlib.sha256(key.encode()).hexdigest() if key else "none")
"""

KEYRING_FOLDER = Path(".local/share/keyrings")


@pytest.fixture
def app_paths(throwaway_home: Path) -> AppPaths:
    paths = AppPaths.default().ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert folder.resolve().is_relative_to(throwaway_home)
    return paths


@pytest.fixture
def debug_log(app_paths: AppPaths) -> Iterator[Path]:
    """Everything logged during the test, at DEBUG and unredacted, in the app's log folder:
    if any layer logged the key, the file search below finds it."""
    path = app_paths.log_dir / "keychain-test.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def files_holding(folder: Path, needle: bytes, *, skip: Path | None = None) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if skip is not None and path.is_relative_to(skip):
            continue
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            found.append(path)
    return found


def test_key_saved_through_the_dialog_is_in_the_keychain_and_nowhere_else(
    qtbot: QtBot,
    qloop: Any,
    arun: AsyncRunner,
    sandbox: SandboxThread,
    api_key: str,
    secret_service: CredentialStore,
    throwaway_home: Path,
    app_paths: AppPaths,
    debug_log: Path,
) -> None:
    keys = KeyService(secret_service, TaskRegistry())
    dialog = ApiKeyDialog(keys, sandbox.base_url)
    keys.setParent(dialog)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    arun(wait_until(lambda: "Secret Service" in dialog.storage_label.text()))
    assert dialog.storage_label.text() == "Stored in your system keychain (Secret Service)."

    qtbot.keyClicks(dialog.key_edit, api_key)
    with qtbot.waitSignal(dialog.keySaved, timeout=10_000) as saved:
        dialog.save_button.click()
        arun(wait_until(lambda: not dialog.checking, timeout=10))
    assert saved.args == [api_key, API_KEY_NAME]
    assert not dialog.isVisible()  # saved in a keychain: the dialog closed

    # A fresh process, as the app's next start, reads the same key from the keychain.
    result = subprocess.run(
        [sys.executable, "-c", READ_BACK, sandbox.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    backend, digest = result.stdout.strip().splitlines()[-2:]
    assert backend == "Secret Service"
    assert digest == hashlib.sha256(api_key.encode()).hexdigest()

    # The key is in no file: not the app's folders, not anywhere in HOME (the debug log
    # above included), and not in clear in the keyring's own encrypted files either.
    needle = api_key.encode()
    assert debug_log.stat().st_size > 0  # the log did record the exchange
    for folder in (app_paths.config_dir, app_paths.data_dir, app_paths.cache_dir):
        assert files_holding(folder, needle) == []
    assert files_holding(app_paths.log_dir, needle) == []
    keyrings = throwaway_home / KEYRING_FOLDER
    assert files_holding(throwaway_home, needle, skip=keyrings) == []
    keyring_files = [path for path in keyrings.rglob("*") if path.is_file()]
    assert keyring_files, f"gnome-keyring wrote nothing under {keyrings}"
    assert files_holding(keyrings, needle) == []  # encrypted at rest

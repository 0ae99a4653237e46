"""Keychain tests run only against a real, throwaway Secret Service.

``scripts/with-keyring.sh`` provides one (gnome-keyring on a private D-Bus, HOME in a fresh
temporary folder) and sets ``CHAMELAION_KEYCHAIN_TEST=1``. Anywhere else these tests are
skipped: they must never touch a developer's own keychain or home folder.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from chamelaion_desktop.core.credentials import CredentialStore

RUN_HINT = "run: scripts/with-keyring.sh .venv/bin/python -m pytest tests/keychain -q"
#: Set by scripts/with-keyring.sh; without it every test here is skipped.
ENABLED = os.environ.get("CHAMELAION_KEYCHAIN_TEST") == "1"


@pytest.fixture
def throwaway_home() -> Path:
    """The test HOME, checked to be a temporary folder (never a real user's)."""
    home = Path.home().resolve()
    temp_root = Path(tempfile.gettempdir()).resolve()
    if not home.is_relative_to(temp_root):
        pytest.fail(f"HOME is {home}, not a temporary folder: {RUN_HINT}")
    return home


@pytest.fixture
def secret_service() -> CredentialStore:
    """A CredentialStore on keyring's own choice of backend, which must be Secret Service."""
    store = CredentialStore()
    if store.backend_name != "Secret Service":
        pytest.fail(
            f"keyring chose {store.backend_name!r}, not the Secret Service: is "
            f"gnome-keyring running and unlocked? ({RUN_HINT})"
        )
    return store


@pytest.fixture(autouse=True)
def keep_running_when_the_dialog_closes(qapp: QApplication) -> Iterator[None]:
    """The dialog is the only window here; its closing must not quit the event loop."""
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(before)


@pytest.fixture(autouse=True)
def collect_qasync_leftovers() -> Iterator[None]:
    """Collect a closed qasync loop's QObjects on the main thread (see tests/ui/conftest.py)."""
    yield
    gc.collect()

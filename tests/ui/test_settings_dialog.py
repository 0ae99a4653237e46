"""The API key dialog with real widgets, a real KeyService and the real sandbox.

The keychain is an in-memory ``keyring`` backend, or ``keyring.backends.fail.Keyring`` for a
machine without one (tests/keychain covers the real Secret Service).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit
from pytestqt.qtbot import QtBot

from chamelaion_desktop.core.credentials import DEFAULT_SERVICE, CredentialStore
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.services.keys import KeyService
from chamelaion_desktop.services.tasks import TaskRegistry
from chamelaion_desktop.ui.settings_dialog import ApiKeyDialog
from chamelaion_desktop.ui.welcome_dialog import WelcomeDialog
from tests.conftest import API_KEY_NAME, AsyncRunner
from tests.core.memory_keyring import MemoryKeyring
from tests.helpers import wait_until

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def memory() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture(autouse=True)
def keep_running_when_the_dialog_closes(qapp: QApplication) -> Iterator[None]:
    """In the app the main window stays open; here the dialog is the last window, and its
    closing would quit the event loop under the running test."""
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(before)


def open_dialog(qtbot: QtBot, backend: Any, base_url: str) -> ApiKeyDialog:
    keys = KeyService(CredentialStore(keyring_backend=backend), TaskRegistry())
    dialog = ApiKeyDialog(keys, base_url)
    keys.setParent(dialog)  # lives as long as the dialog, like the app's own
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_where_and_what_it_shows(
    qtbot: QtBot, qloop: Any, arun: AsyncRunner, sandbox: SandboxThread, memory: MemoryKeyring
) -> None:
    dialog = open_dialog(qtbot, memory, sandbox.base_url)
    arun(wait_until(lambda: dialog.storage_label.text().startswith("Stored")))
    assert dialog.storage_label.text() == (
        "Stored in your system keychain (memory keyring MemoryKeyring)."
    )
    labels = [label.text() for label in dialog.findChildren(type(dialog.storage_label))]
    assert any(sandbox.base_url in text for text in labels)
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Password
    assert not dialog.remove_button.isEnabled()  # nothing saved yet

    dialog.show_button.click()
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Normal
    assert dialog.show_button.text() == "Hide"
    dialog.show_button.click()
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Password


def test_a_rejected_key_keeps_the_dialog_open_with_the_reason(
    qtbot: QtBot, qloop: Any, arun: AsyncRunner, sandbox: SandboxThread, memory: MemoryKeyring
) -> None:
    dialog = open_dialog(qtbot, memory, sandbox.base_url)
    qtbot.keyClicks(dialog.key_edit, "sk-typo-123")
    dialog.save_button.click()
    assert dialog.checking
    assert dialog.busy.isVisible()
    assert not dialog.save_button.isEnabled()

    arun(wait_until(lambda: not dialog.checking))
    assert dialog.isVisible()
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == (
        "The service did not accept this key (invalid token). Check that you copied all of it."
    )
    assert dialog.key_edit.text() == "sk-typo-123"  # nothing typed is lost
    assert not dialog.key_edit.isReadOnly()
    assert not dialog.busy.isVisible()
    assert dialog.save_button.isEnabled()
    assert memory.entries == {}

    qtbot.keyClicks(dialog.key_edit, "4")  # typing again clears the old reason
    assert not dialog.error_label.isVisible()


def test_an_accepted_key_is_saved_and_the_dialog_closes(
    qtbot: QtBot,
    qloop: Any,
    arun: AsyncRunner,
    sandbox: SandboxThread,
    api_key: str,
    memory: MemoryKeyring,
) -> None:
    dialog = open_dialog(qtbot, memory, sandbox.base_url)
    qtbot.keyClicks(dialog.key_edit, api_key)
    with qtbot.waitSignal(dialog.keySaved, timeout=5000) as saved:
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Return)  # Save is the default button
        arun(wait_until(lambda: not dialog.checking))
    assert saved.args == [api_key, API_KEY_NAME]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()
    assert memory.entries == {(DEFAULT_SERVICE, sandbox.base_url): api_key}


def test_without_a_keychain_the_dialog_says_so_and_stays_open(
    qtbot: QtBot, qloop: Any, arun: AsyncRunner, sandbox: SandboxThread, api_key: str
) -> None:
    dialog = open_dialog(qtbot, keyring.backends.fail.Keyring(), sandbox.base_url)
    no_keychain = "No system keychain is available: the key is kept until you quit."
    arun(wait_until(lambda: dialog.storage_label.text() == no_keychain))

    dialog.key_edit.setText(api_key)
    with qtbot.waitSignal(dialog.keySaved, timeout=5000) as saved:
        dialog.save_button.click()
        arun(wait_until(lambda: not dialog.checking))
    assert saved.args == [api_key, API_KEY_NAME]
    assert dialog.isVisible()
    assert dialog.storage_label.text() == no_keychain
    assert dialog.note_label.text() == f"The service accepted the key ({API_KEY_NAME})."
    assert not dialog.save_button.isVisible()
    assert dialog.cancel_button.text() == "Close"


def test_remove_asks_first_then_removes(
    qtbot: QtBot,
    qloop: Any,
    arun: AsyncRunner,
    sandbox: SandboxThread,
    api_key: str,
    memory: MemoryKeyring,
) -> None:
    memory.entries[(DEFAULT_SERVICE, sandbox.base_url)] = api_key
    dialog = open_dialog(qtbot, memory, sandbox.base_url)
    arun(wait_until(dialog.remove_button.isEnabled))

    dialog.remove_button.click()
    assert dialog.confirm_row.isVisible()
    dialog.keep_button.click()  # changed their mind
    assert not dialog.confirm_row.isVisible()
    assert memory.entries  # still there

    dialog.remove_button.click()
    with qtbot.waitSignal(dialog.keyRemoved, timeout=5000):
        dialog.confirm_remove_button.click()
        arun(wait_until(lambda: not memory.entries))
    assert dialog.note_label.text() == "The key was removed."
    assert not dialog.remove_button.isEnabled()


def test_closing_while_checking_saves_nothing(
    qtbot: QtBot,
    qloop: Any,
    arun: AsyncRunner,
    sandbox: SandboxThread,
    api_key: str,
    memory: MemoryKeyring,
) -> None:
    dialog = open_dialog(qtbot, memory, sandbox.base_url)
    dialog.key_edit.setText(api_key)
    with qtbot.assertNotEmitted(dialog.keySaved):
        dialog.save_button.click()
        dialog.reject()
        assert not dialog.checking
        arun(asyncio.sleep(0.3))  # longer than the sandbox needs to answer
    assert memory.entries == {}


@pytest.mark.parametrize(
    ("button", "expected"), [("key_button", "key"), ("sandbox_button", "sandbox")]
)
def test_welcome_dialog_choices(qtbot: QtBot, button: str, expected: str) -> None:
    dialog = WelcomeDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.choice() is None
    getattr(dialog, button).click()
    assert dialog.choice() == expected
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_welcome_dialog_closed_without_a_choice(qtbot: QtBot) -> None:
    dialog = WelcomeDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.reject()
    assert dialog.choice() is None

"""The API key dialog: enter, check, save or remove the key for the service in use.

The key is checked with the service (``KeyService.check_and_save``) before it is saved; a
rejected key keeps the dialog open with the reason, and what was typed stays in the field.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..services.keys import KeyService, describe_storage
from .upload_progress import ERROR_COLORS, SUCCESS_COLORS, tone


class ApiKeyDialog(QDialog):
    """Enter, check and save the API key of ``base_url``, or remove it.

    Args:
        keys: the key service (checks against the service, talks to the keychain).
        base_url: the API base URL the key is for, shown to the user.

    Signals:
        keySaved(key: str, token_name: str): the service accepted the key and it is saved
            (in the keychain, or for the session when there is none). With a keychain the
            dialog then closes (accepted); without, it stays open to say so.
        keyRemoved(): the key was removed.
    """

    keySaved = Signal(str, str)
    keyRemoved = Signal()

    def __init__(self, keys: KeyService, base_url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keys = keys
        self._base_url = base_url
        self._checking = False
        self._removing = False
        self._can_remove = False
        self.setWindowTitle("API key")
        self.setMinimumWidth(520)
        self._build()
        keys.located.connect(self._on_located)
        keys.saved.connect(self._on_saved)
        keys.rejected.connect(self._on_rejected)
        keys.removed.connect(self._on_removed)
        keys.keychainFailed.connect(self._on_keychain_failed)
        keys.locate(base_url)

    def _build(self) -> None:
        connected = QLabel(f"Connected to <b>{html.escape(self._base_url)}</b>")
        connected.setTextFormat(Qt.TextFormat.RichText)
        connected.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste your API key")
        self.key_edit.textEdited.connect(lambda _text: self._set_error(""))
        self.show_button = QToolButton()
        self.show_button.setText("Show")
        self.show_button.setCheckable(True)
        self.show_button.toggled.connect(self._toggle_echo)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_button)
        key_label = QLabel("API key")
        key_label.setBuddy(self.key_edit)
        help_label = self._hint(
            "Copy the key from your Chamelaion account. It is checked with the service "
            "before it is saved."
        )

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # no known length: a moving bar
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setFixedSize(80, 8)
        self.busy_label = QLabel("Checking the key with the service…")
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.busy_bar)
        busy_row.addWidget(self.busy_label, 1)
        self.busy = QWidget()
        self.busy.setLayout(busy_row)
        busy_row.setContentsMargins(0, 0, 0, 0)
        self.busy.hide()

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.hide()
        self.storage_label = self._hint("Looking for the system keychain…")

        self.confirm_row = QWidget()
        confirm_layout = QHBoxLayout(self.confirm_row)
        confirm_layout.setContentsMargins(0, 0, 0, 0)
        confirm_text = QLabel("Remove the saved key? Jobs cannot be sent without one.")
        confirm_text.setWordWrap(True)
        confirm_layout.addWidget(confirm_text, 1)
        self.confirm_remove_button = QPushButton("Remove")
        self.confirm_remove_button.clicked.connect(self._remove)
        self.keep_button = QPushButton("Keep")
        self.keep_button.clicked.connect(lambda: self.confirm_row.hide())
        confirm_layout.addWidget(self.confirm_remove_button)
        confirm_layout.addWidget(self.keep_button)
        self.confirm_row.hide()

        self.remove_button = QPushButton("Remove key…")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._ask_remove)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(connected)
        layout.addSpacing(6)
        layout.addWidget(key_label)
        layout.addLayout(key_row)
        layout.addWidget(help_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.error_label)
        layout.addWidget(self.note_label)
        layout.addWidget(self.storage_label)
        layout.addWidget(self.confirm_row)
        layout.addSpacing(6)
        layout.addLayout(buttons)

    @staticmethod
    def _hint(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        return label

    @property
    def checking(self) -> bool:
        """True while the key is being checked with the service."""
        return self._checking

    def _toggle_echo(self, shown: bool) -> None:
        self.key_edit.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self.show_button.setText("Hide" if shown else "Show")

    def _set_error(self, message: str) -> None:
        self.error_label.setStyleSheet(f"color: {tone(self, ERROR_COLORS)};")
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _set_checking(self, checking: bool) -> None:
        self._checking = checking
        self.busy.setVisible(checking)
        self.save_button.setEnabled(not checking)
        self._refresh_remove()
        self.key_edit.setReadOnly(checking)

    def _refresh_remove(self) -> None:
        self.remove_button.setEnabled(
            self._can_remove and not self._checking and not self._removing
        )

    def _save(self) -> None:
        key = self.key_edit.text().strip()
        if not key:
            self._set_error("Enter an API key: the field is empty.")
            self.key_edit.setFocus()
            return
        self._set_error("")
        self.note_label.hide()
        self._set_checking(True)
        self._keys.check_and_save(self._base_url, key)

    def _on_located(self, has_key: bool, persistent: bool, where: str) -> None:
        self.storage_label.setText(describe_storage(persistent, where))
        # Without a keychain the session may hold a key the keychain does not know about.
        self._can_remove = has_key or not persistent
        self._refresh_remove()

    def _on_saved(self, key: str, token_name: str, persistent: bool, where: str) -> None:
        if not self._checking:
            return
        self._set_checking(False)
        self.storage_label.setText(describe_storage(persistent, where))
        self._can_remove = True
        self._refresh_remove()
        self.keySaved.emit(key, token_name)
        if persistent:
            self.accept()
            return
        self.note_label.setStyleSheet(f"color: {tone(self, SUCCESS_COLORS)};")
        self.note_label.setText(f"The service accepted the key ({token_name}).")
        self.note_label.show()
        self.save_button.hide()
        self.cancel_button.setText("Close")

    def _on_rejected(self, message: str) -> None:
        if not self._checking:
            return
        self._set_checking(False)
        self._set_error(message)
        self.key_edit.setFocus()

    def _ask_remove(self) -> None:
        self.confirm_row.show()
        self.keep_button.setFocus()

    def _remove(self) -> None:
        self.confirm_row.hide()
        self._removing = True
        self._refresh_remove()
        self._keys.remove(self._base_url)

    def _on_removed(self) -> None:
        if not self._removing:
            return
        self._removing = False
        self._can_remove = False
        self._refresh_remove()
        self.key_edit.clear()
        self._set_error("")
        self.note_label.setStyleSheet("")
        self.note_label.setText("The key was removed.")
        self.note_label.show()
        self.keyRemoved.emit()

    def _on_keychain_failed(self, message: str) -> None:
        if self._removing:
            self._removing = False
            self._refresh_remove()
        self._set_error(message)

    def event(self, event: QEvent) -> bool:
        """Grow to fit wrapped text that just appeared (a reason, a note), never clip it."""
        # Read the type first: after a DeferredDelete, ``self`` is gone.
        relayout = event.type() == QEvent.Type.LayoutRequest
        handled = super().event(event)
        layout = self.layout() if relayout else None
        if layout is not None and self.isVisible():
            needed = max(layout.heightForWidth(self.width()), layout.minimumSize().height())
            if needed > self.height():
                self.resize(self.width(), needed)
        return handled

    def done(self, result: int) -> None:
        """Close; a key check still running is cancelled, so nothing is saved behind
        the user's back."""
        if self._checking:
            self._keys.cancel_check()
            self._set_checking(False)
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._checking:
            self._keys.cancel_check()
            self._set_checking(False)
        super().closeEvent(event)

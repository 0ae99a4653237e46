"""The first-run dialog: no API key yet, so enter one or try the offline sandbox."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

KEY = "key"
SANDBOX = "sandbox"


class WelcomeDialog(QDialog):
    """Explains what the app does and offers two ways to start.

    ``choice()`` after the dialog closes: ``"key"`` (enter an API key), ``"sandbox"`` (use
    the offline sandbox) or ``None`` (closed without choosing).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choice: str | None = None
        self.setWindowTitle("Welcome to Chamelaion Desktop")
        self.setMinimumWidth(500)
        title = QLabel("Welcome to Chamelaion Desktop")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        text = QLabel(
            "Send a video and a new audio track to the Chamelaion lip-sync service, follow "
            "the job and get back the video with the lips matching the new speech.\n\n"
            "To use the service you need an API key from your Chamelaion account. To look "
            "around first, try the offline sandbox: a practice service on this computer. "
            "Nothing is uploaded and no tokens are used; its results only imitate the "
            "real service."
        )
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        later = QLabel("You can enter or change the key later.")
        later.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.key_button = QPushButton("Enter an API key…")
        self.key_button.setDefault(True)
        self.key_button.clicked.connect(lambda: self._choose(KEY))
        self.sandbox_button = QPushButton("Try the offline sandbox")
        self.sandbox_button.clicked.connect(lambda: self._choose(SANDBOX))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sandbox_button)
        buttons.addWidget(self.key_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addWidget(later)
        layout.addSpacing(8)
        layout.addLayout(buttons)

    def choice(self) -> str | None:
        """``"key"``, ``"sandbox"`` or ``None`` when the dialog was closed without a choice."""
        return self._choice

    def _choose(self, choice: str) -> None:
        self._choice = choice
        self.accept()

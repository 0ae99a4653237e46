"""The right-hand column of the "New job" area: active speaker detection, the reference ID
and the Lip-sync button, with a line under each saying what it does or what is missing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.references import suggest_reference_id
from .upload_progress import WARNING_COLORS, tone

#: The Lip-sync button, filled with the highlight colour when it can be pressed: the one
#: primary action of the area.
_SUBMIT_STYLE = (
    "#submitButton { padding: 6px 22px; font-weight: bold; border-radius: 4px;"
    " border: 1px solid palette(mid); }"
    "#submitButton:enabled { background: palette(highlight);"
    " color: palette(highlighted-text); border-color: palette(highlight); }"
    "#submitButton:enabled:hover { border-color: palette(dark); }"
    "#submitButton:focus { border-color: palette(shadow); }"
)


def small_label(text: str) -> QLabel:
    """A wrapped, slightly smaller, muted label for explanations under a control."""
    label = QLabel(text)
    label.setWordWrap(True)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


class JobOptions(QWidget):
    """Active speaker detection (on by default), the reference ID and the submit button.

    The reference ID is suggested from the file names (``core.references``) for each new
    pair of files until the user types their own; emptying the field hands it back.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reference_auto = True
        self._suggested_for: tuple[Path, Path] | None = None
        self.asd_checkbox = QCheckBox("Detect the active speaker")
        self.asd_checkbox.setChecked(True)
        asd_help = small_label(
            "Finds who is speaking when several people are on screen. "
            "Turn it off for a single person: it is faster."
        )
        asd_help.setContentsMargins(22, 0, 0, 0)
        reference_label = QLabel("Reference ID")
        self.reference_edit = QLineEdit()
        self.reference_edit.setPlaceholderText("e.g. spot-42_es")
        self.reference_edit.setMaxLength(200)
        reference_label.setBuddy(self.reference_edit)
        self.reference_edit.textEdited.connect(self._edited)
        self.reference_hint = small_label("")
        self.submit_button = QPushButton("Lip-sync")
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setStyleSheet(_SUBMIT_STYLE)
        self.submit_button.setToolTip("Send both files for lip sync (Ctrl+Return)")
        self.submit_button.setMinimumWidth(120)
        self.submit_hint = small_label("")
        self.submit_hint.setAlignment(Qt.AlignmentFlag.AlignRight)
        submit_row = QHBoxLayout()
        submit_row.addStretch(1)
        submit_row.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.asd_checkbox)
        layout.addWidget(asd_help)
        layout.addSpacing(10)
        layout.addWidget(reference_label)
        layout.addWidget(self.reference_edit)
        layout.addWidget(self.reference_hint)
        layout.addSpacing(12)
        layout.addLayout(submit_row)
        layout.addWidget(self.submit_hint)
        layout.addStretch(1)
        self.setFixedWidth(290)

    def reference_id(self) -> str:
        """The reference ID as entered, without surrounding blanks ("" when empty)."""
        return self.reference_edit.text().strip()

    def disable_active_speaker_detection(self) -> bool:
        """The API flag: True when "Detect the active speaker" is unchecked."""
        return not self.asd_checkbox.isChecked()

    def reset_reference(self) -> None:
        """Empty the field and suggest again for the next pair of files."""
        self.reference_edit.clear()
        self._reference_auto = True
        self._suggested_for = None

    def _edited(self, text: str) -> None:
        # The user's own text stands; emptying the field hands it back to the suggestions.
        self._reference_auto = not text.strip()

    def suggest(self, pair: tuple[Path, Path] | None) -> None:
        """Offer a reference ID for a new pair of files, unless the user typed their own.

        Args:
            pair: the chosen ``(video, audio)``, or ``None`` until both are chosen.
        """
        # Once per new pair: a field the user emptied stays empty until the files change.
        if pair != self._suggested_for:
            self._suggested_for = pair
            if self._reference_auto and pair is not None:
                self.reference_edit.setText(suggest_reference_id(*pair))
                self.reference_edit.setCursorPosition(0)  # show how it starts, not its end
        self.reference_edit.setToolTip(self.reference_edit.text())
        if pair is not None and not self.reference_id():
            self.reference_hint.setText(
                "Enter a reference ID: it names the job and lets you find it again."
            )
            self.reference_hint.setStyleSheet(f"color: {tone(self, WARNING_COLORS)};")
        else:
            self.reference_hint.setText("Names the job in the queue; you can look it up by it.")
            self.reference_hint.setStyleSheet("")

    def set_ready(self, ready: bool, hint: str) -> None:
        """Enable Lip-sync or not; ``hint`` goes under it (what is missing, or the shortcut)."""
        self.submit_hint.setText(hint)
        self.submit_button.setEnabled(ready)
        self.submit_button.setDefault(ready)

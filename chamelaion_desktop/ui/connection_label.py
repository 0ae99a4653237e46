"""The status bar's connection indicator: where, as whom, and whether it answers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ..services.connection_state import ConnectionState

_NAMES = {
    "production": "Chamelaion",
    "staging": "Chamelaion staging",
    "sandbox": "Offline sandbox",
    "custom": "Custom server",
}
_COLOURS = {True: "#2e9d5b", False: "#c8553d", None: "#9a9a9a"}


def _dot(colour: str, size: int = 10) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(0, 0, size - 1, size - 1)
    painter.end()
    return pixmap


def describe(state: ConnectionState) -> str:
    """A short line for the status bar, e.g. ``Offline sandbox · Sandbox · online``; the
    whole story (the problem in full, the base URL) goes in the tooltip."""
    parts = [_NAMES.get(state.environment, state.environment)]
    if state.token_name:
        parts.append(state.token_name)
    if state.reachable is None:
        parts.append("checking…")
    elif not state.reachable:
        parts.append("unreachable")
    elif state.problem:
        parts.append("needs attention")
    else:
        parts.append("online")
    return " · ".join(parts)


class ConnectionLabel(QWidget):
    """A coloured dot and a line of text; the tooltip gives the base URL."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dot = QLabel(self)
        self._text = QLabel(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(6)
        layout.addWidget(self._dot)
        layout.addWidget(self._text)

    def text(self) -> str:
        """The line shown (for tests and screenshots)."""
        return self._text.text()

    def set_state(self, state: ConnectionState) -> None:
        """Show ``state``: green when online with no problem, red when not, grey unknown."""
        healthy = None if state.reachable is None else bool(state.reachable and not state.problem)
        self._dot.setPixmap(_dot(_COLOURS[healthy]))
        self._text.setText(describe(state))
        details = f"\n{state.problem}" if state.problem else ""
        self.setToolTip(f"Connected to {state.base_url}{details}")

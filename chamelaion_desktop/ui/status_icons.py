"""Small coloured status icons, drawn with QPainter once and cached.

Drawn rather than loaded so the table needs no resource files; colours are chosen to read
on light and dark palettes alike and never carry the meaning alone (the label is beside).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from ..api.statuses import COMPLETED, FAILED, PROCESSING, QUEUED

__all__ = ["COMPLETED", "FAILED", "NEUTRAL", "PROCESSING", "QUEUED", "UPLOADING", "StatusIcons"]

#: Kinds beyond the API's statuses: a local upload, and anything unknown.
UPLOADING = "uploading"
NEUTRAL = "neutral"

_COLOURS = {
    QUEUED: "#8a8f98",
    PROCESSING: "#2f7fd8",
    COMPLETED: "#2e9e5b",
    FAILED: "#d64541",
    UPLOADING: "#7b5cd6",
    NEUTRAL: "#8a8f98",
}
_SIZES = (16, 24, 32)


def _draw(kind: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    colour = QColor(_COLOURS[kind])
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # Work on a 16-unit grid whatever the pixel size.
        painter.scale(size / 16.0, size / 16.0)
        disc = QRectF(1.5, 1.5, 13.0, 13.0)
        white = QPen(QColor("white"), 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        white.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        if kind in (QUEUED, NEUTRAL):
            painter.setPen(QPen(colour, 1.6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(disc)
            if kind == QUEUED:  # clock hands
                painter.drawLine(QPointF(8, 8), QPointF(8, 4.5))
                painter.drawLine(QPointF(8, 8), QPointF(10.5, 9.5))
            else:
                painter.setBrush(colour)
                painter.drawEllipse(QPointF(8, 8), 1.6, 1.6)
            return pixmap
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(disc)
        painter.setPen(white)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if kind == COMPLETED:
            path = QPainterPath(QPointF(4.8, 8.3))
            path.lineTo(7.1, 10.6)
            path.lineTo(11.3, 5.8)
            painter.drawPath(path)
        elif kind == FAILED:
            painter.drawLine(QPointF(5.5, 5.5), QPointF(10.5, 10.5))
            painter.drawLine(QPointF(10.5, 5.5), QPointF(5.5, 10.5))
        elif kind == PROCESSING:  # a three-quarter arc: work going round
            painter.drawArc(QRectF(4.5, 4.5, 7.0, 7.0), 90 * 16, -270 * 16)
        elif kind == UPLOADING:  # an arrow going up
            painter.drawLine(QPointF(8, 11.5), QPointF(8, 4.8))
            painter.drawLine(QPointF(5.3, 7.4), QPointF(8, 4.8))
            painter.drawLine(QPointF(10.7, 7.4), QPointF(8, 4.8))
    finally:
        painter.end()
    return pixmap


class StatusIcons:
    """Icons per status kind, drawn on first use (needs a ``QGuiApplication``).

    ``icon(kind)`` takes one of ``queued``, ``processing``, ``completed``, ``failed``,
    ``uploading``; any other string gets the neutral icon.
    """

    def __init__(self) -> None:
        self._cache: dict[str, QIcon] = {}

    def icon(self, kind: str) -> QIcon:
        """The cached icon for ``kind`` (16, 24 and 32 px)."""
        key = kind if kind in _COLOURS else NEUTRAL
        icon = self._cache.get(key)
        if icon is None:
            icon = QIcon()
            for size in _SIZES:
                icon.addPixmap(_draw(key, size))
            self._cache[key] = icon
        return icon

"""Helpers for tests with real widgets: drag-and-drop as a file manager does it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QStyledItemDelegate, QTableView, QWidget

_ARGS = (Qt.DropAction.CopyAction,)
_BUTTONS = (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def mime_with(paths: list[Path]) -> QMimeData:
    """The mime data of a file manager's drag: file URLs."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    return data


def drag_enter_event(where: QPointF, data: QMimeData) -> QDragEnterEvent:
    """A ``QDragEnterEvent`` at ``where``: Qt 6.12 takes a QPointF, earlier ones a QPoint."""
    try:
        return QDragEnterEvent(where, *_ARGS, data, *_BUTTONS)  # type: ignore[arg-type]
    except TypeError:
        return QDragEnterEvent(where.toPoint(), *_ARGS, data, *_BUTTONS)


def drop_event(where: QPointF, data: QMimeData) -> QDropEvent:
    """A ``QDropEvent`` at ``where`` with a copy action and the left button."""
    return QDropEvent(where, *_ARGS, data, *_BUTTONS)


def drag_and_drop(target: QWidget, paths: list[Path]) -> tuple[bool, bool]:
    """Send a real ``QDragEnterEvent`` then ``QDropEvent`` with ``paths`` to ``target``.

    Returns:
        ``(enter accepted, drop accepted)``.
    """
    data = mime_with(paths)
    where = QPointF(target.rect().center())
    enter = drag_enter_event(where, data)
    QApplication.sendEvent(target, enter)
    event = drop_event(where, data)
    QApplication.sendEvent(target, event)
    return enter.isAccepted(), event.isAccepted()


def centre_luminance(image: QImage) -> float:
    """Mean lightness (0..255) over the middle third of ``image``, sampled every 4 pixels."""
    w, h = image.width(), image.height()
    values = [
        image.pixelColor(x, y).lightness()
        for x in range(w // 3, 2 * w // 3, 4)
        for y in range(h // 3, 2 * h // 3, 4)
    ]
    return sum(values) / len(values)


def grab_both(table: QTableView, qtbot: Any) -> tuple[QImage, QImage]:
    """The viewport of ``table`` painted by its own delegate, then by Qt's default one (the
    table gets its delegate back)."""
    qtbot.wait(20)
    ours = table.viewport().grab().toImage()
    delegate = table.itemDelegate()
    table.setItemDelegate(QStyledItemDelegate(table))
    qtbot.wait(20)
    default = table.viewport().grab().toImage()
    table.setItemDelegate(delegate)
    return ours, default

"""Helpers for tests with real widgets: drag-and-drop as a file manager does it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def mime_with(paths: list[Path]) -> QMimeData:
    """The mime data of a file manager's drag: file URLs."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    return data


def drag_and_drop(target: QWidget, paths: list[Path]) -> tuple[bool, bool]:
    """Send a real ``QDragEnterEvent`` then ``QDropEvent`` with ``paths`` to ``target``.

    Returns:
        ``(enter accepted, drop accepted)``.
    """
    data = mime_with(paths)
    where = QPointF(target.rect().center())
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton)
    enter = QDragEnterEvent(where, *args, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    event = QDropEvent(where, *args, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, event)
    return enter.isAccepted(), event.isAccepted()

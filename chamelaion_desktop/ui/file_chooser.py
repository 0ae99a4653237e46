"""Asking the user for a video or audio file without blocking the event loop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

#: ``chooser(parent, kind, on_chosen)``: ask the user for a ``"video"`` or ``"audio"`` file
#: and call ``on_chosen(path)`` if one is chosen. Must not block (no nested event loop).
FileChooser = Callable[[QWidget, str, Callable[[Path], None]], None]

FILTERS = {
    "video": "MP4 videos (*.mp4 *.m4v *.mov);;All files (*)",
    "audio": "WAV or MP3 audio (*.wav *.mp3);;All files (*)",
}


class QtFileChooser:
    """The default ``FileChooser``: a window-modal ``QFileDialog`` opened with ``open()``
    (no nested event loop under qasync), starting in the folder of the previous choice."""

    def __init__(self) -> None:
        self._folder = ""

    def __call__(self, parent: QWidget, kind: str, on_chosen: Callable[[Path], None]) -> None:
        # Imported here: the window's first frame does not need QFileDialog (its enum types
        # cost start-up time, benchmarks/bench_startup.py).
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(parent, f"Choose the {kind}", self._folder, FILTERS[kind])
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(name: str) -> None:
            self._folder = str(Path(name).parent)
            on_chosen(Path(name))

        dialog.fileSelected.connect(chosen)
        dialog.open()

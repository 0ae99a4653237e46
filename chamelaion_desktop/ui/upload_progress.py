"""The upload part of the "New job" area: progress while sending, then what happened.

``UploadStatus`` is hidden when idle. While uploading it shows a bar, ``format_progress``
("12.3 MB of 400 MB · 85 MB/s · 5 s left") and Cancel; afterwards a short note, or on a
failure the reason and "Try again".
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from .drop_area import format_megabytes

#: Colours for notes that must stand out, as (light theme, dark theme).
ERROR_COLORS = ("#b3261e", "#f2b8b5")
WARNING_COLORS = ("#8a5300", "#f5c26b")
SUCCESS_COLORS = ("#1e6b34", "#8fd6a2")


def tone(widget: QWidget, colors: tuple[str, str]) -> str:
    """The light- or dark-theme colour of ``colors`` for ``widget``'s palette."""
    dark = widget.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return colors[1] if dark else colors[0]


def format_speed(bytes_per_second: float) -> str:
    """``85e6`` -> ``"85 MB/s"``, ``2.5e6`` -> ``"2.5 MB/s"``, ``850e3`` -> ``"850 KB/s"``."""
    if bytes_per_second >= 10e6:
        return f"{bytes_per_second / 1e6:.0f} MB/s"
    if bytes_per_second >= 1e6:
        return f"{bytes_per_second / 1e6:.1f} MB/s"
    return f"{bytes_per_second / 1e3:.0f} KB/s"


def format_time_left(seconds: float) -> str:
    """Time to go, rounded: ``4.4`` -> ``"4 s left"``, ``125`` -> ``"2 min 05 s left"``."""
    whole = max(1, math.ceil(seconds - 0.5))
    if whole < 60:
        return f"{whole} s left"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s left"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min left"


def format_progress(bytes_sent: int, bytes_total: int, bytes_per_second: float) -> str:
    """One line about an upload: ``"12.3 MB of 400 MB · 85 MB/s · 5 s left"``.

    Args:
        bytes_sent: bytes sent so far.
        bytes_total: bytes to send in all (both files and the form around them).
        bytes_per_second: the recent rate; 0 or less when not known yet (then no speed and
            no time left are given).
    """
    done = f"{format_megabytes(bytes_sent)} of {format_megabytes(bytes_total)}"
    if bytes_total > 0 and bytes_sent >= bytes_total:
        return f"{done} · waiting for the service to answer…"
    if bytes_per_second <= 0:
        return done
    left = format_time_left((bytes_total - bytes_sent) / bytes_per_second)
    return f"{done} · {format_speed(bytes_per_second)} · {left}"


class UploadStatus(QWidget):
    """The upload's progress, or its outcome; hidden when idle.

    Signals:
        cancelRequested(): the user clicked Cancel during an upload.
        retryRequested(): the user clicked "Try again" after a failure.
    """

    cancelRequested = Signal()
    retryRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setOpenExternalLinks(False)
        self.retry_button = QPushButton("Try again")
        self.retry_button.clicked.connect(self.retryRequested)

        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label, 1)
        progress_row.addWidget(self.cancel_button)
        message_row = QHBoxLayout()
        message_row.addWidget(self.message_label, 1)
        message_row.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addLayout(progress_row)
        layout.addLayout(message_row)
        self.idle()

    def _show_parts(self, *, progress: bool, message: bool, retry: bool) -> None:
        self.bar.setVisible(progress)
        self.progress_label.setVisible(progress)
        self.cancel_button.setVisible(progress)
        self.message_label.setVisible(message)
        self.retry_button.setVisible(retry)
        self.setVisible(progress or message)

    def idle(self) -> None:
        """Hide everything."""
        self.message_label.clear()
        self._show_parts(progress=False, message=False, retry=False)

    def preparing(self) -> None:
        """The job was handed over; no byte has been sent yet."""
        self.bar.setValue(0)
        self.progress_label.setText("Preparing the upload…")
        self.cancel_button.setEnabled(True)
        self._show_parts(progress=True, message=False, retry=False)

    def progress(self, bytes_sent: int, bytes_total: int, bytes_per_second: float) -> None:
        """Show how far the upload is (bytes; bytes per second)."""
        fraction = bytes_sent / bytes_total if bytes_total > 0 else 0.0
        self.bar.setValue(round(min(max(fraction, 0.0), 1.0) * 1000))
        if self.cancel_button.isEnabled():  # "Cancelling…" stays until the upload stops
            self.progress_label.setText(format_progress(bytes_sent, bytes_total, bytes_per_second))
        self._show_parts(progress=True, message=False, retry=False)

    def note(self, text: str, colors: tuple[str, str] | None = None) -> None:
        """Show a short outcome note instead of the progress."""
        color = tone(self, colors) if colors else ""
        self.message_label.setStyleSheet(f"color: {color};" if color else "")
        self.message_label.setText(text)
        self._show_parts(progress=False, message=True, retry=False)

    def failed(self, message: str) -> None:
        """Show why the upload failed, with "Try again"."""
        self.note(message, ERROR_COLORS)
        self._show_parts(progress=False, message=True, retry=True)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.progress_label.setText("Cancelling…")
        self.cancelRequested.emit()

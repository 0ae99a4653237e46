"""The drop zone of the "New job" area and its two slots (video, audio).

``DropArea`` accepts local files dragged from a file manager and says which; it knows
nothing about media. ``InputSlot`` shows one chosen file (``describe_media``) or why it is
empty. Text helpers here format sizes in MB (10^6 bytes) and durations in seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:
    # Annotations only: importing a Qt class makes PySide create its enum types, and the
    # drag events' cost ~4 ms of the first frame, which no drag precedes. ``core.media``
    # builds three dataclasses (~3 ms); the probe imports it with the first file.
    from PySide6.QtGui import (
        QDragEnterEvent,
        QDragLeaveEvent,
        QDragMoveEvent,
        QDropEvent,
        QPaintEvent,
    )

    from ..core.media import MediaInfo

_CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "H.265",
    "mpeg4": "MPEG-4",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "prores": "ProRes",
    "aac": "AAC",
    "mp3": "MP3",
    "mp3float": "MP3",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "flac": "FLAC",
    "alac": "ALAC",
    "ac3": "AC-3",
}


def codec_name(codec: str) -> str:
    """A codec as people know it: ``h264`` -> ``H.264``, ``pcm_s16le`` -> ``PCM 16-bit``."""
    if codec.startswith("pcm_"):
        bits = "".join(ch for ch in codec if ch.isdigit())
        return f"PCM {bits}-bit" if bits else "PCM"
    return _CODEC_NAMES.get(codec, codec.upper())


def format_megabytes(size_bytes: float) -> str:
    """``402202`` -> ``"0.4 MB"``, ``12_345_678`` -> ``"12.3 MB"``, ``4e8`` -> ``"400 MB"``."""
    megabytes = size_bytes / 1e6
    if megabytes >= 1000:
        return f"{megabytes / 1000:.1f} GB"
    if megabytes >= 100:
        return f"{megabytes:.0f} MB"
    return f"{megabytes:.1f} MB"


def format_duration(seconds: float) -> str:
    """A media length: ``6.0 s`` under a minute, then ``2 min 05 s``, then ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def media_details(info: MediaInfo) -> str:
    """Size, length, picture size and codecs: ``0.4 MB · 6.0 s · 360×288 · H.264 / AAC``."""  # noqa: RUF002
    parts = [format_megabytes(info.size_bytes)]
    if info.duration_s is not None:
        parts.append(format_duration(info.duration_s))
    if info.video is not None:
        parts.append(f"{info.video.width}×{info.video.height}")  # noqa: RUF001 - as printed
        sound = codec_name(info.audio.codec) if info.audio is not None else "no sound"
        parts.append(f"{codec_name(info.video.codec)} / {sound}")
    elif info.audio is not None:
        channels = {1: "mono", 2: "stereo"}.get(info.audio.channels, f"{info.audio.channels} ch")
        rate = info.audio.sample_rate / 1000
        # Editors know "WAV" better than "PCM 16-bit"; other containers say their codec.
        parts.append("WAV" if info.container == "wav" else codec_name(info.audio.codec))
        parts.append(f"{rate:g} kHz {channels}")
    return " · ".join(parts)


def describe_media(info: MediaInfo) -> str:
    """The file's name and ``media_details``, on one line."""
    return f"{info.path.name} — {media_details(info)}"


class ElidedLabel(QLabel):
    """A one-line label that shortens its text in the middle (``grid_s2…6s.mp4``) to fit."""

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = QFontMetrics(self.font())
        text = metrics.elidedText(self.text(), Qt.TextElideMode.ElideMiddle, self.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.rect(), int(self.alignment()), text)
        painter.end()


class DropIcon(QWidget):
    """An arrow falling into a tray, drawn in the text colour (no image files needed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(28, 28)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = self.palette().color(QPalette.ColorRole.Highlight)
        painter.setPen(
            QPen(
                color,
                2.2,
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin,
            )
        )
        painter.drawLine(QPointF(14, 3), QPointF(14, 16))
        painter.drawPolyline([QPointF(8.5, 11), QPointF(14, 16.5), QPointF(19.5, 11)])
        tray = QPainterPath(QPointF(4, 15))
        for x, y in ((4, 24), (24, 24), (24, 15)):
            tray.lineTo(x, y)
        painter.drawPath(tray)
        painter.end()


class DropArea(QFrame):
    """A dashed-border zone that accepts local files dragged onto it.

    Only drags carrying file URLs of local files are accepted; the border and background
    take the highlight colour while such a drag hovers.

    Signals:
        pathsDropped(paths: list[Path]): the local files dropped, in the order given.
    """

    pathsDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._dragging = False

    @property
    def dragging(self) -> bool:
        """True while an acceptable drag hovers over the area."""
        return self._dragging

    @staticmethod
    def local_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
        """The local files an event carries (URLs of other kinds are left out)."""
        data = event.mimeData()
        if data is None or not data.hasUrls():
            return []
        return [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]

    def _set_dragging(self, dragging: bool) -> None:
        if dragging != self._dragging:
            self._dragging = dragging
            self.update()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.local_paths(event):
            event.acceptProposedAction()
            self._set_dragging(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_dragging(False)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_dragging(False)
        paths = self.local_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.pathsDropped.emit(paths)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5)
        if self._dragging:
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlpha(40)
            painter.fillRect(rect, fill)
            border = palette.color(QPalette.ColorRole.Highlight)
        else:
            border = palette.color(QPalette.ColorRole.Mid)
        pen = QPen(border, 2.0 if self._dragging else 1.5, Qt.PenStyle.DashLine)
        pen.setDashPattern([5.0, 3.0])
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 10, 10)
        painter.end()


class InputSlot(QFrame):
    """One input (``"video"`` or ``"audio"``): the chosen file, or why there is none.

    Signals:
        chooseRequested(): the "Choose video…"/"Choose audio…" button was clicked.
    """

    chooseRequested = Signal()

    _EMPTY: ClassVar[dict[str, tuple[str, str]]] = {
        "video": ("No video yet", "An MP4 video showing the speaker's face."),
        "audio": ("No audio yet", "A WAV or MP3 file with the new speech."),
    }

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.info: MediaInfo | None = None
        title = QLabel(kind.upper())
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        font.setBold(True)
        font.setLetterSpacing(font.SpacingType.PercentageSpacing, 108)
        title.setFont(font)
        title.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.name_label = ElidedLabel()
        name_font = self.name_label.font()
        name_font.setBold(True)
        self.name_label.setFont(name_font)
        self.details_label = QLabel()
        self.details_label.setWordWrap(True)
        self.choose_button = QPushButton(f"Choose {kind}…")
        self.choose_button.clicked.connect(self.chooseRequested)
        button_row = QHBoxLayout()
        button_row.addWidget(self.choose_button)
        button_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(4)
        layout.addWidget(title)
        layout.addWidget(self.name_label)
        layout.addWidget(self.details_label)
        layout.addSpacing(6)
        layout.addLayout(button_row)
        layout.addStretch(1)
        self.clear()

    def summary(self) -> str:
        """What the slot shows, on one line (``describe_media``), or its empty text."""
        if self.info is not None:
            return describe_media(self.info)
        return f"{self.name_label.text()} — {self.details_label.text()}"

    def show_media(self, info: MediaInfo) -> None:
        """Show a chosen file: its name, size, length and codecs."""
        self.info = info
        self.name_label.setText(info.path.name)
        self.name_label.setForegroundRole(QPalette.ColorRole.WindowText)
        self.name_label.setToolTip(str(info.path))
        self.details_label.setText(media_details(info))
        self.update()

    def show_checking(self, path: Path) -> None:
        """Say that ``path`` is being read (the current file, if any, stays chosen)."""
        self.name_label.setText(f"Checking {path.name}…")
        self.name_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.name_label.setToolTip(str(path))

    def clear(self) -> None:
        """Back to the empty state."""
        self.info = None
        name, hint = self._EMPTY[self.kind]
        self.name_label.setText(name)
        self.name_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.name_label.setToolTip("")
        self.details_label.setText(hint)
        self.update()

    def restore(self) -> None:
        """Show the current file again (after a check of another file ended)."""
        if self.info is not None:
            self.show_media(self.info)
        else:
            self.clear()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        chosen = self.info is not None
        border = palette.color(
            QPalette.ColorRole.Highlight if chosen else QPalette.ColorRole.Midlight
        )
        painter.setPen(QPen(border, 1.2))
        painter.drawRoundedRect(rect, 7, 7)
        painter.end()

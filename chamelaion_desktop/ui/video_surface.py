"""A video picture that ``grab()`` can see, and the drag that carries the file out.

``QVideoWidget`` renders through a native surface that ``grab()`` (and so every screenshot
and test) sees as blank (PITFALLS.md). This widget keeps the latest ``QVideoFrame`` of its
own ``QVideoSink`` and paints it with QPainter, letterboxed on a dark background. The frame is
converted to an image only when painted, so frames that arrive faster than repaints cost
nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDrag, QImage, QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtMultimedia import QVideoFrame, QVideoSink
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

BACKGROUND = QColor(20, 20, 22)
#: Width of the picture under the cursor while dragging the video out (pixels).
DRAG_THUMBNAIL_WIDTH = 160


class VideoSurface(QWidget):
    """Shows the frames of ``sink`` keeping their aspect ratio; press-and-move drags.

    ``frames_received`` counts the frames that arrived (no per-frame signal: 25+ Python
    emissions a second buy nothing, and each one costs PySide6 6.12.0 a reference to True).

    Signals:
        clicked(): pressed and released without moving far enough to drag.
        drag_requested(): pressed and moved past the platform's drag distance; the owner
            builds and runs the ``QDrag`` (see ``make_file_drag``).
    """

    clicked = Signal()
    drag_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sink = QVideoSink(self)
        self._sink.videoFrameChanged.connect(self._on_frame)
        self._frame: QVideoFrame | None = None
        self._press: QPoint | None = None
        self.frames_received = 0
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip("Click to play or pause. Drag the video into another application.")

    @property
    def sink(self) -> QVideoSink:
        """Give this to ``QMediaPlayer.setVideoSink``."""
        return self._sink

    def sizeHint(self) -> QSize:
        return QSize(480, 270)

    def has_frame(self) -> bool:
        """True once a frame is shown (after ``clear`` until the next one arrives: False)."""
        return self._frame is not None

    def current_image(self) -> QImage:
        """The frame on screen as an image at its own resolution (null when none)."""
        if self._frame is None:
            return QImage()
        return self._frame.toImage()

    def clear(self) -> None:
        """Forget the frame shown (a new video is about to load)."""
        self._frame = None
        self.update()

    def picture_rect(self) -> QRect:
        """Where the frame is painted: as large as fits, centred, aspect ratio kept."""
        if self._frame is None:
            return QRect()
        size = self._frame.size()
        if size.isEmpty():
            return QRect()
        fitted = size.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        corner = QPoint(
            (self.width() - fitted.width()) // 2, (self.height() - fitted.height()) // 2
        )
        return QRect(corner, fitted)

    def _on_frame(self, frame: QVideoFrame) -> None:
        if not frame.isValid():
            return  # the end of a stream sends an empty frame: keep the last picture
        self._frame = frame
        self.frames_received += 1
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            target = self.picture_rect()
            if not target.isEmpty():
                image = self.current_image()
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                painter.drawImage(target, image)
        finally:
            painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            moved = (event.position().toPoint() - self._press).manhattanLength()
            if moved >= QApplication.startDragDistance():
                self._press = None
                self.drag_requested.emit()
                return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pressed, self._press = self._press, None
        if pressed is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)


def file_mime_data(path: Path) -> QMimeData:
    """Drag-and-drop data for one local file: its ``file://`` URL as ``text/uri-list``.

    File managers and editing timelines (DaVinci Resolve, Premiere, Kdenlive) accept a file
    dropped as a URL list; no plain-text form is added, so a text field receiving the drop
    does not paste a path instead of the target opening the file.
    """
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(Path(path).absolute()))])
    return data


def make_file_drag(source: QWidget, path: Path, picture: QImage | None = None) -> QDrag:
    """A copy drag of ``path`` from ``source``, showing a thumbnail of ``picture``.

    Run it with ``drag.exec(Qt.DropAction.CopyAction)``; the file itself stays in place.
    """
    drag = QDrag(source)
    drag.setMimeData(file_mime_data(path))
    if picture is not None and not picture.isNull():
        thumbnail = QPixmap.fromImage(
            picture.scaledToWidth(
                min(DRAG_THUMBNAIL_WIDTH, picture.width()),
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        drag.setPixmap(thumbnail)
        drag.setHotSpot(QPoint(thumbnail.width() // 2, thumbnail.height() // 2))
    return drag

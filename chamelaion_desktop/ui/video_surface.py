"""A video picture that ``grab()`` can see, and the drag that carries the file out.

``QVideoWidget`` renders through a native surface that ``grab()`` (and so every screenshot
and test) sees as blank (PITFALLS.md). This widget keeps the latest ``QVideoFrame`` of its
own ``QVideoSink`` and paints it with QPainter, letterboxed on a dark background. The frame is
converted to an image only when painted, so frames that arrive faster than repaints cost
nothing.

Planar YUV 4:2:0 frames (what software decoding gives) are scaled to the size on screen and
converted in one pass by ``core.frames`` (FFmpeg's swscale): ~0.7 ms for a 1280x720 frame,
where ``QVideoFrame.toImage()`` converts the full frame on the CPU when Qt has no GPU
backend (offscreen, Xvfb, many VMs), ~7-12 ms on the GUI thread 30 times a second
(benchmarks/bench_ui.py). Other frames, and every frame until PyAV is loaded (a background
import started with the sink), go through ``toImage()``.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QPoint, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDrag, QImage, QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

if TYPE_CHECKING:
    # Imported for real on first use of ``sink``: loading QtMultimedia (and QtNetwork with
    # it) takes ~0.03 s that the window's first frame does not need.
    from PySide6.QtMultimedia import QVideoFrame, QVideoSink

    from ..core.frames import FrameScaler

log = logging.getLogger(__name__)

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
        self._sink: QVideoSink | None = None
        self._frame: QVideoFrame | None = None
        self._shown: QImage | None = None  # the frame converted at its size on screen
        self._frames_module: Future[ModuleType] | None = None
        self._scaler: FrameScaler | None = None
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
        """Give this to ``QMediaPlayer.setVideoSink`` (made on first access)."""
        if self._sink is None:
            from PySide6.QtMultimedia import QVideoSink

            self._sink = QVideoSink(self)
            self._sink.videoFrameChanged.connect(self._on_frame)
            self._load_scaler()
        return self._sink

    def _load_scaler(self) -> None:
        # PyAV takes ~0.08 s to import: in a thread, so the GUI thread never waits for it.
        future: Future[ModuleType] = Future()
        self._frames_module = future

        def load() -> None:
            try:
                from ..core import frames

                future.set_result(frames)
            except BaseException as exc:  # reported on the GUI thread; toImage() stays
                future.set_exception(exc)

        threading.Thread(target=load, name="preview-frames-import", daemon=True).start()

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
        self._shown = None
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
        self._shown = None
        self.frames_received += 1
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            target = self.picture_rect()
            if not target.isEmpty():
                shown = self._image_on_screen(target.size())
                if shown is not None:
                    painter.drawImage(target.topLeft(), shown)
                else:
                    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                    painter.drawImage(target, self.current_image())
        finally:
            painter.end()

    def _image_on_screen(self, size: QSize) -> QImage | None:
        """The frame scaled to ``size`` (logical pixels) by ``core.frames``, kept until the
        next frame; None when that path does not apply (then ``toImage()`` is used)."""
        frame = self._frame
        ratio = self.devicePixelRatioF()
        if self._shown is not None and self._shown.deviceIndependentSize().toSize() == size:
            return self._shown
        scaler = self._frame_scaler()
        if frame is None or scaler is None or not _plain_yuv420p(frame):
            return None
        from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat

        from ..core import frames

        surface = frame.surfaceFormat()
        matrix = {
            QVideoFrameFormat.ColorSpace.ColorSpace_BT601: frames.BT601,
            QVideoFrameFormat.ColorSpace.ColorSpace_BT709: frames.BT709,
            QVideoFrameFormat.ColorSpace.ColorSpace_BT2020: frames.BT2020,
        }.get(surface.colorSpace())
        full = surface.colorRange() == QVideoFrameFormat.ColorRange.ColorRange_Full
        width = max(1, round(size.width() * ratio))
        height = max(1, round(size.height() * ratio))
        if not frame.map(QVideoFrame.MapMode.ReadOnly):
            return None
        try:
            picture = scaler.yuv420p_to_bgra(
                [frame.bits(plane) for plane in range(3)],
                [frame.bytesPerLine(plane) for plane in range(3)],
                frame.width(),
                frame.height(),
                width,
                height,
                matrix=matrix,
                full_range=full,
            )
        except Exception:  # an unexpected layout: toImage() knows every format
            log.debug("frame scaling failed; using QVideoFrame.toImage()", exc_info=True)
            return None
        finally:
            frame.unmap()
        image = QImage(
            picture.data, picture.width, picture.height, picture.stride, QImage.Format.Format_RGB32
        ).copy()  # owns its pixels: ``picture.data`` goes away
        image.setDevicePixelRatio(ratio)
        self._shown = image
        return image

    def _frame_scaler(self) -> FrameScaler | None:
        if self._scaler is None:
            future = self._frames_module
            if future is None or not future.done():
                return None
            if future.exception() is not None:
                log.warning("PyAV did not load; the preview converts frames with Qt")
                self._frames_module = None
                return None
            self._scaler = future.result().FrameScaler()
        return self._scaler

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


def _plain_yuv420p(frame: QVideoFrame) -> bool:
    """True for an 8-bit planar YUV 4:2:0 frame stored top to bottom, neither rotated nor
    mirrored: what ``core.frames`` converts exactly as ``toImage()`` would."""
    from PySide6.QtMultimedia import QtVideo, QVideoFrameFormat

    surface = frame.surfaceFormat()
    return (
        frame.pixelFormat() == QVideoFrameFormat.PixelFormat.Format_YUV420P
        and surface.scanLineDirection() == QVideoFrameFormat.Direction.TopToBottom
        and frame.rotation() == QtVideo.Rotation.None_
        and not frame.mirrored()
    )

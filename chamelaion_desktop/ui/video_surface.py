"""A video picture that ``grab()`` can see, and the drag that carries the file out.

``QVideoWidget`` renders through a native surface that ``grab()`` (and so every screenshot
and test) sees as blank (PITFALLS.md). This widget keeps the latest ``QVideoFrame`` of its
own ``QVideoSink`` and paints it with QPainter, letterboxed on a dark background.

Frames are made ready to paint off the GUI thread: each frame that arrives is handed to
one worker thread (``_frame_converter``), which converts it with Qt (``toImage()``) and
scales it to the size on screen; the GUI thread only draws that image (~0.3 ms). Qt's
conversion costs ~5-12 ms a 1280x720 frame when Qt has no GPU backend (offscreen, Xvfb,
many VMs), but PySide releases the GIL around it, so the GUI thread runs meanwhile; done
on the GUI thread 30 times a second, it made the window stall (benchmarks/bench_ui.py).
Frames that arrive while the worker is busy are skipped but for the newest.

The worker is a Python thread of ours, not QtMultimedia's render thread (a ``Direct``
connection to the sink would convert there): the GUI thread holds the GIL through calls
such as ``QMediaPlayer.stop()`` that wait for the render thread, which would then wait for
the GIL in the slot: a deadlock.

When the size on screen changes while the video is paused, the GUI thread converts the
frame itself, once: through ``core.frames`` (FFmpeg's swscale via PyAV, ~0.7 ms for a
1280x720 YUV 4:2:0 frame; PyAV is loaded in the background the first time) or, until
then and for other formats, with ``toImage()``. The worker does not use PyAV: its Python
glue holds the GIL for ~1 ms a frame, and importing it (~0.1 s, partly under the GIL)
while the window is busy froze it for 40-70 ms (bench_ui.py); Qt's conversion only costs
CPU on the other core.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QMimeData, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

if TYPE_CHECKING:
    # Imported for real on first use: QtMultimedia (and QtNetwork with it) with the sink,
    # the rest when a frame or a drag needs them; the window's first frame needs none
    # (nor ``concurrent.futures`` and ``ctypes``: ~5 ms of the start between them).
    from concurrent.futures import Future, ThreadPoolExecutor

    from PySide6.QtGui import QDrag, QImage, QMouseEvent, QPaintEvent, QResizeEvent
    from PySide6.QtMultimedia import QVideoFrame, QVideoSink

    from ..core.frames import FrameScaler

log = logging.getLogger(__name__)

BACKGROUND = QColor(20, 20, 22)
#: Width of the picture under the cursor while dragging the video out (pixels).
DRAG_THUMBNAIL_WIDTH = 160


class VideoSurface(QWidget):
    """Shows the frames of ``sink`` keeping their aspect ratio; press-and-move drags.

    ``frames_received`` counts the frames that arrived (no public per-frame signal: 25+
    Python emissions a second buy a caller nothing).

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
        self._frames_module: Future[ModuleType] | None = None  # PyAV (``_frame_scaler``)
        self._frames_requested = False
        self._scaler: FrameScaler | None = None  # the GUI thread's (FrameScaler: one a thread)
        self._press: QPoint | None = None
        self.frames_received = 0
        # Converting off the GUI thread (``_on_frame``), GUI-thread state only: the worker
        # gets values and hands its result back through ``_Relay`` (see its docstring).
        self._box = (0, 0, 1.0)  # the widget's size (logical pixels) and its pixel ratio
        self._pending: QVideoFrame | None = None  # arrived while the worker was busy
        self._busy = False
        self._generation = 0  # bumped by ``clear``: older results are dropped
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
            self._sink.videoFrameChanged.connect(self._on_frame)  # queued: render thread
            _frame_converter().submit(int)  # starts its thread now, not with the first frame
        return self._sink

    def sizeHint(self) -> QSize:
        return QSize(480, 270)

    def has_frame(self) -> bool:
        """True once a frame is shown (after ``clear`` until the next one arrives: False)."""
        return self._frame is not None

    def current_image(self) -> QImage:
        """The frame on screen as an image at its own resolution (null when none)."""
        if self._frame is None:
            from PySide6.QtGui import QImage

            return QImage()
        return self._frame.toImage()

    def clear(self) -> None:
        """Forget the frame shown (a new video is about to load)."""
        self._frame = None
        self._shown = None
        self._pending = None
        self._generation += 1
        self.update()

    def picture_rect(self) -> QRect:
        """Where the frame is painted: as large as fits, centred, aspect ratio kept."""
        if self._frame is None:
            return QRect()
        return _fitted(self._frame.size(), self.size())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._box = (self.width(), self.height(), self.devicePixelRatioF())
        super().resizeEvent(event)

    # -- frames -------------------------------------------------------------------------

    def _on_frame(self, frame: QVideoFrame) -> None:
        if not frame.isValid():
            return  # the end of a stream sends an empty frame: keep the last picture
        self.frames_received += 1
        if self._busy:
            self._pending = frame  # the newest waits; older ones are skipped
            return
        self._submit(frame)

    def _submit(self, frame: QVideoFrame) -> None:
        self._busy = True
        relay = _relay()
        me, generation, box = weakref.ref(self), self._generation, self._box

        def convert() -> None:  # on the worker thread: values only, never ``self``
            relay.converted.emit((me, generation, frame, _convert(frame, box)))

        _frame_converter().submit(convert)

    def _take_converted(self, generation: int, frame: QVideoFrame, image: QImage | None) -> None:
        # GUI thread, through ``_Relay``, once ``_convert`` is over.
        self._busy = False
        if generation == self._generation:
            self._frame, self._shown = frame, image
            self.update()
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._submit(pending)

    # -- painting -----------------------------------------------------------------------

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
        """The frame scaled to ``size`` (logical pixels), kept until the next frame; None
        when only ``toImage()`` applies (then it is painted scaled by QPainter)."""
        if self._shown is not None and self._shown.deviceIndependentSize().toSize() == size:
            return self._shown
        frame = self._frame
        scaler = self._frame_scaler()
        if frame is None or scaler is None:
            return None
        image = _scaled_with_pyav(scaler, frame, size, self.devicePixelRatioF())
        if image is not None:
            self._shown = image
        return image

    def _frame_scaler(self) -> FrameScaler | None:
        """The GUI thread's ``FrameScaler``, or None while PyAV loads (the first call
        starts loading it in the background)."""
        if self._scaler is None:
            if not self._frames_requested:
                self._frames_requested = True
                self._frames_module = load_frames_module()
            self._scaler = _new_scaler(self._frames_module)
        return self._scaler

    # -- mouse --------------------------------------------------------------------------

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


def _convert(frame: QVideoFrame, box: tuple[int, int, float]) -> QImage | None:
    """On the converting thread: ``frame`` as an image of its size on screen in ``box``
    (width, height in logical pixels, pixel ratio); None when it is not on screen yet or
    cannot be converted (the GUI thread then converts it when painting)."""
    try:
        width, height, ratio = box
        target = _fitted(frame.size(), QSize(width, height))
        return None if target.isEmpty() else _scaled_with_qt(frame, target.size(), ratio)
    except Exception:  # the GUI thread converts it instead
        log.debug("frame conversion failed off the GUI thread", exc_info=True)
        return None


class _Relay(QObject):
    """Carries converted frames from the worker thread to their surface on the GUI thread.

    One for the process, made on the GUI thread and never deleted. A signal of the surface
    itself, emitted from the worker, raced with the surface's destruction on the GUI thread
    and crashed in Qt's signal code (tests under load); the worker now never touches a
    surface, only this object, and the GUI thread checks that the surface still exists.

    Signals:
        converted(object): ``(weakref to the surface, generation, frame, image or None)``.
    """

    converted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.converted.connect(self._deliver)  # queued: emitted on the worker thread

    @staticmethod
    def _deliver(result: tuple[weakref.ref[VideoSurface], int, QVideoFrame, QImage | None]) -> None:
        me, generation, frame, image = result
        surface = me()
        if surface is not None and shiboken6.isValid(surface):
            surface._take_converted(generation, frame, image)


def _relay() -> _Relay:
    """The process's ``_Relay`` (made on first use, on the GUI thread)."""
    global _the_relay
    if _the_relay is None:
        _the_relay = _Relay()
    return _the_relay


def _fitted(frame_size: QSize, box: QSize) -> QRect:
    """The largest rectangle of ``frame_size``'s aspect ratio inside ``box``, centred."""
    if frame_size.isEmpty() or box.isEmpty():
        return QRect()
    fitted = frame_size.scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
    corner = QPoint((box.width() - fitted.width()) // 2, (box.height() - fitted.height()) // 2)
    return QRect(corner, fitted)


def _new_scaler(loading: Future[ModuleType] | None) -> FrameScaler | None:
    """A ``FrameScaler`` once PyAV has loaded (``load_frames_module``), else None."""
    if loading is None or not loading.done():
        return None
    if loading.exception() is not None:
        return None
    scaler: FrameScaler = loading.result().FrameScaler()
    return scaler


def _scaled_with_pyav(
    scaler: FrameScaler, frame: QVideoFrame, size: QSize, ratio: float
) -> QImage | None:
    """``frame`` scaled to ``size`` (logical pixels, times ``ratio`` on the device) by
    ``core.frames``; None when that path does not apply (not plain 8-bit YUV 4:2:0)."""
    if not _plain_yuv420p(frame):
        return None
    from PySide6.QtGui import QImage
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
    return image


def _scaled_with_qt(frame: QVideoFrame, size: QSize, ratio: float) -> QImage:
    """``frame`` converted by Qt and scaled smoothly to ``size`` (logical pixels)."""
    pixels = QSize(max(1, round(size.width() * ratio)), max(1, round(size.height() * ratio)))
    image = frame.toImage().scaled(
        pixels, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    image.setDevicePixelRatio(ratio)
    return image


def _frame_converter() -> ThreadPoolExecutor:
    """The one thread that converts video frames for every surface (made on first use)."""
    global _converter
    from concurrent.futures import ThreadPoolExecutor

    with _lock:
        if _converter is None:
            _converter = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="preview-frames", initializer=_yield_cpu
            )
        return _converter


def _yield_cpu() -> None:
    """Run the calling thread at a lower priority (Linux: a thread's own nice value), so
    that on a busy machine the GUI thread gets the CPU first: a frame converted late is
    skipped, a late GUI thread is a frozen window (bench_ui.py: a 2-core machine uploading
    at full speed while the preview plays). Best effort elsewhere."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
        thread = threading.get_native_id()
        nice = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, nice + CONVERTER_NICE))


# -- loading PyAV off the GUI thread ------------------------------------------------------

#: How much lower the frame converter thread's priority is (added to its ``nice`` value).
CONVERTER_NICE = 10

_lock = threading.Lock()
_frames_loading: Future[ModuleType] | None = None
_converter: ThreadPoolExecutor | None = None
_the_relay: _Relay | None = None


def load_frames_module() -> Future[ModuleType]:
    """Import ``core.frames`` (PyAV, ~0.1 s) in a background thread, once per process;
    later calls return the same future. Until it resolves, the GUI thread's conversions
    (``VideoSurface._image_on_screen``) go through ``toImage()``.

    PyAV's FFmpeg libraries are mapped first through ``ctypes``, which lets go of the GIL
    while the dynamic linker works (``import`` holds it: 10-20 ms the GUI thread could
    not run Python).

    Returns:
        Resolves to the ``core.frames`` module, or to the exception that kept it from
        loading (the preview then converts every frame with Qt).
    """
    global _frames_loading
    from concurrent.futures import Future

    with _lock:
        if _frames_loading is not None:
            return _frames_loading
        loading: Future[ModuleType] = Future()
        _frames_loading = loading

    def load() -> None:
        _preload_pyav()
        try:
            from ..core import frames

            loading.set_result(frames)
        except BaseException as exc:  # the preview converts frames with Qt instead
            log.warning("PyAV did not load (%s); the preview converts frames with Qt", exc)
            loading.set_exception(exc)

    threading.Thread(target=load, name="preview-frames-import", daemon=True).start()
    return loading


def _preload_pyav() -> None:
    """Map PyAV's extension modules and, through them, its own FFmpeg libraries, each
    private to its loader (``RTLD_LOCAL``: Qt's FFmpeg build is another version, and the
    two must not see each other's symbols). Best effort: what fails loads with ``import``.
    """
    import glob
    import importlib.util

    try:
        spec = importlib.util.find_spec("av")
    except (ImportError, ValueError):
        return
    if spec is None or not spec.submodule_search_locations:
        return
    folder = next(iter(spec.submodule_search_locations))
    map_libraries(sorted(glob.glob(os.path.join(folder, "**", "*.so"), recursive=True)))


def map_libraries(paths: Iterable[str]) -> None:
    """Map each shared library of ``paths`` (absolute) with ``ctypes``, private to its
    loader (``RTLD_LOCAL``: Qt's and PyAV's FFmpeg builds are different versions and must
    not see each other's symbols). Best effort: one that fails is loaded again, for real,
    by whoever needs it."""
    import ctypes  # here, not at the top: the window's first frame maps nothing

    for path in paths:
        try:
            ctypes.CDLL(path, mode=os.RTLD_LOCAL)
        except OSError as exc:
            log.debug("not preloaded: %s (%s)", path, exc)


# -- dragging the file out -----------------------------------------------------------------


def file_mime_data(path: Path) -> QMimeData:
    """Drag-and-drop data for one local file: its ``file://`` URL as ``text/uri-list``.

    File managers and editing timelines (DaVinci Resolve, Premiere, Kdenlive) accept a file
    dropped as a URL list; no plain-text form is added, so a text field receiving the drop
    does not paste a path instead of the target opening the file.
    """
    from PySide6.QtCore import QUrl

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(Path(path).absolute()))])
    return data


def make_file_drag(source: QWidget, path: Path, picture: QImage | None = None) -> QDrag:
    """A copy drag of ``path`` from ``source``, showing a thumbnail of ``picture``.

    Run it with ``drag.exec(Qt.DropAction.CopyAction)``; the file itself stays in place.
    """
    from PySide6.QtGui import QDrag, QPixmap

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

"""An inline video player: the picture, play/pause, seek, time, volume and mute.

The ``QMediaPlayer`` and ``QAudioOutput`` are made when a video is about to be needed, so a
window that never previews anything never pays for them: ``prepare`` makes them a step at
a time on the GUI thread (the control icons, QtNetwork, QtMultimedia, the big libraries of
its FFmpeg plugin, then the player: 5-12 ms each), where making them at once on the first
``load`` froze the window for 30-50 ms (PITFALLS.md: ~0.25 s on a slower machine;
benchmarks/bench_ui.py). Doing it in another thread instead made things worse: the dynamic
linker working there stalled the GUI thread too. What the steps read from disk is read
first by a thread of its own (``read_ahead_player_files``): with those files out of the
page cache (after a multi-gigabyte upload, say) the steps took 20-66 ms each, not 5-12.
Without a sound device ``QAudioOutput`` stays silent and playback still advances.

The control icons come from the style when the player is prepared, loaded or shown, not
when it is built: the window's first frame shows no player, and PySide creates eleven enum
types with ``QStyle`` (10-15 ms of the start, benchmarks/bench_startup.py).

The player's commands (``stop``, ``setSource``, ``play``, ``pause``, ``setPosition``) are
queued calls run by the event loop (``_invoke``), never called from Python: a call from
Python holds the GIL while QtMultimedia tears its pipeline down, and the pipeline's threads
destroy objects connected to the ``QAudioOutput`` made here, whose ``disconnectNotify``
then waits for the GIL inside PySide while holding the lock the GUI thread waits for: the
window froze for good, about once in ten stop-after-play under load (tests).
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .video_surface import VideoSurface, map_libraries

if TYPE_CHECKING:
    # QtMultimedia itself is imported with the player, on the first ``load``.
    from PySide6.QtGui import QIcon, QShowEvent
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer


log = logging.getLogger(__name__)

#: The largest libraries QtMultimedia's FFmpeg plugin links, in Qt's library folder: mapped
#: one per step by ``VideoPlayer.prepare`` (~6-8 ms each here) before the plugin itself.
PLUGIN_LIBRARIES = ("libQt6Quick.so.6", "libavformat.so.[0-9]*")

#: What making the player reads, as glob patterns under Qt's library folder ("lib"), its
#: plugin folder ("plugins") and PySide6's own ("pyside"): QtMultimedia's FFmpeg plugin,
#: the libraries it links (``ldd``) and the Python modules. Only names that end in a
#: version number are read in "lib": the wheel also ships unversioned copies of the same.
PLAYER_FILES = (
    ("lib", "libQt6Multimedia.so.*"),
    ("lib", "libQt6Network.so.*"),
    ("lib", "libQt6OpenGL.so.*"),
    ("lib", "libQt6Concurrent.so.*"),
    ("lib", "libQt6Quick.so.*"),
    ("lib", "libQt6Qml.so.*"),
    ("lib", "libQt6QmlMeta.so.*"),
    ("lib", "libQt6QmlModels.so.*"),
    ("lib", "libQt6QmlWorkerScript.so.*"),
    ("lib", "libQt6DBus.so.*"),
    ("lib", "libQt6FFmpegStub*.so.*"),
    ("lib", "libav*.so.*"),
    ("lib", "libsw*.so.*"),
    ("plugins", "multimedia/*.so"),
    ("pyside", "QtMultimedia.*so"),
    ("pyside", "QtNetwork.*so"),
)
#: ``prepare``'s steps wait at most this long for the read-ahead (seconds).
READ_AHEAD_WAIT_S = 3.0


def format_time(ms: int) -> str:
    """``m:ss`` (or ``h:mm:ss`` from one hour) for a time in milliseconds, rounded down."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


class VideoPlayer(QWidget):
    """A ``VideoSurface`` over a control bar, playing one local file at a time.

    ``play_action`` (shortcut Space) toggles play/pause while the player or one of its
    children has focus; a window that wants Space everywhere adds the action to itself and
    sets its shortcut context to ``Qt.ShortcutContext.WindowShortcut``.

    Signals:
        playing_changed(playing: bool): playback started (True) or paused/stopped (False).
        error(message: str): the file cannot be played, in plain words.
    """

    playing_changed = Signal(bool)
    error = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, play_action: QAction | None = None
    ) -> None:
        """Args:
        parent: the owning widget.
        play_action: the action to use as ``play_action`` (an owner that exists before
            the player shares its own); made here when None.
        """
        super().__init__(parent)
        self._player: QMediaPlayer | None = None
        self._audio: QAudioOutput | None = None
        self._steps: Iterator[Callable[[], object]] | None = None  # ``prepare``
        self._reading: threading.Thread | None = None  # ``prepare``'s read-ahead
        self._reading_until = 0.0  # monotonic seconds: stop waiting for it then
        self._waiting_for_files = False
        # Commands given while those steps make the player: run once it exists.
        self._pending: list[tuple[str, tuple[object, ...]]] = []
        self._source: Path | None = None
        # Qt deletes children in creation order: the player must go before the surface
        # whose sink it feeds, so it lives under a holder created ahead of the surface.
        self._media_owner = QObject(self)
        self.surface = VideoSurface(self)
        self.surface.clicked.connect(self.toggle_play)

        self._icons_shown = False  # ``_show_icons`` (first load or show)
        self.play_action = play_action if play_action is not None else QAction("Play", self)
        self.play_action.setText("Play")
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.play_action.setToolTip("Play or pause (Space)")
        self.play_action.triggered.connect(self.toggle_play)
        self.play_action.setEnabled(False)
        self.addAction(self.play_action)

        self.play_button = QToolButton(self)
        self.play_button.setDefaultAction(self.play_action)
        self.play_button.setAutoRaise(True)

        self.seek_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.seek_slider.setRange(0, 0)
        self.seek_slider.setEnabled(False)
        self.seek_slider.setAccessibleName("Position")
        self.seek_slider.setToolTip("Position in the video")
        self.seek_slider.actionTriggered.connect(self._on_seek_action)
        self.seek_slider.sliderMoved.connect(self.seek)

        self.time_label = QLabel(format_time(0) + " / " + format_time(0), self)
        self.time_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("00:00:00 / 0:00:00"))
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.mute_button = QToolButton(self)
        self.mute_button.setCheckable(True)
        self.mute_button.setAutoRaise(True)
        self.mute_button.setToolTip("Mute")
        self.mute_button.toggled.connect(self.set_muted)

        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(100)
        self.volume_slider.setMaximumWidth(100)
        self.volume_slider.setAccessibleName("Volume")
        self.volume_slider.setToolTip("Volume")
        self.volume_slider.valueChanged.connect(self.set_volume)

        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(4, 2, 4, 2)
        self.controls.addWidget(self.play_button)
        self.controls.addWidget(self.seek_slider, 1)
        self.controls.addWidget(self.time_label)
        self.controls.addWidget(self.mute_button)
        self.controls.addWidget(self.volume_slider)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.surface, 1)
        layout.addLayout(self.controls)
        self._show_muted(False)

    # -- state ------------------------------------------------------------------------

    @property
    def media_player(self) -> QMediaPlayer | None:
        """The ``QMediaPlayer``, once a file was loaded (None before)."""
        return self._player

    @property
    def source(self) -> Path | None:
        """The file loaded, or None."""
        return self._source

    def is_playing(self) -> bool:
        """True while the video plays."""
        if self._player is None:
            return False
        from PySide6.QtMultimedia import QMediaPlayer  # loaded already, with the player

        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def position(self) -> int:
        """Playback position in milliseconds."""
        return self._player.position() if self._player is not None else 0

    def duration(self) -> int:
        """Length of the loaded video in milliseconds (0 until known)."""
        return self._player.duration() if self._player is not None else 0

    # -- commands ---------------------------------------------------------------------

    def prepare(self) -> None:
        """Make the media player soon, a step at a time between other events (see the
        module docstring), so that ``load`` finds it ready. Idempotent; a ``load`` before
        the steps are over waits for them."""
        if self._player is not None or self._steps is not None:
            return
        self._reading = read_ahead_player_files()
        self._reading_until = time.monotonic() + READ_AHEAD_WAIT_S
        self._steps = iter(
            [
                self._show_icons,  # QStyle's Python type: ~10 ms the first time
                self._wait_for_files,
                lambda: importlib.import_module("PySide6.QtNetwork"),
                lambda: importlib.import_module("PySide6.QtMultimedia"),
                *(lambda name=name: _map_qt_library(name) for name in PLUGIN_LIBRARIES),
                self._ensure_player,
            ]
        )
        self._schedule_step()

    def _schedule_step(self) -> None:
        # A 1 ms timer, not a zero one: Qt runs zero timers posted by a zero timer in the
        # same pass, and the steps would then run back to back.
        QTimer.singleShot(1, self, self._next_step)

    def _next_step(self) -> None:
        if not self._preparing():
            return
        if self._waiting_for_files:
            reading = self._reading is not None and self._reading.is_alive()
            if reading and time.monotonic() < self._reading_until:
                QTimer.singleShot(5, self, self._next_step)  # the read-ahead is not done
                return
            self._waiting_for_files = False
        step = next(self._steps, None)
        if step is None:
            return
        step()
        self._schedule_step()

    def _preparing(self) -> bool:
        """``prepare``'s steps are making the player (they have begun and not ended)."""
        return self._player is None and self._steps is not None

    def _wait_for_files(self) -> None:
        # The steps after this one read what the read-ahead thread is reading:
        # ``_next_step`` holds them back until it is done (or READ_AHEAD_WAIT_S passed).
        self._waiting_for_files = True

    def load(self, path: Path) -> None:
        """Open ``path`` paused on its first frame; replaces what was loaded. The player
        gets it from the event loop's next turn (``_invoke``), or, while ``prepare``'s steps
        are still making it, once they are done: made at once, the rest of the player froze
        the window for 30-50 ms when a small video downloaded quickly (bench_ui.py)."""
        from PySide6.QtCore import Q_ARG, QUrl

        self._show_icons()
        if not self._preparing():
            self._ensure_player()
        self.surface.clear()
        self._source = Path(path)
        self._invoke("stop")
        self._invoke("setSource", Q_ARG(QUrl, QUrl.fromLocalFile(str(self._source))))
        # Pausing a freshly loaded source decodes and shows its first frame.
        self._invoke("pause")
        self.play_action.setEnabled(True)
        self.seek_slider.setEnabled(True)

    def unload(self) -> None:
        """Stop and let go of the file (it may then be moved or deleted), from the event
        loop's next turn (``_invoke``)."""
        self._pending.clear()
        if self._player is not None:
            from PySide6.QtCore import Q_ARG, QUrl

            self._invoke("stop")
            self._invoke("setSource", Q_ARG(QUrl, QUrl()))
        self._source = None
        self.surface.clear()
        self.play_action.setEnabled(False)
        self.seek_slider.setEnabled(False)
        self.seek_slider.setRange(0, 0)
        self._show_time(0, 0)

    def play(self) -> None:
        """Start or resume playback (from the start again once it reached the end)."""
        if self._source is not None:
            self._invoke("play")

    def pause(self) -> None:
        """Pause playback; the frame stays on screen."""
        if self._source is not None:
            self._invoke("pause")

    def toggle_play(self) -> None:
        """Pause when playing, play otherwise (the Space key)."""
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def seek(self, ms: int) -> None:
        """Jump to ``ms`` milliseconds from the start."""
        if self._source is not None:
            from PySide6.QtCore import Q_ARG

            self._invoke("setPosition", Q_ARG("qlonglong", max(0, ms)))

    def set_volume(self, percent: int) -> None:
        """Volume 0..100 (linear); the slider follows."""
        percent = max(0, min(100, percent))
        if self.volume_slider.value() != percent:
            self.volume_slider.setValue(percent)  # re-enters once with the same value
            return
        if self._audio is not None:
            self._audio.setVolume(percent / 100)

    def set_muted(self, muted: bool) -> None:
        """Silence (True) or restore (False) the sound; the mute button follows."""
        if self.mute_button.isChecked() != muted:
            self.mute_button.setChecked(muted)  # re-enters through ``toggled``
            return
        if self._audio is not None:
            self._audio.setMuted(muted)
        self._show_muted(muted)

    # -- internals --------------------------------------------------------------------

    def _invoke(self, slot: str, *args: object) -> None:
        """Call the media player's ``slot`` from the event loop (queued), not from Python:
        see the module docstring. Calls made one after another keep their order; made
        before the player exists (``prepare`` under way), they wait for it."""
        if self._player is None:
            self._pending.append((slot, args))
            return
        from PySide6.QtCore import QMetaObject

        QMetaObject.invokeMethod(self._player, slot, Qt.ConnectionType.QueuedConnection, *args)

    def _ensure_player(self) -> QMediaPlayer:
        self._steps = iter(())  # ``prepare``'s steps are over
        if self._player is None:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self._audio = QAudioOutput(self._media_owner)
            self._audio.setVolume(self.volume_slider.value() / 100)
            self._audio.setMuted(self.mute_button.isChecked())
            self._player = QMediaPlayer(self._media_owner)
            self._player.setAudioOutput(self._audio)
            self._player.setVideoSink(self.surface.sink)
            self._player.durationChanged.connect(self._on_duration)
            self._player.positionChanged.connect(self._on_position)
            self._player.playbackStateChanged.connect(self._on_state)
            self._player.errorOccurred.connect(self._on_error)
        pending, self._pending = self._pending, []
        for slot, args in pending:
            self._invoke(slot, *args)
        return self._player

    def _on_seek_action(self, _action: int) -> None:
        # Clicks and keys on the slider: sliderPosition is already the new value here.
        if not self.seek_slider.isSliderDown():
            self.seek(self.seek_slider.sliderPosition())

    def _on_duration(self, ms: int) -> None:
        self.seek_slider.setRange(0, max(0, ms))
        self._show_time(self.position(), ms)

    def _on_position(self, ms: int) -> None:
        if not self.seek_slider.isSliderDown():
            self.seek_slider.setValue(ms)
        self._show_time(ms, self.duration())

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = state == QMediaPlayer.PlaybackState.PlayingState
        self._show_icons()
        self.play_action.setIcon(
            standard_icon(self, "SP_MediaPause" if playing else "SP_MediaPlay")
        )
        self.play_action.setText("Pause" if playing else "Play")
        self.playing_changed.emit(playing)

    def _on_error(self, _error: QMediaPlayer.Error, text: str) -> None:
        name = self._source.name if self._source is not None else "The video"
        detail = f" ({text.rstrip('.')})" if text else ""
        self.error.emit(f"{name} cannot be played{detail}. Download it again or open another job.")

    def _show_time(self, position: int, duration: int) -> None:
        self.time_label.setText(f"{format_time(position)} / {format_time(duration)}")

    def _show_muted(self, muted: bool) -> None:
        if self._icons_shown:
            icon = "SP_MediaVolumeMuted" if muted else "SP_MediaVolume"
            self.mute_button.setIcon(standard_icon(self, icon))
        self.mute_button.setToolTip("Sound off: click to turn it on" if muted else "Mute")

    def showEvent(self, event: QShowEvent) -> None:
        self._show_icons()  # before the first paint of the controls
        super().showEvent(event)

    def _show_icons(self) -> None:
        if self._icons_shown:
            return
        self._icons_shown = True
        playing = self.is_playing()
        self.play_action.setIcon(
            standard_icon(self, "SP_MediaPause" if playing else "SP_MediaPlay")
        )
        self._show_muted(self.mute_button.isChecked())


def _map_qt_library(pattern: str) -> None:
    """Map the first library ``pattern`` names in Qt's library folder (``map_libraries``;
    the plugin loads it anyway)."""
    map_libraries(_qt_files("lib", pattern)[:1])


def _qt_files(where: str, pattern: str) -> list[str]:
    """The paths ``pattern`` matches, sorted, in Qt's library folder (``where`` "lib"), its
    plugin folder ("plugins") or PySide6's own ("pyside")."""
    import glob

    import PySide6
    from PySide6.QtCore import QLibraryInfo

    if where == "pyside":
        folder = os.path.dirname(PySide6.__file__)
    else:
        kind = QLibraryInfo.LibraryPath
        folder = QLibraryInfo.path(kind.LibrariesPath if where == "lib" else kind.PluginsPath)
    return sorted(glob.glob(os.path.join(folder, pattern)))


def player_files() -> list[str]:
    """The files of ``PLAYER_FILES`` that exist here (absolute paths; none on a platform
    whose libraries are named otherwise)."""
    return [
        path
        for where, pattern in PLAYER_FILES
        for path in _qt_files(where, pattern)
        if where != "lib" or re.search(r"\.so\.\d+$", path)
    ]


def read_ahead_player_files() -> threading.Thread:
    """Read ``player_files()`` once, in a daemon thread, so that they are in the page
    cache when the GUI thread maps them (reads release the GIL; one 1 MiB buffer; the
    folders are listed in the thread too).

    Returns:
        The thread, started; it ends when every file was read (errors are skipped: the
        read is only a hint).
    """

    def read() -> None:
        buffer = bytearray(1 << 20)
        for path in player_files():
            try:
                with open(path, "rb", buffering=0) as file:
                    while file.readinto(buffer):
                        pass
            except OSError as exc:
                log.debug("not read ahead: %s (%s)", path, exc)

    thread = threading.Thread(target=read, name="preview-read-ahead", daemon=True)
    thread.start()
    return thread


def standard_icon(widget: QWidget, name: str) -> QIcon:
    """The style's standard icon ``name`` (a ``QStyle.StandardPixmap`` member name) for
    ``widget``. ``QStyle`` is imported here, on first use (see the module docstring)."""
    from PySide6.QtWidgets import QStyle

    return widget.style().standardIcon(getattr(QStyle.StandardPixmap, name))

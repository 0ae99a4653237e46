"""An inline video player: the picture, play/pause, seek, time, volume and mute.

The ``QMediaPlayer`` and ``QAudioOutput`` are made on the first ``load`` (they cost ~0.25 s,
PITFALLS.md), and QtMultimedia is imported then too, so a window that never previews
anything never pays for them. Without a sound device ``QAudioOutput`` stays silent and
playback still advances.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .video_surface import VideoSurface

if TYPE_CHECKING:
    # QtMultimedia itself is imported with the player, on the first ``load``.
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer


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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._player: QMediaPlayer | None = None
        self._audio: QAudioOutput | None = None
        self._source: Path | None = None
        # Qt deletes children in creation order: the player must go before the surface
        # whose sink it feeds, so it lives under a holder created ahead of the surface.
        self._media_owner = QObject(self)
        self.surface = VideoSurface(self)
        self.surface.clicked.connect(self.toggle_play)

        style = self.style()
        self.play_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play", self
        )
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

    def load(self, path: Path) -> None:
        """Open ``path`` paused on its first frame; replaces what was loaded."""
        player = self._ensure_player()
        player.stop()
        self.surface.clear()
        self._source = Path(path)
        player.setSource(QUrl.fromLocalFile(str(self._source)))
        # Pausing a freshly loaded source decodes and shows its first frame.
        player.pause()
        self.play_action.setEnabled(True)
        self.seek_slider.setEnabled(True)

    def unload(self) -> None:
        """Stop and let go of the file (it may then be moved or deleted)."""
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())
        self._source = None
        self.surface.clear()
        self.play_action.setEnabled(False)
        self.seek_slider.setEnabled(False)
        self.seek_slider.setRange(0, 0)
        self._show_time(0, 0)

    def play(self) -> None:
        """Start or resume playback (from the start again once it reached the end)."""
        if self._player is not None and self._source is not None:
            self._player.play()

    def pause(self) -> None:
        """Pause playback; the frame stays on screen."""
        if self._player is not None and self._source is not None:
            self._player.pause()

    def toggle_play(self) -> None:
        """Pause when playing, play otherwise (the Space key)."""
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def seek(self, ms: int) -> None:
        """Jump to ``ms`` milliseconds from the start."""
        if self._player is not None and self._source is not None:
            self._player.setPosition(max(0, ms))

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

    def _ensure_player(self) -> QMediaPlayer:
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
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_action.setIcon(self.style().standardIcon(icon))
        self.play_action.setText("Pause" if playing else "Play")
        self.playing_changed.emit(playing)

    def _on_error(self, _error: QMediaPlayer.Error, text: str) -> None:
        name = self._source.name if self._source is not None else "The video"
        detail = f" ({text.rstrip('.')})" if text else ""
        self.error.emit(f"{name} cannot be played{detail}. Download it again or open another job.")

    def _show_time(self, position: int, duration: int) -> None:
        self.time_label.setText(f"{format_time(position)} / {format_time(duration)}")

    def _show_muted(self, muted: bool) -> None:
        icon = (
            QStyle.StandardPixmap.SP_MediaVolumeMuted
            if muted
            else QStyle.StandardPixmap.SP_MediaVolume
        )
        self.mute_button.setIcon(self.style().standardIcon(icon))
        self.mute_button.setToolTip("Sound off: click to turn it on" if muted else "Mute")

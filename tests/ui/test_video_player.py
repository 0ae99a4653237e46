"""The inline player gets ready a step at a time, shows its icons when first used, and
converts frames off the GUI thread (benchmarks/bench_ui.py measured why), with the same
picture in the end."""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from chamelaion_desktop.ui import video_surface
from chamelaion_desktop.ui.video_player import VideoPlayer
from tests.qt_helpers import centre_luminance

VIDEO = "grid_s2_male_2sentences_6s.mp4"

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def player(qtbot: Any) -> VideoPlayer:
    widget = VideoPlayer()
    qtbot.addWidget(widget)
    widget.resize(480, 320)
    return widget


def test_prepare_makes_the_player_between_events_not_at_once(
    player: VideoPlayer, qtbot: Any
) -> None:
    player.prepare()
    assert player.media_player is None  # the steps run from the event loop
    qtbot.waitUntil(lambda: player.media_player is not None, timeout=10_000)
    made = player.media_player
    player.prepare()  # idempotent
    qtbot.wait(20)
    assert player.media_player is made


def test_a_load_during_prepare_waits_for_its_steps_then_plays(
    player: VideoPlayer, qtbot: Any, media_dir: Path
) -> None:
    player.prepare()
    player.load(media_dir / VIDEO)  # a quick download: the steps are not over yet
    player.play()
    assert player.media_player is None  # not made at once (it froze the window 30-50 ms)
    qtbot.waitUntil(lambda: player.media_player is not None, timeout=10_000)
    made = player.media_player
    assert made is not None
    qtbot.waitUntil(lambda: made.source().toLocalFile().endswith(VIDEO), timeout=5_000)
    qtbot.waitUntil(player.is_playing, timeout=5_000)  # the commands given meanwhile ran


def test_a_load_without_prepare_makes_the_player_at_once(
    player: VideoPlayer, media_dir: Path
) -> None:
    player.load(media_dir / VIDEO)
    assert player.media_player is not None


def test_unloading_during_prepare_drops_the_waiting_commands(
    player: VideoPlayer, qtbot: Any, media_dir: Path
) -> None:
    player.prepare()
    player.load(media_dir / VIDEO)
    player.unload()
    qtbot.waitUntil(lambda: player.media_player is not None, timeout=10_000)
    made = player.media_player
    assert made is not None
    qtbot.wait(100)
    assert made.source().isEmpty() and not player.is_playing()


def test_the_icons_come_with_the_first_load_or_show(
    player: VideoPlayer, qtbot: Any, media_dir: Path
) -> None:
    assert player.play_action.icon().isNull()  # built without QStyle
    assert player.mute_button.icon().isNull()
    player.show()
    qtbot.waitExposed(player)
    assert not player.play_action.icon().isNull()
    assert not player.mute_button.icon().isNull()
    player.set_muted(True)
    muted = player.mute_button.icon().cacheKey()
    player.set_muted(False)
    assert player.mute_button.icon().cacheKey() != muted


def test_frames_are_converted_off_the_gui_thread(
    player: VideoPlayer, qtbot: Any, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    convert = video_surface._scaled_with_qt

    def recording(*args: Any) -> QImage:
        threads.append(threading.current_thread().name)
        return convert(*args)

    monkeypatch.setattr(video_surface, "_scaled_with_qt", recording)
    player.show()
    qtbot.waitExposed(player)
    surface = player.surface
    player.load(media_dir / VIDEO)
    player.play()
    qtbot.waitUntil(lambda: surface.frames_received >= 10 and surface.has_frame(), timeout=10_000)
    player.pause()
    qtbot.wait(100)
    assert threads and threading.main_thread().name not in threads
    shown = surface._shown
    assert shown is not None
    assert shown.deviceIndependentSize().toSize() == surface.picture_rect().size()
    assert centre_luminance(surface.grab().toImage()) > 60  # a face, not black
    player.unload()


def test_a_cleared_surface_drops_a_conversion_still_running(qtbot: Any) -> None:
    surface = video_surface.VideoSurface()
    qtbot.addWidget(surface)
    generation = surface._generation
    surface._busy = True
    surface.clear()  # a new video: what the worker returns next is the old one's
    surface._take_converted(generation, object(), QImage(4, 4, QImage.Format.Format_RGB32))
    assert not surface.has_frame() and surface._shown is None
    assert not surface._busy


def test_a_conversion_ending_after_its_surface_is_gone_is_dropped(qtbot: Any) -> None:
    parent = QWidget()
    surface = video_surface.VideoSurface(parent)
    reference = weakref.ref(surface)
    del surface
    parent.deleteLater()
    qtbot.waitUntil(lambda: reference() is None or not shiboken6.isValid(reference()))
    relay = video_surface._relay()
    relay.converted.emit((reference, 0, object(), None))  # what the worker sends
    qtbot.wait(20)  # delivered to nothing, without error


def test_the_players_commands_run_from_the_event_loop_not_inside_the_call(
    player: VideoPlayer, qtbot: Any, media_dir: Path
) -> None:
    # A call into QMediaPlayer from Python holds the GIL while QtMultimedia's threads may
    # wait for it (video_player.py's docstring): the commands are queued instead.
    player.load(media_dir / VIDEO)
    made = player.media_player
    assert made is not None
    assert made.source().isEmpty()  # not yet: the event loop's next turn sets it
    qtbot.waitUntil(lambda: made.source().toLocalFile().endswith(VIDEO), timeout=5_000)
    player.play()
    assert not player.is_playing()
    qtbot.waitUntil(player.is_playing, timeout=5_000)
    player.unload()
    assert player.is_playing()  # still: stop is queued too
    qtbot.waitUntil(lambda: made.source().isEmpty() and not player.is_playing(), timeout=5_000)


def test_playing_and_stopping_in_a_row_never_freezes(
    player: VideoPlayer, qtbot: Any, media_dir: Path
) -> None:
    # The freeze this guards against came about once in ten stop-after-play under load;
    # pytest-timeout ends a frozen run.
    player.show()
    qtbot.waitExposed(player)
    for _ in range(12):
        before = player.surface.frames_received
        player.load(media_dir / VIDEO)
        player.play()
        qtbot.waitUntil(lambda n=before: player.surface.frames_received > n, timeout=10_000)
        qtbot.wait(30)
        player.unload()
        qtbot.wait(10)
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=5_000)


def test_the_players_files_are_found_without_the_wheels_unversioned_copies() -> None:
    from chamelaion_desktop.ui.video_player import player_files

    names = {Path(path).name for path in player_files()}
    assert {"libffmpegmediaplugin.so", "libQt6Multimedia.so.6"} <= names
    assert any(name.startswith("libavformat.so.") for name in names)
    assert "libavformat.so" not in names  # the same bytes again under another name


def test_prepare_waits_for_the_read_ahead_before_making_the_player(
    player: VideoPlayer, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chamelaion_desktop.ui import video_player

    release = threading.Event()
    reading = threading.Thread(target=release.wait, daemon=True)
    monkeypatch.setattr(video_player, "read_ahead_player_files", lambda: reading)
    reading.start()
    player.prepare()
    qtbot.wait(150)
    assert player.media_player is None  # the icons came; the rest waits for the files
    assert not player.play_action.icon().isNull()
    release.set()
    qtbot.waitUntil(lambda: player.media_player is not None, timeout=10_000)

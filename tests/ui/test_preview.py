"""The preview panel downloads a real sandbox output, plays it where ``grab()`` can see it,
saves a copy that PyAV reads, drags the file out, and says why a job has no video."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt, QUrl
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from chamelaion_desktop.api import (
    COMPLETED,
    FAILED,
    PROCESSING,
    QUEUED,
    ChamelaionClient,
    LipsyncRequest,
)
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.sandbox.config import FAULT_JOB_MESSAGE
from chamelaion_desktop.services.outputs import OutputCache
from chamelaion_desktop.services.session import ApiSession
from chamelaion_desktop.services.tasks import TaskRegistry
from chamelaion_desktop.ui.preview import (
    DOWNLOADING,
    EMPTY,
    EMPTY_TEXT,
    ERROR,
    NOT_READY,
    READY,
    PreviewPanel,
)
from chamelaion_desktop.ui.video_surface import VideoSurface, file_mime_data
from tests.conftest import AsyncRunner
from tests.helpers import wait_until
from tests.qt_helpers import centre_luminance

VIDEO = "grid_s2_male_2sentences_6s.mp4"
AUDIO = "fleurs_es419_006_spanish_5.6s.wav"
#: Qt's own notes on this headless machine, in its ``default`` category (so QT_LOGGING_RULES
#: cannot silence them): no sound server, no GPU, and the offscreen platform's limits.
#: The Spanish audio's length: the sandbox's output is exactly as long (milliseconds).
OUTPUT_MS = 5640


@pytest.fixture
def tasks(qloop: asyncio.AbstractEventLoop) -> Iterator[TaskRegistry]:
    registry = TaskRegistry()
    yield registry
    qloop.run_until_complete(registry.shutdown())


@pytest.fixture
def session(
    qloop: asyncio.AbstractEventLoop, sandbox: SandboxThread, api_key: str, tasks: TaskRegistry
) -> Iterator[ApiSession]:
    session = ApiSession(sandbox.base_url, api_key, tasks)
    yield session
    qloop.run_until_complete(session.aclose())


@pytest.fixture
def outputs(session: ApiSession, tasks: TaskRegistry, tmp_path: Path) -> OutputCache:
    return OutputCache(session, tasks, tmp_path / "cache")


@pytest.fixture
def client(session: ApiSession) -> ChamelaionClient:
    return session.client


async def submit(client: ChamelaionClient, media_dir: Path, reference_id: str) -> LipsyncRequest:
    created = await client.generate_with_media(
        media_dir / VIDEO, media_dir / AUDIO, reference_id=reference_id
    )
    return await client.wait_for(created.request_id, poll_interval=0.05, timeout=20)


def mouse(widget: Any, kind: QEvent.Type, x: float, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.LeftButton
    point = QPointF(x, 40)
    event = QMouseEvent(
        kind, point, widget.mapToGlobal(point), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def test_a_completed_job_downloads_plays_and_saves(
    arun: AsyncRunner,
    outputs: OutputCache,
    client: ChamelaionClient,
    media_dir: Path,
    tmp_path: Path,
    qtbot: Any,
) -> None:
    asked: list[str] = []
    opened: list[QUrl] = []
    target = tmp_path / "exports" / "episode 101 (es)"
    target.parent.mkdir()

    def ask(name: str, on_chosen: Callable[[str], None]) -> None:
        asked.append(name)
        on_chosen(str(target))  # no suffix: the panel adds .mp4

    panel = PreviewPanel(outputs, ask_save_path=ask, open_url=opened.append)
    qtbot.addWidget(panel)
    panel.resize(640, 480)
    panel.show()
    notes: list[str] = []
    saved: list[str] = []
    panel.message.connect(notes.append)
    panel.saved.connect(saved.append)
    assert panel.state == EMPTY and panel.status_text == EMPTY_TEXT
    assert panel._player is None  # made with the first completed job (or any use)
    assert not panel.play_action.isEnabled()
    panel.toggle_play()  # nothing to play: no player is made for it
    assert panel._player is None
    assert panel.player.media_player is None  # made on first use only
    assert panel.player.play_action is panel.play_action  # the one the window adds
    surface = panel.player.surface
    player = panel.player
    bar_texts: list[str] = []  # connected after the panel: read once it has updated
    outputs.progress.connect(lambda *_: bar_texts.append(panel.progress_bar.text()))

    async def scenario() -> None:
        job = await submit(client, media_dir, "ep101-es")
        panel.show_request(job)
        assert panel.state == DOWNLOADING
        await wait_until(lambda: panel.state != DOWNLOADING, timeout=15)
        assert panel.state == READY, panel.status_text
        assert panel.current_path == outputs.cached_path(job.id)
        assert panel.current_path is not None
        megabytes = f"{panel.current_path.stat().st_size / 1e6:.1f}"
        assert bar_texts and bar_texts[-1] == f"{megabytes} of {megabytes} MB"
        await wait_until(lambda: surface.has_frame() and player.duration() > 0, timeout=10)
        assert abs(player.duration() - OUTPUT_MS) <= 100
        assert not player.is_playing()

        # Play: frames arrive, the picture is a face on a light background, time moves.
        first = surface.frames_received
        panel.play()
        await asyncio.sleep(0.8)
        assert player.is_playing()
        assert surface.frames_received - first >= 10
        assert player.position() >= 400
        picture = surface.grab().toImage()
        assert centre_luminance(picture) > 60
        assert panel.player.time_label.text() in ("0:00 / 0:05", "0:01 / 0:05")

        # The same job selected again (a list refresh) does not restart the player.
        panel.show_request(dataclasses.replace(job))
        assert player.is_playing() and panel.state == READY

        # Pause holds the position; seek moves it, and the slider follows.
        panel.pause()
        await asyncio.sleep(0.1)
        held = player.position()
        await asyncio.sleep(0.3)
        assert not player.is_playing() and player.position() == held
        player.seek(3000)
        await wait_until(lambda: abs(player.position() - 3000) < 100, timeout=3)
        await wait_until(lambda: abs(player.seek_slider.value() - 3000) < 100, timeout=3)
        assert panel.player.time_label.text() == "0:03 / 0:05"

        # Space toggles playback when the panel has focus.
        panel.activateWindow()
        surface.setFocus()
        await wait_until(surface.hasFocus, timeout=3)
        qtbot.keyClick(surface, Qt.Key.Key_Space)
        await wait_until(player.is_playing, timeout=3)
        qtbot.keyClick(surface, Qt.Key.Key_Space)
        await wait_until(lambda: not player.is_playing(), timeout=3)

        # Save as… copies the video off the GUI thread, then says where it went.
        task = panel.save_as()
        assert task is not None
        await task

    arun(scenario())
    final = target.with_suffix(".mp4")
    assert asked == ["ep101-es.mp4"]
    assert saved == [str(final)]
    assert notes == [f"Saved the video as {final}."]
    with av.open(str(final)) as saved_video:
        assert len(saved_video.streams.video) == 1 and len(saved_video.streams.audio) == 1
        assert saved_video.duration is not None
        assert abs(saved_video.duration / av.time_base * 1000 - OUTPUT_MS) <= 100
    panel.show_in_folder()
    assert opened == [QUrl.fromLocalFile(str(final.parent))]


def test_save_as_reports_a_folder_it_cannot_write(
    arun: AsyncRunner,
    outputs: OutputCache,
    client: ChamelaionClient,
    media_dir: Path,
    tmp_path: Path,
    qtbot: Any,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    panel = PreviewPanel(outputs, ask_save_path=lambda name, chosen: chosen(str(blocker / name)))
    qtbot.addWidget(panel)
    notes: list[str] = []
    panel.message.connect(notes.append)
    assert panel.save_as() is None  # nothing loaded, nothing asked

    async def scenario() -> None:
        job = await submit(client, media_dir, "ep104-es")
        panel.show_request(job)
        await wait_until(lambda: panel.state == READY, timeout=15)
        task = panel.save_as()
        assert task is not None
        await task

    arun(scenario())
    assert len(notes) == 1
    assert notes[0].startswith(f"Could not save the video as {blocker / 'ep104-es.mp4'}: ")
    assert notes[0].endswith("Choose another folder or free some space.")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_dragging_the_video_out_carries_the_file(
    arun: AsyncRunner, outputs: OutputCache, client: ChamelaionClient, media_dir: Path, qtbot: Any
) -> None:
    panel = PreviewPanel(outputs)
    qtbot.addWidget(panel)
    panel.resize(480, 360)
    assert panel.make_drag() is None

    async def scenario() -> Path:
        job = await submit(client, media_dir, "ep105-es")
        outputs.fetch(job)
        await wait_until(lambda: outputs.cached_path(job.id) is not None, timeout=15)
        path = outputs.cached_path(job.id)
        assert path is not None
        panel.load_file(path)
        await wait_until(panel.player.surface.has_frame, timeout=10)
        return path

    path = arun(scenario())
    assert panel.state == READY and panel.request is None
    drag = panel.make_drag()
    assert drag is not None
    data = drag.mimeData()
    assert data.urls() == [QUrl.fromLocalFile(str(path))]
    assert data.hasFormat("text/uri-list")
    assert bytes(data.data("text/uri-list").data()).decode().strip() == path.as_uri()
    assert data.formats() == ["text/uri-list"]  # no plain-text path to paste
    assert not drag.pixmap().isNull() and drag.pixmap().width() <= 160
    assert file_mime_data(path).urls() == data.urls()


def test_press_and_move_on_the_video_asks_for_a_drag_and_a_click_toggles(qtbot: Any) -> None:
    surface = VideoSurface()
    qtbot.addWidget(surface)
    surface.resize(320, 180)
    drags: list[bool] = []
    clicks: list[bool] = []
    surface.drag_requested.connect(lambda: drags.append(True))
    surface.clicked.connect(lambda: clicks.append(True))
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    mouse(surface, QEvent.Type.MouseButtonPress, 50, left)
    mouse(surface, QEvent.Type.MouseMove, 51, left)  # a tremor is not a drag
    mouse(surface, QEvent.Type.MouseButtonRelease, 51, none)
    assert (drags, clicks) == ([], [True])

    mouse(surface, QEvent.Type.MouseButtonPress, 50, left)
    mouse(surface, QEvent.Type.MouseMove, 50 + QApplication.startDragDistance() + 5, left)
    mouse(surface, QEvent.Type.MouseButtonRelease, 90, none)
    assert (drags, clicks) == ([True], [True])


def test_jobs_without_a_video_say_why(
    arun: AsyncRunner,
    outputs: OutputCache,
    client: ChamelaionClient,
    sandbox: SandboxThread,
    media_dir: Path,
    qtbot: Any,
) -> None:
    panel = PreviewPanel(outputs)
    qtbot.addWidget(panel)

    async def scenario() -> None:
        sandbox.faults.fail_jobs = 1
        failed = await submit(client, media_dir, "ep106-es")
        assert failed.status == FAILED
        panel.show_request(failed)
        assert panel.state == NOT_READY
        assert panel.status_text == (
            f"This job failed: {FAULT_JOB_MESSAGE}. Submit it again to get a video."
        )

        sandbox.config.queue_delay = 0
        sandbox.config.processing_time = 60
        created = await client.generate_with_media(media_dir / VIDEO, media_dir / AUDIO)
        processing = await client.get_request(created.request_id)
        started = time.monotonic()
        while processing.status != PROCESSING and time.monotonic() - started < 5:
            await asyncio.sleep(0.05)
            processing = await client.get_request(created.request_id)
        panel.show_request(processing)
        assert panel.state == NOT_READY
        assert panel.status_text == (
            "This job is processing: the preview appears when it completes."
        )

        sandbox.config.queue_delay = 60
        created = await client.generate_with_media(media_dir / VIDEO, media_dir / AUDIO)
        queued = await client.get_request(created.request_id)
        assert queued.status == QUEUED
        panel.show_request(queued)
        assert panel.status_text == "This job is queued: the preview appears when it completes."
        assert not panel.retry_button.isVisibleTo(panel)

        # A job the server does not know: an error with Retry, in plain words.
        ghost = dataclasses.replace(queued, id="0b9d7c52-0000-4000-8000-000000000000")
        ghost = dataclasses.replace(ghost, status=COMPLETED, output_url=None)
        panel.show_request(ghost)
        await wait_until(lambda: panel.state == ERROR, timeout=10)
        assert panel.status_text == (
            "The server no longer knows this job, so its video cannot be downloaded."
        )
        assert panel.retry_button.isVisibleTo(panel)
        panel.show_request(dataclasses.replace(ghost))  # a list refresh: no new attempt
        assert panel.state == ERROR and not outputs.is_downloading(ghost.id)
        panel.retry_button.click()
        assert panel.state == DOWNLOADING
        await wait_until(lambda: panel.state == ERROR, timeout=10)

        panel.show_request(None)
        assert (panel.state, panel.status_text) == (EMPTY, EMPTY_TEXT)

    arun(scenario())


def test_moving_on_cancels_the_download_and_ignores_its_end(
    arun: AsyncRunner,
    outputs: OutputCache,
    client: ChamelaionClient,
    sandbox: SandboxThread,
    media_dir: Path,
    qtbot: Any,
) -> None:
    panel = PreviewPanel(outputs)
    qtbot.addWidget(panel)

    async def scenario() -> None:
        job = await submit(client, media_dir, "ep107-es")
        sandbox.faults.latency = 0.3
        panel.show_request(job)
        await asyncio.sleep(0.05)
        assert outputs.is_downloading(job.id)
        panel.show_request(None)
        await asyncio.sleep(0.5)
        assert not outputs.is_downloading(job.id)
        assert outputs.cached_path(job.id) is None
        assert panel.state == EMPTY

        # A download another part of the window asked for (Open output) goes on.
        outputs.fetch(job)
        panel.show_request(job)
        panel.show_request(None)
        await asyncio.sleep(0.05)
        assert outputs.is_downloading(job.id)
        sandbox.faults.latency = 0
        await wait_until(lambda: outputs.cached_path(job.id) is not None, timeout=15)
        assert panel.state == EMPTY

    arun(scenario())


def test_a_file_that_cannot_be_played_shows_an_error(
    arun: AsyncRunner, outputs: OutputCache, tmp_path: Path, qtbot: Any
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video" * 100)
    panel = PreviewPanel(outputs)
    qtbot.addWidget(panel)
    panel.load_file(broken)

    async def scenario() -> None:
        await wait_until(lambda: panel.state == ERROR, timeout=10)

    arun(scenario())
    assert panel.status_text.startswith("broken.mp4 cannot be played")
    assert panel.retry_button.isVisibleTo(panel)

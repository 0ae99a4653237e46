"""The main window end to end: real widgets, real drops, the real sandbox, the real media."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TypeVar

import av
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from chamelaion_desktop.api import ChamelaionClient
from chamelaion_desktop.core.journal import Journal
from chamelaion_desktop.core.paths import AppPaths
from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread
from chamelaion_desktop.ui.main_window import MainWindow
from chamelaion_desktop.ui.preview import READY
from tests.conftest import AsyncRunner
from tests.e2e.conftest import AppStarter
from tests.helpers import wait_until
from tests.qt_helpers import centre_luminance, drag_and_drop

T = TypeVar("T")

VIDEO = "grid_s2_male_2sentences_6s.mp4"
AUDIO = "fleurs_es419_006_spanish_5.6s.wav"


@pytest.fixture
def sandbox_config(sandbox_config: SandboxConfig) -> SandboxConfig:
    # Slow enough that every status is seen by a 0.2 s poll.
    sandbox_config.queue_delay = 0.6
    sandbox_config.processing_time = 0.6
    return sandbox_config


def statuses_of(window: MainWindow) -> dict[str, str]:
    """``{request_id: status}`` of the server rows in the jobs table."""
    model = window.model
    rows = (model.request_at(row) for row in range(model.rowCount()))
    return {request.id: request.status for request in rows if request is not None}


async def server_jobs(sandbox: SandboxThread, api_key: str, reference_id: str | None = None) -> int:
    async with ChamelaionClient(api_key, base_url=sandbox.base_url) as client:
        return (await client.list_requests(reference_id=reference_id)).pagination.total


async def drop_inputs(window: MainWindow, media_dir: Path, video: Path | None = None) -> None:
    entered, dropped = drag_and_drop(
        window.inputs.drop_area, [video or media_dir / VIDEO, media_dir / AUDIO]
    )
    assert entered and dropped
    await wait_until(lambda: window.inputs.can_submit(), timeout=15)


def test_drop_submit_watch_it_complete_preview_and_save(
    start_app: AppStarter,
    arun: AsyncRunner,
    qtbot: QtBot,
    media_dir: Path,
    sandbox: SandboxThread,
    api_key: str,
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with start_app() as window:
            assert window.windowTitle() == "Chamelaion Desktop"
            await drop_inputs(window, media_dir)
            reference = window.inputs.reference_edit.text()
            assert reference == "grid_s2_male_2sentences_6s__fleurs_es419_006_spanish_5.6s"

            seen: list[str] = []

            def track() -> bool:
                current = list(statuses_of(window).values())
                if current and (not seen or seen[-1] != current[0]):
                    seen.append(current[0])
                return seen[-1:] == ["completed"]

            qtbot.keyClick(
                window.inputs.reference_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
            )
            await wait_until(track, timeout=30, interval=0.02)
            assert seen[0] == "queued" and "processing" in seen, seen
            assert window.model.rowCount() == 1  # the upload's row became the job's row
            assert await server_jobs(sandbox, api_key, reference) == 1
            assert "online" in window.connection_label.text()

            # Select the job with a click: the preview downloads it once and plays it.
            table = window.jobs.table
            cell = table.visualRect(table.model().index(0, 0)).center()
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
            preview = window.preview
            await wait_until(lambda: preview.state == READY, timeout=20)
            player, surface = preview.player, preview.player.surface
            await wait_until(lambda: player.duration() > 0 and surface.has_frame(), timeout=10)
            assert abs(player.duration() - 5640) <= 100  # as long as the Spanish audio
            first = surface.frames_received
            qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
            await asyncio.sleep(0.8)
            assert surface.frames_received - first >= 10
            assert centre_luminance(surface.grab().toImage()) > 60  # a face, not black

            # Save as…: the real file dialog, answered as a user would.
            qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)
            await wait_until(lambda: visible_dialog(QFileDialog) is not None, timeout=5)
            dialog = visible_dialog(QFileDialog)
            assert dialog is not None
            dialog.selectFile(str(saved))
            dialog.accept()
            await wait_until(saved.exists, timeout=10)

    saved = tmp_path / "ep-es.mp4"
    arun(scenario(), timeout=90)
    with av.open(str(saved)) as video:
        assert len(video.streams.video) == 1 and len(video.streams.audio) == 1
        assert video.duration is not None
        assert abs(video.duration / av.time_base - 5.64) <= 0.1


def visible_dialog(kind: type[T]) -> T | None:
    """The visible top-level widget of type ``kind``, if any."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, kind) and widget.isVisible():
            return widget
    return None


def test_upload_cancelled_half_way_creates_no_job(
    start_app: AppStarter,
    arun: AsyncRunner,
    qtbot: QtBot,
    media_dir: Path,
    sandbox: SandboxThread,
    api_key: str,
    app_paths: AppPaths,
) -> None:
    video = media_dir / "pexels_3063838_woman_expressions_no_speech_20s.mp4"
    sandbox.faults.upload_rate = (video.stat().st_size + (media_dir / AUDIO).stat().st_size) / 4

    async def scenario() -> None:
        async with start_app() as window:
            await drop_inputs(window, media_dir, video)
            window.inputs.submit_action.trigger()
            bar = window.inputs.upload_status.bar
            await wait_until(lambda: bar.value() >= 40, timeout=15)
            assert window.model.rowCount() == 1  # the upload shows in the table meanwhile
            qtbot.mouseClick(window.inputs.upload_status.cancel_button, Qt.MouseButton.LeftButton)
            await wait_until(lambda: window.model.rowCount() == 0, timeout=10)
            assert not window.inputs.busy
            assert window.inputs.inputs() == (video, media_dir / AUDIO)  # nothing lost
            await asyncio.sleep(0.5)
            assert await server_jobs(sandbox, api_key) == 0

    arun(scenario(), timeout=60)
    journal = Journal(app_paths.data_dir / "journal.sqlite3")
    try:
        assert [entry.state for entry in journal.entries()] == ["cancelled"]
    finally:
        journal.close()


def test_rate_limited_polling_says_so_and_recovers(
    start_app: AppStarter, arun: AsyncRunner, sandbox: SandboxThread, api_key: str
) -> None:
    async def scenario() -> None:
        async with start_app() as window:
            sandbox.faults.force_429 = 2
            await wait_until(
                lambda: "fewer requests" in window.statusBar().currentMessage(), timeout=10
            )
            async with ChamelaionClient(api_key, base_url=sandbox.base_url) as client:
                created = await client.generate(
                    "http://127.0.0.1:9/v.mp4", "http://127.0.0.1:9/a.wav"
                )
            await wait_until(lambda: created.request_id in statuses_of(window), timeout=15)

    arun(scenario(), timeout=40)


@pytest.mark.parametrize("first_try_landed", [True, False])
def test_restart_offers_the_interrupted_upload_and_never_duplicates(
    start_app: AppStarter,
    arun: AsyncRunner,
    qtbot: QtBot,
    media_dir: Path,
    sandbox: SandboxThread,
    api_key: str,
    app_paths: AppPaths,
    first_try_landed: bool,
) -> None:
    # The previous run crashed mid-upload: its journal entry is left "uploading".
    app_paths.ensure()
    journal = Journal(app_paths.data_dir / "journal.sqlite3")
    entry = journal.record(media_dir / VIDEO, media_dir / AUDIO, "ep12-es", False)
    journal.mark_uploading(entry.local_id)
    journal.close()

    async def scenario() -> None:
        if first_try_landed:  # the server got the whole upload before the crash
            async with ChamelaionClient(api_key, base_url=sandbox.base_url) as client:
                await client.generate_with_media(
                    media_dir / VIDEO, media_dir / AUDIO, reference_id="ep12-es"
                )
        async with start_app() as window:
            banner = window.banner
            await wait_until(banner.isVisible, timeout=10)
            assert "ep12-es" in banner.text.text()
            qtbot.mouseClick(banner.resume, Qt.MouseButton.LeftButton)
            await wait_until(lambda: not banner.isVisible(), timeout=15)
            await wait_until(lambda: len(statuses_of(window)) == 1, timeout=15)
            assert await server_jobs(sandbox, api_key, "ep12-es") == 1

    arun(scenario(), timeout=60)
    journal = Journal(app_paths.data_dir / "journal.sqlite3")
    try:
        assert journal.get(entry.local_id).state in {"submitted", "finished"}
    finally:
        journal.close()


def test_files_on_the_command_line_fill_the_inputs(
    start_app: AppStarter, arun: AsyncRunner, media_dir: Path
) -> None:
    async def scenario() -> None:
        async with start_app(files=[media_dir / AUDIO, media_dir / VIDEO]) as window:
            await wait_until(lambda: window.inputs.can_submit(), timeout=15)
            assert window.inputs.inputs() == (media_dir / VIDEO, media_dir / AUDIO)

    arun(scenario(), timeout=30)


def test_window_geometry_and_columns_persist_between_runs(
    start_app: AppStarter, arun: AsyncRunner
) -> None:
    async def first_run() -> tuple[int, int]:
        async with start_app() as window:
            window.resize(760, 560)  # inside the offscreen screen (800x600)
            header = window.jobs.table.horizontalHeader()
            header.resizeSection(0, 321)
            header.moveSection(header.visualIndex(1), 0)  # Status first
            await asyncio.sleep(0.1)
            return window.width(), header.logicalIndex(0)

    async def second_run() -> tuple[int, int, int]:
        async with start_app() as window:
            header = window.jobs.table.horizontalHeader()
            return window.width(), header.sectionSize(0), header.logicalIndex(0)

    width, first_column = arun(first_run(), timeout=30)
    assert (width, first_column) == (760, 1)
    assert arun(second_run(), timeout=30) == (760, 321, 1)


def test_a_file_gone_before_submit_is_explained_and_nothing_is_sent(
    start_app: AppStarter,
    arun: AsyncRunner,
    media_dir: Path,
    tmp_path: Path,
    sandbox: SandboxThread,
    api_key: str,
) -> None:
    audio = tmp_path / "dub-es.wav"
    audio.write_bytes((media_dir / AUDIO).read_bytes())

    async def scenario() -> None:
        async with start_app() as window:
            drag_and_drop(window.inputs.drop_area, [media_dir / VIDEO, audio])
            await wait_until(window.inputs.can_submit, timeout=15)
            audio.unlink()  # moved away in the file manager after it was chosen
            window.inputs.submit_action.trigger()
            await wait_until(lambda: not window.inputs.busy, timeout=10)
            shown = window.inputs.upload_status.message_label.text()
            assert "dub-es.wav" in shown, shown
            assert window.inputs.upload_status.retry_button.isVisible()
            assert await server_jobs(sandbox, api_key) == 0

    arun(scenario(), timeout=40)


def test_the_key_stored_in_the_keychain_is_used_at_start(
    start_app: AppStarter,
    arun: AsyncRunner,
    sandbox: SandboxThread,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring.core

    from chamelaion_desktop.core.credentials import CredentialStore
    from tests.core.memory_keyring import MemoryKeyring

    monkeypatch.setattr(keyring.core, "_keyring_backend", MemoryKeyring())
    CredentialStore().set(sandbox.base_url, api_key)

    async def scenario() -> None:
        async with start_app(environ={}) as window:
            assert window.session.has_api_key
            await wait_until(lambda: "online" in window.connection_label.text(), timeout=10)
            assert "Test token" in window.connection_label.text()

    arun(scenario(), timeout=30)

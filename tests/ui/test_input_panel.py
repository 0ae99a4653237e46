"""The "New job" panel with real drops of the real media, probed off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragLeaveEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from chamelaion_desktop.core.references import suggest_reference_id
from chamelaion_desktop.services.probe import ProbeService
from chamelaion_desktop.services.tasks import TaskRegistry
from chamelaion_desktop.ui.input_panel import InputPanel
from chamelaion_desktop.ui.upload_progress import format_progress, format_speed, format_time_left
from tests.conftest import AsyncRunner
from tests.helpers import wait_until
from tests.qt_helpers import drag_enter_event, drop_event, mime_with

GRID = "grid_s2_male_2sentences_6s.mp4"
GRID_FEMALE = "grid_female_brbk7n_3s.mp4"
JFK = "jfk_en_11s.wav"
FLEURS = "fleurs_es419_006_spanish_5.6s.wav"
#: The offscreen platform's own note when a window is shown (not ours to fix).
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


class Chooser:
    """Stands in for the file dialog: answers the next request with a queued path."""

    def __init__(self) -> None:
        self.answers: list[Path] = []
        self.asked: list[str] = []

    def __call__(self, parent: QWidget, kind: str, on_chosen: Callable[[Path], None]) -> None:
        self.asked.append(kind)
        if self.answers:
            on_chosen(self.answers.pop(0))


@pytest.fixture
def chooser() -> Chooser:
    return Chooser()


@pytest.fixture
def panel(qtbot: QtBot, qloop: Any, chooser: Chooser) -> InputPanel:
    widget = InputPanel(ProbeService(TaskRegistry()), choose_file=chooser)
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drop(panel: InputPanel, *paths: Path) -> None:
    """Drag ``paths`` over the drop area and drop them, as a file manager does."""
    area = panel.drop_area
    data = mime_with(list(paths))
    where = QPointF(area.rect().center())
    enter = drag_enter_event(where, data)
    QApplication.sendEvent(area, enter)
    assert enter.isAccepted()
    assert area.dragging  # highlighted while hovering
    event = drop_event(where, data)
    QApplication.sendEvent(area, event)
    assert event.isAccepted()
    assert not area.dragging


def settle(panel: InputPanel, arun: AsyncRunner) -> None:
    arun(wait_until(lambda: not panel.checking, timeout=15))


def test_video_and_audio_dropped_together(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path
) -> None:
    drop(panel, media_dir / GRID, media_dir / FLEURS)
    assert panel.checking_label.isVisible()
    assert panel.checking_label.text() == f"Checking {GRID} and {FLEURS}…"
    assert not panel.submit_button.isEnabled()

    settle(panel, arun)
    assert panel.inputs() == (media_dir / GRID, media_dir / FLEURS)
    assert panel.video_slot.summary() == f"{GRID} — 0.4 MB · 6.0 s · 360×288 · H.264 / AAC"  # noqa: RUF001
    assert panel.audio_slot.summary() == f"{FLEURS} — 0.2 MB · 5.6 s · WAV · 16 kHz mono"
    assert not panel.checking_label.isVisible()
    assert not panel.message_label.isVisible()
    # 6.0 s against 5.64 s: within a second, no warning.
    assert not panel.warning_label.isVisible()
    assert panel.reference_edit.text() == suggest_reference_id(media_dir / GRID, media_dir / FLEURS)
    assert panel.submit_button.isEnabled()


def test_files_dropped_one_at_a_time_audio_first(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path
) -> None:
    drop(panel, media_dir / JFK)
    settle(panel, arun)
    assert panel.inputs() == (None, media_dir / JFK)
    assert not panel.submit_button.isEnabled()
    assert panel.submit_hint.text() == "Add a video to continue."
    assert panel.reference_edit.text() == ""

    drop(panel, media_dir / GRID)
    settle(panel, arun)
    assert panel.inputs() == (media_dir / GRID, media_dir / JFK)
    assert panel.submit_button.isEnabled()
    # 6.0 s of video against 11.0 s of speech: said before submitting, without a dialog.
    assert panel.warning_label.isVisible()
    assert panel.warning_label.text() == (
        "⚠ The audio is 11.0 s and the video 6.0 s: the result follows the audio, "
        "so it will be 11.0 s long."
    )


def test_swapped_order_in_one_drop_is_sorted_by_streams(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path
) -> None:
    drop(panel, media_dir / "fleurs_de_005_german_8.4s.mp3", media_dir / GRID_FEMALE)
    settle(panel, arun)
    assert panel.inputs() == (media_dir / GRID_FEMALE, media_dir / "fleurs_de_005_german_8.4s.mp3")


def test_two_videos_keep_the_first_and_say_why(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path
) -> None:
    drop(panel, media_dir / GRID, media_dir / GRID_FEMALE)
    settle(panel, arun)
    assert panel.inputs() == (media_dir / GRID, None)
    assert panel.message_label.isVisible()
    assert "Two videos were dropped: choose one video and one audio file." in (
        panel.message_label.text()
    )


def test_more_than_two_files_are_refused(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path
) -> None:
    drop(panel, media_dir / GRID, media_dir / JFK, media_dir / FLEURS)
    assert not panel.checking
    assert panel.inputs() == (None, None)
    assert "3 files were dropped: drop one video and one audio file" in panel.message_label.text()


def test_text_file_named_mp4_is_refused_and_keeps_earlier_input(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, tmp_path: Path
) -> None:
    drop(panel, media_dir / GRID, media_dir / FLEURS)
    settle(panel, arun)
    reference = panel.reference_edit.text()
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video at all\n" * 50)

    drop(panel, fake)
    settle(panel, arun)
    assert panel.message_label.isVisible()
    text = panel.message_label.text()
    assert "notes.mp4 is not a video or audio file that can be read" in text
    assert "choose an MP4 video or a WAV/MP3 audio file" in text
    assert str(tmp_path) not in text  # the name, not a long path
    assert panel.inputs() == (media_dir / GRID, media_dir / FLEURS)
    assert panel.reference_edit.text() == reference
    assert panel.submit_button.isEnabled()


def test_choose_buttons_use_the_file_dialog_and_swap_sensibly(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, chooser: Chooser
) -> None:
    # An audio file chosen with "Choose video…" while the audio slot is empty: it is the audio.
    chooser.answers.append(media_dir / JFK)
    panel.video_slot.choose_button.click()
    assert chooser.asked == ["video"]
    assert panel.video_slot.name_label.text() == f"Checking {JFK}…"
    settle(panel, arun)
    assert panel.inputs() == (None, media_dir / JFK)
    assert f"{JFK} has no video stream, so it is used as the audio." in panel.message_label.text()

    chooser.answers.append(media_dir / GRID)
    panel.video_slot.choose_button.click()
    settle(panel, arun)
    assert panel.inputs() == (media_dir / GRID, media_dir / JFK)

    # Now both are taken: another audio file as the "video" is refused, nothing is lost.
    chooser.answers.append(media_dir / FLEURS)
    panel.video_slot.choose_button.click()
    settle(panel, arun)
    assert panel.inputs() == (media_dir / GRID, media_dir / JFK)
    assert f"{FLEURS} has no video stream" in panel.message_label.text()
    assert "choose an MP4 video" in panel.message_label.text()
    assert panel.video_slot.name_label.text() == GRID


def test_reference_id_is_suggested_until_edited(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, qtbot: QtBot
) -> None:
    drop(panel, media_dir / GRID, media_dir / FLEURS)
    settle(panel, arun)
    assert panel.reference_edit.text() == suggest_reference_id(media_dir / GRID, media_dir / FLEURS)

    panel.reference_edit.selectAll()
    qtbot.keyClicks(panel.reference_edit, "spot-42_es")
    drop(panel, media_dir / JFK)  # another audio: the user's own ID stays
    settle(panel, arun)
    assert panel.inputs()[1] == media_dir / JFK
    assert panel.reference_edit.text() == "spot-42_es"

    panel.reference_edit.selectAll()
    qtbot.keyClick(panel.reference_edit, Qt.Key.Key_Delete)
    assert panel.reference_edit.text() == ""
    assert not panel.submit_button.isEnabled()
    assert panel.reference_hint.text().startswith("Enter a reference ID")

    drop(panel, media_dir / FLEURS)  # emptied: suggestions resume with the next files
    settle(panel, arun)
    assert panel.reference_edit.text() == suggest_reference_id(media_dir / GRID, media_dir / FLEURS)
    assert panel.submit_button.isEnabled()


def ready_panel(panel: InputPanel, arun: AsyncRunner, media_dir: Path) -> None:
    drop(panel, media_dir / GRID, media_dir / FLEURS)
    settle(panel, arun)
    panel.activateWindow()


def test_ctrl_return_submits_with_the_right_arguments(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, qtbot: QtBot
) -> None:
    ready_panel(panel, arun, media_dir)
    qtbot.waitActive(panel)
    panel.reference_edit.setFocus()
    assert panel.asd_checkbox.isChecked()  # on by default

    with qtbot.waitSignal(panel.submitRequested, timeout=2000) as signal:
        qtbot.keyClick(panel.reference_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    reference = suggest_reference_id(media_dir / GRID, media_dir / FLEURS)
    assert signal.args == [media_dir / GRID, media_dir / FLEURS, reference, False]
    assert isinstance(signal.args[0], Path)

    # Busy until the caller reports: a second Ctrl+Return sends nothing.
    assert panel.busy and not panel.submit_button.isEnabled()
    assert panel.upload_status.isVisible()
    assert panel.upload_status.progress_label.text() == "Preparing the upload…"
    with qtbot.assertNotEmitted(panel.submitRequested, wait=50):
        qtbot.keyClick(panel.reference_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_active_speaker_checkbox_maps_to_disable_flag(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, qtbot: QtBot
) -> None:
    ready_panel(panel, arun, media_dir)
    panel.asd_checkbox.click()
    assert not panel.asd_checkbox.isChecked()
    with qtbot.waitSignal(panel.submitRequested, timeout=2000) as signal:
        panel.submit_button.click()
    assert signal.args[3] is True  # detection off -> disable_active_speaker_detection


def test_submit_needs_both_inputs(panel: InputPanel, arun: AsyncRunner, media_dir: Path) -> None:
    assert not panel.submit_button.isEnabled()
    assert not panel.submit_action.isEnabled()
    assert panel.submit_hint.text() == "Add a video and an audio file to continue."
    drop(panel, media_dir / GRID)
    settle(panel, arun)
    assert not panel.submit_action.isEnabled()
    assert panel.submit_hint.text() == "Add an audio file to continue."


def test_progress_text() -> None:
    assert (
        format_progress(12_300_000, 400_000_000, 85e6) == "12.3 MB of 400 MB · 85 MB/s · 5 s left"
    )
    assert format_progress(0, 400_000_000, 0) == "0.0 MB of 400 MB"
    assert format_progress(400_000_000, 400_000_000, 85e6) == (
        "400 MB of 400 MB · waiting for the service to answer…"
    )
    assert format_speed(2_500_000) == "2.5 MB/s"
    assert format_speed(850_000) == "850 KB/s"
    assert format_time_left(4.4) == "4 s left"
    assert format_time_left(125) == "2 min 05 s left"
    assert format_time_left(3720) == "1 h 02 min left"


def test_upload_progress_cancel_and_cancelled(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, qtbot: QtBot
) -> None:
    assert not panel.upload_status.isVisible()  # hidden when idle
    ready_panel(panel, arun, media_dir)
    panel.submit_button.click()
    panel.show_upload_progress(12_300_000, 400_000_000, 85e6)
    status = panel.upload_status
    assert status.isVisible() and status.bar.isVisible()
    assert status.progress_label.text() == "12.3 MB of 400 MB · 85 MB/s · 5 s left"
    assert status.bar.value() == round(12.3 / 400 * 1000)

    with qtbot.waitSignal(panel.cancelRequested, timeout=1000):
        status.cancel_button.click()
    assert status.progress_label.text() == "Cancelling…"
    panel.upload_cancelled()
    assert not panel.busy
    assert "Upload cancelled" in status.message_label.text()
    assert panel.inputs() == (media_dir / GRID, media_dir / FLEURS)
    assert panel.submit_button.isEnabled()


def test_upload_failed_keeps_inputs_and_offers_try_again(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, qtbot: QtBot
) -> None:
    ready_panel(panel, arun, media_dir)
    panel.submit_button.click()
    panel.show_upload_progress(100_000, 600_000, 1e6)
    panel.upload_failed("The service refused the upload: token limit reached.")
    status = panel.upload_status
    assert status.message_label.isVisible() and status.retry_button.isVisible()
    assert "token limit reached" in status.message_label.text()
    assert not status.bar.isVisible()
    assert panel.inputs() == (media_dir / GRID, media_dir / FLEURS)
    assert not panel.busy

    with qtbot.waitSignal(panel.retryRequested, timeout=1000):
        status.retry_button.click()
    assert panel.busy
    assert status.progress_label.text() == "Preparing the upload…"


def test_upload_succeeded_clears_inputs_but_keeps_the_speaker_choice(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path
) -> None:
    ready_panel(panel, arun, media_dir)
    panel.asd_checkbox.setChecked(False)
    panel.submit_button.click()
    panel.upload_succeeded("0b4d5c7e-1111-4222-8333-944455556666")
    assert panel.inputs() == (None, None)
    assert panel.reference_edit.text() == ""
    assert not panel.asd_checkbox.isChecked()
    assert "0b4d5c7e-1111-4222-8333-944455556666" in panel.upload_status.message_label.text()
    assert not panel.busy

    drop(panel, media_dir / GRID_FEMALE, media_dir / JFK)  # the next job
    settle(panel, arun)
    assert panel.reference_edit.text() == suggest_reference_id(
        media_dir / GRID_FEMALE, media_dir / JFK
    )
    assert not panel.upload_status.isVisible()


def test_only_local_file_drags_are_accepted(panel: InputPanel) -> None:
    area = panel.drop_area
    data = QMimeData()
    data.setUrls([QUrl("https://example.com/video.mp4")])
    enter = drag_enter_event(QPointF(10, 10), data)
    QApplication.sendEvent(area, enter)
    assert not enter.isAccepted()
    assert not area.dragging

    text = QMimeData()
    text.setText("/some/path.mp4")
    enter = drag_enter_event(QPointF(10, 10), text)
    QApplication.sendEvent(area, enter)
    assert not enter.isAccepted()


def test_drag_highlight_goes_away_when_the_drag_leaves(panel: InputPanel, media_dir: Path) -> None:
    area = panel.drop_area
    data = mime_with([media_dir / GRID])
    enter = drag_enter_event(QPointF(10, 10), data)
    QApplication.sendEvent(area, enter)
    assert area.dragging
    QApplication.sendEvent(area, QDragLeaveEvent())
    assert not area.dragging
    assert panel.inputs() == (None, None)


def test_screenshot_with_both_inputs(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path, tmp_path: Path
) -> None:
    drop(panel, media_dir / GRID, media_dir / JFK)
    settle(panel, arun)
    image = panel.grab()
    assert image.width() == 900
    assert image.save(str(tmp_path / "input_panel.png"))


def test_a_file_dropped_again_while_being_checked_is_checked_once(
    panel: InputPanel, arun: AsyncRunner, media_dir: Path
) -> None:
    drop(panel, media_dir / GRID, media_dir / JFK)
    drop(panel, media_dir / GRID)  # impatient: the same video again
    settle(panel, arun)
    assert panel.inputs() == (media_dir / GRID, media_dir / JFK)
    assert not panel.message_label.isVisible()


def test_files_dropped_before_the_probe_is_attached_wait_then_get_probed(
    qtbot: QtBot, qloop: Any, arun: AsyncRunner, media_dir: Path
) -> None:
    # The window's first frame comes before the services: a drop in that moment waits.
    widget = InputPanel()
    qtbot.addWidget(widget)
    widget.show()
    drop(widget, media_dir / GRID, media_dir / FLEURS)
    assert widget.checking
    assert widget.checking_label.text() == f"Checking {GRID} and {FLEURS}…"

    widget.attach_probe(ProbeService(TaskRegistry()))
    settle(widget, arun)
    assert widget.inputs() == (media_dir / GRID, media_dir / FLEURS)
    assert widget.submit_button.isEnabled()

"""The main window before its services exist (what the first frame shows), its About box
and its "Open video…" file dialog, both opened without a nested event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from chamelaion_desktop import __version__
from chamelaion_desktop.services.connection_state import ConnectionState
from chamelaion_desktop.services.probe import ProbeService
from chamelaion_desktop.services.tasks import TaskRegistry
from chamelaion_desktop.ui.input_panel import InputPanel
from chamelaion_desktop.ui.jobs_model import JobsTableModel
from chamelaion_desktop.ui.jobs_view import JobsPanel
from chamelaion_desktop.ui.main_window import MainWindow
from chamelaion_desktop.ui.preview import PreviewPanel
from tests.conftest import AsyncRunner
from tests.helpers import wait_until

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
GRID = "grid_s2_male_2sentences_6s.mp4"


@pytest.fixture
def window(qtbot: QtBot, qloop: Any, tmp_path: Path) -> MainWindow:
    model = JobsTableModel()
    widget = MainWindow(
        inputs=InputPanel(),
        jobs=JobsPanel(model),
        preview=PreviewPanel(),
        model=model,
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        connection=ConnectionState("sandbox", "the built-in sandbox"),
    )
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def top_level(kind: type) -> Any:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    return found[0] if found else None


def test_before_the_services_join_the_window_shows_where_it_will_connect(
    window: MainWindow,
) -> None:
    assert window.connection_label.text() == "Offline sandbox · checking…"
    assert not window.api_key_action.isEnabled()  # no key service yet
    assert window.sandbox_action is not None and not window.sandbox_action.isEnabled()
    with pytest.raises(RuntimeError, match="attach"):
        window.show_api_key_dialog()


def test_about_box_opens_without_blocking(
    window: MainWindow, qtbot: QtBot, arun: AsyncRunner
) -> None:
    about = next(a for a in window.findChildren(type(window.api_key_action)) if "About" in a.text())
    about.trigger()  # returns at once: open(), not exec()
    arun(wait_until(lambda: top_level(QMessageBox) is not None, timeout=5))
    box = top_level(QMessageBox)
    assert f"Chamelaion Desktop {__version__}" in box.text()
    box.accept()


def test_open_video_asks_with_a_file_dialog_and_the_file_is_probed(
    window: MainWindow, arun: AsyncRunner, media_dir: Path
) -> None:
    window.inputs.attach_probe(ProbeService(TaskRegistry()))
    window.open_video_action.trigger()
    arun(wait_until(lambda: top_level(QFileDialog) is not None, timeout=5))
    dialog = top_level(QFileDialog)
    assert dialog.windowTitle() == "Choose the video"
    # Typed into the dialog's file name box, then "Open", as a user would.
    name_box = dialog.findChild(QLineEdit, "fileNameEdit")
    name_box.setText(str(media_dir / GRID))
    dialog.accept()
    arun(wait_until(lambda: window.inputs.inputs()[0] is not None, timeout=15))
    assert window.inputs.inputs() == (media_dir / GRID, None)

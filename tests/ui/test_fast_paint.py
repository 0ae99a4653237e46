"""The table and the preview paint through faster paths than Qt's defaults; they must look
the same: the jobs delegate against ``QStyledItemDelegate``, the preview's swscale path
against ``QVideoFrame.toImage()`` (benchmarks/bench_ui.py measured why they exist)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage

from chamelaion_desktop.ui.jobs_model import JobsTableModel
from chamelaion_desktop.ui.jobs_view import JobsItemDelegate, JobsPanel
from chamelaion_desktop.ui.video_surface import VideoSurface
from tests.conftest import AsyncRunner
from tests.helpers import SAMPLE_NOW, sample_jobs, wait_until
from tests.qt_helpers import grab_both

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

NOW = SAMPLE_NOW
jobs = sample_jobs


def differing_pixels(first: QImage, second: QImage) -> int:
    assert first.size() == second.size()
    return sum(
        first.pixel(x, y) != second.pixel(x, y)
        for y in range(first.height())
        for x in range(first.width())
    )


def test_the_jobs_delegate_paints_what_the_default_delegate_paints(qtbot: Any) -> None:
    panel = JobsPanel(JobsTableModel(clock=lambda: NOW))
    qtbot.addWidget(panel)
    panel.resize(900, 360)
    panel.show()
    qtbot.waitExposed(panel)
    panel.model.upsert_requests(jobs(40))
    panel.select_key(jobs(40)[3].id)  # a selected row too
    assert isinstance(panel.table.itemDelegate(), JobsItemDelegate)
    ours, default = grab_both(panel.table, qtbot)
    assert differing_pixels(ours, default) == 0


def test_the_preview_scales_frames_like_qt_does(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, arun: AsyncRunner, media_dir: Path
) -> None:
    from PySide6.QtMultimedia import QMediaPlayer

    surface = VideoSurface()
    qtbot.addWidget(surface)
    surface.resize(440, 300)
    surface.show()
    player = QMediaPlayer()
    player.setVideoSink(surface.sink)
    video = media_dir / "pexels_3063838_woman_expressions_no_speech_20s.mp4"
    player.setSource(QUrl.fromLocalFile(str(video)))

    async def scenario() -> None:
        player.play()
        await wait_until(
            lambda: surface.frames_received >= 5 and surface._frame_scaler() is not None, 15
        )
        player.pause()
        await asyncio.sleep(0.2)

    arun(scenario())
    fast = surface.grab().toImage()
    assert surface._shown is not None  # the swscale path drew it
    surface._scaler = None
    surface._frames_module = None  # as before PyAV loads: QVideoFrame.toImage()
    surface._shown = None
    slow = surface.grab().toImage()
    assert surface._shown is None
    worst = 0
    for y in range(0, fast.height(), 5):
        for x in range(0, fast.width(), 5):
            a, b = fast.pixelColor(x, y), slow.pixelColor(x, y)
            worst = max(worst, abs(a.red() - b.red()), abs(a.green() - b.green()))
            worst = max(worst, abs(a.blue() - b.blue()))
    # Bilinear against smooth scaling: edges differ a little, colours must not.
    assert worst <= 40
    assert fast.pixelColor(220, 150) != slow.pixelColor(0, 0)  # a picture, not the background
    player.stop()

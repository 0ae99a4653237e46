"""The jobs table paints through shortcuts (benchmarks/bench_ui.py measured why); what it
shows must not change: the delegate against Qt's default one whatever the proxy's order,
the viewport made in Python against Qt's own, the model's cached texts against
``format_time``, and the window's start must not create the Qt types it avoids."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication, QTableView

from chamelaion_desktop.api import LipsyncRequest
from chamelaion_desktop.ui.jobs_model import (
    COL_CREATED,
    COL_FINISHED,
    COL_REFERENCE,
    COL_STARTED,
    JobsTableModel,
)
from chamelaion_desktop.ui.jobs_view import JobsItemDelegate, JobsPanel
from tests.helpers import SAMPLE_NOW, run_python_json, sample_jobs
from tests.qt_helpers import grab_both

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

NOW = SAMPLE_NOW
jobs = sample_jobs


@pytest.fixture
def panel(qtbot: Any) -> JobsPanel:
    widget = JobsPanel(JobsTableModel(clock=lambda: NOW))
    qtbot.addWidget(widget)
    widget.resize(900, 380)
    widget.show()
    qtbot.waitExposed(widget)
    widget.model.upsert_requests(jobs(60))
    return widget


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_the_delegate_paints_like_the_default_one_when_the_proxy_reorders_rows(
    panel: JobsPanel, qtbot: Any, order: Qt.SortOrder
) -> None:
    # The delegate maps only a row's first cell through the proxy while the view paints:
    # a row painted with another row's cells would show here.
    panel.table.sortByColumn(COL_REFERENCE, order)
    panel.select_key(jobs(60)[7].id)
    panel.table.setFocus()  # the current cell gets the focus frame
    ours, default = grab_both(panel.table, qtbot)
    assert isinstance(panel.table.itemDelegate(), JobsItemDelegate)
    assert ours == default

    panel.filter_edit.setText("spot-0")  # filtered: proxy rows skip source rows
    ours, default = grab_both(panel.table, qtbot)
    assert ours == default


def test_the_delegate_maps_every_index_outside_the_views_paint(panel: JobsPanel) -> None:
    from PySide6.QtWidgets import QStyleOptionViewItem

    delegate = panel.table.itemDelegate()
    assert isinstance(delegate, JobsItemDelegate)
    panel.table.sortByColumn(COL_REFERENCE, Qt.SortOrder.AscendingOrder)
    for row in range(5):
        for column in (COL_REFERENCE, COL_CREATED):
            option = QStyleOptionViewItem()
            index = panel.proxy.index(row, column)
            delegate.initStyleOption(option, index)
            assert option.text == (index.data() or "")


def test_the_viewport_is_made_in_python_and_set_up_as_qts_own(qtbot: Any) -> None:
    panel = JobsPanel(JobsTableModel(clock=lambda: NOW))
    qtbot.addWidget(panel)
    plain = QTableView()
    qtbot.addWidget(plain)
    ours, theirs = panel.table.viewport(), plain.viewport()
    assert ours is panel.table.viewport()  # the same wrapper every time
    assert ours.parent() is panel.table
    assert ours.objectName() == theirs.objectName() == "qt_scrollarea_viewport"
    assert ours.backgroundRole() == theirs.backgroundRole() == QPalette.ColorRole.Base
    assert ours.foregroundRole() == theirs.foregroundRole()
    assert ours.autoFillBackground() and theirs.autoFillBackground()
    for attribute in Qt.WidgetAttribute:
        assert ours.testAttribute(attribute) == theirs.testAttribute(attribute), attribute


def test_the_empty_table_still_shows_its_hint(qtbot: Any) -> None:
    panel = JobsPanel(JobsTableModel(clock=lambda: NOW))
    qtbot.addWidget(panel)
    panel.resize(700, 300)
    panel.show()
    qtbot.waitExposed(panel)
    picture = panel.table.viewport().grab().toImage()
    base = panel.table.viewport().palette().color(QPalette.ColorRole.Base).rgb()
    middle = picture.height() // 2
    row = [picture.pixel(x, y) for y in range(middle - 8, middle + 8) for x in range(60, 640)]
    assert any(pixel != base for pixel in row)  # text in the middle
    assert picture.pixel(2, 2) == base  # the background is Base, as with Qt's viewport


def test_the_table_font_skips_shaping_but_follows_the_application_font(qtbot: Any) -> None:
    panel = JobsPanel(JobsTableModel(clock=lambda: NOW))
    qtbot.addWidget(panel)
    # Set with the first rows (an empty table lays out no cells).
    assert not panel.table.font().styleStrategy() & QFont.StyleStrategy.PreferNoShaping
    panel.model.upsert_requests(jobs(3))
    font = panel.table.font()
    assert font.styleStrategy() & QFont.StyleStrategy.PreferNoShaping
    application = QApplication.font()
    assert font.family() == application.family()
    assert font.pointSizeF() == application.pointSizeF()


def test_the_current_row_signal_fires_on_row_changes_only(qtbot: Any) -> None:
    panel = JobsPanel(JobsTableModel(clock=lambda: NOW))
    qtbot.addWidget(panel)
    panel.model.upsert_requests(jobs(5))
    moves: list[int] = []
    panel.table.currentRowChanged.connect(lambda: moves.append(panel.table.currentIndex().row()))
    table, proxy = panel.table, panel.proxy
    table.setCurrentIndex(proxy.index(1, 0))
    table.setCurrentIndex(proxy.index(1, 3))  # same row, another column: no signal
    table.setCurrentIndex(proxy.index(2, 3))
    table.setCurrentIndex(QModelIndex())
    assert moves == [1, 2, -1]


def test_cached_texts_read_as_format_time_says() -> None:
    model = JobsTableModel(clock=lambda: NOW)
    today = NOW.astimezone().replace(hour=9, minute=5, second=7, microsecond=0)
    moments = [
        today,
        today - timedelta(days=3),
        today - timedelta(days=400),
        NOW - timedelta(hours=23, minutes=59),
    ]
    model.upsert_requests(
        [
            LipsyncRequest(
                id=f"00000000-0000-4000-8000-{n:012d}",
                created_at=moment,
                status="completed",
                started_at=moment + timedelta(seconds=1),
                finished_at=moment + timedelta(seconds=61),
            )
            for n, moment in enumerate(moments)
        ]
    )
    for row, moment in enumerate(moments):
        for column, delta in ((COL_CREATED, 0), (COL_STARTED, 1), (COL_FINISHED, 61)):
            expected = model.format_time(moment + timedelta(seconds=delta))
            assert model.index(row, column).data() == expected


# What the window builds for its first frame: none of these Qt types may be created (PySide
# makes each type, and its enum types, on first use: 10-20 ms for these at the start).
_SCRIPT = """
import json
import PySide6.QtWidgets as widgets
from PySide6.QtWidgets import QApplication
from chamelaion_desktop.ui.jobs_model import JobsTableModel
from chamelaion_desktop.ui.jobs_view import JobsPanel
from chamelaion_desktop.ui.preview import PreviewPanel

app = QApplication([])
jobs, preview = JobsPanel(JobsTableModel()), PreviewPanel()
jobs.show(); preview.show()
for _ in range(5):
    app.processEvents()
jobs.table.viewport().update(); preview.update()
app.processEvents()
names = ("QStyle", "QStyleOptionViewItem", "QFileDialog", "QCalendarWidget", "QMdiArea",
         "QWizard", "QItemSelectionModel")
print(json.dumps([name for name in names if name in vars(widgets)]))
"""


def test_the_first_frame_of_the_panels_creates_no_avoidable_qt_types() -> None:
    assert run_python_json(_SCRIPT) == []

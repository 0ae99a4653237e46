"""The jobs panel: refreshes keep selection, sort and scroll; menu, header state, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QGuiApplication, QImage

from chamelaion_desktop.api import LipsyncRequest
from chamelaion_desktop.ui.jobs_model import (
    COL_CREATED,
    COL_ERROR,
    COL_REFERENCE,
    COL_STATUS,
    JobsTableModel,
)
from chamelaion_desktop.ui.jobs_view import JobsPanel

# The offscreen platform cannot size windows to hints, grab the keyboard or raise a popup.
pytestmark = pytest.mark.qt_log_ignore(
    "does not support propagateSizeHints",
    "does not support grabbing the keyboard",
    r"does not support raise\(\)",
)

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)
STATUSES = ["queued", "processing", "completed", "failed"]


def job(n: int, status: str = "queued", **changes: Any) -> LipsyncRequest:
    # References run against creation order, so sorting by reference visibly reorders.
    fields: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "created_at": NOW - timedelta(minutes=n * 7 % 60, seconds=n),
        "status": status,
        "reference_id": f"spot-{(n * 37) % 100:03d}",
    }
    if status == "completed":
        fields["output_url"] = f"http://127.0.0.1:1/files/{n}.mp4"
    if status == "failed":
        fields["error_message"] = "video URL is not accessible"
    fields.update(changes)
    return LipsyncRequest(**fields)


@pytest.fixture
def panel(qtbot: Any) -> JobsPanel:
    widget = JobsPanel(JobsTableModel(clock=lambda: NOW))
    qtbot.addWidget(widget)
    widget.resize(900, 320)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def settle(qtbot: Any) -> None:
    """Let the view lay out inserted rows (it does so on the next turn of the loop)."""
    qtbot.wait(20)


def references(panel: JobsPanel) -> list[str]:
    proxy = panel.proxy
    return [proxy.index(row, COL_REFERENCE).data() for row in range(proxy.rowCount())]


def test_selection_sort_and_scroll_survive_a_refresh_of_many_rows(
    panel: JobsPanel, qtbot: Any
) -> None:
    model = panel.model
    model.upsert_requests([job(n) for n in range(60)])
    panel.table.sortByColumn(COL_REFERENCE, Qt.SortOrder.AscendingOrder)
    settle(qtbot)
    bar = panel.table.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)
    middle = bar.value()
    row_at_middle = panel.table.rowAt(10)
    chosen = panel.proxy.request_at(row_at_middle)
    assert chosen is not None
    assert panel.select_key(chosen.id)
    bar.setValue(middle)  # select_key may have scrolled; put it back where the user left it
    resets: list[int] = []
    panel.proxy.modelAboutToBeReset.connect(lambda: resets.append(1))
    assert references(panel) == sorted(references(panel))

    # Every row changes status, a few gain errors and times; two new jobs arrive.
    refreshed = [
        job(n, STATUSES[(n + 1) % 4], started_at=NOW, finished_at=NOW + timedelta(seconds=n))
        for n in range(60)
    ]
    with qtbot.waitSignal(panel.currentRequestChanged) as changed:
        model.upsert_requests([*refreshed, job(60), job(61)])
    settle(qtbot)

    current = panel.current_request()
    assert current is not None and current.id == chosen.id
    assert current.status == STATUSES[(int(chosen.id[-12:]) + 1) % 4]
    assert changed.args == [current]
    assert bar.value() == middle
    assert references(panel) == sorted(references(panel))
    assert panel.proxy.rowCount() == 62
    assert panel.table.selectionModel().selectedRows()[0].data() == chosen.reference_id
    assert resets == []


def test_a_row_that_moves_when_sorted_by_status_keeps_its_selection(panel: JobsPanel) -> None:
    model = panel.model
    model.upsert_requests([job(n) for n in range(30)])
    panel.table.sortByColumn(COL_STATUS, Qt.SortOrder.AscendingOrder)
    target = panel.proxy.request_at(3)
    assert target is not None
    panel.select_key(target.id)
    assert panel.table.currentIndex().row() == 3

    failed = job(int(target.id[-12:]), "failed")
    model.upsert_requests([failed])

    # Failed sorts after queued: the row moved to the end and took the selection with it.
    last = panel.proxy.rowCount() - 1
    assert panel.current_request() == failed
    assert panel.table.currentIndex().row() == last
    assert [index.row() for index in panel.table.selectionModel().selectedRows()] == [last]


def test_a_filtered_row_that_moves_keeps_its_selection_and_the_filter(panel: JobsPanel) -> None:
    model = panel.model
    model.upsert_requests([job(n) for n in range(30)])
    panel.table.sortByColumn(COL_STATUS, Qt.SortOrder.AscendingOrder)
    panel.proxy.set_reference_filter("1")  # the references with a 1 in them
    shown = panel.proxy.rowCount()
    assert 0 < shown < 30
    target = panel.proxy.request_at(1)
    assert target is not None
    panel.select_key(target.id)

    # The model moves the row (a layout change); the proxy filters every row again.
    model.upsert_requests([job(int(target.id[-12:]), "failed")])

    assert panel.proxy.rowCount() == shown
    assert panel.current_request() is not None
    assert panel.current_request().id == target.id
    assert panel.table.currentIndex().row() == shown - 1
    references = [panel.proxy.request_at(row).reference_id for row in range(shown)]
    assert all("1" in reference for reference in references)


def test_context_menu_enables_what_fits_the_job_and_copies_ids(
    panel: JobsPanel, qtbot: Any
) -> None:
    model = panel.model
    model.upsert_requests([job(1, "completed"), job(2, "failed"), job(3, "queued")])
    model.set_upload(9, "spot-local", 10, 100)
    actions = panel.job_actions
    clipboard = QGuiApplication.clipboard()

    def open_menu_on(key: str) -> None:
        row = panel.proxy.mapFromSource(model.index(model.row_of(key) or 0, 0)).row()
        rect = panel.table.visualRect(panel.proxy.index(row, COL_CREATED))
        panel.table.customContextMenuRequested.emit(rect.center())
        assert panel.context_menu.isVisible()
        assert panel.table.currentIndex().row() == row
        panel.context_menu.close()

    def enabled() -> dict[str, bool]:
        return {action.text(): action.isEnabled() for action in actions.all()}

    open_menu_on(job(1).id)
    assert enabled() == {
        "Copy request ID": True,
        "Copy reference ID": True,
        "Open output": True,
        "Show in folder": True,
        "Retry": False,
    }
    actions.copy_request_id.trigger()
    assert clipboard.text() == job(1).id
    actions.copy_reference_id.trigger()
    assert clipboard.text() == job(1).reference_id
    with qtbot.waitSignal(panel.openOutputRequested) as opened:
        actions.open_output.trigger()
    assert opened.args == [job(1, "completed")]
    with qtbot.waitSignal(panel.showInFolderRequested) as shown:
        actions.show_in_folder.trigger()
    assert shown.args == [job(1, "completed")]

    open_menu_on(job(2).id)
    assert enabled()["Retry"] and not enabled()["Open output"] and not enabled()["Show in folder"]
    with qtbot.waitSignal(panel.retryRequested) as retried:
        actions.retry.trigger()
    assert retried.args == [job(2, "failed")]

    open_menu_on(job(3).id)
    assert not any(enabled()[name] for name in ("Open output", "Show in folder", "Retry"))

    open_menu_on("local:9")
    assert enabled() == {
        "Copy request ID": False,
        "Copy reference ID": True,
        "Open output": False,
        "Show in folder": False,
        "Retry": False,
    }
    actions.copy_reference_id.trigger()
    assert clipboard.text() == "spot-local"
    # The menu is built once: the same action objects every time.
    assert panel.context_menu.actions().count(actions.retry) == 1


def test_header_state_round_trips(panel: JobsPanel, qtbot: Any) -> None:
    header = panel.table.horizontalHeader()
    header.resizeSection(COL_REFERENCE, 233)
    header.moveSection(header.visualIndex(COL_STATUS), 0)
    panel.table.sortByColumn(COL_STATUS, Qt.SortOrder.AscendingOrder)
    state = panel.save_state()
    assert isinstance(state, QByteArray) and not state.isEmpty()

    again = JobsPanel(JobsTableModel())
    qtbot.addWidget(again)
    assert not again.restore_state(QByteArray())
    assert again.table.horizontalHeader().sortIndicatorSection() == COL_CREATED
    assert again.restore_state(state)

    restored = again.table.horizontalHeader()
    assert restored.sectionSize(COL_REFERENCE) == 233
    assert restored.visualIndex(COL_STATUS) == 0
    assert restored.sortIndicatorSection() == COL_STATUS
    assert restored.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert again.proxy.sortColumn() == COL_STATUS
    assert restored.sectionResizeMode(COL_ERROR) == restored.ResizeMode.Stretch


def test_scrolling_near_the_bottom_asks_for_more_only_while_more_exist(
    panel: JobsPanel, qtbot: Any
) -> None:
    asked: list[int] = []
    panel.moreRequested.connect(lambda: asked.append(1))
    panel.model.upsert_requests([job(n) for n in range(60)])
    panel.set_total(60)
    settle(qtbot)
    bar = panel.table.verticalScrollBar()
    assert bar.maximum() > 2 * bar.pageStep()
    bar.setValue(bar.maximum())
    settle(qtbot)
    assert asked == []  # everything is loaded

    bar.setValue(0)
    panel.set_total(200)
    settle(qtbot)
    assert asked == []  # at the top: no need yet
    with qtbot.waitSignal(panel.moreRequested):
        bar.setValue(bar.maximum() - bar.pageStep() // 2)
    bar.setValue(bar.maximum())
    settle(qtbot)
    assert len(asked) == 1  # once per page, not once per scroll step

    panel.model.upsert_requests([job(n) for n in range(60, 110)])
    settle(qtbot)
    assert len(asked) == 1  # the new rows pushed the bottom away
    with qtbot.waitSignal(panel.moreRequested):
        bar.setValue(bar.maximum())
    assert len(asked) == 2


def test_a_short_list_that_fits_asks_for_more_at_once(panel: JobsPanel, qtbot: Any) -> None:
    panel.model.upsert_requests([job(n) for n in range(3)])
    with qtbot.waitSignal(panel.moreRequested):
        panel.set_total(10)


def test_the_empty_table_says_what_to_do(panel: JobsPanel) -> None:
    def painted() -> QImage:
        return panel.table.viewport().grab().toImage()

    assert "No lip-sync jobs yet" in panel.table.empty_text
    with_hint = painted()
    panel.table.set_empty_text("")
    blank = painted()
    assert with_hint != blank
    assert (
        len({blank.pixel(x, y) for x in range(0, blank.width(), 7) for y in (blank.height() // 2,)})
        == 1
    )

    panel.model.upsert_requests([job(1)])
    panel.filter_edit.setText("nothing-like-this")
    assert panel.proxy.rowCount() == 0
    assert "nothing-like-this" in panel.table.empty_text
    panel.filter_edit.clear()
    assert panel.proxy.rowCount() == 1
    assert "No lip-sync jobs yet" in panel.table.empty_text


def test_current_request_follows_selection_and_double_click_opens_output(
    panel: JobsPanel, qtbot: Any
) -> None:
    panel.model.upsert_requests([job(1, "completed"), job(2)])
    with qtbot.waitSignal(panel.currentRequestChanged) as picked:
        panel.select_key(job(1).id)
    assert picked.args == [job(1, "completed")]

    emitted: list[object] = []
    panel.currentRequestChanged.connect(emitted.append)
    panel.model.upsert_requests([job(1, "completed", output_url="http://127.0.0.1:1/new")])
    assert emitted == []  # a fresh link alone changes nothing visible

    with qtbot.waitSignal(panel.openOutputRequested) as opened:
        panel.table.doubleClicked.emit(panel.table.currentIndex())
    assert opened.args[0].id == job(1).id

    panel.model.clear()
    assert emitted == [None]


def test_ctrl_c_in_the_table_copies_the_request_id(panel: JobsPanel, qtbot: Any) -> None:
    panel.model.upsert_requests([job(1), job(2)])
    panel.select_key(job(2).id)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == job(2).id

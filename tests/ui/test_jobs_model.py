"""The jobs table model: in-place updates, local uploads, formatting, sorting, filtering."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from chamelaion_desktop.api import LipsyncRequest
from chamelaion_desktop.ui.jobs_model import (
    COL_CREATED,
    COL_DURATION,
    COL_ERROR,
    COL_FINISHED,
    COL_REFERENCE,
    COL_STARTED,
    COL_STATUS,
    COLUMN_COUNT,
    JobsTableModel,
    ProgressRole,
    RequestRole,
    RowKeyRole,
    SortRole,
    format_duration,
)
from chamelaion_desktop.ui.jobs_proxy import JobsProxyModel

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)


def job(n: int, status: str = "queued", **changes: Any) -> LipsyncRequest:
    """Job ``n``: created ``n`` minutes before NOW, reference ``ref-<n>``."""
    fields: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "created_at": NOW - timedelta(minutes=n),
        "status": status,
        "reference_id": f"ref-{n:03d}",
    }
    fields.update(changes)
    return LipsyncRequest(**fields)


class Spy:
    """Records a model's structural and data signals."""

    def __init__(self, model: Any) -> None:
        self.changed: list[tuple[int, int, int, int]] = []
        self.resets = 0
        self.layouts = 0
        model.dataChanged.connect(
            lambda tl, br, roles=(): self.changed.append(
                (tl.row(), br.row(), tl.column(), br.column())
            )
        )
        model.modelAboutToBeReset.connect(self._reset)
        model.layoutAboutToBeChanged.connect(self._layout)

    def _reset(self) -> None:
        self.resets += 1

    def _layout(self, *args: object) -> None:
        self.layouts += 1

    def changed_rows(self) -> set[int]:
        return {row for top, bottom, _, _ in self.changed for row in range(top, bottom + 1)}


@pytest.fixture
def model(qapp: Any) -> JobsTableModel:
    return JobsTableModel(clock=lambda: NOW)


def cell(model: Any, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    return model.index(row, column).data(role)


def test_model_and_proxy_pass_qt_model_checks_through_every_kind_of_change(
    model: JobsTableModel, qtmodeltester: Any
) -> None:
    proxy = JobsProxyModel()
    proxy.setSourceModel(model)
    qtmodeltester.check(model)
    proxy_tester = QAbstractItemModelTester(
        proxy, QAbstractItemModelTester.FailureReportingMode.Warning
    )
    spy = Spy(model)

    model.upsert_requests([job(n) for n in range(5)])
    model.upsert_requests([job(1, "processing"), job(2, "failed", error_message="bad video")])
    model.set_upload(7, "ref-local", 10, 100)
    model.set_upload(7, "ref-local", 60, 100)
    model.set_upload(8, "", 0, 0, "cancelled")
    model.replace_upload_with_request(7, job(70, "queued", reference_id="ref-local"))
    model.remove_upload(8)
    proxy.set_reference_filter("REF-00")
    proxy.sort(COL_FINISHED, Qt.SortOrder.AscendingOrder)
    model.upsert_requests([job(3, "completed", finished_at=NOW)])
    proxy.set_reference_filter("")

    assert spy.resets == 0
    assert model.rowCount() == 6 and proxy.rowCount() == 6
    model.clear()
    assert spy.resets == 1 and model.rowCount() == 0 and proxy.rowCount() == 0
    del proxy_tester


def test_upserts_insert_in_one_batch_and_never_reset(model: JobsTableModel) -> None:
    spy = Spy(model)
    inserts: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, first, last: inserts.append((first, last)))

    assert model.upsert_requests([job(n) for n in range(50)]) == 50
    assert model.upsert_requests([job(n) for n in range(45, 60)]) == 10

    assert inserts == [(0, 49), (50, 59)]
    assert spy.resets == 0 and spy.changed == []
    assert model.rowCount() == 60 and model.server_row_count() == 60
    assert model.row_of(job(59).id) == 59
    assert cell(model, 59, 0, RowKeyRole) == job(59).id
    assert model.request_at(59) == job(59)
    assert model.request_at(60) is None


def test_the_same_page_twice_emits_nothing_and_changes_only_changed_rows(
    model: JobsTableModel,
) -> None:
    page = [job(n) for n in range(10)]
    model.upsert_requests(page)
    spy = Spy(model)

    assert model.upsert_requests(page) == 0
    assert spy.changed == []

    update = list(page)
    update[2] = job(2, "processing", started_at=NOW)
    update[7] = job(7, "failed", error_message="video URL is not accessible")
    assert model.upsert_requests(update) == 2
    assert spy.changed_rows() == {2, 7}
    # Only the columns that changed: status and started for row 2 (no processing time yet),
    # status and error for row 7. Never the unchanged Created column between them: a range
    # over the sort column makes the proxy re-sort the row.
    assert sorted(spy.changed) == [
        (2, 2, COL_STATUS, COL_STATUS),
        (2, 2, COL_STARTED, COL_STARTED),
        (7, 7, COL_STATUS, COL_STATUS),
        (7, 7, COL_ERROR, COL_ERROR),
    ]
    assert spy.resets == 0

    # Adjacent changed rows share one signal.
    spy.changed.clear()
    model.upsert_requests([job(n, "processing") for n in (4, 5, 6)])
    assert spy.changed == [(4, 6, COL_STATUS, COL_STATUS)]


def test_a_fresh_output_link_alone_is_kept_without_repainting(model: JobsTableModel) -> None:
    done = job(1, "completed", output_url="http://x/files/1.mp4?expires=1&signature=a")
    model.upsert_requests([done])
    spy = Spy(model)
    resigned = dataclasses.replace(done, output_url="http://x/files/1.mp4?expires=2&signature=b")

    model.upsert_requests([resigned])

    assert spy.changed == []
    assert model.request_at(0) == resigned
    assert cell(model, 0, 0, RequestRole).output_url.endswith("signature=b")


def test_statuses_show_icons_and_labels_and_unknown_ones_verbatim(model: JobsTableModel) -> None:
    statuses = ["queued", "processing", "completed", "failed", "uploading", "weird"]
    model.upsert_requests([job(n, status) for n, status in enumerate(statuses)])

    labels = [cell(model, row, COL_STATUS) for row in range(len(statuses))]
    assert labels == ["Queued", "Processing", "Completed", "Failed", "uploading", "weird"]
    for row in range(len(statuses)):
        icon = cell(model, row, COL_STATUS, Qt.ItemDataRole.DecorationRole)
        assert not icon.isNull()
        assert cell(model, row, COL_REFERENCE, Qt.ItemDataRole.DecorationRole) is None
    # Known statuses get their own picture; unknown ones share the neutral one.
    keys = [
        cell(model, row, COL_STATUS, Qt.ItemDataRole.DecorationRole).pixmap(16).toImage()
        for row in range(len(statuses))
    ]
    assert len({image.bits().tobytes() for image in keys[:4]}) == 4
    assert keys[4] == keys[5]
    assert cell(model, 5, COL_STATUS, Qt.ItemDataRole.ToolTipRole) == "weird"


def test_times_are_compact_local_with_utc_tooltips_and_durations_read_plainly(
    model: JobsTableModel,
) -> None:
    today = NOW.astimezone().replace(hour=14, minute=3, second=22, microsecond=0)
    long_ago = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
    last_year = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    started = today.astimezone(UTC)
    model.upsert_requests(
        [
            job(
                1,
                "completed",
                created_at=started,
                started_at=started,
                finished_at=started + timedelta(seconds=65),
            ),
            job(2, "queued", created_at=long_ago),
            job(3, "queued", created_at=last_year),
        ]
    )

    assert cell(model, 0, COL_CREATED) == "14:03:22"
    assert cell(model, 0, COL_DURATION) == "1 min 05 s"
    assert cell(model, 0, COL_CREATED, Qt.ItemDataRole.ToolTipRole) == started.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    local = long_ago.astimezone()
    assert cell(model, 1, COL_CREATED) == f"{local.day} Oct {local:%H:%M}"
    assert cell(model, 1, COL_FINISHED) == ""
    assert cell(model, 1, COL_DURATION) == ""
    assert str(last_year.astimezone().year) in cell(model, 2, COL_CREATED)
    assert [format_duration(s) for s in (4.24, 42.4, 65, 3725)] == [
        "4.2 s",
        "42 s",
        "1 min 05 s",
        "1 h 02 min",
    ]


def test_sorting_by_created_uses_instants_not_text(model: JobsTableModel) -> None:
    # As text "3 Dec" < "21 Nov" < "9 Oct"; as instants the order is Oct, Nov, Dec.
    dates = [
        datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
        datetime(2026, 10, 9, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
    ]
    model.upsert_requests([job(n, created_at=moment) for n, moment in enumerate(dates)])
    proxy = JobsProxyModel()
    proxy.setSourceModel(model)

    def created_order() -> list[datetime]:
        return [proxy.request_at(row).created_at for row in range(proxy.rowCount())]

    assert created_order() == sorted(dates, reverse=True)  # newest first by default
    assert proxy.sortColumn() == COL_CREATED
    proxy.sort(COL_CREATED, Qt.SortOrder.AscendingOrder)
    assert created_order() == sorted(dates)
    # The model holds its rows in that order (the proxy does not sort: see jobs_proxy.py).
    assert cell(model, 0, COL_CREATED, SortRole) == min(dates).timestamp()


def test_unknown_values_sort_last_both_ways(model: JobsTableModel) -> None:
    model.upsert_requests(
        [
            job(1, "completed", finished_at=NOW - timedelta(hours=2)),
            job(2, "processing"),
            job(3, "completed", finished_at=NOW - timedelta(hours=1)),
        ]
    )
    proxy = JobsProxyModel()
    proxy.setSourceModel(model)

    proxy.sort(COL_FINISHED, Qt.SortOrder.AscendingOrder)
    assert [proxy.request_at(r).reference_id for r in range(3)] == ["ref-001", "ref-003", "ref-002"]
    proxy.sort(COL_FINISHED, Qt.SortOrder.DescendingOrder)
    assert [proxy.request_at(r).reference_id for r in range(3)] == ["ref-003", "ref-001", "ref-002"]
    # Still last after an update re-sorts the changed row.
    model.upsert_requests([job(2, "completed", finished_at=NOW)])
    assert proxy.request_at(0).reference_id == "ref-002"


def test_filter_by_reference_id_substring_ignores_case(model: JobsTableModel) -> None:
    model.upsert_requests([job(n) for n in (1, 2, 12, 25)])
    model.upsert_requests([job(30, reference_id=None)])
    model.set_upload(1, "Spot-12-DE", 0, 100)
    proxy = JobsProxyModel()
    proxy.setSourceModel(model)

    proxy.set_reference_filter("  12")
    shown = {proxy.index(r, COL_REFERENCE).data() for r in range(proxy.rowCount())}
    assert shown == {"ref-012", "Spot-12-DE"}
    proxy.set_reference_filter("REF-0")
    assert proxy.rowCount() == 4
    proxy.set_reference_filter("")
    assert proxy.rowCount() == 6


def test_local_uploads_show_progress_and_become_the_server_row_in_place(
    model: JobsTableModel,
) -> None:
    model.upsert_requests([job(1)])
    model.set_upload(5, "spot-5", 0, 1000)
    local = model.row_of("local:5")
    assert local == 1
    assert cell(model, local, COL_STATUS) == "uploading 0 %"
    assert cell(model, local, 0, RequestRole) is None
    assert model.server_row_count() == 1
    held = QPersistentModelIndex(model.index(local, 0))
    spy = Spy(model)

    model.set_upload(5, "spot-5", 420, 1000)
    model.set_upload(5, "spot-5", 425, 1000)  # same whole percent: no repaint
    assert cell(model, local, COL_STATUS) == "uploading 42 %"
    assert cell(model, local, 0, ProgressRole) == pytest.approx(0.425)
    assert spy.changed == [(local, local, COL_STATUS, COL_STATUS)]

    answered = job(9, "queued", reference_id="spot-5", created_at=NOW)
    model.replace_upload_with_request(5, answered)
    assert held.isValid() and held.row() == local
    assert model.row_of(answered.id) == local and model.row_of("local:5") is None
    assert cell(model, local, COL_STATUS) == "Queued"
    assert cell(model, local, 0, RowKeyRole) == answered.id
    assert model.server_row_count() == 2
    assert spy.resets == 0


def test_a_job_listed_before_its_upload_was_answered_keeps_one_row(
    model: JobsTableModel,
) -> None:
    model.set_upload(3, "spot-3", 100, 100)
    listed = job(4, reference_id="spot-3")
    model.upsert_requests([job(1), listed])
    held = QPersistentModelIndex(model.index(model.row_of("local:3") or 0, 0))

    model.replace_upload_with_request(3, listed)

    assert model.rowCount() == 2 and model.server_row_count() == 2
    assert held.isValid() and model.request_at(held.row()) == listed
    assert [model.row_of(job(1).id), model.row_of(listed.id)] == [1, 0]


def test_stopped_uploads_say_why_and_can_be_removed(model: JobsTableModel) -> None:
    model.set_upload(1, "a", 10, 100)
    model.set_upload(2, "b", 10, 100)
    model.upsert_requests([job(1)])
    model.set_upload(1, "a", 10, 100, "upload failed: the connection was lost")
    model.set_upload(2, "b", 10, 100, "cancelled")
    assert cell(model, 0, COL_STATUS) == "upload failed: the connection was lost"
    assert cell(model, 1, COL_STATUS) == "cancelled"

    assert model.remove_upload(1)
    assert not model.remove_upload(1)
    assert model.rowCount() == 2
    assert model.row_of("local:2") == 0 and model.row_of(job(1).id) == 1
    assert [cell(model, 0, c) for c in range(COLUMN_COUNT)][COL_REFERENCE] == "b"

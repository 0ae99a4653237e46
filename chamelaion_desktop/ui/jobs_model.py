"""The job table's model: server jobs and local uploads, updated in place, never reset.

Rows live in a list in arrival order with a key -> row dict beside it; the proxy sorts.
A refresh appends new jobs in one insert, emits ``dataChanged`` only for rows whose visible
fields changed, over the smallest column span, and never resets: selection, sort and scroll
survive every poll (STYLE.md "Live tables are model/view"; after Vorta's archive table).
A 100-row refresh of a 10,000-row table costs ~100 dict look-ups and comparisons.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)

from ..api import COMPLETED, FAILED, PROCESSING, QUEUED
from . import status_icons
from .formatting import changed_columns, column_runs, format_duration, format_utc
from .status_icons import StatusIcons

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

    from ..api import LipsyncRequest  # api.models: imported once the first page arrives

(COL_REFERENCE, COL_STATUS, COL_CREATED, COL_STARTED, COL_FINISHED, COL_DURATION, COL_ERROR) = (
    range(7)
)
COLUMN_COUNT = 7

_USER = int(Qt.ItemDataRole.UserRole)
#: The raw value of a cell, what ``JobsTableModel.sort`` orders rows by (str; float for
#: times as POSIX timestamps and for durations in seconds; None when unknown).
SortRole = _USER + 1
#: The ``LipsyncRequest`` of a row, or None for a local upload.
RequestRole = _USER + 2
#: The row's key: the request_id, or ``local:<int>`` for a local upload.
RowKeyRole = _USER + 3
#: Upload progress 0.0..1.0 for a local upload row, else None.
ProgressRole = _USER + 4

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_TIME_COLUMNS = frozenset({COL_CREATED, COL_STARTED, COL_FINISHED})
_STATUS_RANK = {"uploading": 0, QUEUED: 1, PROCESSING: 2, COMPLETED: 3, FAILED: 4}
ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)
_ROLES = frozenset(
    {_DISPLAY, _DECORATION, _TOOLTIP, SortRole, RequestRole, RowKeyRole, ProgressRole}
)


def as_request(value: object) -> LipsyncRequest | None:
    """``value`` (a ``RequestRole`` datum) if it is a ``LipsyncRequest``, else None."""
    from ..api.models import LipsyncRequest  # loaded with the first page, not at start-up

    return value if isinstance(value, LipsyncRequest) else None


def local_key(local_id: int) -> str:
    """The row key of the local upload ``local_id``."""
    return f"local:{local_id}"


@dataclass(slots=True)
class LocalUpload:
    """A submission of ours still uploading (or stopped) that the server has not listed.

    Attributes:
        local_id: the caller's id for it (e.g. the journal row id).
        reference_id: the reference ID it is sent with ("" when none).
        bytes_sent / bytes_total: upload progress in bytes.
        state_label: overrides the status text, e.g. "cancelled" or "upload failed: ...".
        created_at: when the row appeared, aware UTC.
    """

    local_id: int
    reference_id: str
    bytes_sent: int
    bytes_total: int
    state_label: str
    created_at: datetime

    @property
    def percent(self) -> int:
        """Whole percent sent, 0..100."""
        return min(100, self.bytes_sent * 100 // self.bytes_total) if self.bytes_total > 0 else 0

    @property
    def label(self) -> str:
        """The status text: ``state_label`` when set, else ``"uploading 42 %"``."""
        return self.state_label or f"uploading {self.percent} %"


class _Row:
    """One table row; ``cells`` holds the raw value of every column (see ``SortRole``)."""

    __slots__ = ("cells", "key", "kind", "label", "request", "texts", "upload")

    def __init__(self, key: str) -> None:
        self.key = key
        self.request: LipsyncRequest | None = None
        self.upload: LocalUpload | None = None
        self.cells: tuple[Any, ...] = ()
        self.kind = status_icons.NEUTRAL
        self.label = ""
        # Display strings, made on the first paint after a change: formatting three times
        # per row on every repaint was most of the model's share of painting a screen.
        self.texts: tuple[str, ...] | None = None


def _timestamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


class JobsTableModel(QAbstractTableModel):
    """Lip-sync jobs (``LipsyncRequest``) and local uploads as table rows.

    Args:
        parent: Qt parent.
        clock: returns "now" as an aware UTC datetime (tests pin it); decides what "today"
            is for the compact times and stamps new local upload rows.

    Columns: ``COL_REFERENCE``, ``COL_STATUS`` (icon and label; unknown statuses verbatim),
    ``COL_CREATED``/``COL_STARTED``/``COL_FINISHED`` (local time, "14:03:22" today or
    "21 Nov 14:03"; tooltip in ISO UTC), ``COL_DURATION`` (processing time), ``COL_ERROR``.
    Roles: ``SortRole``, ``RequestRole``, ``RowKeyRole``, ``ProgressRole``.
    ``RequestRole`` always gives the latest request; a change in ``output_url`` alone (signed
    links differ in every answer) replaces it silently, since nothing visible changed.
    """

    def __init__(
        self, parent: QObject | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._index: dict[str, int] = {}
        self._server_rows = 0
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sort_column = -1  # ``sort``: -1 keeps the rows in arrival order
        self._descending = False
        self._today_value = date.min
        self._today_until = -math.inf  # ``_today``: monotonic seconds
        self._icons = StatusIcons()
        self._locale = QLocale()
        self._months = [
            self._locale.monthName(month, QLocale.FormatType.ShortFormat) for month in range(1, 13)
        ]
        self._headers = [
            self.tr("Reference ID"),
            self.tr("Status"),
            self.tr("Created"),
            self.tr("Started"),
            self.tr("Finished"),
            self.tr("Processing time"),
            self.tr("Error"),
        ]
        self._labels = {
            QUEUED: self.tr("Queued"),
            PROCESSING: self.tr("Processing"),
            COMPLETED: self.tr("Completed"),
            FAILED: self.tr("Failed"),
        }
        self._midnight = QTimer(self)
        self._midnight.setSingleShot(True)
        self._midnight.timeout.connect(self._new_day)
        self._schedule_new_day()

    # -- Qt model interface ------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == _DISPLAY and 0 <= section < COLUMN_COUNT:
            return self._headers[section]
        return None

    # No flags() override: QAbstractTableModel's (enabled, selectable, never has children)
    # is the same, and stays in C++: the view asks for it for every cell it paints.

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        # The view asks for font, alignment, colours and check state on every paint: answer
        # those before touching the index, the most frequent calls are the cheapest.
        if role not in _ROLES or not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == SortRole:  # first: the proxy's filter asks for it for every row
            return row.cells[column]
        if role == _DISPLAY:
            return self._texts(row)[column]
        if role == _DECORATION:
            return self._icons.icon(row.kind) if column == COL_STATUS else None
        if role == _TOOLTIP:
            return self._tooltip(row, column)
        if role == RequestRole:
            return row.request
        if role == RowKeyRole:
            return row.key
        if role == ProgressRole:
            upload = row.upload
            if upload is None or upload.bytes_total <= 0:
                return None
            return min(1.0, upload.bytes_sent / upload.bytes_total)
        return None

    # -- cell values ----------------------------------------------------------------------

    def cell(self, row: int, column: int) -> tuple[str, QIcon | None]:
        """What source cell (``row``, ``column``) shows: its text (``DisplayRole``) and its
        icon (``DecorationRole``, the status column only). One call instead of one per role,
        for ``JobsItemDelegate``."""
        entry = self._rows[row]
        texts = entry.texts if entry.texts is not None else self._texts(entry)
        return texts[column], self._icons.icon(entry.kind) if column == COL_STATUS else None

    def _texts(self, row: _Row) -> tuple[str, ...]:
        # From the raw cells, one tuple a row: each row scrolled into view is formatted
        # here once (~12 us; through ``format_time`` and a call per column it was ~30 us,
        # a twentieth of repainting a screen of new rows).
        texts = row.texts
        if texts is None:
            today = self._today()
            reference, _, created, started, finished, duration, error = row.cells
            texts = row.texts = (
                "" if reference is None else str(reference),
                row.label,
                self._time_text(created, today),
                self._time_text(started, today),
                self._time_text(finished, today),
                "" if duration is None else format_duration(duration),
                "" if error is None else str(error),
            )
        return texts

    def _today(self) -> date:
        """The local date by ``clock``, asked at most once a second (``_texts`` runs for
        every row painted; the midnight timer re-formats the rows anyway)."""
        now = time.monotonic()
        if now >= self._today_until:
            self._today_value = self._clock().astimezone().date()
            self._today_until = now + 1.0
        return self._today_value

    def _time_text(self, timestamp: float | None, today: date) -> str:
        """``format_time`` for a POSIX timestamp (a cell's raw value); "" for None."""
        if timestamp is None:
            return ""
        # Local wall time, as astimezone() gives.
        return self._local_text(datetime.fromtimestamp(timestamp), today)

    def _new_day(self) -> None:
        # "14:03:22" becomes "21 Nov 14:03" at midnight: forget the strings and repaint times.
        self._today_until = -math.inf
        for row in self._rows:
            row.texts = None
        if self._rows:
            self.dataChanged.emit(
                self.index(0, COL_CREATED), self.index(len(self._rows) - 1, COL_FINISHED)
            )
        self._schedule_new_day()

    def _schedule_new_day(self) -> None:
        now = datetime.now().astimezone()
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=1, microsecond=0)
        self._midnight.start(max(1000, int((midnight - now).total_seconds() * 1000)))

    def _fill(self, row: _Row) -> tuple[Any, ...]:
        """Recompute the row's status, label and raw cells; returns the old cells."""
        old = row.cells
        row.texts = None
        request, upload = row.request, row.upload
        if request is not None:
            status = request.status
            row.kind = status if status in self._labels else status_icons.NEUTRAL
            row.label = self._labels.get(status, status)
            row.cells = (
                request.reference_id,
                f"{_STATUS_RANK.get(status, 5)}:{row.label.casefold()}",
                request.created_at.timestamp(),
                _timestamp(request.started_at),
                _timestamp(request.finished_at),
                request.processing_seconds,
                " ".join(request.error_message.split()) if request.error_message else None,
            )
        elif upload is not None:
            failed = upload.state_label.startswith("upload failed")
            row.kind = status_icons.FAILED if failed else status_icons.NEUTRAL
            row.kind = row.kind if upload.state_label else status_icons.UPLOADING
            row.label = upload.label
            created = upload.created_at.timestamp()
            label = f"0:{row.label.casefold()}"
            row.cells = (upload.reference_id or None, label, created, None, None, None, None)
        return old

    def _moment(self, row: _Row, column: int) -> datetime | None:
        request, upload = row.request, row.upload
        if request is None:
            return upload.created_at if column == COL_CREATED and upload is not None else None
        if column == COL_CREATED:
            return request.created_at
        return request.started_at if column == COL_STARTED else request.finished_at

    def _tooltip(self, row: _Row, column: int) -> str | None:
        if column in _TIME_COLUMNS:
            moment = self._moment(row, column)
            return format_utc(moment) if moment is not None else None
        if row.request is None:
            return row.label if column == COL_STATUS else None
        if column == COL_ERROR:
            return row.request.error_message
        if column == COL_STATUS:
            return row.request.status
        return None

    def format_time(self, moment: datetime, today: date | None = None) -> str:
        """``"14:03:22"`` when ``moment`` is today (local time), else ``"21 Nov 14:03"``
        (with the year when it is not this year). ``today``: the local date, when the
        caller already has it."""
        if today is None:
            today = self._clock().astimezone().date()
        return self._local_text(moment.astimezone(), today)

    def _local_text(self, local: datetime, today: date) -> str:
        # f-strings, not strftime (~10 µs a call): every row scrolled into view formats three.
        if local.date() == today:
            return f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
        month = self._months[local.month - 1]
        year = f" {local.year}" if local.year != today.year else ""
        return f"{local.day} {month}{year} {local.hour:02d}:{local.minute:02d}"

    # -- sorting ------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Keep the rows sorted on ``column``'s raw value (``SortRole``; text without
        regard to case) in ``order``; rows without a value go last either way, ties keep
        their order. ``column`` -1: rows stay in arrival order. Rows that arrive or change
        later move into place. Emits one layout change when rows move.

        Here rather than in the proxy: ``QSortFilterProxyModel`` compares through
        ``data()``, two calls into Python per comparison, and re-sorting 10,000 rows on a
        header click froze the window for about a second (a sort here: ~20 ms).
        """
        self._sort_column = column if 0 <= column < COLUMN_COUNT else -1
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._resort()

    def _sort_key(self, row: _Row) -> tuple[Any, ...]:
        value = row.cells[self._sort_column]
        if value is None:  # last: after every value, in either order
            return (-1,) if self._descending else (1,)
        return (0, value.casefold() if isinstance(value, str) else value)

    def _out_of_place(self, positions: Iterable[int]) -> bool:
        """Whether a row at one of ``positions`` is out of order with a neighbour."""
        rows, key, descending = self._rows, self._sort_key, self._descending
        last = len(rows) - 1
        for position in positions:
            mine = key(rows[position])
            if position > 0:
                before = key(rows[position - 1])
                if (mine > before) if descending else (mine < before):
                    return True
            if position < last:
                after = key(rows[position + 1])
                if (after > mine) if descending else (after < mine):
                    return True
        return False

    def _keep_sorted(self, positions: Iterable[int]) -> None:
        """Re-sort if a row that arrived or changed (at ``positions``) is out of place."""
        if self._sort_column >= 0 and self._out_of_place(positions):
            self._resort()

    def _resort(self) -> None:
        rows = self._rows
        if self._sort_column < 0 or len(rows) < 2:
            return
        key = self._sort_key
        order = sorted(range(len(rows)), key=lambda n: key(rows[n]), reverse=self._descending)
        if all(old == new for new, old in enumerate(order)):
            return
        self.layoutAboutToBeChanged.emit()
        moved_to = [0] * len(order)
        for new, old in enumerate(order):
            moved_to[old] = new
        self._rows = [rows[old] for old in order]
        self._index = {row.key: position for position, row in enumerate(self._rows)}
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(
            persistent, [self.index(moved_to[i.row()], i.column()) for i in persistent]
        )
        self.layoutChanged.emit()

    # -- queries ----------------------------------------------------------------------

    def request_at(self, row: int) -> LipsyncRequest | None:
        """The request on source row ``row``; None for a local upload or a row out of range."""
        return self._rows[row].request if 0 <= row < len(self._rows) else None

    def row_of(self, key: str) -> int | None:
        """Source row of ``key`` (a request_id or ``local:<id>``), or None."""
        return self._index.get(key)

    def server_row_count(self) -> int:
        """Rows holding a server job (local uploads not counted)."""
        return self._server_rows

    # -- updates ----------------------------------------------------------------------

    def upsert_requests(self, requests: Iterable[LipsyncRequest]) -> int:
        """Add new jobs (one batched insert at the end) and update changed ones in place.

        Only rows whose visible fields changed get ``dataChanged``: one signal per run of
        adjacent changed rows, over the columns that changed; the model is never reset.

        Returns:
            How many rows were inserted or visibly changed.
        """
        fresh: dict[str, LipsyncRequest] = {}
        spans: list[tuple[int, int]] = []  # (row, mask of changed columns)
        for request in requests:
            position = self._index.get(request.id)
            if position is None:
                fresh[request.id] = request
                continue
            row = self._rows[position]
            if row.request == request:
                continue
            row.request = request
            mask = changed_columns(self._fill(row), row.cells)
            if mask:
                spans.append((position, mask))
        self._emit_changed(spans)
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for offset, request in enumerate(fresh.values()):
                row = _Row(request.id)
                row.request = request
                self._fill(row)
                self._rows.append(row)
                self._index[request.id] = first + offset
            self._server_rows += len(fresh)
            self.endInsertRows()
        if self._sort_column >= 0:
            bit = 1 << self._sort_column
            moved = [position for position, mask in spans if mask & bit]
            self._keep_sorted([*moved, *range(len(self._rows) - len(fresh), len(self._rows))])
        return len(spans) + len(fresh)

    def _emit_changed(self, spans: list[tuple[int, int]]) -> None:
        # Pages arrive in the order their rows were inserted, so changed rows are mostly
        # adjacent: one signal per run of rows keeps the proxy and view work small. Within
        # a run, one signal per run of changed columns: a range that spans an unchanged
        # Created column (status and times change around it) made the proxy re-sort every
        # changed row, ~30 calls into Python each, with 10,000 rows (bench_queue.py).
        if not spans:
            return
        spans.sort()
        top, mask = spans[0]
        bottom = top
        for position, changed in spans[1:]:
            if position == bottom + 1:
                bottom, mask = position, mask | changed
                continue
            self._emit_rows(top, bottom, mask)
            top = bottom = position
            mask = changed
        self._emit_rows(top, bottom, mask)

    def _emit_rows(self, top: int, bottom: int, mask: int) -> None:
        for left, right in column_runs(mask, COLUMN_COUNT):
            self.dataChanged.emit(self.index(top, left), self.index(bottom, right))

    def set_upload(
        self,
        local_id: int,
        reference_id: str,
        bytes_sent: int,
        bytes_total: int,
        state_label: str = "",
    ) -> None:
        """Show or update the local upload ``local_id`` ("uploading 42 %", or ``state_label``
        such as "cancelled" or "upload failed: ..."). Sizes in bytes. Repaints only when the
        text changes (whole percent), so per-chunk progress calls stay cheap."""
        key = local_key(local_id)
        position = self._index.get(key)
        if position is None:
            row = _Row(key)
            row.upload = LocalUpload(
                local_id, reference_id, bytes_sent, bytes_total, state_label, self._clock()
            )
            self._fill(row)
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first)
            self._rows.append(row)
            self._index[key] = first
            self.endInsertRows()
            self._keep_sorted([first])
            return
        row = self._rows[position]
        upload = row.upload
        assert upload is not None
        upload.reference_id, upload.bytes_sent = reference_id, bytes_sent
        upload.bytes_total, upload.state_label = bytes_total, state_label
        mask = changed_columns(self._fill(row), row.cells)
        if mask:
            self._emit_changed([(position, mask)])
            if self._sort_column >= 0 and mask & (1 << self._sort_column):
                self._keep_sorted([position])

    def remove_upload(self, local_id: int) -> bool:
        """Drop the local upload row ``local_id``; False when there is none."""
        position = self._index.get(local_key(local_id))
        if position is None:
            return False
        self._remove_row(position)
        return True

    def replace_upload_with_request(self, local_id: int, request: LipsyncRequest) -> None:
        """The upload was answered: its row becomes the server job in place, so a selection
        on it stays. If the poll already listed the job, that duplicate row goes instead."""
        key = local_key(local_id)
        if key not in self._index:
            self.upsert_requests([request])
            return
        duplicate = self._index.get(request.id)
        if duplicate is not None:
            self._remove_row(duplicate)
        position = self._index.pop(key)
        row = self._rows[position]
        row.key, row.request, row.upload = request.id, request, None
        self._fill(row)
        self._index[request.id] = position
        self._server_rows += 1
        self.dataChanged.emit(self.index(position, 0), self.index(position, COLUMN_COUNT - 1))
        self._keep_sorted([position])

    def clear(self) -> None:
        """Forget every row (another account): the one place the model resets."""
        self.beginResetModel()
        self._rows.clear()
        self._index.clear()
        self._server_rows = 0
        self.endResetModel()

    def _remove_row(self, position: int) -> None:
        self.beginRemoveRows(QModelIndex(), position, position)
        row = self._rows.pop(position)
        del self._index[row.key]
        if row.request is not None:
            self._server_rows -= 1
        for later in range(position, len(self._rows)):
            self._index[self._rows[later].key] = later
        self.endRemoveRows()

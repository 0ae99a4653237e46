"""The job table panel: a filter box over a sortable table of lip-sync jobs.

The panel lays out and wires; rows come from ``JobsTableModel`` (updated in place by the
queue service) through ``JobsProxyModel``. Actions are built once in ``JobActions`` so the
main window can put the same ones in its menus (after Picard's ``ui/mainwindow/actions.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import (
    QAction,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QMenu,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..api import COMPLETED, FAILED
from .jobs_model import (
    COL_CREATED,
    COL_DURATION,
    COL_ERROR,
    COL_FINISHED,
    COL_REFERENCE,
    COL_STARTED,
    COL_STATUS,
    JobsTableModel,
    RequestRole,
    as_request,
)
from .jobs_proxy import JobsProxyModel

if TYPE_CHECKING:
    # Imported on the first painted cell (``_with_display``): the window's first frame shows
    # no rows, and PySide creates eight enum types with the class (~1.5 ms).
    from PySide6.QtWidgets import QStyleOptionViewItem

    from ..api import LipsyncRequest

EMPTY_HINT = "No lip-sync jobs yet. Drop a video and an audio file above to start."


class JobActions(QObject):
    """The job context actions, built once: copy request ID, copy reference ID, open
    output, show in folder, retry. ``update_for(request, reference_id)`` enables them for
    the job they will act on (open/show: completed jobs; retry: failed jobs)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.copy_request_id = QAction(self.tr("Copy request ID"), self)
        self.copy_request_id.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_request_id.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_reference_id = QAction(self.tr("Copy reference ID"), self)
        self.open_output = QAction(self.tr("Open output"), self)
        self.show_in_folder = QAction(self.tr("Show in folder"), self)
        self.retry = QAction(self.tr("Retry"), self)
        self.retry.setToolTip(self.tr("Submit the same video and audio again"))
        self.update_for(None, "")

    def all(self) -> list[QAction]:
        """Every action, in menu order."""
        return [
            self.copy_request_id,
            self.copy_reference_id,
            self.open_output,
            self.show_in_folder,
            self.retry,
        ]

    def update_for(self, request: LipsyncRequest | None, reference_id: str) -> None:
        """Enable the actions that make sense for ``request`` (None: a local upload or no
        row) whose reference ID is ``reference_id`` ("" when none)."""
        status = request.status if request is not None else None
        self.copy_request_id.setEnabled(request is not None)
        self.copy_reference_id.setEnabled(bool(reference_id))
        self.open_output.setEnabled(status == COMPLETED)
        self.show_in_folder.setEnabled(status == COMPLETED)
        self.retry.setEnabled(status == FAILED)


class JobsItemDelegate(QStyledItemDelegate):
    """Fills a cell's style option from ``JobsTableModel.cell`` in one call into Python.

    Why not the default delegate: it asks the proxy for seven roles per cell, and each one
    reaches the Python model through two more Python calls (the source index is checked
    with ``rowCount`` and ``columnCount``): ~24 calls into Python per cell made a repaint of
    one screen of rows take ~20 ms, so scrolling the table stalled the window
    (benchmarks/bench_ui.py). The option ends the same: text, status icon, nothing else.

    Every crossing between Python and C++ counts here (~150 cells a screen): while
    ``JobsTableView`` paints (``begin_paint``), the source row of the row painted last is
    kept, so only a row's first cell maps its index through the proxy.

    Args:
        proxy: the view's model; maps a view index to the source row.
        model: the rows.
        parent: Qt parent.
    """

    def __init__(
        self, proxy: JobsProxyModel, model: JobsTableModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._to_source = proxy.mapToSource
        self._cell = model.cell
        # (features the view set, has an icon) -> those features with HasDisplay (and
        # HasDecoration). ``|`` on PySide's enum flags runs Python's enum machinery (~3 us
        # a cell, a tenth of the delegate's share of a repaint); the view only ever sets a
        # few combinations.
        self._features: dict[tuple[object, bool], object] = {}
        self._painting = False
        self._last = (-1, -1)  # (proxy row, source row) of the cell painted last

    def begin_paint(self) -> None:
        """The view starts painting its cells (row by row): rows map the same until
        ``end_paint``, as the model cannot change in between."""
        self._painting = True
        self._last = (-1, -1)

    def end_paint(self) -> None:
        """The paint is over: map every index again."""
        self._painting = False

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row = index.row()
        last_row, source_row = self._last
        if row != last_row or not self._painting:
            source = self._to_source(index)
            if not source.isValid() or source.model() is not self._model:
                super().initStyleOption(option, index)
                return
            source_row = source.row()
            if self._painting:
                self._last = (row, source_row)
        text, icon = self._cell(source_row, index.column())
        key = (option.features, icon is not None)
        wanted = self._features.get(key)
        if wanted is None:
            wanted = self._features[key] = _with_display(*key)
        if icon is not None:
            option.icon = icon
        option.features = wanted
        option.text = text
        option.index = index if type(index) is QModelIndex else QModelIndex(index)
        option.styleObject = None  # as the default: no style animations inside item views


def _with_display(features: Any, decorated: bool) -> object:
    """``features`` with ``HasDisplay``, and ``HasDecoration`` when ``decorated``
    (``QStyleOptionViewItem`` is imported on first use)."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    feature = QStyleOptionViewItem.ViewItemFeature
    features = features | feature.HasDisplay
    return features | feature.HasDecoration if decorated else features


class JobsTableView(QTableView):
    """A ``QTableView`` that says something useful when it has no rows.

    Signals:
        currentRowChanged(): the current index moved to another row (or to none).
    """

    currentRowChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._empty_text = EMPTY_HINT
        # A viewport made in Python, so ``viewport()`` returns an object PySide already
        # wraps. Qt's own is of a private class: to wrap it, shiboken initialises the
        # Python type of every QWidget subclass (55 enum types, 12-20 ms of the first
        # frame, which paints the empty-table hint through it). Set up as Qt's is.
        viewport = QWidget(self)
        self.setViewport(viewport)
        viewport.setObjectName("qt_scrollarea_viewport")
        viewport.setBackgroundRole(QPalette.ColorRole.Base)
        viewport.setAutoFillBackground(True)
        self._unshaped = False  # ``_use_unshaped_font``, with the first rows

    def _use_unshaped_font(self) -> None:
        # No text shaping where the script does not need it (Latin, digits: every cell
        # here, ~150 a screen): Qt lays each cell's text out three times, and HarfBuzz was
        # a fifth of a repaint. Only kerning is lost. Family and size still follow the
        # parent's font (only the strategy is set). Set with the first rows: an empty table
        # lays out no cells. (It saves the start nothing: the labels' fonts make QFont's
        # Python type before the first frame anyway.)
        if self._unshaped:
            return
        self._unshaped = True
        from PySide6.QtGui import QFont

        font = QFont()
        font.setStyleStrategy(QFont.StyleStrategy.PreferNoShaping)
        self.setFont(font)

    def rowsInserted(
        self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int
    ) -> None:
        self._use_unshaped_font()
        super().rowsInserted(parent, start, end)

    def reset(self) -> None:
        model = self.model()
        if model is not None and model.rowCount() > 0:
            self._use_unshaped_font()
        super().reset()

    @property
    def empty_text(self) -> str:
        """The hint painted in the middle while the view has no rows."""
        return self._empty_text

    def set_empty_text(self, text: str) -> None:
        """Change the hint shown without rows."""
        if text != self._empty_text:
            self._empty_text = text
            self.viewport().update()

    def currentChanged(
        self,
        current: QModelIndex | QPersistentModelIndex,
        previous: QModelIndex | QPersistentModelIndex,
    ) -> None:
        # Instead of connecting to ``selectionModel().currentRowChanged``: wrapping the
        # selection model at start-up costs an enum type, and this survives a new model.
        super().currentChanged(current, previous)
        if current.row() != previous.row() or current.isValid() != previous.isValid():
            self.currentRowChanged.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        delegate = self.itemDelegate()
        fast = isinstance(delegate, JobsItemDelegate)
        if fast:
            delegate.begin_paint()
        try:
            super().paintEvent(event)
        finally:
            if fast:
                delegate.end_paint()
        model = self.model()
        if model is None or model.rowCount() > 0 or not self._empty_text:
            return
        painter = QPainter(self.viewport())
        try:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            area = self.viewport().rect().adjusted(24, 16, -24, -16)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(area, int(flags), self._empty_text)
        finally:
            painter.end()


class JobsPanel(QWidget):
    """The jobs table with its filter box and context menu.

    Args:
        model: the rows (owned by the caller, fed by the queue service).
        actions: the context actions (``job_actions``); a new ``JobActions`` when None.
        parent: Qt parent.

    Signals:
        currentRequestChanged(request: LipsyncRequest | None): the current row changed, or
            its job changed (e.g. completed); None for a local upload or no row.
        moreRequested(): the user scrolled within a screen of the bottom and the account
            has more jobs than loaded (see ``set_total``); ask for the next page.
        retryRequested(request: LipsyncRequest): "Retry" on a failed job.
        openOutputRequested(request: LipsyncRequest): "Open output" (or a double click) on
            a completed job.
        showInFolderRequested(request: LipsyncRequest): "Show in folder" on a completed job.
    """

    currentRequestChanged = Signal(object)
    moreRequested = Signal()
    retryRequested = Signal(object)
    openOutputRequested = Signal(object)
    showInFolderRequested = Signal(object)

    def __init__(
        self,
        model: JobsTableModel,
        actions: JobActions | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = JobsProxyModel(self)
        self.proxy.setSourceModel(model)
        self.job_actions = actions or JobActions(self)
        self._total = 0
        self._asked_more_at: int | None = None
        self._current: LipsyncRequest | None = None
        # The view lays rows out on the next turn of the event loop; judge "near the bottom"
        # after that, once per burst of changes.
        self._more_check = QTimer(self)
        self._more_check.setSingleShot(True)
        self._more_check.setInterval(0)
        self._more_check.timeout.connect(self._check_more)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText(self.tr("Filter by reference ID"))
        self.filter_edit.setClearButtonEnabled(True)
        self.table = JobsTableView(self)
        self._empty_hint = self.tr(
            "No lip-sync jobs yet. Drop a video and an audio file above to start."
        )
        self.table.set_empty_text(self._empty_hint)
        self._setup_table()
        self.context_menu = QMenu(self)
        self.context_menu.addActions(self.job_actions.all()[:2])
        self.context_menu.addSeparator()
        self.context_menu.addActions(self.job_actions.all()[2:4])
        self.context_menu.addSeparator()
        self.context_menu.addAction(self.job_actions.retry)
        self.table.addActions(self.job_actions.all())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table)
        self._connect()

    def _setup_table(self) -> None:
        table = self.table
        table.setModel(self.proxy)
        table.setItemDelegate(JobsItemDelegate(self.proxy, self.model, table))
        table.setSortingEnabled(True)
        table.sortByColumn(COL_CREATED, Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setShowGrid(False)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        rows = table.verticalHeader()
        rows.hide()
        # Fixed heights: sizing 10,000 rows to their contents would measure every one.
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(table.fontMetrics().height() + 10)
        header = table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_ERROR, QHeaderView.ResizeMode.Stretch)
        metrics = table.fontMetrics()
        # Times read "14:03:22" today and "21 Nov 14:03" before: size for the longer one,
        # so the error column (which stretches) stays in view on a laptop screen.
        time_width = metrics.horizontalAdvance("21 Nov 14:03") + 16
        widths = {
            COL_REFERENCE: metrics.horizontalAdvance("M") * 14,
            COL_STATUS: metrics.horizontalAdvance("uploading 100 %") + 44,
            COL_CREATED: time_width,
            COL_STARTED: time_width,
            COL_FINISHED: time_width,
            COL_DURATION: metrics.horizontalAdvance("Processing time") + 24,
        }
        for column, width in widths.items():
            header.resizeSection(column, width)

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.table.customContextMenuRequested.connect(self._show_context_menu)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.currentRowChanged.connect(self._emit_current)
        self.proxy.dataChanged.connect(self._on_rows_changed)
        self.proxy.modelReset.connect(self._emit_current)
        self.proxy.rowsRemoved.connect(self._emit_current)
        self.proxy.rowsInserted.connect(self._more_check.start)
        self.proxy.layoutChanged.connect(self._more_check.start)
        bar = self.table.verticalScrollBar()
        bar.valueChanged.connect(self._check_more)
        bar.rangeChanged.connect(self._more_check.start)
        self.job_actions.copy_request_id.triggered.connect(self._copy_request_id)
        self.job_actions.copy_reference_id.triggered.connect(self._copy_reference_id)
        self.job_actions.open_output.triggered.connect(
            lambda: self._emit_for(self.openOutputRequested, COMPLETED)
        )
        self.job_actions.show_in_folder.triggered.connect(
            lambda: self._emit_for(self.showInFolderRequested, COMPLETED)
        )
        self.job_actions.retry.triggered.connect(
            lambda: self._emit_for(self.retryRequested, FAILED)
        )

    # -- public API ---------------------------------------------------------------------

    def current_request(self) -> LipsyncRequest | None:
        """The job on the current row; None for a local upload or no row."""
        return as_request(self.table.currentIndex().data(RequestRole))

    def current_reference_id(self) -> str:
        """The reference ID on the current row ("" when none)."""
        index = self.table.currentIndex()
        if not index.isValid():
            return ""
        return str(index.siblingAtColumn(COL_REFERENCE).data() or "")

    def select_key(self, key: str) -> bool:
        """Make the row with ``key`` (request_id or ``local:<id>``) current and visible."""
        row = self.model.row_of(key)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        return True

    def set_total(self, total: int) -> None:
        """How many jobs the account has (from the last page); decides ``moreRequested``."""
        self._total = total
        self._asked_more_at = None
        self._more_check.start()

    def save_state(self) -> QByteArray:
        """The header's state (column order, widths, sort column and order) to persist."""
        return self.table.horizontalHeader().saveState()

    def restore_state(self, state: QByteArray) -> bool:
        """Apply a state from ``save_state``; False (defaults kept) when it does not fit."""
        if state.isEmpty():
            return False
        header = self.table.horizontalHeader()
        if not header.restoreState(state):
            return False
        self.table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        return True

    # -- internals ----------------------------------------------------------------------

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.set_reference_filter(text)
        needle = text.strip()
        self.table.set_empty_text(
            self.tr("No job has a reference ID containing “{0}”.").format(needle)
            if needle
            else self._empty_hint
        )
        self._more_check.start()

    def _show_context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        self.job_actions.update_for(self.current_request(), self.current_reference_id())
        self.context_menu.popup(self.table.viewport().mapToGlobal(position))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        request = as_request(index.data(RequestRole))
        if request is not None and request.status == COMPLETED:
            self.openOutputRequested.emit(request)

    def _on_rows_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        row = self.table.currentIndex().row()
        if top_left.row() <= row <= bottom_right.row():
            self._emit_current()

    def _emit_current(self) -> None:
        request = self.current_request()
        self.job_actions.update_for(request, self.current_reference_id())
        if request is not self._current:
            self._current = request
            self.currentRequestChanged.emit(request)

    def _emit_for(self, signal: SignalInstance, status: str) -> None:
        request = self.current_request()
        if request is not None and request.status == status:
            signal.emit(request)

    def _copy_request_id(self) -> None:
        request = self.current_request()
        if request is not None:
            QGuiApplication.clipboard().setText(request.id)

    def _copy_reference_id(self) -> None:
        reference_id = self.current_reference_id()
        if reference_id:
            QGuiApplication.clipboard().setText(reference_id)

    def _check_more(self) -> None:
        loaded = self.model.server_row_count()
        if self._total <= loaded or self._asked_more_at == loaded:
            return
        bar = self.table.verticalScrollBar()
        if bar.maximum() - bar.value() > bar.pageStep():
            return
        self._asked_more_at = loaded
        self.moreRequested.emit()

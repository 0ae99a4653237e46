"""The main window: lays out the panels, the menus and the status bar, and wires them.

What happens when a service reports something lives in ``Coordinator``; the API key
dialogs talk to ``KeyService``. This class holds no logic of its own beyond layout,
window state and the interrupted-uploads banner.

The window is built and painted before any service exists (``attach`` joins them
afterwards), so this module imports no service, asyncio or the journal at run time: the
first frame does not wait for them (``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from .connection_label import ConnectionLabel

if TYPE_CHECKING:
    from ..core.journal import JournalEntry
    from ..services.connection import ConnectionService
    from ..services.connection_state import ConnectionState
    from ..services.keys import KeyService
    from ..services.session import ApiSession
    from .coordinator import Coordinator
    from .input_panel import InputPanel
    from .jobs_model import JobsTableModel
    from .jobs_view import JobsPanel
    from .preview import PreviewPanel
    from .settings_dialog import ApiKeyDialog

TITLE = "Chamelaion Desktop"


class InterruptedBanner(QWidget):
    """ "2 uploads were interrupted when the app closed … [Upload again] [Dismiss]"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("interruptedBanner")
        self.setStyleSheet(
            "#interruptedBanner { background: #fff4d6; border: 1px solid #e0c36a;"
            " border-radius: 6px; }"
        )
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.resume = QPushButton("Upload again", self)
        self.dismiss = QPushButton("Dismiss", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.resume)
        layout.addWidget(self.dismiss)
        self.hide()

    def show_entries(self, entries: list[JournalEntry]) -> None:
        """Show the banner for ``entries``, or hide it when there are none."""
        if not entries:
            self.hide()
            return
        names = ", ".join(entry.reference_id for entry in entries[:3])
        more = f" and {len(entries) - 3} more" if len(entries) > 3 else ""
        count = "An upload was" if len(entries) == 1 else f"{len(entries)} uploads were"
        self.text.setText(
            f"{count} interrupted when Chamelaion Desktop last closed: {names}{more}. "
            "Uploading again first checks that the job was not already created."
        )
        self.show()


class MainWindow(QMainWindow):
    """The window titled "Chamelaion Desktop".

    Built in two steps so that it can be shown before the services exist: the constructor
    lays out the panels (what the first frame shows), ``attach`` then joins the services.
    Until then the menu entries that need a service are disabled.

    Args:
        inputs, jobs, preview, model: the panels and the jobs model.
        settings: where geometry, splitter and header state persist.
        connection: what the status bar shows until ``attach`` (where the app will
            connect; reachability unknown).
        offer_sandbox: whether the Settings menu offers "Use the offline sandbox" (not when
            the app already runs against it).

    Signals:
        closed(): the window was closed; the app shuts down.
    """

    closed = Signal()

    def __init__(
        self,
        *,
        inputs: InputPanel,
        jobs: JobsPanel,
        preview: PreviewPanel,
        model: JobsTableModel,
        settings: QSettings,
        connection: ConnectionState,
        offer_sandbox: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.settings = settings
        self.inputs, self.jobs, self.preview, self.model = inputs, jobs, preview, model
        self.session: ApiSession | None = None
        self.keys: KeyService | None = None
        self.coordinator: Coordinator | None = None
        self._use_sandbox: Callable[[], None] | None = None
        #: True once the window was closed (it may be closed before ``attach``).
        self.was_closed = False

        self.banner = InterruptedBanner()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(jobs)
        self.splitter.addWidget(preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([820, 440])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 10, 10, 4)
        layout.setSpacing(8)
        layout.addWidget(inputs)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.connection_label = ConnectionLabel()
        self.statusBar().addPermanentWidget(self.connection_label)
        self.connection_label.set_state(connection)
        self.addAction(preview.play_action)
        self._build_menus(offer_sandbox)
        self._restore_state()

    def attach(
        self,
        *,
        session: ApiSession,
        connection: ConnectionService,
        keys: KeyService,
        coordinator: Coordinator,
        use_sandbox: Callable[[], None] | None = None,
    ) -> None:
        """Join the services (once, right after the first frame).

        Args:
            session: where the app is connected.
            connection: health and token name for the status bar.
            keys: the keychain service, for the API key dialog.
            coordinator: joins the services to the panels (the window is its parent).
            use_sandbox: switches the app to the built-in sandbox (the menu entry).
        """
        self.session, self.keys, self.coordinator = session, keys, coordinator
        self._use_sandbox = use_sandbox
        self.connection_label.set_state(connection.state)
        connection.stateChanged.connect(self._connection_changed)
        coordinator.message.connect(self.statusBar().showMessage)
        coordinator.interruptedChanged.connect(self.banner.show_entries)
        self.banner.resume.clicked.connect(coordinator.resume_interrupted)
        self.banner.dismiss.clicked.connect(coordinator.dismiss_interrupted)
        self.api_key_action.setEnabled(True)
        if self.sandbox_action is not None:
            self.sandbox_action.setEnabled(use_sandbox is not None)

    # -- menus ----------------------------------------------------------------------

    def _build_menus(self, offer_sandbox: bool) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_video_action = QAction("Open &video…", self)
        self.open_video_action.triggered.connect(lambda: self.inputs.choose("video"))
        self.open_audio_action = QAction("Open &audio…", self)
        self.open_audio_action.triggered.connect(lambda: self.inputs.choose("audio"))
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addActions([self.open_video_action, self.open_audio_action])
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

        settings_menu = self.menuBar().addMenu("&Settings")
        self.api_key_action = QAction("&API key…", self)
        self.api_key_action.triggered.connect(self.show_api_key_dialog)
        self.api_key_action.setEnabled(False)  # until attach(): no key service yet
        settings_menu.addAction(self.api_key_action)
        self.sandbox_action: QAction | None = None
        if offer_sandbox:
            self.sandbox_action = QAction("Use the offline &sandbox", self)
            self.sandbox_action.triggered.connect(self._sandbox_requested)
            self.sandbox_action.setEnabled(False)
            settings_menu.addAction(self.sandbox_action)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Chamelaion Desktop", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def show_api_key_dialog(self) -> ApiKeyDialog:
        """Open the API key dialog (non-modal); a saved key takes effect at once.

        Raises:
            RuntimeError: before ``attach`` (the menu entry is disabled until then).
        """
        from .settings_dialog import ApiKeyDialog

        session, keys = self.session, self.keys
        if session is None or keys is None:
            raise RuntimeError("the window has no services yet (attach() comes first)")
        dialog = ApiKeyDialog(keys, session.base_url, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.keySaved.connect(lambda key, _name: session.set_api_key(key))
        dialog.keyRemoved.connect(lambda: session.set_api_key(None))
        dialog.open()
        return dialog

    def _sandbox_requested(self) -> None:
        if self._use_sandbox is not None:
            self._use_sandbox()

    def _about(self) -> None:
        # open(), not exec(): a nested event loop under qasync re-enters running tasks.
        from PySide6.QtWidgets import QMessageBox  # on use: not needed by the first frame

        box = QMessageBox(
            QMessageBox.Icon.Information,
            "About Chamelaion Desktop",
            f"<b>Chamelaion Desktop {__version__}</b><p>Lip-sync a video to a new audio track "
            "with the Chamelaion API.</p><p>Licence: GPL-3.0-or-later.</p>",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _connection_changed(self, state: ConnectionState) -> None:
        self.connection_label.set_state(state)

    # -- window state ---------------------------------------------------------------

    def _restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        header = self.settings.value("jobs/header")
        if isinstance(header, QByteArray):
            self.jobs.restore_state(header)

    def save_state(self) -> None:
        """Persist geometry, the splitter and the jobs table's header."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("jobs/header", self.jobs.save_state())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        super().closeEvent(event)
        self.was_closed = True
        self.closed.emit()

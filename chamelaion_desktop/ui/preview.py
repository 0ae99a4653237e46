"""The preview panel: a completed job's video, downloaded once and played inline.

States: ``empty`` (nothing selected), ``not_ready`` (queued, processing or failed: a
sentence says which), ``downloading`` (a progress bar in MB), ``ready`` (the player with
Save as…, Show in folder and drag-out) and ``error`` (what went wrong, and Retry).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..api import COMPLETED, FAILED

if TYPE_CHECKING:
    # Not at run time: the panel is built for the window's first frame, before asyncio
    # and the services are imported (``attach_outputs``, joins them). Nor the Qt classes
    # the first frame does not use (QStyle, QFileDialog, QUrl, QStandardPaths): PySide
    # creates every enum type of a class when it is first imported (~1 ms each).
    import asyncio

    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDrag

    from ..api import LipsyncRequest
    from ..services.outputs import OutputCache
    from .video_player import VideoPlayer

EMPTY = "empty"
NOT_READY = "not_ready"
DOWNLOADING = "downloading"
READY = "ready"
ERROR = "error"

EMPTY_TEXT = "Select a completed job to preview it."
_MB = 1_000_000
#: Characters no common file system accepts in a name (Windows is the strictest).
_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')

#: ``ask(suggested_name, on_chosen)``: ask where to save and call ``on_chosen(path)`` if the
#: user picks one. Must not block: a modal ``exec()`` would nest an event loop under qasync.
AskSavePath = Callable[[str, Callable[[str], None]], None]
OpenUrl = Callable[["QUrl"], object]


def not_ready_text(request: LipsyncRequest) -> str:
    """What the panel says about a job with no video to show."""
    if request.status == FAILED:
        reason = (request.error_message or "no reason was given").rstrip(".")
        return f"This job failed: {reason}. Submit it again to get a video."
    return f"This job is {request.status}: the preview appears when it completes."


def default_file_name(request: LipsyncRequest | None, path: Path | None) -> str:
    """``<reference_id or request_id>.mp4``, made safe for any file system."""
    if request is not None:
        stem = _UNSAFE_NAME.sub("_", request.reference_id or request.id).strip(" .") or request.id
        return f"{stem}.mp4"
    return path.name if path is not None else "lipsync.mp4"


class PreviewPanel(QWidget):
    """Shows the selected job's output video and lets the user keep it.

    Args:
        outputs: downloads and caches outputs; its ``tasks`` registry runs the file copies.
        parent: the owning widget.
        ask_save_path: ``(suggested file name, on_chosen)``; default: a window-modal
            ``QFileDialog`` opened (not exec'd) in the last folder used (first: Videos).
        open_url: opens a folder for Show in folder; default ``QDesktopServices.openUrl``.

    Signals:
        message(text: str): a note for the status bar (saved, could not save).
        saved(path: str): Save as… wrote the video to ``path``.
    """

    message = Signal(str)
    saved = Signal(str)

    def __init__(
        self,
        outputs: OutputCache | None = None,
        parent: QWidget | None = None,
        *,
        ask_save_path: AskSavePath | None = None,
        open_url: OpenUrl | None = None,
    ) -> None:
        super().__init__(parent)
        self._outputs: OutputCache | None = None
        self._ask_save_path = ask_save_path or self._ask_with_dialog
        self._open_url = open_url or QDesktopServices.openUrl
        self._request: LipsyncRequest | None = None
        self._path: Path | None = None
        self._saved_copy: Path | None = None
        self._save_dir: Path | None = None
        self._saves = 0
        self._state = EMPTY

        self.text_label = QLabel(EMPTY_TEXT, self)
        self.text_label.setWordWrap(True)
        self.text_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setTextVisible(True)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.clicked.connect(self.retry)
        message_page = QWidget(self)
        column = QVBoxLayout(message_page)
        column.addStretch(1)
        column.addWidget(self.text_label)
        column.addWidget(self.progress_bar)
        column.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(1)

        # The player is made with the first completed job shown (``player``); its play
        # action exists from the start, disabled, for the window to add to itself.
        self._player: VideoPlayer | None = None
        self.play_action = QAction("Play", self)
        self.play_action.setEnabled(False)
        # Their icons and their place (below the player's controls) come with the player.
        self.save_button = QPushButton("Save as…", self)
        self.save_button.setToolTip("Save a copy of the video")
        self.save_button.clicked.connect(self.save_as)
        self.folder_button = QPushButton("Show in folder", self)
        self.folder_button.setToolTip("Open the folder that holds the video")
        self.folder_button.clicked.connect(self.show_in_folder)
        self.save_button.hide()  # shown with the player, below its controls
        self.folder_button.hide()

        self._pages = QStackedWidget(self)
        self._pages.addWidget(message_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._pages)

        self._show_message(EMPTY, EMPTY_TEXT)
        if outputs is not None:
            self.attach_outputs(outputs)

    def attach_outputs(self, outputs: OutputCache) -> None:
        """Download and cache videos through ``outputs`` (once; the panel can be built
        before the services exist, and no job can be shown until then)."""
        if self._outputs is not None:
            return
        self._outputs = outputs
        outputs.progress.connect(self._on_progress)
        outputs.ready.connect(self._on_ready)
        outputs.failed.connect(self._on_failed)

    @property
    def player(self) -> VideoPlayer:
        """The inline player (page 2), made on first use: the first completed job shown.

        Not with the panel: the window's first frame shows no video, and the player's
        modules, widgets and Qt types cost ~8 ms of the start (benchmarks/bench_startup.py).
        """
        if self._player is None:
            from .video_player import VideoPlayer, standard_icon

            player = VideoPlayer(self, play_action=self.play_action)
            player.surface.drag_requested.connect(self.start_drag)
            player.error.connect(self._on_player_error)
            # A row of their own: beside the transport controls they squeezed the seek bar.
            keep_row = QHBoxLayout()
            keep_row.addStretch(1)
            keep_row.addWidget(self.save_button)
            keep_row.addWidget(self.folder_button)
            self.save_button.setIcon(standard_icon(self, "SP_DialogSaveButton"))
            self.folder_button.setIcon(standard_icon(self, "SP_DirOpenIcon"))
            self.save_button.show()
            self.folder_button.show()
            player_layout = player.layout()
            assert isinstance(player_layout, QVBoxLayout)
            player_layout.addLayout(keep_row)
            self._pages.addWidget(player)
            self._player = player
        return self._player

    @property
    def outputs(self) -> OutputCache:
        """The output cache (``attach_outputs``).

        Raises:
            RuntimeError: before ``attach_outputs``.
        """
        if self._outputs is None:
            raise RuntimeError("the preview has no output cache yet (attach_outputs first)")
        return self._outputs

    # -- what is shown ----------------------------------------------------------------

    @property
    def state(self) -> str:
        """``empty``, ``not_ready``, ``downloading``, ``ready`` or ``error``."""
        return self._state

    @property
    def status_text(self) -> str:
        """The sentence shown instead of the video (empty text in the ``ready`` state)."""
        return "" if self._state == READY else self.text_label.text()

    @property
    def request(self) -> LipsyncRequest | None:
        """The job shown, or None (nothing, or a file opened with ``load_file``)."""
        return self._request

    @property
    def current_path(self) -> Path | None:
        """The video file playing, or None."""
        return self._path

    def show_request(self, request: LipsyncRequest | None) -> None:
        """Preview ``request`` (the selected job) or nothing.

        Completed: its cached video plays at once, else it is downloaded first (the
        download of a job selected before is released: it stops unless another part of the
        app asked for it too). The same job again with the same status (a refresh of the
        list) changes nothing: playback goes on, and an error stays until Retry rather than
        downloading again on every refresh.
        """
        previous = self._request
        if (
            request is not None
            and previous is not None
            and request.id == previous.id
            and request.status == previous.status
        ):
            self._request = request
            return
        if previous is not None and (request is None or request.id != previous.id):
            self._release(previous)
        self._request = request
        self._unload()
        if request is None:
            self._show_message(EMPTY, EMPTY_TEXT)
        elif request.status == COMPLETED:
            # The player is made a step at a time while the video downloads.
            self.player.prepare()
            self._show_message(DOWNLOADING, "Opening the video…")
            self.progress_bar.setRange(0, 0)
            self.outputs.fetch(request)
        else:
            self._show_message(NOT_READY, not_ready_text(request))

    def load_file(self, path: Path) -> None:
        """Play a local video file (not tied to a job) paused on its first frame."""
        if self._request is not None:
            self._release(self._request)
        self._request = None
        self._open(Path(path))

    def retry(self) -> None:
        """Download the shown job's video again (after an error)."""
        if self._request is None:
            if self._path is not None:
                self._open(self._path)
            return
        request = self._request
        self._unload()
        self._show_message(DOWNLOADING, "Opening the video…")
        self.progress_bar.setRange(0, 0)
        self.outputs.fetch(request, refresh=True)

    # -- playback ---------------------------------------------------------------------

    def play(self) -> None:
        """Start or resume playback (nothing before a video was opened)."""
        if self._player is not None:
            self._player.play()

    def pause(self) -> None:
        """Pause playback."""
        if self._player is not None:
            self._player.pause()

    def toggle_play(self) -> None:
        """Pause when playing, play otherwise (Space)."""
        if self._player is not None:
            self._player.toggle_play()

    # -- keeping the video ------------------------------------------------------------

    def save_as(self) -> asyncio.Task[None] | None:
        """Ask where to save a copy, then copy it off the GUI thread.

        Returns:
            The copy task when the choice came at once (tests inject such an asker), else
            None: the copy starts when the dialog answers (``message`` and ``saved`` follow).
        """
        if self._path is None:
            return None
        source = self._path
        started: list[asyncio.Task[None]] = []
        self._ask_save_path(
            default_file_name(self._request, source),
            lambda chosen: started.append(self.save_to(source, chosen)),
        )
        return started[0] if started else None

    def save_to(self, source: Path, chosen: str) -> asyncio.Task[None]:
        """Copy ``source`` to ``chosen`` (``.mp4`` added when it has no suffix)."""
        target = Path(chosen)
        if not target.suffix:
            target = target.with_suffix(".mp4")
        self._save_dir = target.parent
        self._saves += 1
        return self.outputs.tasks.spawn(
            f"preview.save:{self._saves}", self._save(source, target), replace=False
        )

    def show_in_folder(self) -> None:
        """Open the folder of the last copy saved, else of the cached video."""
        target = self._saved_copy or self._path
        if target is None:
            return
        from PySide6.QtCore import QUrl

        if self._open_url(QUrl.fromLocalFile(str(target.parent))) is False:
            self.message.emit(
                f"Could not open the folder {target.parent}: no file manager answered. "
                "Open it from your file manager instead."
            )

    def make_drag(self) -> QDrag | None:
        """The drag that carries the video file out (``text/uri-list``), or None."""
        if self._path is None:
            return None
        from .video_player import standard_icon
        from .video_surface import make_file_drag

        picture = self.player.surface.current_image()
        if picture.isNull():
            picture = standard_icon(self, "SP_MediaPlay").pixmap(48, 48).toImage()
        return make_file_drag(self.player.surface, self._path, picture)

    def start_drag(self) -> None:
        """Run the drag-out (blocks in Qt's nested loop until the drop, like every drag)."""
        drag = self.make_drag()
        if drag is not None:
            drag.exec(Qt.DropAction.CopyAction)

    # -- internals --------------------------------------------------------------------

    def _release(self, request: LipsyncRequest) -> None:
        # Only a download this panel is still waiting for: another caller may want it too.
        if self._state == DOWNLOADING and self._outputs is not None:
            self._outputs.release(request.id)

    def _show_message(self, state: str, text: str) -> None:
        self._state = state
        self.text_label.setText(text)
        self.progress_bar.setVisible(state == DOWNLOADING)
        self.retry_button.setVisible(state == ERROR)
        self._pages.setCurrentIndex(0)

    def _open(self, path: Path) -> None:
        self._path = path
        self._saved_copy = None
        self._state = READY
        self.player.load(path)
        self._pages.setCurrentIndex(1)

    def _unload(self) -> None:
        self._path = None
        self._saved_copy = None
        if self._player is not None:
            self._player.unload()

    def _on_progress(self, request_id: str, done: int, total: int) -> None:
        if self._request is None or request_id != self._request.id or self._state != DOWNLOADING:
            return
        if total > 0:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(min(1000, done * 1000 // total))
            self.progress_bar.setFormat(f"{done / _MB:.1f} of {total / _MB:.1f} MB")
        else:
            self.progress_bar.setRange(0, 0)
        self.text_label.setText("Downloading the video…")

    def _on_ready(self, request_id: str, path: str) -> None:
        mine = self._request is not None and request_id == self._request.id
        if mine and self._state == DOWNLOADING:
            self._open(Path(path))

    def _on_failed(self, request_id: str, text: str) -> None:
        if self._request is not None and request_id == self._request.id:
            self._show_message(ERROR, text)

    def _on_player_error(self, text: str) -> None:
        self._unload()
        self._show_message(ERROR, text)

    async def _save(self, source: Path, target: Path) -> None:
        import asyncio  # here, not at the top: see the TYPE_CHECKING import

        try:
            await asyncio.to_thread(_copy_file, source, target)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.message.emit(
                f"Could not save the video as {target}: {reason}. "
                "Choose another folder or free some space."
            )
            return
        self._saved_copy = target if self._path == source else self._saved_copy
        self.message.emit(f"Saved the video as {target}.")
        self.saved.emit(str(target))

    def _ask_with_dialog(self, name: str, on_chosen: Callable[[str], None]) -> None:
        from PySide6.QtCore import QStandardPaths
        from PySide6.QtWidgets import QFileDialog

        folder = self._save_dir or Path(
            QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
            or Path.home()
        )
        dialog = QFileDialog(self, "Save the video as", str(folder / name), "MP4 video (*.mp4)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("mp4")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(on_chosen)
        dialog.open()


def _copy_file(source: Path, target: Path) -> None:
    """Copy through a hidden temporary name, so a failed copy never leaves a partial file
    under the chosen name (and an existing file there survives a failure)."""
    if target.exists() and os.path.samefile(source, target):
        return
    import secrets  # here, not at the top: a few ms of the window's start

    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        shutil.copy2(source, partial)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise

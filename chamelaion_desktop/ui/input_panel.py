"""The "New job" area: a video and an audio file in, a lip-sync request out.

Files arrive by drag and drop, the two "Choose…" buttons, or ``add_paths`` (the command
line). Each is probed off the GUI thread (``ProbeService``) and sorted by its streams, not
its name: a file with a picture is the video, a sound-only file the audio. A file that
cannot be used is refused in the panel with the reason and the fix, and never displaces
what was already chosen. Submitting emits ``submitRequested``; the upload itself belongs to
the caller, who reports back through ``show_upload_progress`` and ``upload_*``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from .drop_area import DropArea, DropIcon, InputSlot, format_duration
from .file_chooser import FileChooser, QtFileChooser
from .input_sorting import MAX_FILES, Note, PendingFiles, Sorted, too_many
from .job_options import JobOptions
from .upload_progress import ERROR_COLORS, SUCCESS_COLORS, WARNING_COLORS, UploadStatus, tone

if TYPE_CHECKING:
    from ..core.media import MediaInfo  # annotations only (drop_area.py says why)
    from ..services.probe import ProbeService

#: Audio and video lengths may differ by this many seconds before the panel warns.
LENGTH_TOLERANCE_S = 1.0


class InputPanel(QWidget):
    """Choose a video and an audio file, a reference ID and active speaker detection.

    Args:
        probe: probes files off the GUI thread; the panel listens to its signals. ``None``
            builds the panel before the services exist (the window's first frame); files
            added meanwhile wait, shown as "checking", until ``attach_probe``.
        choose_file: the ``FileChooser`` behind the two "Choose…" buttons (tests inject
            one); default ``QtFileChooser()``.

    Signals:
        submitRequested(video: Path, audio: Path, reference_id: str,
            disable_active_speaker_detection: bool): the user asked for a lip-sync job.
            The panel then waits, busy, for ``show_upload_progress`` and one of
            ``upload_succeeded``/``upload_failed``/``upload_cancelled``.
        cancelRequested(): Cancel was clicked during the upload.
        retryRequested(): "Try again" was clicked after ``upload_failed``; the panel is
            busy again as after ``submitRequested`` (same inputs).
        inputsChanged(): the chosen video or audio changed.
    """

    submitRequested = Signal(object, object, str, bool)
    cancelRequested = Signal()
    retryRequested = Signal()
    inputsChanged = Signal()

    def __init__(
        self,
        probe: ProbeService | None = None,
        parent: QWidget | None = None,
        *,
        choose_file: FileChooser | None = None,
    ) -> None:
        super().__init__(parent)
        self._probe: ProbeService | None = None
        self._unprobed: list[Path] = []
        self._choose_file = choose_file or QtFileChooser()
        self._pending = PendingFiles()
        self._messages: list[Note] = []
        self._busy = False
        self._build()
        self._refresh()
        if probe is not None:
            self.attach_probe(probe)

    def attach_probe(self, probe: ProbeService) -> None:
        """Probe files with ``probe`` from now on, starting with those added before it
        came (once only: a second call is ignored)."""
        if self._probe is not None:
            return
        self._probe = probe
        probe.probed.connect(self._on_probed)
        probe.refused.connect(self._on_refused)
        waiting, self._unprobed = self._unprobed, []
        for path in waiting:
            probe.probe(path)

    # -- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.drop_area = DropArea()
        self.drop_area.pathsDropped.connect(self.add_paths)
        header = QLabel("Drop a video and an audio file here")
        font = header.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        font.setBold(True)
        header.setFont(font)
        header_row = QHBoxLayout()
        header_row.addStretch(1)
        header_row.addWidget(DropIcon())
        header_row.addWidget(header)
        header_row.addStretch(1)
        self.video_slot = InputSlot("video")
        self.audio_slot = InputSlot("audio")
        self.video_slot.chooseRequested.connect(lambda: self.choose("video"))
        self.audio_slot.chooseRequested.connect(lambda: self.choose("audio"))
        slots = QHBoxLayout()
        slots.setSpacing(12)
        slots.addWidget(self.video_slot, 1)
        slots.addWidget(self.audio_slot, 1)
        drop_layout = QVBoxLayout(self.drop_area)
        drop_layout.setContentsMargins(16, 10, 16, 16)
        drop_layout.setSpacing(8)
        drop_layout.addLayout(header_row)
        drop_layout.addLayout(slots, 1)

        self.checking_label = QLabel()
        self.checking_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.RichText)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.upload_status = UploadStatus()
        self.upload_status.cancelRequested.connect(self.cancelRequested)
        self.upload_status.retryRequested.connect(self._retry)

        left = QVBoxLayout()
        left.setSpacing(6)
        left.addWidget(self.drop_area)
        left.addWidget(self.checking_label)
        left.addWidget(self.message_label)
        left.addWidget(self.warning_label)
        left.addWidget(self.upload_status)
        left.addStretch(1)

        layout = QGridLayout(self)
        layout.setHorizontalSpacing(20)
        layout.addLayout(left, 0, 0)
        layout.addWidget(self._build_options(), 0, 1)
        layout.setColumnStretch(0, 1)

    def _build_options(self) -> JobOptions:
        self.options = JobOptions()
        self.asd_checkbox = self.options.asd_checkbox
        self.reference_edit = self.options.reference_edit
        self.reference_hint = self.options.reference_hint
        self.submit_button = self.options.submit_button
        self.submit_hint = self.options.submit_hint
        self.reference_edit.textEdited.connect(lambda _text: self._refresh())
        # An action, so the shortcut works anywhere in the window and a menu can show it.
        self.submit_action = QAction("Lip-sync", self)
        self.submit_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.submit_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.submit_action.triggered.connect(self._submit)
        self.addAction(self.submit_action)
        self.submit_button.clicked.connect(self.submit_action.trigger)
        return self.options

    # -- choosing files -----------------------------------------------------------------

    def set_video(self, path: Path) -> None:
        """Use ``path`` as the video, once probed (an audio-only file goes to the audio slot
        if that is empty, else it is refused)."""
        self._add([Path(path)], intent="video")

    def set_audio(self, path: Path) -> None:
        """Use ``path`` as the audio, once probed (a video goes to the video slot if that is
        empty, else it is refused)."""
        self._add([Path(path)], intent="audio")

    def add_paths(self, paths: list[Path]) -> None:
        """Files dropped or given on the command line: one or two, sorted by their streams.

        Two videos: the first is kept, the second refused (likewise two audio files). More
        than two files: all refused, with a message.
        """
        unique = list(dict.fromkeys(Path(p) for p in paths))
        if len(unique) > MAX_FILES:
            self._show_messages([too_many(len(unique))])
            return
        self._add(unique, intent=None)

    def inputs(self) -> tuple[Path | None, Path | None]:
        """``(video, audio)``: the chosen files, ``None`` where none is chosen."""
        video, audio = self.video_slot.info, self.audio_slot.info
        return (video.path if video else None, audio.path if audio else None)

    def choose(self, kind: str) -> None:
        """Open the file picker for ``kind`` (``"video"`` or ``"audio"``)."""
        self._choose_file(self, kind, self.set_video if kind == "video" else self.set_audio)

    def _add(self, paths: list[Path], intent: str | None) -> None:
        if not paths:
            return
        if self._busy:
            self._show_messages(
                [("A job is being sent: wait for it, or cancel it, to choose other files.", True)]
            )
            return
        self._show_messages([])
        if not self.upload_status.retry_button.isVisible():
            self.upload_status.idle()  # an old outcome note is stale once new files come
        for path in paths:
            if intent == "video":
                self.video_slot.show_checking(path)
            elif intent == "audio":
                self.audio_slot.show_checking(path)
        for done in self._pending.add(paths, intent):
            self._apply(done)
        self._refresh()
        for path in paths:
            if self._probe is None:
                self._unprobed.append(path)
            else:
                self._probe.probe(path)

    def _on_probed(self, path: str, info: MediaInfo) -> None:
        self._answer(path, info)

    def _on_refused(self, path: str, message: str) -> None:
        self._answer(path, message)

    def _answer(self, path: str, result: MediaInfo | str) -> None:
        done = self._pending.answer(path, result)
        if done is not None:
            self._apply(done)
        self._refresh()

    def _apply(self, done: Sorted) -> None:
        notes = list(done.notes)
        for info in done.chosen:
            notes.extend(self._place(info, done.intent))
        self.video_slot.restore()
        self.audio_slot.restore()
        self._show_messages(self._messages + notes)

    def _place(self, info: MediaInfo, intent: str | None) -> list[Note]:
        """Put a probed file in the slot its streams call for; return notes to show."""
        slot = self.video_slot if info.kind == "video" else self.audio_slot
        name = info.path.name
        notes: list[Note] = []
        if intent is not None and intent != info.kind:
            if slot.info is not None:
                if info.kind == "audio":
                    refusal = f"{name} has no video stream (it is audio only): choose an MP4 video."
                else:
                    refusal = f"{name} is a video, not an audio file: choose a WAV or MP3 file."
                return [(refusal, True)]
            other = "video" if info.kind == "audio" else "audio"
            notes.append(
                (f"{name} has no {other} stream, so it is used as the {info.kind}.", False)
            )
        if slot.info != info:
            slot.show_media(info)
            self.upload_status.idle()
            self.inputsChanged.emit()
        return notes

    # -- reference ID, warnings, submit ---------------------------------------------------

    def _refresh(self) -> None:
        video, audio = self.video_slot.info, self.audio_slot.info
        self.options.suggest(
            (video.path, audio.path) if video is not None and audio is not None else None
        )
        self._refresh_checking()
        self._refresh_warning(video, audio)
        missing = [
            kind for kind, info in (("a video", video), ("an audio file", audio)) if not info
        ]
        if self._busy:
            hint = "Sending…"
        elif self._pending:
            hint = "Checking the files…"
        elif missing:
            hint = f"Add {' and '.join(missing)} to continue."
        elif not self.options.reference_id():
            hint = "Enter a reference ID to continue."
        else:
            hint = "Ctrl+Return"
        ready = self.can_submit()
        self.options.set_ready(ready, hint)
        self.submit_action.setEnabled(ready)
        for widget in (self.video_slot.choose_button, self.audio_slot.choose_button):
            widget.setEnabled(not self._busy)
        self.reference_edit.setEnabled(not self._busy)
        self.asd_checkbox.setEnabled(not self._busy)
        self.drop_area.setAcceptDrops(not self._busy)

    def _refresh_checking(self) -> None:
        # Files from a Choose button say "Checking…" in their slot already.
        names = self._pending.names(intent=None)
        self.checking_label.setText(f"Checking {' and '.join(names)}…" if names else "")
        self.checking_label.setVisible(bool(names))

    def _refresh_warning(self, video: MediaInfo | None, audio: MediaInfo | None) -> None:
        if (
            video is None
            or audio is None
            or video.duration_s is None
            or audio.duration_s is None
            or abs(video.duration_s - audio.duration_s) <= LENGTH_TOLERANCE_S
        ):
            self.warning_label.hide()
            return
        said = format_duration(audio.duration_s)
        self.warning_label.setText(
            f"⚠ The audio is {said} and the video {format_duration(video.duration_s)}: "
            f"the result follows the audio, so it will be {said} long."
        )
        self.warning_label.setStyleSheet(f"color: {tone(self, WARNING_COLORS)};")
        self.warning_label.show()

    def _show_messages(self, messages: list[Note]) -> None:
        import html  # on first use: html.entities is ~2 ms the first frame can do without

        self._messages = messages
        lines = []
        for text, is_error in messages:
            color = tone(self, ERROR_COLORS) if is_error else ""
            style = f' style="color: {color}"' if color else ""
            lines.append(f"<span{style}>{html.escape(text)}</span>")
        self.message_label.setText("<br>".join(lines))
        self.message_label.setVisible(bool(lines))

    @property
    def checking(self) -> bool:
        """True while a file added to the panel is still being probed."""
        return bool(self._pending)

    @property
    def busy(self) -> bool:
        """True from a submit (or retry) until the caller reports how the upload ended."""
        return self._busy

    def can_submit(self) -> bool:
        """True when both files are chosen and checked, a reference ID is set and no job
        is being sent."""
        return (
            self.video_slot.info is not None
            and self.audio_slot.info is not None
            and not self._pending
            and not self._busy
            and bool(self.options.reference_id())
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._refresh()

    def _submit(self) -> None:
        video, audio = self.inputs()
        if not self.can_submit() or video is None or audio is None:
            return
        self._show_messages([])
        self.upload_status.preparing()
        self._set_busy(True)
        self.submitRequested.emit(
            video,
            audio,
            self.options.reference_id(),
            self.options.disable_active_speaker_detection(),
        )

    def _retry(self) -> None:
        if self._busy:
            return
        self.upload_status.preparing()
        self._set_busy(True)
        self.retryRequested.emit()

    # -- the upload, as reported by the caller -----------------------------------------------

    def show_upload_progress(
        self, bytes_sent: int, bytes_total: int, bytes_per_second: float
    ) -> None:
        """Show the upload's progress: bytes sent of bytes in all, at bytes per second."""
        if not self._busy:
            self._set_busy(True)
        self.upload_status.progress(bytes_sent, bytes_total, bytes_per_second)

    def upload_succeeded(self, request_id: str) -> None:
        """The job was created: say so, clear both files for the next job (the active
        speaker choice stays)."""
        self._set_busy(False)
        self.video_slot.clear()
        self.audio_slot.clear()
        self.options.reset_reference()
        self._show_messages([])
        self.upload_status.note(
            f"Submitted (request ID {request_id}). Drop the next video and audio file "
            "for another job.",
            SUCCESS_COLORS,
        )
        self.inputsChanged.emit()
        self._refresh()

    def upload_failed(self, message: str) -> None:
        """The job was not created: show ``message`` (plain words, the server's own
        message included) with "Try again"; the files stay chosen."""
        self._set_busy(False)
        self.upload_status.failed(f"The job was not submitted. {message}")

    def upload_cancelled(self) -> None:
        """The upload was cancelled: say so; the files stay chosen."""
        self._set_busy(False)
        self.upload_status.note(
            "Upload cancelled. Your files are still chosen: press Lip-sync to send them again."
        )

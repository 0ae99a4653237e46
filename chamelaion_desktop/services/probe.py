"""Probe local media files off the GUI thread (``core.media.probe`` in a worker thread).

Probing reads a file's headers with PyAV: a few milliseconds on a local disk, seconds on a
sleeping network drive. The window must not freeze meanwhile, so every probe is a named task
(``probe:<path>``) whose blocking part runs through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core import media
from .tasks import TaskRegistry

log = logging.getLogger(__name__)


class ProbeService(QObject):
    """Describes local media files, one task per file.

    Args:
        tasks: the registry that owns the probe tasks.

    Signals:
        probed(path: str, info: MediaInfo): the file holds a readable video and/or audio
            stream; ``info`` is a ``core.media.MediaInfo`` (sizes in bytes, durations in
            seconds).
        refused(path: str, message: str): the file cannot be used; ``message`` is one plain
            sentence naming the problem and the fix (``MediaError.message``).

    Exactly one of the two is emitted per ``probe`` call, unless the same path is probed
    again before the first finishes: the older task is cancelled and only the newer answers.
    """

    probed = Signal(str, object)
    refused = Signal(str, str)

    def __init__(self, tasks: TaskRegistry, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks

    def probe(self, path: Path) -> None:
        """Start probing ``path`` (task ``probe:<path>``); the answer comes as a signal."""
        self._tasks.spawn(f"probe:{path}", self._probe(Path(path)))

    async def _probe(self, path: Path) -> None:
        try:
            info = await asyncio.to_thread(media.probe, path)
        except media.MediaError as exc:
            self.refused.emit(str(path), exc.message)
            return
        except Exception:
            # PyAV can fail in ways MediaError does not cover; the panel must still hear back.
            log.exception("probing %s failed unexpectedly", path)
            self.refused.emit(
                str(path),
                f"{path} could not be read as a video or audio file: "
                "choose an MP4 video or a WAV/MP3 audio file.",
            )
            return
        self.probed.emit(str(path), info)

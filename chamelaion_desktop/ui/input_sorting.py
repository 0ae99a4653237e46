"""Files on their way into the "New job" area: which are still being probed, and, once all
files that came together have answered, which to keep and what to tell the user.

Pure Python (no Qt): the panel feeds it paths and probe answers and applies the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.media import MediaInfo  # annotations only (drop_area.py says why)

#: A line for the user: ``(text, is_error)``.
Note = tuple[str, bool]

#: At most this many files can be added at once (one video, one audio).
MAX_FILES = 2


@dataclass
class _Batch:
    """Files added together, resolved together once every probe has answered."""

    paths: list[Path]
    intent: str | None
    results: dict[Path, MediaInfo | str] = field(default_factory=dict)

    def complete(self) -> bool:
        return all(path in self.results for path in self.paths)


@dataclass(frozen=True)
class Sorted:
    """The outcome of one batch.

    Attributes:
        intent: ``"video"``/``"audio"`` when the files came from that slot's Choose button,
            ``None`` for drops and the command line.
        chosen: the files to use, the video first: at most one video and one audio.
        notes: refusals and explanations to show, in order.
    """

    intent: str | None
    chosen: list[MediaInfo]
    notes: list[Note]


def too_many(count: int) -> Note:
    """The refusal for a drop of ``count`` > ``MAX_FILES`` files."""
    return (
        f"{count} files were dropped: drop one video and one audio file (two files at most).",
        True,
    )


def _sort(batch: _Batch) -> Sorted:
    notes: list[Note] = []
    found: dict[str, list[MediaInfo]] = {"video": [], "audio": []}
    for path in batch.paths:
        result = batch.results[path]
        if isinstance(result, str):
            # MediaError sentences name the full path; the file's name is enough here.
            notes.append((result.replace(str(path), path.name), True))
        else:
            found[result.kind].append(result)
    for kind, plural in (("video", "videos"), ("audio", "audio files")):
        if len(found[kind]) > 1:
            kept = found[kind][0].path.name
            notes.append(
                (
                    f"Two {plural} were dropped: choose one video and one audio file. "
                    f"{kept} is used as the {kind}.",
                    True,
                )
            )
    return Sorted(batch.intent, found["video"][:1] + found["audio"][:1], notes)


class PendingFiles:
    """The files being probed, each in the batch that brought it."""

    def __init__(self) -> None:
        self._batches: dict[str, _Batch] = {}

    def __bool__(self) -> bool:
        return bool(self._batches)

    def names(self, *, intent: str | None) -> list[str]:
        """File names still being probed that came with ``intent``."""
        return [Path(p).name for p, batch in self._batches.items() if batch.intent == intent]

    def add(self, paths: list[Path], intent: str | None) -> list[Sorted]:
        """Start a batch of ``paths`` (to be probed by the caller).

        A path already pending moves to the new batch (its answer will be the newer probe's);
        batches that this completes are returned, sorted.
        """
        batch = _Batch(list(paths), intent)
        done: list[Sorted] = []
        for path in paths:
            older = self._batches.pop(str(path), None)
            if older is not None and older is not batch:
                older.paths.remove(path)
                if older.complete():
                    done.append(_sort(older))
            self._batches[str(path)] = batch
        return done

    def answer(self, path: str, result: MediaInfo | str) -> Sorted | None:
        """Record a probe's answer (``MediaInfo`` or a refusal sentence).

        Returns:
            The sorted batch when this was its last answer; ``None`` while others are
            pending, or when ``path`` is not pending here (someone else's probe).
        """
        batch = self._batches.pop(path, None)
        if batch is None:
            return None
        batch.results[Path(path)] = result
        return _sort(batch) if batch.complete() else None

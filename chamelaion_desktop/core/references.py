"""A readable reference ID suggested from the input files' names.

API.md: ``reference_id`` is the caller's own identifier, sent with a job and matched
exactly by ``GET /v1/lipsync/requests?reference_id=…``; a retry finds an earlier try by it.
A name built from the files (``<video stem>__<audio stem>``) tells an editor at a glance
which pair a job was, and stays URL-safe for ``GET /v1/lipsync/requests/{reference_id}``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

__all__ = ["MAX_REFERENCE_ID_LENGTH", "SEPARATOR", "slug", "suggest_reference_id"]

#: Longest suggestion, in characters (the API states no limit; this keeps tables readable).
MAX_REFERENCE_ID_LENGTH = 64
#: Between the video part and the audio part.
SEPARATOR = "__"

_OUTSIDE = re.compile(r"[^a-z0-9._-]+")
_DASHES = re.compile(r"-{2,}")


def slug(text: str) -> str:
    """``text`` lowercased, accents dropped, anything outside ``[a-z0-9._-]`` as one ``-``.

    ``"Scène 12 (final)"`` -> ``"scene-12-final"``. May return ``""``.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _DASHES.sub("-", _OUTSIDE.sub("-", plain)).strip("-")


def _fair_share(first: int, second: int, budget: int) -> tuple[int, int]:
    # Each part gets half; a part shorter than its half gives the rest to the other.
    if first + second <= budget:
        return first, second
    half = budget // 2
    if first <= half:
        return first, budget - first
    if second <= budget - half:
        return budget - second, second
    return half, budget - half


def suggest_reference_id(video: PurePath | str, audio: PurePath | str) -> str:
    """``<video stem>__<audio stem>``, slugged, at most ``MAX_REFERENCE_ID_LENGTH`` chars.

    ``grid_s2_male_2sentences_6s.mp4`` + ``fleurs_es419_006_spanish_5.6s.wav`` ->
    ``grid_s2_male_2sentences_6s__fleurs_es419_006_spanish_5.6s``. When too long, each
    stem is cut to a fair share of the length (a short one keeps all of it). A stem with
    nothing usable (e.g. only CJK characters) becomes ``video`` / ``audio``. Pure.
    """
    video_part = slug(PurePath(video).stem) or "video"
    audio_part = slug(PurePath(audio).stem) or "audio"
    budget = MAX_REFERENCE_ID_LENGTH - len(SEPARATOR)
    video_len, audio_len = _fair_share(len(video_part), len(audio_part), budget)
    # A cut can end on a dash; dropping it only makes the result shorter.
    video_part = video_part[:video_len].rstrip("-")
    audio_part = audio_part[:audio_len].rstrip("-")
    return f"{video_part}{SEPARATOR}{audio_part}"

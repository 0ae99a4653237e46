"""Suggested reference IDs: readable, URL-safe, at most 64 characters, fairly cut."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chamelaion_desktop.core.references import (
    MAX_REFERENCE_ID_LENGTH,
    slug,
    suggest_reference_id,
)

ALLOWED = re.compile(r"[a-z0-9._-]+__[a-z0-9._-]+")


def test_the_sample_pair_reads_as_its_file_names(media_dir: Path) -> None:
    suggestion = suggest_reference_id(
        media_dir / "grid_s2_male_2sentences_6s.mp4",
        media_dir / "fleurs_es419_006_spanish_5.6s.wav",
    )
    assert suggestion == "grid_s2_male_2sentences_6s__fleurs_es419_006_spanish_5.6s"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Scène 12 (final)", "scene-12-final"),
        ("  Interview -- TAKE 3!! ", "interview-take-3"),
        ("Ñandú_v2.1", "nandu_v2.1"),
        ("字幕", ""),
        ("a/b\\c", "a-b-c"),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_unusable_names_fall_back_to_video_and_audio() -> None:
    assert suggest_reference_id("映像.mp4", "音声.wav") == "video__audio"


def test_long_names_are_cut_fairly_to_64_characters() -> None:
    video = "v" * 100 + ".mp4"
    audio = "a" * 100 + ".wav"
    suggestion = suggest_reference_id(video, audio)
    assert len(suggestion) == MAX_REFERENCE_ID_LENGTH
    assert suggestion == "v" * 31 + "__" + "a" * 31


def test_a_short_name_is_kept_whole_and_lends_its_share() -> None:
    suggestion = suggest_reference_id(
        "Shot 4.mp4", "Dialogue track, Spanish (Latin America) final mix v3.wav"
    )
    assert suggestion.startswith("shot-4__dialogue-track-spanish-latin-america-")
    assert len(suggestion) <= MAX_REFERENCE_ID_LENGTH
    long_video = suggest_reference_id("x" * 80 + ".mov", "es.mp3")
    assert long_video == "x" * 60 + "__es"


def test_a_cut_never_ends_on_a_dash() -> None:
    video = "a" * 30 + " " + "b" * 40 + ".mp4"  # the cut at 31 lands on the dash
    suggestion = suggest_reference_id(video, "c" * 50 + ".wav")
    assert suggestion.split("__")[0] == "a" * 30
    assert ALLOWED.fullmatch(suggestion)


@pytest.mark.parametrize(
    ("video", "audio"),
    [
        ("/media/Proj X/Ep 01 \u2013 Scène 3.MOV", "/m/VO ES (final).MP3"),
        ("clip.mp4", "clip.mp4"),
        ("--.mp4", "...wav"),
    ],
)
def test_suggestions_are_url_safe_and_bounded(video: str, audio: str) -> None:
    suggestion = suggest_reference_id(video, audio)
    assert ALLOWED.fullmatch(suggestion), suggestion
    assert len(suggestion) <= MAX_REFERENCE_ID_LENGTH

"""core.media against the real sample media (facts from ../shared/media/facts.jsonl) and
against broken files made on the spot."""

from __future__ import annotations

import json
import os
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from chamelaion_desktop.core.media import (
    MediaError,
    check_audio,
    check_video,
    probe,
)


def _facts() -> list[dict[str, Any]]:
    facts_file = Path(__file__).resolve().parents[3] / "shared" / "media" / "facts.jsonl"
    if not facts_file.is_file():  # the media_dir fixture reports the missing folder
        return []
    with facts_file.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


FACTS = _facts()


@pytest.mark.parametrize("fact", FACTS, ids=[Path(f["file"]).name for f in FACTS])
def test_probe_matches_the_recorded_facts(media_dir: Path, fact: dict[str, Any]) -> None:
    path = media_dir / Path(fact["file"]).name
    info = probe(path)

    assert info.path == path
    assert info.size_bytes == fact["bytes"]
    assert info.container == fact["container"]
    assert info.duration_s == pytest.approx(fact["duration_s"], abs=0.01)
    streams = {s["type"]: s for s in fact["streams"]}
    if "video" in streams:
        expected = streams["video"]
        assert info.kind == "video"
        assert info.video is not None
        assert info.video.codec == expected["codec"]
        assert (info.video.width, info.video.height) == (expected["width"], expected["height"])
        assert info.video.fps == pytest.approx(float(Fraction(expected["fps"])))
    else:
        assert info.kind == "audio"
        assert info.video is None
    audio = streams["audio"]
    assert info.audio is not None
    assert info.audio.codec == audio["codec"]
    assert info.audio.sample_rate == audio["sample_rate"]
    assert info.audio.channels == audio["channels"]


def test_the_facts_cover_both_kinds() -> None:
    kinds = {s["type"] for f in FACTS for s in f["streams"]}
    assert len(FACTS) >= 9
    assert kinds == {"video", "audio"}


def test_check_video_accepts_a_video_and_refuses_audio(media_dir: Path) -> None:
    video = check_video(media_dir / "grid_s2_male_2sentences_6s.mp4")
    assert video.video is not None and video.video.width == 360

    with pytest.raises(MediaError) as caught:
        check_video(media_dir / "jfk_en_11s.wav")
    assert caught.value.message == (
        f"{media_dir / 'jfk_en_11s.wav'} has no video stream (it is audio only): "
        "choose an MP4 video."
    )


def test_check_audio_accepts_wav_and_mp3_and_refuses_a_video(media_dir: Path) -> None:
    assert check_audio(media_dir / "fleurs_es419_006_spanish_5.6s.wav").audio is not None
    assert check_audio(media_dir / "fleurs_de_005_german_8.4s.mp3").duration_s == 8.4

    with pytest.raises(MediaError, match=r"is a video, not an audio file: choose a WAV or MP3"):
        check_audio(media_dir / "grid_female_brbk7n_3s.mp4")


def test_streams_decide_not_the_extension(media_dir: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "actually_audio.mp4"
    shutil.copyfile(media_dir / "jfk_en_11s.wav", disguised)

    info = check_audio(disguised)
    assert (info.kind, info.container) == ("audio", "wav")
    with pytest.raises(MediaError, match="no video stream"):
        check_video(disguised)


def _write_png(path: Path) -> None:
    frame = av.VideoFrame(16, 16, "rgb24")
    frame.planes[0].update(bytes(frame.planes[0].buffer_size))
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("png", rate=1)
        stream.width = stream.height = 16
        stream.pix_fmt = "rgb24"
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)


def _write_mp3_with_cover(path: Path) -> None:
    """One second of silence as MP3 with an attached picture (an ID3 cover)."""
    with av.open(str(path), "w", format="mp3") as out:
        sound = out.add_stream("libmp3lame", rate=16000, layout="mono")
        cover = out.add_stream("png", rate=1)
        cover.width = cover.height = 16
        cover.pix_fmt = "rgb24"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame(16, 16, "rgb24")
        picture.planes[0].update(bytes(picture.planes[0].buffer_size))
        for packet in [*cover.encode(picture), *cover.encode()]:
            out.mux(packet)
        frame = av.AudioFrame(format="s16", layout="mono", samples=16000)
        frame.planes[0].update(bytes(32000))
        frame.sample_rate = 16000
        for packet in [*sound.encode(frame), *sound.encode()]:
            out.mux(packet)


def test_cover_art_does_not_make_an_mp3_a_video(tmp_path: Path) -> None:
    song = tmp_path / "song.mp3"
    _write_mp3_with_cover(song)
    with av.open(str(song)) as container:  # the file really carries a picture stream
        assert len(container.streams.video) == 1

    info = check_audio(song)
    assert info.kind == "audio"
    assert info.video is None


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "notes.mp4"
    text.write_text("This is not a video.\n" * 40, encoding="utf-8")
    empty = tmp_path / "empty.mp4"
    empty.touch()
    folder = tmp_path / "folder.mp4"
    folder.mkdir()
    image = tmp_path / "picture.mp4"
    _write_png(image)
    subtitles = tmp_path / "subtitles.mp4"
    subtitles.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n", encoding="utf-8")
    missing = tmp_path / "nowhere" / "missing.mp4"
    return {
        "missing": (missing, f"No file at {missing}: check the path."),
        "folder": (folder, f"{folder} is a folder, not a file: choose a video or audio file"),
        "empty": (empty, f"{empty} is empty (0 bytes): choose a file that has finished"),
        "text": (
            text,
            f"{text} is not a video or audio file that can be read (invalid data found when "
            "processing input): choose an MP4 video or a WAV/MP3 audio file.",
        ),
        "image": (image, f"{image} is a still image or text, not a video or audio file"),
        "subtitles": (subtitles, "(it has no video or audio stream): choose an MP4 video"),
    }


@pytest.mark.parametrize("case", ["missing", "folder", "empty", "text", "image", "subtitles"])
@pytest.mark.parametrize("check", [probe, check_video, check_audio])
def test_bad_files_give_one_plain_sentence(tmp_path: Path, case: str, check: Any) -> None:
    path, expected = _bad_files(tmp_path)[case]
    with pytest.raises(MediaError) as caught:
        check(path)
    message = caught.value.message
    assert message.startswith(expected) or expected in message
    assert str(caught.value) == message
    assert "\n" not in message
    assert message.endswith(".")
    assert caught.value.path == path
    # No FFmpeg exception chained: a CLI or dialog shows the sentence alone.
    assert caught.value.__cause__ is None


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match="is not a regular file"):
        probe(fifo)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_says_permission_denied(media_dir: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked.mp4"
    shutil.copyfile(media_dir / "grid_female_brbk7n_3s.mp4", locked)
    locked.chmod(0)
    try:
        with pytest.raises(MediaError, match=r"cannot be read \(permission denied\)"):
            probe(locked)
    finally:
        locked.chmod(0o600)

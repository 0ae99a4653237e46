"""Read what a local media file holds, before anything is uploaded.

The API accepts an MP4 video and a WAV or MP3 audio track (``shared/api/API.md``, "Limits and
formats"). Files are classified by the streams FFmpeg finds in them, never by their extension:
a WAV renamed ``.mp4`` is still audio, and a text file named ``.mp4`` is no media at all.

Every failure is a ``MediaError`` whose message is one plain sentence that names the problem
and the fix, fit to show a user as it is.

Probing opens the file and reads its headers (a few milliseconds, more on a slow disk): it
blocks, so async callers run it in a worker thread (``asyncio.to_thread(probe, path)``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fractions import Fraction  # PyAV's rates; fractions imports decimal (~3 ms)

    import av.container

# PyAV is imported by ``probe``, in the worker thread that runs it, not here: importing it
# costs ~0.08 s, and the window imports this module for its types before its first frame.

__all__ = [
    "AudioStreamInfo",
    "MediaError",
    "MediaInfo",
    "VideoStreamInfo",
    "check_audio",
    "check_video",
    "probe",
]

#: Demuxers that find a "video" stream in files that are not videos: still images and
#: image sequences (``image2``, ``png_pipe``, ``jpeg_pipe``…) and ANSI text art (``tty``,
#: which FFmpeg picks for any file named ``.txt``).
_STILL_OR_TEXT_FORMATS = frozenset({"image2", "tty"})


class MediaError(Exception):
    """A local file cannot be used as a video or audio input.

    Attributes:
        message: one plain sentence naming the problem and the fix, safe to show a user.
        path: the file concerned, when known.
    """

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else Path(path)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class VideoStreamInfo:
    """The first video stream of a file.

    Attributes:
        codec: FFmpeg decoder name, e.g. ``"h264"``.
        width, height: frame size in pixels.
        fps: average frame rate in frames per second, or ``None`` when the file does not say.
    """

    codec: str
    width: int
    height: int
    fps: float | None


@dataclass(frozen=True, slots=True)
class AudioStreamInfo:
    """The first audio stream of a file.

    Attributes:
        codec: FFmpeg decoder name, e.g. ``"aac"``, ``"pcm_s16le"``, ``"mp3float"``.
        sample_rate: samples per second per channel (Hz).
        channels: number of channels (1 mono, 2 stereo).
    """

    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a media file holds.

    Attributes:
        path: the file probed.
        size_bytes: its size on disk, in bytes.
        container: FFmpeg's demuxer name, e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"wav"``, ``"mp3"``.
        duration_s: playing time in seconds, or ``None`` when the file does not say.
        video: the first video stream, or ``None`` for audio-only files.
        audio: the first audio stream, or ``None`` for silent videos.
    """

    path: Path
    size_bytes: int
    container: str
    duration_s: float | None
    video: VideoStreamInfo | None
    audio: AudioStreamInfo | None

    @property
    def kind(self) -> Literal["video", "audio"]:
        """``"video"`` when the file has a video stream, else ``"audio"``."""
        return "video" if self.video is not None else "audio"


def _check_file(path: Path) -> int:
    """Return the size in bytes of a readable, non-empty regular file, or raise ``MediaError``."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise MediaError(f"No file at {path}: check the path.", path) from None
    except PermissionError:
        raise MediaError(
            f"{path} cannot be read (permission denied): check the file's permissions.", path
        ) from None
    except OSError as exc:
        raise MediaError(f"{path} cannot be read ({exc.strerror}): check the path.", path) from None
    if stat.S_ISDIR(info.st_mode):
        raise MediaError(
            f"{path} is a folder, not a file: choose a video or audio file inside it.", path
        )
    if not stat.S_ISREG(info.st_mode):
        # A FIFO or device would block FFmpeg forever.
        raise MediaError(
            f"{path} is not a regular file: choose a video or audio file saved on disk.", path
        )
    if info.st_size == 0:
        raise MediaError(
            f"{path} is empty (0 bytes): choose a file that has finished copying or downloading.",
            path,
        )
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except PermissionError:
        raise MediaError(
            f"{path} cannot be read (permission denied): check the file's permissions.", path
        ) from None
    except OSError as exc:
        raise MediaError(f"{path} cannot be read ({exc.strerror}): check the disk.", path) from None
    return info.st_size


def _not_media(path: Path, reason: str) -> MediaError:
    return MediaError(
        f"{path} is not a video or audio file that can be read ({reason}): "
        "choose an MP4 video or a WAV/MP3 audio file.",
        path,
    )


def _rate(value: Fraction | None) -> float | None:
    if value is None or value <= 0:
        return None
    return float(value)


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Open a local file and describe its streams. Blocking: reads the file's headers.

    Args:
        path: a local file path.

    Returns:
        A ``MediaInfo`` with the size in bytes, container name, duration in seconds and the
        first video and first audio stream (either may be ``None``, never both).

    Raises:
        MediaError: the path does not exist, is a folder or not a regular file, is empty,
            cannot be read, or holds no audio or video stream FFmpeg can read (a text file,
            a still image, a subtitle file).
    """
    import av
    import av.error

    file = Path(path)
    size_bytes = _check_file(file)
    try:
        with av.open(str(file), mode="r") as container:
            format_name = container.format.name
            if format_name in _STILL_OR_TEXT_FORMATS or format_name.endswith("_pipe"):
                raise MediaError(
                    f"{file} is a still image or text, not a video or audio file: "
                    "choose an MP4 video or a WAV/MP3 audio file.",
                    file,
                )
            video: VideoStreamInfo | None = None
            audio: AudioStreamInfo | None = None
            # Cover art in an MP3 or M4A is a one-picture "video" stream: not a video.
            moving = [
                s
                for s in container.streams.video
                if not s.disposition & av.stream.Disposition.attached_pic
            ]
            if moving:
                stream = moving[0]
                video = VideoStreamInfo(
                    codec=stream.codec_context.name,
                    width=stream.codec_context.width,
                    height=stream.codec_context.height,
                    fps=_rate(stream.average_rate) or _rate(stream.guessed_rate),
                )
            if container.streams.audio:
                sound = container.streams.audio[0]
                audio = AudioStreamInfo(
                    codec=sound.codec_context.name,
                    sample_rate=sound.codec_context.sample_rate,
                    channels=sound.codec_context.channels,
                )
            duration_s = _duration_s(container)
    except MediaError:
        raise
    except PermissionError:
        raise MediaError(
            f"{file} cannot be read (permission denied): check the file's permissions.", file
        ) from None
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise _not_media(file, reason.lower()) from None
    if video is None and audio is None:
        raise _not_media(file, "it has no video or audio stream")
    return MediaInfo(
        path=file,
        size_bytes=size_bytes,
        container=format_name,
        duration_s=duration_s,
        video=video,
        audio=audio,
    )


def _duration_s(container: av.container.InputContainer) -> float | None:
    """Container duration in seconds, else the longest stream's, else ``None``."""
    import av

    if container.duration is not None and container.duration > 0:
        return round(container.duration / av.time_base, 6)
    longest: float | None = None
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
            longest = seconds if longest is None else max(longest, seconds)
    return longest


def check_video(path: str | os.PathLike[str]) -> MediaInfo:
    """Probe a file meant as the video input. Blocking.

    Returns:
        Its ``MediaInfo``; ``video`` is never ``None``.

    Raises:
        MediaError: as ``probe``, or the file has no video stream (audio only).
    """
    info = probe(path)
    if info.video is None:
        raise MediaError(
            f"{info.path} has no video stream (it is audio only): choose an MP4 video.", info.path
        )
    return info


def check_audio(path: str | os.PathLike[str]) -> MediaInfo:
    """Probe a file meant as the audio input. Blocking.

    A video with a soundtrack is refused rather than silently used for its sound: giving a
    video where the audio belongs is nearly always a mix-up of the two inputs.

    Returns:
        Its ``MediaInfo``; ``audio`` is never ``None`` and ``video`` is ``None``.

    Raises:
        MediaError: as ``probe``, or the file is a video, or it has no audio stream.
    """
    info = probe(path)
    if info.video is not None:
        raise MediaError(
            f"{info.path} is a video, not an audio file: choose a WAV or MP3 audio file.",
            info.path,
        )
    if info.audio is None:  # pragma: no cover - probe refuses files with neither stream
        raise MediaError(
            f"{info.path} has no audio stream: choose a WAV or MP3 audio file.", info.path
        )
    return info

"""The sandbox's stand-in for lip sync: the input picture with the new soundtrack, via PyAV.

No lips move here. The output is a real H.264 + AAC MP4 whose length is exactly the audio's:
the video is looped when the audio is longer and trimmed when it is shorter, so a client sees
the same shape of result the real service returns (API.md, "Jobs are asynchronous").

Everything in this module blocks (decoding, encoding, file I/O): call it from an executor.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.packet import Packet
from av.stream import Stream
from av.video.frame import VideoFrame

#: Output audio sample rate (Hz). 48 kHz keeps one AAC frame at ~21 ms, so the container's
#: duration stays within a frame of the audio's.
AUDIO_RATE = 48_000
#: Frame rate used when the input video does not say (frames per second).
DEFAULT_FPS = Fraction(25)
MAX_FPS = Fraction(60)


class RenderError(Exception):
    """A job's inputs cannot be rendered; ``str(exc)`` is the job's plain ``error_message``."""


def _open(path: Path, what: str) -> InputContainer:
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise RenderError(f"the {what} file could not be decoded") from exc


def _resampled(path: Path, layout: str) -> Generator[AudioFrame, None, None]:
    """The soundtrack as fltp frames at ``AUDIO_RATE``, decoded lazily."""
    container = _open(path, "audio")
    with container:
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=AUDIO_RATE)
        try:
            for frame in container.decode(audio=0):
                yield from resampler.resample(frame)
            yield from resampler.resample(None)
        except av.error.FFmpegError as exc:
            raise RenderError("the audio file could not be decoded") from exc


def _probe_audio(path: Path) -> tuple[int, str]:
    """First pass: (samples at ``AUDIO_RATE``, layout name). Decoding audio twice is cheaper
    than holding an hour of PCM in memory."""
    container = _open(path, "audio")
    with container:
        if not container.streams.audio:
            raise RenderError("the audio file has no audio stream")
        channels = container.streams.audio[0].codec_context.channels or 1
    layout = "mono" if channels == 1 else "stereo"
    samples = sum(frame.samples for frame in _resampled(path, layout))
    if samples == 0:
        raise RenderError("the audio file has no audio")
    return samples, layout


def _audio_packets(
    path: Path, stream: AudioStream, layout: str
) -> Generator[Packet[Stream], None, None]:
    """Second pass: AAC packets, re-framed to the encoder's frame size."""
    fifo = av.AudioFifo()
    frame_size = stream.codec_context.frame_size or 1024
    pts = 0

    def drain(final: bool) -> Generator[Packet[Stream], None, None]:
        nonlocal pts
        while fifo.samples >= frame_size or (final and fifo.samples):
            chunk = fifo.read(min(frame_size, fifo.samples), partial=final)
            if chunk is None:
                return
            chunk.pts = pts
            chunk.time_base = Fraction(1, AUDIO_RATE)
            pts += chunk.samples
            yield from stream.encode(chunk)

    for frame in _resampled(path, layout):
        frame.pts = None
        fifo.write(frame)
        yield from drain(final=False)
    yield from drain(final=True)
    yield from stream.encode(None)


def _probe_video(path: Path) -> tuple[int, int, Fraction]:
    container = _open(path, "video")
    with container:
        if not container.streams.video:
            raise RenderError("the video file has no video stream")
        stream = container.streams.video[0]
        width = stream.codec_context.width
        height = stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate or DEFAULT_FPS
    if width <= 0 or height <= 0:
        raise RenderError("the video file could not be decoded")
    fps = Fraction(rate).limit_denominator(1001)
    if fps <= 0 or fps > MAX_FPS:
        fps = DEFAULT_FPS
    return width, height, fps


def _video_frames(path: Path) -> Generator[VideoFrame, None, None]:
    """The input's pictures, looping from the start for as long as the caller pulls."""
    while True:
        produced = False
        container = _open(path, "video")
        with container:
            try:
                for frame in container.decode(video=0):
                    produced = True
                    yield frame
            except av.error.FFmpegError as exc:
                if not produced:
                    raise RenderError("the video file could not be decoded") from exc
        if not produced:
            raise RenderError("the video file has no decodable pictures")


def render(video_path: Path, audio_path: Path, output_path: Path) -> float:
    """Mux ``video_path``'s picture with ``audio_path``'s sound into an MP4 at ``output_path``.

    Args:
        video_path: any container FFmpeg reads with at least one video stream.
        audio_path: any container with at least one audio stream (WAV, MP3, MP4, ...).
        output_path: where the MP4 (H.264 yuv420p at the input's size and rate, AAC 48 kHz)
            is written; a partial file is removed on failure.

    Returns:
        The audio's duration in seconds, which is the output's length.

    Raises:
        RenderError: undecodable input, a missing stream or no audio samples; the message is
            plain English, fit for ``error_message``.
    """
    width, height, fps = _probe_video(video_path)
    samples, layout = _probe_audio(audio_path)
    duration = samples / AUDIO_RATE
    frame_count = max(1, math.ceil(duration * fps - 1e-6))
    # libx264 with yuv420p needs even dimensions.
    width -= width % 2
    height -= height % 2
    if width == 0 or height == 0:
        raise RenderError("the video file's picture is too small")
    try:
        with av.open(str(output_path), mode="w", format="mp4") as output:
            video = output.add_stream("libx264", rate=fps)
            video.width = width
            video.height = height
            video.pix_fmt = "yuv420p"
            video.options = {"preset": "ultrafast", "crf": "28"}
            video.codec_context.time_base = 1 / fps
            audio = output.add_stream("aac", rate=AUDIO_RATE)
            audio.layout = layout
            audio_tb = Fraction(1, AUDIO_RATE)
            pending = _audio_packets(audio_path, audio, layout)
            next_audio = next(pending, None)
            source = _video_frames(video_path)
            for index in range(frame_count):
                picture = next(source).reformat(width=width, height=height, format="yuv420p")
                picture.pts = index
                picture.time_base = 1 / fps
                output.mux(video.encode(picture))
                # Interleave: audio up to the current picture's time, so the muxer buffers little.
                now = (index + 1) / fps
                while next_audio is not None and (next_audio.pts or 0) * audio_tb <= now:
                    output.mux(next_audio)
                    next_audio = next(pending, None)
            source.close()
            output.mux(video.encode(None))
            while next_audio is not None:
                output.mux(next_audio)
                next_audio = next(pending, None)
    except RenderError:
        output_path.unlink(missing_ok=True)
        raise
    except (av.error.FFmpegError, OSError) as exc:
        output_path.unlink(missing_ok=True)
        raise RenderError("the media could not be rendered") from exc
    return duration

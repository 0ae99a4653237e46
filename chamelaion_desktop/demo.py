"""A guided tour of the whole stack, offline: ``python -m chamelaion_desktop.demo [--media DIR]``.

Starts a local sandbox (data kept in ``./.sandbox-data``), then runs ``chamelaion-cli``
against it: ``health``, ``whoami``, ``submit --wait --output``, ``list``. The result lands
in ``./demo-output/<reference_id>.mp4``. With ``--media DIR`` it uses the GRID video and the
Spanish FLEURS recording from ``DIR``; without them it makes a 3 s test clip and a 3 s tone.

Exit status: 0 when every step worked, else the status of the first step that failed.
"""

from __future__ import annotations

import argparse
import array
import math
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import av

from . import cli
from .core.media import MediaError, probe
from .sandbox import SandboxConfig, SandboxThread

DEMO_VIDEO = "grid_s2_male_2sentences_6s.mp4"
DEMO_AUDIO = "fleurs_es419_006_spanish_5.6s.wav"
#: The token every sandbox accepts unless configured otherwise.
SANDBOX_KEY = "sandbox-key"


def write_test_clip(
    path: Path, *, seconds: float = 3.0, size: tuple[int, int] = (320, 240)
) -> Path:
    """Write an H.264 MP4 of colour bands sliding sideways, 25 fps, no sound. Blocking.

    Args:
        path: the file to write.
        seconds: length of the clip.
        size: width and height in pixels (even numbers, as H.264 with 4:2:0 needs).
    """
    width, height = size
    fps = 25
    frames = round(seconds * fps)
    shift = 6  # pixels per frame
    # One wide row of hues, sliced at a moving offset: fast enough without numpy.
    row = bytearray()
    for x in range(width + frames * shift):
        hue = 2 * math.pi * x / width
        row += bytes(int(127.5 + 127.5 * math.sin(hue + k * 2.094)) for k in range(3))
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame(width, height, "rgb24")
            line = bytes(row[index * shift * 3 : (index * shift + width) * 3])
            plane = frame.planes[0]
            padding = bytes(plane.line_size - width * 3)
            plane.update((line + padding) * height)
            frame.pts = index
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_test_tone(path: Path, *, seconds: float = 3.0, frequency: float = 440.0) -> Path:
    """Write a 16-bit PCM WAV, 16 kHz mono, of a sine tone at ``frequency`` Hz. Blocking."""
    rate = 16_000
    count = round(seconds * rate)
    samples = array.array(
        "h", (int(12_000 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(count))
    )
    with av.open(str(path), mode="w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = rate
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return path


def _say(text: str) -> None:
    # Flushed so the tour reads in order when stdout is a pipe and the CLI writes stderr.
    print(text, flush=True)


def _pick_media(media: Path | None, scratch: Path) -> tuple[Path, Path]:
    if media is not None:
        video, audio = media / DEMO_VIDEO, media / DEMO_AUDIO
        if video.is_file() and audio.is_file():
            _say(f"Using the sample media in {media}: {DEMO_VIDEO} with {DEMO_AUDIO}.")
            return video, audio
        _say(f"{media} lacks {DEMO_VIDEO} or {DEMO_AUDIO}: making test media instead.")
    _say("Making a 3 second test clip (colour bands) and a 3 second 440 Hz tone.")
    return (
        write_test_clip(scratch / "demo-clip.mp4"),
        write_test_tone(scratch / "demo-tone.wav"),
    )


def _step(title: str, connection: list[str], argv: list[str]) -> int:
    _say(f"\n==> {title}\n    $ chamelaion-cli {' '.join(argv)}")
    status = cli.main([*connection, *argv])
    if status != 0:
        _say(f"\nThe step '{title}' failed with exit status {status}.")
    return status


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chamelaion_desktop.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--media", type=Path, metavar="DIR", help="folder of the sample media")
    # Timings of the sandbox, in seconds; tests shorten them.
    parser.add_argument("--queue-delay", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--processing-time", type=float, default=2.0, help=argparse.SUPPRESS)
    parser.add_argument("--poll-interval", type=float, default=0.5, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tour; return 0 or the exit status of the first failing step."""
    args = _parse(argv)
    here = Path.cwd()
    reference_id = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    output = here / "demo-output" / f"{reference_id}.mp4"
    output.parent.mkdir(parents=True, exist_ok=True)
    config = SandboxConfig(
        data_dir=here / ".sandbox-data",
        queue_delay=args.queue_delay,
        processing_time=args.processing_time,
    )
    with tempfile.TemporaryDirectory(prefix="chamelaion-demo-") as scratch:
        video, audio = _pick_media(args.media, Path(scratch))
        _say(f"Starting a local sandbox of the Chamelaion API (data in {config.data_dir}).")
        with SandboxThread(config) as sandbox:
            _say(f"The sandbox listens at {sandbox.base_url}; its API key is '{SANDBOX_KEY}'.")
            connection = ["--base-url", sandbox.base_url, "--api-key", SANDBOX_KEY]
            steps = [
                ("Is the service up?", ["health"]),
                ("Whose key is this?", ["whoami"]),
                (
                    "Upload the video and the audio, wait for the lip-sync, download it",
                    [
                        "submit", str(video), str(audio),
                        "--reference-id", reference_id,
                        "--wait", "--poll-interval", str(args.poll_interval),
                        "--output", str(output),
                    ],
                ),
                ("The five newest requests", ["list", "--limit", "5"]),
            ]  # fmt: skip
            for title, step_argv in steps:
                status = _step(title, connection, step_argv)
                if status != 0:
                    return status
    try:
        result = probe(output)
    except MediaError as exc:
        _say(f"\nThe output is not a playable file: {exc}")
        return 1
    duration = f"{result.duration_s:.1f} s" if result.duration_s else "unknown length"
    _say(f"\nDone. The lip-synced video ({duration}) is at {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

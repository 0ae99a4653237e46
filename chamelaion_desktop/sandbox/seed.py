"""A job history in bulk, for benchmarks and demos of a queue at scale.

``seed_rows`` makes the rows; ``Sandbox.seed_jobs`` (and ``SandboxThread.seed_jobs``,
``python -m chamelaion_desktop.sandbox --seed N --seed-active M``) writes them in one SQLite
transaction and hands the active ones to the normal worker.

- History (``count`` jobs): finished long ago, spread back in time from just before the
  active ones, about nine in ten ``completed`` and the rest ``failed`` with a plausible
  ``error_message``. Every completed job's ``output_path`` names one shared file,
  ``outputs/seeded.mp4``: a real 1 s H.264 + AAC MP4 written once per ``data_dir``. The
  download route serves ``output_path`` as it is, so every ``output_url`` works without
  10,000 copies (nor links, which some file systems limit).
- Active (``active`` jobs): the newest ones, ``queued`` or ``processing`` as if submitted one
  after another over the last ``queue_delay + processing_time`` seconds, so the worker's own
  timers finish them one by one over the next such span (API.md "Jobs are asynchronous").
  They carry the shared output already, which tells the worker to complete them with it
  instead of rendering; about one in ten ends ``failed`` (the ``fail_jobs`` fault's path).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from .store import COMPLETED, FAILED, PROCESSING, QUEUED, Job

#: The shared output of seeded completed jobs, relative to ``data_dir``.
SEED_OUTPUT = "outputs/seeded.mp4"
#: Seconds between two history jobs, on average (a busy team: ~70 a day).
HISTORY_SPACING = 1234.0
#: Share of history jobs that failed.
FAILED_SHARE = 0.1


@dataclass(frozen=True)
class Seeded:
    """What ``seed_jobs`` added: ``history`` finished jobs, the ids of the ``active`` ones
    (oldest first) and the wall ``seconds`` it took (rows, output file and insert)."""

    history: int
    active_ids: tuple[str, ...]
    seconds: float


_LANGUAGES = ("es", "de", "fr", "ja", "pt-br", "it", "ko", "hi")
_ERRORS = (
    "video URL is not accessible",
    "the audio file could not be decoded",
    "no face detected in the video",
    "the video file has no video stream",
)


def reference_for(index: int) -> str | None:
    """A plausible reference ID for the ``index``-th seeded job (one in eight has none)."""
    if index % 8 == 7:
        return None
    episode, language = divmod(index, len(_LANGUAGES))
    return f"ep{episode // 3 + 1:04d}-{_LANGUAGES[language]}-v{episode % 3 + 1}"


def seed_rows(
    account: str,
    count: int,
    *,
    active: int = 0,
    now: float,
    active_span: float,
    queue_delay: float,
    rng: random.Random | None = None,
) -> tuple[list[Job], list[Job]]:
    """Rows for ``account`` (an ``auth.account_id``): ``count`` finished jobs and ``active``
    unfinished ones.

    Args:
        account: the account id the jobs belong to.
        count: finished jobs, newest ``HISTORY_SPACING`` s or so before the active ones.
        active: jobs still to run; the worker finishes them over ``active_span`` seconds.
        now: the current time, Unix seconds (UTC).
        active_span: seconds from the oldest active job's creation to the newest's; use
            the sandbox's ``queue_delay + processing_time`` so that each is at a different
            step when seeded.
        queue_delay: the sandbox's queue delay (s): active jobs older than this are seeded
            ``processing``, started that long after their creation.
        rng: source of the spread (a fixed seed gives the same history but fresh ids).

    Returns:
        ``(history, active)`` lists of ``Job``, history newest first, active oldest first.

    Raises:
        ValueError: ``count`` or ``active`` is negative.
    """
    if count < 0 or active < 0:
        raise ValueError("count and active must not be negative")
    rng = rng or random.Random(20260407)
    step = active_span / active if active else 0.0
    jobs_active: list[Job] = []
    for position in range(active):
        # Half a step off the edges: none is due exactly now, none was created in the future.
        created = now - (active - position - 0.5) * step
        processing = now - created >= queue_delay
        jobs_active.append(
            Job(
                id=str(uuid.uuid4()),
                account=account,
                reference_id=reference_for(count + position),
                status=PROCESSING if processing else QUEUED,
                created_at=created,
                started_at=created + queue_delay if processing else None,
                output_path=SEED_OUTPUT,
                inject_failure=position % 10 == 9,
            )
        )
    newest = now - (active + 1) * step - 60.0
    history: list[Job] = []
    created = newest
    for index in range(count):
        created -= rng.expovariate(1.0 / HISTORY_SPACING)
        started = created + rng.uniform(1.0, 40.0)
        finished = started + rng.uniform(15.0, 600.0)
        failed = rng.random() < FAILED_SHARE
        history.append(
            Job(
                id=str(uuid.uuid4()),
                account=account,
                reference_id=reference_for(count - 1 - index),
                status=FAILED if failed else COMPLETED,
                created_at=created,
                started_at=started,
                finished_at=finished,
                error_message=rng.choice(_ERRORS) if failed else None,
                output_path=None if failed else SEED_OUTPUT,
            )
        )
    return history, jobs_active


def write_seed_output(
    path: Path, *, width: int = 160, height: int = 120, seconds: int = 1, fps: int = 25
) -> None:
    """Write a small real MP4 (H.264 ``width``x``height`` at ``fps`` + AAC 48 kHz mono tone,
    ``seconds`` long) to ``path``. The default is ~16 KB; a benchmark may write a bigger one
    at ``data_dir/SEED_OUTPUT`` before seeding, which then uses it as it is.

    Blocking (encodes with PyAV; the default takes a few tens of ms): call it from an
    executor. Writes beside and renames, so a reader never sees half a file.

    Raises:
        ValueError: an odd or non-positive size, or a non-positive duration or rate.
    """
    if width <= 0 or height <= 0 or width % 2 or height % 2 or seconds <= 0 or fps <= 0:
        raise ValueError("write_seed_output needs even positive sizes and positive timings")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    rate, frames = 48_000, seconds * fps
    with av.open(str(partial), mode="w", format="mp4") as output:
        video = output.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        audio = output.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for index in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            # A band that sweeps down the picture: every frame differs, as in real footage.
            luma = frame.planes[0]
            band = (index * height) // frames
            rows = [bytes([40 + (180 * index) // frames])] * height
            rows[band] = b"\xeb"
            stride = luma.line_size
            luma.update(b"".join(row * stride for row in rows))
            for plane in frame.planes[1:]:
                plane.update(bytes([128]) * plane.buffer_size)
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        size = audio.codec_context.frame_size or 1024
        for start in range(0, seconds * rate, size):
            samples = min(size, seconds * rate - start)
            tone = bytearray()
            for n in range(start, start + samples):
                value = 0.2 * math.sin(2 * math.pi * 440 * n / rate)
                tone += int(value * 32767).to_bytes(2, "little", signed=True)
            chunk = av.AudioFrame(format="s16", layout="mono", samples=samples)
            chunk.planes[0].update(bytes(tone))
            chunk.sample_rate = rate
            chunk.pts = start
            chunk.time_base = Fraction(1, rate)
            output.mux(audio.encode(chunk))
        output.mux(audio.encode(None))
    partial.replace(path)

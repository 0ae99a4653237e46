"""Screenshots of the real window, for the README and for looking at what we build.

Run under a display (``make screenshots`` uses Xvfb): it starts a sandbox, builds the app
through its own composition root (``app.run_app``), drives it the way a person would (drops
the sample media, submits, selects a job, plays it) and saves PNGs of the window at each
step into the folder given (default ``docs/screenshots``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import av
import qasync
from PySide6.QtWidgets import QApplication

from chamelaion_desktop.api import ChamelaionClient
from chamelaion_desktop.app import run_app
from chamelaion_desktop.core.logs import RedactingFilter
from chamelaion_desktop.core.paths import AppPaths
from chamelaion_desktop.core.polling import PollPolicy
from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread
from chamelaion_desktop.ui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.qt_helpers
from tests.qt_helpers import drag_and_drop

KEY = "screenshot-key"
ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
VIDEO = MEDIA / "grid_s2_male_2sentences_6s.mp4"
AUDIO = MEDIA / "fleurs_es419_006_spanish_5.6s.wav"
UNREACHABLE = "http://127.0.0.1:9/episode.mp4"


async def until(predicate: object, timeout: float = 30.0) -> None:
    """Wait until ``predicate()`` is truthy (polling every 50 ms)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {predicate}")
        await asyncio.sleep(0.05)


def drop(window: MainWindow, paths: list[Path]) -> None:
    """Drop files on the window's drop area with real drag events (as the e2e tests do)."""
    drag_and_drop(window.inputs.drop_area, paths)


def write_master(path: Path, frames: int = 60) -> Path:
    """A ~30 MB H.264 video of noise (incompressible), so an upload lasts long enough to
    be seen: the sample clips fit in the socket buffers and "finish" at once."""
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame(640, 360, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode())
    return path


def shoot(window: MainWindow, folder: Path, name: str) -> None:
    """Save the window as ``<folder>/<name>.png``."""
    # No processEvents() here: re-entering the Qt loop inside a coroutine trips qasync.
    path = folder / f"{name}.png"
    window.grab().save(str(path))
    print(f"wrote {path}")


async def seed_history(sandbox: SandboxThread) -> None:
    """A queue with jobs in every status: completed, failed, processing and queued."""
    config = sandbox.config
    async with ChamelaionClient(KEY, base_url=sandbox.base_url) as client:
        for reference in ("ep41-es-v1", "ep41-de"):
            german = MEDIA / "fleurs_de_005_german_8.4s.mp3"
            audio = german if reference.endswith("de") else AUDIO
            await client.generate_with_media(VIDEO, audio, reference_id=reference)
        await client.generate(UNREACHABLE, UNREACHABLE, reference_id="ep40-ja-from-cdn")
        sandbox.faults.fail_jobs = 1
        await client.generate_with_media(
            MEDIA / "pexels_3063838_woman_expressions_no_speech_20s.mp4",
            AUDIO,
            reference_id="promo-es",
        )
        await until(lambda: sandbox.faults.fail_jobs == 0)
        for _ in range(200):
            page = await client.list_requests()
            if all(job.is_terminal for job in page.data):
                break
            await asyncio.sleep(0.1)
        config.processing_time = 600.0  # what comes next stays "processing"
        await client.generate_with_media(VIDEO, AUDIO, reference_id="ep42-es-take2")
        await asyncio.sleep(0.5)
        config.queue_delay = 600.0  # and this one stays "queued"
        await client.generate_with_media(
            MEDIA / "grid_female_brbk7n_3s.mp4", MEDIA / "jfk_en_11s.mp3", reference_id="intro-en"
        )


async def drive(window: MainWindow, sandbox: SandboxThread, folder: Path) -> None:
    """Walk through the states a person sees and photograph each."""
    await asyncio.sleep(1.0)
    shoot(window, folder, "1-empty")

    drop(window, [VIDEO, AUDIO])
    await until(window.inputs.can_submit)
    shoot(window, folder, "2-inputs-chosen")

    master = write_master(Path(sandbox.config.data_dir).parent / "ep42_master.mp4")
    drop(window, [master])
    await until(lambda: window.inputs.inputs()[0] == master and window.inputs.can_submit())
    sandbox.faults.upload_rate = 3_000_000.0  # a slow line, so the upload can be watched
    window.inputs.submit_action.trigger()
    await until(lambda: window.inputs.upload_status.bar.value() >= 45)
    shoot(window, folder, "3-uploading")
    sandbox.faults.upload_rate = 0.0
    await until(lambda: not window.inputs.busy)

    await seed_history(sandbox)
    window.coordinator._queue.refresh_now()
    await until(lambda: window.model.rowCount() >= 7)
    await asyncio.sleep(1.0)
    shoot(window, folder, "4-queue")

    window.jobs.select_key(window.model.request_at(_row_of(window, "ep41-es-v1")).id)  # type: ignore[union-attr]
    await until(lambda: window.preview.state == "ready")
    window.preview.play()
    await asyncio.sleep(1.6)
    shoot(window, folder, "5-preview-playing")
    window.close()


def _row_of(window: MainWindow, reference_id: str) -> int:
    model = window.model
    for row in range(model.rowCount()):
        request = model.request_at(row)
        if request is not None and request.reference_id == reference_id:
            return row
    raise LookupError(reference_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "docs" / "screenshots")
    folder = parser.parse_args().folder
    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Chamelaion Desktop")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as temp:
        config = SandboxConfig(
            data_dir=Path(temp) / "sandbox",
            api_keys={KEY: "Localization team"},
            queue_delay=0.3,
            processing_time=0.8,
        )
        with SandboxThread(config) as sandbox:
            args = argparse.Namespace(sandbox=False, base_url=sandbox.base_url, files=[])
            tasks: list[asyncio.Task[None]] = []

            def shown(window: MainWindow) -> None:
                window.resize(1280, 800)
                tasks.append(asyncio.ensure_future(drive(window, sandbox, folder)))

            with loop:
                loop.run_until_complete(
                    run_app(
                        args,
                        AppPaths.under(Path(temp) / "app"),
                        RedactingFilter(),
                        {"CHAMELAION_API_KEY": KEY},
                        shown=shown,
                        poll_policy=PollPolicy(active_interval=0.5, idle_interval=1.0),
                    )
                )
                for task in tasks:
                    if task.done() and task.exception():
                        raise task.exception()  # type: ignore[misc]
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Responsiveness: how late a 10 ms GUI-thread heartbeat fires while the app does everything
at once.

Usage: ``.venv/bin/python benchmarks/bench_ui.py [--seconds 30] [--idle-seconds 10]
[--jobs 10000] [--active 200] [--video-mib 1024] [--audio-mib 20] [--workdir bench-out]
[--sandbox-thread] [--no-sampler] [--trace-slow] [--profile PATH] [--skip upload,video,scroll]
[--json PATH]``

Method:

- A sandbox in its own process (``python -m chamelaion_desktop.sandbox --seed 10000
  --seed-active 200``; queue delay 20 s, processing 60 s, so the active jobs move through
  their statuses during the run), whose shared seeded output is written beforehand as a
  1280x720, 10 s, 30 fps H.264 MP4 (the size of a real result, not the tiny default).
  With ``--sandbox-thread`` it runs instead inside the app's process (a ``SandboxThread``,
  as ``--sandbox`` does): its CPU work then competes for the app's GIL.
- Reference: a bare ``QWidget`` shown in a fresh process with the same heartbeat on Qt's
  own event loop for ``--idle-seconds``: the machine's own timer jitter, in the same run.
- The app (``app.run_app`` on a qasync loop, fresh process). From the ``shown`` callback a
  single-shot ``PreciseTimer`` re-armed every 10 ms records how late each tick fires,
  while, all at once:

  - an upload of ``bench-out/video-1024MiB.mp4`` + ``audio-20MiB.wav`` (random bytes from
    bench_upload.py, generated there if missing) goes through the app's own submit path
    (``InputPanel.submitRequested``, which the coordinator passes to the
    ``SubmissionService``; the input panel would refuse files that are not media). The
    sandbox stores the whole body; its render fails later, as it should;
  - the app polls the sandbox (10,000 jobs, 200 moving);
  - a completed seeded job's output is shown in the preview (``PreviewPanel.show_request``,
    what selecting it does): downloaded, then played in a loop;
  - a timer scrolls the jobs table down by a page every 100 ms; reaching the bottom makes
    the app load older pages (``QueueService.load_more``) as a user scrolling would.

  The run lasts ``--seconds`` after the window is shown, longer if the upload has not
  finished by then.
- Finding what blocks: a stall sampler thread (``--no-sampler`` turns it off) reads the GUI
  thread's Python stack every 5 ms while a tick is more than 30 ms overdue (it cannot see
  inside a C++ call that holds the GIL: it sees the stack once the call returns);
  ``--trace-slow`` times the GUI thread's Python entry points (paints of the table and the
  video, every asyncio callback and task step, model upserts) and lists calls over 8 ms
  with when they started; ``--profile PATH`` runs the app under ``py-spy record --native``
  (``.venv/bin/pip install py-spy``; the figures of that run are meaningless, py-spy stops
  the process to sample it); ``--skip`` leaves parts of the load out. Every run reports the
  cyclic garbage collections (count, longest pause) and the CPU used by the app, its GUI
  thread, the sandbox and the whole machine.

Figures: ticks, p50, p99 and max lateness (ms) for the app over the whole run, the same
without its first second (the first preview loads QtMultimedia and creates the media
player, a one-off), and for the idle reference; targets for the app over the whole run:
p99 < 16 ms and max < 50 ms. The last line of stdout is one JSON object with every figure.
Exit status 0 even when a target is missed; 1 when the benchmark itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from measure import machine_busy_s
from report import emit_json
from ui_harness import (
    API_KEY,
    REPO,
    GcPauses,
    Heartbeat,
    SandboxProcess,
    SlowCalls,
    StallSampler,
    count_requests,
    handle_label,
    qt_environment,
    run_child,
    run_real_app,
    until,
)

SCRIPT = Path(__file__).resolve()
P99_TARGET_MS = 16.0
MAX_TARGET_MS = 50.0
SCROLL_MS = 100
OUTPUT_SIZE = {"width": 1280, "height": 720, "seconds": 10, "fps": 30}


# -- children -------------------------------------------------------------------------------


def child_idle(seconds: float) -> dict[str, Any]:
    """The reference: a bare window on Qt's own loop, the same heartbeat."""
    qt_environment()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication(sys.argv[:1])
    window = QWidget()
    window.resize(1280, 820)
    window.show()
    heartbeat = Heartbeat()
    heartbeat.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    heartbeat.stop()
    return heartbeat.summary()


def child_app(args: argparse.Namespace) -> dict[str, Any]:
    """The app under every load at once; see the module docstring."""
    qt_environment()
    sandboxes: list[Any] = []

    if args.sandbox_data is not None:
        # The sandbox in this process, as ``--sandbox`` runs it: it competes for the GIL.
        from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread

        config = SandboxConfig(
            data_dir=args.sandbox_data,
            api_keys={API_KEY: "Benchmark"},
            queue_delay=20.0,
            processing_time=60.0,
        )
        sandbox = SandboxThread(config).start()
        sandboxes.append(sandbox)
        sandbox.seed_jobs(args.jobs, active=args.active)
        args.base_url = sandbox.base_url

    # Before the window exists: PySide looks a Python override up once per object and
    # keeps it, so methods patched later are not seen on objects that already ran them.
    slow = instrument() if args.trace_slow else None

    async def driver(window: Any) -> dict[str, Any]:
        from PySide6.QtCore import QTimer

        heartbeat = Heartbeat()
        sampler = StallSampler(heartbeat) if args.sampler else None
        collections = GcPauses()
        collections.start()
        modules_at_start = set(sys.modules)
        started = time.perf_counter()
        cpu_started, gui_cpu_started = time.process_time(), time.thread_time()
        if slow is not None:  # count from here: start-up is bench_startup.py's business
            slow.reset(started)
        wall_started = time.time()
        heartbeat.start()
        if sampler is not None:
            sampler.start()
        facts: dict[str, Any] = {"messages": []}
        window.coordinator.message.connect(
            lambda text, _ms: facts["messages"].append(
                (round(time.perf_counter() - started, 3), text)
            )
        )

        # 1. The upload, through the app's own submit path.
        if "upload" not in args.skip:
            window.inputs.submitRequested.emit(args.video, args.audio, "bench-ui-upload", False)
        upload_started = time.perf_counter()

        # 2. A completed job's output in the preview, played in a loop.
        page = await window.session.client.list_requests(limit=1, offset=args.active + 20)
        completed = page.data[0]
        assert completed.status == "completed", completed.status
        preview = window.preview
        if "video" not in args.skip:
            preview.show_request(completed)
        player = preview.player
        looping = {"on": True, "plays": 0}

        def replay(playing: bool) -> None:
            if not playing and looping["on"] and preview.state == "ready":
                looping["plays"] += 1
                QTimer.singleShot(0, player.play)

        player.playing_changed.connect(replay)

        # 3. The user scrolls down a page every 100 ms.
        table = window.jobs.table
        bar = table.verticalScrollBar()
        steps = {"n": 0}

        def scroll() -> None:
            steps["n"] += 1
            bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))

        scroller = QTimer()
        scroller.setInterval(SCROLL_MS)
        scroller.timeout.connect(scroll)
        if "scroll" not in args.skip:
            scroller.start()

        if "video" not in args.skip:
            await until(lambda: preview.state in ("ready", "error"), timeout=60)
        facts["preview_state"] = preview.state
        facts["preview_ready_s"] = round(time.perf_counter() - started, 3)
        if preview.state == "ready":
            player.play()

        # The input panel is busy from the first progress report to the upload's end.
        busy = {"seen": False, "last": upload_started}
        deadline = started + args.seconds
        give_up = started + args.seconds * 4 + 120
        while True:
            now = time.perf_counter()
            if window.inputs.busy:
                busy["seen"], busy["last"] = True, now
            finished = (busy["seen"] and not window.inputs.busy) or "upload" in args.skip
            if (now >= deadline and finished) or now > give_up:
                break
            await _sleep(0.05)
        upload_s = busy["last"] - upload_started if busy["seen"] else None

        looping["on"] = False
        scroller.stop()
        heartbeat.stop()
        collections.stop()
        if slow is not None:
            slow.restore()
        if sampler is not None:
            sampler.stop()
        elapsed = time.perf_counter() - started
        cpu_s, gui_cpu_s = time.process_time() - cpu_started, time.thread_time() - gui_cpu_started
        queue = window.coordinator._queue  # counters only
        return {
            "seconds": round(elapsed, 2),
            "cpu_s": round(cpu_s, 2),
            "gui_thread_cpu_s": round(gui_cpu_s, 2),
            "wall_started": wall_started,
            "wall_ended": time.time(),
            "heartbeat": heartbeat.summary(),
            "heartbeat_after_1s": heartbeat.summary(after_s=1.0),
            "histogram": histogram(heartbeat.lateness_ms),
            "gc": collections.summary(),
            "late_ticks": heartbeat.late,
            # (due s, ms) of every tick over 16 ms late: to set beside ``slow_call_list``.
            "ticks_over_16ms": [
                (round(due, 3), round(late, 1))
                for due, late in zip(heartbeat.due_s, heartbeat.lateness_ms, strict=True)
                if late > 16
            ],
            "slow_calls": slow.report() if slow is not None else None,
            "slow_call_list": slow.slow if slow is not None else None,
            "full_gc_at": [(round(at - started, 3), ms) for at, ms in collections.full],
            "events": {
                "preview_ready_s": facts["preview_ready_s"],
                "upload_done_s": None if upload_s is None else round(busy["last"] - started, 3),
            },
            "imported_during_run": sorted(
                name for name in set(sys.modules) - modules_at_start if "." not in name
            ),
            "imported_modules_during_run": len(set(sys.modules) - modules_at_start),
            "stalls": sampler.report() if sampler is not None else [],
            "stall_samples": len(sampler.samples) if sampler is not None else 0,
            "upload_s": None if upload_s is None else round(upload_s, 2),
            "upload_messages": [m for m in facts["messages"] if "ubmit" in m[1] or "pload" in m[1]],
            "upload_status": window.inputs.upload_status.message_label.text(),
            "rows_loaded": window.model.rowCount(),
            "scroll_steps": steps["n"],
            "preview_state": facts["preview_state"],
            "preview_ready_s": facts["preview_ready_s"],
            "video_plays": looping["plays"] + (1 if facts["preview_state"] == "ready" else 0),
            "frames_shown": player.surface.frames_received,
            "queue_stats": queue.stats,
            "sandbox_in_process": bool(sandboxes),
        }

    try:
        return run_real_app(args.base_url, args.root, driver)
    finally:
        for sandbox in sandboxes:
            sandbox.stop()


def instrument() -> SlowCalls:
    """Time the GUI thread's Python entry points: paints, asyncio callbacks, model updates."""
    import asyncio.events

    from chamelaion_desktop.ui import coordinator, jobs_model, jobs_view, video_surface

    slow = SlowCalls()
    slow.patch(asyncio.events.Handle, "_run", handle_label)
    slow.patch(jobs_view.JobsTableView, "paintEvent", "paint: jobs table")
    slow.patch(video_surface.VideoSurface, "paintEvent", "paint: video")
    slow.patch(video_surface.VideoSurface, "_on_frame", "video frame arrived")
    slow.patch(coordinator.Coordinator, "_page_loaded", "coordinator: page loaded")
    slow.patch(coordinator.Coordinator, "_progress", "coordinator: upload progress")
    slow.patch(jobs_model.JobsTableModel, "upsert_requests", "model: upsert")
    return slow


def histogram(values: Sequence[float]) -> dict[str, int]:
    """Ticks per lateness band (ms)."""
    bands = ((0, 2), (2, 5), (5, 10), (10, 16), (16, 33), (33, 50), (50, 100), (100, None))
    counts = {}
    for low, high in bands:
        name = f"{low}-{high}" if high is not None else f"{low}+"
        counts[name] = sum(1 for v in values if v >= low and (high is None or v < high))
    return counts


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


# -- the parent -----------------------------------------------------------------------------


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _inputs(args: argparse.Namespace) -> tuple[Path, Path]:
    """The cached random inputs of bench_upload.py (generated there if missing)."""
    video = args.workdir / f"video-{args.video_mib}MiB.mp4"
    audio = args.workdir / f"audio-{args.audio_mib}MiB.wav"
    if not (video.is_file() and audio.is_file()):
        from bench_upload import prepare_inputs

        prepare_inputs(args.workdir, args.video_mib, args.audio_mib)
    for path in (video, audio):  # into the page cache, as a user's recent export would be
        with path.open("rb") as source:
            while source.read(8 * 1024 * 1024):
                pass
    return video, audio


def _profiler(args: argparse.Namespace) -> list[str]:
    """``py-spy record`` (native frames, per thread, raw collapsed stacks) around the app's
    process when ``--profile PATH`` is given."""
    if args.profile is None:
        return []
    py_spy = Path(sys.executable).with_name("py-spy")
    return [str(py_spy), "record", "--native", "--threads", "-r", "250", "-f", "raw",
            "-o", str(args.profile), "--"]  # fmt: skip


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from chamelaion_desktop.sandbox.seed import SEED_OUTPUT, write_seed_output

    video, audio = _inputs(args)
    data_dir = work / "sandbox"
    # A real-sized output for the preview: seeding keeps a file already in place.
    write_seed_output(data_dir / SEED_OUTPUT, **OUTPUT_SIZE)
    result: dict[str, Any] = {
        "benchmark": "ui",
        "jobs": args.jobs,
        "active": args.active,
        "upload_bytes": video.stat().st_size + audio.stat().st_size,
        "sandbox": "thread in the app's process" if args.sandbox_thread else "separate process",
        "cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
    }
    common = ["--seconds", str(args.seconds), "--root", str(work / "app"),
              "--video", str(video), "--audio", str(audio),
              "--jobs", str(args.jobs), "--active", str(args.active)]  # fmt: skip
    if not args.sampler:
        common.append("--no-sampler")
    if args.trace_slow:
        common.append("--trace-slow")
    if args.skip:
        common += ["--skip", args.skip]
    timeout = args.seconds * 4 + 300
    if args.sandbox_thread:
        print("idle reference", file=sys.stderr, flush=True)
        result["idle"] = run_child(
            SCRIPT, ["--child", "idle", "--seconds", str(args.idle_seconds)], 120
        )
        print("the app under load (sandbox in its process)", file=sys.stderr, flush=True)
        result["app"] = run_child(
            SCRIPT, ["--child", "app", "--sandbox-data", str(data_dir), *common], timeout
        )
        result["requests"] = None
    else:
        with SandboxProcess(
            data_dir,
            seed=args.jobs,
            seed_active=args.active,
            queue_delay=20.0,
            processing_time=60.0,
        ) as sandbox:
            print("idle reference", file=sys.stderr, flush=True)
            result["idle"] = run_child(
                SCRIPT, ["--child", "idle", "--seconds", str(args.idle_seconds)], 120
            )
            print("the app under load", file=sys.stderr, flush=True)
            sandbox_cpu, machine = sandbox.cpu_s(), machine_busy_s()
            app = run_child(
                SCRIPT,
                ["--child", "app", "--base-url", sandbox.base_url, *common],
                timeout,
                prefix=_profiler(args),
            )
            result["app"] = app
            # Whole child, start-up included: an upper bound of the CPU the run took.
            result["cpu"] = {
                "sandbox_s": round(sandbox.cpu_s() - sandbox_cpu, 2),
                "machine_busy_s": round(machine_busy_s() - machine, 2),
                "app_process_s": app["cpu_s"],
                "app_gui_thread_s": app["gui_thread_cpu_s"],
                "cores": os.cpu_count(),
            }
            logged = sandbox.requests(app["wall_started"], app["wall_ended"])
            result["requests"] = count_requests(logged, app["seconds"])
    result["loadavg_after"] = os.getloadavg()
    heartbeat = result["app"]["heartbeat"]
    result["targets"] = {
        "p99_ms": {"value": heartbeat["p99_ms"], "limit": P99_TARGET_MS,
                   "pass": heartbeat["p99_ms"] is not None and heartbeat["p99_ms"] < P99_TARGET_MS},
        "max_ms": {"value": heartbeat["max_ms"], "limit": MAX_TARGET_MS,
                   "pass": heartbeat["max_ms"] is not None and heartbeat["max_ms"] < MAX_TARGET_MS},
    }  # fmt: skip
    return result


def render(result: dict[str, Any]) -> str:
    """The human report."""
    app, idle = result["app"], result["idle"]
    heart = app["heartbeat"]
    lines = [
        f"sandbox: {result['sandbox']}, {result['jobs']} jobs ({result['active']} active)",
        f"workload over {app['seconds']:.1f} s: upload of {result['upload_bytes'] / 2**20:.0f} MiB "
        f"in {_fmt(app['upload_s'])} s; {app['rows_loaded']} rows loaded while scrolling "
        f"({app['scroll_steps']} page steps); preview {app['preview_state']} after "
        f"{app['preview_ready_s']:.2f} s, {app['frames_shown']} frames shown, "
        f"{app['video_plays']} plays",
        "",
        f"{'heartbeat every 10 ms':<28} {'ticks':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'>16 ms':>7} {'>50 ms':>7}",
    ]
    rows = (
        ("idle bare window (reference)", idle),
        ("the app under load", heart),
        ("  the same after its 1st second", app["heartbeat_after_1s"]),
    )
    for name, figures in rows:
        lines.append(
            f"{name:<28} {figures['ticks']:>7} {_fmt(figures['p50_ms'], 2):>8} "
            f"{_fmt(figures['p99_ms'], 2):>8} {_fmt(figures['max_ms'], 2):>8} "
            f"{figures['over_16ms']:>7} {figures['over_50ms']:>7}"
        )
    cpu = result.get("cpu")
    if cpu:
        lines.append(
            f"CPU during the run: app {cpu['app_process_s']:.1f} s (GUI thread "
            f"{cpu['app_gui_thread_s']:.1f} s), sandbox {cpu['sandbox_s']:.1f} s, whole machine "
            f"{cpu['machine_busy_s']:.1f} s of {app['seconds'] * cpu['cores']:.0f} available"
        )
    gc = app["gc"]
    lines.append(
        "garbage collections during the run: "
        + ", ".join(
            f"gen{n} {gc[f'gen{n}']['count']}x (max {gc[f'gen{n}']['max_ms']:.1f} ms)"
            for n in (0, 1, 2)
        )
    )
    requests = result.get("requests")
    if requests:
        per_minute = ", ".join(
            f"{name} {rate:.0f}/min" for name, rate in sorted(requests["per_minute"].items())
        )
        lines += ["", f"requests at the sandbox: {per_minute}; 429s: {requests['status_429']}"]
    if app["stalls"]:
        lines += ["", f"GUI thread stacks while a tick was > 30 ms late ({app['stall_samples']} "
                  "samples of 5 ms), most frequent first:"]  # fmt: skip
        for stall in app["stalls"][:6]:
            lines.append(f"  {stall['samples']:4d} x " + " <- ".join(reversed(stall["stack"][-4:])))
    targets = result["targets"]
    lines += [
        "",
        "targets (the app):",
        f"  p99 lateness {_fmt(heart['p99_ms'], 2)} ms < {P99_TARGET_MS:.0f} ms: "
        f"{_verdict(targets['p99_ms']['pass'])}",
        f"  max lateness {_fmt(heart['max_ms'], 2)} ms < {MAX_TARGET_MS:.0f} ms: "
        f"{_verdict(targets['max_ms']['pass'])}",
    ]
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="app run after shown")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench-out")
    parser.add_argument("--video-mib", type=int, default=1024)
    parser.add_argument("--audio-mib", type=int, default=20)
    parser.add_argument(
        "--sandbox-thread",
        action="store_true",
        help="run the sandbox in the app's process (compare the GIL's cost)",
    )
    parser.add_argument("--no-sampler", dest="sampler", action="store_false")
    parser.add_argument("--skip", default="", help="diagnosis: leave out upload,video,scroll")
    parser.add_argument(
        "--trace-slow",
        action="store_true",
        help="time the GUI thread's Python entry points; list calls > 8 ms",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the app with py-spy (pip install py-spy) into this file",
    )
    parser.add_argument("--json", type=Path, help="also write the JSON line here")
    parser.add_argument("--child", choices=("idle", "app"), help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--video", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or one child part); 0 unless the benchmark itself failed."""
    args = _parse_args(argv)
    if args.child == "idle":
        print(json.dumps(child_idle(args.seconds)))
        return 0
    if args.child == "app":
        print(json.dumps(child_app(args)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        try:
            result = run(args, Path(tmp))
        except Exception as exc:
            print(f"bench_ui failed: {exc}", file=sys.stderr)
            return 1
    print(render(result))
    emit_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

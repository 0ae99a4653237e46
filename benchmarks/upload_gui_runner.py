"""Make ONE upload with the real app (``app.run_app``, offscreen), and report what it saw.

Started by ``bench_upload_gui.py`` (one process per measured run)::

    QT_QPA_PLATFORM=offscreen BENCH_API_KEY=k .venv/bin/python \\
        benchmarks/upload_gui_runner.py --base-url http://127.0.0.1:PORT/api \\
        --video VIDEO --audio AUDIO

The app is built by its own composition root (``run_app``, as ``scripts/screenshots.py``
does), with its settings and journal in a temporary folder and the key in its environment.
Once the window is shown and has settled (``--settle`` seconds: first connection check,
first poll of the job list), the runner submits through the path a click on "Lip-sync"
takes: the input panel's ``submitRequested`` signal, which the ``Coordinator`` turns into
``SubmissionService.submit`` (journal entry, then ``ChamelaionClient.generate_with_media``
in a task on the qasync loop). The drop area is bypassed because it probes the files with
PyAV and rightly refuses the benchmark's random bytes; nothing else is.

Just before submitting it resets the kernel's peak-RSS mark (``/proc/self/clear_refs``,
value 5) and reads ``VmRSS``; when ``submitted`` arrives it reads ``VmHWM``, the peak
resident set during the upload. Meanwhile a 10 ms asyncio sleep loop measures how late the
GUI thread's loop wakes up (a stall of the window). Then it closes the window (the app
shuts down as usual) and prints one JSON line on stdout (and into ``--report-file``), with
the fields
``upload_runner.py`` prints plus its own::

    {"client": "app", "request_id": "...", "baseline_rss_kib": 90000, "hwm_kib": 98000,
     "hwm_since_reset": true, "upload_s": 0.9, "upload_cpu_s": 0.8, "progress_signals": 12,
     "loop_max_late_ms": 14.0, "loop_p99_late_ms": 6.1, "loop_ticks": 80}

``upload_s`` runs from the submit to the ``submitted`` signal (journal writes included);
``upload_cpu_s`` is the process's CPU meanwhile, every thread. Any failure is a message on
stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import read_status_kib

REFERENCE_ID = "bench-upload-gui"
#: The stall probe's period (seconds); lateness beyond it is time the loop could not run.
TICK_S = 0.01


def reset_peak_rss() -> bool:
    """Reset this process's ``VmHWM`` to its current RSS (Linux >= 4.0); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


async def watch_loop(stop: asyncio.Event, lateness: list[float]) -> None:
    """Sleep ``TICK_S`` at a time until ``stop``; record how late each wake-up was (s)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(TICK_S)
        lateness.append(max(0.0, loop.time() - before - TICK_S))


async def drive(window: Any, args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Settle, submit once through the coordinator, wait for ``submitted``, close."""
    try:
        await asyncio.sleep(args.settle)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        # The service's own signals are the finish line; the coordinator holds it privately.
        submissions = window.coordinator._submissions
        progress_signals = 0

        def on_progress(*_: object) -> None:
            nonlocal progress_signals
            progress_signals += 1

        submissions.progress.connect(on_progress)
        submissions.submitted.connect(
            lambda _id, request_id: answer.done() or answer.set_result(request_id)
        )
        submissions.failed.connect(
            lambda _id, message: answer.done() or answer.set_exception(RuntimeError(message))
        )
        stop, lateness = asyncio.Event(), []
        watcher = asyncio.ensure_future(watch_loop(stop, lateness))
        report["hwm_since_reset"] = reset_peak_rss()
        report["baseline_rss_kib"] = read_status_kib("VmRSS")
        started, cpu_started = time.perf_counter(), time.process_time()
        window.inputs.submitRequested.emit(args.video, args.audio, REFERENCE_ID, False)
        request_id = await asyncio.wait_for(answer, args.timeout)
        report["upload_s"] = time.perf_counter() - started
        report["upload_cpu_s"] = time.process_time() - cpu_started
        report["hwm_kib"] = read_status_kib("VmHWM")
        stop.set()
        await watcher
        report.update(
            client="app",
            request_id=request_id,
            progress_signals=progress_signals,
            loop_ticks=len(lateness),
            loop_max_late_ms=1000 * max(lateness, default=0.0),
            loop_p99_late_ms=1000 * _percentile(lateness, 0.99),
        )
    except Exception as exc:  # reported by main() as a failed run
        report["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        window.close()


def _percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description="One upload through the real app.")
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:PORT/api")
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--audio", type=Path, required=True)
    parser.add_argument("--settle", type=float, default=1.5, help="seconds before submitting")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the upload")
    parser.add_argument("--report-file", type=Path, help="also write the JSON line here")
    args = parser.parse_args(argv)
    # From the environment, not argv: argv is visible to every user in ps.
    api_key = os.environ["BENCH_API_KEY"]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

    import qasync
    from PySide6.QtWidgets import QApplication

    from chamelaion_desktop.app import build_parser, run_app
    from chamelaion_desktop.core.logs import RedactingFilter
    from chamelaion_desktop.core.paths import AppPaths

    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    report: dict[str, Any] = {}
    driving: list[asyncio.Future[None]] = []

    def shown(window: Any) -> None:
        driving.append(asyncio.ensure_future(drive(window, args, report)))

    with tempfile.TemporaryDirectory(prefix="bench-upload-gui-") as home:
        app_args = build_parser().parse_args(["--base-url", args.base_url])
        with loop:
            loop.run_until_complete(
                run_app(
                    app_args,
                    AppPaths.under(home),
                    RedactingFilter([api_key]),
                    {"CHAMELAION_API_KEY": api_key},
                    shown=shown,
                )
            )
    if "error" in report or "request_id" not in report:
        print(f"upload_gui_runner: {report.get('error', 'no upload')}", file=sys.stderr)
        return 1
    line = json.dumps(report)
    if args.report_file is not None:
        args.report_file.write_text(line + "\n")
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

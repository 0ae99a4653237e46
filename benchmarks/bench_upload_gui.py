"""Benchmark one upload (a 1 GiB video + 20 MiB audio) made by the real app, beside curl.

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_upload_gui.py
[--video-mib 1024] [--audio-mib 20] [--repeat 3] [--workdir bench-out] [--json PATH]``

Method (the pieces are ``bench_upload.py``'s, read its docstring too):

- Inputs: ``<workdir>/video-<N>MiB.mp4`` and ``audio-<N>MiB.wav``, seeded random bytes,
  generated once by ``bench_upload.prepare_inputs`` and read whole (sha256) first, so every
  client reads from a warm page cache.
- Sink: ``sink.py`` (lean) in its own process; after each run the harness checks that every
  part arrived once with the file's size and sha256. A run that did not arrive whole is a
  failure (exit status 1), never a time.
- ``app``: the real app in its own process (``upload_gui_runner.py``): ``app.run_app``
  offscreen on a qasync loop, key in its environment, base URL = the sink. Once the window
  has settled it submits through the path a click takes: ``InputPanel.submitRequested`` ->
  ``Coordinator`` -> ``SubmissionService.submit`` -> journal -> ``generate_with_media``.
  The drop area is bypassed: it probes the inputs with PyAV and refuses random bytes.
  Upload time runs from the submit to the ``submitted`` signal; memory growth is the peak
  RSS during the upload (``VmHWM`` reset just before it) minus the RSS just before it.
  It also reports how late the GUI thread's loop woke up meanwhile (10 ms ticks).
- ``curl``: ``/usr/bin/curl -F`` of the same files, in the same run, alternating with the
  app, measured exactly as by ``bench_upload.py``.
- Per run: process wall, CPU and peak RSS from ``wait4`` (``measure.py``); the table shows
  the best (smallest upload time) and median runs, ratios of the app to curl ("ours"), the
  targets (peak memory growth < 64 MiB, worst run; upload time within 1.25x curl's, best
  runs), PASS/FAIL, and one JSON line last on stdout.

Exit status 0 when every upload arrived whole (targets met or not), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_upload import (
    CURL,
    MIB,
    InputFile,
    SinkProcess,
    curl_argv,
    measure_run,
    prepare_inputs,
    upload_result,
)
from measure import become_subreaper, run_measured
from report import RunResult, emit_json, ratios, render, summarize, targets
from upload_gui_runner import REFERENCE_ID

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
API_KEY = "k"  # the sink accepts any key


def app_argv(
    python: str, sink: SinkProcess, inputs: Sequence[InputFile], report_file: Path
) -> list[str]:
    """The command running one upload through the real app (``upload_gui_runner.py``)."""
    paths = {item.field: str(item.path) for item in inputs}
    return [
        python, str(HERE / "upload_gui_runner.py"), "--base-url", sink.base_url,
        "--video", paths["video"], "--audio", paths["audio"], "--report-file", str(report_file),
    ]  # fmt: skip


def child_env(workdir: Path) -> dict[str, str]:
    """The clients' environment: the key, no proxy, offscreen Qt, cached bytecode."""
    env = {**os.environ, "BENCH_API_KEY": API_KEY, "NO_PROXY": "*", "no_proxy": "*"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    return env


def accept_reference_id(run: RunResult) -> None:
    """The app sends ``reference_id`` (API.md: a form field of generate-with-media), which
    ``bench_upload``'s check counts as an unexpected part: accept it when it is the only
    extra and carries the runner's value; any other extra part stays a problem."""
    fields = [part for part in run.parts if part["name"] not in ("video", "audio")]
    if [part["name"] for part in fields] != ["reference_id"]:
        return
    if fields[0]["value"] != REFERENCE_ID:
        run.problems.append(f"reference_id arrived as {fields[0]['value']!r}")
    run.problems = [p for p in run.problems if p != "unexpected parts ['reference_id']"]
    run.ok = run.whole and not run.problems


def apply_app_report(run: RunResult, report_file: Path, extras: list[dict[str, Any]]) -> None:
    """Take the runner's own figures: growth from the peak since the reset (``wait4``'s
    peak also holds the start-up's), and the stall and progress counts into ``extras``."""
    accept_reference_id(run)
    try:
        report = json.loads(report_file.read_text())
    except (OSError, ValueError):
        return  # a failed run: measure_run has said why
    growth_maxrss = run.growth_mib
    if report.get("hwm_since_reset"):
        run.growth_mib = report["hwm_kib"] / 1024 - report["baseline_rss_kib"] / 1024
    extras.append(
        {
            "index": run.index,
            "growth_from_maxrss_mib": growth_maxrss,
            "hwm_since_reset": bool(report.get("hwm_since_reset")),
            "progress_signals": report.get("progress_signals"),
            "loop_ticks": report.get("loop_ticks"),
            "loop_max_late_ms": report.get("loop_max_late_ms"),
            "loop_p99_late_ms": report.get("loop_p99_late_ms"),
        }
    )


def run_schedule(
    args: argparse.Namespace, inputs: Sequence[InputFile], sink: SinkProcess, tmp: Path
) -> tuple[list[RunResult], list[dict[str, Any]]]:
    """Warm up, then ``--repeat`` rounds of curl and the app, alternating."""
    env = child_env(args.workdir)
    probe = run_measured([CURL, "-sS", "-o", "/dev/null", f"http://127.0.0.1:{sink.port}/_health"])
    curl_baseline_mib = probe.maxrss_kib / 1024
    runs: list[RunResult] = []
    extras: list[dict[str, Any]] = []
    for index in range(1, args.repeat + 1):
        for client in ("curl", "app"):
            print(f"running {client} #{index}", file=sys.stderr, flush=True)
            report_file = tmp / f"app-{index}.json"
            if client == "curl":
                command = curl_argv(sink, inputs)
            else:
                command = app_argv(args.python, sink, inputs, report_file)
            run = measure_run(
                client,
                index,
                command,
                sink,
                inputs,
                env=env,
                timeout_s=args.timeout,
                curl_baseline_mib=curl_baseline_mib,
            )
            if client == "app":
                apply_app_report(run, report_file, extras)
            runs.append(run)
    return runs, extras


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Upload through the real app, beside curl.")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench-out")
    parser.add_argument("--video-mib", type=int, default=1024)
    parser.add_argument("--audio-mib", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs of curl and of the app")
    parser.add_argument("--timeout", type=float, default=900.0, help="per run, seconds")
    parser.add_argument("--json", type=Path, help="also write the JSON line to this file")
    default_python = REPO / ".venv" / "bin" / "python"
    parser.add_argument(
        "--python", default=str(default_python) if default_python.exists() else sys.executable
    )
    return parser.parse_args(argv)


def _stall_summary(extras: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    worst = [e["loop_max_late_ms"] for e in extras if e.get("loop_max_late_ms") is not None]
    p99 = [e["loop_p99_late_ms"] for e in extras if e.get("loop_p99_late_ms") is not None]
    return {
        "worst_max_late_ms": max(worst, default=None),
        "median_p99_late_ms": statistics.median(p99) if p99 else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 1 if an upload did not arrive whole or a client failed, else 0."""
    args = _parse_args(argv)
    inputs = prepare_inputs(args.workdir, args.video_mib, args.audio_mib)
    become_subreaper()
    load_before = os.getloadavg()
    sink = SinkProcess(args.python, "lean", sum(item.size for item in inputs) + MIB)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-upload-gui-") as tmp:
            runs, extras = run_schedule(args, inputs, sink, Path(tmp))
    finally:
        sink.stop()
    summaries = {c: summarize([r for r in runs if r.client == c]) for c in ("curl", "app")}
    # report.py compares "ours" with curl: here "ours" is the app.
    as_ours = {"curl": summaries["curl"], "ours": summaries["app"]}
    r = ratios(as_ours)
    t = targets(as_ours, r)
    stalls = _stall_summary(extras)
    print(render(runs, summaries, r, t, os.cpu_count() or 1))
    print()
    print("ours = the app (run_app offscreen), submitting through InputPanel.submitRequested ->")
    print("Coordinator -> SubmissionService -> journal -> ChamelaionClient.generate_with_media;")
    print("the drop area is bypassed (it probes the files and refuses random bytes).")
    print("growth = peak RSS during the upload (VmHWM reset before it) - RSS before it.")
    for extra in extras:
        print(
            f"  app #{extra['index']}: GUI loop late by {extra['loop_max_late_ms']:.1f} ms at "
            f"worst, p99 {extra['loop_p99_late_ms']:.1f} ms ({extra['loop_ticks']} ticks of "
            f"10 ms); {extra['progress_signals']} progress signals; growth from wait4's peak "
            f"{extra['growth_from_maxrss_mib']:.1f} MiB"
        )
    result = upload_result(
        "upload_gui", inputs, runs, summaries, r, t, load_before, gui_loop=stalls, app_runs=extras
    )
    emit_json(result, args.json)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

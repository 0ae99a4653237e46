"""Benchmark one lip-sync upload (a 1 GiB video + 20 MiB audio) by three clients.

Usage: ``.venv/bin/python benchmarks/bench_upload.py [--video-mib 1024] [--audio-mib 20]
[--repeat 3] [--sdk-repeat 1] [--skip-sdk] [--clients curl,ours,sdk] [--workdir bench-out]
[--json PATH] [--sink-mode lean|stream]``

Method:

- Inputs: ``video-<N>MiB.mp4`` and ``audio-<N>MiB.wav`` filled with seeded pseudo-random
  bytes (neither zeros nor sparse), generated once into ``--workdir`` and read whole
  (sha256) before any measurement, so every client reads from a warm page cache.
- Sink: ``sink.py`` in its own process (its CPU is never charged to a client) on
  127.0.0.1, answering ``POST /api/v1/lipsync/generate-with-media`` like the API. After each
  run the harness fetches the sink's record of the upload and checks that every part
  arrived whole: the part names, sizes and sha256 equal the files' own. A run that did not
  arrive whole is reported as failed, never as fast, and makes the exit status 1. By
  default (``lean``) the sink reads the raw body into a pre-faulted buffer and parses and
  hashes it only when asked for the record, after the client has exited: aiohttp's
  streaming multipart reader with sha256 inline (``--sink-mode stream``) was measured
  here at ~2 s per GiB, slower than curl, so it, not the client, would set the pace.
- Clients, each run in a fresh process: curl (``/usr/bin/curl -F``); the vendor SDK
  ``chamelaion`` (sync client, ``max_retries=0``); ours (``ChamelaionClient``, async). The
  Python clients run ``upload_runner.py``, which reports its resident set just before the
  upload and the wall/CPU time of the upload call alone. Runs of curl and ours alternate, so
  a burst of load from elsewhere hits both alike; the SDK runs last.
- Per run: ``wall`` from the fork to the exit; ``CPU`` and ``peak RSS`` from the child's
  own ``wait4`` rusage (``measure.py`` explains how the harness keeps its own memory out of
  the child's ``ru_maxrss``); ``growth`` = peak - the resident set just before the upload
  (for curl, the peak of a curl that uploads nothing); ``others' CPU`` = CPU the whole
  machine used meanwhile minus the client's and the sink's (a noise gauge).
- Report: per-run lines, a table with the best (smallest upload time) and median runs,
  ratios of ours to curl, targets with PASS/FAIL (ours: peak memory growth < 64 MiB, upload
  wall within 1.25x curl's), and finally one line of JSON with every figure as the last
  line of stdout. Missing a target still exits 0 (this is a measurement); a failed run
  (an upload that did not arrive whole, a client that failed) exits 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from measure import Exited, become_subreaper, machine_busy_s, run_measured
from report import RunResult, emit_json, others_cores, ratios, render, summarize, targets

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CURL = "/usr/bin/curl"
#: A dummy key: the sink accepts any and records only which header carried it.
API_KEY = "k"
MIB = 1024 * 1024


@dataclass(frozen=True)
class InputFile:
    """A generated input: its form ``field``, ``path``, ``content_type``, size in bytes and
    sha256 (hex)."""

    field: str
    path: Path
    content_type: str
    size: int
    sha256: str


def _generate(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out:
        for offset in range(0, size, 4 * MIB):
            out.write(rng.randbytes(min(4 * MIB, size - offset)))
    partial.replace(path)  # a file of the right size is therefore a complete one


def prepare_inputs(workdir: Path, video_mib: int, audio_mib: int) -> list[InputFile]:
    """Generate the inputs if missing or of another size, then read them whole (warming the
    page cache) to compute their sha256."""
    workdir.mkdir(parents=True, exist_ok=True)
    inputs = []
    for field_name, suffix, content_type, mib, seed in (
        ("video", "mp4", "video/mp4", video_mib, 1),
        ("audio", "wav", "audio/wav", audio_mib, 2),
    ):
        # One file per size, so a quick run at 64 MiB does not throw away the 1 GiB input.
        path = workdir / f"{field_name}-{mib}MiB.{suffix}"
        if not path.exists() or path.stat().st_size != mib * MIB:
            print(f"generating {path} ({mib} MiB)", file=sys.stderr)
            _generate(path, mib * MIB, seed)
        with path.open("rb") as source:
            digest = hashlib.file_digest(source, "sha256").hexdigest()
        inputs.append(InputFile(field_name, path, content_type, mib * MIB, digest))
    return inputs


class SinkProcess:
    """The sink (``sink.py``) running as a child process on 127.0.0.1 (a free port)."""

    def __init__(self, python: str, mode: str, prealloc_bytes: int, timeout_s: float = 120.0):
        argv = [python, str(HERE / "sink.py"), "--mode", mode]
        argv += ["--prealloc-bytes", str(prealloc_bytes)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        watchdog = threading.Timer(timeout_s, self.proc.kill)  # a sink that never listens
        watchdog.start()
        try:
            line = self.proc.stdout.readline().split()
        finally:
            watchdog.cancel()
        if len(line) != 2 or line[0] != "PORT":
            self.stop()
            raise RuntimeError(f"the sink did not start (printed {line!r})")
        self.port = int(line[1])
        self.base_url = f"http://127.0.0.1:{self.port}/api"
        self.upload_url = f"{self.base_url}/v1/lipsync/generate-with-media"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def records(self, since: int) -> list[dict[str, Any]]:
        """The sink's records from the ``since``-th on, verified (see ``sink.UploadRecord``)."""
        url = f"http://127.0.0.1:{self.port}/_records?since={since}"
        with self._opener.open(url, timeout=600) as response:
            records: list[dict[str, Any]] = json.load(response)
        return records

    def stop(self) -> None:
        """Terminate the sink and wait for it."""
        self.proc.terminate()
        self.proc.wait(timeout=30)


def curl_argv(sink: SinkProcess, inputs: Sequence[InputFile]) -> list[str]:
    """curl's upload command: ``-w`` prints the status, ``time_total`` and bytes sent."""
    argv = [CURL, "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_upload}"]
    argv += ["-H", f"x-api-key: {API_KEY}"]
    for item in inputs:
        argv += ["-F", f'{item.field}=@"{item.path}";type={item.content_type}']
    return [*argv, sink.upload_url]


def runner_argv(
    python: str, client: str, sink: SinkProcess, inputs: Sequence[InputFile]
) -> list[str]:
    """The command running one upload with a Python client (``upload_runner.py``)."""
    paths = {item.field: str(item.path) for item in inputs}
    return [
        python, str(HERE / "upload_runner.py"), client, "--base-url", sink.base_url,
        "--video", paths["video"], "--audio", paths["audio"],
    ]  # fmt: skip


def _check_record(run: RunResult, record: dict[str, Any], inputs: Sequence[InputFile]) -> None:
    """Fill ``run`` from the sink's record; ``whole`` only if every input's part arrived
    once, with the input's size and sha256. Extra parts are a problem, not a loss."""
    run.content_length = record["content_length"] is not None
    run.chunked = bool(record["chunked"])
    run.expect_continue = bool(record["expect_continue"])
    run.sink_body_s, run.sink_cpu_s = record["body_s"], record["sink_cpu_s"]
    run.parts = record["parts"]
    if record["error"]:
        run.problems.append(f"sink: {record['error']}")
    names = [part["name"] for part in run.parts]
    extra = [name for name in names if name not in {item.field for item in inputs}]
    if extra:
        run.problems.append(f"unexpected parts {extra}")
    run.whole = record["error"] is None
    for item in inputs:
        matching = [part for part in run.parts if part["name"] == item.field]
        if len(matching) != 1:
            run.problems.append(f"part {item.field!r} arrived {len(matching)} times")
            run.whole = False
            continue
        size, sha = matching[0]["size"], matching[0]["sha256"] or ""
        if size != item.size or sha != item.sha256:
            run.problems.append(
                f"{item.field}: {size} bytes sha256 {sha[:12]}, "
                f"expected {item.size} bytes sha256 {item.sha256[:12]}"
            )
            run.whole = False


def _apply_process(run: RunResult, exited: Exited) -> None:
    run.returncode = exited.returncode
    run.wall_s, run.cpu_s = exited.wall_s, exited.cpu_s
    run.user_s, run.sys_s = exited.user_s, exited.sys_s
    run.peak_rss_mib = exited.maxrss_kib / 1024
    run.stderr_tail = exited.stderr[-2000:]
    if exited.timed_out:
        run.problems.append("timed out (killed)")
    elif exited.returncode != 0:
        last = exited.stderr.strip().splitlines()[-1:] or ["no stderr"]
        run.problems.append(f"exit status {exited.returncode}: {last[0]}")


def _apply_output(run: RunResult, exited: Exited, curl_baseline_mib: float) -> None:
    if exited.returncode != 0:
        return
    try:
        if run.client == "curl":
            code, total, _sent = exited.stdout.split()
            run.upload_s, run.baseline_rss_mib = float(total), curl_baseline_mib
            if not code.startswith("2"):
                run.problems.append(f"HTTP {code}")
        else:
            report = json.loads(exited.stdout.strip().splitlines()[-1])
            run.upload_s, run.upload_cpu_s = report["upload_s"], report["upload_cpu_s"]
            run.baseline_rss_mib = report["baseline_rss_kib"] / 1024
            run.hwm_mib, run.request_id = report["hwm_kib"] / 1024, report["request_id"]
    except (ValueError, KeyError, IndexError) as exc:
        run.problems.append(f"unreadable output {exited.stdout[-200:]!r}: {exc}")
    run.growth_mib = run.peak_rss_mib - run.baseline_rss_mib


def measure_run(
    client: str,
    index: int,
    argv: Sequence[str],
    sink: SinkProcess,
    inputs: Sequence[InputFile],
    *,
    env: dict[str, str],
    timeout_s: float,
    curl_baseline_mib: float,
) -> RunResult:
    """Run one upload in a fresh process, then check the sink's record of it."""
    run = RunResult(client=client, index=index)
    since = len(sink.records(0))
    busy_before = machine_busy_s()
    exited = run_measured(argv, env=env, timeout_s=timeout_s)
    busy = machine_busy_s() - busy_before
    _apply_process(run, exited)
    _apply_output(run, exited, curl_baseline_mib)
    records = sink.records(since)
    if len(records) != 1:
        run.problems.append(f"the sink saw {len(records)} uploads, expected 1")
    if records:
        _check_record(run, records[-1], inputs)
        if run.request_id is not None and run.request_id != records[-1]["request_id"]:
            run.problems.append("request_id differs from the sink's")
    run.other_cpu_s = max(0.0, busy - run.cpu_s - (run.sink_cpu_s or 0.0))
    run.ok = run.whole and not run.problems
    return run


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Upload benchmark: curl, the SDK and ours.")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench-out")
    parser.add_argument("--video-mib", type=int, default=1024)
    parser.add_argument("--audio-mib", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs of curl and of ours")
    parser.add_argument("--sdk-repeat", type=int, default=1)
    parser.add_argument("--skip-sdk", action="store_true")
    parser.add_argument("--clients", default="curl,ours,sdk", help="comma-separated subset")
    parser.add_argument("--sink-mode", choices=["lean", "stream"], default="lean")
    parser.add_argument("--timeout", type=float, default=900.0, help="per run, seconds")
    parser.add_argument("--json", type=Path, help="also write the JSON line to this file")
    default_python = REPO / ".venv" / "bin" / "python"
    parser.add_argument(
        "--python", default=str(default_python) if default_python.exists() else sys.executable
    )
    args = parser.parse_args(argv)
    args.clients = [name.strip() for name in args.clients.split(",") if name.strip()]
    unknown = set(args.clients) - {"curl", "ours", "sdk"}
    if unknown:
        parser.error(f"unknown clients: {sorted(unknown)}")
    if args.skip_sdk and "sdk" in args.clients:
        args.clients.remove("sdk")
    return args


def run_schedule(
    args: argparse.Namespace, inputs: Sequence[InputFile], sink: SinkProcess
) -> list[RunResult]:
    """Warm up, then run curl and ours alternately ``--repeat`` times, then the SDK."""
    env = {**os.environ, "BENCH_API_KEY": API_KEY, "NO_PROXY": "*", "no_proxy": "*"}
    # Warm-ups, not measured: curl's and the Python clients' files into the page cache; the
    # probe's peak is curl's resident set without an upload.
    probe = run_measured([CURL, "-sS", "-o", "/dev/null", f"http://127.0.0.1:{sink.port}/_health"])
    curl_baseline_mib = probe.maxrss_kib / 1024
    warm = "import httpx, chamelaion\ntry: import chamelaion_desktop.api\nexcept ImportError: pass"
    subprocess.run([args.python, "-c", warm], env=env, check=False)
    schedule = [c for _ in range(args.repeat) for c in ("curl", "ours") if c in args.clients]
    schedule += ["sdk"] * (args.sdk_repeat if "sdk" in args.clients else 0)
    runs: list[RunResult] = []
    for client in schedule:
        index = sum(run.client == client for run in runs) + 1
        print(f"running {client} #{index}", file=sys.stderr, flush=True)
        if client == "curl":
            command = curl_argv(sink, inputs)
        else:
            command = runner_argv(args.python, client, sink, inputs)
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
        runs.append(run)
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 1 if a run failed (an upload did not arrive whole, or a
    client failed), else 0, targets missed or not."""
    args = _parse_args(argv)
    inputs = prepare_inputs(args.workdir, args.video_mib, args.audio_mib)
    become_subreaper()
    load_before = os.getloadavg()
    sink = SinkProcess(args.python, args.sink_mode, sum(item.size for item in inputs) + MIB)
    try:
        runs = run_schedule(args, inputs, sink)
    finally:
        sink.stop()
    summaries = {c: summarize([r for r in runs if r.client == c]) for c in args.clients}
    r = ratios(summaries)
    t = targets(summaries, r)
    print(render(runs, summaries, r, t, os.cpu_count() or 1))
    result = upload_result(
        "upload", inputs, runs, summaries, r, t, load_before, sink_mode=args.sink_mode
    )
    emit_json(result, args.json)
    return 0 if result["ok"] else 1


def upload_result(
    name: str,
    inputs: Sequence[InputFile],
    runs: Sequence[RunResult],
    summaries: dict[str, dict[str, Any]],
    r: dict[str, float | None],
    t: dict[str, Any],
    load_before: tuple[float, float, float],
    **extra: Any,
) -> dict[str, Any]:
    """The closing JSON of an upload benchmark (this one and ``bench_upload_gui.py``):
    inputs, machine load, summaries, ratios, targets, every run, and ``extra`` fields."""
    return {
        "benchmark": name,
        "video_bytes": inputs[0].size,
        "audio_bytes": inputs[1].size,
        **extra,
        "cpus": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "others_cores_median": others_cores(runs),
        "summaries": summaries,
        "ratios": r,
        "targets": t,
        "all_whole": all(run.whole for run in runs),
        "ok": all(run.ok for run in runs),
        "runs": [asdict(run) for run in runs],
    }


if __name__ == "__main__":
    sys.exit(main())

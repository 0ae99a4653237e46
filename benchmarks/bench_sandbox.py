"""Benchmark the sandbox under load: fifty clients listing and polling a few thousand jobs,
then the same with four concurrent 200 MiB uploads, and check that nothing was lost.

Usage: ``.venv/bin/python benchmarks/bench_sandbox.py [--clients 50] [--duration 20]
[--jobs 3000] [--active 100] [--uploads 4] [--upload-mib 200] [--json PATH]``

Method:

- The sandbox runs as ``python -m chamelaion_desktop.sandbox --port 0 --rate-limit 0
  --seed N --seed-active M`` in its own process, with its data in a temporary folder: N
  finished jobs and M that the worker moves through queued and processing meanwhile (the
  seeding is timed: the sandbox prints its listening line once the jobs are stored).
- Load (``sandbox_load.py``, in this process, one ``httpx.AsyncClient`` per client, so
  fifty connections): each client loops on ``GET /v1/lipsync/requests?limit=50`` (the
  first page, as the app polls it), ``GET /v1/lipsync/requests/{id}`` of an active job
  (polling one job) and, every fourth round, a page at a random offset. Every answer must
  be 200 and parse as JSON of the right shape; anything else counts as an error. Latency
  is the client's wall time per request, answer read. The first ``--warmup`` seconds of
  each phase (all clients connecting and sending at once) are checked but left out of the
  figures.
- Phase 1: the load alone for ``--duration`` seconds. Phase 2: the load while ``--uploads``
  processes (``upload_runner.py ours``: our ``ChamelaionClient``) each upload a different
  ``--upload-mib`` MiB video (seeded random bytes) with a 20 MiB audio; the load stops when
  the last upload ends (at most ``--timeout`` seconds). Phase 3: the same uploads again
  with no load, for reference.
- Nothing lost: each upload's request_id names ``<data dir>/uploads/<id>/``; the stored
  ``video.*`` and ``audio.*`` must have the sources' size and sha256. Every request of the
  load must have been answered.
- Figures: requests per second, p50/p99/max latency (ms) per kind of request and overall,
  errors; the sandbox's CPU seconds per phase and its peak RSS; each upload's time; the
  seeding time. No target beyond "nothing lost". The last stdout line is one JSON object.

Exit status 0 when nothing was lost and every request was answered, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_upload import MIB, InputFile, _generate, prepare_inputs
from report import emit_json
from sandbox_load import API_KEY, job_ids, run_load
from ui_harness import SandboxProcess

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def upload_inputs(
    workdir: Path, count: int, video_mib: int, audio_mib: int
) -> list[list[InputFile]]:
    """``count`` pairs (video, audio): distinct seeded videos, one shared audio."""
    first = prepare_inputs(workdir, video_mib, audio_mib)
    pairs = [first]
    for n in range(1, count):
        path = workdir / f"video-{video_mib}MiB-s{n}.mp4"
        if not path.exists() or path.stat().st_size != video_mib * MIB:
            print(f"generating {path} ({video_mib} MiB)", file=sys.stderr)
            _generate(path, video_mib * MIB, seed=100 + n)
        with path.open("rb") as source:
            digest = hashlib.file_digest(source, "sha256").hexdigest()
        video = InputFile("video", path, "video/mp4", video_mib * MIB, digest)
        pairs.append([video, first[1]])
    return pairs


async def upload_all(
    python: str, base_url: str, pairs: Sequence[Sequence[InputFile]], timeout_s: float
) -> list[dict[str, Any]]:
    """Run one ``upload_runner.py ours`` process per pair, all at once; their reports."""
    env = {**os.environ, "BENCH_API_KEY": API_KEY, "NO_PROXY": "*", "no_proxy": "*"}

    async def one(pair: Sequence[InputFile]) -> dict[str, Any]:
        argv = [
            str(HERE / "upload_runner.py"), "ours", "--base-url", base_url,
            "--video", str(pair[0].path), "--audio", str(pair[1].path),
        ]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            python, *argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return {"video": str(pair[0].path), "error": "timed out"}
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no stderr"]
            return {"video": str(pair[0].path), "error": f"exit {proc.returncode}: {tail[0]}"}
        try:
            report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"video": str(pair[0].path), "error": f"unreadable output {out[-200:]!r}"}
        report["video"] = str(pair[0].path)
        return report

    return list(await asyncio.gather(*(one(pair) for pair in pairs)))


def check_stored(data_dir: Path, report: dict[str, Any], pair: Sequence[InputFile]) -> None:
    """Compare ``uploads/<request_id>/{video,audio}.*`` with the sources; fill ``report``."""
    report["whole"] = False
    if "request_id" not in report:
        return
    folder = data_dir / "uploads" / report["request_id"]
    problems = []
    for item in pair:
        stored = sorted(folder.glob(f"{item.field}.*"))
        if len(stored) != 1:
            problems.append(f"{item.field}: {len(stored)} files in {folder}")
            continue
        with stored[0].open("rb") as source:
            digest = hashlib.file_digest(source, "sha256").hexdigest()
        size = stored[0].stat().st_size
        report[f"{item.field}_bytes"] = size
        if size != item.size or digest != item.sha256:
            problems.append(
                f"{item.field}: {size} bytes sha256 {digest[:12]}, expected "
                f"{item.size} bytes sha256 {item.sha256[:12]}"
            )
    report["problems"] = problems
    report["whole"] = not problems


async def benchmark(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Start the sandbox, seed it, run both phases, check the uploads; every figure."""
    pairs = upload_inputs(args.workdir, args.uploads, args.upload_mib, args.audio_mib)
    sandbox = SandboxProcess(
        tmp / "sandbox",
        seed=args.jobs,
        seed_active=args.active,
        queue_delay=args.queue_delay,
        processing_time=args.processing_time,
        extra=["--rate-limit", "0", "--quota", str(10**9)],
        python=args.python,
        api_key=f"{API_KEY}=Bench",
        log_requests=False,  # 400 log lines a second would weigh on the figures
    )
    result: dict[str, Any] = {"seeding": "--seed"}
    try:
        # The sandbox prints its line once the jobs are stored: start-up includes seeding.
        result["seed_s"] = sandbox.startup_s
        total, ids = await job_ids(sandbox.base_url)
        result["jobs_total"] = total
        print(
            f"{total} jobs; phase 1: {args.clients} clients, {args.duration:.0f} s", file=sys.stderr
        )
        alone = await run_load(
            sandbox.base_url,
            ids,
            total,
            args.clients,
            sandbox.cpu_s,
            warmup_s=args.warmup,
            duration_s=args.duration,
        )
        print(f"phase 2: the same with {args.uploads} uploads", file=sys.stderr)
        uploads = asyncio.ensure_future(
            upload_all(args.python, sandbox.base_url, pairs, args.timeout)
        )
        with_uploads = await run_load(
            sandbox.base_url,
            ids,
            total,
            args.clients,
            sandbox.cpu_s,
            warmup_s=args.warmup,
            until=uploads,
        )
        reports = uploads.result()
        print("phase 3: the uploads alone", file=sys.stderr)
        cpu0 = sandbox.cpu_s()
        alone_started = time.perf_counter()
        reference = await upload_all(args.python, sandbox.base_url, pairs, args.timeout)
        result["uploads_alone_wall_s"] = time.perf_counter() - alone_started
        result["uploads_alone_sandbox_cpu_s"] = sandbox.cpu_s() - cpu0
        for report, pair in [
            *zip(reports, pairs, strict=True),
            *zip(reference, pairs, strict=True),
        ]:
            check_stored(sandbox.data_dir, report, pair)
        result["sandbox_peak_rss_mib"] = sandbox.peak_rss_mib()
    finally:
        result["sandbox_exit_status"] = sandbox.stop()
    result["load_alone"] = alone.summary()
    result["load_with_uploads"] = with_uploads.summary()
    result["uploads"] = reports
    result["uploads_alone"] = reference
    return result


def render(result: dict[str, Any], args: argparse.Namespace) -> str:
    """The human report."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    lines = [
        f"sandbox: {result['jobs_total']} jobs (seeded by {result['seeding']} in "
        f"{result['seed_s']:.2f} s), peak RSS {result['sandbox_peak_rss_mib']:.0f} MiB",
        "",
        f"{'phase':<15}{'kind':<6}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'max ms':>8}{'errors':>7}",
    ]
    for phase, key in (("load alone", "load_alone"), ("with uploads", "load_with_uploads")):
        summary = result[key]
        for kind in ("list", "get", "page", "all"):
            figures = summary.get(kind)
            if not figures:
                continue
            rps = summary["rps"] if kind == "all" else figures["rps"]
            errors = str(summary["errors"]) if kind == "all" else ""
            lines.append(
                f"{phase:<15}{kind:<6}{figures['count']:>9}{rps:>8.0f}{ms(figures['p50_ms']):>8}"
                f"{ms(figures['p99_ms']):>8}{ms(figures['max_ms']):>8}{errors:>7}"
            )
        lines.append(
            f"{'':<15}{summary['wall_s']:.1f} s measured after {args.warmup:.0f} s of warm-up "
            f"({summary['warmup_requests']} requests); CPU (whole phase): sandbox "
            f"{summary['sandbox_cpu_s']:.1f} s, clients {summary['client_cpu_s']:.1f} s"
        )
    for title, key in (("under load", "uploads"), ("alone", "uploads_alone")):
        lines += ["", f"{len(result[key])} concurrent uploads {title}:"]
        for report in result[key]:
            name = Path(report["video"]).name
            if "error" in report:
                lines.append(f"  {name}: FAILED ({report['error']})")
                continue
            verdict = "whole" if report["whole"] else "NOT WHOLE: " + "; ".join(report["problems"])
            rate = args.upload_mib / report["upload_s"]
            lines.append(
                f"  {name}: {report['upload_s']:.2f} s ({rate:.0f} MiB/s of video), request "
                f"{report['request_id']}: {verdict}"
            )
    lines.append(
        f"  (alone: {result['uploads_alone_wall_s']:.1f} s in all, sandbox CPU "
        f"{result['uploads_alone_sandbox_cpu_s']:.1f} s)"
    )
    lines.append("")
    lines.append(
        f"load average before/after: {result['loadavg_before'][0]:.2f} / "
        f"{result['loadavg_after'][0]:.2f} on {os.cpu_count()} cores (other work skews the figures)"
    )
    lines.append(
        f"nothing lost: {'yes' if result['nothing_lost'] else 'NO'} "
        f"(every upload stored whole, every request answered)"
    )
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The sandbox under load.")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="phase 1, seconds")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of each phase left out of figures"
    )
    parser.add_argument("--jobs", type=int, default=3000, help="finished jobs seeded")
    parser.add_argument("--active", type=int, default=100, help="running jobs seeded")
    parser.add_argument("--queue-delay", type=float, default=5.0, help="sandbox, seconds")
    parser.add_argument("--processing-time", type=float, default=20.0, help="sandbox, seconds")
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--upload-mib", type=int, default=200)
    parser.add_argument("--audio-mib", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=300.0, help="per upload, seconds")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench-out")
    parser.add_argument("--json", type=Path, help="also write the JSON line to this file")
    default_python = REPO / ".venv" / "bin" / "python"
    parser.add_argument(
        "--python", default=str(default_python) if default_python.exists() else sys.executable
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when nothing was lost and every request was answered."""
    args = _parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        result = asyncio.run(benchmark(args, Path(tmp)))
    result["loadavg_before"], result["loadavg_after"] = load_before, os.getloadavg()
    uploads_whole = all(
        report.get("whole") for report in [*result["uploads"], *result["uploads_alone"]]
    )
    answered = result["load_alone"]["errors"] == 0 and result["load_with_uploads"]["errors"] == 0
    result.update(
        benchmark="sandbox",
        clients=args.clients,
        upload_bytes=args.upload_mib * MIB,
        cpus=os.cpu_count(),
        uploads_whole=uploads_whole,
        nothing_lost=uploads_whole and answered,
        median_upload_s=statistics.median(
            [r["upload_s"] for r in result["uploads"] if "upload_s" in r] or [0.0]
        ),
        median_upload_alone_s=statistics.median(
            [r["upload_s"] for r in result["uploads_alone"] if "upload_s" in r] or [0.0]
        ),
    )
    print(render(result, args))
    emit_json(result, args.json)
    return 0 if result["nothing_lost"] else 1


if __name__ == "__main__":
    sys.exit(main())

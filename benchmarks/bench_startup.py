"""Benchmark start-up: from process start to the main window's first frame, beside a bare
PySide6 window measured in the same run.

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_startup.py
[--repeat 20] [--variants bare,bare-qasync,app,app-keychain] [--json PATH] [--profile]
[--baseline-root DIR]``

Method:

- Every start is a fresh ``python -c`` process running ``startup_probe.py`` (read its
  docstring): ``bare`` shows a plain ``QMainWindow`` with a label (the reference of the
  target); ``bare-qasync`` shows the same window from a ``qasync`` loop, as the app runs
  (asyncio and qasync imported: the floor of any window on this stack); ``app`` runs the
  real entry point, ``chamelaion_desktop.app.main`` (what ``python -m chamelaion_desktop``
  runs). The probe prints ``CLOCK_MONOTONIC`` once the first paint pass of the first
  ``QMainWindow`` is over; the harness subtracts its own ``time.perf_counter()`` (the same
  clock) read just before it started the process. So the figure covers exec, interpreter
  start-up, imports, building the window and its first paint.
- ``app`` runs with a key in ``CHAMELAION_API_KEY`` and ``CHAMELAION_BASE_URL`` on a
  loopback port where nothing listens: no keychain lookup, no welcome dialog, no network.
  ``app-keychain`` runs without the key, so the app looks the key up in the keychain (on a
  headless machine: keyring's backend lookup, then "no keychain"; the welcome dialog then
  opens over the window).
- ``--baseline-root DIR`` adds ``baseline`` and ``baseline-keychain``: the same two starts
  of the package copy under ``DIR`` (e.g. an older commit), for before/after in one run.
- Warm cache: one unmeasured start of each variant first; bytecode is cached under
  ``<workdir>/pycache`` (``PYTHONPYCACHEPREFIX``; ``PYTHONDONTWRITEBYTECODE`` is dropped
  for the children), as an installed app has its ``.pyc`` files. The app's settings, journal
  and cache live in a temporary folder (``XDG_*_HOME``), kept across the runs.
- Runs of the variants alternate, so a burst of load from elsewhere hits all alike. CPU
  seconds and peak RSS come from the child's own ``wait4`` rusage (``measure.py``); they
  cover the whole process, shutdown included.
- Report: median and min per variant, the probe's marks (interpreter up, window shown,
  first paint event, exit), ratios to the bare window, and the target (the app's median
  within 1.6x the bare window's median), PASS/FAIL. The last stdout line is one JSON object.
- ``--profile`` also writes ``startup-importtime.txt`` (``python -X importtime`` of one
  ``app`` start, ended at the first frame) and ``startup-cprofile.txt`` (``cProfile`` of one
  whole ``app`` run, top functions by cumulative time) into the workdir.

Exit status 0 when every start reached its first frame (targets met or not), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measure import become_subreaper, machine_busy_s, run_measured
from report import emit_json

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
#: The app's median start within this many times the bare window's median.
MAX_RATIO = 1.6
VARIANTS = ("bare", "bare-qasync", "app", "app-keychain")
#: With ``--baseline-root``: the same two starts of another copy of the package.
BASELINE_VARIANTS = ("baseline", "baseline-keychain")
#: The key the app gets in ``app`` runs; it goes nowhere (nothing listens at the URL).
BENCH_KEY = "bench-startup-key"
PROBE_CODE = (
    f"import sys; sys.path.insert(0, {str(HERE)!r}); import startup_probe; startup_probe.main()"
)


@dataclass
class Start:
    """One measured start. Seconds from just before the process was started: ``python_s``
    (the probe's first line), ``show_s`` (the main window's ``show()``), ``paint_s`` (its
    first paint event), ``frame_s`` (first paint pass over), ``exit_s`` (after shutdown);
    ``cpu_s`` user+system CPU seconds of the process; ``peak_rss_mib`` its ``ru_maxrss``."""

    variant: str
    index: int
    ok: bool = False
    problem: str | None = None
    frame_s: float | None = None
    python_s: float | None = None
    show_s: float | None = None
    paint_s: float | None = None
    exit_s: float | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mib: float = 0.0
    returncode: int = 0
    stderr_tail: str = ""
    marks: dict[str, float] = field(default_factory=dict)


def closed_port() -> int:
    """A loopback TCP port where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def child_env(
    variant: str, workdir: Path, home: Path, base_url: str, baseline_root: Path | None = None
) -> dict[str, str]:
    """The environment of one start (see the module docstring)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAMELAION_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
        PYTHONPYCACHEPREFIX=str(workdir / "pycache"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        CHAMELAION_BASE_URL=base_url,
        NO_PROXY="*",
        no_proxy="*",
    )
    if variant in ("app", "baseline"):
        env["CHAMELAION_API_KEY"] = BENCH_KEY
    if variant.startswith("baseline") and baseline_root is not None:
        env["STARTUP_PROBE_APP_ROOT"] = str(baseline_root)
    return env


def probe_argv(python: str, variant: str) -> list[str]:
    """``python -c <probe> MODE``: ``bare``, ``bare-qasync`` or ``app``."""
    mode = variant if variant in ("bare", "bare-qasync") else "app"
    return [python, "-c", PROBE_CODE, mode]


def measure_start(
    python: str, variant: str, index: int, env: dict[str, str], timeout_s: float
) -> Start:
    """Start one process and read the probe's lines."""
    start = Start(variant=variant, index=index)
    started = time.perf_counter()
    exited = run_measured(probe_argv(python, variant), env=env, timeout_s=timeout_s)
    start.wall_s, start.cpu_s = exited.wall_s, exited.cpu_s
    start.peak_rss_mib = exited.maxrss_kib / 1024
    start.returncode = exited.returncode
    start.stderr_tail = exited.stderr[-1500:]
    for line in exited.stdout.splitlines():
        parts = line.split()
        try:
            if parts[0] == "MARK" and len(parts) == 3:
                start.marks[parts[1]] = float(parts[2]) - started
            elif parts[0] in ("FRAME", "EXIT") and len(parts) == 2:
                start.marks[parts[0].lower()] = float(parts[1]) - started
        except (IndexError, ValueError):
            continue
    start.frame_s = start.marks.get("frame")
    start.python_s = start.marks.get("python")
    start.show_s = start.marks.get("show")
    start.paint_s = start.marks.get("paint")
    start.exit_s = start.marks.get("exit")
    if exited.timed_out:
        start.problem = "timed out (killed)"
    elif start.frame_s is None:
        start.problem = f"no first frame reported (exit status {exited.returncode})"
    elif exited.returncode != 0:
        start.problem = f"exit status {exited.returncode} after the first frame"
    start.ok = start.problem is None
    return start


def summarize(starts: Sequence[Start]) -> dict[str, Any]:
    """Median, min and max of each figure over one variant's good starts."""
    good = [s for s in starts if s.ok]
    out: dict[str, Any] = {"runs": len(starts), "ok_runs": len(good)}
    for name in ("frame_s", "python_s", "show_s", "paint_s", "exit_s", "cpu_s", "peak_rss_mib"):
        values = [getattr(s, name) for s in good if getattr(s, name) is not None]
        out[name] = (
            {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
            if values
            else None
        )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _figure(summary: dict[str, Any], name: str, row: str) -> float | None:
    stats = summary.get(name)
    return None if stats is None else float(stats[row])


def render(
    starts: Sequence[Start], summaries: dict[str, dict[str, Any]], result: dict[str, Any]
) -> str:
    """The human report."""

    def fmt(value: float | None, digits: int = 3) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = ["starts (in order), seconds from just before the process started:"]
    for s in starts:
        status = "ok" if s.ok else f"FAILED: {s.problem}"
        lines.append(
            f"  {s.variant:<12} #{s.index:<2} frame {fmt(s.frame_s)}  python {fmt(s.python_s)}  "
            f"show {fmt(s.show_s)}  paint {fmt(s.paint_s)}  exit {fmt(s.exit_s)}  "
            f"cpu {fmt(s.cpu_s, 2)}  peak {s.peak_rss_mib:.0f} MiB  {status}"
        )
    header = (
        f"{'variant':<18}{'row':<7}{'frame s':>8}{'python s':>9}{'show s':>8}{'paint s':>8}"
        f"{'exit s':>8}{'CPU s':>7}{'peak MiB':>9}"
    )
    lines += ["", header, "-" * len(header)]
    for variant, summary in summaries.items():
        for row in ("median", "min"):
            cells = [
                fmt(_figure(summary, name, row))
                for name in ("frame_s", "python_s", "show_s", "paint_s", "exit_s")
            ]
            lines.append(
                f"{variant:<18}{row:<7}{cells[0]:>8}{cells[1]:>9}{cells[2]:>8}{cells[3]:>8}"
                f"{cells[4]:>8}{fmt(_figure(summary, 'cpu_s', row), 2):>7}"
                f"{fmt(_figure(summary, 'peak_rss_mib', row), 0):>9}"
            )
    lines.append("")
    lines.append("first frame / bare window's      median     min")
    for variant, ratios in result["ratios"].items():
        lines.append(f"  {variant:<28} {fmt(ratios['median'], 2):>8} {fmt(ratios['min'], 2):>7}")
    target = result["target"]
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}[target["pass"]]
    lines += [
        "",
        f"target: app's first frame (median) within {MAX_RATIO}x the bare window's: "
        f"{fmt(target['ratio'], 2)}x: {verdict}",
    ]
    keychain = result["ratios"].get("app-keychain")
    if keychain is not None:
        lines.append(
            f"  (with the keychain lookup, reported separately: {fmt(keychain['median'], 2)}x)"
        )
    busy = result["others_cores_median"]
    lines.append(f"other processes used {busy:.2f} of {os.cpu_count()} cores (median per start)")
    return "\n".join(lines)


def profile(python: str, env: dict[str, str], workdir: Path, timeout_s: float) -> list[str]:
    """Write an import-time and a cProfile report of one ``app`` start; return their paths."""
    import pstats
    import subprocess

    importtime = workdir / "startup-importtime.txt"
    argv = probe_argv(python, "app")
    with importtime.open("w") as err:
        subprocess.run(
            [python, "-X", "importtime", *argv[1:]],
            env={**env, "STARTUP_PROBE_HARD_EXIT": "1"},
            stdout=subprocess.DEVNULL,
            stderr=err,
            timeout=timeout_s,
            check=False,
        )
    raw = workdir / "startup.prof"
    script = workdir / "startup_profile_entry.py"
    script.write_text(PROBE_CODE + "\n")
    subprocess.run(
        [python, "-m", "cProfile", "-o", str(raw), str(script), "app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout_s,
        check=False,
    )
    report = workdir / "startup-cprofile.txt"
    with report.open("w") as out:
        pstats.Stats(str(raw), stream=out).sort_stats("cumulative").print_stats(60)
    return [str(importtime), str(report)]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Start-up benchmark beside a bare Qt window.")
    parser.add_argument("--repeat", type=int, default=20, help="measured starts per variant")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench-out")
    parser.add_argument("--timeout", type=float, default=60.0, help="per start, seconds")
    parser.add_argument("--json", type=Path, help="also write the JSON line to this file")
    parser.add_argument("--profile", action="store_true", help="also profile one app start")
    parser.add_argument(
        "--baseline-root",
        type=Path,
        help="also start the chamelaion_desktop package found under this folder (e.g. "
        "`git archive <commit> chamelaion_desktop resources | tar -x -C DIR`) as the "
        "variants baseline and baseline-keychain: before/after in the same run",
    )
    default_python = REPO / ".venv" / "bin" / "python"
    parser.add_argument(
        "--python", default=str(default_python) if default_python.exists() else sys.executable
    )
    args = parser.parse_args(argv)
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(args.variants) - set(VARIANTS) - set(BASELINE_VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {sorted(unknown)}")
    if "bare" not in args.variants:
        args.variants.insert(0, "bare")  # the reference is always measured
    if args.baseline_root is not None:
        args.baseline_root = args.baseline_root.resolve()
        if not (args.baseline_root / "chamelaion_desktop" / "app.py").is_file():
            parser.error(f"no chamelaion_desktop/app.py under {args.baseline_root}")
        args.variants += [v for v in BASELINE_VARIANTS if v not in args.variants]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 1 if a start failed, else 0 (target met or not)."""
    args = _parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    become_subreaper()
    base_url = f"http://127.0.0.1:{closed_port()}/api"
    starts: list[Start] = []
    busy: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        envs = {
            v: child_env(v, args.workdir, Path(tmp), base_url, args.baseline_root)
            for v in args.variants
        }
        for variant in args.variants:  # warm-up: page cache, bytecode, the journal file
            print(f"warming up {variant}", file=sys.stderr, flush=True)
            measure_start(args.python, variant, 0, envs[variant], args.timeout)
        for index in range(1, args.repeat + 1):
            print(f"round {index}/{args.repeat}", file=sys.stderr, flush=True)
            for variant in args.variants:
                before = machine_busy_s()
                start = measure_start(args.python, variant, index, envs[variant], args.timeout)
                others = max(0.0, machine_busy_s() - before - start.cpu_s)
                busy.append(others / start.wall_s if start.wall_s > 0 else 0.0)
                starts.append(start)
        profiles = (
            profile(args.python, envs["app"], args.workdir, args.timeout)
            if (args.profile and "app" in envs)
            else []
        )
    summaries = {v: summarize([s for s in starts if s.variant == v]) for v in args.variants}
    bare = summaries["bare"]
    ratios = {
        v: {
            row: _ratio(_figure(summaries[v], "frame_s", row), _figure(bare, "frame_s", row))
            for row in ("median", "min")
        }
        for v in args.variants
        if v != "bare"
    }
    app_ratio = ratios.get("app", {}).get("median")
    result: dict[str, Any] = {
        "benchmark": "startup",
        "python": args.python,
        "qt_qpa_platform": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "others_cores_median": statistics.median(busy) if busy else 0.0,
        "summaries": summaries,
        "ratios": ratios,
        "target": {
            "what": "app first frame median / bare window first frame median",
            "ratio": app_ratio,
            "limit": MAX_RATIO,
            "pass": None if app_ratio is None else app_ratio <= MAX_RATIO,
        },
        "profiles": profiles,
        "ok": all(s.ok for s in starts),
        "starts": [asdict(s) for s in starts],
    }
    print(render(starts, summaries, result))
    for path in profiles:
        print(f"profile written: {path}")
    emit_json(result, args.json)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

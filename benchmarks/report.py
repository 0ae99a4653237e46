"""Summaries, the human table, ratios and targets for bench_upload.py.

Every figure is in seconds, CPU seconds or MiB (1 MiB = 1024 KiB of ``ru_maxrss``).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Targets for our client (see the module docstring of bench_upload.py).
MAX_GROWTH_MIB = 64.0
MAX_WALL_RATIO = 1.25


@dataclass
class RunResult:
    """One measured upload. ``wall_s``: the harness's fork to exit; ``upload_s``: the
    upload alone (runner's clock, or curl's ``time_total``); ``cpu_s``: user+sys of the
    process (``wait4``); ``upload_cpu_s``: CPU during the upload call (runners only);
    ``peak_rss_mib``: ``ru_maxrss``; ``growth_mib``: peak minus the resident set just before
    the upload; ``other_cpu_s``: CPU used meanwhile by processes other than this client and
    the sink (machine noise). ``whole``: every part arrived with its size and sha256."""

    client: str
    index: int
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    upload_s: float = 0.0
    cpu_s: float = 0.0
    user_s: float = 0.0
    sys_s: float = 0.0
    upload_cpu_s: float | None = None
    peak_rss_mib: float = 0.0
    baseline_rss_mib: float = 0.0
    growth_mib: float = 0.0
    hwm_mib: float | None = None
    whole: bool = False
    content_length: bool = False
    chunked: bool = False
    expect_continue: bool = False
    request_id: str | None = None
    sink_body_s: float | None = None
    sink_cpu_s: float | None = None
    other_cpu_s: float = 0.0
    parts: list[dict[str, Any]] = field(default_factory=list)
    returncode: int = 0
    stderr_tail: str = ""


_METRICS = ("wall_s", "upload_s", "cpu_s", "upload_cpu_s", "peak_rss_mib", "growth_mib")


def summarize(runs: Sequence[RunResult]) -> dict[str, Any]:
    """Summarize one client's runs: ``best`` (the run with the smallest ``upload_s``),
    ``median`` (each metric's median over the good runs), ``worst_growth_mib``, counts,
    and whether every run arrived whole and with a Content-Length."""
    good = [run for run in runs if run.ok]
    summary: dict[str, Any] = {
        "runs": len(runs),
        "ok_runs": len(good),
        "all_whole": bool(runs) and all(run.whole for run in runs),
        "all_content_length": bool(runs)
        and all(run.content_length and not run.chunked for run in runs),
        "best": None,
        "median": None,
        "worst_growth_mib": max((run.growth_mib for run in good), default=None),
    }
    if good:
        best = min(good, key=lambda run: run.upload_s)
        summary["best"] = {name: getattr(best, name) for name in _METRICS}
        summary["best"]["index"] = best.index
        median: dict[str, float | None] = {}
        for name in _METRICS:
            values = [getattr(run, name) for run in good if getattr(run, name) is not None]
            median[name] = statistics.median(values) if values else None
        summary["median"] = median
    return summary


def _ratio(ours: float | None, curl: float | None) -> float | None:
    if ours is None or curl is None or curl <= 0:
        return None
    return ours / curl


def ratios(summaries: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Ours over curl, for the best and the median rows. ``upload_cpu`` compares the CPU of
    our upload call with curl's whole process (curl's start-up is a few milliseconds)."""
    ours, curl = summaries.get("ours"), summaries.get("curl")
    out: dict[str, float | None] = {}
    for row in ("best", "median"):
        o = (ours or {}).get(row) or {}
        c = (curl or {}).get(row) or {}
        out[f"{row}_wall"] = _ratio(o.get("wall_s"), c.get("wall_s"))
        out[f"{row}_upload"] = _ratio(o.get("upload_s"), c.get("upload_s"))
        out[f"{row}_cpu"] = _ratio(o.get("cpu_s"), c.get("cpu_s"))
        out[f"{row}_upload_cpu"] = _ratio(o.get("upload_cpu_s"), c.get("cpu_s"))
    return out


def targets(summaries: dict[str, dict[str, Any]], r: dict[str, float | None]) -> dict[str, Any]:
    """PASS/FAIL of our targets: peak memory growth during the upload (worst run) below
    ``MAX_GROWTH_MIB``; upload wall time (best runs) within ``MAX_WALL_RATIO`` of curl's.
    ``None`` as a verdict means it could not be measured (a client missing or failed)."""
    growth = (summaries.get("ours") or {}).get("worst_growth_mib")
    wall = r.get("best_upload")
    return {
        "growth": {
            "value_mib": growth,
            "limit_mib": MAX_GROWTH_MIB,
            "pass": None if growth is None else growth < MAX_GROWTH_MIB,
        },
        "wall": {
            "ratio": wall,
            "limit": MAX_WALL_RATIO,
            "pass": None if wall is None else wall <= MAX_WALL_RATIO,
        },
    }


def others_cores(runs: Sequence[RunResult]) -> float:
    """Median over runs of the CPU other processes used per second of run: 0 on a quiet
    machine, up to the number of cores when other work saturates it."""
    loads = [run.other_cpu_s / run.wall_s for run in runs if run.wall_s > 0]
    return statistics.median(loads) if loads else 0.0


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def render(
    runs: Sequence[RunResult],
    summaries: dict[str, dict[str, Any]],
    r: dict[str, float | None],
    t: dict[str, Any],
    cpus: int,
) -> str:
    """The human report: per-run lines, the summary table, ratios and targets."""
    lines = ["runs (in order):"]
    busy = others_cores(runs)
    for run in runs:
        status = "ok" if run.ok else "FAILED: " + "; ".join(run.problems)
        lines.append(
            f"  {run.client:<5} #{run.index}  wall {_fmt(run.wall_s)} s  upload "
            f"{_fmt(run.upload_s)} s  cpu {_fmt(run.cpu_s)} s  peak {_fmt(run.peak_rss_mib, 1)} "
            f"MiB  growth {_fmt(run.growth_mib, 1)} MiB  sink {_fmt(run.sink_body_s)} s  "
            f"others' cpu {_fmt(run.other_cpu_s)} s  {status}"
        )
    lines.append(f"other processes used {busy:.2f} of {cpus} cores during the runs (median)")
    if busy > 0.25 * cpus:
        lines.append("WARNING: the machine was busy; times and ratios are contention-bound")
    header = (
        f"{'client':<6} {'row':<7} {'wall s':>7} {'upload s':>9} {'CPU s':>7} "
        f"{'upl CPU s':>9} {'peak MiB':>9} {'growth MiB':>10} {'whole':>6} {'C-Length':>8}"
    )
    lines += ["", header, "-" * len(header)]
    for client, summary in summaries.items():
        whole = "yes" if summary["all_whole"] else "NO"
        length = "yes" if summary["all_content_length"] else "no"
        for row in ("best", "median"):
            figures = summary[row]
            if figures is None:
                lines.append(f"{client:<6} {row:<7} {'(no good run)':>45} {whole:>6} {length:>8}")
                continue
            lines.append(
                f"{client:<6} {row:<7} {_fmt(figures['wall_s']):>7} "
                f"{_fmt(figures['upload_s']):>9} {_fmt(figures['cpu_s']):>7} "
                f"{_fmt(figures['upload_cpu_s']):>9} {_fmt(figures['peak_rss_mib'], 1):>9} "
                f"{_fmt(figures['growth_mib'], 1):>10} {whole:>6} {length:>8}"
            )
    lines += [
        "",
        "ours / curl        best   median",
        f"  upload wall     {_fmt(r['best_upload']):>6} {_fmt(r['median_upload']):>8}",
        f"  process wall    {_fmt(r['best_wall']):>6} {_fmt(r['median_wall']):>8}",
        f"  process CPU     {_fmt(r['best_cpu']):>6} {_fmt(r['median_cpu']):>8}",
        f"  upload CPU      {_fmt(r['best_upload_cpu']):>6} {_fmt(r['median_upload_cpu']):>8}"
        "   (our upload call vs curl's whole process)",
        "",
        "targets:",
        f"  ours peak memory growth {_fmt(t['growth']['value_mib'], 1)} MiB (worst run) "
        f"< {MAX_GROWTH_MIB:.0f} MiB: {_verdict(t['growth']['pass'])}",
        f"  ours upload wall {_fmt(r['best_upload'])}x curl's (best runs) "
        f"<= {MAX_WALL_RATIO}x: {_verdict(t['wall']['pass'])}",
    ]
    return "\n".join(lines)


def emit_json(result: dict[str, Any], path: Path | None = None) -> None:
    """Print ``result`` as the one JSON line that ends every benchmark's output (``make
    bench`` collects it), and write the same line to ``path`` when one is given."""
    line = json.dumps(result, separators=(",", ":"))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(line + "\n")
    print(line)

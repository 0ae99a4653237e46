"""The queue at scale: the real app over a sandbox holding 10,000 jobs.

Usage: ``.venv/bin/python benchmarks/bench_queue.py [--jobs 10000] [--active 200]
[--poll-seconds 60] [--first-rows-runs 3] [--refreshes 50] [--json PATH]``

Method (each part runs in a fresh child process of this script, so one part's imports,
caches and garbage never weigh on another; the sandboxes run in processes of their own,
``python -m chamelaion_desktop.sandbox --seed N --seed-active M -v``, and log every
request, which is how requests are counted):

- (a) First rows: the app (``app.run_app``) starts against a sandbox holding ``--jobs``
  finished jobs. From the ``shown`` callback to the jobs model holding rows, and to the
  end of the first paint of the table with rows (a wrapper around
  ``JobsTableView.paintEvent``); also from the process's start (the kernel's start time).
  ``--first-rows-runs`` runs, each a new process; target: shown -> painted < 300 ms.
- (b) Refresh cost: in the app, the model is loaded with all ``--jobs`` rows fetched
  through the app's own client (``session.client.list_requests``, 100 per page, as
  ``QueueService.load_more`` does), the table visible and sorted by Created (newest
  first). Then ``--refreshes`` times: 100 of the visible rows change (processing <->
  completed, new finish times) and the GUI thread's time is taken for
  ``model.upsert_requests(page)`` (with the proxy re-sort and view slots it triggers
  synchronously), plus the view's delayed layout and a synchronous repaint of the
  viewport. The same page also goes through ``QueueService.pageLoaded`` (what the app
  does per poll: the coordinator upserts, updates the total and records finished jobs).
  Median and p95; target: the p95 of upsert + layout + paint < 5 ms. Polling is slowed
  to one call an hour in this part so the app's own refreshes do not interleave.
- (c) Memory, in the same child: ``tracemalloc`` for the ``LipsyncRequest`` objects of
  the 10,000 fetched jobs, and for the model's own structures while they are upserted
  into ``JobsTableModel`` (page by page, view attached), and the RSS delta of that upsert
  (which includes Qt's proxy mapping). Bytes per row. No target.
- (d) Polling: the app runs ``--poll-seconds`` against a sandbox with ``--jobs`` finished
  and ``--active`` running jobs (queue delay 30 s, processing 90 s, so they move through
  their statuses during the run). The sandbox's log gives the requests per minute by
  endpoint and the 429s. Targets: zero 429s, generation requests < 60/min (none: the app
  only watches), list calls <= 22/min (one per tick at the 3 s active interval; 20/min
  plus the time each call takes), and no per-job GETs.

The last line of stdout is one JSON object with every figure and the targets' PASS/FAIL.
Exit status 0 even when a target is missed; 1 when the benchmark itself failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from report import emit_json
from ui_harness import (
    API_KEY,
    SandboxProcess,
    count_requests,
    percentile,
    process_age_s,
    rss_kib,
    run_child,
    run_real_app,
    until,
)

SCRIPT = Path(__file__).resolve()
FIRST_ROWS_TARGET_MS = 300.0
REFRESH_TARGET_MS = 5.0
MAX_LIST_PER_MINUTE = 22.0
MAX_GENERATION_PER_MINUTE = 60.0
CHANGED_ROWS = 100
PAGE = 100


# -- children -------------------------------------------------------------------------------


def child_first_rows(base_url: str, root: Path) -> dict[str, Any]:
    """(a): shown -> rows in the model -> the table painted with rows."""
    from chamelaion_desktop.ui import jobs_view

    marks: dict[str, float] = {}
    original = jobs_view.JobsTableView.paintEvent

    def paint(self: Any, event: Any) -> None:
        original(self, event)
        model = self.model()
        if "shown" in marks and "painted" not in marks and model and model.rowCount() > 0:
            marks["painted"] = time.perf_counter()
            marks["painted_age"] = process_age_s()

    jobs_view.JobsTableView.paintEvent = paint  # type: ignore[method-assign]

    async def driver(window: Any) -> dict[str, Any]:
        marks["shown"] = time.perf_counter()
        shown_age = process_age_s()
        window.model.rowsInserted.connect(lambda *_: marks.setdefault("rows", time.perf_counter()))
        await until(lambda: "painted" in marks, timeout=30)
        return {
            "shown_to_rows_ms": (marks["rows"] - marks["shown"]) * 1000,
            "shown_to_painted_ms": (marks["painted"] - marks["shown"]) * 1000,
            "process_start_to_shown_ms": shown_age * 1000,
            "process_start_to_painted_ms": marks["painted_age"] * 1000,
            "rows": window.model.rowCount(),
        }

    return run_real_app(base_url, root, driver)


def _variant(request: Any, iteration: int) -> Any:
    """``request`` as processing (odd iterations) or completed with a finish time that
    differs every time, so each refresh changes every one of the rows it carries."""
    import dataclasses
    from datetime import timedelta

    started = request.started_at or request.created_at
    if iteration % 2:
        return dataclasses.replace(request, status="processing", finished_at=None)
    return dataclasses.replace(
        request, status="completed", finished_at=started + timedelta(seconds=30 + iteration)
    )


def child_refresh(base_url: str, root: Path, jobs: int, refreshes: int) -> dict[str, Any]:
    """(b) and (c)."""
    import gc
    import tracemalloc

    from chamelaion_desktop.core.polling import PollPolicy

    hour = 3600.0

    async def driver(window: Any) -> dict[str, Any]:
        coordinator = window.coordinator
        queue = coordinator._queue  # the app's QueueService (pageLoaded is its public signal)
        client = window.session.client
        table = window.jobs.table
        model = window.model
        await until(lambda: model.rowCount() > 0, timeout=30)  # the app's first page
        gc.collect()
        tracemalloc.start()
        before_fetch = tracemalloc.get_traced_memory()[0]
        pages = []
        fetch_started = time.perf_counter()
        for offset in range(0, jobs, PAGE):
            page = await client.list_requests(limit=PAGE, offset=offset)
            pages.append(page.data)
        fetch_s = time.perf_counter() - fetch_started
        gc.collect()
        requests_bytes = tracemalloc.get_traced_memory()[0] - before_fetch
        rss_before = rss_kib()
        traced_before = tracemalloc.get_traced_memory()[0]
        rows_before = model.rowCount()
        for data in pages:
            model.upsert_requests(data)
        gc.collect()
        model_bytes = tracemalloc.get_traced_memory()[0] - traced_before
        tracemalloc.stop()
        rss_after = rss_kib()
        added = model.rowCount() - rows_before
        assert model.rowCount() == jobs, (model.rowCount(), jobs)
        await _settle(table)

        top = [window.jobs.proxy.request_at(row) for row in range(CHANGED_ROWS)]
        assert all(request is not None for request in top)
        apply_ms, layout_ms, paint_ms, total_ms, signal_ms = [], [], [], [], []
        for iteration in range(refreshes):
            page = [_variant(request, 2 * iteration) for request in top]
            t0 = time.perf_counter()
            changed = model.upsert_requests(page)
            t1 = time.perf_counter()
            table.executeDelayedItemsLayout()
            t2 = time.perf_counter()
            table.viewport().repaint()
            t3 = time.perf_counter()
            assert changed == CHANGED_ROWS, changed
            apply_ms.append((t1 - t0) * 1000)
            layout_ms.append((t2 - t1) * 1000)
            paint_ms.append((t3 - t2) * 1000)
            total_ms.append((t3 - t0) * 1000)
            await _settle(table)
            # The app's own path for the same kind of refresh: QueueService.pageLoaded.
            page = [_variant(request, 2 * iteration + 1) for request in top]
            t0 = time.perf_counter()
            queue.pageLoaded.emit(page, 0, queue.total or jobs)
            table.executeDelayedItemsLayout()
            table.viewport().repaint()
            signal_ms.append((time.perf_counter() - t0) * 1000)
            await _settle(table)
        sort_ms = await _header_sorts(table)
        reference_ms = await _bare_table_repaint(table, refreshes)
        return {
            "jobs": jobs,
            "source": "the sandbox's jobs through the app's client, 100 per page",
            "reference_paint_ms": _stats(reference_ms),
            "sort_ms": sort_ms,
            "fetch_s": fetch_s,
            "visible_rows": table.rowAt(table.viewport().height() - 1) + 1,
            "refresh": {
                "runs": refreshes,
                "changed_rows": CHANGED_ROWS,
                "upsert_ms": _stats(apply_ms),
                "layout_ms": _stats(layout_ms),
                "paint_ms": _stats(paint_ms),
                "total_ms": _stats(total_ms),
                "app_path_ms": _stats(signal_ms),
            },
            "memory": {
                "rows": added,
                "requests_bytes": requests_bytes,
                "model_bytes": model_bytes,
                "model_rss_kib": rss_after - rss_before,
                "requests_bytes_per_row": requests_bytes / jobs,
                "model_bytes_per_row": model_bytes / max(1, added),
                "model_rss_bytes_per_row": (rss_after - rss_before) * 1024 / max(1, added),
            },
        }

    policy = PollPolicy(active_interval=hour, idle_interval=hour, max_backoff=hour)
    return run_real_app(base_url, root, driver, poll_policy=policy)


#: What ``_header_sorts`` clicks, in turn: (column, descending); the last is the default.
SORTS = ((1, False), (0, False), (5, True), (3, False), (2, True))


async def _header_sorts(table: Any) -> dict[str, float]:
    """GUI-thread time of sorting every row by a header click (``sortByColumn``, as the
    header calls it), through the next repaint, in ms; key ``column:order``."""
    from PySide6.QtCore import Qt

    times = {}
    for column, descending in SORTS:
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        began = time.perf_counter()
        table.sortByColumn(column, order)
        table.executeDelayedItemsLayout()
        table.viewport().repaint()
        times[f"{column}:{'desc' if descending else 'asc'}"] = (time.perf_counter() - began) * 1000
        await _settle(table)
    return times


async def _bare_table_repaint(table: Any, runs: int) -> list[float]:
    """The reference: repaints of a plain ``QTableView`` over a ``QStandardItemModel`` (no
    Python in the paint) showing the same texts, at the same size, in the same process."""
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    shown = table.model()
    rows = table.rowAt(table.viewport().height() - 1) + 2
    model = QStandardItemModel(shown.rowCount(), shown.columnCount())
    for row in range(rows):
        for column in range(shown.columnCount()):
            index = shown.index(row, column)
            item = QStandardItem(str(index.data() or ""))
            icon = index.data(1)  # DecorationRole
            if icon is not None:
                item.setIcon(icon)
            model.setItem(row, column, item)
    bare = QTableView()
    bare.setModel(model)
    bare.verticalHeader().hide()
    bare.verticalHeader().setDefaultSectionSize(table.verticalHeader().defaultSectionSize())
    bare.setShowGrid(False)
    bare.setAlternatingRowColors(True)
    bare.setWordWrap(False)
    header = table.horizontalHeader()
    for column in range(shown.columnCount()):
        bare.setColumnWidth(column, header.sectionSize(column))
    bare.resize(table.size())
    bare.show()
    await _settle(table)  # shown and laid out before the first measured paint
    bare.viewport().repaint()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        bare.viewport().repaint()
        times.append((time.perf_counter() - began) * 1000)
    bare.hide()
    bare.deleteLater()
    return times


async def _settle(table: Any) -> None:
    import asyncio

    await asyncio.sleep(0.02)  # let posted events (updates, timers) run between samples


def _stats(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "median": round(statistics.median(values), 3) if values else None,
        "p95": round(percentile(values, 95) or 0.0, 3) if values else None,
        "max": round(max(values), 3) if values else None,
    }


def child_polling(base_url: str, root: Path, seconds: float) -> dict[str, Any]:
    """(d): run the app for ``seconds`` while jobs move; report its own counters too."""

    async def driver(window: Any) -> dict[str, Any]:
        import asyncio

        queue = window.coordinator._queue
        started = time.time()
        await asyncio.sleep(seconds)
        ended = time.time()
        return {
            "started": started,
            "ended": ended,
            "app_stats": queue.stats,
            "rows": window.model.rowCount(),
        }

    return run_real_app(base_url, root, driver)


# -- the parent -----------------------------------------------------------------------------


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Every part; returns the figures."""
    result: dict[str, Any] = {"benchmark": "queue", "jobs": args.jobs, "active": args.active}
    print(f"seeding a sandbox with {args.jobs} jobs", file=sys.stderr, flush=True)
    with SandboxProcess(work / "sandbox-history", seed=args.jobs) as sandbox:
        result["seed_s"] = sandbox.seed_seconds()
        result["sandbox_start_s"] = sandbox.startup_s
        runs = []
        for index in range(args.first_rows_runs):
            print(f"(a) first rows, run {index + 1}", file=sys.stderr, flush=True)
            child = ["--child", "first-rows", "--base-url", sandbox.base_url]
            child += ["--root", str(work / f"app-a{index}")]
            runs.append(run_child(SCRIPT, child, timeout_s=120))
        result["first_rows"] = {
            "runs": runs,
            "median_shown_to_painted_ms": statistics.median(
                run["shown_to_painted_ms"] for run in runs
            ),
            "median_shown_to_rows_ms": statistics.median(run["shown_to_rows_ms"] for run in runs),
            "median_process_start_to_painted_ms": statistics.median(
                run["process_start_to_painted_ms"] for run in runs
            ),
        }
        print("(b, c) refresh cost and memory with 10,000 rows", file=sys.stderr, flush=True)
        result["refresh_memory"] = run_child(
            SCRIPT,
            ["--child", "refresh", "--base-url", sandbox.base_url, "--root", str(work / "app-b"),
             "--jobs", str(args.jobs), "--refreshes", str(args.refreshes)],
            timeout_s=600,
        )  # fmt: skip
    print(
        f"(d) polling {args.poll_seconds:.0f} s with {args.active} active jobs",
        file=sys.stderr,
        flush=True,
    )
    with SandboxProcess(
        work / "sandbox-active",
        seed=args.jobs,
        seed_active=args.active,
        queue_delay=30.0,
        processing_time=90.0,
    ) as sandbox:
        polled = run_child(
            SCRIPT,
            ["--child", "polling", "--base-url", sandbox.base_url, "--root", str(work / "app-d"),
             "--seconds", str(args.poll_seconds)],
            timeout_s=args.poll_seconds + 120,
        )  # fmt: skip
        seconds = polled["ended"] - polled["started"]
        logged = sandbox.requests(polled["started"], polled["ended"])
        counts = count_requests(logged, seconds)
        unfinished_after = sum(
            1
            for job in _all_jobs(sandbox.base_url, args.jobs + args.active)
            if job["status"] in ("queued", "processing")
        )
    result["polling"] = {**counts, "app_stats": polled["app_stats"], "rows": polled["rows"],
                         "unfinished_at_end": unfinished_after}  # fmt: skip
    result["targets"] = _targets(result)
    return result


def _all_jobs(base_url: str, limit: int) -> list[dict[str, Any]]:
    import httpx

    jobs: list[dict[str, Any]] = []
    with httpx.Client(timeout=30, headers={"x-api-key": API_KEY}) as client:
        for offset in range(0, min(limit, 400), 100):  # the active ones are the newest
            body = client.get(
                f"{base_url}/v1/lipsync/requests", params={"limit": 100, "offset": offset}
            ).json()
            jobs.extend(body["data"])
    return jobs


def _targets(result: dict[str, Any]) -> dict[str, Any]:
    first = result["first_rows"]["median_shown_to_painted_ms"]
    refresh = result["refresh_memory"]["refresh"]["upsert_ms"]["p95"]
    with_paint = result["refresh_memory"]["refresh"]["total_ms"]["p95"]
    polling = result["polling"]
    per_minute = polling["per_minute"]
    listed = per_minute.get("list", 0.0)
    generation = per_minute.get("generate", 0.0)
    gets = polling["by_endpoint"].get("get", 0)
    return {
        "first_rows_ms": {"value": first, "limit": FIRST_ROWS_TARGET_MS,
                          "pass": first < FIRST_ROWS_TARGET_MS},
        "refresh_p95_ms": {"value": refresh, "limit": REFRESH_TARGET_MS,
                           "pass": refresh < REFRESH_TARGET_MS},
        "refresh_with_paint_p95_ms": {"value": with_paint, "limit": REFRESH_TARGET_MS,
                                      "pass": with_paint < REFRESH_TARGET_MS},
        "status_429": {"value": polling["status_429"], "limit": 0,
                       "pass": polling["status_429"] == 0},
        "generation_per_minute": {"value": generation, "limit": MAX_GENERATION_PER_MINUTE,
                                  "pass": generation < MAX_GENERATION_PER_MINUTE},
        "list_per_minute": {"value": listed, "limit": MAX_LIST_PER_MINUTE,
                            "pass": listed <= MAX_LIST_PER_MINUTE},
        "per_job_gets": {"value": gets, "limit": 0, "pass": gets == 0},
    }  # fmt: skip


def render(result: dict[str, Any]) -> str:
    """The human report."""
    first = result["first_rows"]
    refresh = result["refresh_memory"]["refresh"]
    memory = result["refresh_memory"]["memory"]
    polling = result["polling"]
    targets = result["targets"]
    lines = [
        f"sandbox: {result['jobs']} jobs seeded in {_fmt(result['seed_s'], 2)} s "
        f"(process up and listening in {_fmt(result['sandbox_start_s'], 2)} s)",
        "",
        "(a) first page of rows after the window is shown (each run a new process)",
        f"  {'run':<4} {'shown->rows ms':>15} {'shown->painted ms':>18} "
        f"{'start->shown ms':>16} {'start->painted ms':>18}",
    ]
    for index, run in enumerate(first["runs"], start=1):
        lines.append(
            f"  {index:<4} {_fmt(run['shown_to_rows_ms']):>15} "
            f"{_fmt(run['shown_to_painted_ms']):>18} {_fmt(run['process_start_to_shown_ms']):>16} "
            f"{_fmt(run['process_start_to_painted_ms']):>18}"
        )
    lines += [
        f"  median shown->painted {_fmt(first['median_shown_to_painted_ms'])} ms "
        f"< {FIRST_ROWS_TARGET_MS:.0f} ms: {_verdict(targets['first_rows_ms']['pass'])}",
        "",
        f"(b) GUI-thread time of a refresh changing {refresh['changed_rows']} visible rows, "
        f"{result['jobs']} rows loaded, sorted by Created ({refresh['runs']} runs)",
        f"  {'step':<38} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}",
    ]
    for name, key in (
        ("model.upsert_requests (+ proxy, view)", "upsert_ms"),
        ("view delayed layout", "layout_ms"),
        ("viewport repaint", "paint_ms"),
        ("total", "total_ms"),
        ("app path: pageLoaded -> paint", "app_path_ms"),
    ):
        figures = refresh[key]
        lines.append(
            f"  {name:<38} {_fmt(figures['median'], 2):>10} {_fmt(figures['p95'], 2):>8} "
            f"{_fmt(figures['max'], 2):>8}"
        )
    reference = result["refresh_memory"]["reference_paint_ms"]
    paint = refresh["paint_ms"]["median"]
    lines += [
        f"  {'reference: plain QTableView repaint':<38} {_fmt(reference['median'], 2):>10} "
        f"{_fmt(reference['p95'], 2):>8} {_fmt(reference['max'], 2):>8}   "
        f"(ours {paint / reference['median']:.1f}x)",
        f"  upsert p95 < {REFRESH_TARGET_MS:.0f} ms: "
        f"{_verdict(targets['refresh_p95_ms']['pass'])}; "
        f"with the repaint (total p95) < {REFRESH_TARGET_MS:.0f} ms: "
        f"{_verdict(targets['refresh_with_paint_p95_ms']['pass'])}",
        "  a header click sorting every row (through the repaint), ms: "
        + ", ".join(
            f"column {key} {value:.0f}"
            for key, value in result["refresh_memory"]["sort_ms"].items()
        ),
        "",
        f"(c) memory of {memory['rows']} rows ({result['refresh_memory']['source']})",
        f"  LipsyncRequest objects (tracemalloc)  {memory['requests_bytes'] / 2**20:7.2f} MiB  "
        f"{memory['requests_bytes_per_row']:6.0f} B/row",
        f"  JobsTableModel structures (tracemalloc) {memory['model_bytes'] / 2**20:5.2f} MiB  "
        f"{memory['model_bytes_per_row']:6.0f} B/row",
        f"  RSS delta of loading the model (+Qt)   {memory['model_rss_kib'] / 1024:5.2f} MiB  "
        f"{memory['model_rss_bytes_per_row']:6.0f} B/row",
        "",
        f"(d) requests while {result['active']} jobs are active, over {polling['seconds']:.0f} s "
        f"({polling['unfinished_at_end']} still unfinished at the end)",
    ]
    for name, count in sorted(polling["by_endpoint"].items()):
        lines.append(f"  {name:<10} {count:5d}  {polling['per_minute'][name]:6.1f}/min")
    app = polling["app_stats"]
    lines += [
        f"  429 answers: {polling['status_429']}; app's counters: {app['requests']} list calls, "
        f"{app['ticks']} ticks, {app['rate_limited']} rate-limited, {app['errors']} errors",
        "",
        "targets:",
    ]
    for name, target in targets.items():
        lines.append(
            f"  {name:<22} {target['value']!s:>8} (limit {target['limit']}): "
            f"{_verdict(target['pass'])}"
        )
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=200)
    parser.add_argument("--poll-seconds", type=float, default=60.0)
    parser.add_argument("--first-rows-runs", type=int, default=3)
    parser.add_argument("--refreshes", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the JSON line here")
    parser.add_argument("--child", choices=("first-rows", "refresh", "polling"), help="internal")
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60.0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or one child part); 0 unless the benchmark itself failed."""
    args = _parse_args(argv)
    if args.child:
        if args.child == "first-rows":
            out = child_first_rows(args.base_url, args.root)
        elif args.child == "refresh":
            out = child_refresh(args.base_url, args.root, args.jobs, args.refreshes)
        else:
            out = child_polling(args.base_url, args.root, args.seconds)
        print(json.dumps(out))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        try:
            result = run(args, Path(tmp))
        except Exception as exc:
            print(f"bench_queue failed: {exc}", file=sys.stderr)
            return 1
    print(render(result))
    emit_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

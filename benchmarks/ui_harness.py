"""Shared pieces of bench_queue.py and bench_ui.py: a seeded sandbox in its own process with
its request log, the real app driven through ``app.run_app``, a GUI-thread heartbeat and a
stall sampler.

Everything that imports Qt does it inside functions, so a parent process that only starts
sandboxes and children never loads Qt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: The token the benchmark sandboxes accept (it only ever guards 127.0.0.1).
API_KEY = "bench-key"

_LINE = re.compile(r"^Chamelaion sandbox listening on (http://\S+/api)$")
# basicConfig's format in sandbox/__main__.py, and the server middleware's message.
_REQUEST = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) DEBUG chamelaion_desktop\.sandbox\.server: "
    r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>[\d.]+) ms$"
)


def qt_environment() -> None:
    """Environment for a headless app run: offscreen Qt, no keychain, quiet multimedia."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    # The key comes from CHAMELAION_API_KEY; the keychain must not be asked (or prompt).
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


def process_age_s() -> float:
    """Seconds since this process started (the kernel's start time; 10 ms resolution)."""
    with open("/proc/self/stat") as stat:
        after_name = stat.read().rpartition(")")[2].split()
    start_ticks = int(after_name[19])  # field 22 of the whole line
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def last_json(output: str) -> Any:
    """The last stdout line that parses as JSON (a child's result; a profiler wrapping the
    child may print after it).

    Raises:
        ValueError: no line is JSON.
    """
    for line in reversed(output.strip().splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    raise ValueError("no JSON line in the output")


# -- the sandbox in its own process ---------------------------------------------------------


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the sandbox logged it: wall time (Unix s), method, path, status, ms."""

    when: float
    method: str
    path: str
    status: int
    ms: float


def endpoint(method: str, path: str) -> str:
    """A short name for the API endpoint of ``path`` (API.md "Endpoints")."""
    if path.startswith("/api/v1/lipsync/generate"):
        return "generate"
    if path == "/api/v1/lipsync/requests":
        return "list"
    if path.startswith("/api/v1/lipsync/requests/"):
        return "get"
    if path.startswith("/files/"):
        return "download"
    if path == "/api/v1/users/me":
        return "users/me"
    if path == "/api/health":
        return "health"
    return f"{method} {path}"


class SandboxProcess:
    """``python -m chamelaion_desktop.sandbox`` seeded, on a free port, logging every request.

    Args:
        data_dir: its data folder.
        seed, seed_active: ``--seed`` / ``--seed-active``.
        queue_delay, processing_time: seconds (active jobs finish over their sum).
        extra: more command-line arguments.
        python: the interpreter to run it with.
        api_key: the ``--api-key`` argument (``KEY`` or ``KEY=Name``).
        log_requests: log every request (``-v``) for ``requests()``; off where the
            logging itself would weigh on what is measured.

    Its CPU (SQLite, receiving uploads) stays out of the app's process and GIL. The request
    log (``-v``) goes to ``data_dir/../sandbox-<port>.log``; ``requests()`` parses it.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        seed: int = 0,
        seed_active: int = 0,
        queue_delay: float = 1.0,
        processing_time: float = 3.0,
        extra: Sequence[str] = (),
        python: str = sys.executable,
        api_key: str = API_KEY,
        log_requests: bool = True,
    ) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        argv = [
            python,
            "-m",
            "chamelaion_desktop.sandbox",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--api-key",
            api_key,
            "--queue-delay",
            str(queue_delay),
            "--processing-time",
            str(processing_time),
            "--seed",
            str(seed),
            "--seed-active",
            str(seed_active),
            *(["-v"] if log_requests else []),
            *extra,
        ]
        started = time.perf_counter()
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=REPO
        )
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            ready = selector.select(120)
        line = self.proc.stdout.readline().strip() if ready else ""
        match = _LINE.match(line)
        if not match:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r}, see {self.log_path}")
        self.base_url = match.group(1)
        #: Seconds from launch to listening with the seeded jobs stored.
        self.startup_s = time.perf_counter() - started

    def requests(self, since: float = 0.0, until: float = math.inf) -> list[LoggedRequest]:
        """Requests logged between ``since`` and ``until`` (Unix seconds, wall clock)."""
        self._log.flush()
        found = []
        with self.log_path.open() as log:
            for line in log:
                match = _REQUEST.match(line.rstrip("\n"))
                if not match:
                    continue
                when = datetime.strptime(match["when"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                if since <= when <= until:
                    found.append(
                        LoggedRequest(
                            when,
                            match["method"],
                            match["path"],
                            int(match["status"]),
                            float(match["ms"]),
                        )
                    )
        return found

    def seed_seconds(self) -> float | None:
        """How long seeding took, from the sandbox's own log line, or None."""
        with self.log_path.open() as log:
            for line in log:
                found = re.search(r"seeded \d+ finished and \d+ active jobs in ([\d.]+) s", line)
                if found:
                    return float(found.group(1))
        return None

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the sandbox process has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        """The sandbox's peak resident set so far (``VmHWM``), MiB."""
        from measure import read_status_kib

        return read_status_kib("VmHWM", self.proc.pid) / 1024

    def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL after 20 s); the exit status (0: a clean stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def count_requests(requests: Sequence[LoggedRequest], seconds: float) -> dict[str, Any]:
    """Requests per endpoint and per minute over ``seconds``, and how many were 429s."""
    by_endpoint = Counter(endpoint(r.method, r.path) for r in requests)
    per_minute = {name: round(n * 60.0 / seconds, 2) for name, n in by_endpoint.items()}
    return {
        "seconds": round(seconds, 2),
        "total": len(requests),
        "by_endpoint": dict(by_endpoint),
        "per_minute": per_minute,
        "status_429": sum(1 for r in requests if r.status == 429),
        "status_5xx": sum(1 for r in requests if r.status >= 500),
        "median_server_ms": round(percentile([r.ms for r in requests], 50) or 0.0, 2),
    }


def run_child(
    script: Path, args: Sequence[str], timeout_s: float, prefix: Sequence[str] = ()
) -> dict[str, Any]:
    """Run ``script`` with ``args`` in a fresh Python and return its last-line JSON.
    ``prefix`` goes before the interpreter (e.g. ``py-spy record ... --``).

    Raises:
        RuntimeError: it failed or printed no JSON (its stderr tail is in the message).
    """
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    result = subprocess.run(
        [*prefix, sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=REPO,
        env=env,
        check=False,
    )
    try:
        data: dict[str, Any] = last_json(result.stdout)
    except ValueError:
        data = {}
    if result.returncode != 0 or not data:
        tail = "\n".join(result.stderr.strip().splitlines()[-25:])
        raise RuntimeError(f"{script.name} {' '.join(args)} failed ({result.returncode}):\n{tail}")
    return data


# -- the GUI-thread heartbeat and the stall sampler ------------------------------------------


class Heartbeat:
    """A 10 ms single-shot ``PreciseTimer`` re-armed at every tick on the GUI thread;
    ``lateness_ms`` holds how late each tick fired (fire time minus arm time plus interval).

    Re-arming per tick (instead of a repeating timer) keeps one late tick from making the
    next one early, so every value is a delay the event loop really imposed.
    """

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval_s = interval_ms / 1000
        self.lateness_ms: list[float] = []
        #: When each tick was due, in seconds since ``start``.
        self.due_s: list[float] = []
        #: (seconds since start, lateness ms) of every tick more than 30 ms late.
        self.late: list[tuple[float, float]] = []
        self.started = 0.0
        self.due = math.inf  # perf_counter when the pending tick is due
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._running = False

    def start(self) -> None:
        self._running = True
        self.started = time.perf_counter()
        self.due = self.started + self.interval_s
        self._timer.start()

    def stop(self) -> None:
        self._running = False
        self._timer.stop()
        self.due = math.inf

    def _tick(self) -> None:
        now = time.perf_counter()
        late = max(0.0, (now - self.due) * 1000)
        self.lateness_ms.append(late)
        self.due_s.append(self.due - self.started)
        if late > 30:
            self.late.append((round(self.due - self.started, 3), round(late, 1)))
        if self._running:
            self.due = time.perf_counter() + self.interval_s
            self._timer.start()

    def summary(self, after_s: float = 0.0) -> dict[str, Any]:
        """Ticks, p50/p99/max lateness (ms) and counts over 16 and 50 ms; only ticks due
        ``after_s`` seconds or more after ``start`` when given."""
        values = [v for v, due in zip(self.lateness_ms, self.due_s, strict=True) if due >= after_s]
        return {
            "ticks": len(values),
            "p50_ms": _round(percentile(values, 50)),
            "p99_ms": _round(percentile(values, 99)),
            "max_ms": _round(max(values, default=None)),
            "over_16ms": sum(1 for v in values if v > 16),
            "over_50ms": sum(1 for v in values if v > 50),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class StallSampler:
    """A thread that, while a heartbeat tick is overdue by more than ``threshold_ms``,
    samples the GUI thread's Python stack (``sys._current_frames``) every ``period_ms``.

    ``report()`` ranks the sampled stacks by their innermost frames of interest (the app,
    qasync, asyncio): the code that kept the GUI thread from ticking. A thread that holds
    the GIL in C++ (Qt painting) is seen at its Python call site, once it lets go.
    """

    heartbeat: Heartbeat
    threshold_ms: float = 30.0
    period_ms: float = 5.0
    samples: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        main = threading.main_thread().ident
        assert main is not None

        def watch() -> None:
            while not self._stop.wait(self.period_ms / 1000):
                late = (time.perf_counter() - self.heartbeat.due) * 1000
                if late <= self.threshold_ms:
                    continue
                frame = sys._current_frames().get(main)
                if frame is None:
                    continue
                stack = tuple(
                    f"{Path(f.filename).name}:{f.lineno} {f.name}"
                    for f in traceback.extract_stack(frame)
                )
                self.samples.append((late, stack))

        self._thread = threading.Thread(target=watch, name="stall-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def report(self, top: int = 8, depth: int = 6) -> list[dict[str, Any]]:
        """The ``top`` most sampled stack tails (``depth`` innermost frames), with counts."""
        tails = Counter(stack[-depth:] for _, stack in self.samples)
        return [{"samples": count, "stack": list(tail)} for tail, count in tails.most_common(top)]


class GcPauses:
    """Times every cyclic garbage collection (``gc.callbacks``): how many per generation
    and the longest, in ms. They run on whichever thread allocates, the GUI thread mostly."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        #: (perf_counter at start, ms) of every full (generation 2) collection.
        self.full: list[tuple[float, float]] = []
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = (time.perf_counter() - self._started) * 1e3
            self.pauses.append((info["generation"], pause))
            if info["generation"] == 2:
                self.full.append((self._started, round(pause, 1)))

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        import gc

        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, Any]:
        """Per generation: count, total and max pause (ms)."""
        out: dict[str, Any] = {}
        for generation in (0, 1, 2):
            times = [ms for gen, ms in self.pauses if gen == generation]
            out[f"gen{generation}"] = {
                "count": len(times),
                "total_ms": round(sum(times), 2),
                "max_ms": round(max(times, default=0.0), 2),
            }
        return out


class SlowCalls:
    """Wraps chosen methods to time each call on the GUI thread; keeps those longer than
    ``threshold_ms`` with their start (seconds since ``started``) and a label. Instruments
    Python entry points only: time spent in Qt's C++ alone (layout, other widgets' paint)
    stays unattributed.
    """

    def __init__(self, threshold_ms: float = 8.0) -> None:
        self.threshold_ms = threshold_ms
        self.started = time.perf_counter()
        self.slow: list[tuple[float, float, str]] = []
        self.totals: Counter[str] = Counter()
        self._undo: list[tuple[Any, str, Any]] = []
        self._depth = 0

    def patch(self, owner: Any, name: str, label: str | None = None) -> None:
        """Time ``owner.name`` (a class attribute) from now on."""
        original = getattr(owner, name)
        tag = label or f"{getattr(owner, '__name__', owner)}.{name}"
        recorder = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not threading.main_thread():
                return original(*args, **kwargs)
            recorder._depth += 1
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                recorder._depth -= 1
                ms = (time.perf_counter() - began) * 1000
                what = tag(args) if callable(tag) else tag
                if recorder._depth == 0:  # outermost only: nested calls are inside it
                    recorder.totals[what] += int(ms * 1000)
                    if ms > recorder.threshold_ms:
                        recorder.slow.append(
                            (round(began - recorder.started, 3), round(ms, 1), what)
                        )

        self._undo.append((owner, name, original))
        setattr(owner, name, timed)

    def reset(self, started: float) -> None:
        """Forget what was recorded; times count from ``started`` (``perf_counter``)."""
        self.started = started
        self.slow.clear()
        self.totals.clear()

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def report(self, top: int = 12) -> dict[str, Any]:
        """Slow calls grouped by label (count, max ms) and total GUI-thread ms per label."""
        groups: dict[str, list[float]] = {}
        for _, ms, what in self.slow:
            groups.setdefault(what, []).append(ms)
        ranked = sorted(groups.items(), key=lambda item: -sum(item[1]))[:top]
        return {
            "threshold_ms": self.threshold_ms,
            "slow": [
                {
                    "what": what,
                    "count": len(times),
                    "max_ms": max(times),
                    "sum_ms": round(sum(times), 1),
                }
                for what, times in ranked
            ],
            "total_ms": {what: round(us / 1000, 1) for what, us in self.totals.most_common(top)},
        }


def handle_label(args: tuple[Any, ...]) -> str:
    """A readable name for an asyncio ``Handle._run`` call: the task's or callback's."""
    handle = args[0]
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if owner is not None and hasattr(owner, "get_coro"):
        coro = owner.get_coro()
        name = getattr(coro, "__qualname__", None) or type(coro).__name__
        return f"task {owner.get_name().split(':')[0]} ({name})"
    return f"callback {getattr(callback, '__qualname__', repr(callback))[:60]}"


# -- the real app ---------------------------------------------------------------------------


Driver = Callable[[Any], Awaitable[dict[str, Any]]]


def run_real_app(
    base_url: str,
    root: Path,
    driver: Driver,
    *,
    poll_policy: Any = None,
    before_app: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Build the app through ``app.run_app`` (a QApplication on a qasync loop) against
    ``base_url`` with ``API_KEY``, its folders under ``root``; once its window is shown,
    run ``await driver(window)``, close the window and return what the driver returned.

    Raises:
        whatever the driver or the app raised.
    """
    qt_environment()
    import qasync
    from PySide6.QtWidgets import QApplication

    from chamelaion_desktop.app import run_app
    from chamelaion_desktop.core.logs import RedactingFilter
    from chamelaion_desktop.core.paths import AppPaths

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Chamelaion Desktop (benchmark)")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    if before_app is not None:
        before_app()
    result: dict[str, Any] = {}
    failure: list[BaseException] = []

    def shown(window: Any) -> None:
        async def drive() -> None:
            try:
                result.update(await driver(window))
            except BaseException as exc:
                failure.append(exc)
            finally:
                window.close()

        tasks.append(asyncio.ensure_future(drive()))

    tasks: list[asyncio.Task[None]] = []
    args = argparse.Namespace(sandbox=False, base_url=base_url, files=[], debug=False)
    with loop:
        loop.run_until_complete(
            run_app(
                args,
                AppPaths.under(root),
                RedactingFilter(),
                {"CHAMELAION_API_KEY": API_KEY},
                shown=shown,
                poll_policy=poll_policy,
            )
        )
    if failure:
        raise failure[0]
    return result


async def until(predicate: Callable[[], object], timeout: float, interval: float = 0.01) -> None:
    """Wait on the running loop until ``predicate()`` is truthy.

    Raises:
        TimeoutError: still falsy after ``timeout`` seconds.
    """
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout} s")
        await asyncio.sleep(interval)


def rss_kib() -> int:
    """This process's resident set (KiB)."""
    from measure import read_status_kib

    return read_status_kib("VmRSS")

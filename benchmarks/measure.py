"""Run a command as a measured child process: wall time, CPU time and peak RSS (Linux only).

Why the detour through ``/bin/sh``: on Linux a child's ``ru_maxrss`` starts from its parent's
memory. With ``vfork`` (what ``subprocess`` uses) the exec records the parent's *high-water
mark*; with ``fork`` the parent's current RSS. A Python harness is 11 MiB or more, which is
as big as curl itself, so a child spawned directly reports at least the harness's peak.
Instead the harness makes itself a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``),
starts ``/bin/sh``, and the shell forks the real command in the background, prints its pid
and exits. The command then starts from the shell's ~1 MiB, is re-parented to the harness,
and ``os.wait4`` on it returns its own rusage, uncontaminated.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
# The command runs in the background so the shell forks it (instead of exec'ing it) and
# can print its pid; stdout and stderr go to files named by the first two arguments.
_LAUNCH_SCRIPT = 'out=$1; err=$2; shift 2; "$@" >"$out" 2>"$err" & echo $!'


def become_subreaper() -> None:
    """Make this process adopt its orphaned descendants (needed by ``run_measured``).

    Raises:
        OSError: the kernel refused (not Linux, or older than 3.4).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(errno)}")


@dataclass(frozen=True)
class Exited:
    """A finished child: ``returncode`` (negative: killed by that signal), ``wall_s`` from
    the fork of the launching shell to the child's exit (seconds), ``user_s``/``sys_s`` CPU
    seconds, ``maxrss_kib`` its peak resident set (KiB), and its captured output."""

    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_kib: int
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def cpu_s(self) -> float:
        """User plus system CPU seconds."""
        return self.user_s + self.sys_s


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 900.0,
) -> Exited:
    """Run ``argv`` to completion and measure it (see the module docstring for the method).

    ``become_subreaper()`` must have been called first. The child is killed with SIGKILL
    after ``timeout_s`` seconds (``timed_out`` is then true).

    Raises:
        RuntimeError: the launching shell failed or printed no pid.
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        out_path, err_path = Path(tmp, "stdout"), Path(tmp, "stderr")
        started = time.perf_counter()
        shell = subprocess.run(
            ["/bin/sh", "-c", _LAUNCH_SCRIPT, "sh", str(out_path), str(err_path), *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=None if env is None else dict(env),
            check=False,
            text=True,
        )
        if shell.returncode != 0 or not shell.stdout.strip().isdigit():
            raise RuntimeError(f"launcher failed ({shell.returncode}): {shell.stderr.strip()}")
        pid = int(shell.stdout)
        # The shell has exited, so the kernel has already re-parented the child to us.
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            os.kill(pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(pid, 0)
        except BaseException:  # Ctrl-C: leave no orphan uploading behind us
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        finally:
            timer.cancel()
        wall_s = time.perf_counter() - started
        return Exited(
            argv=tuple(argv),
            returncode=os.waitstatus_to_exitcode(status),
            wall_s=wall_s,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            maxrss_kib=usage.ru_maxrss,
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
            timed_out=timed_out.is_set(),
        )


def machine_busy_s() -> float:
    """CPU seconds all processors have spent busy since boot (``/proc/stat``, all cores).

    The difference across a run, minus what the client and the sink used, is what other
    processes took meanwhile: a measure of how noisy the machine was.
    """
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def read_status_kib(field: str, pid: int | str = "self") -> int:
    """Return a ``VmRSS``/``VmHWM``-style field of ``/proc/<pid>/status`` in KiB.

    Raises:
        KeyError: the field is absent.
    """
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0])
    raise KeyError(field)

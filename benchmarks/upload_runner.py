"""Make ONE upload with a Python client, in a fresh process, and report what it saw.

Started by ``bench_upload.py`` (one process per measured run)::

    BENCH_API_KEY=k .venv/bin/python benchmarks/upload_runner.py {sdk,ours} \\
        --base-url http://127.0.0.1:PORT/api --video VIDEO --audio AUDIO

Imports and client construction happen first; then the runner reads its own resident set
(``VmRSS``), times the upload call alone (wall and process CPU, all threads) and prints
one JSON line on stdout::

    {"client": "ours", "request_id": "...", "baseline_rss_kib": 41000, "hwm_kib": 52000,
     "upload_s": 0.71, "upload_cpu_s": 0.69}

``hwm_kib`` is ``VmHWM`` after the upload: this process's own peak, a cross-check of the
``ru_maxrss`` the harness gets from ``wait4``. Any failure is a traceback on stderr and a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from measure import read_status_kib

#: Generous: the vendor SDK reads 1 GiB into memory (5-31 s measured) before it sends.
SDK_TIMEOUT_S = 600.0


class Measured:
    """The figures around one upload call: seconds, CPU seconds and KiB."""

    def __init__(self) -> None:
        self.baseline_rss_kib = 0
        self.upload_s = 0.0
        self.upload_cpu_s = 0.0
        self._started = (0.0, 0.0)

    def start(self) -> None:
        """Record the resident set and the clocks just before the upload."""
        self.baseline_rss_kib = read_status_kib("VmRSS")
        self._started = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        """Record the clocks just after the upload."""
        self.upload_s = time.perf_counter() - self._started[0]
        self.upload_cpu_s = time.process_time() - self._started[1]


def upload_with_sdk(base_url: str, api_key: str, video: Path, audio: Path, m: Measured) -> str:
    """Upload with the vendor SDK's sync client (``chamelaion`` 2.x); return the request_id."""
    import httpx
    from chamelaion import Chamelaion

    with Chamelaion(
        base_url=base_url,
        api_key=api_key,
        max_retries=0,
        timeout=httpx.Timeout(SDK_TIMEOUT_S),
    ) as client:
        m.start()
        result = client.lipsync.generate_with_media(video=video, audio=audio)
        m.stop()
    return str(result.request_id)


def upload_with_ours(base_url: str, api_key: str, video: Path, audio: Path, m: Measured) -> str:
    """Upload with ``chamelaion_desktop.api.ChamelaionClient``; return the request_id."""
    from chamelaion_desktop.api import ChamelaionClient

    async def upload() -> str:
        async with ChamelaionClient(api_key=api_key, base_url=base_url) as client:
            m.start()
            result = await client.generate_with_media(video, audio, progress=None)
            m.stop()
        return str(result.request_id)

    return asyncio.run(upload())


CLIENTS: dict[str, Callable[[str, str, Path, Path, Measured], str]] = {
    "sdk": upload_with_sdk,
    "ours": upload_with_ours,
}


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description="One measured upload (bench_upload.py).")
    parser.add_argument("client", choices=sorted(CLIENTS))
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:PORT/api")
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--audio", type=Path, required=True)
    args = parser.parse_args(argv)
    # From the environment, not argv: argv is visible to every user in ps.
    api_key = os.environ["BENCH_API_KEY"]
    measured = Measured()
    request_id = CLIENTS[args.client](args.base_url, api_key, args.video, args.audio, measured)
    report = {
        "client": args.client,
        "request_id": request_id,
        "baseline_rss_kib": measured.baseline_rss_kib,
        "hwm_kib": read_status_kib("VmHWM"),
        "upload_s": measured.upload_s,
        "upload_cpu_s": measured.upload_cpu_s,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()

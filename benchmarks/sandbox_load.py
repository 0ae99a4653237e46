"""The load of ``bench_sandbox.py``: clients listing and polling jobs, and their figures.

Each client has its own ``httpx.AsyncClient`` (one connection) and loops, until told to
stop, on the first page of ``GET /v1/lipsync/requests`` (as the app polls it), one job by id
(``GET /v1/lipsync/requests/{id}``) and, every fourth round, a page at a random offset.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

#: The sandbox's key for the benchmark (``--api-key`` of the sandbox process).
API_KEY = "bench-sandbox-key"
#: Page size of the list requests: the app's (``services.queue``).
PAGE = 50


@dataclass
class Load:
    """Latencies (seconds) by kind of request, errors, and the measured wall time.

    Requests sent in the first ``warmup_s`` seconds of a phase are answered and checked but
    not in the figures: all clients connect and send at once then, and that queue (up to
    ~2 s here) is the start of the benchmark, not the sandbox's steady state.
    """

    measure_from: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warmup_requests: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    sandbox_cpu_s: float = 0.0

    def add(self, kind: str, started: float, seconds: float) -> None:
        """Record one answered request, sent at ``started`` (``perf_counter``)."""
        if started < self.measure_from:
            self.warmup_requests += 1
        else:
            self.latencies.setdefault(kind, []).append(seconds)

    def summary(self) -> dict[str, Any]:
        """Counts, requests per second and p50/p99/max latency in ms, per kind and all."""
        every = [s for values in self.latencies.values() for s in values]
        out: dict[str, Any] = {
            "wall_s": self.wall_s,
            "requests": len(every),
            "warmup_requests": self.warmup_requests,
            "errors": len(self.errors),
            "error_samples": self.errors[:5],
            "rps": len(every) / self.wall_s if self.wall_s else 0.0,
            "client_cpu_s": self.client_cpu_s,
            "sandbox_cpu_s": self.sandbox_cpu_s,
            "all": _latency(every),
        }
        for kind, values in sorted(self.latencies.items()):
            out[kind] = {**_latency(values), "rps": len(values) / self.wall_s}
        return out


def _latency(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"count": len(values), "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": at(1.0)}


def headers() -> dict[str, str]:
    """The key and the JSON ``Accept`` header of every request."""
    return {"x-api-key": API_KEY, "Accept": "application/json"}


async def job_ids(base_url: str) -> tuple[int, list[str]]:
    """The total of jobs, and the ids on the first two pages (the newest: the active ones)."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers(), timeout=60) as http:
        ids: list[str] = []
        total = 0
        for offset in (0, 100):
            response = await http.get(
                "/v1/lipsync/requests", params={"limit": 100, "offset": offset}
            )
            response.raise_for_status()
            page = response.json()
            total = page["pagination"]["total"]
            ids += [job["id"] for job in page["data"]]
        return total, ids


async def client_loop(
    base_url: str, ids: Sequence[str], total: int, stop: asyncio.Event, load: Load, seed: int
) -> None:
    """One client: list the first page, poll a job, now and then a deep page, until ``stop``."""
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers(), timeout=timeout, limits=limits
    ) as http:
        round_ = 0
        while not stop.is_set():
            requests: list[tuple[str, str, dict[str, Any] | None]] = [
                ("list", "/v1/lipsync/requests", {"limit": PAGE}),
                ("get", f"/v1/lipsync/requests/{rng.choice(ids)}", None),
            ]
            if round_ % 4 == 3:
                offset = rng.randrange(0, max(1, total - PAGE))
                requests.append(("page", "/v1/lipsync/requests", {"limit": PAGE, "offset": offset}))
            for kind, path, params in requests:
                started = time.perf_counter()
                try:
                    response = await http.get(path, params=params)
                    body = response.json()
                    elapsed = time.perf_counter() - started
                    shape_ok = "data" in body if kind != "get" else "status" in body
                    if response.status_code != 200 or not shape_ok:
                        load.errors.append(f"{kind} {response.status_code}: {str(body)[:120]}")
                    else:
                        load.add(kind, started, elapsed)
                except (httpx.HTTPError, ValueError) as exc:
                    load.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            round_ += 1


async def run_load(
    base_url: str,
    ids: Sequence[str],
    total: int,
    clients: int,
    sandbox_cpu_s: Callable[[], float],
    *,
    warmup_s: float,
    duration_s: float | None = None,
    until: asyncio.Future[Any] | None = None,
) -> Load:
    """Run ``clients`` client loops for ``warmup_s`` + ``duration_s`` seconds, or until
    ``until`` is done; CPU seconds cover the whole phase, warm-up included."""
    stop = asyncio.Event()
    cpu0, sandbox0, started = time.process_time(), sandbox_cpu_s(), time.perf_counter()
    load = Load(measure_from=started + warmup_s)
    loops = [
        asyncio.ensure_future(client_loop(base_url, ids, total, stop, load, seed))
        for seed in range(clients)
    ]
    try:
        if until is not None:
            await asyncio.wait([until])  # its outcome is the caller's to read
        else:
            await asyncio.sleep(warmup_s + (duration_s or 0.0))
    finally:
        stop.set()
        await asyncio.gather(*loops)
    load.wall_s = max(0.0, time.perf_counter() - load.measure_from)
    load.client_cpu_s = time.process_time() - cpu0
    load.sandbox_cpu_s = sandbox_cpu_s() - sandbox0
    return load

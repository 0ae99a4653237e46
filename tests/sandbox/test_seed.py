"""Seeding a history in bulk: ``seed_jobs`` and ``--seed``/``--seed-active``.

The seeded jobs must be indistinguishable from real ones through the API: listed newest
first, paginated, downloadable when completed, and the active ones driven by the worker.
"""

from __future__ import annotations

import dataclasses
import re
import selectors
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chamelaion_desktop.core.media import probe
from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread

from ._support import auth, wait_for
from .conftest import StartSandbox

LINE = re.compile(r"^Chamelaion sandbox listening on (http://127\.0\.0\.1:\d+/api)\n$")


def _list(client: httpx.Client, base_url: str, key: str, **query: Any) -> dict[str, Any]:
    response = client.get(f"{base_url}/v1/lipsync/requests", headers=auth(key), params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _created(job: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(job["created_at"])


def test_ten_thousand_seeded_jobs_list_newest_first_in_pages(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, tmp_path: Path
) -> None:
    seeded = sandbox.seed_jobs(10_000)
    assert seeded.history == 10_000
    assert seeded.active_ids == ()

    first = _list(client, sandbox.base_url, api_key, limit=100)
    assert first["pagination"] == {"limit": 100, "offset": 0, "total": 10_000}
    seen: list[dict[str, Any]] = []
    for offset in range(0, 10_000, 100):
        page = _list(client, sandbox.base_url, api_key, limit=100, offset=offset)
        assert page["pagination"]["total"] == 10_000
        assert len(page["data"]) == 100
        seen.extend(page["data"])
    # Links are signed afresh on every call: compare the jobs by id.
    assert [job["id"] for job in seen[:100]] == [job["id"] for job in first["data"]]
    assert len({job["id"] for job in seen}) == 10_000
    times = [_created(job) for job in seen]
    assert times == sorted(times, reverse=True)
    assert times[0] < datetime.now(UTC)
    beyond = _list(client, sandbox.base_url, api_key, limit=100, offset=10_000)
    assert beyond["data"] == []
    assert beyond["pagination"]["total"] == 10_000

    statuses = [job["status"] for job in seen]
    assert set(statuses) == {"completed", "failed"}
    assert 0.8 < statuses.count("completed") / len(statuses) < 0.97
    for job in seen:
        if job["status"] == "failed":
            assert job["error_message"]
            assert "output_url" not in job
        else:
            assert job["output_url"]
            assert _created(job) <= datetime.fromisoformat(job["started_at"])
            assert datetime.fromisoformat(job["started_at"]) <= datetime.fromisoformat(
                job["finished_at"]
            )

    # The oldest completed job downloads a real MP4 (the shared seeded output).
    oldest = next(job for job in reversed(seen) if job["status"] == "completed")
    fresh = client.get(
        f"{sandbox.base_url}/v1/lipsync/requests/{oldest['id']}", headers=auth(api_key)
    ).json()
    download = client.get(fresh["output_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "video/mp4"
    saved = tmp_path / "oldest.mp4"
    saved.write_bytes(download.content)
    info = probe(saved)
    assert info.video is not None
    assert info.audio is not None
    assert info.duration_s is not None and 0.9 < info.duration_s < 1.2

    # Filtering by reference ID still works over seeded rows.
    reference = next(job["reference_id"] for job in seen if "reference_id" in job)
    matches = _list(client, sandbox.base_url, api_key, reference_id=reference, limit=100)
    assert matches["data"]
    assert all(job["reference_id"] == reference for job in matches["data"])


def test_active_seeded_jobs_move_through_the_worker_to_the_end(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str
) -> None:
    sandbox = start_sandbox(queue_delay=1.5, processing_time=2.5)
    seeded = sandbox.seed_jobs(30, active=10)
    assert len(seeded.active_ids) == 10
    page = _list(client, sandbox.base_url, api_key, limit=100)
    assert page["pagination"]["total"] == 40
    # The active jobs are the newest, and not finished yet.
    newest = page["data"][:10]
    assert {job["id"] for job in newest} == set(seeded.active_ids)
    assert {job["status"] for job in newest} <= {"queued", "processing"}
    assert "queued" in {job["status"] for job in newest}

    finals = [wait_for(client, sandbox.base_url, api_key, rid) for rid in seeded.active_ids]
    statuses = [job["status"] for job in finals]
    assert statuses.count("completed") == 9
    assert statuses.count("failed") == 1
    for job in finals:
        started = datetime.fromisoformat(job["started_at"])
        # Each one waited out the queue delay before processing (timestamps carry ms).
        assert started - _created(job) >= timedelta(seconds=1.499)
        assert started < datetime.fromisoformat(job["finished_at"])
        if job["status"] == "completed":
            video = client.get(job["output_url"])
            assert video.status_code == 200
            assert video.content[4:8] == b"ftyp"
        else:
            assert job["error_message"]
    # The history around them did not change.
    after = _list(client, sandbox.base_url, api_key, limit=100)
    assert [job["id"] for job in after["data"]] == [job["id"] for job in page["data"]]
    assert [job["status"] for job in after["data"][10:]] == [
        job["status"] for job in page["data"][10:]
    ]


def test_seed_is_per_key_and_refuses_unknown_keys(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str
) -> None:
    sandbox = start_sandbox(api_keys={api_key: "First", "other-key": "Second"})
    sandbox.seed_jobs(5, api_key="other-key")
    assert _list(client, sandbox.base_url, api_key)["pagination"]["total"] == 0
    assert _list(client, sandbox.base_url, "other-key")["pagination"]["total"] == 5
    with pytest.raises(ValueError) as refused:
        sandbox.seed_jobs(5, api_key="not-a-key-secret")
    assert "not-a-key-secret" not in str(refused.value)
    with pytest.raises(ValueError):
        sandbox.seed_jobs(-1)


def test_seeded_active_jobs_resume_after_a_restart(
    sandbox_config: SandboxConfig, client: httpx.Client, api_key: str
) -> None:
    slow = dataclasses.replace(sandbox_config, queue_delay=30.0, processing_time=30.0)
    with SandboxThread(slow) as first:
        seeded = first.seed_jobs(0, active=3)
    with SandboxThread(sandbox_config) as second:
        finals = [wait_for(client, second.base_url, api_key, rid) for rid in seeded.active_ids]
    assert [job["status"] for job in finals] == ["completed"] * 3


def test_cli_seeds_before_announcing(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "chamelaion_desktop.sandbox",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "data"),
        "--api-key",
        "cli-key",
        "--queue-delay",
        "0.2",
        "--processing-time",
        "0.2",
        "--seed",
        "120",
        "--seed-active",
        "4",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(30), "the sandbox printed nothing"
        match = LINE.match(process.stdout.readline())
        assert match
        with httpx.Client(timeout=10) as client:
            page = _list(client, match.group(1), "cli-key", limit=10)
            assert page["pagination"]["total"] == 124
            deadline = time.monotonic() + 20
            while any(job["status"] in ("queued", "processing") for job in page["data"]):
                assert time.monotonic() < deadline, page["data"][:4]
                time.sleep(0.05)
                page = _list(client, match.group(1), "cli-key", limit=10)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr


def test_cli_refuses_a_negative_seed(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chamelaion_desktop.sandbox", "--seed", "-5"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--seed" in result.stderr

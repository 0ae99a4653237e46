"""Fault injection, flipped at runtime from the test thread while the server runs."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from chamelaion_desktop.sandbox import SandboxThread

from ._support import AUDIO_5S, UNREACHABLE, VIDEO_3S, VIDEO_6S, auth, upload, url_job, wait_for
from .conftest import StartSandbox


def _total(client: httpx.Client, sandbox: SandboxThread, api_key: str) -> int:
    listing = client.get(f"{sandbox.base_url}/v1/lipsync/requests", headers=auth(api_key))
    assert listing.status_code == 200
    total: int = listing.json()["pagination"]["total"]
    return total


def _uploads(sandbox: SandboxThread) -> list[Path]:
    return list((sandbox.config.data_dir / "uploads").iterdir())


def test_latency_delays_every_request(sandbox: SandboxThread, client: httpx.Client) -> None:
    sandbox.faults.latency = 0.3
    started = time.perf_counter()
    assert client.get(f"{sandbox.base_url}/health").status_code == 200
    assert time.perf_counter() - started >= 0.3
    sandbox.faults.latency = 0.0
    started = time.perf_counter()
    client.get(f"{sandbox.base_url}/health")
    assert time.perf_counter() - started < 0.25


def test_error_rate_one_answers_internal_error(
    sandbox: SandboxThread, client: httpx.Client, api_key: str
) -> None:
    sandbox.faults.error_rate = 1.0
    for path in ("/v1/users/me", "/v1/lipsync/requests"):
        response = client.get(f"{sandbox.base_url}{path}", headers=auth(api_key))
        assert response.status_code == 500
        assert response.json() == {"error": "internal error"}
    generate = url_job(client, sandbox.base_url, api_key, UNREACHABLE, UNREACHABLE)
    assert generate.status_code == 500
    # Health is not an authenticated request; a bad token is still a 401.
    assert client.get(f"{sandbox.base_url}/health").status_code == 200
    assert client.get(f"{sandbox.base_url}/v1/users/me", headers=auth("x")).status_code == 401
    sandbox.faults.error_rate = 0.0
    assert _total(client, sandbox, api_key) == 0


def test_force_429_counts_down(sandbox: SandboxThread, client: httpx.Client, api_key: str) -> None:
    sandbox.faults.force_429 = 2
    url = f"{sandbox.base_url}/v1/users/me"
    for _ in range(2):
        response = client.get(url, headers=auth(api_key))
        assert response.status_code == 429
        assert response.json() == {"error": "rate limit exceeded"}
        assert int(response.headers["Retry-After"]) >= 1
        assert int(response.headers["retry-after-ms"]) >= 1
    assert sandbox.faults.force_429 == 0
    assert client.get(url, headers=auth(api_key)).status_code == 200


def test_drop_uploads_cuts_the_connection_and_creates_nothing(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    sandbox.faults.drop_uploads = 1
    sandbox.faults.drop_upload_after = 64 * 1024
    with pytest.raises(httpx.TransportError):
        upload(client, sandbox.base_url, api_key, media_dir / VIDEO_6S, media_dir / AUDIO_5S)
    assert sandbox.faults.drop_uploads == 0
    assert _total(client, sandbox, api_key) == 0
    assert _uploads(sandbox) == []
    # The fault is used up: the next upload goes through.
    response = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
    assert response.status_code == 200
    assert _total(client, sandbox, api_key) == 1


@pytest.mark.parametrize("endpoint", ["url", "upload"])
def test_drop_after_create_keeps_the_job(
    start_sandbox: StartSandbox,
    client: httpx.Client,
    api_key: str,
    media_dir: Path,
    endpoint: str,
) -> None:
    sandbox = start_sandbox(queue_delay=60)
    sandbox.faults.drop_after_create = 1
    with pytest.raises(httpx.TransportError):
        if endpoint == "url":
            url_job(
                client, sandbox.base_url, api_key, UNREACHABLE, UNREACHABLE, reference_id="lost"
            )
        else:
            upload(
                client,
                sandbox.base_url,
                api_key,
                media_dir / VIDEO_3S,
                media_dir / AUDIO_5S,
                reference_id="lost",
            )
    listing = client.get(f"{sandbox.base_url}/v1/lipsync/requests", headers=auth(api_key)).json()
    assert listing["pagination"]["total"] == 1
    assert listing["data"][0]["reference_id"] == "lost"
    assert listing["data"][0]["status"] == "queued"
    assert sandbox.faults.drop_after_create == 0


def test_fail_jobs_fails_the_next_jobs(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    sandbox.faults.fail_jobs = 1
    first = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
    second = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
    failed = wait_for(client, sandbox.base_url, api_key, first.json()["request_id"])
    assert failed["status"] == "failed"
    assert failed["error_message"] == "lip sync failed (sandbox fault injection)"
    done = wait_for(client, sandbox.base_url, api_key, second.json()["request_id"])
    assert done["status"] == "completed"
    assert sandbox.faults.fail_jobs == 0


def test_fail_jobs_waits_for_a_job_that_is_created(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str
) -> None:
    sandbox = start_sandbox(quota=0)
    sandbox.faults.fail_jobs = 1
    refused = url_job(client, sandbox.base_url, api_key, UNREACHABLE, UNREACHABLE)
    assert refused.status_code == 402
    assert sandbox.faults.fail_jobs == 1


def test_client_leaving_mid_upload_leaves_nothing(
    sandbox: SandboxThread, client: httpx.Client, api_key: str
) -> None:
    host, port = sandbox.base_url.removeprefix("http://").removesuffix("/api").split(":")
    boundary = "sandboxtestboundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="video"; filename="v.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    request = (
        "POST /api/v1/lipsync/generate-with-media HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"x-api-key: {api_key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Content-Length: 10000000\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(request + head + b"\0" * 300_000)
        deadline = time.monotonic() + 5
        while not _uploads(sandbox):  # the server is writing the part to disk
            assert time.monotonic() < deadline, "upload never started"
            time.sleep(0.01)
    deadline = time.monotonic() + 5
    while _uploads(sandbox):
        assert time.monotonic() < deadline, "partial upload was not removed"
        time.sleep(0.01)
    assert _total(client, sandbox, api_key) == 0


def test_upload_rate_slows_the_upload_down(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    video, audio = media_dir / VIDEO_6S, media_dir / AUDIO_5S
    size = video.stat().st_size + audio.stat().st_size
    sandbox.faults.upload_rate = size / 1.0  # the whole body in about a second
    started = time.monotonic()
    response = upload(client, sandbox.base_url, api_key, video, audio)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert 0.8 < elapsed < 5.0
    sandbox.faults.upload_rate = 0.0
    started = time.monotonic()
    upload(client, sandbox.base_url, api_key, video, audio)
    assert time.monotonic() - started < 0.5

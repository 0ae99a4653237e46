"""History survives restarts; output links are signed, expire, and are renewed on every GET."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread

from ._support import AUDIO_5S, UNREACHABLE, VIDEO_3S, auth, upload, url_job, wait_for
from .conftest import StartSandbox


def test_restart_keeps_history_and_links(
    sandbox_config: SandboxConfig, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    with SandboxThread(sandbox_config) as first:
        done = upload(client, first.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
        done_id = done.json()["request_id"]
        failed = url_job(
            client, first.base_url, api_key, UNREACHABLE, UNREACHABLE, reference_id="f"
        )
        before = wait_for(client, first.base_url, api_key, done_id)
        wait_for(client, first.base_url, api_key, failed.json()["request_id"])
        old_link = before["output_url"]
    with SandboxThread(sandbox_config) as second:
        listing = client.get(f"{second.base_url}/v1/lipsync/requests", headers=auth(api_key))
        jobs = listing.json()["data"]
        assert [job["id"] for job in jobs] == [failed.json()["request_id"], done_id]
        assert jobs[0]["error_message"] == "video URL is not accessible"
        after = client.get(
            f"{second.base_url}/v1/lipsync/requests/{done_id}", headers=auth(api_key)
        )
        assert after.json()["status"] == "completed"
        assert after.json()["created_at"] == before["created_at"]
        # A fresh link from the new instance downloads the same output.
        fresh = client.get(after.json()["output_url"])
        assert fresh.status_code == 200
        # The signing secret is persisted: the first instance's signature still verifies.
        old_query = urlsplit(old_link).query
        replayed = client.get(
            f"{second.base_url.removesuffix('/api')}/files/{done_id}.mp4?{old_query}"
        )
        assert replayed.status_code == 200
        assert replayed.content == fresh.content


def test_restart_resumes_unfinished_jobs(
    sandbox_config: SandboxConfig, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    slow = dataclasses.replace(sandbox_config, queue_delay=60)
    with SandboxThread(slow) as first:
        response = upload(
            client, first.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S
        )
        request_id = response.json()["request_id"]
        assert wait_for(client, first.base_url, api_key, request_id, ("queued",))
    with SandboxThread(sandbox_config) as second:
        job = wait_for(client, second.base_url, api_key, request_id)
        assert job["status"] == "completed", job


def test_link_expires_then_a_fresh_one_works(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    sandbox = start_sandbox(url_ttl=0.5)
    response = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    link = job["output_url"]
    expires = int(parse_qs(urlsplit(link).query)["expires"][0])
    while time.time() <= expires + 0.05:
        time.sleep(0.05)
    expired = client.get(link)
    assert expired.status_code == 403
    assert expired.json() == {"error": "link expired"}

    sandbox.config.url_ttl = 3600  # read per request: the next GET hands out a long link
    listing = client.get(f"{sandbox.base_url}/v1/lipsync/requests", headers=auth(api_key))
    fresh = listing.json()["data"][0]["output_url"]
    assert fresh != link
    assert client.get(fresh).status_code == 200


def test_bad_signature_is_403(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    response = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
    request_id = response.json()["request_id"]
    link = wait_for(client, sandbox.base_url, api_key, request_id)["output_url"]
    assert client.get(link).status_code == 200
    query = parse_qs(urlsplit(link).query)
    signature, expires = query["signature"][0], query["expires"][0]
    origin = sandbox.base_url.removesuffix("/api")
    forged = {
        "signature": link.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:]),
        "expires": link.replace(f"expires={expires}", f"expires={int(expires) + 3600}"),
        "missing": f"{origin}/files/{request_id}.mp4",
        "other-id": link.replace(request_id, "00000000-0000-4000-8000-000000000000"),
    }
    for tamper, url in forged.items():
        refused = client.get(url)
        assert refused.status_code == 403, tamper
        assert refused.json() == {"error": "invalid signature"}, tamper

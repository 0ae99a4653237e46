"""Happy paths of every endpoint over loopback, with plain httpx (API.md "Endpoints")."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from chamelaion_desktop.sandbox import SandboxThread

from ._support import (
    AUDIO_5S,
    UNREACHABLE,
    VIDEO_3S,
    auth,
    upload,
    url_job,
    wait_for,
)
from .conftest import StartSandbox

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _instant(text: str) -> datetime:
    assert RFC3339_Z.match(text), text
    return datetime.fromisoformat(text)


def test_health_needs_no_auth(sandbox: SandboxThread, client: httpx.Client) -> None:
    response = client.get(f"{sandbox.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.base_url.endswith("/api")


def test_users_me_names_the_token(
    sandbox: SandboxThread, client: httpx.Client, api_key: str
) -> None:
    response = client.get(f"{sandbox.base_url}/v1/users/me", headers=auth(api_key))
    assert response.status_code == 200
    assert response.json() == {"name": "Test token"}


@pytest.mark.parametrize("scheme", ["bearer", "x-api-key"])
def test_both_auth_headers_work(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, scheme: str
) -> None:
    headers = (
        {"Authorization": f"Bearer {api_key}"} if scheme == "bearer" else {"x-api-key": api_key}
    )
    response = client.get(f"{sandbox.base_url}/v1/lipsync/requests", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"data": [], "pagination": {"limit": 20, "offset": 0, "total": 0}}


def test_upload_job_goes_queued_processing_completed(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    sandbox = start_sandbox(queue_delay=0.3, processing_time=0.3)
    base = sandbox.base_url
    response = upload(
        client, base, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S, reference_id="ep-1"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    request_id = body["request_id"]
    assert str(uuid.UUID(request_id)) == request_id

    first = client.get(f"{base}/v1/lipsync/requests/{request_id}", headers=auth(api_key)).json()
    assert first["status"] == "queued"
    # Optional fields are omitted, not null, while unknown.
    assert set(first) == {"id", "reference_id", "status", "created_at"}
    processing = wait_for(client, base, api_key, request_id, ("processing", "completed"))
    assert processing["status"] == "processing"
    assert "finished_at" not in processing and "output_url" not in processing
    done = wait_for(client, base, api_key, request_id)
    assert done["status"] == "completed", done
    assert set(done) == {
        "id",
        "reference_id",
        "status",
        "created_at",
        "started_at",
        "finished_at",
        "output_url",
    }
    assert done["id"] == request_id and done["reference_id"] == "ep-1"
    created, started, finished = (
        _instant(done[key]) for key in ("created_at", "started_at", "finished_at")
    )
    assert (started - created).total_seconds() >= 0.29
    assert (finished - started).total_seconds() >= 0.29
    assert done["output_url"].startswith(f"{base.removesuffix('/api')}/files/{request_id}.mp4?")
    # The upload was kept on disk under data_dir/uploads/<id>/.
    folder = sandbox.config.data_dir / "uploads" / request_id
    assert sorted(p.name for p in folder.iterdir()) == ["audio.wav", "video.mp4"]


def test_url_job_accepts_inputs_in_any_order(
    sandbox: SandboxThread, client: httpx.Client, api_key: str
) -> None:
    body = {
        "inputs": [{"type": "audio", "url": UNREACHABLE}, {"type": "video", "url": UNREACHABLE}],
        "disable_active_speaker_detection": True,
        "reference_id": "any-order",
    }
    response = client.post(
        f"{sandbox.base_url}/v1/lipsync/generate", headers=auth(api_key), json=body
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    assert job["status"] == "failed"
    assert job["reference_id"] == "any-order"
    assert job["error_message"] == "video URL is not accessible"
    assert "output_url" not in job


def test_list_is_newest_first_with_pagination(
    sandbox: SandboxThread, client: httpx.Client, api_key: str
) -> None:
    base = sandbox.base_url
    ids = []
    for index in range(5):
        response = url_job(
            client, base, api_key, UNREACHABLE, UNREACHABLE, reference_id=f"r{index}"
        )
        ids.append(response.json()["request_id"])
    newest_first = list(reversed(ids))

    page = client.get(f"{base}/v1/lipsync/requests", headers=auth(api_key)).json()
    assert [job["id"] for job in page["data"]] == newest_first
    assert page["pagination"] == {"limit": 20, "offset": 0, "total": 5}

    page = client.get(
        f"{base}/v1/lipsync/requests", headers=auth(api_key), params={"limit": 2, "offset": 1}
    ).json()
    assert [job["id"] for job in page["data"]] == newest_first[1:3]
    assert page["pagination"] == {"limit": 2, "offset": 1, "total": 5}

    page = client.get(
        f"{base}/v1/lipsync/requests", headers=auth(api_key), params={"offset": 4}
    ).json()
    assert [job["id"] for job in page["data"]] == newest_first[4:]

    page = client.get(
        f"{base}/v1/lipsync/requests", headers=auth(api_key), params={"limit": 1000}
    ).json()
    assert page["pagination"]["limit"] == 100  # clamped
    assert len(page["data"]) == 5


def test_reference_id_filter_and_lookup_newest_wins(
    sandbox: SandboxThread, client: httpx.Client, api_key: str
) -> None:
    base = sandbox.base_url
    first = url_job(client, base, api_key, UNREACHABLE, UNREACHABLE, reference_id="batch")
    url_job(client, base, api_key, UNREACHABLE, UNREACHABLE, reference_id="other")
    second = url_job(client, base, api_key, UNREACHABLE, UNREACHABLE, reference_id="batch")
    first_id, second_id = first.json()["request_id"], second.json()["request_id"]

    page = client.get(
        f"{base}/v1/lipsync/requests", headers=auth(api_key), params={"reference_id": "batch"}
    ).json()
    assert [job["id"] for job in page["data"]] == [second_id, first_id]
    assert page["pagination"]["total"] == 2
    assert all(job["reference_id"] == "batch" for job in page["data"])

    by_ref = client.get(f"{base}/v1/lipsync/requests/batch", headers=auth(api_key)).json()
    assert by_ref["id"] == second_id
    by_id = client.get(f"{base}/v1/lipsync/requests/{first_id}", headers=auth(api_key)).json()
    assert by_id["id"] == first_id


def test_accounts_see_only_their_own_jobs(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str
) -> None:
    sandbox = start_sandbox(api_keys={api_key: "Test token", "other-key": "Other"})
    base = sandbox.base_url
    mine = url_job(client, base, api_key, UNREACHABLE, UNREACHABLE, reference_id="mine")
    request_id = mine.json()["request_id"]
    assert client.get(f"{base}/v1/users/me", headers=auth("other-key")).json() == {"name": "Other"}
    theirs = client.get(f"{base}/v1/lipsync/requests", headers=auth("other-key")).json()
    assert theirs["pagination"]["total"] == 0
    for key in (request_id, "mine"):
        response = client.get(f"{base}/v1/lipsync/requests/{key}", headers=auth("other-key"))
        assert response.status_code == 404


def test_flag_accepts_true_false_one_zero(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    sandbox = start_sandbox(queue_delay=60)  # accepted is enough; no render needed
    for value in ("true", "false", "1", "0"):
        response = upload(
            client,
            sandbox.base_url,
            api_key,
            media_dir / VIDEO_3S,
            media_dir / AUDIO_5S,
            disable_active_speaker_detection=value,
            model="lipsync-2",
        )
        assert response.status_code == 200, (value, response.text)


def test_requests_are_logged_at_debug_without_secrets(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="chamelaion_desktop.sandbox")
    client.get(f"{sandbox.base_url}/v1/users/me", headers={"Authorization": f"Bearer {api_key}"})
    client.get(f"{sandbox.base_url}/v1/lipsync/requests/nope", headers=auth(api_key))
    messages = [record.getMessage() for record in caplog.records]
    assert any(re.fullmatch(r"GET /api/v1/users/me 200 [\d.]+ ms", m) for m in messages), messages
    assert any(m.startswith("GET /api/v1/lipsync/requests/nope 404 ") for m in messages)
    assert api_key not in caplog.text
    assert "Bearer" not in caplog.text

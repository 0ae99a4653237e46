"""Every documented error message, word for word, with its status (API.md "Errors")."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from chamelaion_desktop.sandbox import SandboxThread

from ._support import AUDIO_5S, UNREACHABLE, VIDEO_3S, auth, upload, url_job
from .conftest import StartSandbox

VIDEO = {"type": "video", "url": UNREACHABLE}
AUDIO = {"type": "audio", "url": UNREACHABLE}

Call = Callable[[httpx.Client, str, dict[str, str], Path], httpx.Response]


def _media(media_dir: Path, *names: str) -> dict[str, tuple[str, bytes]]:
    files = {"video": VIDEO_3S, "audio": AUDIO_5S}
    return {name: (files[name], (media_dir / files[name]).read_bytes()) for name in names}


def _post_json(body: object) -> Call:
    def call(
        client: httpx.Client, base: str, headers: dict[str, str], media: Path
    ) -> httpx.Response:
        return client.post(f"{base}/v1/lipsync/generate", headers=headers, json=body)

    return call


def _post_multipart(parts: tuple[str, ...], **fields: str) -> Call:
    def call(
        client: httpx.Client, base: str, headers: dict[str, str], media: Path
    ) -> httpx.Response:
        files = _media(media, *parts) or {"other": ("x.txt", b"x")}
        return client.post(
            f"{base}/v1/lipsync/generate-with-media", headers=headers, files=files, data=fields
        )

    return call


def _raw(path: str, content: bytes, content_type: str) -> Call:
    def call(
        client: httpx.Client, base: str, headers: dict[str, str], media: Path
    ) -> httpx.Response:
        return client.post(
            f"{base}{path}", headers={**headers, "Content-Type": content_type}, content=content
        )

    return call


def _get(path: str, **params: str) -> Call:
    def call(
        client: httpx.Client, base: str, headers: dict[str, str], media: Path
    ) -> httpx.Response:
        return client.get(f"{base}{path}", headers=headers, params=params)

    return call


VALIDATION: list[tuple[str, Call, int, str]] = [
    (
        "upload-json-content-type",
        _raw("/v1/lipsync/generate-with-media", b"{}", "application/json"),
        400,
        "content-type must be multipart/form-data",
    ),
    ("upload-no-video", _post_multipart(("audio",)), 400, "video file is required"),
    ("upload-no-audio", _post_multipart(("video",)), 400, "audio file is required"),
    ("upload-no-files", _post_multipart(()), 400, "video file is required"),
    (
        "upload-bad-model",
        _post_multipart(("video", "audio"), model="lipsync-1"),
        400,
        'model must be "lipsync-2"',
    ),
    (
        "url-form-content-type",
        _raw("/v1/lipsync/generate", b"a=b", "application/x-www-form-urlencoded"),
        400,
        "content-type must be application/json",
    ),
    (
        "url-broken-json",
        _raw("/v1/lipsync/generate", b"{not json", "application/json"),
        400,
        "invalid request body",
    ),
    ("url-not-an-object", _post_json([VIDEO, AUDIO]), 400, "invalid request body"),
    ("url-inputs-not-a-list", _post_json({"inputs": "x"}), 400, "invalid request body"),
    (
        "url-missing-url",
        _post_json({"inputs": [{"type": "video"}, AUDIO]}),
        400,
        "invalid request body",
    ),
    (
        "url-flag-not-bool",
        _post_json({"inputs": [VIDEO, AUDIO], "disable_active_speaker_detection": "yes"}),
        400,
        "invalid request body",
    ),
    (
        "url-two-videos",
        _post_json({"inputs": [VIDEO, VIDEO, AUDIO]}),
        400,
        "expected exactly one video input",
    ),
    ("url-no-video", _post_json({"inputs": [AUDIO]}), 400, "expected exactly one video input"),
    ("url-no-audio", _post_json({"inputs": [VIDEO]}), 400, "expected exactly one audio input"),
    (
        "url-two-audios",
        _post_json({"inputs": [VIDEO, AUDIO, AUDIO]}),
        400,
        "expected exactly one audio input",
    ),
    (
        "url-bad-type",
        _post_json({"inputs": [VIDEO, AUDIO, {"type": "image", "url": UNREACHABLE}]}),
        400,
        'input type must be "video" or "audio"',
    ),
    (
        "get-unknown",
        _get(f"/v1/lipsync/requests/{'0' * 8}-0000-4000-8000-{'0' * 12}"),
        404,
        "lipsync request not found",
    ),
    (
        "get-unknown-reference",
        _get("/v1/lipsync/requests/no-such-ref"),
        404,
        "lipsync request not found",
    ),
    (
        "list-limit-text",
        _get("/v1/lipsync/requests", limit="ten"),
        400,
        "limit must be a non-negative integer",
    ),
    (
        "list-limit-negative",
        _get("/v1/lipsync/requests", limit="-1"),
        400,
        "limit must be a non-negative integer",
    ),
    (
        "list-offset-negative",
        _get("/v1/lipsync/requests", offset="-5"),
        400,
        "offset must be a non-negative integer",
    ),
    (
        "list-offset-float",
        _get("/v1/lipsync/requests", offset="1.5"),
        400,
        "offset must be a non-negative integer",
    ),
]


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [pytest.param(call, status, message, id=name) for name, call, status, message in VALIDATION],
)
def test_validation_errors_word_for_word(
    sandbox: SandboxThread,
    client: httpx.Client,
    api_key: str,
    media_dir: Path,
    call: Call,
    status: int,
    message: str,
) -> None:
    response = call(client, sandbox.base_url, auth(api_key), media_dir)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": message}
    # A rejected generation request leaves no job behind.
    listing = client.get(f"{sandbox.base_url}/v1/lipsync/requests", headers=auth(api_key))
    assert listing.json()["pagination"]["total"] == 0


def test_bad_flag_value_is_rejected(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    response = _post_multipart(("video", "audio"), disable_active_speaker_detection="maybe")(
        client, sandbox.base_url, auth(api_key), media_dir
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid request body"}
    assert list((sandbox.config.data_dir / "uploads").iterdir()) == []


AUTH_CASES = [
    ("no-header", {}, "missing authorization header"),
    ("basic-scheme", {"Authorization": "Basic dXNlcjpwYXNz"}, "invalid authorization format"),
    ("bare-token", {"Authorization": "test-key-7f3a9c"}, "invalid authorization format"),
    # h11 refuses a trailing space; servers strip it anyway, so "Bearer " arrives as "Bearer".
    ("bearer-empty", {"Authorization": "Bearer"}, "missing token"),
    ("x-api-key-empty", {"x-api-key": ""}, "missing token"),
    ("bearer-unknown", {"Authorization": "Bearer nope"}, "invalid token"),
    ("x-api-key-unknown", {"x-api-key": "nope"}, "invalid token"),
    ("bearer-revoked", {"Authorization": "Bearer revoked-key"}, "unauthorized"),
    ("x-api-key-revoked", {"x-api-key": "revoked-key"}, "unauthorized"),
]
ENDPOINTS = [
    ("POST", "/v1/lipsync/generate"),
    ("POST", "/v1/lipsync/generate-with-media"),
    ("GET", "/v1/lipsync/requests"),
    ("GET", "/v1/lipsync/requests/some-id"),
    ("GET", "/v1/users/me"),
]


@pytest.fixture
def revoking_sandbox(start_sandbox: StartSandbox, api_key: str) -> Iterator[SandboxThread]:
    yield start_sandbox(
        api_keys={api_key: "Test token", "revoked-key": "Revoked"},
        disabled_keys=frozenset({"revoked-key"}),
    )


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[p for _, p in ENDPOINTS])
@pytest.mark.parametrize(
    ("headers", "message"), [pytest.param(h, m, id=n) for n, h, m in AUTH_CASES]
)
def test_auth_errors_on_every_endpoint(
    revoking_sandbox: SandboxThread,
    client: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    message: str,
) -> None:
    response = client.request(
        method, f"{revoking_sandbox.base_url}{path}", headers=headers, json={}
    )
    assert response.status_code == 401
    assert response.json() == {"error": message}


def test_authorization_header_wins_over_x_api_key(
    sandbox: SandboxThread, client: httpx.Client, api_key: str
) -> None:
    headers = {"Authorization": "Bearer nope", "x-api-key": api_key}
    response = client.get(f"{sandbox.base_url}/v1/users/me", headers=headers)
    assert response.json() == {"error": "invalid token"}


def test_unknown_route_and_wrong_method(sandbox: SandboxThread, client: httpx.Client) -> None:
    missing = client.get(f"{sandbox.base_url}/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not found"}
    wrong = client.delete(f"{sandbox.base_url}/v1/lipsync/requests")
    assert wrong.status_code == 405
    assert wrong.json() == {"error": "method not allowed"}
    assert "GET" in wrong.headers["Allow"]


@pytest.mark.parametrize("endpoint", ["url", "upload"])
def test_quota_counts_created_jobs(
    start_sandbox: StartSandbox,
    client: httpx.Client,
    api_key: str,
    media_dir: Path,
    endpoint: str,
) -> None:
    sandbox = start_sandbox(
        quota=2, queue_delay=60, api_keys={api_key: "Test token", "other": "Other"}
    )
    base = sandbox.base_url

    def generate(key: str) -> httpx.Response:
        if endpoint == "url":
            return url_job(client, base, key, UNREACHABLE, UNREACHABLE)
        return upload(client, base, key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)

    assert [generate(api_key).status_code for _ in range(2)] == [200, 200]
    refused = generate(api_key)
    assert refused.status_code == 402
    assert refused.json() == {"error": "token limit reached"}
    assert generate("other").status_code == 200  # quotas are per key
    # Reads are not generation: they still work at the limit.
    listing = client.get(f"{base}/v1/lipsync/requests", headers=auth(api_key)).json()
    assert listing["pagination"]["total"] == 2


def test_rate_limit_sliding_window_per_key(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str
) -> None:
    sandbox = start_sandbox(rate_limit=3, api_keys={api_key: "Test token", "other": "Other"})
    base = sandbox.base_url
    for _ in range(3):
        assert url_job(client, base, api_key, UNREACHABLE, UNREACHABLE).status_code == 200
    # Reads do not count against the generation limit.
    for _ in range(5):
        assert client.get(f"{base}/v1/lipsync/requests", headers=auth(api_key)).status_code == 200
    limited = url_job(client, base, api_key, UNREACHABLE, UNREACHABLE)
    assert limited.status_code == 429
    assert limited.json() == {"error": "rate limit exceeded"}
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert 0 < int(limited.headers["retry-after-ms"]) <= 60_000
    # Validation failures still count as generation requests: the window stays full.
    assert client.post(f"{base}/v1/lipsync/generate", headers=auth(api_key)).status_code == 429
    assert url_job(client, base, "other", UNREACHABLE, UNREACHABLE).status_code == 200
    listing = client.get(f"{base}/v1/lipsync/requests", headers=auth(api_key)).json()
    assert listing["pagination"]["total"] == 3


def test_rate_limit_zero_means_off(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str
) -> None:
    sandbox = start_sandbox(rate_limit=0)
    codes = {
        url_job(client, sandbox.base_url, api_key, UNREACHABLE, UNREACHABLE).status_code
        for _ in range(8)
    }
    assert codes == {200}


def test_oversize_upload_by_content_length_is_413(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    sandbox = start_sandbox(max_upload_bytes=50_000)
    response = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
    assert response.status_code == 413
    assert response.json() == {"error": "request body too large"}
    _assert_no_job(client, sandbox, api_key)


def test_oversize_chunked_upload_is_counted_while_streaming(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    sandbox = start_sandbox(max_upload_bytes=100_000)
    request = client.build_request(
        "POST",
        f"{sandbox.base_url}/v1/lipsync/generate-with-media",
        headers=auth(api_key),
        files=_media(media_dir, "video", "audio"),
    )
    body = request.read()
    assert len(body) > 100_000

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    headers = {**auth(api_key), "Content-Type": request.headers["Content-Type"]}
    response = client.post(
        f"{sandbox.base_url}/v1/lipsync/generate-with-media", headers=headers, content=chunks()
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413
    assert response.json() == {"error": "request body too large"}
    _assert_no_job(client, sandbox, api_key)


def test_oversize_json_body_is_413(
    start_sandbox: StartSandbox, client: httpx.Client, api_key: str
) -> None:
    sandbox = start_sandbox(max_upload_bytes=100)
    body = json.dumps({"inputs": [VIDEO, AUDIO], "reference_id": "x" * 200})
    response = client.post(
        f"{sandbox.base_url}/v1/lipsync/generate",
        headers={**auth(api_key), "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 413
    assert response.json() == {"error": "request body too large"}


def _assert_no_job(client: httpx.Client, sandbox: SandboxThread, api_key: str) -> None:
    listing = client.get(f"{sandbox.base_url}/v1/lipsync/requests", headers=auth(api_key))
    assert listing.json()["pagination"]["total"] == 0
    assert list((sandbox.config.data_dir / "uploads").iterdir()) == []

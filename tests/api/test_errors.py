"""Every documented error message, as the sandbox sends it, becomes the right exception.

Some messages cannot be provoked through the typed client (it never sends a malformed
body), so these requests are made raw and the answer goes through the same mapping the
client uses (``transport.raise_for_status``).
"""

from __future__ import annotations

import email.utils
from typing import Any

import httpx
import pytest

from chamelaion_desktop.api import (
    APIStatusError,
    AuthenticationError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    TokenLimitError,
    ValidationError,
)
from chamelaion_desktop.api.transport import parse_retry_after, raise_for_status
from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread

KEY = "raw-key"
URL = "http://127.0.0.1:9/x"
GOOD_INPUTS = [{"type": "video", "url": URL}, {"type": "audio", "url": URL}]
MEDIA = "/v1/lipsync/generate-with-media"
GENERATE = "/v1/lipsync/generate"

# (method, path, request kwargs, expected exception, message word for word)
CASES: list[tuple[str, str, dict[str, Any], type[APIStatusError], str]] = [
    ("POST", MEDIA, {"json": {}}, ValidationError, "content-type must be multipart/form-data"),
    (
        "POST",
        MEDIA,
        {"files": {"audio": ("a.wav", b"RIFF", "audio/wav")}},
        ValidationError,
        "video file is required",
    ),
    (
        "POST",
        MEDIA,
        {"files": {"video": ("v.mp4", b"\0\0", "video/mp4")}},
        ValidationError,
        "audio file is required",
    ),
    (
        "POST",
        MEDIA,
        {
            "files": {
                "video": ("v.mp4", b"\0", "video/mp4"),
                "audio": ("a.wav", b"R", "audio/wav"),
            },
            "data": {"model": "lipsync-1"},
        },
        ValidationError,
        'model must be "lipsync-2"',
    ),
    (
        "POST",
        GENERATE,
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        ValidationError,
        "invalid request body",
    ),
    (
        "POST",
        GENERATE,
        {"data": {"inputs": "x"}},
        ValidationError,
        "content-type must be application/json",
    ),
    (
        "POST",
        GENERATE,
        {"json": {"inputs": [{"type": "audio", "url": URL}] * 2}},
        ValidationError,
        "expected exactly one video input",
    ),
    (
        "POST",
        GENERATE,
        {"json": {"inputs": [{"type": "video", "url": URL}]}},
        ValidationError,
        "expected exactly one audio input",
    ),
    (
        "POST",
        GENERATE,
        {"json": {"inputs": [*GOOD_INPUTS, {"type": "image", "url": URL}]}},
        ValidationError,
        'input type must be "video" or "audio"',
    ),
    ("GET", "/v1/lipsync/requests/nope", {}, NotFoundError, "lipsync request not found"),
]

AUTH_CASES: list[tuple[dict[str, str], str]] = [
    ({}, "missing authorization header"),
    ({"Authorization": f"Token {KEY}"}, "invalid authorization format"),
    ({"Authorization": "Bearer"}, "missing token"),
    ({"x-api-key": ""}, "missing token"),
    ({"x-api-key": "wrong"}, "invalid token"),
    ({"Authorization": "Bearer wrong"}, "invalid token"),
    ({"x-api-key": "revoked"}, "unauthorized"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = SandboxConfig(
        data_dir=tmp_path_factory.mktemp("sandbox"),
        api_keys={KEY: "Raw", "revoked": "Old"},
        disabled_keys=frozenset({"revoked"}),
        max_upload_bytes=64 * 1024,
    )
    with SandboxThread(config) as running:
        yield running


def answer(server: SandboxThread, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"x-api-key": KEY, **kwargs.pop("headers", {})}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        return http.request(method, server.base_url + path, headers=headers, **kwargs)


@pytest.mark.parametrize(("method", "path", "kwargs", "kind", "message"), CASES)
def test_documented_messages_map_to_exceptions(
    server: SandboxThread,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    kind: type[APIStatusError],
    message: str,
) -> None:
    response = answer(server, method, path, **kwargs)
    with pytest.raises(kind) as info:
        raise_for_status(response)
    assert info.value.message == message


@pytest.mark.parametrize(("headers", "message"), AUTH_CASES)
def test_authentication_messages(
    server: SandboxThread, headers: dict[str, str], message: str
) -> None:
    with httpx.Client(timeout=10) as http:
        response = http.get(server.base_url + "/v1/users/me", headers=headers)
    with pytest.raises(AuthenticationError) as info:
        raise_for_status(response)
    assert info.value.message == message


def test_quota_rate_and_server_errors(tmp_path: Any) -> None:
    config = SandboxConfig(data_dir=tmp_path, api_keys={KEY: "Raw"}, quota=0, rate_limit=1)
    with SandboxThread(config) as running:
        body = {"json": {"inputs": GOOD_INPUTS}}
        with pytest.raises(TokenLimitError, match="token limit reached"):
            raise_for_status(answer(running, "POST", GENERATE, **body))
        with pytest.raises(RateLimitError, match="rate limit exceeded") as info:
            raise_for_status(answer(running, "POST", GENERATE, **body))
        assert info.value.retry_after is not None and info.value.retry_after > 0
        running.faults.error_rate = 1.0
        with pytest.raises(ServerError, match="internal error"):
            raise_for_status(answer(running, "GET", "/v1/lipsync/requests"))


def test_oversized_upload_is_payload_too_large(server: SandboxThread) -> None:
    files = {
        "video": ("v.mp4", b"\0" * 200_000, "video/mp4"),
        "audio": ("a.wav", b"RIFF", "audio/wav"),
    }
    with pytest.raises(PayloadTooLargeError):
        raise_for_status(answer(server, "POST", MEDIA, files=files))


def test_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    assert parse_retry_after(httpx.Headers({"retry-after": "7"})) == 7.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(httpx.Headers({"retry-after": date}), now=1_000_000) == 30.0
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert parse_retry_after(httpx.Headers({})) is None


def test_non_json_error_body_still_explains_the_status() -> None:
    response = httpx.Response(502, content=b"<html>bad gateway</html>")
    with pytest.raises(ServerError) as info:
        raise_for_status(response)
    assert info.value.message == "the server answered HTTP 502 Bad Gateway"

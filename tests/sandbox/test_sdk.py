"""The vendor's SDK (``chamelaion`` 2.0.0) cannot tell the sandbox from the real service."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import chamelaion
import httpx
import pytest
from chamelaion.types import HealthCheckResponse, LipsyncGenerate, UserRetrieveCurrentResponse
from chamelaion.types.lipsync import LipsyncRequest, RequestListResponse
from chamelaion.types.lipsync_generate_params import Input

from chamelaion_desktop.sandbox import Sandbox, SandboxConfig, SandboxThread

from ._support import AUDIO_5S, UNREACHABLE, VIDEO_3S, static_server
from .conftest import StartSandbox


@pytest.fixture
def sdk(sandbox: SandboxThread, api_key: str) -> Iterator[chamelaion.Chamelaion]:
    with chamelaion.Chamelaion(base_url=sandbox.base_url, api_key=api_key, max_retries=0) as client:
        yield client


def _wait(sdk: chamelaion.Chamelaion, request_id: str) -> LipsyncRequest:
    deadline = time.monotonic() + 20
    while True:
        job = sdk.lipsync.requests.retrieve(request_id)
        if job.status in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_health_and_user(sdk: chamelaion.Chamelaion) -> None:
    health = sdk.health.check()
    assert isinstance(health, HealthCheckResponse)
    assert health.status == "ok"
    user = sdk.users.retrieve_current()
    assert isinstance(user, UserRetrieveCurrentResponse)
    assert user.name == "Test token"


def test_bearer_token_authenticates(sandbox: SandboxThread, api_key: str) -> None:
    with chamelaion.Chamelaion(
        base_url=sandbox.base_url, bearer_token=api_key, max_retries=0
    ) as client:
        assert client.users.retrieve_current().name == "Test token"
        listing = client.lipsync.requests.list()
    assert listing.pagination.total == 0


def test_generate_with_media_paths_and_open_files(
    sdk: chamelaion.Chamelaion, media_dir: Path
) -> None:
    by_path = sdk.lipsync.generate_with_media(
        video=media_dir / VIDEO_3S,
        audio=media_dir / AUDIO_5S,
        disable_active_speaker_detection=True,
        reference_id="sdk-upload",
    )
    assert isinstance(by_path, LipsyncGenerate)
    assert by_path.status == "success"
    with (media_dir / VIDEO_3S).open("rb") as video, (media_dir / AUDIO_5S).open("rb") as audio:
        by_file = sdk.lipsync.generate_with_media(video=video, audio=audio)
    assert by_file.request_id != by_path.request_id

    job = _wait(sdk, by_path.request_id)
    assert isinstance(job, LipsyncRequest)
    assert job.id == by_path.request_id
    assert job.status == "completed"
    assert job.reference_id == "sdk-upload"
    assert job.error_message is None
    assert job.created_at.tzinfo is not None
    assert job.created_at.utcoffset() == UTC.utcoffset(None)
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert job.output_url is not None
    download = httpx.get(job.output_url)
    assert download.status_code == 200
    assert download.content[4:8] == b"ftyp"

    by_reference = sdk.lipsync.requests.retrieve("sdk-upload")
    assert by_reference.id == by_path.request_id


def test_generate_from_urls(sdk: chamelaion.Chamelaion, media_dir: Path) -> None:
    with static_server(media_dir) as origin:
        created = sdk.lipsync.generate(
            inputs=[
                {"type": "video", "url": f"{origin}/{VIDEO_3S}"},
                {"type": "audio", "url": f"{origin}/{AUDIO_5S}"},
            ],
            reference_id="sdk-urls",
        )
        job = _wait(sdk, created.request_id)
    assert job.status == "completed"
    assert job.reference_id == "sdk-urls"
    failing = sdk.lipsync.generate(
        inputs=[{"type": "video", "url": UNREACHABLE}, {"type": "audio", "url": UNREACHABLE}]
    )
    failed = _wait(sdk, failing.request_id)
    assert failed.status == "failed"
    assert failed.error_message == "video URL is not accessible"
    assert failed.output_url is None
    assert failed.reference_id is None


def test_list_with_limit_offset_reference(sdk: chamelaion.Chamelaion) -> None:
    inputs: list[Input] = [
        {"type": "video", "url": UNREACHABLE},
        {"type": "audio", "url": UNREACHABLE},
    ]
    references = ["even", "odd", "even", "odd"]
    ids = [sdk.lipsync.generate(inputs=inputs, reference_id=ref).request_id for ref in references]
    page = sdk.lipsync.requests.list(limit=2, offset=1)
    assert isinstance(page, RequestListResponse)
    assert [job.id for job in page.data] == [ids[2], ids[1]]
    assert (page.pagination.limit, page.pagination.offset, page.pagination.total) == (2, 1, 4)
    even = sdk.lipsync.requests.list(reference_id="even")
    assert [job.id for job in even.data] == [ids[2], ids[0]]
    assert even.pagination.total == 2
    assert sdk.lipsync.requests.retrieve("even").id == ids[2]


def test_typed_errors(sandbox: SandboxThread, sdk: chamelaion.Chamelaion) -> None:
    with pytest.raises(chamelaion.NotFoundError) as not_found:
        sdk.lipsync.requests.retrieve("no-such-request")
    assert not_found.value.status_code == 404
    assert not_found.value.body == {"error": "lipsync request not found"}

    with pytest.raises(chamelaion.BadRequestError) as bad:
        sdk.lipsync.generate(inputs=[{"type": "audio", "url": UNREACHABLE}])
    assert bad.value.body == {"error": "expected exactly one video input"}

    with (
        chamelaion.Chamelaion(
            base_url=sandbox.base_url, api_key="wrong-key", max_retries=0
        ) as wrong,
        pytest.raises(chamelaion.AuthenticationError) as unauthenticated,
    ):
        wrong.users.retrieve_current()
    assert unauthenticated.value.status_code == 401
    assert unauthenticated.value.body == {"error": "invalid token"}
    assert "wrong-key" not in str(unauthenticated.value)

    sandbox.faults.force_429 = 1
    with pytest.raises(chamelaion.RateLimitError) as limited:
        sdk.users.retrieve_current()
    assert limited.value.response.headers["Retry-After"] == "1"

    sandbox.faults.error_rate = 1.0
    with pytest.raises(chamelaion.InternalServerError) as internal:
        sdk.lipsync.requests.list()
    assert internal.value.body == {"error": "internal error"}
    sandbox.faults.error_rate = 0.0


def test_quota_is_a_402_status_error(
    start_sandbox: StartSandbox, api_key: str, media_dir: Path
) -> None:
    sandbox = start_sandbox(quota=0)
    with (
        chamelaion.Chamelaion(base_url=sandbox.base_url, api_key=api_key, max_retries=0) as sdk,
        pytest.raises(chamelaion.APIStatusError) as refused,
    ):
        sdk.lipsync.generate_with_media(video=media_dir / VIDEO_3S, audio=media_dir / AUDIO_5S)
    assert refused.value.status_code == 402
    assert refused.value.body == {"error": "token limit reached"}


def test_sdk_retry_honours_retry_after(sandbox: SandboxThread, api_key: str) -> None:
    sandbox.faults.force_429 = 1
    with chamelaion.Chamelaion(base_url=sandbox.base_url, api_key=api_key, max_retries=1) as sdk:
        started = time.monotonic()
        assert sdk.users.retrieve_current().name == "Test token"
    assert time.monotonic() - started >= 0.9  # waited the advertised second, not its own backoff
    assert sandbox.faults.force_429 == 0


async def test_async_sdk_against_async_sandbox(
    sandbox_config: SandboxConfig, api_key: str, media_dir: Path
) -> None:
    async with (
        Sandbox(sandbox_config) as server,
        chamelaion.AsyncChamelaion(base_url=server.base_url, api_key=api_key, max_retries=0) as sdk,
    ):
        assert server.faults is sandbox_config.faults
        assert (await sdk.health.check()).status == "ok"
        created = await sdk.lipsync.generate(
            inputs=[{"type": "video", "url": UNREACHABLE}, {"type": "audio", "url": UNREACHABLE}],
            reference_id="async",
        )
        job = await sdk.lipsync.requests.retrieve(created.request_id)
        assert job.status == "queued"
        assert job.reference_id == "async"

"""The API client against the real sandbox over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from chamelaion_desktop.api import (
    APIConnectionError,
    AuthenticationError,
    ChamelaionClient,
    DownloadError,
    LipsyncRequest,
    NotFoundError,
    RateLimitError,
    ServerError,
    TokenLimitError,
    ValidationError,
)
from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread
from tests.conftest import API_KEY_NAME

UNREACHABLE = "http://127.0.0.1:9/unreachable.mp4"


@pytest.fixture
async def client(sandbox: SandboxThread, api_key: str) -> AsyncIterator[ChamelaionClient]:
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, max_retries=0) as c:
        yield c


def media_duration(path: Path) -> tuple[float, bool, bool]:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return (
            container.duration / 1_000_000,
            bool(container.streams.video),
            bool(container.streams.audio),
        )


async def test_health_and_whoami(client: ChamelaionClient) -> None:
    assert (await client.health()).ok
    assert (await client.whoami()).name == API_KEY_NAME


async def test_bearer_auth_is_accepted(sandbox: SandboxThread, api_key: str) -> None:
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, auth="bearer") as c:
        assert (await c.whoami()).name == API_KEY_NAME


async def test_key_and_base_url_come_from_the_environment(
    sandbox: SandboxThread, api_key: str
) -> None:
    env = {"CHAMELAION_API_KEY": api_key, "CHAMELAION_BASE_URL": sandbox.base_url}
    async with ChamelaionClient(environ=env) as c:
        assert c.base_url == sandbox.base_url
        assert (await c.whoami()).name == API_KEY_NAME
    async with ChamelaionClient(environ={}) as c:
        assert c.base_url == "https://api.chamelaion.com/api"


async def test_upload_with_real_media_completes_and_downloads(
    client: ChamelaionClient, media_dir: Path, tmp_path: Path
) -> None:
    audio = media_dir / "fleurs_es419_006_spanish_5.6s.wav"
    progress: list[tuple[int, int]] = []
    created = await client.generate_with_media(
        media_dir / "grid_s2_male_2sentences_6s.mp4",
        audio,
        reference_id="dub-es-001",
        disable_active_speaker_detection=True,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert created.status == "success"
    total = progress[-1][1]
    assert progress[-1] == (total, total)
    assert total > audio.stat().st_size

    statuses: list[str] = []
    job = await client.wait_for(
        created.request_id,
        poll_interval=0.05,
        timeout=60,
        on_update=lambda r: statuses.append(r.status),
    )
    assert job.status == "completed", job.error_message
    assert statuses[-1] == "completed"
    assert job.reference_id == "dub-es-001"
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert job.created_at.tzinfo == UTC
    assert abs(job.created_at - datetime.now(UTC)) < timedelta(minutes=1)

    written: list[int] = []
    folder = tmp_path / "exports"
    folder.mkdir()
    out = await client.download_output(job, folder, progress=lambda d, t: written.append(d))
    assert out == folder / "dub-es-001.mp4"
    duration, has_video, has_audio = media_duration(out)
    assert has_video and has_audio
    assert duration == pytest.approx(5.64, abs=0.1)
    assert written[-1] == out.stat().st_size
    assert [p.name for p in folder.iterdir()] == ["dub-es-001.mp4"]


async def test_download_refreshes_an_expired_output_url(
    sandbox_config: SandboxConfig, api_key: str, media_dir: Path, tmp_path: Path
) -> None:
    sandbox_config.url_ttl = 0.5
    with SandboxThread(sandbox_config) as server:
        async with ChamelaionClient(api_key, base_url=server.base_url) as c:
            created = await c.generate_with_media(
                media_dir / "grid_female_brbk7n_3s.mp4", media_dir / "jfk_en_11s.mp3"
            )
            job = await c.wait_for(created.request_id, poll_interval=0.05, timeout=60)
            assert job.status == "completed", job.error_message
            await asyncio.sleep(1.2)  # the link in `job` has expired now
            out = await c.download_output(job, tmp_path / "jfk.mp4")
    duration, has_video, has_audio = media_duration(out)
    assert has_video and has_audio
    assert duration == pytest.approx(11.0, abs=0.1)


async def test_download_of_unfinished_job_says_so(client: ChamelaionClient, tmp_path: Path) -> None:
    created = await client.generate(UNREACHABLE, UNREACHABLE)
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(DownloadError, match="no output"):
        await client.download_output(created.request_id, folder / "x.mp4")
    assert list(folder.iterdir()) == []


async def test_cancelled_download_leaves_no_file(
    client: ChamelaionClient, media_dir: Path, tmp_path: Path
) -> None:
    created = await client.generate_with_media(
        media_dir / "grid_female_brbk7n_3s.mp4", media_dir / "jfk_en_11s.wav"
    )
    job = await client.wait_for(created.request_id, poll_interval=0.05, timeout=60)
    task: asyncio.Task[Path] | None = None

    def cancel_on_first_chunk(done: int, total: int) -> None:
        assert task is not None
        task.cancel()

    folder = tmp_path / "exports"
    folder.mkdir()
    task = asyncio.create_task(
        client.download_output(job, folder / "out.mp4", progress=cancel_on_first_chunk)
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)  # the writer thread removes the .part file
    assert list(folder.iterdir()) == []


async def test_failed_job_carries_the_server_error_message(client: ChamelaionClient) -> None:
    created = await client.generate(UNREACHABLE, "http://127.0.0.1:9/a.wav", reference_id="url-1")
    job = await client.wait_for(created.request_id, poll_interval=0.05, timeout=60)
    assert job.status == "failed"
    assert job.error_message == "video URL is not accessible"
    assert job.output_url is None


async def test_pagination_across_three_pages_of_45_jobs(client: ChamelaionClient) -> None:
    ids = [
        (await client.generate(UNREACHABLE, UNREACHABLE, reference_id=f"batch-{i:02d}")).request_id
        for i in range(45)
    ]
    pages = [await client.list_requests(limit=20, offset=offset) for offset in (0, 20, 40)]
    assert [len(p.data) for p in pages] == [20, 20, 5]
    assert all(p.pagination.total == 45 for p in pages)
    assert [p.next_offset for p in pages] == [20, 40, None]
    listed = [r.id for p in pages for r in p.data]
    assert listed == ids[::-1]  # newest first, nothing twice, nothing missing
    assert [r.id async for r in client.iter_requests(page_size=7)] == listed


async def test_lookup_by_reference_id(client: ChamelaionClient) -> None:
    first = await client.generate(UNREACHABLE, UNREACHABLE, reference_id="episode-42")
    await client.generate(UNREACHABLE, UNREACHABLE, reference_id="other")
    second = await client.generate(UNREACHABLE, UNREACHABLE, reference_id="episode-42")

    page = await client.list_requests(reference_id="episode-42")
    assert [r.id for r in page.data] == [second.request_id, first.request_id]
    assert page.pagination.total == 2
    newest = await client.get_request("episode-42")
    assert newest.id == second.request_id
    assert (await client.get_request(first.request_id)).reference_id == "episode-42"


async def test_not_found(client: ChamelaionClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.get_request("no-such-request")
    assert info.value.message == "lipsync request not found"
    assert info.value.status_code == 404


async def test_rejected_keys(sandbox_config: SandboxConfig) -> None:
    sandbox_config.api_keys = {"good": "Good", "revoked": "Revoked"}
    sandbox_config.disabled_keys = frozenset({"revoked"})
    with SandboxThread(sandbox_config) as server:
        cases = {
            "": "missing authorization header",
            "bogus": "invalid token",
            "revoked": "unauthorized",
        }
        for key, message in cases.items():
            async with ChamelaionClient(key, base_url=server.base_url, environ={}) as c:
                with pytest.raises(AuthenticationError) as info:
                    await c.whoami()
                assert info.value.message == message
                assert info.value.status_code == 401
                if key:
                    assert key not in str(info.value) and key not in repr(info.value)
                    assert key not in repr(c)


async def test_bad_model_is_a_validation_error(client: ChamelaionClient, media_dir: Path) -> None:
    with pytest.raises(ValidationError) as info:
        await client.generate_with_media(
            media_dir / "grid_female_brbk7n_3s.mp4", media_dir / "jfk_en_11s.wav", model="lipsync-9"
        )
    assert info.value.message == 'model must be "lipsync-2"'
    assert (await client.list_requests()).pagination.total == 0


async def test_token_limit(sandbox_config: SandboxConfig, api_key: str) -> None:
    sandbox_config.quota = 1
    with SandboxThread(sandbox_config) as server:
        async with ChamelaionClient(api_key, base_url=server.base_url) as c:
            await c.generate(UNREACHABLE, UNREACHABLE)
            with pytest.raises(TokenLimitError) as info:
                await c.generate(UNREACHABLE, UNREACHABLE)
            assert info.value.message == "token limit reached"
            assert (await c.list_requests()).pagination.total == 1


async def test_rate_limit_reports_retry_after(sandbox_config: SandboxConfig, api_key: str) -> None:
    sandbox_config.rate_limit = 3
    with SandboxThread(sandbox_config) as server:
        async with ChamelaionClient(api_key, base_url=server.base_url, max_retries=0) as c:
            for _ in range(3):
                await c.generate(UNREACHABLE, UNREACHABLE)
            with pytest.raises(RateLimitError) as info:
                await c.generate(UNREACHABLE, UNREACHABLE)
            assert info.value.message == "rate limit exceeded"
            assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
            # Reads are not rate limited: the queue can still be watched.
            assert (await c.list_requests()).pagination.total == 3


async def test_get_retries_through_a_forced_429(sandbox: SandboxThread, api_key: str) -> None:
    sandbox.faults.force_429 = 1
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, max_retries=2) as c:
        assert (await c.whoami()).name == API_KEY_NAME
    assert sandbox.faults.force_429 == 0


async def test_server_errors_surface_after_retries(sandbox: SandboxThread, api_key: str) -> None:
    sandbox.faults.error_rate = 1.0
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, max_retries=1) as c:
        with pytest.raises(ServerError) as info:
            await c.list_requests()
    assert info.value.message == "internal error"
    assert info.value.status_code == 500


async def test_post_is_not_retried_when_the_answer_is_lost(
    sandbox: SandboxThread, api_key: str
) -> None:
    sandbox.faults.drop_after_create = 1
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, max_retries=2) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.generate(UNREACHABLE, UNREACHABLE, reference_id="lost-answer")
        assert info.value.request_sent
        # The job exists exactly once: a blind retry would have made a second, paid one.
        page = await c.list_requests(reference_id="lost-answer")
        assert page.pagination.total == 1


async def test_upload_dropped_midway_creates_no_job(
    sandbox: SandboxThread, api_key: str, media_dir: Path
) -> None:
    sandbox.faults.drop_uploads = 1
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, max_retries=2) as c:
        with pytest.raises(APIConnectionError):
            await c.generate_with_media(
                media_dir / "pexels_3063838_woman_expressions_no_speech_20s.mp4",
                media_dir / "jfk_en_11s.wav",
            )
        assert (await c.list_requests()).pagination.total == 0


async def test_unreachable_server_is_retried_then_explained() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        async with ChamelaionClient(
            "k", base_url=f"http://127.0.0.1:{port}/api", max_retries=1
        ) as c:
            with pytest.raises(APIConnectionError) as info:
                await c.generate(UNREACHABLE, UNREACHABLE)
    assert not info.value.request_sent
    assert "Could not connect to 127.0.0.1" in info.value.message


async def test_cancelled_upload_creates_no_job(
    sandbox: SandboxThread, api_key: str, media_dir: Path
) -> None:
    sandbox.faults.latency = 0.0
    async with ChamelaionClient(api_key, base_url=sandbox.base_url) as c:
        task = asyncio.create_task(
            c.generate_with_media(
                media_dir / "pexels_3063838_woman_expressions_no_speech_20s.mp4",
                media_dir / "jfk_en_11s.wav",
                progress=lambda done, total: task.cancel() if done > total // 2 else None,
            )
        )
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)
        assert (await c.list_requests()).pagination.total == 0


async def test_the_key_never_reaches_the_log(
    client: ChamelaionClient, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.whoami()
    await client.list_requests(limit=1)
    with pytest.raises(NotFoundError):
        await client.get_request("missing")
    assert caplog.records  # something was logged, and none of it is the key
    assert api_key not in caplog.text


def test_request_model_keeps_unknown_statuses_and_ignores_unknown_fields() -> None:
    job = LipsyncRequest.from_json(
        {
            "id": "6f82a2d8-a6d4-4e8a-a0fa-e8b09823a2d8",
            "created_at": "2026-04-07T10:00:00Z",
            "started_at": "2026-04-07T12:00:05+02:00",
            "status": "uploading",
            "brand_new_field": {"x": 1},
        }
    )
    assert job.status == "uploading"
    assert not job.is_terminal
    assert job.started_at == datetime(2026, 4, 7, 10, 0, 5, tzinfo=UTC)

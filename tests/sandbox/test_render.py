"""Real renders with PyAV: picture of the video, sound of the audio, length of the audio."""

from __future__ import annotations

from pathlib import Path

import av
import httpx
import pytest

from chamelaion_desktop.sandbox import SandboxThread

from ._support import (
    AUDIO_5S,
    AUDIO_11S,
    UNREACHABLE,
    VIDEO_3S,
    VIDEO_6S,
    static_server,
    upload,
    url_job,
    wait_for,
)


def _download(client: httpx.Client, url: str, target: Path) -> Path:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content) > 1000
    target.write_bytes(response.content)
    return target


def _probe(path: Path) -> tuple[float, dict[str, str], tuple[int, int]]:
    """(duration in seconds, {stream type: codec}, video (width, height))."""
    with av.open(str(path)) as container:
        assert container.duration is not None
        codecs = {str(stream.type): stream.codec_context.name for stream in container.streams}
        video = container.streams.video[0].codec_context
        return container.duration / 1_000_000, codecs, (video.width, video.height)


@pytest.mark.parametrize(
    ("video", "audio", "seconds"),
    [
        pytest.param(VIDEO_6S, AUDIO_5S, 5.64, id="audio-shorter-trims"),
        pytest.param(VIDEO_3S, AUDIO_11S, 11.0, id="audio-longer-loops"),
    ],
)
def test_render_is_as_long_as_the_audio(
    sandbox: SandboxThread,
    client: httpx.Client,
    api_key: str,
    media_dir: Path,
    tmp_path: Path,
    video: str,
    audio: str,
    seconds: float,
) -> None:
    response = upload(client, sandbox.base_url, api_key, media_dir / video, media_dir / audio)
    assert response.status_code == 200, response.text
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    assert job["status"] == "completed", job
    output = _download(client, job["output_url"], tmp_path / "out.mp4")
    duration, codecs, size = _probe(output)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert size == (360, 288)  # the input's resolution
    assert duration == pytest.approx(seconds, abs=0.1)


def test_download_supports_range_requests(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path
) -> None:
    response = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, media_dir / AUDIO_5S)
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    partial = client.get(job["output_url"], headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206
    assert len(partial.content) == 100
    assert partial.content[4:8] == b"ftyp"


def test_text_file_named_mp4_fails_plainly(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    response = upload(client, sandbox.base_url, api_key, fake, media_dir / AUDIO_5S)
    assert response.status_code == 200  # accepted; it fails while processing
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    assert job["status"] == "failed"
    assert job["error_message"] == "the video file could not be decoded"
    assert "output_url" not in job
    assert "finished_at" in job and "started_at" in job


def test_audio_without_audio_stream_fails_plainly(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path, tmp_path: Path
) -> None:
    # A video-only MP4, cut from the sample with PyAV.
    silent = tmp_path / "silent.mp4"
    with av.open(str(media_dir / VIDEO_3S)) as source, av.open(str(silent), "w") as target:
        in_stream = source.streams.video[0]
        out_stream = target.add_stream_from_template(in_stream)
        for packet in source.demux(in_stream):
            if packet.dts is not None:
                packet.stream = out_stream
                target.mux(packet)
    response = upload(client, sandbox.base_url, api_key, media_dir / VIDEO_3S, silent)
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    assert job["status"] == "failed"
    assert job["error_message"] == "the audio file has no audio stream"

    response = upload(client, sandbox.base_url, api_key, media_dir / AUDIO_5S, media_dir / AUDIO_5S)
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    assert job["error_message"] == "the video file has no video stream"


def test_url_job_fetches_and_renders(
    sandbox: SandboxThread, client: httpx.Client, api_key: str, media_dir: Path, tmp_path: Path
) -> None:
    with static_server(media_dir) as origin:
        response = url_job(
            client,
            sandbox.base_url,
            api_key,
            f"{origin}/{VIDEO_3S}",
            f"{origin}/{AUDIO_5S}",
            reference_id="from-urls",
        )
        assert response.status_code == 200, response.text
        job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
        assert job["status"] == "completed", job

        # The sandbox's own signed link is a valid input too.
        again = url_job(
            client, sandbox.base_url, api_key, job["output_url"], f"{origin}/{AUDIO_5S}"
        )
        second = wait_for(client, sandbox.base_url, api_key, again.json()["request_id"])
        assert second["status"] == "completed", second

        missing = url_job(
            client, sandbox.base_url, api_key, f"{origin}/{VIDEO_3S}", f"{origin}/missing.wav"
        )
        failed = wait_for(client, sandbox.base_url, api_key, missing.json()["request_id"])
    assert failed["status"] == "failed"
    assert failed["error_message"] == "audio URL is not accessible"
    duration, codecs, _ = _probe(_download(client, job["output_url"], tmp_path / "out.mp4"))
    assert codecs == {"video": "h264", "audio": "aac"}
    assert duration == pytest.approx(5.64, abs=0.1)


def test_unreachable_url_fails(sandbox: SandboxThread, client: httpx.Client, api_key: str) -> None:
    response = url_job(client, sandbox.base_url, api_key, UNREACHABLE, UNREACHABLE)
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    assert job["status"] == "failed"
    assert job["error_message"] == "video URL is not accessible"


def test_non_http_url_fails(sandbox: SandboxThread, client: httpx.Client, api_key: str) -> None:
    response = url_job(client, sandbox.base_url, api_key, "file:///etc/passwd", UNREACHABLE)
    job = wait_for(client, sandbox.base_url, api_key, response.json()["request_id"])
    assert job["error_message"] == "video URL is not accessible"

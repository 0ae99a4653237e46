"""Helpers for sandbox tests: polling, uploads, a tiny static file server on loopback."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

TERMINAL = ("completed", "failed")
VIDEO_6S = "grid_s2_male_2sentences_6s.mp4"
VIDEO_3S = "grid_female_brbk7n_3s.mp4"
AUDIO_5S = "fleurs_es419_006_spanish_5.6s.wav"
AUDIO_11S = "jfk_en_11s.mp3"
UNREACHABLE = "http://127.0.0.1:1/x.mp4"


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def upload(
    client: httpx.Client,
    base_url: str,
    key: str,
    video: Path,
    audio: Path,
    **fields: str,
) -> httpx.Response:
    """POST generate-with-media with two files from disk (streamed by httpx)."""
    with video.open("rb") as video_file, audio.open("rb") as audio_file:
        return client.post(
            f"{base_url}/v1/lipsync/generate-with-media",
            headers=auth(key),
            files={"video": (video.name, video_file), "audio": (audio.name, audio_file)},
            data=fields,
        )


def url_job(
    client: httpx.Client, base_url: str, key: str, video_url: str, audio_url: str, **extra: Any
) -> httpx.Response:
    body = {
        "inputs": [{"type": "video", "url": video_url}, {"type": "audio", "url": audio_url}],
        **extra,
    }
    return client.post(f"{base_url}/v1/lipsync/generate", headers=auth(key), json=body)


def wait_for(
    client: httpx.Client,
    base_url: str,
    key: str,
    request_id: str,
    statuses: tuple[str, ...] = TERMINAL,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """Poll GET /requests/{id} until its status is one of ``statuses``; returns the JSON."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{base_url}/v1/lipsync/requests/{request_id}", headers=auth(key))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"request {request_id} stuck in {body['status']}")
        time.sleep(0.02)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on a free loopback port; yields ``http://127.0.0.1:PORT``."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

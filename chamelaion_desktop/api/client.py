"""The async client of the Chamelaion lip-sync API, on ``httpx.AsyncClient``.

Source: ``shared/api/API.md`` (every endpoint, both auth headers, the error bodies). No Qt:
the GUI drives it on the qasync loop, the CLI with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from .download import LinkExpired, download_to
from .errors import DownloadError, ResponseFormatError
from .models import Health, LipsyncGenerate, LipsyncRequest, RequestPage, User
from .multipart import FilePart, MultipartUpload, ProgressCallback
from .transport import (
    is_retryable_generation,
    is_retryable_read,
    raise_for_status,
    retrying,
    translate_transport_error,
)
from .urls import ENV_API_KEY, ENV_BASE_URL, PRODUCTION_URL, STAGING_URL

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "PRODUCTION_URL",
    "STAGING_URL",
    "UPLOAD_TIMEOUT",
    "AuthScheme",
    "ChamelaionClient",
]

log = logging.getLogger(__name__)

#: The SDK's defaults: 60 s, 5 s to connect. Uploads get no write timeout (big files).
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
UPLOAD_TIMEOUT = httpx.Timeout(60.0, connect=5.0, write=None)

AuthScheme = Literal["x-api-key", "bearer"]


class ChamelaionClient:
    """The six endpoints of API.md, typed, with safe retries and a streamed upload.

    Args:
        api_key: the API token; ``None`` reads ``CHAMELAION_API_KEY``. With no key at all,
            authenticated calls fail with ``AuthenticationError`` from the server.
        base_url: e.g. ``https://api.chamelaion.com/api``; ``None`` reads
            ``CHAMELAION_BASE_URL``, then falls back to production.
        auth: ``"x-api-key"`` (default) or ``"bearer"`` (``Authorization: Bearer``).
        timeout: seconds or an ``httpx.Timeout`` for ordinary calls (default 60 s, 5 s
            connect); uploads never time out while writing.
        max_retries: repeats after a retryable failure (see ``transport``).
        http_client: an ``httpx.AsyncClient`` to use (not closed by us); one is made
            and owned otherwise.
        environ: where to read the environment variables (tests pass a dict).

    The key is sent only to ``base_url``; never to an ``output_url``, never into a log
    line, ``repr`` or exception.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        auth: AuthScheme = "x-api-key",
        timeout: httpx.Timeout | float | None = None,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self._api_key = api_key if api_key is not None else env.get(ENV_API_KEY) or None
        self.base_url = (base_url or env.get(ENV_BASE_URL) or PRODUCTION_URL).rstrip("/")
        self.auth: AuthScheme = auth
        self.max_retries = max_retries
        if timeout is None:
            self._timeout = DEFAULT_TIMEOUT
        elif isinstance(timeout, httpx.Timeout):
            self._timeout = timeout
        else:
            self._timeout = httpx.Timeout(timeout, connect=min(5.0, timeout))
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False, trust_env=False
        )

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return f"ChamelaionClient(base_url={self.base_url!r}, auth={self.auth!r}, api_key=<{key}>)"

    @property
    def has_api_key(self) -> bool:
        """True when a key will be sent with authenticated calls."""
        return bool(self._api_key)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool, if this client made it."""
        if self._owns_http:
            await self._http.aclose()

    # -- plumbing -------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        if not self._api_key:
            return {}
        if self.auth == "bearer":
            return {"Authorization": f"Bearer {self._api_key}"}
        return {"x-api-key": self._api_key}

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool = True,
        params: Mapping[str, str | int] | None = None,
        json_body: object | None = None,
        content: MultipartUpload | None = None,
        request_timeout: httpx.Timeout | None = None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if authenticated:
            headers.update(self._auth_headers())
        if content is not None:
            headers.update(content.headers)
        try:
            response = await self._http.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json_body,
                content=content,
                headers=headers,
                timeout=request_timeout or self._timeout,
            )
        except httpx.TransportError as exc:
            log.info("%s %s failed: %s", method, path, type(exc).__name__)
            raise translate_transport_error(exc) from exc
        log.debug("%s %s -> %d", method, path, response.status_code)
        raise_for_status(response)
        try:
            return response.json()
        except ValueError as exc:
            raise ResponseFormatError(f"{method} {path}: the answer is not JSON") from exc

    async def _get(
        self,
        path: str,
        *,
        authenticated: bool = True,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> Any:
        retries = self.max_retries if max_retries is None else max_retries
        async for attempt in retrying(retries, is_retryable_read):
            with attempt:
                return await self._send_once("GET", path, authenticated=authenticated, **kwargs)
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def _post_generation(self, path: str, **kwargs: Any) -> LipsyncGenerate:
        async for attempt in retrying(self.max_retries, is_retryable_generation):
            with attempt:
                return LipsyncGenerate.from_json(await self._send_once("POST", path, **kwargs))
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    # -- endpoints ------------------------------------------------------------------

    async def health(self) -> Health:
        """``GET /health`` (no auth). Raises ``APIConnectionError`` when unreachable."""
        return Health.from_json(await self._get("/health", authenticated=False))

    async def whoami(self) -> User:
        """``GET /v1/users/me``: the token's display name; ``AuthenticationError`` if rejected."""
        return User.from_json(await self._get("/v1/users/me"))

    async def generate(
        self,
        video_url: str,
        audio_url: str,
        *,
        disable_active_speaker_detection: bool | None = None,
        reference_id: str | None = None,
    ) -> LipsyncGenerate:
        """``POST /v1/lipsync/generate``: a job from a public video URL and audio URL.

        Raises:
            ValidationError, AuthenticationError, TokenLimitError, RateLimitError (after
            retries), ServerError, APIConnectionError (``request_sent`` tells whether a job
            may exist: look it up by ``reference_id`` before trying again).
        """
        body: dict[str, object] = {
            "inputs": [{"type": "video", "url": video_url}, {"type": "audio", "url": audio_url}]
        }
        if disable_active_speaker_detection is not None:
            body["disable_active_speaker_detection"] = disable_active_speaker_detection
        if reference_id:
            body["reference_id"] = reference_id
        return await self._post_generation("/v1/lipsync/generate", json_body=body)

    async def generate_with_media(
        self,
        video: str | os.PathLike[str],
        audio: str | os.PathLike[str],
        *,
        disable_active_speaker_detection: bool | None = None,
        reference_id: str | None = None,
        model: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> LipsyncGenerate:
        """``POST /v1/lipsync/generate-with-media``: upload a video and an audio file.

        The body streams from disk in constant memory with an exact ``Content-Length``;
        reads run on a worker thread. Cancel the awaiting task to abort the upload.

        Args:
            video, audio: paths of the files to upload.
            disable_active_speaker_detection: ``True`` for max-face preprocessing.
            reference_id: the caller's identifier, to find the job again.
            model: only ``"lipsync-2"`` is accepted by the API.
            progress: ``(bytes_sent, bytes_total)`` callback, called on the event loop.

        Raises:
            UploadError: a file is missing, unreadable, or changed during the upload.
            The same API errors as ``generate``.
        """
        fields: list[tuple[str, str]] = []
        if disable_active_speaker_detection is not None:
            fields.append(
                ("disable_active_speaker_detection", str(disable_active_speaker_detection).lower())
            )
        if model:
            fields.append(("model", model))
        if reference_id:
            fields.append(("reference_id", reference_id))
        parts = await asyncio.to_thread(
            lambda: [FilePart.from_path("video", video), FilePart.from_path("audio", audio)]
        )
        body = MultipartUpload(fields, parts, progress=progress)
        return await self._post_generation(
            "/v1/lipsync/generate-with-media", content=body, request_timeout=UPLOAD_TIMEOUT
        )

    async def get_request(self, request_id_or_reference_id: str) -> LipsyncRequest:
        """``GET /v1/lipsync/requests/{id}`` by request UUID or ``reference_id`` (newest).

        Raises:
            NotFoundError: no such request. ``ValidationError`` for an empty id.
        """
        if not request_id_or_reference_id:
            raise ValueError("a request id or reference_id is required")
        path = f"/v1/lipsync/requests/{httpx.URL(request_id_or_reference_id).raw_path.decode()}"
        return LipsyncRequest.from_json(await self._get(path))

    async def list_requests(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        reference_id: str | None = None,
        max_retries: int | None = None,
    ) -> RequestPage:
        """``GET /v1/lipsync/requests``: one page, newest first.

        Args:
            limit: page size (the API's default is 20; at most 100 is assumed).
            offset: requests to skip.
            reference_id: only requests with exactly this ``reference_id``.
            max_retries: overrides the client's for this call (0: a poll loop that is its
                own retry, and wants to see every 429).
        """
        params: dict[str, str | int] = {}
        if limit is not None:
            params["limit"] = limit
        if offset is not None:
            params["offset"] = offset
        if reference_id:
            params["reference_id"] = reference_id
        page = await self._get("/v1/lipsync/requests", params=params, max_retries=max_retries)
        return RequestPage.from_json(page)

    async def iter_requests(
        self, *, reference_id: str | None = None, page_size: int = 100
    ) -> AsyncIterator[LipsyncRequest]:
        """Every request, newest first, fetched a page of ``page_size`` at a time."""
        offset: int | None = 0
        while offset is not None:
            page = await self.list_requests(
                limit=page_size, offset=offset, reference_id=reference_id
            )
            for request in page.data:
                yield request
            offset = page.next_offset

    async def wait_for(
        self,
        request_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float | None = None,
        on_update: Callable[[LipsyncRequest], None] | None = None,
    ) -> LipsyncRequest:
        """Poll one request every ``poll_interval`` seconds until it is completed or failed.

        ``on_update`` is called with the request whenever its status changes. Raises
        ``TimeoutError`` after ``timeout`` seconds, and whatever ``get_request`` raises.
        """
        async with asyncio.timeout(timeout):
            last_status: str | None = None
            while True:
                request = await self.get_request(request_id)
                if request.status != last_status:
                    last_status = request.status
                    if on_update is not None:
                        on_update(request)
                if request.is_terminal:
                    return request
                await asyncio.sleep(poll_interval)

    async def download_output(
        self,
        request: LipsyncRequest | str,
        destination: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Stream a completed job's ``output_url`` to ``destination``.

        The bytes go to a temporary file beside the destination, renamed into place only
        when complete: a partial file never takes the final name. An expired link is
        replaced by a fresh one from ``GET /v1/lipsync/requests/{id}`` and tried once more.
        The API key is never sent to the output host.

        Args:
            request: the job, or its request UUID / ``reference_id``.
            destination: a file path, or an existing folder (the file is then named
                ``<reference_id or id>.mp4``).
            progress: ``(bytes_written, bytes_total or 0 when unknown)``.

        Returns:
            The path written.

        Raises:
            DownloadError: the job has no output, or the file cannot be written.
            The API errors of ``get_request``, and ``APIConnectionError``.
        """
        job = await self.get_request(request) if isinstance(request, str) else request
        target = Path(destination)
        if await asyncio.to_thread(target.is_dir):
            target = target / f"{job.reference_id or job.id}.mp4"
        for attempt in range(2):
            if not job.output_url:
                raise DownloadError(
                    f"Request {job.id} has no output to download (status: {job.status})."
                )
            try:
                return await download_to(
                    self._http, job.output_url, target, progress=progress, retries=self.max_retries
                )
            except LinkExpired:
                if attempt:
                    raise DownloadError(
                        "The output link was refused even after fetching a fresh one."
                    ) from None
                job = await self.get_request(job.id)
        raise AssertionError("unreachable")

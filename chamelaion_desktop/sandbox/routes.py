"""The HTTP surface of the sandbox: every endpoint of API.md "Endpoints", word for word.

Errors are ``{"error": "<message>"}`` with the statuses of API.md "Errors" (400, 401, 402,
404, 413, 429, 500). Gatekeeping (auth, injected faults, rate limit, quota) happens in
``_gate`` so every authenticated handler gets it in the same order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from . import uploads
from .auth import Account, AuthError, authenticate
from .config import SandboxConfig
from .ratelimit import RateLimiter, retry_after_headers
from .signing import LinkError, Signer
from .store import COMPLETED, FAILED, QUEUED, Job, Store
from .worker import Worker

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MODEL = "lipsync-2"
_TRUE = {"true", "1", "t", "True", "TRUE"}
_FALSE = {"false", "0", "f", "False", "FALSE"}


class ApiError(Exception):
    """An error answer: ``status`` with ``{"error": message}`` and extra ``headers``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """``{"error": message}`` as JSON with ``status``."""
    return web.json_response({"error": message}, status=status, headers=headers)


def rfc3339(timestamp: float) -> str:
    """Unix seconds as RFC 3339 UTC with milliseconds and ``Z``: ``2026-04-07T10:00:05.123Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _dropped() -> web.Response:
    # The transport is already closed; aiohttp's write of this fails quietly as a disconnect.
    return web.Response(status=499)


def _abort(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    return _dropped()


class Routes:
    """Endpoint handlers bound to one sandbox's state."""

    def __init__(self, config: SandboxConfig, store: Store, signer: Signer, worker: Worker) -> None:
        self.config = config
        self.store = store
        self.signer = signer
        self.worker = worker
        self.limiter = RateLimiter()
        self._random = random.Random()

    def install(self, app: web.Application) -> None:
        """Register every route on ``app``."""
        app.add_routes(
            [
                web.get("/api/health", self.health),
                web.post("/api/v1/lipsync/generate", self.generate),
                web.post("/api/v1/lipsync/generate-with-media", self.generate_with_media),
                web.get("/api/v1/lipsync/requests", self.list_requests),
                web.get("/api/v1/lipsync/requests/{id}", self.get_request),
                web.get("/api/v1/users/me", self.users_me),
                web.get("/files/{request_id}.mp4", self.download),
            ]
        )

    # -- gatekeeping ------------------------------------------------------------------------

    async def _gate(self, request: web.Request, *, generation: bool = False) -> Account:
        """Authenticate, then injected 429/500, rate limit and quota (generation only)."""
        config = self.config
        try:
            account = authenticate(request.headers, config.api_keys, config.disabled_keys)
        except AuthError as exc:
            raise ApiError(401, str(exc)) from None
        faults = config.faults
        if faults.take("force_429"):
            raise ApiError(429, "rate limit exceeded", retry_after_headers(1.0))
        if faults.error_rate > 0 and self._random.random() < faults.error_rate:
            raise ApiError(500, "internal error")
        if generation:
            wait = self.limiter.acquire(account.id, config.rate_limit, time.monotonic())
            if wait is not None:
                raise ApiError(429, "rate limit exceeded", retry_after_headers(wait))
            if await self.store.count(account.id) >= config.quota:
                raise ApiError(402, "token limit reached")
        return account

    async def _create(self, request: web.Request, job: Job) -> web.StreamResponse:
        """Persist ``job`` (quota checked atomically), start it and answer."""
        faults = self.config.faults
        job = dataclasses.replace(job, inject_failure=faults.take("fail_jobs"))
        if not await self.store.create(job, self.config.quota):
            if job.inject_failure:  # no job was made: the fault stays armed
                faults.give_back("fail_jobs")
            raise ApiError(402, "token limit reached")
        self.worker.submit(job)
        log.debug("job %s created", job.id)
        if faults.take("drop_after_create"):
            return _abort(request)
        return web.json_response({"status": "success", "request_id": job.id})

    # -- endpoints --------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        """``GET /health``: ``{"status": "ok"}``, no authentication."""
        return web.json_response({"status": "ok"})

    async def users_me(self, request: web.Request) -> web.Response:
        """``GET /v1/users/me``: ``{"name": <display name of the token>}``."""
        account = await self._gate(request)
        return web.json_response({"name": account.name})

    async def generate(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/lipsync/generate``: a job from one video URL and one audio URL."""
        account = await self._gate(request, generation=True)
        if request.content_type != "application/json":
            raise ApiError(400, "content-type must be application/json")
        length = request.content_length
        if length is not None and length > self.config.max_upload_bytes:
            raise ApiError(413, "request body too large")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid request body") from None
        urls, disable_asd, reference_id = _parse_generate(body)
        job = Job(
            id=str(uuid.uuid4()),
            account=account.id,
            reference_id=reference_id,
            status=QUEUED,
            created_at=time.time(),
            disable_active_speaker_detection=disable_asd,
            video_url=urls["video"],
            audio_url=urls["audio"],
        )
        return await self._create(request, job)

    async def generate_with_media(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/lipsync/generate-with-media``: a job from two uploaded files."""
        account = await self._gate(request, generation=True)
        if request.content_type != "multipart/form-data":
            raise ApiError(400, "content-type must be multipart/form-data")
        max_bytes = self.config.max_upload_bytes
        length = request.content_length
        if length is not None and length > max_bytes:
            raise ApiError(413, "request body too large")
        faults = self.config.faults
        drop_after = faults.drop_upload_after if faults.take("drop_uploads") else None
        request_id = str(uuid.uuid4())
        folder = self.config.data_dir / "uploads" / request_id
        try:
            upload = await uploads.receive(
                request, folder, max_bytes, drop_after, faults.upload_rate
            )
        except uploads.UploadTooLarge:
            await uploads.discard(folder)
            raise ApiError(413, "request body too large") from None
        except uploads.UploadDropped:
            await uploads.discard(folder)
            log.debug("upload dropped by fault injection")
            return _abort(request)
        except uploads.BadMultipart:
            await uploads.discard(folder)
            raise ApiError(400, "invalid request body") from None
        except asyncio.CancelledError:
            await asyncio.shield(uploads.discard(folder))
            raise
        except Exception:
            await uploads.discard(folder)
            if request.transport is None or request.transport.is_closing():
                log.debug("client left during upload")
                return _dropped()
            raise
        try:
            job = self._upload_job(request_id, account, upload)
            return await self._create(request, job)
        except BaseException:
            await asyncio.shield(uploads.discard(folder))
            raise

    def _upload_job(self, request_id: str, account: Account, upload: uploads.Upload) -> Job:
        """Validate the received parts (documented order) into a queued job."""
        for kind in uploads.FILE_PARTS:
            if upload.files.get(kind, (None, 0))[1] == 0:
                raise ApiError(400, f"{kind} file is required")
        fields = upload.fields
        model = fields.get("model")
        if model is not None and model != MODEL:
            raise ApiError(400, f'model must be "{MODEL}"')
        flag = fields.get("disable_active_speaker_detection", "false").strip()
        if flag not in _TRUE | _FALSE:
            raise ApiError(400, "invalid request body")
        data_dir = self.config.data_dir
        video, audio = upload.files["video"][0], upload.files["audio"][0]
        return Job(
            id=request_id,
            account=account.id,
            reference_id=fields.get("reference_id") or None,
            status=QUEUED,
            created_at=time.time(),
            disable_active_speaker_detection=flag in _TRUE,
            video_path=video.relative_to(data_dir).as_posix(),
            audio_path=audio.relative_to(data_dir).as_posix(),
        )

    async def get_request(self, request: web.Request) -> web.Response:
        """``GET /v1/lipsync/requests/{id}``: by UUID or reference_id (newest wins)."""
        account = await self._gate(request)
        job = await self.store.lookup(account.id, request.match_info["id"])
        if job is None:
            raise ApiError(404, "lipsync request not found")
        return web.json_response(self._job_json(request, job))

    async def list_requests(self, request: web.Request) -> web.Response:
        """``GET /v1/lipsync/requests``: newest first, ``limit`` (default 20, max 100),
        ``offset``, exact ``reference_id``; ``pagination.total`` counts all matches."""
        account = await self._gate(request)
        query = request.query
        limit = min(_non_negative(query, "limit", DEFAULT_LIMIT), MAX_LIMIT)
        offset = _non_negative(query, "offset", 0)
        reference_id = query.get("reference_id") or None
        jobs, total = await self.store.page(account.id, limit, offset, reference_id)
        return web.json_response(
            {
                "data": [self._job_json(request, job) for job in jobs],
                "pagination": {"limit": limit, "offset": offset, "total": total},
            }
        )

    async def download(self, request: web.Request) -> web.StreamResponse:
        """``GET /files/<id>.mp4?expires=&signature=``: the output, no auth, signed link."""
        request_id = request.match_info["request_id"]
        try:
            self.signer.verify(
                request_id,
                request.query.get("expires"),
                request.query.get("signature"),
                time.time(),
            )
        except LinkError as exc:
            raise ApiError(403, str(exc)) from None
        job = await self.store.get(request_id)
        if job is None or job.status != COMPLETED or not job.output_path:
            raise ApiError(404, "not found")
        path = self.config.data_dir / job.output_path
        if not await asyncio.to_thread(path.is_file):
            raise ApiError(404, "not found")
        return web.FileResponse(path, headers={"Content-Type": "video/mp4"})

    def _job_json(self, request: web.Request, job: Job) -> dict[str, Any]:
        """A ``LipsyncRequest`` (API.md); optional fields are omitted when empty."""
        data: dict[str, Any] = {"id": job.id}
        if job.reference_id is not None:
            data["reference_id"] = job.reference_id
        data["status"] = job.status
        data["created_at"] = rfc3339(job.created_at)
        if job.started_at is not None:
            data["started_at"] = rfc3339(job.started_at)
        if job.finished_at is not None:
            data["finished_at"] = rfc3339(job.finished_at)
        if job.status == COMPLETED and job.output_path:
            origin = str(request.url.origin())
            data["output_url"] = self.signer.url(origin, job.id, time.time(), self.config.url_ttl)
        if job.status == FAILED and job.error_message:
            data["error_message"] = job.error_message
        return data


def _non_negative(query: Any, name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ApiError(400, f"{name} must be a non-negative integer") from None
    if value < 0:
        raise ApiError(400, f"{name} must be a non-negative integer")
    return value


def _parse_generate(body: object) -> tuple[dict[str, str], bool, str | None]:
    """Validate a ``/generate`` body; returns ({kind: url}, disable_asd, reference_id)."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid request body")
    inputs = body.get("inputs")
    disable_asd = body.get("disable_active_speaker_detection", False)
    reference_id = body.get("reference_id")
    if (
        not isinstance(inputs, list)
        or not isinstance(disable_asd, bool | None)
        or not isinstance(reference_id, str | None)
        or not all(isinstance(item, dict) for item in inputs)
    ):
        raise ApiError(400, "invalid request body")
    urls: dict[str, list[str]] = {"video": [], "audio": []}
    for item in inputs:
        kind = item.get("type")
        if kind not in urls:
            raise ApiError(400, 'input type must be "video" or "audio"')
        url = item.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ApiError(400, "invalid request body")
        urls[kind].append(url.strip())
    for kind in ("video", "audio"):
        if len(urls[kind]) != 1:
            raise ApiError(400, f"expected exactly one {kind} input")
    return {kind: found[0] for kind, found in urls.items()}, bool(disable_asd), reference_id or None

"""Streaming a job's ``output_url`` to disk, atomically.

Source: API.md (``LipsyncRequest.output_url``: a URL to the generated output media, "when
available"; signed and expiring, so an expired one is fetched afresh by the caller).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import httpx

from .errors import DownloadError
from .multipart import ProgressCallback
from .transport import is_retryable_read, raise_for_status, retrying, translate_transport_error

log = logging.getLogger(__name__)

#: Statuses with which storage hosts refuse an expired or re-signed link.
_EXPIRED_STATUSES = frozenset({401, 403, 404, 410})
_CHUNK = 1024 * 1024


class LinkExpired(Exception):
    """The output host refused the link (expired or badly signed): fetch a fresh one."""


async def download_to(
    http: httpx.AsyncClient,
    url: str,
    destination: Path,
    *,
    progress: ProgressCallback | None = None,
    retries: int = 2,
) -> Path:
    """GET ``url`` (no credentials sent) into ``destination`` through a ``.part`` file.

    Args:
        http: the client's connection pool.
        url: the signed output link.
        destination: final path; its folder must exist.
        progress: ``(bytes_written, bytes_total)``; total is 0 when the host gives no length.
        retries: repeats after 5xx, 429 or a transport failure (from the start).

    Returns:
        ``destination``, complete.

    Raises:
        LinkExpired: 401, 403, 404 or 410 from the output host.
        DownloadError: the file cannot be written. ``APIStatusError`` for other statuses,
        ``APIConnectionError`` when the transfer breaks.
    """
    async for attempt in retrying(retries, is_retryable_read):
        with attempt:
            return await _download_once(http, url, destination, progress)
    raise AssertionError("unreachable: tenacity re-raises the last failure")


async def _download_once(
    http: httpx.AsyncClient, url: str, destination: Path, progress: ProgressCallback | None
) -> Path:
    loop = asyncio.get_running_loop()
    part = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.part")
    # One writer thread per download: writes stay in order and never block the loop.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="download-write")
    handle: BinaryIO | None = None
    done = False
    try:
        try:
            handle = await loop.run_in_executor(writer, _open_new, part)
        except OSError as exc:
            raise DownloadError(
                f"Cannot write to {destination.parent}: {exc.strerror or exc}. "
                "Choose a folder you can write to."
            ) from exc
        try:
            async with http.stream("GET", url, headers={"Accept": "*/*"}) as response:
                if response.status_code in _EXPIRED_STATUSES:
                    raise LinkExpired(response.status_code)
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_status(response)
                total = int(response.headers.get("content-length", 0) or 0)
                written = 0
                pending: asyncio.Future[int] | None = None
                async for chunk in response.aiter_bytes(_CHUNK):
                    # Let the previous write finish while the next chunk arrives.
                    if pending is not None:
                        await pending
                    pending = loop.run_in_executor(writer, handle.write, chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(written, total)
                if pending is not None:
                    await pending
        except httpx.TransportError as exc:
            raise translate_transport_error(exc) from exc
        if total and written != total:
            raise DownloadError(f"The download stopped at {written} of {total} bytes; try again.")
        try:
            await loop.run_in_executor(writer, _finish, handle, part, destination)
        except OSError as exc:
            raise DownloadError(f"Cannot save {destination}: {exc.strerror or exc}.") from exc
        done = True
        log.debug("downloaded %d bytes to %s", written, destination)
        return destination
    finally:
        if not done:
            writer.submit(_discard, handle, part)
        writer.shutdown(wait=False)


def _open_new(path: Path) -> BinaryIO:
    return open(path, "xb")


def _finish(handle: BinaryIO, part: Path, destination: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(part, destination)


def _discard(handle: BinaryIO | None, part: Path) -> None:
    if handle is not None:
        handle.close()
    with contextlib.suppress(FileNotFoundError):
        part.unlink()

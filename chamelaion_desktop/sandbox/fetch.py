"""Downloads the inputs of a URL job (``POST /v1/lipsync/generate``) to disk.

API.md "Errors": an input that cannot be fetched fails the job with
``video URL is not accessible`` (or ``audio URL is not accessible``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import BinaryIO

import aiohttp
from yarl import URL

from .render import RenderError

log = logging.getLogger(__name__)

CHUNK = 256 * 1024


def not_accessible(kind: str) -> str:
    """The documented failure message for input ``kind`` (``video`` or ``audio``)."""
    return f"{kind} URL is not accessible"


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    path: Path,
    kind: str,
    fetch_timeout: float,
    max_bytes: int,
) -> None:
    """Stream ``url`` into ``path``.

    Args:
        session: the sandbox's client session.
        url: an http(s) URL.
        path: destination file (overwritten; removed again on failure).
        kind: ``video`` or ``audio``, for the error message.
        fetch_timeout: seconds for the whole download.
        max_bytes: the largest accepted input in bytes.

    Raises:
        RenderError: ``<kind> URL is not accessible`` for a bad scheme, a network error, a
            timeout, a non-2xx answer, or a body larger than ``max_bytes``.
    """
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise RenderError(not_accessible(kind)) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise RenderError(not_accessible(kind))
    loop = asyncio.get_running_loop()
    try:
        async with session.get(
            parsed, timeout=aiohttp.ClientTimeout(total=fetch_timeout), allow_redirects=True
        ) as response:
            if response.status // 100 != 2:
                log.debug("fetch of %s input answered %s", kind, response.status)
                raise RenderError(not_accessible(kind))
            file: BinaryIO = await asyncio.to_thread(path.open, "wb")
            try:
                received = 0
                async for chunk in response.content.iter_chunked(CHUNK):
                    received += len(chunk)
                    if received > max_bytes:
                        raise RenderError(not_accessible(kind))
                    await loop.run_in_executor(None, file.write, chunk)
            finally:
                await asyncio.to_thread(file.close)
    except RenderError:
        await asyncio.to_thread(path.unlink, True)
        raise
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        log.debug("fetch of %s input failed: %s", kind, type(exc).__name__)
        await asyncio.to_thread(path.unlink, True)
        raise RenderError(not_accessible(kind)) from exc

"""Streams a ``generate-with-media`` multipart body to disk, chunk by chunk.

The body can be gigabytes (API.md: direct upload of MP4/WAV/MP3), so nothing is held in
memory beyond one buffer; writes go to the default executor so the loop never blocks.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web

#: Bytes gathered before one write to disk.
WRITE_BUFFER = 1024 * 1024
#: Bytes read from the socket per step.
READ_CHUNK = 256 * 1024
#: Largest accepted plain form field (bytes).
MAX_FIELD = 64 * 1024
FILE_PARTS = ("video", "audio")


class UploadTooLarge(Exception):
    """The body passed ``max_upload_bytes`` while streaming (HTTP 413)."""


class UploadDropped(Exception):
    """The ``drop_uploads`` fault fired: the caller must close the connection."""


class BadMultipart(Exception):
    """The body is not parseable multipart/form-data (HTTP 400)."""


@dataclass
class Upload:
    """What arrived. ``files`` maps ``video``/``audio`` to (absolute path, bytes written)."""

    files: dict[str, tuple[Path, int]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


def _suffix(filename: str | None) -> str:
    match = re.search(r"\.([A-Za-z0-9]{1,8})$", filename or "")
    return f".{match.group(1).lower()}" if match else ""


class _Meter:
    """Checks the size limit and the drop fault against bytes received so far."""

    def __init__(
        self, request: web.Request, max_bytes: int, drop_after: int | None, rate: float = 0.0
    ) -> None:
        self._content = request.content
        self._counted = 0
        self._max_bytes = max_bytes
        self._drop_after = drop_after
        self._rate = rate
        self._started = time.monotonic()

    async def pace(self) -> None:
        """Slow reading down to ``rate`` bytes per second (the ``upload_rate`` fault)."""
        if self._rate > 0:
            due = self._started + self._counted / self._rate - time.monotonic()
            if due > 0:
                await asyncio.sleep(due)

    def received(self) -> int:
        # total_bytes counts the raw body fed so far (chunked or not); the part sum is a floor.
        return max(getattr(self._content, "total_bytes", 0), self._counted)

    def add(self, size: int) -> None:
        self._counted += size
        received = self.received()
        if received > self._max_bytes:
            raise UploadTooLarge
        if self._drop_after is not None and received >= self._drop_after:
            raise UploadDropped


async def _save_part(part: BodyPartReader, path: Path, meter: _Meter) -> int:
    loop = asyncio.get_running_loop()
    file: BinaryIO = await asyncio.to_thread(path.open, "wb")
    written = 0
    try:
        # Chunks are gathered into ~1 MiB batches so one executor hop writes many of them.
        batch: list[bytes] = []
        batched = 0
        while True:
            chunk = await part.read_chunk(READ_CHUNK)
            if chunk:
                meter.add(len(chunk))
                await meter.pace()
                batch.append(chunk)
                batched += len(chunk)
            if batch and (batched >= WRITE_BUFFER or not chunk):
                await loop.run_in_executor(None, file.writelines, batch)
                written += batched
                batch, batched = [], 0
            if not chunk:
                break
    finally:
        await asyncio.to_thread(file.close)
    return written


async def _read_field(part: BodyPartReader, meter: _Meter) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(READ_CHUNK):
        meter.add(len(chunk))
        data += chunk
        if len(data) > MAX_FIELD:
            raise BadMultipart("form field too large")
    return data.decode(part.get_charset("utf-8"), errors="replace")


async def _drain(part: BodyPartReader, meter: _Meter) -> None:
    while chunk := await part.read_chunk(READ_CHUNK):
        meter.add(len(chunk))


async def receive(
    request: web.Request,
    directory: Path,
    max_bytes: int,
    drop_after: int | None,
    rate: float = 0.0,
) -> Upload:
    """Read every part of ``request``'s multipart body.

    ``video`` and ``audio`` parts are written to ``directory`` (created) as ``video<.ext>`` and
    ``audio<.ext>``; the first part of each name wins, later ones are skipped. Other parts are
    kept as text fields (``model``, ``reference_id``, ``disable_active_speaker_detection``...).

    Args:
        request: an aiohttp request whose content type is multipart/form-data.
        directory: where the files go; the caller removes it on any failure (``discard``).
        max_bytes: body size limit in bytes.
        drop_after: when set (fault injection), raise ``UploadDropped`` once that many body
            bytes arrived, or at the end of a shorter body.
        rate: when above 0 (fault injection: a slow network), read at most this many bytes
            per second.

    Raises:
        UploadTooLarge, UploadDropped, BadMultipart; connection errors when the client leaves.
    """
    meter = _Meter(request, max_bytes, drop_after, rate)
    upload = Upload()
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError) as exc:
        raise BadMultipart(str(exc)) from exc
    while True:
        try:
            part = await reader.next()
        except (ValueError, AssertionError) as exc:
            raise BadMultipart(str(exc)) from exc
        if part is None:
            break
        if not isinstance(part, BodyPartReader):  # a nested multipart: not ours to read
            raise BadMultipart("nested multipart is not supported")
        name = part.name or ""
        if name in FILE_PARTS and name not in upload.files:
            path = directory / f"{name}{_suffix(part.filename)}"
            upload.files[name] = (path, await _save_part(part, path, meter))
        elif name and name not in FILE_PARTS and name not in upload.fields:
            upload.fields[name] = await _read_field(part, meter)
        else:
            await _drain(part, meter)
    if drop_after is not None:
        raise UploadDropped
    return upload


async def discard(directory: Path) -> None:
    """Remove an upload directory and everything in it; missing is fine."""
    await asyncio.to_thread(shutil.rmtree, directory, True)

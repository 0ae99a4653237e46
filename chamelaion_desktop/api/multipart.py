"""A ``multipart/form-data`` body streamed from files, in constant memory, at disk speed.

Source: RFC 7578 (multipart/form-data) and the WHATWG HTML "multipart/form-data encoding
algorithm" for escaping names. API.md (``POST /v1/lipsync/generate-with-media``) takes the
``video`` and ``audio`` files and a few text fields this way.

Why our own: httpx's ``files=`` reads file objects on the event loop (a 1 GiB upload would
freeze the window), and a body without a known length makes httpx fall back to
``Transfer-Encoding: chunked``, which upload APIs often reject. This body knows its exact
``Content-Length`` up front, reads 1 MiB chunks on its own worker thread one chunk ahead of
the socket, reports progress, and can be iterated again for a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import UploadError

#: ``(bytes_done, bytes_total)``: bytes of the whole body handed to the transport so far.
ProgressCallback = Callable[[int, int], None]

#: Reads this large keep the CPU cost near curl's (64 KiB reads cost 2.4x, PITFALLS.md).
DEFAULT_CHUNK_SIZE = 1024 * 1024

# The formats API.md accepts, plus common ones an editor may drop; anything else falls
# back to ``mimetypes`` and then to application/octet-stream.
_MIME_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".avi": "video/x-msvideo",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/opus",
}


def guess_content_type(path: str | os.PathLike[str]) -> str:
    """The MIME type of a media file from its extension, e.g. ``video/mp4``, ``audio/wav``."""
    suffix = Path(path).suffix.lower()
    if suffix in _MIME_TYPES:
        return _MIME_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(Path(path).name)
    return guessed or "application/octet-stream"


def _quote(value: str) -> str:
    # WHATWG escaping for names and filenames inside a quoted Content-Disposition value.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass(frozen=True, slots=True)
class FilePart:
    """One file of the body.

    Attributes:
        name: the form field (``video`` or ``audio``).
        path: the file on disk.
        size: its length in bytes when the body was built; the upload fails if it changes.
        filename: the name sent to the server (the file's own name by default).
        content_type: the part's MIME type (from the extension by default).
    """

    name: str
    path: Path
    size: int
    filename: str
    content_type: str

    @classmethod
    def from_path(cls, name: str, path: str | os.PathLike[str]) -> FilePart:
        """Describe ``path`` as the form field ``name``; blocking (it calls ``stat``).

        Raises:
            UploadError: the path is missing, not a regular file, or unreadable.
        """
        file_path = Path(path)
        try:
            info = file_path.stat()
        except OSError as exc:
            raise UploadError(f"Cannot read {file_path}: {exc.strerror or exc}.") from exc
        if not file_path.is_file():
            raise UploadError(f"{file_path} is not a file.")
        if not os.access(file_path, os.R_OK):
            raise UploadError(f"{file_path} cannot be read: check its permissions.")
        return cls(name, file_path, info.st_size, file_path.name, guess_content_type(file_path))


class MultipartUpload:
    """A re-iterable async ``multipart/form-data`` body of text fields and files.

    Iterate it (``async for chunk in body``) or hand it to httpx as ``content=`` together
    with ``headers``; each iteration streams the files afresh, so the same object serves a
    retry. Memory stays at about two chunks whatever the file sizes.

    Args:
        fields: ``(name, value)`` text fields, sent first, in order.
        files: the file parts, sent after the fields, in order.
        boundary: the part boundary; random by default.
        chunk_size: bytes per disk read and per chunk handed to the transport.
        progress: called on the event loop after each chunk with
            ``(bytes_sent, content_length)``; it must not block.
    """

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        files: Sequence[FilePart],
        *,
        boundary: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.boundary = boundary or f"chamelaion-{secrets.token_hex(16)}"
        self.files = tuple(files)
        self.chunk_size = chunk_size
        self.progress = progress
        self._field_bytes = b"".join(self._field(name, value) for name, value in fields)
        self._file_heads = [self._file_head(part) for part in self.files]
        self._tail = f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value, with the boundary."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def content_length(self) -> int:
        """The exact body length in bytes: framing plus every file's size."""
        framing = len(self._field_bytes) + len(self._tail)
        framing += sum(len(head) + 2 for head in self._file_heads)  # 2: CRLF after the data
        return framing + sum(part.size for part in self.files)

    @property
    def headers(self) -> dict[str, str]:
        """``Content-Type`` and ``Content-Length`` (never chunked transfer encoding)."""
        return {"Content-Type": self.content_type, "Content-Length": str(self.content_length)}

    def _field(self, name: str, value: str) -> bytes:
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
            f"{value}\r\n"
        ).encode()

    def _file_head(self, part: FilePart) -> bytes:
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote(part.name)}"; '
            f'filename="{_quote(part.filename)}"\r\n'
            f"Content-Type: {part.content_type}\r\n\r\n"
        ).encode()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = self.content_length
        sent = 0

        def report(count: int) -> None:
            nonlocal sent
            sent += count
            if self.progress is not None:
                self.progress(sent, total)

        # One worker thread per upload keeps its reads and the final close in order, so a
        # cancelled upload never closes a file under a read that is still running.
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-read")
        try:
            if self._field_bytes:
                yield self._field_bytes
                report(len(self._field_bytes))
            for part, head in zip(self.files, self._file_heads, strict=True):
                yield head
                report(len(head))
                # aclosing: a cancelled upload closes the inner reader (and its file) before
                # the worker thread is shut down, not whenever the garbage collector runs.
                async with contextlib.aclosing(self._read_file(part, reader)) as chunks:
                    async for chunk in chunks:
                        yield chunk
                        report(len(chunk))
                yield b"\r\n"
                report(2)
            yield self._tail
            report(len(self._tail))
        finally:
            reader.shutdown(wait=False)

    async def _read_file(
        self, part: FilePart, reader: ThreadPoolExecutor
    ) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        opening = loop.run_in_executor(reader, _open, part.path)
        try:
            handle: BinaryIO = await asyncio.shield(opening)
        except OSError as exc:
            raise UploadError(f"Cannot read {part.path}: {exc.strerror or exc}.") from exc
        except asyncio.CancelledError:
            # Cancelled while the file was being opened: close it once the open finishes.
            opening.add_done_callback(lambda done: _close_opened(done, reader))
            raise
        remaining = part.size
        try:
            # Read one chunk ahead so the disk and the socket work at the same time.
            pending = loop.run_in_executor(reader, handle.read, min(self.chunk_size, remaining))
            while remaining > 0:
                try:
                    chunk = await pending
                except OSError as exc:
                    raise UploadError(f"Reading {part.path} failed: {exc}.") from exc
                if not chunk:
                    raise UploadError(
                        f"{part.path.name} became shorter while it was uploading: "
                        "leave the file alone until the upload ends, then try again."
                    )
                remaining -= len(chunk)
                if remaining > 0:
                    pending = loop.run_in_executor(
                        reader, handle.read, min(self.chunk_size, remaining)
                    )
                yield chunk
        finally:
            reader.submit(handle.close)


def _close_opened(opening: asyncio.Future[BinaryIO], reader: ThreadPoolExecutor) -> None:
    if not opening.cancelled() and opening.exception() is None:
        handle = opening.result()
        try:
            reader.submit(handle.close)
        except RuntimeError:  # the reader already shut down: close here, it cannot block long
            handle.close()


def _open(path: Path) -> BinaryIO:
    # Unbuffered: our reads are already large, and a second buffer would only copy.
    return open(path, "rb", buffering=0)

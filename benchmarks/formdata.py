"""Parse a multipart/form-data body that is already in memory, without copying the parts.

Used by the sink to verify an upload after the client has finished, so that parsing and
hashing never slow the upload being timed. Strict on purpose: anything malformed raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

_CRLF = b"\r\n"
_HEADERS_END = b"\r\n\r\n"


class FormDataError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass(frozen=True)
class FormPart:
    """One part: its form ``name``, ``filename`` and ``content_type`` (``None`` when absent)
    and where its content lies in the body, ``start`` inclusive to ``end`` exclusive (bytes)."""

    name: str | None
    filename: str | None
    content_type: str | None
    start: int
    end: int


def boundary_of(content_type: str) -> bytes:
    """Return the ``boundary`` parameter of a multipart/form-data Content-Type header.

    Raises:
        FormDataError: not multipart/form-data, or no boundary.
    """
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise FormDataError(f"not multipart/form-data with a boundary: {content_type!r}")
    return boundary.encode("latin-1")


def _part_headers(raw: bytes) -> Message:
    headers = Message()
    for line in raw.decode("utf-8").split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon:
            raise FormDataError(f"malformed part header line {line!r}")
        headers[name.strip()] = value.strip()
    return headers


def parse_form(body: bytearray | bytes, length: int, boundary: bytes) -> list[FormPart]:
    """Split ``body[:length]`` into its parts (RFC 7578; a preamble and epilogue are allowed).

    Raises:
        FormDataError: a delimiter, a header block or the closing delimiter is missing.
    """
    opening = b"--" + boundary
    delimiter = _CRLF + opening
    position = body.find(opening, 0, length)
    if position < 0:
        raise FormDataError("no opening boundary")
    position += len(opening)
    parts: list[FormPart] = []
    while True:
        after = bytes(body[position : position + 2])
        if after == b"--":
            return parts
        if after != _CRLF:
            raise FormDataError(f"unexpected bytes after a boundary at offset {position}")
        headers_end = body.find(_HEADERS_END, position + 2, length)
        if headers_end < 0:
            raise FormDataError(f"unterminated part headers at offset {position}")
        headers = _part_headers(bytes(body[position + 2 : headers_end]))
        start = headers_end + len(_HEADERS_END)
        end = body.find(delimiter, start, length)
        if end < 0:
            raise FormDataError(f"part starting at offset {start} is not closed (truncated?)")
        disposition = headers.get("Content-Disposition")
        if disposition is None:
            raise FormDataError(f"part at offset {start} has no Content-Disposition")
        name = headers.get_param("name", header="Content-Disposition")
        filename = headers.get_filename()
        parts.append(
            FormPart(
                name=name if isinstance(name, str) else None,
                filename=filename,
                content_type=headers.get("Content-Type"),
                start=start,
                end=end,
            )
        )
        position = end + len(delimiter)

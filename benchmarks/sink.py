"""A measuring upload sink: receives lip-sync uploads, discards them, and records what came.

Run it as its own process so its CPU time is never charged to the client being measured::

    .venv/bin/python benchmarks/sink.py [--port 0] [--mode lean|stream] [--prealloc-bytes N]

Once listening it prints one line, ``PORT <n>``, on stdout and serves until SIGTERM/SIGINT.

Endpoints:

- ``POST /api/v1/lipsync/generate-with-media`` (API.md, "Endpoints"): takes the multipart
  upload and answers ``{"status": "success", "request_id": "<uuid4>"}``.
- ``GET /_records?since=N``: a JSON list of ``UploadRecord`` objects, one per upload, from
  the N-th on (default 0).
- ``GET /_health``: ``{"status": "ok"}``.

Two modes, because on this machine (2 cores, loopback) receiving costs about as much CPU as
sending, so any overhead in the sink makes it, not the client, set the pace:

- ``lean`` (default): a threaded ``http.server`` that reads the body with ``readinto``
  (``recv_into``) straight into a reused, pre-faulted buffer, and answers at once. The
  multipart parsing (``formdata.py``) and the sha256 of each part happen on the next
  ``GET /_records``, after the client has exited. Measured with curl: 0.8-0.9 s of sink
  CPU per GiB, curl itself the bottleneck.
- ``stream`` (``sink_stream.py``): aiohttp, ``request.multipart()`` and ``read_chunk`` of
  1 MiB, sha256 inline, flat memory. Measured at ~2 s per GiB, slower than curl (aiohttp
  kept in memory but verified later still took 0.9-1.6 s of sink CPU per GiB).

The API key's value is never recorded, only which header carried one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from formdata import boundary_of, parse_form

UPLOAD_PATH = "/api/v1/lipsync/generate-with-media"
#: Longest form field value kept as text (fields are tiny: booleans, ids, a model name).
MAX_FIELD_BYTES = 4096
_PAGE = 4096


@dataclass
class PartRecord:
    """One multipart part as received: ``size`` in bytes, ``sha256`` in hex (file parts),
    ``value`` the text of a plain field (at most ``MAX_FIELD_BYTES``)."""

    name: str | None
    filename: str | None
    content_type: str | None
    size: int
    sha256: str | None
    value: str | None = None


@dataclass
class UploadRecord:
    """What the sink saw of one upload request.

    ``content_length`` is the Content-Length header (bytes) or ``None``; ``chunked`` is true
    when Transfer-Encoding named ``chunked``; ``body_bytes`` the body bytes read; ``body_s``
    seconds from the end of the headers to the last byte; ``sink_cpu_s`` the sink's CPU
    seconds meanwhile; ``verified`` turns true once ``parts`` are filled in.
    """

    request_id: str
    mode: str
    content_type: str | None
    content_length: int | None
    chunked: bool
    expect_continue: bool
    auth_header: str | None
    status: int = 200
    body_bytes: int = 0
    body_s: float = 0.0
    sink_cpu_s: float = 0.0
    verified: bool = False
    parts: list[PartRecord] = field(default_factory=list)
    error: str | None = None


def new_record(headers: Iterable[tuple[str, str]], mode: str) -> UploadRecord:
    """Start a record from the request's header (name, value) pairs."""
    lower = {name.lower(): value for name, value in headers}
    length = lower.get("content-length")
    return UploadRecord(
        request_id=str(uuid.uuid4()),
        mode=mode,
        content_type=lower.get("content-type"),
        content_length=int(length) if length is not None else None,
        chunked="chunked" in lower.get("transfer-encoding", "").lower(),
        expect_continue="100-continue" in lower.get("expect", "").lower(),
        auth_header=next((h for h in ("x-api-key", "authorization") if h in lower), None),
    )


def verify_body(record: UploadRecord, body: bytearray) -> None:
    """Parse ``body[:record.body_bytes]`` and fill ``record.parts`` with sizes and sha256."""
    try:
        if record.content_type is None:
            raise ValueError("no Content-Type")
        view = memoryview(body)
        for part in parse_form(body, record.body_bytes, boundary_of(record.content_type)):
            content = view[part.start : part.end]
            is_file = part.filename is not None
            record.parts.append(
                PartRecord(
                    name=part.name,
                    filename=part.filename,
                    content_type=part.content_type,
                    size=part.end - part.start,
                    sha256=hashlib.sha256(content).hexdigest() if is_file else None,
                    value=None if is_file else bytes(content[:MAX_FIELD_BYTES]).decode(),
                )
            )
    except ValueError as exc:
        record.error = f"{type(exc).__name__}: {exc}"
    record.verified = True


def faulted_buffer(size: int) -> bytearray:
    """A ``size``-byte buffer with every page already written, so no upload pays for page
    faults (slow on this VM: ~3 s per GiB)."""
    buffer = bytearray(size)
    buffer[::_PAGE] = bytes(len(range(0, size, _PAGE)))
    return buffer


class Records:
    """Thread-safe store of the records, and of the bodies still to verify (lean mode)."""

    def __init__(self, prealloc_bytes: int = 0) -> None:
        self._lock = threading.Lock()
        self._records: list[UploadRecord] = []
        self._pending: list[tuple[UploadRecord, bytearray]] = []
        self._spare = faulted_buffer(prealloc_bytes)

    def add(self, record: UploadRecord) -> None:
        """Append a new record."""
        with self._lock:
            self._records.append(record)

    def take_buffer(self, size: int) -> bytearray:
        """The spare buffer if it holds ``size`` bytes, else a new one (not pre-faulted)."""
        with self._lock:
            if len(self._spare) >= size:
                buffer, self._spare = self._spare, bytearray()
                return buffer
        return bytearray(size)

    def give_back(self, buffer: bytearray) -> None:
        """Keep ``buffer`` as the spare if it is the largest seen."""
        with self._lock:
            self._spare = max(self._spare, buffer, key=len)

    def defer(self, record: UploadRecord, body: bytearray) -> None:
        """Keep ``body`` until the next ``since`` call verifies it."""
        with self._lock:
            self._pending.append((record, body))

    def since(self, index: int) -> list[dict[str, Any]]:
        """Verify pending bodies, then return records ``index`` onwards as plain dicts."""
        with self._lock:
            pending, self._pending = self._pending, []
        for record, body in pending:
            verify_body(record, body)
            self.give_back(body)
        with self._lock:
            return [asdict(record) for record in self._records[index:]]


def _read_into(source: io.BufferedIOBase, body: bytearray, start: int, count: int) -> int:
    """Fill ``body[start:start + count]`` from ``source``; return the bytes read (fewer at
    EOF). The caller makes sure ``body`` is long enough."""
    view = memoryview(body)
    try:
        done = 0
        while done < count:
            read = source.readinto(view[start + done : start + count])
            if not read:
                break
            done += read
        return done
    finally:
        view.release()


class LeanHandler(BaseHTTPRequestHandler):
    """One connection of the lean sink (one request, then close)."""

    protocol_version = "HTTP/1.1"  # also makes http.server answer Expect: 100-continue
    server: LeanServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the access log."""

    def _reply(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.close_connection = True
        with contextlib.suppress(ConnectionError):  # a client that gave up: nothing to tell
            self.end_headers()
            self.wfile.write(data)

    def do_GET(self) -> None:
        """``/_records?since=N`` and ``/_health``."""
        url = urlsplit(self.path)
        if url.path == "/_health":
            self._reply(200, {"status": "ok"})
        elif url.path == "/_records":
            since = int(parse_qs(url.query).get("since", ["0"])[0])
            self._reply(200, self.server.records.since(since))
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        """Receive one upload into a buffer, verified later (see the module docstring)."""
        if urlsplit(self.path).path != UPLOAD_PATH:
            self._reply(404, {"error": "not found"})
            return
        started, cpu_started = time.perf_counter(), time.process_time()
        record = new_record(self.headers.items(), "lean")
        self.server.records.add(record)
        body = self.server.records.take_buffer(record.content_length or 0)
        try:
            if record.chunked:
                record.body_bytes, body = self._read_chunked(body)
            elif record.content_length is None:
                raise ValueError("neither Content-Length nor chunked")
            else:
                record.body_bytes = _read_into(self.rfile, body, 0, record.content_length)
                if record.body_bytes != record.content_length:
                    raise ValueError(f"body ended after {record.body_bytes} bytes")
        except (OSError, ValueError) as exc:
            record.status, record.error = 400, f"{type(exc).__name__}: {exc}"
            record.verified = True
            self.server.records.give_back(body)
        record.body_s = time.perf_counter() - started
        record.sink_cpu_s = time.process_time() - cpu_started
        if record.error is not None:
            self._reply(record.status, {"error": record.error})
            return
        self.server.records.defer(record, body)
        self._reply(200, {"status": "success", "request_id": record.request_id})

    def _read_chunked(self, body: bytearray) -> tuple[int, bytearray]:
        size = 0
        while True:
            line = self.rfile.readline(1024)
            length = int(line.split(b";")[0], 16)
            if length == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return size, body
            if size + length > len(body):
                body.extend(bytes(size + length - len(body)))
            if _read_into(self.rfile, body, size, length) != length:
                raise ValueError("chunked body ended early")
            size += length
            self.rfile.readline(1024)


class LeanServer(ThreadingHTTPServer):
    """The lean sink's server; handlers reach the shared ``records`` through it."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], records: Records) -> None:
        super().__init__(address, LeanHandler)
        self.records = records


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Upload sink for bench_upload.py.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--mode", choices=["lean", "stream"], default="lean")
    parser.add_argument("--prealloc-bytes", type=int, default=0, help="lean: buffer to fault in")
    args = parser.parse_args(argv)
    if args.mode == "stream":
        import sink_stream

        sink_stream.main(args.host, args.port)
        return
    with LeanServer((args.host, args.port), Records(args.prealloc_bytes)) as server:
        print(f"PORT {server.server_address[1]}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


if __name__ == "__main__":
    main()

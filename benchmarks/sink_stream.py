"""The sink's ``stream`` mode: aiohttp, streaming multipart, sha256 as the bytes arrive.

Flat memory and nothing deferred, but measured here at ~2 s of sink CPU per GiB (aiohttp's
multipart reader ~1.2 s, sha256 ~0.8 s) against ~0.85 s for curl's sending: in this mode
the sink sets the pace. Kept to compare sinks with (``bench_upload.py --sink-mode stream``).
Same endpoints and records as ``sink.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import time
from typing import Any

from aiohttp import BodyPartReader, web
from sink import MAX_FIELD_BYTES, UPLOAD_PATH, PartRecord, Records, new_record

#: Bytes per ``read_chunk``: per-chunk Python overhead becomes negligible.
CHUNK_BYTES = 1024 * 1024
#: aiohttp pauses reading past twice this much buffered body; its 64 KiB default cost the
#: sink ~1.7x the CPU per GiB here.
READ_BUFSIZE = 4 * 1024 * 1024


async def _read_part(part: BodyPartReader) -> PartRecord:
    record = PartRecord(part.name, part.filename, part.headers.get("Content-Type"), 0, None)
    digest = hashlib.sha256() if part.filename is not None else None
    while chunk := await part.read_chunk(CHUNK_BYTES):
        if digest is not None:
            digest.update(chunk)
        elif record.size < MAX_FIELD_BYTES:
            record.value = (record.value or "") + chunk.decode("utf-8", "replace")
        record.size += len(chunk)
    record.sha256 = digest.hexdigest() if digest is not None else None
    return record


def make_app(records: Records) -> web.Application:
    """The aiohttp application serving ``sink.py``'s endpoints in stream mode."""

    async def upload(request: web.Request) -> web.Response:
        started, cpu_started = time.perf_counter(), time.process_time()
        record = new_record(request.headers.items(), "stream")
        records.add(record)
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise ValueError("nested multipart is not expected here")
                record.parts.append(await _read_part(part))
        except Exception as exc:  # recorded: the harness reports the run as failed
            record.status, record.error = 400, f"{type(exc).__name__}: {exc}"
        record.body_bytes = sum(part.size for part in record.parts)
        record.body_s = time.perf_counter() - started
        record.sink_cpu_s = time.process_time() - cpu_started
        record.verified = True
        if record.error is not None:
            return web.json_response({"error": record.error}, status=record.status)
        return web.json_response({"status": "success", "request_id": record.request_id})

    async def list_records(request: web.Request) -> web.Response:
        return web.json_response(records.since(int(request.query.get("since", "0"))))

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post(UPLOAD_PATH, upload)
    app.router.add_get("/_records", list_records)
    app.router.add_get("/_health", health)
    return app


async def serve(host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT; print ``PORT <n>`` once listening."""
    runner = web.AppRunner(make_app(Records()), access_log=None, read_bufsize=READ_BUFSIZE)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    addresses: list[Any] = runner.addresses
    print(f"PORT {addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(host: str, port: int) -> None:
    """Run the stream-mode sink (called by ``sink.py --mode stream``)."""
    asyncio.run(serve(host, port))

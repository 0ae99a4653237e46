"""The streamed multipart body, read back by an independent parser (the stdlib's email)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

from chamelaion_desktop.api import FilePart, MultipartUpload, UploadError, guess_content_type


async def collect(body: MultipartUpload) -> bytes:
    return b"".join([chunk async for chunk in body])


def parse(body: MultipartUpload, raw: bytes) -> list[Message]:
    message = message_from_bytes(f"Content-Type: {body.content_type}\r\n\r\n".encode() + raw)
    assert message.is_multipart()
    return list(message.get_payload())  # type: ignore[arg-type]


async def test_body_carries_fields_and_files_byte_for_byte(media_dir: Path) -> None:
    video = media_dir / "grid_s2_male_2sentences_6s.mp4"
    audio = media_dir / "fleurs_es419_006_spanish_5.6s.wav"
    body = MultipartUpload(
        [("reference_id", "dub-ép-42"), ("disable_active_speaker_detection", "true")],
        [FilePart.from_path("video", video), FilePart.from_path("audio", audio)],
        chunk_size=64 * 1024,
    )
    raw = await collect(body)

    assert len(raw) == body.content_length
    assert body.headers["Content-Length"] == str(len(raw))
    parts = parse(body, raw)
    assert [p.get_param("name", header="content-disposition") for p in parts] == [
        "reference_id",
        "disable_active_speaker_detection",
        "video",
        "audio",
    ]
    assert parts[0].get_payload(decode=True).decode() == "dub-ép-42"  # type: ignore[union-attr]
    assert parts[2].get_content_type() == "video/mp4"
    assert parts[2].get_filename() == video.name
    assert parts[3].get_content_type() == "audio/wav"
    for part, path in ((parts[2], video), (parts[3], audio)):
        sent = part.get_payload(decode=True)
        assert isinstance(sent, bytes)
        assert hashlib.sha256(sent).digest() == hashlib.sha256(path.read_bytes()).digest()


async def test_progress_is_monotonic_and_ends_at_content_length(media_dir: Path) -> None:
    seen: list[tuple[int, int]] = []
    body = MultipartUpload(
        [],
        [
            FilePart.from_path("video", media_dir / "grid_female_brbk7n_3s.mp4"),
            FilePart.from_path("audio", media_dir / "jfk_en_11s.mp3"),
        ],
        chunk_size=16 * 1024,
        progress=lambda done, total: seen.append((done, total)),
    )
    await collect(body)
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert len(seen) > 10  # small chunks: many reports, not one at the end
    assert seen[-1] == (body.content_length, body.content_length)


async def test_body_can_be_streamed_twice_for_a_retry(media_dir: Path) -> None:
    body = MultipartUpload(
        [("reference_id", "x")],
        [FilePart.from_path("video", media_dir / "grid_female_brbk7n_3s.mp4")],
        boundary="fixed",
    )
    assert await collect(body) == await collect(body)


async def test_file_that_shrinks_mid_upload_fails_plainly(tmp_path: Path) -> None:
    path = tmp_path / "master.mp4"
    path.write_bytes(b"x" * 300_000)
    body = MultipartUpload([], [FilePart.from_path("video", path)], chunk_size=100_000)
    chunks = body.__aiter__()
    await anext(chunks)  # the part header
    await anext(chunks)  # the first 100 kB
    path.write_bytes(b"x" * 150_000)  # truncated by another program
    with pytest.raises(UploadError, match="became shorter"):
        async for _ in chunks:
            pass


async def test_reads_happen_off_the_event_loop_thread(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    path.write_bytes(b"\0" * 3_000_000)
    reader_threads: set[str] = set()
    original = FilePart.from_path("video", path)
    body = MultipartUpload([], [original], chunk_size=1_000_000)

    real_open = open

    def spy_open(*args: object, **kwargs: object) -> object:
        reader_threads.add(threading.current_thread().name)
        return real_open(*args, **kwargs)  # type: ignore[call-overload]

    import chamelaion_desktop.api.multipart as multipart

    multipart.open = spy_open  # type: ignore[attr-defined]
    try:
        await collect(body)
    finally:
        del multipart.open  # type: ignore[attr-defined]
    assert reader_threads and threading.main_thread().name not in reader_threads


async def test_cancelling_mid_stream_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    path.write_bytes(b"\1" * 2_000_000)
    body = MultipartUpload([], [FilePart.from_path("video", path)], chunk_size=100_000)

    async def consume() -> None:
        async for _ in body:
            await asyncio.sleep(0.01)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # An unclosed file would surface as a ResourceWarning, which this suite turns into an error.
    await asyncio.sleep(0.05)


def test_missing_and_directory_inputs_are_refused_in_plain_words(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="Cannot read"):
        FilePart.from_path("video", tmp_path / "nope.mp4")
    with pytest.raises(UploadError, match="is not a file"):
        FilePart.from_path("video", tmp_path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.mp4", "video/mp4"),
        ("A.MOV", "video/quicktime"),
        ("b.wav", "audio/wav"),
        ("c.mp3", "audio/mpeg"),
        ("d.m4a", "audio/mp4"),
        ("noext", "application/octet-stream"),
    ],
)
def test_content_type_from_extension(name: str, expected: str) -> None:
    assert guess_content_type(name) == expected


async def test_quotes_in_filenames_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / 'take "2"\r.wav'
    path.write_bytes(b"RIFF")
    body = MultipartUpload([], [FilePart.from_path("audio", path)])
    raw = await collect(body)
    assert b'filename="take %222%22%0D.wav"' in raw


async def test_cancelling_while_the_file_opens_still_closes_it(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\2" * 1000)
    body = MultipartUpload([], [FilePart.from_path("video", path)])
    chunks = body.__aiter__()
    await anext(chunks)  # the part header; the next step opens the file on the reader thread
    step = asyncio.ensure_future(anext(chunks))
    await asyncio.sleep(0)  # the open is submitted, not finished
    step.cancel()
    with pytest.raises(asyncio.CancelledError):
        await step
    await chunks.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0.1)  # the reader thread closes the handle

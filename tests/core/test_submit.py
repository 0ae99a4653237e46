"""The submit workflow against the real sandbox over loopback, with a real journal file."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chamelaion_desktop.api import (
    APIConnectionError,
    AuthenticationError,
    ChamelaionClient,
    ChamelaionError,
    ResponseFormatError,
    ServerError,
    TokenLimitError,
)
from chamelaion_desktop.core.journal import (
    CANCELLED,
    SUBMITTED,
    UPLOAD_FAILED,
    UPLOADING,
    Journal,
    JournalEntry,
)
from chamelaion_desktop.core.submit import (
    AsyncJournal,
    InputsChangedError,
    UploadMeter,
    describe_upload_error,
    find_existing,
    resume,
    upload,
)
from chamelaion_desktop.sandbox import SandboxThread

VIDEO = "grid_s2_male_2sentences_6s.mp4"
AUDIO = "fleurs_es419_006_spanish_5.6s.wav"
MiB = 1024 * 1024


@pytest.fixture
async def client(sandbox: SandboxThread, api_key: str) -> AsyncIterator[ChamelaionClient]:
    async with ChamelaionClient(api_key, base_url=sandbox.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def changes() -> list[JournalEntry]:
    """Entries the journal reported through ``on_change``, in order."""
    return []


@pytest.fixture
def journal(db_path: Path, changes: list[JournalEntry]) -> Iterator[AsyncJournal]:
    opened = AsyncJournal(Journal(db_path), on_change=changes.append)
    yield opened
    opened.close()
    opened.journal.close()


async def total_jobs(client: ChamelaionClient) -> int:
    return (await client.list_requests()).pagination.total


def big_file(path: Path, size: int) -> Path:
    """A sparse file of ``size`` bytes: the sandbox stores uploads, it does not decode them."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


async def test_upload_records_each_step_and_the_server_knows_the_job(
    client: ChamelaionClient, journal: AsyncJournal, changes: list[JournalEntry], media_dir: Path
) -> None:
    entry = await journal.record(media_dir / VIDEO, media_dir / AUDIO, "pair-1", True)
    seen: list[tuple[int, int]] = []
    request_id = await upload(client, journal, entry, progress=lambda s, t: seen.append((s, t)))

    stored = await journal.get(entry.local_id)
    assert (stored.state, stored.request_id, stored.attempts) == (SUBMITTED, request_id, 1)
    assert [e.state for e in changes] == ["pending", "uploading", "submitted"]
    job = await client.get_request(request_id)
    assert job.reference_id == "pair-1"
    assert seen[-1][0] == seen[-1][1] > entry.video_size + entry.audio_size


async def test_cancel_midway_marks_cancelled_and_creates_no_job(
    client: ChamelaionClient, journal: AsyncJournal, media_dir: Path, tmp_path: Path
) -> None:
    video = big_file(tmp_path / "long take.mp4", 300 * MiB)
    entry = await journal.record(video, media_dir / AUDIO, "big-1", False)
    reached: list[int] = []

    def progress(sent: int, total: int) -> None:
        if sent >= total // 10 and not reached:
            reached.append(sent)
            task.cancel()

    task = asyncio.ensure_future(upload(client, journal, entry, progress=progress))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reached and reached[0] < 150 * MiB
    assert (await journal.get(entry.local_id)).state == CANCELLED
    await asyncio.sleep(0.2)  # let the server notice the cut
    assert await total_jobs(client) == 0


async def test_quitting_midway_leaves_the_entry_unfinished(
    client: ChamelaionClient, journal: AsyncJournal, media_dir: Path, tmp_path: Path
) -> None:
    video = big_file(tmp_path / "long take.mp4", 300 * MiB)
    entry = await journal.record(video, media_dir / AUDIO, "big-2", False)

    def progress(sent: int, total: int) -> None:
        if sent >= total // 10:
            task.cancel()

    # The app quitting cancels every task; that is not the user's cancel.
    task = asyncio.ensure_future(
        upload(client, journal, entry, progress=progress, user_cancelled=lambda: False)
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e.local_id for e in journal.journal.unfinished()] == [entry.local_id]
    assert (await journal.get(entry.local_id)).state == UPLOADING


async def test_lost_answer_then_resume_finds_the_job_without_a_second_upload(
    client: ChamelaionClient, journal: AsyncJournal, media_dir: Path, sandbox: SandboxThread
) -> None:
    entry = await journal.record(media_dir / VIDEO, media_dir / AUDIO, "lost-1", False)
    sandbox.faults.drop_after_create = 1
    with pytest.raises(APIConnectionError):
        await upload(client, journal, entry)
    failed = await journal.get(entry.local_id)
    assert failed.state == UPLOAD_FAILED
    assert failed.error_message is not None
    assert "may have been created" in failed.error_message
    assert "checks for it by its reference ID" in failed.error_message
    assert await total_jobs(client) == 1

    uploads: list[int] = []
    request_id = await resume(client, journal, failed, progress=lambda s, t: uploads.append(s))
    done = await journal.get(entry.local_id)
    assert (done.state, done.request_id) == (SUBMITTED, request_id)
    assert done.attempts == 1 and uploads == []  # nothing was sent again
    assert await total_jobs(client) == 1
    assert (await client.get_request(request_id)).reference_id == "lost-1"


@pytest.mark.parametrize("job_was_created", [True, False])
async def test_resume_after_a_crash_creates_the_job_exactly_once(
    client: ChamelaionClient, db_path: Path, media_dir: Path, job_was_created: bool
) -> None:
    before_crash = Journal(db_path)
    entry = before_crash.record(media_dir / VIDEO, media_dir / AUDIO, "crash-1", False)
    before_crash.mark_uploading(entry.local_id)
    before_crash.close()
    if job_was_created:  # the upload got through just before the app died
        await client.generate_with_media(
            media_dir / VIDEO, media_dir / AUDIO, reference_id="crash-1"
        )

    after_restart = AsyncJournal(Journal(db_path))
    try:
        [interrupted] = after_restart.journal.unfinished()
        request_id = await resume(client, after_restart, interrupted)
        done = await after_restart.get(entry.local_id)
    finally:
        after_restart.close()
        after_restart.journal.close()
    assert (done.state, done.request_id) == (SUBMITTED, request_id)
    assert done.attempts == (1 if job_was_created else 2)
    page = await client.list_requests(reference_id="crash-1")
    assert [job.id for job in page.data] == [request_id]


async def test_resume_with_inputs_gone_says_so_and_sends_nothing(
    client: ChamelaionClient, journal: AsyncJournal, media_dir: Path, tmp_path: Path
) -> None:
    video = Path(shutil.copy(media_dir / VIDEO, tmp_path / "take 3.mp4"))
    audio = Path(shutil.copy(media_dir / AUDIO, tmp_path / "dub es.wav"))
    entry = await journal.record(video, audio, "gone-1", False)
    await asyncio.to_thread(video.unlink)
    with pytest.raises(InputsChangedError) as info:
        await resume(client, journal, entry)
    assert str(info.value).startswith(f"The video file {video} is no longer there")
    stored = await journal.get(entry.local_id)
    assert (stored.state, stored.error_message, stored.attempts) == (
        UPLOAD_FAILED,
        str(info.value),
        0,
    )
    assert await total_jobs(client) == 0

    # Put back, but a different file: still refused.
    await asyncio.to_thread(shutil.copy, media_dir / "grid_female_brbk7n_3s.mp4", video)
    with pytest.raises(InputsChangedError, match="has changed since it was added"):
        await resume(client, journal, stored)
    assert await total_jobs(client) == 0


async def test_resume_never_claims_another_submissions_job(
    client: ChamelaionClient, journal: AsyncJournal, media_dir: Path
) -> None:
    # The same pair submitted twice: same suggested reference_id. The second one's lost
    # upload must not be "found" as the first one's job.
    first = await journal.record(media_dir / VIDEO, media_dir / AUDIO, "same-pair", False)
    first_id = await upload(client, journal, first)
    second = await journal.record(media_dir / VIDEO, media_dir / AUDIO, "same-pair", False)
    second_id = await resume(client, journal, second)
    assert second_id != first_id
    assert await total_jobs(client) == 2


async def test_jobs_older_than_the_entry_are_not_its_first_try(
    client: ChamelaionClient, db_path: Path, media_dir: Path
) -> None:
    answer = await client.generate_with_media(
        media_dir / VIDEO, media_dir / AUDIO, reference_id="old-ref"
    )
    # An entry recorded 10 minutes after that job (beyond the 5-minute clock allowance).
    later = datetime.now(UTC) + timedelta(minutes=10)
    journal = Journal(db_path, clock=lambda: later)
    try:
        entry = journal.record(media_dir / VIDEO, media_dir / AUDIO, "old-ref", False)
        assert await find_existing(client, entry) is None
        near = journal.record(media_dir / VIDEO, media_dir / AUDIO, "old-ref", False)
    finally:
        journal.close()
    # Within the allowance the job counts; unless another entry already claimed it.
    near_in_time = dataclasses.replace(near, created_at=datetime.now(UTC))
    found = await find_existing(client, near_in_time)
    assert found is not None and found.id == answer.request_id
    assert await find_existing(client, near_in_time, exclude={answer.request_id}) is None


async def test_a_cancelled_write_still_lands_in_order(db_path: Path, media_dir: Path) -> None:
    journal = AsyncJournal(Journal(db_path))
    try:
        entry = await journal.record(media_dir / VIDEO, media_dir / AUDIO, "w", False)
        task = asyncio.ensure_future(journal.mark_uploading(entry.local_id))
        await asyncio.sleep(0)  # the write is submitted
        task.cancel()
        cancelled = await journal.mark_cancelled(entry.local_id)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cancelled.state == CANCELLED
        assert (await journal.get(entry.local_id)).attempts == 1
    finally:
        journal.close()
        journal.journal.close()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (APIConnectionError("The connection was lost.", request_sent=True), "may have been"),
        (APIConnectionError("Could not connect.", request_sent=False), "Could not connect."),
        (ResponseFormatError("not JSON"), "may have been created"),
        (ServerError("internal error", status_code=500), "internal error"),
        (AuthenticationError("invalid token", status_code=401), "API key was not accepted"),
        (TokenLimitError("token limit reached", status_code=402), "No job was created"),
    ],
)
def test_error_sentences(error: ChamelaionError, expected: str) -> None:
    message = describe_upload_error(error)
    assert expected in message
    if isinstance(error, APIConnectionError) and not error.request_sent:
        assert "may have been" not in message


class StepClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_meter_passes_about_ten_reports_a_second_and_the_last() -> None:
    clock = StepClock()
    meter = UploadMeter(clock=clock)
    total = 1000 * MiB
    passed = []
    for chunk in range(1, 1001):  # 1 MiB every millisecond: 1000 reports in 1 s
        clock.now += 0.001
        if meter.update(chunk * MiB, total):
            passed.append((chunk, meter.rate))
    assert 10 <= len(passed) <= 12
    assert passed[-1][0] == 1000
    assert passed[0][0] == 1
    # 1 MiB per ms = 1000 MiB/s, measured from the start of the upload.
    assert passed[-1][1] == pytest.approx(1000 * MiB, rel=0.01)


def test_meter_rate_follows_the_last_two_seconds() -> None:
    clock = StepClock()
    meter = UploadMeter(clock=clock)
    sent = 0
    for _ in range(50):  # 5 s at 10 MiB/s
        clock.now += 0.1
        sent += MiB
        meter.update(sent, 10**12)
    assert meter.rate == pytest.approx(10 * MiB, rel=0.01)
    for _ in range(25):  # then 2.5 s at 1 MiB/s
        clock.now += 0.1
        sent += MiB // 10
        meter.update(sent, 10**12)
    assert meter.rate == pytest.approx(1 * MiB, rel=0.06)

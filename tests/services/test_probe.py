"""ProbeService reads real media off the GUI thread and answers with a signal."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from chamelaion_desktop.core.media import MediaInfo
from chamelaion_desktop.services.probe import ProbeService
from chamelaion_desktop.services.tasks import TaskRegistry
from tests.conftest import AsyncRunner
from tests.helpers import wait_until


@pytest.fixture
def service(qloop: Any) -> ProbeService:
    return ProbeService(TaskRegistry())


def collect(service: ProbeService) -> list[tuple[str, str, object]]:
    answers: list[tuple[str, str, object]] = []
    service.probed.connect(lambda path, info: answers.append(("probed", path, info)))
    service.refused.connect(lambda path, message: answers.append(("refused", path, message)))
    return answers


def test_a_video_and_an_audio_file_are_described(
    service: ProbeService, arun: AsyncRunner, media_dir: Path
) -> None:
    answers = collect(service)
    video = media_dir / "grid_s2_male_2sentences_6s.mp4"
    audio = media_dir / "fleurs_es419_006_spanish_5.6s.wav"
    service.probe(video)
    service.probe(audio)
    assert answers == []  # nothing is probed on the calling (GUI) thread

    arun(wait_until(lambda: len(answers) == 2))
    by_path = {path: (kind, info) for kind, path, info in answers}
    kind, info = by_path[str(video)]
    assert kind == "probed" and isinstance(info, MediaInfo)
    assert info.kind == "video" and info.video is not None and info.video.codec == "h264"
    assert info.duration_s == pytest.approx(6.0, abs=0.05)
    kind, info = by_path[str(audio)]
    assert kind == "probed" and isinstance(info, MediaInfo)
    assert info.kind == "audio" and info.duration_s == pytest.approx(5.64, abs=0.05)


def test_a_text_file_named_mp4_is_refused_with_the_fix(
    service: ProbeService, arun: AsyncRunner, tmp_path: Path
) -> None:
    answers = collect(service)
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are meeting notes, not a video\n" * 20)
    service.probe(fake)
    arun(wait_until(lambda: answers))
    [(kind, path, message)] = answers
    assert (kind, path) == ("refused", str(fake))
    assert "not a video or audio file" in str(message)
    assert "choose an MP4 video" in str(message)


def test_a_missing_file_is_refused(
    service: ProbeService, arun: AsyncRunner, tmp_path: Path
) -> None:
    answers = collect(service)
    service.probe(tmp_path / "gone.wav")
    arun(wait_until(lambda: answers))
    assert answers[0][0] == "refused"
    assert "No file at" in str(answers[0][2])


def test_probing_runs_in_a_worker_thread(
    service: ProbeService, arun: AsyncRunner, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chamelaion_desktop.core import media

    threads: list[threading.Thread] = []
    real_probe = media.probe

    def spying_probe(path: Path) -> MediaInfo:
        threads.append(threading.current_thread())
        return real_probe(path)

    monkeypatch.setattr(media, "probe", spying_probe)
    answers = collect(service)
    service.probe(media_dir / "jfk_en_11s.mp3")
    arun(wait_until(lambda: answers))
    assert answers[0][0] == "probed"
    assert threads and threads[0] is not threading.main_thread()

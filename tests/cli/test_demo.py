"""The demo (``make run`` until the window exists) end to end, with media it makes itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from chamelaion_desktop import demo
from chamelaion_desktop.core.media import probe


def test_demo_without_media_runs_every_step_and_saves_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CHAMELAION_API_KEY", "CHAMELAION_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    status = demo.main(
        ["--queue-delay", "0.05", "--processing-time", "0.1", "--poll-interval", "0.05"]
    )

    out = capsys.readouterr().out
    assert status == 0, out
    outputs = list((tmp_path / "demo-output").glob("demo-*.mp4"))
    assert len(outputs) == 1
    info = probe(outputs[0])
    assert info.video is not None and (info.video.width, info.video.height) == (320, 240)
    # The generated tone is 3 s long and the output follows the audio.
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert (tmp_path / ".sandbox-data").is_dir()
    assert "Making a 3 second test clip" in out
    assert f"is at {outputs[0]}" in out.splitlines()[-1]
    for step in ("health", "whoami", "submit", "list --limit 5"):
        assert f"$ chamelaion-cli {step}" in out
    assert "sandbox-key" not in out.split("$ chamelaion-cli")[1]  # commands shown without key


def test_demo_returns_the_status_of_the_first_failing_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    media = tmp_path / "media"
    media.mkdir()
    # A "video" that is not one: the submit step must fail with the CLI's usage status.
    (media / demo.DEMO_VIDEO).write_text("not a video", encoding="utf-8")
    demo.write_test_tone(media / demo.DEMO_AUDIO, seconds=0.5)

    status = demo.main(["--media", str(media), "--queue-delay", "0.05"])

    captured = capsys.readouterr()
    assert status == 2
    assert "The step 'Upload the video and the audio" in captured.out
    assert "failed with exit status 2" in captured.out
    assert "is not a video or audio file" in captured.err
    assert not list((tmp_path / "demo-output").glob("*.mp4"))

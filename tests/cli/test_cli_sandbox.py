"""chamelaion-cli against a real sandbox over loopback, with the real sample media."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from chamelaion_desktop.core.media import probe
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.sandbox.config import FAULT_JOB_MESSAGE

from .conftest import CliRunner

FAST = ("--poll-interval", "0.05")


@pytest.fixture
def video(media_dir: Path) -> str:
    return str(media_dir / "grid_s2_male_2sentences_6s.mp4")


@pytest.fixture
def audio(media_dir: Path) -> str:
    return str(media_dir / "fleurs_es419_006_spanish_5.6s.wav")


def test_submit_wait_output_saves_a_playable_mp4(
    sandbox_cli: CliRunner, video: str, audio: str, tmp_path: Path
) -> None:
    output = tmp_path / "dubbed.mp4"

    run = sandbox_cli(
        "--json", "submit", video, audio, "--reference-id", "ref-1", "--wait", "--output",
        str(output), *FAST,
    )  # fmt: skip

    assert run.status == 0, run.err
    result = json.loads(run.out)
    assert result["status"] == "completed"
    assert result["reference_id"] == "ref-1"
    assert result["output_path"] == str(output)
    uuid.UUID(result["id"])
    # Status changes were reported on stderr, in order.
    assert [line.split()[-1] for line in run.err_lines[1:]] == ["queued", "processing", "completed"]
    info = probe(output)
    assert info.video is not None and info.video.codec == "h264"
    assert info.audio is not None
    # The sandbox keeps the new audio's length (5.64 s).
    assert info.duration_s == pytest.approx(5.64, abs=0.1)
    assert not list(tmp_path.glob("*.part"))


def test_submit_then_get_list_download_in_human_form(
    sandbox_cli: CliRunner, video: str, audio: str, tmp_path: Path
) -> None:
    submitted = sandbox_cli("submit", video, audio, "--reference-id", "human-1")
    assert submitted.status == 0, submitted.err
    request_id = submitted.out.split()[2]
    assert submitted.out == f"Submitted request {request_id} (reference_id human-1).\n"
    assert submitted.err == ""

    waited = sandbox_cli("--json", "get", request_id)
    assert json.loads(waited.out)["id"] == request_id

    listed = sandbox_cli("list")
    assert listed.status == 0
    header, row, footer = listed.out.splitlines()
    assert header.split() == ["ID", "STATUS", "CREATED", "(UTC)", "TOOK", "REFERENCE_ID"]
    assert row.startswith(request_id) and row.endswith("human-1")
    assert footer == "Requests 1 to 1 of 1."

    # Wait through the CLI itself, by reference_id, then download into a folder.
    done = sandbox_cli("submit", video, audio, "--reference-id", "human-2", "--wait", *FAST)
    assert done.status == 0, done.err
    assert "completed in" in done.out
    by_reference = sandbox_cli("get", "human-2")
    assert by_reference.status == 0
    fields = dict(line.split(None, 1) for line in by_reference.out.splitlines()[1:])
    assert fields["status"] == "completed"
    assert fields["reference_id"] == "human-2"
    assert fields["output_url"].startswith("http://127.0.0.1:")

    downloaded = sandbox_cli("--json", "download", "human-2", str(tmp_path))
    assert downloaded.status == 0, downloaded.err
    saved = json.loads(downloaded.out)
    assert saved["output_path"] == str(tmp_path / "human-2.mp4")
    assert saved["size_bytes"] == (tmp_path / "human-2.mp4").stat().st_size > 0
    assert probe(saved["output_path"]).kind == "video"


def test_options_work_after_the_subcommand_and_json_parses(
    run_cli: CliRunner, sandbox: SandboxThread, api_key: str
) -> None:
    health = run_cli("health", "--json", "--base-url", sandbox.base_url)
    assert health.status == 0
    assert json.loads(health.out) == {"status": "ok", "base_url": sandbox.base_url}

    whoami = run_cli("whoami", "--base-url", sandbox.base_url, "--api-key", api_key, "--json")
    assert json.loads(whoami.out) == {
        "name": "Test token",
        "base_url": sandbox.base_url,
        "key_source": "argument",
    }

    empty = run_cli("--base-url", sandbox.base_url, "list", "--api-key", api_key, "--json")
    assert json.loads(empty.out) == {
        "data": [],
        "pagination": {"limit": 20, "offset": 0, "total": 0},
    }


def test_the_environment_key_is_used_and_never_printed(
    run_cli: CliRunner, sandbox: SandboxThread, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAMELAION_API_KEY", api_key)
    monkeypatch.setenv("CHAMELAION_BASE_URL", sandbox.base_url)

    run = run_cli("whoami")

    assert run.status == 0
    assert run.out == f"Test token at {sandbox.base_url} (key from CHAMELAION_API_KEY).\n"
    assert api_key not in run.out + run.err


def test_list_pages_and_all(
    sandbox_cli: CliRunner, video: str, audio: str, media_dir: Path
) -> None:
    for reference in ("p-1", "p-2", "p-3"):
        assert sandbox_cli("submit", video, audio, "--reference-id", reference).status == 0

    first = sandbox_cli("list", "--limit", "2")
    assert first.out.splitlines()[-1] == "Requests 1 to 2 of 3. More: --offset 2."
    assert [line.split()[-1] for line in first.out.splitlines()[1:-1]] == ["p-3", "p-2"]

    second = json.loads(sandbox_cli("--json", "list", "--limit", "2", "--offset", "2").out)
    assert [r["reference_id"] for r in second["data"]] == ["p-1"]
    assert second["pagination"] == {"limit": 2, "offset": 2, "total": 3}

    everything = json.loads(sandbox_cli("--json", "list", "--all").out)
    assert [r["reference_id"] for r in everything["data"]] == ["p-3", "p-2", "p-1"]

    only = json.loads(sandbox_cli("--json", "list", "--reference-id", "p-2").out)
    assert [r["reference_id"] for r in only["data"]] == ["p-2"]


def test_a_rejected_key_exits_1_with_the_server_reason_and_a_hint(
    run_cli: CliRunner, sandbox: SandboxThread
) -> None:
    wrong = "not-the-key-42"
    run = run_cli("--base-url", sandbox.base_url, "--api-key", wrong, "list")

    assert run.status == 1
    assert run.out == ""
    assert run.err_lines == [
        "Error: invalid token",
        "Hint: check your API key: chamelaion-cli login",
    ]
    assert wrong not in run.err


def test_an_unknown_request_exits_1(sandbox_cli: CliRunner) -> None:
    run = sandbox_cli("get", str(uuid.uuid4()))
    assert run.status == 1
    assert run.err_lines == ["Error: lipsync request not found"]


def test_a_failed_job_exits_3_with_its_error_message(
    sandbox_cli: CliRunner, sandbox: SandboxThread, video: str, audio: str, tmp_path: Path
) -> None:
    sandbox.faults.fail_jobs = 1
    output = tmp_path / "never.mp4"

    run = sandbox_cli(
        "submit", video, audio, "--reference-id", "doomed", "--output", str(output), *FAST
    )

    assert run.status == 3
    assert run.err_lines[-1].startswith("Error: request ")
    assert run.err_lines[-1].endswith(f" failed: {FAULT_JOB_MESSAGE}.")
    assert not output.exists()

    again = sandbox_cli("download", "doomed", str(tmp_path))
    assert again.status == 3
    assert FAULT_JOB_MESSAGE in again.err

    as_json = sandbox_cli("--json", "get", "doomed")
    assert json.loads(as_json.out)["error_message"] == FAULT_JOB_MESSAGE


def test_submit_url_with_an_unreachable_video_fails_the_job(
    sandbox_cli: CliRunner,
) -> None:
    # Port 9 on loopback: nothing listens, so the sandbox cannot fetch the inputs.
    run = sandbox_cli(
        "--json", "submit-url", "http://127.0.0.1:9/face.mp4", "http://127.0.0.1:9/voice.wav",
        "--no-active-speaker-detection", "--wait", *FAST,
    )  # fmt: skip

    assert run.status == 3
    assert json.loads(run.out)["error_message"] == "video URL is not accessible"
    assert run.err_lines[-1].endswith("failed: video URL is not accessible.")


def test_download_of_an_unfinished_request_says_so(
    run_cli: CliRunner, sandbox: SandboxThread, api_key: str, video: str, audio: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    sandbox.config.queue_delay = 30.0  # the job stays queued for the whole test
    connection = ("--base-url", sandbox.base_url, "--api-key", api_key)
    assert run_cli(*connection, "submit", video, audio, "--reference-id", "slow").status == 0

    run = run_cli(*connection, "download", "slow", str(tmp_path / "out.mp4"))

    assert run.status == 1
    assert run.err_lines == [run.err_lines[0]]
    assert "is queued, not completed yet" in run.err
    assert not (tmp_path / "out.mp4").exists()


def test_quiet_leaves_stderr_empty_on_success(
    sandbox_cli: CliRunner, video: str, audio: str
) -> None:
    run = sandbox_cli("--quiet", "submit", video, audio, "--wait", *FAST)
    assert run.status == 0
    assert run.err == ""
    assert "completed in" in run.out


def test_a_lost_answer_exits_1_and_says_to_check_before_resubmitting(
    sandbox_cli: CliRunner, sandbox: SandboxThread
) -> None:
    sandbox.faults.drop_after_create = 1
    url = "http://127.0.0.1:9/x.mp4"
    run = sandbox_cli("submit-url", url, url.replace("mp4", "wav"), "--reference-id", "ep7-de")

    assert run.status == 1
    assert run.err_lines[0].startswith("Error: The connection to 127.0.0.1")
    assert run.err_lines[1] == (
        "Hint: the job may have been created; "
        "check with 'chamelaion-cli list --reference-id ep7-de' first."
    )
    # It was created, once: the CLI did not resubmit behind the user's back.
    listed = sandbox_cli("--json", "list", "--reference-id", "ep7-de")
    assert json.loads(listed.out)["pagination"]["total"] == 1

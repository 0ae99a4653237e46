"""Bad usage and bad input: exit 2, one plain line on stderr, no traceback, no job created."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread

from .conftest import CliRunner

REPO = Path(__file__).resolve().parents[2]
VIDEO = "grid_female_brbk7n_3s.mp4"
AUDIO = "jfk_en_11s.wav"


def _total_requests(sandbox: SandboxThread, api_key: str) -> int:
    """How many jobs the sandbox holds, asked over HTTP without the CLI."""
    with httpx.Client() as http:
        answer = http.get(f"{sandbox.base_url}/v1/lipsync/requests", headers={"x-api-key": api_key})
    answer.raise_for_status()
    total: int = answer.json()["pagination"]["total"]
    return total


def _bad_submissions(media_dir: Path, tmp: Path) -> dict[str, tuple[list[str], str]]:
    video, audio = str(media_dir / VIDEO), str(media_dir / AUDIO)
    (tmp / "folder").mkdir()
    (tmp / "empty.mp4").touch()
    (tmp / "notes.mp4").write_text("not a video\n" * 20, encoding="utf-8")
    missing = str(tmp / "missing.mp4")
    return {
        "missing file": (["submit", missing, audio], f"Error: No file at {missing}: check"),
        "directory": (["submit", str(tmp / "folder"), audio], "is a folder, not a file"),
        "empty file": (["submit", video, str(tmp / "empty.mp4")], "is empty (0 bytes)"),
        "text named .mp4": (
            ["submit", str(tmp / "notes.mp4"), audio],
            "is not a video or audio file that can be read",
        ),
        "audio as video": (["submit", audio, audio], "has no video stream"),
        "video as audio": (["submit", video, video], "is a video, not an audio file"),
        "unknown option": (
            ["submit", video, audio, "--lips", "big"],
            "Error: unrecognized arguments: --lips big",
        ),
        "missing argument": (["submit", video], "the following arguments are required: AUDIO"),
        "bad number": (["list", "--limit", "many"], "argument --limit: 'many' is not a whole"),
        "output folder missing": (
            ["submit", video, audio, "--output", str(tmp / "no" / "out.mp4")],
            "does not exist: create it or choose another path.",
        ),
        "not a URL": (["submit-url", "face.mp4", "https://x/a.wav"], "is not an http(s) URL"),
    }


CASE_IDS = [
    "missing file",
    "directory",
    "empty file",
    "text named .mp4",
    "audio as video",
    "video as audio",
    "unknown option",
    "missing argument",
    "bad number",
    "output folder missing",
    "not a URL",
]


def test_every_case_is_run(media_dir: Path, tmp_path: Path) -> None:
    assert list(_bad_submissions(media_dir, tmp_path)) == CASE_IDS


@pytest.mark.parametrize("case", CASE_IDS)
def test_bad_input_exits_2_with_one_line_and_creates_no_job(
    sandbox_cli: CliRunner,
    sandbox: SandboxThread,
    api_key: str,
    media_dir: Path,
    tmp_path: Path,
    case: str,
) -> None:
    argv, expected = _bad_submissions(media_dir, tmp_path)[case]

    run = sandbox_cli(*argv)

    assert run.status == 2
    assert run.out == ""
    assert len(run.err_lines) == 1, run.err
    assert expected in run.err
    assert run.err.startswith("Error: ")
    assert "Traceback" not in run.err
    assert _total_requests(sandbox, api_key) == 0


def test_no_key_anywhere_is_a_usage_error_naming_the_fixes(
    run_cli: CliRunner, sandbox: SandboxThread, memory_keyring: object
) -> None:
    run = run_cli("--base-url", sandbox.base_url, "whoami")

    assert run.status == 2
    assert run.err_lines == [
        f"Error: No API key for {sandbox.base_url}: run 'chamelaion-cli login', "
        "set CHAMELAION_API_KEY or pass --api-key."
    ]


def test_help_exits_0(run_cli: CliRunner) -> None:
    run = run_cli("--help")
    assert run.status == 0
    assert "submit-url" in run.out
    assert "Exit status: 0 done, 1 API error, 2 bad usage" in run.out


def _subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAMELAION_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def test_as_a_real_process_bad_input_is_one_line_and_exit_2(
    sandbox: SandboxThread, api_key: str, media_dir: Path, tmp_path: Path
) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("hello\n", encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "chamelaion_desktop.cli", "--base-url", sandbox.base_url,
         "--api-key", api_key, "submit", str(text), str(media_dir / AUDIO)],
        capture_output=True, text=True, env=_subprocess_env(), cwd=REPO, timeout=60,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"Error: {text} is not a video or audio file")
    assert _total_requests(sandbox, api_key) == 0


def test_ctrl_c_while_waiting_exits_130_with_cancelled(
    api_key: str, media_dir: Path, tmp_path: Path
) -> None:
    config = SandboxConfig(data_dir=tmp_path / "slow", api_keys={api_key: "Slow"}, queue_delay=60.0)
    with SandboxThread(config) as slow:
        process = subprocess.Popen(
            [sys.executable, "-m", "chamelaion_desktop.cli", "--base-url", slow.base_url,
             "--api-key", api_key, "submit", str(media_dir / VIDEO), str(media_dir / AUDIO),
             "--wait", "--poll-interval", "0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_subprocess_env(), cwd=REPO,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while _total_requests(slow, api_key) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)  # let it poll at least once
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()

    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "Cancelled."
    assert "queued" in err
    assert api_key not in out + err

"""``python -m chamelaion_desktop.sandbox``: one line on stdout, serves, stops on SIGTERM."""

from __future__ import annotations

import re
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from chamelaion_desktop.sandbox.__main__ import build_parser, config_from_args

LINE = re.compile(r"^Chamelaion sandbox listening on (http://127\.0\.0\.1:(\d+)/api)\n$")


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError("the sandbox printed nothing")
    return process.stdout.readline()


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    command = [
        sys.executable,
        "-m",
        "chamelaion_desktop.sandbox",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--api-key",
        "cli-key=CLI user",
        "--api-key",
        "second-key",
        "--queue-delay",
        "0.05",
        "--processing-time",
        "0.05",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _first_line(process, timeout=20)
        match = LINE.match(line)
        assert match, line
        base_url = match.group(1)
        assert int(match.group(2)) > 0
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{base_url}/health").json() == {"status": "ok"}
            me = client.get(f"{base_url}/v1/users/me", headers={"x-api-key": "cli-key"})
            assert me.json() == {"name": "CLI user"}
            other = client.get(f"{base_url}/v1/users/me", headers={"x-api-key": "second-key"})
            assert other.json() == {"name": "Sandbox"}
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout == ""  # exactly one line in all
    assert (data_dir / "sandbox.sqlite3").is_file()


def test_cli_flags_map_to_config(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "--data-dir",
            str(tmp_path),
            "--quota",
            "7",
            "--rate-limit",
            "0",
            "--queue-delay",
            "0.5",
            "--processing-time",
            "1.5",
            "--url-ttl",
            "60",
            "--max-upload-bytes",
            "1000",
            "--latency",
            "0.2",
            "--error-rate",
            "0.1",
        ]
    )
    config = config_from_args(args)
    assert config.data_dir == tmp_path
    assert config.api_keys == {"sandbox-key": "Sandbox"}
    assert (config.quota, config.rate_limit, config.max_upload_bytes) == (7, 0, 1000)
    assert (config.queue_delay, config.processing_time, config.url_ttl) == (0.5, 1.5, 60.0)
    assert (config.faults.latency, config.faults.error_rate) == (0.2, 0.1)
    assert "sandbox-key" not in repr(config)

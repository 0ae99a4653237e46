"""Starting and stopping: the sync wrapper, the async server, failures at startup."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from chamelaion_desktop.sandbox import Faults, Sandbox, SandboxConfig, SandboxThread


def test_thread_start_returns_itself_and_stop_is_idempotent(sandbox_config: SandboxConfig) -> None:
    server = SandboxThread(sandbox_config)
    assert server.start() is server
    assert server.faults is sandbox_config.faults
    assert server.config is sandbox_config
    assert httpx.get(f"{server.base_url}/health").status_code == 200
    server.stop()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/health")


def test_busy_port_fails_startup(sandbox_config: SandboxConfig, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError):
            SandboxThread(sandbox_config, port=port).start()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "chamelaion_desktop.sandbox",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "cli"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "cannot start" in result.stderr


async def test_async_sandbox_on_the_running_loop(
    sandbox_config: SandboxConfig, api_key: str
) -> None:
    sandbox = Sandbox(sandbox_config)
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url
    async with sandbox, httpx.AsyncClient() as client:
        assert sandbox.base_url.startswith("http://127.0.0.1:")
        response = await client.get(
            f"{sandbox.base_url}/v1/users/me", headers={"x-api-key": api_key}
        )
        assert response.json() == {"name": "Test token"}
    await sandbox.stop()  # idempotent


def test_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    config = SandboxConfig(
        data_dir=tmp_path, api_keys={"s3cr3t-token": "Me"}, disabled_keys=frozenset({"old-s3cr3t"})
    )
    text = repr(config) + repr(SandboxThread(config)) + repr(Sandbox(config))
    assert "s3cr3t" not in text
    assert repr(Faults()) == (
        "Faults(latency=0.0, error_rate=0.0, force_429=0, drop_uploads=0, "
        "drop_upload_after=262144, drop_after_create=0, fail_jobs=0, upload_rate=0.0)"
    )


def test_defaults_match_the_contract(tmp_path: Path) -> None:
    config = SandboxConfig(data_dir=tmp_path)
    assert config.api_keys == {"sandbox-key": "Sandbox"}
    assert (config.quota, config.rate_limit) == (100_000, 60)
    assert (config.queue_delay, config.processing_time, config.url_ttl) == (1.0, 2.0, 3600.0)
    assert config.max_upload_bytes == 5 * 1024**3
    assert config.faults == Faults()
    assert SandboxConfig(data_dir=tmp_path).faults is not config.faults

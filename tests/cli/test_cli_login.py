"""login / logout with an in-memory keyring (the OS keychain is a boundary we do not own)."""

from __future__ import annotations

import io
import json

import keyring.backends.fail
import keyring.core
import pytest

from chamelaion_desktop.sandbox import SandboxThread
from tests.core.memory_keyring import MemoryKeyring

from .conftest import CliRunner


def test_login_checks_the_key_then_saves_it_and_logout_removes_it(
    run_cli: CliRunner,
    sandbox: SandboxThread,
    api_key: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = sandbox.base_url
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{api_key}\n"))

    login = run_cli("--base-url", url, "login")

    assert login.status == 0, login.err
    assert login.out == f"Saved the key of Test token for {url} in {MemoryKeyring.name}.\n"
    assert memory_keyring.entries == {("chamelaion-desktop", url): api_key}

    whoami = run_cli("--base-url", url, "--json", "whoami")
    assert whoami.status == 0
    assert json.loads(whoami.out)["key_source"] == "keychain"

    logout = run_cli("--base-url", url, "logout")
    assert logout.status == 0
    assert logout.out == f"Removed the key for {url} from {MemoryKeyring.name}.\n"
    assert memory_keyring.entries == {}
    again = run_cli("--base-url", url, "--json", "logout")
    assert json.loads(again.out)["removed"] is False

    assert run_cli("--base-url", url, "whoami").status == 2
    for run in (login, whoami, logout, again):
        assert api_key not in run.out + run.err


def test_a_rejected_key_is_not_saved(
    run_cli: CliRunner,
    sandbox: SandboxThread,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-key-123\n"))

    run = run_cli("--base-url", sandbox.base_url, "login")

    assert run.status == 1
    assert run.err_lines == [
        "Error: the server refused this key: invalid token. Nothing was saved."
    ]
    assert memory_keyring.entries == {}
    assert "wrong-key-123" not in run.out + run.err


def test_login_without_a_keychain_says_so(
    run_cli: CliRunner,
    sandbox: SandboxThread,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())

    run = run_cli("--base-url", sandbox.base_url, "--api-key", api_key, "login")

    assert run.status == 1
    assert len(run.err_lines) == 1
    assert run.err.startswith("Error: No keychain is available on this system")
    assert "CHAMELAION_API_KEY" in run.err
    assert api_key not in run.out + run.err


def test_an_empty_key_on_stdin_is_a_usage_error(
    run_cli: CliRunner,
    sandbox: SandboxThread,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    run = run_cli("--base-url", sandbox.base_url, "login")
    assert run.status == 2
    assert run.err_lines == [
        "Error: No API key was given: paste the key at the prompt or on stdin."
    ]


def test_a_broken_keychain_is_explained_when_no_key_is_found(
    run_cli: CliRunner, sandbox: SandboxThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        keyring.core,
        "_keyring_backend",
        MemoryKeyring(fail_with=keyring.errors.KeyringLocked("Keyring is locked")),
    )

    run = run_cli("--base-url", sandbox.base_url, "list")

    assert run.status == 2
    assert len(run.err_lines) == 1
    assert run.err.startswith(f"Error: No API key for {sandbox.base_url}: run")
    assert "(The API key could not be read in" in run.err
    assert "Keyring is locked" in run.err

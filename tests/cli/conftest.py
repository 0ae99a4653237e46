"""CLI test helpers: a clean environment and a way to run ``cli.main`` and read its output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import keyring.core
import pytest

from chamelaion_desktop import cli
from chamelaion_desktop.sandbox import SandboxThread
from tests.core.memory_keyring import MemoryKeyring


@dataclass
class Run:
    """The outcome of one ``cli.main`` call."""

    status: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


CliRunner = Callable[..., Run]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key or base URL leaks in from the machine running the tests."""
    for name in ("CHAMELAION_API_KEY", "CHAMELAION_BASE_URL", "CHAMELAION_BEARER_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Make an in-memory backend keyring's choice for the test (the OS keychain is not ours)."""
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    yield backend


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """``run_cli(*argv)``: call ``cli.main`` in-process and capture stdout and stderr."""

    def run(*argv: str) -> Run:
        capsys.readouterr()
        status = cli.main(list(argv))
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run


@pytest.fixture
def sandbox_cli(run_cli: CliRunner, sandbox: SandboxThread, api_key: str) -> CliRunner:
    """``sandbox_cli(*argv)``: ``run_cli`` against the test sandbox with its key."""

    def run(*argv: str) -> Run:
        return run_cli("--base-url", sandbox.base_url, "--api-key", api_key, *argv)

    return run

"""Fixtures for sandbox tests: a factory for sandboxes with their own settings, an HTTP client."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chamelaion_desktop.sandbox import SandboxConfig, SandboxThread

StartSandbox = Callable[..., SandboxThread]


@pytest.fixture
def start_sandbox(sandbox_config: SandboxConfig) -> Iterator[StartSandbox]:
    """``start_sandbox(quota=2, ...)``: a running sandbox with the fixture's config changed.

    Every sandbox started this way is stopped at teardown.
    """
    started: list[SandboxThread] = []

    def start(**overrides: Any) -> SandboxThread:
        config = dataclasses.replace(sandbox_config, **overrides)
        server = SandboxThread(config).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http

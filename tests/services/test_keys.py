"""KeyService checks keys against the real sandbox before saving them to a keychain.

The OS keychain is a boundary we do not own: here it is an in-memory ``keyring`` backend
(a working keychain), ``keyring.backends.fail.Keyring`` (none at all) or a memory backend
that raises (a locked one). The real Secret Service is exercised in tests/keychain.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import keyring.backends.fail
import keyring.errors
import pytest

from chamelaion_desktop.core.credentials import DEFAULT_SERVICE, CredentialStore
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.services.keys import (
    SESSION_ONLY,
    SESSION_ONLY_KEYCHAIN_FAILED,
    KeyService,
    describe_storage,
)
from chamelaion_desktop.services.tasks import TaskRegistry
from tests.conftest import API_KEY_NAME, AsyncRunner
from tests.core.memory_keyring import MemoryKeyring
from tests.helpers import wait_until

WRONG_KEY = "not-the-key-0000"


class Recorder:
    """Every signal of a KeyService, in order, as ``(name, args)``."""

    def __init__(self, service: KeyService) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        for name in ("loaded", "located", "saved", "rejected", "removed", "keychainFailed"):
            getattr(service, name).connect(
                lambda *args, _name=name: self.events.append((_name, args))
            )

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


@pytest.fixture
def memory() -> MemoryKeyring:
    return MemoryKeyring()


def make_service(backend: Any) -> tuple[KeyService, Recorder]:
    service = KeyService(CredentialStore(keyring_backend=backend), TaskRegistry())
    return service, Recorder(service)


def test_a_rejected_key_is_not_saved_and_said_plainly(
    qloop: Any, arun: AsyncRunner, sandbox: SandboxThread, memory: MemoryKeyring
) -> None:
    service, seen = make_service(memory)
    service.check_and_save(sandbox.base_url, WRONG_KEY)
    arun(wait_until(lambda: seen.events))
    assert seen.events == [
        (
            "rejected",
            (
                "The service did not accept this key (invalid token). "
                "Check that you copied all of it.",
            ),
        )
    ]
    assert memory.entries == {}


def test_an_accepted_key_is_saved_then_loaded_then_removed(
    qloop: Any,
    arun: AsyncRunner,
    sandbox: SandboxThread,
    api_key: str,
    memory: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    service, seen = make_service(memory)
    service.check_and_save(sandbox.base_url, f"  {api_key}\n")  # pasted with blanks
    arun(wait_until(lambda: seen.events))
    where = "memory keyring MemoryKeyring"
    assert seen.events == [("saved", (api_key, API_KEY_NAME, True, where))]
    assert memory.entries == {(DEFAULT_SERVICE, sandbox.base_url): api_key}

    service.load(sandbox.base_url + "/")
    arun(wait_until(lambda: len(seen.events) == 2))
    assert seen.events[1] == ("loaded", (api_key, True, where))

    service.locate(sandbox.base_url)
    arun(wait_until(lambda: len(seen.events) == 3))
    assert seen.events[2] == ("located", (True, True, where))

    service.remove(sandbox.base_url)
    arun(wait_until(lambda: len(seen.events) == 4))
    assert seen.events[3] == ("removed", ())
    assert memory.entries == {}

    assert api_key not in caplog.text  # logged what happened, never the key
    assert "accepted" in caplog.text


def test_without_a_keychain_the_key_is_kept_for_the_session(
    qloop: Any, arun: AsyncRunner, sandbox: SandboxThread, api_key: str
) -> None:
    service, seen = make_service(keyring.backends.fail.Keyring())
    service.load(sandbox.base_url)
    arun(wait_until(lambda: seen.events))
    assert seen.events == [("loaded", (None, False, SESSION_ONLY))]

    service.check_and_save(sandbox.base_url, api_key)
    arun(wait_until(lambda: len(seen.events) == 2))
    assert seen.events[1] == ("saved", (api_key, API_KEY_NAME, False, SESSION_ONLY))
    assert describe_storage(False, SESSION_ONLY) == (
        "No system keychain is available: the key is kept until you quit."
    )

    service.remove(sandbox.base_url)  # nothing stored: forgetting the session key is enough
    arun(wait_until(lambda: len(seen.events) == 3))
    assert seen.events[2] == ("removed", ())


def test_a_locked_keychain_keeps_the_key_for_the_session_and_says_why(
    qloop: Any, arun: AsyncRunner, sandbox: SandboxThread, api_key: str
) -> None:
    locked = MemoryKeyring(fail_with=keyring.errors.KeyringLocked("Prompt dismissed"))
    service, seen = make_service(locked)
    service.check_and_save(sandbox.base_url, api_key)
    arun(wait_until(lambda: seen.events))
    assert seen.events == [("saved", (api_key, API_KEY_NAME, False, SESSION_ONLY_KEYCHAIN_FAILED))]
    assert "could not store the key" in describe_storage(False, SESSION_ONLY_KEYCHAIN_FAILED)

    service.load(sandbox.base_url)
    arun(wait_until(lambda: "loaded" in seen.names()))
    failed = [args for name, args in seen.events if name == "keychainFailed"]
    assert failed and "Prompt dismissed" in failed[0][0]
    assert seen.events[-1] == ("loaded", (None, True, "memory keyring MemoryKeyring"))

    service.remove(sandbox.base_url)
    arun(wait_until(lambda: seen.names().count("keychainFailed") == 2))
    assert "removed" not in seen.names()


def test_an_unreachable_server_is_a_connection_problem(
    qloop: Any, arun: AsyncRunner, api_key: str, memory: MemoryKeyring
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service, seen = make_service(memory)
    service.check_and_save(f"http://127.0.0.1:{port}/api", api_key)
    arun(wait_until(lambda: seen.events, timeout=20), timeout=25)
    [(name, (message,))] = seen.events
    assert name == "rejected"
    assert message.startswith(f"The key could not be checked: http://127.0.0.1:{port}/api")
    assert "did not answer" in message and "internet connection" in message
    assert api_key not in message
    assert memory.entries == {}


def test_an_empty_key_is_refused_without_asking_the_server(
    qloop: Any, arun: AsyncRunner, memory: MemoryKeyring
) -> None:
    service, seen = make_service(memory)
    service.check_and_save("http://127.0.0.1:9/api", "   ")
    arun(wait_until(lambda: seen.events))
    assert seen.events == [("rejected", ("Enter an API key: the field is empty.",))]

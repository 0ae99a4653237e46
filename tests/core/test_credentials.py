"""core.credentials with an in-memory keyring backend (the OS keychain is not ours)."""

from __future__ import annotations

import logging

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.backends.SecretService
import keyring.core
import keyring.errors
import pytest

from chamelaion_desktop.core.credentials import (
    CredentialStore,
    CredentialStoreError,
    resolve_api_key,
)

from .memory_keyring import MemoryKeyring

URL = "http://127.0.0.1:8787/api"
KEY = "sk-live-very-secret-0123456789"


def test_set_get_delete_round_trip_per_base_url() -> None:
    backend = MemoryKeyring()
    store = CredentialStore(keyring_backend=backend)

    assert store.get(URL) is None
    store.set(URL + "/", KEY)  # a trailing slash names the same account
    assert store.get(URL) == KEY
    assert backend.entries == {("chamelaion-desktop", URL): KEY}
    assert store.get("https://api.chamelaion.com/api") is None

    assert store.delete(URL) is True
    assert store.get(URL) is None
    assert store.delete(URL) is False


def test_default_backend_is_keyrings_choice_looked_up_lazily(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = MemoryKeyring()
    store = CredentialStore()  # built before the backend is chosen: nothing looked up yet
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)

    store.set(URL, KEY)
    assert backend.entries[("chamelaion-desktop", URL)] == KEY
    assert store.backend is backend


def test_no_keychain_is_a_plain_error_without_plaintext_advice() -> None:
    store = CredentialStore(keyring_backend=keyring.backends.fail.Keyring())

    assert store.is_persistent is False
    assert store.backend_name == "no keychain"
    with pytest.raises(CredentialStoreError) as caught:
        store.get(URL)
    assert caught.value.message.startswith("No keychain is available on this system")
    assert "keyrings.alt" not in caught.value.message
    assert store.last_error is caught.value
    with pytest.raises(CredentialStoreError, match="could not be saved"):
        store.set(URL, KEY)
    with pytest.raises(CredentialStoreError, match="could not be removed"):
        store.delete(URL)


def test_the_null_backend_is_not_persistent_and_set_says_so() -> None:
    store = CredentialStore(keyring_backend=keyring.backends.null.Keyring())
    assert store.is_persistent is False
    assert store.get(URL) is None
    with pytest.raises(CredentialStoreError, match="CHAMELAION_API_KEY"):
        store.set(URL, KEY)


def test_an_empty_chainer_is_not_persistent(monkeypatch: pytest.MonkeyPatch) -> None:
    chainer = keyring.backends.chainer.ChainerBackend()
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [])
    store = CredentialStore(keyring_backend=chainer)
    assert store.is_persistent is False
    assert store.backend_name == "no keychain"

    monkeypatch.setattr(
        keyring.backends.chainer.ChainerBackend,
        "backends",
        [keyring.backends.SecretService.Keyring()],
    )
    assert store.is_persistent is True
    assert store.backend_name == "Secret Service"


def test_backend_names_are_for_people() -> None:
    assert (
        CredentialStore(keyring_backend=keyring.backends.SecretService.Keyring()).backend_name
        == "Secret Service"
    )
    # An unknown backend falls back to keyring's own display name.
    assert CredentialStore(keyring_backend=MemoryKeyring()).backend_name == MemoryKeyring.name


@pytest.mark.parametrize(
    "error",
    [
        keyring.errors.InitError("Prompt dismissed"),
        keyring.errors.KeyringLocked("Keyring is locked"),
        keyring.errors.PasswordSetError(f"could not store {KEY} for you"),
    ],
)
def test_keychain_failures_never_reveal_the_key(
    error: keyring.errors.KeyringError, caplog: pytest.LogCaptureFixture
) -> None:
    store = CredentialStore(keyring_backend=MemoryKeyring(fail_with=error))
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CredentialStoreError) as caught:
        store.set(URL, KEY)

    message = caught.value.message
    assert KEY not in message
    assert KEY not in repr(caught.value)
    assert KEY not in caplog.text
    assert KEY not in repr(store)
    assert message.startswith("The API key could not be saved in")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_resolve_prefers_argument_then_environment_then_keychain() -> None:
    store = CredentialStore(keyring_backend=MemoryKeyring())
    store.set(URL, "from-keychain")
    env = {"CHAMELAION_API_KEY": "from-env"}

    assert resolve_api_key("from-arg", URL, environ=env, store=store) == ("from-arg", "argument")
    assert resolve_api_key(None, URL, environ=env, store=store) == ("from-env", "environment")
    assert resolve_api_key(None, URL, environ={}, store=store) == ("from-keychain", "keychain")
    assert resolve_api_key("  ", URL, environ={"CHAMELAION_API_KEY": ""}, store=store) == (
        "from-keychain",
        "keychain",
    )
    assert resolve_api_key(None, "https://elsewhere/api", environ={}, store=store) == (
        None,
        "none",
    )
    assert resolve_api_key(None, URL, environ={}, store=None) == (None, "none")


def test_resolve_does_not_touch_the_keychain_when_a_key_is_given() -> None:
    store = CredentialStore(keyring_backend=MemoryKeyring(fail_with=keyring.errors.InitError("x")))
    assert resolve_api_key(" k \n", URL, environ={}, store=store) == ("k", "argument")
    assert store.last_error is None


def test_resolve_survives_a_broken_keychain_and_keeps_the_reason() -> None:
    store = CredentialStore(keyring_backend=MemoryKeyring(fail_with=keyring.errors.InitError("x")))

    assert resolve_api_key(None, URL, environ={}, store=store) == (None, "none")
    assert store.last_error is not None
    assert "(x)" in store.last_error.message

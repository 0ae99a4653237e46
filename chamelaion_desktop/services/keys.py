"""The API key: read from, checked against the service, saved to and removed from the keychain.

Keychain calls can block (a D-Bus round trip, an unlock prompt), so every one runs in a
worker thread. A key is checked with ``GET /v1/users/me`` (API.md, "Endpoints" [SDK]) before
it is saved, so a typo never lands in the keychain. Without a working keychain the key is
kept for the session only and the signals say so; there is no file fallback.

The key is carried only by ``loaded`` and ``saved`` (the session needs it); it is never
logged, and no message of this module contains it.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, Signal

from ..api import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ChamelaionError,
)
from ..core.credentials import CredentialStore, CredentialStoreError
from .tasks import TaskRegistry

log = logging.getLogger(__name__)

#: ``where`` when no keychain backend exists on the machine.
SESSION_ONLY = "the session only (no keychain available)"
#: ``where`` when a keychain exists but refused to store the key (locked, prompt dismissed).
SESSION_ONLY_KEYCHAIN_FAILED = "the session only (the keychain could not store it)"

#: Seconds to wait for ``GET /v1/users/me`` when checking a key.
CHECK_TIMEOUT_S = 15.0


class _Hidden:
    """A key on its way back from a worker thread: qasync's executor logs every result at
    DEBUG level, and this one must not show."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


def describe_storage(persistent: bool, where: str) -> str:
    """One sentence for people saying where the key is (or would be) kept.

    Args:
        persistent: True when the key outlives the app (a keychain holds it).
        where: the ``where`` of ``loaded``/``saved``/``located``.
    """
    if persistent:
        return f"Stored in your system keychain ({where})."
    if where == SESSION_ONLY_KEYCHAIN_FAILED:
        return (
            "Your system keychain could not store the key, so it is kept until you quit: "
            "unlock the keychain and save again to keep it."
        )
    return "No system keychain is available: the key is kept until you quit."


def _storage(store: CredentialStore) -> tuple[bool, str]:
    """``(persistent, where)`` of a store. Blocking: the first call looks up the backend."""
    if store.is_persistent:
        return True, store.backend_name
    return False, SESSION_ONLY


def rejection_message(error: ChamelaionError, base_url: str) -> str:
    """Plain words for a failed key check: what went wrong and what to do."""
    if isinstance(error, AuthenticationError):
        return (
            f"The service did not accept this key ({error.message}). "
            "Check that you copied all of it."
        )
    if isinstance(error, APIConnectionError):
        return (
            f"The key could not be checked: {base_url} did not answer ({error.message}). "
            "Check your internet connection and try again; nothing was saved."
        )
    if isinstance(error, APIStatusError):
        return (
            f"The key could not be checked: the service answered with an error ({error}). "
            "Try again in a moment; nothing was saved."
        )
    return (
        f"The key could not be checked: {base_url} did not answer like the Chamelaion API "
        f"({error.message}). Check the address; nothing was saved."
    )


class KeyService(QObject):
    """Loads, checks, saves and removes the API key of one base URL at a time.

    Args:
        store: the keychain (``core.credentials.CredentialStore``).
        tasks: the registry that owns this service's tasks (``keys.load``, ``keys.locate``,
            ``keys.save``, ``keys.remove``).

    Signals:
        loaded(key: str | None, persistent: bool, where: str): the stored key (``None``
            when there is none or the keychain cannot be read), whether keys outlive the
            app, and where they are kept ("Secret Service", or ``SESSION_ONLY``).
        located(has_key: bool, persistent: bool, where: str): as ``loaded`` without the
            key, for dialogs that only say where it is.
        saved(key: str, token_name: str, persistent: bool, where: str): the key was
            accepted by ``GET /v1/users/me`` (``token_name`` is its display name) and is
            now in the keychain (``persistent``) or kept for the session only.
        rejected(message: str): the key was not accepted or could not be checked; plain
            words naming the fix. Nothing was saved.
        removed(): the key is gone from the keychain (or there was none).
        keychainFailed(message: str): the keychain could not be read or changed (locked,
            refused); one plain sentence, never the key.
    """

    loaded = Signal(object, bool, str)
    located = Signal(bool, bool, str)
    saved = Signal(str, str, bool, str)
    rejected = Signal(str)
    removed = Signal()
    keychainFailed = Signal(str)

    def __init__(
        self, store: CredentialStore, tasks: TaskRegistry, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._tasks = tasks

    def __repr__(self) -> str:
        return f"KeyService(service={self._store.service!r})"

    def load(self, base_url: str) -> None:
        """Read the key stored for ``base_url``; answers with ``loaded``."""
        self._tasks.spawn("keys.load", self._load(base_url, with_key=True))

    def locate(self, base_url: str) -> None:
        """Find whether a key is stored for ``base_url`` and where; answers with ``located``."""
        self._tasks.spawn("keys.locate", self._load(base_url, with_key=False))

    def check_and_save(self, base_url: str, key: str) -> None:
        """Check ``key`` against ``base_url`` and save it if accepted.

        Answers with ``saved`` or ``rejected``. A check still running is cancelled.
        """
        self._tasks.spawn("keys.save", self._check_and_save(base_url, key.strip()))

    def cancel_check(self) -> bool:
        """Stop a running ``check_and_save`` (the dialog was closed); True if one ran.

        Nothing is emitted for it afterwards. A keychain write already under way in its
        worker thread may still complete.
        """
        return self._tasks.cancel("keys.save")

    def remove(self, base_url: str) -> None:
        """Delete the key stored for ``base_url``; answers ``removed`` or ``keychainFailed``."""
        self._tasks.spawn("keys.remove", self._remove(base_url))

    async def _load(self, base_url: str, *, with_key: bool) -> None:
        def read() -> tuple[_Hidden, bool, str, str | None]:
            persistent, where = _storage(self._store)
            if not persistent:
                return _Hidden(None), False, where, None
            try:
                return _Hidden(self._store.get(base_url)), True, where, None
            except CredentialStoreError as exc:
                return _Hidden(None), True, where, exc.message

        hidden, persistent, where, problem = await asyncio.to_thread(read)
        key = hidden.value
        if problem is not None:
            self.keychainFailed.emit(problem)
        if with_key:
            self.loaded.emit(key, persistent, where)
        else:
            self.located.emit(key is not None, persistent, where)

    async def _check_and_save(self, base_url: str, key: str) -> None:
        if not key:
            self.rejected.emit("Enter an API key: the field is empty.")
            return
        from ..api.client import ChamelaionClient  # not at import: it loads httpx (start-up)

        client = ChamelaionClient(
            key, base_url=base_url, environ={}, timeout=CHECK_TIMEOUT_S, max_retries=1
        )
        try:
            user = await client.whoami()
        except ChamelaionError as exc:
            log.info("the key check against %s failed: %s", base_url, type(exc).__name__)
            self.rejected.emit(rejection_message(exc, base_url))
            return
        finally:
            await client.aclose()

        def store() -> tuple[bool, str]:
            persistent, where = _storage(self._store)
            if not persistent:
                return False, where
            try:
                self._store.set(base_url, key)
            except CredentialStoreError:
                # The store logged why (never with the key); the session still gets the key.
                return False, SESSION_ONLY_KEYCHAIN_FAILED
            return True, where

        persistent, where = await asyncio.to_thread(store)
        log.info("API key for %s accepted; kept in %s", base_url, where)
        self.saved.emit(key, user.name, persistent, where)

    async def _remove(self, base_url: str) -> None:
        def delete() -> str | None:
            persistent, _where = _storage(self._store)
            if not persistent:
                return None  # nothing was ever written: forgetting the session key is enough
            try:
                self._store.delete(base_url)
            except CredentialStoreError as exc:
                return exc.message
            return None

        problem = await asyncio.to_thread(delete)
        if problem is not None:
            self.keychainFailed.emit(problem)
            return
        self.removed.emit()

"""The API key in the operating system's keychain, one entry per API base URL.

The key lives only in the keychain (Secret Service, macOS Keychain, Windows Credential
Locker) through ``keyring``. There is no file fallback: without a keychain the key is kept
for the session only, and ``is_persistent`` lets the caller say so. The key never appears in
a message, ``repr`` or log line of this module.

Where a key comes from (``resolve_api_key``) follows the vendor SDK's order: an explicit
argument, then ``CHAMELAION_API_KEY`` (API.md, "Base URL and authentication"), then the
keychain.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, NoReturn

if TYPE_CHECKING:
    import keyring.backend
    import keyring.errors

# ``keyring`` itself is imported where it is used, not here: it costs ~0.04 s, which the
# app's first frame does not need (the keychain is read after it, in a worker thread).

__all__ = [
    "DEFAULT_SERVICE",
    "ENV_API_KEY",
    "CredentialStore",
    "CredentialStoreError",
    "KeySource",
    "resolve_api_key",
]

log = logging.getLogger(__name__)

DEFAULT_SERVICE = "chamelaion-desktop"
ENV_API_KEY = "CHAMELAION_API_KEY"

KeySource = Literal["argument", "environment", "keychain", "none"]

#: Display names of the backends ``keyring`` ships, by ``module.class``.
_BACKEND_NAMES = {
    "keyring.backends.SecretService.Keyring": "Secret Service",
    "keyring.backends.libsecret.Keyring": "Secret Service (libsecret)",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Locker",
    "keyring.backends.fail.Keyring": "no keychain",
    "keyring.backends.null.Keyring": "no keychain (disabled)",
}
_NOT_PERSISTENT = frozenset({"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"})
_NO_KEYCHAIN = (
    "No keychain is available on this system (no Secret Service, macOS Keychain or "
    "Windows Credential Locker was found)"
)


class CredentialStoreError(Exception):
    """The keychain could not be read or written.

    Attributes:
        message: one plain sentence saying what failed and why; never contains the key.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _qualname(backend: keyring.backend.KeyringBackend) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def _chained(backend: keyring.backend.KeyringBackend) -> list[keyring.backend.KeyringBackend]:
    backends = getattr(backend, "backends", None)
    return list(backends) if isinstance(backends, list | tuple) else []


def _is_chainer(backend: keyring.backend.KeyringBackend) -> bool:
    return _qualname(backend) == "keyring.backends.chainer.ChainerBackend"


class CredentialStore:
    """API keys in the OS keychain: service ``service``, account = the API base URL.

    Args:
        service: the keychain service name under which entries are filed.
        keyring_backend: the ``keyring`` backend to use; ``None`` takes ``keyring``'s
            choice (``keyring.get_keyring()``), looked up on first use, not at construction,
            because the lookup can take a tenth of a second and talk to D-Bus.

    Every call is blocking (it may talk to a keychain daemon): async callers use
    ``asyncio.to_thread``.
    """

    def __init__(
        self,
        service: str = DEFAULT_SERVICE,
        *,
        keyring_backend: keyring.backend.KeyringBackend | None = None,
    ) -> None:
        self.service = service
        self._backend = keyring_backend
        self.last_error: CredentialStoreError | None = None
        """The error of the latest failed call, ``None`` after a successful one."""

    def __repr__(self) -> str:
        return f"CredentialStore(service={self.service!r}, backend={self.backend_name!r})"

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        """The ``keyring`` backend in use (resolved on first access)."""
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    @property
    def backend_name(self) -> str:
        """Where keys are kept, for people: e.g. ``"Secret Service"``, ``"macOS Keychain"``."""
        backend = self.backend
        if _is_chainer(backend):
            names = [_BACKEND_NAMES.get(_qualname(b), b.name) for b in _chained(backend)]
            return " + ".join(names) if names else _BACKEND_NAMES["keyring.backends.fail.Keyring"]
        return _BACKEND_NAMES.get(_qualname(backend), backend.name)

    @property
    def is_persistent(self) -> bool:
        """False when keys cannot outlive the process (no keychain, or keyring disabled)."""
        backend = self.backend
        if _is_chainer(backend):
            return any(_qualname(b) not in _NOT_PERSISTENT for b in _chained(backend))
        return _qualname(backend) not in _NOT_PERSISTENT

    @staticmethod
    def account(base_url: str) -> str:
        """The keychain account for an API base URL: the URL without a trailing slash."""
        return base_url.strip().rstrip("/")

    def _fail(self, action: str, exc: keyring.errors.KeyringError, secret: str = "") -> NoReturn:
        from keyring.errors import NoKeyringError

        if isinstance(exc, NoKeyringError):
            message = f"{_NO_KEYCHAIN}, so the API key could not be {action}."
        else:
            # Backends word their own errors ("Prompt dismissed", "Keyring is locked");
            # keep them, minus the key should a backend ever echo it.
            reason = str(exc).strip().rstrip(".") or type(exc).__name__
            if secret:
                reason = reason.replace(secret, "***")
            message = (
                f"The API key could not be {action} in {self.backend_name} ({reason}): "
                "unlock the keychain or pass the key another way."
            )
        self.last_error = CredentialStoreError(message)
        log.info("keychain: %s", message)
        raise self.last_error from None

    def get(self, base_url: str) -> str | None:
        """Return the key stored for ``base_url``, or ``None`` when there is none.

        Raises:
            CredentialStoreError: the keychain is missing, locked or refused access.
        """
        from keyring.errors import KeyringError

        try:
            key = self.backend.get_password(self.service, self.account(base_url))
        except KeyringError as exc:
            self._fail("read", exc)
        self.last_error = None
        return key or None

    def set(self, base_url: str, key: str) -> None:
        """Store ``key`` for ``base_url``, replacing any previous one.

        Raises:
            CredentialStoreError: there is no persistent keychain (nothing would be kept),
                or the keychain is locked or refused the write.
        """
        if not self.is_persistent:
            self.last_error = CredentialStoreError(
                f"{_NO_KEYCHAIN}, so the API key could not be saved: "
                "set CHAMELAION_API_KEY or pass --api-key instead."
            )
            raise self.last_error
        from keyring.errors import KeyringError

        try:
            self.backend.set_password(self.service, self.account(base_url), key)
        except KeyringError as exc:
            self._fail("saved", exc, secret=key)
        self.last_error = None
        log.info(
            "keychain: saved the API key for %s in %s", self.account(base_url), self.backend_name
        )

    def delete(self, base_url: str) -> bool:
        """Remove the key stored for ``base_url``.

        Returns:
            True if a key was removed, False if none was stored.

        Raises:
            CredentialStoreError: the keychain is missing, locked or refused the change.
        """
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self.backend.delete_password(self.service, self.account(base_url))
        except PasswordDeleteError:
            self.last_error = None
            return False
        except KeyringError as exc:
            self._fail("removed", exc)
        self.last_error = None
        return True


def resolve_api_key(
    explicit: str | None,
    base_url: str,
    *,
    environ: Mapping[str, str],
    store: CredentialStore | None,
) -> tuple[str | None, KeySource]:
    """Find the API key to use, in order: argument, environment, keychain.

    Args:
        explicit: a key given directly (``--api-key``); blank counts as not given.
        base_url: the API base URL, which selects the keychain entry.
        environ: the environment to read ``CHAMELAION_API_KEY`` from.
        store: the keychain, or ``None`` to skip it. Read only when the first two are empty.

    Returns:
        ``(key, source)`` with ``source`` one of ``"argument"``, ``"environment"``,
        ``"keychain"`` or ``"none"`` (then ``key`` is ``None``). A keychain failure is not
        raised: it yields ``(None, "none")`` and ``store.last_error`` says why.
    """
    if explicit and explicit.strip():
        return explicit.strip(), "argument"
    from_env = environ.get(ENV_API_KEY, "").strip()
    if from_env:
        return from_env, "environment"
    if store is not None:
        try:
            stored = store.get(base_url)
        except CredentialStoreError:
            return None, "none"
        if stored:
            return stored, "keychain"
    return None, "none"

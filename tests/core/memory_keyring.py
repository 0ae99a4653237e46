"""An in-memory ``keyring`` backend: the OS keychain is a boundary we do not own."""

from __future__ import annotations

import keyring.backend
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Keeps passwords in a dict; ``fail_with`` makes every call raise that error."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, fail_with: keyring.errors.KeyringError | None = None) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.fail_with = fail_with

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def get_password(self, service: str, username: str) -> str | None:
        self._check()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._check()
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._check()
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("Password not found") from None

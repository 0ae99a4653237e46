"""Who is calling: the five documented authentication failures, word for word.

API.md "Base URL and authentication" and "Errors": either ``Authorization: Bearer <token>``
or ``x-api-key: <token>``; failures are 401 with one of ``missing authorization header``,
``invalid authorization format``, ``missing token``, ``invalid token``, ``unauthorized``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

MISSING_HEADER = "missing authorization header"
INVALID_FORMAT = "invalid authorization format"
MISSING_TOKEN = "missing token"  # noqa: S105 - an error message
INVALID_TOKEN = "invalid token"  # noqa: S105 - an error message
UNAUTHORIZED = "unauthorized"


@dataclass(frozen=True, slots=True)
class Account:
    """An authenticated caller.

    Attributes:
        id: a SHA-256 digest of the token (stored with jobs instead of the token).
        name: the token's display name (``GET /v1/users/me``).
    """

    id: str
    name: str

    def __repr__(self) -> str:
        return f"Account(id={self.id[:8]}..., name={self.name!r})"


class AuthError(Exception):
    """Authentication failed; ``str(exc)`` is the documented message (HTTP 401)."""


def account_id(token: str) -> str:
    """The stable, non-reversible account id of ``token`` (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_from(headers: Mapping[str, str]) -> str:
    authorization = headers.get("Authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise AuthError(INVALID_FORMAT)
        token = token.strip()
        if not token:
            raise AuthError(MISSING_TOKEN)
        if " " in token:
            raise AuthError(INVALID_FORMAT)
        return token
    api_key = headers.get("x-api-key")
    if api_key is None:
        raise AuthError(MISSING_HEADER)
    api_key = api_key.strip()
    if not api_key:
        raise AuthError(MISSING_TOKEN)
    return api_key


def authenticate(
    headers: Mapping[str, str], api_keys: Mapping[str, str], disabled_keys: frozenset[str]
) -> Account:
    """Resolve the caller from request headers (case-insensitive mapping).

    ``Authorization`` wins when both headers are sent. A bare ``Bearer`` (servers strip the
    trailing space of ``Bearer ``) counts as ``missing token``.

    Raises:
        AuthError: with one of the five documented messages.
    """
    token = _token_from(headers)
    if token in disabled_keys:
        raise AuthError(UNAUTHORIZED)
    name = api_keys.get(token)
    if name is None:
        raise AuthError(INVALID_TOKEN)
    return Account(id=account_id(token), name=name)

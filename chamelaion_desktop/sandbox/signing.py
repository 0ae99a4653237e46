"""Signed, expiring ``output_url`` links (HMAC-SHA256 over the request id and expiry).

The real service hands out storage links that stop working after a while (API.md,
``output_url``: "URL to the generated output media, when available"); the sandbox mimics that
so clients learn to fetch a fresh link from ``GET /v1/lipsync/requests/{id}``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
from pathlib import Path

LINK_EXPIRED = "link expired"
INVALID_SIGNATURE = "invalid signature"


class LinkError(Exception):
    """A download link is refused (HTTP 403); ``str(exc)`` is the error message."""


def load_secret(path: Path) -> bytes:
    """Read the signing secret from ``path``, creating it (32 random bytes, mode 0600) once.

    Blocking file I/O: call from an executor. Persisting it keeps links valid across restarts.
    """
    try:
        data = bytes.fromhex(path.read_text(encoding="ascii").strip())
        if len(data) >= 16:
            return data
    except (FileNotFoundError, ValueError):
        pass
    secret = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secret.hex())
    return secret


class Signer:
    """Signs and checks ``(request_id, expires)`` pairs.

    Args:
        secret: the HMAC key (bytes).
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "Signer(<secret>)"

    def signature(self, request_id: str, expires: int) -> str:
        """Hex HMAC-SHA256 of ``"<request_id>:<expires>"`` (expires: Unix seconds, UTC)."""
        message = f"{request_id}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def url(self, origin: str, request_id: str, now: float, ttl: float) -> str:
        """A link to the job's output, valid for ``ttl`` seconds from ``now`` (Unix seconds).

        ``origin`` is ``scheme://host:port`` of the sandbox as the client reached it.
        """
        expires = math.ceil(now + ttl)  # never rounds a short ttl down into the past
        signature = self.signature(request_id, expires)
        return f"{origin}/files/{request_id}.mp4?expires={expires}&signature={signature}"

    def verify(
        self, request_id: str, expires: str | None, signature: str | None, now: float
    ) -> None:
        """Accept a link or raise.

        Raises:
            LinkError: ``invalid signature`` when the parameters are missing or forged (checked
                first, so a forged expiry never reads as merely expired), else ``link expired``
                once ``now`` passed ``expires``.
        """
        if not expires or not signature or not expires.isdigit():
            raise LinkError(INVALID_SIGNATURE)
        expected = self.signature(request_id, int(expires))
        if not hmac.compare_digest(expected, signature.lower()):
            raise LinkError(INVALID_SIGNATURE)
        if now > int(expires):
            raise LinkError(LINK_EXPIRED)

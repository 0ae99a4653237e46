"""What the status bar says about the connection: a value of its own, free of asyncio and the
HTTP stack, so the window's first frame can show it before any service exists."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """What the status bar shows.

    Attributes:
        environment: ``production``, ``staging``, ``sandbox`` or ``custom``.
        base_url: the API base URL.
        reachable: ``/health`` answered ok (``None`` until the first check).
        token_name: the key's display name from ``/v1/users/me``, when accepted.
        problem: a plain sentence when something is wrong (unreachable, key rejected,
            no key), else empty.
    """

    environment: str
    base_url: str
    reachable: bool | None = None
    token_name: str | None = None
    problem: str = ""

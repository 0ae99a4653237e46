"""Is the service reachable, and whose token is in use? For the status bar.

Source: API.md ``GET /health`` (no auth) and ``GET /v1/users/me`` (the token's name).
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, Signal

from ..api import AuthenticationError, ChamelaionError
from .connection_state import ConnectionState
from .session import ApiSession
from .tasks import TaskRegistry

__all__ = ["ConnectionService", "ConnectionState"]

log = logging.getLogger(__name__)


class ConnectionService(QObject):
    """Checks ``/health`` every ``interval`` seconds and ``/v1/users/me`` when the key changes.

    Args:
        session: the API session; a ``changed`` signal triggers a fresh check.
        tasks: owns the check loop (task ``connection.watch``).
        interval: seconds between health checks while reachable; 10 s while not.

    Signals:
        stateChanged(ConnectionState): emitted when anything in the state changes.
    """

    stateChanged = Signal(object)

    def __init__(
        self,
        session: ApiSession,
        tasks: TaskRegistry,
        *,
        interval: float = 30.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._tasks = tasks
        self._interval = interval
        self._state = ConnectionState(session.environment, session.base_url)
        session.changed.connect(self._on_session_changed)

    @property
    def state(self) -> ConnectionState:
        """The latest state."""
        return self._state

    def start(self) -> None:
        """Start watching (idempotent)."""
        if not self._tasks.running("connection.watch"):
            self._tasks.spawn("connection.watch", self._watch())

    def _on_session_changed(self) -> None:
        self._publish(ConnectionState(self._session.environment, self._session.base_url))
        self._tasks.spawn("connection.watch", self._watch())

    def _publish(self, state: ConnectionState) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    async def _watch(self) -> None:
        token_name: str | None = None
        checked_key = False
        while True:
            client = self._session.client
            base = ConnectionState(self._session.environment, self._session.base_url)
            try:
                healthy = (await client.health()).ok
            except ChamelaionError as exc:
                self._publish(
                    _with(base, reachable=False, problem=f"Cannot reach the service: {exc}")
                )
                await asyncio.sleep(10.0)
                continue
            problem = "" if healthy else "The service reports a problem."
            if not self._session.has_api_key:
                problem = problem or "No API key: add one in Settings."
            elif not checked_key:
                try:
                    token_name = (await client.whoami()).name
                except AuthenticationError as exc:
                    problem = f"The API key was not accepted ({exc.message})."
                except ChamelaionError as exc:
                    log.info("users/me failed: %s", exc)
                else:
                    checked_key = True
            self._publish(_with(base, reachable=healthy, token_name=token_name, problem=problem))
            await asyncio.sleep(self._interval if healthy else 10.0)


def _with(
    state: ConnectionState,
    *,
    reachable: bool | None,
    token_name: str | None = None,
    problem: str = "",
) -> ConnectionState:
    return ConnectionState(state.environment, state.base_url, reachable, token_name, problem)

"""Where the app is connected and with which key: the one ``ChamelaionClient`` in use.

Services ask ``session.client`` each time they call the API, so replacing the key (the
settings dialog) or the server takes effect everywhere at once.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..api.urls import environment_of

if TYPE_CHECKING:
    from ..api import ChamelaionClient
    from .tasks import TaskRegistry


class ApiSession(QObject):
    """The API base URL, the key (in memory only) and the client made from them.

    Args:
        base_url: the API base URL, e.g. ``https://api.chamelaion.com/api``.
        api_key: the key, or ``None`` until the user gives one.
        tasks: where closing a replaced client runs.
        sandbox_url: the built-in sandbox's URL when it runs, to label it ``sandbox``.

    Signals:
        changed(): the key or the base URL changed; ``client`` is a new object.
    """

    changed = Signal()

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        tasks: TaskRegistry,
        *,
        sandbox_url: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._sandbox_url = sandbox_url
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key or None
        # Made on first use (or by ``warm_up`` in a worker thread), not here: a client loads
        # httpx and builds its TLS settings (~0.15 s), which the first frame does not need.
        self._client: ChamelaionClient | None = None
        self._client_lock = threading.Lock()  # warm_up may run in another thread

    def __repr__(self) -> str:
        return f"ApiSession({self._base_url!r}, key={'set' if self._api_key else 'none'})"

    @property
    def client(self) -> ChamelaionClient:
        """The client for the current base URL and key (made on first access)."""
        with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def warm_up(self) -> None:
        """Make the client now, and load what its first request imports. Blocking (~0.15 s
        of imports and TLS set-up): call it in a worker thread, so the window stays
        responsive meanwhile (``asyncio.to_thread(session.warm_up)``)."""
        _ = self.client
        # httpcore imports anyio's asyncio backend on the first request, on the loop.
        importlib.import_module("anyio._backends._asyncio")

    @property
    def base_url(self) -> str:
        """The API base URL in use, without a trailing slash."""
        return self._base_url

    @property
    def environment(self) -> str:
        """``production``, ``staging``, ``sandbox`` or ``custom``."""
        return environment_of(self._base_url, sandbox_url=self._sandbox_url)

    @property
    def has_api_key(self) -> bool:
        """True when a key is set for this session."""
        return self._api_key is not None

    def set_api_key(self, api_key: str | None) -> None:
        """Use ``api_key`` (``None``: none) from now on; emits ``changed``."""
        self._replace(self._base_url, api_key or None)

    def set_sandbox_url(self, sandbox_url: str | None) -> None:
        """Tell the session where the built-in sandbox listens (for ``environment``)."""
        self._sandbox_url = sandbox_url

    def set_base_url(self, base_url: str) -> None:
        """Talk to ``base_url`` from now on; emits ``changed``."""
        self._replace(base_url.rstrip("/"), self._api_key)

    async def aclose(self) -> None:
        """Close the current client's connections (on quit)."""
        if self._client is not None:
            await self._client.aclose()

    def _make_client(self) -> ChamelaionClient:
        from ..api.client import ChamelaionClient

        # environ={}: the session decides the key and URL, not stray environment variables.
        return ChamelaionClient(self._api_key or "", base_url=self._base_url, environ={})

    def _replace(self, base_url: str, api_key: str | None) -> None:
        with self._client_lock:
            old = self._client
            self._base_url, self._api_key = base_url, api_key
            self._client = None
        if old is not None:
            self._tasks.spawn(f"session.close:{id(old)}", old.aclose())
        self.changed.emit()

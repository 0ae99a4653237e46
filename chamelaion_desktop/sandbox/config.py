"""Settings of a sandbox server and the faults it can inject at runtime."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

#: ``error_message`` of a job failed on purpose by ``Faults.fail_jobs``.
FAULT_JOB_MESSAGE = "lip sync failed (sandbox fault injection)"

# Counters are decremented on the server's loop while tests set them from another thread.
_FAULT_LOCK = threading.Lock()


@dataclass
class Faults:
    """Misbehaviour to inject; all off by default. Safe to change while the server runs.

    Attributes:
        latency: seconds added before answering every request.
        error_rate: share (0..1) of authenticated API requests answered 500 ``internal error``.
        force_429: the next N authenticated requests get 429 ``rate limit exceeded`` with
            ``Retry-After``; decremented per use.
        drop_uploads: the next N ``generate-with-media`` uploads are cut: the connection is
            closed after ``drop_upload_after`` bytes of body were read; no job is created.
        drop_upload_after: bytes of request body read before such a drop.
        drop_after_create: the next N generation requests (either endpoint) create and persist
            their job, then the connection is closed without an answer.
        fail_jobs: the next N jobs end ``failed`` with ``FAULT_JOB_MESSAGE``.
        upload_rate: when above 0, uploads are read at most this many bytes per second (a
            slow network: progress, cancel and responsiveness can be watched).
    """

    latency: float = 0.0
    error_rate: float = 0.0
    force_429: int = 0
    drop_uploads: int = 0
    drop_upload_after: int = 256 * 1024
    drop_after_create: int = 0
    fail_jobs: int = 0
    upload_rate: float = 0.0

    def take(self, name: str) -> bool:
        """Consume one unit of the counter ``name``; True when one was left (fault fires)."""
        with _FAULT_LOCK:
            left: int = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True

    def give_back(self, name: str) -> None:
        """Undo one ``take(name)`` whose fault could not apply (e.g. no job was created)."""
        with _FAULT_LOCK:
            setattr(self, name, getattr(self, name) + 1)


def _default_keys() -> dict[str, str]:
    return {"sandbox-key": "Sandbox"}


@dataclass
class SandboxConfig:
    """Everything a sandbox needs; timings in seconds, sizes in bytes.

    Attributes:
        data_dir: SQLite database, signing secret, uploads and outputs live here; created
            if missing. A restart with the same directory keeps the history.
        api_keys: token -> display name (``GET /v1/users/me``). Each token is one account.
        disabled_keys: tokens that are known but revoked: 401 ``unauthorized``.
        quota: jobs per token; beyond it generation answers 402 ``token limit reached``.
        rate_limit: generation requests per 60 s sliding window per token; 0 disables it.
        queue_delay: seconds a job stays ``queued``.
        processing_time: minimum seconds a job stays ``processing``.
        url_ttl: seconds an ``output_url`` stays valid.
        max_upload_bytes: largest accepted request body; larger ones get 413.
        fetch_timeout: seconds a URL job may spend fetching each input.
        faults: runtime fault injection, see ``Faults``.
    """

    data_dir: Path
    api_keys: dict[str, str] = field(default_factory=_default_keys)
    disabled_keys: frozenset[str] = frozenset()
    quota: int = 100_000
    rate_limit: int = 60
    queue_delay: float = 1.0
    processing_time: float = 2.0
    url_ttl: float = 3600.0
    max_upload_bytes: int = 5 * 1024**3
    fetch_timeout: float = 10.0
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    def __repr__(self) -> str:
        # Tokens are secrets: never print them, only how many there are.
        return (
            f"SandboxConfig(data_dir={str(self.data_dir)!r}, api_keys=<{len(self.api_keys)}>, "
            f"disabled_keys=<{len(self.disabled_keys)}>, quota={self.quota}, "
            f"rate_limit={self.rate_limit}, queue_delay={self.queue_delay}, "
            f"processing_time={self.processing_time}, url_ttl={self.url_ttl}, "
            f"max_upload_bytes={self.max_upload_bytes}, fetch_timeout={self.fetch_timeout}, "
            f"faults={self.faults!r})"
        )

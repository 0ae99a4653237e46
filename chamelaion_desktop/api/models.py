"""Typed results of the Chamelaion lip-sync API.

Source: ``shared/api/API.md`` ("Endpoints" and the ``LipsyncRequest`` shape). Parsing is
tolerant by design: unknown fields are ignored and unknown status strings are kept as they
come, so a server that grows new fields or statuses never breaks the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import ResponseFormatError
from .statuses import COMPLETED, FAILED, PROCESSING, QUEUED, TERMINAL_STATUSES

__all__ = [
    "COMPLETED",
    "FAILED",
    "PROCESSING",
    "QUEUED",
    "TERMINAL_STATUSES",
    "Health",
    "LipsyncGenerate",
    "LipsyncRequest",
    "Pagination",
    "RequestPage",
    "User",
    "parse_timestamp",
]


def parse_timestamp(value: object) -> datetime | None:
    """Parse an RFC 3339 timestamp into an aware UTC ``datetime``.

    Args:
        value: a string such as ``"2026-04-07T10:00:05Z"``, or ``None``.

    Returns:
        The instant in UTC, or ``None`` when ``value`` is ``None`` or empty. A timestamp
        without an offset is taken as UTC (the API documents all times as UTC).

    Raises:
        ResponseFormatError: ``value`` is not a string or not a valid timestamp.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ResponseFormatError(f"expected a timestamp string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ResponseFormatError(f"invalid timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _require(data: Mapping[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise ResponseFormatError(f"field {key!r} missing or not a {kind.__name__}")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ResponseFormatError(f"field {key!r} is not a string")
    return value


def _as_mapping(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ResponseFormatError(f"{what}: expected a JSON object")
    return data


@dataclass(frozen=True, slots=True)
class LipsyncGenerate:
    """The answer to a generation request (API.md, ``POST /v1/lipsync/generate*``).

    Attributes:
        request_id: UUID of the new lip-sync request.
        status: always ``"success"`` on the wire; kept for completeness.
    """

    request_id: str
    status: str

    @classmethod
    def from_json(cls, data: object) -> LipsyncGenerate:
        """Build from the decoded JSON body; raises ``ResponseFormatError`` on a bad shape."""
        body = _as_mapping(data, "generate response")
        return cls(request_id=_require(body, "request_id", str), status=str(body.get("status", "")))


@dataclass(frozen=True, slots=True)
class LipsyncRequest:
    """One lip-sync job (API.md, ``LipsyncRequest``).

    Attributes:
        id: request UUID.
        created_at: creation instant, aware UTC.
        status: ``queued``, ``processing``, ``completed``, ``failed`` or any other string the
            server sends, kept verbatim.
        error_message: why the job failed, when ``status == "failed"``.
        started_at / finished_at: aware UTC instants, when known.
        output_url: signed, possibly expiring link to the rendered MP4, when available.
        reference_id: the client-provided identifier, when one was given.
    """

    id: str
    created_at: datetime
    status: str
    error_message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output_url: str | None = None
    reference_id: str | None = None

    @property
    def is_terminal(self) -> bool:
        """True when the job will not change any more (completed or failed)."""
        return self.status in TERMINAL_STATUSES

    @property
    def processing_seconds(self) -> float | None:
        """Seconds from ``started_at`` to ``finished_at``, or ``None`` if either is unknown."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @classmethod
    def from_json(cls, data: object) -> LipsyncRequest:
        """Build from one decoded JSON object; unknown fields are ignored.

        Raises:
            ResponseFormatError: ``id``, ``created_at`` or ``status`` is missing or malformed.
        """
        body = _as_mapping(data, "lipsync request")
        created_at = parse_timestamp(_require(body, "created_at", str))
        assert created_at is not None  # _require rejected None and ""
        return cls(
            id=_require(body, "id", str),
            created_at=created_at,
            status=_require(body, "status", str),
            error_message=_optional_str(body, "error_message"),
            started_at=parse_timestamp(body.get("started_at")),
            finished_at=parse_timestamp(body.get("finished_at")),
            output_url=_optional_str(body, "output_url"),
            reference_id=_optional_str(body, "reference_id"),
        )


@dataclass(frozen=True, slots=True)
class Pagination:
    """Paging facts of a list answer (API.md, ``pagination``): counts of requests."""

    limit: int
    offset: int
    total: int


@dataclass(frozen=True, slots=True)
class RequestPage:
    """One page of ``GET /v1/lipsync/requests``: newest first (assumed by API.md).

    Attributes:
        data: the requests on this page.
        pagination: the applied ``limit`` and ``offset`` and the ``total`` matching.
    """

    data: tuple[LipsyncRequest, ...]
    pagination: Pagination

    @property
    def next_offset(self) -> int | None:
        """Offset of the following page, or ``None`` when this page is the last."""
        after = self.pagination.offset + len(self.data)
        return after if self.data and after < self.pagination.total else None

    @classmethod
    def from_json(cls, data: object) -> RequestPage:
        """Build from the decoded list body; raises ``ResponseFormatError`` on a bad shape."""
        body = _as_mapping(data, "list response")
        items = body.get("data")
        if not isinstance(items, list):
            raise ResponseFormatError("list response: 'data' is not an array")
        page = _as_mapping(body.get("pagination"), "pagination")
        return cls(
            data=tuple(LipsyncRequest.from_json(item) for item in items),
            pagination=Pagination(
                limit=_require(page, "limit", int),
                offset=_require(page, "offset", int),
                total=_require(page, "total", int),
            ),
        )


@dataclass(frozen=True, slots=True)
class User:
    """``GET /v1/users/me`` (API.md [SDK]): the display name of the API token."""

    name: str

    @classmethod
    def from_json(cls, data: object) -> User:
        """Build from the decoded body; raises ``ResponseFormatError`` on a bad shape."""
        return cls(name=_require(_as_mapping(data, "user"), "name", str))


@dataclass(frozen=True, slots=True)
class Health:
    """``GET /health`` (API.md [SDK]): ``status`` is ``"ok"`` when the service is up."""

    status: str

    @property
    def ok(self) -> bool:
        """True when the service reports ``"ok"``."""
        return self.status == "ok"

    @classmethod
    def from_json(cls, data: object) -> Health:
        """Build from the decoded body; raises ``ResponseFormatError`` on a bad shape."""
        return cls(status=_require(_as_mapping(data, "health"), "status", str))

"""Turning httpx answers and failures into the client's exceptions, and the retry policy.

Source: API.md ("Errors": ``{"error": "<message>"}`` bodies, status classes; the SDK's
retry defaults: 2 retries, 0.5 s doubling to 8 s with jitter, ``retry-after-ms`` /
``Retry-After`` honoured when 0 < value <= 60 s). Unlike the SDK, a generation POST is
retried only when it provably never reached the server, or on 429 (the server refused it
without creating a job): a blind retry after a lost answer can create a duplicate, paid job.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from datetime import UTC
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from .errors import (
    APIConnectionError,
    APITimeoutError,
    ChamelaionError,
    RateLimitError,
    ServerError,
    error_for_status,
)

#: Retry-After values above this many seconds are not waited out inside a call.
MAX_RETRY_AFTER = 60.0


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date).

    Args:
        headers: the response headers.
        now: the current POSIX time in seconds (UTC), for dates; ``time.time()`` by default.

    Returns:
        A non-negative number of seconds, or ``None`` when no header parses.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def server_message(response: httpx.Response) -> str:
    """The ``error`` text of an error answer verbatim, or a plain fallback naming the status.

    The body must already be read (``await response.aread()`` for streamed responses).
    """
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]:
        return str(body["error"])
    return f"the server answered HTTP {response.status_code} {response.reason_phrase}".rstrip()


def raise_for_status(response: httpx.Response) -> None:
    """Raise the matching ``APIStatusError`` for a 4xx/5xx answer; do nothing for 2xx/3xx."""
    if response.status_code < 400:
        return
    raise error_for_status(
        response.status_code, server_message(response), parse_retry_after(response.headers)
    )


def _host(request: httpx.Request | None) -> str:
    if request is None:
        return "the server"
    parts = urlsplit(str(request.url))
    return parts.netloc.rsplit("@", 1)[-1] or "the server"


def translate_transport_error(exc: httpx.TransportError) -> APIConnectionError:
    """A plain-words ``APIConnectionError`` for an httpx transport failure.

    ``request_sent`` is False only where the request provably never left this machine
    (the connection could not be opened, or no pooled connection became free).
    """
    try:
        host = _host(exc.request)
    except RuntimeError:  # httpx raises when the exception carries no request
        host = "the server"
    if isinstance(exc, httpx.ConnectTimeout):
        return APITimeoutError(
            f"Could not connect to {host}: it did not answer in time. "
            "Check your internet connection and the server address.",
            request_sent=False,
        )
    if isinstance(exc, httpx.PoolTimeout):
        return APITimeoutError(
            "Too many requests are already in progress; try again in a moment.",
            request_sent=False,
        )
    if isinstance(exc, httpx.ConnectError):
        return APIConnectionError(
            f"Could not connect to {host} ({exc}). "
            "Check your internet connection and the server address.",
            request_sent=False,
        )
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"{host} stopped answering (timed out). Try again; if it keeps happening, "
            "the service may be overloaded.",
            request_sent=True,
        )
    return APIConnectionError(
        f"The connection to {host} was lost before the answer arrived "
        f"({exc or type(exc).__name__}).",
        request_sent=True,
    )


def is_retryable_read(exc: BaseException) -> bool:
    """GETs are safe to repeat: retry on 429, 5xx and any transport failure."""
    return isinstance(exc, RateLimitError | ServerError | APIConnectionError)


def is_retryable_generation(exc: BaseException) -> bool:
    """A generation POST is repeated only when no job can have been created by it."""
    if isinstance(exc, RateLimitError):
        return True
    return isinstance(exc, APIConnectionError) and not exc.request_sent


class _WaitRetryAfterOrBackoff:
    """Wait what a 429 asks for (when 0 < Retry-After <= 60 s), else exponential jitter."""

    def __init__(self) -> None:
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
        if retry_after is not None and 0 < retry_after <= MAX_RETRY_AFTER:
            return retry_after
        return float(self._backoff(state))


def _give_up_on_long_retry_after(
    exc: BaseException, retryable: Callable[[BaseException], bool]
) -> bool:
    # A 429 that asks for more than a minute goes back to the caller, who can schedule it.
    if isinstance(exc, RateLimitError) and (exc.retry_after or 0) > MAX_RETRY_AFTER:
        return False
    return retryable(exc)


def retrying(
    max_retries: int,
    retryable: Callable[[BaseException], bool],
    *,
    sleep: Callable[[float], object] | None = None,
) -> AsyncRetrying:
    """A tenacity policy: up to ``max_retries`` repeats of calls failing as ``retryable`` says.

    The last failure is re-raised as it is (a ``ChamelaionError``), never wrapped.
    """
    extra = {} if sleep is None else {"sleep": sleep}
    return AsyncRetrying(
        retry=retry_if_exception(lambda exc: _give_up_on_long_retry_after(exc, retryable)),
        wait=_WaitRetryAfterOrBackoff(),
        stop=stop_after_attempt(max_retries + 1),
        reraise=True,
        **extra,  # type: ignore[arg-type]
    )


__all__ = [
    "MAX_RETRY_AFTER",
    "ChamelaionError",
    "is_retryable_generation",
    "is_retryable_read",
    "parse_retry_after",
    "raise_for_status",
    "retrying",
    "server_message",
    "translate_transport_error",
]

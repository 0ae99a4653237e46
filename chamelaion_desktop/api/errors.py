"""Exceptions of the Chamelaion API client: one type per situation a caller acts on.

Source: ``shared/api/API.md`` ("Errors"). Every error body is ``{"error": "<message>"}``;
the HTTP status codes are not documented, so the client keys on the status class and keeps
the server's message verbatim in ``message``. No exception ever carries a header or the API
key: ``str(error)`` is safe to log and to show.

Hierarchy::

    ChamelaionError
    ├── APIStatusError              the server answered with an error status
    │   ├── ValidationError         400 / 422 (bad input; fix the request)
    │   │   └── PayloadTooLargeError 413
    │   ├── AuthenticationError     401 (missing, malformed, unknown or revoked key)
    │   ├── TokenLimitError         402 / 403 ``token limit reached``
    │   ├── NotFoundError           404 ``lipsync request not found``
    │   ├── RateLimitError          429, with ``retry_after`` seconds
    │   └── ServerError             5xx
    ├── APIConnectionError          nothing usable came back (refused, reset, DNS, TLS)
    │   └── APITimeoutError         a connect, read, write or pool timeout
    ├── ResponseFormatError         the server answered 2xx with a body we cannot read
    ├── UploadError                 a local file could not be read for the upload
    └── DownloadError               the output could not be written to disk
"""

from __future__ import annotations


class ChamelaionError(Exception):
    """Base of every error raised by ``chamelaion_desktop.api``.

    Attributes:
        message: a plain sentence; for server errors, the server's ``error`` text verbatim.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class APIStatusError(ChamelaionError):
    """The server answered with a 4xx or 5xx status.

    Attributes:
        status_code: the HTTP status.
        message: the server's ``error`` text verbatim (or a fallback naming the status).
        request_sent: always True here: the server saw the request.
    """

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status_code})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code})"


class ValidationError(APIStatusError):
    """400 or 422: the request itself is wrong (missing file, bad field, bad content type)."""


class PayloadTooLargeError(ValidationError):
    """413: an uploaded file is larger than the server accepts."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, malformed, unknown or revoked."""


class TokenLimitError(APIStatusError):
    """402 or 403: the account's token limit (quota) is reached; no job was created."""


class NotFoundError(APIStatusError):
    """404: no request with that UUID or ``reference_id`` (``lipsync request not found``)."""


class RateLimitError(APIStatusError):
    """429 ``rate limit exceeded``.

    Attributes:
        retry_after: seconds to wait before trying again, from ``retry-after-ms`` or
            ``Retry-After`` (seconds or an HTTP date); ``None`` when the server gave none.
    """

    def __init__(self, message: str, *, status_code: int, retry_after: float | None) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the service failed (``internal error``); worth trying again later."""


class APIConnectionError(ChamelaionError):
    """The exchange failed at the transport level: nothing usable came back.

    Attributes:
        request_sent: False when the request provably never reached the server (the
            connection could not be opened), so repeating it cannot create a duplicate job;
            True when some of it may have been delivered.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""


class ResponseFormatError(ChamelaionError):
    """A successful answer whose body does not have the documented shape."""


class UploadError(ChamelaionError):
    """A local input file could not be read while uploading (moved, shrunk, unreadable)."""


class DownloadError(ChamelaionError):
    """The output could not be fetched or written to its destination."""


def error_for_status(status_code: int, message: str, retry_after: float | None) -> APIStatusError:
    """Map an HTTP error status to the exception a caller acts on.

    Args:
        status_code: the HTTP status, 400 to 599.
        message: the server's ``error`` text, verbatim.
        retry_after: seconds from the answer's retry headers, if any.

    Returns:
        An instance of the most specific ``APIStatusError`` subclass for the status class.
    """
    if status_code == 429:
        return RateLimitError(message, status_code=status_code, retry_after=retry_after)
    kinds: dict[int, type[APIStatusError]] = {
        400: ValidationError,
        401: AuthenticationError,
        402: TokenLimitError,
        403: TokenLimitError,
        404: NotFoundError,
        413: PayloadTooLargeError,
        422: ValidationError,
    }
    if status_code in kinds:
        return kinds[status_code](message, status_code=status_code)
    if status_code >= 500:
        return ServerError(message, status_code=status_code)
    return APIStatusError(message, status_code=status_code)

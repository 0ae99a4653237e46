"""The Chamelaion lip-sync API: an async client, typed results, errors, streamed uploads.

No Qt here (STYLE.md): the GUI, the CLI and the benchmarks all share this layer.
"""

import importlib
from typing import TYPE_CHECKING

from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ChamelaionError,
    DownloadError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    TokenLimitError,
    UploadError,
    ValidationError,
)
from .statuses import COMPLETED, FAILED, PROCESSING, QUEUED, TERMINAL_STATUSES
from .urls import ENV_API_KEY, ENV_BASE_URL, PRODUCTION_URL, STAGING_URL

if TYPE_CHECKING:
    from .client import DEFAULT_TIMEOUT, AuthScheme, ChamelaionClient
    from .models import Health, LipsyncGenerate, LipsyncRequest, Pagination, RequestPage, User
    from .multipart import FilePart, MultipartUpload, ProgressCallback, guess_content_type

#: Names imported on first use (PEP 562), and their module: ``client`` loads httpx and
#: tenacity (~0.1 s), ``multipart`` secrets and mimetypes, ``models`` builds six
#: dataclasses (~8 ms); the app's first frame needs none of them.
_LAZY = {
    "Health": "models",
    "LipsyncGenerate": "models",
    "LipsyncRequest": "models",
    "Pagination": "models",
    "RequestPage": "models",
    "User": "models",
    "DEFAULT_TIMEOUT": "client",
    "AuthScheme": "client",
    "ChamelaionClient": "client",
    "FilePart": "multipart",
    "MultipartUpload": "multipart",
    "ProgressCallback": "multipart",
    "guess_content_type": "multipart",
}

__all__ = [
    "COMPLETED",
    "DEFAULT_TIMEOUT",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "FAILED",
    "PROCESSING",
    "PRODUCTION_URL",
    "QUEUED",
    "STAGING_URL",
    "TERMINAL_STATUSES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthScheme",
    "AuthenticationError",
    "ChamelaionClient",
    "ChamelaionError",
    "DownloadError",
    "FilePart",
    "Health",
    "LipsyncGenerate",
    "LipsyncRequest",
    "MultipartUpload",
    "NotFoundError",
    "Pagination",
    "PayloadTooLargeError",
    "ProgressCallback",
    "RateLimitError",
    "RequestPage",
    "ResponseFormatError",
    "ServerError",
    "TokenLimitError",
    "UploadError",
    "User",
    "ValidationError",
    "guess_content_type",
]


def __getattr__(name: str) -> object:
    """Import the names of ``_LAZY`` on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

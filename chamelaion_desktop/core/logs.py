"""Logging set-up shared by the CLI and the app, with secrets redacted from every line.

STYLE.md ("Secrets"): the API key never reaches a log. The client never logs headers, but
a third-party library might; this filter is the second line of defence. It rewrites the
value after ``Authorization``, ``x-api-key`` and ``Bearer`` in any record, and any exact
secret registered with it (the key in use).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_HEADER_VALUE = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?|x-api-key[\"']?\s*[:=]\s*[\"']?|bearer\s+)"
    r"([^\s\"',}]+)"
)
REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with header credentials and each of ``secrets`` replaced by ``[redacted]``."""
    text = _HEADER_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that redacts credentials from the formatted message of each record.

    Args:
        secrets: exact strings to hide as well (e.g. the API key in use); more can be
            added later with ``add_secret``.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = {s for s in secrets if s}

    def add_secret(self, secret: str) -> None:
        """Hide ``secret`` in every later record."""
        if secret:
            self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(
    level: int = logging.WARNING, *, secrets: Iterable[str] = ()
) -> RedactingFilter:
    """Send log records at ``level`` and above to stderr through a ``RedactingFilter``.

    httpx and httpcore log every URL at INFO (signed output links included), so they are
    held at WARNING unless ``level`` is DEBUG.

    Returns:
        The filter, so the caller can ``add_secret`` once the key is known.
    """
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(quiet)
    return redactor

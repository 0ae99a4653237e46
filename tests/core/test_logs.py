"""Secrets never survive into a log line."""

from __future__ import annotations

import logging

import pytest

from chamelaion_desktop.core.logs import RedactingFilter, redact


@pytest.mark.parametrize(
    "line",
    [
        "headers={'x-api-key': 'sk-live-123'}",
        "Authorization: Bearer sk-live-123",
        '{"Authorization": "Bearer sk-live-123"}',
        "x-api-key=sk-live-123 sent",
        "retrying with bearer sk-live-123",
    ],
)
def test_header_values_are_redacted(line: str) -> None:
    cleaned = redact(line)
    assert "sk-live-123" not in cleaned
    assert "[redacted]" in cleaned


def test_registered_secret_is_redacted_anywhere(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    redactor = RedactingFilter()
    redactor.add_secret("sk-live-456")
    caplog.handler.addFilter(redactor)
    try:
        logger.warning("key %s was rejected", "sk-live-456")
    finally:
        caplog.handler.removeFilter(redactor)
    assert "sk-live-456" not in caplog.text
    assert "key [redacted] was rejected" in caplog.text


def test_ordinary_lines_are_untouched() -> None:
    line = "GET /v1/lipsync/requests?limit=20 -> 200"
    assert redact(line, ["unrelated-secret"]) == line

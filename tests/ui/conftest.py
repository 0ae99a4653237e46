"""UI test setup: QtMultimedia's chatter off before any test creates a media player."""

from __future__ import annotations

import os

# The FFmpeg backend logs its probing (no audio device, no GPU); `make pytest` sets the same.
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

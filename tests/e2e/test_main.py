"""``app.main``, the real entry point (what ``chamelaion-desktop`` runs): the window's first
frame comes before the event loop and the services, which then join it; closing the window
ends the app with status 0."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from chamelaion_desktop import app
from chamelaion_desktop.sandbox import SandboxThread
from chamelaion_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
VIDEO = "grid_s2_male_2sentences_6s.mp4"
AUDIO = "fleurs_es419_006_spanish_5.6s.wav"


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sandbox: SandboxThread, api_key: str
) -> Iterator[Path]:
    """Where ``main`` keeps its files (XDG folders under ``tmp_path``), its key and URL; the
    root logger is given back afterwards (``main`` configures it)."""
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    monkeypatch.setenv("CHAMELAION_API_KEY", api_key)
    monkeypatch.setenv("CHAMELAION_BASE_URL", sandbox.base_url)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield tmp_path
    root.handlers[:] = handlers
    root.setLevel(level)


def test_main_paints_the_window_before_the_services_then_joins_them(
    qapp: Any, environment: Path, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_first_frame: list[tuple[bool, bool, bool]] = []
    paint = app.paint_first_frame

    def paint_and_look(window: MainWindow, *args: Any, **kwargs: Any) -> None:
        paint(window, *args, **kwargs)
        at_first_frame.append(
            (window.isVisible(), window.coordinator is None, window.api_key_action.isEnabled())
        )

    monkeypatch.setattr(app, "paint_first_frame", paint_and_look)
    seen: dict[str, Any] = {}

    def look() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows or windows[0].coordinator is None:
            return
        window = windows[0]
        label = window.connection_label.text()
        if "online" in label and not window.inputs.checking:
            seen.update(
                label=label,
                inputs=window.inputs.inputs(),
                api_key_action=window.api_key_action.isEnabled(),
            )
            window.close()

    watcher = QTimer()
    watcher.timeout.connect(look)
    watcher.start(20)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(lambda: [w.close() for w in qapp.topLevelWidgets()])
    give_up.start(20_000)
    try:
        status = app.main([str(media_dir / VIDEO), str(media_dir / AUDIO)])
    finally:
        watcher.stop()
        give_up.stop()

    assert status == 0
    # Shown and painted with no coordinator yet, the key dialog's entry waiting for it.
    assert at_first_frame == [(True, True, False)]
    assert seen["label"].endswith("online")
    assert seen["inputs"] == (media_dir / VIDEO, media_dir / AUDIO)
    assert seen["api_key_action"]
    assert list((environment / "config").rglob("settings.ini"))  # the window state, saved

"""core.paths: names computed without touching the disk; ensure() creates them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chamelaion_desktop.core.paths import AppPaths


def test_under_puts_all_four_folders_below_the_root_and_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "portable"
    paths = AppPaths.under(root)

    assert paths.config_dir == root / "config"
    assert paths.data_dir == root / "data"
    assert paths.cache_dir == root / "cache"
    assert paths.log_dir == root / "logs"
    assert not root.exists()


def test_ensure_creates_them_and_is_idempotent(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "a" / "b")
    assert paths.ensure() is paths
    paths.ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert folder.is_dir()


def test_ensure_reports_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder", encoding="utf-8")
    with pytest.raises(OSError):
        AppPaths.under(tmp_path).ensure()


@pytest.mark.skipif(sys.platform != "linux", reason="XDG variables are Linux's")
def test_default_follows_xdg_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, sub in [
        ("XDG_CONFIG_HOME", "cfg"),
        ("XDG_DATA_HOME", "share"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ]:
        monkeypatch.setenv(name, str(tmp_path / sub))

    paths = AppPaths.default()

    assert paths.config_dir == tmp_path / "cfg" / "chamelaion-desktop"
    assert paths.data_dir == tmp_path / "share" / "chamelaion-desktop"
    assert paths.cache_dir == tmp_path / "cache" / "chamelaion-desktop"
    assert paths.log_dir.is_relative_to(tmp_path / "state" / "chamelaion-desktop")
    assert list(tmp_path.iterdir()) == []

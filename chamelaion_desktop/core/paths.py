"""Where the application keeps its files: settings, data (the journal), cache and logs.

Nothing here touches the disk until ``ensure()`` is called; building an ``AppPaths`` only
computes names, so importing this module or constructing paths is free of side effects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "AppPaths"]

APP_NAME = "chamelaion-desktop"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The four per-user folders of the application.

    Attributes:
        config_dir: settings (e.g. ``~/.config/chamelaion-desktop`` on Linux).
        data_dir: durable data such as the submission journal.
        cache_dir: files that may be deleted at any time (downloaded previews).
        log_dir: log files.
    """

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def default(cls) -> AppPaths:
        """The platform's per-user folders (``platformdirs``, app name ``chamelaion-desktop``).

        Linux follows XDG (``$XDG_CONFIG_HOME`` and friends), macOS ``~/Library/...``,
        Windows ``%LOCALAPPDATA%``. Nothing is created.
        """
        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            config_dir=dirs.user_config_path,
            data_dir=dirs.user_data_path,
            cache_dir=dirs.user_cache_path,
            log_dir=dirs.user_log_path,
        )

    @classmethod
    def under(cls, root: str | os.PathLike[str]) -> AppPaths:
        """All four folders under one root (``config``, ``data``, ``cache``, ``logs``): for tests
        and portable installs. Nothing is created."""
        base = Path(root)
        return cls(
            config_dir=base / "config",
            data_dir=base / "data",
            cache_dir=base / "cache",
            log_dir=base / "logs",
        )

    def ensure(self) -> AppPaths:
        """Create the four folders (and their parents) if missing; return ``self``.

        Raises:
            OSError: a folder cannot be created (permissions, a file in the way, disk full).
        """
        for field in fields(self):
            path: Path = getattr(self, field.name)
            path.mkdir(parents=True, exist_ok=True)
        return self

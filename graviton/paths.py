"""How every report shows a path: relative to the working directory when it is below it."""

from __future__ import annotations

from pathlib import Path


def relative_path(path: Path) -> Path:
    """``/repo/services/api`` run from ``/repo`` -> ``services/api``; unchanged when not below."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def display_path(path: Path) -> str:
    """``/repo/services/api/Dockerfile`` run from ``/repo`` -> ``services/api/Dockerfile``."""
    return relative_path(path).as_posix()

"""How every report shows a path: relative to the working directory when it is below it."""

from __future__ import annotations

from pathlib import Path


def display_path(path: Path) -> str:
    """``/repo/services/api/Dockerfile`` run from ``/repo`` -> ``services/api/Dockerfile``."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()

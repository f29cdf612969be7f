"""Which files the gate reads when it is not told: every lock/requirements file and every
Dockerfile under the repository root.

Directories that hold no source of the service are skipped: hidden ones (``.git``, ``.venv``,
``.tox``...), virtual environments (any directory with a ``pyvenv.cfg``), ``node_modules``,
``site-packages``, ``__pycache__``, build output (``build``, ``dist``, ``*.egg-info``), and
whatever an ``exclude`` glob names (matched against the path relative to the root).

In each directory the audit's own rule (:func:`graviton.audit.sources.discover`) says which
lock files count; a ``pyproject.toml`` counts only when it declares dependencies
(``[project]`` or ``[dependency-groups]``), so a tool-configuration file is not an error.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

from graviton.audit import sources

SKIP_DIRS = frozenset(
    {"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "htmlcov"}
)
DOCKERFILE_NAMES = ("Dockerfile", "Containerfile")
# Dockerfile.dockerignore (BuildKit's per-Dockerfile ignore file), docs, templates, backups
NOT_DOCKERFILES = (
    ".dockerignore",
    ".md",
    ".rst",
    ".txt",
    ".j2",
    ".jinja",
    ".tmpl",
    ".tpl",
    ".in",
    ".orig",
    ".bak",
    ".swp",
)


def excluded(relative: str, patterns: Sequence[str]) -> bool:
    """``relative`` (posix, from the root) or one of its parent folders matches a pattern."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatchcase(p, pattern.rstrip("/")) for p in prefixes for pattern in patterns
    )


def _skip_dir(path: Path) -> bool:
    name = path.name
    return (
        name.startswith(".")
        or name in SKIP_DIRS
        or name.endswith(".egg-info")
        or (path / "pyvenv.cfg").is_file()
    )


def walk(root: Path, exclude: Sequence[str] = ()) -> Iterator[tuple[Path, list[str]]]:
    """(directory, file names) for every directory the gate reads, in a stable order."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root).as_posix()
        kept = []
        for name in sorted(dirs):
            sub = here / name
            sub_rel = name if rel == "." else f"{rel}/{name}"
            if not _skip_dir(sub) and not excluded(sub_rel, exclude):
                kept.append(name)
        dirs[:] = kept
        names = [
            f for f in sorted(files) if not excluded(f if rel == "." else f"{rel}/{f}", exclude)
        ]
        yield here, names


def is_dockerfile(name: str) -> bool:
    """``Dockerfile``, ``Dockerfile.prod``, ``api.Dockerfile``, ``Containerfile``... but not
    ``Dockerfile.dockerignore``, ``Dockerfile.md`` or a template (``Dockerfile.j2``)."""
    if name.endswith(NOT_DOCKERFILES):
        return False
    return any(
        name == base or name.startswith(base + ".") or name.endswith("." + base)
        for base in DOCKERFILE_NAMES
    )


def _declares_dependencies(path: Path) -> bool:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # let the audit's reader report what is wrong, with file and line
    return "project" in doc or "dependency-groups" in doc


def lock_files(root: Path, exclude: Sequence[str] = ()) -> list[Path]:
    """Every lock and requirements file under ``root``."""
    found: dict[Path, None] = {}
    for folder, _ in walk(root, exclude):
        for path in sources.discover(folder):
            if excluded(path.relative_to(root).as_posix(), exclude):
                continue
            if path.name == "pyproject.toml" and not _declares_dependencies(path):
                continue
            found.setdefault(path)
    return list(found)


def dockerfiles(root: Path, exclude: Sequence[str] = ()) -> list[Path]:
    """Every Dockerfile under ``root``."""
    return [
        folder / name
        for folder, names in walk(root, exclude)
        for name in names
        if is_dockerfile(name)
    ]

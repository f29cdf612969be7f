"""Dependency sources: every lock and requirements format read into a :class:`Manifest` of pins,
each with the file:line it was written at.

``detect`` names the format of a file, ``load`` reads one, ``discover`` lists what ``graviton
audit`` reads in a directory. One module per format, each with ``parse(path, display)``.

Conventions shared by every format:

* ``Pin.version`` is the exact version: ``==X``/``===X`` in requirements and pyproject (not
  ``==1.*``), the locked version in a lock. A direct reference (``url`` set: URL, VCS, local
  archive or directory) keeps the version only where the file states it (a lock, a wheel or
  sdist file name); it is never looked up on an index.
* ``marker`` is packaging's normal form (``str(Marker(...))``) of where the pin is needed.
* ``index_urls`` is the index a lock names for the pin, unless it is PyPI's default one.
* The project itself is not a pin: the lock's own directory (``-e .``, uv ``editable``/``virtual``
  source ``"."``, a pylock/Pipfile/poetry directory ``"."``) and uv's ``virtual`` workspace
  members. Every other local directory (a path dependency, an editable workspace member) is a
  pin with ``url`` set to the path as written, so that it is reported, not silently passed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from graviton.errors import InputError
from graviton.findings import Manifest

from . import pipfile, poetry, pylock, pyproject, requirements, uv
from ._files import read_text

FORMATS: tuple[str, ...] = (
    "requirements",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "pylock",
    "pyproject",
)

_PARSERS: dict[str, Callable[[Path, str], Manifest]] = {
    "requirements": requirements.parse,
    "poetry.lock": poetry.parse,
    "uv.lock": uv.parse,
    "Pipfile.lock": pipfile.parse,
    "pylock": pylock.parse,
    "pyproject": pyproject.parse,
}
_NAMES = {
    "uv.lock": "uv.lock",
    "poetry.lock": "poetry.lock",
    "pipfile.lock": "Pipfile.lock",
    "pyproject.toml": "pyproject",
}
_PYLOCK = re.compile(r"^pylock\.([^.]+\.)?toml$")
_UNSUPPORTED = {
    "pipfile": "a Pipfile is not a lock: run `pipenv lock` and audit Pipfile.lock",
    "pdm.lock": "pdm.lock is not read: `pdm export -o requirements.txt` and audit that",
    "setup.py": "setup.py is not read: audit a lock, requirements file or pyproject.toml",
    "setup.cfg": "setup.cfg is not read: audit a lock, requirements file or pyproject.toml",
}
_NOT_REQUIREMENTS = (".py", ".cfg", ".ini", ".yml", ".yaml", ".md", ".rst")


def load(path: Path, display: str | None = None) -> Manifest:
    """Read ``path``; ``display`` is the path shown in locations and errors (default: path)."""
    display = str(path) if display is None else display
    return _PARSERS[detect(path, display)](path, display)


def discover(directory: Path) -> list[Path]:
    """What ``graviton audit`` reads in ``directory``, in a fixed order.

    Locks (uv, poetry, Pipfile, pylock), then ``requirements*.txt`` and ``requirements/*.txt``
    with the ``.in`` files that have no ``.txt`` of the same stem; ``pyproject.toml`` only
    when none of those is there.
    """
    locks = [directory / name for name in ("uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml")]
    locks += sorted(p for p in directory.glob("pylock.*.toml") if _PYLOCK.match(p.name))
    found = [p for p in locks if p.is_file()]
    for folder, pattern in ((directory, "requirements*"), (directory / "requirements", "*")):
        found += sorted(
            path
            for suffix in (".txt", ".in")
            for path in folder.glob(pattern + suffix)
            if path.is_file() and (suffix == ".txt" or not path.with_suffix(".txt").is_file())
        )
    if not found and (directory / "pyproject.toml").is_file():
        found.append(directory / "pyproject.toml")
    return found


def detect(path: Path, display: str | None = None) -> str:
    """The format of ``path``: by its name, by its content where the name does not say;
    ``display`` is the path errors name (default: path)."""
    display = str(path) if display is None else display
    name = path.name.lower()
    if name in _NAMES:
        return _NAMES[name]
    if _PYLOCK.match(path.name):
        return "pylock"
    if name in _UNSUPPORTED:
        raise InputError(_UNSUPPORTED[name], path=display)
    if name.endswith((".txt", ".in")):
        return "requirements"
    if name.endswith((".toml", ".lock", ".json")):
        return _sniff(path, display)
    if name.endswith(_NOT_REQUIREMENTS):
        raise InputError("not a lock or requirements file", path=display)
    return "requirements"


def _sniff(path: Path, display: str) -> str:
    """The format of a TOML or JSON lock with a name of its own (``prod.lock``...)."""
    text = read_text(path, display)
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError):
        raise InputError("not a TOML or JSON lock file", path=display) from None
    if not isinstance(data, dict):
        raise InputError("not a lock file", path=display)
    if "_meta" in data and ("default" in data or "develop" in data):
        return "Pipfile.lock"
    if "lock-version" in data and "packages" in data:
        return "pylock"
    if "package" in data and isinstance(data.get("metadata"), dict):
        return "poetry.lock"
    if "package" in data and data.get("version") == 1:
        return "uv.lock"
    if "project" in data or "dependency-groups" in data:
        return "pyproject"
    raise InputError("cannot tell which lock format this is", path=display)

"""requirements files (``requirements.txt``, ``*.in``, pip-compile output) read as pip reads them.

Lines are prepared like pip's ``req_file.preprocess``: a trailing backslash joins the next line
(the pin keeps the first physical line), ``#`` at the start or after whitespace starts a
comment, then ``${VAR}`` (upper-case letters, digits, ``_``) is replaced by a non-empty
environment variable and left as written otherwise. Options are parsed with optparse as pip
does: ``-r``/``-c`` include files relative to the including file (an included pin keeps its own
file:line; a cycle is an error), ``-i``/``--extra-index-url`` go into the manifest, ``-e`` is an
editable direct reference, per-requirement ``--hash``/``--config-settings`` are accepted, the
other pip file options are accepted and ignored, and an option pip does not know is an error.

Constraint entries (``-c``) are not pins, but an exact constraint makes an unpinned requirement
of the same name exact; the pin stays at the requirement's line. A direct reference
(``name @ URL``, a VCS or archive URL, a local path) is a pin with ``url`` set; its name comes
from PEP 508, ``#egg=`` or the wheel/sdist file name, else it is the reference as written.
A local path that is the current directory (``-e .``) is the project itself, not a pin. A line
pip rejects is an error at its file:line, never a pin: a path (a ``/`` in it, or a leading
``.``) must be a project directory (``setup.py`` or ``pyproject.toml``; next to the file or in
the working directory) or an archive file name, and anything else must be PEP 508.
The same name pinned to two versions under the same marker is an error, as it is for pip.
"""

from __future__ import annotations

import dataclasses
import optparse
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from graviton.errors import InputError, one_line
from graviton.findings import Location, Manifest, Pin

from . import _pin
from ._files import read_text

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_NAMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_EXTRAS = re.compile(r"^(.+)(\[[^\]]+\])$")
_EGG = re.compile(r"(?:^|&)egg=([^&]+)")
_URL_SCHEMES = frozenset({"http", "https", "file", "ftp"})
_VCS = frozenset({"git", "hg", "svn", "bzr"})
_ARCHIVES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")


class _OptionError(Exception):
    pass


class _OptionParser(optparse.OptionParser):
    def error(self, msg: str) -> NoReturn:
        raise _OptionError(msg)

    def exit(self, status: int = 0, msg: str | None = None) -> NoReturn:
        raise _OptionError(msg or "invalid option")


def _option_parser() -> _OptionParser:
    """The options pip accepts in a requirements file (pip's SUPPORTED_OPTIONS and _REQ)."""
    parser = _OptionParser(add_help_option=False)
    for flags, dest in (
        (("-r", "--requirement"), "requirements"),
        (("-c", "--constraint"), "constraints"),
        (("-e", "--editable"), "editables"),
        (("--extra-index-url",), "extra_index_urls"),
        (("-f", "--find-links"), "find_links"),
        (("--no-binary",), "no_binary"),
        (("--only-binary",), "only_binary"),
        (("--trusted-host",), "trusted_hosts"),
        (("--use-feature",), "features"),
        (("--hash",), "hashes"),
        (("--global-option",), "global_options"),
        (("--config-settings",), "config_settings"),
    ):
        parser.add_option(*flags, dest=dest, action="append")
    parser.add_option("-i", "--index-url", "--pypi-url", dest="index_url")
    for flag in ("--no-index", "--prefer-binary", "--require-hashes", "--pre"):
        parser.add_option(flag, action="store_true")
    return parser


_PARSER = _option_parser()


def parse(path: Path, display: str) -> Manifest:
    reader = _Reader()
    reader.read(path, display, constraint=False)
    pins = _pin.merge_duplicates(_constrain(reader.pins, reader.constraints))
    _pin.check_conflicts(pins)
    return Manifest(
        path=display,
        format="requirements",
        pins=tuple(pins),
        index_url=reader.index_url,
        extra_index_urls=tuple(reader.extra_index_urls),
    )


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line, text) of each non-empty line, as pip's ``preprocess`` makes them."""
    for number, line in _join_lines(text.splitlines()):
        line = _COMMENT.sub("", line).strip()
        if line:
            yield number, _ENV_VAR.sub(lambda m: os.environ.get(m[1]) or m[0], line)


def _join_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    first = 0
    joined: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.endswith("\\") or _COMMENT.match(line):
            if _COMMENT.match(line):
                line = " " + line  # a comment ends a continuation and is stripped later
            if joined:
                yield first, "".join([*joined, line])
                joined = []
            else:
                yield number, line
        else:
            if not joined:
                first = number
            joined.append(line.strip("\\"))
    if joined:
        yield first, "".join(joined)


def _split_options(line: str) -> tuple[str, str]:
    """pip's ``break_args_options``: words up to the first one starting with ``-``."""
    words = line.split(" ")
    for i, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:i]), " ".join(words[i:])
    return line, ""


def _words(options: str) -> list[str]:
    """``shlex.split`` as pip does; plain ``split`` when nothing is quoted (much faster)."""
    return shlex.split(options) if any(c in options for c in "\"'\\") else options.split()


class _Reader:
    def __init__(self) -> None:
        self.pins: list[Pin] = []
        self.constraints: list[Pin] = []
        self.index_url: str | None = None
        self.extra_index_urls: list[str] = []
        self.reading: list[tuple[Path, str]] = []  # (resolved path, display) being read

    def read(self, path: Path, display: str, *, constraint: bool) -> None:
        text = read_text(path, display)
        self.reading.append((path.resolve(), display))
        for number, line in _logical_lines(text):
            self.line(line, Location(display, number), path.parent, constraint=constraint)
        self.reading.pop()

    def line(self, line: str, where: Location, base: Path, *, constraint: bool) -> None:
        args, options = _split_options(line)
        try:
            opts, _ = _PARSER.parse_args(_words(options))
        except (_OptionError, ValueError) as exc:
            raise InputError(one_line(str(exc)), path=where.path, line=where.line) from None
        if args:
            pin = _requirement(args, where, base)
            if pin is not None and opts.hashes:
                pin = dataclasses.replace(pin, hashes=_pin.lock_hashes(opts.hashes, where))
            self.add(pin, where, constraint=constraint)
        for value in opts.editables or ():
            if constraint:
                raise _error("editable requirements are not allowed as constraints", where)
            self.add(_editable(value, where, base), where, constraint=False)
        for value in opts.requirements or ():
            self.include(value, where, base, constraint=constraint)
        for value in opts.constraints or ():
            self.include(value, where, base, constraint=True)
        if opts.index_url:
            self.index_url = opts.index_url
        for url in opts.extra_index_urls or ():
            if url not in self.extra_index_urls:
                self.extra_index_urls.append(url)

    def add(self, pin: Pin | None, where: Location, *, constraint: bool) -> None:
        if pin is None:
            return
        if not constraint:
            self.pins.append(pin)
        elif pin.url is not None:
            raise _error("links are not allowed as constraints", where)
        else:
            self.constraints.append(pin)

    def include(self, value: str, where: Location, base: Path, *, constraint: bool) -> None:
        kind = "constraints" if constraint else "requirements"
        if _is_url(value):
            raise _error(
                f"remote {kind} file {one_line(value)} is not supported; download it first", where
            )
        target = base / value
        display = os.path.normpath(os.path.join(os.path.dirname(where.path), value))
        if not target.is_file():
            why = "not a regular file" if target.exists() else "no such file"
            raise _error(f"cannot open {kind} file {one_line(value)}: {why}", where)
        resolved = target.resolve()
        for i, (open_path, _) in enumerate(self.reading):
            if open_path == resolved:
                chain = [shown for _, shown in self.reading[i:]] + [display]
                raise _error(f"include cycle: {' -> '.join(chain)}", where)
        self.read(target, display, constraint=constraint)


def _error(message: str, where: Location) -> InputError:
    return InputError(message, path=where.path, line=where.line)


def _is_url(text: str) -> bool:
    """pip's ``is_url``: a known scheme, VCS ones included (``git+https:``)."""
    if ":" not in text:
        return False
    scheme = text.split(":", 1)[0].lower()
    return scheme in _URL_SCHEMES or scheme in _VCS or scheme.split("+", 1)[0] in _VCS


def _requirement(text: str, where: Location, base: Path) -> Pin | None:
    """A requirement line as pip's ``parse_req_from_line`` reads it: PEP 508, a URL, an archive
    file name, or a path to a local project directory; anything else pip rejects."""
    if _NAMED.match(text):
        return _pin.requirement(text, where)
    if _is_url(text):
        reference, _, marker = text.partition("; ")  # a URL may hold ";", its marker needs "; "
        return _direct(reference.strip(), marker, where)
    reference, _, marker = text.partition(";")
    reference = reference.strip()
    path = _without_extras(reference)
    if _looks_like_path(reference) and (
        _pin.is_project_root(path) or _project_dir(path, base, where) is not None
    ):
        return _direct(reference, marker, where)
    if path.lower().endswith(_ARCHIVES):
        return _direct(reference, marker, where)
    if _looks_like_path(reference):
        raise _error(
            f"invalid requirement {one_line(text)!r}: it looks like a path, but there is no "
            "such directory",
            where,
        )
    return _pin.requirement(text, where)


def _looks_like_path(reference: str) -> bool:
    """pip's ``_looks_like_path``: a path separator in it, or a leading dot."""
    return "/" in reference or os.sep in reference or reference.startswith(".")


def _without_extras(reference: str) -> str:
    split = _EXTRAS.match(reference)
    return split[1] if split else reference


def _project_dir(path: str, base: Path, where: Location) -> Path | None:
    """The local project directory ``path`` names (next to the file, else in the working
    directory, where pip looks); an error when it is a directory pip cannot install."""
    for folder in (base / path, Path.cwd() / path):
        if folder.is_dir():
            if not (folder / "pyproject.toml").is_file() and not (folder / "setup.py").is_file():
                raise _error(
                    f"directory {one_line(path)!r} is not installable: neither setup.py nor "
                    "pyproject.toml found",
                    where,
                )
            return folder
    return None


def _editable(value: str, where: Location, base: Path) -> Pin | None:
    """``-e``: a VCS URL or a local project directory, as pip's ``parse_editable`` accepts."""
    path = _without_extras(value)
    local = not _is_url(value) and not _pin.is_project_root(path)
    if local and _project_dir(path, base, where) is None:
        raise _error(
            f"invalid editable requirement {one_line(value)!r}: not a local project "
            "directory or a VCS URL",
            where,
        )
    return _direct(value, None, where, editable=True)


def _direct(
    reference: str, marker: str | None, where: Location, *, editable: bool = False
) -> Pin | None:
    """A direct reference; None for the project's own directory."""
    extras: tuple[str, ...] = ()
    split = _EXTRAS.match(reference)
    if split and not _is_url(reference):
        reference = split[1]
        extras = _extras(split[2], where)
    if not _is_url(reference) and _pin.is_project_root(reference):
        return None
    name, version = _name_of(reference)
    if "[" in name:  # #egg=name[extras]
        name, _, rest = name.partition("[")
        extras = tuple(sorted({*extras, *_extras(f"[{rest}", where)}))
    return Pin(
        name=name,
        version=version,
        location=where,
        marker=_pin.normal_marker(marker, where),
        extras=extras,
        url=reference,
        editable=editable,
    )


def _extras(text: str, where: Location) -> tuple[str, ...]:
    try:
        return tuple(sorted(Requirement(f"x{text}").extras))
    except InvalidRequirement:
        raise _error(f"invalid extras {one_line(text)!r}", where) from None


def _name_of(reference: str) -> tuple[str, str | None]:
    """Name (and version) from ``#egg=`` or a wheel/sdist file name; else the reference."""
    parts = urlsplit(reference) if _is_url(reference) else None
    egg = _EGG.search(parts.fragment if parts else reference.partition("#")[2])
    if egg:
        return unquote(egg[1]), None
    filename = unquote((parts.path if parts else reference.partition("#")[0]).rsplit("/", 1)[-1])
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return name, str(version)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return name, str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    return reference, None


def _constrain(pins: list[Pin], constraints: list[Pin]) -> list[Pin]:
    """Apply exact ``-c`` constraints to the requirements of the same name."""
    exact: dict[str, list[Pin]] = {}
    for constraint in constraints:
        if constraint.version is not None:
            exact.setdefault(constraint.key, []).append(constraint)
    out = []
    for pin in pins:
        found = exact.get(pin.key, [])
        versions = {c.version for c in found}
        if pin.url is None and len(versions) == 1:
            constraint = found[0]
            version = str(constraint.version)
            allowed = SpecifierSet(pin.specifier).contains(version, prereleases=True)
            if not allowed or (pin.version is not None and not pin.admits(version)):
                raise _error(
                    f"{pin.name}{pin.specifier} conflicts with the constraint "
                    f"{constraint.name}{constraint.pinned} at {constraint.location}",
                    pin.location,
                )
            pin = dataclasses.replace(pin, version=version, arbitrary=constraint.arbitrary)
        out.append(pin)
    return out

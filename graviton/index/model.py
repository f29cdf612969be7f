"""What an index says about a project: its files, grouped by normalised version.

Plain data, no I/O. A release's files stay packed in one string until asked for: a verdict
reads one or two releases of a project that may list thousands of files, and strings are cheap
to cache, load and pass between processes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, Protocol

from packaging.version import InvalidVersion, Version

from graviton.errors import ServiceUnavailable


class IndexUnavailable(ServiceUnavailable):
    """The index could not be read or did not answer as an index (exit 3), never a verdict."""


class DistFile(NamedTuple):
    """One file of a release as the index lists it (a tuple: there are hundreds of thousands)."""

    filename: str
    requires_python: str | None = None
    yanked: bool = False
    sha256: str | None = None  # lowercase hex, when the index lists it
    url: str | None = None  # absolute, without a fragment (and without credentials)

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


# one release's files: "filename\trequires-python\tyanked\tsha256\turl" rows joined by "\n";
# a URL that ends with "/<filename>" (PyPI's all do) is kept without the filename, ending "/"
Packed = str
FIELDS = 5


def pack(files: Iterable[DistFile]) -> Packed:
    return "\n".join(row(f.filename, f.requires_python, f.yanked, f.sha256, f.url) for f in files)


def _clean(text: str | None) -> str:
    if not text:
        return ""
    return text.replace("\t", " ").replace("\n", " ") if "\t" in text or "\n" in text else text


def row(
    filename: str,
    requires_python: str | None,
    yanked: object,
    sha256: object = None,
    url: str | None = None,
) -> str:
    """One packed row (tabs and newlines in a field become spaces; a sha256 that is not 64
    letters and digits is dropped: it could never match a lock's hash)."""
    digest = (
        sha256.lower() if isinstance(sha256, str) and len(sha256) == 64 and sha256.isalnum() else ""
    )
    link = _clean(url)
    if link.endswith(filename) and link[-len(filename) - 1 : -len(filename)] == "/":
        link = link[: -len(filename)]
    flag = "y" if yanked else ""
    return f"{_clean(filename)}\t{_clean(requires_python)}\t{flag}\t{digest}\t{link}"


def unpack(packed: Packed) -> tuple[DistFile, ...]:
    out = []
    for line in packed.split("\n"):
        filename, rp, yanked, digest, link = line.split("\t")
        if link.endswith("/"):
            link += filename
        out.append(DistFile(filename, rp or None, bool(yanked), digest or None, link or None))
    return tuple(out)


def is_packed(value: object) -> bool:
    """True for a well-formed packed release (every row has exactly five fields)."""
    return isinstance(value, str) and all(r.count("\t") == FIELDS - 1 for r in value.split("\n"))


@dataclass(frozen=True)
class Project:
    """A project's files on one or more indexes, grouped by normalised version."""

    name: str
    # str(Version) -> packed files; a reader asked for releases from a version on (``since``)
    # holds only those: older ones can neither match a pin nor fix it
    releases: Mapping[str, Packed]
    index_url: str  # the index (credentials removed) that answered; several joined by ", "

    def versions(self) -> list[Version]:
        return sorted(Version(v) for v in self.releases)

    def files(self, version: str) -> tuple[DistFile, ...]:
        packed = self.releases.get(normal_version(version) or version)
        return unpack(packed) if packed else ()


ProjectRequest = tuple[str, tuple[str, ...]]  # (name, index URLs; empty: the reader's own)


class ProjectReader(Protocol):
    """What the audit needs from an index: many projects, each as soon as it is known."""

    index_urls: tuple[str, ...]

    def projects(
        self, requests: Iterable[ProjectRequest], since: Mapping[str, str | None] | None = None
    ) -> Iterator[tuple[str, tuple[str, ...], Project | None]]: ...


@cache
def normal_version(text: str) -> str | None:
    """PEP 440 normal form, or None for a legacy version pip would not consider."""
    try:
        return str(Version(text))
    except InvalidVersion:
        return None


SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
OTHER_DIST_EXTS = (".egg", ".exe", ".msi", ".rpm", ".dmg", ".deb")  # listed, ignored by pip


def file_version(filename: str) -> str | None:
    """The normalised version a distribution filename carries, or None if pip would skip it.

    Split by hand (wheel: the second dash-separated field; sdist: after the last dash), since a
    page can list thousands of files and only the version is needed here.
    """
    return _any_release(filename)


def _sdist_version_text(filename: str) -> str | None:
    """The version of a source distribution's name as written (after its last dash)."""
    for ext in SDIST_EXTS:
        if filename.endswith(ext):
            _, dash, version = filename[: -len(ext)].rpartition("-")
            return version if dash else None
    return None  # .egg, .exe, .msi, .rpm: pip ignores them


def is_distribution(filename: str) -> bool:
    """A file name an index would list (whether or not pip would use it)."""
    return filename.endswith((".whl", *SDIST_EXTS, *OTHER_DIST_EXTS))


_RELEASE_ONLY = re.compile(r"[0-9]+(?:\.[0-9]+)*")


@cache
def _release(version: str) -> tuple[int, ...] | None:
    """A release-only version (``1.2.0``) as PEP 440 orders it: numbers, trailing zeros off;
    None for any other. Kept per process: a page's versions recur on the next page."""
    if not _RELEASE_ONLY.fullmatch(version):
        return None
    numbers = [int(n) for n in version.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def at_or_above(since: str | None) -> Callable[[str], bool] | None:
    """A test of normalised versions: at or above ``since`` (None: keep every release).

    Asked once per file of a page, so each distinct version is compared once; two release-only
    versions (most of them) are compared as numbers, without building a ``Version``."""
    floor = None if since is None else normal_version(since)
    if floor is None:
        return None
    lowest = Version(floor)
    plain = _release(floor)
    memo: dict[str, bool] = {}

    def keep(version: str) -> bool:
        kept = memo.get(version)
        if kept is None:
            if plain is not None and (numbers := _release(version)) is not None:
                kept = numbers >= plain
            else:
                kept = Version(version) >= lowest
            memo[version] = kept
        return kept

    return keep


def releases_from(since: str | None) -> Callable[[str], str | None]:
    """``release(filename)``: :func:`file_version`, or None when that is below ``since`` too.

    The test a page's every file goes through (PyPI's biggest list thousands), so each version
    as written in a file name is judged once, and a wheel's name is split here, not by a call.
    """
    keep = at_or_above(since)
    judged: dict[str, str | None] = {}

    def release(filename: str) -> str | None:
        if filename.endswith(".whl"):
            parts = filename.split("-")  # a wheel's name has 5 fields, 6 with a build tag
            if len(parts) != 5 and len(parts) != 6:
                return None
            text: str | None = parts[1]
        else:
            text = _sdist_version_text(filename)
        if text is None:
            return None
        try:
            return judged[text]
        except KeyError:
            version = normal_version(text)
            kept = version if version is not None and (keep is None or keep(version)) else None
            judged[text] = kept
            return kept

    return release


_any_release = releases_from(None)  # file_version (its memo, like normal_version's, is per process)


def group_files(files: Iterable[DistFile], since: str | None = None) -> dict[str, Packed]:
    """Files by normalised version; from ``since`` on, when given."""
    release = releases_from(since)
    grouped: dict[str, list[DistFile]] = {}
    for f in files:
        version = release(f.filename)
        if version is not None:
            grouped.setdefault(version, []).append(f)
    return {v: pack(fs) for v, fs in grouped.items()}

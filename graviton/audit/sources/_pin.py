"""What every format does to turn one entry into a :class:`Pin`: PEP 508 strings, lock entries,
markers, index URLs, the project's own directory, and merging repeated pins."""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Iterable, Sequence

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from graviton.errors import InputError, one_line
from graviton.findings import Location, Pin, same_version

PYPI_SIMPLE = frozenset({"https://pypi.org/simple", "https://pypi.org/simple/"})

# A requirement's name and extras, then its version specifier up to a marker or a URL.
_NAME_EXTRAS = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?")


def index_urls(url: str | None) -> tuple[str, ...]:
    """The index a lock names for a package, unless it is PyPI's default one."""
    return () if url is None or url in PYPI_SIMPLE else (url,)


def is_project_root(path: str) -> bool:
    """A local source tree that is the directory of the file itself: the project, not a pin."""
    return posixpath.normpath(path.replace("\\", "/")) == "."


def first_line(error: Exception) -> str:
    """packaging's messages end with the input and a caret line: keep the message."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def normal_marker(text: str | None, where: Location) -> str | None:
    """A PEP 508 marker in packaging's normal form (``sys_platform == "win32"``)."""
    if text is None or not text.strip():
        return None
    try:
        return str(Marker(text))
    except InvalidMarker as exc:
        raise InputError(
            f"invalid marker {one_line(text)!r}: {first_line(exc)}",
            path=where.path,
            line=where.line,
        ) from None


def any_of(markers: Sequence[str], where: Location) -> str | None:
    """Markers joined with ``or`` (None for none: needed everywhere)."""
    return _join(markers, "or", where)


def all_of(markers: Sequence[str], where: Location) -> str | None:
    """Markers joined with ``and`` (None for none: needed everywhere)."""
    return _join(markers, "and", where)


def _join(markers: Sequence[str], operator: str, where: Location) -> str | None:
    if len(markers) <= 1:
        return normal_marker(markers[0], where) if markers else None
    return normal_marker(f" {operator} ".join(f"({m})" for m in markers), where)


def exact_version(specifier: SpecifierSet) -> tuple[str | None, bool]:
    """(version, arbitrary) of an ``==X`` or ``===X`` pin; (None, False) for ranges and wildcards
    (``==1.*``). ``==2.0,==2.0.0`` is one version, as PEP 440 compares them."""
    arbitrary = {spec.version for spec in specifier if spec.operator == "==="}
    if arbitrary:
        return (arbitrary.pop(), True) if len(arbitrary) == 1 else (None, False)
    pinned = [s.version for s in specifier if s.operator == "==" and not s.version.endswith(".*")]
    if pinned and all(same_version(f"=={pinned[0]}", other) for other in pinned[1:]):
        return pinned[0], False
    return None, False


def requirement(text: str, where: Location, *, editable: bool = False) -> Pin:
    """A pin from a PEP 508 requirement string."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise InputError(
            f"invalid requirement {one_line(text)!r}: {first_line(exc)}",
            path=where.path,
            line=where.line,
        ) from None
    version, arbitrary = (None, False) if req.url else exact_version(req.specifier)
    return Pin(
        name=req.name,
        version=version,
        arbitrary=arbitrary,
        location=where,
        specifier=_written_specifier(text, req),
        marker=str(req.marker) if req.marker else None,
        extras=tuple(sorted(req.extras)),
        url=req.url,
        editable=editable,
    )


def _written_specifier(text: str, req: Requirement) -> str:
    """The specifier in the order it was written (packaging sorts it), without spaces."""
    if req.url or not req.specifier:
        return ""
    head = _NAME_EXTRAS.match(text)
    written = text[head.end() if head else 0 :].split(";", 1)[0]
    written = re.sub(r"\s+", "", written).removeprefix("(").removesuffix(")")
    try:
        if SpecifierSet(written) == req.specifier:
            return written
    except ValueError:
        pass
    return str(req.specifier)


def locked(
    name: str,
    version: str | None,
    where: Location,
    *,
    marker: str | None = None,
    extras: Sequence[str] = (),
    url: str | None = None,
    index: str | None = None,
    editable: bool = False,
    arbitrary: bool = False,
    hashes: Iterable[str] = (),
) -> Pin:
    """A pin from a lock entry: the lock states the exact version (direct references too)."""
    if version is not None and not arbitrary:
        try:
            Version(version)
        except InvalidVersion:
            raise InputError(
                f"{name}: invalid version {version!r}", path=where.path, line=where.line
            ) from None
    pin = Pin(
        name=name,
        version=version,
        location=where,
        marker=marker,
        extras=tuple(sorted(extras)),
        url=url,
        index_urls=index_urls(index),
        editable=editable,
        arbitrary=arbitrary,
        hashes=lock_hashes(hashes, where),
    )
    return pin if url is not None else dataclasses.replace(pin, specifier=pin.pinned)


_HASH = re.compile(r"^(sha256|sha384|sha512|sha224|sha1|md5|blake2b|sha3_256)[:=]([0-9a-fA-F]+)$")


def lock_hashes(values: Iterable[str], where: Location) -> frozenset[str]:
    """``sha256:<hex>`` / ``sha256=<hex>`` (any case) as ``"sha256:<lowercase hex>"``; a value
    that is not ``algorithm:hex`` is bad input, as pip refuses it."""
    out = set()
    for value in values:
        m = _HASH.match(value.strip())
        if m is None:
            raise InputError(
                f"invalid hash {one_line(value, 80)!r} (expected sha256:<hex>)",
                path=where.path,
                line=where.line,
            )
        out.add(f"{m[1]}:{m[2].lower()}")
    return frozenset(out)


def merge_duplicates(pins: list[Pin]) -> list[Pin]:
    """One pin per (name, version, marker, URL): the first location, the union of extras."""
    merged: dict[tuple[str, str | None, str | None, str | None], Pin] = {}
    for pin in pins:
        key = (pin.key, pin.version, pin.marker, pin.url)
        first = merged.get(key)
        if first is None:
            merged[key] = pin
        elif not set(pin.extras) <= set(first.extras) or not pin.hashes <= first.hashes:
            extras = tuple(sorted(set(first.extras) | set(pin.extras)))
            hashes = first.hashes | pin.hashes
            merged[key] = dataclasses.replace(first, extras=extras, hashes=hashes)
    return list(merged.values())


def check_conflicts(pins: Sequence[Pin]) -> None:
    """Two exact versions of one name under the same marker cannot both be installed (pip
    refuses the file); ``==2.0`` and ``==2.0.0`` are one version."""
    seen: dict[tuple[str, str | None], Pin] = {}
    for pin in pins:
        if pin.version is None or pin.url is not None:
            continue
        first = seen.setdefault((pin.key, pin.marker), pin)
        if not first.admits(pin.version):
            raise InputError(
                f"{pin.name}{pin.pinned} conflicts with {first.name}{first.pinned} "
                f"at {first.location}",
                path=pin.location.path,
                line=pin.location.line,
            )

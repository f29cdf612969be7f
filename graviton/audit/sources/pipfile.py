"""``Pipfile.lock`` (pipenv's JSON lock): the ``default`` and ``develop`` sections.

Each key of a section is a package: ``version`` (``"==x"``), ``markers``, ``extras`` and ``index``
(a name from ``_meta.sources``, whose ``${VAR}`` references are expanded as pipenv does). The
first source is the manifest's index; pipenv only searches the others for packages that name
them, so those pins carry their index. ``git``/``hg``/``svn``/``bzr`` (with ``ref``), ``file`` and
``path`` entries are direct references; ``path: "."`` is the project itself and not a pin.
A package in both sections at the same version is one pin, at its ``default`` line. A file
without ``_meta`` (``{}``) is not a lock pipenv wrote: an error, as for the other formats.
"""

from __future__ import annotations

import os
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from graviton.findings import Manifest, Pin

from . import _pin
from ._files import Table, json_document

_SECTIONS = ("default", "develop")
_VCS = ("git", "hg", "svn", "bzr")


def parse(path: Path, display: str) -> Manifest:
    doc = json_document(path, display)
    if "_meta" not in doc:
        doc.fail("not a Pipfile.lock: no _meta (run `pipenv lock`)")
    sources: dict[str, str] = {}
    meta = doc.table("_meta")
    for source in meta.tables("sources") if meta else []:
        sources.setdefault(source.need("name"), os.path.expandvars(source.need("url")))
    pins: list[Pin] = []
    for name in _SECTIONS:
        section = doc.table(name)
        if section is None:
            continue
        for key in section:
            entry = section.table(key)
            if entry is not None and (pin := _package(key, entry, sources)) is not None:
                pins.append(pin)
    return Manifest(
        path=display,
        format="Pipfile.lock",
        pins=tuple(_pin.merge_duplicates(pins)),
        index_url=next(iter(sources.values()), None),
    )


def _package(name: str, entry: Table, sources: dict[str, str]) -> Pin | None:
    where = entry.location()
    version, arbitrary = None, False
    if (written := entry.string("version")) is not None:
        try:
            version, arbitrary = _pin.exact_version(SpecifierSet(written))
        except InvalidSpecifier:
            entry.fail(f"{name}: invalid version {written!r}", "version")
    index = None
    if (index_name := entry.string("index")) is not None:
        if index_name not in sources:
            entry.fail(f"{name}: index {index_name!r} is not in _meta.sources", "index")
        index = sources[index_name]
    url = _direct(entry)
    if url is not None and "path" in entry and _pin.is_project_root(url):
        return None
    return _pin.locked(
        name,
        version,
        where,
        marker=_pin.normal_marker(entry.string("markers"), entry.location("markers")),
        extras=entry.strings("extras"),
        url=url,
        index=index,
        editable=entry.data.get("editable") is True,
        arbitrary=arbitrary,
        hashes=entry.strings("hashes"),
    )


def _direct(entry: Table) -> str | None:
    for vcs in _VCS:
        if (location := entry.string(vcs)) is not None:
            url = location if location.startswith(f"{vcs}+") else f"{vcs}+{location}"
            if ref := entry.string("ref"):
                url += f"@{ref}"
            if subdirectory := entry.string("subdirectory"):
                url += f"#subdirectory={subdirectory}"
            return url
    return entry.string("file") or entry.string("path")

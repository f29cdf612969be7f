"""``poetry.lock``: one ``[[package]]`` table per locked package.

``markers`` (Poetry 2, lock-version 2.1) is a string, or a table of one marker per dependency
group: the package is then needed where any of its groups needs it, and everywhere when one of
its ``groups`` has no marker. Older locks have no per-package markers and do not say which
packages the project requires directly (that is in pyproject.toml), so a marker cannot be
derived safely from ``[package.dependencies]``: their packages are judged everywhere, which may
report a Windows-only package as blocked but never skips one that Linux installs.

``[package.source]``: ``legacy`` names the index the package comes from; ``git``, ``url``,
``file`` and ``directory`` are direct references (a ``develop = true`` directory is editable).
Poetry does not lock the root project, and records no extras per package. A file with neither
``[[package]]`` nor ``[metadata]`` (an empty one) is an error, as for the other lock formats.
"""

from __future__ import annotations

from pathlib import Path

from graviton.findings import Manifest, Pin

from . import _pin
from ._files import Table, toml_document
from ._locate import ENTRY_DEPTH


def parse(path: Path, display: str) -> Manifest:
    doc = toml_document(path, display, depth=ENTRY_DEPTH)
    if "package" not in doc and "metadata" not in doc:
        doc.fail("not a poetry.lock: no [[package]] and no [metadata] table (run `poetry lock`)")
    pins = [pin for entry in doc.tables("package") if (pin := _package(entry)) is not None]
    return Manifest(path=display, format="poetry.lock", pins=tuple(pins))


def _package(entry: Table) -> Pin | None:
    where = entry.location("name")
    url = index = None
    editable = False
    source = entry.table("source")
    if source is not None:
        kind, location = source.need("type"), source.need("url")
        if kind == "legacy":
            index = location
        elif kind == "git":
            commit = source.string("resolved_reference") or source.string("reference")
            url = f"git+{location}" + (f"@{commit}" if commit else "")
            if subdirectory := source.string("subdirectory"):
                url += f"#subdirectory={subdirectory}"
        elif kind in ("directory", "file", "url"):
            if kind == "directory" and _pin.is_project_root(location):
                return None
            url = location
            editable = kind == "directory" and entry.data.get("develop") is True
    return _pin.locked(
        entry.need("name"),
        entry.need("version"),
        where,
        marker=_markers(entry),
        url=url,
        index=index,
        editable=editable,
        hashes=[h for f in entry.tables("files") if (h := f.string("hash"))],
    )


def _markers(entry: Table) -> str | None:
    where = entry.location("markers")
    value = entry.data.get("markers")
    if value is None or isinstance(value, str):
        return _pin.normal_marker(value, where)
    per_group = entry.table("markers")
    assert per_group is not None
    found: list[str] = []
    for group in entry.strings("groups") or ["main"]:
        marker = _pin.normal_marker(per_group.string(group), where)
        if marker is None:
            return None  # a group that needs it everywhere
        if marker not in found:
            found.append(marker)
    return _pin.any_of(found, where)

"""``pylock.toml`` / ``pylock.<name>.toml`` (PEP 751, lock-version 1.x).

Each ``[[packages]]`` table is a pin: ``name``, ``version``, ``marker`` and ``index`` as the
locker wrote them. A package installed from ``vcs``, ``archive`` or ``directory`` is a direct
reference (``url`` set; VCS as ``<type>+<url>@<commit-id>``); a ``directory`` whose path is the
lock's own directory is the project itself and not a pin.
"""

from __future__ import annotations

from pathlib import Path

from graviton.findings import Manifest, Pin

from . import _pin
from ._files import Table, toml_document
from ._locate import ENTRY_DEPTH


def parse(path: Path, display: str) -> Manifest:
    doc = toml_document(path, display, depth=ENTRY_DEPTH)
    version = doc.need("lock-version")
    if version.split(".", 1)[0] != "1":
        doc.fail(f"unsupported lock-version {version!r} (1.x is read)", "lock-version")
    pins = [pin for entry in doc.tables("packages") if (pin := _package(entry)) is not None]
    return Manifest(path=display, format="pylock", pins=tuple(pins))


def _package(entry: Table) -> Pin | None:
    where = entry.location("name")
    url: str | None = None
    editable = False
    if (vcs := entry.table("vcs")) is not None:
        url = f"{vcs.need('type')}+{_url_or_path(vcs)}"
        if commit := vcs.string("commit-id") or vcs.string("requested-revision"):
            url += f"@{commit}"
        if subdirectory := vcs.string("subdirectory"):
            url += f"#subdirectory={subdirectory}"
    elif (archive := entry.table("archive")) is not None:
        url = _url_or_path(archive)
    elif (directory := entry.table("directory")) is not None:
        url = directory.need("path")
        if _pin.is_project_root(url):
            return None
        editable = directory.data.get("editable") is True
    return _pin.locked(
        entry.need("name"),
        entry.string("version"),
        where,
        marker=_pin.normal_marker(entry.string("marker"), entry.location("marker")),
        url=url,
        index=entry.string("index"),
        editable=editable,
        hashes=_hashes(entry),
    )


def _hashes(entry: Table) -> list[str]:
    """Every ``hashes`` table of the package (``sdist``, ``wheels``, ``archive``) as algo:hex."""
    found: list[str] = []
    tables = [entry.table("sdist"), entry.table("archive"), *entry.tables("wheels")]
    for table in tables:
        hashes = table.table("hashes") if table is not None else None
        if hashes is not None:
            found += [f"{algo}:{hashes.need(algo)}" for algo in hashes]
    return found


def _url_or_path(source: Table) -> str:
    found = source.string("url") or source.string("path")
    if found is None:
        source.fail(f"{source.dotted()} needs a url or a path")
    return found

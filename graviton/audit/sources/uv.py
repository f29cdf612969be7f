"""``uv.lock`` (version 1): one ``[[package]]`` table per locked package version.

uv writes environment markers on dependency edges, not on packages, so a package's marker is
derived from the graph: the ``or`` over every path from a project root of the ``and`` of the
edge markers on the path (extras followed through ``optional-dependencies``), and, for a name
locked at several versions, ``and`` the package's ``resolution-markers``. Each such version is
its own pin. When a marker would take more than a few dozen terms the package is kept without a
marker (judged everywhere), never dropped.

Sources: ``registry`` names the index; ``git``/``url``/``path``/``directory`` are direct
references (``git+<url>@<commit>``); ``editable`` workspace members are editable direct
references. The project itself (``editable``/``virtual`` source ``"."``) and ``virtual``
members (nothing is installed for them) are not pins, but their dependencies are the roots,
as are the ``[manifest]`` requirements of a lock without a project (a script's lock).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from graviton.findings import Location, Manifest, Pin

from . import _pin
from ._files import Table, toml_document
from ._locate import ENTRY_DEPTH

_MAX_TERMS = 32
_Terms = frozenset[frozenset[str]]  # markers: an or of ands
_ALWAYS: _Terms = frozenset({frozenset()})
_Node = tuple[int, str | None]  # (package index, extra)


@dataclass(frozen=True)
class _Edge:
    key: str
    version: str | None
    source: tuple[tuple[str, str], ...] | None
    marker: str | None
    extras: tuple[str, ...]


@dataclass
class _Package:
    name: str
    version: str | None
    where: Location
    source: tuple[tuple[str, str], ...]
    resolution_markers: list[str]
    dependencies: list[_Edge]
    optional: dict[str, list[_Edge]] = field(default_factory=dict)
    groups: list[_Edge] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.source[0][0] if self.source else ""

    @property
    def location(self) -> str:
        return self.source[0][1] if self.source else ""


def parse(path: Path, display: str) -> Manifest:
    doc = toml_document(path, display, depth=ENTRY_DEPTH)
    if doc.data.get("version") != 1:
        doc.fail(f"unsupported uv.lock version {doc.data.get('version')!r} (1 is read)", "version")
    packages = [_read(entry) for entry in doc.tables("package")]
    markers = _Graph(packages, _manifest_edges(doc.table("manifest"))).markers()
    pins = [
        pin for pkg, marker in zip(packages, markers, strict=True) if (pin := _pin_of(pkg, marker))
    ]
    return Manifest(path=display, format="uv.lock", pins=tuple(pins))


def _read(entry: Table) -> _Package:
    def edges(table: Table, key: str) -> list[_Edge]:
        return [_edge(item) for item in table.tables(key)]

    optional = entry.table("optional-dependencies")
    groups = entry.table("dev-dependencies")
    return _Package(
        name=entry.need("name"),
        version=entry.string("version"),
        where=entry.location("name"),
        source=_source(entry.table("source")),
        resolution_markers=entry.strings("resolution-markers"),
        dependencies=edges(entry, "dependencies"),
        optional={extra: edges(optional, extra) for extra in optional}
        if optional is not None
        else {},
        groups=[edge for group in groups for edge in edges(groups, group)]
        if groups is not None
        else [],
        hashes=[
            h
            for table in (entry.table("sdist"), *entry.tables("wheels"))
            if table is not None and (h := table.string("hash"))
        ],
    )


def _source(table: Table | None) -> tuple[tuple[str, str], ...]:
    if table is None:
        return ()
    return tuple((key, table.need(key)) for key in sorted(table) if key != "subdirectory")


def _manifest_edges(manifest: Table | None) -> list[_Edge]:
    """A lock without a project (a script, a virtual workspace) lists its requirements here."""
    if manifest is None:
        return []
    edges = [_edge(item) for item in manifest.tables("requirements")]
    if (groups := manifest.table("dependency-groups")) is not None:
        edges += [_edge(item) for group in groups for item in groups.tables(group)]
    return edges


def _edge(item: Table) -> _Edge:
    marker = _pin.normal_marker(item.string("marker"), item.location("marker"))
    source = item.table("source")
    return _Edge(
        key=canonicalize_name(item.need("name")),
        version=item.string("version"),
        source=_source(source) if source is not None else None,
        marker=marker,
        extras=tuple(item.strings("extra") or item.strings("extras")),
    )


def _is_project(pkg: _Package) -> bool:
    return pkg.kind == "virtual" or (pkg.kind == "editable" and _pin.is_project_root(pkg.location))


def _pin_of(pkg: _Package, marker: str | None) -> Pin | None:
    if _is_project(pkg):
        return None
    url = index = None
    if pkg.kind == "registry":
        index = pkg.location
    elif pkg.kind == "git":
        url = _git_url(pkg.location)
    elif pkg.kind in ("url", "path", "directory", "editable"):
        url = pkg.location
    return _pin.locked(
        pkg.name,
        pkg.version,
        pkg.where,
        marker=marker,
        url=url,
        index=index,
        editable=pkg.kind == "editable",
        hashes=pkg.hashes,
    )


def _git_url(locked: str) -> str:
    """uv's ``https://host/repo?rev=main#<commit>`` as pip's ``git+https://host/repo@<commit>``."""
    parts = urlsplit(locked)
    query = parse_qs(parts.query)
    revision = parts.fragment or next(
        (query[key][0] for key in ("rev", "tag", "branch") if key in query), ""
    )
    url = "git+" + urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if revision:
        url += f"@{revision}"
    if "subdirectory" in query:
        url += f"#subdirectory={query['subdirectory'][0]}"
    return url


class _Graph:
    """Which environments need each package: its dependency paths from the project roots."""

    def __init__(self, packages: list[_Package], manifest: list[_Edge]) -> None:
        self.packages = packages
        self.manifest = manifest
        self.by_key: dict[str, list[int]] = {}
        for i, pkg in enumerate(packages):
            self.by_key.setdefault(canonicalize_name(pkg.name), []).append(i)
        edges = [*manifest, *(edge for pkg in packages for edge in self.all_edges(pkg))]
        targets = {t for edge in edges for t in self.targets(edge)}
        self.roots = [
            i for i, pkg in enumerate(packages) if _is_project(pkg) or pkg.kind == "editable"
        ] + [i for i in range(len(packages)) if i not in targets]
        self.terms: dict[_Node, _Terms] = {}
        self.queue: deque[_Node] = deque()

    @staticmethod
    def all_edges(pkg: _Package) -> Iterable[_Edge]:
        yield from pkg.dependencies
        for edges in pkg.optional.values():
            yield from edges
        yield from pkg.groups

    def targets(self, edge: _Edge) -> list[int]:
        found = self.by_key.get(edge.key, [])
        exact = [
            i
            for i in found
            if edge.version in (None, self.packages[i].version)
            and edge.source in (None, self.packages[i].source)
        ]
        return exact or found

    def out_edges(self, node: _Node, roots: set[int]) -> Iterable[_Edge]:
        index, extra = node
        pkg = self.packages[index]
        if extra is not None:
            return pkg.optional.get(extra, [])
        return self.all_edges(pkg) if index in roots else pkg.dependencies

    def reach(self, node: _Node, terms: _Terms) -> None:
        old = self.terms.get(node, frozenset())
        new = _or(old, terms)
        if new != old:
            self.terms[node] = new
            self.queue.append(node)

    def markers(self) -> list[str | None]:
        roots = set(self.roots)
        for root in self.roots:
            self.reach((root, None), _ALWAYS)
        for edge in self.manifest:
            self.follow(edge, _ALWAYS)
        while self.queue:
            node = self.queue.popleft()
            terms = self.terms[node]
            for edge in self.out_edges(node, roots):
                self.follow(edge, terms)
        return [self.marker(i) for i in range(len(self.packages))]

    def follow(self, edge: _Edge, terms: _Terms) -> None:
        """Whatever needs ``terms`` needs the edge's targets under ``terms and marker``."""
        step = terms if edge.marker is None else frozenset(t | {edge.marker} for t in terms)
        for target in self.targets(edge):
            self.reach((target, None), step)
            for extra in edge.extras:
                self.reach((target, extra), step)

    def marker(self, index: int) -> str | None:
        pkg = self.packages[index]
        paths = [_pin.all_of(sorted(t), pkg.where) for t in self.terms.get((index, None), _ALWAYS)]
        needed = None if None in paths else _pin.any_of(sorted(p for p in paths if p), pkg.where)
        if len(self.by_key[canonicalize_name(pkg.name)]) > 1 and pkg.resolution_markers:
            forks = _pin.any_of(pkg.resolution_markers, pkg.where)
            needed = _pin.all_of([m for m in dict.fromkeys((needed, forks)) if m], pkg.where)
        return needed


def _or(old: _Terms, new: _Terms) -> _Terms:
    """``old or new`` without terms another implies; too many terms: needed everywhere."""
    terms = old | new
    if frozenset() in terms or len(terms) > _MAX_TERMS:
        return _ALWAYS
    return frozenset(t for t in terms if not any(other < t for other in terms))

"""``pyproject.toml``: PEP 621 ``[project]`` dependencies and every optional group, and PEP 735
``[dependency-groups]``.

Every requirement string is a pin at its own line; ranges are unpinned (``resolve`` pins them).
Two exact pins of one name that are installed together (in the dependencies, or the
dependencies with one extra or dependency group) conflict, as in a requirements file.
A requirement on the project itself (``myproject[extra]`` in an optional group) is not a pin.
``include-group`` entries add nothing (every group is read) but must name an existing group and
form no cycle, as PEP 735 requires. Dependencies declared ``dynamic`` cannot be read from the
file and are an error rather than an empty audit; so is a file with neither table (Poetry's
``[tool.poetry]`` is read from ``poetry.lock``).
"""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from graviton.findings import Manifest, Pin

from . import _pin
from ._files import Table, toml_document


def parse(path: Path, display: str) -> Manifest:
    doc = toml_document(path, display)
    project = doc.table("project")
    groups = doc.table("dependency-groups")
    if project is None and groups is None:
        doc.fail("no [project] table or [dependency-groups] to read dependencies from")
    base: list[Pin] = []
    optional: list[list[Pin]] = []  # each extra and each dependency group
    if project is not None:
        if "dependencies" in project.strings("dynamic"):
            project.fail(
                "[project] dependencies are dynamic (computed by the build backend); "
                "audit a lock or requirements file instead",
                "dynamic",
            )
        base = _requirements(project, "dependencies")
        if (extras := project.table("optional-dependencies")) is not None:
            optional += [_requirements(extras, extra) for extra in extras]
    if groups is not None:
        _check_includes(groups)
        optional += [_requirements(groups, group) for group in groups]
    own = canonicalize_name(project.string("name") or "") if project is not None else None
    base = [pin for pin in base if pin.key != own]
    optional = [[pin for pin in extra if pin.key != own] for extra in optional]
    # what is installed together (the dependencies with one extra or group) must agree
    for together in optional or [[]]:
        _pin.check_conflicts(base + together)
    pins = base + [pin for extra in optional for pin in extra]
    return Manifest(path=display, format="pyproject", pins=tuple(_pin.merge_duplicates(pins)))


def _requirements(table: Table, key: str) -> list[Pin]:
    """The requirement strings of an array; ``{include-group = ...}`` tables are skipped."""
    items = table.data.get(key, [])
    if not isinstance(items, list):
        table.fail(f"{table.dotted(key)} must be an array", key)
    pins = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            pins.append(_pin.requirement(item, table.location(key, i)))
        elif not (isinstance(item, dict) and "include-group" in item):
            table.fail(f"{table.dotted(key, i)} must be a requirement string", key, i)
    return pins


def _check_includes(groups: Table) -> None:
    names = {canonicalize_name(name): name for name in groups}

    def includes(name: str) -> list[tuple[int, str]]:
        items = groups.data.get(name)
        return [
            (i, item["include-group"])
            for i, item in enumerate(items if isinstance(items, list) else [])
            if isinstance(item, dict) and isinstance(item.get("include-group"), str)
        ]

    def visit(chain: list[str]) -> None:
        name = chain[-1]
        for i, included in includes(name):
            target = names.get(canonicalize_name(included))
            if target is None:
                groups.fail(f"include-group {included!r}: no such dependency group", name, i)
            elif target in chain:
                cycle = " -> ".join([*chain[chain.index(target) :], target])
                groups.fail(f"include-group cycle: {cycle}", name, i)
            else:
                visit([*chain, target])

    for name in groups:
        visit([name])

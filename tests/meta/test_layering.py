"""The package's layers: imports only go down, and no two packages import each other.

    commands/ cli                       the verbs: flags -> request -> call -> render -> exit code
    report/                             every output format, rendering the shared findings model
    audit/ gate/ image/ validate/       one capability each (peers: they may use one another,
    capacity/ rollout/ savings/         but never in a cycle)
    checks/                             pure checks over gathered facts
    index/ oci/ aws/                    adapters: package index, registries + ECR, boto3 readers
    findings, config, instances, ...    the shared model and small helpers

``report`` renders only the shared model, so it imports nothing above ``checks`` either: that keeps
it usable by every capability's command without tying the formats to any one capability.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "graviton"

LAYERS: list[set[str]] = [
    {"cli", "commands", "__main__"},
    {"report"},
    {"audit", "gate", "image", "validate", "capacity", "rollout", "savings"},
    {"checks"},
    {"index", "oci", "aws"},
]
# everything else at the top of the package (findings.py, config.py, instances.py, errors.py, ...)
BASE = len(LAYERS)
# Known violations, each to go when a file another engineer is changing in parallel lands
# (listed as "file: unit imports module", the form the tests report). Empty this at the merge.
KNOWN_VIOLATIONS: set[str] = set()
# report/validate.py renders validate's own report (not a findings model): the one capability
# model report may import, by design.
REPORT_MAY_RENDER = {"graviton/report/validate.py": "graviton.validate.model"}
PURE = {"checks"}  # no I/O: none of these may be imported there
IO_MODULES = {"boto3", "botocore", "docker", "requests", "urllib3", "subprocess", "socket", "http"}


def rank(unit: str) -> int:
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return index
    return BASE


def unit_of(module: str) -> str | None:
    """``graviton.audit.run`` -> ``audit``; None for modules outside the package."""
    parts = module.split(".")
    if parts[0] != "graviton":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def imports(package: Path = PACKAGE) -> list[tuple[str, str, str]]:
    """(importing unit, imported module, where) for every import in the package."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent)
        module = ".".join(rel.with_suffix("").parts)
        unit = unit_of(module)
        assert unit is not None
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = module.split(".")[: -node.level]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                names = [target] + (
                    [f"{target}.{alias.name}" for alias in node.names]
                    if target == "graviton"
                    else []
                )
            else:
                continue
            for name in names:
                found.append((unit, name, f"{rel}:{node.lineno}"))
    return found


def upward_imports(package: Path = PACKAGE) -> list[str]:
    upward = []
    for unit, name, where in imports(package):
        target = unit_of(name)
        if target is None or target == unit or target == "__init__":
            continue
        if rank(target) < rank(unit):
            upward.append(f"{where}: {unit} imports {name}")
    return upward


def known(violation: str) -> bool:
    where, _, what = violation.partition(": ")
    return f"{where.rsplit(':', 1)[0]}: {what}" in KNOWN_VIOLATIONS


def test_imports_only_go_down() -> None:
    upward = [v for v in upward_imports() if not known(v)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_package_cycles() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for unit, name, where in imports():
        if known(f"{where}: {unit} imports {name}"):
            continue
        target = unit_of(name)
        if target is not None and target not in (unit, "__init__"):
            graph[unit].add(target)
    cycles = []
    for start in list(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join([*path, nxt]))
                elif nxt not in path and len(path) < 8:
                    stack.append((nxt, [*path, nxt]))
    assert not cycles, "package cycles:\n" + "\n".join(sorted(set(cycles)))


def test_report_renders_only_the_shared_model() -> None:
    wrong = [
        f"{where}: report imports {name}"
        for unit, name, where in imports()
        if unit == "report" and (t := unit_of(name)) is not None and t != "report" and rank(t) < 3
        if REPORT_MAY_RENDER.get(where.rsplit(":", 1)[0]) != name
    ]
    wrong = [v for v in wrong if not known(v)]
    assert not wrong, "\n".join(wrong)


def test_checks_do_no_io() -> None:
    wrong = [
        f"{where}: {unit} imports {name}"
        for unit, name, where in imports()
        if unit in PURE and name.split(".")[0] in IO_MODULES
    ]
    assert not wrong, "\n".join(wrong)


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    """The walk itself: an adapter importing a capability is reported, relative imports too."""
    package = tmp_path / "graviton"
    for folder in ("index", "audit", "commands"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "commands" / "audit.py").write_text("from graviton.audit import run\n")
    (package / "audit" / "run.py").write_text("from ..index import client\nimport json\n")
    (package / "index" / "client.py").write_text("from graviton.audit.run import x\n")
    assert upward_imports(package) == [
        "graviton/index/client.py:1: index imports graviton.audit.run"
    ]


def test_known_violations_are_still_there() -> None:
    """An entry fixed (or moved) must leave the list, so that the list stays true."""
    found = {f"{where.rsplit(':', 1)[0]}: {unit} imports {name}" for unit, name, where in imports()}
    assert found >= KNOWN_VIOLATIONS, sorted(KNOWN_VIOLATIONS - found)

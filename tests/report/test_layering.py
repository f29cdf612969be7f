"""report/ sits above audit and gate: it may import both, neither may import it, and audit does
not import gate (the formats used to live in audit/ and import gate.model)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "graviton"


def imported_modules(folder: Path) -> set[str]:
    found: set[str] = set()
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("audit", ("graviton.gate", "graviton.report")), ("gate", ("graviton.report",))],
)
def test_lower_packages_do_not_import_report(package: str, forbidden: tuple[str, ...]) -> None:
    upward = sorted(
        name
        for name in imported_modules(PACKAGE / package)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )
    assert upward == []


def test_every_format_lives_in_report() -> None:
    assert not (PACKAGE / "audit" / "formats").exists()
    names = {p.stem for p in (PACKAGE / "report").glob("*.py")}
    assert {"text", "table", "jsondoc", "sarif", "junit", "markdown", "github"} <= names

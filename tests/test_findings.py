"""The one rule registry: every rule id the package emits is registered once, with its kind."""

from __future__ import annotations

import re
from pathlib import Path

from graviton.findings import RULES, Check, CheckKind, Location, Severity, rule_title

PACKAGE = Path(__file__).resolve().parents[1] / "graviton"
RULE_ID = re.compile(r"[\"'](G(?:RV|VD|VE|VI|VV)\d{3})[\"']")


def emitted_rule_ids() -> dict[str, str]:
    """Every quoted rule id in the package's source, with the first file that writes it."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for rule_id in RULE_ID.findall(path.read_text()):
            found.setdefault(rule_id, str(path.relative_to(PACKAGE.parent)))
    return found


def test_every_rule_id_in_the_code_is_registered() -> None:
    missing = {r: where for r, where in emitted_rule_ids().items() if r not in RULES}
    assert not missing, f"rule ids not in graviton.findings.RULES: {missing}"


def test_rules_are_registered_under_their_own_id_with_a_title() -> None:
    assert all(rule.id == key and rule.title for key, rule in RULES.items())
    prefixes = {key[:3] for key in RULES}
    assert prefixes == {"GRV", "GVD", "GVE", "GVI", "GVV"}


def test_a_check_knows_its_kind_and_location_from_the_rule_and_file() -> None:
    dockerfile = Check("GVD003", Severity.ERROR, "x", "svc/Dockerfile", 7)
    assert dockerfile.kind is CheckKind.DOCKERFILE and dockerfile.subject == "svc/Dockerfile"
    assert (
        dockerfile.location == Location("svc/Dockerfile", 7)
        and dockerfile.where == "svc/Dockerfile:7"
    )
    image = Check("GVI001", Severity.ERROR, "x", "pyproject.toml", 3, ref="r/app:1")
    assert image.kind is CheckKind.IMAGE and image.subject == "r/app:1"
    engine = Check("GVE005", Severity.WARNING, "slow")
    assert engine.kind is CheckKind.ENGINE and engine.location is None and engine.where == ""
    assert rule_title("GVD003") == "hard-coded x86 download" and rule_title("XYZ001") == "XYZ001"

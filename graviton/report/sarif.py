"""SARIF 2.1.0 for code-scanning UIs: one result per finding that does not install from a wheel.

Results point at the pin (file, line); ignored findings carry an external suppression; expired
ignore entries are results of their own. Packages that install appear in the run's counts only.
A gate report adds one result per Dockerfile finding (GVD rules, at the Dockerfile line) and per
failing image (GVI rules, at the file that names the image when one is known).
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from typing import Any
from urllib.parse import quote

from graviton import __version__
from graviton.findings import (
    EXPIRED_RULE,
    SCHEMA_VERSION,
    VERDICT_RULES,
    Check,
    CheckKind,
    Finding,
    Ignore,
    Location,
    Report,
    Rule,
    Verdict,
    rules_of,
)
from graviton.report._common import (
    Judged,
    Renderable,
    check_message,
    expired_text,
    fix_text,
    ignore_label,
    ignore_pins,
    pin_label,
    target_label,
)
from graviton.report.jsondoc import target_doc
from graviton.timeutil import utc_timestamp

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "gravitonFinding/v1"


def sarif_rule(rule: Rule) -> tuple[str, str, str, str]:
    """SARIF's name, short description, full description and help of a rule: what the registry
    says, the title (capitalised, CamelCased for the name) where it says no more."""
    name = rule.name or "".join(
        word[:1].upper() + word[1:] for word in rule.title.replace("/", " ").split()
    )
    short = rule.title[:1].upper() + rule.title[1:]
    return name, short, rule.full or rule.title, rule.help or "See the result's message."


def information_uri() -> str | None:
    """The project's home page from the installed package metadata, when it declares one."""
    try:
        meta = metadata.metadata("graviton")
    except metadata.PackageNotFoundError:
        return None
    entries: list[str] = meta.get_all("Project-URL") or []
    for entry in entries:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "source", "repository"):
            return url.strip()
    homes: list[str] = meta.get_all("Home-page") or []
    home = homes[0].strip() if homes else ""
    return home if home and home.lower() != "unknown" else None


def artifact_uri(path: str) -> str:
    """A relative URI with forward slashes (``file:`` URI for an absolute path)."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return "file://" + quote(posix)
    return quote(posix.removeprefix("./"))


def sarif_location(location: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(location.path)}}
    if location.line is not None:
        physical["region"] = {"startLine": location.line}
    return {"physicalLocation": physical}


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _rule_doc(rule: Rule, level: str) -> dict[str, Any]:
    name, short, full, help_text = sarif_rule(rule)
    return {
        "id": rule.id,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["graviton", "arm64", "dependencies"]},
    }


def suppressions(ignore: Ignore) -> list[dict[str, Any]]:
    """An accepted ignore entry as SARIF's external suppression."""
    return [
        {
            "kind": "external",
            "state": "accepted",
            "justification": f"{ignore.reason} (until {ignore.expires.isoformat()})",
        }
    ]


def _message(finding: Finding) -> str:
    pin = finding.pin
    text = (
        f"{pin_label(pin)} is {finding.verdict.value} on {target_label(finding.target)}: "
        f"{finding.reason.rstrip('.')}."
    )
    if finding.fix is not None:
        text += f" Fix: upgrade {pin.name} to {fix_text(finding.fix)}."
    elif finding.fix_note:
        text += f" Fix: {finding.fix_note}."
    elif finding.verdict in (Verdict.BLOCKED, Verdict.SOURCE):
        text += " No release with a compatible wheel was found."
    return text


def _result(judged: Judged, finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    rule = VERDICT_RULES[finding.verdict]
    pin = finding.pin
    result: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": rule_index[rule.id],
        "level": judged.level(finding),
        "message": {"text": _message(finding)},
        "locations": [sarif_location(pin.location)],
        "partialFingerprints": {
            FINGERPRINT: fingerprint(
                rule.id,
                pin.location.path,
                pin.key,
                pin.version or pin.specifier,
                finding.target.python_str,
            )
        },
        "properties": {
            "package": pin.name,
            "version": pin.version,
            "python": finding.target.python_str,
            "verdict": finding.verdict.value,
            "fix": None
            if finding.fix is None
            else {"min": finding.fix.min, "latest": finding.fix.latest},
        },
    }
    if finding.ignored is not None:
        result["suppressions"] = suppressions(finding.ignored)
    return result


def _expired_result(report: Report, ignore: Ignore, rule_index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": EXPIRED_RULE.id,
        "ruleIndex": rule_index[EXPIRED_RULE.id],
        "level": "error",
        "message": {"text": expired_text(ignore) + "."},
        "locations": [sarif_location(p.location) for p in ignore_pins(report, ignore)[:1]],
        "partialFingerprints": {
            FINGERPRINT: fingerprint(
                EXPIRED_RULE.id, ignore_label(ignore), ignore.expires.isoformat()
            )
        },
    }


def _check_result(judged: Judged, check: Check, rule_index: dict[str, int]) -> dict[str, Any]:
    loc = check.location
    result: dict[str, Any] = {
        "ruleId": check.rule,
        "ruleIndex": rule_index[check.rule],
        "level": judged.check_level(check),
        "message": {"text": check_message(check)},
        "locations": [sarif_location(loc)] if loc is not None else [],
        "partialFingerprints": {
            FINGERPRINT: fingerprint(check.rule, check.subject, str(loc or ""), check.message)
        },
        "properties": {"kind": check.kind.value, "severity": check.severity.value},
    }
    if check.ignored is not None:
        result["suppressions"] = suppressions(check.ignored)
    return result


def _gate_rules(judged: Judged) -> list[tuple[Rule, str]]:
    """Every Dockerfile and image rule (so a code-scanning UI can close fixed alerts) and the
    rules of any other kind of finding present (``gate --validate``'s GVV), with the default
    level its severity has against ``fail_on``."""
    threshold = judged.report.fail_on.severity
    ranks = {c.rule: c.rank for c in judged.checks}
    out = []
    kinds = (CheckKind.DOCKERFILE, CheckKind.IMAGE, *judged.other_kinds())
    for rule in (r for kind in kinds for r in rules_of(kind)):
        rank = ranks.get(rule.id, Verdict.BLOCKED.severity)
        out.append((rule, "error" if rank >= threshold else "warning"))
    return out


def document(report: Renderable) -> dict[str, Any]:
    judged = Judged(report)
    threshold = judged.report.fail_on.severity
    rule_levels = [
        (rule, "error" if verdict.severity >= threshold else "warning")
        for verdict, rule in VERDICT_RULES.items()
    ] + [(EXPIRED_RULE, "error")]
    if judged.gate is not None:
        rule_levels += _gate_rules(judged)
    rule_index = {rule.id: i for i, (rule, _) in enumerate(rule_levels)}
    rules = [_rule_doc(rule, level) for rule, level in rule_levels]
    driver: dict[str, Any] = {
        "name": "graviton",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": rules,
    }
    uri = information_uri()
    if uri:
        driver["informationUri"] = uri
    audit = judged.report
    results = [
        _result(judged, f, rule_index) for f in judged.findings if f.verdict in VERDICT_RULES
    ] + [_expired_result(audit, i, rule_index) for i in audit.expired_ignores]
    results += [_check_result(judged, c, rule_index) for c in judged.checks]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [
            {
                "executionSuccessful": True,
                "exitCode": judged.source.exit_code,
                "endTimeUtc": utc_timestamp(audit.generated),
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "schema": SCHEMA_VERSION,
            "targets": [target_doc(t) for t in audit.targets],
            "fail_on": audit.fail_on.value,
            "result": judged.result,
            "counts": judged.source.counts(),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: Renderable) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"

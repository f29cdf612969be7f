"""SARIF 2.1.0 for code-scanning UIs: one result per finding that does not install from a wheel.

Results point at the pin (file, line); ignored findings carry an external suppression; expired
ignore entries are results of their own. Packages that install appear in the run's counts only.
A gate report adds one result per Dockerfile finding (GVD rules, at the Dockerfile line) and per
failing image (GVI rules, at the file that names the image when one is known).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import quote

from graviton import __version__
from graviton.audit.model import SCHEMA_VERSION, Finding, Ignore, Location, Report, Verdict
from graviton.gate.model import Check, rule_title
from graviton.report._common import (
    Judged,
    Renderable,
    check_message,
    expired_text,
    fix_text,
    ignore_label,
    ignore_pins,
    iso_utc,
    pin_label,
    target_label,
)
from graviton.report.jsondoc import target_doc

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "gravitonFinding/v1"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    short: str
    full: str
    help: str


RULES = {
    Verdict.BLOCKED: Rule(
        "GRV001",
        "NoArm64Install",
        "No installable file for linux/aarch64",
        "The pinned release has neither a wheel for the target (architecture, Python, glibc or "
        "musl) nor an sdist: pip install fails on Graviton.",
        "Upgrade to the smallest version that ships a compatible wheel (the result names it), "
        "or ignore the finding with a reason and an expiry date while the package is replaced.",
    ),
    Verdict.SOURCE: Rule(
        "GRV002",
        "BuildsFromSource",
        "Builds from the sdist on linux/aarch64",
        "The pinned release has no compatible wheel, only an sdist: pip builds it on the target, "
        "which needs a compiler and headers when the project ships compiled code, and slows "
        "every image build.",
        "Upgrade to a version with a compatible wheel when one exists, or make sure the image "
        "has the build toolchain and the build succeeds on arm64.",
    ),
    Verdict.UNKNOWN: Rule(
        "GRV003",
        "CannotJudge",
        "Not on any index, or not pinned",
        "The package or the pinned version was not found on the configured indexes, or the "
        "requirement is not pinned to one version, so graviton cannot tell whether it installs.",
        "Pin an exact version, check the name and the --index-url / --extra-index-url settings.",
    ),
}
EXPIRED_RULE = Rule(
    "GRV004",
    "ExpiredIgnore",
    "Ignore entry has expired",
    "An entry of the ignore list is past its expiry date; expired entries fail the audit so that "
    "accepted risks are looked at again.",
    "Fix the package, or renew the entry with a new date and a reason.",
)

# The gate's other checks: what each rule means and how to fix it, beyond the result's own fix.
_CHECK_HELP = {
    "GVD001": (
        "A stage whose output ends up in the image starts from a base image whose registry "
        "index has no linux/arm64 variant: the arm64 build fails or pulls an x86 image.",
        "Pick a multi-arch base image or tag (docker buildx imagetools inspect IMAGE).",
    ),
    "GVD002": (
        "FROM --platform with a constant value pins a stage to one platform while its output "
        "is copied into every variant of the image.",
        "Drop --platform, or use --platform=$BUILDPLATFORM for a cross-compiling stage.",
    ),
    "GVD003": (
        "A RUN or ADD step downloads an artefact whose URL names an x86 architecture; the arm64 "
        "image gets an x86 binary and fails with exec format error.",
        "Declare ARG TARGETARCH in the stage and use it (or $(uname -m)) in the URL.",
    ),
    "GVD004": (
        "A platform ARG (TARGETARCH, TARGETPLATFORM...) is used in a stage that does not "
        "declare it, so it expands to an empty string.",
        "Add ARG TARGETARCH (or the ARG used) after the stage's FROM line.",
    ),
    "GVD005": (
        "curl without --fail saves an HTTP error page (a 404 for a missing arm64 artefact) as "
        "if it were the file, and the build goes on.",
        "Use curl -fsSL (or --fail).",
    ),
    "GVD006": (
        "A pip install -r FILE step installs packages that do not install on linux/aarch64.",
        "Upgrade the packages the result names (graviton audit FILE).",
    ),
    "GVI001": (
        "The image's index lacks a required platform (linux/arm64 for Graviton), or an index "
        "entry's config says another architecture: ECS tasks on Graviton fail with exec "
        "format error.",
        "Rebuild and push the image for every platform (graviton build --push).",
    ),
    "GVI002": (
        "The image reference was not found in its registry, so its platforms cannot be proven.",
        "Push the image or fix the reference.",
    ),
}


def check_rule(rule_id: str) -> Rule:
    """The SARIF rule for a Dockerfile or image rule id."""
    title = rule_title(rule_id)
    full, help_text = _CHECK_HELP.get(rule_id, (title, "See the result's message."))
    name = "".join(word[:1].upper() + word[1:] for word in title.replace("/", " ").split())
    return Rule(rule_id, name, title[:1].upper() + title[1:], full, help_text)


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
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "help": {"text": rule.help},
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
    elif finding.verdict in (Verdict.BLOCKED, Verdict.SOURCE):
        text += " No release with a compatible wheel was found."
    return text


def _result(judged: Judged, finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    rule = RULES[finding.verdict]
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
    """Every Dockerfile and image rule (so a code-scanning UI can close fixed alerts), with the
    default level its severity has against ``fail_on``."""
    from graviton.gate.model import IMAGE_RULES
    from graviton.image.dockerfile import RULES as DOCKERFILE_RULES

    threshold = judged.report.fail_on.severity
    ranks = {c.rule: c.rank for c in judged.checks}
    out = []
    for rule_id in (*DOCKERFILE_RULES, *IMAGE_RULES):
        rank = ranks.get(rule_id, Verdict.BLOCKED.severity)
        out.append((check_rule(rule_id), "error" if rank >= threshold else "warning"))
    return out


def document(report: Renderable) -> dict[str, Any]:
    judged = Judged(report)
    threshold = judged.report.fail_on.severity
    rule_levels = [
        (rule, "error" if verdict.severity >= threshold else "warning")
        for verdict, rule in RULES.items()
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
    results = [_result(judged, f, rule_index) for f in judged.findings if f.verdict in RULES] + [
        _expired_result(audit, i, rule_index) for i in audit.expired_ignores
    ]
    results += [_check_result(judged, c, rule_index) for c in judged.checks]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [
            {
                "executionSuccessful": True,
                "exitCode": judged.source.exit_code,
                "endTimeUtc": iso_utc(audit.generated),
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

"""JSON, versioned by its ``schema`` field and described by ``audit.schema.json`` beside it."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from graviton.findings import (
    SCHEMA_VERSION,
    Check,
    Finding,
    Ignore,
    ImageResult,
    Target,
    rule_title,
)
from graviton.report._common import Judged, Renderable, pin_url
from graviton.timeutil import utc_timestamp

SCHEMA_FILE = "audit.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every rendering validates against."""
    text = resources.files("graviton.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def target_doc(target: Target) -> dict[str, Any]:
    return {
        "python": target.python_str,
        "libc": target.libc,
        "libc_version": "{}.{}".format(*target.libc_version),
        "arch": target.arch,
        "name": target.name,
    }


def ignore_doc(ignore: Ignore) -> dict[str, Any]:
    return {"reason": ignore.reason, "expires": ignore.expires.isoformat()}


def package_doc(finding: Finding, failing: bool) -> dict[str, Any]:
    pin, fix = finding.pin, finding.fix
    doc = {
        "name": pin.name,
        "version": pin.version,
        "specifier": pin.specifier,
        "python": finding.target.python_str,
        "verdict": finding.verdict.value,
        "reason": finding.reason,
        "fix": None
        if fix is None
        else {"min": fix.min, "latest": fix.latest, "crosses_major": fix.crosses_major},
        "file": pin.location.path,
        "line": pin.location.line,
        "marker": pin.marker,
        "url": pin_url(pin),
        "wheel": finding.wheel,
        "index": finding.index_url,
        "ignored": None if finding.ignored is None else ignore_doc(finding.ignored),
        "failing": failing,
    }
    if finding.fix_note is not None:  # only there when a fix could not be proven
        doc["fix_note"] = finding.fix_note
    return doc


def check_doc(check: Check, failing: bool) -> dict[str, Any]:
    loc = check.location
    return {
        "kind": check.kind.value,
        "rule": check.rule,
        "title": rule_title(check.rule),
        "severity": check.severity.value,
        "message": check.message,
        "fix": check.fix,
        "subject": check.subject,
        "file": loc.path if loc else None,
        "line": loc.line if loc else None,
        "ignored": None if check.ignored is None else ignore_doc(check.ignored),
        "failing": failing,
    }


def image_doc(image: ImageResult) -> dict[str, Any]:
    loc = image.location
    return {
        "ref": image.ref,
        "required": list(image.required),
        "platforms": list(image.platforms),
        "digest": image.check.digest if image.check else None,
        "ok": image.ok,
        "error": image.error,
        "file": loc.path if loc else None,
        "line": loc.line if loc else None,
    }


def document(report: Renderable) -> dict[str, Any]:
    judged = Judged(report)
    doc = _audit_document(judged)
    if judged.gate is not None:
        gate = judged.gate
        doc["counts"] = gate.counts()
        doc["dockerfiles"] = [
            {"path": d, "findings": sum(1 for c in gate.checks if c.subject == d)}
            for d in gate.dockerfiles
        ]
        doc["images"] = [image_doc(i) for i in gate.images]
        doc["checks"] = [check_doc(c, judged.check_fails(c)) for c in gate.checks]
    return doc


def _audit_document(judged: Judged) -> dict[str, Any]:
    report = judged.report
    return {
        "schema": SCHEMA_VERSION,
        "generated": utc_timestamp(report.generated),
        "targets": [target_doc(t) for t in report.targets],
        "inputs": [
            {"path": m.path, "format": m.format, "pins": len(m.pins)} for m in report.manifests
        ],
        "fail_on": report.fail_on.value,
        "result": judged.result,
        "counts": report.counts(),
        "packages": [package_doc(f, judged.fails(f)) for f in judged.findings],
        "expired_ignores": [
            {"name": i.name, "version": i.version, **ignore_doc(i)} for i in report.expired_ignores
        ],
    }


def render(report: Renderable) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"

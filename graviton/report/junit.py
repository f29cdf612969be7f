"""JUnit XML for CI test reports (GitLab ``artifacts:reports:junit``, Jenkins, Azure).

One ``testsuite`` per target Python, one ``testcase`` per pin: ``failure`` when the finding fails
the audit, ``skipped`` for a false marker or an ignored finding; every testcase carries the full
verdict in ``system-out``. Expired ignore entries fail in a suite of their own. A gate report adds
a suite of Dockerfile findings (a passing testcase for each clean Dockerfile) and one of images.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from graviton.findings import Check, CheckKind, Finding, Target, Verdict
from graviton.report._common import (
    Judged,
    Renderable,
    check_message,
    check_title,
    check_where,
    expired_text,
    fix_cell,
    ignore_label,
    ignore_pins,
    ignored_text,
    image_status,
    pin_label,
    pin_url,
    target_label,
    text_line,
)
from graviton.timeutil import utc_timestamp

# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the file).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def details(finding: Finding) -> str:
    """The whole verdict as ``key: value`` lines."""
    pin = finding.pin
    rows = [
        ("package", pin_label(pin)),
        ("target", target_label(finding.target)),
        ("verdict", finding.verdict.value),
        ("reason", finding.reason),
        ("fix", fix_cell(finding)),
        ("location", str(pin.location)),
        ("marker", pin.marker or ""),
        ("url", pin_url(pin) or ""),
        ("wheel", finding.wheel or ""),
        ("index", finding.index_url or ""),
        ("ignored", ignored_text(finding.ignored) if finding.ignored else ""),
    ]
    return "".join(f"{k}: {text_line(v)}\n" for k, v in rows if v)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = clean(text)
    return el


def _testcase(suite: ET.Element, judged: Judged, finding: Finding) -> None:
    loc = finding.pin.location
    attrs = {"name": pin_label(finding.pin), "classname": loc.path, "file": loc.path, "time": "0"}
    if loc.line is not None:
        attrs["line"] = str(loc.line)
    case = _sub(suite, "testcase", **attrs)
    headline = f"{finding.verdict.value}: {text_line(finding.reason)}"
    if judged.fails(finding):
        _sub(case, "failure", details(finding), message=headline, type=finding.verdict.value)
    elif finding.ignored is not None:
        _sub(case, "skipped", message=ignored_text(finding.ignored))
    elif finding.verdict is Verdict.SKIPPED:
        _sub(case, "skipped", message=headline)
    _sub(case, "system-out", details(finding))


def _suite(parent: ET.Element, name: str, timestamp: str) -> ET.Element:
    return _sub(parent, "testsuite", name=name, timestamp=timestamp, time="0")


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": 0,
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        element.set(key, str(counts[key]))


def _by_target(judged: Judged, targets: Sequence[Target]) -> list[tuple[Target, list[Finding]]]:
    groups: dict[Target, list[Finding]] = {t: [] for t in targets}
    for f in judged.findings:
        groups.setdefault(f.target, []).append(f)
    return list(groups.items())


def _check_testcase(suite: ET.Element, judged: Judged, check: Check) -> None:
    loc = check.location
    attrs = {"name": f"{check_title(check)}: {check_where(check)}", "classname": check.subject}
    if check.kind is CheckKind.DOCKERFILE and loc is not None:
        attrs["file"] = loc.path
        if loc.line is not None:
            attrs["line"] = str(loc.line)
    case = _sub(suite, "testcase", **attrs, time="0")
    text = f"{check.severity.value} {check.rule}: {check_message(check)}\n"
    if judged.check_fails(check):
        _sub(case, "failure", text, message=text_line(check.message), type=check.rule)
    elif check.ignored is not None:
        _sub(case, "skipped", message=ignored_text(check.ignored))
    _sub(case, "system-out", text)


def _gate_suites(root: ET.Element, judged: Judged, stamp: str) -> None:
    if judged.dockerfiles:
        suite = _suite(root, "graviton gate: Dockerfiles", stamp)
        for check in judged.checks_of(CheckKind.DOCKERFILE):
            _check_testcase(suite, judged, check)
        for path in judged.clean_dockerfiles():
            case = _sub(suite, "testcase", name=path, classname=path, file=path, time="0")
            _sub(case, "system-out", "no arm64 problem found\n")
        _set_counts(suite, _count(suite))
    if judged.images or judged.checks_of(CheckKind.IMAGE):
        suite = _suite(root, "graviton gate: images", stamp)
        for check in judged.checks_of(CheckKind.IMAGE):
            _check_testcase(suite, judged, check)
        for image in (i for i in judged.images if i.ok):
            case = _sub(suite, "testcase", name=image.ref, classname=image.ref, time="0")
            _sub(case, "system-out", image_status(image) + "\n")
        _set_counts(suite, _count(suite))
    for kind in judged.other_kinds():
        suite = _suite(root, f"graviton gate: {kind.value}", stamp)
        for check in judged.checks_of(kind):
            _check_testcase(suite, judged, check)
        _set_counts(suite, _count(suite))


def render(report: Renderable) -> str:
    judged = Judged(report)
    command = judged.command
    report = judged.report
    stamp = utc_timestamp(report.generated)
    root = ET.Element("testsuites", {"name": command, "time": "0"})
    for target, findings in _by_target(judged, report.targets):
        suite = _suite(root, f"{command}: {target_label(target)}", stamp)
        props = _sub(suite, "properties")
        _sub(props, "property", name="target", value=target_label(target))
        _sub(props, "property", name="fail_on", value=report.fail_on.value)
        for finding in findings:
            _testcase(suite, judged, finding)
        _set_counts(suite, _count(suite))
    if report.expired_ignores:
        suite = _suite(root, f"{command}: ignore list", stamp)
        for ignore in report.expired_ignores:
            pins = ignore_pins(report, ignore)
            path = pins[0].location.path if pins else "ignore list"
            case = _sub(
                suite, "testcase", name=f"ignore {ignore_label(ignore)}", classname=path, time="0"
            )
            _sub(
                case, "failure", expired_text(ignore), message=expired_text(ignore), type="expired"
            )
        _set_counts(suite, _count(suite))
    _gate_suites(root, judged, stamp)
    totals = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    for suite in root.findall("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    _set_counts(root, totals)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"

"""What every output format says the same way: order, labels, levels and the summary.

Each format module lays these facts out in its own syntax; none decides anything itself. A format
renders an audit :class:`Report` or a gate :class:`GateReport` (the audit plus Dockerfile and
image findings) through one :class:`Judged` view, which sees an audit as a gate with no
Dockerfile, image or check: the audit part is the same either way.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from packaging.markers import InvalidMarker, Marker

from graviton.errors import one_line
from graviton.findings import (
    Check,
    CheckKind,
    Finding,
    Fix,
    GateReport,
    Ignore,
    ImageResult,
    Pin,
    Report,
    Target,
    Verdict,
    marker_environment,
    rule_title,
)
from graviton.index import redact

Renderable = Report | GateReport

# Every output format, in the order --help lists them; ``table`` is for terminals only.
FORMATS = ("table", "text", "json", "sarif", "junit", "markdown", "github")

# Most severe first: the order counts are listed in.
VERDICT_ORDER = (
    Verdict.BLOCKED,
    Verdict.UNKNOWN,
    Verdict.SOURCE,
    Verdict.NATIVE,
    Verdict.PURE,
    Verdict.SKIPPED,
)


def ordered(report: Report) -> list[Finding]:
    """The findings in report order: by file, line, package name, then target Python."""
    return sorted(report.findings, key=sort_key)


def sort_key(finding: Finding) -> tuple[str, int, str, tuple[int, int], str, str]:
    loc = finding.pin.location
    t = finding.target
    return (loc.path, loc.line or 0, finding.pin.key, t.python, t.libc, finding.pin.name)


class Judged:
    """A report with its failures indexed, so each format asks the same questions cheaply.

    ``report`` is always the audit's and ``source`` what was rendered; an audit is seen as a
    gate with no Dockerfile, image or check (``gate`` is None for it)."""

    def __init__(self, report: Renderable) -> None:
        self.source = report
        self.gate: GateReport | None = None
        if isinstance(report, GateReport):
            self.gate = whole = report
        else:
            whole = GateReport(audit=report)
        self.report = whole.audit
        self.findings = ordered(self.report)
        self._failing = {id(f) for f in self.report.failures}
        self.checks = whole.checks
        self.images = whole.images
        self.dockerfiles = whole.dockerfiles
        self.failing_checks = whole.failing_checks
        self._failing_checks = {id(c) for c in self.failing_checks}

    @property
    def command(self) -> str:
        """``graviton gate`` or ``graviton audit``: the title every format gives the report."""
        return "graviton gate" if self.gate is not None else "graviton audit"

    def check_fails(self, check: Check) -> bool:
        """True when this Dockerfile or image finding (not ignored, at or above ``fail_on``)
        fails the gate."""
        return id(check) in self._failing_checks

    def check_level(self, check: Check) -> str:
        """``error`` when it fails the gate, ``warning`` otherwise (below ``fail_on``, ignored)."""
        return "error" if self.check_fails(check) else "warning"

    def checks_of(self, kind: CheckKind) -> list[Check]:
        return [c for c in self.checks if c.kind is kind]

    def other_kinds(self) -> list[CheckKind]:
        """The kinds of the findings beyond the Dockerfile and image ones (``validate``: from
        ``gate --validate``), in the order they first appear: every format shows them too."""
        shown = (CheckKind.DOCKERFILE, CheckKind.IMAGE)
        return list(dict.fromkeys(c.kind for c in self.checks if c.kind not in shown))

    def clean_dockerfiles(self) -> list[str]:
        """The Dockerfiles checked that have no finding at all."""
        flagged = {c.subject for c in self.checks_of(CheckKind.DOCKERFILE)}
        return [d for d in self.dockerfiles if d not in flagged]

    def fails(self, finding: Finding) -> bool:
        """True when this finding (not ignored, at or above ``fail_on``) fails the audit."""
        return id(finding) in self._failing

    def level(self, finding: Finding) -> str:
        """``error`` when it fails the audit, ``warning`` for a non-wheel verdict that does not
        (below ``fail_on`` or ignored), ``note`` for everything that installs or is skipped."""
        if self.fails(finding):
            return "error"
        return "warning" if finding.verdict.severity > 0 else "note"

    @property
    def failed(self) -> bool:
        return self.source.exit_code != 0

    @property
    def result(self) -> str:
        return result(self.source)


def result(report: Renderable) -> str:
    """``fail`` when the audit (or gate) exits 1 (a failing finding or an expired ignore)."""
    return "fail" if report.exit_code else "pass"


def pin_label(pin: Pin) -> str:
    """``name==version`` (``===`` as pinned), ``name @ URL`` (credentials removed) or
    ``name<specifier>``."""
    if pin.version is not None:
        return f"{pin.name}{pin.pinned}"
    if pin.url is not None:
        return f"{pin.name} @ {redact(pin.url)}"
    return f"{pin.name}{pin.specifier}"


def pin_url(pin: Pin) -> str | None:
    return redact(pin.url) if pin.url is not None else None


def target_label(target: Target) -> str:
    """``linux/aarch64 Python 3.12 glibc 2.34`` plus the preset or image it came from."""
    return f"{target} ({target.name})" if target.name else str(target)


def fix_text(fix: Fix) -> str:
    """``>=1.2.6 (latest 1.7.9)``; says so when the smallest fix is a major upgrade."""
    notes = [] if fix.latest == fix.min else [f"latest {fix.latest}"]
    if fix.crosses_major:
        notes.append("major upgrade")
    return f">={fix.min}" + (f" ({', '.join(notes)})" if notes else "")


def fix_cell(finding: Finding) -> str:
    """The fix column: the upgrade, ``not proven (...)`` when a newer release could not be
    proven to run, ``none found`` for a non-wheel verdict without one, else ''."""
    if finding.fix is not None:
        return fix_text(finding.fix)
    if finding.fix_note:
        return finding.fix_note
    return "none found" if finding.verdict in (Verdict.BLOCKED, Verdict.SOURCE) else ""


def ignored_text(ignore: Ignore) -> str:
    return f"ignored until {ignore.expires.isoformat()}: {text_line(ignore.reason)}"


def ignore_label(ignore: Ignore) -> str:
    return f"{ignore.name}=={ignore.version}" if ignore.version else ignore.name


def expired_text(ignore: Ignore) -> str:
    return (
        f"ignore entry for {ignore_label(ignore)} expired on {ignore.expires.isoformat()} "
        f"({text_line(ignore.reason)}): renew or remove it"
    )


def ignore_pins(report: Report, ignore: Ignore) -> list[Pin]:
    """The pins an (expired) ignore entry names, in report order, each once."""
    seen: dict[Pin, None] = {}
    for f in ordered(report):
        if ignore.matches(f.pin):
            seen.setdefault(f.pin)
    return list(seen)


def x86_only(finding: Finding) -> bool:
    """A skipped pin whose marker holds on linux/x86_64: the service loses it on Graviton."""
    if finding.verdict is not Verdict.SKIPPED or not finding.pin.marker:
        return False
    try:
        marker = Marker(finding.pin.marker)
    except InvalidMarker:
        return False
    return marker.evaluate(marker_environment(finding.target, "x86_64"))


def printable(text: str) -> str:
    """Control characters (a terminal escape in a package's metadata) shown as U+FFFD."""
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)


def text_line(text: str) -> str:
    """Free text on one line with single spaces, so line-based formats stay line-based: every
    word kept (a report is not cut), control characters shown as U+FFFD."""
    return one_line(printable(text), limit=sys.maxsize)


def counts_text(counts: dict[str, int]) -> str:
    parts = [f"{counts.get(v.value, 0)} {v.value}" for v in VERDICT_ORDER]
    return ", ".join(p for p in parts if not p.startswith("0 ")) or "no packages"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {words or word + 's'}"


def summary_line(report: Renderable) -> str:
    """``FAIL  7 pins on 2 targets: 2 blocked, 5 native  (fail-on blocked: 2 failing, ...)``;
    a gate adds ``; 2 Dockerfiles: 1 error; 1 image: 1 failing`` before the parenthesis."""
    judged = Judged(report)
    audit = judged.report
    pins = len({f.pin for f in audit.findings})
    ignored = sum(1 for f in audit.findings if f.ignored is not None)
    ignored += sum(1 for c in judged.checks if c.ignored is not None)
    failing = len(audit.failures) + len(judged.failing_checks)
    scope = f"{plural(pins, 'pin')} on {plural(len(audit.targets), 'target')}"
    parts = [f"{scope}: {counts_text(audit.counts())}"]
    if judged.gate is not None:
        parts.append(checks_text(judged.gate))
    gate = [f"{failing} failing"]
    if ignored:
        gate.append(f"{ignored} ignored")
    if audit.expired_ignores:
        n = len(audit.expired_ignores)
        gate.append(plural(n, "expired ignore entry", "expired ignore entries"))
    return (
        f"{result(report).upper()}  {'; '.join(parts)}  "
        f"(fail-on {audit.fail_on.value}: {', '.join(gate)})"
    )


def checks_text(report: GateReport) -> str:
    """``2 Dockerfiles: 1 error, 1 warning; 1 image: 1 failing`` (``0 images``...)."""
    counts = report.counts()
    found = [
        plural(counts["dockerfile_errors"], "error"),
        plural(counts["dockerfile_warnings"], "warning"),
    ]
    found = [f for f in found if not f.startswith("0 ")] or ["no findings"]
    images = plural(counts["images"], "image")
    if counts["images"]:
        images += f": {counts['images_failing']} failing"
    return f"{plural(len(report.dockerfiles), 'Dockerfile')}: {', '.join(found)}; {images}"


def check_title(check: Check) -> str:
    """``GVD003 hard-coded x86 download``."""
    return f"{check.rule} {rule_title(check.rule)}"


def check_message(check: Check) -> str:
    """The finding on one line, with its fix."""
    text = text_line(check.message)
    return text + (f" (fix: {text_line(check.fix)})" if check.fix else "")


def check_where(check: Check) -> str:
    """``Dockerfile:7`` for a Dockerfile finding, the reference for an image's (GVI, GVV)."""
    if check.ref is not None or check.location is None:
        return check.subject
    return str(check.location)


def image_status(image: ImageResult) -> str:
    """``ok`` or ``fails``, then what the registry holds."""
    if image.check is None:
        return f"not found: {text_line(image.error or 'no such image')}"
    have = ", ".join(image.platforms) or "no platform"
    return ("ok" if image.ok else "fails") + f": has {have}"


def severity_word(check: Check) -> str:
    return check.severity.value


def x86_note(findings: Iterable[Finding]) -> str | None:
    """One line naming the x86-only marker lines that are skipped on the target, if any."""
    hits = [f for f in findings if x86_only(f)]
    if not hits:
        return None
    names = sorted({f"{f.pin.name} ({f.pin.location})" for f in hits})
    them = "it" if len(names) == 1 else "them"
    return (
        f"note: {plural(len(names), 'x86-only marker line')} not installed on "
        f"linux/{hits[0].target.arch}: {', '.join(names)}; "
        f"check that nothing imports {them} unconditionally"
    )

"""``graviton validate``'s report in every output format (text, json, sarif, junit, markdown,
github), with the escaping helpers of the audit's formats beside it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from typing import Any

from graviton import __version__
from graviton.errors import UsageError, one_line
from graviton.findings import RULES as FINDING_RULES
from graviton.findings import Rule
from graviton.report._common import FORMATS as ALL_FORMATS
from graviton.report.github import command as gh_command
from graviton.report.junit import clean
from graviton.report.markdown import escape
from graviton.report.sarif import SARIF_SCHEMA, fingerprint, information_uri
from graviton.timeutil import utc_timestamp
from graviton.validate.model import RULE_IDS, SCHEMA_VERSION, DistributionResult, Report, Status

FORMATS = tuple(f for f in ALL_FORMATS if f != "table")  # a validate report has no table
SCHEMA_FILE = "validate.schema.json"

# The rule (graviton.findings.RULES) of each failing status, in SARIF's rule order.
RULES: dict[Status, Rule] = {status: FINDING_RULES[rule] for status, rule in RULE_IDS.items()}


def schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of ``--format json``."""
    text = resources.files("graviton.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def cpu_label(report: Report) -> str:
    cpu = report.cpu
    kind = "" if cpu.exact else ", a superset"
    return f"{cpu.generation.value} (QEMU_CPU={cpu.qemu_cpu}{kind})"


def summary_line(report: Report) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    line = (
        f"{report.result.upper()}: {len(report.distributions)} distributions "
        f"({counts or 'none'}) on {cpu_label(report)} in {_duration(report.seconds)}"
    )
    if report.run is not None:
        line += f"; --run {report.run.status.value}: {report.run.detail}"
    if report.error is not None:
        line += f"; error: {report.error}"
    return line


def _label(dist: DistributionResult) -> str:
    return f"{dist.name} {dist.version}".strip()


# -- text ------------------------------------------------------------------------------------------
def text(report: Report) -> str:
    width = max([len(_label(d)) for d in report.distributions] + [10])
    lines = [f"graviton validate {report.image}", f"  ran {report.ref} on {cpu_label(report)}"]
    lines.append(f"  CPU: {report.cpu_source}; {report.cpu.note}")
    for dist in report.distributions:
        lines.append(f"{dist.status.value:<15} {_label(dist):<{width}}  {one_line(dist.detail)}")
    if report.run is not None:
        run = report.run
        lines.append(f"{run.status.value:<15} --run {run.command}: {run.detail}")
        if run.status is not Status.OK and run.tail:
            lines += [f"    | {line}" for line in run.tail.splitlines()[-10:]]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


# -- json ------------------------------------------------------------------------------------------
def document(report: Report) -> dict[str, Any]:
    seen = report.seen
    run = report.run
    return {
        "schema": SCHEMA_VERSION,
        "generated": utc_timestamp(report.generated),
        "image": report.image,
        "ref": report.ref,
        "platform": report.platform,
        "cpu": {
            "generation": report.cpu.generation.value,
            "qemu_cpu": report.cpu.qemu_cpu,
            "core": report.cpu.core,
            "exact": report.cpu.exact,
            "source": report.cpu_source,
            "note": report.cpu.note,
            "seen": None
            if seen is None
            else {
                "machine": seen.machine,
                "python": seen.python,
                "hwcap": seen.hwcap,
                "hwcap2": seen.hwcap2,
                "sve": seen.sve,
                "sve2": seen.sve2,
                "sve_vector_bits": seen.sve_vector_bits,
            },
        },
        "result": report.result,
        "error": report.error,
        "seconds": round(report.seconds, 3),
        "counts": report.counts(),
        "distributions": [
            {
                "name": d.name,
                "version": d.version,
                "status": d.status.value,
                "detail": d.detail,
                "location": d.location,
                "files": d.files,
                "native": d.native,
                "foreign": [
                    {"path": e.path, "machine": e.machine, "machine_name": e.machine_name}
                    for e in d.foreign
                ],
                "modules": [
                    {
                        "module": m.module,
                        "status": m.status.value,
                        "detail": m.detail,
                        "signal": m.signal,
                        "seconds": round(m.seconds, 3),
                    }
                    for m in d.modules
                ],
            }
            for d in report.distributions
        ],
        "run": None
        if run is None
        else {
            "command": run.command,
            "status": run.status.value,
            "exit_code": run.exit_code,
            "signal": run.signal,
            "detail": run.detail,
            "tail": run.tail,
            "seconds": round(run.seconds, 3),
        },
    }


def json_doc(report: Report) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"


# -- sarif -----------------------------------------------------------------------------------------
def _problems(report: Report) -> list[tuple[Status, str, str, str]]:
    """(status, subject, message, path inside the image) per failing result."""
    out = []
    for dist in report.failing:
        path = dist.foreign[0].path if dist.foreign else dist.location
        out.append((dist.status, _label(dist), f"{_label(dist)}: {dist.detail}", path))
    if report.run is not None and report.run_failed:
        run = report.run
        out.append((run.status, f"--run {run.command}", f"--run {run.command!r}: {run.detail}", ""))
    return out


def sarif(report: Report) -> str:
    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": status.value},
            "fullDescription": {"text": rule.full},
            "help": {"text": rule.help},
            "defaultConfiguration": {"level": "error"},
        }
        for status, rule in RULES.items()
    ]
    index = {status: i for i, status in enumerate(RULES)}
    results = []
    for status, subject, message, path in _problems(report):
        location = {
            "physicalLocation": {"artifactLocation": {"uri": path.lstrip("/") or report.ref}},
            "logicalLocations": [{"name": subject, "kind": "module"}],
        }
        results.append(
            {
                "ruleId": RULES[status].id,
                "ruleIndex": index[status],
                "level": "error",
                "message": {"text": f"{message} ({report.ref} on {cpu_label(report)})"},
                "locations": [location],
                "partialFingerprints": {
                    "gravitonValidate/v1": fingerprint(RULES[status].id, report.image, subject)
                },
            }
        )
    driver: dict[str, Any] = {"name": "graviton validate", "version": __version__, "rules": rules}
    uri = information_uri()
    if uri:
        driver["informationUri"] = uri
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "results": results,
        "invocations": [{"executionSuccessful": report.error is None}],
        "properties": {"schema": SCHEMA_VERSION, "result": report.result, **report.counts()},
    }
    if report.error is not None:
        notification = {"level": "error", "message": {"text": report.error}}
        run["invocations"][0]["toolExecutionNotifications"] = [notification]
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- junit -----------------------------------------------------------------------------------------
def _case(suite: ET.Element, name: str, status: Status, detail: str, body: str) -> None:
    case = ET.SubElement(suite, "testcase", {"name": clean(name), "classname": "validate"})
    if status is not Status.OK:
        failure = ET.SubElement(case, "failure", {"message": clean(detail), "type": status.value})
        failure.text = clean(body)
    out = ET.SubElement(case, "system-out")
    out.text = clean(body)


def junit(report: Report) -> str:
    root = ET.Element("testsuites", {"name": "graviton validate"})
    suite = ET.SubElement(
        root, "testsuite", {"name": f"graviton validate: {report.image} on {cpu_label(report)}"}
    )
    for dist in report.distributions:
        mods = "".join(f"{m.module}: {m.status.value} {m.detail}\n" for m in dist.modules)
        foreign = "".join(f"{e.machine_name} ELF: {e.path}\n" for e in dist.foreign)
        body = f"{dist.status.value}: {dist.detail}\n{mods}{foreign}"
        _case(suite, _label(dist), dist.status, one_line(dist.detail), body)
    if report.run is not None:
        run = report.run
        _case(suite, f"--run {run.command}", run.status, run.detail, f"{run.detail}\n{run.tail}")
    if report.error is not None:
        case = ET.SubElement(suite, "testcase", {"name": "validate", "classname": "validate"})
        ET.SubElement(case, "error", {"message": clean(report.error)}).text = clean(report.error)
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": 0,
    }
    for element in (suite, root):
        for key, value in counts.items():
            element.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


# -- markdown / github -----------------------------------------------------------------------------
def markdown(report: Report) -> str:
    lines = [
        f"## graviton validate: {report.result.upper()}",
        "",
        f"{escape(report.ref)} on {escape(cpu_label(report))}",
        "",
        escape(summary_line(report)),
        "",
        "| distribution | status | detail |",
        "| --- | --- | --- |",
    ]
    for dist in report.distributions:
        status = dist.status.value if dist.ok else f"**{dist.status.value}**"
        lines.append(f"| {escape(_label(dist))} | {status} | {escape(dist.detail)} |")
    if report.run is not None:
        run = report.run
        lines += [
            "",
            f"`--run` {escape(run.command)}: **{run.status.value}**, {escape(run.detail)}",
        ]
        if run.tail:
            lines += ["", "```", run.tail.replace("```", "'''"), "```"]
    return "\n".join(lines) + "\n"


def github(report: Report) -> str:
    lines = [
        gh_command("error", message, None, f"graviton validate: {status.value}")
        for status, _subject, message, _path in _problems(report)
    ]
    if report.error is not None:
        lines.append(gh_command("error", report.error, None, "graviton validate: error"))
    lines.append("graviton validate: " + summary_line(report))
    return "\n".join(lines) + "\n"


_RENDERERS = {
    "text": text,
    "json": json_doc,
    "sarif": sarif,
    "junit": junit,
    "markdown": markdown,
    "github": github,
}


def render(report: Report, fmt: str) -> str:
    try:
        return _RENDERERS[fmt](report)
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}") from None

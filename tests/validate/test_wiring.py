"""validate as build and gate reuse it, without an engine: the one Request maker, the report's
findings (GVV001-GVV005) and every gate format showing them, and the usage refusals of
``build --validate`` / ``gate --validate`` (exit 2, one line, nothing built)."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from graviton import report as formats
from graviton.errors import UsageError
from graviton.findings import (
    IMAGE_PLATFORMS_RULE,
    Check,
    GateReport,
    Location,
    Report,
    Severity,
    Target,
    Verdict,
)
from graviton.gate.model import apply_check_ignores
from graviton.instances import Generation
from graviton.report import jsondoc
from graviton.report._common import FORMATS
from graviton.validate.cpu import CPU_MODELS
from graviton.validate.findings import report_checks
from graviton.validate.model import DistributionResult, ModuleResult, RunResult, Status
from graviton.validate.model import Report as ValidateReport
from graviton.validate.request import make_request
from tests.image.conftest import graviton

IMAGE = "localhost:5000/app:1"
REF = "localhost:5000/app@sha256:" + "a" * 64


# -- the one Request maker -------------------------------------------------------------------------
def test_make_request_defaults_to_graviton2_and_parses_every_option() -> None:
    request = make_request(IMAGE)
    assert (request.image, request.platform) == (IMAGE, "linux/arm64")
    assert request.cpu == CPU_MODELS[Generation.GRAVITON2]
    assert request.cpu_source == "default --cpu graviton2"
    assert (request.run, request.timeout, request.import_timeout) == (None, 600.0, 120.0)
    run = "pytest -m 'smoke and fast'"
    request = make_request(IMAGE, "graviton3", None, None, run, "90s", "5s")
    assert request.cpu.qemu_cpu == "max,sve256=on" and request.cpu_source == "--cpu graviton3"
    assert request.run == ("pytest", "-m", "smoke and fast")
    assert request.run_text == "pytest -m 'smoke and fast'"
    assert (request.timeout, request.import_timeout) == (90.0, 5.0)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"run_command": "echo 'open", "run_option": "--validate-run"}, "--validate-run: cannot"),
        ({"run_command": "   "}, "--run: empty command"),
        ({"cpu": "graviton3", "cluster": "prod"}, "use them with --cpu auto"),
        ({"cpu": "auto"}, "--cpu auto needs --cluster"),
        ({"cpu": "graviton9"}, "--cpu graviton9"),
        ({"timeout": "soon"}, "not a duration"),
        ({"import_timeout": "0s"}, "greater than 0"),
    ],
)
def test_make_request_refuses_bad_options(kwargs: dict[str, str], words: str) -> None:
    with pytest.raises(UsageError, match=words.replace("(", r"\(")):
        make_request(IMAGE, **kwargs)  # type: ignore[arg-type]


# -- a validate report as findings -----------------------------------------------------------------
def _dist(name: str, status: Status, detail: str, module: str | None = None) -> DistributionResult:
    modules = (ModuleResult(module, status, detail, 0.5),) if module else ()
    return DistributionResult(name, "1.0", status, detail, modules, (), 0, 3, "/site")


def _report(*dists: DistributionResult, run: RunResult | None = None) -> ValidateReport:
    return ValidateReport(
        image=IMAGE,
        ref=REF,
        platform="linux/arm64",
        cpu=CPU_MODELS[Generation.GRAVITON2],
        cpu_source="--cpu graviton2",
        distributions=dists,
        run=run,
        seen=None,
        error=None,
        seconds=4.0,
        generated=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )


FAILING = _report(
    _dist("okpkg", Status.OK, "1 module imported", "okpkg"),
    _dist("sve", Status.CRASHED, "import sve: illegal instruction: built for...", "sve"),
    _dist("driver", Status.FOREIGN_BINARY, "x86-64 ELF in an arm64 image: /x/driver"),
    _dist("broken", Status.IMPORT_ERROR, "import broken: ImportError: needs libgvt", "broken"),
    _dist("slow", Status.TIMEOUT, "import slow: no answer in 8s", "slow"),
    run=RunResult("pytest -m smoke", Status.FAILED, 1, None, "exited 1", "1 failed", 2.0),
)


def test_each_failing_result_is_one_error_finding_of_its_rule() -> None:
    checks = report_checks(FAILING)
    assert [c.rule for c in checks] == ["GVV001", "GVV002", "GVV003", "GVV004", "GVV005"]
    assert {c.severity for c in checks} == {Severity.ERROR}
    assert {c.ref for c in checks} == {IMAGE}
    broken = checks[2]
    assert broken.message.startswith("broken 1.0 [broken]: import broken: ImportError: needs")
    assert "neoverse-n1" in broken.message and REF in broken.message
    assert broken.fix and "missing shared library" in broken.fix
    assert checks[4].message.startswith("--run 'pytest -m smoke': exited 1")
    assert (broken.path, broken.line) == (None, None)
    anchored = report_checks(FAILING, Location("Dockerfile"))
    assert {c.path for c in anchored} == {"Dockerfile"}


def test_a_passing_report_has_no_findings_and_a_crashed_run_is_gvv001() -> None:
    assert report_checks(_report(_dist("ok", Status.OK, "", "ok"))) == ()
    crashed = RunResult("app", Status.CRASHED, None, 4, "illegal instruction", "", 1.0)
    assert [c.rule for c in report_checks(_report(run=crashed))] == ["GVV001"]


def _gate() -> GateReport:
    audit = Report(targets=(Target(),), manifests=(), findings=(), fail_on=Verdict.BLOCKED)
    # gate --validate on an image without an arm64 variant: a GVI001 finding, no --image result
    no_arm64 = Check(
        IMAGE_PLATFORMS_RULE, Severity.ERROR, "--validate r/x:1: lacks linux/arm64", ref="r/x:1"
    )
    return GateReport(audit=audit, checks=(*report_checks(FAILING), no_arm64))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_gate_format_shows_the_validate_findings(fmt: str) -> None:
    """No format-specific code: the findings are the shared model's Check entries. (The SARIF
    writer raised KeyError for a GVV rule, JUnit and Markdown dropped them.)"""
    report = _gate()
    assert report.exit_code == 1
    out = formats.render(report, fmt, width=400)
    for rule in ("GVV001", "GVV003", "GVV005", "GVI001"):
        assert rule in out, (fmt, out)
    assert "ImportError: needs libgvt" in out
    if fmt == "sarif":
        run = json.loads(out)["runs"][0]
        rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
        for result in run["results"]:
            assert rules[result["ruleIndex"]] == result["ruleId"]
        assert {r["ruleId"] for r in run["results"]} >= {"GVV001", "GVV003", "GVV005"}
    if fmt == "json":  # the published gate schema admits them
        jsonschema.validate(json.loads(out), jsondoc.schema())
    if fmt == "junit":
        failures = ET.fromstring(out).iter("failure")
        assert {f.get("type") for f in failures} >= {"GVV002", "GVV003", "GVV004"}


def test_a_gvv_finding_can_be_ignored_by_rule_and_image() -> None:
    from graviton.config import IgnoreEntry
    from graviton.findings import Ignore

    entry = IgnoreEntry(name="GVV003", version=IMAGE, reason="known", expires=dt.date(2027, 1, 1))
    ignore = Ignore.of(entry)
    marked = apply_check_ignores(report_checks(FAILING), [ignore], dt.date(2026, 11, 30))
    assert [c.rule for c in marked if c.ignored is not None] == ["GVV003"]


# -- usage refusals (nothing built, nothing run) ---------------------------------------------------
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("build", "--validate", "-t", "localhost:5000/x:1", "."), "--validate needs --push"),
        (
            ("build", "--validate", "--push", "--platform", "linux/amd64", "-t", "r/x:1", "."),
            "add it to --platform",
        ),
        (("build", "--cpu", "graviton3", "-t", "localhost:5000/x:1", "."), "need --validate"),
        (("build", "--all", "--push", "--validate"), "--platform of [tool.graviton.images.x86]"),
        (
            ("build", "--validate", "--push", "--validate-run", "", "-t", "r/x:1", "."),
            "--validate-run: empty command",
        ),
        (("gate", "--validate-timeout", "5m"), "need --validate IMAGE"),
        (("gate", "--validate", "r/x:1", "--cpu", "graviton2", "--cluster", "c"), "--cpu auto"),
    ],
)
def test_usage_refusals_exit_2_with_one_line(
    args: tuple[str, ...], words: str, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.graviton.images.api]\ntags = ["r/api:1"]\n'
        '[tool.graviton.images.x86]\ntags = ["r/x86:1"]\nplatforms = ["linux/amd64"]\n'
    )
    result = graviton(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr

"""The gate's pure parts: ranks against --fail-on, ignore entries for rules, discovery."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graviton.checks.image import ImageCheck
from graviton.findings import (
    Check,
    GateReport,
    Ignore,
    ImageResult,
    Report,
    Severity,
    Target,
    Verdict,
)
from graviton.gate import discover
from graviton.gate.model import apply_check_ignores, image_check
from graviton.oci.manifest import PlatformEntry

TODAY = dt.date(2026, 11, 27)


def check(rule: str, severity: Severity, subject: str = "Dockerfile") -> Check:
    return Check(rule, severity, "msg", subject, 3)


def gate(fail_on: Verdict, *checks: Check) -> GateReport:
    audit = Report(targets=(Target(),), manifests=(), findings=(), fail_on=fail_on)
    return GateReport(audit=audit, dockerfiles=("Dockerfile",), checks=checks)


@pytest.mark.parametrize(
    ("fail_on", "severity", "fails"),
    [
        (Verdict.BLOCKED, Severity.ERROR, True),
        (Verdict.BLOCKED, Severity.WARNING, False),
        (Verdict.UNKNOWN, Severity.WARNING, False),
        (Verdict.SOURCE, Severity.WARNING, True),
    ],
)
def test_errors_rank_with_blocked_and_warnings_with_source(
    fail_on: Verdict, severity: Severity, fails: bool
) -> None:
    report = gate(fail_on, check("GVD003", severity))
    assert report.exit_code == int(fails)
    assert report.counts()["failing"] == int(fails)


def test_ignore_by_rule_and_optionally_one_subject() -> None:
    checks = [check("GVD005", Severity.ERROR, "a/Dockerfile"), check("GVD005", Severity.ERROR)]
    scoped = Ignore("GVD005", "reason", dt.date(2027, 1, 1), version="a/Dockerfile")
    out = apply_check_ignores(checks, [scoped], TODAY)
    assert [c.ignored is not None for c in out] == [True, False]
    every = Ignore("gvd005", "reason", dt.date(2027, 1, 1))
    assert all(c.ignored for c in apply_check_ignores(checks, [every], TODAY))
    expired = Ignore("GVD005", "reason", dt.date(2026, 1, 1))
    assert not any(c.ignored for c in apply_check_ignores(checks, [expired], TODAY))
    assert gate(Verdict.BLOCKED, *out).exit_code == 1


def test_image_checks() -> None:
    amd64 = PlatformEntry("linux/amd64", "sha256:a", False)
    arm64 = PlatformEntry("linux/arm64", "sha256:b", False)
    required = ("linux/amd64", "linux/arm64")
    good = ImageCheck("r/app:1", "sha256:i", (amd64, arm64), required, (), True)
    bad = ImageCheck("r/app:2", "sha256:j", (amd64,), required, ("linux/arm64",), True)
    assert image_check(ImageResult("r/app:1", required, good)) is None
    found = image_check(ImageResult("r/app:2", required, bad))
    assert found is not None and found.rule == "GVI001" and "lacks linux/arm64" in found.message
    gone = image_check(ImageResult("r/app:3", required, None, error="r/app:3: not found"))
    assert gone is not None and gone.rule == "GVI002" and gone.severity is Severity.ERROR


def test_discovery_skips_what_is_not_the_service(tmp_path: Path) -> None:
    for name in (
        "requirements.txt",
        "svc/uv.lock",
        "svc/Dockerfile",
        "svc/worker.Dockerfile",
        "svc/Dockerfile.prod",
        "svc/Containerfile",
        "svc/Dockerfile.md",
        "svc/Dockerfile.dockerignore",
        "svc/Dockerfile.j2",
        "venv2/pyvenv.cfg",
        "venv2/requirements.txt",
        "pkg.egg-info/requirements.txt",
        "dist/Dockerfile",
        ".tox/py/requirements.txt",
        "tests/fixtures/requirements.txt",
        "tests/fixtures/Dockerfile",
        "tools/pyproject.toml",
        "lib/pyproject.toml",
    ):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (tmp_path / "svc/uv.lock").write_text("version = 1\n")
    (tmp_path / "tools/pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    (tmp_path / "lib/pyproject.toml").write_text("[project]\nname = 'lib'\n")
    rel = [p.relative_to(tmp_path).as_posix() for p in discover.lock_files(tmp_path, ["tests"])]
    assert rel == ["requirements.txt", "lib/pyproject.toml", "svc/uv.lock"]
    rel = [p.relative_to(tmp_path).as_posix() for p in discover.dockerfiles(tmp_path, ["tests/*"])]
    assert rel == [
        "svc/Containerfile",
        "svc/Dockerfile",
        "svc/Dockerfile.prod",
        "svc/worker.Dockerfile",
    ]

"""A ``===`` pin (PEP 440 arbitrary equality) is shown with its own operator in every format that
names the pin; a ``==`` pin keeps ``==``."""

from __future__ import annotations

import datetime as dt

import pytest

from graviton import report as formats
from graviton.findings import Finding, Location, Manifest, Pin, Report, Target, Verdict

TARGET = Target(python=(3, 12))


def one_pin_report(pin: Pin) -> Report:
    finding = Finding(pin, TARGET, Verdict.BLOCKED, "no linux/aarch64 wheel")
    manifest = Manifest(path="requirements.txt", format="requirements", pins=(pin,))
    return Report(
        targets=(TARGET,),
        manifests=(manifest,),
        findings=(finding,),
        generated=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize("fmt", ["text", "table", "markdown", "junit", "github", "sarif"])
def test_arbitrary_equality_is_shown_as_written(fmt: str) -> None:
    legacy = Pin(
        "legacy", "1.0-custom", Location("requirements.txt", 2), "===1.0-custom", arbitrary=True
    )
    out = formats.render(one_pin_report(legacy), fmt, width=300)
    assert "===1.0-custom" in out
    exact = Pin("numpy", "1.26.4", Location("requirements.txt", 1), "==1.26.4")
    out = formats.render(one_pin_report(exact), fmt, width=300)
    assert "===1.26.4" not in out

"""Against the real PyPI: a pure pin blocked by the x86 code inside gets no fix that was not
looked into (debugpy's and chromedriver-py's newer pure wheels carry x86 code as well)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.test_network import PYPI, audit_json

pytestmark = pytest.mark.network


@pytest.mark.parametrize(
    ("pin", "member"),
    [
        ("debugpy==1.6.7", "attach_linux_amd64.so"),
        ("chromedriver-py==140.0.7339.80", "chromedriver_linux64"),
    ],
)
def test_no_unproven_fix_for_a_pure_wheel_with_x86_code(
    pin: str, member: str, tmp_path: Path
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(pin + "\n")
    code, doc, err = audit_json(str(req), "--python", "3.11", "--index-url", PYPI, "--no-cache")
    assert code == 1, err
    (pkg,) = doc["packages"]  # type: ignore[index]
    assert pkg["verdict"] == "blocked"
    assert member in pkg["reason"]
    # every newer release is pure and x86-only (as of 2026): the ones looked into are named,
    # and nothing is claimed for the ones between
    assert pkg["fix"] is None
    assert pkg["fix_note"].startswith("not proven (looked inside the newer wheels of ")
    assert pkg["fix_note"].endswith(
        "each carries x86-only code; the releases between were not looked into)"
    )

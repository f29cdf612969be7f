"""The real PyPI: chromedriver-py 157.0.8103.15b0 is ``py3-none-any`` and ships an x86-64 ELF."""

from __future__ import annotations

import pytest
import requests

from graviton.checks.binaries import Arch, classify, header_bytes_needed, judge_natives
from graviton.index.remote_zip import inspect_wheel

pytestmark = pytest.mark.network

SIMPLE = "https://pypi.org/simple/chromedriver-py/"
WHEEL = "chromedriver_py-157.0.8103.15b0-py3-none-any.whl"


def test_chromedriver_py_is_flagged_from_a_few_ranges_of_its_50_mb_wheel() -> None:
    with requests.Session() as session:
        page = session.get(
            SIMPLE, headers={"Accept": "application/vnd.pypi.simple.v1+json"}, timeout=30
        )
        page.raise_for_status()
        (file,) = [f for f in page.json()["files"] if f["filename"] == WHEEL]
        result = inspect_wheel(file["url"], session, needs=header_bytes_needed)
    print(f"\n{WHEEL}: {result.bytes_read} bytes in {result.requests} requests of {result.size}")
    assert result.complete, result.why
    assert result.size == file["size"] and result.size > 40_000_000
    assert result.bytes_read < 1_000_000
    check = judge_natives([(h.path, classify(h.head)) for h in result.heads])
    assert check.blocked
    assert [m.path for m in check.foreign] == ["chromedriver_py/chromedriver_linux64"]
    assert check.architectures == (Arch.X86_64,)
    assert check.reason == (
        "ships chromedriver_py/chromedriver_linux64, an x86-64 ELF executable,"
        " and no aarch64 build of it"
    )

"""``audit()`` reads project pages through the index client it is given (no monkeypatching)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graviton.audit.run import AuditRequest, audit
from graviton.findings import Target, Verdict
from graviton.index import IndexClient, IndexUnavailable
from tests.audit.index_server import IndexServer


def request_for(tmp_path: Path, pins: str) -> AuditRequest:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(pins)
    return AuditRequest(paths=(reqs,), targets=(Target(python=(3, 11), libc_version=(2, 28)),))


def test_audit_uses_the_injected_client(index: IndexServer, tmp_path: Path) -> None:
    request = request_for(tmp_path, "shioaji==1.2.5\nnumpy==1.26.4\n")
    assert request.index_url is None  # nothing tells the audit where the index is but the client
    report = audit(request, index=IndexClient([index.url]))
    verdicts = {f.pin.name: f.verdict for f in report.findings}
    assert verdicts == {"shioaji": Verdict.BLOCKED, "numpy": Verdict.NATIVE}
    assert {f.index_url for f in report.findings} == {index.url}
    assert index.requests_for("shioaji") == index.requests_for("numpy") == 1


def test_nothing_found_on_the_injected_index_is_an_error(tmp_path: Path) -> None:
    with IndexServer() as index:
        wrong = index.url.replace("/simple/", "/simpel/")
        with pytest.raises(IndexUnavailable, match=r"/simpel/: none of the 2 pinned projects"):
            audit(
                request_for(tmp_path, "shioaji==1.2.5\nnumpy==1.26.4\n"), index=IndexClient([wrong])
            )

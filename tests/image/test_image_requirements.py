"""GVD006: ``pip install -r FILE`` in a Dockerfile is audited by graviton audit for the base
image's Python and libc, against a real PEP 691 index on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from graviton.checks.image import ImageCheck, judge
from graviton.image.run import DockerfileInput, dockerfile_findings
from graviton.oci.manifest import OciManifest
from tests.audit.index_server import clean_wheel
from tests.support.quiet_http import QuietHandler
from tests.support.range_server import RangeServer

PEP691 = "application/vnd.pypi.simple.v1+json"


FILES = "http://files.invalid"  # replaced by the fixture's file host (the audit reads pure wheels)


def _wheel(name: str, version: str, tag: str) -> dict[str, object]:
    filename = f"{name}-{version}-{tag}.whl"
    return {
        "filename": filename,
        "url": f"{FILES}/files/{filename}",
        "hashes": {"sha256": "0" * 64},
        "requires-python": ">=3.8",
        "yanked": False,
    }


PROJECTS = {
    # only x86_64 Linux wheels before 1.2.6, as Shioaji shipped
    "shioaji": [
        _wheel("shioaji", "1.2.5", "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        _wheel("shioaji", "1.2.5", "cp312-cp312-macosx_11_0_arm64"),
        _wheel("shioaji", "1.2.6", "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64"),
        _wheel("shioaji", "1.2.6", "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"),
    ],
    "six": [_wheel("six", "1.16.0", "py2.py3-none-any")],
}


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    files = RangeServer()
    files.fallback = clean_wheel
    files.start()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            name = self.path.strip("/").split("/")[-1]
            if name not in PROJECTS:
                self.send_response(404)
                self.end_headers()
                return
            versions = sorted({str(f["filename"]).split("-")[1] for f in PROJECTS[name]})
            text = json.dumps(
                {
                    "meta": {"api-version": "1.1"},
                    "name": name,
                    "versions": versions,
                    "files": PROJECTS[name],
                }
            )
            body = text.replace(FILES, files.url).encode()
            self.send_response(200)
            self.send_header("Content-Type", PEP691)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    monkeypatch.setenv("PIP_INDEX_URL", url)
    yield url
    server.shutdown()
    server.server_close()
    files.stop()


def test_blocked_requirement_is_flagged_at_the_pip_line(index: str, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("shioaji==1.2.5\nsix==1.16.0\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim-bookworm\n"
        "COPY requirements.txt /app/\n"
        "RUN pip install --no-cache-dir -r /app/requirements.txt\n"
    )
    item = DockerfileInput(tmp_path / "Dockerfile", tmp_path)
    findings = dockerfile_findings(item, ["linux/amd64", "linux/arm64"], lookup=_multiarch)
    assert [(f.rule, f.line) for f in findings] == [("GVD006", 3)]
    assert "shioaji==1.2.5" in findings[0].message and "Python 3.12" in findings[0].message
    assert "1.2.6" in (findings[0].fix or "")


def test_installable_requirements_pass(index: str, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("shioaji==1.2.6\nsix==1.16.0\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim-bookworm\nRUN pip install -r requirements.txt\n"
    )
    item = DockerfileInput(tmp_path / "Dockerfile", tmp_path)
    assert dockerfile_findings(item, ["linux/arm64"], lookup=_multiarch) == []


def _multiarch(image: str) -> ImageCheck:
    children = [
        {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm64"}},
    ]
    return judge(
        image, OciManifest("application/vnd.oci.image.index.v1+json", {"manifests": children})
    )

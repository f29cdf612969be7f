"""What file lists hide, found from the local index: x86 programs inside ``py3-none-any``
wheels (read with range requests from a file host on 127.0.0.1) and hash locks that allow only
x86 files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from graviton.audit.inspect import InspectionUnavailable
from graviton.audit.run import AuditRequest, audit
from graviton.findings import Finding, Target, Verdict
from graviton.index import IndexClient, PageCache
from graviton.index.cache import DB_NAME
from tests.audit.index_server import FIXTURES, IndexServer
from tests.support.native_headers import (
    EM_AARCH64,
    EM_X86_64,
    Member,
    elf_header,
    filler,
    wheel,
)

TARGET = Target(python=(3, 11), libc_version=(2, 28))
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "graviton.cli", "audit"]


def project_page(root: Path, name: str, version: str, data: bytes) -> str:
    """A PEP 691 page for one pure wheel; returns the wheel's filename."""
    filename = f"{name}-{version}-py3-none-any.whl"
    doc = {
        "meta": {"api-version": "1.1"},
        "name": name,
        "files": [
            {
                "filename": filename,
                "url": f"https://files.invalid/{filename}",  # the server points it at 127.0.0.1
                "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                "requires-python": ">=3.8",
            }
        ],
    }
    (root / f"{name}.json").write_text(json.dumps(doc))
    return filename


def x86_wheel(name: str, *, with_arm: bool = False, size: int = 300_000) -> bytes:
    members = [
        Member(f"{name}/__main__.py", b"print('hi')\n", deflate=True),
        Member(
            f"{name}/driver/tool_linux64",
            elf_header(EM_X86_64) + filler(size),
            deflate=True,
            mode=0o755,
        ),
    ]
    if with_arm:
        members.append(
            Member(
                f"{name}/driver/tool_linux_arm64",
                elf_header(EM_AARCH64) + filler(size, seed=3),
                deflate=True,
                mode=0o755,
            )
        )
    return wheel(members, name=name, version="1.0")


def audit_one(
    tmp_path: Path, index: IndexServer, pins: str, index_url: str = "", **options: object
) -> tuple[Finding, ...]:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(pins)
    request = AuditRequest(paths=(reqs,), targets=(TARGET,), **options)  # type: ignore[arg-type]
    cache = options.get("cache_dir")
    cached = PageCache(cache) if isinstance(cache, Path) else None
    client = IndexClient([index_url or index.url], cache=cached)
    return audit(request, index=client).findings


# -- native code inside pure wheels (the test 1, audit half) -------------------------------


def test_a_pure_wheel_carrying_an_x86_program_is_blocked(tmp_path: Path, pages: Path) -> None:
    data = x86_wheel("x86inside")
    filename = project_page(pages, "x86inside", "1.0", data)
    with IndexServer(pages) as index:
        index.files.add(f"/files/{filename}", data)
        (finding,) = audit_one(tmp_path, index, "x86inside==1.0\n")
        hits = index.files.hits_for(f"/files/{filename}")
        sent = index.files.finished.get(f"/files/{filename}", 0)
    assert finding.verdict is Verdict.BLOCKED
    assert "x86inside/driver/tool_linux64" in finding.reason
    assert "x86-64" in finding.reason
    assert finding.wheel == filename
    # read with range requests only, never the whole wheel
    assert hits and all(h.range for h in hits)
    assert sent < len(data) // 10


def test_a_pure_wheel_with_an_aarch64_build_of_its_program_stays_pure(
    tmp_path: Path, pages: Path
) -> None:
    data = x86_wheel("bothinside", with_arm=True)
    filename = project_page(pages, "bothinside", "1.0", data)
    with IndexServer(pages) as index:
        index.files.add(f"/files/{filename}", data)
        (finding,) = audit_one(tmp_path, index, "bothinside==1.0\n")
    assert finding.verdict is Verdict.PURE


def test_no_inspect_skips_the_look_inside(tmp_path: Path, pages: Path) -> None:
    data = x86_wheel("x86inside")
    filename = project_page(pages, "x86inside", "1.0", data)
    with IndexServer(pages) as index:
        index.files.add(f"/files/{filename}", data)
        (finding,) = audit_one(tmp_path, index, "x86inside==1.0\n", inspect=False)
        assert index.files.hits_for(f"/files/{filename}") == []
    assert finding.verdict is Verdict.PURE


def test_an_inspection_that_cannot_finish_is_not_a_pass(tmp_path: Path, pages: Path) -> None:
    """Over the byte budget (a server that ignores Range, here): exit 3 naming the pin."""
    data = x86_wheel("norange", size=200_000) + b""
    filename = project_page(pages, "norange", "1.0", data)
    with IndexServer(pages) as index:
        index.files.add(f"/files/{filename}", data)
        index.files.ignore_range = True
        with pytest.raises(InspectionUnavailable, match=r"^norange==1\.0: .*ignored Range"):
            audit_one(tmp_path, index, "norange==1.0\n", inspect_budget=64 * 1024)


def test_the_cli_exits_3_with_one_line_when_a_wheel_cannot_be_read(
    tmp_path: Path, pages: Path
) -> None:
    data = x86_wheel("gone")
    project_page(pages, "gone", "1.0", data)
    with IndexServer(pages) as index:
        index.files.fallback = None  # the file host answers 404
        reqs = tmp_path / "requirements.txt"
        reqs.write_text("gone==1.0\n")
        proc = subprocess.run(
            [*CLI, str(reqs), "--index-url", index.url, "--no-cache", "--format", "json"],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            timeout=120,
        )
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "gone==1.0" in lines[0] and "404" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_file_host_that_drips_bytes_ends_the_run(tmp_path: Path, pages: Path) -> None:
    """Each read answers within the socket timeout, but the wheel is never done: exit 3."""
    data = x86_wheel("trickle")  # not "drip": the test index answers that page by dripping
    filename = project_page(pages, "trickle", "1.0", data)
    with IndexServer(pages) as index:
        index.files.add(f"/files/{filename}", data)
        index.files.drip = 0.3
        reqs = tmp_path / "requirements.txt"
        reqs.write_text("trickle==1.0\n")
        request = AuditRequest(paths=(reqs,), targets=(TARGET,))
        client = IndexClient([index.url], page_timeout=4, timeout=2)
        with pytest.raises(InspectionUnavailable, match=r"^trickle==1\.0: .* not read within 4s"):
            audit(request, index=client)
        index.files.drip = 0.0


def test_inspections_are_cached_by_sha256_without_credentials(tmp_path: Path, pages: Path) -> None:
    data = x86_wheel("x86inside")
    filename = project_page(pages, "x86inside", "1.0", data)
    cache = tmp_path / "cache"
    with IndexServer(pages) as index:
        index.files.add(f"/files/{filename}", data)
        secret = index.url.replace("http://", "http://user:s3cret@")
        first = audit_one(tmp_path, index, "x86inside==1.0\n", secret, cache_dir=cache)
        with sqlite3.connect(cache / DB_NAME) as db:
            written = [d for (d,) in db.execute("SELECT doc FROM entries WHERE kind = 'wheel'")]
        assert written and not any("s3cret" in text for text in written)
        assert not any(b"s3cret" in p.read_bytes() for p in cache.rglob("*") if p.is_file())
        reads = len(index.files.hits_for(f"/files/{filename}"))
        second = audit_one(tmp_path, index, "x86inside==1.0\n", cache_dir=cache)
        assert len(index.files.hits_for(f"/files/{filename}")) == reads > 0
    assert first[0].verdict is second[0].verdict is Verdict.BLOCKED
    assert first[0].reason == second[0].reason


# -- hash coverage (the test 4) ------------------------------------------------------------


def numpy_hash(fragment: str) -> str:
    doc = json.loads((FIXTURES / "numpy.json").read_text())
    (entry,) = [f for f in doc["files"] if f["filename"].startswith("numpy-1.26.4" + fragment)]
    return f"sha256:{entry['hashes']['sha256']}"


X86 = "-cp311-cp311-manylinux_2_17_x86_64"
ARM = "-cp311-cp311-manylinux_2_17_aarch64"
SDIST = ".tar.gz"


def hashed(*fragments: str) -> str:
    return "numpy==1.26.4 \\\n" + " \\\n".join(f"    --hash={numpy_hash(f)}" for f in fragments)


def test_a_lock_hashed_for_x86_files_only_is_blocked(tmp_path: Path, index: IndexServer) -> None:
    (finding,) = audit_one(tmp_path, index, hashed(X86, "-cp311-cp311-win_amd64") + "\n")
    assert finding.verdict is Verdict.BLOCKED
    assert finding.reason.startswith("hash-locked to x86 files only")
    assert "pip-compile --generate-hashes / uv lock" in finding.reason


def test_a_lock_with_the_aarch64_wheel_hash_installs(tmp_path: Path, index: IndexServer) -> None:
    (finding,) = audit_one(tmp_path, index, hashed(X86, ARM) + "\n")
    assert finding.verdict is Verdict.NATIVE
    assert finding.wheel is not None and "aarch64" in finding.wheel


def test_a_lock_that_allows_the_sdist_but_not_the_arm_wheel_builds(
    tmp_path: Path, index: IndexServer
) -> None:
    (finding,) = audit_one(tmp_path, index, hashed(X86, SDIST) + "\n")
    assert finding.verdict is Verdict.SOURCE
    assert "hashes allow only the sdist" in finding.reason


def test_hashes_of_macos_arm_files_are_named(tmp_path: Path, index: IndexServer) -> None:
    (finding,) = audit_one(tmp_path, index, hashed("-cp311-cp311-macosx_11_0_arm64") + "\n")
    assert finding.verdict is Verdict.BLOCKED
    assert finding.reason.startswith("hash-locked to macOS arm64 files only")


def test_hashes_that_match_nothing_are_blocked(tmp_path: Path, index: IndexServer) -> None:
    pins = "numpy==1.26.4 --hash=sha256:" + "ab" * 32 + "\n"
    (finding,) = audit_one(tmp_path, index, pins)
    assert finding.verdict is Verdict.BLOCKED
    assert "none of its" in finding.reason

"""A fix is offered only when it is proven to run: a newer release whose chosen wheel is pure is
looked into (range requests to a file host on 127.0.0.1) before it becomes the fix; a pure pin
blocked by the x86 code inside gets a fix search; direct references to pure wheels are looked
into as index wheels are."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from graviton.audit.inspect import InspectionUnavailable
from graviton.audit.run import AuditRequest, audit
from graviton.audit.verdicts import FIX_INSPECTIONS
from graviton.findings import Finding, Target, Verdict
from graviton.index import IndexClient
from graviton.report import FORMATS, render
from tests.audit.index_server import IndexServer, clean_wheel
from tests.audit.test_cli import run as cli
from tests.audit.test_deeper import TARGET
from tests.audit.test_index_faults import one_error_line
from tests.report.test_jsondoc import errors
from tests.support import native_headers as nh
from tests.support.native_headers import wheel

WIDE = {"COLUMNS": "400"}
ARM = "cp311-cp311-manylinux_2_17_aarch64.whl"
X86 = "cp311-cp311-manylinux_2_17_x86_64.whl"


def x86_wheel(name: str, version: str, *, with_arm: bool = False) -> bytes:
    """A pure wheel with an x86-64 program (and its aarch64 build, ``with_arm``)."""
    machines = {"tool_linux64": nh.EM_X86_64}
    if with_arm:
        machines["tool_linux_arm64"] = nh.EM_AARCH64
    members = [
        nh.Member(f"{name}/bin/{tool}", nh.elf_header(machine) + nh.filler(2000), mode=0o755)
        for tool, machine in machines.items()
    ]
    return wheel(members, name=name, version=version)


def pure(name: str, version: str) -> str:
    return f"{name}-{version}-py3-none-any.whl"


def page(root: Path, name: str, filenames: list[str], data: dict[str, bytes]) -> None:
    """A PEP 691 page listing ``filenames`` (the server points each wheel at its file host)."""
    files = []
    for filename in filenames:
        body = data.get(filename, filename.encode())
        files.append(
            {
                "filename": filename,
                "url": f"https://files.invalid/{filename}",
                "hashes": {"sha256": hashlib.sha256(body).hexdigest()},
                "requires-python": ">=3.8",
            }
        )
    doc = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
    (root / f"{name}.json").write_text(json.dumps(doc))


def serve(index: IndexServer, data: dict[str, bytes], missing: tuple[str, ...] = ()) -> None:
    for filename, body in data.items():
        index.files.add(f"/files/{filename}", body)
    gone = {f"/files/{f}" for f in missing}
    index.files.fallback = lambda path: None if path in gone else clean_wheel(path)


def run(tmp_path: Path, index: IndexServer, pins: str, **options: object) -> tuple[Finding, ...]:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(pins)
    request = AuditRequest(paths=(reqs,), targets=(TARGET,), **options)  # type: ignore[arg-type]
    return audit(request, index=IndexClient([index.url])).findings


def read(index: IndexServer, filename: str) -> bool:
    return bool(index.files.hits_for(f"/files/{filename}"))


# -- a pure pin blocked by the x86 code inside --------------------------------------------------


def test_a_blocked_pure_pin_gets_the_smallest_clean_newer_release(
    tmp_path: Path, pages: Path
) -> None:
    """1.1 is pure by its tags but carries an x86 program: passed over; 1.2 is clean."""
    data = {
        pure("dbg", "1.0"): x86_wheel("dbg", "1.0"),
        pure("dbg", "1.1"): x86_wheel("dbg", "1.1"),
        pure("dbg", "1.2"): x86_wheel("dbg", "1.2", with_arm=True),
        pure("dbg", "1.3"): wheel([], name="dbg", version="1.3"),
    }
    page(pages, "dbg", list(data), data)
    with IndexServer(pages) as index:
        serve(index, data)
        (finding,) = run(tmp_path, index, "dbg==1.0\n")
        assert read(index, pure("dbg", "1.1")) and read(index, pure("dbg", "1.2"))
    assert finding.verdict is Verdict.BLOCKED
    assert finding.fix is not None, finding
    assert (finding.fix.min, finding.fix.latest) == ("1.2", "1.3")
    assert finding.fix_note is None


def test_a_native_newer_release_is_the_fix_without_looking_inside(
    tmp_path: Path, pages: Path
) -> None:
    data = {pure("natfix", "1.0"): x86_wheel("natfix", "1.0")}
    names = [*data, f"natfix-2.0-{ARM}", f"natfix-2.0-{X86}"]
    page(pages, "natfix", names, data)
    with IndexServer(pages) as index:
        serve(index, data)
        (finding,) = run(tmp_path, index, "natfix==1.0\n")
        assert not read(index, f"natfix-2.0-{ARM}")
    assert finding.verdict is Verdict.BLOCKED
    assert finding.fix is not None and finding.fix.min == finding.fix.latest == "2.0"
    assert finding.fix.crosses_major


def test_every_newer_release_carrying_x86_code_is_no_fix(tmp_path: Path, pages: Path) -> None:
    """Few enough to look into every one: proven that none runs ("none found")."""
    data = {pure("allx86", f"1.{i}"): x86_wheel("allx86", f"1.{i}") for i in range(4)}
    page(pages, "allx86", list(data), data)
    with IndexServer(pages) as index:
        serve(index, data)
        (finding,) = run(tmp_path, index, "allx86==1.0\n")
    assert finding.verdict is Verdict.BLOCKED
    assert finding.fix is None and finding.fix_note is None


def test_the_search_stops_after_a_few_wheels_and_says_so(tmp_path: Path, pages: Path) -> None:
    count = 2 * FIX_INSPECTIONS + 3
    data = {pure("many", f"1.{i}"): x86_wheel("many", f"1.{i}") for i in range(count + 1)}
    data[pure("many", f"1.{FIX_INSPECTIONS + 1}")] = wheel([], name="many", version="x")
    page(pages, "many", list(data), data)
    with IndexServer(pages) as index:
        serve(index, data)
        (finding,) = run(tmp_path, index, "many==1.0\n")
        looked = sum(read(index, f) for f in data)
    assert finding.verdict is Verdict.BLOCKED
    assert finding.fix is None, "the clean 1.4 was never looked into: it must not be claimed"
    assert finding.fix_note is not None
    ends = [*range(1, FIX_INSPECTIONS + 1), *range(count - FIX_INSPECTIONS + 1, count + 1)]
    seen = ", ".join(f"1.{i}" for i in ends)
    assert finding.fix_note == (
        f"not proven (looked inside the newer wheels of {seen}: each carries x86-only code; "
        "the releases between were not looked into)"
    )
    assert looked == 1 + 2 * FIX_INSPECTIONS


# -- a fix by tags that is a pure wheel ----------------------------------------------------------


def test_a_pure_fix_carrying_x86_code_is_not_offered(tmp_path: Path, pages: Path) -> None:
    """Blocked by tags (x86 wheels only, no sdist): 2.0's pure wheel hides an x86 program, so
    the fix is 2.1, not 2.0."""
    data = {
        pure("tagfix", "2.0"): x86_wheel("tagfix", "2.0"),
        pure("tagfix", "2.1"): wheel([], name="tagfix", version="2.1"),
    }
    page(pages, "tagfix", [f"tagfix-1.0-{X86}", *data], data)
    with IndexServer(pages) as index:
        serve(index, data)
        (finding,) = run(tmp_path, index, "tagfix==1.0\n")
        (no_look,) = run(tmp_path, index, "tagfix==1.0\n", inspect=False)
    assert finding.verdict is Verdict.BLOCKED
    assert finding.fix is not None and (finding.fix.min, finding.fix.latest) == ("2.1", "2.1")
    assert no_look.fix is not None and no_look.fix.min == "2.0"  # by tags alone, as before


def test_an_unreadable_fix_candidate_is_not_a_claimed_fix(tmp_path: Path, pages: Path) -> None:
    """2.0's wheel answers 404: no fix (not 2.0, nor the clean 2.1 above it), the reason said,
    and the pin's own verdict stands (no exit 3)."""
    data = {
        pure("gonefix", "1.0"): x86_wheel("gonefix", "1.0"),
        pure("gonefix", "2.1"): wheel([], name="gonefix", version="2.1"),
    }
    names = [pure("gonefix", "1.0"), pure("gonefix", "2.0"), pure("gonefix", "2.1")]
    page(pages, "gonefix", names, data)
    with IndexServer(pages) as index:
        serve(index, data, missing=(pure("gonefix", "2.0"),))
        (finding,) = run(tmp_path, index, "gonefix==1.0\n")
        reqs = tmp_path / "requirements.txt"
        proc = cli(str(reqs), "-i", index.url, "--no-cache", "--python", "3.11", env=WIDE)
    assert finding.verdict is Verdict.BLOCKED
    assert finding.fix is None
    assert finding.fix_note is not None
    assert finding.fix_note.startswith(f"not proven ({pure('gonefix', '2.0')}: ")
    assert "404" in finding.fix_note
    assert "2.1 runs" in finding.fix_note
    assert proc.returncode == 1, proc.stderr
    assert "fix: not proven (gonefix-2.0-py3-none-any.whl" in proc.stdout


def test_every_report_format_says_not_proven(tmp_path: Path, pages: Path) -> None:
    data = {pure("note", "1.0"): x86_wheel("note", "1.0")}
    page(pages, "note", [*data, pure("note", "1.1")], data)
    with IndexServer(pages) as index:
        serve(index, data, missing=(pure("note", "1.1"),))
        reqs = tmp_path / "requirements.txt"
        reqs.write_text("note==1.0\n")
        request = AuditRequest(paths=(reqs,), targets=(TARGET,))
        report = audit(request, index=IndexClient([index.url]))
    for fmt in FORMATS:
        text = render(report, fmt, width=400)
        assert "not proven (note-1.1-py3-none-any.whl: " in text, fmt
        assert "none found" not in text and "No release with a compatible wheel" not in text, fmt
    (package,) = json.loads(render(report, "json"))["packages"]
    assert package["fix"] is None
    assert package["fix_note"].startswith("not proven (note-1.1-py3-none-any.whl: ")
    assert errors(json.loads(render(report, "json"))) == []


# -- direct references -----------------------------------------------------------------------------


def test_a_direct_reference_to_a_pure_wheel_with_an_x86_program_is_blocked(
    tmp_path: Path, pages: Path
) -> None:
    with IndexServer(pages) as index:
        url = index.files.add("/dl/direct-1.0-py3-none-any.whl", x86_wheel("direct", "1.0"))
        clean = index.files.add(
            "/dl/paired-1.0-py3-none-any.whl", x86_wheel("paired", "1.0", with_arm=True)
        )
        found = run(tmp_path, index, f"direct @ {url}#sha256=abc\npaired @ {clean}\n")
        hits = index.files.hits_for("/dl/direct-1.0-py3-none-any.whl")
    by_name = {f.pin.name: f for f in found}
    assert by_name["direct"].verdict is Verdict.BLOCKED
    assert "direct/bin/tool_linux64" in by_name["direct"].reason
    assert "x86-64" in by_name["direct"].reason
    assert by_name["paired"].verdict is Verdict.PURE
    assert hits and all(h.range for h in hits)


def test_a_direct_reference_to_a_local_wheel_is_read_from_disk(tmp_path: Path, pages: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "local-1.0-py3-none-any.whl").write_bytes(x86_wheel("local", "1.0"))
    with IndexServer(pages) as index:
        (finding,) = run(tmp_path, index, "local @ ./dist/local-1.0-py3-none-any.whl\n")
        uri = (tmp_path / "dist" / "local-1.0-py3-none-any.whl").as_uri()
        (by_uri,) = run(tmp_path, index, f"local @ {uri}\n")
    assert finding.verdict is by_uri.verdict is Verdict.BLOCKED
    assert "local/bin/tool_linux64" in finding.reason


def test_an_unreachable_direct_reference_is_exit_3(
    tmp_path: Path, pages: Path, dead_url: str
) -> None:
    url = dead_url.replace("/simple/", "/dl/away-1.0-py3-none-any.whl")
    with IndexServer(pages) as index:
        with pytest.raises(InspectionUnavailable, match=r"^away @ away-1\.0-py3-none-any\.whl: "):
            run(tmp_path, index, f"away @ {url}\n")
        (skipped,) = run(tmp_path, index, f"away @ {url}\n", inspect=False)
        assert skipped.verdict is Verdict.PURE
        reqs = tmp_path / "requirements.txt"
        proc = cli(str(reqs), "-i", index.url, "--no-cache", "--format", "json")
    assert proc.returncode == 3, proc.stderr
    assert "away @ away-1.0-py3-none-any.whl: " in one_error_line(proc.stderr)


def test_a_missing_local_wheel_is_exit_3(tmp_path: Path, pages: Path) -> None:
    where = r"^gone @ gone-1\.0-py3-none-any\.whl: .*nowhere"
    with IndexServer(pages) as index, pytest.raises(InspectionUnavailable, match=where):
        run(tmp_path, index, "gone @ ./nowhere/gone-1.0-py3-none-any.whl\n")


# -- timing and sharing ----------------------------------------------------------------------------


class SlowFor(IndexClient):
    """The real client, except that reading one wheel takes ``delay`` seconds first (a file host
    that stalls on it); every other read goes over HTTP as usual."""

    def __init__(self, url: str, slow: str, delay: float, **options: Any) -> None:
        super().__init__([url], **options)
        self.slow, self.delay = slow, delay

    def inspect(self, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith(self.slow):
            time.sleep(self.delay)
        return super().inspect(url, *args, **kwargs)


def x86_then_clean(tmp_path: Path, pages: Path, name: str) -> tuple[dict[str, bytes], Path]:
    """``name`` 1.0 carries an x86 program, 1.1 is clean; a requirements file pins 1.0."""
    data = {
        pure(name, "1.0"): x86_wheel(name, "1.0"),
        pure(name, "1.1"): wheel([], name=name, version="1.1"),
    }
    page(pages, name, list(data), data)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"{name}==1.0\n")
    return data, reqs


def test_a_fix_candidate_read_too_slowly_is_not_proven_and_the_run_goes_on(
    tmp_path: Path, pages: Path
) -> None:
    data, reqs = x86_then_clean(tmp_path, pages, "stall")
    with IndexServer(pages) as index:
        serve(index, data)
        client = SlowFor(index.url, pure("stall", "1.1"), 4.0, page_timeout=1.5)
        started = time.monotonic()
        (finding,) = audit(AuditRequest(paths=(reqs,), targets=(TARGET,)), index=client).findings
        took = time.monotonic() - started
    assert finding.verdict is Verdict.BLOCKED
    assert finding.fix is None
    assert finding.fix_note == (
        f"not proven ({pure('stall', '1.1')}: not read within 1.5s (--timeout))"
    )
    assert took < 3.5, "the stalled read was given up, not waited for"


def test_targets_share_the_reads_of_a_fix(tmp_path: Path, pages: Path) -> None:
    data, reqs = x86_then_clean(tmp_path, pages, "shared")
    targets = (TARGET, Target(python=(3, 12), libc_version=(2, 34)))
    with IndexServer(pages) as index:
        serve(index, data)
        request = AuditRequest(paths=(reqs,), targets=targets)
        found = audit(request, index=IndexClient([index.url])).findings
        tails = [h for h in index.files.hits_for(f"/files/{pure('shared', '1.1')}") if h.range]
    assert [f.target.python for f in found] == [(3, 11), (3, 12)]
    for finding in found:
        assert finding.verdict is Verdict.BLOCKED
        assert finding.fix is not None and finding.fix.min == finding.fix.latest == "1.1"
    assert len([h for h in tails if h.range and h.range.startswith("bytes=-")]) == 1

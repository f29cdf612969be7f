"""The fix search as data: which wheels it asks to look into, and what it claims from the looks."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from graviton.audit.platforms import TagSet
from graviton.audit.verdicts import (
    FixCandidate,
    Look,
    find_fix,
    fix_candidates,
    search_fix,
)
from graviton.checks.binaries import classify, judge_natives
from graviton.findings import Target
from graviton.index import DistFile
from tests.support.native_headers import EM_X86_64, elf_header

X86 = judge_natives([("pkg/tool_linux64", classify(elf_header(EM_X86_64)))])
CLEAN = judge_natives([])
TARGET = Target(python=(3, 11), libc_version=(2, 28))


def cand(version: str, native: bool = False) -> FixCandidate:
    tag = "cp311-cp311-manylinux_2_17_aarch64" if native else "py3-none-any"
    return FixCandidate(Version(version), DistFile(f"p-{version}-{tag}.whl"), native)


def looks(**by_version: Look) -> dict[DistFile, Look]:
    return {cand(v.replace("_", ".")).file: look for v, look in by_version.items()}


def test_native_candidates_need_no_look() -> None:
    found = search_fix("1.0", [cand("1.1", True), cand("2.0", True)], {})
    assert found.inspect == ()
    assert found.fix is not None and (found.fix.min, found.fix.latest) == ("1.1", "2.0")


def test_pure_candidates_are_asked_for_from_both_ends() -> None:
    cands = [cand(f"1.{i}") for i in range(1, 9)]
    files = [c.file for c in cands]
    # the first from each end alone; once it carries x86 code, the rest up to the limit
    assert search_fix("1.0", cands, {}, limit=3).inspect == (files[0], files[7])
    second = search_fix("1.0", cands, looks(**{"1_1": X86, "1_8": X86}), limit=3)
    assert second.inspect == (files[1], files[2], files[6], files[5])
    # eager (after the pin's own wheel carried x86 code): all in one round
    eager = search_fix("1.0", cands, {}, limit=3, eager=True)
    assert eager.inspect == (*files[:3], files[7], files[6], files[5])
    # 1.2 is clean: 1.3 no longer matters; the walk down goes on (1.8, 1.7 carry x86 code)
    after = search_fix(
        "1.0", cands, looks(**{"1_1": X86, "1_2": CLEAN, "1_8": X86, "1_7": X86}), limit=3
    )
    assert after.inspect == (files[5],)
    done = search_fix(
        "1.0",
        cands,
        looks(**{"1_1": X86, "1_2": CLEAN, "1_8": X86, "1_7": X86, "1_6": CLEAN}),
        limit=3,
    )
    assert done.fix is not None and (done.fix.min, done.fix.latest) == ("1.2", "1.6")


def test_an_unread_wheel_blocks_every_claim_above_it() -> None:
    cands = [cand("1.1"), cand("2.0", True)]
    found = search_fix("1.0", cands, looks(**{"1_1": "HTTP 404"}))
    assert found.fix is None
    assert found.note == "not proven (p-1.1-py3-none-any.whl: HTTP 404; 2.0 runs)"


def test_an_unread_newest_wheel_leaves_the_proven_smallest() -> None:
    cands = [cand("1.1", True), cand("1.2")]
    found = search_fix("1.0", cands, looks(**{"1_2": "HTTP 404"}))
    assert found.fix is not None and (found.fix.min, found.fix.latest) == ("1.1", "1.1")


def test_all_looked_into_and_all_x86_is_none_without_a_note() -> None:
    cands = [cand("1.1"), cand("1.2")]
    found = search_fix("1.0", cands, looks(**{"1_1": X86, "1_2": X86}))
    assert (found.fix, found.note, found.inspect) == (None, None, ())


class _Releases:
    """What a fix search reads of a project (its versions and their files), as plain data."""

    def __init__(self, versions: dict[str, list[str]]) -> None:
        self.by_version = {Version(v): [DistFile(f) for f in fs] for v, fs in versions.items()}
        self.read: list[str] = []

    def versions(self) -> list[Version]:
        return sorted(self.by_version)

    def files(self, version: str) -> list[DistFile]:
        self.read.append(version)
        return self.by_version[Version(version)]


def _project(versions: dict[str, list[str]]) -> Any:
    return _Releases(versions)


def test_fix_candidates_with_ends_read_only_what_a_search_can_reach() -> None:
    versions = {f"1.{i}": [f"p-1.{i}-py3-none-any.whl"] for i in range(12)}
    project = _project(versions)
    tagset = TagSet(TARGET)
    every = fix_candidates("1.0", project, TARGET, tagset)
    ends = fix_candidates("1.0", project, TARGET, tagset, 3)
    assert [str(c.version) for c in every] == [f"1.{i}" for i in range(1, 12)]
    assert [str(c.version) for c in ends] == ["1.1", "1.2", "1.3", "1.9", "1.10", "1.11"]
    assert len(project.read) == 11 + 6  # every release once, then six
    fix = find_fix("1.0", project, TARGET, tagset)
    assert fix is not None and (fix.min, fix.latest) == ("1.1", "1.11")


def test_fix_candidates_with_ends_stop_at_a_native_release() -> None:
    arm = "cp311-cp311-manylinux_2_17_aarch64"
    versions = {f"1.{i}": [f"p-1.{i}-py3-none-any.whl"] for i in range(8)}
    versions["1.2"] = [f"p-1.2-{arm}.whl"]
    versions["1.6"] = [f"p-1.6-{arm}.whl"]
    ends = fix_candidates("1.0", _project(versions), TARGET, TagSet(TARGET), 3)
    assert [(str(c.version), c.native) for c in ends] == [
        ("1.1", False),
        ("1.2", True),
        ("1.6", True),
        ("1.7", False),
    ]

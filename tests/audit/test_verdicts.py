"""Verdicts over real projects' file lists (tests/fixtures/index), no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graviton.audit.platforms import TagSet
from graviton.audit.verdicts import judge, marker_skip_reason
from graviton.findings import Finding, Location, Pin, Target, Verdict
from graviton.index import DistFile, Project, group_files, parse_json_page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "index"
PY311_228 = Target(python=(3, 11), libc_version=(2, 28))


def project(name: str) -> Project:
    releases = parse_json_page((FIXTURES / f"{name}.json").read_bytes(), name)
    return Project(name=name, releases=releases, index_url="fixture")


def pin(name: str, version: str | None, marker: str | None = None, url: str | None = None) -> Pin:
    return Pin(name, version, Location("requirements.txt", 3), f"=={version}", marker, url=url)


def verdict(name: str, version: str, target: Target = PY311_228) -> Finding:
    return judge(pin(name, version), target, project(name), TagSet(target))


def test_shioaji_125_is_blocked_and_126_fixes_it() -> None:
    f = verdict("shioaji", "1.2.5")
    assert f.verdict is Verdict.BLOCKED
    assert "x86_64 Linux" in f.reason and "macOS arm64" in f.reason and "no sdist" in f.reason
    assert f.fix is not None and f.fix.min == "1.2.6" and f.fix.latest == "1.3.0"
    assert not f.fix.crosses_major


def test_shioaji_126_is_native() -> None:
    f = verdict("shioaji", "1.2.6")
    assert f.verdict is Verdict.NATIVE and f.wheel and "aarch64" in f.wheel


def test_numpy_is_native_with_cp_specific_wheels() -> None:
    f = verdict("numpy", "1.26.4")
    assert f.verdict is Verdict.NATIVE
    assert f.wheel == "numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"


def test_numpy_119_on_311_names_the_pythons_it_has_wheels_for() -> None:
    f = verdict("numpy", "1.19.0")
    assert f.verdict is Verdict.SOURCE  # it has an sdist
    assert "aarch64 wheels for cp36-cp38 only, target is cp311" in f.reason
    assert "compiler" in f.reason
    assert f.fix is not None and f.fix.min == "1.26.4" and f.fix.latest == "2.1.0"


def test_crossing_a_major_version_is_flagged() -> None:
    f = verdict("numpy", "1.26.4", Target(python=(3, 13), libc_version=(2, 28)))
    assert f.verdict is Verdict.SOURCE and "cp39-cp312 only, target is cp313" in f.reason
    assert f.fix is not None and f.fix.min == "2.1.0" and f.fix.crosses_major


def test_glibc_228_only_wheel() -> None:
    al2 = Target(python=(3, 12), libc_version=(2, 26))
    f = verdict("torch", "2.6.0", al2)
    assert f.verdict is Verdict.BLOCKED
    assert f.reason == "aarch64 wheel needs glibc 2.28, target has 2.26 and no sdist"
    assert f.fix is None
    assert verdict("torch", "2.3.1", al2).verdict is Verdict.NATIVE  # manylinux2014
    ok = verdict("torch", "2.6.0", Target(python=(3, 12), libc_version=(2, 28)))
    assert ok.verdict is Verdict.NATIVE and ok.wheel and "manylinux_2_28_aarch64" in ok.wheel


def test_sdist_only_compiled_package() -> None:
    f = verdict("psycopg2", "2.9.9")
    assert f.verdict is Verdict.SOURCE
    assert "ships compiled wheels for Windows" in f.reason and "compiler" in f.reason
    assert f.fix is None  # psycopg2 never ships Linux wheels


def test_pure_and_requires_python() -> None:
    assert verdict("requests", "2.32.3").verdict is Verdict.PURE
    f = verdict("sphinx", "9.2.0", Target(python=(3, 12)))
    assert f.verdict is Verdict.BLOCKED and "requires Python >=3.13, target is 3.12" in f.reason
    assert verdict("sphinx", "9.2.0", Target(python=(3, 13))).verdict is Verdict.PURE


def test_musllinux_only() -> None:
    f = verdict("muslonly", "2.0.0", Target(python=(3, 12), libc_version=(2, 36)))
    assert f.verdict is Verdict.BLOCKED and "only musllinux aarch64 wheels" in f.reason
    alpine = Target(python=(3, 12), libc="musl", libc_version=(1, 2))
    assert verdict("muslonly", "2.0.0", alpine).verdict is Verdict.NATIVE


def test_yanked_counts_only_for_an_exact_pin() -> None:
    exact = verdict("yankdemo", "1.0.0")
    assert exact.verdict is Verdict.PURE and "yanked" in exact.reason
    ranged = Pin("yankdemo", None, Location("pyproject.toml", 1), ">=1.0")
    assert judge(ranged, PY311_228, project("yankdemo"), TagSet(PY311_228)).verdict is (
        Verdict.UNKNOWN
    )


def test_unknown_project_and_version() -> None:
    f = judge(pin("nope", "1.0"), PY311_228, None, TagSet(PY311_228), "http://idx/simple/")
    assert f.verdict is Verdict.UNKNOWN and "not found on http://idx/simple/" in f.reason
    g = verdict("requests", "9.9.9")
    assert g.verdict is Verdict.UNKNOWN and "9.9.9 is not on" in g.reason


@pytest.mark.parametrize(
    ("marker", "skipped", "x86"),
    [
        ('sys_platform == "win32"', True, False),
        ('platform_machine == "x86_64"', True, True),
        ('platform_machine == "aarch64"', False, False),
        ('python_version < "3.10"', True, False),
        ('sys_platform == "linux" and python_version >= "3.11"', False, False),
    ],
)
def test_markers_are_evaluated_for_the_target(marker: str, skipped: bool, x86: bool) -> None:
    reason = marker_skip_reason(marker, PY311_228)
    assert (reason is not None) is skipped
    assert (reason is not None and "x86-only" in reason) is x86
    f = judge(pin("pywin32", "306", marker), PY311_228, project("pywin32"), TagSet(PY311_228))
    if skipped:
        assert f.verdict is Verdict.SKIPPED


def test_pywin32_without_its_marker_is_blocked() -> None:
    f = verdict("pywin32", "306")
    assert f.verdict is Verdict.BLOCKED and "Windows" in f.reason


def test_direct_references_are_reported_not_guessed() -> None:
    t = PY311_228
    wheel = pin("x", None, url="https://h/x-1.0-cp311-cp311-manylinux_2_17_aarch64.whl")
    assert judge(wheel, t, None, TagSet(t)).verdict is Verdict.NATIVE
    x86 = pin("x", None, url="https://h/x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert judge(x86, t, None, TagSet(t)).verdict is Verdict.BLOCKED
    vcs = pin("x", None, url="git+https://github.com/o/x@v1")
    f = judge(vcs, t, None, TagSet(t))
    assert f.verdict is Verdict.SOURCE and "VCS" in f.reason


def test_fixture_pages_are_real_pep691() -> None:
    for path in FIXTURES.glob("*.json"):
        doc = json.loads(path.read_text())
        assert doc["meta"]["api-version"].startswith("1.")
        assert all("filename" in f for f in doc["files"])


def test_a_file_without_a_known_extension_is_ignored() -> None:
    files = [DistFile("x-1.0.exe"), DistFile("x-1.0-py3-none-any.whl")]
    assert list(group_files(files)) == ["1.0"]


# -- versions as pip reads them (PEP 440) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "written", "expected"),
    [
        ("shioaji", "1.2.5.0", Verdict.BLOCKED),  # the release 1.2.5 (zero padding)
        ("shioaji", "1.2.6.0", Verdict.NATIVE),
        ("numpy", "2.0", Verdict.NATIVE),  # the release 2.0.0
        ("numpy", "1.26.4.0.0", Verdict.NATIVE),
    ],
)
def test_equality_is_pep_440_not_string_equality(
    name: str, written: str, expected: Verdict
) -> None:
    f = verdict(name, written)
    assert f.verdict is expected, f.reason
    assert f.pin.version == written  # shown as written


def test_equality_admits_a_local_version_as_pip_does() -> None:
    files = [DistFile("torchlike-2.0.0+cpu-cp311-cp311-manylinux_2_17_aarch64.whl")]
    proj = Project("torchlike", group_files(files), "fixture")
    found = judge(pin("torchlike", "2.0"), PY311_228, proj, TagSet(PY311_228))
    assert found.verdict is Verdict.NATIVE


@pytest.mark.parametrize("written", ["2.0.0.post2", "2.post2", "2.0.post2", "0!2.0.0.post2"])
def test_equality_finds_a_post_release_whatever_its_zero_padding(written: str) -> None:
    files = [
        DistFile("postlike-2.0.0.post2-py3-none-any.whl"),
        DistFile("postlike-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        DistFile("postlike-20.0.0.post2-py3-none-any.whl"),
    ]
    proj = Project("postlike", group_files(files), "fixture")
    found = judge(pin("postlike", written), PY311_228, proj, TagSet(PY311_228))
    assert found.verdict is Verdict.PURE, found.reason
    assert found.wheel == "postlike-2.0.0.post2-py3-none-any.whl"


def test_arbitrary_equality_compares_the_strings() -> None:
    arbitrary = Pin("numpy", "2.0", Location("requirements.txt", 3), "===2.0", arbitrary=True)
    found = judge(arbitrary, PY311_228, project("numpy"), TagSet(PY311_228))
    assert found.verdict is Verdict.UNKNOWN and "2.0 is not on" in found.reason
    exact = Pin("numpy", "2.0.0", Location("requirements.txt", 3), "===2.0.0", arbitrary=True)
    assert judge(exact, PY311_228, project("numpy"), TagSet(PY311_228)).verdict is Verdict.NATIVE
    assert exact.pinned == "===2.0.0"


# -- an sdist-only project ---------------------------------------------------------------------


def test_sdist_only_reason_says_what_is_known_not_pure_python() -> None:
    proj = Project("ta-lib", group_files([DistFile("ta-lib-0.4.28.tar.gz")]), "fixture")
    found = judge(pin("ta-lib", "0.4.28"), PY311_228, proj, TagSet(PY311_228))
    assert found.verdict is Verdict.SOURCE
    assert "pure" not in found.reason.lower()
    assert "no wheel for any platform" in found.reason
    assert "unknown" in found.reason  # whether it needs a compiler

"""``graviton build --validate`` and ``graviton gate --validate IMAGE`` on the real engine, QEMU
and registry: two small images FROM the arm64 CPython base, built with COPY only (nothing runs
under QEMU while building), one that passes and one whose module raises ImportError."""

from __future__ import annotations

import json
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from graviton.report import jsondoc
from tests.image.conftest import DockerEnv, graviton
from tests.validate.conftest import BASE_IMAGE
from tests.validate.wheels import build_wheel

pytestmark = pytest.mark.docker

SITE = "/usr/local/lib/python3.11/dist-packages/"  # on Debian's python3 sys.path


@dataclass(frozen=True)
class Built:
    ref: str
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def indexed_base(validate_env: DockerEnv, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The base pushed again by buildx, as an image index: the test base is a single manifest
    (docker import), which the build's Dockerfile check (GVD001) reads as "has no platform"."""
    directory = tmp_path_factory.mktemp("wired-base")
    (directory / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\n")
    ref = f"{validate_env.repo('wired-base')}:1"
    args = ["docker", "buildx", "build", "--platform", "linux/arm64", "-t", ref, "--push", "."]
    done = subprocess.run(
        args, cwd=directory, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return ref


def _context(directory: Path, base: str, broken: bool) -> Path:
    """FROM the base; the failing one gets an installed distribution (its wheel unpacked into
    site-packages, dist-info and all) whose module raises ImportError."""
    lines = [f"FROM {base}"]
    if broken:
        wheel = build_wheel(
            directory,
            "gvt-wired",
            "1.0",
            "py3-none-any",
            {"gvt_wired/__init__.py": b"raise ImportError('gvt_wired needs libwired.so.1')\n"},
            {},
        )
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(directory / "site")
        wheel.unlink()
        lines.append(f"COPY site/ {SITE}")
    else:
        lines.append("LABEL graviton.test=validate-pass")
    (directory / "Dockerfile").write_text("\n".join(lines) + "\n")
    return directory


def _build(
    env: DockerEnv, base: str, directory: Path, name: str, broken: bool, *extra: str
) -> Built:
    ref = f"{env.repo(name)}:1"
    result = graviton(
        "build",
        "--push",
        "--validate",
        "--platform",
        "linux/arm64",
        "--validate-import-timeout",
        "60s",
        "-t",
        ref,
        *extra,
        str(_context(directory, base, broken)),
    )
    return Built(ref, result)


@pytest.fixture(scope="session")
def passing_build(
    validate_env: DockerEnv, indexed_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    directory = tmp_path_factory.mktemp("wired-pass")
    return _build(validate_env, indexed_base, directory, "wired-pass", False, "--format", "json")


@pytest.fixture(scope="session")
def failing_build(
    validate_env: DockerEnv, indexed_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    directory = tmp_path_factory.mktemp("wired-fail")
    return _build(validate_env, indexed_base, directory, "wired-fail", True, "--no-smoke")


def test_build_validate_passes_a_working_image_and_adds_validate_json(
    passing_build: Built,
) -> None:
    result = passing_build.result
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["stage"] == "verified"
    [validated] = doc["validate"]
    digest = doc["images"][0]["digest"]
    assert validated["image"].endswith(f"@{digest}")  # the index just pushed, by digest
    assert (
        validated["ref"]
        == f"{passing_build.ref.rsplit(':', 1)[0]}@"
        + (doc["images"][0]["platforms"]["linux/arm64"])
    )  # its arm64 variant ran
    assert validated["result"] == "pass" and validated["cpu"]["generation"] == "graviton2"
    assert {d["name"] for d in validated["distributions"]} >= {"pip"}


def test_build_validate_fails_on_an_import_error_and_prints_validate_text(
    failing_build: Built,
) -> None:
    result = failing_build.result
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    out = result.stdout
    assert f"ok {failing_build.ref}" in out  # built, pushed and proven first
    assert "graviton validate " in out
    [line] = [x for x in out.splitlines() if "gvt-wired" in x]
    assert line.startswith("import-error") and "gvt_wired needs libwired.so.1" in line
    assert out.rstrip().splitlines()[-1].startswith("FAIL: ")


def test_gate_validate_turns_failing_distributions_into_sarif_results(
    failing_build: Built, tmp_path: Path
) -> None:
    assert failing_build.result.returncode == 1, failing_build.result.stderr[-3000:]
    sarif = tmp_path / "gate.sarif"
    result = graviton(
        "gate",
        "--validate",
        failing_build.ref,
        "--validate-import-timeout",
        "60s",
        "--format",
        "json",
        "--write",
        f"sarif:{sarif}",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    jsonschema.validate(json.loads(result.stdout), jsondoc.schema())
    [check] = json.loads(result.stdout)["checks"]
    assert check["rule"] == "GVV003" and "gvt_wired needs libwired.so.1" in check["message"]
    run = json.loads(sarif.read_text())["runs"][0]
    [hit] = [r for r in run["results"] if r["ruleId"] == "GVV003"]
    assert hit["level"] == "error" and "gvt-wired 1.0 [gvt_wired]" in hit["message"]["text"]


def test_gate_validate_that_proves_nothing_fails_closed(
    failing_build: Built, tmp_path: Path
) -> None:
    """A --validate run cut by its timeout proved nothing: exit 3 with one line, never a pass."""
    result = graviton(
        "gate", "--validate", failing_build.ref, "--validate-timeout", "1s", cwd=tmp_path
    )
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not proven" in lines[0] and "--timeout" in lines[0], lines

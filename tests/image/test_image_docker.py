"""graviton build/verify against the real engine and registry of scripts/docker-test-env.sh.

One multi-arch image is built per session (``multiarch_image``); the other tests build only
small COPY-only images or run the checks, so nothing slow runs under QEMU.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests

from graviton.image.inspect import check_image
from graviton.image.run import engine_findings
from graviton.oci.manifest import OCI_INDEX
from tests.image.conftest import (
    BUSYBOX_DOCKERFILE,
    BuiltImage,
    DockerEnv,
    busybox_context,
    graviton,
)

pytestmark = pytest.mark.docker


def _index(env: DockerEnv, ref: str) -> dict[str, object]:
    repo, _, tag = ref.removeprefix(f"{env.registry}/").rpartition(":")
    resp = requests.get(
        f"http://{env.registry}/v2/{repo}/manifests/{tag}",
        headers={"Accept": OCI_INDEX},
        timeout=10,
    )
    resp.raise_for_status()
    data: dict[str, object] = resp.json()
    return data


@pytest.fixture(scope="session")
def amd64_only(docker_env: DockerEnv, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The same busybox image, pushed for linux/amd64 only (with its attestation manifest)."""
    context = busybox_context(docker_env, tmp_path_factory.mktemp("amd64"))
    (context / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    ref = f"{docker_env.repo('amd64only')}:1"
    result = graviton(
        "build", "--push", "--platform", "linux/amd64", "--no-smoke", "-t", ref, str(context)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return ref


def test_multiarch_build_is_pushed_proven_and_smoke_run(
    docker_env: DockerEnv, multiarch_image: BuiltImage
) -> None:
    result = multiarch_image.result
    assert result.returncode == 0, result.stdout + result.stderr
    check = check_image(multiarch_image.ref)
    assert check.ok and check.attestations == 2
    for platform in ("linux/amd64", "linux/arm64"):
        digest = check.digest_for(platform)
        assert digest is not None and digest in result.stdout
    assert "smoke linux/amd64: ok, reports amd64" in result.stdout
    assert "smoke linux/arm64: ok, reports arm64" in result.stdout
    assert f"built {multiarch_image.ref} {check.digest}" in result.stdout
    # the registry itself, read without graviton's code
    index = _index(docker_env, multiarch_image.ref)
    platforms = {
        f"{m['platform']['os']}/{m['platform']['architecture']}"  # type: ignore[index]
        for m in index["manifests"]  # type: ignore[attr-defined]
    }
    assert {"linux/amd64", "linux/arm64"} <= platforms


def test_verify_multiarch_prints_every_digest(multiarch_image: BuiltImage) -> None:
    result = graviton("verify", multiarch_image.ref, "--smoke", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    image = data["images"][0]
    assert data["ok"] and image["missing"] == []
    assert set(image["platforms"]) == {"linux/amd64", "linux/arm64"}
    assert image["attestations"] == 2 and image["config_mismatches"] == []
    assert [s["ok"] for s in image["smoke"]] == [True, True]
    assert image["digest"] == check_image(multiarch_image.ref).digest


def test_verify_amd64_only_image_names_arm64_missing(amd64_only: str) -> None:
    result = graviton("verify", amd64_only)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lacks linux/arm64" in result.stdout
    assert "linux/amd64" in result.stdout
    # the attestation child is not a platform, even though the index has two children
    assert "unknown/unknown" not in result.stdout


def test_verify_single_manifest_without_provenance(docker_env: DockerEnv, tmp_path: Path) -> None:
    context = busybox_context(docker_env, tmp_path)
    (context / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    ref = f"{docker_env.repo('single')}:1"
    built = graviton(
        "build",
        "--push",
        "--no-provenance",
        "--platform",
        "linux/amd64",
        "--no-smoke",
        "-t",
        ref,
        str(context),
    )
    assert built.returncode == 0, built.stdout + built.stderr
    result = graviton("verify", ref, "--format", "json")
    assert result.returncode == 1
    image = json.loads(result.stdout)["images"][0]
    assert image["is_index"] is False and image["missing"] == ["linux/arm64"]
    assert list(image["platforms"]) == ["linux/amd64"]  # read from the config blob


def test_base_image_without_arm64_is_flagged(amd64_only: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        f'FROM scratch AS unused\n\nFROM {amd64_only} AS app\nCMD ["uname", "-m"]\n'
    )
    result = graviton("build", "--check-only", "--format", "json", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    findings = json.loads(result.stdout)["findings"]
    flagged = [f for f in findings if f["rule"] == "GVD001"]
    assert len(flagged) == 1 and flagged[0]["line"] == 3
    assert "linux/arm64" in flagged[0]["message"]


def test_multiarch_base_image_passes(multiarch_image: BuiltImage, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {multiarch_image.ref}\n")
    result = graviton("build", "--check-only", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checks passed" in result.stdout


def test_hard_coded_amd64_download_is_flagged_before_building(
    docker_env: DockerEnv, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM scratch\n"
        "ADD https://github.com/example/tool/releases/download/v1/tool-linux-amd64 /tool\n"
    )
    ref = f"{docker_env.repo('never-built')}:1"
    result = graviton("build", "--push", "-t", ref, str(tmp_path))
    assert result.returncode == 1
    assert "Dockerfile:2: error GVD003" in result.stdout
    assert "not building" in result.stdout
    # nothing was pushed
    assert requests.get(f"http://{docker_env.registry}/v2/", timeout=5).ok
    missing = graviton("verify", ref)
    assert missing.returncode == 1 and "not found" in missing.stdout + missing.stderr


def test_smoke_timeout_kills_the_container(multiarch_image: BuiltImage) -> None:
    result = graviton(
        "verify",
        multiarch_image.ref,
        "--platform",
        "linux/arm64",
        "--smoke",
        "sleep 600",
        "--smoke-timeout",
        "3s",
    )
    assert result.returncode == 1
    assert "timed out after 3s" in result.stdout
    left = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", "name=graviton-smoke-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert left.stdout.strip() == ""


def test_bake_builds_every_image_of_pyproject(docker_env: DockerEnv, tmp_path: Path) -> None:
    busybox_context(docker_env, tmp_path / "svc")
    (tmp_path / "svc" / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    ref = f"{docker_env.repo('baked')}:1"
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.graviton.images.svc]\ncontext = "svc"\ntags = ["{ref}"]\n'
    )
    result = graviton("build", "--all", "--push", "--smoke", "uname -m", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    check = check_image(ref)
    assert check.ok
    assert f"built svc {check.digest}" in result.stdout


def test_engine_checks_on_the_test_engine(docker_env: DockerEnv) -> None:
    facts, findings = engine_findings(["linux/amd64", "linux/arm64"], None, ["linux/arm64"])
    assert "io.containerd.snapshotter" in facts.image_store
    assert facts.builder is not None and "linux/arm64" in facts.builder.platforms
    assert facts.binfmt_arm64
    assert [f.rule for f in findings if f.severity == "error"] == []
    missing = engine_findings(["linux/arm64"], "no-such-builder", ())[1]
    assert [f.rule for f in missing] == ["GVE002"]


def test_failed_build_is_exit_1_with_buildx_reason(
    multiarch_image: BuiltImage, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {multiarch_image.ref}\nRUN false\n")
    result = graviton(
        "build",
        "--platform",
        "linux/amd64",
        "--format",
        "json",
        "-t",
        "local/fail:1",
        str(tmp_path),
    )
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["stage"] == "build" and "did not complete successfully" in data["error"]


def test_local_build_without_push_is_smoke_run(
    docker_env: DockerEnv, multiarch_image: BuiltImage
) -> None:
    ref = f"{docker_env.repo('local')}:1"
    result = graviton("build", "-t", ref, str(multiarch_image.context))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke linux/arm64" in result.stdout and "reports arm64" in result.stdout

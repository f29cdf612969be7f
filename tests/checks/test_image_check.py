"""Pure image-index judging: attestation children never count, configs must match entries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graviton.checks.image import config_mismatch, judge
from graviton.oci.manifest import (
    DOCKER_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    OciManifest,
    PlatformEntry,
    config_platform,
    platforms_in,
)
from graviton.oci.reference import ImageRef

PACKAGE = Path(__file__).resolve().parents[2] / "graviton"


def child(os: str, arch: str, digest: str, **extra: Any) -> dict[str, Any]:
    return {"digest": digest, "platform": {"os": os, "architecture": arch}, **extra}


ATTESTATION = {"vnd.docker.reference.type": "attestation-manifest"}


def test_attestation_children_are_not_platforms() -> None:
    manifest = OciManifest(
        OCI_INDEX,
        {
            "manifests": [
                child("linux", "amd64", "sha256:a"),
                child("unknown", "unknown", "sha256:att", annotations=ATTESTATION),
            ]
        },
        "sha256:index",
    )
    entries = platforms_in(manifest)
    assert [e.attestation for e in entries] == [False, True]
    check = judge("r/x:1", manifest)
    assert check.missing == ("linux/arm64",) and check.attestations == 1
    assert [p.platform for p in check.platforms] == ["linux/amd64"]
    assert "image index lacks linux/arm64 (has linux/amd64)" in check.summary()


def test_annotation_alone_marks_an_attestation() -> None:
    # an attestation with a real-looking platform is still an attestation
    manifest = OciManifest(
        DOCKER_LIST,
        {
            "manifests": [
                child("linux", "amd64", "sha256:a"),
                child("linux", "arm64", "sha256:att", annotations=ATTESTATION),
            ]
        },
    )
    assert judge("r/x:1", manifest).missing == ("linux/arm64",)


def test_arm64_variant_and_aliases() -> None:
    manifest = OciManifest(
        OCI_INDEX,
        {
            "manifests": [
                child("linux", "amd64", "sha256:a"),
                {
                    "digest": "sha256:b",
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
            ]
        },
    )
    check = judge("r/x:1", manifest, ["linux/x86_64", "linux/aarch64"])
    assert check.ok and check.digest_for("linux/arm64/v8") == "sha256:b"


def test_single_manifest_proves_only_its_config_platform() -> None:
    single = OciManifest(OCI_MANIFEST, {"config": {"digest": "sha256:c"}}, "sha256:m")
    assert judge("r/x:1", single).missing == ("linux/amd64", "linux/arm64")
    check = judge("r/x:1", single, single_platform="linux/arm64")
    assert not check.is_index and check.missing == ("linux/amd64",)


def test_config_platform_and_mismatch() -> None:
    assert config_platform({"os": "linux", "architecture": "arm64", "variant": "v8"}) == (
        "linux/arm64/v8"
    )
    assert config_platform({}) is None
    entry = PlatformEntry("linux/arm64", "sha256:b", False)
    assert config_mismatch(entry, {"os": "linux", "architecture": "arm64"}) is None
    problem = config_mismatch(entry, {"os": "linux", "architecture": "amd64"})
    assert problem is not None and "really linux/amd64" in problem
    assert "no architecture" in (config_mismatch(entry, {}) or "")


@pytest.mark.parametrize(
    ("text", "registry", "repository", "reference"),
    [
        ("python:3.12", "docker.io", "library/python", "3.12"),
        ("localhost:5000/x:1", "localhost:5000", "x", "1"),
        ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest"),
        ("ghcr.io/o/r@sha256:" + "a" * 64, "ghcr.io", "o/r", "sha256:" + "a" * 64),
    ],
)
def test_image_ref_parse(text: str, registry: str, repository: str, reference: str) -> None:
    ref = ImageRef.parse(text)
    assert (ref.registry, ref.repository, ref.reference) == (registry, repository, reference)


CAPABILITIES = ("audit", "gate", "image", "validate", "capacity", "rollout", "savings", "commands")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_the_image_and_engine_checks_are_pure() -> None:
    """checks/ judges gathered facts: no I/O library, and importing it loads none."""
    for name in ("image.py", "engine.py"):
        imported = _imports(PACKAGE / "checks" / name)
        for banned in ("requests", "boto3", "botocore", "docker", "subprocess", "socket", "os"):
            assert not any(m == banned or m.startswith(banned + ".") for m in imported), name
        assert not any(
            m.startswith(("graviton.oci.registry", "graviton.oci.fetch")) for m in imported
        )
    code = (
        "import sys, graviton.checks.image, graviton.checks.engine;"
        "print(sorted(m for m in ('requests', 'boto3', 'botocore', 'docker') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"


def test_the_oci_adapter_imports_no_capability() -> None:
    """oci/ sits below every capability and below checks/: no import goes back up."""
    for path in (PACKAGE / "oci").glob("*.py"):
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] != "graviton" or len(parts) < 2:
                continue
            assert parts[1] not in (*CAPABILITIES, "checks", "report"), f"{path.name}: {module}"

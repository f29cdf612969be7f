"""``graviton validate`` on a real arm64 CPython image under QEMU (the docker test environment)."""

from __future__ import annotations

import subprocess

import jsonschema
import pytest

from graviton.report.validate import schema
from tests.image.conftest import BUSYBOX_DOCKERFILE, DockerEnv, busybox_context
from tests.validate.conftest import (
    BASE_IMAGE,
    Validated,
    ValidateImage,
    graviton,
    run_validate,
)

pytestmark = pytest.mark.docker


def test_x86_64_elf_in_a_pure_wheel_is_a_foreign_binary(on_graviton2: Validated) -> None:
    dist = on_graviton2.dist("gvt-fakedriver")
    assert dist["status"] == "foreign-binary"
    [elf] = dist["foreign"]
    assert elf["path"].endswith("/gvt_fakedriver/driver_linux64")
    assert (elf["machine"], elf["machine_name"]) == (62, "x86-64")
    assert "x86-64 ELF in an arm64 image" in dist["detail"]
    assert dist["modules"][0]["status"] == "ok"  # it imports: only the ELF scan catches it


def test_sve_extension_crashes_with_sigill_on_graviton2(on_graviton2: Validated) -> None:
    dist = on_graviton2.dist("gvt-svedemo")
    assert dist["status"] == "crashed"
    [module] = dist["modules"]
    assert (module["module"], module["signal"]) == ("gvt_svedemo", 4)
    assert module["detail"] == "illegal instruction: built for a newer CPU than graviton2"
    assert dist["native"] == 1 and dist["foreign"] == []


def test_sve_extension_imports_on_graviton3_and_run_sees_256_bit_vectors(
    on_graviton3: Validated,
) -> None:
    assert on_graviton3.dist("gvt-svedemo")["status"] == "ok"
    run = on_graviton3.doc["run"]
    assert run["status"] == "ok" and run["exit_code"] == 0
    assert "vector bytes 32" in run["tail"]  # Graviton3's SVE is 256 bits wide


def test_import_error_and_timeout(on_graviton2: Validated) -> None:
    broken = on_graviton2.dist("gvt-brokenmod")
    assert broken["status"] == "import-error"
    assert broken["detail"] == "import gvt_brokenmod: ImportError: gvt_brokenmod needs libgvt.so.1"
    slow = on_graviton2.dist("gvt-slowmod")
    assert slow["status"] == "timeout"
    assert slow["modules"][0]["detail"].startswith("no answer in")


def test_qemu_cpu_reaches_the_emulator(on_graviton2: Validated, on_graviton3: Validated) -> None:
    """QEMU_CPU from ``docker run -e`` reaches the binfmt-started qemu: the CPU features the
    container's processes read (AT_HWCAP) are the model's, not QEMU's default ``max``."""
    g2, g3 = on_graviton2.doc["cpu"], on_graviton3.doc["cpu"]
    assert (g2["qemu_cpu"], g3["qemu_cpu"]) == ("neoverse-n1", "max,sve256=on")
    assert g2["seen"]["machine"] == "aarch64"
    assert g2["seen"]["sve"] is False and g2["seen"]["sve_vector_bits"] is None
    assert g3["seen"]["sve"] is True and g3["seen"]["sve_vector_bits"] == 256
    assert g2["seen"]["hwcap"] != g3["seen"]["hwcap"]


def test_json_follows_the_published_schema(
    on_graviton2: Validated, on_graviton3: Validated
) -> None:
    for validated in (on_graviton2, on_graviton3):
        jsonschema.validate(validated.doc, schema())
        assert validated.result.returncode == 1  # failing results on both
    assert on_graviton2.doc["counts"]["crashed"] == 1


def test_text_prints_one_line_per_distribution_and_a_summary(test_image: ValidateImage) -> None:
    result = graviton("validate", test_image.ref, "--cpu", "graviton2", "--import-timeout", "8s")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    names = ["gvt-brokenmod", "gvt-fakedriver", "gvt-slowmod", "gvt-svedemo", "pip", "setuptools"]
    for name in names:
        [line] = [ln for ln in lines if f" {name} " in ln]
        assert line.split()[0] in {"ok", "crashed", "foreign-binary", "import-error", "timeout"}
    assert lines[-1].startswith("FAIL: 7 distributions (1 crashed, 1 foreign-binary, ")
    assert "on graviton2 (QEMU_CPU=neoverse-n1)" in lines[-1]


def test_clean_image_passes_and_run_failure_fails() -> None:
    """The bare base image: every distribution imports (exit 0); a failing --run makes it 1."""
    ok = run_validate(BASE_IMAGE, "--cpu", "graviton4")
    assert ok.result.returncode == 0, ok.result.stdout + ok.result.stderr
    assert ok.doc["result"] == "pass" and ok.doc["cpu"]["seen"]["sve2"] is True
    failed = run_validate(BASE_IMAGE, "--run", "python3 -c 'import sys; print(1); sys.exit(5)'")
    assert failed.result.returncode == 1
    assert failed.doc["run"]["status"] == "failed" and failed.doc["run"]["exit_code"] == 5


def test_hard_timeout_removes_the_container_and_is_an_error(test_image: ValidateImage) -> None:
    result = graviton("validate", test_image.ref, "--timeout", "3s", "--import-timeout", "60s")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "graviton: error: --timeout 3s reached" in result.stderr
    left = subprocess.run(
        ["docker", "ps", "-a", "--filter", "name=graviton-validate-", "--format", "{{.Image}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    # this session's image repository only (it runs by digest: repo@sha256:...); other test
    # runs on the same machine may have their own validate containers up
    repository = test_image.ref.rsplit(":", 1)[0]
    ours = [
        image
        for image in left.stdout.split()
        if image == repository or image.startswith((repository + "@", repository + ":"))
    ]
    assert not ours


def test_image_without_arm64_variant_fails(
    validate_env: DockerEnv, tmp_path_factory: pytest.TempPathFactory
) -> None:
    context = busybox_context(validate_env, tmp_path_factory.mktemp("amd64only"))
    (context / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    ref = f"{validate_env.repo('validate-amd64only')}:1"
    subprocess.run(
        ["docker", "buildx", "build", "--platform", "linux/amd64", "-t", ref, "--push", "."],
        cwd=context,
        capture_output=True,
        check=True,
    )
    result = graviton("validate", ref)
    assert result.returncode == 1, result.stderr
    assert "lacks linux/arm64" in result.stderr and result.stderr.count("\n") == 1
    missing = graviton("validate", ref.replace(":1", ":no-such-tag"))
    assert missing.returncode == 3, missing.stderr
    assert missing.stderr.startswith("graviton: error: ") and missing.stderr.count("\n") == 1

"""Fixtures for ``graviton validate``'s tests.

The ``docker`` tests run a real arm64 CPython image (Debian bookworm's, built by
``scripts/docker-test-env.sh`` with mmdebstrap, no Docker Hub) under QEMU. One test image is built
once per session: FROM that base, with three wheels installed by pip under QEMU:

* ``gvt-fakedriver``: ``py3-none-any`` carrying an x86-64 executable (the amd64 static busybox),
  like chromedriver-py's ``chromedriver_linux64``;
* ``gvt-svedemo``: a C extension cross-compiled with ``aarch64-linux-gnu-gcc -march=armv8.2-a+sve``
  whose module init runs ``cntb`` (an SVE instruction): SIGILL on Graviton2's Neoverse N1;
* ``gvt-brokenmod``: a module that raises ImportError;
* ``gvt-slowmod``: a module whose import sleeps for a minute (the per-module timeout).

Like tests/image, a missing environment skips with the reason, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.image.conftest import DockerEnv, docker_env  # noqa: F401 - the shared fixture
from tests.savings.conftest import aws_env, moto, moto_url  # noqa: F401 - shared fixtures
from tests.validate.wheels import build_wheel

BASE_IMAGE = os.environ.get(
    "GRAVITON_PYTHON_ARM64_IMAGE", "localhost:5000/graviton-test/python-arm64:3.11-bookworm"
)
PYTHON_DEV = Path(
    os.environ.get("GRAVITON_PYTHON_ARM64_DEV_DIR", "/var/cache/graviton/python-arm64-dev")
)
CROSS_GCC = "aarch64-linux-gnu-gcc"
IMPORT_TIMEOUT = "8s"  # gvt-slowmod sleeps 60 s; everything else imports in ~1 s under QEMU

SVE_SOURCE = r"""
#include <Python.h>

static struct PyModuleDef svedemo = {PyModuleDef_HEAD_INIT, "gvt_svedemo", NULL, -1, NULL};

PyMODINIT_FUNC PyInit_gvt_svedemo(void) {
    unsigned long bytes;
    __asm__ volatile("cntb %0" : "=r"(bytes));  /* SVE: the vector length in bytes */
    PyObject *module = PyModule_Create(&svedemo);
    if (module != NULL) PyModule_AddIntConstant(module, "vector_bytes", (long)bytes);
    return module;
}
"""


def _prerequisites() -> str | None:
    if shutil.which(CROSS_GCC) is None:
        return f"no {CROSS_GCC}"
    if not (PYTHON_DEV / "usr/include/aarch64-linux-gnu/python3.11/pyconfig.h").is_file():
        return f"no arm64 CPython headers in {PYTHON_DEV}"
    probe = subprocess.run(
        ["docker", "buildx", "imagetools", "inspect", BASE_IMAGE],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if probe.returncode != 0:
        return f"no arm64 CPython base image {BASE_IMAGE}"
    return None


def graviton(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "graviton.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class Validated:
    result: subprocess.CompletedProcess[str]

    @property
    def doc(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.result.stdout)
        return loaded

    def dist(self, name: str) -> dict[str, Any]:
        found = [d for d in self.doc["distributions"] if d["name"] == name]
        assert found, f"{name} not reported: {[d['name'] for d in self.doc['distributions']]}"
        return found[0]


def compile_sve_extension(directory: Path) -> bytes:
    source = directory / "svedemo.c"
    source.write_text(SVE_SOURCE)
    target = directory / "gvt_svedemo.so"
    subprocess.run(
        [
            CROSS_GCC,
            "-march=armv8.2-a+sve",
            "-O1",
            "-shared",
            "-fPIC",
            f"-I{PYTHON_DEV}/usr/include/python3.11",
            f"-I{PYTHON_DEV}/usr/include",
            "-o",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return target.read_bytes()


def build_wheels(env: DockerEnv, directory: Path) -> None:
    x86_binary = (env.busybox / "amd64" / "bin" / "busybox").read_bytes()
    build_wheel(
        directory,
        "gvt-fakedriver",
        "1.0",
        "py3-none-any",
        {
            "gvt_fakedriver/__init__.py": b"DRIVER = 'driver_linux64'\n",
            "gvt_fakedriver/driver_linux64": x86_binary,
        },
        {"gvt_fakedriver/driver_linux64": 0o755},
    )
    build_wheel(
        directory,
        "gvt-svedemo",
        "1.0",
        "cp311-cp311-linux_aarch64",
        {"gvt_svedemo.cpython-311-aarch64-linux-gnu.so": compile_sve_extension(directory)},
        {},
    )
    build_wheel(
        directory,
        "gvt-brokenmod",
        "1.0",
        "py3-none-any",
        {"gvt_brokenmod/__init__.py": b"raise ImportError('gvt_brokenmod needs libgvt.so.1')\n"},
        {},
    )
    build_wheel(
        directory,
        "gvt-slowmod",
        "1.0",
        "py3-none-any",
        {"gvt_slowmod.py": b"import time\ntime.sleep(60)\n"},
        {},
    )


@dataclass(frozen=True)
class ValidateImage:
    ref: str


@pytest.fixture(scope="session")
def validate_env(docker_env: DockerEnv) -> DockerEnv:  # noqa: F811 - the imported fixture
    reason = _prerequisites()
    if reason is not None:
        message = f"{reason}: run `sudo bash scripts/docker-test-env.sh` to set it up"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the validate test environment is missing: {message}")
        pytest.skip(message)
    return docker_env


@pytest.fixture(scope="session")
def test_image(validate_env: DockerEnv, tmp_path_factory: pytest.TempPathFactory) -> ValidateImage:
    """The arm64 image with the four test wheels, built (pip under QEMU) and pushed once."""
    context = tmp_path_factory.mktemp("validate-image")
    wheels = context / "wheels"
    wheels.mkdir()
    build_wheels(validate_env, wheels)
    (context / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\n"
        "COPY wheels/ /wheels/\n"
        "RUN pip install --no-index --no-deps --no-cache-dir /wheels/*.whl && rm -rf /wheels\n"
    )
    ref = f"{validate_env.repo('validate')}:1"
    build = subprocess.run(
        ["docker", "buildx", "build", "--platform", "linux/arm64", "-t", ref, "--push", "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    return ValidateImage(ref=ref)


def run_validate(image: str, *args: str) -> Validated:
    return Validated(
        graviton("validate", image, "--import-timeout", IMPORT_TIMEOUT, "--format", "json", *args)
    )


@pytest.fixture(scope="session")
def on_graviton2(test_image: ValidateImage) -> Validated:
    return run_validate(test_image.ref, "--cpu", "graviton2")


@pytest.fixture(scope="session")
def on_graviton3(test_image: ValidateImage) -> Validated:
    run = "python3 -c 'import gvt_svedemo; print(\"vector bytes\", gvt_svedemo.vector_bytes)'"
    return run_validate(test_image.ref, "--cpu", "graviton3", "--run", run)

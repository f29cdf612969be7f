"""Red-team cases for ``graviton validate``: probe output that lost or garbled records is not
proven (never a pass), and SIGTERM removes the container (exit 143)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graviton.instances import Generation
from graviton.validate.results import MARK, interpret
from tests.image.conftest import BUSYBOX_DOCKERFILE, DockerEnv, busybox_context, sigterm_midway
from tests.validate.conftest import BASE_IMAGE, graviton
from tests.validate.test_probe import install
from tests.validate.test_results import CPU_LINE, dist, imported, line


def _clean(records_before_done: int | None = None) -> list[str]:
    body = [CPU_LINE, dist("a", ["a"]), imported("a", "ok"), dist("b", ["b"]), imported("b", "ok")]
    count = len(body) if records_before_done is None else records_before_done
    return [*body, line("done", seconds=1.0, records=count)]


def test_cpu_auto_refuses_a_cluster_provider_whose_types_cannot_be_read() -> None:
    """The old code passed it over and validated on the readable provider's newer CPU."""
    from graviton.errors import PreflightError
    from graviton.validate.cluster import auto_generation

    types = {
        "arm7": ["m7g.large"],
        "attr": "its mixed instances policy picks instance types by attributes",
    }
    with pytest.raises(PreflightError, match=r"'attr'.*--provider"):
        auto_generation(types, explicit=False)


def test_a_clean_probe_output_has_no_problem() -> None:
    found = interpret(_clean(), Generation.GRAVITON2, None)
    assert found.complete and not found.problems
    assert [d.status.value for d in found.distributions] == ["ok", "ok"]


def test_a_lost_record_is_not_proven() -> None:
    """A dist record lost on the way (its import line too): the old code passed the rest."""
    lines = _clean()
    del lines[3:5]  # distribution "b" and its import never arrived
    found = interpret(lines, Generation.GRAVITON2, None)
    assert found.problems and "garbled or cut" in found.problems[0]


def test_a_record_garbled_by_other_output_is_not_proven() -> None:
    lines = _clean()
    lines[3] = "noise without a newline" + lines[3]  # the prefix is no longer at the start
    found = interpret(lines, Generation.GRAVITON2, None)
    assert found.problems and found.problems[0].startswith("garbled probe line")


@pytest.mark.parametrize(
    "record",
    [
        line("dist", name="a", modules=["a"], elf=[{"path": "/x/a.so"}]),  # no machine
        line("import", module="a", outcome="signal", signal="abc"),
    ],
)
def test_a_record_of_the_wrong_shape_is_not_proven(record: str) -> None:
    """Valid JSON with the probe's prefix but not its fields: the old code raised (exit 70)."""
    lines = [*_clean()[:-1], record, line("done", records=6)]
    found = interpret(lines, Generation.GRAVITON2, "true")
    assert found.problems and "unreadable probe" in found.problems[0]


def test_a_done_without_its_count_is_not_proven() -> None:
    lines = [*_clean()[:-1], line("done", seconds=1.0)]
    assert interpret(lines, Generation.GRAVITON2, None).problems


def test_a_run_that_timed_out_is_out_of_time() -> None:
    body = [CPU_LINE, line("run", outcome="timeout", seconds=14.0, tail="")]
    found = interpret([*body, line("done", records=2)], Generation.GRAVITON2, "sleep 600")
    assert found.out_of_time and not found.problems


@pytest.mark.docker
def test_a_run_that_hangs_is_not_proven_exit_3(validate_env: DockerEnv) -> None:
    """Its timeout is the --timeout budget running out: the old code made it a failing result
    (exit 1), unlike every other budget overrun."""
    result = graviton("validate", BASE_IMAGE, "--run", "sleep 600", "--timeout", "20s",
                      "--format", "json", timeout=300)  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "while --run was still running" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["result"] == "error" and doc["run"]["status"] == "timeout"


def test_the_real_probe_counts_its_records(tmp_path: Path) -> None:
    from graviton.validate.run import probe_source

    site = tmp_path / "site"
    install(site, "gvt-one", {"gvt_one.py": b""}, "gvt_one\n")
    proc = subprocess.run(
        [sys.executable, "-S", "-c", probe_source(), json.dumps({"run": ["true"]})],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=True,
    )
    found = interpret(proc.stdout.splitlines(), Generation.GRAVITON2, "true")
    assert found.complete and not found.problems, proc.stdout
    assert sum(ln.startswith(MARK) for ln in proc.stdout.splitlines()) >= 4


@pytest.mark.docker
def test_sigterm_removes_the_container_and_exits_143(validate_env: DockerEnv) -> None:
    """SIGTERM's default action ended graviton and left the emulated container running."""
    args = ["validate", BASE_IMAGE, "--run", "sleep 600", "--timeout", "15m"]
    ended = sigterm_midway(args, "graviton-validate")
    assert ended.returncode == 143, ended.stderr
    assert ended.stderr.strip().count("\n") == 0 and "SIGTERM" in ended.stderr
    assert not ended.left


# an ELF executable for a machine nothing emulates (e_machine 0x1234): the kernel answers
# ENOEXEC "exec format error", as it does for every arm64 program when QEMU is not registered
ELF_UNRUNNABLE = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x34\x12" + b"\x00" * 44


def _push(env: DockerEnv, context: Path, name: str, dockerfile: str) -> str:
    (context / "Dockerfile").write_text(dockerfile)
    ref = f"{env.repo(name)}:1"
    build = subprocess.run(
        ["docker", "buildx", "build", "--platform", "linux/arm64", "-t", ref, "--push", "."],
        cwd=context, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    return ref


@pytest.mark.docker
def test_an_image_without_python_is_one_line_exit_2(
    validate_env: DockerEnv, tmp_path: Path
) -> None:
    """With --init, tini (not docker) reports the missing entrypoint; the old code took its
    message for the probe stopping (exit 3) and never tried ``python``."""
    ref = _push(
        validate_env, busybox_context(validate_env, tmp_path), "rt-nopython", BUSYBOX_DOCKERFILE
    )
    result = graviton("validate", ref, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "has no python3 or python on its PATH" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.docker
def test_an_image_with_only_python_is_validated_with_it(
    validate_env: DockerEnv, tmp_path: Path
) -> None:
    dockerfile = f"FROM {BASE_IMAGE}\nRUN ln -s python3.11 /usr/bin/python && rm /usr/bin/python3\n"
    ref = _push(validate_env, tmp_path, "rt-onlypython", dockerfile)
    result = graviton("validate", ref, "--format", "json", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["result"] == "pass"


@pytest.mark.docker
def test_an_engine_that_cannot_run_the_program_says_so_exit_3(
    validate_env: DockerEnv, tmp_path: Path
) -> None:
    """Every program of the image unrunnable (its python3 and the /bin/sh an ENOEXEC falls
    back to), as every arm64 program is when QEMU is not registered."""
    for name in ("python3", "sh"):
        (tmp_path / name).write_bytes(ELF_UNRUNNABLE)
        (tmp_path / name).chmod(0o755)
    context = tmp_path
    dockerfile = "FROM scratch\nCOPY python3 sh /bin/\n"
    ref = _push(validate_env, context, "rt-noexec", dockerfile)
    result = graviton("validate", ref, timeout=300)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    assert "exec format error" in result.stderr and "binfmt_misc" in result.stderr

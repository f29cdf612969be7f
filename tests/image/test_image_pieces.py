"""Pure parts of the build: buildx/bake arguments, smoke verdicts, flag parsing, pyproject
images, and the CLI's usage and unreachable-engine exits (no engine needed)."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from graviton.commands.build import load_images
from graviton.errors import InputError, UsageError
from graviton.image import buildx, emulated, smoke
from graviton.image.run import parse_build_args, parse_platforms
from graviton.timeutil import parse_duration


def test_build_args_are_an_argument_list() -> None:
    req = buildx.BuildRequest(
        context="ctx dir",
        tags=("r/a:1", "r/a:latest"),
        dockerfile="docker/Dockerfile",
        push=True,
        builder="multi",
        cache_from=("type=registry,ref=r/a:cache",),
        cache_to=("type=inline",),
        build_args=(("PY", "3.12"), ("EMPTY", "")),
        provenance=False,
        target="app",
    )
    args = buildx.build_args(req, "/tmp/m.json")
    assert args[:2] == ["buildx", "build"]
    assert args[-1] == "ctx dir"  # one argument, no shell quoting needed
    pairs = list(itertools.pairwise(args))
    for pair in [
        ("--metadata-file", "/tmp/m.json"),
        ("--platform", "linux/amd64,linux/arm64"),
        ("--tag", "r/a:1"),
        ("--tag", "r/a:latest"),
        ("--file", "docker/Dockerfile"),
        ("--builder", "multi"),
        ("--build-arg", "PY=3.12"),
        ("--build-arg", "EMPTY="),
        ("--cache-from", "type=registry,ref=r/a:cache"),
        ("--cache-to", "type=inline"),
        ("--target", "app"),
        ("--progress", "plain"),
    ]:
        assert pair in pairs
    assert "--provenance=false" in args and "--push" in args
    plain = buildx.build_args(buildx.BuildRequest(context=".", tags=("a",)), "m")
    assert "--push" not in plain and not any(a.startswith("--provenance") for a in plain)


def test_bake_definition_is_json_bake() -> None:
    targets = [
        buildx.BakeTarget("api", "/src/api", ("r/api:1",), args=(("A", "1"),)),
        buildx.BakeTarget(
            "worker",
            "/src/w",
            ("r/w:1",),
            dockerfile="w.Dockerfile",
            platforms=("linux/arm64",),
            target="prod",
        ),
    ]
    bake = buildx.bake_definition(targets)
    assert bake["group"] == {"default": {"targets": ["api", "worker"]}}
    assert bake["target"]["api"] == {
        "context": "/src/api",
        "tags": ["r/api:1"],
        "platforms": ["linux/amd64", "linux/arm64"],
        "args": {"A": "1"},
    }
    assert bake["target"]["worker"]["dockerfile"] == "w.Dockerfile"
    assert bake["target"]["worker"]["target"] == "prod"
    json.dumps(bake)  # serialisable as a bake file
    args = buildx.bake_args("b.json", "m.json", push=True, provenance=True)
    assert args[:4] == ["buildx", "bake", "--file", "b.json"]
    assert "--push" in args and "--provenance=true" in args


def test_build_failure_reason_is_buildx_error_line() -> None:
    lines = [
        "#5 [2/2] RUN false",
        "#5 ERROR: process did not complete",
        "ERROR: failed to solve: x",
    ]
    assert buildx._reason(lines) == "failed to solve: x"


@pytest.mark.parametrize(
    ("platform", "stdout", "code", "ok", "message"),
    [
        ("linux/arm64", "aarch64\n", 0, True, "reports arm64"),
        ("linux/amd64", "x86_64\n", 0, True, "reports amd64"),
        ("linux/arm64", "x86_64\n", 0, False, "reports amd64, expected arm64"),
        ("linux/arm64", "ready\n", 0, True, "exit 0 (no architecture printed)"),
        ("linux/arm64", "", 1, False, "exited 1"),
        ("linux/arm64", "", None, False, "timed out after 5s"),
    ],
)
def test_smoke_judge(platform: str, stdout: str, code: int | None, ok: bool, message: str) -> None:
    warning = "WARNING: The requested image's platform (linux/arm64) does not match (linux/amd64)"
    result = smoke.judge(platform, "r/x@sha256:1", stdout, code, 5, stderr=warning)
    assert result.ok is ok
    assert message in result.message


def test_smoke_exec_format_error_hint() -> None:
    result = smoke.judge("linux/arm64", "i", "", 1, 5, stderr="exec /bin/sh: exec format error")
    assert "binfmt" in result.message


def test_smoke_command_parsing() -> None:
    assert smoke.parse_command("python -c 'import platform; print(platform.machine())'") == [
        "python",
        "-c",
        "import platform; print(platform.machine())",
    ]
    with pytest.raises(UsageError):
        smoke.parse_command("  ")
    with pytest.raises(UsageError):
        smoke.parse_command("echo 'unterminated")


def test_smoke_runs_the_command_not_the_entrypoint() -> None:
    args = emulated.run_args("r/x@sha256:1", "linux/arm64", ["uname", "-m"], "n")
    assert args[args.index("--entrypoint") + 1] == "uname"
    assert args[args.index("--platform") + 1] == "linux/arm64"
    assert args[-2:] == ["r/x@sha256:1", "-m"]


def test_flag_parsing() -> None:
    assert parse_platforms(["linux/amd64,linux/arm64", "linux/arm64"], ()) == (
        "linux/amd64",
        "linux/arm64",
    )
    assert parse_platforms([], ("linux/amd64",)) == ("linux/amd64",)
    with pytest.raises(UsageError):
        parse_platforms(["arm64"], ())
    assert parse_duration("120s") == 120
    assert parse_duration("1m30s") == 90
    assert parse_duration("45") == 45
    for bad in ("soon", "0s", "10x"):
        with pytest.raises(UsageError):
            parse_duration(bad)
    assert parse_build_args(["A=1", "B=x=y", "C="]) == (("A", "1"), ("B", "x=y"), ("C", ""))
    with pytest.raises(UsageError):
        parse_build_args(["NOVALUE"])


def test_load_images_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    project = tmp_path / "pyproject.toml"
    project.write_text(
        "[tool.graviton.images.api]\n"
        'context = "svc"\n'
        'tags = "r/api:1"\n'
        'args = { PY = "3.12" }\n'
        "[tool.graviton.images.worker]\n"
        'tags = ["r/w:1", "r/w:latest"]\n'
        'platforms = ["linux/arm64"]\n'
    )
    api, worker = load_images(project, None)
    assert api.context == str((tmp_path / "svc").resolve()) and api.tags == ("r/api:1",)
    assert api.args == (("PY", "3.12"),) and api.platforms == ("linux/amd64", "linux/arm64")
    assert worker.context == str(tmp_path.resolve()) and worker.platforms == ("linux/arm64",)
    assert load_images(project, ("linux/amd64",))[1].platforms == ("linux/amd64",)
    project.write_text('[tool.graviton.images.x]\ntags = ["a"]\nbogus = 1\n')
    with pytest.raises(InputError, match="unknown key 'bogus'"):
        load_images(project, None)
    project.write_text("[tool.other]\n")
    with pytest.raises(InputError, match=r"no \[tool\.graviton\.images"):
        load_images(project, None)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "graviton.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["build", "."], "-t IMAGE:TAG"),
        (["build", "--platform", "arm64", "-t", "a"], "os/arch"),
        (["build", "--smoke-timeout", "soon", "-t", "a"], "duration"),
        (["build", "--build-arg", "X", "-t", "a"], "KEY=VALUE"),
        (["build", "--all", "-t", "a"], "--all"),
        (["verify", "Not An Image"], "image reference"),
    ],
)
def test_usage_errors_exit_2(args: list[str], needle: str) -> None:
    result = _cli(*args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_no_engine_is_exit_3(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    sock = tmp_path / "nothing.sock"
    result = _cli("build", "--check-only", str(tmp_path), env={"DOCKER_HOST": f"unix://{sock}"})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "docker engine unreachable" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_registry_is_exit_3() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _cli("verify", f"127.0.0.1:{port}/app:1")
    assert result.returncode == 3
    assert "registry unreachable" in result.stderr


def test_emulated_runs_get_an_init_process_and_the_env() -> None:
    """Without --init the emulated program is PID 1 and a SIGILL under QEMU never ends it."""
    args = emulated.run_args("r/x@sha256:1", "linux/arm64", ["python3", "-V"], "n", {"A": "1"})
    assert "--init" in args and args.index("--init") < args.index("r/x@sha256:1")
    assert args[args.index("--env") + 1] == "A=1"


def test_emulated_runs_write_no_core_file() -> None:
    """validate's runner had --ulimit core=0 and the smoke run's had not: one runner now."""
    args = emulated.run_args("r/x@sha256:1", "linux/arm64", ["python3", "-V"], "n")
    assert args[args.index("--ulimit") + 1] == "core=0"
    assert args.index("--ulimit") < args.index("r/x@sha256:1")


@pytest.mark.parametrize(
    ("code", "described"),
    [
        (132, "illegal instruction (SIGILL)"),
        (139, "segmentation fault (SIGSEGV)"),
        (137, "killed (SIGKILL)"),
        (1, "exited 1"),
        (None, "timed out after 5s and was killed"),
    ],
)
def test_how_a_run_ended(code: int | None, described: str) -> None:
    assert emulated.RunResult(code, "", "", 5).describe() == described


def test_smoke_reports_sigill_as_an_illegal_instruction() -> None:
    stderr = "qemu: uncaught target signal 4 (Illegal instruction) - core dumped"
    result = smoke.judge("linux/arm64", "r/x@sha256:1", "", 132, 5, stderr=stderr)
    assert not result.ok and result.exit_code == 132
    assert result.message.startswith("illegal instruction (SIGILL)")


def test_a_missing_program_is_told_from_a_failing_one() -> None:
    runc = (
        "docker: Error response from daemon: failed to create task for container: failed to "
        "create shim task: OCI runtime create failed: runc create failed: unable to start "
        'container process: exec: "uname": executable file not found in $PATH: unknown.'
    )
    assert emulated.RunResult(127, "", runc, 5).command_not_found
    assert not emulated.RunResult(127, "", "sh: foo: not found", 5).command_not_found
    assert not emulated.RunResult(1, "", runc, 5).command_not_found

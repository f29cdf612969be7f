"""The composite action, run as GitHub would run its shell steps: action.yml is parsed, each
``run:`` step gets its ``${{ ... }}`` expressions and ``env:`` substituted, is written to a file
and runs exactly as GitHub runs ``shell: bash`` (``bash --noprofile --norc -eo pipefail FILE``)
with GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / RUNNER_TEMP pointing at temporary files; ``uses:``
steps are not run, but what they would get (their ``if:`` and ``with:``) is recorded.
The install step really installs graviton from the action's path into a fresh venv
(its dependencies are taken from the test environment, so no download is needed)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.gate.conftest import REPO, Fixture

ACTION = REPO / "action.yml"
WORKFLOW = REPO / "examples" / "github-workflow.yml"
SARIF_SCHEMA = REPO / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
# https://docs.github.com/actions/reference/workflow-syntax-for-github-actions#jobsjob_idstepsshell
GITHUB_BASH = ("bash", "--noprofile", "--norc", "-eo", "pipefail")


def evaluate(condition: str) -> bool:
    """The only ``if:`` shapes action.yml uses: ``X == 'Y'`` after substitution, or true."""
    condition = condition.strip()
    if condition == "true":
        return True
    left, sep, right = condition.partition("==")
    assert sep, f"unexpected if: {condition}"
    return left.strip().strip("'") == right.strip().strip("'")


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


@dataclass
class ActionRun:
    outputs: dict[str, str] = field(default_factory=dict)
    logs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)
    exit_code: int = 0
    skipped: list[str] = field(default_factory=list)
    # for each ``uses:`` step reached: (action, its if: condition, its with: values) as GitHub
    # would evaluate them at that point of the run
    reached: list[tuple[str, bool, dict[str, str]]] = field(default_factory=list)


def parse_outputs(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def run_action(inputs: dict[str, str], workdir: Path, tmp: Path, env: dict[str, str]) -> ActionRun:
    action = load(ACTION)
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"not declared by action.yml: {unknown}"
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values.update(inputs)
    output_file, summary = tmp / "github_output", tmp / "step_summary"
    output_file.write_text("", encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    result = ActionRun()

    def expand(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m[1]
            if expr.startswith("inputs."):
                return values[expr.removeprefix("inputs.")]
            if expr == "github.action_path":
                return str(REPO)
            if expr.startswith("steps.gate.outputs."):
                return parse_outputs(output_file).get(expr.removeprefix("steps.gate.outputs."), "")
            raise AssertionError(f"unexpected expression in a run step: {expr}")

        return EXPRESSION.sub(one, text)

    for number, step in enumerate(action["runs"]["steps"]):
        if "uses" in step:
            result.skipped.append(step["uses"])
            condition = str(step.get("if", "true"))
            if inner := EXPRESSION.fullmatch(condition.strip()):
                condition = re.sub(r"inputs\.([a-z-]+)", lambda m: repr(values[m[1]]), inner[1])
            with_ = {k: expand(str(v)) for k, v in (step.get("with") or {}).items()}
            result.reached.append((step["uses"], evaluate(condition), with_))
            continue
        assert step["shell"] == "bash"
        step_env = {
            **env,
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(tmp),
            **{k: expand(str(v)) for k, v in (step.get("env") or {}).items()},
        }
        cwd = workdir / expand(step.get("working-directory", "."))
        script = tmp / f"step-{number}.sh"
        script.write_text(expand(step["run"]), encoding="utf-8")
        proc = subprocess.run(
            [*GITHUB_BASH, str(script)],
            cwd=cwd,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        result.logs.append(proc)
        if proc.returncode != 0:
            result.exit_code = proc.returncode
            break
    result.outputs = parse_outputs(output_file)
    return result


@pytest.fixture
def runner_temp(tmp_path: Path) -> Path:
    """RUNNER_TEMP with the action's venv made in advance, seeing the test environment's
    packages through a .pth file: the install step then installs only graviton itself."""
    temp = tmp_path / "runner"
    venv = temp / "graviton-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    Path(purelib, "graviton-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return temp


def action_env(repo: Fixture) -> dict[str, str]:
    env = repo.env()
    env.pop("PYTHONPATH")  # the installed graviton runs, not the checkout
    env["PATH"] = os.environ["PATH"]
    return env


def test_action_steps_gate_the_fixture_repository(repo: Fixture, runner_temp: Path) -> None:
    run = run_action(
        {"upload-sarif": "true", "junit-file": "junit.xml", "python-interpreter": sys.executable},
        repo.root,
        runner_temp,
        action_env(repo),
    )
    assert run.skipped == ["github/codeql-action/upload-sarif@v3"]
    install, gate, fail = run.logs
    assert install.returncode == 0, install.stderr
    # under GitHub's `bash -e` the gate step reports (outputs, SARIF) and ends 0 ...
    assert gate.returncode == 0, gate.stderr
    # ... so the upload step runs, with a SARIF file there to upload ...
    [(_, upload_runs, upload_with)] = run.reached
    assert upload_runs and Path(upload_with["sarif_file"]).is_file()
    # ... and the last step fails the job
    assert fail.returncode == 1 and run.exit_code == 1
    out = run.outputs
    assert out["result"] == "fail" and out["exit-code"] == "1"
    assert (out["blocked"], out["native"], out["pure"]) == ("1", "1", "2")
    assert out["dockerfile-errors"] == "1" and out["images-failing"] == "1"
    assert out["failing"] == "3"
    # the log carries GitHub annotations; the summary and the reports are written
    assert "::error file=services/api/Dockerfile,line=3" in gate.stdout
    summary = (runner_temp / "step_summary").read_text(encoding="utf-8")
    assert summary.startswith("## graviton gate: FAIL")
    sarif = json.loads(Path(out["sarif-file"]).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(sarif)
    assert json.loads(Path(out["json-file"]).read_text(encoding="utf-8"))["result"] == "fail"
    assert "<testsuites" in (repo.root / "junit.xml").read_text(encoding="utf-8")
    for name in action_outputs():
        assert name in out, f"output {name} not set"


def test_action_passes_with_accepted_findings_and_report_only(
    repo: Fixture, runner_temp: Path
) -> None:
    ignore = "\n".join(
        [
            "shioaji==1.2.5:2099-01-01:upgrade to 1.2.6 planned",
            "GVD003:2099-01-01:the tool is replaced",
        ]
    )
    inputs = {
        "ignore": ignore,
        "paths": "services",
        "images": repo.image("acme/api:1.0"),
        "format": "text",
        "python-interpreter": sys.executable,
    }
    run = run_action(inputs, repo.root, runner_temp, action_env(repo))
    assert run.exit_code == 0, [p.stderr for p in run.logs]
    assert run.outputs["result"] == "pass" and run.outputs["images"] == "1"
    assert run.reached[0][1] is False  # upload-sarif is off: no upload
    assert Path(run.outputs["sarif-file"]).is_file()
    # report only: the gate fails but the step does not; every output is still written
    run = run_action(
        {"fail": "false", "upload-sarif": "true", "python-interpreter": sys.executable},
        repo.root,
        runner_temp,
        action_env(repo),
    )
    assert run.exit_code == 0 and run.outputs["result"] == "fail"
    assert [p.returncode for p in run.logs] == [0, 0, 0]
    assert run.outputs["exit-code"] == "1" and run.outputs["blocked"] == "1"
    for name in action_outputs():
        assert name in run.outputs, f"output {name} not set"
    [(_, upload_runs, upload_with)] = run.reached
    assert upload_runs and Path(upload_with["sarif_file"]).is_file()


def test_action_errors_fail_the_step_with_their_exit_code(repo: Fixture, runner_temp: Path) -> None:
    run = run_action(
        {"paths": "no/such/dir", "fail": "false", "python-interpreter": sys.executable},
        repo.root,
        runner_temp,
        action_env(repo),
    )
    assert run.exit_code == 2
    assert run.outputs == {"exit-code": "2"}
    assert "no/such/dir: no such file or directory" in run.logs[1].stderr


def action_outputs() -> list[str]:
    return list(load(ACTION)["outputs"])


def test_every_output_comes_from_the_gate_step() -> None:
    for name, spec in load(ACTION)["outputs"].items():
        assert spec["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"


def test_example_workflow_uses_only_declared_inputs_and_outputs() -> None:
    workflow = load(WORKFLOW)
    action = load(ACTION)
    used = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).split("@")[0].endswith("graviton") or step.get("uses") == "./"
    ]
    assert used, "the example workflow does not use the action"
    for step in used:
        assert set(step.get("with", {})) <= set(action["inputs"])
    text = WORKFLOW.read_text(encoding="utf-8")
    for name in re.findall(r"steps\.graviton\.outputs\.([a-z-]+)", text):
        assert name in action["outputs"]
    # SARIF upload needs the permission
    perms = [job.get("permissions", {}) for job in workflow["jobs"].values()]
    assert any(p.get("security-events") == "write" for p in perms)


def test_ci_doc_snippets_are_valid_and_name_real_inputs_and_hooks() -> None:
    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    docs = [yaml.safe_load(block) for block in blocks]
    assert len(docs) == 3
    gitlab = docs[1]["graviton"]
    assert gitlab["artifacts"]["reports"]["junit"] == "graviton-junit.xml"
    assert "--write junit:graviton-junit.xml" in " ".join(gitlab["script"])
    hook_ids = {h["id"] for h in docs[2]["repos"][0]["hooks"]}
    assert hook_ids <= {"graviton-audit", "graviton-gate"}
    declared = load(ACTION)["inputs"]
    for name in re.findall(
        r"`([a-z][a-z-]+)`", text.split("**Inputs**")[1].split("**Outputs**")[0]
    ):
        assert name in declared, name


REF = re.compile(r"graviton/graviton@([^\s\"'#`]+)|^\s*rev:\s*([^\s#]+)", re.MULTILINE)


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30, check=False
    )


def test_the_docs_name_only_refs_that_exist() -> None:
    """`@v1` or `rev: v1.0.0` when the repository has no such tag sends users to a 404."""
    tags = set(git("tag", "--list").stdout.split())
    docs = [REPO / "README.md", REPO / "docs" / "ci.md", *REPO.glob("examples/*.yml")]
    refs = [
        (path.name, ref)
        for path in docs
        for m in REF.finditer(path.read_text(encoding="utf-8"))
        for ref in (m[1] or m[2] or "",)
        if ref and not ref.startswith("<")  # a placeholder the text explains
    ]
    assert refs, "the docs name no ref of the action, the hooks or the package"
    for name, ref in refs:
        if re.fullmatch(r"[0-9a-f]{40}", ref):
            assert git("cat-file", "-e", f"{ref}^{{commit}}").returncode == 0, (name, ref)
        else:
            assert ref in tags or ref == "main", f"{name} names {ref!r}: no such tag ({tags})"
    assert "Pinning" in (REPO / "docs" / "ci.md").read_text(encoding="utf-8")

"""``graviton gate`` end to end: the real CLI on a fixture repository, a real PEP 691 index and a
real OCI registry on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from graviton.report import jsondoc
from tests.gate.conftest import Fixture

SARIF_SCHEMA = Path(__file__).parents[1] / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def run_json(repo: Fixture, *args: str) -> tuple[int, dict[str, Any]]:
    proc = repo.gate("--no-cache", "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_blocked_pin_exits_1_and_sarif_validates(repo: Fixture) -> None:
    out = repo.root / "gate.sarif"
    proc = repo.gate("--no-cache", "--format", "sarif", "--output", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "wrote sarif" in proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    ).validate(doc)
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        # GitHub code scanning rejects the whole file when one result has no location
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri and not uri.startswith("/")
    by_rule = {(r["ruleId"], r["level"]): r for r in run["results"]}
    blocked = by_rule["GRV001", "error"]
    assert blocked["properties"]["package"] == "shioaji"
    loc = blocked["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "services/api/requirements.txt"
    assert loc["region"]["startLine"] == 2
    x86 = by_rule["GVD003", "error"]["locations"][0]["physicalLocation"]
    assert x86["artifactLocation"]["uri"] == "services/api/Dockerfile"
    assert x86["region"]["startLine"] == 3
    image = by_rule["GVI001", "error"]
    assert "acme/worker:1.0" in image["message"]["text"]
    assert "linux/arm64" in image["message"]["text"]
    # an image named in pyproject.toml points at its line there
    image_loc = image["locations"][0]["physicalLocation"]
    assert image_loc["artifactLocation"]["uri"] == "pyproject.toml"
    assert image_loc["region"]["startLine"] == 12
    assert run["invocations"][0]["exitCode"] == 1
    assert run["properties"]["result"] == "fail"


def test_json_carries_audit_dockerfile_and_image_findings(repo: Fixture) -> None:
    code, doc = run_json(repo)
    assert code == 1
    jsonschema.Draft202012Validator(jsondoc.schema()).validate(doc)
    assert doc["result"] == "fail"
    inputs = [i["path"] for i in doc["inputs"]]
    # the root pyproject.toml declares dependencies (none), the two services their pins;
    # .venv and node_modules are never read
    assert inputs == [
        "pyproject.toml",
        "services/api/requirements.txt",
        "services/worker/requirements.txt",
    ]
    verdicts = {(p["name"], p["file"]): p["verdict"] for p in doc["packages"]}
    assert verdicts["shioaji", "services/api/requirements.txt"] == "blocked"
    assert verdicts["numpy", "services/api/requirements.txt"] == "native"
    assert verdicts["requests", "services/worker/requirements.txt"] == "pure"
    assert [d["path"] for d in doc["dockerfiles"]] == [
        "services/api/Dockerfile",
        "services/worker/Dockerfile",
    ]
    checks = {(c["rule"], c["file"], c["line"]): c for c in doc["checks"]}
    assert checks["GVD003", "services/api/Dockerfile", 3]["failing"] is True
    assert not any(c["file"] == "services/worker/Dockerfile" for c in doc["checks"])
    images = {i["ref"]: i for i in doc["images"]}
    api, worker = repo.image("acme/api:1.0"), repo.image("acme/worker:1.0")
    assert images[api]["ok"] is True
    assert images[api]["platforms"] == ["linux/amd64", "linux/arm64"]
    assert images[worker]["ok"] is False and images[worker]["platforms"] == ["linux/amd64"]
    assert doc["counts"]["blocked"] == 1
    assert doc["counts"]["dockerfile_errors"] == 1
    assert doc["counts"]["images_failing"] == 1
    assert doc["counts"]["failing"] == 3


def test_junit_has_a_suite_per_kind_with_the_failures(repo: Fixture) -> None:
    proc = repo.gate("--no-cache", "--format", "junit")
    assert proc.returncode == 1, proc.stderr
    root = ET.fromstring(proc.stdout)
    assert root.get("name") == "graviton gate"
    suites = {s.get("name", ""): s for s in root.iter("testsuite")}
    names = list(suites)
    assert names[0].startswith("graviton gate: linux/aarch64 Python 3.11")
    assert names[1:] == ["graviton gate: Dockerfiles", "graviton gate: images"]
    failed = {
        case.get("name", "") for case in root.iter("testcase") if case.find("failure") is not None
    }
    assert "shioaji==1.2.5" in failed
    assert "GVD003 hard-coded x86 download: services/api/Dockerfile:3" in failed
    assert any(repo.image("acme/worker:1.0") in name for name in failed)
    dockerfiles = suites["graviton gate: Dockerfiles"]
    assert dockerfiles.get("tests") == "2" and dockerfiles.get("failures") == "1"
    assert root.get("failures") == "3"


def test_markdown_and_github_annotations(repo: Fixture) -> None:
    proc = repo.gate("--no-cache", "--format", "markdown")
    assert proc.returncode == 1, proc.stderr
    md = proc.stdout
    assert md.startswith("## graviton gate: FAIL")
    assert "### Not installable from a wheel" in md and "shioaji==1.2.5" in md
    assert "### Dockerfile findings" in md and "services/api/Dockerfile:3" in md
    assert "### Images" in md and "lacks linux/arm64" in md
    assert "No arm64 problem found in services/worker/Dockerfile." in md
    proc = repo.gate("--no-cache", "--format", "github")
    lines = proc.stdout.splitlines()
    assert (
        "::error file=services/api/requirements.txt,line=2,title=graviton%3A shioaji blocked::"
        in "\n".join(lines)
    )
    assert any(
        line.startswith("::error file=services/api/Dockerfile,line=3,title=graviton%3A GVD003")
        for line in lines
    )
    assert lines[-1].startswith("graviton gate: FAIL")


def test_step_summary_is_appended(repo: Fixture, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    proc = repo.gate("--no-cache", "--format", "text", GITHUB_STEP_SUMMARY=str(summary))
    assert proc.returncode == 1
    assert summary.read_text(encoding="utf-8").startswith("## graviton gate: FAIL")


def test_ignores_and_fail_on_govern_every_kind_of_finding(repo: Fixture) -> None:
    ignores = [
        "--ignore",
        "shioaji==1.2.5:2099-01-01:vendor ships arm64 wheels in 1.2.6, upgrade planned",
        "--ignore",
        "GVD003==services/api/Dockerfile:2099-01-01:the tool is replaced next sprint",
        "--ignore",
        "GVI001:2099-01-01:worker image rebuilt by the release pipeline",
    ]
    code, doc = run_json(repo, *ignores)
    assert code == 0, doc
    assert doc["result"] == "pass" and doc["counts"]["failing"] == 0
    ignored = [c for c in doc["checks"] if c["ignored"]]
    assert {c["rule"] for c in ignored} == {"GVD003", "GVI001"}
    # the Dockerfile warning rule: GVD005 ranks with "source"
    (repo.root / "services/worker/Dockerfile").write_text(
        "FROM scratch\nRUN curl -o /x https://example.com/x\n", encoding="utf-8"
    )
    code, doc = run_json(repo, *ignores)
    assert code == 0
    code, doc = run_json(repo, *ignores, "--fail-on", "source")
    assert code == 1
    assert [c["rule"] for c in doc["checks"] if c["failing"]] == ["GVD005"]


def test_expired_ignore_fails_the_gate(repo: Fixture) -> None:
    code, doc = run_json(
        repo, "--no-dockerfiles", "--ignore", "GVD005:2020-01-01:accepted long ago"
    )
    assert code == 1
    assert doc["expired_ignores"][0]["name"] == "GVD005"


def test_paths_dockerfile_and_image_flags_override_the_config(repo: Fixture) -> None:
    code, doc = run_json(
        repo,
        "services/worker",
        "--dockerfile",
        "services/worker/Dockerfile",
        "--image",
        repo.image("acme/api:1.0"),
    )
    assert code == 0, doc
    assert [i["path"] for i in doc["inputs"]] == ["services/worker/requirements.txt"]
    assert [d["path"] for d in doc["dockerfiles"]] == ["services/worker/Dockerfile"]
    assert [i["ref"] for i in doc["images"]] == [repo.image("acme/api:1.0")]
    code, doc = run_json(repo, "--exclude", "services/api", "--no-dockerfiles")
    assert code == 1  # the worker image still lacks arm64
    assert all("services/api" not in i["path"] for i in doc["inputs"])
    assert doc["dockerfiles"] == []


def test_missing_image_is_a_finding(repo: Fixture) -> None:
    code, doc = run_json(repo, "services/worker", "--image", repo.image("acme/gone:1"))
    assert code == 1
    (check,) = doc["checks"]
    assert check["rule"] == "GVI002" and "not found" in check["message"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no/such/dir",), "no/such/dir: no such file or directory"),
        (("--dockerfile", "missing/Dockerfile"), "missing/Dockerfile: no such Dockerfile"),
        (("--image", "UPPER/Case:1"), "bad repository in image reference"),
        (("--platform", "linux"), "--platform: 'linux' is not os/arch"),
    ],
)
def test_usage_errors_exit_2(repo: Fixture, args: tuple[str, ...], message: str) -> None:
    proc = repo.gate("--no-cache", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_malformed_lock_exits_2_naming_file_and_line(repo: Fixture) -> None:
    (repo.root / "services/api/requirements.txt").write_text("requests==2.32.3\nnumpy=>1\n")
    proc = repo.gate("--no-cache")
    assert proc.returncode == 2
    assert "services/api/requirements.txt:2" in proc.stderr and "Traceback" not in proc.stderr


def test_nothing_to_check_exits_2(repo: Fixture) -> None:
    empty = repo.root / "docs"
    empty.mkdir()
    # the config (found from the first path up to the repository root) still names images
    proc = repo.gate("--no-cache", "docs")
    assert proc.returncode == 1, proc.stderr
    proc = repo.gate("--no-cache", "docs", "--image", repo.image("acme/api:1.0"))
    assert proc.returncode == 0, proc.stderr  # an image alone is something to check
    (repo.root / "pyproject.toml").write_text("[tool.graviton.gate]\n", encoding="utf-8")
    proc = repo.gate("--no-cache", "docs")
    assert proc.returncode == 2 and "nothing to check" in proc.stderr


def test_unreachable_index_exits_3(repo: Fixture) -> None:
    proc = repo.gate("--no-cache", "--index-url", f"http://127.0.0.1:{dead_port()}/simple/")
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreachable_registry_exits_3(repo: Fixture) -> None:
    proc = repo.gate(
        "--no-cache", "services/worker", "--image", f"127.0.0.1:{dead_port()}/acme/api:1.0"
    )
    assert proc.returncode == 3, proc.stderr
    assert "registry unreachable" in proc.stderr and "Traceback" not in proc.stderr


def test_base_images_are_read_from_their_registry(repo: Fixture) -> None:
    (repo.root / "services/worker/Dockerfile").write_text(
        f"FROM {repo.image('acme/worker:1.0')}\n", encoding="utf-8"
    )
    code, doc = run_json(repo, "services/worker", "--image", repo.image("acme/api:1.0"))
    assert code == 1
    (check,) = doc["checks"]
    assert check["rule"] == "GVD001" and check["line"] == 1
    code, doc = run_json(
        repo, "services/worker", "--image", repo.image("acme/api:1.0"), "--no-base-images"
    )
    assert code == 0 and doc["checks"] == []

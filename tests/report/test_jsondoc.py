from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from graviton.findings import SCHEMA_VERSION, Report, Verdict
from graviton.report import jsondoc
from tests.report.conftest import build_report


def validator() -> jsonschema.Draft202012Validator:
    schema = jsondoc.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def errors(doc: Any) -> list[str]:
    return [e.message for e in validator().iter_errors(doc)]


@pytest.mark.parametrize(
    "report",
    [build_report(), build_report(Verdict.SOURCE, expired=False), build_report(Verdict.UNKNOWN)],
)
def test_renderings_validate_against_the_shipped_schema(report: Report) -> None:
    assert errors(json.loads(jsondoc.render(report))) == []


def test_passing_report_validates(passing: Report) -> None:
    doc = json.loads(jsondoc.render(passing))
    assert errors(doc) == []
    assert doc["result"] == "pass" and doc["expired_ignores"] == []


def test_schema_rejects_what_the_format_never_writes(report: Report) -> None:
    doc = json.loads(jsondoc.render(report))
    bad = copy.deepcopy(doc)
    bad["packages"][0]["verdict"] = "maybe"
    assert errors(bad)
    bad = copy.deepcopy(doc)
    del bad["packages"][0]["fix"]
    assert errors(bad)
    bad = copy.deepcopy(doc)
    bad["packages"][0]["fix"] = {"min": "1.2.6"}
    assert errors(bad)
    bad = copy.deepcopy(doc)
    bad["schema"] = "graviton.audit/v2"
    assert errors(bad)
    bad = copy.deepcopy(doc)
    bad["generated"] = "yesterday"
    assert errors(bad)
    bad = copy.deepcopy(doc)
    bad["surprise"] = 1
    assert errors(bad)


def test_header(report: Report) -> None:
    doc = json.loads(jsondoc.render(report))
    assert doc["schema"] == SCHEMA_VERSION
    assert doc["generated"] == "2026-11-27T10:00:00Z"
    assert doc["targets"] == [
        {
            "python": "3.11",
            "libc": "glibc",
            "libc_version": "2.28",
            "arch": "aarch64",
            "name": None,
        },
        {
            "python": "3.12",
            "libc": "glibc",
            "libc_version": "2.28",
            "arch": "aarch64",
            "name": "al2023-ish",
        },
    ]
    assert doc["inputs"] == [
        {"path": "requirements.txt", "format": "requirements", "pins": 9},
        {"path": "services/api/poetry.lock", "format": "poetry.lock", "pins": 2},
    ]
    assert doc["fail_on"] == "blocked" and doc["result"] == "fail"
    assert doc["counts"] == report.counts()
    assert sum(doc["counts"].values()) == len(doc["packages"]) == len(report.findings)
    assert doc["expired_ignores"] == [
        {
            "name": "shioaji",
            "version": "1.2.5",
            "reason": "vendor promised arm64 wheels",
            "expires": "2026-01-31",
        }
    ]


def test_packages(report: Report) -> None:
    packages = json.loads(jsondoc.render(report))["packages"]
    first = packages[0]
    assert first == {
        "name": "shioaji",
        "version": "1.2.5",
        "specifier": "==1.2.5",
        "python": "3.11",
        "verdict": "blocked",
        "reason": "no linux/aarch64 wheel: only x86_64 Linux and macOS arm64 wheels and no sdist",
        "fix": {"min": "1.2.6", "latest": "1.7.9", "crosses_major": False},
        "file": "requirements.txt",
        "line": 3,
        "marker": None,
        "url": None,
        "wheel": None,
        "index": "https://pypi.org/simple/",
        "ignored": None,
        "failing": True,
    }
    by = {(p["name"], p["python"]): p for p in packages}
    assert by["legacy-sdk", "3.12"]["ignored"] == {
        "reason": "replaced by v2 in Q1, see <wiki> | OPS-12",
        "expires": "2027-03-31",
    }
    assert by["legacy-sdk", "3.12"]["failing"] is False
    assert by["internal-lib", "3.11"]["line"] is None
    assert by["pywin32", "3.12"]["marker"] == 'sys_platform == "win32"'
    assert by["mylib", "3.12"]["url"] == "git+https://git.example.com/acme/mylib.git@v1"
    assert by["mylib", "3.12"]["version"] is None
    assert by["numpy", "3.12"]["wheel"] == "numpy-1.26.4-cp312-cp312-manylinux_2_17_aarch64.whl"
    assert by["cryptography", "3.12"]["fix"]["crosses_major"] is True
    # the reason keeps its exact text; JSON escapes what needs escaping
    assert by["psycopg2", "3.11"]["reason"].endswith("_now_ \x1b")
    failing = {(p["name"], p["python"]) for p in packages if p["failing"]}
    assert failing == {(f.pin.name, f.target.python_str) for f in report.failures}


def test_order_and_determinism(report: Report) -> None:
    packages = json.loads(jsondoc.render(report))["packages"]
    keys = [(p["file"], p["line"] or 0, p["name"], p["python"]) for p in packages]
    assert keys == sorted(keys)
    assert jsondoc.render(report) == jsondoc.render(build_report())
    assert "s3cret" not in jsondoc.render(report)


def test_schema_is_package_data() -> None:
    schema = jsondoc.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"]["const"] == SCHEMA_VERSION

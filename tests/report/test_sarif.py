from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from graviton import __version__
from graviton.findings import Location, Report, Verdict
from graviton.report import sarif
from tests.report.conftest import build_report

SCHEMA_FILE = Path(__file__).parents[1] / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def run_of(report: Report) -> dict[str, Any]:
    doc = json.loads(sarif.render(report))
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    run: dict[str, Any] = doc["runs"][0]
    return run


def results_by(run: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (r["properties"]["package"], r["properties"]["python"]): r
        for r in run["results"]
        if "properties" in r
    }


@pytest.mark.parametrize(
    "report",
    [build_report(), build_report(Verdict.SOURCE, expired=False), build_report(Verdict.UNKNOWN)],
)
def test_validates_against_the_sarif_2_1_0_schema(
    report: Report, validator: jsonschema.Draft7Validator
) -> None:
    errors = [e.message for e in validator.iter_errors(json.loads(sarif.render(report)))]
    assert errors == []


def test_validator_catches_a_broken_log(
    report: Report, validator: jsonschema.Draft7Validator
) -> None:
    doc = json.loads(sarif.render(report))
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken))
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(validator.iter_errors(broken))
    broken = copy.deepcopy(doc)
    del broken["runs"][0]["tool"]["driver"]["name"]
    assert list(validator.iter_errors(broken))


def test_driver_and_rules(report: Report) -> None:
    driver = run_of(report)["tool"]["driver"]
    assert driver["name"] == "graviton" and driver["version"] == __version__
    rules = {r["id"]: r for r in driver["rules"]}
    assert list(rules) == ["GRV001", "GRV002", "GRV003", "GRV004"]
    for rule in rules.values():
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"]
    assert rules["GRV001"]["defaultConfiguration"]["level"] == "error"
    assert rules["GRV002"]["defaultConfiguration"]["level"] == "warning"  # below fail_on
    assert rules["GRV004"]["name"] == "ExpiredIgnore"
    source_gate = run_of(build_report(Verdict.SOURCE))["tool"]["driver"]["rules"]
    assert {r["defaultConfiguration"]["level"] for r in source_gate} == {"error"}


def test_one_result_per_non_wheel_finding_plus_expired_ignores(report: Report) -> None:
    run = run_of(report)
    non_wheel = [f for f in report.findings if f.verdict.severity > 0]
    assert len(run["results"]) == len(non_wheel) + len(report.expired_ignores)
    packages = {r["properties"]["package"] for r in run["results"] if "properties" in r}
    assert packages == {
        "shioaji",
        "psycopg2",
        "legacy-sdk",
        "mylib",
        "cryptography",
        "internal-lib",
    }
    for result in run["results"]:
        rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]


def test_levels_messages_and_locations(report: Report) -> None:
    by = results_by(run_of(report))
    shioaji = by["shioaji", "3.11"]
    assert shioaji["ruleId"] == "GRV001" and shioaji["level"] == "error"
    assert shioaji["message"]["text"] == (
        "shioaji==1.2.5 is blocked on linux/aarch64 Python 3.11 glibc 2.28: no linux/aarch64 "
        "wheel: only x86_64 Linux and macOS arm64 wheels and no sdist. "
        "Fix: upgrade shioaji to >=1.2.6 (latest 1.7.9)."
    )
    assert shioaji["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "requirements.txt"},
                "region": {"startLine": 3},
            }
        }
    ]
    assert by["psycopg2", "3.12"]["level"] == "warning"
    assert by["psycopg2", "3.12"]["ruleId"] == "GRV002"
    assert by["internal-lib", "3.12"]["ruleId"] == "GRV003"
    no_line = by["internal-lib", "3.12"]["locations"][0]["physicalLocation"]
    assert no_line == {"artifactLocation": {"uri": "services/api/poetry.lock"}}
    assert (
        "cryptography to >=41.0.0 (latest 44.0.1, major upgrade)"
        in (by["cryptography", "3.12"]["message"]["text"])
    )
    assert "s3cret" not in json.dumps(by["mylib", "3.11"])


def test_ignored_findings_carry_an_external_suppression(report: Report) -> None:
    by = results_by(run_of(report))
    legacy = by["legacy-sdk", "3.11"]
    assert legacy["suppressions"] == [
        {
            "kind": "external",
            "state": "accepted",
            "justification": "replaced by v2 in Q1, see <wiki> | OPS-12 (until 2027-03-31)",
        }
    ]
    assert legacy["level"] == "warning"
    assert "suppressions" not in by["shioaji", "3.11"]


def test_expired_ignore_is_an_error_at_the_pin_it_named(report: Report) -> None:
    expired = [r for r in run_of(report)["results"] if r["ruleId"] == "GRV004"]
    assert len(expired) == 1
    assert expired[0]["level"] == "error"
    assert "shioaji==1.2.5 expired on 2026-01-31" in expired[0]["message"]["text"]
    region = expired[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3}


def test_fingerprints_are_stable_and_distinct(report: Report) -> None:
    run = run_of(report)
    prints = [r["partialFingerprints"][sarif.FINGERPRINT] for r in run["results"]]
    assert len(set(prints)) == len(prints)
    later = dataclasses.replace(build_report(), generated=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    assert [r["partialFingerprints"] for r in run_of(later)["results"]] == [
        r["partialFingerprints"] for r in run["results"]
    ]


def test_run_properties_and_invocation(report: Report, passing: Report) -> None:
    run = run_of(report)
    assert run["properties"]["counts"] == report.counts()
    assert run["properties"]["result"] == "fail"
    assert [t["python"] for t in run["properties"]["targets"]] == ["3.11", "3.12"]
    assert run["invocations"] == [
        {"executionSuccessful": True, "exitCode": 1, "endTimeUtc": "2026-11-27T10:00:00Z"}
    ]
    clean = run_of(passing)
    assert clean["results"] == [] and clean["invocations"][0]["exitCode"] == 0


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("requirements.txt", "requirements.txt"),
        ("./svc/requirements.txt", "svc/requirements.txt"),
        ("svc\\win dows\\req.txt", "svc/win%20dows/req.txt"),
        ("/abs/poetry.lock", "file:///abs/poetry.lock"),
    ],
)
def test_artifact_uri(path: str, uri: str) -> None:
    assert sarif.artifact_uri(path) == uri
    assert sarif.sarif_location(Location(path))["physicalLocation"] == {
        "artifactLocation": {"uri": uri}
    }

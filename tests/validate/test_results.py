"""Pure parts of ``graviton validate``: probe lines -> results, the CPU check, the renderers."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from graviton.instances import Generation
from graviton.report.validate import render, schema
from graviton.validate.cpu import CPU_MODELS, mismatch, oldest
from graviton.validate.model import CpuSeen, Report, Status
from graviton.validate.results import MARK, interpret

SARIF_SCHEMA = Path(__file__).parents[1] / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
N1_HWCAP = 0x119FFB  # what QEMU's neoverse-n1 tells a process (no SVE: bit 22 clear)
MAX_HWCAP, MAX_HWCAP2 = 0xECFFFFFB, 0x7F877FFF


def line(kind: str, **fields: Any) -> str:
    return MARK + json.dumps({"type": kind, **fields})


def dist(name: str, modules: list[str], elf: tuple[tuple[str, int], ...] = ()) -> str:
    return line(
        "dist",
        name=name,
        version="1.0",
        modules=modules,
        files=3,
        listed=True,
        location="/usr/local/lib/python3.11/dist-packages",
        elf=[{"path": p, "machine": m} for p, m in elf],
    )


def imported(module: str, outcome: str, **fields: Any) -> str:
    return line("import", module=module, outcome=outcome, **{"seconds": 0.5, **fields})


CPU_LINE = line(
    "cpu", machine="aarch64", python="3.11.2", hwcap=N1_HWCAP, hwcap2=0, sve_vector_bits=None
)
PROBE = [
    "some noise the image printed",
    CPU_LINE,
    dist("fast", ["fast"], (("/x/fast/_speedups.so", 183),)),
    imported("fast", "ok"),
    dist("sve", ["sve"], (("/x/sve.so", 183),)),
    imported("sve", "signal", signal=4, tail="qemu: uncaught target signal 4"),
    dist("driver", ["driver"], (("/x/driver/linux64", 62), ("/x/driver/arm", 183))),
    imported("driver", "ok"),
    dist("broken", ["broken"]),
    imported("broken", "error", error="ImportError", message="libfoo.so.1: cannot open"),
    dist("slow", ["slow"]),
    imported("slow", "timeout", seconds=120.0),
    dist("both", ["crash2"], (("/x/both/bin", 62),)),
    imported("crash2", "signal", signal=11),
    dist("quits", ["quits"]),
    imported("quits", "exit", code=2, tail="usage: quits"),
    dist("scripts-only", []),
    line("run", outcome="exit", code=1, tail="1 failed", seconds=3.0),
    line("done", seconds=10.0),
]


def by_name(lines: list[str], cpu: Generation = Generation.GRAVITON2) -> dict[str, Any]:
    found = interpret(lines, cpu, "pytest -m smoke")
    return {d.name: d for d in found.distributions}


def test_each_status_from_the_probe_lines() -> None:
    results = by_name(PROBE)
    assert {n: d.status for n, d in results.items()} == {
        "both": Status.CRASHED,  # a crash outranks the foreign ELF
        "broken": Status.IMPORT_ERROR,
        "driver": Status.FOREIGN_BINARY,
        "fast": Status.OK,
        "quits": Status.IMPORT_ERROR,
        "scripts-only": Status.OK,
        "slow": Status.TIMEOUT,
        "sve": Status.CRASHED,
    }
    assert results["sve"].detail == (
        "import sve: illegal instruction: built for a newer CPU than graviton2"
    )
    assert results["both"].detail == "import crash2: killed by SIGSEGV (segmentation fault)"
    assert results["driver"].detail == "x86-64 ELF in an arm64 image: /x/driver/linux64"
    assert results["driver"].native == 1
    assert results["broken"].detail == "import broken: ImportError: libfoo.so.1: cannot open"
    assert results["quits"].detail == "import quits: exited 2 while importing: usage: quits"
    assert results["slow"].detail == "import slow: no answer in 120s"
    assert results["scripts-only"].detail.startswith("no top-level module to import")
    assert results["fast"].detail == "1 module imported; 3 files scanned, 1 aarch64 ELF"


def test_sigill_names_the_generation() -> None:
    results = by_name(PROBE, Generation.GRAVITON3)
    assert results["sve"].modules[0].detail.endswith("a newer CPU than graviton3")
    assert results["sve"].modules[0].signal == 4


def test_a_probe_cut_short_never_passes() -> None:
    cut = [*PROBE[:4], dist("late", ["late"])]  # no import line for "late", no done
    found = interpret(cut, Generation.GRAVITON2, "pytest")
    late = {d.name: d for d in found.distributions}["late"]
    assert late.status is Status.TIMEOUT and "cut short" in late.detail
    assert not found.complete
    assert found.run is not None and found.run.status is Status.TIMEOUT


def test_budget_and_run_outcomes() -> None:
    lines = [CPU_LINE, dist("a", ["a"]), imported("a", "budget"), line("run", outcome="budget")]
    found = interpret([*lines, line("done")], Generation.GRAVITON2, "pytest")
    assert found.distributions[0].status is Status.TIMEOUT
    assert found.run is not None and found.run.detail == "did not run: --timeout reached"
    assert found.out_of_time  # validate reports it as not proven (exit 3), not as a result
    assert not interpret(PROBE, Generation.GRAVITON2, None).out_of_time
    crashed = interpret(
        [CPU_LINE, line("run", outcome="signal", signal=4, tail="", seconds=1), line("done")],
        Generation.GRAVITON2,
        "./bench",
    )
    assert crashed.run is not None and crashed.run.status is Status.CRASHED
    assert crashed.run.signal == 4 and "newer CPU than graviton2" in crashed.run.detail
    assert interpret([CPU_LINE, line("done")], Generation.GRAVITON2, None).run is None


def test_unreadable_probe_lines_and_metadata_are_reported() -> None:
    found = interpret(
        [CPU_LINE, MARK + "{not json", line("dist-error", name="/x/bad.dist-info", message="boom")],
        Generation.GRAVITON2,
        None,
    )
    assert found.problems and found.problems[0].startswith("unreadable probe line")
    assert found.distributions[0].status is Status.IMPORT_ERROR


def test_the_container_must_have_the_cpu_asked_for() -> None:
    n1 = CpuSeen("aarch64", "3.11.2", N1_HWCAP, 0, None)
    maxed = CpuSeen("aarch64", "3.11.2", MAX_HWCAP, MAX_HWCAP2, 256)
    g2, g3, g4 = (CPU_MODELS[Generation(f"graviton{n}")] for n in (2, 3, 4))
    assert mismatch(g2, n1) is None
    assert mismatch(g3, maxed) is None
    problem = mismatch(g2, maxed)
    assert problem is not None and "has SVE" in problem and "QEMU_CPU" in problem
    assert "lacks SVE" in (mismatch(g3, n1) or "")
    assert "vector length is 256 bits" in (mismatch(g4, maxed) or "")
    assert "could not read" in (mismatch(g2, CpuSeen("aarch64", "3", None, None, None)) or "")


def test_oldest_generation_of_a_mix() -> None:
    assert oldest([Generation.GRAVITON4, Generation.GRAVITON2, Generation.GRAVITON3]) == (
        Generation.GRAVITON2
    )
    with pytest.raises(ValueError):
        oldest([])


def report(error: str | None = None) -> Report:
    found = interpret(PROBE, Generation.GRAVITON2, "pytest -m smoke")
    return Report(
        image="localhost:5000/app:1",
        ref="localhost:5000/app@sha256:" + "a" * 64,
        platform="linux/arm64",
        cpu=CPU_MODELS[Generation.GRAVITON2],
        cpu_source="--cpu graviton2",
        distributions=found.distributions,
        run=found.run,
        seen=found.seen,
        error=error,
        seconds=75.2,
        generated=dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC),
    )


def test_exit_codes() -> None:
    assert report().exit_code == 1
    assert report("--timeout 10s reached").exit_code == 3


def test_json_follows_the_schema_also_on_error() -> None:
    for each in (report(), report("the probe stopped (exit 139): Segmentation fault")):
        doc = json.loads(render(each, "json"))
        jsonschema.validate(doc, schema())
    assert doc["result"] == "error" and doc["counts"]["crashed"] == 2


def test_text_has_a_line_per_distribution_and_a_summary() -> None:
    lines = render(report(), "text").splitlines()
    assert sum(1 for ln in lines if ln.split()[0] in {s.value for s in Status}) == 8 + 1
    assert lines[-1] == (
        "FAIL: 8 distributions (2 crashed, 1 foreign-binary, 2 import-error, 1 timeout, 2 ok) on "
        "graviton2 (QEMU_CPU=neoverse-n1) in 1m15s; --run failed: exited 1"
    )


def test_sarif_is_valid_and_has_a_result_per_failure() -> None:
    doc = json.loads(render(report(), "sarif"))
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    rules = [r["ruleId"] for r in doc["runs"][0]["results"]]
    assert sorted(rules) == ["GVV001", "GVV001", "GVV002", "GVV003", "GVV003", "GVV004", "GVV005"]


def test_junit_github_markdown() -> None:
    root = ET.fromstring(render(report(), "junit").split("\n", 1)[1])
    assert (root.get("tests"), root.get("failures")) == ("9", "7")
    github = render(report(), "github").splitlines()
    assert sum(1 for ln in github if ln.startswith("::error ")) == 7
    assert github[-1].startswith("graviton validate: FAIL: 8 distributions")
    markdown = render(report(), "markdown")
    assert "| sve 1.0 | **crashed** |" in markdown

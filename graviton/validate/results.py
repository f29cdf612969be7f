"""The probe's JSON lines -> one result per distribution, the ``--run`` result and the CPU the
container saw (pure: no I/O).

Every distribution the probe listed gets a result; a module the probe never reached (the run was
cut short) is a ``timeout``, never an ``ok``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from graviton.errors import one_line
from graviton.instances import Generation
from graviton.validate.model import (
    AARCH64,
    CpuSeen,
    DistributionResult,
    ElfObject,
    ModuleResult,
    RunResult,
    Status,
    signal_text,
)

T = TypeVar("T")
MARK = "@@graviton-probe "  # the prefix of probe_script.MARK (the script is never imported)
FOREIGN_SHOWN = 3  # foreign ELF paths named in a one-line detail


@dataclass(frozen=True)
class ProbeResults:
    distributions: tuple[DistributionResult, ...]
    run: RunResult | None
    seen: CpuSeen | None
    complete: bool  # the probe printed ``done``
    problems: tuple[str, ...]  # probe lines that could not be read
    out_of_time: bool = False  # the probe's --timeout budget ran out before it had done it all


def parse_lines(lines: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The probe's records (lines with its prefix; anything else the image prints is ignored,
    but a line with the prefix inside it is a record garbled by other output)."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for line in lines:
        if not line.startswith(MARK):
            if MARK.strip() in line:
                problems.append(f"garbled probe line: {one_line(line, 120)}")
            continue
        try:
            record = json.loads(line[len(MARK) :])
        except ValueError:
            problems.append(f"unreadable probe line: {one_line(line, 120)}")
            continue
        if isinstance(record, dict) and isinstance(record.get("type"), str):
            records.append(record)
        else:
            problems.append(f"unreadable probe line: {one_line(line, 120)}")
    return records, problems


def module_result(module: str, record: Mapping[str, Any] | None, cpu: Generation) -> ModuleResult:
    """One import's outcome; ``record`` None means the probe never got to it."""
    if record is None:
        return ModuleResult(module, Status.TIMEOUT, "not imported: the probe was cut short", 0.0)
    seconds = float(record.get("seconds") or 0.0)
    outcome = record.get("outcome")
    if outcome == "ok":
        return ModuleResult(module, Status.OK, "", seconds)
    if outcome == "signal":
        signum = int(record.get("signal") or 0)
        return ModuleResult(module, Status.CRASHED, signal_text(signum, cpu), seconds, signum)
    if outcome == "timeout":
        return ModuleResult(module, Status.TIMEOUT, f"no answer in {seconds:.0f}s", seconds)
    if outcome == "budget":
        return ModuleResult(module, Status.TIMEOUT, "not imported: --timeout reached", 0.0)
    if outcome == "error":
        message = one_line(f"{record.get('error', 'Error')}: {record.get('message', '')}")
        return ModuleResult(module, Status.IMPORT_ERROR, message.rstrip(": "), seconds)
    if outcome == "exit":
        tail = one_line(str(record.get("tail") or ""), 200)
        detail = f"exited {record.get('code')} while importing" + (f": {tail}" if tail else "")
        return ModuleResult(module, Status.IMPORT_ERROR, detail, seconds)
    return ModuleResult(module, Status.IMPORT_ERROR, f"unknown probe outcome {outcome!r}", seconds)


def _detail(
    status: Status,
    modules: tuple[ModuleResult, ...],
    foreign: tuple[ElfObject, ...],
    native: int,
    files: int,
) -> str:
    if status is Status.FOREIGN_BINARY:
        kinds = sorted({e.machine_name for e in foreign})
        shown = ", ".join(e.path for e in foreign[:FOREIGN_SHOWN])
        more = f" and {len(foreign) - FOREIGN_SHOWN} more" if len(foreign) > FOREIGN_SHOWN else ""
        return f"{'/'.join(kinds)} ELF in an arm64 image: {shown}{more}"
    if status is not Status.OK:
        worst = min((m for m in modules if m.status is status), key=lambda m: m.module)
        return f"import {worst.module}: {worst.detail}"
    imported = f"{len(modules)} module{'s' if len(modules) != 1 else ''} imported"
    if not modules:
        imported = "no top-level module to import"
    return f"{imported}; {files} files scanned, {native} aarch64 ELF"


def distribution_result(
    record: Mapping[str, Any],
    imports: Mapping[str, Mapping[str, Any]],
    cpu: Generation,
    machine: int = AARCH64,
) -> DistributionResult:
    """One distribution: the worst of its imports and of its ELF objects' machine types."""
    modules = tuple(
        module_result(str(m), imports.get(str(m)), cpu) for m in record.get("modules") or []
    )
    elf = [ElfObject(str(e["path"]), int(e["machine"])) for e in record.get("elf") or []]
    foreign = tuple(e for e in elf if e.machine != machine)
    native = sum(1 for e in elf if e.machine == machine)
    statuses = [m.status for m in modules]
    if foreign:
        statuses.append(Status.FOREIGN_BINARY)
    status = min(statuses, key=lambda s: s.rank, default=Status.OK)
    files = int(record.get("files") or 0)
    return DistributionResult(
        name=str(record.get("name") or "?"),
        version=str(record.get("version") or ""),
        status=status,
        detail=_detail(status, modules, foreign, native, files),
        modules=modules,
        foreign=foreign,
        native=native,
        files=files,
        location=str(record.get("location") or ""),
    )


def run_result(command: str, record: Mapping[str, Any] | None, cpu: Generation) -> RunResult:
    """The ``--run`` command's outcome; ``record`` None means it never ran."""
    if record is None:
        return RunResult(
            command, Status.TIMEOUT, None, None, "did not run: the probe was cut short", "", 0.0
        )
    seconds = float(record.get("seconds") or 0.0)
    tail = str(record.get("tail") or "")
    outcome = record.get("outcome")
    if outcome == "ok":
        return RunResult(command, Status.OK, 0, None, "exited 0", tail, seconds)
    if outcome == "exit":
        code = int(record.get("code") or 0)
        return RunResult(command, Status.FAILED, code, None, f"exited {code}", tail, seconds)
    if outcome == "error" and "code" not in record and record.get("error"):
        message = one_line(f"could not start: {record.get('error')}: {record.get('message', '')}")
        return RunResult(command, Status.FAILED, None, None, message, tail, seconds)
    if outcome == "signal":
        signum = int(record.get("signal") or 0)
        text = signal_text(signum, cpu)
        return RunResult(command, Status.CRASHED, None, signum, text, tail, seconds)
    if outcome == "budget":
        return RunResult(
            command, Status.TIMEOUT, None, None, "did not run: --timeout reached", tail, 0.0
        )
    return RunResult(
        command, Status.TIMEOUT, None, None, f"no answer in {seconds:.0f}s", tail, seconds
    )


def _seen(record: Mapping[str, Any]) -> CpuSeen:
    def number(key: str) -> int | None:
        value = record.get(key)
        return int(value) if isinstance(value, int) else None

    return CpuSeen(
        machine=str(record.get("machine") or ""),
        python=str(record.get("python") or ""),
        hwcap=number("hwcap"),
        hwcap2=number("hwcap2"),
        sve_vector_bits=number("sve_vector_bits"),
    )


def _readable(problems: list[str], kind: str, build: Callable[[], T]) -> T | None:
    """``build()``, or None with a problem when a record has the probe's shape but not its
    fields (valid JSON, wrong types): not proven, never an exception (exit 70)."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problems.append(
            f"unreadable probe {kind} record: {one_line(f'{type(exc).__name__}: {exc}', 120)}"
        )
        return None


def interpret(lines: Iterable[str], cpu: Generation, run_command: str | None) -> ProbeResults:
    """The probe's output -> results (the pure core of ``graviton validate``)."""
    records, problems = parse_lines(lines)
    imports: dict[str, Mapping[str, Any]] = {}
    dists: list[Mapping[str, Any]] = []
    seen: CpuSeen | None = None
    run: Mapping[str, Any] | None = None
    complete = False
    errors: list[DistributionResult] = []
    for index, record in enumerate(records):
        kind = record["type"]
        if kind == "cpu":
            seen = _readable(problems, "cpu", partial(_seen, record))
        elif kind == "dist":
            dists.append(record)
        elif kind == "import":
            imports[str(record.get("module"))] = record
        elif kind == "run":
            run = record
        elif kind == "done":
            complete = True
            sent = record.get("records")
            arrived = index + len(problems)  # unreadable lines were records too
            if not isinstance(sent, int) or sent != arrived:
                problems.append(
                    f"the probe printed {sent} records before 'done' but {index} arrived "
                    "readable: its output was garbled or cut on the way"
                )
        elif kind == "dist-error":
            message = one_line(str(record.get("message") or "unreadable metadata"))
            errors.append(
                DistributionResult(
                    name=str(record.get("name") or "?"),
                    version="",
                    status=Status.IMPORT_ERROR,
                    detail=f"its metadata could not be read: {message}",
                    modules=(),
                    foreign=(),
                    native=0,
                    files=0,
                    location="",
                )
            )
    results = errors + [
        found
        for d in dists
        if (found := _readable(problems, "dist", partial(distribution_result, d, imports, cpu)))
    ]
    results.sort(key=lambda r: (r.name.lower(), r.version))
    ran = None
    if run_command is not None:
        ran = _readable(problems, "run", partial(run_result, run_command, run, cpu))
        if ran is None:
            ran = run_result(run_command, None, cpu)  # never a pass: the record was unreadable
    return ProbeResults(
        distributions=tuple(results),
        run=ran,
        seen=seen,
        complete=complete,
        problems=tuple(problems),
        out_of_time=any(
            r.get("outcome") == "budget" for r in records if r["type"] in ("import", "run")
        )
        # the --run command's only limit is what is left of the budget: its timeout is the
        # budget running out, not a result of the code under test
        or any(r.get("outcome") == "timeout" for r in records if r["type"] == "run"),
    )

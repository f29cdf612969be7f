"""What ``graviton validate`` found, as plain frozen data: one result per installed distribution,
the ``--run`` command's result, what the container saw of its CPU, and the exit code.
"""

from __future__ import annotations

import datetime as dt
import signal
from dataclasses import dataclass
from enum import StrEnum

from graviton.instances import Generation

SCHEMA_VERSION = "graviton.validate/v1"


class Status(StrEnum):
    """A distribution's (or the ``--run`` command's) result. Only ``ok`` passes."""

    OK = "ok"
    CRASHED = "crashed"  # killed by a signal (SIGILL: built for a newer CPU)
    FOREIGN_BINARY = "foreign-binary"  # an ELF object for another architecture
    IMPORT_ERROR = "import-error"  # the import raised (or exited)
    TIMEOUT = "timeout"  # the import (or the run) did not finish in time
    FAILED = "failed"  # ``--run`` only: the command exited non-zero

    @property
    def rank(self) -> int:
        """Most severe first: the one a distribution with several problems is reported as."""
        return _RANK[self]


_RANK = {
    Status.CRASHED: 0,
    Status.FOREIGN_BINARY: 1,
    Status.IMPORT_ERROR: 2,
    Status.TIMEOUT: 3,
    Status.FAILED: 4,
    Status.OK: 5,
}

# The rule id (graviton.findings.RULES) of each failing status, in SARIF's rule order.
RULE_IDS: dict[Status, str] = {
    Status.CRASHED: "GVV001",
    Status.FOREIGN_BINARY: "GVV002",
    Status.IMPORT_ERROR: "GVV003",
    Status.TIMEOUT: "GVV004",
    Status.FAILED: "GVV005",
}

# e_machine values of the ELF header (the System V ABI list) worth naming
ELF_MACHINES = {
    3: "x86",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390",
    40: "arm",
    62: "x86-64",
    183: "aarch64",
    243: "riscv",
}
AARCH64 = 183


def machine_name(machine: int) -> str:
    return ELF_MACHINES.get(machine, f"e_machine {machine}")


def signal_text(signum: int, generation: Generation) -> str:
    """``illegal instruction: built for a newer CPU than graviton2`` for SIGILL; the signal's
    name and description for the rest."""
    if signum == signal.SIGILL:
        return f"illegal instruction: built for a newer CPU than {generation.value}"
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return f"killed by signal {signum}"
    description = signal.strsignal(signum) or name
    return f"killed by {name} ({description.lower()})"


@dataclass(frozen=True)
class ModuleResult:
    """One top-level module imported in a fresh interpreter."""

    module: str
    status: Status
    detail: str  # the exception, the signal, the timeout; "" when ok
    seconds: float
    signal: int | None = None


@dataclass(frozen=True)
class ElfObject:
    """An installed file that is an ELF object."""

    path: str
    machine: int

    @property
    def machine_name(self) -> str:
        return machine_name(self.machine)


@dataclass(frozen=True)
class DistributionResult:
    name: str
    version: str
    status: Status
    detail: str  # one line: why it is not ok, or what was proven
    modules: tuple[ModuleResult, ...]
    foreign: tuple[ElfObject, ...]  # ELF objects for another architecture than the image's
    native: int  # ELF objects for the image's architecture
    files: int  # installed files scanned for ELF headers
    location: str  # the directory its metadata is in

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


@dataclass(frozen=True)
class RunResult:
    """The ``--run`` command, after the imports, under the same emulation."""

    command: str
    status: Status
    exit_code: int | None  # None when killed by a signal or timed out
    signal: int | None
    detail: str
    tail: str  # the last lines of its output (stdout and stderr)
    seconds: float


@dataclass(frozen=True)
class CpuSeen:
    """What the container's processes were told about the CPU (``AT_HWCAP``/``AT_HWCAP2`` and the
    SVE vector length): proof that the emulated CPU model is the one asked for."""

    machine: str  # platform.machine() inside the container
    python: str
    hwcap: int | None
    hwcap2: int | None
    sve_vector_bits: int | None

    @property
    def sve(self) -> bool:
        return self.hwcap is not None and bool(self.hwcap >> 22 & 1)

    @property
    def sve2(self) -> bool:
        return self.hwcap2 is not None and bool(self.hwcap2 >> 1 & 1)


@dataclass(frozen=True)
class CpuModel:
    """The QEMU CPU model that stands for a Graviton generation, and what it must look like."""

    generation: Generation
    qemu_cpu: str
    core: str
    exact: bool  # True when QEMU has the very core; False for a superset stand-in
    sve: bool
    sve2: bool | None  # None: not checked (the stand-in has it although the real core has not)
    vector_bits: int | None
    note: str


@dataclass(frozen=True)
class Report:
    image: str  # as given
    ref: str  # the arm64 variant that ran: repository@sha256:...
    platform: str
    cpu: CpuModel
    cpu_source: str  # "--cpu graviton2" or "capacity provider P: m6g.large, r6g.xlarge"
    distributions: tuple[DistributionResult, ...]
    run: RunResult | None
    seen: CpuSeen | None
    error: str | None  # what could not be proven (exit 3), or None
    seconds: float
    generated: dt.datetime

    @property
    def failing(self) -> tuple[DistributionResult, ...]:
        return tuple(d for d in self.distributions if not d.ok)

    @property
    def run_failed(self) -> bool:
        return self.run is not None and self.run.status is not Status.OK

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return 3
        return 1 if self.failing or self.run_failed else 0

    @property
    def result(self) -> str:
        return {0: "pass", 1: "fail", 3: "error"}[self.exit_code]

    def counts(self) -> dict[str, int]:
        """Distributions per status, every status listed (most severe first)."""
        ordered = sorted((s for s in Status if s is not Status.FAILED), key=lambda s: s.rank)
        return {s.value: sum(1 for d in self.distributions if d.status is s) for s in ordered}

"""From a :class:`~graviton.findings.Target` to the wheel tags pip would accept there.

The trap this module removes: ``pip --platform manylinux_2_28_aarch64`` does not imply the older
manylinux levels, so a wheel tagged only ``manylinux_2_17_aarch64`` looks uninstallable. Here every
level from the oldest aarch64 one (2.17) up to the target's glibc is listed, with the legacy
``manylinux2014`` alias, exactly as pip does on a real aarch64 machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from packaging.tags import Tag, compatible_tags, cpython_tags

from graviton.errors import UsageError
from graviton.findings import Target

OLDEST_AARCH64_GLIBC = 17  # manylinux2014 == manylinux_2_17 is the first aarch64 manylinux level
LEGACY_ALIASES = {17: "manylinux2014"}  # manylinux1 (2.5) and 2010 (2.12) never had aarch64

# distro presets: (libc, version)
PRESETS: dict[str, tuple[str, tuple[int, int]]] = {
    "al2": ("glibc", (2, 26)),
    "al2023": ("glibc", (2, 34)),
    "bullseye": ("glibc", (2, 31)),
    "bookworm": ("glibc", (2, 36)),
    "trixie": ("glibc", (2, 41)),
    "jammy": ("glibc", (2, 35)),
    "noble": ("glibc", (2, 39)),
    "alpine": ("musl", (1, 2)),
}

DEFAULT_PYTHON = (3, 12)
DEFAULT_PRESET = "al2023"

_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_MUSLLINUX = re.compile(r"^musllinux_(\d+)_(\d+)_(\w+)$")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def parse_version_pair(text: str, what: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text)
    if not m:
        raise UsageError(f"{what} must look like MAJOR.MINOR, got {text!r}")
    return int(m[1]), int(m[2])


def preset(name: str, python: tuple[int, int] = DEFAULT_PYTHON) -> Target:
    try:
        libc, version = PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown target {name!r}; known: {', '.join(PRESETS)}") from None
    return Target(python=python, libc=libc, libc_version=version, name=name)


def platform_tags(target: Target) -> list[str]:
    """Platform tags in pip's order of preference (most specific first)."""
    arch = target.arch
    major, minor = target.libc_version
    out: list[str] = []
    if target.libc == "glibc":
        for m in range(minor, OLDEST_AARCH64_GLIBC - 1, -1):
            out.append(f"manylinux_{major}_{m}_{arch}")
            if m in LEGACY_ALIASES:
                out.append(f"{LEGACY_ALIASES[m]}_{arch}")
    else:
        out.extend(f"musllinux_{major}_{m}_{arch}" for m in range(minor, -1, -1))
    out.append(f"linux_{arch}")
    return out


def libc_requirement(platform: str) -> tuple[str, tuple[int, int], str] | None:
    """``manylinux_2_28_aarch64`` -> ("glibc", (2, 28), "aarch64"); None for non-Linux tags."""
    for legacy, version in _LEGACY.items():
        if platform.startswith(legacy + "_"):
            return "glibc", version, platform[len(legacy) + 1 :]
    if m := _MANYLINUX.match(platform):
        return "glibc", (int(m[1]), int(m[2])), m[3]
    if m := _MUSLLINUX.match(platform):
        return "musl", (int(m[1]), int(m[2])), m[3]
    if platform.startswith("linux_"):
        return "any", (0, 0), platform[len("linux_") :]
    return None


@dataclass(frozen=True)
class TagSet:
    """The tags a target accepts, with pip's preference order (lower is better)."""

    target: Target

    @cached_property
    def ordered(self) -> tuple[Tag, ...]:
        py = self.target.python
        interpreter = f"cp{py[0]}{py[1]}"
        plats = platform_tags(self.target)
        tags = [
            *cpython_tags(python_version=py, abis=[interpreter], platforms=plats),
            *compatible_tags(python_version=py, interpreter=interpreter, platforms=plats),
        ]
        return tuple(dict.fromkeys(tags))

    @cached_property
    def priority(self) -> dict[Tag, int]:
        return {tag: i for i, tag in enumerate(self.ordered)}

    @cached_property
    def interpreter_abis(self) -> frozenset[tuple[str, str]]:
        """(interpreter, abi) pairs the target's Python accepts, whatever the platform."""
        return frozenset((t.interpreter, t.abi) for t in self.ordered)

    @cached_property
    def platforms(self) -> frozenset[str]:
        return frozenset(t.platform for t in self.ordered)

    def may_take(self, filename: str) -> bool:
        """A cheap first test of a wheel's file name: one of its platform tags is the
        target's (parsing the name in full costs ~50x more, on every file of a release)."""
        platform = filename[:-4].rpartition("-")[2].lower()
        return any(p in self.platforms for p in platform.split("."))

    def best(self, tags: frozenset[Tag]) -> int | None:
        """pip's preference rank of the best matching tag, or None when nothing matches."""
        ranks = [self.priority[t] for t in tags if t in self.priority]
        return min(ranks) if ranks else None

"""EC2 instance types: architecture, Graviton generation, and the Graviton type of the same size
that replaces an x86 one (pure; one mapping for savings, capacity and validate).

The rule AWS's own Graviton guide follows: same family letter (c/m/r), same size, the Graviton
generation that matches the x86 one (5th and 6th generation -> 6g, 7th -> 7g, 8th -> 8g), the
local-NVMe ``d`` and network-optimised ``n`` variants kept where a Graviton family has them,
and the burstable t2/t3/t3a -> t4g. When the same size does not exist on Graviton (c5.9xlarge,
m6i.24xlarge, plain ``metal``) or the family has no Graviton line (GPUs, x86-only specialities),
the answer says so instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_6G_SIZES = frozenset(
    {"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"}
)
_8G_SIZES = _6G_SIZES | {"24xlarge", "48xlarge", "metal-24xl", "metal-48xl"}

# Graviton families that can be a counterpart, with the sizes each one offers (us-east-1 list).
GRAVITON_SIZES: dict[str, frozenset[str]] = {
    "c6g": _6G_SIZES | {"metal"},
    "c6gd": _6G_SIZES | {"metal"},
    "c6gn": _6G_SIZES,
    "c7g": _6G_SIZES | {"metal"},
    "c7gd": _6G_SIZES | {"metal"},
    "c7gn": _6G_SIZES | {"metal"},
    "c8g": _8G_SIZES,
    "c8gd": _8G_SIZES,
    "c8gn": _8G_SIZES,
    "m6g": _6G_SIZES | {"metal"},
    "m6gd": _6G_SIZES | {"metal"},
    "m7g": _6G_SIZES | {"metal"},
    "m7gd": _6G_SIZES | {"metal"},
    "m8g": _8G_SIZES,
    "m8gd": _8G_SIZES,
    "m8gn": _8G_SIZES - {"metal-24xl", "metal-48xl"},
    "r6g": _6G_SIZES | {"metal"},
    "r6gd": _6G_SIZES | {"metal"},
    "r7g": _6G_SIZES | {"metal"},
    "r7gd": _6G_SIZES | {"metal"},
    "r8g": _8G_SIZES,
    "r8gd": _8G_SIZES,
    "r8gn": _8G_SIZES,
    "t4g": frozenset({"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}),
}

# <class letters><generation><attribute letters>[-flex] . <size>, e.g. m6idn.xlarge, c7i-flex.large
_TYPE = re.compile(
    r"^(?P<family>(?P<cls>[a-z]+?)(?P<gen>\d+)(?P<attrs>[a-z]*)(?P<flex>-flex)?)\.(?P<size>[a-z0-9-]+)$"
)
_GENERAL_CLASSES = frozenset({"c", "m", "r"})
_BURSTABLE_X86 = frozenset({"t2", "t3", "t3a"})
_GRAVITON_ONLY_FAMILIES = frozenset({"a1"})  # first-generation Graviton, no "g" in the name


class Arch(StrEnum):
    X86_64 = "x86_64"
    ARM64 = "arm64"
    UNKNOWN = "unknown"


class Generation(StrEnum):
    """The Graviton processor generations, by the core each is built on."""

    GRAVITON1 = "graviton1"  # a1: Cortex-A72, Armv8.0
    GRAVITON2 = "graviton2"  # *6g, t4g: Neoverse N1, Armv8.2, no SVE
    GRAVITON3 = "graviton3"  # *7g: Neoverse V1, Armv8.4, SVE (256-bit)
    GRAVITON4 = "graviton4"  # *8g: Neoverse V2, Armv9.0, SVE2 (128-bit)


# The family generation digit of a Graviton type -> its processor.
_GENERATION_BY_DIGIT = {6: Generation.GRAVITON2, 7: Generation.GRAVITON3, 8: Generation.GRAVITON4}
# Graviton2 families whose digit is their own line's generation, not the processor's
_GRAVITON2_FAMILIES = frozenset({"t4g", "x2gd", "im4gn", "is4gen", "g5g"})


@dataclass(frozen=True)
class Counterpart:
    """The answer for one instance type."""

    instance_type: str
    architecture: Arch
    graviton_type: str | None  # None: no same-size Graviton counterpart (see ``note``)
    note: str | None = None  # why there is none, or what differs when the match is not exact

    @property
    def is_graviton(self) -> bool:
        return self.architecture is Arch.ARM64


@dataclass(frozen=True)
class _Parsed:
    family: str
    cls: str
    gen: int
    attrs: str
    flex: bool
    size: str


def _parse(instance_type: str) -> _Parsed | None:
    match = _TYPE.match(instance_type.strip().lower())
    if match is None:
        return None
    return _Parsed(
        family=match["family"],
        cls=match["cls"],
        gen=int(match["gen"]),
        attrs=match["attrs"],
        flex=bool(match["flex"]),
        size=match["size"],
    )


def architecture(instance_type: str) -> Arch:
    """arm64 for Graviton types (a ``g`` processor letter, or a1), x86_64 for the rest we know."""
    parsed = _parse(instance_type)
    if parsed is None:
        return Arch.UNKNOWN
    if parsed.family in _GRAVITON_ONLY_FAMILIES or "g" in parsed.attrs:
        return Arch.ARM64
    return Arch.X86_64


def is_graviton(instance_type: str) -> bool:
    """``m6g.large`` -> True, ``m6i.large`` -> False (``m6gd``, ``c7gn``, ``t4g``, ``a1`` are
    Graviton); an instance type this module cannot read is not."""
    return architecture(instance_type) is Arch.ARM64


def generation(instance_type: str) -> Generation | None:
    """The Graviton generation an instance type runs on; None for x86 or unknown types.

    ``t4g`` is Graviton2 (its digit is the burstable line's, not the processor's)."""
    parsed = _parse(instance_type)
    if parsed is None or architecture(instance_type) is not Arch.ARM64:
        return None
    if parsed.family in _GRAVITON_ONLY_FAMILIES:
        return Generation.GRAVITON1
    if parsed.family in _GRAVITON2_FAMILIES:
        return Generation.GRAVITON2
    return _GENERATION_BY_DIGIT.get(parsed.gen)


def family_of(instance_type: str) -> str | None:
    """``m6g`` for ``m6g.xlarge``; None when the name is not an instance type."""
    parsed = _parse(instance_type)
    return parsed.family if parsed else None


def graviton_counterpart(instance_type: str) -> Counterpart:
    """The Graviton instance type of the same size that replaces ``instance_type``."""
    name = instance_type.strip().lower()
    parsed = _parse(name)
    if parsed is None:
        return Counterpart(name, Arch.UNKNOWN, None, f"{name!r} is not an EC2 instance type name")
    arch = architecture(name)
    if arch is Arch.ARM64:
        return Counterpart(name, arch, name, "already Graviton")

    target_family, caveats = _target_family(parsed)
    if target_family is None:
        return Counterpart(
            name, arch, None, f"no Graviton counterpart for the {parsed.family} family"
        )
    if parsed.size == "metal":
        return Counterpart(
            name,
            arch,
            None,
            f"bare metal {parsed.family} and {target_family} differ in size; "
            "no same-size Graviton counterpart",
        )
    if parsed.size not in GRAVITON_SIZES[target_family]:
        return Counterpart(name, arch, None, f"{target_family} has no {parsed.size} size")
    return Counterpart(
        name, arch, f"{target_family}.{parsed.size}", "; ".join(caveats) if caveats else None
    )


def _target_family(parsed: _Parsed) -> tuple[str | None, list[str]]:
    if parsed.family in _BURSTABLE_X86:
        return "t4g", []
    if parsed.cls not in _GENERAL_CLASSES or not 3 <= parsed.gen <= 8:
        return None, []

    gen = max(parsed.gen, 6)  # Graviton2 (6g) is the oldest Graviton line for c/m/r
    caveats: list[str] = []
    if parsed.gen < 5:
        caveats.append(f"{parsed.family} is a previous generation")
    if "z" in parsed.attrs:
        caveats.append("high-frequency x86 CPU; Graviton runs at a lower clock")
    if "b" in parsed.attrs:
        caveats.append("EBS-optimised x86 variant; Graviton has lower EBS bandwidth")

    wants_disk = "d" in parsed.attrs
    wants_net = "n" in parsed.attrs
    candidates = [
        f"{parsed.cls}{gen}g{'d' if wants_disk else ''}{'n' if wants_net else ''}",
        f"{parsed.cls}{gen}g{'d' if wants_disk else ''}",
        f"{parsed.cls}{gen}g",
    ]
    for family in candidates:
        if family in GRAVITON_SIZES:
            if wants_net and not family.endswith("n"):
                caveats.append(
                    f"no network-optimised {parsed.cls}{gen}g line: {family} has less network "
                    f"bandwidth than {parsed.family}, so part of this saving is a smaller instance"
                )
            return family, caveats
    return None, caveats  # pragma: no cover - every c/m/r generation 6..8 has a base g family

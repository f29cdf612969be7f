"""Which QEMU CPU model stands for each Graviton generation, and whether the container really got
it (pure).

Debian bookworm's qemu-user-static 7.2 knows a64fx, cortex-a35/53/57/72/76, max and neoverse-n1:

* Graviton1 (a1, Cortex-A72) -> ``cortex-a72``: the very core.
* Graviton2 (*6g, t4g, Neoverse N1, Armv8.2, no SVE) -> ``neoverse-n1``: the very core, so code
  built for Graviton3/4 (SVE, SVE2, Armv8.4+) dies with SIGILL as it does on an r6g/m6g.
* Graviton3 (*7g, Neoverse V1, Armv8.4, SVE 256-bit) -> ``max,sve256=on``. QEMU 7.2 has no V1
  model; ``max`` is the closest *superset*: every V1 instruction runs, with V1's 256-bit SVE vector
  length. It also accepts SVE2 and later Armv8.x/9.x instructions that a real c7g lacks, so a pass
  here does not prove the absence of Graviton4-only code. ``a64fx`` was rejected: it has SVE but
  512-bit vectors and lacks the dot-product instructions every Graviton since the second has, so
  it would crash code that runs on a c7g.
* Graviton4 (*8g, Neoverse V2, Armv9.0, SVE2 128-bit) -> ``max,sve128=on``: a superset again,
  with V2's 128-bit vector length.

The container proves what it got: its processes read ``AT_HWCAP``/``AT_HWCAP2`` (QEMU writes them
for the model; a native arm64 engine passes the host's), and :func:`mismatch` compares them with
the model's SVE, SVE2 and vector length. A run on the wrong CPU is an error, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable

from graviton.instances import Generation
from graviton.validate.model import CpuModel, CpuSeen

CPU_MODELS: dict[Generation, CpuModel] = {
    Generation.GRAVITON1: CpuModel(
        Generation.GRAVITON1,
        "cortex-a72",
        "Cortex-A72",
        exact=True,
        sve=False,
        sve2=False,
        vector_bits=None,
        note="the very core (Armv8.0, no SVE)",
    ),
    Generation.GRAVITON2: CpuModel(
        Generation.GRAVITON2,
        "neoverse-n1",
        "Neoverse N1",
        exact=True,
        sve=False,
        sve2=False,
        vector_bits=None,
        note="the very core (Armv8.2, no SVE)",
    ),
    Generation.GRAVITON3: CpuModel(
        Generation.GRAVITON3,
        "max,sve256=on",
        "Neoverse V1",
        exact=False,
        sve=True,
        sve2=None,
        vector_bits=256,
        note="QEMU 7.2 has no Neoverse V1: 'max' is a superset (SVE at V1's 256 bits, but also "
        "SVE2 and later instructions a c7g lacks)",
    ),
    Generation.GRAVITON4: CpuModel(
        Generation.GRAVITON4,
        "max,sve128=on",
        "Neoverse V2",
        exact=False,
        sve=True,
        sve2=True,
        vector_bits=128,
        note="QEMU 7.2 has no Neoverse V2: 'max' is a superset (SVE2 at V2's 128 bits, plus "
        "later instructions an *8g may lack)",
    ),
}

# oldest first: the order that decides which generation a mixed group is validated on
_AGE = (Generation.GRAVITON1, Generation.GRAVITON2, Generation.GRAVITON3, Generation.GRAVITON4)


def oldest(generations: Iterable[Generation]) -> Generation:
    """The oldest generation of a mix: code that runs there runs on the newer ones."""
    found = set(generations)
    if not found:
        raise ValueError("no generation given")
    return min(found, key=_AGE.index)


def mismatch(model: CpuModel, seen: CpuSeen) -> str | None:
    """Why the CPU the container saw is not ``model``, or None when it is."""
    if seen.hwcap is None:
        return "the container could not read its CPU features (/proc/self/auxv)"
    wanted = f"{model.generation.value} ({model.qemu_cpu})"
    if seen.sve != model.sve:
        has = "has" if seen.sve else "lacks"
        return (
            f"the container's CPU {has} SVE, so it is not {wanted}: the engine did not pass "
            "QEMU_CPU to the emulator, or it runs arm64 natively on another CPU"
        )
    if model.sve2 is not None and seen.sve2 != model.sve2:
        has = "has" if seen.sve2 else "lacks"
        return f"the container's CPU {has} SVE2, so it is not {wanted}"
    if model.vector_bits is not None and seen.sve_vector_bits not in (None, model.vector_bits):
        return (
            f"the container's SVE vector length is {seen.sve_vector_bits} bits, "
            f"{wanted} has {model.vector_bits}"
        )
    return None

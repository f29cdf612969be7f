"""What native code a file's first bytes are, and whether a wheel's native members run on a target.

Pure (no I/O). :func:`classify` reads an ELF, Mach-O (thin and fat/universal) or PE header from the
first bytes of a file; :func:`header_bytes_needed` says how many bytes it needs (64 for almost
everything; a PE file names its machine at ``e_lfanew``, a fat Mach-O lists 20 bytes per slice).
:func:`judge_natives` takes ``(member path, Binary)`` pairs of one wheel and decides for a Linux
target (``Arch.AARCH64`` for Graviton) which members are Linux native code of another
architecture with no build for the target in the same wheel::

    members = [(path, classify(head)) for path, head in heads]
    check = judge_natives(members)
    if check.blocked:
        print(check.reason)  # "ships pkg/tool_linux64, an x86-64 ELF executable, and no aarch64
                             #  build of it"

Only Linux ELF programs and shared libraries count: Mach-O and PE files never run on Linux, ELF
object files (``ET_REL``) are not loaded at run time, and an ELF whose OS/ABI byte names another
system (FreeBSD, ...) does not run on Linux on either architecture.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

HEAD_BYTES = 64  # enough for an ELF64 header, a thin Mach-O header and a fat header of 2 slices
MAX_HEAD_BYTES = 4096  # never ask for more than this (a PE header further in stays unread)


class BinaryFormat(Enum):
    ELF = "ELF"
    MACHO = "Mach-O"
    PE = "PE"
    NONE = "none"  # not a native binary


class Arch(Enum):
    X86_64 = "x86-64"
    AARCH64 = "aarch64"
    I386 = "i386"
    ARM = "arm"
    PPC = "ppc"
    PPC64 = "ppc64"
    S390 = "s390"
    MIPS = "mips"
    RISCV = "riscv"
    LOONGARCH = "loongarch"
    ARM64_32 = "arm64_32"
    UNKNOWN = "unknown"  # a machine number not listed here: see Slice.machine


class Endian(Enum):
    LITTLE = "little"
    BIG = "big"


class Kind(Enum):
    EXECUTABLE = "executable"
    SHARED = "shared"  # ELF ET_DYN (a library or a position-independent program), dylib, DLL
    OBJECT = "object"  # relocatable object, not loaded at run time
    OTHER = "other"  # core dump, Mach-O bundle of another type, ...
    UNKNOWN = "unknown"  # not readable from the bytes given (fat Mach-O slices)


@dataclass(frozen=True)
class Slice:
    """One architecture in a file: the only one of an ELF/PE/thin Mach-O, one of a fat Mach-O."""

    arch: Arch
    machine: int  # the raw number: ELF e_machine, Mach-O cputype, PE Machine
    bits: int | None  # 32 or 64 when the header says so
    endian: Endian


@dataclass(frozen=True)
class Binary:
    """What a file's first bytes say it is."""

    format: BinaryFormat
    slices: tuple[Slice, ...] = ()
    kind: Kind = Kind.UNKNOWN
    os_abi: int | None = None  # ELF EI_OSABI (0 System V and 3 GNU/Linux both mean Linux here)
    complete: bool = True  # False: the bytes given were too few to read every field

    @property
    def is_native(self) -> bool:
        return self.format is not BinaryFormat.NONE

    @property
    def archs(self) -> tuple[Arch, ...]:
        return tuple(s.arch for s in self.slices)

    def arch_names(self) -> str:
        """``x86-64``; ``x86-64, aarch64`` for a universal file; ``machine 243`` when unknown."""
        return ", ".join(_slice_name(s) for s in self.slices) or "unknown architecture"

    def describe(self, path: str = "") -> str:
        """``x86-64 ELF executable``, ``aarch64 ELF shared library``, ``Mach-O (x86-64, aarch64)``.

        An ELF ``ET_DYN`` file is a shared library when its name says so (``.so``, ``.so.N``) and a
        (position-independent) executable otherwise.
        """
        if self.format is BinaryFormat.NONE:
            return "not a native binary"
        what = self.role(path)
        if len(self.slices) > 1:
            return f"universal {self.format.value} {what} ({self.arch_names()})"
        return f"{self.arch_names()} {self.format.value} {what}"

    def role(self, path: str = "") -> str:
        """``executable``, ``shared library``, ``object file`` or ``file``."""
        if self.format is BinaryFormat.ELF and self.kind is Kind.SHARED and path:
            return "shared library" if _SHARED_NAME.search(path) else "executable"
        return _ROLES[self.kind]


def _slice_name(s: Slice) -> str:
    if s.arch is Arch.UNKNOWN:
        return f"machine {s.machine}"
    if s.arch is Arch.AARCH64 and s.endian is Endian.BIG:
        return "aarch64 (big-endian)"
    return str(s.arch.value)


_ROLES = {
    Kind.EXECUTABLE: "executable",
    Kind.SHARED: "shared library",
    Kind.OBJECT: "object file",
    Kind.OTHER: "file",
    Kind.UNKNOWN: "file",
}
NOT_BINARY = Binary(BinaryFormat.NONE)
_SHARED_NAME = re.compile(r"\.(so(\.\d+)*|pyd|dll|dylib)$", re.IGNORECASE)

# ELF e_machine -> architecture (the ELF gABI numbers).
_ELF_MACHINES = {
    3: Arch.I386,
    8: Arch.MIPS,
    20: Arch.PPC,
    21: Arch.PPC64,
    22: Arch.S390,
    40: Arch.ARM,
    62: Arch.X86_64,
    183: Arch.AARCH64,
    243: Arch.RISCV,
    258: Arch.LOONGARCH,
}
_ELF_TYPES = {1: Kind.OBJECT, 2: Kind.EXECUTABLE, 3: Kind.SHARED, 4: Kind.OTHER}
_ELF_LINUX_ABIS = (0, 3)  # ELFOSABI_NONE (System V) and ELFOSABI_GNU/LINUX

# Mach-O cputype (mach/machine.h): CPU_ARCH_ABI64 = 0x01000000, CPU_ARCH_ABI64_32 = 0x02000000.
_MACHO_CPUS = {
    7: Arch.I386,
    0x01000007: Arch.X86_64,
    12: Arch.ARM,
    0x0100000C: Arch.AARCH64,
    0x0200000C: Arch.ARM64_32,
    18: Arch.PPC,
    0x01000012: Arch.PPC64,
}
_MACHO_TYPES = {1: Kind.OBJECT, 2: Kind.EXECUTABLE, 6: Kind.SHARED, 8: Kind.SHARED}
_MACHO_THIN = {
    b"\xfe\xed\xfa\xce": (Endian.BIG, 32),
    b"\xce\xfa\xed\xfe": (Endian.LITTLE, 32),
    b"\xfe\xed\xfa\xcf": (Endian.BIG, 64),
    b"\xcf\xfa\xed\xfe": (Endian.LITTLE, 64),
}
_FAT_MAGIC = b"\xca\xfe\xba\xbe"  # also a Java class file: told apart by the slice count
_FAT_MAGIC_64 = b"\xca\xfe\xba\xbf"
_FAT_MAX_SLICES = 44  # a Java class file has major version >= 45 where nfat_arch would be

# PE IMAGE_FILE_MACHINE_*.
_PE_MACHINES = {
    0x8664: Arch.X86_64,
    0xAA64: Arch.AARCH64,
    0x14C: Arch.I386,
    0x1C0: Arch.ARM,
    0x1C4: Arch.ARM,
}
_PE_BITS = {Arch.X86_64: 64, Arch.AARCH64: 64, Arch.I386: 32, Arch.ARM: 32}


def header_bytes_needed(head: bytes) -> int:
    """How many leading bytes :func:`classify` needs, given the first ones (at most 4096)."""
    if head[:2] == b"MZ" and len(head) >= 0x40:
        pe_offset = int.from_bytes(head[0x3C:0x40], "little")
        return min(max(HEAD_BYTES, pe_offset + 24), MAX_HEAD_BYTES)
    if head[:4] in (_FAT_MAGIC, _FAT_MAGIC_64) and len(head) >= 8:
        count = int.from_bytes(head[4:8], "big")
        if 0 < count <= _FAT_MAX_SLICES:
            per = 32 if head[:4] == _FAT_MAGIC_64 else 20
            return min(max(HEAD_BYTES, 8 + per * count), MAX_HEAD_BYTES)
    return HEAD_BYTES


def classify(head: bytes) -> Binary:
    """Classify a file from its first bytes (64 are enough except for PE, see above)."""
    if head[:4] == b"\x7fELF":
        return _elf(head)
    if head[:4] in _MACHO_THIN:
        return _macho_thin(head)
    if head[:4] in (_FAT_MAGIC, _FAT_MAGIC_64):
        return _macho_fat(head)
    if head[:2] == b"MZ":
        return _pe(head)
    return NOT_BINARY


def _elf(head: bytes) -> Binary:
    if len(head) < 20 or head[4] not in (1, 2) or head[5] not in (1, 2):
        return Binary(BinaryFormat.ELF, complete=False) if len(head) < 20 else NOT_BINARY
    bits = 32 if head[4] == 1 else 64
    endian = Endian.LITTLE if head[5] == 1 else Endian.BIG
    order = "<" if endian is Endian.LITTLE else ">"
    e_type, e_machine = struct.unpack_from(order + "HH", head, 16)
    arch = _ELF_MACHINES.get(e_machine, Arch.UNKNOWN)
    return Binary(
        BinaryFormat.ELF,
        (Slice(arch, e_machine, bits, endian),),
        _ELF_TYPES.get(e_type, Kind.OTHER),
        os_abi=head[7],
    )


def _macho_thin(head: bytes) -> Binary:
    endian, bits = _MACHO_THIN[head[:4]]
    if len(head) < 16:
        return Binary(BinaryFormat.MACHO, complete=False)
    order = "<" if endian is Endian.LITTLE else ">"
    cputype, _sub, filetype = struct.unpack_from(order + "iiI", head, 4)
    cputype &= 0xFFFFFFFF
    arch = _MACHO_CPUS.get(cputype, Arch.UNKNOWN)
    return Binary(
        BinaryFormat.MACHO,
        (Slice(arch, cputype, bits, endian),),
        _MACHO_TYPES.get(filetype, Kind.OTHER),
    )


def _macho_fat(head: bytes) -> Binary:
    if len(head) < 8:
        return Binary(BinaryFormat.MACHO, complete=False)
    (count,) = struct.unpack_from(">I", head, 4)
    if not 0 < count <= _FAT_MAX_SLICES:
        return NOT_BINARY  # a Java class file
    per = 32 if head[:4] == _FAT_MAGIC_64 else 20
    slices = []
    for i in range(count):
        at = 8 + i * per
        if at + 8 > len(head):
            break
        (cputype,) = struct.unpack_from(">I", head, at)
        arch = _MACHO_CPUS.get(cputype, Arch.UNKNOWN)
        slices.append(Slice(arch, cputype, 64 if cputype & 0x01000000 else 32, Endian.LITTLE))
    return Binary(BinaryFormat.MACHO, tuple(slices), complete=len(slices) == count)


def _pe(head: bytes) -> Binary:
    if len(head) < 0x40:
        return Binary(BinaryFormat.PE, complete=False) if len(head) >= 2 else NOT_BINARY
    (pe_offset,) = struct.unpack_from("<I", head, 0x3C)
    if pe_offset + 24 > MAX_HEAD_BYTES:
        return NOT_BINARY  # no PE header within 4 KiB: a DOS program or text starting with "MZ"
    if pe_offset + 24 > len(head):
        return Binary(BinaryFormat.PE, complete=False)  # a DOS stub whose PE header is unread
    if head[pe_offset : pe_offset + 4] != b"PE\0\0":
        return NOT_BINARY  # a DOS program or a text file starting with "MZ"
    machine, _sections = struct.unpack_from("<HH", head, pe_offset + 4)
    (characteristics,) = struct.unpack_from("<H", head, pe_offset + 22)
    arch = _PE_MACHINES.get(machine, Arch.UNKNOWN)
    kind = Kind.SHARED if characteristics & 0x2000 else Kind.EXECUTABLE
    return Binary(BinaryFormat.PE, (Slice(arch, machine, _PE_BITS.get(arch), Endian.LITTLE),), kind)


# -- the verdict for a Linux target -----------------------------------------------------------


class NativeVerdict(Enum):
    NO_LINUX_NATIVES = "no-linux-natives"  # nothing that runs on Linux (maybe Mach-O/PE files)
    RUNS = "runs"  # every Linux native member has a build for the target
    FOREIGN_ONLY = "foreign-only"  # some Linux native member has no build for the target


@dataclass(frozen=True)
class NativeMember:
    path: str
    binary: Binary

    @property
    def description(self) -> str:
        return self.binary.describe(self.path)


@dataclass(frozen=True)
class NativeCheck:
    """The verdict on one wheel's native members for a Linux target."""

    verdict: NativeVerdict
    target: Arch
    foreign: tuple[NativeMember, ...]  # Linux native members with no target build: the blockers
    paired: tuple[tuple[str, str], ...]  # (member of another arch, its target-arch counterpart)
    ignored: tuple[NativeMember, ...]  # Mach-O, PE, non-Linux ELF, object files
    reason: str  # one line

    @property
    def blocked(self) -> bool:
        return self.verdict is NativeVerdict.FOREIGN_ONLY

    @property
    def architectures(self) -> tuple[Arch, ...]:
        """The architectures of the blocking members, each once, in member order."""
        return tuple(dict.fromkeys(a for m in self.foreign for a in m.binary.archs))


def runs_on_linux(binary: Binary) -> bool:
    """A Linux program or shared library (the only native code that matters in a Linux image)."""
    return (
        binary.format is BinaryFormat.ELF
        and binary.kind in (Kind.EXECUTABLE, Kind.SHARED)
        and binary.os_abi in _ELF_LINUX_ABIS
        and len(binary.slices) == 1
    )


def _builds_for(binary: Binary, target: Arch) -> bool:
    s = binary.slices[0]
    return s.arch is target and s.endian is Endian.LITTLE


def judge_natives(
    members: Iterable[tuple[str, Binary]], target: Arch = Arch.AARCH64
) -> NativeCheck:
    """Which Linux native members of one wheel have no build for ``target``.

    A member of another architecture has a counterpart when a target-architecture member of the
    same kind carries the same name once architecture words are taken out of the path
    (``chromedriver_linux64`` / ``chromedriver_linux_arm64``, ``lib/x86_64/libfoo.so`` /
    ``lib/aarch64/libfoo.so``); members left unpaired then pair with remaining target members of
    the same kind, one each (a wheel that also carries an aarch64 build under another name).
    Every target member vouches for at most one other member.
    """
    linux: list[NativeMember] = []
    ignored: list[NativeMember] = []
    for path, binary in members:
        if not binary.is_native:
            continue
        (linux if runs_on_linux(binary) else ignored).append(NativeMember(path, binary))
    native = [m for m in linux if _builds_for(m.binary, target)]
    others = [m for m in linux if not _builds_for(m.binary, target)]

    free = list(native)
    paired: list[tuple[str, str]] = []
    unpaired: list[NativeMember] = []
    for member in others:
        key = (_kind_of(member), name_key(member.path))
        match = next((t for t in free if (_kind_of(t), name_key(t.path)) == key), None)
        if match is None:
            unpaired.append(member)
            continue
        free.remove(match)
        paired.append((member.path, match.path))
    foreign: list[NativeMember] = []
    for member in unpaired:
        match = next((t for t in free if _kind_of(t) == _kind_of(member)), None)
        if match is None:
            foreign.append(member)
            continue
        free.remove(match)
        paired.append((member.path, match.path))

    if foreign:
        verdict = NativeVerdict.FOREIGN_ONLY
        reason = _foreign_reason(foreign, target)
    elif linux:
        verdict = NativeVerdict.RUNS
        reason = (
            f"every Linux native file has {_an(target.value)} {target.value} build"
            f" ({len(native)} {target.value} file(s), {len(paired)} paired)"
        )
    else:
        verdict = NativeVerdict.NO_LINUX_NATIVES
        reason = (
            f"no Linux native code ({len(ignored)} native file(s) for other systems)"
            if ignored
            else "no native code"
        )
    return NativeCheck(verdict, target, tuple(foreign), tuple(paired), tuple(ignored), reason)


def _kind_of(member: NativeMember) -> str:
    return member.binary.role(member.path)


def _an(text: str) -> str:
    return "an" if text[:1] in ("a", "e", "i", "o", "x") else "a"  # "an x86-64", "an aarch64"


def _foreign_reason(foreign: list[NativeMember], target: Arch) -> str:
    if len(foreign) == 1:
        what = foreign[0].description
        return f"ships {foreign[0].path}, {_an(what)} {what}, and no {target.value} build of it"
    shown = ", ".join(f"{m.path} ({m.description})" for m in foreign[:2])
    more = f" and {len(foreign) - 2} more" if len(foreign) > 2 else ""
    return f"ships {len(foreign)} Linux native files with no {target.value} build: {shown}{more}"


# Architecture words in file names, longest first; an OS word may carry the width glued on
# (linux64, win32, mac64).
_ARCH_WORDS = (
    r"x86[_-]64|x86[_-]32|amd64|x64|intel64|em64t|aarch64|arm64|armv\d+[a-z]*|armhf|armel|arm"
    r"|i[3-6]86|x86|ia32|ppc64le|ppc64|s390x|riscv64|loongarch64|64[_-]?bit|32[_-]?bit"
)
_ARCH_RE = re.compile(rf"(?<![a-z0-9])(?:{_ARCH_WORDS})(?![a-z0-9])")
_OS_WIDTH = re.compile(
    rf"^(linux|lin|win|windows|mac|macos|osx|darwin|musllinux|manylinux)(?:{_ARCH_WORDS})?(32|64)?$"
)
_GLUED = re.compile(r"^(.+?)(?:x86_64|amd64|x64|aarch64|arm64|i[3-6]86)$")


def name_key(path: str) -> tuple[str, ...]:
    """A member's path with architecture words taken out: the key that pairs builds of one file.

    ``chromedriver_py/chromedriver_linux64`` and ``chromedriver_py/chromedriver_linux_arm64``
    both give ``("chromedriver", "py", "chromedriver", "linux")``.
    """
    text = _ARCH_RE.sub(" ", path.lower())
    words: list[str] = []
    for word in re.split(r"[^a-z0-9]+", text):
        if not word:
            continue
        os_word = _OS_WIDTH.match(word)
        if os_word:
            word = os_word.group(1)
        else:
            glued = _GLUED.match(word)
            if glued:
                word = glued.group(1)
        words.append(word)
    return tuple(words)

"""Byte-exact native file headers and wheels that carry them, for tests.

``elf_header`` builds a real ELF header (64 bytes for ELF64, 52 for ELF32) as a linker writes it;
``macho_header`` / ``fat_header`` a thin or universal Mach-O header; ``pe_header`` a DOS stub with a
PE header at ``e_lfanew``. ``wheel`` zips members into a ``py3-none-any`` wheel with
dist-info files, each member stored or deflated with its own Unix mode.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
from dataclasses import dataclass

EM_386, EM_ARM, EM_X86_64, EM_AARCH64 = 3, 40, 62, 183
ET_REL, ET_EXEC, ET_DYN = 1, 2, 3
CPU_X86_64, CPU_ARM64 = 0x01000007, 0x0100000C
MH_EXECUTE, MH_DYLIB = 2, 6
PE_AMD64, PE_ARM64, PE_I386 = 0x8664, 0xAA64, 0x14C


def elf_header(
    machine: int, *, bits: int = 64, little: bool = True, e_type: int = ET_EXEC, osabi: int = 0
) -> bytes:
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if little else 2, 1, osabi]) + bytes(8)
    o = "<" if little else ">"
    if bits == 64:
        rest = struct.pack(
            o + "HHIQQQIHHHHHH", e_type, machine, 1, 0x401000, 64, 0, 0, 64, 56, 1, 64, 0, 0
        )
    else:
        rest = struct.pack(
            o + "HHIIIIIHHHHHH", e_type, machine, 1, 0x8048000, 52, 0, 0, 52, 32, 1, 40, 0, 0
        )
    return ident + rest


def macho_header(cputype: int, filetype: int = MH_EXECUTE) -> bytes:
    """A thin little-endian 64-bit Mach-O header (``mach_header_64``, 32 bytes)."""
    return struct.pack("<IiiIIII", 0xFEEDFACF, cputype, 3, filetype, 0, 0, 0) + bytes(4)


def fat_header(*cputypes: int, wide: bool = False) -> bytes:
    """A universal (fat) header listing ``cputypes``; ``wide`` for ``fat_arch_64`` entries."""
    out = struct.pack(">II", 0xCAFEBABF if wide else 0xCAFEBABE, len(cputypes))
    for i, cpu in enumerate(cputypes):
        offset = 0x4000 * (i + 1)
        if wide:
            out += struct.pack(">IIQQII", cpu, 0, offset, 0x1000, 14, 0)
        else:
            out += struct.pack(">IIIII", cpu, 0, offset, 0x1000, 14)
    return out


def pe_header(machine: int, *, dll: bool = False, e_lfanew: int = 0x80) -> bytes:
    """``MZ`` with ``e_lfanew`` at 0x3C, a DOS stub, then ``PE\\0\\0`` and the COFF file header."""
    dos = bytearray(e_lfanew)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, e_lfanew)
    characteristics = 0x0022 | (0x2000 if dll else 0)
    coff = struct.pack("<HHIIIHH", machine, 3, 0, 0, 0, 0xF0, characteristics)
    return bytes(dos) + b"PE\0\0" + coff


def filler(size: int, seed: int = 7) -> bytes:
    """Incompressible bytes, so that deflated members are as large as real binaries."""
    return random.Random(seed).randbytes(size)


@dataclass(frozen=True)
class Member:
    path: str
    data: bytes
    deflate: bool = False
    mode: int = 0o644


def wheel(members: list[Member], name: str = "demo", version: str = "1.0") -> bytes:
    """A ``py3-none-any`` wheel holding ``members`` (plus ``__init__.py`` and its dist-info)."""
    dist = f"{name}-{version}.dist-info"
    everything = [
        Member(f"{name}/__init__.py", b"VERSION = '1.0'\n", deflate=True),
        *members,
        Member(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\n".encode()),
        Member(f"{dist}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        Member(f"{dist}/RECORD", b""),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for m in everything:
            info = zipfile.ZipInfo(m.path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | m.mode) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED if m.deflate else zipfile.ZIP_STORED
            zf.writestr(info, m.data)
    return buf.getvalue()

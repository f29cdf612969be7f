"""graviton.checks.binaries: real headers from files on this machine, crafted ones for the rest."""

from __future__ import annotations

from pathlib import Path

import pip
import pytest

from graviton.checks.binaries import (
    NOT_BINARY,
    Arch,
    Binary,
    BinaryFormat,
    Endian,
    Kind,
    NativeVerdict,
    classify,
    header_bytes_needed,
    judge_natives,
    name_key,
)
from tests.support.native_headers import (
    CPU_ARM64,
    CPU_X86_64,
    EM_386,
    EM_AARCH64,
    EM_ARM,
    EM_X86_64,
    ET_DYN,
    ET_REL,
    MH_DYLIB,
    PE_AMD64,
    PE_ARM64,
    PE_I386,
    elf_header,
    fat_header,
    macho_header,
    pe_header,
)

DISTLIB = Path(pip.__file__).parent / "_vendor" / "distlib"
AARCH64_LIBS = [
    Path("/usr/aarch64-linux-gnu/lib/libc.so.6"),
    Path("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"),
]


def head_of(path: Path) -> bytes:
    with path.open("rb") as f:
        head = f.read(64)
        return head + f.read(max(0, header_bytes_needed(head) - 64))


# -- real files --------------------------------------------------------------------------------


def test_bin_true_is_an_x86_64_elf_program() -> None:
    b = classify(head_of(Path("/bin/true")))
    assert b.format is BinaryFormat.ELF
    assert b.archs == (Arch.X86_64,)
    assert (b.slices[0].machine, b.slices[0].bits, b.slices[0].endian) == (62, 64, Endian.LITTLE)
    assert b.describe("bin/true") == "x86-64 ELF executable"  # a PIE is ET_DYN, named as a program


def test_an_aarch64_library_of_the_cross_toolchain() -> None:
    present = [p for p in AARCH64_LIBS if p.exists()]
    if not present:
        pytest.skip(
            "no aarch64 cross libraries under /usr/aarch64-linux-gnu (crafted tests cover it)"
        )
    b = classify(head_of(present[0]))
    assert (b.format, b.archs, b.kind) == (BinaryFormat.ELF, (Arch.AARCH64,), Kind.SHARED)
    assert b.describe(present[0].name) == "aarch64 ELF shared library"


@pytest.mark.parametrize(
    ("name", "arch", "machine"),
    [
        ("t64.exe", Arch.X86_64, 0x8664),
        ("t64-arm.exe", Arch.AARCH64, 0xAA64),
        ("t32.exe", Arch.I386, 0x14C),
    ],
)
def test_real_pe_launchers_need_more_than_64_bytes(name: str, arch: Arch, machine: int) -> None:
    data = (DISTLIB / name).read_bytes()
    assert header_bytes_needed(data[:64]) > 64  # e_lfanew points past the first 64 bytes
    assert classify(data[:64]) == Binary(BinaryFormat.PE, complete=False)
    b = classify(data[: header_bytes_needed(data[:64])])
    assert (b.format, b.archs, b.slices[0].machine, b.kind) == (
        BinaryFormat.PE,
        (arch,),
        machine,
        Kind.EXECUTABLE,
    )


def test_python_source_and_text_are_not_binaries() -> None:
    assert classify(Path(__file__).read_bytes()[:64]) is NOT_BINARY
    assert classify(b"") is NOT_BINARY
    assert (
        classify(b"MZ is a text file starting like DOS, long enough to hold e_lfanew...")
        is NOT_BINARY
    )


# -- crafted headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "arch", "bits", "endian"),
    [
        (elf_header(EM_X86_64), Arch.X86_64, 64, Endian.LITTLE),
        (elf_header(EM_AARCH64), Arch.AARCH64, 64, Endian.LITTLE),
        (elf_header(EM_386, bits=32), Arch.I386, 32, Endian.LITTLE),
        (elf_header(EM_ARM, bits=32), Arch.ARM, 32, Endian.LITTLE),
        (elf_header(21, little=False), Arch.PPC64, 64, Endian.BIG),
        (elf_header(0x1234), Arch.UNKNOWN, 64, Endian.LITTLE),
    ],
)
def test_elf_machine_width_and_byte_order(
    head: bytes, arch: Arch, bits: int, endian: Endian
) -> None:
    b = classify(head)
    assert b.format is BinaryFormat.ELF and b.complete
    assert (b.archs, b.slices[0].bits, b.slices[0].endian) == ((arch,), bits, endian)


def test_an_unknown_elf_machine_is_named_by_its_number() -> None:
    assert classify(elf_header(0x1234)).describe() == "machine 4660 ELF executable"


def test_elf_kinds_and_shared_library_names() -> None:
    assert classify(elf_header(EM_X86_64, e_type=ET_REL)).kind is Kind.OBJECT
    so = classify(elf_header(EM_X86_64, e_type=ET_DYN))
    assert (
        so.describe("pkg/_speedups.cpython-311-x86_64-linux-gnu.so") == "x86-64 ELF shared library"
    )
    assert so.describe("pkg/libfoo.so.1.2") == "x86-64 ELF shared library"
    assert so.describe("pkg/tool") == "x86-64 ELF executable"


def test_thin_mach_o() -> None:
    b = classify(macho_header(CPU_ARM64, MH_DYLIB))
    assert (b.format, b.archs, b.kind) == (BinaryFormat.MACHO, (Arch.AARCH64,), Kind.SHARED)
    assert classify(macho_header(CPU_X86_64)).describe() == "x86-64 Mach-O executable"


@pytest.mark.parametrize("wide", [False, True])
def test_fat_mach_o_lists_every_slice(wide: bool) -> None:
    head = fat_header(CPU_X86_64, CPU_ARM64, wide=wide)
    b = classify(head)
    assert (b.format, b.archs, b.complete) == (
        BinaryFormat.MACHO,
        (Arch.X86_64, Arch.AARCH64),
        True,
    )
    assert b.describe() == "universal Mach-O file (x86-64, aarch64)"


def test_fat_mach_o_with_more_slices_than_64_bytes_hold() -> None:
    head = fat_header(CPU_X86_64, CPU_ARM64, 7, 12)
    assert not classify(head[:64]).complete
    assert header_bytes_needed(head[:64]) == 8 + 4 * 20
    assert classify(head).archs == (Arch.X86_64, Arch.AARCH64, Arch.I386, Arch.ARM)


def test_a_java_class_file_is_not_a_fat_mach_o() -> None:
    assert classify(b"\xca\xfe\xba\xbe\x00\x00\x00\x37" + bytes(56)) is NOT_BINARY


@pytest.mark.parametrize(
    ("machine", "arch"), [(PE_AMD64, Arch.X86_64), (PE_ARM64, Arch.AARCH64), (PE_I386, Arch.I386)]
)
def test_pe_machine(machine: int, arch: Arch) -> None:
    head = pe_header(machine, dll=True)
    assert header_bytes_needed(head[:64]) == 0x80 + 24
    b = classify(head)
    assert (b.format, b.archs, b.kind) == (BinaryFormat.PE, (arch,), Kind.SHARED)


# -- the verdict for linux/aarch64 ----------------------------------------------------------------

X86_EXE = classify(elf_header(EM_X86_64))
ARM_EXE = classify(elf_header(EM_AARCH64))
X86_SO = classify(elf_header(EM_X86_64, e_type=ET_DYN))
ARM_SO = classify(elf_header(EM_AARCH64, e_type=ET_DYN))
CHROMEDRIVER = [
    ("chromedriver_py/__init__.py", NOT_BINARY),
    ("chromedriver_py/chromedriver_linux64", X86_EXE),
    ("chromedriver_py/chromedriver_mac64", classify(macho_header(CPU_X86_64))),
    ("chromedriver_py/chromedriver_mac-arm64", classify(macho_header(CPU_ARM64))),
    ("chromedriver_py/chromedriver_win64.exe", classify(pe_header(PE_AMD64))),
]


def test_an_x86_64_program_without_an_aarch64_build_blocks() -> None:
    check = judge_natives(CHROMEDRIVER)
    assert check.verdict is NativeVerdict.FOREIGN_ONLY and check.blocked
    assert [m.path for m in check.foreign] == ["chromedriver_py/chromedriver_linux64"]
    assert check.architectures == (Arch.X86_64,)
    assert check.reason == (
        "ships chromedriver_py/chromedriver_linux64, an x86-64 ELF executable,"
        " and no aarch64 build of it"
    )
    assert len(check.ignored) == 3  # Mach-O and PE never run on Linux


def test_a_named_aarch64_build_is_the_counterpart() -> None:
    check = judge_natives([*CHROMEDRIVER, ("chromedriver_py/chromedriver_linux_arm64", ARM_EXE)])
    assert check.verdict is NativeVerdict.RUNS and not check.blocked
    assert check.paired == (
        ("chromedriver_py/chromedriver_linux64", "chromedriver_py/chromedriver_linux_arm64"),
    )
    assert (
        check.reason == "every Linux native file has an aarch64 build (1 aarch64 file(s), 1 paired)"
    )


def test_an_aarch64_build_under_another_name_counts_once() -> None:
    members = [("pkg/bin/tool-intel", X86_EXE), ("pkg/bin/tool-graviton", ARM_EXE)]
    assert judge_natives(members).verdict is NativeVerdict.RUNS
    # one aarch64 build cannot vouch for two x86-64 programs
    check = judge_natives([*members, ("pkg/bin/other", X86_EXE)])
    assert check.blocked and len(check.foreign) == 1


def test_name_pairs_win_over_leftovers() -> None:
    members = [
        ("pkg/linux-x64/a", X86_EXE),
        ("pkg/linux-x64/b", X86_EXE),
        ("pkg/linux-arm64/a", ARM_EXE),
    ]
    check = judge_natives(members)
    assert [m.path for m in check.foreign] == ["pkg/linux-x64/b"]
    assert check.paired == (("pkg/linux-x64/a", "pkg/linux-arm64/a"),)


def test_a_library_does_not_vouch_for_a_program() -> None:
    check = judge_natives([("pkg/tool", X86_EXE), ("pkg/libhelper.so", ARM_SO)])
    assert check.blocked
    assert [m.path for m in check.foreign] == ["pkg/tool"]


def test_libraries_pair_across_architecture_folders() -> None:
    members = [("pkg/lib/x86_64/libfoo.so", X86_SO), ("pkg/lib/aarch64/libfoo.so", ARM_SO)]
    assert judge_natives(members).verdict is NativeVerdict.RUNS


def test_mach_o_and_pe_only_is_not_blocked() -> None:
    members = [(p, b) for p, b in CHROMEDRIVER if b.format in (BinaryFormat.MACHO, BinaryFormat.PE)]
    check = judge_natives(members)
    assert check.verdict is NativeVerdict.NO_LINUX_NATIVES and not check.blocked
    assert check.reason == "no Linux native code (3 native file(s) for other systems)"
    assert judge_natives([("pkg/a.py", NOT_BINARY)]).reason == "no native code"


def test_object_files_and_other_systems_elf_are_ignored() -> None:
    members = [
        ("pkg/crt.o", classify(elf_header(EM_X86_64, e_type=ET_REL))),
        ("pkg/freebsd/tool", classify(elf_header(EM_X86_64, osabi=9))),
        ("pkg/gnu/tool", classify(elf_header(EM_AARCH64, osabi=3))),
    ]
    check = judge_natives(members)
    assert check.verdict is NativeVerdict.RUNS
    assert [m.path for m in check.ignored] == ["pkg/crt.o", "pkg/freebsd/tool"]


def test_big_endian_aarch64_is_not_an_aarch64_build() -> None:
    be = classify(elf_header(EM_AARCH64, little=False))
    check = judge_natives([("pkg/tool_x64", X86_EXE), ("pkg/tool_arm64", be)])
    assert len(check.foreign) == 2
    assert "aarch64 (big-endian) ELF executable" in check.reason


def test_several_blockers_in_one_line() -> None:
    members = [(f"pkg/t{i}", X86_EXE) for i in range(3)] + [
        ("pkg/x.so", classify(elf_header(EM_386, bits=32, e_type=ET_DYN)))
    ]
    check = judge_natives(members)
    assert check.architectures == (Arch.X86_64, Arch.I386)
    assert check.reason == (
        "ships 4 Linux native files with no aarch64 build: pkg/t0 (x86-64 ELF executable),"
        " pkg/t1 (x86-64 ELF executable) and 2 more"
    )
    assert "\n" not in check.reason


def test_the_target_is_a_parameter() -> None:
    check = judge_natives([("pkg/tool_linux_arm64", ARM_EXE)], target=Arch.X86_64)
    assert check.blocked and check.reason.endswith("and no x86-64 build of it")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("chromedriver_py/chromedriver_linux64", "chromedriver_py/chromedriver_linux_arm64"),
        ("pkg/bin/tool-linux-x86_64", "pkg/bin/tool-linux-aarch64"),
        ("pkg/x64/tool.bin", "pkg/arm64/tool.bin"),
        ("pkg/tool_amd64", "pkg/tool_arm64"),
    ],
)
def test_name_keys_pair_builds(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_name_keys_keep_different_programs_apart() -> None:
    assert name_key("pkg/linux/chromedriver") != name_key("pkg/linux/geckodriver")
    assert name_key("pkg/alarm") == ("pkg", "alarm")  # "arm" inside a word is not an architecture

from __future__ import annotations

import pytest
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from graviton.audit.platforms import TagSet, libc_requirement, platform_tags, preset
from graviton.errors import UsageError
from graviton.findings import Target


def accepts(target: Target, filename: str) -> bool:
    return TagSet(target).best(parse_wheel_filename(filename)[3]) is not None


def test_every_manylinux_level_up_to_the_target_is_listed() -> None:
    tags = platform_tags(Target(libc_version=(2, 28)))
    assert tags[0] == "manylinux_2_28_aarch64"
    assert "manylinux_2_17_aarch64" in tags and "manylinux2014_aarch64" in tags
    assert "manylinux_2_29_aarch64" not in tags
    assert tags[-1] == "linux_aarch64"
    assert len([t for t in tags if t.startswith("manylinux_")]) == 28 - 17 + 1


def test_the_pip_platform_trap_is_avoided() -> None:
    # pip --platform manylinux_2_28_aarch64 alone would not accept this numpy wheel
    wheel = "numpy-2.1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    assert accepts(Target(python=(3, 12), libc_version=(2, 28)), wheel)


@pytest.mark.parametrize(
    ("glibc", "ok"), [((2, 26), False), ((2, 27), False), ((2, 28), True), ((2, 36), True)]
)
def test_a_glibc_228_wheel_needs_228(glibc: tuple[int, int], ok: bool) -> None:
    wheel = "pyarrow-17.0.0-cp312-cp312-manylinux_2_28_aarch64.whl"
    assert accepts(Target(python=(3, 12), libc_version=glibc), wheel) is ok


def test_x86_and_macos_arm64_wheels_are_not_linux_aarch64() -> None:
    t = Target(python=(3, 11), libc_version=(2, 34))
    assert not accepts(
        t, "shioaji-1.2.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )
    assert not accepts(t, "shioaji-1.2.5-cp311-cp311-macosx_11_0_arm64.whl")


def test_abi3_none_and_pure() -> None:
    t = Target(python=(3, 12), libc_version=(2, 34))
    assert accepts(t, "cryptography-43.0.0-cp39-abi3-manylinux_2_28_aarch64.whl")
    assert accepts(t, "x-1.0-py3-none-manylinux_2_17_aarch64.whl")
    assert accepts(t, "requests-2.32.3-py3-none-any.whl")
    assert not accepts(t, "old-1.0-py2-none-any.whl")
    assert not accepts(t, "x-1.0-cp313-cp313-manylinux_2_17_aarch64.whl")
    assert not accepts(t, "x-1.0-cp39-abi3-win_arm64.whl")


def test_musl_targets_take_musllinux_only() -> None:
    musl = Target(python=(3, 12), libc="musl", libc_version=(1, 2))
    glibc = Target(python=(3, 12), libc_version=(2, 36))
    wheel = "x-1.0-cp312-cp312-musllinux_1_2_aarch64.whl"
    assert accepts(musl, wheel) and not accepts(glibc, wheel)
    assert accepts(musl, "x-1.0-cp312-cp312-musllinux_1_1_aarch64.whl")
    assert not accepts(musl, "x-1.0-cp312-cp312-manylinux_2_17_aarch64.whl")


def test_native_is_preferred_over_pure() -> None:
    ts = TagSet(Target(python=(3, 12)))
    native = ts.best(frozenset({Tag("cp312", "cp312", "manylinux_2_17_aarch64")}))
    pure = ts.best(frozenset({Tag("py3", "none", "any")}))
    assert native is not None and pure is not None and native < pure


def test_libc_requirement() -> None:
    assert libc_requirement("manylinux2014_aarch64") == ("glibc", (2, 17), "aarch64")
    assert libc_requirement("manylinux_2_28_x86_64") == ("glibc", (2, 28), "x86_64")
    assert libc_requirement("musllinux_1_2_aarch64") == ("musl", (1, 2), "aarch64")
    assert libc_requirement("macosx_11_0_arm64") is None


def test_presets() -> None:
    assert preset("al2").libc_version == (2, 26)
    assert preset("al2023").libc_version == (2, 34)
    assert preset("bookworm").libc_version == (2, 36)
    assert preset("alpine").libc == "musl"
    with pytest.raises(UsageError):
        preset("windows")

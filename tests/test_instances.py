from __future__ import annotations

import pytest

from graviton.instances import (
    GRAVITON_SIZES,
    Arch,
    architecture,
    graviton_counterpart,
    is_graviton,
)


@pytest.mark.parametrize(
    ("x86", "graviton"),
    [
        # the examples
        ("r6i.large", "r6g.large"),
        ("m6i.xlarge", "m6g.xlarge"),
        ("c6i.2xlarge", "c6g.2xlarge"),
        # 5th generation and AMD go to Graviton2 (6g)
        ("r5.large", "r6g.large"),
        ("m5.4xlarge", "m6g.4xlarge"),
        ("c5.xlarge", "c6g.xlarge"),
        ("m5a.large", "m6g.large"),
        ("c6a.16xlarge", "c6g.16xlarge"),
        # 7th and 8th generation, Intel and AMD, flex
        ("m7i.xlarge", "m7g.xlarge"),
        ("c7a.medium", "c7g.medium"),
        ("r7i.8xlarge", "r7g.8xlarge"),
        ("c7i-flex.large", "c7g.large"),
        ("m8i.2xlarge", "m8g.2xlarge"),
        ("r8a.24xlarge", "r8g.24xlarge"),
        ("c8i.metal-48xl", "c8g.metal-48xl"),
        # local NVMe and network variants where Graviton has them
        ("m6id.xlarge", "m6gd.xlarge"),
        ("c5d.2xlarge", "c6gd.2xlarge"),
        ("c5n.large", "c6gn.large"),
        ("c6in.4xlarge", "c6gn.4xlarge"),
        ("r8i.large", "r8g.large"),
        # burstable
        ("t3.medium", "t4g.medium"),
        ("t3a.large", "t4g.large"),
        ("t2.micro", "t4g.micro"),
        # case and whitespace from hand-written input
        (" M6I.XLARGE ", "m6g.xlarge"),
    ],
)
def test_same_size_counterpart(x86: str, graviton: str) -> None:
    match = graviton_counterpart(x86)
    assert match.architecture is Arch.X86_64
    assert match.graviton_type == graviton


@pytest.mark.parametrize(
    ("x86", "graviton", "caveat"),
    [
        ("m6in.xlarge", "m6g.xlarge", "network"),  # no m6gn
        ("m6idn.large", "m6gd.large", "network"),
        ("r5b.large", "r6g.large", "EBS"),
        ("m5zn.large", "m6g.large", "high-frequency"),
        ("m4.large", "m6g.large", "previous generation"),
    ],
)
def test_approximate_counterpart_says_what_differs(x86: str, graviton: str, caveat: str) -> None:
    match = graviton_counterpart(x86)
    assert match.graviton_type == graviton
    assert match.note is not None and caveat in match.note


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("c5.9xlarge", "c6g has no 9xlarge"),
        ("m6i.24xlarge", "m6g has no 24xlarge"),
        ("m6i.32xlarge", "m6g has no 32xlarge"),
        ("m6i.metal", "bare metal"),
        ("p3.2xlarge", "no Graviton counterpart for the p3 family"),
        ("g4dn.xlarge", "no Graviton counterpart"),
        ("i3.large", "no Graviton counterpart"),
        ("z1d.large", "no Graviton counterpart"),
        ("m9i.large", "no Graviton counterpart"),  # a generation that does not exist yet
    ],
)
def test_no_counterpart_is_a_row_not_a_crash(name: str, why: str) -> None:
    match = graviton_counterpart(name)
    assert match.graviton_type is None
    assert match.architecture is Arch.X86_64
    assert match.note is not None and why in match.note


@pytest.mark.parametrize("name", ["", "potato", "m6i", "m6i.", ".large", "u-6tb1.112xlarge"])
def test_not_an_instance_type(name: str) -> None:
    match = graviton_counterpart(name)
    assert match.graviton_type is None
    assert match.architecture is Arch.UNKNOWN
    assert match.note


@pytest.mark.parametrize(
    "name",
    ["m6g.xlarge", "r7gd.large", "c6gn.medium", "t4g.small", "a1.large", "x2gd.large", "m8g.large"],
)
def test_graviton_types_are_recognised(name: str) -> None:
    assert architecture(name) is Arch.ARM64
    match = graviton_counterpart(name)
    assert match.is_graviton
    assert match.graviton_type == name


@pytest.mark.parametrize("name", ["m6i.large", "c7a.large", "r5.large", "t3.micro", "g4dn.xlarge"])
def test_x86_types_are_recognised(name: str) -> None:
    assert architecture(name) is Arch.X86_64


def test_every_target_is_a_graviton_family_of_the_same_size() -> None:
    sizes = ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"]
    for cls in "cmr":
        for fam in ("5", "5a", "5d", "5n", "6i", "6a", "6id", "6in", "7i", "7a", "8i", "8a"):
            for size in sizes:
                match = graviton_counterpart(f"{cls}{fam}.{size}")
                assert match.graviton_type is not None, match
                family, _, target_size = match.graviton_type.partition(".")
                assert target_size == size
                assert family in GRAVITON_SIZES
                assert architecture(match.graviton_type) is Arch.ARM64


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [
        ("r6g.large", "graviton2"),
        ("m6gd.xlarge", "graviton2"),
        ("c6gn.large", "graviton2"),
        ("t4g.micro", "graviton2"),
        ("m7g.xlarge", "graviton3"),
        ("c7gn.large", "graviton3"),
        ("r8g.2xlarge", "graviton4"),
        ("a1.large", "graviton1"),
        ("x2gd.large", "graviton2"),
        ("im4gn.large", "graviton2"),
        ("is4gen.large", "graviton2"),
        ("g5g.xlarge", "graviton2"),
        ("hpc7g.4xlarge", "graviton3"),
        ("m6i.xlarge", None),
        ("t3.large", None),
        ("not-a-type", None),
    ],
)
def test_generation(instance_type: str, expected: str | None) -> None:
    from graviton.instances import generation

    found = generation(instance_type)
    assert (found.value if found else None) == expected


def test_family_of() -> None:
    from graviton.instances import family_of

    assert family_of("m6g.xlarge") == "m6g"
    assert family_of("c7i-flex.large") == "c7i-flex"
    assert family_of("nonsense") is None


@pytest.mark.parametrize(
    ("instance_type", "graviton"),
    [
        *[
            (t, True)
            for t in (
                "m6g.large",
                "m6gd.large",
                "c6gn.large",
                "r7g.large",
                "c8g.large",
                "t4g.micro",
                "x2gd.large",
                "im4gn.large",
                "is4gen.large",
                "g5g.xlarge",
                "hpc7g.4xlarge",
                "a1.large",
                "M6G.LARGE",
            )
        ],
        *[
            (t, False)
            for t in (
                "m6i.large",
                "m7a.large",
                "g4dn.xlarge",
                "c5n.large",
                "t3.micro",
                "m7i-flex.large",
                "x2iedn.xlarge",
                "p4d.24xlarge",
                "not-a-type",
            )
        ],
    ],
)
def test_is_graviton(instance_type: str, graviton: bool) -> None:
    assert is_graviton(instance_type) is graviton

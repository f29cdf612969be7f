"""The index model's version floor: the same answers as packaging's ordering, also for the
release-only versions it compares as numbers."""

from __future__ import annotations

import itertools

from packaging.version import Version

from graviton.index.model import at_or_above, normal_version

VERSIONS = [
    "0", "0.0.1", "0.9", "1", "1.0", "1.0.0", "1.0.0.0", "1.0.1", "1.00.2", "01.2", "1.2", "1.10",
    "1.9.9", "2", "2.0", "10", "1.0rc1", "1.0.0a1", "1.0.post1", "1.0.dev3", "1.0+local",
    "1!0.1", "1!1.0", "0!2.0", "2.0.0.post2", "1.0.0-rc2", "v1.2", "2013.05.01", "2013.5",
    "1.0.0.0.0.1", "0.0", "999999999999999999999.1",
]  # fmt: skip


def test_the_floor_orders_versions_as_packaging_does() -> None:
    for since, version in itertools.product(VERSIONS, VERSIONS):
        keep = at_or_above(since)
        normal = normal_version(version)
        assert keep is not None and normal is not None
        assert keep(normal) is (Version(normal) >= Version(since)), (since, version)
        assert keep(normal) is (Version(normal) >= Version(since)), "memo"


def test_no_floor_keeps_everything() -> None:
    assert at_or_above(None) is None
    assert at_or_above("not a version") is None

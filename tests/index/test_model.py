"""The index model's version floor: the same answers as packaging's ordering, also for the
release-only versions it compares as numbers."""

from __future__ import annotations

import itertools

from packaging.version import Version

from graviton.index.model import at_or_above, file_version, normal_version, releases_from

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


FILENAMES = [
    "demo-1.0-py3-none-any.whl", "demo-1.0-1-cp311-cp311-linux_x86_64.whl",
    "demo-1.0.0-py3-none-any.whl", "demo-01.0-py3-none-any.whl", "demo-2.0rc1-py3-none-any.whl",
    "demo-1.0-py3-any.whl", "demo-1.0-a-b-c-d-e.whl", "demo-1.0.post2-py3-none-any.whl",
    "demo-1!0.5-py3-none-any.whl", "demo-1.0+local-py3-none-any.whl", "demo-x.y-py3-none-any.whl",
    "demo-1.0.tar.gz", "python-dateutil-2.8.2.tar.gz", "demo-1.0.zip", "demo-1.0.tar.bz2",
    "demo-1.0.tar.xz", "demo-1.0.tgz", "demo-1.0.tar", "demo.tar.gz", "demo-1.0.egg",
    "demo-1.0.exe", "demo-1.0-py3.9.egg", "demo-0.9.tar.gz", "demo-1.0.dev1.tar.gz",
    "Demo-1.0-2.tar.gz", "demo-1.0a.tar.gz", "demo-v1.0.tar.gz", "demo-1.0.0.0.tar.gz",
]  # fmt: skip


def test_releases_from_is_file_version_and_the_floor_together() -> None:
    """The per-file test of a page (one call, a memo per version as written) answers as
    :func:`file_version` followed by :func:`at_or_above` does, asked twice."""
    for since in [None, "0.9", "1.0", "1.0.post1", "1!0", "2.0.dev0", "nonsense"]:
        release = releases_from(since)
        keep = at_or_above(since)
        for filename in FILENAMES * 2:
            version = file_version(filename)
            expected = version if version is not None and (keep is None or keep(version)) else None
            assert release(filename) == expected, (since, filename)

"""What each lock format says beyond name and version: markers, sources, indexes, the project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graviton.audit.sources import load
from graviton.errors import InputError
from graviton.findings import Pin
from tests.audit.sources.conftest import Write, by_key, line_of

PRIVATE = "https://pkgs.example.com/simple/"


def pins_of(path: Path) -> dict[str, Pin]:
    return by_key(load(path).pins)


def error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load(path)
    return caught.value


# poetry.lock


def test_poetry_markers_per_group_sources_and_path_dependencies(write: Write) -> None:
    path = write(
        "poetry.lock",
        r"""
        [[package]]
        name = "colorama"
        version = "0.4.6"
        description = "Cross-platform colored terminal text."
        optional = false
        python-versions = ">=3.7"
        groups = ["main", "dev"]
        files = []
        markers = {main = "os_name == \"nt\"", dev = "sys_platform == \"win32\""}

        [[package]]
        name = "cffi"
        version = "1.17.1"
        description = "Foreign Function Interface for Python calling C code."
        optional = false
        python-versions = ">=3.8"
        groups = ["main", "dev"]
        files = []
        markers = {main = "os_name == \"nt\""}

        [[package]]
        name = "shioaji"
        version = "1.2.6"
        description = "Shioaji flexible api for taiwan trading"
        optional = false
        python-versions = ">=3.7"
        groups = ["main"]
        files = []

        [package.source]
        type = "legacy"
        url = "https://pkgs.example.com/simple/"
        reference = "private"

        [[package]]
        name = "idna"
        version = "3.10"
        description = ""
        optional = false
        python-versions = ">=3.6"
        files = []

        [package.source]
        type = "legacy"
        url = "https://pypi.org/simple"
        reference = "pypi-mirror"

        [[package]]
        name = "core"
        version = "2.0.0"
        description = ""
        optional = false
        python-versions = "*"
        files = []

        [package.source]
        type = "git"
        url = "https://github.com/org/core.git"
        reference = "main"
        resolved_reference = "4f2a9c1"

        [[package]]
        name = "bridge"
        version = "0.3.0"
        description = ""
        optional = false
        python-versions = "*"
        files = []
        develop = true

        [package.source]
        type = "directory"
        url = "../bridge"

        [[package]]
        name = "self"
        version = "1.0.0"
        description = ""
        optional = false
        python-versions = "*"
        files = []

        [package.source]
        type = "directory"
        url = "."

        [metadata]
        lock-version = "2.1"
        python-versions = ">=3.11"
        content-hash = "0"
        """,
    )
    found = pins_of(path)
    assert "self" not in found
    assert found["colorama"].marker == 'os_name == "nt" or sys_platform == "win32"'
    assert found["cffi"].marker is None  # the dev group needs it everywhere
    assert found["shioaji"].index_urls == (PRIVATE,)
    assert found["idna"].index_urls == ()
    assert (found["core"].url, found["core"].version) == (
        "git+https://github.com/org/core.git@4f2a9c1",
        "2.0.0",
    )
    assert (found["bridge"].url, found["bridge"].editable) == ("../bridge", True)
    for pin in found.values():
        assert line_of(path, pin.location.line) == f'name = "{pin.name}"'


def test_poetry_package_without_version_is_an_error_at_its_entry(write: Write) -> None:
    path = write(
        "poetry.lock",
        """
        [[package]]
        name = "idna"
        version = "3.10"

        [[package]]
        name = "numpy"
        """,
    )
    failure = error(path)
    assert failure.line == 5
    assert "package[1].version is missing" in str(failure)


# uv.lock


def test_uv_markers_follow_the_dependency_graph(write: Write) -> None:
    path = write(
        "uv.lock",
        """
        version = 1
        revision = 2
        requires-python = ">=3.11"

        [[package]]
        name = "app"
        version = "0.1.0"
        source = { virtual = "." }
        dependencies = [
            { name = "winext", marker = "sys_platform == 'win32'" },
            { name = "client", extra = ["fast"] },
            { name = "common" },
        ]

        [package.dev-dependencies]
        dev = [
            { name = "pytest" },
        ]

        [[package]]
        name = "winext"
        version = "1.0"
        source = { registry = "https://pypi.org/simple" }
        dependencies = [
            { name = "comtypes", marker = "python_full_version < '3.12'" },
            { name = "common" },
        ]

        [[package]]
        name = "comtypes"
        version = "1.4"
        source = { registry = "https://pypi.org/simple" }

        [[package]]
        name = "common"
        version = "2.0"
        source = { registry = "https://pypi.org/simple" }

        [[package]]
        name = "client"
        version = "3.0"
        source = { registry = "https://pypi.org/simple" }

        [package.optional-dependencies]
        fast = [
            { name = "speedups", marker = "platform_machine == 'x86_64'" },
        ]

        [[package]]
        name = "speedups"
        version = "0.5"
        source = { registry = "https://pypi.org/simple" }

        [[package]]
        name = "pytest"
        version = "8.3.4"
        source = { registry = "https://pypi.org/simple" }
        """,
    )
    found = pins_of(path)
    assert set(found) == {"winext", "comtypes", "common", "client", "speedups", "pytest"}
    assert found["winext"].marker == 'sys_platform == "win32"'
    assert found["comtypes"].marker == 'python_full_version < "3.12" and sys_platform == "win32"'
    assert found["common"].marker is None  # also a direct dependency of the project
    assert found["client"].marker is None
    assert found["speedups"].marker == 'platform_machine == "x86_64"'
    assert found["pytest"].marker is None


def test_uv_lock_of_a_script_starts_from_its_manifest(write: Write) -> None:
    path = write(
        "uv.lock",
        """
        version = 1
        revision = 2
        requires-python = ">=3.11"

        [manifest]
        requirements = [
            { name = "pywin32", marker = "sys_platform == 'win32'", specifier = ">=306" },
            { name = "requests", extras = ["socks"] },
        ]

        [[package]]
        name = "pywin32"
        version = "308"
        source = { registry = "https://pypi.org/simple" }

        [[package]]
        name = "requests"
        version = "2.32.3"
        source = { registry = "https://pypi.org/simple" }

        [package.optional-dependencies]
        socks = [
            { name = "pysocks", marker = "os_name != 'nt'" },
        ]

        [[package]]
        name = "pysocks"
        version = "1.7.1"
        source = { registry = "https://pypi.org/simple" }
        """,
    )
    found = pins_of(path)
    assert found["pywin32"].marker == 'sys_platform == "win32"'
    assert found["requests"].marker is None
    assert found["pysocks"].marker == 'os_name != "nt"'


def test_uv_a_name_locked_twice_is_two_pins_with_their_forks(write: Write) -> None:
    path = write(
        "uv.lock",
        """
        version = 1
        revision = 2
        requires-python = ">=3.11"
        resolution-markers = [
            "python_full_version >= '3.12'",
            "python_full_version < '3.12'",
        ]

        [[package]]
        name = "app"
        version = "0.1.0"
        source = { editable = "." }
        dependencies = [
            { name = "numpy", version = "1.26.4", marker = "python_full_version < '3.12'" },
            { name = "numpy", version = "2.2.1", marker = "python_full_version >= '3.12'" },
        ]

        [[package]]
        name = "numpy"
        version = "1.26.4"
        source = { registry = "https://pypi.org/simple" }
        resolution-markers = [
            "python_full_version < '3.12'",
        ]

        [[package]]
        name = "numpy"
        version = "2.2.1"
        source = { registry = "https://pypi.org/simple" }
        resolution-markers = [
            "python_full_version >= '3.12'",
        ]
        """,
    )
    manifest = load(path)
    assert [(p.version, p.marker) for p in manifest.pins] == [
        ("1.26.4", 'python_full_version < "3.12"'),
        ("2.2.1", 'python_full_version >= "3.12"'),
    ]
    assert [p.location.line for p in manifest.pins] == [19, 27]
    assert line_of(path, 19) == line_of(path, 27) == 'name = "numpy"'


def test_uv_sources(write: Write) -> None:
    path = write(
        "uv.lock",
        """
        version = 1
        requires-python = ">=3.11"

        [[package]]
        name = "app"
        version = "0.1.0"
        source = { virtual = "." }
        dependencies = [{ name = "core" }]

        [[package]]
        name = "core"
        version = "0.2.0"
        source = { editable = "packages/core" }

        [[package]]
        name = "shioaji"
        version = "1.2.6"
        source = { registry = "https://pkgs.example.com/simple/" }

        [[package]]
        name = "fix"
        version = "1.0.0"
        source = { git = "https://github.com/org/fix?rev=v1#0a1b2c3d" }

        [[package]]
        name = "feed"
        version = "0.9.0"
        source = { url = "https://example.com/feed-0.9.0.tar.gz" }

        [[package]]
        name = "bridge"
        version = "0.3.0"
        source = { path = "wheels/bridge-0.3.0-py3-none-any.whl" }
        """,
    )
    found = pins_of(path)
    assert "app" not in found
    assert (found["core"].url, found["core"].editable) == ("packages/core", True)
    assert found["shioaji"].index_urls == (PRIVATE,)
    assert found["shioaji"].url is None
    assert found["fix"].url == "git+https://github.com/org/fix@0a1b2c3d"
    assert found["feed"].url == "https://example.com/feed-0.9.0.tar.gz"
    assert found["bridge"].url == "wheels/bridge-0.3.0-py3-none-any.whl"
    assert found["fix"].version == "1.0.0"
    assert not load(path).unpinned


def test_uv_lock_of_another_version_is_refused(write: Write) -> None:
    failure = error(write("uv.lock", "# uv\nversion = 2\n"))
    assert failure.line == 2


def test_uv_marker_too_complex_to_keep_is_dropped_not_the_package(write: Write) -> None:
    registry = 'source = { registry = "https://pypi.org/simple" }'
    edges = "".join(
        f'    {{ name = "mid{i}", marker = "python_full_version == \'3.11.{i}\'" }},\n'
        for i in range(40)
    )
    text = 'version = 1\n\n[[package]]\nname = "app"\nsource = { virtual = "." }\n'
    text += f"dependencies = [\n{edges}]\n"
    for i in range(40):
        text += f'\n[[package]]\nname = "mid{i}"\nversion = "1.0"\n{registry}\n'
        text += 'dependencies = [{ name = "leaf" }]\n'
    text += f'\n[[package]]\nname = "leaf"\nversion = "1.0"\n{registry}\n'
    found = pins_of(write("uv.lock", text))
    assert found["mid7"].marker == 'python_full_version == "3.11.7"'
    assert found["leaf"].marker is None  # judged everywhere rather than guessed


# Pipfile.lock


def pipfile(default: dict[str, object], develop: dict[str, object] | None = None) -> str:
    return json.dumps(
        {
            "_meta": {
                "pipfile-spec": 6,
                "sources": [
                    {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
                    {"name": "private", "url": "https://${GV_PIP_TOKEN}@pkgs.example.com/simple/"},
                ],
            },
            "default": default,
            "develop": develop or {},
        },
        indent=4,
        sort_keys=True,
    )


def test_pipfile_indexes_direct_references_and_sections(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GV_PIP_TOKEN", "t0k")
    path = write(
        "Pipfile.lock",
        pipfile(
            {
                "shioaji": {"index": "private", "version": "==1.2.6"},
                "idna": {"index": "pypi", "version": "==3.10"},
                "core": {"git": "git+https://github.com/org/core.git", "ref": "4f2a9c1"},
                "feed": {"file": "https://example.com/feed-0.9.0.tar.gz"},
                "gateway": {"editable": True, "path": "."},
                "bridge": {"editable": True, "path": "../bridge"},
            },
            {"idna": {"version": "==3.10"}, "pytest": {"version": "==8.3.4"}},
        ),
    )
    manifest = load(path)
    found = by_key(manifest.pins)
    assert manifest.index_url == "https://pypi.org/simple"
    assert found["shioaji"].index_urls == ("https://t0k@pkgs.example.com/simple/",)
    assert found["idna"].index_urls == ()
    assert found["core"].url == "git+https://github.com/org/core.git@4f2a9c1"
    assert found["feed"].url == "https://example.com/feed-0.9.0.tar.gz"
    assert (found["bridge"].url, found["bridge"].editable) == ("../bridge", True)
    assert "gateway" not in found
    assert [str(pin.key) for pin in manifest.pins].count("idna") == 1
    assert line_of(path, found["idna"].location.line) == '        "idna": {'
    assert line_of(path, found["pytest"].location.line) == '        "pytest": {'


def test_pipfile_unknown_index_is_an_error_at_its_line(write: Write) -> None:
    path = write("Pipfile.lock", pipfile({"numpy": {"index": "nope", "version": "==1.26.4"}}))
    failure = error(path)
    assert line_of(path, failure.line) == '            "index": "nope",'


def test_pipfile_bad_marker_is_an_error_at_its_line(write: Write) -> None:
    path = write("Pipfile.lock", pipfile({"numpy": {"markers": "os ==", "version": "==1.26.4"}}))
    failure = error(path)
    assert line_of(path, failure.line) == '            "markers": "os ==",'
    assert "invalid marker" in str(failure)


# pylock.toml


def test_pylock_direct_sources_and_the_project(write: Write) -> None:
    path = write(
        "pylock.toml",
        """
        lock-version = "1.0"
        created-by = "pip"

        [[packages]]
        name = "gateway"
        directory = { path = ".", editable = true }

        [[packages]]
        name = "core"
        version = "2.0.0"
        vcs = { type = "git", url = "https://github.com/org/core.git", commit-id = "4f2a9c1" }

        [[packages]]
        name = "feed"

        [packages.archive]
        url = "https://example.com/feed-0.9.0.tar.gz"
        hashes = { sha256 = "00" }

        [[packages]]
        name = "bridge"
        directory = { path = "../bridge", editable = true }

        [[packages]]
        name = "shioaji"
        version = "1.2.6"
        index = "https://pkgs.example.com/simple/"

        [[packages.wheels]]
        name = "shioaji-1.2.6-cp311-cp311-manylinux_2_28_aarch64.whl"
        url = "https://pkgs.example.com/files/shioaji-1.2.6-cp311-cp311-manylinux_2_28_aarch64.whl"
        hashes = { sha256 = "00" }
        """,
    )
    found = pins_of(path)
    assert set(found) == {"core", "feed", "bridge", "shioaji"}
    assert (found["core"].url, found["core"].version) == (
        "git+https://github.com/org/core.git@4f2a9c1",
        "2.0.0",
    )
    assert (found["feed"].url, found["feed"].version) == (
        "https://example.com/feed-0.9.0.tar.gz",
        None,
    )
    assert (found["bridge"].url, found["bridge"].editable) == ("../bridge", True)
    assert found["shioaji"].index_urls == (PRIVATE,)
    for pin in found.values():
        assert line_of(path, pin.location.line) == f'name = "{pin.name}"'


def test_pylock_of_an_unknown_major_version_is_refused(write: Write) -> None:
    failure = error(write("pylock.toml", 'created-by = "x"\nlock-version = "2.0"\n'))
    assert failure.line == 2


def test_pylock_package_without_name_is_an_error_at_its_table(write: Write) -> None:
    path = write(
        "pylock.toml",
        """
        lock-version = "1.0"
        created-by = "pip"

        [[packages]]
        name = "a"

        [[packages]]
        version = "1"
        """,
    )
    assert error(path).line == 7

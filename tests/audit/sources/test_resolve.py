"""Resolving unpinned requirements with pip-compile (a real subprocess, a real index)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graviton.audit.resolve import resolve
from graviton.audit.sources import load
from graviton.errors import InputError, ServiceUnavailable, UsageError
from graviton.findings import Location
from tests.audit.sources.conftest import Write, by_key

# (name, version, requirements): an index of tiny pure wheels under private names
PROJECTS = [
    ("gv-alpha", "1.0", ["gv-beta>=2"]),
    ("gv-alpha", "1.1", ["gv-beta>=2"]),
    ("gv-beta", "2.0", ["gv-delta"]),
    ("gv-beta", "2.1", ["gv-delta"]),
    ("gv-delta", "0.3", []),
    ("gv-gamma", "1.0", []),
    ("gv-gamma", "1.5", []),
]


@pytest.fixture(scope="module")
def file_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PEP 503 index on disk (``file://``), which pip reads like an HTTP one."""
    root = tmp_path_factory.mktemp("index")
    files = root / "files"
    files.mkdir()
    links: dict[str, list[str]] = {}
    for name, version, requires in PROJECTS:
        dist = name.replace("-", "_")
        filename = f"{dist}-{version}-py3-none-any.whl"
        info = f"{dist}-{version}.dist-info"
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        metadata += "".join(f"Requires-Dist: {req}\n" for req in requires)
        with zipfile.ZipFile(files / filename, "w") as wheel:
            wheel.writestr(f"{info}/METADATA", metadata)
            wheel.writestr(
                f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            )
            wheel.writestr(f"{info}/RECORD", "")
        links.setdefault(name, []).append(f'<a href="{(files / filename).as_uri()}">{filename}</a>')
    for name, anchors in links.items():
        page = root / "simple" / name
        page.mkdir(parents=True)
        (page / "index.html").write_text("<html><body>" + "".join(anchors) + "</body></html>")
    return (root / "simple").as_uri() + "/"


def test_a_manifest_without_unpinned_pins_is_returned_as_it_is(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip-compile must not run")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    manifest = load(write("requirements.txt", "idna==3.10\nlib @ https://example.com/lib.whl\n"))
    assert resolve(manifest) is manifest


def test_unpinned_requirements_are_pinned_at_their_own_lines(write: Write, file_index: str) -> None:
    path = write(
        "requirements.in",
        """
        gv-alpha<1.1
        gv-gamma==1.0
        winonly ; sys_platform == "never"
        tool @ https://example.invalid/tool-1.0.tar.gz
        """,
    )
    manifest = load(path, "requirements.in")
    resolved = resolve(manifest, index_url=file_index)
    assert (resolved.path, resolved.format) == ("requirements.in", "requirements")
    found = by_key(resolved.pins)
    alpha = found["gv-alpha"]
    assert (alpha.version, alpha.specifier, alpha.location) == (
        "1.0",
        "<1.1",
        Location("requirements.in", 1),
    )
    assert found["gv-gamma"] == manifest.pins[1]  # already exact: kept as it was
    assert found["winonly"] == manifest.pins[2]  # its marker is false here: stays unpinned
    assert found["tool"] == manifest.pins[3]  # a direct reference is not resolved
    beta, delta = found["gv-beta"], found["gv-delta"]
    assert (beta.version, beta.specifier) == ("2.1", "==2.1")
    assert beta.location == alpha.location  # pulled in by gv-alpha
    assert (delta.version, delta.location) == ("0.3", alpha.location)  # through gv-beta
    assert [pin.key for pin in resolved.unpinned] == ["winonly"]


def test_pyproject_groups_are_resolved_together(write: Write, file_index: str) -> None:
    path = write(
        "pyproject.toml",
        """
        [project]
        name = "svc"
        dependencies = ["gv-gamma"]

        [project.optional-dependencies]
        extra = ["gv-beta<2.1"]
        """,
    )
    found = by_key(resolve(load(path, "pyproject.toml"), index_url=file_index).pins)
    assert {key: pin.version for key, pin in found.items()} == {
        "gv-gamma": "1.5",
        "gv-beta": "2.0",
        "gv-delta": "0.3",
    }
    assert found["gv-delta"].location == Location("pyproject.toml", 6)


def test_a_failed_resolution_is_an_input_error_with_pip_s_message(
    write: Write, file_index: str
) -> None:
    manifest = load(write("requirements.in", "gv-gamma>=9\n"), "requirements.in")
    with pytest.raises(InputError) as caught:
        resolve(manifest, index_url=file_index)
    message = str(caught.value)
    assert message.startswith("requirements.in: pip-compile failed: ")
    assert "gv-gamma>=9" in message
    assert "Traceback" not in message and "\n" not in message


def test_an_unreachable_index_is_a_service_error(
    write: Write, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_RETRIES", "0")
    manifest = load(write("requirements.in", "gv-gamma\n"), "requirements.in")
    with pytest.raises(ServiceUnavailable) as caught:
        resolve(manifest, index_url=dead_url)
    assert caught.value.exit_code == 3
    assert "127.0.0.1 unreachable" in str(caught.value)


def test_a_python_version_without_a_usable_interpreter_resolves_with_the_running_one(
    write: Write, file_index: str
) -> None:
    manifest = load(write("requirements.in", "gv-delta\n"))
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for python in (running, "2.9"):  # there is no python2.9 on PATH
        assert resolve(manifest, python=python, index_url=file_index).pins[0].version == "0.3"


def test_a_named_interpreter_must_exist_and_have_pip_tools(write: Write, tmp_path: Path) -> None:
    manifest = load(write("requirements.in", "gv-gamma\n"))
    with pytest.raises(UsageError, match="not found"):
        resolve(manifest, python=str(tmp_path / "no-such-python"))
    bare = tmp_path / "bare-python"
    bare.write_text("#!/bin/sh\nexit 1\n")
    bare.chmod(0o755)
    with pytest.raises(UsageError, match="pip-tools is not installed"):
        resolve(manifest, python=str(bare))


@pytest.mark.network
def test_resolves_against_pypi(write: Write) -> None:
    manifest = load(write("requirements.in", "requests>=2.31,<3\n"), "requirements.in")
    resolved = resolve(manifest)
    found = by_key(resolved.pins)
    requests = found["requests"]
    assert requests.version is not None and requests.version.startswith("2.")
    assert requests.location == Location("requirements.in", 1)
    assert {"urllib3", "idna", "certifi", "charset-normalizer"} <= set(found)
    assert found["urllib3"].location == requests.location
    assert not resolved.unpinned


def test_requirement_lines_round_trip(write: Write, file_index: str) -> None:
    """What resolve writes for pip-compile is what was read: extras, markers, exact pins."""
    path = write(
        "requirements.txt",
        "gv-alpha[fast]<1.1 ; python_version >= '3'\ngv-gamma===1.0\n",
    )
    resolved = resolve(load(path), index_url=file_index)
    found = by_key(resolved.pins)
    assert found["gv-alpha"].extras == ("fast",)
    assert found["gv-alpha"].version == "1.0"
    assert found["gv-gamma"].version == "1.0"

"""Which format a file is, what a directory holds, and unreadable input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graviton.audit.sources import FORMATS, detect, discover, load
from graviton.errors import InputError
from tests.audit.sources.conftest import FIXTURES, Write

TRADING = FIXTURES / "trading"


def test_formats() -> None:
    assert FORMATS == (
        "requirements",
        "poetry.lock",
        "uv.lock",
        "Pipfile.lock",
        "pylock",
        "pyproject",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("requirements.in", "requirements"),
        ("prod.in", "requirements"),
        ("constraints.txt", "requirements"),
        ("deps", "requirements"),
        ("poetry.lock", "poetry.lock"),
        ("uv.lock", "uv.lock"),
        ("Pipfile.lock", "Pipfile.lock"),
        ("pylock.toml", "pylock"),
        ("pylock.prod.toml", "pylock"),
        ("pyproject.toml", "pyproject"),
    ],
)
def test_detect_by_name(name: str, expected: str) -> None:
    assert detect(Path("/nowhere") / name) == expected


@pytest.mark.parametrize(
    ("fixture", "renamed", "expected"),
    [
        ("uv.lock", "service.lock", "uv.lock"),
        ("poetry.lock", "service.lock", "poetry.lock"),
        ("Pipfile.lock", "service.lock", "Pipfile.lock"),
        ("Pipfile.lock", "service.json", "Pipfile.lock"),
        ("pylock.toml", "pylock.a.b.toml", "pylock"),
        ("pyproject.toml", "service.toml", "pyproject"),
    ],
)
def test_detect_by_content_when_the_name_does_not_say(
    tmp_path: Path, fixture: str, renamed: str, expected: str
) -> None:
    path = tmp_path / renamed
    shutil.copy(TRADING / fixture, path)
    assert detect(path) == expected
    assert len(load(path).pins) >= 5


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("Pipfile", "[packages]\n", "pipenv lock"),
        ("pdm.lock", "", "pdm export"),
        ("setup.py", "", "setup.py"),
        ("environment.yml", "", "not a lock or requirements file"),
        ("other.toml", "[tool.black]\n", "cannot tell which lock format"),
        ("other.lock", "{ not json", "not a TOML or JSON lock file"),
    ],
)
def test_unsupported_files_are_refused(write: Write, name: str, text: str, message: str) -> None:
    path = write(name, text)
    with pytest.raises(InputError, match=message) as caught:
        detect(path)
    assert caught.value.path == str(path)


def test_load_names_the_display_path_in_locations_and_errors(write: Write) -> None:
    path = write("requirements.txt", "idna==3.10\nnot valid!\n")
    with pytest.raises(InputError) as caught:
        load(path, "services/api/requirements.txt")
    assert str(caught.value).startswith("services/api/requirements.txt:2: invalid requirement")
    path.write_text("idna==3.10\n")
    assert load(path).pins[0].location.path == str(path)


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("uv.lock", 'version = 1\n\n[[package]]\nname = "idna\n', 4),
        ("poetry.lock", '[[package]]\nname = "idna"\nname = "x"\n', 3),
        ("pyproject.toml", "[project\n", 1),
        ("pylock.toml", 'lock-version = "1.0"\npackages = [\n', 3),
        ("Pipfile.lock", '{\n  "default": {\n    "idna": {,}\n  }\n}\n', 3),
    ],
)
def test_undecodable_files_name_the_line(write: Write, name: str, text: str, line: int) -> None:
    with pytest.raises(InputError) as caught:
        load(write(name, text), name)
    assert (caught.value.path, caught.value.line) == (name, line)
    assert "Traceback" not in str(caught.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "requirements.txt", "requirements.txt")
    (tmp_path / "requirements").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        load(tmp_path / "requirements", "requirements")
    (tmp_path / "latin1.txt").write_bytes(b"idna==3.10\n# caf\xe9\n")
    with pytest.raises(InputError) as caught:
        load(tmp_path / "latin1.txt")
    assert caught.value.line == 2


def test_a_lock_entry_of_the_wrong_type_names_its_line(write: Write) -> None:
    path = write("poetry.lock", '[[package]]\nname = "idna"\nversion = 3.10\n')
    with pytest.raises(InputError, match=r"package\[0\]\.version must be a string") as caught:
        load(path)
    assert caught.value.line == 3


def test_discover_finds_locks_then_requirements_and_skips_pyproject(tmp_path: Path) -> None:
    for name in ("uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml", "pyproject.toml"):
        shutil.copy(TRADING / name, tmp_path / name)
    for name in (
        "pylock.prod.toml",
        "requirements.txt",
        "requirements.in",
        "requirements-dev.in",
        "requirements/base.txt",
        "requirements/test.in",
        "requirements/base.in",
        "MANIFEST.in",
        "pylock.toml.bak",
        "dev-requirements.txt",
    ):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("idna==3.10\n")
    found = [path.relative_to(tmp_path).as_posix() for path in discover(tmp_path)]
    assert found == [
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "pylock.toml",
        "pylock.prod.toml",
        "requirements-dev.in",
        "requirements.txt",
        "requirements/base.txt",
        "requirements/test.in",
    ]


def test_discover_falls_back_to_pyproject_and_else_finds_nothing(tmp_path: Path) -> None:
    assert discover(tmp_path) == []
    (tmp_path / "README.md").write_text("")
    assert discover(tmp_path) == []
    shutil.copy(TRADING / "pyproject.toml", tmp_path / "pyproject.toml")
    assert discover(tmp_path) == [tmp_path / "pyproject.toml"]

"""pyproject.toml: PEP 621 dependencies and optional groups, PEP 735 dependency groups."""

from __future__ import annotations

import pytest

from graviton.audit.sources import load
from graviton.errors import InputError
from tests.audit.sources.conftest import Write, by_key, line_of

PROJECT = """
[project]
name = "Trading_Gateway"
version = "1.0"
dependencies = [
    "numpy>=1.26",  # a comment with "quotes"
    '''shioaji==1.2.5''',
    "pywin32; sys_platform == 'win32'",
]

[project.optional-dependencies]
metrics = ["prometheus-client>=0.20"]
all = [
    "trading-gateway[metrics]",
]

[dependency-groups]
"test" = ["pytest>=8", {include-group = "lint"}, "hypothesis"]
lint = [
    "ruff==0.8.1",
]
"""


def test_every_requirement_is_a_pin_at_its_line(write: Write) -> None:
    path = write("pyproject.toml", PROJECT)
    manifest = load(path, "pyproject.toml")
    assert manifest.format == "pyproject"
    found = by_key(manifest.pins)
    assert set(found) == {
        "numpy",
        "shioaji",
        "pywin32",
        "prometheus-client",
        "pytest",
        "hypothesis",
        "ruff",
    }  # trading-gateway[metrics] is the project itself
    assert found["shioaji"].version == "1.2.5"
    assert found["pywin32"].marker == 'sys_platform == "win32"'
    assert [pin.key for pin in manifest.unpinned] == [
        "numpy",
        "pywin32",
        "prometheus-client",
        "pytest",
        "hypothesis",
    ]
    for pin in manifest.pins:
        assert pin.name in line_of(path, pin.location.line)
    assert found["hypothesis"].location.line == found["pytest"].location.line


def test_a_malformed_requirement_is_an_error_at_its_line(write: Write) -> None:
    path = write(
        "pyproject.toml", '[project]\nname = "x"\ndependencies = [\n  "ok",\n  "no way",\n]\n'
    )
    with pytest.raises(InputError) as caught:
        load(path, "pyproject.toml")
    assert (caught.value.path, caught.value.line) == ("pyproject.toml", 5)


@pytest.mark.parametrize(
    ("groups", "line", "message"),
    [
        ('a = ["x"]\nb = [{include-group = "c"}]\n', 3, "no such dependency group"),
        (
            'a = [{include-group = "B"}]\nb = ["y", {include-group = "a"}]\n',
            3,
            "cycle: a -> b -> a",
        ),
        ('a = [{include-group = "a"}]\n', 2, "cycle: a -> a"),
    ],
)
def test_include_group_must_exist_and_not_loop(
    write: Write, groups: str, line: int, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        load(write("pyproject.toml", f"[dependency-groups]\n{groups}"))
    assert caught.value.line == line
    assert message in str(caught.value)


def test_dynamic_dependencies_cannot_be_audited(write: Write) -> None:
    path = write("pyproject.toml", '[project]\nname = "x"\ndynamic = ["version", "dependencies"]\n')
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.line == 3


def test_a_pyproject_without_dependencies_tables_is_an_error(write: Write) -> None:
    with pytest.raises(InputError, match=r"no \[project\] table"):
        load(write("pyproject.toml", "[tool.poetry]\nname = 'x'\n"))


def test_a_project_with_no_dependencies_has_no_pins(write: Write) -> None:
    assert load(write("pyproject.toml", '[project]\nname = "x"\n')).pins == ()

"""The same locked environment written by five tools reads as the same pins, at the right lines."""

from __future__ import annotations

import pytest

from graviton.audit.sources import load
from tests.audit.sources.conftest import FIXTURES, line_of

TRADING = FIXTURES / "trading"
LOCKS = ["requirements.txt", "poetry.lock", "uv.lock", "Pipfile.lock", "pylock.toml"]
WIN32 = 'sys_platform == "win32"'
PINS = {
    ("certifi", "2024.8.30", None),
    ("charset-normalizer", "3.4.0", None),
    ("idna", "3.10", None),
    ("numpy", "1.26.4", None),
    ("pysocks", "1.7.1", None),
    ("pywin32", "308", WIN32),
    ("requests", "2.32.3", None),
    ("setuptools", "75.6.0", None),
    ("shioaji", "1.2.5", None),
    ("urllib3", "2.2.3", None),
    ("zope-interface", "7.2", None),
}


@pytest.mark.parametrize("name", LOCKS)
def test_every_format_reads_the_same_pins(name: str) -> None:
    manifest = load(TRADING / name, name)
    assert {(pin.key, pin.version, pin.marker) for pin in manifest.pins} == PINS
    assert len(manifest.pins) == len(PINS)
    assert all(pin.url is None and pin.index_urls == () for pin in manifest.pins)
    assert not manifest.unpinned


@pytest.mark.parametrize("name", [*LOCKS, "pyproject.toml"])
def test_every_pin_points_at_the_line_that_names_it(name: str) -> None:
    manifest = load(TRADING / name, f"deploy/{name}")
    lines = [pin.location.line for pin in manifest.pins]
    assert len(set(lines)) == len(lines)
    for pin in manifest.pins:
        assert pin.location.path == f"deploy/{name}"
        text = line_of(TRADING / name, pin.location.line)
        assert pin.name in text, (pin, text)


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("requirements.txt", "requests[socks]==2.32.3 \\"),
        ("poetry.lock", 'name = "requests"'),
        ("uv.lock", 'name = "requests"'),
        ("Pipfile.lock", '        "requests": {'),
        ("pylock.toml", 'name = "requests"'),
        ("pyproject.toml", '    "requests[socks]==2.32.3",'),
    ],
)
def test_the_line_is_where_the_entry_starts(name: str, line: str) -> None:
    (requests,) = [pin for pin in load(TRADING / name).pins if pin.key == "requests"]
    assert line_of(TRADING / name, requests.location.line) == line


@pytest.mark.parametrize("name", ["requirements.txt", "Pipfile.lock", "pyproject.toml"])
def test_formats_that_record_extras_keep_them(name: str) -> None:
    (requests,) = [pin for pin in load(TRADING / name).pins if pin.key == "requests"]
    assert requests.extras == ("socks",)


def test_a_dotted_name_is_kept_as_written() -> None:
    names = {pin.name for pin in load(TRADING / "requirements.txt").pins}
    assert "zope.interface" in names


def test_pyproject_pins_its_exact_requirements_and_leaves_ranges_unpinned() -> None:
    manifest = load(TRADING / "pyproject.toml")
    exact = {(p.key, p.version, p.marker) for p in manifest.pins if p.version}
    assert exact == {
        ("numpy", "1.26.4", None),
        ("pywin32", "308", WIN32),
        ("requests", "2.32.3", None),
        ("shioaji", "1.2.5", None),
        ("zope-interface", "7.2", None),
        ("ruff", "0.8.1", None),
    }
    assert {(p.key, p.specifier) for p in manifest.unpinned} == {
        ("prometheus-client", ">=0.20,<1"),
        ("pytest", ">=8"),
    }

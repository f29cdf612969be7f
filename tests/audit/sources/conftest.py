from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from graviton.findings import Pin

FIXTURES = Path(__file__).parents[2] / "fixtures" / "locks"

Write = Callable[[str, str], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a dedented file under tmp_path (folders made) and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).removeprefix("\n"))
        return path

    return _write


def line_of(path: Path, number: int | None) -> str:
    assert number is not None, f"no line for a pin in {path}"
    return path.read_text().splitlines()[number - 1]


def by_key(pins: Iterable[Pin]) -> dict[str, Pin]:
    return {str(pin.key): pin for pin in pins}

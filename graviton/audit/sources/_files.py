"""Read an input file into text, TOML or JSON data; every failure is an InputError naming file:line.

Also typed access to the decoded data (``get_str`` and friends), so that a lock with a wrong
type in a field fails with the line of its entry instead of a ``TypeError`` deep in a parser.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

from graviton.errors import InputError
from graviton.findings import Location
from graviton.textfile import read_text

from ._locate import KeyPath, Lines, json_lines, toml_lines

__all__ = ["Table", "json_document", "load_json", "load_toml", "read_text", "toml_document"]

_TOML_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


def load_toml(text: str, display: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_AT.search(message)
        if found is None:
            line = None
        elif found.group(1) is None:  # "at end of document"
            line = text.count("\n") + 1
        else:
            line = int(found.group(1))
        message = _TOML_AT.sub("", message)
        raise InputError(f"invalid TOML: {message}", path=display, line=line) from None


def load_json(text: str, display: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=display, line=exc.lineno) from None


def toml_document(path: Path, display: str, *, depth: int | None = None) -> Table:
    """``depth``: how deep inside arrays and inline tables lines are wanted (see toml_lines)."""
    text = read_text(path, display)
    return Table(load_toml(text, display), (), toml_lines(text, depth=depth), display)


def json_document(path: Path, display: str) -> Table:
    text = read_text(path, display)
    return Table(load_json(text, display), (), json_lines(text), display)


class Table:
    """A decoded TOML table or JSON object, with where it is, for typed reads with errors."""

    def __init__(self, data: object, where: KeyPath, lines: Lines, display: str) -> None:
        self.where = where
        self.lines = lines
        self.display = display
        if not isinstance(data, Mapping):
            self.fail(f"{self.dotted()} must be a table")
        self.data: Mapping[str, Any] = data

    def line(self, *key: str | int) -> int | None:
        """The line of ``key`` in this table, else of the nearest enclosing key (None: unknown)."""
        return self.lines.find((*self.where, *key))

    def location(self, *key: str | int) -> Location:
        return Location(self.display, self.line(*key))

    def dotted(self, *key: str | int) -> str:
        parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.where + key]
        return "".join(parts).lstrip(".") or "document"

    def fail(self, message: str, *key: str | int) -> NoReturn:
        raise InputError(message, path=self.display, line=self.line(*key))

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def string(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(f"{self.dotted(key)} must be a string", key)
        return value

    def need(self, key: str) -> str:
        """A string that must be there."""
        value = self.string(key)
        if value is None:
            self.fail(f"{self.dotted(key)} is missing")
        return value

    def table(self, key: str) -> Table | None:
        value = self.data.get(key)
        return None if value is None else Table(value, (*self.where, key), self.lines, self.display)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]`` in TOML, a list of objects in JSON); absent is []."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{self.dotted(key)} must be an array of tables", key)
        return [
            Table(item, (*self.where, key, i), self.lines, self.display)
            for i, item in enumerate(value)
        ]

    def strings(self, key: str) -> list[str]:
        """An array of strings; absent is []."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{self.dotted(key)} must be an array of strings", key)
        return list(value)

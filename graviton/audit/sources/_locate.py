"""Line numbers for the keys and array items of a TOML or JSON document.

``tomllib`` and ``json`` give no positions, but a finding must point at the line of its pin.
These scanners walk a document that the real decoder has already accepted and record, for each
key and array item, the 1-based line where it starts, by its path of keys and indexes:
``("package", 3, "name")`` is the ``name`` key of the fourth ``[[package]]`` table. A path the
scanner does not know gives the line of its nearest known parent, or None: never a wrong line.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field

KeyPath = tuple[str | int, ...]
ENTRY_DEPTH = 3  # ("package", 3, "wheels"): the keys of a lock's entries, not what they hold

_STRING = (
    r'"""(?:\\.|[^\\])*?"""(?:""?)?'  # multi-line basic (up to two quotes may end the content)
    r"|'''[\s\S]*?'''(?:''?)?"  # multi-line literal
    r'|"(?:\\.|[^"\\\n])*"'  # basic
    r"|'[^'\n]*'"  # literal
)
_TOML_STRING = re.compile(_STRING)
_TOML_SPACE = re.compile(r"(?:\s|#[^\n]*)*")  # blanks, newlines and comments
_TOML_BLANK = re.compile(r"[ \t]*")
_TOML_KEY = re.compile(r"[A-Za-z0-9_-]+|" + _STRING)
_TOML_SCALAR = re.compile(r"[^,\]}\n#]*")  # a number, date or boolean, up to its delimiter
_TOML_FLAT = re.compile(r"(?:" + _STRING + r"|#[^\n]*|[^\[\]{}\"'#]+)*")  # up to a bracket

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+|\s+')


@dataclass(frozen=True)
class Lines:
    """Where each key or array item of a document starts."""

    by_path: dict[KeyPath, int] = field(default_factory=dict)

    def find(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of its nearest enclosing key that has one."""
        for end in range(len(path), 0, -1):
            if (line := self.by_path.get(path[:end])) is not None:
                return line
        return None


class _Stop(Exception):
    """The scanner met something it does not expect: keep what was found."""


class _TomlScanner:
    """A cursor over a valid TOML document that records where keys, tables and items start."""

    def __init__(self, text: str, depth: int | None) -> None:
        self.text = text
        self.pos = 0
        self.depth = depth
        self.lines: dict[KeyPath, int] = {}
        self.array_tables: dict[KeyPath, int] = {}  # how many [[x]] tables each path has so far
        self.counted = (0, 1)  # (position, its line): records move forward, so count from there

    def record(self, path: KeyPath, start: int) -> None:
        position, line = self.counted
        if start < position:
            position, line = 0, 1
        line += self.text.count("\n", position, start)
        self.counted = (start, line)
        self.lines.setdefault(path, line)

    def char(self) -> str:
        if self.pos >= len(self.text):
            raise _Stop
        return self.text[self.pos]

    def skip(self, pattern: re.Pattern[str]) -> None:
        found = pattern.match(self.text, self.pos)
        self.pos = found.end() if found else self.pos

    def expect(self, literal: str) -> None:
        self.skip(_TOML_BLANK)
        if not self.text.startswith(literal, self.pos):
            raise _Stop
        self.pos += len(literal)

    def document(self) -> None:
        table: KeyPath = ()
        while True:
            self.skip(_TOML_SPACE)
            if self.pos >= len(self.text):
                return
            if self.char() == "[":
                table = self.header()
            else:
                self.keyval(table)

    def header(self) -> KeyPath:
        start = self.pos
        array = self.text.startswith("[[", self.pos)
        self.pos += 2 if array else 1
        parts = self.key()
        self.expect("]]" if array else "]")
        path: KeyPath = ()
        for i, part in enumerate(parts):
            path = (*path, part)
            if array and i == len(parts) - 1:
                count = self.array_tables.get(path, 0)
                self.array_tables[path] = count + 1
                path = (*path, count)
            elif path in self.array_tables:
                path = (*path, self.array_tables[path] - 1)
        self.record(path, start)
        return path

    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip(_TOML_BLANK)
            found = _TOML_KEY.match(self.text, self.pos)
            if found is None:
                raise _Stop
            self.pos = found.end()
            text = found.group()
            parts.append(tomllib.loads(f"k = {text}")["k"] if text[0] in "\"'" else text)
            self.skip(_TOML_BLANK)
            if self.char() != ".":
                return parts
            self.pos += 1

    def keyval(self, table: KeyPath) -> None:
        start = self.pos
        path = (*table, *self.key())
        self.expect("=")
        self.record(path, start)
        self.value(path)

    def value(self, path: KeyPath) -> None:
        self.skip(_TOML_BLANK)
        opening = self.char()
        if opening in "[{" and self.depth is not None and len(path) >= self.depth:
            self.skip_container()
        elif opening == "[":
            self.pos += 1
            for index in itertools.count():
                if not self.next_item("]"):
                    return
                self.record((*path, index), self.pos)
                self.value((*path, index))
        elif opening == "{":
            self.pos += 1
            while self.next_item("}"):
                self.keyval(path)
        elif opening in "\"'":
            self.skip(_TOML_STRING)
        else:
            self.skip(_TOML_SCALAR)

    def next_item(self, closing: str) -> bool:
        """Move to the next item of an array or inline table; False past its end."""
        while True:
            self.skip(_TOML_SPACE)
            if self.char() == closing:
                self.pos += 1
                return False
            if self.char() != ",":
                return True
            self.pos += 1

    def skip_container(self) -> None:
        """Jump over an array or inline table without recording what is inside."""
        nesting = 0
        while True:
            self.skip(_TOML_FLAT)
            bracket = self.char()
            self.pos += 1
            nesting += 1 if bracket in "[{" else -1
            if nesting == 0:
                return


def toml_lines(text: str, *, depth: int | None = None) -> Lines:
    """Lines of a TOML document that ``tomllib`` has accepted.

    ``depth`` bounds the paths recorded inside arrays and inline tables: with 3, a lock's
    ``("package", 3, "wheels")`` has a line but its items are jumped over, which is fast.
    """
    scanner = _TomlScanner(text, depth)
    # On a surprise keep what was found: unknown paths give no line, never a wrong one.
    with contextlib.suppress(_Stop, tomllib.TOMLDecodeError):
        scanner.document()
    return Lines(scanner.lines)


def json_lines(text: str) -> Lines:
    """Lines of the object keys of a JSON document that ``json`` has accepted."""
    lines: dict[KeyPath, int] = {}
    stack: list[list[str | int]] = []  # per open container: [kind, current key or index]
    expect_key = False
    line = 1
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token[0].isspace():
            line += token.count("\n")
        elif token == "{":
            stack.append(["{", ""])
            expect_key = True
        elif token == "[":
            stack.append(["[", 0])
            expect_key = False
        elif token in "]}":
            stack.pop()
            expect_key = False
        elif token == ",":
            top = stack[-1]
            if top[0] == "{":
                expect_key = True
            else:
                top[1] = int(top[1]) + 1
        elif token == ":":
            expect_key = False
        elif expect_key and token.startswith('"'):
            stack[-1][1] = json.loads(token)
            lines.setdefault(tuple(frame[1] for frame in stack), line)
    return Lines(lines)

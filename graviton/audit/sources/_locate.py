"""Line numbers for the keys and array items of a TOML or JSON document.

``tomllib`` and ``json`` give no positions, but a finding must point at the line of its pin.
These scanners walk a document that the real decoder has already accepted and record, for each
key and array item, the 1-based line where it starts, by its path of keys and indexes:
``("package", 3, "name")`` is the ``name`` key of the fourth ``[[package]]`` table. A path the
scanner does not know gives None (a location without a line), never a wrong line.
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from dataclasses import dataclass, field

KeyPath = tuple[str | int, ...]

_TOML_TOKEN = re.compile(
    r"""
      (?P<nl>\n)
    | (?P<skip>[ \t\r]+|\#[^\n]*)
    | (?P<string>
          \"\"\"(?:\\.|[^\\])*?\"\"\"\"{0,2}
        | '''[\s\S]*?''''{0,2}
        | "(?:\\.|[^"\\\n])*"
        | '[^'\n]*'
      )
    | (?P<punct>[\[\]{}=,.])
    | (?P<bare>[^\s\[\]{}=,.\#"']+)
    """,
    re.VERBOSE,
)

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+|\s+')


@dataclass(frozen=True)
class Lines:
    """Where each key or array item of a document starts."""

    by_path: dict[KeyPath, int] = field(default_factory=dict)

    def find(self, path: KeyPath) -> int | None:
        return self.by_path.get(path)


@dataclass
class _Token:
    kind: str  # "nl", "string", "punct" or "bare"
    text: str
    line: int


class _TomlScanner:
    def __init__(self, text: str) -> None:
        self.tokens: list[_Token] = []
        line = 1
        for match in _TOML_TOKEN.finditer(text):
            kind = match.lastgroup or ""
            if kind != "skip":
                self.tokens.append(_Token(kind, match.group(), line))
            line += match.group().count("\n")
        self.pos = 0
        self.lines: dict[KeyPath, int] = {}
        self.array_tables: dict[KeyPath, int] = {}  # how many [[x]] tables each path has so far

    def peek(self, *, newlines: bool = False) -> _Token | None:
        """The next token; newlines are skipped unless asked for."""
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token.kind != "nl" or newlines:
                return token
            self.pos += 1
        return None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _EndOfInput
        self.pos += 1
        return token

    def is_punct(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == text

    def document(self) -> None:
        table: KeyPath = ()
        while (token := self.peek()) is not None:
            if self.is_punct("["):
                table = self.header(token.line)
            else:
                self.keyval(table)

    def header(self, line: int) -> KeyPath:
        self.take()
        array = self.is_punct("[")
        if array:
            self.take()
        parts = self.key()
        self.take()
        if array:
            self.take()
        path: KeyPath = ()
        for i, part in enumerate(parts):
            path = (*path, part)
            if array and i == len(parts) - 1:
                count = self.array_tables.get(path, 0)
                self.array_tables[path] = count + 1
                path = (*path, count)
            elif path in self.array_tables:
                path = (*path, self.array_tables[path] - 1)
        self.lines.setdefault(path, line)
        return path

    def key(self) -> list[str]:
        parts = [self.simple_key()]
        while self.is_punct("."):
            self.take()
            parts.append(self.simple_key())
        return parts

    def simple_key(self) -> str:
        token = self.take()
        if token.kind == "string":
            decoded: str = tomllib.loads(f"k = {token.text}")["k"]
            return decoded
        return token.text

    def keyval(self, table: KeyPath) -> None:
        token = self.peek()
        line = token.line if token else 0
        path = (*table, *self.key())
        self.take()  # "="
        self.lines.setdefault(path, line)
        self.value(path)

    def value(self, path: KeyPath) -> None:
        token = self.take()
        if token.kind == "punct" and token.text == "[":
            index = 0
            while not self.is_punct("]"):
                if self.is_punct(","):
                    self.take()
                    continue
                start = self.peek()
                if start is not None:
                    self.lines.setdefault((*path, index), start.line)
                self.value((*path, index))
                index += 1
            self.take()
        elif token.kind == "punct" and token.text == "{":
            while not self.is_punct("}"):
                if self.is_punct(","):
                    self.take()
                    continue
                self.keyval(path)
            self.take()
        elif token.kind == "bare":  # numbers, booleans, dates: run to the end of the value
            while (nxt := self.peek(newlines=True)) is not None and not (
                nxt.kind == "nl" or (nxt.kind == "punct" and nxt.text in ",]}")
            ):
                self.pos += 1


class _EndOfInput(Exception):
    pass


def toml_lines(text: str) -> Lines:
    """Lines of a TOML document that ``tomllib`` has accepted."""
    scanner = _TomlScanner(text)
    # On a surprise keep what was found: unknown paths give no line, never a wrong one.
    with contextlib.suppress(_EndOfInput, tomllib.TOMLDecodeError):
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

"""Errors that end a command. Each carries the exit code the CLI returns and prints as one line.

Exit codes are shared by every subcommand:
0 success, 1 findings / rolled back / verification failed, 2 usage or unreadable input,
3 an external service (package index, AWS, docker engine, registry) could not be reached, 4 locked.
"""

from __future__ import annotations

import re

# ``scheme://user:password@`` (up to the last ``@`` before the path): what a URL must never show
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s?#@'\"<>]*(?:@[^/\s?#@'\"<>]*)*@")


def strip_credentials(text: str) -> str:
    """Every URL in ``text`` without its ``user:password@`` part."""
    return _USERINFO.sub(r"\1", text)


def one_line(text: str, limit: int | None = 300) -> str:
    """Text fit for a one-line message: credentials removed from every URL in it, control
    characters (a terminal escape) shown as U+FFFD, whitespace folded (an HTML error page must not
    become a multi-line message) and, unless ``limit`` is None, cut to ``limit`` characters."""
    text = strip_credentials(text)
    text = "".join(c if c.isprintable() or c.isspace() else "\ufffd" for c in text)
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


class GravitonError(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user (never a secret)."""

    exit_code = 1

    def __str__(self) -> str:
        return one_line(super().__str__(), None)


class UsageError(GravitonError):
    """Bad flags or arguments."""

    exit_code = 2


class InputError(GravitonError):
    """An input file could not be read or parsed; names the file and line when known."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = path if line is None or path is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class PreflightError(GravitonError):
    """A check that must pass before anything is changed did not pass."""

    exit_code = 2


class ServiceUnavailable(GravitonError):
    """A package index, AWS API, docker engine or registry could not be read (after retries)."""

    exit_code = 3


class Locked(GravitonError):
    """Another controller holds the lease."""

    exit_code = 4

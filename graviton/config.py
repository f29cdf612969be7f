"""``[tool.graviton]`` in pyproject.toml: defaults for every subcommand, so a CI line is just
``graviton gate``. Command-line flags win over the file."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graviton.audit.model import Ignore
from graviton.errors import InputError, UsageError


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            break
    return None


def load(start: Path | None = None) -> dict[str, Any]:
    """The ``[tool.graviton]`` table, or {} when there is none."""
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(
            f"invalid TOML: {exc}", path=str(path), line=int(m[1]) if m else None
        ) from None
    table = doc.get("tool", {}).get("graviton", {})
    if not isinstance(table, dict):
        raise InputError("[tool.graviton] must be a table", path=str(path))
    return table


def section(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name, {})
    if not isinstance(value, dict):
        raise UsageError(f"[tool.graviton.{name}] must be a table")
    return value


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{where}: expiry must be a date YYYY-MM-DD, got {text!r}") from None


def parse_ignore_flag(text: str) -> Ignore:
    """``NAME[==VERSION]:YYYY-MM-DD:REASON`` (the reason is required: say why it is accepted)."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0].strip() or not parts[2].strip():
        raise UsageError(f"--ignore wants NAME[==VERSION]:YYYY-MM-DD:REASON, got {text!r}")
    name, _, version = parts[0].strip().partition("==")
    return Ignore(
        name=name.strip(),
        version=version.strip() or None,
        expires=_date(parts[1].strip(), "--ignore"),
        reason=parts[2].strip(),
    )


def parse_ignore_table(entries: Any) -> list[Ignore]:
    """``ignore = [{name = "shioaji", version = "1.2.5", reason = "…", expires = 2027-01-31}]``."""
    if not isinstance(entries, list):
        raise UsageError("[tool.graviton.audit] ignore must be a list of tables")
    out = []
    for i, entry in enumerate(entries, start=1):
        where = f"[tool.graviton.audit] ignore entry {i}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where} must be a table")
        missing = [k for k in ("name", "reason", "expires") if not entry.get(k)]
        if missing:
            raise UsageError(f"{where} lacks {', '.join(missing)}")
        expires = entry["expires"]
        if not isinstance(expires, dt.date):
            expires = _date(str(expires), where)
        out.append(
            Ignore(
                name=str(entry["name"]),
                version=str(entry["version"]) if entry.get("version") else None,
                reason=str(entry["reason"]),
                expires=expires,
            )
        )
    return out

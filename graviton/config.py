"""``[tool.graviton]`` in pyproject.toml: defaults for every subcommand, so a CI line is just
``graviton gate``. Command-line flags win over the file.

One typed loader: :func:`load_config` reads the nearest pyproject.toml once and validates every
section it knows (``audit``, ``gate``, ``images``) into frozen dataclasses. Anything wrong (a
wrong type, an unknown key, a value outside its choices) is one :class:`InputError` line naming
the file, the section and the key (exit 2), never a traceback later. Other ``[tool.graviton.X]``
tables belong to their own subcommands and are not read here.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from graviton.errors import InputError, UsageError, one_line
from graviton.textfile import read_text

FAIL_ON = ("blocked", "unknown", "source")  # the verdicts ``fail-on`` may name, most severe first
AUDIT_KEYS = ("python", "glibc", "musl", "target", "index-url", "fail-on", "format", "ignore")
GATE_KEYS = ("paths", "dockerfiles", "images", "exclude", "platforms", "base-images")
IMAGE_KEYS = ("context", "dockerfile", "tags", "platforms", "args", "target")


@dataclass(frozen=True)
class IgnoreEntry:
    """An accepted finding: a package (or rule id), optionally one version (or path)."""

    name: str
    reason: str
    expires: dt.date
    version: str | None = None


@dataclass(frozen=True)
class AuditConfig:
    """``[tool.graviton.audit]`` (and the audit keys of ``[tool.graviton.gate]``)."""

    python: tuple[str, ...] = ()
    glibc: str | None = None
    musl: str | None = None
    target: str | None = None
    index_url: str | None = None
    fail_on: str | None = None  # one of FAIL_ON
    format: str | None = None
    ignore: tuple[IgnoreEntry, ...] = ()


@dataclass(frozen=True)
class GateConfig:
    """``[tool.graviton.gate]``: its own keys, and the audit settings the gate runs with (the
    gate's audit keys win over ``[tool.graviton.audit]``; the two ignore lists are joined)."""

    audit: AuditConfig = field(default_factory=AuditConfig)
    paths: tuple[str, ...] = ()
    dockerfiles: tuple[str, ...] | None = None  # None: every Dockerfile; (): ``false``, none
    images: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    base_images: bool = True


@dataclass(frozen=True)
class ImageConfig:
    """One ``[tool.graviton.images.NAME]`` table (paths as written, relative to the file)."""

    name: str
    tags: tuple[str, ...]
    context: str = "."
    dockerfile: str | None = None
    platforms: tuple[str, ...] = ()
    args: tuple[tuple[str, str], ...] = ()
    target: str | None = None


@dataclass(frozen=True)
class Config:
    """The whole ``[tool.graviton]`` table; ``path`` is None when no pyproject.toml was found."""

    path: Path | None = None
    audit: AuditConfig = field(default_factory=AuditConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    images: tuple[ImageConfig, ...] = ()


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


def load_config(start: Path | None = None) -> Config:
    """``[tool.graviton]`` of the nearest pyproject.toml, validated; defaults when there is none."""
    path = find_pyproject(start)
    return Config() if path is None else read_config(path)


def read_config(path: Path) -> Config:
    """``[tool.graviton]`` of the TOML file ``path`` (``graviton build --project FILE``)."""
    return _Reader(path).config(_table(path))


def _table(path: Path) -> dict[str, Any]:
    text = read_text(path, str(path))
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        message = re.sub(r"\s*\(at [^)]*\)$", "", str(exc))
        raise InputError(
            f"invalid TOML: {one_line(message)}",
            path=str(path),
            line=int(found[1]) if found else None,
        ) from None
    tool = doc.get("tool", {})
    table = tool.get("graviton", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise InputError("[tool.graviton] must be a table", path=str(path))
    return table


class _Reader:
    """Typed reads of one file's ``[tool.graviton]`` tables, failing with one line."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def fail(self, message: str) -> NoReturn:
        raise InputError(message, path=None if self.path is None else str(self.path))

    def config(self, table: Mapping[str, Any]) -> Config:
        audit_table = self.section(table, "audit")
        gate_table = self.section(table, "gate")
        audit = self.audit(audit_table, "audit", AUDIT_KEYS)
        gate_audit = self.audit(
            {k: v for k, v in gate_table.items() if k not in GATE_KEYS},
            "gate",
            AUDIT_KEYS + GATE_KEYS,
        )
        merged = AuditConfig(
            **{
                name: getattr(gate_audit, name)
                if _key(name) in gate_table
                else getattr(audit, name)
                for name in AuditConfig.__dataclass_fields__
                if name != "ignore"
            },
            ignore=audit.ignore + gate_audit.ignore,
        )
        return Config(
            path=self.path,
            audit=audit,
            gate=self.gate(gate_table, merged),
            images=self.images(self.section(table, "images")),
        )

    def section(self, table: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = table.get(name, {})
        if not isinstance(value, Mapping):
            self.fail(f"[tool.graviton.{name}] must be a table")
        return value

    def audit(self, table: Mapping[str, Any], name: str, known: tuple[str, ...]) -> AuditConfig:
        where = f"[tool.graviton.{name}]"
        self.known(table, where, known)
        python = table.get("python", [])
        python = [python] if isinstance(python, str) else python
        if not isinstance(python, list) or not all(_text(p) for p in python):
            self.fail(f'{where} python must be a version string or a list of them ("3.12")')
        fail_on = self.string(table, "fail-on", where)
        if fail_on is not None and fail_on not in FAIL_ON:
            self.fail(f"{where} fail-on must be one of {', '.join(FAIL_ON)}; got {fail_on!r}")
        return AuditConfig(
            python=tuple(str(p) for p in python),
            glibc=self.string(table, "glibc", where),
            musl=self.string(table, "musl", where),
            target=self.string(table, "target", where),
            index_url=self.string(table, "index-url", where),
            fail_on=fail_on,
            format=self.string(table, "format", where),
            ignore=self.ignores(table.get("ignore", []), where),
        )

    def gate(self, table: Mapping[str, Any], audit: AuditConfig) -> GateConfig:
        where = "[tool.graviton.gate]"
        dockerfiles: tuple[str, ...] | None = None
        if table.get("dockerfiles") is False:
            dockerfiles = ()
        elif "dockerfiles" in table:
            dockerfiles = self.strings(table, "dockerfiles", where, "or false")
        base_images = table.get("base-images", True)
        if not isinstance(base_images, bool):
            self.fail(f"{where} base-images must be true or false")
        return GateConfig(
            audit=audit,
            paths=self.strings(table, "paths", where),
            dockerfiles=dockerfiles,
            images=self.strings(table, "images", where),
            exclude=self.strings(table, "exclude", where),
            platforms=self.strings(table, "platforms", where),
            base_images=base_images,
        )

    def images(self, table: Mapping[str, Any]) -> tuple[ImageConfig, ...]:
        out = []
        for name, spec in table.items():
            where = f"[tool.graviton.images.{name}]"
            if not isinstance(spec, Mapping):
                self.fail(f"{where} must be a table")
            self.known(spec, where, IMAGE_KEYS)
            tags = spec.get("tags")
            tags = [tags] if isinstance(tags, str) else tags
            if not tags or not isinstance(tags, list) or not all(_text(t) for t in tags):
                self.fail(f'{where} tags = ["IMAGE:TAG", ...] is required')
            args = spec.get("args", {})
            if not isinstance(args, Mapping) or not all(
                isinstance(v, str | int | float) for v in args.values()
            ):
                self.fail(f"{where} args must be a table of strings")
            out.append(
                ImageConfig(
                    name=name,
                    tags=tuple(tags),
                    context=self.string(spec, "context", where) or ".",
                    dockerfile=self.string(spec, "dockerfile", where),
                    platforms=self.strings(spec, "platforms", where),
                    args=tuple((str(k), str(v)) for k, v in args.items()),
                    target=self.string(spec, "target", where),
                )
            )
        return tuple(out)

    def known(self, table: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
        unknown = sorted(str(k) for k in table if k not in known)
        if unknown:
            self.fail(f"{where} unknown key {one_line(unknown[0])!r} (known: {', '.join(known)})")

    def string(self, table: Mapping[str, Any], key: str, where: str) -> str | None:
        value = table.get(key)
        if value is not None and not _text(value):
            self.fail(f"{where} {key} must be a non-empty string (quoted in TOML)")
        return value

    def strings(
        self, table: Mapping[str, Any], key: str, where: str, alternative: str = ""
    ) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(_text(v) for v in value):
            self.fail(f"{where} {key} must be a list of strings {alternative}".rstrip())
        return tuple(value)

    def ignores(self, entries: Any, where: str) -> tuple[IgnoreEntry, ...]:
        try:
            return tuple(parse_ignore_table(entries, where))
        except UsageError as exc:
            self.fail(str(exc))


def _key(field_name: str) -> str:
    return field_name.replace("_", "-")


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{where}: expiry must be a date YYYY-MM-DD, got {one_line(text)!r}"
        ) from None


def parse_ignore_flag(text: str) -> IgnoreEntry:
    """``NAME[==VERSION]:YYYY-MM-DD:REASON`` (the reason is required: say why it is accepted)."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0].strip() or not parts[2].strip():
        raise UsageError(
            f"--ignore wants NAME[==VERSION]:YYYY-MM-DD:REASON, got {one_line(text)!r}"
        )
    name, _, version = parts[0].strip().partition("==")
    return IgnoreEntry(
        name=name.strip(),
        version=version.strip() or None,
        expires=_date(parts[1].strip(), "--ignore"),
        reason=parts[2].strip(),
    )


def parse_ignore_table(entries: Any, section: str = "[tool.graviton.audit]") -> list[IgnoreEntry]:
    """``ignore = [{name = "shioaji", version = "1.2.5", reason = "…", expires = 2027-01-31}]``."""
    if not isinstance(entries, list):
        raise UsageError(f"{section} ignore must be a list of tables")
    out = []
    for i, entry in enumerate(entries, start=1):
        where = f"{section} ignore entry {i}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where} must be a table")
        missing = [k for k in ("name", "reason", "expires") if not entry.get(k)]
        if missing:
            raise UsageError(f"{where} lacks {', '.join(missing)}")
        expires = entry["expires"]
        if isinstance(expires, dt.datetime):
            expires = expires.date()
        elif not isinstance(expires, dt.date):
            expires = _date(str(expires), where)
        out.append(
            IgnoreEntry(
                name=str(entry["name"]),
                version=str(entry["version"]) if entry.get("version") else None,
                reason=str(entry["reason"]),
                expires=expires,
            )
        )
    return out

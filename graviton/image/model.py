"""Plain data shared by the build pieces: what the pre-build checks found."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # the build would produce a broken or single-arch image: stop
    WARNING = "warning"  # works, but slowly or fragilely: say so and go on


@dataclass(frozen=True)
class Finding:
    """One problem a check found: a rule id, where (file:line when it is a file) and the fix."""

    rule: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    fix: str | None = None

    @property
    def where(self) -> str:
        if self.path is None:
            return ""
        return self.path if self.line is None else f"{self.path}:{self.line}"

    def render(self) -> str:
        head = f"{self.where}: " if self.where else ""
        tail = f" (fix: {self.fix})" if self.fix else ""
        return f"{head}{self.severity} {self.rule}: {self.message}{tail}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)

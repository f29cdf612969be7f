"""What a Dockerfile's build context holds: the requirements files its ``pip install -r FILE``
lines install (read from :func:`graviton.checks.dockerfile.requirements_args`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from graviton.checks import dockerfile as df


@dataclass(frozen=True)
class RequirementsUse:
    """A ``pip install -r FILE`` line: the file in the context and the stage's base image."""

    requirements: Path
    path: str  # the Dockerfile, for the finding
    line: int
    base: str  # the image at the root of the stage's FROM chain


def pip_requirements(
    dockerfile: df.Dockerfile, context: Path, stages: Sequence[df.Stage]
) -> list[RequirementsUse]:
    """``pip install -r FILE`` lines in RUN steps whose FILE exists in the build context
    (relative to the context root or to a WORKDIR-less copy destination: the basename)."""
    out = []
    for arg in df.requirements_args(dockerfile, stages):
        found = _in_context(context, arg.name)
        if found is not None:
            out.append(RequirementsUse(found, arg.path, arg.line, arg.base))
    return out


def _in_context(context: Path, name: str) -> Path | None:
    for candidate in (context / name.lstrip("/"), context / Path(name).name):
        if candidate.is_file():
            return candidate
    return None

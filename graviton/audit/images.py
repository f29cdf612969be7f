"""The audit target implied by a known base image (``--dockerfile``): Python and libc.

Only images whose Python and libc are published facts are known; anything else returns None and
the caller says so instead of guessing.
"""

from __future__ import annotations

import re
from pathlib import Path

from graviton.audit.platforms import PRESETS
from graviton.errors import UsageError
from graviton.findings import Target
from graviton.textfile import read_text

# distro codename in a tag -> preset
_CODENAMES = {
    "bookworm": "bookworm",
    "bullseye": "bullseye",
    "trixie": "trixie",
    "jammy": "jammy",
    "noble": "noble",
}
_BUSTER = ("glibc", (2, 28))
# Docker's official python images without a codename follow Debian stable: trixie since 2025-08.
_PYTHON_DEFAULT_DISTRO = "trixie"

_PYTHON_TAG = re.compile(r"^(?P<py>3\.\d+)(?:\.\d+)?(?:[a-z]+\d*)?(?P<rest>(?:-[a-z0-9.]+)*)$")


def _strip_registry(image: str) -> tuple[str, str]:
    """ "public.ecr.aws/docker/library/python:3.12-slim" -> ("python", "3.12-slim")."""
    name, _, tag = (
        image.partition("@")[0].rpartition(":")
        if ":" in image.rsplit("/", 1)[-1]
        else (
            image.partition("@")[0],
            "",
            "latest",
        )
    )
    for prefix in (
        "docker.io/library/",
        "docker.io/",
        "public.ecr.aws/docker/library/",
        "library/",
    ):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name, tag


def _target(
    libc: tuple[str, tuple[int, int]],
    python: tuple[int, int] | None,
    name: str,
    default_python: tuple[int, int],
) -> Target:
    return Target(python=python or default_python, libc=libc[0], libc_version=libc[1], name=name)


def target_for_image(image: str, default_python: tuple[int, int]) -> Target | None:
    """The target of a base image, or None if the image is not one we know."""
    name, tag = _strip_registry(image.strip())
    if name == "python":
        m = _PYTHON_TAG.match(tag)
        if not m:
            return None
        python = tuple(int(x) for x in m["py"].split("."))
        rest = m["rest"]
        if "alpine" in rest:
            return _target(PRESETS["alpine"], (python[0], python[1]), image, default_python)
        if "buster" in rest:
            return _target(_BUSTER, (python[0], python[1]), image, default_python)
        for codename, preset_name in _CODENAMES.items():
            if codename in rest:
                return _target(PRESETS[preset_name], (python[0], python[1]), image, default_python)
        return _target(
            PRESETS[_PYTHON_DEFAULT_DISTRO], (python[0], python[1]), image, default_python
        )
    if name == "public.ecr.aws/lambda/python":
        m = re.match(r"^(3\.\d+)", tag)
        if not m:
            return None
        major, minor = (int(x) for x in m[1].split("."))
        libc = PRESETS["al2"] if (major, minor) <= (3, 11) else PRESETS["al2023"]
        return _target(libc, (major, minor), image, default_python)
    if name in ("amazonlinux", "public.ecr.aws/amazonlinux/amazonlinux"):
        if tag.startswith("2023"):
            return _target(PRESETS["al2023"], None, image, default_python)
        if tag == "2" or tag.startswith("2."):
            return _target(PRESETS["al2"], None, image, default_python)
        return None
    if name == "debian":
        for codename in ("bookworm", "bullseye", "trixie"):
            if tag.startswith(codename) or tag.startswith(
                {"bookworm": "12", "bullseye": "11", "trixie": "13"}[codename]
            ):
                return _target(PRESETS[codename], None, image, default_python)
        return None
    if name == "ubuntu":
        for codename, version in (("jammy", "22.04"), ("noble", "24.04")):
            if tag.startswith((codename, version)):
                return _target(PRESETS[codename], None, image, default_python)
        return None
    if name == "alpine":
        return _target(PRESETS["alpine"], None, image, default_python)
    return None


def target_for_dockerfile(path: Path, default_python: tuple[int, int]) -> Target:
    """The target of a Dockerfile's final stage, from the image it ultimately builds on."""
    from graviton.checks import dockerfile as df

    text = read_text(path, str(path))
    parsed = df.parse(text, str(path))
    final = parsed.stages[-1]
    image = df.root_base(parsed, final)
    target = target_for_image(image, default_python)
    if target is None:
        raise UsageError(
            f"{path}:{final.line}: base image {image!r} is not one graviton knows the Python and "
            "libc of; pass --python with --glibc/--musl/--target instead"
        )
    return target

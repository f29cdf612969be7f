"""pip's own answer to "does this pin install on linux/aarch64?", the baseline for audit.

pip is run with no configuration (PIP_CONFIG_FILE=/dev/null drops every config file, global
ones included, which --isolated keeps; no PIP_* variables) against one index, with every
platform tag graviton accepts listed explicitly (``--platform`` does not imply older manylinux
levels), ``--only-binary=:all:`` so only a wheel counts, and ``--no-deps``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from graviton.audit.platforms import platform_tags
from graviton.findings import Target


def pip_command(target: Target, index_url: str, requirements: Iterable[str]) -> list[str]:
    py = target.python
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--isolated",
        "--dry-run",
        "--no-deps",
        "--ignore-installed",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--index-url",
        index_url,
        "--python-version",
        f"{py[0]}.{py[1]}",
        "--implementation",
        "cp",
        "--abi",
        f"cp{py[0]}{py[1]}",
        "--quiet",
    ]
    for plat in platform_tags(target):
        cmd += ["--platform", plat]
    return [*cmd, *requirements]


def pip_env() -> dict[str, str]:
    """The environment without pip's configuration: no config file, no PIP_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def pip_finds_wheel(target: Target, index_url: str, requirement: str) -> bool:
    proc = subprocess.run(
        pip_command(target, index_url, [requirement]),
        capture_output=True,
        text=True,
        timeout=600,
        env=pip_env(),
    )
    return proc.returncode == 0


def pip_answers(
    target: Target, index_url: str, requirements: list[str], jobs: int = 4
) -> dict[str, bool]:
    """requirement -> whether pip finds a wheel for it, one pip process per pin (in parallel)."""
    with ThreadPoolExecutor(jobs) as pool:
        results = pool.map(lambda r: pip_finds_wheel(target, index_url, r), requirements)
        return dict(zip(requirements, results, strict=True))

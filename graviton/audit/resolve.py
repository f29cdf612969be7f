"""Pin the unpinned requirements of a manifest with pip-tools' ``pip-compile``.

``requirements.in`` lines and pyproject ranges say what is allowed, not what is installed; the
audit judges versions, so they are resolved first. The manifest's requirements (exact pins
included, so that the rest is resolved around them; pyproject: dependencies, every optional
group and dependency group) are written to a temporary ``.in`` file and compiled by
``<python> -m piptools compile`` in a subprocess, with the manifest's and the caller's indexes.

Which environment: pip-compile resolves for the interpreter that runs it. Its markers and
Python version decide which conditional dependencies come in (a ``pywin32 ; sys_platform ==
"win32"`` line stays unpinned on Linux) and which versions satisfy ``requires-python``. That is
the interpreter running graviton. ``python="3.12"`` (the target's version) uses ``python3.12``
instead when it is on PATH with pip-tools installed, and the running interpreter otherwise;
``python=<path or command>`` must be such an interpreter. pip-tools cannot resolve for another
platform, so a dependency needed only on aarch64 (``platform_machine == "aarch64"``) is missing
when graviton runs on x86_64; the verdicts then judge the resolved pins for the target.

The result: every input pin keeps its Location; an unpinned one gets the resolved version (its
specifier stays as written). Dependencies pulled in transitively are new pins located at the
requirement that pulled them in (from pip-compile's ``# via`` annotations), or at the file
without a line. Direct references (URL, VCS, local path) are not resolved: they are kept
as they are, and their own dependencies are not read.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from graviton.audit.sources import requirements
from graviton.errors import InputError, ServiceUnavailable, UsageError, one_line
from graviton.findings import Location, Manifest, Pin

TIMEOUT = 900  # seconds: a resolution that slow is stuck on the network
_VIA = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+.*#\s*via\s+(.+)$")
PYPI = "https://pypi.org/simple/"


def resolve(
    manifest: Manifest,
    *,
    python: str | None = None,
    index_url: str | None = None,
    extra_index_urls: tuple[str, ...] = (),
    offline: bool | None = None,
) -> Manifest:
    """``manifest`` with its unpinned requirements pinned; unchanged when all are pinned.

    ``offline`` (default: pip's own ``PIP_NO_INDEX`` is set, which ``graviton audit --offline``
    sets): pip-compile reads no index (``--no-index``: only a ``PIP_FIND_LINKS`` wheelhouse),
    and nothing else here touches the network either; a failure is then exit 3.
    """
    if not manifest.unpinned:
        return manifest
    if offline is None:
        offline = _env_offline()
    index = index_url or manifest.index_url
    extras = tuple(dict.fromkeys((*manifest.extra_index_urls, *extra_index_urls)))
    inputs = [pin for pin in manifest.pins if pin.url is None]
    with tempfile.TemporaryDirectory(prefix="graviton-resolve-") as tmp:
        source, output = Path(tmp, "requirements.in"), Path(tmp, "requirements.txt")
        source.write_text("".join(f"{_requirement_line(pin)}\n" for pin in inputs))
        command = [*_pip_compile(python, index, extras, offline)]
        command += ["--output-file", str(output), str(source)]
        indexes = [] if offline else [index or os.environ.get("PIP_INDEX_URL") or PYPI, *extras]
        _run(command, manifest.path, tmp, indexes, offline=offline)
        compiled = requirements.parse(output, manifest.path)
        parents = _parents(output.read_text())
    return _merge(manifest, compiled.pins, parents)


def _env_offline() -> bool:
    """pip's ``PIP_NO_INDEX`` (any value but a false one, as pip reads it)."""
    value = os.environ.get("PIP_NO_INDEX", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _pip_compile(
    python: str | None, index: str | None, extras: tuple[str, ...], offline: bool = False
) -> list[str]:
    command = [_interpreter(python), "-m", "piptools", "compile", "--quiet", "--no-header"]
    command += ["--annotation-style=line", "--no-emit-index-url", "--no-emit-options"]
    command += ["--strip-extras", "--allow-unsafe", "--no-config"]
    if offline:
        return [*command, "--no-index"]
    if index:
        command += ["--index-url", index]
    for url in extras:
        command += ["--extra-index-url", url]
    return command


def _interpreter(python: str | None) -> str:
    """The interpreter that runs pip-compile.

    ``"X.Y"``: ``pythonX.Y`` when it is on PATH with pip-tools installed, else the running
    interpreter (the documented default). A path or command: that one, which must work.
    """
    if python is None or python == f"{sys.version_info[0]}.{sys.version_info[1]}":
        return sys.executable
    if re.fullmatch(r"\d+\.\d+", python):
        found = shutil.which(f"python{python}")
        return found if found and _has_pip_tools(found) else sys.executable
    found = shutil.which(python)
    if found is None:
        raise UsageError(f"cannot resolve requirements with {python}: not found")
    if not _has_pip_tools(found):
        raise UsageError(f"cannot resolve requirements with {python}: pip-tools is not installed")
    return found


@functools.cache
def _has_pip_tools(interpreter: str) -> bool:
    try:
        probe = subprocess.run(
            [interpreter, "-c", "import piptools"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _requirement_line(pin: Pin) -> str:
    extras = f"[{','.join(pin.extras)}]" if pin.extras else ""
    specifier = pin.specifier
    if pin.version is not None:
        specifier = pin.pinned if pin.arbitrary else f"{_operator(pin.version)}{pin.version}"
    marker = f" ; {pin.marker}" if pin.marker else ""
    return f"{pin.name}{extras}{specifier}{marker}"


def _operator(version: str) -> str:
    try:
        Version(version)
    except InvalidVersion:
        return "==="
    return "=="


def _run(
    command: list[str], display: str, cwd: str, indexes: list[str], *, offline: bool = False
) -> None:
    env = {**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if offline:
        env |= {"PIP_NO_INDEX": "1"}
        for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
            env.pop(name, None)
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ServiceUnavailable(
            f"{display}: pip-compile did not finish in {TIMEOUT} s (is the index reachable?)"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
    if done.returncode == 0:
        return
    message = one_line(_last_error(done.stderr or done.stdout))
    if offline:
        raise ServiceUnavailable(
            f"{display}: --offline: cannot resolve the unpinned requirements without the index "
            f"({message}); pin them, or pass --no-resolve"
        )
    if unreachable := _unreachable(indexes):  # pip-tools does not say why a lookup failed
        raise ServiceUnavailable(f"{display}: cannot resolve, index {unreachable}: {message}")
    raise InputError(f"pip-compile failed: {message}", path=display)


def _unreachable(indexes: list[str]) -> str | None:
    """The first HTTP index that does not answer (host and reason, never credentials)."""
    for url in indexes:
        if not url.startswith(("http://", "https://")):
            continue
        host = urlsplit(url).hostname or url
        try:
            status = requests.get(url, timeout=15).status_code
        except requests.RequestException as exc:
            return f"{host} unreachable ({type(exc).__name__})"
        if status >= 500:
            return f"{host} answers HTTP {status}"
    return None


def _last_error(output: str) -> str:
    """pip's last ``ERROR:`` line, else the last line (a traceback's exception message)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR:").strip() for line in lines if line.startswith("ERROR:")]
    if errors:
        return errors[-1]
    return lines[-1] if lines else "no output"


def _parents(compiled: str) -> dict[str, list[str]]:
    """``# via`` annotations: each package's parents; ``"-r"`` for a requirement of the input."""
    parents: dict[str, list[str]] = {}
    for line in compiled.splitlines():
        if found := _VIA.match(line.strip()):
            parents[canonicalize_name(found[1])] = [
                "-r" if via.startswith("-r ") else canonicalize_name(via.strip())
                for via in found[2].split(",")
            ]
    return parents


def _merge(
    manifest: Manifest, compiled: tuple[Pin, ...], parents: dict[str, list[str]]
) -> Manifest:
    versions = {pin.key: pin.version for pin in compiled}
    asked: dict[str, Location] = {}
    pins = []
    for pin in manifest.pins:
        asked.setdefault(pin.key, pin.location)
        if pin.version is None and pin.url is None and versions.get(pin.key):
            pin = dataclasses.replace(pin, version=versions[pin.key])
        pins.append(pin)
    for pin in compiled:
        if pin.key not in asked:
            origin = _origin(pin.key, parents, asked) or Location(manifest.path)
            pins.append(dataclasses.replace(pin, location=origin))
    return dataclasses.replace(manifest, pins=tuple(pins))


def _origin(key: str, parents: dict[str, list[str]], asked: dict[str, Location]) -> Location | None:
    """The location of the nearest input requirement that pulled ``key`` in."""
    queue, seen = deque(parents.get(key, [])), {key}
    while queue:
        parent = queue.popleft()
        if parent in asked:
            return asked[parent]
        if parent not in seen:
            seen.add(parent)
            queue.extend(parents.get(parent, []))
    return None

"""The in-container probe of ``graviton validate`` (package data: run as
``python3 -c SOURCE CONFIG`` inside the image under test; it never imports graviton and runs on
Python 3.8+).

It prints JSON lines, each prefixed with ``@@graviton-probe``:

* ``cpu``: platform.machine(), the Python version, AT_HWCAP/AT_HWCAP2 from /proc/self/auxv and
  the SVE vector length (prctl PR_SVE_GET_VL) -- what the emulated CPU told this process;
* ``dist``: each installed distribution (importlib.metadata, first on sys.path wins), its
  top-level modules (top_level.txt, else RECORD), how many of its files were read and every file
  that is an ELF object with its e_machine;
* ``import``: each top-level module imported in a fresh interpreter with a per-module timeout:
  ``ok``, ``error`` (the exception), ``exit`` (a code), ``signal`` (the number) or ``timeout``;
* ``run``: the ``--run`` command's exit code or signal and its output's tail;
* ``done``: the probe finished (a missing ``done`` means it was cut short), with the number of
  records printed before it (fewer arriving means its output was garbled on the way).
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any

MARK = "@@graviton-probe "
CHILD_MARK = "@@graviton-import "
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\..*\.(so|pyd)$|^([A-Za-z_][A-Za-z0-9_]*)\.(so|pyd)$")
AT_HWCAP = 16
AT_HWCAP2 = 26
PR_SVE_GET_VL = 51

CHILD = (
    "import importlib, json, sys\n"
    "try:\n"
    "    importlib.import_module(sys.argv[1])\n"
    "except BaseException as e:\n"
    "    sys.stdout.write('\\n' + " + repr(CHILD_MARK) + " + json.dumps({'error': "
    "type(e).__name__, 'message': str(e)[:2000]}) + '\\n')\n"
    "    sys.stdout.flush()\n"
    "    sys.exit(3)\n"
)


EMITTED = [0]  # records printed so far: ``done`` carries the count


def emit(kind: str, **fields: Any) -> None:
    fields["type"] = kind
    if kind == "done":
        fields["records"] = EMITTED[0]
    sys.stdout.write(MARK + json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()
    EMITTED[0] += 1


def auxv() -> dict[int, int]:
    out: dict[int, int] = {}
    try:
        with open("/proc/self/auxv", "rb") as f:
            data = f.read()
    except OSError:
        return out
    for i in range(0, len(data) - 15, 16):
        key, value = struct.unpack_from("<QQ", data, i)
        if key == 0:
            break
        out[key] = value
    return out


def sve_vector_bits() -> int | None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        vl = libc.prctl(PR_SVE_GET_VL, 0, 0, 0, 0)
    except Exception:
        return None
    return int(vl & 0xFFFF) * 8 if vl > 0 else None


def elf_machine(path: str) -> int | None:
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    order = "<" if head[5] == 1 else ">"
    machine: int = struct.unpack_from(order + "H", head, 18)[0]
    return machine


def _first_part(rel: str) -> str:
    return rel.replace("\\", "/").split("/", 1)[0]


def top_level(dist: Any, files: list[str]) -> list[str]:
    """Top-level module names: top_level.txt when the distribution has one, else from RECORD."""
    names: list[str] = []
    text = dist.read_text("top_level.txt")
    if text:
        names = [n.strip().replace("/", ".") for n in text.splitlines() if n.strip()]
    else:
        for rel in files:
            rel = rel.replace("\\", "/")
            if rel.startswith("..") or rel.startswith("/"):
                continue
            head = _first_part(rel)
            if head.endswith((".dist-info", ".egg-info", ".data")) or head == "__pycache__":
                continue
            if "/" in rel:
                if rel.endswith((".py", ".so", ".pyd")) and _IDENT.match(head):
                    names.append(head)
                continue
            if head.endswith(".py") and _IDENT.match(head[:-3]):
                names.append(head[:-3])
                continue
            ext = _EXT.match(head)
            if ext:
                names.append(ext.group(1) or ext.group(3))
    seen: dict[str, None] = {}
    for name in names:
        if all(_IDENT.match(part) for part in name.split(".")):
            seen.setdefault(name, None)
    return [n for n in seen if installed(n, files, dist.files is not None)]


def installed(name: str, files: list[str], listed: bool) -> bool:
    """top_level.txt can name what the distribution did not install (Debian's setuptools lists
    ``debian``): keep a name only when its files are in RECORD, or (no RECORD) it is on sys.path."""
    head = name.split(".")[0]
    if listed:
        meta = (".dist-info", ".egg-info", ".data", ".pth")
        firsts = {_first_part(rel) for rel in files}
        return any(
            (f == head or f == head + ".py" or f.startswith(head + ".")) and not f.endswith(meta)
            for f in firsts
        )
    import importlib.util

    try:
        return importlib.util.find_spec(head) is not None
    except Exception:
        return True  # let the import say what is wrong


def spec_files(module: str) -> list[str]:
    """When a distribution lists no files: the files of its top-level module on disk."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except Exception:
        return []
    if spec is None:
        return []
    out: list[str] = []
    for location in spec.submodule_search_locations or []:
        for root, _dirs, names in os.walk(location):
            out.extend(os.path.join(root, n) for n in names)
    if not out and spec.origin and os.path.isfile(spec.origin):
        out.append(spec.origin)
    return out


def distributions() -> list[Any]:
    from importlib import metadata

    seen: dict[str, Any] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:
            name = None
        if not name:
            continue
        key = re.sub(r"[-_.]+", "-", str(name)).lower()
        seen.setdefault(key, dist)
    return [seen[k] for k in sorted(seen)]


def describe(dist: Any) -> dict[str, Any]:
    record = dist.files
    rel = [str(p) for p in record] if record is not None else []
    modules = top_level(dist, rel)
    if record is not None:
        paths = [str(dist.locate_file(p)) for p in record]
    else:
        paths = [p for m in modules for p in spec_files(m.split(".")[0])]
    elf = []
    for path in sorted(set(paths)):
        machine = elf_machine(path)
        if machine is not None:
            elf.append({"path": os.path.normpath(path), "machine": machine})
    location = str(getattr(dist, "_path", "") or "")
    return {
        "name": str(dist.metadata["Name"]),
        "version": str(dist.metadata["Version"] or ""),
        "modules": modules,
        "files": sum(1 for p in set(paths) if os.path.isfile(p)),
        "listed": record is not None,
        "elf": elf,
        "location": os.path.dirname(location) if location else "",
    }


def _tail(text: str, lines: int = 20, chars: int = 4000) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])[-chars:]


def run_child(
    argv: list[str], timeout: float, cwd: str | None, merge: bool = False
) -> dict[str, Any]:
    """Run ``argv``; ``merge`` interleaves stderr into stdout (the --run command's tail)."""
    start = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=max(timeout, 0.1),
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"") + (exc.stderr or b"")
        return {
            "outcome": "timeout",
            "seconds": time.monotonic() - start,
            "tail": _tail(out.decode("utf-8", "replace")),
        }
    except OSError as exc:
        return {"outcome": "error", "error": type(exc).__name__, "message": str(exc)}
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = (proc.stderr or b"").decode("utf-8", "replace")
    result: dict[str, Any] = {"seconds": time.monotonic() - start, "tail": _tail(stderr or stdout)}
    if proc.returncode < 0:
        result.update(outcome="signal", signal=-proc.returncode)
    elif proc.returncode == 0:
        result["outcome"] = "ok"
    else:
        marked = [ln for ln in stdout.splitlines() if ln.startswith(CHILD_MARK)]
        if marked:
            result.update(outcome="error", **json.loads(marked[-1][len(CHILD_MARK) :]))
        else:
            result.update(outcome="exit", code=proc.returncode)
    return result


def main() -> int:
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    start = time.monotonic()
    budget = float(config.get("budget", 600))
    import_timeout = float(config.get("import_timeout", 120))
    import platform

    aux = auxv()
    emit(
        "cpu",
        machine=platform.machine(),
        python=platform.python_version(),
        hwcap=aux.get(AT_HWCAP),
        hwcap2=aux.get(AT_HWCAP2),
        sve_vector_bits=sve_vector_bits(),
    )
    try:
        workdir: str | None = tempfile.mkdtemp(prefix="graviton-probe-")
    except OSError:
        workdir = None  # an empty cwd keeps '' on sys.path from shadowing anything
    env_python = sys.executable or "python3"
    imported: dict[str, dict[str, Any]] = {}
    for dist in distributions():
        try:
            doc = describe(dist)
        except Exception as exc:
            where = str(getattr(dist, "_path", "?"))
            emit("dist-error", name=where, message=type(exc).__name__ + ": " + str(exc)[:500])
            continue
        emit("dist", **doc)
        for module in doc["modules"]:
            if module in imported:
                continue
            left = budget - (time.monotonic() - start)
            if left <= 0:
                imported[module] = {"outcome": "budget"}
            else:
                argv = [env_python, "-c", CHILD, module]
                imported[module] = run_child(argv, min(import_timeout, left), workdir)
            emit("import", module=module, **imported[module])
    run = config.get("run")
    if run:
        left = budget - (time.monotonic() - start)
        if left <= 0:
            emit("run", outcome="budget")
        else:
            emit("run", **run_child(list(run), left, None, merge=True))
    emit("done", seconds=time.monotonic() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())

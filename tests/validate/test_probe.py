"""The in-container probe, run here by the host's Python against a directory of installed
distributions (its logic does not depend on the architecture it runs on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from graviton.validate.results import MARK
from graviton.validate.run import probe_source

ELF_X86_64 = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 44
ELF_AARCH64 = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00\xb7\x00" + b"\x00" * 44


def install(site: Path, name: str, files: dict[str, bytes], top_level: str | None) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    record = [f"{rel},," for rel in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    if top_level is not None:
        (info / "top_level.txt").write_text(top_level)
        record.append(f"{info.name}/top_level.txt,,")
    (info / "RECORD").write_text("\n".join(record) + "\n")


def probe(site: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(site)}  # -S: only these distributions
    proc = subprocess.run(
        [sys.executable, "-S", "-c", probe_source(), json.dumps(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    return [json.loads(ln[len(MARK) :]) for ln in proc.stdout.splitlines() if ln.startswith(MARK)]


def test_probe_lists_modules_elf_objects_and_imports(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(
        site,
        "gvt-mixed",
        {
            "gvt_mixed/__init__.py": b"",
            "gvt_mixed/bin/tool_linux64": ELF_X86_64,
            "gvt_mixed/_native.so": ELF_AARCH64,
            "../../bin/gvt-mixed": ELF_X86_64,  # a script outside site-packages is scanned too
        },
        top_level="gvt_mixed\nghost\n",  # "ghost" is named but not installed
    )
    install(site, "gvt-norecordtop", {"gvt_single.py": b"raise ImportError('nope')\n"}, None)
    records = probe(site, {"import_timeout": 60, "budget": 600, "run": ["true"]})
    kinds = [r["type"] for r in records]
    assert kinds[0] == "cpu" and kinds[-1] == "done" and "run" in kinds
    dists = {r["name"]: r for r in records if r["type"] == "dist"}
    mixed = dists["gvt-mixed"]
    assert mixed["modules"] == ["gvt_mixed"]  # the ghost of top_level.txt is not imported
    machines = {Path(e["path"]).name: e["machine"] for e in mixed["elf"]}
    assert machines == {"tool_linux64": 62, "_native.so": 183, "gvt-mixed": 62}
    assert dists["gvt-norecordtop"]["modules"] == ["gvt_single"]  # from RECORD
    imports = {r["module"]: r for r in records if r["type"] == "import"}
    assert imports["gvt_mixed"]["outcome"] == "ok"
    assert imports["gvt_single"]["outcome"] == "error"
    assert imports["gvt_single"]["message"] == "nope"

"""Write the benchmark locks from PyPI's 500 most-downloaded projects (run by hand, needs PyPI).

bench/locks/top500.txt: each project pinned to the release it had when the package list was made.
bench/locks/top500-2023.txt: each pinned to its newest release uploaded before 2023-06-01, the
kind of lock a service that has not been touched for a while carries (older releases are where
aarch64 wheels are missing).
"""

from __future__ import annotations

import csv
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

HERE = Path(__file__).resolve().parent
TSV = Path("/work/.library/env/packages/pypi.tsv")
CUTOFF = "2023-06-01"


def top(n: int) -> list[tuple[str, str]]:
    rows = []
    with TSV.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            rank = row["rank_among_15000_most_downloaded"]
            if rank and row["version"]:
                rows.append((int(rank), row["name"], row["version"]))
    rows.sort()
    return [(name, version) for _, name, version in rows[:n]]


def old_version(name: str) -> str | None:
    req = urllib.request.Request(
        f"https://pypi.org/simple/{name}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    doc = json.load(urllib.request.urlopen(req, timeout=30))
    best: Version | None = None
    for f in doc["files"]:
        if (f.get("upload-time") or "9999") >= CUTOFF or f.get("yanked"):
            continue
        try:
            fn = f["filename"]
            v = parse_wheel_filename(fn)[1] if fn.endswith(".whl") else parse_sdist_filename(fn)[1]
        except Exception:
            continue
        if not v.is_prerelease and (best is None or v > best):
            best = v
    return str(best) if best else None


def main() -> None:
    pins = top(500)
    header = "# PyPI's 500 most-downloaded projects (see bench/make_locks.py)\n"
    (HERE / "locks" / "top500.txt").write_text(header + "".join(f"{n}=={v}\n" for n, v in pins))
    with ThreadPoolExecutor(16) as pool:
        olds = list(pool.map(lambda p: (p[0], old_version(p[0])), pins))
    lines = [f"{n}=={v}\n" for n, v in olds if v]
    (HERE / "locks" / "top500-2023.txt").write_text(
        f"# the same projects at their newest release before {CUTOFF}\n" + "".join(lines)
    )
    print(len(pins), len(lines), file=sys.stderr)


if __name__ == "__main__":
    main()

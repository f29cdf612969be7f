"""Benchmark: ``graviton audit`` (cold and warm cache) against pip's own answer, in one run.

    python bench/audit.py [LOCK] [--python 3.11] [--glibc 2.28]

The baseline is the command the audit replaces:
``pip install --dry-run --no-deps --ignore-installed --only-binary=:all: --platform ... -r LOCK``
over the pins pip can satisfy (pip stops at the first pin without a wheel, so the lock is first
cut to the pins graviton judged installable; pip then reads every one of them). Both run against
the real PyPI. Each command runs in its own wrapper process, so peak RSS is that command's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pip_baseline import pip_command, pip_env  # noqa: E402

from graviton.findings import Target  # noqa: E402

MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "dt = time.perf_counter() - t\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(p.stderr.decode()[-2000:])\n"
    "sys.stdout.write(f'{p.returncode} {dt} {rss}\\n')\n"
    "sys.stdout.buffer.write(p.stdout)\n"
)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float, bytes]:
    """(exit code, seconds, peak RSS in MB, stdout) of one command."""
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd], capture_output=True, env=env, check=False
    )
    head, _, out = proc.stdout.partition(b"\n")
    code, seconds, rss_kb = head.split()
    return int(code), float(seconds), int(rss_kb) / 1024, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lock", nargs="?", default=str(HERE / "locks" / "top500.txt"))
    ap.add_argument("--python", default="3.11")
    ap.add_argument("--glibc", default="2.28")
    ap.add_argument("--index-url", default="https://pypi.org/simple/")
    args = ap.parse_args()
    graviton = [sys.executable, "-m", "graviton.cli"]
    target = Target(
        python=tuple(int(x) for x in args.python.split(".")),  # type: ignore[arg-type]
        libc_version=tuple(int(x) for x in args.glibc.split(".")),  # type: ignore[arg-type]
    )
    with tempfile.TemporaryDirectory() as tmp:
        base = [
            *graviton,
            "audit",
            args.lock,
            "--python",
            args.python,
            "--glibc",
            args.glibc,
            "--index-url",
            args.index_url,
            "--cache-dir",
            tmp,
            "--format",
            "json",
            "--fail-on",
            "blocked",
        ]
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        code, cold, cold_rss, out = measure(base, env)
        if code not in (0, 1):
            print(f"graviton audit failed (exit {code})", file=sys.stderr)
            return 1
        report = json.loads(out)
        code, warm, warm_rss, _ = measure(base, env)
    installable = [
        f"{p['name']}=={p['version']}"
        for p in report["packages"]
        if p["verdict"] in ("native", "pure")
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(installable) + "\n")
        subset = fh.name
    pip = pip_command(target, args.index_url, ["-r", subset])
    with tempfile.TemporaryDirectory() as pip_cache:
        env_pip = {**pip_env(), "PIP_CACHE_DIR": pip_cache}
        pip_code, pip_s, pip_rss, _ = measure([*pip, "--cache-dir", pip_cache], env_pip)
    os.unlink(subset)
    pins = len(report["packages"])
    print(f"lock: {args.lock} ({pins} pins; {len(installable)} installable as wheels)")
    print(f"target: {target}")
    print(f"graviton audit, cold cache : {cold:7.2f} s   peak RSS {cold_rss:6.1f} MB")
    print(f"graviton audit, warm cache : {warm:7.2f} s   peak RSS {warm_rss:6.1f} MB")
    print(
        f"pip --dry-run (baseline)   : {pip_s:7.2f} s   peak RSS {pip_rss:6.1f} MB"
        f"   (exit {pip_code}, {len(installable)} pins)"
    )
    print(f"cold speed-up vs pip       : {pip_s / cold:7.1f}x   (target >= 10x)")
    print(f"warm                       : {warm:7.2f} s    (target < 1 s)")
    print(f"peak RSS                   : {max(cold_rss, warm_rss):7.1f} MB  (target < 150 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

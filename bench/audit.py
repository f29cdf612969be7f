"""Benchmark: ``graviton audit`` (cold and warm cache) against pip's own answer, in one run.

    python bench/audit.py [LOCK] [--python 3.11] [--glibc 2.28]

The baseline is the command the audit replaces:
``pip install --dry-run --no-deps --ignore-installed --only-binary=:all: --platform ... -r LOCK``
over the pins pip can satisfy (pip stops at the first pin without a wheel, so the lock is first
cut to the pins graviton judged installable; pip then reads every one of them). Both run against
the real PyPI. Each command runs in its own wrapper process, so peak RSS is that command's alone.

A cold run's time swings with the network and the machine, so each cold figure, graviton's and
pip's alike, is the median of ``--runs`` runs (each with an empty cache of its own, a pause before
it), printed with the fastest and slowest; the ratio is of the medians. graviton's and pip's runs
take turns, round by round, so a slower quarter of an hour weighs on both. The rounds start with
``--warmup`` rounds that are not counted (as hyperfine's ``--warmup``): the network between this
machine and PyPI caches pages and files (here a proxy revalidates a page it has not served for a
while, ~0.1 s each), and the first run after a pause paid that for every page, whichever tool ran
it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


def cut(lock: str, pins: int, into: Path) -> Path:
    """The first ``pins`` requirement lines of ``lock`` (comments and options dropped)."""
    lines = [
        line
        for line in Path(lock).read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    ]
    path = into / f"lock-{pins}.txt"
    path.write_text("\n".join(lines[:pins]) + "\n")
    return path


def import_seconds(env: dict[str, str]) -> float:
    """Seconds for ``python -c 'import graviton.cli'`` alone (start-up, before any work)."""
    _, seconds, _, _ = measure([sys.executable, "-c", "import graviton.cli"], env)
    return seconds


def one_size(args: argparse.Namespace, lock: Path, target: Target, tmp: Path) -> dict[str, float]:
    graviton = [sys.executable, "-m", "graviton.cli"]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    figures: dict[str, float] = {}

    def audit(cache: Path, *extra: str) -> tuple[int, float, float, bytes]:
        cmd = [*graviton, "audit", str(lock), "--python", args.python, "--glibc", args.glibc]
        cmd += ["--index-url", args.index_url, "--cache-dir", str(cache), "--format", "json"]
        return measure([*cmd, "--fail-on", "blocked", *extra], env)

    Run = Callable[[Path], tuple[int, float, float, bytes]]

    def cold(series: dict[str, tuple[Run, tuple[int, ...]]]) -> None:
        """The median of ``args.runs`` cold runs (fresh cache each) of each series as
        figures[name]; the series take turns (round by round), so a drift of the network or of
        the machine over the minutes of a run weighs on each of them alike."""
        seconds: dict[str, list[float]] = {name: [] for name in series}
        for n in range(-args.warmup, args.runs):
            for name, (run, ok) in series.items():
                time.sleep(args.pause)  # let the last run's connections close
                code, took, peak, _ = run(tmp / f"{name}-{lock.stem}-{n}")
                if code not in ok:
                    raise SystemExit(f"{name} failed (exit {code})")
                if n >= 0:
                    seconds[name].append(took)
                    figures[f"{name}_rss"] = max(figures.get(f"{name}_rss", 0.0), peak)
        for name, values in seconds.items():
            figures[name] = statistics.median(values)
            figures[f"{name}_min"], figures[f"{name}_max"] = min(values), max(values)

    # a first cold run (not counted) says which pins pip can install
    code, _, _, out = audit(tmp / f"probe-{lock.stem}")
    if code not in (0, 1):
        raise SystemExit(f"graviton audit failed (exit {code})")
    report = json.loads(out)
    verdicts = [p["verdict"] for p in report["packages"]]
    installable = [
        f"{p['name']}=={p['version']}"
        for p in report["packages"]
        if p["verdict"] in ("native", "pure")
    ]
    subset = tmp / f"pip-{lock.stem}.txt"
    subset.write_text("\n".join(installable) + "\n")
    pip = pip_command(target, args.index_url, ["-r", str(subset)])

    def pip_run(cache: Path) -> tuple[int, float, float, bytes]:
        env_pip = {**pip_env(), "PIP_CACHE_DIR": str(cache)}
        return measure([*pip, "--cache-dir", str(cache)], env_pip)

    # every pin resolved: pip read them all
    cold({"cold": (audit, (0, 1)), "pip": (pip_run, (0,))})
    _, figures["warm"], figures["warm_rss"], _ = audit(tmp / f"cold-{lock.stem}-0")
    cold({"cold_no_inspect": (lambda cache: audit(cache, "--no-inspect"), (0, 1))})
    figures["pins"] = len(verdicts)
    figures["installable"] = len(installable)
    figures["pure"] = verdicts.count("pure")
    figures["blocked"] = verdicts.count("blocked")
    return figures


def spread(figures: dict[str, float], name: str) -> str:
    return f"median; {figures[name + '_min']:.2f}-{figures[name + '_max']:.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lock", nargs="?", default=str(HERE / "locks" / "top500.txt"))
    ap.add_argument("--python", default="3.11")
    ap.add_argument("--glibc", default="2.28")
    ap.add_argument("--index-url", default="https://pypi.org/simple/")
    ap.add_argument("--pins", default="150,500", help="lock sizes (first N pins), comma-separated")
    ap.add_argument("--runs", type=int, default=3, help="cold runs per figure (median)")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds before each cold run")
    ap.add_argument("--warmup", type=int, default=1, help="uncounted runs before each series")
    args = ap.parse_args()
    target = Target(
        python=tuple(int(x) for x in args.python.split(".")),  # type: ignore[arg-type]
        libc_version=tuple(int(x) for x in args.glibc.split(".")),  # type: ignore[arg-type]
    )
    goals = {150: 10.0, 500: 15.0}
    print(f"lock: {args.lock}; target: {target}; inspection of pure wheels on")
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    print(f"start-up (import graviton.cli): {import_seconds(env):.2f} s")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for size in (int(n) for n in args.pins.split(",")):
            f = one_size(args, cut(args.lock, size, tmp), target, tmp)
            goal = goals.get(size, 10.0)
            print(
                f"\n{f['pins']:.0f} pins ({f['installable']:.0f} installable as wheels, "
                f"{f['pure']:.0f} pure wheels looked into, {f['blocked']:.0f} blocked)"
            )
            print(
                f"  graviton audit, cold cache : {f['cold']:7.2f} s   RSS {f['cold_rss']:6.1f} MB"
                f"   ({spread(f, 'cold')})"
            )
            print(
                f"  graviton audit, warm cache : {f['warm']:7.2f} s   RSS {f['warm_rss']:6.1f} MB"
            )
            print(
                f"  cold, --no-inspect         : {f['cold_no_inspect']:7.2f} s"
                f"                ({spread(f, 'cold_no_inspect')})"
            )
            print(
                f"  pip --dry-run (baseline)   : {f['pip']:7.2f} s   RSS {f['pip_rss']:6.1f} MB"
                f"   ({spread(f, 'pip')}; {f['installable']:.0f} pins)"
            )
            print(
                f"  cold speed-up vs pip       : {f['pip'] / f['cold']:7.1f}x"
                f"  (target >= {goal:g}x; medians of {args.runs} runs, {args.warmup} warm-up)"
            )
            print(f"  warm                       : {f['warm']:7.2f} s   (target < 1 s)")
            rss = max(f["cold_rss"], f["warm_rss"])
            print(f"  peak RSS                   : {rss:7.1f} MB  (target < 150 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

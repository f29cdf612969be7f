"""Benchmark: what ``graviton build --push`` costs on top of ``docker buildx build --push``.

Same context (a FROM-scratch busybox image for amd64 and arm64), same registry, warm cache, in
one run: a warm-up build, then ROUNDS alternating timings of each. graviton's overhead is its
checks (engine, buildx, builder, Dockerfile, base images) plus reading the pushed index back and
proving each platform's config; the smoke runs are timed separately (they start containers, one
under QEMU). Target: overhead under 2 s.

    python bench/build.py [--rounds 5] [--registry localhost:5000]

Needs the environment of ``scripts/docker-test-env.sh``; without an engine it says so and exits 0.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BUSYBOX = Path("/var/cache/graviton/busybox")
DOCKERFILE = 'FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}/bin/ /bin/\nCMD ["uname", "-m"]\n'


def _engine_missing() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI"
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        return "no docker engine answers"
    if not all((BUSYBOX / a / "bin" / "busybox").is_file() for a in ("amd64", "arm64")):
        return f"no static busybox in {BUSYBOX}"
    return None


def _context(root: Path) -> Path:
    for arch in ("amd64", "arm64"):
        bindir = root / arch / "bin"
        bindir.mkdir(parents=True)
        shutil.copy2(BUSYBOX / arch / "bin" / "busybox", bindir / "busybox")
        (bindir / "uname").symlink_to("busybox")
    (root / "Dockerfile").write_text(DOCKERFILE)
    return root


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])}... failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--registry", default="localhost:5000")
    args = parser.parse_args()
    reason = _engine_missing()
    if reason:
        print(f"bench/build.py: skipped: {reason} (run: sudo bash scripts/docker-test-env.sh)")
        return 0
    with tempfile.TemporaryDirectory(prefix="graviton-bench-") as tmp:
        context = _context(Path(tmp) / "ctx")
        metadata = str(Path(tmp) / "metadata.json")
        tag = f"{args.registry}/graviton-bench/busybox:{uuid.uuid4().hex[:8]}"
        platforms = "linux/amd64,linux/arm64"
        docker = [
            "docker",
            "buildx",
            "build",
            "--progress",
            "plain",
            "--platform",
            platforms,
            "--metadata-file",
            metadata,
            "-t",
            tag,
            "--push",
            str(context),
        ]
        graviton = [
            sys.executable,
            "-m",
            "graviton.cli",
            "build",
            "--push",
            "-t",
            tag,
            "--platform",
            platforms,
            str(context),
        ]
        _timed(docker)  # warm the cache and the registry
        _timed([*graviton, "--no-smoke"])
        plain, ours, smoked = [], [], []
        for _ in range(args.rounds):
            plain.append(_timed(docker))
            ours.append(_timed([*graviton, "--no-smoke"]))
            smoked.append(_timed(graviton))
    d, g, s = (statistics.median(x) for x in (plain, ours, smoked))
    print(f"docker buildx build --push       median {d:6.2f} s  ({args.rounds} runs, warm cache)")
    print(f"graviton build --push --no-smoke median {g:6.2f} s")
    print(f"graviton build --push (smoke)    median {s:6.2f} s  (smoke: +{s - g:.2f} s)")
    verdict = "within" if g - d < 2.0 else "OVER"
    print(
        f"overhead (checks + verify): {g - d:+.2f} s, ratio {g / d:.2f}x ({verdict} the 2 s target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

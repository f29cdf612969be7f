#!/usr/bin/env bash
# `make demo`: the five migration steps of the README on a fresh machine, with no AWS account.
#  1. audit the bundled trading service against the real PyPI (finds the x86-only Shioaji pin),
#     and the same checks as a CI gate: SARIF and markdown
#     (the build of step 1 and step 2, validate, need Docker and minutes of QEMU: one line says
#     how to run them)
#  then on a local moto server (examples/shift_demo.py):
#     savings: what the move saves, priced from the shipped table
#  3. the Graviton twin of the x86 capacity provider (graviton capacity plan, create)
#  4. the staged shift: a clean run with finalize, and one rolled back by an alarm, then resumed
#  5. the x86 capacity decommissioned: shift --finalize --scale-in-x86, capacity decommission --delete
# Every step's exit code (and the state it leaves) is checked: the demo exits 1 at the first
# step that does not do what it should.
set -uo pipefail
cd "$(dirname "$0")/.."
out=.demo
mkdir -p "$out"
bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi; }
fail() { echo "demo FAILED: $*" >&2; exit 1; }

bold "==> step 1: graviton audit examples/trading-service   (target from its Dockerfile: python:3.11-slim-bookworm)"
echo "\$ graviton audit examples/trading-service/requirements.txt --dockerfile examples/trading-service/Dockerfile"
graviton audit examples/trading-service/requirements.txt --dockerfile examples/trading-service/Dockerfile
code=$?
[ "$code" = 1 ] || fail "graviton audit exited $code, expected 1 (the blocked shioaji pin)"
echo "(exit 1, as expected: a blocked pin fails the audit; fix: shioaji>=1.2.6)"

bold "==> step 1: graviton gate: the same checks as one CI step (markdown for the PR, SARIF for code scanning)"
# --no-base-images: Docker Hub cannot be reached from these machines (no registry but PyPI,
# Debian and npm), so the base images' indexes are not read here; in CI they are.
gate=(graviton gate examples/trading-service --no-base-images --format markdown --write "sarif:$out/gate.sarif")
echo "\$ ${gate[*]}"
rm -f "$out/gate.sarif"
"${gate[@]}"
code=$?
[ "$code" = 1 ] || fail "graviton gate exited $code, expected 1 (the blocked shioaji pin)"
grep -q '"ruleId": "GRV001"' "$out/gate.sarif" 2>/dev/null \
  || fail "$out/gate.sarif has no GRV001 (blocked) result"
echo "(exit 1, as expected; SARIF with the blocked pin as GRV001 in $out/gate.sarif)"

bold "==> steps 1 and 2: graviton build and graviton validate need Docker"
echo "skipped here (Docker and minutes of arm64 builds under QEMU); to run them: make docker-env, then, once the audit passes, graviton build --push --validate -t localhost:5000/trading-service:1 examples/trading-service"

bold "==> steps 3, 4, 5 and savings on a local moto server"
python examples/shift_demo.py || fail "the AWS part (examples/shift_demo.py) did not go as expected"

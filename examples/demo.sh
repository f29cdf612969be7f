#!/usr/bin/env bash
# `make demo`: the whole migration story on a fresh machine, with no AWS account.
#  1. audit the bundled trading service against the real PyPI (finds the x86-only Shioaji pin)
#  2. the same checks as a CI gate: SARIF and markdown
#  3. what the move saves, priced from the shipped table, on a local moto cluster
#  4. the staged shift: a clean run, and one rolled back by an alarm
set -uo pipefail
cd "$(dirname "$0")/.."
out=.demo
mkdir -p "$out"
bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi; }

bold "==> 1. graviton audit examples/trading-service   (target from its Dockerfile: python:3.11-slim-bookworm)"
echo "\$ graviton audit examples/trading-service/requirements.txt --dockerfile examples/trading-service/Dockerfile"
graviton audit examples/trading-service/requirements.txt --dockerfile examples/trading-service/Dockerfile
code=$?
echo "exit code $code: $([ $code = 1 ] && echo 'a blocked pin fails the audit (fix: shioaji>=1.2.6)' || echo unexpected)"
[ "$code" = 1 ] || exit 1

if graviton gate --help >/dev/null 2>&1; then
  bold "==> 2. graviton gate: the same checks as one CI step (SARIF for code scanning, markdown for the PR)"
  # --no-base-images: Docker Hub cannot be reached from these machines (no registry but PyPI,
  # Debian and npm), so the base images' indexes are not read here; in CI they are.
  gate=(graviton gate examples/trading-service --no-base-images)
  echo "\$ ${gate[*]} --format sarif --output $out/gate.sarif"
  "${gate[@]}" --format sarif --output "$out/gate.sarif"
  echo "\$ ${gate[*]} --format markdown"
  "${gate[@]}" --format markdown | head -n 40
fi

bold "==> 3 + 4. savings and shift on a local moto server"
python examples/shift_demo.py

#!/usr/bin/env bash
# Install attartm from the sdist into a fresh venv, as pip does on a platform without a wheel
# (it compiles the Rust extension, so cargo must be on PATH), and check that the install works:
# `import attartm` comes from site-packages and `attartm demo` trains and prints topics.
#
#   bash tools/build_wheels.sh && bash tools/test_sdist.sh
#
# SDIST picks the sdist (default: dist/attartm-*.tar.gz); VENV the venv (default .sdist-test/,
# made anew). The build from the sdist takes a few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/installed.sh

SDIST="${SDIST:-$(ls dist/attartm-*.tar.gz 2>/dev/null | head -1)}"
[ -n "$SDIST" ] && [ -f "$SDIST" ] || { echo "no sdist in dist/: run tools/build_wheels.sh" >&2; exit 1; }
command -v cargo >/dev/null 2>&1 || { echo "building from the sdist needs cargo on PATH" >&2; exit 1; }

echo "== fresh venv ${VENV:-.sdist-test} with $SDIST"
fresh_venv "${VENV:-.sdist-test}"
# --no-binary: pip must build attartm from this sdist, never take a wheel from a cache.
python -m pip install --no-binary attartm "$SDIST"
check_installed

echo "== attartm demo (from an empty folder, so only the installed package can answer)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && attartm demo)
echo "sdist install works: $SDIST"

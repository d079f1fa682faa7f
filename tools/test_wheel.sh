#!/usr/bin/env bash
# Install the built x86_64 wheel into a fresh venv with no Rust on PATH and run the whole test
# suite against it (not against the repository's python/ folder).
#
#   bash tools/build_wheels.sh && bash tools/test_wheel.sh [pytest args...]
#
# WHEEL picks the wheel (default: dist/attartm-*manylinux*x86_64*.whl); VENV the venv
# (default .wheel-test/, made anew); ATTARTM_DATA the corpora (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/installed.sh

WHEEL="${WHEEL:-$(ls dist/attartm-*manylinux*x86_64*.whl 2>/dev/null | head -1)}"
[ -n "$WHEEL" ] && [ -f "$WHEEL" ] || { echo "no wheel in dist/: run tools/build_wheels.sh" >&2; exit 1; }

echo "== fresh venv ${VENV:-.wheel-test} with $WHEEL"
fresh_venv "${VENV:-.wheel-test}"
# No Rust on PATH: only the venv and the system's own folders (no ~/.cargo/bin), so nothing
# can be compiled from source along the way.
export PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin"
export PIP_ONLY_BINARY="attartm"
if command -v cargo >/dev/null 2>&1 || command -v rustc >/dev/null 2>&1; then
    echo "cargo or rustc is still on PATH ($PATH)" >&2
    exit 1
fi
python -m pip install "${WHEEL}[test,ray,research]"
check_installed
pytest_installed "$@"

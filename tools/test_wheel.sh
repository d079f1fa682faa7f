#!/usr/bin/env bash
# Install the built x86_64 wheel into a fresh venv with no Rust on PATH and run the whole test
# suite against it (not against the repository's python/ folder).
#
#   bash tools/build_wheels.sh && bash tools/test_wheel.sh [pytest args...]
#
# WHEEL picks the wheel (default: dist/attartm-*manylinux*x86_64*.whl); VENV the venv
# (default .wheel-test/, made anew); ATTARTM_DATA the corpora (default ../shared/data).
# pytest runs with --import-mode=importlib from the repository root, whose top level has no
# attartm package (the sources are in python/, which never goes on sys.path); the script
# checks that attartm and its _core extension come from the venv's site-packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.wheel-test}"
WHEEL="${WHEEL:-$(ls dist/attartm-*manylinux*x86_64*.whl 2>/dev/null | head -1)}"
[ -n "$WHEEL" ] && [ -f "$WHEEL" ] || { echo "no wheel in dist/: run tools/build_wheels.sh" >&2; exit 1; }
export ATTARTM_DATA="${ATTARTM_DATA:-$PWD/../shared/data}"

echo "== fresh venv $VENV with $WHEEL"
rm -rf "$VENV"
python3 -m venv "$VENV"
VENV="$(cd "$VENV" && pwd)"
# No Rust on PATH: only the venv and the system's own folders (no ~/.cargo/bin), so nothing
# can be compiled from source along the way.
export PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin"
export PIP_ONLY_BINARY="attartm"
if command -v cargo >/dev/null 2>&1 || command -v rustc >/dev/null 2>&1; then
    echo "cargo or rustc is still on PATH ($PATH)" >&2
    exit 1
fi
python -m pip install --quiet --upgrade pip
python -m pip install "${WHEEL}[test,ray,research]"

PYTHONSAFEPATH=1 python - "$VENV" <<'PY'
import sys, sysconfig
from pathlib import Path
import attartm, attartm._core
site = Path(sysconfig.get_paths()["platlib"]).resolve()
for mod in (attartm, attartm._core):
    where = Path(mod.__file__).resolve()
    assert where.is_relative_to(site), f"{mod.__name__} is imported from {where}, not from {site}"
    print(f"{mod.__name__}: {where}")
PY

echo "== pytest against the installed wheel (ATTARTM_DATA=$ATTARTM_DATA)"
set +e
python -m pytest -q --import-mode=importlib -p no:cacheprovider "$@"
status=$?
set -e
[ "$status" -ne 5 ] || { echo "pytest collected no tests" >&2; exit 1; }
exit "$status"

# Sourced, not run: the pieces that tools/test_wheel.sh, tools/test_sdist.sh and
# tools/test_min_versions.sh share, so that each tests attartm as pip installed it into a venv of
# its own rather than the sources in python/.
#
#   source tools/installed.sh    # from a script that has `set -euo pipefail` and is at the repo root

# fresh_venv DIR: a new venv at DIR with a current pip, first on PATH; VENV is its absolute path.
fresh_venv() {
    rm -rf "$1"
    python3 -m venv "$1"
    VENV="$(cd "$1" && pwd)"
    export PATH="$VENV/bin:$PATH"
    python -m pip install --quiet --upgrade pip
}

# check_installed: attartm and its _core extension must come from the venv's site-packages.
# PYTHONSAFEPATH keeps the current folder off sys.path, as it is for an installed user.
check_installed() {
    PYTHONSAFEPATH=1 python - <<'PY'
import sys, sysconfig
from pathlib import Path
import attartm, attartm._core
site = Path(sysconfig.get_paths()["platlib"]).resolve()
for mod in (attartm, attartm._core):
    where = Path(mod.__file__).resolve()
    assert where.is_relative_to(site), f"{mod.__name__} is imported from {where}, not from {site}"
    print(f"{mod.__name__}: {where}")
PY
}

# pytest_installed [pytest args...]: the whole suite against the installed package. importlib
# mode from the repository root, whose top level has no attartm package (the sources are in
# python/, which never goes on sys.path). pytest's exit 5 (no tests collected) is a failure.
pytest_installed() {
    export ATTARTM_DATA="${ATTARTM_DATA:-$PWD/../shared/data}"
    echo "== pytest against the installed attartm (ATTARTM_DATA=$ATTARTM_DATA)"
    local status=0
    python -m pytest -q --import-mode=importlib -p no:cacheprovider "$@" || status=$?
    if [ "$status" -eq 5 ]; then
        echo "pytest collected no tests" >&2
        return 1
    fi
    return "$status"
}

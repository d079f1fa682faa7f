#!/usr/bin/env bash
# Install the lowest versions that pyproject.toml allows for attartm's dependencies and the
# extras' packages into a fresh venv, attartm itself from a wheel, and run the whole test suite
# against that install: the floors in pyproject.toml are only promises until this passes.
#
#   bash tools/test_min_versions.sh [pytest args...]
#   WHEEL=dist/attartm-...whl bash tools/test_min_versions.sh     # reuse a built wheel
#
# Without WHEEL, the wheel is built here with pip from the repository (after .ci/run's own
# `pip install .` cargo has compiled it already, so this is mostly packaging). The direct
# requirements (dependencies and the extras in EXTRAS, default "test ray research sklearn")
# are resolved by uv with --resolution lowest-direct: each at its floor, what they pull in at the
# newest versions that fit. Binary wheels only, so no old package is compiled from source; a
# floor with no wheel for this Python would then be skipped silently by the resolver, so the
# script checks that every direct requirement got exactly its floor and fails otherwise.
# The venv uses this machine's python3 (tested here: 3.11, not the lowest Python allowed). VENV
# is the venv (default .min-versions/, made anew), ATTARTM_DATA the corpora (default
# ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/installed.sh

EXTRAS="${EXTRAS:-test ray research sklearn}"
built="$(mktemp -d)"
trap 'rm -rf "$built"' EXIT
if [ -z "${WHEEL:-}" ]; then
    echo "== wheel from the repository (pip wheel --no-deps .)"
    python3 -m pip wheel --quiet --no-deps --wheel-dir "$built" .
    WHEEL="$(ls "$built"/attartm-*.whl)"
fi
[ -f "$WHEEL" ] || { echo "no wheel at $WHEEL" >&2; exit 1; }

echo "== fresh venv ${VENV:-.min-versions} with uv"
fresh_venv "${VENV:-.min-versions}"
python -m pip install --quiet uv "tomli; python_version < '3.11'"

python - "$EXTRAS" >"$VENV/requirements.txt" <<'PY'
import sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
for requirement in project["dependencies"] + [r for e in sys.argv[1].split() for r in extras[e]]:
    print(requirement)
PY
echo "== the direct requirements at their floors:"
cat "$VENV/requirements.txt"
uv pip install --python "$VENV/bin/python" --resolution lowest-direct --only-binary :all: \
    -r "$VENV/requirements.txt"
uv pip install --python "$VENV/bin/python" --no-deps "$WHEEL"
uv pip check --python "$VENV/bin/python"

echo "== installed versions against the floors"
python - "$VENV/requirements.txt" <<'PY'
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
from packaging.version import Version
failed = False
for line in open(sys.argv[1]):
    requirement = Requirement(line.strip())
    if requirement.marker is not None and not requirement.marker.evaluate():
        continue
    floors = [s.version for s in requirement.specifier if s.operator == ">="]
    installed = version(requirement.name)
    # Versions, not strings: a floor of 1.24 is met exactly by 1.24.0.
    at_floor = all(Version(installed) == Version(f) for f in floors)
    print(f"{requirement.name:14} floor {','.join(floors) or '-':10} installed {installed}")
    failed |= not at_floor
if failed:
    sys.exit("some requirement is not at its floor (no wheel of the floor for this Python?)")
PY
check_installed
pytest_installed "$@"

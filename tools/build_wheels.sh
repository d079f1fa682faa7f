#!/usr/bin/env bash
# Build the release wheels and the sdist into dist/.
#
#   bash tools/build_wheels.sh            # x86_64 and aarch64 manylinux2014 wheels and the sdist
#   TARGETS="x86_64-unknown-linux-gnu" bash tools/build_wheels.sh
#
# Wheels are manylinux2014 (glibc 2.17), linked with zig's cc so they do not depend on this
# machine's newer glibc, built with `--profile wheel` (Cargo.toml: fat LTO, one codegen unit,
# stripped). No target-cpu flag: the AVX2 kernels are chosen at run time, so one wheel runs on
# every x86_64 processor. Each wheel is checked with `auditwheel show` (its platform tag must be
# manylinux_2_17 and it must link nothing outside that policy).
#
# Needs Rust (cargo) and CPython >= 3.10; maturin, ziglang and auditwheel are installed into a
# tools venv (TOOLS_VENV, default .wheel-tools/), a missing target's std by rustup. The aarch64
# wheel compiles the portable kernels (the AVX2 ones are x86_64 only). The script exits non-zero
# when a requested target is skipped or a wheel fails the audit.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS="${TARGETS:-x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu}"
TOOLS_VENV="${TOOLS_VENV:-.wheel-tools}"
OUT=dist

if [ ! -x "$TOOLS_VENV/bin/maturin" ] || [ ! -x "$TOOLS_VENV/bin/auditwheel" ] \
    || ! "$TOOLS_VENV/bin/python" -c "import ziglang" 2>/dev/null; then
    echo "== tools venv $TOOLS_VENV: maturin, ziglang, auditwheel"
    python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/python" -m pip install --quiet --upgrade pip
    "$TOOLS_VENV/bin/python" -m pip install --quiet "maturin>=1.7,<2" ziglang auditwheel
fi
TOOLS_VENV="$(cd "$TOOLS_VENV" && pwd)"
export PATH="$TOOLS_VENV/bin:$PATH"

mkdir -p "$OUT"
# A cross target needs its Rust std; rustup can fetch it. Without rustup (a distribution's Rust),
# only the targets whose std is already there can be built, and the others are named as skipped.
installed_targets() { rustup target list --installed 2>/dev/null || rustc -vV | sed -n 's/^host: //p'; }
built=()
skipped=()
for target in $TARGETS; do
    if ! grep -qx "$target" <<<"$(installed_targets)"; then
        if command -v rustup >/dev/null 2>&1; then
            echo "== rustup target add $target"
            rustup target add "$target" || echo "rustup could not install the $target std" >&2
        fi
    fi
    if ! grep -qx "$target" <<<"$(installed_targets)"; then
        echo "== SKIP $target: its Rust std is not installed and rustup could not add it" >&2
        skipped+=("$target")
        continue
    fi
    echo "== wheel for $target (manylinux2014, --profile wheel, zig)"
    maturin build --locked --profile wheel --zig --compatibility manylinux2014 \
        --target "$target" --out "$OUT"
    built+=("$target")
done

echo "== sdist"
maturin sdist --out "$OUT"

echo "== auditwheel show"
status=0
for wheel in "$OUT"/attartm-*.whl; do
    [ -e "$wheel" ] || continue
    report="$(auditwheel show "$wheel")"
    echo "$report"
    # auditwheel says 'is consistent with the following platform tag: "manylinux_2_17_x86_64"',
    # wrapped over lines: read it as one line.
    if ! tr '\n' ' ' <<<"$report" | grep -q 'following platform tag: *"manylinux_2_17_'; then
        echo "FAIL $wheel: not consistent with manylinux_2_17" >&2
        status=1
    fi
done

echo "== dist/"
ls -l "$OUT"
echo "built: ${built[*]:-none}; skipped (target not installed): ${skipped[*]:-none}"
[ "${#skipped[@]}" -eq 0 ] || status=1
exit "$status"

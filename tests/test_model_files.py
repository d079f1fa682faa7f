"""Crafted model files (issue 13, item 2): every one raises ValueError naming the member
and the problem, quickly and without allocating what the file merely claims.

The files are written here; a subprocess loads them one by one and reports, for each,
the exception, its message and the time taken, and at the end its peak resident memory,
which must stay under 500 MB (a zip bomb or a lying header that were believed would
allocate gigabytes).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import zipfile
from typing import Any

import numpy as np
import pytest

import attartm
from attartm import ARTM, AttentiveARTM, Corpus, ThetalessARTM, _model_file, persistence

from .conftest import synthetic_texts

PEAK_MB = 500


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.from_texts(synthetic_texts(12, length=16), stopwords=False)


@pytest.fixture(scope="module")
def members(corpus) -> dict[str, bytes]:
    """The members of a real saved model file."""
    data = persistence.dumps(ARTM(3, seed=0).fit(corpus, epochs=2))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def build(members: dict[str, bytes], *, deflate: tuple[str, ...] = ("model.json",)) -> bytes:
    """A zip of ``members`` in the given order, deflating the named ones."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            z.writestr(name, data, compress_type=method)
    return buf.getvalue()


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_raw(header: str, data: bytes, version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy file with a header of our choosing (padded as numpy pads it)."""
    text = header.encode("latin1")
    width = 2 if version == (1, 0) else 4
    pad = -(10 + width - 2 + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    length = struct.pack("<H" if width == 2 else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + data


def patch(data: bytes, member: str, **fields: int) -> bytes:
    """Overwrites fields (flags, method, crc, csize, usize) of ``member``'s local and
    central headers: what a file that lies about its members looks like."""
    local = {"flags": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"),
             "csize": (18, "<I"), "usize": (22, "<I")}  # fmt: skip
    central = {"flags": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"),
               "csize": (20, "<I"), "usize": (24, "<I")}  # fmt: skip
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        offset = z.getinfo(member).header_offset
    for field, value in fields.items():
        at, fmt = local[field]
        struct.pack_into(fmt, out, offset + at, value)
    start = 0
    while (start := out.find(b"PK\x01\x02", start)) >= 0:
        n = struct.unpack_from("<H", out, start + 28)[0]
        if out[start + 46 : start + 46 + n] == member.encode():
            for field, value in fields.items():
                at, fmt = central[field]
                struct.pack_into(fmt, out, start + at, value)
        start += 4
    return bytes(out)


def bomb(members: dict[str, bytes], member: str, fill: bytes, mib: int, head: bytes = b"") -> bytes:
    """``members`` with ``member`` replaced by ``head`` then ``mib`` MiB of ``fill``,
    deflated (a zip bomb: about a thousandth of that in the file)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            if name != member:
                z.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            f.write(head)
            chunk = fill * (1 << 20)
            for _ in range(mib):
                f.write(chunk)
    return buf.getvalue()


def crafted(members: dict[str, bytes]) -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, a regex the error message must match)."""
    header = json.loads(members["model.json"])
    phi = np.load(io.BytesIO(members["phi.npy"]))
    n_wt = np.load(io.BytesIO(members["n_wt.npy"]))
    w, t = phi.shape
    good = build(members)
    params = header["params"]
    plain = {k: v for k, v in params.items() if k != "doc_passes"}

    def without(name: str) -> bytes:
        return build({k: v for k, v in members.items() if k != name})

    def with_header(message: str, **changes: Any) -> tuple[bytes, str]:
        h = {**header, **changes}
        h = {k: v for k, v in h.items() if v is not ...}
        return build({**members, "model.json": json.dumps(h).encode()}), message

    def with_params(message: str, cls: str = "ARTM", **changes: Any) -> tuple[bytes, str]:
        base = (
            params if cls == "ARTM" else {**plain, "passes": 1} if cls == "AttentiveARTM" else plain
        )
        return with_header(message, **{"class": cls, "params": {**base, **changes}})

    def json_text(text: bytes, message: str) -> tuple[bytes, str]:
        return build({**members, "model.json": text}), message

    def with_arrays(message: str, **arrays: bytes) -> tuple[bytes, str]:
        return build({**members, **{f"{k}.npy": v for k, v in arrays.items()}}), message

    def phi_with(change: Any) -> bytes:
        return npy(np.asarray(change(phi.copy()), dtype=np.float32))

    def header_of(shape: Any, descr: str = "'<f4'") -> str:
        return f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}"

    # fmt: off
    return {
        # --- the zip itself
        "empty": (b"", r"corrupt or truncated"),
        "random-bytes": (np.random.default_rng(0).bytes(4000), r"corrupt or truncated"),
        "a-json-file": (members["model.json"], r"corrupt or truncated"),
        "a-npy-file": (members["phi.npy"], r"corrupt or truncated"),
        **{f"truncated-{p}": (good[: len(good) * p // 1000], r"truncated") for p in (100, 500, 900, 999)},
        "missing-model.json": (without("model.json"), r"model.json: is missing"),
        "missing-phi": (without("phi.npy"), r"phi.npy: is missing"),
        "missing-n_wt": (without("n_wt.npy"), r"n_wt.npy: is missing"),
        "extra-member": (build({**members, "evil.py": b"print(1)"}), r"evil.py: is not a member"),
        "duplicate-member": (duplicate(members), r"model.json: occurs 2 times"),
        "encrypted-flag": (patch(good, "phi.npy", flags=1), r"phi.npy: is encrypted"),
        "method-bzip2": (patch(good, "model.json", method=12), r"model.json: uses zip compression method 12"),
        "method-lzma": (patch(good, "phi.npy", method=14), r"phi.npy: uses zip compression method 14"),
        "method-99": (patch(good, "n_wt.npy", method=99), r"n_wt.npy: uses zip compression method 99"),
        "stored-size-lie": (patch(good, "phi.npy", usize=2**31), r"phi.npy: is stored, but declares"),
        "stored-past-end": (patch(good, "n_wt.npy", csize=10**9, usize=10**9), r"n_wt.npy: declares .* past the end"),
        "deflate-ratio-lie": (patch(good, "model.json", usize=2**31), r"model.json: declares .* more than deflate can produce"),
        "json-size-understated": (patch(good, "model.json", usize=100), r"model.json: is (corrupt or truncated|not UTF-8 JSON)"),
        "json-crc": (patch(good, "model.json", crc=0), r"model.json: is corrupt or truncated .*CRC"),
        "phi-crc": (patch(good, "phi.npy", crc=0), r"phi.npy: is corrupt or truncated .*CRC"),
        "zip-bomb-json": (bomb(members, "model.json", b" ", 256), r"model.json: declares \d+ bytes, more than the header"),
        "zip-bomb-json-under-cap": (bomb(members, "model.json", b" ", 3), r"model.json: is not UTF-8 JSON"),
        "zip-bomb-phi": (bomb(members, "phi.npy", b"\0", 256), r"phi.npy: is not a .npy array"),
        "zip-bomb-phi-with-header": (bomb(members, "phi.npy", b"\0", 256, npy_raw(header_of((1 << 16, 1 << 10)), b"")),
                                     r"n_wt.npy: has shape \(\d+, 3\), but phi.npy has shape \(65536, 1024\)"),
        # --- the .npy headers
        "npy-bad-magic": with_arrays(r"phi.npy: is not a .npy array", phi=b"\x93NUMPZ" + members["phi.npy"][6:]),
        "npy-version-3": with_arrays(r"phi.npy: has .npy format version 3.0", phi=b"\x93NUMPY\x03\x00" + members["phi.npy"][8:]),
        "npy-version-9": with_arrays(r"n_wt.npy: has .npy format version 9.9", n_wt=b"\x93NUMPY\x09\x09" + members["n_wt.npy"][8:]),
        "npy-huge-header": with_arrays(r"phi.npy: declares a 4000000000-byte .npy header", phi=b"\x93NUMPY\x02\x00" + struct.pack("<I", 4_000_000_000) + b"{}"),
        "npy-header-not-dict": with_arrays(r"phi.npy: has an unreadable .npy header", phi=npy_raw("[1, 2, 3]", phi.tobytes())),
        "npy-header-garbage": with_arrays(r"phi.npy: has an unreadable .npy header", phi=npy_raw("{'descr': '<f4', 'shape': (", phi.tobytes())),
        "npy-header-code": with_arrays(r"phi.npy: has an unreadable .npy header", phi=npy_raw("__import__('os').system('echo pwned')", phi.tobytes())),
        "npy-truncated-header": with_arrays(r"phi.npy: ends inside its .npy header", phi=members["phi.npy"][:40]),
        "npy-object-dtype": with_arrays(r"phi.npy: (holds object|has an unreadable)", phi=pickled()),
        "phi-float64": with_arrays(r"phi.npy: holds float64, not float32", phi=npy(phi.astype(np.float64))),
        "n_wt-float32": with_arrays(r"n_wt.npy: holds float32, not float64", n_wt=npy(n_wt.astype(np.float32))),
        "phi-int32": with_arrays(r"phi.npy: holds int32, not float32", phi=npy(phi.view(np.int32))),
        "phi-complex": with_arrays(r"phi.npy: holds complex64, not float32", phi=npy(phi.astype(np.complex64))),
        "phi-structured": with_arrays(r"phi.npy: holds .*, not float32", phi=npy(np.zeros((w, t), dtype=[("a", "<f4")]))),
        "phi-subarray": with_arrays(r"phi.npy: (holds|has)", phi=npy_raw(header_of((w, t), "('<f4', (2,))"), b"\0" * (w * t * 8))),
        "phi-fortran": with_arrays(r"phi.npy: is in Fortran order", phi=npy(np.asfortranarray(phi))),
        "phi-1d": with_arrays(r"phi.npy: has shape \(\d+,\), not \(words, topics\)", phi=npy(phi.ravel())),
        "phi-3d": with_arrays(r"phi.npy: has shape \(\d+, 3, 1\), not", phi=npy(phi[:, :, None])),
        "phi-negative-shape": with_arrays(r"phi.npy: has shape \(-1, 3\)", phi=npy_raw(header_of((-1, 3)), b"")),
        "phi-huge-shape": with_arrays(r"phi.npy: declares a 1099511627776×1099511627776 float32 array",
                                      phi=npy_raw(header_of((2**40, 2**40)), phi.tobytes())),
        "phi-short-data": with_arrays(r"phi.npy: declares a .* but holds", phi=members["phi.npy"][:-4]),
        "phi-trailing-data": with_arrays(r"phi.npy: declares a .* but holds", phi=members["phi.npy"] + b"\0" * 4),
        "phi-version-2-short": with_arrays(r"phi.npy: declares a", phi=npy_raw(header_of((w, t)), phi.tobytes()[:-8], (2, 0))),
        "arrays-swapped": with_arrays(r"phi.npy: holds float64, not float32", phi=members["n_wt.npy"], n_wt=members["phi.npy"]),
        "n_wt-other-shape": with_arrays(r"n_wt.npy: has shape \(\d+, 2\), but phi.npy has shape", n_wt=npy(n_wt[:, :2].copy())),
        "more-rows-than-words": with_arrays(r"phi.npy: has shape \(\d+, 3\), but the header declares \d+ words",
                                            phi=npy(np.vstack([phi, phi[:1]])), n_wt=npy(np.vstack([n_wt, n_wt[:1]]))),
        "more-topics": with_arrays(r"phi.npy: has shape \(\d+, 4\), but the header declares \d+ words × 3 topics",
                                   phi=npy(np.hstack([phi, phi[:, :1]])), n_wt=npy(np.hstack([n_wt, n_wt[:, :1]]))),
        "n_topics-huge": with_params(r"phi.npy: has shape \(\d+, 3\), but the header declares \d+ words × 1000000 topics", n_topics=10**6),
        # --- array values
        "phi-nan": with_arrays(r"phi.npy: holds NaN, infinite or negative values", phi=phi_with(lambda p: poke(p, np.nan))),
        "phi-inf": with_arrays(r"phi.npy: holds NaN, infinite or negative values", phi=phi_with(lambda p: poke(p, np.inf))),
        "phi-negative": with_arrays(r"phi.npy: holds NaN, infinite or negative values", phi=phi_with(lambda p: poke(p, -0.25))),
        "phi-columns-not-1": with_arrays(r"phi.npy: column 0 sums to 2, not 1", phi=phi_with(lambda p: p * 2)),
        "phi-one-column-off": with_arrays(r"phi.npy: column 2 sums to 0.5, not 1 \(1 of 3", phi=phi_with(lambda p: p * [1, 1, 0.5])),
        "phi-zero": with_arrays(r"phi.npy: column 0 sums to 0, not 1", phi=phi_with(lambda p: p * 0)),
        "n_wt-nan": with_arrays(r"n_wt.npy: holds NaN", n_wt=npy(poke(n_wt.copy(), np.nan))),
        "n_wt-inf": with_arrays(r"n_wt.npy: holds NaN, infinite", n_wt=npy(poke(n_wt.copy(), -np.inf))),
        "n_wt-negative": with_arrays(r"n_wt.npy: holds NaN, infinite or negative values", n_wt=npy(n_wt - n_wt.max() - 1)),
        "big-endian-nan": with_arrays(r"phi.npy: holds NaN", phi=npy(poke(phi.astype(">f4"), np.nan))),
        # --- model.json
        "json-garbage": json_text(b"{not json", r"model.json: is not UTF-8 JSON \(JSONDecodeError"),
        "json-latin1": json_text(members["model.json"].replace(b'"ARTM"', '"ARTMé"'.encode("latin1")), r"model.json: is not UTF-8 JSON \(UnicodeDecodeError"),
        "json-array": json_text(b"[1, 2, 3]", r"model.json: holds a JSON list, not an object"),
        "json-string": json_text(b'"attartm-model"', r"model.json: holds a JSON str"),
        "json-null": json_text(b"null", r"model.json: holds a JSON NoneType"),
        "json-deep": json_text(b"[" * 100_000 + b"]" * 100_000, r"model.json: is not UTF-8 JSON \(RecursionError"),
        "json-huge-int": json_text(b'{"format": "attartm-model", "format_version": ' + b"9" * 5000 + b"}", r"model.json: is not UTF-8 JSON \(ValueError: Exceeds the limit"),
        "format-missing": with_header(r"is not an attartm model file: model.json: format is None", format=...),
        "format-other": with_header(r"is not an attartm model file: model.json: format is 'npz'", format="npz"),
        "version-missing": with_header(r"model.json: format_version must be a positive integer, not None", format_version=...),
        "version-string": with_header(r"format_version must be a positive integer, not '1'", format_version="1"),
        "version-bool": with_header(r"format_version must be a positive integer, not True", format_version=True),
        "version-float": with_header(r"format_version must be a positive integer, not 1.0", format_version=1.0),
        "version-zero": with_header(r"format_version must be a positive integer, not 0", format_version=0),
        "version-newer": with_header(r"has model format version 2, newer than this attartm reads \(1\)", format_version=2),
        "class-unknown": with_header(r"model.json: holds an unknown model class 'LDA' \(known: ARTM, ", **{"class": "LDA"}),
        "class-missing": with_header(r"unknown model class None", **{"class": ...}),
        "class-list": with_header(r"unknown model class \['ARTM'\]", **{"class": ["ARTM"]}),
        "class-dunder": with_header(r"unknown model class '__class__'", **{"class": "__class__"}),
        "params-missing": with_header(r"model.json: params must be a JSON object", params=...),
        "params-list": with_header(r"model.json: params must be a JSON object", params=[3]),
        "params-null": with_header(r"model.json: params must be a JSON object", params=None),
        "params-unknown-key": with_params(r"model.json: params: .*unexpected keyword argument 'evil'", evil=1),
        "params-regularizers-key": with_params(r"model.json: params: .*multiple values for keyword argument 'regularizers'", regularizers=[]),
        "n_topics-string": with_params(r"model.json: params: n_topics must be an integer, not str", n_topics="3"),
        "n_topics-float": with_params(r"model.json: params: n_topics must be an integer, not float", n_topics=3.0),
        "n_topics-bool": with_params(r"model.json: params: n_topics must be an integer, not bool", n_topics=True),
        "n_topics-zero": with_params(r"model.json: params: n_topics must be at least 1", n_topics=0),
        "n_topics-missing": with_header(r"model.json: params: .*missing 1 required positional argument: 'n_topics'",
                                        params={k: v for k, v in params.items() if k != "n_topics"}),
        "doc_passes-negative": with_params(r"model.json: params: doc_passes must be at least 1", doc_passes=-1),
        "seed-huge-negative": with_params(r"model.json: params: seed must be at least 0", seed=-(10**30)),
        "epochs-null": with_params(r"model.json: params: epochs must be an integer, not NoneType", epochs=None),
        "attentive-beta-nan": with_params(r"model.json: params: beta must be finite", "AttentiveARTM", beta=float("nan")),
        "attentive-window-zero": with_params(r"model.json: params: window must be at least 1 token", "AttentiveARTM", window=0),
        "attentive-boundary-unknown": with_params(r"model.json: params: unknown boundary level 'chapter'", "AttentiveARTM", boundaries={"chapter": 1}),
        "attentive-boundaries-list": with_params(r"model.json: params: ", "AttentiveARTM", boundaries=[1, 2]),
        "attentive-filter": with_params(r"model.json: params: filter must be", "AttentiveARTM", filter="softmax"),
        "attentive-token-weight-length": with_params(r"model.json: params: token_weight must have shape \(\d+,\)", "AttentiveARTM", token_weight=[0.5]),
        "attentive-token-weight-range": with_params(r"model.json: params: token_weight values must lie in \[0, 1\]", "AttentiveARTM", token_weight=[7.0] * w),
        "attentive-token-weight-strings": with_params(r"model.json: params: ", "AttentiveARTM", token_weight={"goal": "heavy"}),
        "thetaless-variant": with_params(r"model.json: params: variant must be one of", "ThetalessARTM", variant="exact"),
        "regularizers-dict": with_header(r"model.json: regularizers must be a JSON array", regularizers={"type": "SmoothSparsePhi"}),
        "regularizer-not-object": with_header(r"model.json: regularizers\[0\] must be a JSON object", regularizers=[5]),
        "regularizer-unknown": with_header(r"model.json: regularizers\[0\]: unknown regularizer in model file: 'Dropout'", regularizers=[{"type": "Dropout", "tau": 1}]),
        "regularizer-no-type": with_header(r"model.json: regularizers\[0\]: unknown regularizer", regularizers=[{"tau": 1}]),
        "regularizer-tau-string": with_header(r"model.json: regularizers\[0\]: SmoothSparsePhi.tau must be a number", regularizers=[{"type": "SmoothSparsePhi", "tau": "big"}]),
        "regularizer-extra-key": with_header(r"model.json: regularizers\[0\]: .*unexpected keyword argument 'evil'", regularizers=[{"type": "SmoothSparsePhi", "tau": 1, "evil": 2}]),
        "regularizer-topic-range": with_header(r"model.json: regularizers\[0\]: SmoothSparsePhi: topics must be indices in \[0, 3\)", regularizers=[{"type": "SmoothSparsePhi", "tau": 1, "topics": [7]}]),
        "regularizer-weights-length": with_header(r"model.json: regularizers\[0\]: SmoothSparsePhi.weights has 2 values", regularizers=[{"type": "SmoothSparsePhi", "tau": 1, "weights": [1, 2]}]),
        "theta-regularizer-on-thetaless": with_header(r"model.json: params: ThetalessARTM has no Θ", **{"class": "ThetalessARTM", "params": plain}, regularizers=[{"type": "SmoothSparseTheta", "tau": 1}]),
        "vocabulary-dict": with_header(r"model.json: vocabulary must be a JSON array", vocabulary={"a": 1}),
        "vocabulary-empty": with_header(r"model.json: vocabulary is empty", vocabulary=[]),
        "vocabulary-numbers": with_header(r"model.json: vocabulary: vocabulary words must be str; word 0 is int", vocabulary=list(range(w))),
        "vocabulary-duplicates": with_header(r"model.json: vocabulary: vocabulary words must be unique", vocabulary=["same"] * w),
        "vocabulary-short": with_header(r"phi.npy: has shape \(\d+, 3\), but the header declares \d+ words", vocabulary=header["vocabulary"][:-1]),
    }
    # fmt: on


def duplicate(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            z.writestr("model.json", members["model.json"])
    return buf.getvalue()


def pickled() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([{"pickled": True}], dtype=object), allow_pickle=True)
    return buf.getvalue()


def poke(a: np.ndarray, value: float) -> np.ndarray:
    a[len(a) // 2, 1] = value
    return a


LOADER = r"""
import json, resource, sys, time
from pathlib import Path
import attartm

def peak_kb():
    # VmHWM belongs to this address space; ru_maxrss would also count the parent's peak,
    # which a process keeps across fork and exec (pytest's, after the other tests).
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

folder = Path(sys.argv[1])
attartm.load(folder / "valid.attartm")  # imports and first allocations before measuring
before = peak_kb()
out = {}
for path in sorted(folder.glob("*.bad")):
    start = time.perf_counter()
    try:
        attartm.load(path)
        outcome = ["loaded", ""]
    except BaseException as e:  # noqa: BLE001 - anything but ValueError is a failure
        outcome = [type(e).__name__, str(e)]
    out[path.stem] = outcome + [time.perf_counter() - start]
after = peak_kb()
print(json.dumps({"results": out, "rss_before_mb": before / 1024, "rss_peak_mb": after / 1024}))
"""


def test_crafted_model_files_raise_value_error_naming_the_problem(members, tmp_path):
    cases = crafted(members)
    assert len(cases) >= 50
    for name, (data, _) in cases.items():
        (tmp_path / f"{name}.bad").write_bytes(data)
    (tmp_path / "valid.attartm").write_bytes(build(members))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOADER), str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    results = report["results"]
    assert set(results) == set(cases)
    wrong = {}
    for name, (kind, message, _) in results.items():
        pattern = cases[name][1]
        if kind != "ValueError" or not __import__("re").search(pattern, message):
            wrong[name] = (kind, message[:300], pattern)
    assert wrong == {}
    # Each message names the file, then the member and the problem.
    for name, (_, message, _) in results.items():
        assert f"{name}.bad" in message, message
    slowest = max(results.items(), key=lambda item: item[1][2])
    print(f"\n{len(results)} crafted files; slowest {slowest[0]}: {slowest[1][2]:.3f} s; "
          f"peak RSS {report['rss_peak_mb']:.0f} MB (after imports {report['rss_before_mb']:.0f} MB)")  # fmt: skip
    assert report["rss_peak_mb"] < PEAK_MB


# --- valid variants still load ------------------------------------------------------


def test_reordered_and_deflated_members_load(members, tmp_path):
    expected = persistence.loads(build(members))
    for order in (["phi.npy", "n_wt.npy", "model.json"], ["n_wt.npy", "model.json", "phi.npy"]):
        for deflate in (("model.json",), tuple(members), ()):
            data = build({k: members[k] for k in order}, deflate=deflate)
            model = persistence.loads(data)
            np.testing.assert_array_equal(model.phi, expected.phi)
            np.testing.assert_array_equal(model.n_wt, expected.n_wt)


def test_big_endian_arrays_load(members):
    phi = np.load(io.BytesIO(members["phi.npy"]))
    n_wt = np.load(io.BytesIO(members["n_wt.npy"]))
    data = build(
        {**members, "phi.npy": npy(phi.astype(">f4")), "n_wt.npy": npy(n_wt.astype(">f8"))}
    )
    model = persistence.loads(data)
    assert model.phi.dtype == np.float32 and model.phi.dtype.isnative
    np.testing.assert_array_equal(model.phi, phi)
    np.testing.assert_array_equal(model.n_wt, n_wt)


@pytest.mark.parametrize("threads", [None, 1, 64, 10**6])
def test_threads_saved_by_earlier_versions_are_ignored(members, threads):
    # A thread count describes the machine a model was trained on; earlier versions saved
    # it, and a loaded model never takes it (each distinct value would start a pool).
    header = json.loads(members["model.json"])
    header["params"]["threads"] = threads
    model = persistence.loads(build({**members, "model.json": json.dumps(header).encode()}))
    assert model.threads is None


def test_every_model_class_round_trips_without_machine_settings(corpus):
    for model in (ARTM(2, threads=1), AttentiveARTM(2, threads=3), ThetalessARTM(2, threads=2)):
        loaded = persistence.loads(persistence.dumps(model.fit(corpus, epochs=1)))
        assert loaded.threads is None
        assert {**loaded._validated(), "threads": model.threads} == model._validated()


def test_a_model_the_loader_would_refuse_is_not_saved(corpus, tmp_path):
    model = ARTM(2).fit(corpus, epochs=1)
    model._n_wt[0, 0] = -1.0
    with pytest.raises(
        ValueError, match=r"cannot save this model: n_wt holds NaN, infinite or negative"
    ):
        model.save(tmp_path / "m.attartm")
    assert list(tmp_path.iterdir()) == []


def test_loads_needs_bytes():
    with pytest.raises(TypeError, match=r"loads needs the bytes of a model file, not str"):
        attartm.persistence.loads("model.attartm")


def test_a_model_bigger_than_memory_is_refused_before_reading(members, monkeypatch):
    monkeypatch.setattr(_model_file, "_memory_limit", lambda: 1000)
    with pytest.raises(
        ValueError,
        match=r"zip directory: its members declare \d+ bytes, more than this machine's memory \(1000 bytes\)",
    ):
        persistence.loads(build(members))


def test_load_reads_the_header_only_after_the_array_headers(members, monkeypatch):
    # model.json may take HEADER_BYTES plus HEADER_BYTES_PER_WORD per row and column of Φ.
    monkeypatch.setattr(_model_file, "HEADER_BYTES", 0)
    monkeypatch.setattr(_model_file, "HEADER_BYTES_PER_WORD", 1)
    with pytest.raises(
        ValueError,
        match=r"model.json: declares \d+ bytes, more than the header of a \d+-word, 3-topic model",
    ):
        persistence.loads(build(members))

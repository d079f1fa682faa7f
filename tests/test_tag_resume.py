"""`attartm tag` into parts: a killed job leaves only whole parts and resumes to the same
output as an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import polars as pl
import pytest

import attartm
from attartm.cli import main

from .conftest import synthetic_texts

KILLER = textwrap.dedent(
    """
    import os, signal, sys, tempfile
    import attartm.cli as cli

    real = cli.atomic_write
    parts = 0

    def dies_while_writing_the_third_part(path, write):
        global parts
        if os.path.basename(str(path)).startswith("part-"):
            parts += 1
            if parts == 3:
                # Half a part in its temporary file, then SIGKILL before the rename.
                fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(str(path))}.",
                                           suffix=".tmp", dir=os.path.dirname(str(path)))
                os.write(fd, b"PAR1 half a file")
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        return real(path, write)

    cli.atomic_write = dies_while_writing_the_third_part
    sys.exit(cli.main(sys.argv[1:]))
    """
)


@pytest.fixture()
def job(tmp_path):
    frame = pl.DataFrame({"doc": [f"d{i}" for i in range(70)], "text": synthetic_texts(70)})
    frame.head(40).write_parquet(tmp_path / "in-0.parquet")
    frame.tail(30).write_parquet(tmp_path / "in-1.parquet")
    corpus = attartm.Corpus.from_polars(frame, text="text", id="doc")
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(corpus, epochs=5)
    model.save(tmp_path / "model.attartm")
    args = [str(tmp_path / "model.attartm"), str(tmp_path / "in-*.parquet"), "--id", "doc",
            "--batch-size", "12", "--tokens", "--top", "2"]  # fmt: skip
    return tmp_path, args


def read_parts(folder):
    return {p.name: pl.read_parquet(p) for p in sorted(folder.glob("part-*.parquet"))}


def test_killed_tagging_job_resumes_to_the_same_output(job):
    tmp_path, args = job
    assert main(["tag", *args, "-o", str(tmp_path / "whole")]) == 0
    whole = read_parts(tmp_path / "whole")
    assert len(whole) == 6  # 70 documents in batches of 12

    killed = subprocess.run(
        [sys.executable, "-c", KILLER, "tag", *args, "-o", str(tmp_path / "resumed")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    folder = tmp_path / "resumed"
    assert sorted(p.name for p in folder.glob("part-*.parquet")) == [
        "part-00000.parquet", "part-00001.parquet",
    ]  # fmt: skip
    assert list(folder.glob(".part-*.tmp")), "the half-written part stays as a temporary file"

    assert main(["tag", *args, "-o", str(folder)]) == 0
    resumed = read_parts(folder)
    assert resumed.keys() == whole.keys()
    for name, frame in whole.items():
        assert resumed[name].equals(frame), name
    assert not list(folder.glob(".part-*.tmp"))
    tokens = pl.concat(list(resumed.values()))
    assert tokens.columns == ["id", "position", "token", "topics", "probs"]


def test_a_different_job_in_the_same_folder_is_refused(job):
    tmp_path, args = job
    out = str(tmp_path / "out")
    assert main(["tag", *args, "-o", out]) == 0
    changed = [a if a != "12" else "10" for a in args]
    assert main(["tag", *changed, "-o", out]) == 2  # the CLI reports the ValueError


def test_a_retrained_model_at_the_same_path_is_refused(job):
    tmp_path, args = job
    out = str(tmp_path / "out")
    assert main(["tag", *args, "-o", out]) == 0
    corpus = attartm.Corpus.from_polars(pl.read_parquet(tmp_path / "in-*.parquet"), text="text",
                                        id="doc")  # fmt: skip
    attartm.AttentiveARTM(3, passes=2, seed=7).fit(corpus, epochs=2).save(
        tmp_path / "model.attartm"
    )
    assert main(["tag", *args, "-o", out]) == 2

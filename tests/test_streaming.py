"""Corpora larger than memory: streaming vocabulary, lazy parquet batches, online training."""

from __future__ import annotations

import threading
import time

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import attartm
from attartm._pipeline import prefetch
from attartm.streaming import file_chunks, row_batches

from .conftest import synthetic_texts


@pytest.fixture(scope="module")
def parquet_parts(tmp_path_factory) -> tuple[list, pl.DataFrame]:
    """Three parquet files of synthetic documents (with an id column), and their frame."""
    folder = tmp_path_factory.mktemp("parts")
    texts = synthetic_texts(n_docs=90, seed=3)
    texts[17] = "zzz qqq"  # a document none of whose words survives min_df
    frame = pl.DataFrame({"doc_id": [f"d{i}" for i in range(90)], "body": texts})
    paths = []
    for k, part in enumerate(frame.iter_slices(35)):
        path = folder / f"part-{k}.parquet"
        part.write_parquet(path, row_group_size=7)
        paths.append(path)
    return paths, frame


def test_row_batches_cut_exactly(parquet_parts):
    paths, frame = parquet_parts
    batches = list(row_batches([str(p) for p in paths], ["doc_id", "body"], 20))
    assert [b.height for b in batches] == [20, 20, 20, 20, 10]
    # Batches that span a file boundary join the rows of both: the same values and dtypes.
    assert_frame_equal(pl.concat(batches), frame)


def arrow_bytes(frame: pl.DataFrame, column: str) -> int:
    """The bytes of the Arrow buffers behind ``frame[column]`` (shared ones included)."""
    array = frame.get_column(column).to_arrow(compat_level=pl.CompatLevel.newest())
    return sum(b.size for b in array.buffers() if b is not None)


def test_file_chunks_read_slices_that_own_their_buffers(tmp_path):
    """A file of one row group is read in frames of ``rows`` rows, each a
    slice of the file in buffers of its own (frames cut from the row group decoded whole
    share its buffers, which grow with every frame), and an empty file gives none."""
    frame = pl.DataFrame(
        {"id": list(range(35)), "text": [f"{i:06d} some words" for i in range(35)]}
    )
    whole, empty = tmp_path / "whole.parquet", tmp_path / "empty.parquet"
    frame.write_parquet(whole, row_group_size=1000)
    frame.head(0).write_parquet(empty)
    chunks = list(file_chunks([str(whole), str(empty), str(whole)], ["text"], 10))
    assert [c.height for c in chunks] == [10, 10, 10, 5, 10, 10, 10, 5]
    assert_frame_equal(pl.concat(chunks), pl.concat([frame, frame]).select("text"))
    sizes = [arrow_bytes(c, "text") for c in chunks]
    assert sizes[0] == sizes[1] == sizes[2] > sizes[3]
    with pytest.raises(ValueError, match=r"column\(s\) \['body'\] not in the parquet file"):
        list(file_chunks([str(whole)], ["body"], 10))
    with pytest.raises(ValueError, match="rows must be at least 1"):
        list(file_chunks([str(whole)], ["text"], 0))
    assert list(file_chunks([str(whole)], [], 10)) == []  # no columns: no frames, and an end


def test_file_chunks_bounded_above_follow_the_length_of_each_file_s_rows(tmp_path):
    """With ``max_bytes`` a probe of PROBE_ROWS rows starts every file, then frames of
    ``rows`` rows or as few as hold ``max_bytes``: long rows a few at a time."""
    from attartm._parquet import PROBE_ROWS

    n = 2 * PROBE_ROWS + 100
    short = pl.DataFrame({"text": [f"{i:04d} w" for i in range(n)]})  # 6 bytes each
    long = pl.DataFrame({"text": [f"{i:04d} " + "w" * 995 for i in range(n)]})  # 1,000 each
    paths = [tmp_path / "short.parquet", tmp_path / "long.parquet"]
    short.write_parquet(paths[0])
    long.write_parquet(paths[1])
    chunks = list(file_chunks([str(p) for p in paths], ["text"], 10_000, max_bytes=50_000))
    assert_frame_equal(pl.concat(chunks), pl.concat([short, long]))
    heights = [c.height for c in chunks]
    assert heights[:2] == [PROBE_ROWS, n - PROBE_ROWS]  # the short rows: one read after the probe
    assert heights[2] == PROBE_ROWS  # the long file is probed again
    assert all(30 <= h <= 55 for h in heights[3:-1])
    assert all(c.estimated_size() <= 55_000 for c in chunks[3:])


def test_row_batches_read_short_documents_many_batches_at_once(tmp_path, monkeypatch):
    """Batches of short documents are read several at a time (a read of at least
    MIN_READ_BYTES, a whole number of batches), long ones a batch per read; the batches
    are the same either way."""
    import attartm._parquet as parquet

    monkeypatch.setattr(parquet, "MIN_READ_BYTES", 20_000)
    frame = pl.DataFrame(
        {"text": [f"{i:05d} " + "w" * (990 if i < 200 else 10) for i in range(700)]}
    )
    path = tmp_path / "mixed.parquet"
    frame.write_parquet(path)
    reads: list[int] = []
    original = parquet.file_chunks

    def counted(*args, **kwargs):
        for chunk in original(*args, **kwargs):
            reads.append(chunk.height)
            yield chunk

    monkeypatch.setattr(parquet, "file_chunks", counted)
    batches = list(parquet.row_batches([str(path)], ["text"], 50))
    assert [b.height for b in batches] == [50] * 14
    assert_frame_equal(pl.concat(batches), frame)
    # 50 long rows (1,000 bytes each) hold more than 20,000 bytes: a batch per read; 50
    # short ones (16 bytes) less: then reads of several batches. Every read is a whole
    # number of batches.
    assert reads[:4] == [50] * 4 and max(reads) >= 250 and all(r % 50 == 0 for r in reads)


def test_streaming_vocabulary_equals_the_in_memory_one(parquet_parts):
    paths, frame = parquet_parts
    folder = str(paths[0].parent / "*.parquet")
    for options in ({"min_df": 2, "max_df": 0.9}, {"min_df": 0.05, "max_vocab": 20}, {}):
        streamed = attartm.Vocabulary.from_parquet(folder, "body", stopwords=False,
                                                   batch_size=13, **options)  # fmt: skip
        in_memory = attartm.Corpus.from_polars(frame, text="body", stopwords=False, **options)
        assert streamed == in_memory.vocabulary


def test_scan_parquet_yields_the_same_batches_as_memory(parquet_parts):
    paths, frame = parquet_parts
    vocab = attartm.Vocabulary.from_parquet(paths, "body", min_df=3, stopwords=False)
    scanned = list(attartm.Corpus.scan_parquet(paths, "body", "doc_id", vocabulary=vocab,
                                               batch_size=25, stopwords=False))  # fmt: skip
    whole = attartm.Corpus.from_polars(frame, text="body", id="doc_id", vocabulary=vocab,
                                       stopwords=False)  # fmt: skip
    memory = list(whole.batches(25))
    assert len(scanned) == len(memory) == 4
    for a, b in zip(scanned, memory):
        assert a.ids.to_list() == b.ids.to_list()
        np.testing.assert_array_equal(a.token_ids, b.token_ids)
        np.testing.assert_array_equal(a.doc_offsets, b.doc_offsets)
        np.testing.assert_array_equal(a.boundaries, b.boundaries)


@pytest.mark.parametrize(
    "make",
    [lambda: attartm.ARTM(3, seed=1), lambda: attartm.AttentiveARTM(3, passes=2, seed=1)],
    ids=["artm", "attentive"],
)
def test_streaming_fit_online_equals_in_memory_fit_online(parquet_parts, make):
    paths, frame = parquet_parts
    vocab = attartm.Vocabulary.from_parquet(paths, "body", min_df=2, stopwords=False)
    stream = attartm.Corpus.scan_parquet(paths, "body", vocabulary=vocab, batch_size=20,
                                         stopwords=False)  # fmt: skip
    whole = attartm.Corpus.from_polars(frame, text="body", vocabulary=vocab, stopwords=False)
    kw = dict(update_every=2, tau0=4, kappa=0.6, epochs=2)
    streamed = make().fit_online(stream, **kw)
    in_memory = make().fit_online(whole, batch_size=20, **kw)
    np.testing.assert_allclose(streamed.phi, in_memory.phi, atol=1e-5)
    np.testing.assert_allclose(streamed.n_wt, in_memory.n_wt, rtol=1e-5, atol=1e-5)


def test_scan_parquet_reports_bad_input(parquet_parts, tmp_path):
    paths, _ = parquet_parts
    vocab = attartm.Vocabulary.from_parquet(paths, "body", stopwords=False)
    with pytest.raises(FileNotFoundError, match="no parquet file matches"):
        attartm.Corpus.scan_parquet(str(tmp_path / "*.parquet"), "body", vocabulary=vocab)
    with pytest.raises(TypeError, match="fixed vocabulary"):
        attartm.Corpus.scan_parquet(paths, "body", vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="not in the parquet file"):
        list(attartm.Corpus.scan_parquet(paths, "text", vocabulary=vocab))
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        attartm.Corpus.scan_parquet(paths, "body", vocabulary=vocab, batch_size=0)


def test_stopping_early_releases_the_reader_thread(parquet_parts):
    import threading
    import time

    paths, _ = parquet_parts
    vocab = attartm.Vocabulary.from_parquet(paths, "body", stopwords=False)
    # Two batches: while the consumer holds the first, the reader queues the second and
    # then waits to hand over the end marker; closing must release it (not leave it
    # blocked for good, which the join inside close would only give up on).
    batches = attartm.Corpus.scan_parquet(paths, "body", vocabulary=vocab, batch_size=50,
                                          stopwords=False)  # fmt: skip
    iterator = iter(batches)
    next(iterator)
    time.sleep(0.5)  # let the reader reach the end marker
    iterator.close()
    readers = [t for t in threading.enumerate() if t.name == "attartm-parquet-reader"]
    assert not any(t.is_alive() for t in readers)


def test_prefetch_starts_at_most_depth_items_ahead():
    """Besides the item the consumer holds, the reader thread has begun at most ``depth``
    more (each may be a read of 32 MiB of text, or a batch as large)."""
    started: list[int] = []
    lock = threading.Lock()

    def items():
        for i in range(10):
            with lock:
                started.append(i)
            yield i

    for depth in (1, 3):
        started.clear()
        reader = prefetch(items(), depth=depth)
        assert next(reader) == 0
        deadline = time.monotonic() + 5
        while len(started) < 1 + depth and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # time enough for a thread that would run further ahead
        assert len(started) == 1 + depth
        assert list(reader) == list(range(1, 10))
    with pytest.raises(ValueError, match="depth must be at least 1"):
        next(prefetch(items(), depth=0))

"""The research toolkit: sweeps (parquet + plots), model comparison, the HTML report."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import numpy as np
import polars as pl
import pytest

import attartm
from attartm import experiments, report
from attartm.cli import main

from .conftest import synthetic_texts


@pytest.fixture(scope="module")
def split():
    corpus = attartm.Corpus.from_texts(synthetic_texts(80, seed=4), stopwords=False)
    return corpus.split(test_size=0.25, seed=0)


def test_sweep_writes_one_row_per_run_epoch_and_score_and_the_plots(split, tmp_path):
    pytest.importorskip(
        "matplotlib", reason='plots need matplotlib: pip install "attartm[research]"'
    )
    train, test = split
    grid = {"passes": [1, 2], "window": [3, 6], "exclude_self": [True]}
    scores = ("perplexity", "diversity", "npmi")
    table = experiments.sweep(train, test, "attentive", grid, n_topics=3, epochs=2, seeds=(0, 1),
                              scores=scores, processes=2, out=tmp_path)  # fmt: skip
    stored = pl.read_parquet(tmp_path / "sweep.parquet")
    assert stored.equals(table)
    assert table.height == 4 * 2 * 2 * 3  # grid points × seeds × epochs × scores
    keys = table.select("run", "epoch", "score")
    assert keys.unique().height == table.height
    assert set(table["score"]) == set(scores)
    assert table.group_by("run").agg(pl.col("seed").n_unique())["seed"].max() == 1
    # The same run computed in this process gives the same numbers (seeded, thread-independent).
    alone = experiments.sweep(train, test, "attentive", {"passes": [2], "window": [6]},
                              n_topics=3, epochs=2, seeds=(1,), scores=scores, processes=1)  # fmt: skip
    mine = table.filter((pl.col("passes") == 2) & (pl.col("window") == 6) & (pl.col("seed") == 1))
    np.testing.assert_allclose(mine.sort(["epoch", "score"])["value"].to_numpy(),
                               alone.sort(["epoch", "score"])["value"].to_numpy(), rtol=1e-9)  # fmt: skip
    for name in ("score_vs_passes.png", "score_vs_window.png", "score_vs_exclude_self.png",
                 "score_vs_epoch.png"):  # fmt: skip
        path = tmp_path / name
        assert path.exists() and path.stat().st_size > 10_000, name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = experiments.summarize(table, list(grid))
    assert summary.height == 4 * 3 and (summary["seeds"] == 2).all()


def test_sweep_rejects_bad_grids(split):
    train, test = split
    with pytest.raises(ValueError, match="beta must lie"):
        experiments.sweep(train, test, "attentive", {"beta": [2.0]}, epochs=1, seeds=(0,))
    with pytest.raises(ValueError, match="model must be one of"):
        experiments.sweep(train, test, "lda", {}, epochs=1)
    with pytest.raises(ValueError, match="unknown scores"):
        experiments.sweep(train, test, "artm", {}, epochs=1, scores=("bleu",))


def test_compare_gives_one_row_per_model(split):
    train, test = split
    table = experiments.compare(train, test, epochs=3, n_topics=3, peers=False)
    assert table["model"].to_list() == ["ARTM", "ThetalessARTM", "AttentiveARTM L=2"]
    assert (table["epoch_ms"] > 0).all() and (table["perplexity"] > 1).all()


def test_sweep_command_reads_a_toml_config(tmp_path):
    pytest.importorskip(
        "matplotlib", reason='plots need matplotlib: pip install "attartm[research]"'
    )
    texts = synthetic_texts(60, seed=2)
    pl.DataFrame({"text": texts[:45]}).write_parquet(tmp_path / "train.parquet")
    pl.DataFrame({"text": texts[45:]}).write_parquet(tmp_path / "test.parquet")
    (tmp_path / "sweep.toml").write_text(f"""
[data]
train = "{tmp_path / "train.parquet"}"
test = "{tmp_path / "test.parquet"}"
min_df = 1
max_df = 1.0
[sweep]
model = "artm"
n_topics = 3
epochs = 2
seeds = [0]
scores = ["perplexity", "npmi"]
processes = 1
out = "{tmp_path / "out"}"
[grid]
doc_passes = [1, 3]
""")
    assert main(["sweep", str(tmp_path / "sweep.toml")]) == 0
    table = pl.read_parquet(tmp_path / "out" / "sweep.parquet")
    assert table.height == 2 * 1 * 2 * 2
    assert (tmp_path / "out" / "score_vs_doc_passes.png").stat().st_size > 10_000


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no headless Chromium here (.ci/run installs Debian's chromium)")


def _render(browser: str, page, png) -> tuple[str, str]:
    """Screenshots the page and returns (dumped DOM, browser log)."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0", "--window-size=1200,1600"]  # fmt: skip
    shot = subprocess.run([browser, *flags, f"--screenshot={png}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    return dom.stdout, shot.stderr + dom.stderr


def test_report_opens_in_headless_chromium_without_console_errors(tmp_path):
    browser = _chromium()
    corpus = attartm.Corpus.from_texts(synthetic_texts(40, seed=1), stopwords=False)
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(corpus, epochs=8)
    page = report.write(model, corpus, tmp_path / "report.html")
    dom, log = _render(browser, page, tmp_path / "report.png")
    assert "CONSOLE" not in log, log  # no console message, let alone an error
    assert 'id="topic-list"' in dom and dom.count('data-topic="') >= 3
    assert dom.count('class="tok') == sum(corpus.document_lengths[:3])
    assert 'id="topic-map"' in dom and 'class="boundary-score"' in dom
    image = pytest.importorskip("matplotlib.image").imread(tmp_path / "report.png")
    rgb = image[..., :3]
    saturation = rgb.max(axis=2) - rgb.min(axis=2)
    # The coloured tokens and the topic map: a real share of strongly coloured pixels.
    assert (saturation > 0.25).mean() > 0.02

    # The check can fail: a page with a script error does log to the console.
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    _, log = _render(browser, broken, tmp_path / "broken.png")
    assert "CONSOLE" in log and "undefinedFunction" in log


def test_report_shows_topic_phrases_fragments_and_document_phrases(tmp_path):
    browser = _chromium()
    corpus = attartm.Corpus.from_texts(synthetic_texts(40, seed=2), stopwords=False)
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(corpus, epochs=8)
    page = report.write(model, corpus, tmp_path / "report.html")
    dom, log = _render(browser, page, tmp_path / "report.png")
    assert "CONSOLE" not in log, log
    phrases = model.topic_phrases(corpus, k=6)
    fragments = model.fragments(corpus, k=2)
    labels = model.topic_labels(corpus)
    for topic in range(3):
        section = dom.split(f'<div class="passages" data-topic="{topic}">')[1].split(
            "</div></div>"
        )[0]
        assert f'<span class="label">{labels[topic]}</span>' in section
        for phrase in phrases.filter(pl.col("topic") == topic)["phrase"]:
            assert f'<span class="phrase-chip">{phrase}</span>' in section
        texts = fragments.filter(pl.col("topic") == topic)["text"].to_list()
        assert texts and all(text[:60] in section for text in texts)
    # The first document's phrases are listed and underlined where they occur.
    first = model.document_phrases(corpus, k=5).filter(pl.col("id") == corpus.ids[0])
    assert first.height > 0 and 'class="tok phrase"' in dom
    assert all(f'<span class="phrase-chip">{p}</span>' in dom for p in first["phrase"])


def test_report_colours_the_source_text(tmp_path):
    browser = _chromium()
    # Capitals, stopwords, punctuation and line breaks that the tokens do not keep.
    texts = [
        "The " + text.replace(". ", ", and so on!\n").replace(" ", " of the ", 3).capitalize()
        for text in synthetic_texts(40, seed=2)
    ]
    corpus = attartm.Corpus.from_texts(texts, keep_text=True, stopwords=True)
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(corpus, epochs=8)
    page = report.write(model, corpus, tmp_path / "report.html", documents=[0, 1])
    dom, log = _render(browser, page, tmp_path / "report.png")
    assert "CONSOLE" not in log, log
    starts, ends = corpus.char_spans
    topics = np.stack(model.transform_tokens(corpus, top=1)["topics"].to_numpy())[:, 0]
    for d in (0, 1):
        shown = dom.split('<div class="doc source">')[1 + d].split("</div>")[0]
        # The page shows the whole source text, in order...
        assert html.unescape(re.sub(r"<[^>]+>", "", shown)) == texts[d]
        # ...and every token is its source characters coloured by its topic in context.
        tokens = re.findall(r'<span class="tok[^"]*" data-topic="(\d+)"[^>]*>([^<]*)</span>', shown)
        a, b = corpus.doc_offsets[d], corpus.doc_offsets[d + 1]
        assert [html.unescape(w) for _, w in tokens] == [
            texts[d][x:y] for x, y in zip(starts[a:b], ends[a:b])
        ]
        assert [int(t) for t, _ in tokens] == topics[a:b].tolist()
    assert "of the" in shown and "," in shown
    # The fragments quote the source text too.
    fragments = model.fragments(corpus, k=2)
    assert fragments["text"].str.contains("of the").any()
    assert all(html.escape(text[:40]) in page.read_text() for text in fragments["text"])


def test_report_command_and_bad_documents(tmp_path):
    corpus = attartm.Corpus.from_texts(synthetic_texts(30, seed=3), stopwords=False)
    model = attartm.ARTM(3, seed=0).fit(corpus, epochs=5)
    model.save(tmp_path / "m.attartm")
    pl.DataFrame({"text": synthetic_texts(30, seed=3)}).write_parquet(tmp_path / "c.parquet")
    assert main(["report", str(tmp_path / "m.attartm"), str(tmp_path / "c.parquet"),
                 "-o", str(tmp_path / "r.html")]) == 0  # fmt: skip
    page = (tmp_path / "r.html").read_text()
    assert page.count('class="tok') == sum(corpus.document_lengths[:3])
    assert not re.search(r'(src|href)\s*=\s*["\']?https?:', page)  # self-contained
    with pytest.raises(ValueError, match="not in the corpus"):
        report.build(model, corpus, documents=[99])


def test_tomotopy_lda_is_scored_by_our_code(split):
    pytest.importorskip("tomotopy", reason="tomotopy is not installed (an optional peer)")
    from attartm.peers import TomotopyLDA

    train, test = split
    lda = TomotopyLDA(3, threads=1)
    times = lda.fit(train, 50)
    assert len(times) == 50
    model = lda.to_attartm()
    np.testing.assert_allclose(model.phi.sum(axis=0), 1.0, atol=1e-5)
    scores = model.score(test)
    assert 1 < scores["perplexity"] < len(train.vocabulary)

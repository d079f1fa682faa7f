"""Modalities and seeded topics on real text, 20 Newsgroups (../shared/data): the
references of docs/mathematics.md §7 on real documents, the newsgroup predicted as a label
modality, and topics seeded with words of five newsgroups' names."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import attartm

from . import reference_modalities as refm
from .conftest import require_data
from .test_modality_models import initial_phi, layout


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    folder = require_data("20newsgroups")
    return pl.read_parquet(folder / "train.parquet"), pl.read_parquet(folder / "test.parquet")


@pytest.fixture(scope="module")
def labelled(frames) -> attartm.Corpus:
    """The training split with the newsgroup as a label modality (min_df=5, max_df=0.5)."""
    return attartm.Corpus.from_polars(
        frames[0], text="text", id="id", min_df=5, max_df=0.5, modalities={"label": "newsgroup"}
    )


def test_one_epoch_of_each_model_matches_reference_on_real_documents(labelled):
    # Short documents keep the position-by-position reference of §3 quick.
    short = np.flatnonzero((labelled.document_lengths >= 5) & (labelled.document_lengths <= 60))
    c = labelled.select(short[:40])
    c = attartm.Corpus.from_token_ids(
        c.token_ids, c.doc_offsets, c.vocabulary, ids=c.ids,
        modalities={"label": (c._bag("label").token_ids, c._bag("label").doc_offsets,
                              c.vocabularies["label"])},
    )  # fmt: skip
    starts, bags = layout(c)
    weights = [1.0, 20.0]
    docs = refm.entries(c.token_ids, c.doc_offsets, bags, starts)
    phi0 = initial_phi(c, 5, 0)

    def check(model, n_wt):
        phi = refm.mstep(n_wt, starts)
        for m, name in enumerate(c.modalities):
            got = model.phi_of(name)
            np.testing.assert_allclose(got, phi[starts[m] : starts[m + 1]], atol=1e-5)

    artm = attartm.ARTM(5, doc_passes=4, modality_weights={"label": 20.0}).fit(c, epochs=1)
    check(artm, refm.artm_estep(docs, weights, phi0, 4)[1])
    tl = attartm.ThetalessARTM(5, modality_weights={"label": 20.0}).fit(c, epochs=1)
    check(tl, refm.thetaless_estep(docs, weights, phi0, np.ones((2, 5)), starts))
    att = attartm.AttentiveARTM(
        5, window=10, context_prior=1.0, updates_per_epoch=1, modality_weights={"label": 20.0}
    )
    att.fit(c, epochs=1)
    empty = np.zeros(c.n_documents + 1, np.int64)
    label_docs = refm.entries(np.zeros(0, np.uint32), empty, bags, starts)
    g = np.full(c.n_tokens, 0.1, dtype=np.float32)
    n_wt, _, _ = refm.attentive_estep(
        c.token_ids, c.doc_offsets, label_docs, weights, phi0, np.ones(5), g, g, 0.5, 2, True,
        tempering=0.7, context_prior=(10.0, 10.0),  # (h→/m, h←/m): window 10, prior m = 1
    )  # fmt: skip
    check(att, n_wt)


def test_the_newsgroup_is_predicted_as_a_label_modality(frames, labelled):
    test = attartm.Corpus.from_polars(
        frames[1], text="text", id="id", vocabulary=labelled.vocabularies
    )
    model = attartm.ARTM(40, modality_weights={"label": 150.0}, seed=0).fit(labelled, epochs=15)
    best = model.predict(test, "label")
    accuracy = (best["value"].to_numpy() == frames[1]["newsgroup"].to_numpy()).mean()
    assert accuracy >= 0.70, accuracy


#: Five words of each of five newsgroups, after the subjects their names give.
SEEDS = {
    "rec.sport.hockey": ["hockey", "nhl", "team", "game", "season"],
    "sci.space": ["space", "nasa", "orbit", "launch", "shuttle"],
    "sci.med": ["medical", "doctor", "disease", "patients", "treatment"],
    "rec.autos": ["car", "cars", "engine", "dealer", "driving"],
    "talk.politics.guns": ["gun", "guns", "firearms", "weapons", "law"],
}


def test_seeded_topics_gather_their_newsgroups_words(frames):
    train = attartm.Corpus.from_polars(frames[0], text="text", id="id", min_df=5, max_df=0.5)
    seeds = attartm.SeedWords(dict(enumerate(SEEDS.values())), 4.0)
    model = attartm.ARTM(40, regularizers=[seeds], background_topics=(37, 38, 39), seed=0)
    model.fit(train, epochs=15)
    bags = train.bag_of_words()
    words, ids = bags["token_id"].to_numpy(), bags["id"].to_numpy()
    groups = dict(zip(frames[0]["id"].to_list(), frames[0]["newsgroup"].to_list()))
    group_of = np.array([groups[i] for i in ids])
    n_words = len(train.vocabulary)
    df_all = np.bincount(words, minlength=n_words) / train.n_documents
    top = model.topics(k=20)
    for t, group in enumerate(SEEDS):
        # Document frequency within the newsgroup's training documents against overall.
        in_group = group_of == group
        df_group = np.bincount(words[in_group], minlength=n_words) / len(set(ids[in_group]))
        top_words = top.filter(pl.col("topic") == t)["word"].to_list()
        rows = [train.vocabulary.index(w) for w in top_words]
        typical = [w for w, r in zip(top_words, rows) if df_group[r] >= 3 * df_all[r]]
        assert len(typical) >= 8, (group, top_words, typical)

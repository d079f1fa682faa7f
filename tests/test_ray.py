"""attartm.ray: tagging and batch-online training on Ray, in local mode on 2 CPUs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import attartm

from .conftest import synthetic_texts

ray = pytest.importorskip("ray", reason='Ray is not installed: pip install "attartm[ray]"')
pa = pytest.importorskip("pyarrow")
attartm_ray = pytest.importorskip("attartm.ray")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def data():
    frame = pl.DataFrame({"doc": [f"d{i:03d}" for i in range(66)], "text": synthetic_texts(66)})
    corpus = attartm.Corpus.from_polars(frame, text="text", id="doc")
    return frame, corpus


def dataset(frame: pl.DataFrame):
    return ray.data.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))


def collect(ds) -> pl.DataFrame:
    return pl.from_arrow(pa.concat_tables(ray.get(ds.to_arrow_refs())))


@pytest.mark.parametrize(
    "make",
    [lambda: attartm.ARTM(3, seed=0), lambda: attartm.AttentiveARTM(3, passes=2, seed=0)],
    ids=["artm", "attentive"],
)
def test_tag_equals_transform_row_for_row(cluster, data, make):
    frame, corpus = data
    model = make().fit(corpus, epochs=5)
    tagged = collect(attartm_ray.tag(dataset(frame), model, id="doc", batch_size=17))
    expected = model.transform(corpus)
    assert tagged.columns == expected.columns
    tagged = tagged.sort("id")
    assert tagged["id"].to_list() == expected.sort("id")["id"].to_list()
    np.testing.assert_array_equal(
        tagged.drop("id").to_numpy(), expected.sort("id").drop("id").to_numpy()
    )


def test_tag_tokens_equals_transform_tokens(cluster, data):
    frame, corpus = data
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(corpus, epochs=5)
    tagged = collect(
        attartm_ray.tag(dataset(frame), model, id="doc", tokens=True, top=2, batch_size=10)
    ).sort(["id", "position"])
    expected = model.transform_tokens(corpus, top=2).sort(["id", "position"])
    assert tagged["token"].to_list() == expected["token"].to_list()
    np.testing.assert_array_equal(np.stack(tagged["topics"].to_numpy()),
                                  np.stack(expected["topics"].to_numpy()))  # fmt: skip
    np.testing.assert_array_equal(np.stack(tagged["probs"].to_numpy()),
                                  np.stack(expected["probs"].to_numpy()))  # fmt: skip


@pytest.mark.parametrize(
    "make",
    [lambda: attartm.ARTM(3, seed=1), lambda: attartm.AttentiveARTM(3, passes=2, seed=1),
     lambda: attartm.ThetalessARTM(3, seed=1)],
    ids=["artm", "attentive", "thetaless"],
)  # fmt: skip
def test_fit_online_on_ray_equals_single_process(cluster, data, make):
    frame, corpus = data
    kw = dict(batch_size=20, update_every=2, tau0=4, kappa=0.6, epochs=2)
    on_ray = attartm_ray.fit_online(dataset(frame), make(), vocabulary=corpus.vocabulary, **kw)
    single = make().fit_online(corpus, **kw)
    np.testing.assert_allclose(on_ray.phi, single.phi, atol=1e-5)
    np.testing.assert_allclose(on_ray.n_wt, single.n_wt, rtol=1e-5, atol=1e-5)


def test_ray_arguments_are_checked(cluster, data):
    frame, corpus = data
    with pytest.raises(ValueError, match="needs a vocabulary"):
        attartm_ray.fit_online(dataset(frame), attartm.ARTM(3))
    fitted = attartm.ARTM(3).fit(corpus, epochs=1)
    with pytest.raises(ValueError, match="needs an AttentiveARTM"):
        attartm_ray.tag(dataset(frame), fitted, id="doc", tokens=True)


def test_fit_online_keeps_dataset_order_across_blocks(cluster, data):
    frame, _ = data
    # Blocks of different sizes, so that they finish out of order when read in parallel.
    blocks = [frame.slice(a, b - a) for a, b in ((0, 5), (5, 30), (30, 33), (33, 66))]
    ds = ray.data.from_arrow([b.to_arrow(compat_level=pl.CompatLevel.oldest()) for b in blocks])
    ds = ds.map_batches(lambda t: t, batch_format="pyarrow")  # a real execution stage
    whole = attartm.Corpus.from_polars(frame, text="text", id="doc")
    before = ray.data.DataContext.get_current().execution_options.preserve_order
    kw = dict(batch_size=9, update_every=1, tau0=2, kappa=0.8)
    on_ray = attartm_ray.fit_online(ds, attartm.ARTM(3, seed=2), vocabulary=whole.vocabulary,
                                    **kw)  # fmt: skip
    single = attartm.ARTM(3, seed=2).fit_online(whole, **kw)
    np.testing.assert_allclose(on_ray.phi, single.phi, atol=1e-5)
    assert ray.data.DataContext.get_current().execution_options.preserve_order == before


def parquet_dataset(frame: pl.DataFrame, folder) -> object:
    """The frame as several parquet files: read by Ray Data's read tasks (one CPU each),
    which tagging actors that held every CPU would starve."""
    for i, start in enumerate(range(0, frame.height, 17)):
        frame.slice(start, 17).write_parquet(folder / f"part-{i}.parquet")
    return ray.data.read_parquet(str(folder), override_num_blocks=4)


@pytest.mark.parametrize("concurrency", [2, 3], ids=["as-many-as-cpus", "more-than-cpus"])
def test_tag_with_as_many_actors_as_cpus_or_more_finishes(cluster, data, tmp_path, concurrency):
    frame, corpus = data
    assert ray.cluster_resources()["CPU"] == 2
    model = attartm.ARTM(3, seed=0).fit(corpus, epochs=5)
    ds = parquet_dataset(frame, tmp_path)
    tagged = collect(attartm_ray.tag(ds, model, id="doc", batch_size=7, concurrency=concurrency))
    expected = model.transform(corpus).sort("id")
    tagged = tagged.sort("id")
    assert tagged["id"].to_list() == expected["id"].to_list()
    np.testing.assert_array_equal(tagged.drop("id").to_numpy(), expected.drop("id").to_numpy())


def test_fit_online_with_a_window_wider_than_the_cluster_finishes(cluster, data, tmp_path):
    frame, corpus = data
    kw = dict(batch_size=11, update_every=3, tau0=4, kappa=0.6)
    ds = parquet_dataset(frame, tmp_path)
    on_ray = attartm_ray.fit_online(ds, attartm.ARTM(3, seed=1), vocabulary=corpus.vocabulary,
                                    **kw)  # fmt: skip
    single = attartm.ARTM(3, seed=1).fit_online(corpus, **kw)
    np.testing.assert_allclose(on_ray.phi, single.phi, atol=1e-5)


def test_requests_that_could_never_run_are_refused_at_once(cluster, data):
    frame, corpus = data
    model = attartm.ARTM(3, seed=0).fit(corpus, epochs=1)
    ds = dataset(frame)
    with pytest.raises(ValueError, match=r"the largest node of the Ray cluster has 2 CPUs"):
        attartm_ray.tag(ds, model, id="doc", num_cpus=3)
    with pytest.raises(ValueError, match=r"2 tagging actors of 1 CPUs each would hold 2 of the "
                                         r"cluster's 2 CPUs and leave none"):  # fmt: skip
        attartm_ray.tag(ds, model, id="doc", concurrency=2, num_cpus=1)
    with pytest.raises(ValueError, match=r"num_cpus must be a fraction in \[0, 1\] or a whole"):
        attartm_ray.tag(ds, model, id="doc", num_cpus=1.5)
    with pytest.raises(ValueError, match=r"E-step tasks would never start: each asks for 4 CPUs"):
        attartm_ray.fit_online(ds, attartm.ARTM(3), vocabulary=corpus.vocabulary, num_cpus=4)
    with pytest.raises(ValueError, match=r"concurrency must be"):
        attartm_ray.tag(ds, model, id="doc", concurrency=0)

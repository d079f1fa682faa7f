//! `attartm._core`: the thin binding between Python and attartm-core. It only converts
//! arguments (in place where it can), checks them, and releases the GIL while the core runs.

mod bags;
mod buffers;
mod collection;
mod fragments;
mod runtime;
mod sizes;
mod text;

use attartm_core::{
    Accumulate, AttentiveParams, Blocking, ClassicParams, ColumnChange, CountSpec, Documents,
    Filter, Gamma, Output, Phi, Sliding, TopicMasses, Variant, WordTopicSums,
};
use numpy::ndarray::{Array2, Ix1, Ix2};
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use buffers::{matrix, matrix_mut, token_ids, vector, vector_mut, Held, Written};
use collection::Collection;
use fragments::{fragment_spec, fragments_to_python, FragmentArgs};
use runtime::{run, run_here};

type Matrix<'py, T> = Bound<'py, PyArray2<T>>;

pub(crate) fn to_matrix<'py, T: numpy::Element>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    v: Vec<T>,
) -> PyResult<Matrix<'py, T>> {
    let a = Array2::from_shape_vec((rows, cols), v)
        .map_err(|e| PyValueError::new_err(format!("internal shape error: {e}")))?;
    Ok(a.into_pyarray(py))
}

/// γ of the attentive kernel: a Python float for one value at every position, else a
/// vector with one per position.
enum GammaArg<'py> {
    Uniform(f32),
    PerPosition(Held<'py, f32, Ix1>),
}

impl<'py> GammaArg<'py> {
    fn extract(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<pyo3::types::PyFloat>() {
            return Ok(GammaArg::Uniform(obj.extract::<f64>()? as f32));
        }
        Ok(GammaArg::PerPosition(vector::<f32>(name, obj)?))
    }

    fn view(&self) -> Gamma<'_> {
        match self {
            GammaArg::Uniform(g) => Gamma::Uniform(*g),
            GammaArg::PerPosition(g) => Gamma::PerPosition(g.as_slice()),
        }
    }
}

/// Φ of a kernel call: every entry checked, unless the caller (a model, which checks its
/// Φ when it changes) says it has been.
pub(crate) fn phi_of(
    values: &[f32],
    n_topics: usize,
    checked: bool,
) -> attartm_core::Result<Phi<'_>> {
    if checked {
        Phi::trusted(values, n_topics)
    } else {
        Phi::checked(values, n_topics)
    }
}

/// What a kernel call does with ñ_wt: `accumulate` is "none", "dense", "rows" or "into"
/// (add `weight` · ñ_wt into the W×T float64 matrix `into`).
pub(crate) struct Sums<'py> {
    how: String,
    into: Option<Written<'py, f64, Ix2>>,
    weight: f64,
}

impl<'py> Sums<'py> {
    pub(crate) fn new(
        how: &str,
        into: Option<&Bound<'py, PyAny>>,
        weight: f64,
        n_words: usize,
        n_topics: usize,
    ) -> PyResult<Self> {
        let into = match (how, into) {
            ("into", Some(m)) => {
                let (m, shape) = matrix_mut::<f64>("into", m)?;
                if shape != [n_words, n_topics] {
                    return Err(PyValueError::new_err(format!(
                        "into must have shape ({n_words}, {n_topics}), but has {shape:?}"
                    )));
                }
                Some(m)
            }
            ("into", None) => return Err(PyValueError::new_err("accumulate=\"into\" needs into=")),
            ("none" | "dense" | "rows", None) => None,
            ("none" | "dense" | "rows", Some(_)) => {
                return Err(PyValueError::new_err(
                    "into= goes with accumulate=\"into\" only",
                ))
            }
            (other, _) => {
                return Err(PyValueError::new_err(format!(
                    "accumulate must be \"none\", \"dense\", \"rows\" or \"into\", not {other:?}"
                )))
            }
        };
        Ok(Sums {
            how: how.to_string(),
            into,
            weight,
        })
    }

    /// Refuses a ñ_wt the core could never allocate: W×T dense, or a row per distinct
    /// word of the `n_entries` the call reads.
    pub(crate) fn check_size(
        &self,
        n_entries: usize,
        n_words: usize,
        n_topics: usize,
    ) -> PyResult<()> {
        match self.how.as_str() {
            "dense" => sizes::check("ñ_wt (accumulate=True)", &[n_words, n_topics], 8),
            "rows" => sizes::check(
                "ñ_wt (accumulate=\"rows\")",
                &[n_words.min(n_entries), n_topics],
                8,
            ),
            _ => Ok(()),
        }
    }

    /// The core's view, to cross into the threads that run without the GIL.
    pub(crate) fn view(&mut self) -> Accumulate<'_> {
        match self.how.as_str() {
            "dense" => Accumulate::Dense,
            "rows" => Accumulate::Rows,
            "into" => Accumulate::Into {
                n_wt: self.into.as_mut().expect("checked in new").as_slice_mut(),
                weight: self.weight,
            },
            _ => Accumulate::None,
        }
    }
}

/// The change of the column sums of a matrix added into, for Python: (Σ_w, Σ_w max(·, 0))
/// per topic as two float64 arrays.
fn column_change<'py>(py: Python<'py>, change: ColumnChange) -> PyResult<Bound<'py, PyAny>> {
    let ColumnChange { total, positive } = change;
    Ok((total.into_pyarray(py), positive.into_pyarray(py))
        .into_pyobject(py)?
        .into_any())
}

/// ñ_wt for Python: a W×T matrix, (words, rows), the column change of `into`, or None.
pub(crate) fn sums_to_python<'py>(
    py: Python<'py>,
    sums: WordTopicSums,
    n_words: usize,
    n_topics: usize,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(match sums {
        WordTopicSums::None => None,
        WordTopicSums::Added(change) => Some(column_change(py, change)?),
        WordTopicSums::Dense(v) => Some(to_matrix(py, n_words, n_topics, v)?.into_any()),
        WordTopicSums::Rows { words, values } => {
            let rows = to_matrix(py, words.len(), n_topics, values)?;
            Some((words.into_pyarray(py), rows).into_pyobject(py)?.into_any())
        }
    })
}

/// The classic ARTM E-step; see `attartm.kernels.artm_estep`.
#[pyfunction]
#[pyo3(signature = (words, doc_offsets, phi, *, counts=None, doc_passes=10, theta_term=None, theta_scale=None, accumulate="dense", into=None, weight=1.0, checked_phi=false, threads=None))]
#[allow(clippy::too_many_arguments)]
fn artm_estep<'py>(
    py: Python<'py>,
    words: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    counts: Option<&Bound<'py, PyAny>>,
    doc_passes: usize,
    theta_term: Option<Vec<f32>>,
    theta_scale: Option<Vec<f32>>,
    accumulate: &str,
    into: Option<&Bound<'py, PyAny>>,
    weight: f64,
    checked_phi: bool,
    threads: Option<usize>,
) -> PyResult<(Matrix<'py, f32>, Option<Bound<'py, PyAny>>)> {
    let args = Collection::extract(words, doc_offsets, counts, phi)?;
    let (n_words, n_topics) = (args.n_words, args.n_topics);
    let mut sums = Sums::new(accumulate, into, weight, n_words, n_topics)?;
    let params = ClassicParams {
        doc_passes,
        theta_term,
        theta_scale,
    };
    let view = args.view();
    sums.check_size(view.n_entries(), n_words, n_topics)?;
    sizes::check("θ (documents × topics)", &[view.n_docs(), n_topics], 4)?;
    let how = sums.view();
    let (n_docs, out) = run(py, threads, || {
        let docs = view.documents()?;
        let phi = phi_of(view.phi, n_topics, checked_phi)?;
        Ok((
            docs.n_docs(),
            attartm_core::artm_estep(&docs, phi, &params, how)?,
        ))
    })?;
    Ok((
        to_matrix(py, n_docs, n_topics, out.theta)?,
        sums_to_python(py, out.n_wt, n_words, n_topics)?,
    ))
}

/// Bag of words of each document: (offsets, word ids, counts).
#[pyfunction]
#[pyo3(signature = (tokens, doc_offsets, *, threads=None))]
#[allow(clippy::type_complexity)]
fn bag_of_words<'py>(
    py: Python<'py>,
    tokens: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    threads: Option<usize>,
) -> PyResult<(
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<f32>>,
)> {
    let tokens = token_ids("tokens", tokens)?;
    let offsets = vector::<i64>("doc_offsets", doc_offsets)?;
    let (t, o) = (tokens.as_slice(), offsets.as_slice());
    let (off, words, counts) = run(py, threads, || {
        let docs = Documents::new(t, None, o, u32::MAX as usize + 1)?;
        Ok(attartm_core::bag_of_words(&docs))
    })?;
    Ok((
        off.into_pyarray(py),
        words.into_pyarray(py),
        counts.into_pyarray(py),
    ))
}

/// Refuses an attentive call whose output or ñ_wt could never be allocated. (Its scratch
/// does not grow with the length of a document beyond √n rows: docs/mathematics.md §3.)
fn check_attentive_sizes(
    view: &collection::View<'_>,
    sums: &Sums<'_>,
    output: Output,
    n_words: usize,
    n_topics: usize,
) -> PyResult<()> {
    let (n, t) = (view.n_entries(), n_topics);
    sums.check_size(n, n_words, t)?;
    match output {
        Output::None => {}
        Output::Tokens => sizes::check("the output \"tokens\" (tokens × topics)", &[n, t], 4)?,
        Output::Contexts => sizes::check(
            "the output \"contexts\" (tokens × (2·topics + 2))",
            &[n, 2 * t + 2],
            4,
        )?,
        Output::LogLikelihood => sizes::check("the output \"loglik\"", &[n], 4)?,
        Output::DocumentMean => sizes::check(
            "the output \"doc_mean\" (documents × topics)",
            &[view.n_docs(), t],
            4,
        )?,
        Output::TopK(k) => sizes::check("the output \"top\" (tokens × top)", &[n, k], 4 + 2)?,
    }
    Ok(())
}

/// The attentive E-step; see `attartm.kernels.attentive_estep`. Returns (values, n_wt):
/// values are the rows of `output` ("none", "tokens", "contexts", "loglik", "doc_mean",
/// or "top": (topics, probs)), n_wt what `accumulate` asks for. `long_document` (for
/// tests): documents longer than this many tokens run a block at a time (the default is
/// the core's; the results are the same for any value).
#[pyfunction]
#[pyo3(signature = (tokens, doc_offsets, phi, n_t, *, gamma_forward, gamma_backward, beta, passes, exclude_self, filter="p/n_t", reset=None, document_weight=0.0, tempering=1.0, document_prior=None, context_prior=None, output="tokens", top=1, accumulate="dense", into=None, weight=1.0, checked_phi=false, threads=None, long_document=None, fragments=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn attentive_estep<'py>(
    py: Python<'py>,
    tokens: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    n_t: &Bound<'py, PyAny>,
    gamma_forward: &Bound<'py, PyAny>,
    gamma_backward: &Bound<'py, PyAny>,
    beta: f32,
    passes: usize,
    exclude_self: bool,
    filter: &str,
    reset: Option<&Bound<'py, PyAny>>,
    document_weight: f32,
    tempering: f32,
    document_prior: Option<&Bound<'py, PyAny>>,
    context_prior: Option<(f32, f32)>,
    output: &str,
    top: usize,
    accumulate: &str,
    into: Option<&Bound<'py, PyAny>>,
    weight: f64,
    checked_phi: bool,
    threads: Option<usize>,
    long_document: Option<usize>,
    fragments: Option<FragmentArgs>,
) -> PyResult<(Option<Bound<'py, PyAny>>, Option<Bound<'py, PyAny>>)> {
    let spec = fragment_spec(output, accumulate, fragments)?;
    let filter = match filter {
        "p/n_t" => Filter::POverNt,
        "phi" => Filter::Phi,
        other => {
            return Err(PyValueError::new_err(format!(
                "filter must be \"p/n_t\" or \"phi\", not {other:?}"
            )))
        }
    };
    let output = match output {
        "none" => Output::None,
        "tokens" => Output::Tokens,
        "contexts" => Output::Contexts,
        "loglik" => Output::LogLikelihood,
        "doc_mean" => Output::DocumentMean,
        "fragments" => Output::None,
        "top" if top > u16::MAX as usize + 1 => {
            return Err(PyValueError::new_err(
                "top output stores topic indices as uint16: at most 65536 topics",
            ))
        }
        "top" => Output::TopK(top),
        other => return Err(PyValueError::new_err(format!("unknown output {other:?}"))),
    };
    let args = Collection::extract(tokens, doc_offsets, None, phi)?;
    let (n_words, n_topics) = (args.n_words, args.n_topics);
    let mut sums = Sums::new(accumulate, into, weight, n_words, n_topics)?;
    let n_t = args.topic_masses(n_t)?;
    let gf = GammaArg::extract("gamma_forward", gamma_forward)?;
    let gb = GammaArg::extract("gamma_backward", gamma_backward)?;
    let reset = reset.map(|r| vector::<f32>("reset", r)).transpose()?;
    let prior = document_prior
        .map(|p| matrix::<f32>("document_prior", p).map(|(m, _)| m))
        .transpose()?;
    let view = args.view();
    check_attentive_sizes(&view, &sums, output, n_words, n_topics)?;
    let blocking = long_document.map_or_else(Blocking::default, Blocking::longer_than);
    let (nt, how) = (n_t.as_slice(), sums.view());
    let params = AttentiveParams {
        gamma_forward: gf.view(),
        gamma_backward: gb.view(),
        reset: reset.as_ref().map(|r| r.as_slice()),
        beta,
        passes,
        exclude_self,
        filter,
        document_weight,
        tempering,
        document_prior: prior.as_ref().map(|p| p.as_slice()),
        context_prior,
    };
    if let Some(spec) = spec {
        let found = run(py, threads, || {
            let docs = view.documents()?;
            let phi = phi_of(view.phi, n_topics, checked_phi)?;
            attartm_core::attentive_fragments(&docs, phi, nt, &params, blocking, &spec)
        })?;
        return Ok((Some(fragments_to_python(py, found)?), None));
    }
    let (n_docs, n_tokens, out) = run(py, threads, || {
        let docs = view.documents()?;
        let phi = phi_of(view.phi, n_topics, checked_phi)?;
        let out =
            attartm_core::attentive_estep_blocked(&docs, phi, nt, &params, output, how, blocking)?;
        Ok((docs.n_docs(), docs.n_entries(), out))
    })?;
    let values = match output {
        Output::None => None,
        Output::Tokens => Some(to_matrix(py, n_tokens, n_topics, out.values)?.into_any()),
        Output::Contexts => Some(to_matrix(py, n_tokens, 2 * n_topics + 2, out.values)?.into_any()),
        Output::LogLikelihood => Some(out.values.into_pyarray(py).into_any()),
        Output::DocumentMean => Some(to_matrix(py, n_docs, n_topics, out.values)?.into_any()),
        Output::TopK(k) => {
            let pair = (
                to_matrix(py, n_tokens, k, out.topics)?,
                to_matrix(py, n_tokens, k, out.values)?,
            );
            Some(pair.into_pyobject(py)?.into_any())
        }
    };
    Ok((values, sums_to_python(py, out.n_wt, n_words, n_topics)?))
}

/// The Θ-less E-step; see `attartm.kernels.thetaless_estep`.
#[pyfunction]
#[pyo3(signature = (words, doc_offsets, phi, n_t, *, counts=None, variant="full", modality_starts=None, accumulate="dense", into=None, weight=1.0, checked_phi=false, threads=None))]
#[allow(clippy::too_many_arguments)]
fn thetaless_estep<'py>(
    py: Python<'py>,
    words: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    n_t: &Bound<'py, PyAny>,
    counts: Option<&Bound<'py, PyAny>>,
    variant: &str,
    modality_starts: Option<Vec<u32>>,
    accumulate: &str,
    into: Option<&Bound<'py, PyAny>>,
    weight: f64,
    checked_phi: bool,
    threads: Option<usize>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let variant = match variant {
        "full" => Variant::Full,
        "naive" => Variant::Naive,
        other => {
            return Err(PyValueError::new_err(format!(
                "variant must be \"full\" or \"naive\", not {other:?}"
            )))
        }
    };
    let args = Collection::extract(words, doc_offsets, counts, phi)?;
    let (n_words, n_topics) = (args.n_words, args.n_topics);
    let mut sums = Sums::new(accumulate, into, weight, n_words, n_topics)?;
    let n_t = masses_of(&args, n_t, modality_starts.is_some())?;
    let view = args.view();
    sums.check_size(view.n_entries(), n_words, n_topics)?;
    let (nt, how) = (n_t.as_slice(), sums.view());
    let starts = modality_starts.unwrap_or_else(|| vec![0]);
    let n_wt = run(py, threads, || {
        let phi = phi_of(view.phi, n_topics, checked_phi)?;
        let masses = TopicMasses::new(nt, &starts, n_topics)?;
        attartm_core::thetaless_estep_modalities(&view.documents()?, phi, masses, variant, how)
    })?;
    sums_to_python(py, n_wt, n_words, n_topics)
}

/// θ_td = Σ_w (n_dw / n_d) p(t|w); see `attartm.kernels.linear_theta`.
#[pyfunction]
#[pyo3(signature = (words, doc_offsets, phi, n_t, *, counts=None, modality_starts=None, checked_phi=false, threads=None))]
#[allow(clippy::too_many_arguments)]
fn linear_theta<'py>(
    py: Python<'py>,
    words: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    n_t: &Bound<'py, PyAny>,
    counts: Option<&Bound<'py, PyAny>>,
    modality_starts: Option<Vec<u32>>,
    checked_phi: bool,
    threads: Option<usize>,
) -> PyResult<Matrix<'py, f32>> {
    let args = Collection::extract(words, doc_offsets, counts, phi)?;
    let n_t = masses_of(&args, n_t, modality_starts.is_some())?;
    let (view, nt, n_topics) = (args.view(), n_t.as_slice(), args.n_topics);
    sizes::check("θ (documents × topics)", &[view.n_docs(), n_topics], 4)?;
    let starts = modality_starts.unwrap_or_else(|| vec![0]);
    let (n_docs, theta) = run(py, threads, || {
        let docs = view.documents()?;
        let phi = phi_of(view.phi, n_topics, checked_phi)?;
        let masses = TopicMasses::new(nt, &starts, n_topics)?;
        let theta = attartm_core::linear_theta_modalities(&docs, phi, masses)?;
        Ok((docs.n_docs(), theta))
    })?;
    to_matrix(py, n_docs, n_topics, theta)
}

/// n_t of one modality (T values, checked against Φ) or, with `modality_starts`, of
/// several (M·T values, checked by the core against the starts).
fn masses_of<'py>(
    args: &Collection<'py>,
    n_t: &Bound<'py, PyAny>,
    several: bool,
) -> PyResult<buffers::Held<'py, f32, numpy::ndarray::Ix1>> {
    if several {
        vector::<f32>("n_t", n_t)
    } else {
        args.topic_masses(n_t)
    }
}

/// Windows, word and pair counts for coherence; see `attartm.scores.coherence`.
/// Returns (n_windows, occurrences u64[U], pair counts u64[P]).
#[pyfunction]
#[pyo3(signature = (tokens, doc_offsets, words, pairs, *, n_vocabulary, window=None, sliding="gensim", threads=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn window_counts<'py>(
    py: Python<'py>,
    tokens: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    words: &Bound<'py, PyAny>,
    pairs: &Bound<'py, PyAny>,
    n_vocabulary: usize,
    window: Option<usize>,
    sliding: &str,
    threads: Option<usize>,
) -> PyResult<(u64, Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u64>>)> {
    let sliding = match sliding {
        "gensim" => Sliding::Gensim,
        "exact" => Sliding::Exact,
        other => {
            return Err(PyValueError::new_err(format!(
                "sliding must be \"gensim\" or \"exact\", not {other:?}"
            )))
        }
    };
    let tokens = token_ids("tokens", tokens)?;
    let offsets = vector::<i64>("doc_offsets", doc_offsets)?;
    let words = vector::<u32>("words", words)?;
    let pairs = vector::<u32>("pairs", pairs)?;
    let flat = pairs.as_slice();
    if flat.len() % 2 != 0 {
        return Err(PyValueError::new_err(
            "pairs must hold two word indices per pair (a flat array of even length)",
        ));
    }
    sizes::check("the word index (n_vocabulary)", &[n_vocabulary], 4)?;
    let pairs: Vec<(u32, u32)> = flat.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    let (t, o, w) = (tokens.as_slice(), offsets.as_slice(), words.as_slice());
    let out = run(py, threads, || {
        let docs = Documents::new(t, None, o, n_vocabulary)?;
        let spec = CountSpec {
            words: w,
            pairs: &pairs,
            window,
            sliding,
        };
        attartm_core::window_counts(&docs, n_vocabulary, &spec)
    })?;
    Ok((
        out.n_windows,
        out.occurrences.into_pyarray(py),
        out.pairs.into_pyarray(py),
    ))
}

/// The distinct token ids of `tokens` in increasing order (uint32).
#[pyfunction]
fn distinct_words<'py>(
    py: Python<'py>,
    tokens: &Bound<'py, PyAny>,
    n_words: usize,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let tokens = token_ids("tokens", tokens)?;
    sizes::check("the table of words seen (n_words)", &[n_words], 1)?;
    let t = tokens.as_slice();
    let words = run_here(py, || attartm_core::online::distinct_words(t, n_words))?;
    Ok(words.into_pyarray(py))
}

/// (Σ_w n_wt, Σ_w max(n_wt, 0)) over the given rows of a W×T float64 matrix.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn row_sums<'py>(
    py: Python<'py>,
    n_wt: &Bound<'py, PyAny>,
    rows: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>)> {
    let (m, [_, t]) = matrix::<f64>("n_wt", n_wt)?;
    let rows = vector::<u32>("rows", rows)?;
    let (m, r) = (m.as_slice(), rows.as_slice());
    let (total, positive) = run_here(py, || attartm_core::online::row_sums(m, t, r))?;
    Ok((total.into_pyarray(py), positive.into_pyarray(py)))
}

/// n_wt[words[k]] += weight · rows[k], in place; returns the change of n_wt's column sums
/// (Σ_w, Σ_w max(·, 0)).
#[pyfunction]
fn add_rows<'py>(
    py: Python<'py>,
    n_wt: &Bound<'py, PyAny>,
    words: &Bound<'py, PyAny>,
    rows: &Bound<'py, PyAny>,
    weight: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let (mut m, [_, t]) = matrix_mut::<f64>("n_wt", n_wt)?;
    let words = vector::<u32>("words", words)?;
    let (rows, _) = matrix::<f64>("rows", rows)?;
    let (w, r, m) = (words.as_slice(), rows.as_slice(), m.as_slice_mut());
    let change = run_here(py, || attartm_core::online::add_rows(m, t, w, r, weight))?;
    column_change(py, change)
}

/// φ_wt = max(n_wt, 0) / positive_t for the given (increasing) rows of Φ, in place
/// (1/block_rows in an empty column: block_rows rows make the modality of these rows, all
/// of n_wt when None). With `stamps` (int64, one per row of Φ) only the rows whose stamp
/// is not `version` are refreshed, and stamped with it. `save_into` (rows × T), when
/// given, receives a copy of every given row of n_wt.
// Python's keyword arguments, one per parameter.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (phi, n_wt, positive, rows, *, block_rows=None, stamps=None, version=None, threads=None, save_into=None))]
fn refresh_rows<'py>(
    py: Python<'py>,
    phi: &Bound<'py, PyAny>,
    n_wt: &Bound<'py, PyAny>,
    positive: &Bound<'py, PyAny>,
    rows: &Bound<'py, PyAny>,
    block_rows: Option<usize>,
    stamps: Option<&Bound<'py, PyAny>>,
    version: Option<i64>,
    threads: Option<usize>,
    save_into: Option<&Bound<'py, PyAny>>,
) -> PyResult<()> {
    let (mut phi, _) = matrix_mut::<f32>("phi", phi)?;
    let (m, [n_words, _]) = matrix::<f64>("n_wt", n_wt)?;
    let block_rows = block_rows.unwrap_or(n_words);
    let positive = vector::<f64>("positive", positive)?;
    let rows = vector::<u32>("rows", rows)?;
    let mut stamps = match (stamps, version) {
        (Some(s), Some(v)) => Some((vector_mut::<i64>("stamps", s)?, v)),
        (None, None) => None,
        _ => {
            return Err(PyValueError::new_err(
                "stamps and version go together: pass both or neither",
            ))
        }
    };
    let mut save = match save_into {
        Some(s) => Some(matrix_mut::<f64>("save_into", s)?.0),
        None => None,
    };
    let (m, s, r) = (m.as_slice(), positive.as_slice(), rows.as_slice());
    let phi = phi.as_slice_mut();
    let stamps = stamps
        .as_mut()
        .map(|(s, version)| attartm_core::online::Stamps {
            rows: s.as_slice_mut(),
            version: *version,
        });
    let save = save.as_mut().map(|s| s.as_slice_mut());
    run(py, threads, || {
        attartm_core::online::refresh_rows(phi, m, s, r, block_rows, stamps, save)
    })
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(artm_estep, m)?)?;
    m.add_function(wrap_pyfunction!(bag_of_words, m)?)?;
    m.add_function(wrap_pyfunction!(attentive_estep, m)?)?;
    m.add_function(wrap_pyfunction!(thetaless_estep, m)?)?;
    m.add_function(wrap_pyfunction!(linear_theta, m)?)?;
    m.add_function(wrap_pyfunction!(bags::bags_estep, m)?)?;
    m.add_function(wrap_pyfunction!(window_counts, m)?)?;
    m.add_class::<text::Tokenizer>()?;
    m.add_class::<text::WordCounter>()?;
    m.add_function(wrap_pyfunction!(distinct_words, m)?)?;
    m.add_function(wrap_pyfunction!(row_sums, m)?)?;
    m.add_function(wrap_pyfunction!(add_rows, m)?)?;
    m.add_function(wrap_pyfunction!(refresh_rows, m)?)?;
    Ok(())
}

//! `attartm._core`: the thin binding between Python and attartm-core. It only converts
//! arguments (in place where it can), checks them, and releases the GIL while the core runs.

mod buffers;
mod collection;
mod runtime;
mod text;

use attartm_core::{
    AttentiveParams, ClassicParams, CountSpec, Documents, Filter, Output, Sliding, Variant,
};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use buffers::{token_ids, vector};
use collection::Collection;
use runtime::run;

type Matrix<'py, T> = Bound<'py, PyArray2<T>>;

fn to_matrix<'py, T: numpy::Element>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    v: Vec<T>,
) -> PyResult<Matrix<'py, T>> {
    let a = Array2::from_shape_vec((rows, cols), v)
        .map_err(|e| PyValueError::new_err(format!("internal shape error: {e}")))?;
    Ok(a.into_pyarray(py))
}

/// The classic ARTM E-step; see `attartm.kernels.artm_estep`.
#[pyfunction]
#[pyo3(signature = (words, doc_offsets, phi, *, counts=None, doc_passes=10, theta_term=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn artm_estep<'py>(
    py: Python<'py>,
    words: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    counts: Option<&Bound<'py, PyAny>>,
    doc_passes: usize,
    theta_term: Option<Vec<f32>>,
    threads: Option<usize>,
) -> PyResult<(Matrix<'py, f32>, Matrix<'py, f64>)> {
    let args = Collection::extract(words, doc_offsets, counts, phi)?;
    let (n_words, n_topics) = (args.n_words, args.n_topics);
    let params = ClassicParams {
        doc_passes,
        theta_term,
    };
    let view = args.view()?;
    let (n_docs, out) = run(py, threads, || {
        let docs = view.documents()?;
        Ok((
            docs.n_docs(),
            attartm_core::artm_estep(&docs, view.phi, n_topics, &params)?,
        ))
    })?;
    Ok((
        to_matrix(py, n_docs, n_topics, out.theta)?,
        to_matrix(py, n_words, n_topics, out.n_wt)?,
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
    let (t, o) = (tokens.as_slice(), offsets.as_slice()?);
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

/// The attentive E-step; see `attartm.kernels.attentive_estep`. Returns (values, n_wt):
/// values are the rows of `output` ("none", "tokens", "contexts", "loglik", "doc_mean").
#[pyfunction]
#[pyo3(signature = (tokens, doc_offsets, phi, n_t, *, gamma_forward, gamma_backward, beta, passes, exclude_self, filter="p/n_t", reset=None, output="tokens", top=1, accumulate=true, threads=None))]
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
    output: &str,
    top: usize,
    accumulate: bool,
    threads: Option<usize>,
) -> PyResult<(Option<Bound<'py, PyAny>>, Option<Matrix<'py, f64>>)> {
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
    let n_t = args.topic_masses(n_t)?;
    let gf = vector::<f32>("gamma_forward", gamma_forward)?;
    let gb = vector::<f32>("gamma_backward", gamma_backward)?;
    let reset = reset.map(|r| vector::<f32>("reset", r)).transpose()?;
    let (view, nt) = (args.view()?, n_t.as_slice()?);
    let params = AttentiveParams {
        gamma_forward: gf.as_slice()?,
        gamma_backward: gb.as_slice()?,
        reset: reset.as_ref().map(|r| r.as_slice()).transpose()?,
        beta,
        passes,
        exclude_self,
        filter,
    };
    let (n_docs, n_tokens, out) = run(py, threads, || {
        let docs = view.documents()?;
        let out = attartm_core::attentive_estep(&docs, view.phi, nt, &params, output, accumulate)?;
        Ok((docs.n_docs(), docs.n_entries(), out))
    })?;
    let values = match output {
        Output::None => None,
        Output::Tokens => Some(to_matrix(py, n_tokens, n_topics, out.values)?.into_any()),
        Output::Contexts => Some(to_matrix(py, n_tokens, 2 * n_topics + 2, out.values)?.into_any()),
        Output::LogLikelihood => Some(out.values.into_pyarray(py).into_any()),
        Output::DocumentMean => Some(to_matrix(py, n_docs, n_topics, out.values)?.into_any()),
        Output::TopK(k) => {
            // Rows hold k topic indices (as floats) then their k probabilities.
            let mut topics = Vec::with_capacity(n_tokens * k);
            let mut probs = Vec::with_capacity(n_tokens * k);
            for row in out.values.chunks_exact(2 * k) {
                topics.extend(row[..k].iter().map(|&v| v as u16));
                probs.extend_from_slice(&row[k..]);
            }
            let pair = (
                to_matrix(py, n_tokens, k, topics)?,
                to_matrix(py, n_tokens, k, probs)?,
            );
            Some(pair.into_pyobject(py)?.into_any())
        }
    };
    let n_wt = out
        .n_wt
        .map(|v| to_matrix(py, n_words, n_topics, v))
        .transpose()?;
    Ok((values, n_wt))
}

/// The Θ-less E-step; see `attartm.kernels.thetaless_estep`.
#[pyfunction]
#[pyo3(signature = (words, doc_offsets, phi, n_t, *, counts=None, variant="full", threads=None))]
#[allow(clippy::too_many_arguments)]
fn thetaless_estep<'py>(
    py: Python<'py>,
    words: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    n_t: &Bound<'py, PyAny>,
    counts: Option<&Bound<'py, PyAny>>,
    variant: &str,
    threads: Option<usize>,
) -> PyResult<Matrix<'py, f64>> {
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
    let n_t = args.topic_masses(n_t)?;
    let (view, nt) = (args.view()?, n_t.as_slice()?);
    let n_wt = run(py, threads, || {
        attartm_core::thetaless_estep(&view.documents()?, view.phi, nt, variant)
    })?;
    to_matrix(py, n_words, n_topics, n_wt)
}

/// θ_td = Σ_w (n_dw / n_d) p(t|w); see `attartm.kernels.linear_theta`.
#[pyfunction]
#[pyo3(signature = (words, doc_offsets, phi, n_t, *, counts=None, threads=None))]
fn linear_theta<'py>(
    py: Python<'py>,
    words: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    n_t: &Bound<'py, PyAny>,
    counts: Option<&Bound<'py, PyAny>>,
    threads: Option<usize>,
) -> PyResult<Matrix<'py, f32>> {
    let args = Collection::extract(words, doc_offsets, counts, phi)?;
    let n_t = args.topic_masses(n_t)?;
    let (view, nt, n_topics) = (args.view()?, n_t.as_slice()?, args.n_topics);
    let (n_docs, theta) = run(py, threads, || {
        let docs = view.documents()?;
        Ok((
            docs.n_docs(),
            attartm_core::linear_theta(&docs, view.phi, nt)?,
        ))
    })?;
    to_matrix(py, n_docs, n_topics, theta)
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
    let flat = pairs.as_slice()?;
    if flat.len() % 2 != 0 {
        return Err(PyValueError::new_err(
            "pairs must hold two word indices per pair (a flat array of even length)",
        ));
    }
    let pairs: Vec<(u32, u32)> = flat.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    let (t, o, w) = (tokens.as_slice(), offsets.as_slice()?, words.as_slice()?);
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

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(artm_estep, m)?)?;
    m.add_function(wrap_pyfunction!(bag_of_words, m)?)?;
    m.add_function(wrap_pyfunction!(attentive_estep, m)?)?;
    m.add_function(wrap_pyfunction!(thetaless_estep, m)?)?;
    m.add_function(wrap_pyfunction!(linear_theta, m)?)?;
    m.add_function(wrap_pyfunction!(window_counts, m)?)?;
    m.add_class::<text::Tokenizer>()?;
    m.add_class::<text::WordCounter>()?;
    Ok(())
}

//! The E-step of document-level modalities under given θ; see
//! `attartm.kernels.bags_estep`.

use numpy::PyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::buffers::matrix;
use crate::collection::Collection;
use crate::runtime::run;
use crate::{phi_of, sizes, sums_to_python, to_matrix, Sums};

/// Returns (n_td, n_wt): Σ_w c_dw p_tdw per document (D×T float32) and ñ_wt as
/// `accumulate` asks.
#[pyfunction]
#[pyo3(signature = (words, doc_offsets, phi, theta, *, counts=None, tempering=1.0, accumulate="dense", into=None, weight=1.0, checked_phi=false, threads=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn bags_estep<'py>(
    py: Python<'py>,
    words: &Bound<'py, PyAny>,
    doc_offsets: &Bound<'py, PyAny>,
    phi: &Bound<'py, PyAny>,
    theta: &Bound<'py, PyAny>,
    counts: Option<&Bound<'py, PyAny>>,
    tempering: f32,
    accumulate: &str,
    into: Option<&Bound<'py, PyAny>>,
    weight: f64,
    checked_phi: bool,
    threads: Option<usize>,
) -> PyResult<(Bound<'py, PyArray2<f32>>, Option<Bound<'py, PyAny>>)> {
    let args = Collection::extract(words, doc_offsets, counts, phi)?;
    let (n_words, n_topics) = (args.n_words, args.n_topics);
    let (theta, shape) = matrix::<f32>("theta", theta)?;
    if shape[1] != n_topics {
        return Err(PyValueError::new_err(format!(
            "theta must have one column per topic ({n_topics}), but has {}",
            shape[1]
        )));
    }
    let mut sums = Sums::new(accumulate, into, weight, n_words, n_topics)?;
    let view = args.view();
    sums.check_size(view.n_entries(), n_words, n_topics)?;
    sizes::check("n_td (documents × topics)", &[view.n_docs(), n_topics], 4)?;
    let (th, how) = (theta.as_slice(), sums.view());
    let (n_docs, out) = run(py, threads, || {
        let docs = view.documents()?;
        let phi = phi_of(view.phi, n_topics, checked_phi)?;
        let out = attartm_core::bags_estep(&docs, phi, th, tempering, how)?;
        Ok((docs.n_docs(), out))
    })?;
    Ok((
        to_matrix(py, n_docs, n_topics, out.n_td)?,
        sums_to_python(py, out.n_wt, n_words, n_topics)?,
    ))
}

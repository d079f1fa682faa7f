//! The fragments of topics (`output="fragments"` of the attentive kernel): the request
//! as Python gives it, and the fragments found as numpy arrays.

use attartm_core::{Fragment, FragmentSpec};
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// (topics or None for all, k, min_tokens, max_tokens, threshold).
pub type FragmentArgs = (Option<Vec<usize>>, usize, usize, usize, f64);

/// The fragment request of a kernel call: given exactly when `output` is "fragments",
/// which accumulates no ñ_wt.
pub fn fragment_spec(
    output: &str,
    accumulate: &str,
    args: Option<FragmentArgs>,
) -> PyResult<Option<FragmentSpec>> {
    match (output, args) {
        ("fragments", Some((topics, k, min_tokens, max_tokens, threshold))) => {
            if accumulate != "none" {
                return Err(PyValueError::new_err(
                    "output=\"fragments\" accumulates no n_wt: pass accumulate=\"none\"",
                ));
            }
            Ok(Some(FragmentSpec {
                topics,
                k,
                min_tokens,
                max_tokens,
                threshold,
            }))
        }
        ("fragments", None) => Err(PyValueError::new_err(
            "output=\"fragments\" needs fragments=(topics, k, min_tokens, max_tokens, threshold)",
        )),
        (_, Some(_)) => Err(PyValueError::new_err(
            "fragments= goes with output=\"fragments\" only",
        )),
        (_, None) => Ok(None),
    }
}

/// (topic, doc, start, end, score) arrays, one entry per fragment.
pub fn fragments_to_python(py: Python<'_>, found: Vec<Fragment>) -> PyResult<Bound<'_, PyAny>> {
    let column = |f: fn(&Fragment) -> i64| found.iter().map(f).collect::<Vec<i64>>();
    let arrays = (
        column(|f| f.topic as i64).into_pyarray(py),
        column(|f| f.doc as i64).into_pyarray(py),
        column(|f| f.start as i64).into_pyarray(py),
        column(|f| f.end as i64).into_pyarray(py),
        found
            .iter()
            .map(|f| f.score)
            .collect::<Vec<f64>>()
            .into_pyarray(py),
    );
    Ok(arrays.into_pyobject(py)?.into_any())
}

//! The arguments every kernel shares — token ids, document offsets, optional counts and Φ —
//! held from Python once (see `buffers`), then viewed as plain slices while the GIL is
//! released.

use attartm_core::Documents;
use numpy::ndarray::{Ix1, Ix2};
use numpy::{PyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::buffers::{hold, token_ids, vector, Held, TokenIds};

pub struct Collection<'py> {
    words: TokenIds<'py>,
    offsets: Held<'py, i64, Ix1>,
    counts: Option<Held<'py, f32, Ix1>>,
    phi: Held<'py, f32, Ix2>,
    pub n_words: usize,
    pub n_topics: usize,
}

/// The same arguments as slices, which can cross into threads without the GIL.
#[derive(Clone, Copy)]
pub struct View<'a> {
    words: &'a [u32],
    offsets: &'a [i64],
    counts: Option<&'a [f32]>,
    pub phi: &'a [f32],
    n_words: usize,
}

impl<'py> Collection<'py> {
    pub fn extract(
        words: &Bound<'py, PyAny>,
        doc_offsets: &Bound<'py, PyAny>,
        counts: Option<&Bound<'py, PyAny>>,
        phi: &Bound<'py, PyAny>,
    ) -> PyResult<Self> {
        let (phi, [n_words, n_topics]) = phi_matrix(phi)?;
        Ok(Collection {
            words: token_ids("tokens", words)?,
            offsets: vector::<i64>("doc_offsets", doc_offsets)?,
            counts: counts.map(|c| vector::<f32>("counts", c)).transpose()?,
            phi,
            n_words,
            n_topics,
        })
    }

    pub fn view(&self) -> View<'_> {
        View {
            words: self.words.as_slice(),
            offsets: self.offsets.as_slice(),
            counts: self.counts.as_ref().map(|c| c.as_slice()),
            phi: self.phi.as_slice(),
            n_words: self.n_words,
        }
    }

    /// n_t as a contiguous float32 vector of one value per column of Φ.
    pub fn topic_masses(&self, n_t: &Bound<'py, PyAny>) -> PyResult<Held<'py, f32, Ix1>> {
        let n_t = vector::<f32>("n_t", n_t)?;
        if n_t.len() != self.n_topics {
            return Err(PyValueError::new_err(format!(
                "n_t must have one value per topic (phi has {} columns), but has {}",
                self.n_topics,
                n_t.len()
            )));
        }
        Ok(n_t)
    }
}

impl View<'_> {
    /// Entries (tokens or distinct words) and documents, as the offsets claim before they
    /// are checked, for sizing outputs.
    pub fn n_entries(&self) -> usize {
        self.words.len()
    }

    pub fn n_docs(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The validated documents (ids inside Φ's rows, offsets in order).
    pub fn documents(&self) -> attartm_core::Result<Documents<'_>> {
        Documents::new(self.words, self.counts, self.offsets, self.n_words)
    }
}

/// Φ as a row-major W×T float32 numpy array, with its shape.
fn phi_matrix<'py>(phi: &Bound<'py, PyAny>) -> PyResult<(Held<'py, f32, Ix2>, [usize; 2])> {
    let arr = phi
        .cast::<PyArray2<f32>>()
        .map_err(|_| PyTypeError::new_err("phi must be a 2-D float32 numpy array (W×T)"))?;
    // A Fortran-ordered array is contiguous too, but its rows are not: refuse it.
    if !arr.is_c_contiguous() {
        return Err(PyValueError::new_err(
            "phi must be C-contiguous (row-major); pass np.ascontiguousarray(phi)",
        ));
    }
    Ok((hold("phi", arr)?, [arr.shape()[0], arr.shape()[1]]))
}

//! Checks and conversions of the model matrices shared by every kernel.

use crate::error::{check_finite, Error, Result};

/// Validates a row-major W×T matrix Φ (entries finite and non-negative) and returns W.
pub fn check_phi(phi: &[f32], n_topics: usize) -> Result<usize> {
    if n_topics == 0 {
        return Err(Error::Value(
            "the number of topics must be at least 1".into(),
        ));
    }
    if !phi.len().is_multiple_of(n_topics) {
        return Err(Error::Shape(format!(
            "phi has {} values, which is not a multiple of {n_topics} topics",
            phi.len()
        )));
    }
    check_finite("phi", phi)?;
    if let Some(i) = phi.iter().position(|v| *v < 0.0) {
        return Err(Error::Value(format!(
            "phi must be non-negative, but row {} column {} is {}",
            i / n_topics,
            i % n_topics,
            phi[i]
        )));
    }
    Ok(phi.len() / n_topics)
}

/// Validates a per-topic vector (such as n_t or a Θ regularizer term).
pub fn check_topic_vector(name: &str, v: &[f32], n_topics: usize) -> Result<()> {
    if v.len() != n_topics {
        return Err(Error::Shape(format!(
            "{name} must have one value per topic ({n_topics}), but has {}",
            v.len()
        )));
    }
    check_finite(name, v)
}

/// p(t|w) = norm_t(φ_wt n_t) for every word: a W×T row-major matrix.
pub fn topics_given_words(phi: &[f32], n_t: &[f32]) -> Vec<f32> {
    let t = n_t.len();
    let mut out = phi.to_vec();
    for row in out.chunks_exact_mut(t) {
        for (v, n) in row.iter_mut().zip(n_t) {
            *v *= n;
        }
        crate::vector::normalize_positive(row);
    }
    out
}

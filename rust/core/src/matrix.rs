//! Checks and conversions of the model matrices shared by every kernel.

use crate::error::{check_finite, Error, Result};

fn check_shape(len: usize, n_topics: usize) -> Result<usize> {
    if n_topics == 0 {
        return Err(Error::Value(
            "the number of topics must be at least 1".into(),
        ));
    }
    if !len.is_multiple_of(n_topics) {
        return Err(Error::Shape(format!(
            "phi has {len} values, which is not a multiple of {n_topics} topics"
        )));
    }
    Ok(len / n_topics)
}

/// Validates a row-major W×T matrix Φ (entries finite and non-negative) and returns W.
pub fn check_phi(phi: &[f32], n_topics: usize) -> Result<usize> {
    let n_words = check_shape(phi.len(), n_topics)?;
    check_finite("phi", phi)?;
    if let Some(i) = phi.iter().position(|v| *v < 0.0) {
        return Err(Error::Value(format!(
            "phi must be non-negative, but row {} column {} is {}",
            i / n_topics,
            i % n_topics,
            phi[i]
        )));
    }
    Ok(n_words)
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

/// Φ: a row-major W×T matrix of finite, non-negative entries.
#[derive(Clone, Copy, Debug)]
pub struct Phi<'a> {
    values: &'a [f32],
    n_topics: usize,
}

impl<'a> Phi<'a> {
    /// Φ after a check of every entry (a pass over all W×T values).
    pub fn checked(values: &'a [f32], n_topics: usize) -> Result<Self> {
        check_phi(values, n_topics)?;
        Ok(Phi { values, n_topics })
    }

    /// Φ whose entries the caller has already checked (a model checks its Φ once, when it
    /// changes, rather than at every E-step); only the shape is checked here. Entries
    /// that are not finite or are negative then give meaningless results, never undefined
    /// behaviour.
    pub fn trusted(values: &'a [f32], n_topics: usize) -> Result<Self> {
        check_shape(values.len(), n_topics)?;
        Ok(Phi { values, n_topics })
    }

    pub fn n_words(&self) -> usize {
        self.values.len() / self.n_topics
    }

    pub fn n_topics(&self) -> usize {
        self.n_topics
    }

    /// Row w: φ_w·.
    #[inline(always)]
    pub fn row(&self, w: usize) -> &'a [f32] {
        &self.values[w * self.n_topics..(w + 1) * self.n_topics]
    }
}

/// p(t|w) = norm_t(φ_wt n_t) of one word into `out`. Kernels compute it for the words
/// they read, when they read them: a table of every word's row would cost as much memory
/// as Φ, and a pass over all of Φ at every call.
#[inline(always)]
pub fn topics_given_word(phi_w: &[f32], n_t: &[f32], out: &mut [f32]) {
    for ((o, p), n) in out.iter_mut().zip(phi_w).zip(n_t) {
        *o = p * n;
    }
    crate::vector::normalize_positive(out);
}

/// The topic masses of every modality of Φ (docs/mathematics.md §7): Φ's rows are the
/// words of M modalities in consecutive blocks, block m starting at row `starts[m]`, and
/// row m of `values` (M×T) is that modality's n_t, so that p(t|w) = norm_t(φ_wt n_t^m(w)).
/// One modality is the single vector n_t.
#[derive(Clone, Copy, Debug)]
pub struct TopicMasses<'a> {
    values: &'a [f32],
    starts: &'a [u32],
    n_topics: usize,
}

impl<'a> TopicMasses<'a> {
    /// Checks `values` (M×T, finite) against `starts` (M first rows: 0, then increasing).
    pub fn new(values: &'a [f32], starts: &'a [u32], n_topics: usize) -> Result<Self> {
        if starts.first() != Some(&0) || starts.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::Value(format!(
                "modality_starts must start at 0 and increase, but is {starts:?}"
            )));
        }
        if values.len() != starts.len() * n_topics {
            return Err(Error::Shape(format!(
                "n_t must hold one row of {n_topics} topic masses per modality ({}), but has \
                 {} values",
                starts.len(),
                values.len()
            )));
        }
        check_finite("n_t", values)?;
        Ok(TopicMasses {
            values,
            starts,
            n_topics,
        })
    }

    /// The one-modality case: n_t itself.
    pub fn single(n_t: &'a [f32], n_topics: usize) -> Result<Self> {
        check_topic_vector("n_t", n_t, n_topics)?;
        Ok(TopicMasses {
            values: n_t,
            starts: &[0],
            n_topics,
        })
    }

    /// n_t of the modality of row `w`.
    #[inline]
    pub fn of_word(&self, w: u32) -> &'a [f32] {
        let m = self.starts.partition_point(|&s| s <= w) - 1;
        &self.values[m * self.n_topics..(m + 1) * self.n_topics]
    }
}

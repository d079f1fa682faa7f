//! Θ-less ARTM (docs/mathematics.md §2, Irkhin, Bulatov & Vorontsov 2020): θ is not a parameter but
//! the linear topicization θ_td = Σ_w (n_dw / n_d) p(t|w) of Φ, so a document needs one
//! pass, no inner iterations, and no Θ is ever stored.

use rayon::prelude::*;

use crate::accumulate::{accumulate, touched_words, Accumulate, Outputs, Rows, WordTopicSums};
use crate::documents::Documents;
use crate::error::Result;
use crate::matrix::{topics_given_word, Phi, TopicMasses};
use crate::memory::zeroed;
use crate::vector::{axpy, axpy_prod, dot};

/// Which M-step direction the E-step produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// p'_tdw = p_tdw + (φ'_tw / n_d)(n_td/θ_td − Σ_s φ'_sw n_sd/θ_sd): the gradient of
    /// the log-likelihood with θ = θ(Φ).
    Full,
    /// p' = p: ordinary EM with the one-pass E-step.
    Naive,
}

/// p(t|w) = norm_t(φ_wt n_t) of the words the documents use, computed once per call:
/// for those words only, so that its cost follows the documents, not the vocabulary. With
/// several modalities, n_t is that of the word's modality (docs/mathematics.md §7).
struct Prior {
    slots: Vec<u32>,
    rows: Vec<f32>,
    t: usize,
}

impl Prior {
    fn of(docs: &Documents<'_>, phi: Phi<'_>, masses: TopicMasses<'_>) -> Result<Prior> {
        let t = phi.n_topics();
        let (words, slots) = touched_words(docs, phi.n_words());
        let mut rows = zeroed("p(t|w) of the touched words", &[words.len(), t])?;
        rows.par_chunks_mut(t)
            .zip(&words)
            .for_each(|(row, &w)| topics_given_word(phi.row(w as usize), masses.of_word(w), row));
        Ok(Prior { slots, rows, t })
    }

    #[inline]
    fn row(&self, w: usize) -> &[f32] {
        let k = self.slots[w] as usize;
        &self.rows[k * self.t..(k + 1) * self.t]
    }
}

/// θ_d = Σ_w (n_dw / n_d) p(t|w) into `theta` (uniform for an empty document).
fn linear_theta_of(docs: &Documents<'_>, d: usize, prior: &Prior, theta: &mut [f32]) -> f32 {
    let t = theta.len();
    theta.fill(0.0);
    let mut n_d = 0f32;
    for i in docs.range(d) {
        axpy(docs.count(i), prior.row(docs.words()[i] as usize), theta);
        n_d += docs.count(i);
    }
    if n_d > 0.0 {
        theta.iter_mut().for_each(|v| *v /= n_d);
    } else {
        theta.fill(1.0 / t as f32);
    }
    n_d
}

/// The linear topicization of every document: D×T, rows p(t|d).
pub fn linear_theta(docs: &Documents<'_>, phi: Phi<'_>, n_t: &[f32]) -> Result<Vec<f32>> {
    linear_theta_modalities(docs, phi, TopicMasses::single(n_t, phi.n_topics())?)
}

/// [`linear_theta`] over the words of several modalities, each read with its own n_t
/// (and weighted by the counts, which carry the modality weights).
pub fn linear_theta_modalities(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    masses: TopicMasses<'_>,
) -> Result<Vec<f32>> {
    let t = phi.n_topics();
    let prior = Prior::of(docs, phi, masses)?;
    let mut theta = zeroed("θ (documents × topics)", &[docs.n_docs(), t])?;
    let outputs = Outputs {
        doc: Rows {
            values: &mut theta,
            width: t,
        },
        ..Outputs::default()
    };
    accumulate(
        docs,
        phi.n_words(),
        t,
        Accumulate::None,
        outputs,
        |chunk, _, _: &mut ()| {
            for (k, d) in chunk.docs.clone().enumerate() {
                linear_theta_of(docs, d, &prior, &mut chunk.doc_out[k * t..(k + 1) * t]);
            }
        },
    )?;
    Ok(theta)
}

/// The Θ-less E-step: ñ_wt = Σ_d n_dw p'_tdw, which `sums` says what becomes of.
pub fn thetaless_estep(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    n_t: &[f32],
    variant: Variant,
    sums: Accumulate<'_>,
) -> Result<WordTopicSums> {
    let masses = TopicMasses::single(n_t, phi.n_topics())?;
    thetaless_estep_modalities(docs, phi, masses, variant, sums)
}

/// [`thetaless_estep`] over the words of several modalities (docs/mathematics.md §7): the
/// counts carry the modality weights and p(t|w) reads the n_t of the word's modality.
pub fn thetaless_estep_modalities(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    masses: TopicMasses<'_>,
    variant: Variant,
    sums: Accumulate<'_>,
) -> Result<WordTopicSums> {
    let t = phi.n_topics();
    let prior = Prior::of(docs, phi, masses)?;
    accumulate(
        docs,
        phi.n_words(),
        t,
        sums,
        Outputs::default(),
        |chunk, sums, (theta, n_td, ratio): &mut (Vec<f32>, Vec<f32>, Vec<f32>)| {
            for v in [&mut *theta, &mut *n_td, &mut *ratio] {
                v.resize(t, 0.0);
            }
            for d in chunk.docs.clone() {
                let n_d = linear_theta_of(docs, d, &prior, theta);
                if n_d <= 0.0 {
                    continue;
                }
                // p_tdw = φ_wt θ_td / z_w.
                n_td.fill(0.0);
                for i in docs.range(d) {
                    let phi_w = phi.row(docs.words()[i] as usize);
                    let z = dot(phi_w, theta);
                    if z >= f32::MIN_POSITIVE {
                        axpy_prod(docs.count(i) / z, phi_w, theta, n_td);
                    } else {
                        n_td.iter_mut().for_each(|v| *v += docs.count(i) / t as f32);
                    }
                }
                // θ_td = 0 means p(t|w) = 0 for every word of d, so its term vanishes anyway.
                for ((r, n), th) in ratio.iter_mut().zip(n_td.iter()).zip(theta.iter()) {
                    *r = if *th >= f32::MIN_POSITIVE {
                        n / th
                    } else {
                        0.0
                    };
                }
                for i in docs.range(d) {
                    let w = docs.words()[i];
                    let phi_w = phi.row(w as usize);
                    let c = docs.count(i);
                    let z = dot(phi_w, theta);
                    let acc = sums.row(w);
                    if z >= f32::MIN_POSITIVE {
                        axpy_prod(c / z, phi_w, theta, acc);
                    } else {
                        acc.iter_mut().for_each(|v| *v += c / t as f32);
                    }
                    if variant == Variant::Full {
                        let ptw_w = prior.row(w as usize);
                        let correction = dot(ptw_w, ratio);
                        let s = c / n_d;
                        for ((a, p), r) in acc.iter_mut().zip(ptw_w).zip(ratio.iter()) {
                            *a += s * p * (r - correction);
                        }
                    }
                }
            }
        },
    )
}

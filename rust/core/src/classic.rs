//! The E-step of classic ARTM (docs/mathematics.md §1, BigARTM's ProcessBatch).

use rayon::prelude::*;

use crate::accumulate::{accumulate, Accumulate, ChunkSums, Outputs, Rows, WordTopicSums};
use crate::documents::Documents;
use crate::error::{Error, Result};
use crate::matrix::{check_topic_vector, Phi};
use crate::memory::zeroed;
#[cfg(target_arch = "x86_64")]
use crate::vector::has_avx2;
use crate::vector::{axpy, axpy_prod, dot, normalize_positive};

/// Knobs of the classic E-step.
#[derive(Clone, Debug)]
pub struct ClassicParams {
    /// Inner iterations over each document (`doc_passes` ≥ 1).
    pub doc_passes: usize,
    /// θ_td ∂R/∂θ_td per topic (e.g. τ α_t of SmoothSparseTheta), added to n_td before
    /// θ is normalized; `None` for no Θ regularizer.
    pub theta_term: Option<Vec<f32>>,
    /// A factor per topic that n_td is multiplied by before `theta_term` is added: the Θ
    /// terms proportional to n_td (TopicSelectionTheta's 1 − τ n/(|T| n_t),
    /// docs/mathematics.md §8); `None` for none.
    pub theta_scale: Option<Vec<f32>>,
}

/// Result of one E-step over a set of documents.
pub struct ClassicOutput {
    /// θ, D×T row-major: p(t|d) after the last inner iteration.
    pub theta: Vec<f32>,
    /// ñ_wt = Σ_d n_dw p_tdw, as requested.
    pub n_wt: WordTopicSums,
}

/// Runs the E-step of docs/mathematics.md §1 on every document:
/// θ_d starts uniform; `doc_passes` times p_tdw = norm_t(φ_wt θ_td), n_td = Σ_w n_dw p_tdw,
/// θ_td = norm_t(n_td + θ_td ∂R/∂θ_td); then ñ_wt += n_dw p_tdw with the final θ, which
/// `sums` says what becomes of.
pub fn artm_estep(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    params: &ClassicParams,
    sums: Accumulate<'_>,
) -> Result<ClassicOutput> {
    let n_topics = phi.n_topics();
    if params.doc_passes == 0 {
        return Err(Error::Value("doc_passes must be at least 1".into()));
    }
    if let Some(term) = &params.theta_term {
        check_topic_vector("the theta regularizer term", term, n_topics)?;
    }
    if let Some(scale) = &params.theta_scale {
        check_topic_vector("the theta regularizer scale", scale, n_topics)?;
    }
    let t = n_topics;
    #[cfg(target_arch = "x86_64")]
    let simd = has_avx2();
    let mut theta = zeroed("θ (documents × topics)", &[docs.n_docs(), t])?;
    let outputs = Outputs {
        doc: Rows {
            values: &mut theta,
            width: t,
        },
        ..Outputs::default()
    };
    let accumulating = !sums.is_none();
    let n_wt = accumulate(docs, phi.n_words(), t, sums, outputs, |chunk, sums| {
        let mut rows: Vec<f32> = Vec::new();
        let mut n_td = vec![0f32; t];
        for (k, d) in chunk.docs.clone().enumerate() {
            let theta_d = &mut chunk.doc_out[k * t..(k + 1) * t];
            let doc = ClassicDocument {
                docs,
                d,
                phi,
                params,
                accumulate: accumulating,
            };
            #[cfg(target_arch = "x86_64")]
            if simd {
                // SAFETY: `simd` is true only where the processor runs AVX2.
                unsafe { document_avx2(&doc, theta_d, &mut rows, &mut n_td, sums) };
            } else {
                document(&doc, theta_d, &mut rows, &mut n_td, sums);
            }
            #[cfg(not(target_arch = "x86_64"))]
            document(&doc, theta_d, &mut rows, &mut n_td, sums);
        }
    })?;
    Ok(ClassicOutput { theta, n_wt })
}

/// One document of the classic E-step and what it reads.
struct ClassicDocument<'a> {
    docs: &'a Documents<'a>,
    d: usize,
    phi: Phi<'a>,
    params: &'a ClassicParams,
    /// Whether ñ_wt is wanted (not for θ alone).
    accumulate: bool,
}

/// The inner iterations of one document, then its ñ_wt terms into `sums`.
#[inline(always)]
fn document(
    doc: &ClassicDocument<'_>,
    theta_d: &mut [f32],
    rows: &mut Vec<f32>,
    n_td: &mut [f32],
    sums: &mut ChunkSums,
) {
    let (docs, phi, t) = (doc.docs, doc.phi, theta_d.len());
    let range = docs.range(doc.d);
    // Gather the document's Φ rows once: every inner iteration reads them.
    rows.clear();
    for &w in &docs.words()[range.clone()] {
        rows.extend_from_slice(phi.row(w as usize));
    }
    theta_d.fill(1.0 / t as f32);
    for _ in 0..doc.params.doc_passes {
        n_td.fill(0.0);
        // p_tdw = φ_wt θ_td / z_w, so n_td = θ_td Σ_w (n_dw / z_w) φ_wt.
        let mut uniform = 0f32;
        for (j, i) in range.clone().enumerate() {
            let row = &rows[j * t..(j + 1) * t];
            let z = dot(row, theta_d);
            if z >= f32::MIN_POSITIVE {
                axpy(docs.count(i) / z, row, n_td);
            } else {
                uniform += docs.count(i) / t as f32;
            }
        }
        for (n, th) in n_td.iter_mut().zip(theta_d.iter()) {
            *n = *n * th + uniform;
        }
        if let Some(scale) = &doc.params.theta_scale {
            for (n, s) in n_td.iter_mut().zip(scale) {
                *n *= s;
            }
        }
        if let Some(term) = &doc.params.theta_term {
            for (n, r) in n_td.iter_mut().zip(term) {
                *n += r;
            }
        }
        theta_d.copy_from_slice(n_td);
        normalize_positive(theta_d);
    }
    if !doc.accumulate {
        return;
    }
    for (j, i) in range.enumerate() {
        let row = &rows[j * t..(j + 1) * t];
        let z = dot(row, theta_d);
        let acc = sums.row(docs.words()[i]);
        if z >= f32::MIN_POSITIVE {
            axpy_prod(docs.count(i) / z, row, theta_d, acc);
        } else {
            let u = docs.count(i) / t as f32;
            acc.iter_mut().for_each(|a| *a += u);
        }
    }
}

/// [`document`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn document_avx2(
    doc: &ClassicDocument<'_>,
    theta_d: &mut [f32],
    rows: &mut Vec<f32>,
    n_td: &mut [f32],
    sums: &mut ChunkSums,
) {
    document(doc, theta_d, rows, n_td, sums)
}

/// Builds the bag of words of every document: (offsets, word ids, counts), the words of
/// each document in increasing id order. The classic E-step runs on it.
pub fn bag_of_words(docs: &Documents<'_>) -> (Vec<i64>, Vec<u32>, Vec<f32>) {
    let per_doc: Vec<(Vec<u32>, Vec<f32>)> = (0..docs.n_docs())
        .into_par_iter()
        .map(|d| {
            let range = docs.range(d);
            let mut pairs: Vec<(u32, f32)> =
                range.map(|i| (docs.words()[i], docs.count(i))).collect();
            pairs.sort_unstable_by_key(|p| p.0);
            let mut words = Vec::new();
            let mut counts: Vec<f32> = Vec::new();
            for (w, c) in pairs {
                if words.last() == Some(&w) {
                    *counts.last_mut().unwrap() += c;
                } else {
                    words.push(w);
                    counts.push(c);
                }
            }
            (words, counts)
        })
        .collect();
    let mut offsets = Vec::with_capacity(per_doc.len() + 1);
    offsets.push(0i64);
    let mut words = Vec::new();
    let mut counts = Vec::new();
    for (w, c) in per_doc {
        words.extend(w);
        counts.extend(c);
        offsets.push(words.len() as i64);
    }
    (offsets, words, counts)
}

//! The E-step of classic ARTM (docs/mathematics.md §1, BigARTM's ProcessBatch).

use rayon::prelude::*;

use crate::accumulate::{accumulate, Accumulate, ChunkSums, Outputs, Rows, WordTopicSums};
use crate::documents::Documents;
use crate::error::{Error, Result};
use crate::lanes::{blocks, dot, floats, floats_mut, load, prefetch, sums8, uniform, F8, LANES};
use crate::matrix::{check_topic_vector, Phi};
use crate::memory::zeroed;
#[cfg(target_arch = "x86_64")]
use crate::vector::has_avx2;
use crate::vector::normalize_positive;

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
    let n_wt = accumulate(
        docs,
        phi.n_words(),
        t,
        sums,
        outputs,
        |chunk, sums, scratch: &mut Scratch| {
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
                    unsafe { document_avx2(&doc, theta_d, scratch, sums) };
                } else {
                    document::<false>(&doc, theta_d, scratch, sums);
                }
                #[cfg(not(target_arch = "x86_64"))]
                document::<false>(&doc, theta_d, scratch, sums);
            }
        },
    )?;
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

/// Buffers reused across the documents of a worker's chunks; rows are padded to whole blocks
/// (see `lanes`), so every loop over topics is a whole number of vector operations.
#[derive(Default)]
struct Scratch {
    /// The document's Φ rows, one per entry.
    rows: Vec<F8>,
    /// n_dw / z_w of every entry (0 where z_w is too small to divide by).
    weights: Vec<f32>,
    theta: Vec<F8>,
    n_td: Vec<F8>,
}

/// How many tokens ahead the Φ row of an entry is prefetched while the rows are gathered.
const PREFETCH_AHEAD: usize = 8;

/// The inner iterations of one document, then its ñ_wt terms into `sums`.
///
/// Each iteration is two matrix–vector products with the document's gathered Φ rows R
/// (n entries × T): z = R θ, then n_td = θ ⊙ Rᵀ (n_dw / z). The second runs a few blocks
/// of topics at a time over all entries with their sums held in registers, so the
/// additions of successive entries into a topic wait on each other only within a register,
/// never through memory.
#[inline(always)]
fn document<const AVX2: bool>(
    doc: &ClassicDocument<'_>,
    theta_d: &mut [f32],
    scratch: &mut Scratch,
    sums: &mut ChunkSums,
) {
    let (docs, phi, t) = (doc.docs, doc.phi, theta_d.len());
    let k = blocks(t);
    let range = docs.range(doc.d);
    let words = &docs.words()[range.clone()];
    let Scratch {
        rows,
        weights,
        theta,
        n_td,
    } = scratch;
    // Gather the document's Φ rows once: every inner iteration reads them.
    rows.resize(words.len() * k, F8::ZERO);
    for (j, &w) in words.iter().enumerate() {
        if let Some(&ahead) = words.get(j + PREFETCH_AHEAD) {
            prefetch(phi.row(ahead as usize));
        }
        load(phi.row(w as usize), &mut rows[j * k..(j + 1) * k]);
    }
    weights.resize(words.len(), 0.0);
    theta.resize(k, F8::ZERO);
    n_td.resize(k, F8::ZERO);
    uniform(theta, t);
    let inv_t = 1.0 / t as f32;
    let counts = docs.counts().map(|c| &c[range.clone()]);
    for _ in 0..doc.params.doc_passes {
        // p_tdw = φ_wt θ_td / z_w, so n_td = θ_td Σ_w (n_dw / z_w) φ_wt.
        dots::<AVX2>(rows, theta, weights);
        let spread = count_weights(counts, weights, inv_t);
        weighted_sum(rows, weights, k, n_td);
        let (n, th) = (&mut floats_mut(n_td)[..t], &mut floats_mut(theta)[..t]);
        for (n, th) in n.iter_mut().zip(th.iter()) {
            *n = *n * th + spread;
        }
        if let Some(scale) = &doc.params.theta_scale {
            for (n, s) in n.iter_mut().zip(scale) {
                *n *= s;
            }
        }
        if let Some(term) = &doc.params.theta_term {
            for (n, r) in n.iter_mut().zip(term) {
                *n += r;
            }
        }
        th.copy_from_slice(n);
        normalize_positive(th);
    }
    theta_d.copy_from_slice(&floats(theta)[..t]);
    if !doc.accumulate {
        return;
    }
    dots::<AVX2>(rows, theta, weights);
    count_weights(counts, weights, inv_t);
    for (((row, &w), i), &weight) in rows
        .chunks_exact(k)
        .zip(words)
        .zip(range)
        .zip(weights.iter())
    {
        let acc = sums.lanes(w);
        if weight != 0.0 {
            let s = F8::splat(weight);
            for ((a, r), th) in acc.iter_mut().zip(row).zip(theta.iter()) {
                *a += s * *r * *th;
            }
        } else {
            // z_w too small to divide by (or n_dw = 0, which adds nothing either way).
            let u = docs.count(i) * inv_t;
            floats_mut(acc)[..t].iter_mut().for_each(|a| *a += u);
        }
    }
}

/// `weights` (z_j on entry) := n_dj / z_j, or 0 where z_j is too small to divide by; returns
/// the mass of those entries spread over the topics, Σ n_dj / T, added in entry order.
/// The divisions go eight at a time (a select, no branch); the rare entries with a small
/// z_j are summed in a second loop only when there are any. They are the zero weights:
/// with Φ's values at most 1, as in every model, z_j ≤ 1 and n_dj / z_j is 0 only for
/// n_dj = 0, which adds 0 to the sum either way. (With a Φ of huge values given to the
/// kernel directly, an n_dj / z_j that underflows to 0 would be spread as n_dj / T.)
#[inline(always)]
fn count_weights(counts: Option<&[f32]>, weights: &mut [f32], inv_t: f32) -> f32 {
    // n / z where z is large enough to divide by, else 0; and whether it was not (NaN too).
    let divide = |w: &mut f32, n: f32| {
        let divisible = *w >= f32::MIN_POSITIVE;
        *w = if divisible { n / *w } else { 0.0 };
        !divisible
    };
    let small = match counts {
        Some(c) => (weights.iter_mut().zip(c)).fold(false, |s, (w, &n)| s | divide(w, n)),
        None => weights.iter_mut().fold(false, |s, w| s | divide(w, 1.0)),
    };
    if !small {
        return 0.0;
    }
    let mut spread = 0f32;
    for (j, &w) in weights.iter().enumerate() {
        if w == 0.0 {
            spread += counts.map_or(1.0, |c| c[j]) * inv_t;
        }
    }
    spread
}

/// `out_j` = Σ_t rows_jt x_t for every row of `rows` (`x.len()` blocks each), in the order
/// of `lanes::dot`. Eight rows go at once: their sums are independent chains of additions,
/// which the processor overlaps, each block of `x` is loaded once for the eight, and
/// their lanes are added up together ([`sums8`]).
#[inline(always)]
fn dots<const AVX2: bool>(rows: &[F8], x: &[F8], out: &mut [f32]) {
    let k = x.len();
    let mut eights = out.chunks_exact_mut(LANES);
    let mut groups = rows.chunks_exact(LANES * k);
    for (out, rows) in (&mut eights).zip(&mut groups) {
        // Rows cut off one at a time, each of length k for the compiler to see: cut by a
        // computed range each (`from_fn`), it checked every index below, half the
        // instructions of the loop.
        let (r0, rest) = rows.split_at(k);
        let (r1, rest) = rest.split_at(k);
        let (r2, rest) = rest.split_at(k);
        let (r3, rest) = rest.split_at(k);
        let (r4, rest) = rest.split_at(k);
        let (r5, rest) = rest.split_at(k);
        let (r6, r7) = rest.split_at(k);
        let r = [r0, r1, r2, r3, r4, r5, r6, &r7[..k]];
        // Named sums rather than an array, which the compiler would vectorize across.
        let (mut a0, mut a1, mut a2, mut a3) = (F8::ZERO, F8::ZERO, F8::ZERO, F8::ZERO);
        let (mut a4, mut a5, mut a6, mut a7) = (F8::ZERO, F8::ZERO, F8::ZERO, F8::ZERO);
        for (b, &x) in x.iter().enumerate() {
            a0 += r[0][b] * x;
            a1 += r[1][b] * x;
            a2 += r[2][b] * x;
            a3 += r[3][b] * x;
            a4 += r[4][b] * x;
            a5 += r[5][b] * x;
            a6 += r[6][b] * x;
            a7 += r[7][b] * x;
        }
        out.copy_from_slice(&sums8::<AVX2>(&[a0, a1, a2, a3, a4, a5, a6, a7]).0);
    }
    for (o, row) in eights
        .into_remainder()
        .iter_mut()
        .zip(groups.remainder().chunks_exact(k))
    {
        *o = dot(row, x);
    }
}

/// Blocks of topics whose sums [`weighted_sum`] keeps in registers at once: with a
/// multiply and an addition per block and entry, eight chains of additions keep both
/// vector units busy; more would not fit in AVX2's sixteen registers.
const GROUP: usize = 8;

/// `out` = Σ_j weights_j rows_j over rows of `k` blocks, in entry order for every topic.
#[inline(always)]
fn weighted_sum(rows: &[F8], weights: &[f32], k: usize, out: &mut [F8]) {
    // Groups as even as possible: T = 100 (13 blocks) runs as 7 + 6, not 8 + 5.
    let groups = k.div_ceil(GROUP);
    let mut start = 0;
    for g in 0..groups {
        let end = k * (g + 1) / groups;
        let out = &mut out[start..end];
        match end - start {
            1 => group_sum::<1>(rows, weights, k, start, out),
            2 => group_sum::<2>(rows, weights, k, start, out),
            3 => group_sum::<3>(rows, weights, k, start, out),
            4 => group_sum::<4>(rows, weights, k, start, out),
            5 => group_sum::<5>(rows, weights, k, start, out),
            6 => group_sum::<6>(rows, weights, k, start, out),
            7 => group_sum::<7>(rows, weights, k, start, out),
            _ => group_sum::<8>(rows, weights, k, start, out),
        }
        start = end;
    }
}

/// Blocks `start..start + G` of [`weighted_sum`].
#[inline(always)]
fn group_sum<const G: usize>(rows: &[F8], weights: &[f32], k: usize, start: usize, out: &mut [F8]) {
    let mut acc = [F8::ZERO; G];
    for (row, &w) in rows.chunks_exact(k).zip(weights) {
        let (w, row) = (F8::splat(w), &row[start..start + G]);
        for g in 0..G {
            acc[g] += w * row[g];
        }
    }
    out.copy_from_slice(&acc);
}

/// [`document`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn document_avx2(
    doc: &ClassicDocument<'_>,
    theta_d: &mut [f32],
    scratch: &mut Scratch,
    sums: &mut ChunkSums,
) {
    document::<true>(doc, theta_d, scratch, sums)
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

//! The localized E-step of Attentive ARTM (DESIGN 1.3).
//!
//! Each position i gets its own topic vector θ_i from two exponential moving averages of
//! the topic vectors p_j along the text: F from the left, B from the right, both reset at
//! document boundaries. `passes` times, p_i is refined by its context θ_i; finally
//! ñ_{w_i t} += p_ti. Within a document the two passes are sequential streams over
//! contiguous rows of T floats; documents run in parallel.

use crate::accumulate::{accumulate, Accumulate, Outputs, Rows, WordTopicSums};
use crate::documents::Documents;
use crate::error::{check_finite, Error, Result};
use crate::matrix::{check_topic_vector, Phi};
use crate::memory::zeroed;
use std::hint::select_unpredictable;

use crate::vector::{dot, has_avx2, normalize_positive, sum, tempered};

/// How p_i is refined by its context θ_i.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// p_i = norm_t(θ_i p_i / n_t): the previous pass's p(t|C_i, w_i) divided by the prior.
    POverNt,
    /// p_i = norm_t(θ_i φ_{w_i t}).
    Phi,
}

/// Knobs of the attentive E-step.
#[derive(Clone, Debug)]
pub struct AttentiveParams<'a> {
    /// γ→_i per position, in [0, 1]; 0 keeps the token out of every context.
    pub gamma_forward: &'a [f32],
    /// γ←_i per position, in [0, 1].
    pub gamma_backward: &'a [f32],
    /// Reset strength r_i ∈ [0, 1] of a boundary before position i (a sentence or
    /// paragraph start): the contexts carried across it are multiplied by 1 − r_i, so
    /// r_i = 1 separates the two sides like a document boundary. `None`: no resets.
    pub reset: Option<&'a [f32]>,
    /// Weight β of the left context (1 − β for the right one).
    pub beta: f32,
    /// Number of passes L ≥ 1.
    pub passes: usize,
    /// Position i reads F_{i−1} and B_{i+1} instead of F_i and B_i.
    pub exclude_self: bool,
    pub filter: Filter,
    /// Weight λ ∈ [0, 1] of the document head: θ_i = (1 − λ) θ_i^local + λ D_i, with D_i
    /// the mean p of the document's other positions (all of them with `exclude_self`
    /// off). 0: local contexts only.
    pub document_weight: f32,
    /// κ ∈ (0, 1] of tempered EM: ñ_wt accumulates norm_t(p_it^κ) instead of p_it.
    pub tempering: f32,
}

/// What the E-step writes besides ñ_wt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Nothing per position (training).
    None,
    /// p(t|C_i, w_i) after the last pass: n×T.
    Tokens,
    /// The normalized left and right contexts F_i/|F_i| and B_i/|B_i| of the last pass
    /// (zeros where a side is empty), then the effective number of tokens in each,
    /// (Σ w)² / Σ w² over the weights w of the moving average: n×(2T+2).
    Contexts,
    /// ln Σ_t φ_{w_i t} θ_it with the context θ_i of the last pass: n values.
    LogLikelihood,
    /// p(t|d) = mean of p_i over the document after the last pass: D×T.
    DocumentMean,
    /// The k most probable topics of every position (best first, ties to the lower
    /// topic) and their p: n×k topic indices in `topics`, n×k probabilities in `values`.
    TopK(usize),
}

impl Output {
    /// Values per document, per entry, and topic indices per entry.
    fn widths(self, t: usize) -> (usize, usize, usize) {
        match self {
            Output::None => (0, 0, 0),
            Output::Tokens => (0, t, 0),
            Output::Contexts => (0, 2 * t + 2, 0),
            Output::LogLikelihood => (0, 1, 0),
            Output::DocumentMean => (t, 0, 0),
            Output::TopK(k) => (0, k, k),
        }
    }
}

/// Result of the attentive E-step.
pub struct AttentiveOutput {
    /// ñ_wt as requested.
    pub n_wt: WordTopicSums,
    /// The rows of the requested `Output` (empty for `Output::None`).
    pub values: Vec<f32>,
    /// The topic indices of `Output::TopK` (empty otherwise).
    pub topics: Vec<u16>,
}

fn check(docs: &Documents<'_>, n_t: &[f32], p: &AttentiveParams<'_>) -> Result<()> {
    let n = docs.n_entries();
    let mut coefficients = vec![
        ("gamma_forward", p.gamma_forward),
        ("gamma_backward", p.gamma_backward),
    ];
    if let Some(r) = p.reset {
        coefficients.push(("reset", r));
    }
    for (name, g) in coefficients {
        if g.len() != n {
            return Err(Error::Shape(format!(
                "{name} must have one value per token ({n}), but has {}",
                g.len()
            )));
        }
        check_finite(name, g)?;
        if let Some(i) = g.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(Error::Value(format!(
                "{name} must lie in [0, 1], but {name}[{i}] is {}",
                g[i]
            )));
        }
    }
    if !(0.0..=1.0).contains(&p.beta) {
        return Err(Error::Value(format!(
            "beta must lie in [0, 1], but is {}",
            p.beta
        )));
    }
    if p.passes == 0 {
        return Err(Error::Value("passes must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&p.document_weight) {
        return Err(Error::Value(format!(
            "document_weight must lie in [0, 1], but is {}",
            p.document_weight
        )));
    }
    if !(p.tempering > 0.0 && p.tempering <= 1.0) {
        return Err(Error::Value(format!(
            "tempering must lie in (0, 1], but is {}",
            p.tempering
        )));
    }
    if let Some(i) = n_t.iter().position(|v| *v < 0.0) {
        return Err(Error::Value(format!(
            "n_t must be non-negative, but n_t[{i}] is {}",
            n_t[i]
        )));
    }
    Ok(())
}

/// θ = β L/|L| + (1−β) R/|R| as coefficients (a, c, u): θ_t = a L_t + c R_t + u. An empty
/// side gives its weight to the other; both empty give the uniform vector.
#[inline(always)]
fn mix_coefficients(left_sum: f32, right_sum: f32, beta: f32, t: usize) -> (f32, f32, f32) {
    match (left_sum > 0.0, right_sum > 0.0) {
        (true, true) => (beta / left_sum, (1.0 - beta) / right_sum, 0.0),
        (true, false) => (1.0 / left_sum, 0.0, 0.0),
        (false, true) => (0.0, 1.0 / right_sum, 0.0),
        (false, false) => (0.0, 0.0, 1.0 / t as f32),
    }
}

/// x ← γ p + (1 − γ) x
#[inline(always)]
fn blend(x: &mut [f32], p: &[f32], g: f32) {
    let h = 1.0 - g;
    for (xi, pi) in x.iter_mut().zip(p) {
        *xi = g * pi + h * *xi;
    }
}

#[inline]
fn write_normalized(dst: &mut [f32], src: &[f32], s: f32) {
    if s > 0.0 {
        dst.iter_mut().zip(src).for_each(|(d, v)| *d = v / s);
    } else {
        dst.fill(0.0);
    }
}

/// x ← (1 − r) x, with its sum s and sum of squared weights s2 following.
#[inline(always)]
fn fade(x: &mut [f32], s: &mut f32, s2: &mut f32, r: f32) {
    let keep = 1.0 - r;
    x.iter_mut().for_each(|v| *v *= keep);
    *s *= keep;
    *s2 *= keep * keep;
}

/// (Σ w)² / Σ w²: how many tokens a moving average with weights w is worth.
#[inline]
fn effective_count(s1: f32, s2: f32) -> f32 {
    if s2 > 0.0 {
        s1 * s1 / s2
    } else {
        0.0
    }
}

/// Scales a non-negative row to sum 1 (uniform when it sums to 0).
#[inline(always)]
fn rescale(x: &mut [f32]) {
    let s = sum(x);
    if s >= f32::MIN_POSITIVE && s.is_finite() {
        let inv = 1.0 / s;
        x.iter_mut().for_each(|v| *v *= inv);
    } else {
        x.fill(1.0 / x.len() as f32);
    }
}

/// The document head of one pass: Σ_j p_j over the document at the start of the pass
/// and the weight of the mean of the other positions.
struct DocumentHead<'a> {
    sum: &'a [f32],
    /// λ / (number of positions averaged), or 0 when there are none.
    scale: f32,
    weight: f32,
}

/// θ_t = a L_t + c R_t + u + d (S_t − e p_t): the local mix of the two contexts (an empty
/// side gives its weight to the other, both empty the uniform vector) and the document
/// head, where e = 1 leaves the position's own p out of the document sum.
#[inline(always)]
fn mix<const DOC_HEAD: bool>(
    left_sum: f32,
    right_sum: f32,
    beta: f32,
    t: usize,
    head: &DocumentHead<'_>,
) -> (f32, f32, f32, f32) {
    let (a, c, u) = mix_coefficients(left_sum, right_sum, beta, t);
    if !DOC_HEAD || head.scale == 0.0 {
        return (a, c, u, 0.0);
    }
    if !(left_sum > 0.0 || right_sum > 0.0) {
        // No local context at all: the document speaks alone.
        return (0.0, 0.0, 0.0, head.scale / head.weight);
    }
    let keep = 1.0 - head.weight;
    (keep * a, keep * c, keep * u, head.scale)
}

/// One backward step at a position, fused: reads the left context `l` (sum `ls`), updates
/// the right stream `b` with the old p, and overwrites p with norm_t(θ p / n_t) (or
/// norm_t(θ φ_w)). Every p row sums to 1, so |B| is carried as the scalar `bs`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_step<const EXCLUDE_SELF: bool, const PHI_FILTER: bool, const DOC_HEAD: bool>(
    p: &mut [f32],
    b: &mut [f32],
    bs: &mut f32,
    l: &[f32],
    ls: f32,
    g: f32,
    beta: f32,
    scale: &[f32],
    head: &DocumentHead<'_>,
) {
    let h = 1.0 - g;
    let new_bs = g + h * *bs;
    let rs = if EXCLUDE_SELF { *bs } else { new_bs };
    let (a, c, u, d) = mix::<DOC_HEAD>(ls, rs, beta, p.len(), head);
    if DOC_HEAD {
        for ((((pt, bt), lt), st), dt) in p
            .iter_mut()
            .zip(b.iter_mut())
            .zip(l)
            .zip(scale)
            .zip(head.sum)
        {
            let old = *pt;
            let bn = g * old + h * *bt;
            let r = if EXCLUDE_SELF { *bt } else { bn };
            let others = if EXCLUDE_SELF {
                (dt - old).max(0.0)
            } else {
                *dt
            };
            let theta = a * lt + c * r + u + d * others;
            *bt = bn;
            *pt = if PHI_FILTER {
                theta * st
            } else {
                theta * old * st
            };
        }
    } else {
        for (((pt, bt), lt), st) in p.iter_mut().zip(b.iter_mut()).zip(l).zip(scale) {
            let old = *pt;
            let bn = g * old + h * *bt;
            let r = if EXCLUDE_SELF { *bt } else { bn };
            let theta = a * lt + c * r + u;
            *bt = bn;
            *pt = if PHI_FILTER {
                theta * st
            } else {
                theta * old * st
            };
        }
    }
    *bs = new_bs;
    rescale(p);
}

/// Bit i set where `x[i] >= threshold`.
#[inline(always)]
fn at_least(x: &[f32; 8], threshold: f32) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_cmpge_ps, _mm_loadu_ps, _mm_movemask_ps, _mm_set1_ps};
        // SAFETY: SSE is part of every x86_64 processor, and both loads read 4 of the 8
        // values of `x`. (The compiler does not turn the portable loop below into these
        // two compare-and-movemask instructions; it emits one comparison per value.)
        unsafe {
            let t = _mm_set1_ps(threshold);
            let lo = _mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(x.as_ptr()), t));
            let hi = _mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(x.as_ptr().add(4)), t));
            (lo | (hi << 4)) as u32
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut mask = 0u32;
        for (i, &v) in x.iter().enumerate() {
            mask |= ((v >= threshold) as u32) << i;
        }
        mask
    }
}

/// A value and its topic as one number whose order is theirs: higher values first, and
/// for equal values the lower topic. (The bits of a non-negative float order like the
/// float; `+ 0.0` turns a −0 into +0.)
#[inline(always)]
fn key(v: f32, t: usize) -> u64 {
    (((v + 0.0).to_bits() as u64) << 32) | (u16::MAX as usize - t) as u64
}

/// Values of a row at or above a threshold that are offered in a loop of this fixed
/// length (a loop as long as the count would mispredict its exit at every row); a row
/// with more takes the general path.
const FEW: u32 = 8;

/// The K best values of `row` (at most 128, non-negative) among those that reach
/// `threshold`, into `probs` and `topics`, when at most [`FEW`] do; false (and nothing
/// written) otherwise. Each is inserted by compare-exchanges down a buffer of keys held
/// in registers, without branches: where a value lands is unpredictable, and a
/// mispredicted branch costs more than these selects.
#[inline(always)]
fn top_of_few<const K: usize>(
    row: &[f32],
    threshold: f32,
    probs: &mut [f32],
    topics: &mut [u16],
) -> bool {
    const LANES: usize = 8;
    let (lanes, rest) = row.split_at(row.len() - row.len() % LANES);
    let mut bits = 0u128;
    for (c, x) in lanes.chunks_exact(LANES).enumerate() {
        let x: &[f32; LANES] = x.try_into().expect("chunks of LANES");
        bits |= (at_least(x, threshold) as u128) << (c * LANES);
    }
    for (i, &v) in rest.iter().enumerate() {
        bits |= ((v >= threshold) as u128) << (lanes.len() + i);
    }
    if bits.count_ones() > FEW {
        return false;
    }
    let last = row.len() - 1;
    let mut best = [0u64; K];
    for _ in 0..FEW {
        // Past the last candidate: key 0, below every other.
        let i = (bits.trailing_zeros() as usize).min(last);
        let mut x = select_unpredictable(bits != 0, key(row[i], i), 0);
        for b in best.iter_mut() {
            let (hi, lo) = (
                select_unpredictable(x > *b, x, *b),
                select_unpredictable(x > *b, *b, x),
            );
            (*b, x) = (hi, lo);
        }
        bits &= bits.wrapping_sub(1);
    }
    for ((p, t), key) in probs.iter_mut().zip(topics.iter_mut()).zip(best) {
        *p = f32::from_bits((key >> 32) as u32);
        *t = u16::MAX - key as u16;
    }
    true
}

/// The k most probable topics of a row, best first (ties: lower topic first), without
/// sorting the row or sweeping it k times. One vector pass finds the largest value of
/// each of eight lanes; the maxima of four disjoint sets of topics (lanes i and i + 4)
/// are sorted, and for k ≤ 4 the k-th of them is at most the row's k-th largest value,
/// so only the few values at least as large can be among the k best. Those are offered
/// in topic order to a sorted buffer. Larger k, longer rows and rows with many values
/// at the threshold take a general path that offers every value above it.
#[inline(always)]
fn select_top(row: &[f32], topics: &mut [u16], probs: &mut [f32]) {
    const LANES: usize = 8;
    let k = topics.len();
    let mut best = [f32::NEG_INFINITY; LANES];
    for x in row.chunks_exact(LANES) {
        let x: &[f32; LANES] = x.try_into().expect("chunks of LANES");
        for i in 0..LANES {
            best[i] = if x[i] > best[i] { x[i] } else { best[i] };
        }
    }
    let mut threshold = f32::NEG_INFINITY;
    if k <= 4 {
        // A network of five compare-exchanges sorts the four maxima.
        let mut m: [f32; 4] = std::array::from_fn(|i| best[i].max(best[i + 4]));
        for (a, b) in [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)] {
            (m[a], m[b]) = (m[a].max(m[b]), m[a].min(m[b]));
        }
        threshold = m[k - 1];
        if row.len() <= 128 {
            let found = match k {
                1 => top_of_few::<1>(row, threshold, probs, topics),
                2 => top_of_few::<2>(row, threshold, probs, topics),
                3 => top_of_few::<3>(row, threshold, probs, topics),
                _ => top_of_few::<4>(row, threshold, probs, topics),
            };
            if found {
                return;
            }
        }
    }
    // The general path: every value at or above the threshold, with branches.
    probs.fill(f32::NEG_INFINITY);
    topics.fill(0);
    for (t, &v) in row.iter().enumerate() {
        if v >= threshold && v > probs[k - 1] {
            let mut j = k - 1;
            while j > 0 && v > probs[j - 1] {
                probs[j] = probs[j - 1];
                topics[j] = topics[j - 1];
                j -= 1;
            }
            probs[j] = v;
            topics[j] = t as u16;
        }
    }
}

/// Runs DESIGN 1.3 on every document. `phi` is W×T, `n_t` the topic masses; `sums` says
/// what becomes of ñ_wt = Σ of the final p_i over the positions of each word.
pub fn attentive_estep(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    n_t: &[f32],
    params: &AttentiveParams<'_>,
    output: Output,
    sums: Accumulate<'_>,
) -> Result<AttentiveOutput> {
    let t = phi.n_topics();
    check_topic_vector("n_t", n_t, t)?;
    check(docs, n_t, params)?;
    if let Output::TopK(k) = output {
        if k == 0 || k > t || k > u16::MAX as usize + 1 {
            return Err(Error::Value(format!(
                "top must be between 1 and the number of topics ({t}, at most 65536), but is {k}"
            )));
        }
    }
    // A topic with no mass has p(t|w) = 0 everywhere; 0 rather than 1/0 keeps it at 0.
    let inv_nt: Vec<f32> = n_t
        .iter()
        .map(|&n| if n >= f32::MIN_POSITIVE { 1.0 / n } else { 0.0 })
        .collect();
    let (doc_width, entry_width, topics_width) = output.widths(t);
    let mut doc_out = zeroed(docs.n_docs() * doc_width);
    let mut entry_out = zeroed(docs.n_entries() * entry_width);
    let mut topics = zeroed(docs.n_entries() * topics_width);
    let (gf, gb) = (params.gamma_forward, params.gamma_backward);
    let setup = Setup {
        t,
        phi,
        n_t,
        inv_nt: &inv_nt,
        beta: params.beta,
        passes: params.passes,
        exclude_self: params.exclude_self,
        filter: params.filter,
        output,
        document_weight: params.document_weight,
        tempering: if sums.is_none() {
            1.0
        } else {
            params.tempering
        },
        long_document: LONG_DOCUMENT,
    };
    let simd = has_avx2();
    let accumulating = !sums.is_none();
    let outputs = Outputs {
        doc: Rows {
            values: &mut doc_out,
            width: doc_width,
        },
        entry: Rows {
            values: &mut entry_out,
            width: entry_width,
        },
        entry_topics: Rows {
            values: &mut topics,
            width: topics_width,
        },
    };

    let n_wt = accumulate(docs, phi.n_words(), t, sums, outputs, |chunk, sums| {
        let mut scratch = Scratch::new(t);
        let first = docs.range(chunk.docs.start).start;
        for (k, d) in chunk.docs.clone().enumerate() {
            let range = docs.range(d);
            let ctx = DocContext {
                words: &docs.words()[range.clone()],
                gf: &gf[range.clone()],
                gb: &gb[range.clone()],
                reset: params.reset.map(|r| &r[range.clone()]),
                offset: range.start - first,
            };
            let mut out = DocOutput {
                entries: &mut *chunk.entry_out,
                topics: &mut *chunk.entry_topics,
                document: &mut chunk.doc_out[k * doc_width..(k + 1) * doc_width],
            };
            #[cfg(target_arch = "x86_64")]
            if simd {
                // SAFETY: `simd` is true only where the processor runs AVX2.
                unsafe { document_avx2(&ctx, &setup, &mut scratch, &mut out) };
            } else {
                document_any(&ctx, &setup, &mut scratch, &mut out);
            }
            #[cfg(not(target_arch = "x86_64"))]
            document_any(&ctx, &setup, &mut scratch, &mut out);
            if accumulating {
                let rows = if output == Output::Tokens {
                    &out.entries[ctx.offset * t..(ctx.offset + ctx.words.len()) * t]
                } else {
                    &scratch.p[..ctx.words.len() * t]
                };
                let rows = if setup.tempering != 1.0 {
                    &scratch.tempered[..ctx.words.len() * t]
                } else {
                    rows
                };
                for (j, &w) in ctx.words.iter().enumerate() {
                    let acc = sums.row(w);
                    acc.iter_mut()
                        .zip(&rows[j * t..(j + 1) * t])
                        .for_each(|(a, v)| *a += v);
                }
            }
        }
    })?;
    Ok(AttentiveOutput {
        n_wt,
        values: if doc_width > 0 { doc_out } else { entry_out },
        topics,
    })
}

/// What every document of one E-step shares.
struct Setup<'a> {
    t: usize,
    phi: Phi<'a>,
    /// The topic masses: p(t|w) = norm_t(φ_wt n_t).
    n_t: &'a [f32],
    /// 1/n_t (0 for a topic without mass).
    inv_nt: &'a [f32],
    beta: f32,
    passes: usize,
    exclude_self: bool,
    filter: Filter,
    output: Output,
    document_weight: f32,
    /// κ of tempered EM when ñ_wt is accumulated, else 1.
    tempering: f32,
    /// Documents longer than this keep their left contexts a block at a time.
    long_document: usize,
}

/// One document: its words and coefficients, and where its rows start in the chunk output.
struct DocContext<'a> {
    words: &'a [u32],
    gf: &'a [f32],
    gb: &'a [f32],
    reset: Option<&'a [f32]>,
    offset: usize,
}

/// Where one document's outputs go: the chunk's entry rows and topic indices (the
/// document's start at `DocContext::offset`), and the document's own row.
struct DocOutput<'o> {
    entries: &'o mut [f32],
    topics: &'o mut [u16],
    document: &'o mut [f32],
}

/// Buffers reused across the documents of a chunk.
struct Scratch {
    /// p_i of every position of the document (n×T).
    p: Vec<f32>,
    /// The left context each position reads (n×T) and its sum.
    left: Vec<f32>,
    left_sum: Vec<f32>,
    /// The forward stream's state at the start of every block of a long document.
    checkpoints: Vec<f32>,
    checkpoint_sums: Vec<f32>,
    f: Vec<f32>,
    b: Vec<f32>,
    theta: Vec<f32>,
    /// Σ_j p_j of the document at the start of a pass (the document head).
    sum: Vec<f32>,
    /// The tempered rows norm_t(p_i^κ) of the document, on their way into ñ_wt.
    tempered: Vec<f32>,
}

impl Scratch {
    fn new(t: usize) -> Self {
        Scratch {
            p: Vec::new(),
            left: Vec::new(),
            left_sum: Vec::new(),
            checkpoints: Vec::new(),
            checkpoint_sums: Vec::new(),
            f: vec![0.0; t],
            b: vec![0.0; t],
            theta: vec![0.0; t],
            sum: vec![0.0; t],
            tempered: Vec::new(),
        }
    }
}

/// A document longer than this keeps the left contexts of one block of positions at a
/// time rather than of all its positions: the forward stream's state is saved at every
/// block start, and the backward stream recomputes a block's contexts when it enters the
/// block. That costs one more forward step per position, on long documents only, and
/// spares n×T floats of memory per thread where n is largest.
const LONG_DOCUMENT: usize = 4096;
const CONTEXT_BLOCK: usize = 256;

/// One position of the forward stream: a boundary before it fades the context carried in
/// (reset strength `r`), then p_j enters with weight `g`. `left` receives the context the
/// position reads (F_{j−1} when excluding itself, else F_j) and its sum.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_step<const EXCLUDE_SELF: bool>(
    f: &mut [f32],
    fs: &mut f32,
    f2: &mut f32,
    p_j: &[f32],
    g: f32,
    r: f32,
    left: Option<(&mut [f32], &mut f32)>,
) {
    if r > 0.0 {
        fade(f, fs, f2, r);
    }
    let mut left = left;
    if EXCLUDE_SELF {
        if let Some((l, ls)) = left.as_mut() {
            l.copy_from_slice(f);
            **ls = *fs;
        }
    }
    blend(f, p_j, g);
    *fs = g + (1.0 - g) * *fs;
    if !EXCLUDE_SELF {
        if let Some((l, ls)) = left.as_mut() {
            l.copy_from_slice(f);
            **ls = *fs;
        }
    }
    *f2 = g * g + (1.0 - g) * (1.0 - g) * *f2;
}

/// [`document`] for the options of `setup`, as eight monomorphic copies.
#[inline(always)]
fn document_any(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    scratch: &mut Scratch,
    out: &mut DocOutput<'_>,
) {
    let head = setup.document_weight > 0.0;
    match (setup.exclude_self, setup.filter, head) {
        (true, Filter::POverNt, false) => document::<true, false, false>(ctx, setup, scratch, out),
        (true, Filter::Phi, false) => document::<true, true, false>(ctx, setup, scratch, out),
        (false, Filter::POverNt, false) => {
            document::<false, false, false>(ctx, setup, scratch, out)
        }
        (false, Filter::Phi, false) => document::<false, true, false>(ctx, setup, scratch, out),
        (true, Filter::POverNt, true) => document::<true, false, true>(ctx, setup, scratch, out),
        (true, Filter::Phi, true) => document::<true, true, true>(ctx, setup, scratch, out),
        (false, Filter::POverNt, true) => document::<false, false, true>(ctx, setup, scratch, out),
        (false, Filter::Phi, true) => document::<false, true, true>(ctx, setup, scratch, out),
    }
}

/// [`document_any`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn document_avx2(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    scratch: &mut Scratch,
    out: &mut DocOutput<'_>,
) {
    document_any(ctx, setup, scratch, out)
}

/// The localized E-step of one document: `passes` forward and backward streams over its
/// rows; leaves the final p_i in `scratch.p` and writes the requested output.
#[inline(always)]
fn document<const EXCLUDE_SELF: bool, const PHI_FILTER: bool, const DOC_HEAD: bool>(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    scratch: &mut Scratch,
    doc_out: &mut DocOutput<'_>,
) {
    let t = setup.t;
    let n = ctx.words.len();
    let Scratch {
        p,
        left,
        left_sum,
        checkpoints,
        checkpoint_sums,
        f,
        b,
        theta,
        sum,
        tempered: tempered_rows,
    } = scratch;
    // For token output the rows are refined in place in the output itself; every other
    // output goes to `out`.
    let (p, out): (&mut [f32], &mut [f32]) = if setup.output == Output::Tokens {
        (
            &mut doc_out.entries[ctx.offset * t..(ctx.offset + n) * t],
            &mut [],
        )
    } else {
        p.resize(n * t, 0.0);
        (&mut p[..n * t], &mut *doc_out.entries)
    };
    // p(t|w_j) = norm_t(φ_{w_j t} n_t), in two sweeps: the products first, whose loads
    // of scattered Φ rows then overlap one another, the normalizations after.
    for (j, &w) in ctx.words.iter().enumerate() {
        let row = &mut p[j * t..(j + 1) * t];
        for ((o, f), n) in row.iter_mut().zip(setup.phi.row(w as usize)).zip(setup.n_t) {
            *o = f * n;
        }
    }
    for row in p.chunks_exact_mut(t) {
        normalize_positive(row);
    }
    let blocked = n > setup.long_document;
    let kept = if blocked { CONTEXT_BLOCK } else { n };
    left.resize(kept * t, 0.0);
    left_sum.resize(kept, 0.0);
    if blocked {
        checkpoints.resize(n.div_ceil(CONTEXT_BLOCK) * t, 0.0);
        checkpoint_sums.resize(n.div_ceil(CONTEXT_BLOCK), 0.0);
    }
    let reset = |j: usize| ctx.reset.map_or(0.0, |r| r[j]);
    for pass in 0..setup.passes {
        let last = pass + 1 == setup.passes;
        // Forward stream: the left context of every position. Rows of p sum to 1, so
        // |F| follows the same recursion as a scalar.
        f.fill(0.0);
        if DOC_HEAD {
            sum.fill(0.0);
            for row in p.chunks_exact(t) {
                sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
        }
        let others = if EXCLUDE_SELF { n.saturating_sub(1) } else { n };
        let head = DocumentHead {
            sum,
            scale: if DOC_HEAD && others > 0 {
                setup.document_weight / others as f32
            } else {
                0.0
            },
            weight: setup.document_weight,
        };
        let (mut fs, mut f2) = (0f32, 0f32);
        for j in 0..n {
            let left_j = if blocked {
                if j % CONTEXT_BLOCK == 0 {
                    let k = j / CONTEXT_BLOCK;
                    checkpoints[k * t..(k + 1) * t].copy_from_slice(f);
                    checkpoint_sums[k] = fs;
                }
                None
            } else {
                Some((&mut left[j * t..(j + 1) * t], &mut left_sum[j]))
            };
            let p_j = &p[j * t..(j + 1) * t];
            forward_step::<EXCLUDE_SELF>(f, &mut fs, &mut f2, p_j, ctx.gf[j], reset(j), left_j);
            if last && setup.output == Output::Contexts {
                let e = (ctx.offset + j) * (2 * t + 2);
                write_normalized(&mut out[e..e + t], f, fs);
                out[e + 2 * t] = effective_count(fs, f2);
            }
        }
        // Backward stream, fused with θ_i and the new p_i.
        b.fill(0.0);
        let (mut bs, mut b2) = (0f32, 0f32);
        for j in (0..n).rev() {
            if blocked && (j + 1 == n || (j + 1) % CONTEXT_BLOCK == 0) {
                // Entering a block from its end: its positions are still unchanged by
                // this pass, so the forward stream recomputed from the block's
                // checkpoint gives the same contexts, bit for bit.
                let (k, start) = (j / CONTEXT_BLOCK, j / CONTEXT_BLOCK * CONTEXT_BLOCK);
                f.copy_from_slice(&checkpoints[k * t..(k + 1) * t]);
                let (mut s, mut unused) = (checkpoint_sums[k], 0f32);
                for i in start..=j {
                    let row = i - start;
                    let left_i = Some((&mut left[row * t..(row + 1) * t], &mut left_sum[row]));
                    let p_i = &p[i * t..(i + 1) * t];
                    forward_step::<EXCLUDE_SELF>(
                        f,
                        &mut s,
                        &mut unused,
                        p_i,
                        ctx.gf[i],
                        reset(i),
                        left_i,
                    );
                }
            }
            let row = if blocked { j % CONTEXT_BLOCK } else { j };
            // A boundary after j (before j + 1): the right context fades the same way.
            let r = match ctx.reset {
                Some(r) if j + 1 < n => r[j + 1],
                _ => 0.0,
            };
            if r > 0.0 {
                fade(b, &mut bs, &mut b2, r);
            }
            let phi_w = setup.phi.row(ctx.words[j] as usize);
            let (l, ls) = (&left[row * t..(row + 1) * t], left_sum[row]);
            let g = ctx.gb[j];
            if last && setup.output == Output::LogLikelihood {
                let h = 1.0 - g;
                let rs = if EXCLUDE_SELF { bs } else { g + h * bs };
                let (a, c, u, d) = mix::<DOC_HEAD>(ls, rs, setup.beta, t, &head);
                for (((th, lt), (bt, pt)), st) in theta
                    .iter_mut()
                    .zip(l)
                    .zip(b.iter().zip(&p[j * t..(j + 1) * t]))
                    .zip(head.sum)
                {
                    let r = if EXCLUDE_SELF { *bt } else { g * pt + h * bt };
                    let others = if EXCLUDE_SELF {
                        (st - pt).max(0.0)
                    } else {
                        *st
                    };
                    *th = a * lt + c * r + u + d * others;
                }
                out[ctx.offset + j] = dot(phi_w, theta).ln();
            }
            let scale = if PHI_FILTER { phi_w } else { setup.inv_nt };
            let pj = &mut p[j * t..(j + 1) * t];
            backward_step::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD>(
                pj, b, &mut bs, l, ls, g, setup.beta, scale, &head,
            );
            b2 = g * g + (1.0 - g) * (1.0 - g) * b2;
            if last {
                match setup.output {
                    Output::Contexts => {
                        let e = (ctx.offset + j) * (2 * t + 2);
                        write_normalized(&mut out[e + t..e + 2 * t], b, bs);
                        out[e + 2 * t + 1] = effective_count(bs, b2);
                    }
                    // The final p_j is still in cache: pick its best topics now.
                    Output::TopK(k) => {
                        let e = (ctx.offset + j) * k;
                        select_top(pj, &mut doc_out.topics[e..e + k], &mut out[e..e + k]);
                    }
                    _ => {}
                }
            }
        }
    }
    if setup.tempering != 1.0 {
        tempered_rows.resize(n * t, 0.0);
        for (dst, src) in tempered_rows.chunks_exact_mut(t).zip(p.chunks_exact(t)) {
            tempered(src, setup.tempering, dst);
        }
    }
    if setup.output == Output::DocumentMean {
        let doc_row = &mut *doc_out.document;
        doc_row.fill(0.0);
        for j in 0..n {
            doc_row
                .iter_mut()
                .zip(&p[j * t..(j + 1) * t])
                .for_each(|(a, v)| *a += v);
        }
        rescale(doc_row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long document gives the same bits whether its left contexts are kept whole or a
    /// block at a time.
    #[test]
    fn blocked_left_contexts_change_no_bit() {
        let (t, n, n_words) = (7, 1000, 50);
        let mut x = 7u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 40) as f32) / (1u64 << 24) as f32
        };
        let words: Vec<u32> = (0..n).map(|_| (next() * n_words as f32) as u32).collect();
        let phi: Vec<f32> = (0..n_words * t).map(|_| next() + 0.01).collect();
        let n_t: Vec<f32> = (0..t).map(|_| 1.0 + next()).collect();
        let gf: Vec<f32> = (0..n)
            .map(|i| if i % 9 == 0 { 0.0 } else { next() })
            .collect();
        let gb: Vec<f32> = (0..n).map(|_| next()).collect();
        let reset: Vec<f32> = (0..n).map(|i| [0.0, 0.5, 1.0][i % 37 % 3]).collect();
        let inv_nt: Vec<f32> = n_t.iter().map(|v| 1.0 / v).collect();
        let options = [
            (true, Filter::POverNt, 0.0),
            (false, Filter::Phi, 0.25),
            (true, Filter::Phi, 0.4),
        ];
        for (exclude_self, filter, document_weight) in options {
            for output in [Output::Tokens, Output::Contexts, Output::LogLikelihood] {
                let run = |long_document| {
                    let setup = Setup {
                        t,
                        phi: Phi::checked(&phi, t).unwrap(),
                        n_t: &n_t,
                        inv_nt: &inv_nt,
                        beta: 0.3,
                        passes: 3,
                        exclude_self,
                        filter,
                        output,
                        document_weight,
                        tempering: 1.0,
                        long_document,
                    };
                    let ctx = DocContext {
                        words: &words,
                        gf: &gf,
                        gb: &gb,
                        reset: Some(&reset),
                        offset: 0,
                    };
                    let width = output.widths(t).1;
                    let mut entries = vec![0f32; n * width];
                    let mut out = DocOutput {
                        entries: &mut entries,
                        topics: &mut [],
                        document: &mut [],
                    };
                    document_any(&ctx, &setup, &mut Scratch::new(t), &mut out);
                    entries
                };
                assert_eq!(run(usize::MAX), run(0));
                assert_eq!(run(usize::MAX), run(CONTEXT_BLOCK + 1));
            }
        }
    }
}

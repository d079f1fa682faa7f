//! The localized E-step of Attentive ARTM (docs/mathematics.md §3).
//!
//! Each position i gets its own topic vector θ_i from two exponential moving averages of
//! the topic vectors p_j along the text: F from the left, B from the right, both reset at
//! document boundaries. `passes` times, p_i is refined by its context θ_i; finally
//! ñ_{w_i t} += p_ti. Within a document the two passes are sequential streams over
//! contiguous rows of T floats; documents run in parallel.

use crate::accumulate::{accumulate, Accumulate, Chunk, ChunkSums, Outputs, Rows, WordTopicSums};
use crate::documents::Documents;
use crate::error::{check_finite, Error, Result};
use crate::matrix::{check_topic_vector, Phi};
use crate::memory::zeroed;
use std::hint::select_unpredictable;

use crate::lanes::{
    blocks, floats, inverse_sum, load, padded, prefetch, store_scaled, uniform, F8,
};
use crate::vector::{dot, has_avx2, probability_power8};

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

#[inline]
fn write_normalized(dst: &mut [f32], src: &[f32], s: f32) {
    if s > 0.0 {
        dst.iter_mut().zip(src).for_each(|(d, v)| *d = v / s);
    } else {
        dst.fill(0.0);
    }
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

/// The document head of one pass: Σ_j p_j over the document at the start of the pass
/// and the weight of the mean of the other positions.
struct DocumentHead {
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
    head: &DocumentHead,
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

/// Runs docs/mathematics.md §3 on every document. `phi` is W×T, `n_t` the topic masses; `sums` says
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
    let what = "the output of the attentive E-step";
    let mut doc_out = zeroed(what, &[docs.n_docs(), doc_width])?;
    let mut entry_out = zeroed(what, &[docs.n_entries(), entry_width])?;
    let mut topics = zeroed(what, &[docs.n_entries(), topics_width])?;
    let setup = Setup {
        t,
        k: blocks(t),
        phi,
        n_t: padded(n_t),
        inv_nt: padded(&inv_nt),
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

    let n_wt = accumulate(docs, phi.n_words(), t, sums, outputs, |mut chunk, sums| {
        let mut scratch = Scratch::default();
        let mut table = WordTable::default();
        let run = ChunkRun {
            docs,
            setup: &setup,
            params,
            doc_width,
            accumulating,
        };
        #[cfg(target_arch = "x86_64")]
        if simd {
            // SAFETY: `simd` is true only where the processor runs AVX2.
            unsafe { chunk_avx2(&run, &mut chunk, sums, &mut table, &mut scratch) };
        } else {
            chunk_any(&run, &mut chunk, sums, &mut table, &mut scratch);
        }
        #[cfg(not(target_arch = "x86_64"))]
        chunk_any(&run, &mut chunk, sums, &mut table, &mut scratch);
    })?;
    Ok(AttentiveOutput {
        n_wt,
        values: if doc_width > 0 { doc_out } else { entry_out },
        topics,
    })
}

/// What the documents of a chunk share besides `Setup`.
struct ChunkRun<'a> {
    docs: &'a Documents<'a>,
    setup: &'a Setup<'a>,
    params: &'a AttentiveParams<'a>,
    doc_width: usize,
    accumulating: bool,
}

/// p(t|w) up to a factor for every word of a chunk, computed once per word rather than
/// once per token (a chunk holds each of its words about three times on average, and a
/// row of Φ, scattered in a large matrix, is the slowest thing a token reads): row r is
/// q_w = φ_w ⊙ n_t for the word of the chunk's sums row r, with 1/Σ_t q_w.
#[derive(Default)]
struct WordTable {
    q: Vec<F8>,
    inv_s: Vec<f32>,
    /// φ_w itself (the φ filter only).
    phi: Vec<F8>,
    /// The row of every token of the chunk.
    slots: Vec<u32>,
}

impl WordTable {
    /// Fills the table for the tokens `words`, naming their rows in `sums`.
    #[inline(always)]
    fn fill(&mut self, words: &[u32], setup: &Setup<'_>, sums: &mut ChunkSums) {
        let k = setup.k;
        let with_phi = setup.filter == Filter::Phi;
        self.q.clear();
        self.phi.clear();
        self.slots.clear();
        for (j, &w) in words.iter().enumerate() {
            if let Some(&ahead) = words.get(j + PREFETCH_AHEAD) {
                prefetch(setup.phi.row(ahead as usize));
            }
            let slot = sums.slot(w);
            self.slots.push(slot as u32);
            if slot * k < self.q.len() {
                continue;
            }
            let start = self.q.len();
            self.q.resize(start + k, F8::ZERO);
            let row = &mut self.q[start..];
            load(setup.phi.row(w as usize), row);
            if with_phi {
                self.phi.extend_from_slice(row);
            }
            for (x, m) in row.iter_mut().zip(&setup.n_t) {
                *x *= *m;
            }
        }
        self.inv_s.clear();
        for row in self.q.chunks_exact_mut(k) {
            self.inv_s.push(inverse_sum(row, setup.t));
        }
    }
}

/// The documents of one chunk.
#[inline(always)]
fn chunk_any(
    run: &ChunkRun<'_>,
    chunk: &mut Chunk<'_>,
    sums: &mut ChunkSums,
    table: &mut WordTable,
    scratch: &mut Scratch,
) {
    let docs = run.docs;
    let first = docs.range(chunk.docs.start).start;
    let end = docs.range(chunk.docs.end - 1).end;
    table.fill(&docs.words()[first..end], run.setup, sums);
    let (gf, gb) = (run.params.gamma_forward, run.params.gamma_backward);
    let width = run.doc_width;
    for (k, d) in chunk.docs.clone().enumerate() {
        let range = docs.range(d);
        let ctx = DocContext {
            words: &docs.words()[range.clone()],
            slots: &table.slots[range.start - first..range.end - first],
            gf: &gf[range.clone()],
            gb: &gb[range.clone()],
            reset: run.params.reset.map(|r| &r[range.clone()]),
            offset: range.start - first,
        };
        let mut out = DocOutput {
            entries: &mut *chunk.entry_out,
            topics: &mut *chunk.entry_topics,
            document: &mut chunk.doc_out[k * width..(k + 1) * width],
            sums: if run.accumulating {
                Some(&mut *sums)
            } else {
                None
            },
        };
        document_any(&ctx, run.setup, table, scratch, &mut out);
    }
}

/// [`chunk_any`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn chunk_avx2(
    run: &ChunkRun<'_>,
    chunk: &mut Chunk<'_>,
    sums: &mut ChunkSums,
    table: &mut WordTable,
    scratch: &mut Scratch,
) {
    chunk_any(run, chunk, sums, table, scratch)
}

/// What every document of one E-step shares.
struct Setup<'a> {
    t: usize,
    /// Blocks per row of T values (see `lanes`).
    k: usize,
    phi: Phi<'a>,
    /// The topic masses: p(t|w) = norm_t(φ_wt n_t).
    n_t: Vec<F8>,
    /// 1/n_t (0 for a topic without mass).
    inv_nt: Vec<F8>,
    beta: f32,
    passes: usize,
    exclude_self: bool,
    filter: Filter,
    output: Output,
    document_weight: f32,
    /// κ of tempered EM when ñ_wt is accumulated, else 1.
    tempering: f32,
    /// Documents longer than this keep their left contexts a block of positions at a time.
    long_document: usize,
}

/// One document: its words and coefficients, and where its rows start in the chunk output.
struct DocContext<'a> {
    words: &'a [u32],
    /// The row of every token in the chunk's `WordTable` and sums.
    slots: &'a [u32],
    gf: &'a [f32],
    gb: &'a [f32],
    reset: Option<&'a [f32]>,
    offset: usize,
}

impl DocContext<'_> {
    /// Reset strength of the boundary before position j.
    #[inline(always)]
    fn reset(&self, j: usize) -> f32 {
        self.reset.map_or(0.0, |r| r[j])
    }
}

/// Where one document's outputs go: the chunk's entry rows and topic indices (the
/// document's start at `DocContext::offset`), the document's own row, and the chunk's
/// ñ_wt rows when it is accumulated.
struct DocOutput<'o> {
    entries: &'o mut [f32],
    topics: &'o mut [u16],
    document: &'o mut [f32],
    sums: Option<&'o mut ChunkSums>,
}

/// Buffers reused across the documents of a chunk. Rows are `Setup::k` blocks.
#[derive(Default)]
struct Scratch {
    /// p_i of every position up to a factor: p_i = q_i · inv_s_i. The next step that
    /// reads a row scales it by a scalar on the way, which spares a pass over the row to
    /// normalize it.
    q: Vec<F8>,
    inv_s: Vec<f32>,
    /// The left context each position reads, and its sum.
    left: Vec<F8>,
    left_sum: Vec<f32>,
    /// The left context of every block start of a long document, and its sum.
    checkpoints: Vec<F8>,
    checkpoint_sums: Vec<f32>,
    /// The right stream.
    b: Vec<F8>,
    /// A row on the side: a tempered or normalized p, a context or θ on its way out.
    row: Vec<F8>,
    /// Σ_j p_j of the document at the start of a pass (the document head).
    sum: Vec<F8>,
}

/// A document longer than this keeps the left contexts of one block of positions at a
/// time rather than of all its positions: the left context of every block start is saved,
/// and the backward stream recomputes a block's contexts when it enters the block. That
/// costs one more forward step per position, on long documents only, and spares n×T
/// floats of memory per thread where n is largest.
const LONG_DOCUMENT: usize = 4096;
/// How many tokens ahead the Φ row of a token is prefetched.
const PREFETCH_AHEAD: usize = 8;
const CONTEXT_BLOCK: usize = 256;

/// How the left context L_j that position j reads follows from L_{j−1}:
/// L_j = α q_src + β L_{j−1} and |L_j| = g + β |L_{j−1}|, as (src, α, β, g); None for
/// the empty context (position 0 excluding itself). The forward stream F enters p_i with
/// weight γ→_i after fading by the boundary before i (strength r_i); position j reads
/// F_{j−1} faded by r_j when excluding itself, else F_j. Rows of p sum to 1, so |L|
/// follows the same recursion as a scalar.
#[inline(always)]
fn link<const EXCLUDE_SELF: bool>(
    ctx: &DocContext<'_>,
    inv_s: &[f32],
    j: usize,
) -> Option<(usize, f32, f32, f32)> {
    let keep = 1.0 - ctx.reset(j);
    if EXCLUDE_SELF {
        if j == 0 {
            return None;
        }
        let g = ctx.gf[j - 1];
        Some((j - 1, keep * g * inv_s[j - 1], keep * (1.0 - g), keep * g))
    } else {
        let g = ctx.gf[j];
        Some((j, g * inv_s[j], (1.0 - g) * keep, g))
    }
}

/// `dst` = α q + β prev (prev = 0 when None).
#[inline(always)]
fn context_step(dst: &mut [F8], prev: Option<&[F8]>, q: &[F8], alpha: f32, beta: f32) {
    let (a, b) = (F8::splat(alpha), F8::splat(beta));
    let q = &q[..dst.len()];
    match prev {
        Some(prev) => {
            let prev = &prev[..dst.len()];
            for i in 0..dst.len() {
                dst[i] = a * q[i] + b * prev[i];
            }
        }
        None => {
            for i in 0..dst.len() {
                dst[i] = a * q[i];
            }
        }
    }
}

/// Left context `j` (row `row` of `left`, the row of j − 1 at `prev`) and its sum.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn left_context<const EXCLUDE_SELF: bool>(
    ctx: &DocContext<'_>,
    q: &[F8],
    inv_s: &[f32],
    left: &mut [F8],
    left_sum: &mut [f32],
    k: usize,
    j: usize,
    row: usize,
    prev: Option<usize>,
) {
    match link::<EXCLUDE_SELF>(ctx, inv_s, j) {
        None => {
            left[row * k..(row + 1) * k].fill(F8::ZERO);
            left_sum[row] = 0.0;
        }
        Some((src, alpha, beta, g)) => {
            let q_src = &q[src * k..(src + 1) * k];
            match prev {
                None => {
                    context_step(&mut left[row * k..(row + 1) * k], None, q_src, alpha, beta);
                    left_sum[row] = g;
                }
                Some(p) => {
                    let (dst, prev_row) = two_rows(left, k, row, p);
                    context_step(dst, Some(prev_row), q_src, alpha, beta);
                    left_sum[row] = g + beta * left_sum[p];
                }
            }
        }
    }
}

/// Rows `dst` (for writing) and `src` ≠ `dst` of a buffer of rows of `k` blocks.
#[inline(always)]
fn two_rows(buf: &mut [F8], k: usize, dst: usize, src: usize) -> (&mut [F8], &[F8]) {
    if dst > src {
        let (lo, hi) = buf.split_at_mut(dst * k);
        (&mut hi[..k], &lo[src * k..(src + 1) * k])
    } else {
        let (lo, hi) = buf.split_at_mut(src * k);
        (&mut lo[dst * k..(dst + 1) * k], &hi[..k])
    }
}

/// The coefficients of one backward step (see `backward_row`).
struct Step {
    /// B_j = g q_j + h B_{j+1}: γ←_j inv_s_j and (1 − γ←_j)(1 − r_{j+1}).
    g: F8,
    h: F8,
    /// θ_j = a L_j + c R_j + u + d others_j, scaled by inv_s_j under the p/n_t filter.
    a: F8,
    c: F8,
    u: F8,
    d: F8,
    /// inv_s_j, to read p_j = q_j inv_s_j (the document head).
    inv_s: F8,
}

/// One backward step over a row: the right stream `b` takes in p_j, and q_j becomes
/// θ_j p_j / n_t (or θ_j φ_{w_j}) up to a factor. Returns the lane sums of the new q_j.
/// `UNIFORM` adds the constant term u of θ (both contexts empty).
#[inline(always)]
fn backward_row<
    const EXCLUDE_SELF: bool,
    const PHI_FILTER: bool,
    const DOC_HEAD: bool,
    const UNIFORM: bool,
>(
    q: &mut [F8],
    b: &mut [F8],
    l: &[F8],
    scale: &[F8],
    head: &[F8],
    s: &Step,
) -> F8 {
    let k = q.len();
    let (b, l, scale) = (&mut b[..k], &l[..k], &scale[..k]);
    let head = if DOC_HEAD { &head[..k] } else { &[][..] };
    // Two sums, of the even and the odd blocks: half the chain of dependent additions.
    let mut acc = [F8::ZERO; 2];
    for i in 0..k {
        let (qo, bo) = (q[i], b[i]);
        let bn = s.g * qo + s.h * bo;
        let r = if EXCLUDE_SELF { bo } else { bn };
        let mut theta = s.a * l[i] + s.c * r;
        if UNIFORM {
            theta += s.u;
        }
        if DOC_HEAD {
            let others = if EXCLUDE_SELF {
                (head[i] - qo * s.inv_s).max(F8::ZERO)
            } else {
                head[i]
            };
            theta += s.d * others;
        }
        let qn = if PHI_FILTER {
            theta * scale[i]
        } else {
            theta * qo * scale[i]
        };
        b[i] = bn;
        q[i] = qn;
        acc[i % 2] += qn;
    }
    acc[0] + acc[1]
}

/// [`document`] for the options of `setup`, as eight monomorphic copies.
#[inline(always)]
fn document_any(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    table: &WordTable,
    scratch: &mut Scratch,
    out: &mut DocOutput<'_>,
) {
    let head = setup.document_weight > 0.0;
    match (setup.exclude_self, setup.filter, head) {
        (true, Filter::POverNt, false) => {
            document::<true, false, false>(ctx, setup, table, scratch, out)
        }
        (true, Filter::Phi, false) => {
            document::<true, true, false>(ctx, setup, table, scratch, out)
        }
        (false, Filter::POverNt, false) => {
            document::<false, false, false>(ctx, setup, table, scratch, out)
        }
        (false, Filter::Phi, false) => {
            document::<false, true, false>(ctx, setup, table, scratch, out)
        }
        (true, Filter::POverNt, true) => {
            document::<true, false, true>(ctx, setup, table, scratch, out)
        }
        (true, Filter::Phi, true) => document::<true, true, true>(ctx, setup, table, scratch, out),
        (false, Filter::POverNt, true) => {
            document::<false, false, true>(ctx, setup, table, scratch, out)
        }
        (false, Filter::Phi, true) => {
            document::<false, true, true>(ctx, setup, table, scratch, out)
        }
    }
}

/// The localized E-step of one document: `passes` forward and backward streams over its
/// rows; the last backward stream adds each final p_j into ñ_wt and writes the requested
/// output as it goes.
#[inline(always)]
fn document<const EXCLUDE_SELF: bool, const PHI_FILTER: bool, const DOC_HEAD: bool>(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    table: &WordTable,
    scratch: &mut Scratch,
    doc_out: &mut DocOutput<'_>,
) {
    let (t, k) = (setup.t, setup.k);
    let n = ctx.words.len();
    if n == 0 {
        if setup.output == Output::DocumentMean {
            doc_out.document.fill(1.0 / t as f32);
        }
        return;
    }
    let Scratch {
        q,
        inv_s,
        left,
        left_sum,
        checkpoints,
        checkpoint_sums,
        b,
        row: side,
        sum,
    } = scratch;
    q.resize(n * k, F8::ZERO);
    inv_s.resize(n, 0.0);
    b.resize(k, F8::ZERO);
    side.resize(k, F8::ZERO);
    sum.resize(k, F8::ZERO);
    // p(t|w_j) = norm_t(φ_{w_j t} n_t), from the chunk's table.
    for (j, &slot) in ctx.slots.iter().enumerate() {
        let slot = slot as usize;
        q[j * k..(j + 1) * k].copy_from_slice(&table.q[slot * k..(slot + 1) * k]);
        inv_s[j] = table.inv_s[slot];
    }
    let blocked = n > setup.long_document;
    let kept = if blocked { CONTEXT_BLOCK } else { n };
    left.resize(kept * k, F8::ZERO);
    left_sum.resize(kept, 0.0);
    if blocked {
        checkpoints.resize(n.div_ceil(CONTEXT_BLOCK) * k, F8::ZERO);
        checkpoint_sums.resize(n.div_ceil(CONTEXT_BLOCK), 0.0);
    }
    let ring = |j: usize| if blocked { j % CONTEXT_BLOCK } else { j };
    let output = setup.output;
    for pass in 0..setup.passes {
        let last = pass + 1 == setup.passes;
        if DOC_HEAD {
            sum.fill(F8::ZERO);
            for (row, &s) in q.chunks_exact(k).zip(inv_s.iter()) {
                let s = F8::splat(s);
                sum.iter_mut().zip(row).for_each(|(a, v)| *a += *v * s);
            }
        }
        let others = if EXCLUDE_SELF { n - 1 } else { n };
        let head = DocumentHead {
            scale: if DOC_HEAD && others > 0 {
                setup.document_weight / others as f32
            } else {
                0.0
            },
            weight: setup.document_weight,
        };
        // Forward stream: the left context of every position.
        let mut f2 = 0f32;
        for j in 0..n {
            let row = ring(j);
            let prev = if j == 0 { None } else { Some(ring(j - 1)) };
            left_context::<EXCLUDE_SELF>(ctx, q, inv_s, left, left_sum, k, j, row, prev);
            if blocked && j % CONTEXT_BLOCK == 0 {
                let c = j / CONTEXT_BLOCK;
                checkpoints[c * k..(c + 1) * k].copy_from_slice(&left[row * k..(row + 1) * k]);
                checkpoint_sums[c] = left_sum[row];
            }
            if last && output == Output::Contexts {
                // F_j, which takes in p_j: the context position j reads, or the one
                // after it.
                let (g, keep) = (ctx.gf[j], 1.0 - ctx.reset(j));
                let l = &left[row * k..(row + 1) * k];
                let fs = if EXCLUDE_SELF {
                    let qj = &q[j * k..(j + 1) * k];
                    context_step(side, Some(l), qj, g * inv_s[j], 1.0 - g);
                    g + (1.0 - g) * left_sum[row]
                } else {
                    side.copy_from_slice(l);
                    left_sum[row]
                };
                f2 = g * g + (1.0 - g) * (1.0 - g) * (keep * keep * f2);
                let e = (ctx.offset + j) * (2 * t + 2);
                write_normalized(&mut doc_out.entries[e..e + t], &floats(side)[..t], fs);
                doc_out.entries[e + 2 * t] = effective_count(fs, f2);
            }
        }
        // Backward stream, fused with θ_j and the new p_j.
        b.fill(F8::ZERO);
        let (mut bs, mut b2) = (0f32, 0f32);
        for j in (0..n).rev() {
            if blocked && (j + 1 == n || (j + 1) % CONTEXT_BLOCK == 0) {
                // Entering a block from its end: its positions are still unchanged by
                // this pass, so the contexts recomputed from the block's checkpoint are
                // the same, bit for bit.
                let (c, start) = (j / CONTEXT_BLOCK, j / CONTEXT_BLOCK * CONTEXT_BLOCK);
                left[..k].copy_from_slice(&checkpoints[c * k..(c + 1) * k]);
                left_sum[0] = checkpoint_sums[c];
                for i in start + 1..=j {
                    let (row, prev) = (i - start, i - start - 1);
                    left_context::<EXCLUDE_SELF>(
                        ctx,
                        q,
                        inv_s,
                        left,
                        left_sum,
                        k,
                        i,
                        row,
                        Some(prev),
                    );
                }
            }
            let row = ring(j);
            // A boundary after j (before j + 1) fades the right context the same way.
            let keep = match ctx.reset {
                Some(r) if j + 1 < n => 1.0 - r[j + 1],
                _ => 1.0,
            };
            bs *= keep;
            b2 *= keep * keep;
            let g = ctx.gb[j];
            let h = 1.0 - g;
            let new_bs = g + h * bs;
            let rs = if EXCLUDE_SELF { bs } else { new_bs };
            let ls = left_sum[row];
            let (a, c, u, d) = mix::<DOC_HEAD>(ls, rs, setup.beta, t, &head);
            let is = inv_s[j];
            // Excluding itself, θ reads the faded B_{j+1} that `b` holds unfaded.
            let c_b = if EXCLUDE_SELF { c * keep } else { c };
            if last && output == Output::LogLikelihood {
                let (q_j, l) = (&q[j * k..(j + 1) * k], &left[row * k..(row + 1) * k]);
                let p_scale = F8::splat(is);
                let (av, cv, uv, dv) = (F8::splat(a), F8::splat(c_b), F8::splat(u), F8::splat(d));
                let (gv, hv) = (F8::splat(g * is), F8::splat(h * keep));
                for i in 0..k {
                    let r = if EXCLUDE_SELF {
                        b[i]
                    } else {
                        gv * q_j[i] + hv * b[i]
                    };
                    let others = if EXCLUDE_SELF {
                        (sum[i] - q_j[i] * p_scale).max(F8::ZERO)
                    } else {
                        sum[i]
                    };
                    let head_term = if DOC_HEAD { dv * others } else { F8::ZERO };
                    side[i] = av * l[i] + cv * r + uv + head_term;
                }
                let phi_w = setup.phi.row(ctx.words[j] as usize);
                doc_out.entries[ctx.offset + j] = dot(phi_w, &floats(side)[..t]).ln();
            }
            // Under the p/n_t filter θ_j multiplies q_j, so inv_s_j goes into θ's
            // coefficients; the φ filter reads no p_j.
            let sc = if PHI_FILTER { 1.0 } else { is };
            let step = Step {
                g: F8::splat(g * is),
                h: F8::splat(h * keep),
                a: F8::splat(a * sc),
                c: F8::splat(c_b * sc),
                u: F8::splat(u * sc),
                d: F8::splat(d * sc),
                inv_s: F8::splat(is),
            };
            let scale = if PHI_FILTER {
                let slot = ctx.slots[j] as usize;
                &table.phi[slot * k..(slot + 1) * k]
            } else {
                &setup.inv_nt[..]
            };
            let l = &left[row * k..(row + 1) * k];
            let q_j = &mut q[j * k..(j + 1) * k];
            let acc = if u != 0.0 {
                backward_row::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD, true>(
                    q_j, b, l, scale, sum, &step,
                )
            } else {
                backward_row::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD, false>(
                    q_j, b, l, scale, sum, &step,
                )
            };
            let s = acc.sum();
            let is = if s >= f32::MIN_POSITIVE && s.is_finite() {
                1.0 / s
            } else {
                uniform(q_j, t);
                1.0
            };
            inv_s[j] = is;
            bs = new_bs;
            b2 = g * g + h * h * b2;
            if !last {
                continue;
            }
            // Tempered sums wait until the pass is over (below).
            if let (Some(sums), true) = (doc_out.sums.as_deref_mut(), setup.tempering == 1.0) {
                let acc = sums.lanes_at(ctx.slots[j] as usize);
                let p_scale = F8::splat(is);
                for (a, v) in acc.iter_mut().zip(q_j.iter()) {
                    *a += *v * p_scale;
                }
            }
            match output {
                Output::Contexts => {
                    let e = (ctx.offset + j) * (2 * t + 2);
                    write_normalized(&mut doc_out.entries[e + t..e + 2 * t], &floats(b)[..t], bs);
                    doc_out.entries[e + 2 * t + 1] = effective_count(bs, b2);
                }
                // The final p_j is still in cache: pick its best topics now.
                Output::TopK(top) => {
                    let p_scale = F8::splat(is);
                    for (o, v) in side.iter_mut().zip(q_j.iter()) {
                        *o = *v * p_scale;
                    }
                    let e = (ctx.offset + j) * top;
                    select_top(
                        &floats(side)[..t],
                        &mut doc_out.topics[e..e + top],
                        &mut doc_out.entries[e..e + top],
                    );
                }
                _ => {}
            }
        }
    }
    if let (Some(sums), true) = (doc_out.sums.as_deref_mut(), setup.tempering != 1.0) {
        tempered_sums(ctx, q, inv_s, side, sums, setup.tempering, t);
    }
    match output {
        Output::Tokens => {
            for j in 0..n {
                let e = (ctx.offset + j) * t;
                store_scaled(
                    &q[j * k..(j + 1) * k],
                    inv_s[j],
                    &mut doc_out.entries[e..e + t],
                );
            }
        }
        Output::DocumentMean => {
            side.fill(F8::ZERO);
            for (row, &s) in q.chunks_exact(k).zip(inv_s.iter()) {
                let s = F8::splat(s);
                side.iter_mut().zip(row).for_each(|(a, v)| *a += *v * s);
            }
            let s = inverse_sum(side, t);
            store_scaled(side, s, doc_out.document);
        }
        _ => {}
    }
}

/// Tempered EM's statistics of one document: ñ_{w_j t} += norm_t(p_jt^κ) for the final
/// p_j = q_j · inv_s_j, in the order the backward stream visits the positions (so the sums
/// are those an addition at each position would give). Kept out of that stream: here
/// the positions are independent of each other, so the processor overlaps the long
/// chains of the power function across positions, which inside the stream's loop wait
/// behind its recurrence.
#[inline(always)]
fn tempered_sums(
    ctx: &DocContext<'_>,
    q: &[F8],
    inv_s: &[f32],
    side: &mut [F8],
    sums: &mut ChunkSums,
    kappa: f32,
    t: usize,
) {
    let k = side.len();
    for j in (0..inv_s.len()).rev() {
        let p_scale = F8::splat(inv_s[j]);
        for (o, v) in side.iter_mut().zip(&q[j * k..(j + 1) * k]) {
            *o = probability_power8(*v * p_scale, kappa);
        }
        let w = F8::splat(inverse_sum(side, t));
        let acc = sums.lanes_at(ctx.slots[j] as usize);
        for (a, v) in acc.iter_mut().zip(side.iter()) {
            *a += *v * w;
        }
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
                        k: blocks(t),
                        phi: Phi::checked(&phi, t).unwrap(),
                        n_t: padded(&n_t),
                        inv_nt: padded(&inv_nt),
                        beta: 0.3,
                        passes: 3,
                        exclude_self,
                        filter,
                        output,
                        document_weight,
                        tempering: 1.0,
                        long_document,
                    };
                    let mut sums = ChunkSums::new(n_words, t);
                    let mut table = WordTable::default();
                    table.fill(&words, &setup, &mut sums);
                    let ctx = DocContext {
                        words: &words,
                        slots: &table.slots,
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
                        sums: None,
                    };
                    document_any(&ctx, &setup, &table, &mut Scratch::default(), &mut out);
                    entries
                };
                assert_eq!(run(usize::MAX), run(0));
                assert_eq!(run(usize::MAX), run(CONTEXT_BLOCK + 1));
            }
        }
    }
}

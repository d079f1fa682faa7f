//! The localized E-step of Attentive ARTM (docs/mathematics.md §3).
//!
//! Each position i gets its own topic vector θ_i from two exponential moving averages of
//! the topic vectors p_j along the text: F from the left, B from the right, both reset at
//! document boundaries. `passes` times, p_i is refined by its context θ_i; finally
//! ñ_{w_i t} += p_ti. Within a document the two passes are sequential streams over
//! contiguous rows of T floats; documents run in parallel. A long document runs a block
//! of positions at a time, from checkpoints that each pass leaves, with the same results
//! (docs/mathematics.md §3, "Long documents").

use crate::accumulate::{accumulate, Accumulate, Chunk, ChunkSums, Outputs, Rows, WordTopicSums};
use crate::cancel::{self, Cancel};
use crate::documents::Documents;
use crate::error::{check_finite, Error, Result};
use crate::matrix::{check_topic_vector, Phi};
use crate::memory::zeroed;
use std::hint::select_unpredictable;
use std::ops::Range;
use std::sync::Arc;

use crate::lanes::{
    blocks, floats, floats_mut, inverse_sum, load, padded, prefetch, store_scaled, uniform, F8,
    LANES,
};
#[cfg(target_arch = "x86_64")]
use crate::vector::has_avx2;
use crate::vector::{dot, has_fused_multiply_add, probability_power8};

/// How p_i is refined by its context θ_i.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// p_i = norm_t(θ_i p_i / n_t): the previous pass's p(t|C_i, w_i) divided by the prior.
    POverNt,
    /// p_i = norm_t(θ_i φ_{w_i t}).
    Phi,
}

/// γ of every position: one value for all of them, or one per position (token weights).
/// The common case holds no memory per token.
#[derive(Clone, Copy, Debug)]
pub enum Gamma<'a> {
    Uniform(f32),
    PerPosition(&'a [f32]),
}

impl<'a> Gamma<'a> {
    /// γ of position j.
    #[inline(always)]
    fn at(self, j: usize) -> f32 {
        match self {
            Gamma::Uniform(g) => g,
            Gamma::PerPosition(g) => g[j],
        }
    }

    /// The γ of the positions `range`.
    fn of(self, range: Range<usize>) -> Gamma<'a> {
        match self {
            Gamma::Uniform(g) => Gamma::Uniform(g),
            Gamma::PerPosition(g) => Gamma::PerPosition(&g[range]),
        }
    }
}

/// Knobs of the attentive E-step.
#[derive(Clone, Debug)]
pub struct AttentiveParams<'a> {
    /// γ→_i, in [0, 1]; 0 keeps the token out of every context.
    pub gamma_forward: Gamma<'a>,
    /// γ←_i, in [0, 1].
    pub gamma_backward: Gamma<'a>,
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
    /// The other modalities' vector P_d of every document (D×T, entries ≥ 0, each row
    /// summing to μ_d ≤ 1): θ_i = (1 − μ_d) θ_i^text + P_d (docs/mathematics.md §7).
    /// `None`: the text alone.
    pub document_prior: Option<&'a [f32]>,
    /// A symmetric Dirichlet prior on the text's context of every position, in training
    /// only (in a call that accumulates ñ_wt, whose outputs then read the same θ):
    /// θ_i = (1 − ε_i) θ_i + ε_i/T with ε_i = 1 / (1 + x|F_i| + y|B_i|), where
    /// (x, y) = (h→/m, h←/m) for windows h→, h← and a prior of m tokens, so that
    /// h→|F_i| + h←|B_i| is the number of tokens the contexts hold (docs/mathematics.md
    /// §3). `None`: no prior.
    pub context_prior: Option<(f32, f32)>,
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
    let mut coefficients = vec![];
    for (name, gamma) in [
        ("gamma_forward", p.gamma_forward),
        ("gamma_backward", p.gamma_backward),
    ] {
        match gamma {
            Gamma::Uniform(g) if !(0.0..=1.0).contains(&g) => {
                return Err(Error::Value(format!(
                    "{name} must lie in [0, 1], but is {g}"
                )))
            }
            Gamma::Uniform(_) => {}
            Gamma::PerPosition(g) => coefficients.push((name, g)),
        }
    }
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
    if let Some(prior) = p.document_prior {
        check_prior(prior, docs.n_docs(), n_t.len())?;
    }
    if let Some((x, y)) = p.context_prior {
        if !(x.is_finite() && y.is_finite() && x >= 0.0 && y >= 0.0) {
            return Err(Error::Value(format!(
                "the context prior's scales must be finite and non-negative, but are ({x}, {y})"
            )));
        }
    }
    if let Some(i) = n_t.iter().position(|v| *v < 0.0) {
        return Err(Error::Value(format!(
            "n_t must be non-negative, but n_t[{i}] is {}",
            n_t[i]
        )));
    }
    Ok(())
}

/// The document prior: D rows of T finite values ≥ 0, each summing to at most 1.
fn check_prior(prior: &[f32], n_docs: usize, t: usize) -> Result<()> {
    if prior.len() != n_docs * t {
        return Err(Error::Shape(format!(
            "document_prior must have one row of {t} values per document ({n_docs}), but has \
             {} values",
            prior.len()
        )));
    }
    check_finite("document_prior", prior)?;
    for (d, row) in prior.chunks_exact(t.max(1)).enumerate() {
        let sum: f32 = row.iter().sum();
        if row.iter().any(|v| *v < 0.0) || sum > 1.0 + 1e-4 {
            return Err(Error::Value(format!(
                "document_prior rows must be non-negative and sum to at most 1, but row {d} \
                 sums to {sum}"
            )));
        }
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

/// The document head of one pass: Σ_j p_j over the document's positions that enter
/// contexts (γ→_j > 0 or γ←_j > 0), at the start of the pass, and the weight λ of the mean
/// of the other ones. A position kept out of every context (γ = 0: a held-out token, a
/// token of weight 0) is kept out of the document head too.
struct DocumentHead {
    weight: f32,
    /// How many positions enter contexts.
    count: f32,
}

impl DocumentHead {
    /// λ / (the number of positions position j averages over), or 0 when there are none:
    /// the other positions in context, or with `exclude_self` off all of them.
    #[inline(always)]
    fn scale<const EXCLUDE_SELF: bool>(&self, j_in_context: bool) -> f32 {
        let others = self.count - f32::from(u8::from(EXCLUDE_SELF && j_in_context));
        if others > 0.0 {
            self.weight / others
        } else {
            0.0
        }
    }
}

/// Whether position j enters contexts (and so the document head).
#[inline(always)]
fn in_context(ctx: &DocContext<'_>, j: usize) -> bool {
    ctx.gf.at(j) > 0.0 || ctx.gb.at(j) > 0.0
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
    scale: f32,
) -> (f32, f32, f32, f32) {
    let (a, c, u) = mix_coefficients(left_sum, right_sum, beta, t);
    if !DOC_HEAD || scale == 0.0 {
        return (a, c, u, 0.0);
    }
    if !(left_sum > 0.0 || right_sum > 0.0) {
        // No local context at all: the document speaks alone.
        return (0.0, 0.0, 0.0, scale / head.weight);
    }
    let keep = 1.0 - head.weight;
    (keep * a, keep * c, keep * u, scale)
}

/// Bit i set where `x[i] * scale >= threshold`.
#[inline(always)]
fn at_least(x: &[f32; 8], scale: f32, threshold: f32) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_cmpge_ps, _mm_loadu_ps, _mm_movemask_ps, _mm_mul_ps, _mm_set1_ps,
        };
        // SAFETY: SSE is part of every x86_64 processor, and both loads read 4 of the 8
        // values of `x`. (The compiler does not turn the portable loop below into these
        // compare-and-movemask instructions; it emits one comparison per value.)
        unsafe {
            let (t, s) = (_mm_set1_ps(threshold), _mm_set1_ps(scale));
            let lo = _mm_mul_ps(_mm_loadu_ps(x.as_ptr()), s);
            let hi = _mm_mul_ps(_mm_loadu_ps(x.as_ptr().add(4)), s);
            let lo = _mm_movemask_ps(_mm_cmpge_ps(lo, t));
            let hi = _mm_movemask_ps(_mm_cmpge_ps(hi, t));
            (lo | (hi << 4)) as u32
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut mask = 0u32;
        for (i, &v) in x.iter().enumerate() {
            mask |= ((v * scale >= threshold) as u32) << i;
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

/// Bit t set where `row[t] * scale >= threshold`, for a row of at most 128 values.
#[inline(always)]
fn candidates(row: &[f32], scale: f32, threshold: f32) -> u128 {
    const LANES: usize = 8;
    let (lanes, rest) = row.split_at(row.len() - row.len() % LANES);
    // Topics 0..64 in `lo`, 64..128 in `hi`: a shift of a u128 by a variable amount is a
    // branchy sequence of instructions, one of a u64 a single one.
    let mask = |x: &[f32]| at_least(x.try_into().expect("chunks of LANES"), scale, threshold);
    let (mut lo, mut hi) = (0u64, 0u64);
    let mut blocks = lanes.chunks_exact(LANES);
    for (c, x) in (&mut blocks).take(8).enumerate() {
        lo |= (mask(x) as u64) << (c * LANES);
    }
    for (c, x) in blocks.enumerate() {
        hi |= (mask(x) as u64) << (c * LANES);
    }
    // The last values (fewer than LANES) start at a multiple of LANES: in one word.
    let tail = rest.iter().enumerate().fold(0u64, |m, (i, &v)| {
        m | ((v * scale >= threshold) as u64) << i
    });
    match lanes.len() {
        n if n < 64 => lo |= tail << n,
        n if n < 128 => hi |= tail << (n - 64),
        _ => {} // 128 values: no tail
    }
    (hi as u128) << 64 | lo as u128
}

/// The best value of `row ⊙ scale` when its threshold is the largest p itself (k = 1: the
/// largest of the lane maxima, scaled, and scaling keeps the order): every candidate ties
/// at it, so the first is the answer, without the loop of [`top_of_few`]. False where there
/// is none, which only a row that is not of probabilities (a NaN) gives.
#[inline(always)]
fn first_of(
    row: &[f32],
    scale: f32,
    candidates: u128,
    probs: &mut [f32],
    topics: &mut [u16],
) -> bool {
    if candidates == 0 {
        return false;
    }
    let i = candidates.trailing_zeros() as usize;
    (probs[0], topics[0]) = (row[i] * scale, i as u16);
    true
}

/// The K best values of `row ⊙ scale` (at most 128, non-negative) among the
/// `candidates` (bit t: topic t), into `probs` and `topics`. Each is inserted by
/// compare-exchanges down a buffer of keys held in registers, without branches: where a
/// value lands is unpredictable, and a mispredicted branch costs more than these selects.
/// The loop itself runs once per candidate: a loop of fixed length that skips the missing
/// ones measured slower, since most rows have exactly K candidates or one more (README,
/// "the selection for k ≤ 4"). False (and nothing written) with fewer than K candidates,
/// which a threshold that is a lower bound of the K-th value never gives.
#[inline(always)]
fn top_of_few<const K: usize>(
    row: &[f32],
    scale: f32,
    candidates: u128,
    probs: &mut [f32],
    topics: &mut [u16],
) -> bool {
    let mut bits = candidates;
    // Key 0 is below that of every value of a row of at most 128.
    let mut best = [0u64; K];
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        let mut x = key(row[i] * scale, i);
        for b in best.iter_mut() {
            let (hi, lo) = (
                select_unpredictable(x > *b, x, *b),
                select_unpredictable(x > *b, *b, x),
            );
            (*b, x) = (hi, lo);
        }
    }
    if best[K - 1] == 0 {
        return false;
    }
    for ((p, t), key) in probs.iter_mut().zip(topics.iter_mut()).zip(best) {
        *p = f32::from_bits((key >> 32) as u32);
        *t = u16::MAX - key as u16;
    }
    true
}

/// The k-th largest of eight values, where equal values count once (`NEG_INFINITY` if
/// fewer than k are distinct): one comparison with the largest so far removes it from
/// every lane that holds it, with no lane to keep track of, and the result is still at
/// most the k-th largest counted with repeats, which is all a lower bound needs.
#[inline(always)]
fn kth_largest_of_eight(values: [f32; 8], k: usize) -> f32 {
    // A comparison rather than `f32::max`, whose care for NaN doubles the instructions:
    // the kernel's rows hold no NaN (a row whose sum is not a positive number is made
    // uniform first).
    let larger = |a: f32, b: f32| if a > b { a } else { b };
    let largest = |m: [f32; 8]| {
        let a: [f32; 4] = std::array::from_fn(|i| larger(m[i], m[i + 4]));
        larger(larger(a[0], a[2]), larger(a[1], a[3]))
    };
    let (mut m, mut x) = (values, largest(values));
    for _ in 1..k {
        m = m.map(|y| if y >= x { f32::NEG_INFINITY } else { y });
        x = largest(m);
    }
    x
}

/// A lower bound of the k-th largest p of a row ⊙ `scale` from its lane maxima (see
/// [`select_top`]); `NEG_INFINITY` past the eight lanes.
#[inline(always)]
fn top_threshold(lane_max: F8, k: usize, scale: f32) -> f32 {
    if k <= LANES {
        kth_largest_of_eight(lane_max.0, k) * scale
    } else {
        f32::NEG_INFINITY
    }
}

/// The k ≤ 4 best of a row of at most 128 among the values at or above `threshold`; false
/// (nothing written) where those are fewer than k.
#[inline(always)]
fn top_of_candidates(
    row: &[f32],
    scale: f32,
    threshold: f32,
    topics: &mut [u16],
    probs: &mut [f32],
) -> bool {
    let bits = candidates(row, scale, threshold);
    match topics.len() {
        1 => first_of(row, scale, bits, probs, topics),
        2 => top_of_few::<2>(row, scale, bits, probs, topics),
        3 => top_of_few::<3>(row, scale, bits, probs, topics),
        _ => top_of_few::<4>(row, scale, bits, probs, topics),
    }
}

/// The k most probable topics of the row p = `row` ⊙ `scale` (`row` non-negative, `scale`
/// positive), best first (ties: lower topic first), without sorting the row or sweeping it
/// k times. `lane_max` holds the largest value of `row` in each of eight lanes (topic t in
/// lane t mod 8, padding zeros allowed), which the kernel keeps while it computes the row.
/// The lanes are disjoint sets of topics, so the k-th largest of their maxima is at most
/// the k-th largest value of the row (a padding lane's 0 is at most every value of a
/// non-negative row), and so is that number scaled (rounded multiplication by a positive
/// number never reverses an order): only the values at least as large can be among the k
/// best, and for k ≤ 4 they are usually k or k + 1 (README, "the selection for k ≤ 4").
/// Those are offered in topic order to a sorted buffer. Larger k and rows of more than 128
/// take a general path that offers every value at or above the bound, with branches.
/// Every p is computed as `row[t] * scale`, as the output stores it.
#[inline(always)]
fn select_top(row: &[f32], scale: f32, lane_max: F8, topics: &mut [u16], probs: &mut [f32]) {
    let k = topics.len();
    let threshold = top_threshold(lane_max, k, scale);
    if k <= 4 && row.len() <= 128 && top_of_candidates(row, scale, threshold, topics, probs) {
        return;
    }
    // The general path: every value at or above the threshold, with branches.
    probs.fill(f32::NEG_INFINITY);
    topics.fill(0);
    for (t, &q) in row.iter().enumerate() {
        let v = q * scale;
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
    attentive_estep_blocked(docs, phi, n_t, params, output, sums, Blocking::default())
}

/// How documents are cut into blocks (docs/mathematics.md §3, "Long documents"): those
/// longer than `long_document` tokens (None: [`Blocking::long_document`]'s rule) into
/// blocks of `block` positions (0: `Blocks::new` chooses), with sums of p taken in f32
/// over `piece` positions at a time (a divisor of `block`).
#[derive(Clone, Copy, Debug)]
pub struct Blocking {
    long_document: Option<usize>,
    block: usize,
    piece: usize,
}

impl Blocking {
    /// Documents longer than `long_document` tokens run a block at a time, the others
    /// whole; the results are the same for any value (tested).
    pub fn longer_than(long_document: usize) -> Blocking {
        Blocking {
            long_document: Some(long_document),
            ..Blocking::default()
        }
    }

    /// The longest document that runs whole, for rows of `k` blocks and `passes` passes.
    /// By default [`LONG_DOCUMENT`] tokens in one pass, where blocks cost no extra work;
    /// with more passes, whatever length keeps a document's two buffers of rows (its p and
    /// its left contexts) within [`WHOLE_ROWS_BYTES`], at least LONG_DOCUMENT: pass l
    /// recomputes every block through the l − 1 passes before it, about L² passes' work
    /// instead of L, which costs more than rows that stay in cache save.
    pub fn long_document(&self, k: usize, passes: usize) -> usize {
        match self.long_document {
            Some(n) => n,
            None if passes < 2 => LONG_DOCUMENT,
            None => LONG_DOCUMENT.max(WHOLE_ROWS_BYTES / (2 * k * size_of::<F8>())),
        }
    }
}

impl Default for Blocking {
    fn default() -> Blocking {
        Blocking {
            long_document: None,
            block: 0,
            piece: PIECE,
        }
    }
}

/// Receives the final p(t|C_i, w_i) of every document as the E-step finishes it, a block
/// of positions at a time while its rows are still in cache: what a caller that reduces
/// the positions as they come (`fragments`) plugs in instead of an n×T output.
pub trait Visitor: Sync {
    /// A worker's state for the documents of one chunk (chunks run in any order, on any
    /// thread); dropping it ends the chunk.
    fn chunk(&self) -> Box<dyn VisitDocuments + '_>;
}

/// The documents of one chunk, one block of positions at a time.
pub trait VisitDocuments {
    /// Positions `start..start + scale.len()` of document `d` (an index into the
    /// documents), which has `n` positions: p_j = `rows[j·k..(j+1)·k]` · `scale[j]` lane by
    /// lane, k = `lanes::blocks(T)` blocks per row (lanes past T are zero), the values the
    /// "tokens" output stores. A document's blocks come one after the other, the last
    /// first (start = 0 ends the document); a document that runs whole (see
    /// [`Blocking::long_document`]) comes whole. An empty document comes as one empty block.
    fn block(&mut self, d: usize, start: usize, n: usize, rows: &[F8], scale: &[f32]);
}

/// Runs docs/mathematics.md §3 on every document (cut into blocks as `blocking` says)
/// without accumulating ñ_wt, handing the final p of each document to `visitor`.
pub fn attentive_visit(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    n_t: &[f32],
    params: &AttentiveParams<'_>,
    blocking: Blocking,
    visitor: &dyn Visitor,
) -> Result<()> {
    let (none, sums) = (Output::None, Accumulate::None);
    estep(docs, phi, n_t, params, none, sums, blocking, Some(visitor)).map(|_| ())
}

/// [`attentive_estep`] with documents cut into blocks as `blocking` says.
pub fn attentive_estep_blocked(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    n_t: &[f32],
    params: &AttentiveParams<'_>,
    output: Output,
    sums: Accumulate<'_>,
    blocking: Blocking,
) -> Result<AttentiveOutput> {
    estep(docs, phi, n_t, params, output, sums, blocking, None)
}

/// [`attentive_estep_blocked`], with a visitor of the final p of every document when
/// given.
#[allow(clippy::too_many_arguments)]
fn estep(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    n_t: &[f32],
    params: &AttentiveParams<'_>,
    output: Output,
    sums: Accumulate<'_>,
    blocking: Blocking,
    visitor: Option<&dyn Visitor>,
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
        fused: has_fused_multiply_add(),
        context_prior: if sums.is_none() {
            None
        } else {
            params.context_prior
        },
        blocking,
        cancel: cancel::current(),
    };
    #[cfg(target_arch = "x86_64")]
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

    let n_wt = accumulate(
        docs,
        phi.n_words(),
        t,
        sums,
        outputs,
        |mut chunk, sums, state| {
            let (scratch, table): &mut (Scratch, WordTable) = state;
            let run = ChunkRun {
                docs,
                setup: &setup,
                params,
                doc_width,
                accumulating,
                visitor,
            };
            #[cfg(target_arch = "x86_64")]
            if simd {
                // SAFETY: `simd` is true only where the processor runs AVX2 and FMA.
                unsafe { chunk_avx2(&run, &mut chunk, sums, table, scratch) };
            } else {
                chunk_any(&run, &mut chunk, sums, table, scratch);
            }
            #[cfg(not(target_arch = "x86_64"))]
            chunk_any(&run, &mut chunk, sums, table, scratch);
        },
    )?;
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
    visitor: Option<&'a dyn Visitor>,
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
    let mut visit = run.visitor.map(|v| v.chunk());
    for (k, d) in chunk.docs.clone().enumerate() {
        let range = docs.range(d);
        let ctx = DocContext {
            words: &docs.words()[range.clone()],
            slots: &table.slots[range.start - first..range.end - first],
            gf: gf.of(range.clone()),
            gb: gb.of(range.clone()),
            reset: run.params.reset.map(|r| &r[range.clone()]),
            offset: range.start - first,
            prior: run
                .params
                .document_prior
                .map(|p| &p[d * run.setup.t..(d + 1) * run.setup.t]),
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
            visit: visit.as_deref_mut().map(|v| (v, d)),
        };
        if range.is_empty() {
            if let Some((v, d)) = out.visit.as_mut() {
                v.block(*d, 0, 0, &[], &[]);
            }
        }
        document_any(&ctx, run.setup, table, scratch, &mut out);
    }
}

/// [`chunk_any`] compiled for AVX2 and FMA (the fused multiply-adds of the tempered
/// sums' power function, `vector::probability_power`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
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
    /// Whether the tempered sums' power function fuses its multiply-adds (see
    /// `vector::probability_power`).
    fused: bool,
    /// `AttentiveParams::context_prior` when ñ_wt is accumulated, else None.
    context_prior: Option<(f32, f32)>,
    blocking: Blocking,
    /// The call's cancel request, looked at between the blocks of a long document.
    cancel: Arc<Cancel>,
}

/// One document: its words and coefficients, and where its rows start in the chunk output.
struct DocContext<'a> {
    words: &'a [u32],
    /// The row of every token in the chunk's `WordTable` and sums.
    slots: &'a [u32],
    gf: Gamma<'a>,
    gb: Gamma<'a>,
    reset: Option<&'a [f32]>,
    offset: usize,
    /// The document's row of `AttentiveParams::document_prior`.
    prior: Option<&'a [f32]>,
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
struct DocOutput<'o, 'v> {
    entries: &'o mut [f32],
    topics: &'o mut [u16],
    document: &'o mut [f32],
    sums: Option<&'o mut ChunkSums>,
    /// The chunk's visitor and the document's index.
    visit: Option<(&'o mut (dyn VisitDocuments + 'v), usize)>,
}

/// The right stream B as it runs: the vector, |B| and Σ w² of its weights.
#[derive(Default)]
struct RightStream {
    b: Vec<F8>,
    sum: f32,
    squares: f32,
}

/// Buffers reused across the documents of a chunk. Rows are `Setup::k` blocks.
#[derive(Default)]
struct Scratch {
    /// p_i of the positions of the block in hand up to a factor: p_i = q_i · inv_s_i.
    /// The next step that reads a row scales it by a scalar on the way, which spares a
    /// pass over the row to normalize it.
    q: Vec<F8>,
    inv_s: Vec<f32>,
    /// The left context each position of the block in hand reads, and its sum.
    left: Vec<F8>,
    left_sum: Vec<f32>,
    /// The last position of the previous block, which the forward stream reads at the
    /// first position of the next: its q row, inv_s, left context and its sum.
    carry_q: Vec<F8>,
    carry_inv_s: f32,
    carry_left: Vec<F8>,
    carry_left_sum: f32,
    /// Per pass and block of a long document: the left context of the block's first
    /// position with its sum, and the right stream as it enters the block from the right.
    forward: Vec<F8>,
    forward_sums: Vec<f32>,
    backward: Vec<F8>,
    backward_sums: Vec<[f32; 2]>,
    /// The right stream of the pass in progress, and one that recomputes a block.
    right: RightStream,
    recompute: RightStream,
    /// Σ_j p_j of the document at the start of every pass (the document head), as the
    /// backward stream reads it.
    heads: Vec<F8>,
    /// A sum of p over the document in f64, and the f32 sum of one piece of it.
    total: Vec<f64>,
    piece: Vec<F8>,
    /// A row on the side: a tempered or normalized p, a context or θ on its way out.
    row: Vec<F8>,
    /// The tempered rows of up to [`POWER_GROUP`] positions (see [`tempered_sums`]).
    powers: Vec<F8>,
    /// The document prior P_d (zeros without one).
    prior: Vec<F8>,
}

/// A document longer than this is processed a block of positions at a time, in memory
/// that grows with the square root of its length rather than with the length
/// (docs/mathematics.md §3, "Long documents"); with several passes, longer ones run whole
/// while their rows take at most [`WHOLE_ROWS_BYTES`] (see [`Blocking::long_document`]).
pub const LONG_DOCUMENT: usize = 4096;
/// The memory of a document's rows (p and left contexts, per worker) up to which a
/// document of several passes runs whole: on the machine of the README's figures, 16 MiB
/// of rows (20,000 tokens at T = 100) ran at 0.7× the time of blocks at 2 passes and 0.55×
/// at 3; at 32 MiB blocks were faster at 2 passes (docs/mathematics.md §3).
pub const WHOLE_ROWS_BYTES: usize = 16 << 20;
/// The shortest block of a long document.
const CONTEXT_BLOCK: usize = 256;
/// Positions summed in f32 before the sum goes into f64: most documents whole (so their
/// sums are those of plain f32 additions), while a document of millions of positions does
/// not lose its later p to the rounding of a large f32 sum.
const PIECE: usize = 256;
/// How many tokens ahead the Φ row of a token is prefetched.
const PREFETCH_AHEAD: usize = 8;

/// How a document's positions are cut into blocks: `count` blocks of `len` positions (the
/// last one shorter); one block for a document of at most `Blocking::long_document`.
#[derive(Clone, Copy)]
struct Blocks {
    n: usize,
    len: usize,
    count: usize,
}

impl Blocks {
    fn new(n: usize, setup: &Setup<'_>) -> Blocks {
        let b = setup.blocking;
        let len = if n <= b.long_document(setup.k, setup.passes) {
            n
        } else if b.block > 0 {
            b.block
        } else {
            // √n blocks of √n positions: the checkpoints and the rows of a block take
            // about the same memory.
            n.isqrt().max(CONTEXT_BLOCK).next_multiple_of(b.piece)
        };
        debug_assert!(len == n || len % b.piece == 0);
        Blocks {
            n,
            len,
            count: n.div_ceil(len),
        }
    }

    #[inline(always)]
    fn range(&self, c: usize) -> Range<usize> {
        c * self.len..((c + 1) * self.len).min(self.n)
    }
}

/// What the scratch holds: the rows of p of (block, level), where level l is p after l
/// passes, and the left contexts of (block, pass).
#[derive(Default)]
struct Held {
    rows: Option<(usize, usize)>,
    left: Option<(usize, usize)>,
}

/// How the left context L_j that position j reads follows from L_{j−1}:
/// L_j = c inv_s_src q_src + f L_{j−1} and |L_j| = c + f |L_{j−1}|, as (c, f), where src
/// is j − 1 when excluding itself, else j. The forward stream F enters p_i with weight
/// γ→_i after fading by the boundary before i (strength r_i); position j reads F_{j−1}
/// faded by r_j when excluding itself, else F_j. Rows of p sum to 1, so |L| follows the
/// same recursion as a scalar. (Position 0 excluding itself reads the empty context.)
#[inline(always)]
fn link<const EXCLUDE_SELF: bool>(ctx: &DocContext<'_>, j: usize) -> (f32, f32) {
    let keep = 1.0 - ctx.reset(j);
    if EXCLUDE_SELF {
        let g = ctx.gf.at(j - 1);
        (keep * g, keep * (1.0 - g))
    } else {
        let g = ctx.gf.at(j);
        (g, (1.0 - g) * keep)
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

/// The left contexts of rows `rows` (all after row 0) of a block that starts at position
/// `start`, each from the row before it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn left_rows<const EXCLUDE_SELF: bool>(
    ctx: &DocContext<'_>,
    start: usize,
    q: &[F8],
    inv_s: &[f32],
    left: &mut [F8],
    left_sum: &mut [f32],
    k: usize,
    rows: Range<usize>,
) {
    for i in rows {
        let (c, f) = link::<EXCLUDE_SELF>(ctx, start + i);
        let src = if EXCLUDE_SELF { i - 1 } else { i };
        let (dst, prev) = two_rows(left, k, i, i - 1);
        context_step(
            dst,
            Some(prev),
            &q[src * k..(src + 1) * k],
            c * inv_s[src],
            f,
        );
        left_sum[i] = c + f * left_sum[i - 1];
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

/// total += Σ p_j over `rows` of q (q_j · inv_s_j, added in f32 lanes in order).
#[inline(always)]
fn add_piece(total: &mut [f64], piece: &mut [F8], q: &[F8], inv_s: impl Iterator<Item = f32>) {
    piece.fill(F8::ZERO);
    for (row, s) in q.chunks_exact(piece.len()).zip(inv_s) {
        let s = F8::splat(s);
        piece.iter_mut().zip(row).for_each(|(a, v)| *a += *v * s);
    }
    for (a, &v) in total.iter_mut().zip(floats(piece)) {
        *a += v as f64;
    }
}

/// An f64 total as a row of f32 lanes.
#[inline(always)]
fn rounded(total: &[f64], dst: &mut [F8]) {
    for (d, &v) in floats_mut(dst).iter_mut().zip(total) {
        *d = v as f32;
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
    /// The coefficient of the document prior P_d (0 without one).
    m: F8,
    /// inv_s_j, to read p_j = q_j inv_s_j out of the document sum; 0 for a position the
    /// sum does not hold (see DocumentHead).
    inv_s: F8,
}

/// One backward step over a row: the right stream `b` takes in p_j, and q_j becomes
/// θ_j p_j / n_t (or θ_j φ_{w_j}) up to a factor. Returns the lane sums of the new q_j
/// and, with `MAX`, its lane maxima (for the output "top", see [`select_top`]; zero
/// otherwise). `UNIFORM` adds the terms of θ that do not depend on the contexts: u (both
/// contexts empty) and m P_d (the document prior).
#[inline(always)]
fn backward_row<
    const EXCLUDE_SELF: bool,
    const PHI_FILTER: bool,
    const DOC_HEAD: bool,
    const UNIFORM: bool,
    const MAX: bool,
>(
    q: &mut [F8],
    b: &mut [F8],
    l: &[F8],
    scale: &[F8],
    head: &[F8],
    prior: &[F8],
    s: &Step,
) -> (F8, F8) {
    let k = q.len();
    let (b, l, scale) = (&mut b[..k], &l[..k], &scale[..k]);
    let head = if DOC_HEAD { &head[..k] } else { &[][..] };
    let prior = if UNIFORM { &prior[..k] } else { &[][..] };
    // Two sums, of the even and the odd blocks: half the chain of dependent additions.
    // Two variables rather than an array indexed by i % 2, which the compiler keeps in
    // memory: every addition would then wait for the store of the one before it.
    let (mut even, mut odd, mut top) = (F8::ZERO, F8::ZERO, F8::ZERO);
    for i in 0..k {
        let (qo, bo) = (q[i], b[i]);
        let bn = s.g * qo + s.h * bo;
        let r = if EXCLUDE_SELF { bo } else { bn };
        let mut theta = s.a * l[i] + s.c * r;
        if UNIFORM {
            theta += s.u + s.m * prior[i];
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
        if i % 2 == 0 {
            even += qn;
        } else {
            odd += qn;
        }
        if MAX {
            top = top.max(qn);
        }
    }
    (even + odd, top)
}

/// [`document`] for the options of `setup`, as eight monomorphic copies.
#[inline(always)]
fn document_any(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    table: &WordTable,
    scratch: &mut Scratch,
    out: &mut DocOutput<'_, '_>,
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

impl Scratch {
    /// Sizes the buffers for a document cut into `blocks`.
    fn prepare(&mut self, blocks: &Blocks, setup: &Setup<'_>) {
        let (k, len, passes) = (setup.k, blocks.len, setup.passes);
        // The rows of a block only grow their buffers: every row a document reads it
        // writes first, so zeroing the part a longer document adds (as `resize` does, at
        // every document longer than the one before) would be work for nothing.
        grow(&mut self.q, len * k, F8::ZERO);
        grow(&mut self.inv_s, len, 0.0);
        grow(&mut self.left, len * k, F8::ZERO);
        grow(&mut self.left_sum, len, 0.0);
        for row in [
            &mut self.carry_q,
            &mut self.carry_left,
            &mut self.right.b,
            &mut self.recompute.b,
            &mut self.piece,
            &mut self.row,
            &mut self.prior,
        ] {
            row.resize(k, F8::ZERO);
        }
        self.powers.resize(POWER_GROUP * k, F8::ZERO);
        self.heads.resize(passes * k, F8::ZERO);
        self.total.resize(k * LANES, 0.0);
        if blocks.count > 1 {
            let checkpoints = passes * blocks.count;
            grow(&mut self.forward, checkpoints * k, F8::ZERO);
            grow(&mut self.forward_sums, checkpoints, 0.0);
            grow(&mut self.backward, checkpoints * k, F8::ZERO);
            grow(&mut self.backward_sums, checkpoints, [0.0; 2]);
        }
    }
}

/// Makes `v` at least `n` long.
fn grow<T: Copy>(v: &mut Vec<T>, n: usize, zero: T) {
    if v.len() < n {
        v.resize(n, zero);
    }
}

/// The localized E-step of one document: `passes` forward and backward streams over its
/// rows; the last backward stream adds each final p_j into ñ_wt and writes the requested
/// output as it goes. A long document runs a block at a time (docs/mathematics.md §3,
/// "Long documents"), an ordinary one as a single block.
#[inline(always)]
fn document<const EXCLUDE_SELF: bool, const PHI_FILTER: bool, const DOC_HEAD: bool>(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    table: &WordTable,
    scratch: &mut Scratch,
    doc_out: &mut DocOutput<'_, '_>,
) {
    let t = setup.t;
    let n = ctx.words.len();
    if n == 0 {
        if setup.output == Output::DocumentMean {
            doc_out.document.fill(1.0 / t as f32);
        }
        return;
    }
    let doc = Doc {
        ctx,
        setup,
        table,
        blocks: Blocks::new(n, setup),
        head: DocumentHead {
            weight: setup.document_weight,
            count: if DOC_HEAD {
                (0..n).filter(|&j| in_context(ctx, j)).count() as f32
            } else {
                0.0
            },
        },
        text_share: ctx.prior.map_or(1.0, text_share),
    };
    scratch.prepare(&doc.blocks, setup);
    // θ_j = (1 − μ_d) θ_j^text + P_d: P_d in `prior`.
    match ctx.prior {
        Some(p) => load(p, &mut scratch.prior),
        None => scratch.prior.fill(F8::ZERO),
    }
    let mut held = Held::default();
    let count = doc.blocks.count;
    let mut f2 = 0f32;
    for pass in 0..setup.passes {
        // The forward stream visits the blocks from the first, then the backward stream
        // from the last. (One loop for both, so that the backward step, which both
        // streams may need to recompute a block, is inlined into the kernel once.)
        for visit in 0..2 * count {
            let backward = visit >= count;
            let c = if backward {
                2 * count - 1 - visit
            } else {
                visit
            };
            if (backward && c + 1 < count || !backward && c > 0) && setup.cancel.is_cancelled() {
                // The call returns no results.
                return;
            }
            if backward {
                doc.enter_backward(scratch, pass, c);
            } else {
                doc.enter_forward::<DOC_HEAD>(scratch, c, &mut f2);
            }
            let level = pass + usize::from(backward);
            doc.advance::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD>(
                scratch, &mut held, c, level, backward, doc_out,
            );
            if backward {
                if pass + 1 == setup.passes {
                    doc.finish_block(scratch, c, doc_out);
                }
            } else {
                doc.leave_forward::<EXCLUDE_SELF, DOC_HEAD>(
                    scratch, &mut held, pass, c, &mut f2, doc_out,
                );
            }
        }
    }
    if setup.output == Output::DocumentMean {
        rounded(&scratch.total, &mut scratch.row);
        let s = inverse_sum(&mut scratch.row, t);
        store_scaled(&scratch.row, s, doc_out.document);
    }
}

/// 1 − μ_d beside a document prior P_d, with μ_d = Σ_t P_dt summed in f64 and the share
/// kept at 0 or above: a prior of mass 1 up to rounding leaves the text no share, rather
/// than one of the order of an f32 rounding error (perhaps negative) that a f32 sum gives.
fn text_share(prior: &[f32]) -> f32 {
    let mass: f64 = prior.iter().map(|&v| f64::from(v)).sum();
    (1.0 - mass).max(0.0) as f32
}

/// One document's run: what its streams share.
struct Doc<'d> {
    ctx: &'d DocContext<'d>,
    setup: &'d Setup<'d>,
    table: &'d WordTable,
    blocks: Blocks,
    head: DocumentHead,
    /// 1 − μ_d, the text's share of θ beside the document prior (1 without one).
    text_share: f32,
}

impl Doc<'_> {
    /// The forward stream arrives at block `c`: at the first, it starts; at any other,
    /// it keeps what the block's first position reads of the previous block (its row of
    /// p and its left context) before the rows of `c` replace them.
    #[inline(always)]
    fn enter_forward<const DOC_HEAD: bool>(&self, s: &mut Scratch, c: usize, f2: &mut f32) {
        if c == 0 {
            *f2 = 0.0;
            if DOC_HEAD {
                s.total.fill(0.0);
            }
            return;
        }
        let (k, last) = (self.setup.k, self.blocks.len - 1);
        s.carry_q.copy_from_slice(&s.q[last * k..(last + 1) * k]);
        s.carry_inv_s = s.inv_s[last];
        s.carry_left
            .copy_from_slice(&s.left[last * k..(last + 1) * k]);
        s.carry_left_sum = s.left_sum[last];
    }

    /// The forward stream of pass `pass` through block `c`, whose rows hold p after `pass`
    /// passes: the left context of every position; with the document head, Σ_j p_j; in
    /// the last pass, the left half of the output "contexts".
    #[inline(always)]
    fn leave_forward<const EXCLUDE_SELF: bool, const DOC_HEAD: bool>(
        &self,
        s: &mut Scratch,
        held: &mut Held,
        pass: usize,
        c: usize,
        f2: &mut f32,
        out: &mut DocOutput<'_, '_>,
    ) {
        let (ctx, setup, k, t) = (self.ctx, self.setup, self.setup.k, self.setup.t);
        let range = self.blocks.range(c);
        let (start, len) = (range.start, range.len());
        if DOC_HEAD {
            for p in (0..len).step_by(setup.blocking.piece) {
                let end = (p + setup.blocking.piece).min(len);
                let (q, inv_s) = (&s.q[p * k..end * k], &s.inv_s[p..end]);
                // Positions out of every context add nothing (see DocumentHead).
                let weights = (start + p..start + end).zip(inv_s).map(|(j, &v)| {
                    if in_context(ctx, j) {
                        v
                    } else {
                        0.0
                    }
                });
                add_piece(&mut s.total, &mut s.piece, q, weights);
            }
            if c + 1 == self.blocks.count {
                rounded(&s.total, &mut s.heads[pass * k..(pass + 1) * k]);
            }
        }
        if EXCLUDE_SELF && start == 0 {
            s.left[..k].fill(F8::ZERO);
            s.left_sum[0] = 0.0;
        } else {
            let (coefficient, fade) = link::<EXCLUDE_SELF>(ctx, start);
            let (q_src, inv_src) = if EXCLUDE_SELF {
                (&s.carry_q[..], s.carry_inv_s)
            } else {
                (&s.q[..k], s.inv_s[0])
            };
            let alpha = coefficient * inv_src;
            if start == 0 {
                context_step(&mut s.left[..k], None, q_src, alpha, fade);
                s.left_sum[0] = coefficient;
            } else {
                context_step(&mut s.left[..k], Some(&s.carry_left), q_src, alpha, fade);
                s.left_sum[0] = coefficient + fade * s.carry_left_sum;
            }
        }
        let (q, inv_s) = (&s.q[..], &s.inv_s[..]);
        left_rows::<EXCLUDE_SELF>(
            ctx,
            start,
            q,
            inv_s,
            &mut s.left,
            &mut s.left_sum,
            k,
            1..len,
        );
        if self.blocks.count > 1 {
            let i = pass * self.blocks.count + c;
            s.forward[i * k..(i + 1) * k].copy_from_slice(&s.left[..k]);
            s.forward_sums[i] = s.left_sum[0];
        }
        held.left = Some((c, pass));
        if pass + 1 < setup.passes || setup.output != Output::Contexts {
            return;
        }
        for i in 0..len {
            // F_j, which takes in p_j: the context position j reads, or the one after it.
            let j = start + i;
            let (g, keep) = (ctx.gf.at(j), 1.0 - ctx.reset(j));
            let l = &s.left[i * k..(i + 1) * k];
            let fs = if EXCLUDE_SELF {
                let q_j = &s.q[i * k..(i + 1) * k];
                context_step(&mut s.row, Some(l), q_j, g * s.inv_s[i], 1.0 - g);
                g + (1.0 - g) * s.left_sum[i]
            } else {
                s.row.copy_from_slice(l);
                s.left_sum[i]
            };
            *f2 = g * g + (1.0 - g) * (1.0 - g) * (keep * keep * *f2);
            let e = (ctx.offset + j) * (2 * t + 2);
            write_normalized(&mut out.entries[e..e + t], &floats(&s.row)[..t], fs);
            out.entries[e + 2 * t] = effective_count(fs, *f2);
        }
    }

    /// The backward stream of pass `pass` arrives at block `c`: at the last, it starts
    /// empty; at every block of a long document, its state is the block's checkpoint.
    #[inline(always)]
    fn enter_backward(&self, s: &mut Scratch, pass: usize, c: usize) {
        let (k, count) = (self.setup.k, self.blocks.count);
        if c + 1 == count {
            s.right.b.fill(F8::ZERO);
            (s.right.sum, s.right.squares) = (0.0, 0.0);
            s.total.fill(0.0);
        }
        if count > 1 {
            let i = pass * count + c;
            s.backward[i * k..(i + 1) * k].copy_from_slice(&s.right.b);
            s.backward_sums[i] = [s.right.sum, s.right.squares];
        }
    }

    /// Brings the rows of block `c` to p after `level` passes. Unless the scratch holds the
    /// block already (this level of it, or an earlier one), the rows start from p(t|w) and
    /// go through the passes before `level` again, each from the checkpoints it left: the
    /// left context at the block's start and the right stream at its end. Those and the
    /// block's own rows are all that a pass reads at the block's positions, so the rows
    /// come out the same, bit for bit. With `stream`, the last of those passes is the one
    /// in progress: it runs on from the pass's own right stream, with its outputs.
    ///
    /// (The one place that runs a backward step: every copy of it inlined into the
    /// kernel adds its locals to the kernel's stack frame, and unoptimized builds give
    /// each its own slot.)
    #[inline(always)]
    fn advance<const EXCLUDE_SELF: bool, const PHI_FILTER: bool, const DOC_HEAD: bool>(
        &self,
        s: &mut Scratch,
        held: &mut Held,
        c: usize,
        level: usize,
        stream: bool,
        out: &mut DocOutput<'_, '_>,
    ) {
        let from = match held.rows {
            Some((block, done)) if block == c && done + usize::from(stream) <= level => done,
            _ => {
                self.load(s, c);
                0
            }
        };
        let k = self.setup.k;
        for pass in from..level {
            held.rows = Some((c, pass));
            self.left::<EXCLUDE_SELF>(s, held, c, pass);
            let on_stream = stream && pass + 1 == level;
            if !on_stream {
                debug_assert!(self.blocks.count > 1);
                let i = pass * self.blocks.count + c;
                s.recompute
                    .b
                    .copy_from_slice(&s.backward[i * k..(i + 1) * k]);
                [s.recompute.sum, s.recompute.squares] = s.backward_sums[i];
            }
            let Scratch {
                q,
                inv_s,
                left,
                left_sum,
                right,
                recompute,
                heads,
                row,
                prior,
                ..
            } = s;
            let right = if on_stream { right } else { recompute };
            let head = &heads[pass * k..(pass + 1) * k];
            self.backward_block::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD>(
                c, pass, q, inv_s, left, left_sum, right, head, prior, row, out,
            );
        }
        held.rows = Some((c, level));
    }

    /// p(t|w_j) = norm_t(φ_{w_j t} n_t) of the positions of block `c`, from the chunk's
    /// table.
    #[inline(always)]
    fn load(&self, s: &mut Scratch, c: usize) {
        let k = self.setup.k;
        let slots = &self.ctx.slots[self.blocks.range(c)];
        for (i, &slot) in slots.iter().enumerate() {
            let slot = slot as usize;
            s.q[i * k..(i + 1) * k].copy_from_slice(&self.table.q[slot * k..(slot + 1) * k]);
            s.inv_s[i] = self.table.inv_s[slot];
        }
    }

    /// Makes the scratch hold the left contexts of block `c` in pass `pass`, recomputed
    /// from the block's checkpoint when it does not; its rows must be p after `pass`
    /// passes.
    #[inline(always)]
    fn left<const EXCLUDE_SELF: bool>(
        &self,
        s: &mut Scratch,
        held: &mut Held,
        c: usize,
        pass: usize,
    ) {
        if held.left == Some((c, pass)) {
            return;
        }
        debug_assert!(self.blocks.count > 1 && held.rows == Some((c, pass)));
        let k = self.setup.k;
        let i = pass * self.blocks.count + c;
        s.left[..k].copy_from_slice(&s.forward[i * k..(i + 1) * k]);
        s.left_sum[0] = s.forward_sums[i];
        let range = self.blocks.range(c);
        let (q, inv_s) = (&s.q[..], &s.inv_s[..]);
        let rows = 1..range.len();
        left_rows::<EXCLUDE_SELF>(
            self.ctx,
            range.start,
            q,
            inv_s,
            &mut s.left,
            &mut s.left_sum,
            k,
            rows,
        );
        held.left = Some((c, pass));
    }

    /// The backward stream of pass `pass` through block `c`, from the state `right` had
    /// at the block's end, fused with θ_j and the new p_j; in the last pass, the sums and
    /// outputs of every position as it goes.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_block<const EXCLUDE_SELF: bool, const PHI_FILTER: bool, const DOC_HEAD: bool>(
        &self,
        c: usize,
        pass: usize,
        q: &mut [F8],
        inv_s: &mut [f32],
        left: &[F8],
        left_sum: &[f32],
        right: &mut RightStream,
        sum: &[F8],
        prior: &[F8],
        side: &mut [F8],
        doc_out: &mut DocOutput<'_, '_>,
    ) {
        let (ctx, setup, table) = (self.ctx, self.setup, self.table);
        let (t, k, n) = (setup.t, setup.k, self.blocks.n);
        let last = pass + 1 == setup.passes;
        let output = setup.output;
        let top_k = matches!(output, Output::TopK(_));
        let range = self.blocks.range(c);
        let b = &mut right.b[..];
        let (mut bs, mut b2) = (right.sum, right.squares);
        let with_prior = ctx.prior.is_some();
        for j in range.clone().rev() {
            let row = j - range.start;
            // A boundary after j (before j + 1) fades the right context the same way.
            let keep = match ctx.reset {
                Some(r) if j + 1 < n => 1.0 - r[j + 1],
                _ => 1.0,
            };
            bs *= keep;
            b2 *= keep * keep;
            let g = ctx.gb.at(j);
            let h = 1.0 - g;
            let new_bs = g + h * bs;
            let rs = if EXCLUDE_SELF { bs } else { new_bs };
            let ls = left_sum[row];
            let counted = DOC_HEAD && in_context(ctx, j);
            let head_scale = self.head.scale::<EXCLUDE_SELF>(counted);
            let (mut a, mut c, mut u, mut d) =
                mix::<DOC_HEAD>(ls, rs, setup.beta, t, &self.head, head_scale);
            if let Some((x, y)) = setup.context_prior {
                let e = 1.0 / (1.0 + x * ls + y * rs);
                let keep = 1.0 - e;
                (a, c, u, d) = (a * keep, c * keep, u * keep + e / t as f32, d * keep);
            }
            if with_prior {
                let share = self.text_share;
                (a, c, u, d) = (a * share, c * share, u * share, d * share);
            }
            let is = inv_s[row];
            // What position j's own p adds to the document sum (and so is taken out of it).
            let own = if counted { is } else { 0.0 };
            // Excluding itself, θ reads the faded B_{j+1} that `b` holds unfaded.
            let c_b = if EXCLUDE_SELF { c * keep } else { c };
            if last && output == Output::LogLikelihood {
                let (q_j, l) = (&q[row * k..(row + 1) * k], &left[row * k..(row + 1) * k]);
                let p_scale = F8::splat(own);
                let (av, cv, uv, dv) = (F8::splat(a), F8::splat(c_b), F8::splat(u), F8::splat(d));
                let mv = F8::splat(if with_prior { 1.0 } else { 0.0 });
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
                    side[i] = av * l[i] + cv * r + uv + head_term + mv * prior[i];
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
                m: F8::splat(if with_prior { sc } else { 0.0 }),
                inv_s: F8::splat(own),
            };
            let scale = if PHI_FILTER {
                let slot = ctx.slots[j] as usize;
                &table.phi[slot * k..(slot + 1) * k]
            } else {
                &setup.inv_nt[..]
            };
            let l = &left[row * k..(row + 1) * k];
            let q_j = &mut q[row * k..(row + 1) * k];
            // With the lane maxima of the final q_j, for the output "top".
            let (acc, mut max) = match (u != 0.0 || with_prior, last && top_k) {
                (true, true) => backward_row::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD, true, true>(
                    q_j, b, l, scale, sum, prior, &step,
                ),
                (true, false) => backward_row::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD, true, false>(
                    q_j, b, l, scale, sum, prior, &step,
                ),
                (false, true) => backward_row::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD, false, true>(
                    q_j, b, l, scale, sum, prior, &step,
                ),
                (false, false) => backward_row::<EXCLUDE_SELF, PHI_FILTER, DOC_HEAD, false, false>(
                    q_j, b, l, scale, sum, prior, &step,
                ),
            };
            let s = acc.sum();
            let is = if s >= f32::MIN_POSITIVE && s.is_finite() {
                1.0 / s
            } else {
                uniform(q_j, t);
                max = q_j.iter().fold(F8::ZERO, |m, x| m.max(*x));
                1.0
            };
            inv_s[row] = is;
            bs = new_bs;
            b2 = g * g + h * h * b2;
            if !last {
                continue;
            }
            // Tempered sums wait until the block is done (`finish_block`).
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
                // The final p_j = q_j / s is still in cache, and the lane maxima of q_j
                // came with it: pick its best topics now.
                Output::TopK(top) => {
                    let e = (ctx.offset + j) * top;
                    select_top(
                        &floats(q_j)[..t],
                        is,
                        max,
                        &mut doc_out.topics[e..e + top],
                        &mut doc_out.entries[e..e + top],
                    );
                }
                _ => {}
            }
        }
        (right.sum, right.squares) = (bs, b2);
    }

    /// What the last pass does with the final rows of block `c` once they are all known:
    /// tempered sums, the output "tokens", and the block's share of p(t|d) (its pieces
    /// from the last, so that the whole document's are added from its end in every case).
    #[inline(always)]
    fn finish_block(&self, s: &mut Scratch, c: usize, out: &mut DocOutput<'_, '_>) {
        let (setup, k, t) = (self.setup, self.setup.k, self.setup.t);
        let range = self.blocks.range(c);
        let len = range.len();
        let (q, inv_s) = (&s.q[..len * k], &s.inv_s[..len]);
        if let (Some(sums), true) = (out.sums.as_deref_mut(), setup.tempering != 1.0) {
            let slots = &self.ctx.slots[range.clone()];
            let (powers, kappa) = (&mut s.powers, setup.tempering);
            if setup.fused {
                tempered_sums::<true>(slots, q, inv_s, powers, sums, kappa, t);
            } else {
                tempered_sums::<false>(slots, q, inv_s, powers, sums, kappa, t);
            }
        }
        match setup.output {
            Output::Tokens => {
                for (i, (row, &scale)) in q.chunks_exact(k).zip(inv_s).enumerate() {
                    let e = (self.ctx.offset + range.start + i) * t;
                    store_scaled(row, scale, &mut out.entries[e..e + t]);
                }
            }
            Output::DocumentMean => {
                for p in (0..len).step_by(setup.blocking.piece).rev() {
                    let end = (p + setup.blocking.piece).min(len);
                    add_piece(
                        &mut s.total,
                        &mut s.piece,
                        &q[p * k..end * k],
                        inv_s[p..end].iter().copied(),
                    );
                }
            }
            _ => {}
        }
        if let Some((visit, d)) = out.visit.as_mut() {
            visit.block(*d, range.start, self.blocks.n, q, inv_s);
        }
    }
}

/// Positions whose tempered rows [`tempered_sums`] computes before it adds any of them.
const POWER_GROUP: usize = 16;

/// Tempered EM's statistics of the positions of a block: ñ_{w_j t} += norm_t(p_jt^κ) for
/// the final p_j = q_j · inv_s_j, in the order the backward stream visits the positions
/// (so the sums are those an addition at each position would give). Kept out of that
/// stream, and in two steps per group of [`POWER_GROUP`] positions: first the powers of
/// all the group's values, then each row's sum and its addition into ñ_wt. The power
/// function is a long chain of dependent operations for every value; a row's sum waits
/// for all of its chains, and with a row's powers, sum and addition in one loop the
/// processor's window held about one position at a time, so the chains ran one after
/// another. In a loop of powers alone every value is independent of the others.
#[inline(always)]
fn tempered_sums<const FUSED: bool>(
    slots: &[u32],
    q: &[F8],
    inv_s: &[f32],
    powers: &mut [F8],
    sums: &mut ChunkSums,
    kappa: f32,
    t: usize,
) {
    let k = powers.len() / POWER_GROUP;
    let mut end = inv_s.len();
    while end > 0 {
        let start = end.saturating_sub(POWER_GROUP);
        let group = &mut powers[..(end - start) * k];
        for ((out, row), &scale) in group
            .chunks_exact_mut(k)
            .zip(q[start * k..end * k].chunks_exact(k))
            .zip(&inv_s[start..end])
        {
            let p_scale = F8::splat(scale);
            for (o, v) in out.iter_mut().zip(row) {
                *o = probability_power8::<FUSED>(*v * p_scale, kappa);
            }
        }
        for (row, &slot) in group.chunks_exact_mut(k).zip(&slots[start..end]).rev() {
            let w = F8::splat(inverse_sum(row, t));
            let acc = sums.lanes_at(slot as usize);
            for (a, v) in acc.iter_mut().zip(row.iter()) {
                *a += *v * w;
            }
        }
        end = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(seed: u64) -> impl FnMut() -> f32 {
        let mut x = seed;
        move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 40) as f32) / (1u64 << 24) as f32
        }
    }

    /// Documents of `lengths` tokens over `n_words` words and a Φ of `t` topics, drawn
    /// from `next`: (offsets, token ids, the values of Φ).
    fn random_collection(
        next: &mut impl FnMut() -> f32,
        lengths: &[i64],
        n_words: usize,
        t: usize,
    ) -> (Vec<i64>, Vec<u32>, Vec<f32>) {
        let mut offsets = vec![0i64];
        for len in lengths {
            offsets.push(offsets.last().unwrap() + len);
        }
        let n = *offsets.last().unwrap() as usize;
        let words = (0..n).map(|_| (next() * n_words as f32) as u32).collect();
        let phi = (0..n_words * t).map(|_| next() + 0.01).collect();
        (offsets, words, phi)
    }

    /// Every output of a run as bits, and ñ_wt.
    type Bits = (Vec<u32>, Vec<u16>, WordTopicSums);

    /// Documents give the same bits whether they run whole or a block at a time (blocks
    /// of one position and more, documents shorter than a block and ending anywhere in
    /// one), for every option of the kernel and every output; and whether the workers'
    /// buffers are those the calls before left (`kept`: each call here differs from the
    /// one before in its options or its output) or new ones (a pool of new threads).
    #[test]
    fn blocked_documents_change_no_bit() {
        let (t, n_words) = (11, 40);
        let mut next = random(7);
        let lengths = [0, 1, 2, 6, 7, 13, 40, 97];
        let (offsets, words, phi) = random_collection(&mut next, &lengths, n_words, t);
        let n = words.len();
        let docs = Documents::new(&words, None, &offsets, n_words).unwrap();
        let phi = Phi::checked(&phi, t).unwrap();
        let n_t: Vec<f32> = (0..t)
            .map(|i| if i == 3 { 0.0 } else { 1.0 + next() })
            .collect();
        let gf: Vec<f32> = (0..n)
            .map(|i| if i % 9 == 0 { 0.0 } else { next() })
            .collect();
        let gb: Vec<f32> = (0..n).map(|_| next()).collect();
        let reset: Vec<f32> = (0..n).map(|i| [0.0, 0.5, 1.0][i % 37 % 3]).collect();
        let outputs = [
            Output::None,
            Output::Tokens,
            Output::Contexts,
            Output::LogLikelihood,
            Output::DocumentMean,
            Output::TopK(1),
            Output::TopK(3),
        ];
        // A document prior of mass 0.4 on every document.
        let prior: Vec<f32> = (0..lengths.len())
            .flat_map(|_| {
                let row: Vec<f32> = (0..t).map(|_| next()).collect();
                let sum: f32 = row.iter().sum();
                row.into_iter().map(move |v| 0.4 * v / sum)
            })
            .collect();
        // (document weight, resets, tempering, document prior)
        let variants = [
            (0.0, false, 1.0, false),
            (0.3, true, 1.0, false),
            (0.0, true, 0.6, false),
            (1.0, false, 0.6, false),
            (0.0, true, 1.0, true),
            (0.3, false, 0.6, true),
        ];
        for passes in 1..=3 {
            for exclude_self in [true, false] {
                for filter in [Filter::POverNt, Filter::Phi] {
                    for (document_weight, resets, tempering, with_prior) in variants {
                        let params = AttentiveParams {
                            gamma_forward: Gamma::PerPosition(&gf),
                            gamma_backward: Gamma::PerPosition(&gb),
                            reset: resets.then_some(&reset[..]),
                            beta: 0.3,
                            passes,
                            exclude_self,
                            filter,
                            document_weight,
                            tempering,
                            document_prior: with_prior.then_some(&prior[..]),
                            context_prior: None,
                        };
                        for output in outputs {
                            let run = |long_document, block, piece| -> Bits {
                                let blocking = Blocking {
                                    long_document: Some(long_document),
                                    block,
                                    piece,
                                };
                                let sums = Accumulate::Dense;
                                let out = attentive_estep_blocked(
                                    &docs, phi, &n_t, &params, output, sums, blocking,
                                )
                                .unwrap();
                                let bits = out.values.iter().map(|v| v.to_bits()).collect();
                                (bits, out.topics, out.n_wt)
                            };
                            let fresh = rayon::ThreadPoolBuilder::new()
                                .num_threads(2)
                                .build()
                                .unwrap();
                            assert!(
                                fresh.install(|| run(usize::MAX, 0, 1)) == run(usize::MAX, 0, 1),
                                "passes {passes}, exclude_self {exclude_self}, {filter:?}, \
                                 λ {document_weight}, resets {resets}, κ {tempering}, \
                                 prior {with_prior}, {output:?}: kept buffers"
                            );
                            for (block, piece) in [(1, 1), (6, 3), (32, 16)] {
                                let whole = run(usize::MAX, 0, piece);
                                let blocked = run(0, block, piece);
                                assert!(
                                    whole == blocked,
                                    "passes {passes}, exclude_self {exclude_self}, {filter:?}, \
                                     λ {document_weight}, resets {resets}, κ {tempering}, \
                                     prior {with_prior}, {output:?}, blocks of {block}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// `select_top` of `row ⊙ scale` for every k up to 10 equals the row sorted (larger p
    /// first, ties to the lower topic), p for p bit for bit; for k ≤ 4 and rows of at most
    /// 128, the candidates above the threshold are enough (the fast path answers).
    fn check_top_of_row(row: &[f32], scale: f32, what: &str) {
        let t = row.len();
        // Lanes past the row's end hold zeros, as the kernel's padding does.
        let mut lane_max = F8::ZERO;
        for (i, &v) in row.iter().enumerate() {
            lane_max.0[i % LANES] = lane_max.0[i % LANES].max(v);
        }
        let mut order: Vec<usize> = (0..t).collect();
        order.sort_by(|&a, &b| {
            (row[b] * scale)
                .total_cmp(&(row[a] * scale))
                .then(a.cmp(&b))
        });
        for k in 1..=t.min(10) {
            let (mut topics, mut probs) = (vec![0u16; k], vec![0f32; k]);
            select_top(row, scale, lane_max, &mut topics, &mut probs);
            let want: Vec<u16> = order[..k].iter().map(|&i| i as u16).collect();
            assert_eq!(topics, want, "{what}: t = {t}, k = {k}, scale {scale}");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let values: Vec<f32> = order[..k].iter().map(|&i| row[i] * scale).collect();
            assert_eq!(bits(&probs), bits(&values), "{what}: t = {t}, k = {k}");
            if k <= 4 && t <= 128 {
                let threshold = top_threshold(lane_max, k, scale);
                let (mut topics, mut probs) = (vec![0u16; k], vec![0f32; k]);
                let fast = top_of_candidates(row, scale, threshold, &mut topics, &mut probs);
                assert!(fast, "{what}: t = {t}, k = {k}: too few candidates");
                assert_eq!(topics, want, "{what}: t = {t}, k = {k} (fast path)");
            }
        }
    }

    /// The top-k selection on random rows around the two 64-topic words of its candidate
    /// mask, of 128 values, and past 128 (the general path), with many ties and with few,
    /// at several scales; and on rows made to test the threshold: equal and zero rows,
    /// real zeros beside padding, the largest values all in one lane, two values that
    /// differ but tie once scaled, subnormals.
    #[test]
    fn top_of_a_row_is_the_sorted_row() {
        let mut next = random(3);
        let sizes = [
            1, 2, 3, 7, 8, 9, 31, 63, 64, 65, 100, 120, 127, 128, 129, 200,
        ];
        for &t in &sizes {
            for ties in [true, false] {
                for scale in [0.37, 1.0, 3.0, 2f32.powi(-20)] {
                    let row: Vec<f32> = (0..t)
                        .map(|_| match ties {
                            true => (next() * 8.0).floor() / 8.0,
                            false => next().powi(4),
                        })
                        .collect();
                    check_top_of_row(&row, scale, &format!("random, ties {ties}"));
                }
            }
        }
        for t in [1, 5, 8, 100, 128] {
            check_top_of_row(&vec![0.25; t], 0.37, "equal");
            check_top_of_row(&vec![0.0; t], 0.37, "zeros");
        }
        check_top_of_row(&[0.0, 0.0, 0.5], 0.37, "zeros beside padding");
        let mut one_lane = vec![0.01f32; 32];
        for (i, topic) in [0, 8, 16, 24].into_iter().enumerate() {
            one_lane[topic] = 0.9 - 0.1 * i as f32;
        }
        check_top_of_row(&one_lane, 0.37, "largest in one lane");
        // x < y whose products with the scale round to the same p: the lower topic first.
        let scale = 0.37f32;
        let (x, y) = (0..64)
            .map(|i| f32::from_bits(1.5f32.to_bits() + i))
            .map(|x| (x, f32::from_bits(x.to_bits() + 1)))
            .find(|(x, y)| x * scale == y * scale)
            .expect("neighbours near 1.5 that tie once scaled");
        check_top_of_row(&[x, y, 0.1, y, x], scale, "tie after scaling");
        check_top_of_row(
            &[y, x, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, x],
            scale,
            "tie across lanes",
        );
        let tiny: Vec<f32> = (0..20).map(|i| 1e-42 * (1 + i % 5) as f32).collect();
        check_top_of_row(&tiny, 0.37, "subnormal");
    }

    #[test]
    fn kth_largest_of_eight_counts_equal_values_once() {
        assert_eq!(kth_largest_of_eight([1.0; 8], 1), 1.0);
        assert_eq!(kth_largest_of_eight([1.0; 8], 2), f32::NEG_INFINITY);
        let v = [3.0, 1.0, 3.0, 2.0, 0.0, 0.0, 0.0, 0.0];
        let got: Vec<f32> = (1..=5).map(|k| kth_largest_of_eight(v, k)).collect();
        assert_eq!(got, [3.0, 2.0, 1.0, 0.0, f32::NEG_INFINITY]);
    }

    /// By default one pass cuts documents of more than LONG_DOCUMENT tokens into blocks,
    /// and more passes those whose two buffers of rows exceed WHOLE_ROWS_BYTES (never
    /// fewer tokens than LONG_DOCUMENT); a given length is kept as it is.
    #[test]
    fn long_documents_by_default() {
        let default = Blocking::default();
        let row = 13 * size_of::<F8>(); // T = 100
        assert_eq!(default.long_document(13, 1), LONG_DOCUMENT);
        let whole = default.long_document(13, 2);
        assert_eq!(whole, WHOLE_ROWS_BYTES / (2 * row));
        assert!(2 * whole * row <= WHOLE_ROWS_BYTES && 2 * (whole + 1) * row > WHOLE_ROWS_BYTES);
        assert_eq!(default.long_document(13, 4), whole);
        assert_eq!(default.long_document(1_000, 3), LONG_DOCUMENT);
        assert_eq!(Blocking::longer_than(300).long_document(13, 3), 300);
    }

    /// One γ for every position gives the bits of the same value repeated per position,
    /// whole or a block at a time; one outside [0, 1] is refused.
    #[test]
    fn uniform_gamma_is_the_value_at_every_position() {
        let (t, n_words) = (9, 30);
        let mut next = random(11);
        let (offsets, words, phi) = random_collection(&mut next, &[1, 5, 0, 23, 60], n_words, t);
        let n = words.len();
        let docs = Documents::new(&words, None, &offsets, n_words).unwrap();
        let phi = Phi::checked(&phi, t).unwrap();
        let n_t: Vec<f32> = (0..t).map(|_| 1.0 + next()).collect();
        let (forward, backward) = (vec![0.3f32; n], vec![0.7f32; n]);
        let run = |gf: Gamma<'_>, gb: Gamma<'_>, output, long_document| -> Bits {
            let params = AttentiveParams {
                gamma_forward: gf,
                gamma_backward: gb,
                reset: None,
                beta: 0.4,
                passes: 2,
                exclude_self: true,
                filter: Filter::POverNt,
                document_weight: 0.2,
                tempering: 0.7,
                document_prior: None,
                context_prior: None,
            };
            let blocking = Blocking {
                long_document: Some(long_document),
                block: 8,
                piece: 4,
            };
            let out = attentive_estep_blocked(
                &docs,
                phi,
                &n_t,
                &params,
                output,
                Accumulate::Dense,
                blocking,
            )
            .unwrap();
            let bits = out.values.iter().map(|v| v.to_bits()).collect();
            (bits, out.topics, out.n_wt)
        };
        for output in [Output::Tokens, Output::TopK(3), Output::DocumentMean] {
            for long_document in [usize::MAX, 0] {
                let each = run(
                    Gamma::PerPosition(&forward),
                    Gamma::PerPosition(&backward),
                    output,
                    long_document,
                );
                let one = run(
                    Gamma::Uniform(0.3),
                    Gamma::Uniform(0.7),
                    output,
                    long_document,
                );
                assert!(each == one, "{output:?}, long_document {long_document}");
            }
        }
        let params = AttentiveParams {
            gamma_forward: Gamma::Uniform(1.5),
            gamma_backward: Gamma::Uniform(0.5),
            reset: None,
            beta: 0.4,
            passes: 1,
            exclude_self: true,
            filter: Filter::POverNt,
            document_weight: 0.0,
            tempering: 1.0,
            document_prior: None,
            context_prior: None,
        };
        let err = attentive_estep(&docs, phi, &n_t, &params, Output::None, Accumulate::None)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "gamma_forward must lie in [0, 1], but is 1.5"
        );
    }

    /// The sums of p over a document (its head and p(t|d)) go into f64 a piece at a time:
    /// an ordinary document gets the plain f32 sums, and a long one keeps the p of its
    /// later positions that one f32 sum would round away.
    #[test]
    fn sums_of_p_keep_every_position() {
        let mut total = vec![0f64; LANES];
        let mut piece = vec![F8::ZERO];
        let q = vec![F8::splat(1.0); 3];
        add_piece(&mut total, &mut piece, &q, [0.25, 0.5, 0.125].into_iter());
        assert_eq!(total[0], 0.875);
        // 2^24 + 1 is not an f32: an f32 total stops growing at 2^24.
        let mut total = vec![(1u64 << 24) as f64; LANES];
        for _ in 0..4 {
            add_piece(&mut total, &mut piece, &q[..1], [1.0].into_iter());
        }
        assert_eq!(total[0], (1u64 << 24) as f64 + 4.0);
    }
}

//! The localized E-step of Attentive ARTM (DESIGN 1.3).
//!
//! Each position i gets its own topic vector θ_i from two exponential moving averages of
//! the topic vectors p_j along the text: F from the left, B from the right, both reset at
//! document boundaries. `passes` times, p_i is refined by its context θ_i; finally
//! ñ_{w_i t} += p_ti. Within a document the two passes are sequential streams over
//! contiguous rows of T floats; documents run in parallel.

use crate::accumulate::{run_chunks, Rows};
use crate::documents::Documents;
use crate::error::{check_finite, Error, Result};
use crate::matrix::{check_phi, check_topic_vector, topics_given_words};
use crate::memory::zeroed;
use crate::vector::{argmax, dot, has_avx2, sum};

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
    /// The k most probable topics of every position and their p: n×2k, topic indices
    /// (as floats) then probabilities.
    TopK(usize),
}

impl Output {
    fn widths(self, t: usize) -> (usize, usize) {
        match self {
            Output::None => (0, 0),
            Output::Tokens => (0, t),
            Output::Contexts => (0, 2 * t + 2),
            Output::LogLikelihood => (0, 1),
            Output::DocumentMean => (t, 0),
            Output::TopK(k) => (0, 2 * k),
        }
    }
}

/// Result of the attentive E-step.
pub struct AttentiveOutput {
    /// ñ_wt (W×T, f64), when requested.
    pub n_wt: Option<Vec<f64>>,
    /// The rows of the requested `Output` (empty for `Output::None`).
    pub values: Vec<f32>,
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

/// One backward step at a position, fused: reads the left context `l` (sum `ls`), updates
/// the right stream `b` with the old p, and overwrites p with norm_t(θ p / n_t) (or
/// norm_t(θ φ_w)). Every p row sums to 1, so |B| is carried as the scalar `bs`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_step<const EXCLUDE_SELF: bool, const PHI_FILTER: bool>(
    p: &mut [f32],
    b: &mut [f32],
    bs: &mut f32,
    l: &[f32],
    ls: f32,
    g: f32,
    beta: f32,
    scale: &[f32],
) {
    let h = 1.0 - g;
    let new_bs = g + h * *bs;
    let rs = if EXCLUDE_SELF { *bs } else { new_bs };
    let (a, c, u) = mix_coefficients(ls, rs, beta, p.len());
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
    *bs = new_bs;
    rescale(p);
}

/// The k most probable topics of a row, best first (ties: lower topic first): k
/// vectorized argmax searches over a copy of the row, each taking out the topic found.
#[inline(always)]
fn top_k(row: &[f32], k: usize, work: &mut Vec<f32>, topics: &mut [f32], probs: &mut [f32]) {
    work.clear();
    work.extend_from_slice(row);
    for j in 0..k {
        let (t, best) = argmax(work);
        topics[j] = t as f32;
        probs[j] = best;
        work[t] = f32::NEG_INFINITY;
    }
}

/// Runs DESIGN 1.3 on every document. `phi` is W×T, `n_t` the topic masses.
pub fn attentive_estep(
    docs: &Documents<'_>,
    phi: &[f32],
    n_t: &[f32],
    params: &AttentiveParams<'_>,
    output: Output,
    accumulate: bool,
) -> Result<AttentiveOutput> {
    let t = n_t.len();
    let n_words = check_phi(phi, t)?;
    check_topic_vector("n_t", n_t, t)?;
    check(docs, n_t, params)?;
    if let Output::TopK(k) = output {
        if k == 0 || k > t {
            return Err(Error::Value(format!(
                "top must be between 1 and the number of topics ({t}), but is {k}"
            )));
        }
    }
    let prior = topics_given_words(phi, n_t);
    // A topic with no mass has p(t|w) = 0 everywhere; 0 rather than 1/0 keeps it at 0.
    let inv_nt: Vec<f32> = n_t
        .iter()
        .map(|&n| if n >= f32::MIN_POSITIVE { 1.0 / n } else { 0.0 })
        .collect();
    let (doc_width, entry_width) = output.widths(t);
    let mut doc_out = zeroed(docs.n_docs() * doc_width);
    let mut entry_out = zeroed(docs.n_entries() * entry_width);
    let (gf, gb) = (params.gamma_forward, params.gamma_backward);
    let setup = Setup {
        t,
        phi,
        prior: &prior,
        inv_nt: &inv_nt,
        beta: params.beta,
        passes: params.passes,
        exclude_self: params.exclude_self,
        filter: params.filter,
        output,
    };
    let simd = has_avx2();

    let n_wt = run_chunks(
        docs,
        n_words,
        t,
        Rows {
            values: &mut doc_out,
            width: doc_width,
        },
        Rows {
            values: &mut entry_out,
            width: entry_width,
        },
        |chunk, sums| {
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
                let doc_row = &mut chunk.doc_out[k * doc_width..(k + 1) * doc_width];
                #[cfg(target_arch = "x86_64")]
                if simd {
                    // SAFETY: `simd` is true only where the processor runs AVX2.
                    unsafe { document_avx2(&ctx, &setup, &mut scratch, chunk.entry_out, doc_row) };
                } else {
                    document_any(&ctx, &setup, &mut scratch, chunk.entry_out, doc_row);
                }
                #[cfg(not(target_arch = "x86_64"))]
                document_any(&ctx, &setup, &mut scratch, chunk.entry_out, doc_row);
                if accumulate {
                    let rows = if output == Output::Tokens {
                        &chunk.entry_out[ctx.offset * t..(ctx.offset + ctx.words.len()) * t]
                    } else {
                        &scratch.p[..ctx.words.len() * t]
                    };
                    for (j, &w) in ctx.words.iter().enumerate() {
                        let acc = sums.row(w);
                        acc.iter_mut()
                            .zip(&rows[j * t..(j + 1) * t])
                            .for_each(|(a, v)| *a += v);
                    }
                }
            }
        },
    );
    Ok(AttentiveOutput {
        n_wt: accumulate.then_some(n_wt),
        values: if doc_width > 0 { doc_out } else { entry_out },
    })
}

/// What every document of one E-step shares.
struct Setup<'a> {
    t: usize,
    phi: &'a [f32],
    /// p(t|w) = norm_t(φ_wt n_t), W×T.
    prior: &'a [f32],
    /// 1/n_t (0 for a topic without mass).
    inv_nt: &'a [f32],
    beta: f32,
    passes: usize,
    exclude_self: bool,
    filter: Filter,
    output: Output,
}

/// One document: its words and coefficients, and where its rows start in the chunk output.
struct DocContext<'a> {
    words: &'a [u32],
    gf: &'a [f32],
    gb: &'a [f32],
    reset: Option<&'a [f32]>,
    offset: usize,
}

/// Buffers reused across the documents of a chunk.
struct Scratch {
    /// p_i of every position of the document (n×T).
    p: Vec<f32>,
    /// The left context each position reads (n×T) and its sum.
    left: Vec<f32>,
    left_sum: Vec<f32>,
    f: Vec<f32>,
    b: Vec<f32>,
    theta: Vec<f32>,
}

impl Scratch {
    fn new(t: usize) -> Self {
        Scratch {
            p: Vec::new(),
            left: Vec::new(),
            left_sum: Vec::new(),
            f: vec![0.0; t],
            b: vec![0.0; t],
            theta: vec![0.0; t],
        }
    }
}

/// [`document`] for the options of `setup`, as four monomorphic copies.
#[inline(always)]
fn document_any(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    scratch: &mut Scratch,
    entry_out: &mut [f32],
    doc_row: &mut [f32],
) {
    match (setup.exclude_self, setup.filter) {
        (true, Filter::POverNt) => document::<true, false>(ctx, setup, scratch, entry_out, doc_row),
        (true, Filter::Phi) => document::<true, true>(ctx, setup, scratch, entry_out, doc_row),
        (false, Filter::POverNt) => {
            document::<false, false>(ctx, setup, scratch, entry_out, doc_row)
        }
        (false, Filter::Phi) => document::<false, true>(ctx, setup, scratch, entry_out, doc_row),
    }
}

/// [`document_any`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn document_avx2(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    scratch: &mut Scratch,
    entry_out: &mut [f32],
    doc_row: &mut [f32],
) {
    document_any(ctx, setup, scratch, entry_out, doc_row)
}

/// The localized E-step of one document: `passes` forward and backward streams over its
/// rows; leaves the final p_i in `scratch.p` and writes the requested output.
#[inline(always)]
fn document<const EXCLUDE_SELF: bool, const PHI_FILTER: bool>(
    ctx: &DocContext<'_>,
    setup: &Setup<'_>,
    scratch: &mut Scratch,
    entry_out: &mut [f32],
    doc_row: &mut [f32],
) {
    let t = setup.t;
    let n = ctx.words.len();
    let Scratch {
        p,
        left,
        left_sum,
        f,
        b,
        theta,
    } = scratch;
    // For token output the rows are refined in place in the output itself; every other
    // output goes to `out`.
    let (p, out): (&mut [f32], &mut [f32]) = if setup.output == Output::Tokens {
        (
            &mut entry_out[ctx.offset * t..(ctx.offset + n) * t],
            &mut [],
        )
    } else {
        p.resize(n * t, 0.0);
        (&mut p[..n * t], entry_out)
    };
    for (j, &w) in ctx.words.iter().enumerate() {
        p[j * t..(j + 1) * t].copy_from_slice(&setup.prior[w as usize * t..(w as usize + 1) * t]);
    }
    left.resize(n * t, 0.0);
    left_sum.resize(n, 0.0);
    for pass in 0..setup.passes {
        let last = pass + 1 == setup.passes;
        // Forward stream: the left context of every position. Rows of p sum to 1, so
        // |F| follows the same recursion as a scalar.
        f.fill(0.0);
        let (mut fs, mut f2) = (0f32, 0f32);
        for j in 0..n {
            let g = ctx.gf[j];
            // A boundary before j: the context carried in fades by its reset strength.
            let r = ctx.reset.map_or(0.0, |r| r[j]);
            if r > 0.0 {
                fade(f, &mut fs, &mut f2, r);
            }
            let lj = &mut left[j * t..(j + 1) * t];
            if EXCLUDE_SELF {
                lj.copy_from_slice(f);
                left_sum[j] = fs;
            }
            blend(f, &p[j * t..(j + 1) * t], g);
            fs = g + (1.0 - g) * fs;
            if !EXCLUDE_SELF {
                lj.copy_from_slice(f);
                left_sum[j] = fs;
            }
            f2 = g * g + (1.0 - g) * (1.0 - g) * f2;
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
            // A boundary after j (before j + 1): the right context fades the same way.
            let r = match ctx.reset {
                Some(r) if j + 1 < n => r[j + 1],
                _ => 0.0,
            };
            if r > 0.0 {
                fade(b, &mut bs, &mut b2, r);
            }
            let w = ctx.words[j] as usize;
            let phi_w = &setup.phi[w * t..(w + 1) * t];
            let l = &left[j * t..(j + 1) * t];
            let g = ctx.gb[j];
            if last && setup.output == Output::LogLikelihood {
                let h = 1.0 - g;
                let rs = if EXCLUDE_SELF { bs } else { g + h * bs };
                let (a, c, u) = mix_coefficients(left_sum[j], rs, setup.beta, t);
                for ((th, lt), (bt, pt)) in theta
                    .iter_mut()
                    .zip(l)
                    .zip(b.iter().zip(&p[j * t..(j + 1) * t]))
                {
                    let r = if EXCLUDE_SELF { *bt } else { g * pt + h * bt };
                    *th = a * lt + c * r + u;
                }
                out[ctx.offset + j] = dot(phi_w, theta).ln();
            }
            let scale = if PHI_FILTER { phi_w } else { setup.inv_nt };
            backward_step::<EXCLUDE_SELF, PHI_FILTER>(
                &mut p[j * t..(j + 1) * t],
                b,
                &mut bs,
                l,
                left_sum[j],
                g,
                setup.beta,
                scale,
            );
            b2 = g * g + (1.0 - g) * (1.0 - g) * b2;
            if last && setup.output == Output::Contexts {
                let e = (ctx.offset + j) * (2 * t + 2);
                write_normalized(&mut out[e + t..e + 2 * t], b, bs);
                out[e + 2 * t + 1] = effective_count(bs, b2);
            }
        }
    }
    match setup.output {
        Output::TopK(k) => {
            for j in 0..n {
                let e = (ctx.offset + j) * 2 * k;
                let (topics, probs) = out[e..e + 2 * k].split_at_mut(k);
                top_k(&p[j * t..(j + 1) * t], k, theta, topics, probs);
            }
        }
        Output::DocumentMean => {
            doc_row.fill(0.0);
            for j in 0..n {
                doc_row
                    .iter_mut()
                    .zip(&p[j * t..(j + 1) * t])
                    .for_each(|(a, v)| *a += v);
            }
            rescale(doc_row);
        }
        _ => {}
    }
}

//! The localized E-step of Attentive ARTM (DESIGN 1.3).
//!
//! Each position i gets its own topic vector θ_i from two exponential moving averages of
//! the topic vectors p_j along the text: F from the left, B from the right, both reset at
//! document boundaries. `passes` times, p_i is refined by its context θ_i; finally
//! ñ_{w_i t} += p_ti. Within a document the two passes are sequential streams over
//! contiguous rows of T floats; documents run in parallel.

use crate::accumulate::run_chunks;
use crate::documents::Documents;
use crate::error::{check_finite, Error, Result};
use crate::matrix::{check_phi, check_topic_vector, topics_given_words};
use crate::vector::{dot, normalize_positive, sum};

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
    /// (zeros where a side is empty): n×2T, left then right.
    Contexts,
    /// ln Σ_t φ_{w_i t} θ_it with the context θ_i of the last pass: n values.
    LogLikelihood,
    /// p(t|d) = mean of p_i over the document after the last pass: D×T.
    DocumentMean,
}

impl Output {
    fn widths(self, t: usize) -> (usize, usize) {
        match self {
            Output::None => (0, 0),
            Output::Tokens => (0, t),
            Output::Contexts => (0, 2 * t),
            Output::LogLikelihood => (0, 1),
            Output::DocumentMean => (t, 0),
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
    for (name, g) in [
        ("gamma_forward", p.gamma_forward),
        ("gamma_backward", p.gamma_backward),
    ] {
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

/// θ = β L/|L| + (1−β) R/|R|; an empty side gives its weight to the other, both empty
/// give the uniform vector.
#[inline]
fn mix(theta: &mut [f32], left: &[f32], right: &[f32], beta: f32) {
    let (sl, sr) = (sum(left), sum(right));
    match (sl > 0.0, sr > 0.0) {
        (true, true) => {
            let (a, b) = (beta / sl, (1.0 - beta) / sr);
            for ((th, l), r) in theta.iter_mut().zip(left).zip(right) {
                *th = a * l + b * r;
            }
        }
        (true, false) => theta.iter_mut().zip(left).for_each(|(th, l)| *th = l / sl),
        (false, true) => theta.iter_mut().zip(right).for_each(|(th, r)| *th = r / sr),
        (false, false) => theta.fill(1.0 / theta.len() as f32),
    }
}

/// x ← γ p + (1 − γ) x
#[inline]
fn blend(x: &mut [f32], p: &[f32], g: f32) {
    let h = 1.0 - g;
    for (xi, pi) in x.iter_mut().zip(p) {
        *xi = g * pi + h * *xi;
    }
}

#[inline]
fn write_normalized(dst: &mut [f32], src: &[f32]) {
    let s = sum(src);
    if s > 0.0 {
        dst.iter_mut().zip(src).for_each(|(d, v)| *d = v / s);
    } else {
        dst.fill(0.0);
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
    let prior = topics_given_words(phi, n_t);
    // A topic with no mass has p(t|w) = 0 everywhere; 0 rather than 1/0 keeps it at 0.
    let inv_nt: Vec<f32> = n_t
        .iter()
        .map(|&n| if n > 0.0 { 1.0 / n } else { 0.0 })
        .collect();
    let (doc_width, entry_width) = output.widths(t);
    let mut doc_out = vec![0f32; docs.n_docs() * doc_width];
    let mut entry_out = vec![0f32; docs.n_entries() * entry_width];
    let (gf, gb, beta) = (params.gamma_forward, params.gamma_backward, params.beta);
    let last = params.passes - 1;

    let n_wt = run_chunks(
        docs,
        n_words,
        t,
        &mut doc_out,
        doc_width,
        &mut entry_out,
        entry_width,
        |chunk, sums| {
            let first_entry = docs.range(chunk.docs.start).start;
            let mut p: Vec<f32> = Vec::new();
            let mut left: Vec<f32> = Vec::new();
            let (mut f, mut b, mut right, mut theta) =
                (vec![0f32; t], vec![0f32; t], vec![0f32; t], vec![0f32; t]);
            for (k, d) in chunk.docs.clone().enumerate() {
                let range = docs.range(d);
                let n = range.len();
                let words = &docs.words()[range.clone()];
                p.clear();
                for &w in words {
                    p.extend_from_slice(&prior[w as usize * t..(w as usize + 1) * t]);
                }
                left.resize(n * t, 0.0);
                for pass in 0..=last {
                    let out_now = pass == last;
                    // Forward stream: the left context of every position.
                    f.fill(0.0);
                    for j in 0..n {
                        let i = range.start + j;
                        let row = &p[j * t..(j + 1) * t];
                        let lj = &mut left[j * t..(j + 1) * t];
                        if params.exclude_self {
                            lj.copy_from_slice(&f);
                            blend(&mut f, row, gf[i]);
                        } else {
                            blend(&mut f, row, gf[i]);
                            lj.copy_from_slice(&f);
                        }
                        if out_now && output == Output::Contexts {
                            let e = (i - first_entry) * 2 * t;
                            write_normalized(&mut chunk.entry_out[e..e + t], &f);
                        }
                    }
                    // Backward stream: the right context, then θ_i and the new p_i.
                    b.fill(0.0);
                    for j in (0..n).rev() {
                        let i = range.start + j;
                        let w = words[j] as usize;
                        if params.exclude_self {
                            right.copy_from_slice(&b);
                            blend(&mut b, &p[j * t..(j + 1) * t], gb[i]);
                        } else {
                            blend(&mut b, &p[j * t..(j + 1) * t], gb[i]);
                            right.copy_from_slice(&b);
                        }
                        mix(&mut theta, &left[j * t..(j + 1) * t], &right, beta);
                        let phi_w = &phi[w * t..(w + 1) * t];
                        if out_now {
                            let e = i - first_entry;
                            match output {
                                Output::Contexts => write_normalized(
                                    &mut chunk.entry_out[e * 2 * t + t..(e + 1) * 2 * t],
                                    &b,
                                ),
                                Output::LogLikelihood => {
                                    chunk.entry_out[e] = dot(phi_w, &theta).ln();
                                }
                                _ => {}
                            }
                        }
                        let pj = &mut p[j * t..(j + 1) * t];
                        match params.filter {
                            Filter::POverNt => {
                                for ((x, th), inv) in pj.iter_mut().zip(&theta).zip(&inv_nt) {
                                    *x *= th * inv;
                                }
                            }
                            Filter::Phi => {
                                for ((x, th), ph) in pj.iter_mut().zip(&theta).zip(phi_w) {
                                    *x = th * ph;
                                }
                            }
                        }
                        normalize_positive(pj);
                    }
                }
                if accumulate {
                    for (j, &w) in words.iter().enumerate() {
                        let acc = sums.row(w);
                        acc.iter_mut()
                            .zip(&p[j * t..(j + 1) * t])
                            .for_each(|(a, v)| *a += v);
                    }
                }
                match output {
                    Output::Tokens => {
                        let e = (range.start - first_entry) * t;
                        chunk.entry_out[e..e + n * t].copy_from_slice(&p);
                    }
                    Output::DocumentMean => {
                        let row = &mut chunk.doc_out[k * t..(k + 1) * t];
                        row.fill(0.0);
                        for j in 0..n {
                            row.iter_mut()
                                .zip(&p[j * t..(j + 1) * t])
                                .for_each(|(a, v)| *a += v);
                        }
                        normalize_positive(row);
                    }
                    _ => {}
                }
            }
        },
    );
    Ok(AttentiveOutput {
        n_wt: accumulate.then_some(n_wt),
        values: if doc_width > 0 { doc_out } else { entry_out },
    })
}

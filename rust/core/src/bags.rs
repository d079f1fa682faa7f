//! The E-step of document-level modalities under a given topic vector per document
//! (docs/mathematics.md §7): labels, tags and the like are bags without positions, and
//! Attentive ARTM reads them against the document's θ_d rather than against contexts.

use crate::accumulate::{accumulate, Accumulate, Outputs, Rows, WordTopicSums};
use crate::documents::Documents;
use crate::error::{check_finite, Error, Result};
use crate::matrix::Phi;
use crate::memory::zeroed;
use crate::vector::dot;

/// Result of [`bags_estep`].
pub struct BagsOutput {
    /// n_td = Σ_w c_dw p_tdw per document, D×T row-major.
    pub n_td: Vec<f32>,
    /// ñ_wt as requested.
    pub n_wt: WordTopicSums,
}

/// For every entry (w, c_dw) of every document d: p_tdw = norm_t(φ_wt θ_td) (uniform
/// when Σ_t φ_wt θ_td vanishes), n_td += c_dw p_tdw, and ñ_wt += c_dw norm_t(p_tdw^κ)
/// (tempered EM; κ = 1 adds p_tdw itself). `theta` is D×T; the counts of `docs` carry the
/// modality weights.
pub fn bags_estep(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    theta: &[f32],
    tempering: f32,
    sums: Accumulate<'_>,
) -> Result<BagsOutput> {
    let t = phi.n_topics();
    if theta.len() != docs.n_docs() * t {
        return Err(Error::Shape(format!(
            "theta must have one row of {t} values per document ({}), but has {} values",
            docs.n_docs(),
            theta.len()
        )));
    }
    check_finite("theta", theta)?;
    if let Some(i) = theta.iter().position(|v| *v < 0.0) {
        return Err(Error::Value(format!(
            "theta must be non-negative, but element {i} is {}",
            theta[i]
        )));
    }
    if !(tempering > 0.0 && tempering <= 1.0) {
        return Err(Error::Value(format!(
            "tempering must lie in (0, 1], but is {tempering}"
        )));
    }
    let mut n_td = zeroed("n_td (documents × topics)", &[docs.n_docs(), t])?;
    let outputs = Outputs {
        doc: Rows {
            values: &mut n_td,
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
        |chunk, sums, p: &mut Vec<f32>| {
            p.resize(t, 0.0);
            for (k, d) in chunk.docs.clone().enumerate() {
                let theta_d = &theta[d * t..(d + 1) * t];
                let out = &mut chunk.doc_out[k * t..(k + 1) * t];
                for i in docs.range(d) {
                    let w = docs.words()[i];
                    let c = docs.count(i);
                    let phi_w = phi.row(w as usize);
                    let z = dot(phi_w, theta_d);
                    if z >= f32::MIN_POSITIVE {
                        for ((q, f), th) in p.iter_mut().zip(phi_w).zip(theta_d) {
                            *q = f * th / z;
                        }
                    } else {
                        p.fill(1.0 / t as f32);
                    }
                    for (o, q) in out.iter_mut().zip(p.iter()) {
                        *o += c * q;
                    }
                    if !accumulating {
                        continue;
                    }
                    if tempering != 1.0 {
                        p.iter_mut().for_each(|q| *q = q.powf(tempering));
                        let s: f32 = p.iter().sum();
                        p.iter_mut().for_each(|q| *q /= s);
                    }
                    for (a, q) in sums.row(w).iter_mut().zip(p.iter()) {
                        *a += c * q;
                    }
                }
            }
        },
    )?;
    Ok(BagsOutput { n_td, n_wt })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posteriors_follow_theta_and_conserve_mass() {
        // Two words, two topics; word 0 only in topic 0, word 1 in both.
        let phi = [1.0f32, 0.0, 0.0, 1.0];
        let words = [0u32, 1, 1];
        let counts = [2.0f32, 1.0, 3.0];
        let offsets = [0i64, 2, 3];
        let docs = Documents::new(&words, Some(&counts), &offsets, 2).unwrap();
        let theta = [0.5f32, 0.5, 0.25, 0.75];
        let out = bags_estep(
            &docs,
            Phi::checked(&phi, 2).unwrap(),
            &theta,
            1.0,
            Accumulate::Dense,
        )
        .unwrap();
        assert_eq!(out.n_td, vec![2.0, 1.0, 0.0, 3.0]);
        match out.n_wt {
            WordTopicSums::Dense(v) => assert_eq!(v, vec![2.0, 0.0, 0.0, 4.0]),
            _ => panic!("dense sums expected"),
        }
        assert!(bags_estep(
            &docs,
            Phi::checked(&phi, 2).unwrap(),
            &theta[..2],
            1.0,
            Accumulate::None
        )
        .is_err());
    }
}

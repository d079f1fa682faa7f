//! Small dense vector operations over topic rows. They use eight independent lanes so that
//! the compiler vectorizes them without reassociating float sums on its own, which keeps
//! every result bit-for-bit reproducible.

use crate::lanes::F8;

const LANES: usize = 8;

#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; LANES];
    let (ac, ar) = a.split_at(a.len() - a.len() % LANES);
    let (bc, br) = b.split_at(ac.len());
    for (x, y) in ac.chunks_exact(LANES).zip(bc.chunks_exact(LANES)) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = 0f32;
    for (x, y) in ar.iter().zip(br) {
        s += x * y;
    }
    lane_sum(&acc) + s
}

/// Sum of the elements, in the same lane order as `dot`.
#[inline]
pub fn sum(a: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ac, ar) = a.split_at(a.len() - a.len() % LANES);
    for x in ac.chunks_exact(LANES) {
        for k in 0..LANES {
            acc[k] += x[k];
        }
    }
    lane_sum(&acc) + ar.iter().sum::<f32>()
}

#[inline]
fn lane_sum(acc: &[f32; LANES]) -> f32 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// y += s * x
#[inline]
pub fn axpy(s: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += s * xi;
    }
}

/// y += s * (a ⊙ b)
#[inline]
pub fn axpy_prod(s: f32, a: &[f32], b: &[f32], y: &mut [f32]) {
    for ((yi, ai), bi) in y.iter_mut().zip(a).zip(b) {
        *yi += s * ai * bi;
    }
}

/// norm_t of docs/mathematics.md: x ← max(x, 0) / Σ max(x, 0), uniform when that sum is 0.
/// Returns the sum of the positive parts before normalizing.
#[inline(always)]
pub fn normalize_positive(x: &mut [f32]) -> f32 {
    for v in x.iter_mut() {
        *v = v.max(0.0);
    }
    let s = sum(x);
    if s >= f32::MIN_POSITIVE && s.is_finite() {
        let inv = 1.0 / s;
        for v in x.iter_mut() {
            *v *= inv;
        }
    } else {
        x.fill(1.0 / x.len() as f32);
    }
    s
}

/// Whether this processor runs AVX2 and FMA (every AVX2 processor has FMA, but a virtual
/// machine may hide it; the baseline copies run then). Kernels keep a second copy of their
/// hot loops compiled for it: the lane structure of the helpers above fixes the order of
/// every float operation, and Rust never fuses a multiply and an add on its own, so both
/// copies give bit-identical results — except for the one place that fuses them on purpose
/// where the processor can ([`probability_power`]).
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the kernels run fused multiply-adds as one instruction: in their AVX2 copies on
/// x86_64 (see [`has_avx2`]), always on aarch64. Elsewhere `f32::mul_add` is a library call.
#[inline]
pub fn has_fused_multiply_add() -> bool {
    cfg!(target_arch = "aarch64") || has_avx2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_sum_match_naive_sums() {
        let a: Vec<f32> = (0..53).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..53).map(|i| (i as f32 * 0.11).cos()).collect();
        let naive: f64 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (*x as f64) * (*y as f64))
            .sum();
        assert!((dot(&a, &b) as f64 - naive).abs() < 1e-5);
        let naive_sum: f64 = a.iter().map(|x| *x as f64).sum();
        assert!((sum(&a) as f64 - naive_sum).abs() < 1e-5);
    }

    #[test]
    fn normalize_clips_negatives_and_falls_back_to_uniform() {
        let mut x = [2.0f32, -1.0, 2.0];
        normalize_positive(&mut x);
        assert_eq!(x, [0.5, 0.0, 0.5]);
        let mut z = [0.0f32, -3.0, 0.0, 0.0];
        normalize_positive(&mut z);
        assert_eq!(z, [0.25; 4]);
    }
}

/// log2(1 + u) on [0, 1): least-squares polynomial on Chebyshev nodes, error < 4e-7.
const LOG2_POLY: [f32; 7] = [
    1.442_664_1,
    -0.720_515_5,
    0.473_113_35,
    -0.324_616_38,
    0.192_385_05,
    -0.078_158_21,
    0.015_127_916,
];
/// 2^f on [0, 1): relative error < 1.1e-7.
const EXP2_POLY: [f32; 6] = [
    0.999_999_9,
    0.693_154_6,
    0.240_140_77,
    0.055_863_28,
    0.008_946_215,
    0.001_895_107_3,
];

/// x^κ for a probability x ∈ [0, 1] and κ ∈ (0, 1], as 2^(κ log2 x) with polynomial
/// log2 and exp2 and no branch, so that it vectorizes: within 2e-6 (relative) of `powf`
/// for x ≥ 1e-9 and 1e-5 below. Values below float32's normal range give 0, and so do
/// results whose 2^⌊κ log2 x⌋ is below 2^-125 (2^-126 without `FUSED`).
///
/// `FUSED` (where [`has_fused_multiply_add`]): both polynomials by Horner's rule in fused
/// multiply-adds, one instruction per term; the tempered sums power the independent values
/// of many positions, so what bounds the speed is the number of operations rather than
/// their chain. Otherwise by Estrin's scheme (pairs of terms, then pairs of pairs) in
/// separate multiplies and adds: a fused operation would there be a library call (the
/// tempered E-step took 7× as long). The two round differently in the last bits, so
/// tempered training is the one place where the kernels' AVX2 and baseline copies do not
/// agree bit for bit. 2^whole goes into the exponent bits of 2^f by an integer addition,
/// exact where the result is normal.
#[inline(always)]
pub fn probability_power<const FUSED: bool>(x: f32, kappa: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000) - 1.0;
    let (c, e) = (&LOG2_POLY, &EXP2_POLY);
    // κ log2 x = κ (e − 127 + m P(m)).
    let y = if FUSED {
        let mut log = c[6];
        for &c in c[..6].iter().rev() {
            log = log.mul_add(m, c);
        }
        log.mul_add(m, (exponent - 127) as f32) * kappa
    } else {
        let (m2, m4) = (m * m, (m * m) * (m * m));
        let low = (c[0] + c[1] * m) + (c[2] + c[3] * m) * m2;
        let high = (c[4] + c[5] * m) + c[6] * m2;
        kappa * (exponent - 127) as f32 + kappa * ((low + high * m4) * m)
    };
    let whole = y.floor();
    let f = y - whole;
    let pow = if FUSED {
        let mut pow = e[5];
        for &e in e[..5].iter().rev() {
            pow = pow.mul_add(f, e);
        }
        pow
    } else {
        let (f2, f4) = (f * f, (f * f) * (f * f));
        ((e[0] + e[1] * f) + (e[2] + e[3] * f) * f2) + (e[4] + e[5] * f) * f4
    };
    // Adding 1.5·2^23 leaves the integer whole in the low bits (`as i32` saturates, and
    // its checks do not vectorize).
    let shifted = (whole.max(-127.0) + 12_582_912.0)
        .to_bits()
        .wrapping_sub(0x4b40_0000);
    if FUSED {
        // 2^f ∈ [1 − 1e-7, 2]: its exponent field is 126 to 128, so adding whole ≥ −125
        // to it leaves a normal number; below that, and for x = 0 or subnormal, 0.
        let scaled = pow.to_bits().wrapping_add(shifted << 23);
        let keep = (exponent != 0) & (whole >= -125.0);
        f32::from_bits(scaled & (keep as u32).wrapping_neg())
    } else {
        // The operations of the build before this one, so that this copy keeps its bits:
        // 2^whole for whole ∈ [−127, 0] (0 at −127), and 0 for x = 0 or subnormal.
        let scale = f32::from_bits((shifted.wrapping_add(127)) << 23);
        let nonzero = (exponent != 0) as u32 as f32;
        pow * scale * nonzero
    }
}

/// [`probability_power`] of eight lanes.
#[inline(always)]
pub fn probability_power8<const FUSED: bool>(x: F8, kappa: f32) -> F8 {
    let mut r = [0.0; 8];
    for (r, &v) in r.iter_mut().zip(&x.0) {
        *r = probability_power::<FUSED>(v, kappa);
    }
    F8(r)
}

#[cfg(test)]
mod power_tests {
    use super::*;

    #[test]
    fn probability_power_is_close_to_powf() {
        for kappa in [0.3f32, 0.5, 0.7, 0.8, 0.95, 1.0] {
            let mut x = 1.0f32;
            while x > 1e-30 {
                for v in [x, x * 0.77, x * 0.5001] {
                    let want = v.powf(kappa);
                    for got in [
                        probability_power::<false>(v, kappa),
                        probability_power::<true>(v, kappa),
                    ] {
                        if want < f32::MIN_POSITIVE {
                            assert!(got < f32::MIN_POSITIVE);
                            continue;
                        }
                        let tolerance = if v >= 1e-9 { 2e-6 } else { 1e-5 };
                        assert!(
                            (got - want).abs() <= tolerance * want,
                            "{v}^{kappa}: {got} vs {want}"
                        );
                    }
                }
                x *= 0.9;
            }
            assert_eq!(probability_power::<false>(0.0, kappa), 0.0);
            assert_eq!(probability_power::<true>(0.0, kappa), 0.0);
        }
    }
}

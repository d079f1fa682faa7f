//! Small dense vector operations over topic rows. They use eight independent lanes so that
//! the compiler vectorizes them without reassociating float sums on its own, which keeps
//! every result bit-for-bit reproducible.

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

/// norm_t of DESIGN 1: x ← max(x, 0) / Σ max(x, 0), uniform when that sum is 0.
/// Returns the sum of the positive parts before normalizing.
#[inline]
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

/// Whether this processor runs AVX2. Kernels keep a second copy of their hot loops compiled
/// for it: the lane structure of the helpers above fixes the order of every float
/// operation, and Rust never fuses a multiply and an add on its own, so both copies give
/// bit-identical results.
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
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

//! Topic rows as blocks of eight lanes.
//!
//! A kernel's working rows (T values) are padded with zeros to a multiple of eight and
//! handled as [`F8`] blocks, so that every inner loop is a whole number of vector
//! operations: no scalar tail (T = 50 would leave two values out of every 56), no length
//! checks. Each operation works lane by lane, so an AVX2 copy of a kernel (one 256-bit
//! instruction per block) and the baseline copy (two 128-bit ones) round every value the
//! same way; sums across lanes go in the fixed order of [`F8::sum`].

use std::ops::{Add, AddAssign, Mul, MulAssign, Sub};

pub const LANES: usize = 8;

/// Eight floats, aligned so that a block is one 256-bit load or store.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C, align(32))]
pub struct F8(pub [f32; LANES]);

impl F8 {
    pub const ZERO: F8 = F8([0.0; LANES]);

    #[inline(always)]
    pub fn splat(x: f32) -> F8 {
        F8([x; LANES])
    }

    /// Sum of the lanes, in the order of `vector::sum`.
    #[inline(always)]
    pub fn sum(self) -> f32 {
        let a = self.0;
        ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
    }

    #[inline(always)]
    pub fn max(self, o: F8) -> F8 {
        let mut r = self.0;
        for (x, y) in r.iter_mut().zip(o.0) {
            *x = if *x > y { *x } else { y };
        }
        F8(r)
    }
}

/// A lane-by-lane operator of [`F8`].
macro_rules! lanewise {
    ($trait:ident, $method:ident, $op:tt) => {
        impl $trait for F8 {
            type Output = F8;
            #[inline(always)]
            fn $method(self, o: F8) -> F8 {
                let mut r = self.0;
                for (x, y) in r.iter_mut().zip(o.0) {
                    *x $op y;
                }
                F8(r)
            }
        }
    };
}

lanewise!(Add, add, +=);
lanewise!(Sub, sub, -=);
lanewise!(Mul, mul, *=);

impl AddAssign for F8 {
    #[inline(always)]
    fn add_assign(&mut self, o: F8) {
        *self = *self + o;
    }
}

impl MulAssign for F8 {
    #[inline(always)]
    fn mul_assign(&mut self, o: F8) {
        *self = *self * o;
    }
}

/// Asks the processor to bring the cache lines of `row` closer. Kernels call it for the
/// Φ row of a token a few tokens ahead, and the merge for the n_wt row of a word a few
/// words ahead: rows of a large matrix come from the last-level cache or memory, and a
/// loop that handles one row at a time otherwise waits for each in turn.
#[inline(always)]
pub fn prefetch<T>(row: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = row.as_ptr() as usize;
        let end = start + std::mem::size_of_val(row);
        let mut line = start & !(LINE - 1);
        while line < end {
            // SAFETY: a prefetch never faults and changes no memory; every address lies
            // within `row`'s cache lines.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line as *const i8) };
            line += LINE;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// The lane sums of eight blocks, [`F8::sum`] of each bit for bit, as the lanes of one
/// block. `AVX2` (for callers compiled for AVX2) does it with eight shuffles and seven
/// vector additions instead of fifty-six scalar ones, in the same order.
#[inline(always)]
pub fn sums8<const AVX2: bool>(a: &[F8; LANES]) -> F8 {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: callers pass AVX2 = true only where the processor runs AVX2.
        return unsafe { sums8_avx2(a) };
    }
    F8(std::array::from_fn(|e| a[e].sum()))
}

/// [`sums8`] in AVX2 instructions: with s = lo + hi of a block (a0+a4, a1+a5, a2+a6,
/// a3+a7), F8::sum is (s0 + s1) + (s2 + s3), which two rounds of pairwise additions
/// (`hadd`) give for eight blocks at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn sums8_avx2(a: &[F8; LANES]) -> F8 {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_hadd_ps, _mm256_load_ps, _mm256_permute2f128_ps, _mm256_store_ps,
    };
    // SAFETY: every F8 is 32 floats aligned to 32 bytes, as the aligned loads and the
    // store need.
    unsafe {
        let v: [_; LANES] = std::array::from_fn(|e| _mm256_load_ps(a[e].0.as_ptr()));
        // Blocks e and e + 4 share a register: s_e in the low half, s_{e+4} in the high.
        let s: [_; 4] = std::array::from_fn(|e| {
            let low = _mm256_permute2f128_ps::<0x20>(v[e], v[e + 4]);
            let high = _mm256_permute2f128_ps::<0x31>(v[e], v[e + 4]);
            _mm256_add_ps(low, high)
        });
        let pairs = (_mm256_hadd_ps(s[0], s[1]), _mm256_hadd_ps(s[2], s[3]));
        let mut out = F8::ZERO;
        _mm256_store_ps(out.0.as_mut_ptr(), _mm256_hadd_ps(pairs.0, pairs.1));
        out
    }
}

/// Blocks per row of `t` values.
#[inline(always)]
pub fn blocks(t: usize) -> usize {
    t.div_ceil(LANES)
}

/// A row of floats as blocks, zero-padded.
pub fn padded(values: &[f32]) -> Vec<F8> {
    let mut out = vec![F8::ZERO; blocks(values.len())];
    load(values, &mut out);
    out
}

/// `dst` ← the values of `src`, then zeros.
#[inline(always)]
pub fn load(src: &[f32], dst: &mut [F8]) {
    let full = src.len() / LANES;
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(LANES)) {
        *d = F8(s.try_into().expect("chunks of LANES"));
    }
    if let Some(last) = dst.get_mut(full) {
        let rest = &src[full * LANES..];
        let mut r = [0.0; LANES];
        r[..rest.len()].copy_from_slice(rest);
        *last = F8(r);
    }
}

/// The first `dst.len()` values of `src` (padding dropped), each times `scale`.
#[inline(always)]
pub fn store_scaled(src: &[F8], scale: f32, dst: &mut [f32]) {
    for (d, s) in dst.chunks_mut(LANES).zip(src) {
        for (x, v) in d.iter_mut().zip(s.0) {
            *x = v * scale;
        }
    }
}

/// Sum of a row: blocks added in order, then the lanes.
#[inline(always)]
pub fn sum(row: &[F8]) -> f32 {
    let mut acc = F8::ZERO;
    for v in row {
        acc += *v;
    }
    acc.sum()
}

/// Σ a_i b_i over a row, in the order of [`sum`].
#[inline(always)]
pub fn dot(a: &[F8], b: &[F8]) -> f32 {
    let mut acc = F8::ZERO;
    for (x, y) in a.iter().zip(b) {
        acc += *x * *y;
    }
    acc.sum()
}

/// 1/Σ row when the sum is a positive normal number; otherwise the row becomes the
/// uniform distribution over its first `t` lanes (norm_t's fallback) and 1 is returned.
#[inline(always)]
pub fn inverse_sum(row: &mut [F8], t: usize) -> f32 {
    let s = sum(row);
    if s >= f32::MIN_POSITIVE && s.is_finite() {
        1.0 / s
    } else {
        uniform(row, t);
        1.0
    }
}

/// The uniform distribution over the first `t` lanes of a row (zeros after them).
pub fn uniform(row: &mut [F8], t: usize) {
    let u = 1.0 / t as f32;
    for (b, v) in row.iter_mut().enumerate() {
        for (i, x) in v.0.iter_mut().enumerate() {
            *x = if b * LANES + i < t { u } else { 0.0 };
        }
    }
}

/// The values of blocks as a plain slice of floats (padding included).
#[inline(always)]
pub fn floats(row: &[F8]) -> &[f32] {
    // SAFETY: F8 is `repr(C)` around `[f32; LANES]`, so `row.len()` blocks are
    // `row.len() * LANES` consecutive, initialized floats.
    unsafe { std::slice::from_raw_parts(row.as_ptr().cast::<f32>(), row.len() * LANES) }
}

/// [`floats`] for writing.
#[inline(always)]
pub fn floats_mut(row: &mut [F8]) -> &mut [f32] {
    // SAFETY: as in `floats`; the borrow of `row` is exclusive.
    unsafe { std::slice::from_raw_parts_mut(row.as_mut_ptr().cast::<f32>(), row.len() * LANES) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_rows_round_trip() {
        let v: Vec<f32> = (0..13).map(|i| i as f32).collect();
        let p = padded(&v);
        assert_eq!(p.len(), 2);
        assert_eq!(&floats(&p)[..13], &v[..]);
        assert_eq!(&floats(&p)[13..], &[0.0; 3]);
        assert_eq!(sum(&p), 78.0);
        let mut out = vec![0.0; 13];
        store_scaled(&p, 2.0, &mut out);
        assert_eq!(out[12], 24.0);
        let mut z = vec![F8::ZERO; 2];
        assert_eq!(inverse_sum(&mut z, 13), 1.0);
        assert_eq!(floats(&z)[12], 1.0 / 13.0);
        assert_eq!(floats(&z)[13], 0.0);
    }

    #[test]
    fn sums_of_eight_blocks_are_their_lane_sums() {
        let a: [F8; LANES] =
            std::array::from_fn(|e| F8(std::array::from_fn(|i| ((e * 8 + i) as f32 * 0.37).sin())));
        let want = F8(std::array::from_fn(|e| a[e].sum()));
        assert_eq!(sums8::<false>(&a), want);
        if crate::vector::has_avx2() {
            assert_eq!(
                sums8::<true>(&a).0.map(f32::to_bits),
                want.0.map(f32::to_bits)
            );
        }
    }
}

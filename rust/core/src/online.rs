//! Row-wise pieces of the batch-online update (docs/mathematics.md §4): n_wt := δ n_wt + α ñ_wt,
//! then φ = norm_w(n_wt), done on the rows a batch touched rather than on all of W×T.
//!
//! The model keeps n_wt = c · m with a scalar c, so that the decay δ only multiplies c; m
//! changes in the rows ñ_wt touches, where `add_rows` (or an E-step adding into m
//! directly) puts (α / c) ñ_wt. The column sums Σ_w m_wt and Σ_w max(m_wt, 0) follow from
//! the change that either reports (`ColumnChange`); `row_sums` computes them afresh.
//! Without a Φ regularizer φ_wt =
//! max(m_wt, 0) / Σ_v max(m_vt, 0), which `refresh_rows` writes for the rows an E-step is
//! about to read.

use crate::accumulate::ColumnChange;
use crate::error::{Error, Result};
use crate::lanes::prefetch;
#[cfg(target_arch = "x86_64")]
use crate::vector::has_avx2;

fn check_rows(rows: &[u32], n_words: usize) -> Result<()> {
    match rows.iter().find(|&&w| w as usize >= n_words) {
        Some(w) => Err(Error::Value(format!(
            "row {w} is outside the vocabulary of {n_words} words"
        ))),
        None => Ok(()),
    }
}

fn check_matrix(name: &str, len: usize, n_words: usize, n_topics: usize) -> Result<()> {
    if len != n_words * n_topics {
        return Err(Error::Shape(format!(
            "{name} must be {n_words}×{n_topics}, but has {len} values"
        )));
    }
    Ok(())
}

/// Σ over `rows` of m_wt and of max(m_wt, 0), per topic (rows in the order given).
pub fn row_sums(m: &[f64], n_topics: usize, rows: &[u32]) -> Result<(Vec<f64>, Vec<f64>)> {
    check_rows(rows, m.len() / n_topics.max(1))?;
    let mut total = vec![0.0; n_topics];
    let mut positive = vec![0.0; n_topics];
    for &w in rows {
        let row = &m[w as usize * n_topics..(w as usize + 1) * n_topics];
        for ((s, p), &v) in total.iter_mut().zip(positive.iter_mut()).zip(row) {
            *s += v;
            *p += v.max(0.0);
        }
    }
    Ok((total, positive))
}

/// m_w += weight · values_k for the k-th of `words` (each row of `values` has T values);
/// returns how that changed the column sums of m.
pub fn add_rows(
    m: &mut [f64],
    n_topics: usize,
    words: &[u32],
    values: &[f64],
    weight: f64,
) -> Result<ColumnChange> {
    check_rows(words, m.len() / n_topics.max(1))?;
    check_matrix("the rows", values.len(), words.len(), n_topics)?;
    let mut change = ColumnChange::zeros(n_topics);
    for (&w, src) in words.iter().zip(values.chunks_exact(n_topics)) {
        let dst = &mut m[w as usize * n_topics..(w as usize + 1) * n_topics];
        change.add(dst, src, weight);
    }
    Ok(change)
}

/// φ_wt = max(m_wt, 0) / positive_t for the given rows (1/`block_rows` where
/// positive_t ≤ 0, the uniform column of norm_w over the block of rows — a modality — that
/// the rows and `positive` belong to), as float32, with values below float32's normal
/// range set to 0 (they are noise that only risks overflow later). Rows must be increasing; large
/// sets of rows are split between the threads (each value is computed the same way on
/// any thread, so the result does not depend on their number).
///
/// `stamps`, when given, skips the rows that are current: those whose stamp is already
/// the version, and stamps the others with it once refreshed.
///
/// `save`, when given (rows × T), receives a copy of every given row of m, current or
/// not: an update that must be undoable keeps the rows it is about to change, and the
/// refresh before it reads the same rows, so one pass over them serves both.
pub fn refresh_rows(
    phi: &mut [f32],
    m: &[f64],
    positive: &[f64],
    rows: &[u32],
    block_rows: usize,
    stamps: Option<Stamps<'_>>,
    save: Option<&mut [f64]>,
) -> Result<()> {
    let t = positive.len();
    if t == 0 {
        return Err(Error::Value(
            "the number of topics must be at least 1".into(),
        ));
    }
    let n_words = m.len() / t;
    check_matrix("n_wt", m.len(), n_words, t)?;
    check_matrix("phi", phi.len(), n_words, t)?;
    check_rows(rows, n_words)?;
    if !(1..=n_words).contains(&block_rows) {
        return Err(Error::Value(format!(
            "block_rows must be between 1 and the {n_words} rows of n_wt, not {block_rows}"
        )));
    }
    if let Some(k) = rows.windows(2).position(|p| p[0] >= p[1]) {
        return Err(Error::Value(format!(
            "rows must be increasing, but rows[{k}] = {} is followed by {}",
            rows[k],
            rows[k + 1]
        )));
    }
    if let Some(s) = &stamps {
        if s.rows.len() != n_words {
            return Err(Error::Shape(format!(
                "the stamps must have one value per row of n_wt ({n_words}), not {}",
                s.rows.len()
            )));
        }
    }
    let (stamps, version) = match stamps {
        Some(s) => (Some(s.rows), Some(s.version)),
        None => (None, None),
    };
    let source = Source {
        m,
        version,
        uniform: 1.0 / block_rows as f64,
        // Branch-free per value, so that the row loop runs on vectors: the divisor of an
        // empty column is 1 and its quotient is replaced by the uniform value.
        filled: positive.iter().map(|&s| s > 0.0).collect(),
        divisor: positive
            .iter()
            .map(|&s| if s > 0.0 { s } else { 1.0 })
            .collect(),
    };
    if let Some(save) = &save {
        check_matrix("the saved rows", save.len(), rows.len(), t)?;
    }
    let targets = Targets {
        phi,
        first: 0,
        rows,
        stamps,
        save,
    };
    refresh_split(&source, targets);
    Ok(())
}

/// How many rows ahead `refresh_any` prefetches.
const REFRESH_AHEAD: usize = 4;

/// Rows fewer than this are refreshed on one thread.
const REFRESH_SPLIT: usize = 1024;

/// The version of n_wt each row of Φ was last refreshed at (one per row of Φ), and the
/// version now: a row whose stamp is `version` is current.
pub struct Stamps<'a> {
    pub rows: &'a mut [i64],
    pub version: i64,
}

/// What the refreshed rows are computed from: m and its column sums, and the version of
/// n_wt when the rows carry stamps.
struct Source<'a> {
    m: &'a [f64],
    version: Option<i64>,
    uniform: f64,
    /// Columns with positive mass (the others are uniform).
    filled: Vec<bool>,
    divisor: Vec<f64>,
}

/// Where a refresh writes: the rows of `phi` and of `stamps`, which hold Φ's rows and
/// their stamps from row `first` on, and the copies of those rows of m (`save`, one row per
/// entry of `rows`).
struct Targets<'a> {
    phi: &'a mut [f32],
    first: usize,
    rows: &'a [u32],
    stamps: Option<&'a mut [i64]>,
    save: Option<&'a mut [f64]>,
}

impl<'a> Targets<'a> {
    /// The first half of the rows and the second, each with its part of Φ and of the
    /// copies (`t` values per row).
    fn halves(self, t: usize) -> (Targets<'a>, Targets<'a>) {
        let (low, high) = self.rows.split_at(self.rows.len() / 2);
        let cut = high[0] as usize;
        let (phi_low, phi_high) = self.phi.split_at_mut((cut - self.first) * t);
        let (stamps_low, stamps_high) = split(self.stamps, cut - self.first);
        let (save_low, save_high) = split(self.save, low.len() * t);
        let low = Targets {
            phi: phi_low,
            first: self.first,
            rows: low,
            stamps: stamps_low,
            save: save_low,
        };
        let high = Targets {
            phi: phi_high,
            first: cut,
            rows: high,
            stamps: stamps_high,
            save: save_high,
        };
        (low, high)
    }
}

/// An optional slice cut at `at`.
fn split<T>(s: Option<&mut [T]>, at: usize) -> (Option<&mut [T]>, Option<&mut [T]>) {
    match s {
        Some(s) => {
            let (low, high) = s.split_at_mut(at);
            (Some(low), Some(high))
        }
        None => (None, None),
    }
}

/// `refresh_rows` from `source` into `targets`.
fn refresh_split(source: &Source<'_>, targets: Targets<'_>) {
    if targets.rows.len() >= 2 * REFRESH_SPLIT {
        let (low, high) = targets.halves(source.divisor.len());
        rayon::join(
            || refresh_split(source, low),
            || refresh_split(source, high),
        );
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the processor runs AVX2.
        unsafe { refresh_avx2(source, targets) };
        return;
    }
    refresh_any(source, targets);
}

/// [`refresh_any`] compiled for AVX2: four quotients per instruction instead of two (the
/// same operations on each value, so the same bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn refresh_avx2(source: &Source<'_>, targets: Targets<'_>) {
    refresh_any(source, targets)
}

#[inline(always)]
fn refresh_any(source: &Source<'_>, targets: Targets<'_>) {
    let Targets {
        phi,
        first,
        rows,
        mut stamps,
        mut save,
    } = targets;
    let (m, t) = (source.m, source.divisor.len());
    let tiny = f32::MIN_POSITIVE as f64;
    for (k, &w) in rows.iter().enumerate() {
        // The rows are scattered over n_wt and Φ, larger than the caches: ask for the
        // rows a few ahead while this one is computed.
        if let Some(&ahead) = rows.get(k + REFRESH_AHEAD) {
            let a = ahead as usize;
            prefetch(&m[a * t..(a + 1) * t]);
            prefetch(&phi[(a - first) * t..(a - first + 1) * t]);
        }
        let w = w as usize;
        let src = &m[w * t..(w + 1) * t];
        if let Some(save) = save.as_deref_mut() {
            save[k * t..(k + 1) * t].copy_from_slice(src);
        }
        if let (Some(stamps), Some(version)) = (stamps.as_deref_mut(), source.version) {
            let stamp = &mut stamps[w - first];
            if *stamp == version {
                continue;
            }
            *stamp = version;
        }
        let dst = &mut phi[(w - first) * t..(w - first + 1) * t];
        let divisors = source.divisor.iter().zip(&source.filled);
        for ((dst, &v), (&s, &e)) in dst.iter_mut().zip(src).zip(divisors) {
            let q = v.max(0.0) / s;
            let q = if e { q } else { source.uniform };
            *dst = if q < tiny { 0.0 } else { q as f32 };
        }
    }
}

/// The distinct values of `words` in increasing order (the rows a batch touches).
pub fn distinct_words(words: &[u32], n_words: usize) -> Result<Vec<u32>> {
    check_rows(words, n_words)?;
    let mut seen = vec![false; n_words];
    for &w in words {
        seen[w as usize] = true;
    }
    Ok((0..n_words as u32).filter(|&w| seen[w as usize]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshing_many_rows_on_threads_equals_one_thread() {
        let (n_words, t) = (10_000, 3);
        let m: Vec<f64> = (0..n_words * t)
            .map(|i| ((i * 7919) % 101) as f64 - 20.0)
            .collect();
        let (_, positive) = row_sums(&m, t, &(0..n_words as u32).collect::<Vec<_>>()).unwrap();
        let rows: Vec<u32> = (0..n_words as u32).filter(|w| w % 3 != 1).collect();
        let refreshed = |threads, saving: bool| {
            let mut phi = vec![-1.0f32; n_words * t];
            let mut saved = vec![f64::NAN; rows.len() * t];
            let save = saving.then_some(saved.as_mut_slice());
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| refresh_rows(&mut phi, &m, &positive, &rows, n_words, None, save))
                .unwrap();
            (phi, saved)
        };
        let (one, _) = refreshed(1, false);
        for threads in [1, 3] {
            let (phi, saved) = refreshed(threads, true);
            assert_eq!(one, phi);
            // The copies are the rows in the order given, split between the threads as
            // the rows are.
            let want: Vec<f64> = rows
                .iter()
                .flat_map(|&w| m[w as usize * t..(w as usize + 1) * t].to_vec())
                .collect();
            assert_eq!(saved, want);
        }
        assert_eq!(one, refreshed(3, false).0);
        for w in 0..n_words {
            for k in 0..t {
                let want = if w % 3 == 1 {
                    -1.0
                } else {
                    (m[w * t + k].max(0.0) / positive[k]) as f32
                };
                assert_eq!(one[w * t + k], want);
            }
        }
    }

    #[test]
    fn stamped_rows_that_are_current_are_saved_but_not_refreshed() {
        let (n_words, t) = (6_000, 2);
        let m: Vec<f64> = (0..n_words * t).map(|i| (i % 7) as f64 + 1.0).collect();
        let (_, positive) = row_sums(&m, t, &(0..n_words as u32).collect::<Vec<_>>()).unwrap();
        let rows: Vec<u32> = (0..n_words as u32).filter(|w| w % 3 != 1).collect();
        // Rows w % 5 == 0 are current (stamp 7, the version); the others are stale.
        let run = |threads| {
            let mut phi = vec![-1.0f32; n_words * t];
            let mut stamps: Vec<i64> = (0..n_words)
                .map(|w| if w % 5 == 0 { 7 } else { 3 })
                .collect();
            let mut saved = vec![f64::NAN; rows.len() * t];
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let version = Stamps {
                rows: &mut stamps,
                version: 7,
            };
            pool.install(|| {
                refresh_rows(
                    &mut phi,
                    &m,
                    &positive,
                    &rows,
                    n_words,
                    Some(version),
                    Some(&mut saved),
                )
            })
            .unwrap();
            (phi, stamps, saved)
        };
        let (phi, stamps, saved) = run(1);
        assert_eq!((phi.clone(), stamps.clone(), saved.clone()), run(3));
        for w in 0..n_words {
            let given = w % 3 != 1;
            let current = w % 5 == 0;
            let want_phi = if given && !current {
                (m[w * t].max(0.0) / positive[0]) as f32
            } else {
                -1.0
            };
            assert_eq!(phi[w * t], want_phi, "row {w}");
            assert_eq!(stamps[w], if given || current { 7 } else { 3 }, "row {w}");
        }
        let want: Vec<f64> = rows
            .iter()
            .flat_map(|&w| m[w as usize * t..(w as usize + 1) * t].to_vec())
            .collect();
        assert_eq!(saved, want);
        let mut short = vec![0i64; 3];
        let mut phi = vec![0.0f32; n_words * t];
        let stamps = Stamps {
            rows: &mut short,
            version: 1,
        };
        assert!(refresh_rows(&mut phi, &m, &positive, &[0], n_words, Some(stamps), None).is_err());
    }

    #[test]
    fn rows_update_and_refresh() {
        // 3 words × 2 topics.
        let mut m = vec![1.0, 0.0, 2.0, -1.0, 0.0, 0.0];
        let change = add_rows(&mut m, 2, &[2, 1], &[4.0, 6.0, 2.0, 4.0], 0.5).unwrap();
        assert_eq!(m, vec![1.0, 0.0, 3.0, 1.0, 2.0, 3.0]);
        // Column sums 3, −1 before (positive parts 3, 0); 6, 4 after.
        assert_eq!(change.total, vec![3.0, 5.0]);
        assert_eq!(change.positive, vec![3.0, 4.0]);
        m[3] = -1.0;
        m[2] = 2.0;
        let (total, positive) = row_sums(&m, 2, &[0, 1, 2]).unwrap();
        assert_eq!((total, positive.clone()), (vec![5.0, 2.0], vec![5.0, 3.0]));
        let mut phi = vec![9.0; 6];
        refresh_rows(&mut phi, &m, &positive, &[1, 2], 3, None, None).unwrap();
        assert_eq!(phi[..2], [9.0, 9.0]);
        assert_eq!(phi[2..], [0.4, 0.0, 0.4, 1.0]);
        refresh_rows(&mut phi, &m, &[0.0, 3.0], &[0], 3, None, None).unwrap();
        assert_eq!(phi[..2], [1.0 / 3.0, 0.0]);
        // An empty column is uniform over the block the rows belong to (a modality).
        refresh_rows(&mut phi, &m, &[0.0, 3.0], &[0], 2, None, None).unwrap();
        assert_eq!(phi[..2], [0.5, 0.0]);
        assert!(refresh_rows(&mut phi, &m, &[0.0, 3.0], &[0], 4, None, None).is_err());
        assert!(refresh_rows(&mut phi, &m, &[0.0, 3.0], &[0], 0, None, None).is_err());
        assert!(add_rows(&mut m, 2, &[3], &[1.0, 1.0], 1.0).is_err());
        assert!(refresh_rows(&mut phi, &m, &positive, &[2, 1], 3, None, None).is_err());
        let mut short = vec![0.0; 2];
        assert!(refresh_rows(&mut phi, &m, &positive, &[1, 2], 3, None, Some(&mut short)).is_err());
        assert_eq!(distinct_words(&[2, 0, 2], 3).unwrap(), vec![0, 2]);
    }
}

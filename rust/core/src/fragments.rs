//! Fragments of topics (docs/mathematics.md §9): for every topic t, the k spans of the
//! corpus whose positions carry t most, from one run of the attentive E-step.
//!
//! A position's excess for t is s_i = p_ti − c (c ≥ ½ the threshold). A document's
//! fragments of t come from the maximal scoring segments of s (Ruzzo and Tompa's),
//! each of at least `min_tokens` positions giving its best span of `min_tokens` to
//! `max_tokens` positions; the score of a span is Σ s_i. The E-step hands every document's
//! final p to a visitor while its rows are in cache, and each worker keeps the k best
//! fragments of every topic, so nothing per position is ever stored.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Mutex;

use crate::attentive::{attentive_visit, AttentiveParams, Blocking, VisitDocuments, Visitor};
use crate::documents::Documents;
use crate::error::{Error, Result};
use crate::lanes::{blocks, floats, F8, LANES};
use crate::matrix::Phi;
use crate::vector::has_avx2;

/// What `attentive_fragments` looks for.
#[derive(Clone, Debug)]
pub struct FragmentSpec {
    /// The topics whose fragments are wanted (each at most once), or all.
    pub topics: Option<Vec<usize>>,
    /// Fragments kept per topic.
    pub k: usize,
    /// Shortest and longest fragment, in positions.
    pub min_tokens: usize,
    pub max_tokens: usize,
    /// c: a position counts for t by p_ti − c; in [½, 1).
    pub threshold: f64,
}

/// A span `start..=end` (positions within document `doc`) of topic `topic`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fragment {
    pub topic: usize,
    pub doc: usize,
    pub start: usize,
    pub end: usize,
    pub score: f64,
}

impl Fragment {
    /// The order of results: higher score first, then the earlier document, start, end.
    fn rank(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.doc.cmp(&other.doc))
            .then(self.start.cmp(&other.start))
            .then(self.end.cmp(&other.end))
    }
}

/// A fragment in a heap whose top is the worst one kept.
struct Kept(Fragment);

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Kept {}
impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.rank(&other.0)
    }
}

/// The maximal scoring segments of the scores whose prefix sums are `prefix`
/// (`prefix[0] = 0`, `prefix[j + 1] = prefix[j] + s_j`), as inclusive (start, end) pairs
/// in order: Ruzzo and Tompa's linear-time algorithm. Each positive element opens a
/// segment, which absorbs the segments before it while that raises its score (the
/// nearest earlier segment whose start lies lower in the prefix sums and whose end does
/// not reach this one's).
pub fn maximal_segments(prefix: &[f64]) -> Vec<(usize, usize)> {
    // (start, end, prefix at the start, prefix after the end)
    let mut list: Vec<(usize, usize, f64, f64)> = Vec::new();
    for j in 0..prefix.len().saturating_sub(1) {
        if prefix[j + 1] <= prefix[j] {
            continue;
        }
        let mut seg = (j, j, prefix[j], prefix[j + 1]);
        loop {
            match list.iter().rposition(|s| s.2 < seg.2) {
                Some(i) if list[i].3 < seg.3 => {
                    seg = (list[i].0, seg.1, list[i].2, seg.3);
                    list.truncate(i);
                }
                _ => break,
            }
        }
        list.push(seg);
    }
    list.into_iter().map(|s| (s.0, s.1)).collect()
}

/// The span of `a..=b` of `lo` to `hi` positions (`lo ≤ hi`, `lo ≤ b − a + 1`) with the
/// largest `prefix[end + 1] − prefix[start]`, ties to the earlier start, then the earlier
/// end: (start, end, score).
pub fn best_span(prefix: &[f64], a: usize, b: usize, lo: usize, hi: usize) -> (usize, usize, f64) {
    let mut best = (a, a + lo - 1, f64::NEG_INFINITY);
    // Starts allowed for the current end, increasing, with increasing prefix values: the
    // front holds the lowest prefix (the earliest among equal ones).
    let mut starts = std::collections::VecDeque::new();
    for end in a + lo - 1..=b {
        let newest = end + 1 - lo;
        while starts
            .back()
            .is_some_and(|&s: &usize| prefix[s] > prefix[newest])
        {
            starts.pop_back();
        }
        starts.push_back(newest);
        while starts.front().is_some_and(|&s| s + hi <= end) {
            starts.pop_front();
        }
        let start = starts[0];
        let score = prefix[end + 1] - prefix[start];
        if score > best.2 || (score == best.2 && start < best.0) {
            best = (start, end, score);
        }
    }
    best
}

/// The fragments of one topic in one document, from the prefix sums of its excesses:
/// the best span of every maximal segment of at least `min_tokens` positions.
pub fn document_fragments(
    prefix: &[f64],
    min_tokens: usize,
    max_tokens: usize,
) -> Vec<(usize, usize, f64)> {
    maximal_segments(prefix)
        .into_iter()
        .filter(|&(a, b)| b + 1 - a >= min_tokens)
        .map(|(a, b)| best_span(prefix, a, b, min_tokens, max_tokens.min(b + 1 - a)))
        .collect()
}

/// The fragments one worker keeps: the k best of every wanted topic so far.
struct Best {
    heaps: Vec<BinaryHeap<Kept>>,
    /// Per topic: Σ_i max(s_i, 0) over the current document (the bound of its scores).
    excess: Vec<f64>,
    touched: Vec<usize>,
    prefix: Vec<f64>,
    /// The rows of a document that comes in several blocks, until its first block.
    rows: Vec<F8>,
    scale: Vec<f32>,
}

struct Search<'a> {
    spec: &'a FragmentSpec,
    /// Heap index of every topic (None: not wanted).
    wanted: Vec<Option<usize>>,
    t: usize,
    /// The largest f32 not above c: an f32 p exceeds c exactly when it exceeds this.
    below: f32,
    /// Workers' states between chunks.
    idle: Mutex<Vec<Best>>,
    /// Whether the processor runs AVX2.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    avx2: bool,
}

struct Worker<'a, 's> {
    search: &'s Search<'a>,
    best: Option<Best>,
}

impl Visitor for Search<'_> {
    fn chunk(&self) -> Box<dyn VisitDocuments + '_> {
        let best = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let n_heaps = self.wanted.iter().flatten().count();
        Box::new(Worker {
            search: self,
            best: Some(best.unwrap_or_else(|| Best {
                heaps: (0..n_heaps).map(|_| BinaryHeap::new()).collect(),
                excess: vec![0.0; self.t],
                touched: Vec::new(),
                prefix: Vec::new(),
                rows: Vec::new(),
                scale: Vec::new(),
            })),
        })
    }
}

impl Drop for Worker<'_, '_> {
    fn drop(&mut self) {
        if let Some(best) = self.best.take() {
            let mut idle = self.search.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(best);
        }
    }
}

impl VisitDocuments for Worker<'_, '_> {
    fn block(&mut self, d: usize, start: usize, n: usize, rows: &[F8], scale: &[f32]) {
        let Some(best) = self.best.as_mut() else {
            return;
        };
        if n < self.search.spec.min_tokens || n == 0 {
            return;
        }
        if start == 0 && scale.len() == n {
            return self.search.document(best, d, rows, scale);
        }
        // A long document: its blocks come the last first; the search waits for them all.
        let k = rows.len() / scale.len();
        if start + scale.len() == n {
            best.rows.resize(n * k, F8::ZERO);
            best.scale.resize(n, 0.0);
        }
        best.rows[start * k..start * k + rows.len()].copy_from_slice(rows);
        best.scale[start..start + scale.len()].copy_from_slice(scale);
        if start == 0 {
            let (rows, scale) = (
                std::mem::take(&mut best.rows),
                std::mem::take(&mut best.scale),
            );
            self.search.document(best, d, &rows, &scale);
            (best.rows, best.scale) = (rows, scale);
        }
    }
}

impl Search<'_> {
    /// The fragments of document `d`, whose final p are `rows` · `scale`, into `best`.
    fn document(&self, best: &mut Best, d: usize, rows: &[F8], scale: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only where the processor runs AVX2.
            return unsafe { self.document_avx2(best, d, rows, scale) };
        }
        self.document_any(best, d, rows, scale)
    }

    /// [`Search::document_any`] compiled for AVX2 (the search runs outside the kernel's
    /// AVX2 copy, behind the visitor's dynamic call).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn document_avx2(&self, best: &mut Best, d: usize, rows: &[F8], scale: &[f32]) {
        self.document_any(best, d, rows, scale)
    }

    #[inline(always)]
    fn document_any(&self, best: &mut Best, d: usize, rows: &[F8], scale: &[f32]) {
        let search = self;
        let spec = search.spec;
        let (n, t) = (scale.len(), search.t);
        let k = rows.len() / n;
        let c = spec.threshold;
        // The topics with a position above c (at most one per position, as c ≥ ½) and
        // their positive excess.
        for (row, &s) in rows.chunks_exact(k).zip(scale) {
            let s8 = F8::splat(s);
            // Most rows have no topic above c: their lane maxima say so with one product
            // (rounding keeps the order of products by the same s, so no value of the row
            // scaled exceeds c when its lane's maximum scaled does not).
            let most = row.iter().fold(F8::ZERO, |m, v| m.max(*v)) * s8;
            if most.0.iter().all(|&x| x <= search.below) {
                continue;
            }
            for (b, v) in row.iter().enumerate() {
                let p = *v * s8;
                if p.0.iter().all(|&x| x <= search.below) {
                    continue;
                }
                for (lane, &x) in p.0.iter().enumerate() {
                    let topic = b * LANES + lane;
                    if x > search.below && topic < t && search.wanted[topic].is_some() {
                        if best.excess[topic] == 0.0 {
                            best.touched.push(topic);
                        }
                        best.excess[topic] += x as f64 - c;
                    }
                }
            }
        }
        for i in 0..best.touched.len() {
            let topic = best.touched[i];
            let bound = std::mem::take(&mut best.excess[topic]);
            let heap = &mut best.heaps[search.wanted[topic].expect("a wanted topic")];
            // No span scores above its positive excess: skip a document that cannot
            // beat the worst fragment kept (a margin covers the sums' rounding).
            if heap.len() == spec.k
                && heap
                    .peek()
                    .is_some_and(|w| bound * (1.0 + 1e-9) + 1e-12 < w.0.score)
            {
                continue;
            }
            best.prefix.clear();
            best.prefix.push(0.0);
            let mut acc = 0.0f64;
            for (row, &s) in rows.chunks_exact(k).zip(scale) {
                acc += (floats(row)[topic] * s) as f64 - c;
                best.prefix.push(acc);
            }
            for (start, end, score) in
                document_fragments(&best.prefix, spec.min_tokens, spec.max_tokens)
            {
                let f = Fragment {
                    topic,
                    doc: d,
                    start,
                    end,
                    score,
                };
                heap.push(Kept(f));
                if heap.len() > spec.k {
                    heap.pop();
                }
            }
        }
        best.touched.clear();
    }
}

fn check(spec: &FragmentSpec, t: usize) -> Result<Vec<Option<usize>>> {
    if spec.k == 0 {
        return Err(Error::Value("k must be at least 1".into()));
    }
    if spec.min_tokens == 0 || spec.max_tokens < spec.min_tokens {
        return Err(Error::Value(format!(
            "need 1 <= min_tokens <= max_tokens, but min_tokens is {} and max_tokens {}",
            spec.min_tokens, spec.max_tokens
        )));
    }
    if !(0.5..1.0).contains(&spec.threshold) {
        return Err(Error::Value(format!(
            "threshold must lie in [0.5, 1), but is {}",
            spec.threshold
        )));
    }
    let mut wanted = vec![None; t];
    let topics: Vec<usize> = spec.topics.clone().unwrap_or_else(|| (0..t).collect());
    for (i, &topic) in topics.iter().enumerate() {
        match wanted.get_mut(topic) {
            None => {
                return Err(Error::Value(format!(
                    "topic {topic} is out of range for a model of {t} topics"
                )))
            }
            Some(Some(_)) => return Err(Error::Value(format!("topic {topic} is asked for twice"))),
            Some(slot) => *slot = Some(i),
        }
    }
    Ok(wanted)
}

/// The largest f32 not above `c`.
fn f32_below(c: f64) -> f32 {
    let x = c as f32;
    if (x as f64) > c {
        f32::from_bits(x.to_bits() - 1)
    } else {
        x
    }
}

/// The k best fragments of every wanted topic (docs/mathematics.md §9) under the
/// attentive E-step's final p (documents cut into blocks as `blocking` says: a document
/// of several blocks keeps its n×T rows until its search), grouped by topic in the order the topics were asked for
/// (increasing without a list), best first. The result does not depend on the threads.
pub fn attentive_fragments(
    docs: &Documents<'_>,
    phi: Phi<'_>,
    n_t: &[f32],
    params: &AttentiveParams<'_>,
    blocking: Blocking,
    spec: &FragmentSpec,
) -> Result<Vec<Fragment>> {
    let t = phi.n_topics();
    let wanted = check(spec, t)?;
    debug_assert!(blocks(t) * LANES >= t);
    let search = Search {
        spec,
        wanted,
        t,
        below: f32_below(spec.threshold),
        idle: Mutex::new(Vec::new()),
        avx2: has_avx2(),
    };
    attentive_visit(docs, phi, n_t, params, blocking, &search)?;
    let n_heaps = search.wanted.iter().flatten().count();
    let mut per_topic: Vec<Vec<Fragment>> = vec![Vec::new(); n_heaps];
    let idle = search.idle.into_inner().unwrap_or_else(|e| e.into_inner());
    for best in idle {
        for (h, heap) in best.heaps.into_iter().enumerate() {
            per_topic[h].extend(heap.into_iter().map(|kept| kept.0));
        }
    }
    let mut out = Vec::new();
    for mut fragments in per_topic {
        fragments.sort_by(|a, b| a.rank(b));
        fragments.truncate(spec.k);
        out.extend(fragments);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(s: &[f64]) -> Vec<f64> {
        let mut p = vec![0.0];
        for x in s {
            p.push(p.last().unwrap() + x);
        }
        p
    }

    /// The recursive definition: the best segment, then the same left and right of it.
    fn recursive(p: &[f64], a: usize, b: usize, out: &mut Vec<(usize, usize)>) {
        if a >= b {
            return;
        }
        let mut best = (0.0, 0, 0);
        for i in a..b {
            for j in i..b {
                let s = p[j + 1] - p[i];
                if s > best.0 {
                    best = (s, i, j);
                }
            }
        }
        if best.0 <= 0.0 {
            return;
        }
        recursive(p, a, best.1, out);
        out.push((best.1, best.2));
        recursive(p, best.2 + 1, b, out);
    }

    #[test]
    fn maximal_segments_match_the_recursive_definition() {
        let mut x = 12345u64;
        for _ in 0..300 {
            let n = (x % 40) as usize;
            let s: Vec<f64> = (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 11) as f64 / (1u64 << 53) as f64) - 0.6
                })
                .collect();
            let p = prefix(&s);
            let mut want = Vec::new();
            recursive(&p, 0, n, &mut want);
            assert_eq!(maximal_segments(&p), want, "{s:?}");
        }
    }

    #[test]
    fn best_span_is_the_best_window() {
        let s = [0.5, -0.2, 0.4, 0.4, -0.9, 0.3, 0.3, 0.3];
        let p = prefix(&s);
        assert_eq!(best_span(&p, 0, 7, 2, 3), (5, 7, p[8] - p[5]));
        let (a, b, _) = best_span(&p, 0, 3, 1, 4);
        assert_eq!((a, b), (0, 3));
    }

    #[test]
    fn f32_below_is_the_largest_f32_not_above() {
        assert_eq!(f32_below(0.5), 0.5);
        let c = 0.6f64;
        let x = f32_below(c);
        assert!((x as f64) <= c && (f32::from_bits(x.to_bits() + 1) as f64) > c);
    }
}

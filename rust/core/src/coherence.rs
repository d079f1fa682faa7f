//! Word and word-pair counts over sliding windows (or whole documents), the statistics of
//! coherence scores such as NPMI.
//!
//! A window "contains" a word when the word is flagged in it; `occurrences[i]` counts the
//! windows that contain word i and `pairs[p]` the windows that contain both words of pair
//! p. Only the words and pairs asked for are counted, so the cost is one pass over the
//! tokens plus, for every time a word enters or leaves the window, a look at its partners.
//!
//! Counting is event based: a flag is on over a run of consecutive windows. When word i
//! leaves at window k (it was on since window a_i), every partner j that is on (since
//! a_j) shared the windows max(a_i, a_j)..k with it. A pair is thus counted by whichever
//! of its words leaves first, once per overlap of their runs.

use rayon::prelude::*;

use crate::documents::Documents;
use crate::error::{Error, Result};

/// How the flags follow a window that slides one token at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sliding {
    /// A word is flagged while it occurs anywhere in the window (true boolean windows).
    Exact,
    /// gensim's `WordOccurrenceAccumulator`: when the window moves on, the word that left
    /// at its left edge is unflagged even if it occurs again inside the window, and the
    /// word that entered at the right edge is flagged. Reproduced so that the scores equal
    /// gensim's `CoherenceModel` (coherence="c_npmi"/"c_uci").
    Gensim,
}

/// Counts of windows, of windows holding each word, and of windows holding each pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowCounts {
    /// Number of windows: per document max(1, n − s + 1) for a window of s tokens and a
    /// document of n tokens (a shorter document, even an empty one, is one window); the
    /// number of documents when the window is the whole document.
    pub n_windows: u64,
    pub occurrences: Vec<u64>,
    pub pairs: Vec<u64>,
}

/// Which counts to gather: `words` (distinct vocabulary ids) and `pairs` of indices into
/// `words`.
pub struct CountSpec<'a> {
    pub words: &'a [u32],
    pub pairs: &'a [(u32, u32)],
    /// Window length in tokens; `None`: each document is one window.
    pub window: Option<usize>,
    pub sliding: Sliding,
}

/// Partners of every counted word: (other word, pair index), in pair order.
struct Partners {
    start: Vec<usize>,
    items: Vec<(u32, u32)>,
}

impl Partners {
    fn new(n_words: usize, pairs: &[(u32, u32)]) -> Self {
        let mut degree = vec![0usize; n_words + 1];
        for &(a, b) in pairs {
            degree[a as usize + 1] += 1;
            degree[b as usize + 1] += 1;
        }
        for i in 0..n_words {
            degree[i + 1] += degree[i];
        }
        let mut fill = degree.clone();
        let mut items = vec![(0u32, 0u32); degree[n_words]];
        for (p, &(a, b)) in pairs.iter().enumerate() {
            items[fill[a as usize]] = (b, p as u32);
            fill[a as usize] += 1;
            items[fill[b as usize]] = (a, p as u32);
            fill[b as usize] += 1;
        }
        Partners {
            start: degree,
            items,
        }
    }

    fn of(&self, i: usize) -> &[(u32, u32)] {
        &self.items[self.start[i]..self.start[i + 1]]
    }
}

const OFF: u64 = u64::MAX;

/// Running counts of one thread.
struct Counter<'a> {
    partners: &'a Partners,
    /// The window since which each word is flagged, or OFF.
    since: Vec<u64>,
    /// Occurrences of each word in the current window (exact sliding only).
    inside: Vec<u32>,
    /// Words flagged at some point of the current document (may repeat).
    flagged: Vec<u32>,
    n_windows: u64,
    occurrences: Vec<u64>,
    pairs: Vec<u64>,
}

impl<'a> Counter<'a> {
    fn new(partners: &'a Partners, n_words: usize, n_pairs: usize) -> Self {
        Counter {
            partners,
            since: vec![OFF; n_words],
            inside: vec![0; n_words],
            flagged: Vec::new(),
            n_windows: 0,
            occurrences: vec![0; n_words],
            pairs: vec![0; n_pairs],
        }
    }

    #[inline]
    fn flag(&mut self, i: u32, k: u64) {
        let s = &mut self.since[i as usize];
        if *s == OFF {
            *s = k;
            self.flagged.push(i);
        }
    }

    /// Word i leaves before window k: it was in windows since..k.
    #[inline]
    fn unflag(&mut self, i: u32, k: u64) {
        let a = self.since[i as usize];
        if a == OFF {
            return;
        }
        self.since[i as usize] = OFF;
        self.occurrences[i as usize] += k - a;
        for &(j, p) in self.partners.of(i as usize) {
            let b = self.since[j as usize];
            if b != OFF {
                self.pairs[p as usize] += k - a.max(b);
            }
        }
    }

    /// One document whose tokens are already mapped to counted-word indices (`NONE` for the
    /// others).
    fn document(&mut self, x: &[u32], window: Option<usize>, sliding: Sliding) {
        let n = x.len();
        let s = window.unwrap_or(usize::MAX);
        let windows = if n > s { (n - s + 1) as u64 } else { 1 };
        let first = n.min(s);
        for &i in &x[..first] {
            if i != NONE {
                self.inside[i as usize] += 1;
                self.flag(i, 0);
            }
        }
        for k in 1..windows {
            let (out, inn) = (x[k as usize - 1], x[k as usize + s - 1]);
            match sliding {
                Sliding::Gensim => {
                    if out != NONE {
                        self.unflag(out, k);
                    }
                    if inn != NONE {
                        self.flag(inn, k);
                    }
                }
                Sliding::Exact => {
                    if out != NONE {
                        self.inside[out as usize] -= 1;
                        if self.inside[out as usize] == 0 {
                            self.unflag(out, k);
                        }
                    }
                    if inn != NONE {
                        self.inside[inn as usize] += 1;
                        self.flag(inn, k);
                    }
                }
            }
        }
        let flagged = std::mem::take(&mut self.flagged);
        for &i in &flagged {
            self.unflag(i, windows);
            self.inside[i as usize] = 0;
        }
        self.flagged = flagged;
        self.flagged.clear();
        self.n_windows += windows;
    }
}

const NONE: u32 = u32::MAX;

/// Counts windows, words and pairs over every document of `docs` (a token stream whose ids
/// are below `n_vocabulary`). Integer counts, so the result does not depend on threads.
pub fn window_counts(
    docs: &Documents<'_>,
    n_vocabulary: usize,
    spec: &CountSpec<'_>,
) -> Result<WindowCounts> {
    let n = spec.words.len();
    let mut index = vec![NONE; n_vocabulary];
    for (i, &w) in spec.words.iter().enumerate() {
        let slot = index.get_mut(w as usize).ok_or_else(|| {
            Error::Value(format!(
                "word id {w} is outside the vocabulary of {n_vocabulary} words"
            ))
        })?;
        if *slot != NONE {
            return Err(Error::Value(format!("word id {w} is listed twice")));
        }
        *slot = i as u32;
    }
    if let Some(&(a, b)) = spec
        .pairs
        .iter()
        .find(|(a, b)| *a as usize >= n || *b as usize >= n || a == b)
    {
        return Err(Error::Value(format!(
            "pair ({a}, {b}) must name two different words among the {n} counted"
        )));
    }
    if spec.window == Some(0) {
        return Err(Error::Value("window must be at least 1 token".into()));
    }
    let partners = Partners::new(n, spec.pairs);
    let chunks = docs.chunks(1 << 16);
    let counters: Vec<Counter<'_>> = chunks
        .into_par_iter()
        .map(|c| {
            let mut counter = Counter::new(&partners, n, spec.pairs.len());
            let mut mapped = Vec::new();
            for d in c {
                mapped.clear();
                mapped.extend(
                    docs.words()[docs.range(d)]
                        .iter()
                        .map(|&w| index[w as usize]),
                );
                counter.document(&mapped, spec.window, spec.sliding);
            }
            counter
        })
        .collect();
    let mut out = WindowCounts {
        n_windows: 0,
        occurrences: vec![0; n],
        pairs: vec![0; spec.pairs.len()],
    };
    for c in counters {
        out.n_windows += c.n_windows;
        out.occurrences
            .iter_mut()
            .zip(&c.occurrences)
            .for_each(|(a, b)| *a += b);
        out.pairs
            .iter_mut()
            .zip(&c.pairs)
            .for_each(|(a, b)| *a += b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows listed one by one, flags per `sliding`, counted naively.
    fn naive(
        docs: &[Vec<u32>],
        words: &[u32],
        pairs: &[(u32, u32)],
        window: Option<usize>,
        sliding: Sliding,
    ) -> WindowCounts {
        let mut out = WindowCounts {
            n_windows: 0,
            occurrences: vec![0; words.len()],
            pairs: vec![0; pairs.len()],
        };
        let pos = |w: u32| words.iter().position(|&v| v == w);
        for x in docs {
            let s = window.unwrap_or(usize::MAX);
            let n_windows = if x.len() > s { x.len() - s + 1 } else { 1 };
            let mut flags = vec![false; words.len()];
            for k in 0..n_windows {
                let span = &x[k..(k + s).min(x.len())];
                if k == 0 || sliding == Sliding::Exact {
                    flags.fill(false);
                    span.iter()
                        .filter_map(|&w| pos(w))
                        .for_each(|i| flags[i] = true);
                } else {
                    if let Some(i) = pos(x[k - 1]) {
                        flags[i] = false;
                    }
                    if let Some(i) = pos(x[k + s - 1]) {
                        flags[i] = true;
                    }
                }
                for (i, &f) in flags.iter().enumerate() {
                    out.occurrences[i] += f as u64;
                }
                for (p, &(a, b)) in pairs.iter().enumerate() {
                    out.pairs[p] += (flags[a as usize] && flags[b as usize]) as u64;
                }
            }
            out.n_windows += n_windows as u64;
        }
        out
    }

    fn run(docs: &[Vec<u32>], spec: &CountSpec<'_>, n_vocabulary: usize) -> WindowCounts {
        let words: Vec<u32> = docs.concat();
        let mut offsets = vec![0i64];
        for d in docs {
            offsets.push(offsets.last().unwrap() + d.len() as i64);
        }
        let documents = Documents::new(&words, None, &offsets, n_vocabulary).unwrap();
        window_counts(&documents, n_vocabulary, spec).unwrap()
    }

    #[test]
    fn equals_naive_windows() {
        // A small deterministic pseudo-random corpus over 6 words, some repeated closely.
        let mut state = 12345u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let docs: Vec<Vec<u32>> = (0..40)
            .map(|_| (0..next(30)).map(|_| next(6) as u32).collect())
            .collect();
        let words = [4u32, 1, 2, 5];
        let pairs = [(0u32, 1u32), (0, 2), (1, 2), (2, 3), (1, 3)];
        for window in [None, Some(1), Some(3), Some(10)] {
            for sliding in [Sliding::Exact, Sliding::Gensim] {
                let spec = CountSpec {
                    words: &words,
                    pairs: &pairs,
                    window,
                    sliding,
                };
                assert_eq!(
                    run(&docs, &spec, 6),
                    naive(&docs, &words, &pairs, window, sliding),
                    "window {window:?}, {sliding:?}"
                );
            }
        }
    }

    #[test]
    fn gensim_unflags_a_word_still_inside() {
        // Windows of 3 over [a b a c]: [a b a], [b a c]. gensim drops "a" from the second.
        let docs = vec![vec![0u32, 1, 0, 2]];
        let spec = |sliding| CountSpec {
            words: &[0, 1],
            pairs: &[(0, 1)],
            window: Some(3),
            sliding,
        };
        let exact = run(&docs, &spec(Sliding::Exact), 3);
        let gensim = run(&docs, &spec(Sliding::Gensim), 3);
        assert_eq!((exact.occurrences[0], exact.pairs[0]), (2, 2));
        assert_eq!((gensim.occurrences[0], gensim.pairs[0]), (1, 1));
        assert_eq!(exact.n_windows, 2);
    }

    #[test]
    fn rejects_bad_specs() {
        let docs = [vec![0u32, 1]];
        let words: Vec<u32> = docs.concat();
        let documents = Documents::new(&words, None, &[0, 2], 2).unwrap();
        let bad = [
            (&[0u32, 0][..], &[(0u32, 1u32)][..], Some(2)),
            (&[0, 5], &[(0, 1)], Some(2)),
            (&[0, 1], &[(0, 0)], Some(2)),
            (&[0, 1], &[(0, 2)], Some(2)),
            (&[0, 1], &[(0, 1)], Some(0)),
        ];
        for (words, pairs, window) in bad {
            let spec = CountSpec {
                words,
                pairs,
                window,
                sliding: Sliding::Exact,
            };
            assert!(window_counts(&documents, 2, &spec).is_err());
        }
    }
}

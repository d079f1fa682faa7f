//! Tokenizing text columns in one parallel pass: lowercase, split into words and
//! sentence/paragraph markers (the rules are in `scan`), drop stopwords, map words to ids
//! through a hash table, and write token ids, document offsets and boundary levels; or,
//! without a vocabulary, count every word's occurrences and documents.
//!
//! The text comes as the buffers of an Arrow string array (`Texts`), read in place. The
//! documents are cut into groups of about `UNIT_BYTES` bytes, a cut that depends only on
//! the texts, and the groups' results are joined in order, so the output does not depend
//! on the number of threads.

mod hot;
mod scan;
mod table;
mod texts;
mod unicode;

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use hot::HotTable;
use scan::{scan, Sink, Word};
pub use scan::{PARAGRAPH, SENTENCE};
use table::WordTable;
pub use texts::{TextChunk, Texts};

/// Bytes of text per unit of parallel work: large enough to amortize the scheduling,
/// small enough to balance two to a few dozen threads on one batch.
const UNIT_BYTES: usize = 256 * 1024;

/// The id a stopword maps to in a `Tokenizer`'s table: dropped, not counted as unknown.
const STOP: u32 = u32::MAX;

/// A group of consecutive documents of one chunk; `first` is the index of its first
/// document in the whole column.
struct Unit {
    chunk: usize,
    docs: Range<usize>,
    first: usize,
}

fn units(texts: &Texts<'_>) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut base = 0;
    for (c, chunk) in texts.chunks().iter().enumerate() {
        let mut start = 0;
        let mut bytes = 0;
        for d in 0..chunk.len() {
            bytes += chunk.byte_len(d);
            if bytes >= UNIT_BYTES {
                out.push(Unit {
                    chunk: c,
                    docs: start..d + 1,
                    first: base + start,
                });
                start = d + 1;
                bytes = 0;
            }
        }
        if start < chunk.len() {
            out.push(Unit {
                chunk: c,
                docs: start..chunk.len(),
                first: base + start,
            });
        }
        base += chunk.len();
    }
    out
}

/// The text of document `d` of a chunk, checked to be UTF-8 (`index` is its position in
/// the column, for the error message).
fn text<'a>(chunk: &TextChunk<'a>, d: usize, index: usize) -> Result<&'a str> {
    std::str::from_utf8(chunk.get(d)).map_err(|e| {
        Error::Value(format!(
            "text {index} is not valid UTF-8 (invalid byte at position {})",
            e.valid_up_to()
        ))
    })
}

/// A tokenized column: document d is `ids[offsets[d]..offsets[d + 1]]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// Token ids, documents concatenated.
    pub ids: Vec<u32>,
    /// D + 1 document offsets into `ids`.
    pub offsets: Vec<i64>,
    /// Boundary level per token: 0 none, `SENTENCE` or `PARAGRAPH` (the largest marker
    /// between the previous kept word of the document and this one; 0 for its first).
    pub boundaries: Vec<u8>,
    /// Words of each document dropped because the vocabulary does not know them.
    pub unknown: Vec<i64>,
    /// With `Tokenizer::tokenize_spans`: the characters (Unicode scalar values, as
    /// Python counts them) of each kept token's source text within its document's text,
    /// `starts[i]..ends[i]`; empty otherwise.
    pub starts: Vec<i64>,
    pub ends: Vec<i64>,
}

/// Maps words to ids (stopwords dropped first) and gives boundary levels.
pub struct Tokenizer {
    table: WordTable,
    /// The id of each entry of `table` (`STOP` for a stopword).
    ids: Vec<u32>,
    n_words: usize,
}

struct TokenSink<'t> {
    table: &'t WordTable,
    ids_of: &'t [u32],
    ids: Vec<u32>,
    boundaries: Vec<u8>,
    level: u8,
    first: bool,
    unknown: i64,
    /// Character spans of the kept tokens, when asked for.
    spans: Option<Spans<'t>>,
}

/// The character spans of kept tokens, counted along the current text.
#[derive(Default)]
struct Spans<'t> {
    text: &'t [u8],
    /// Bytes of `text` counted so far, and the characters among them.
    byte: usize,
    chars: i64,
    starts: Vec<i64>,
    ends: Vec<i64>,
}

impl<'t> Spans<'t> {
    /// Starts counting along a new text.
    fn start(&mut self, text: &'t str) {
        (self.text, self.byte, self.chars) = (text.as_bytes(), 0, 0);
    }

    /// The characters before byte `to` (a char boundary at or after the last one asked).
    #[inline]
    fn chars_to(&mut self, to: usize) -> i64 {
        let lead = self.text[self.byte..to]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        self.chars += lead as i64;
        self.byte = to;
        self.chars
    }

    fn push(&mut self, span: Range<usize>) {
        let start = self.chars_to(span.start);
        let end = self.chars_to(span.end);
        self.starts.push(start);
        self.ends.push(end);
    }
}

impl Sink for TokenSink<'_> {
    #[inline]
    fn word(&mut self, word: &[u8], span: Range<usize>) {
        match self.table.get(word).map(|e| self.ids_of[e]) {
            Some(STOP) => {}
            Some(id) => {
                if let Some(spans) = self.spans.as_mut() {
                    spans.push(span);
                }
                self.ids.push(id);
                self.boundaries
                    .push(if self.first { 0 } else { self.level });
                self.first = false;
                self.level = 0;
            }
            None => self.unknown += 1,
        }
    }

    #[inline]
    fn marker(&mut self, kind: u8) {
        self.level = self.level.max(kind);
    }
}

impl Tokenizer {
    /// A tokenizer for a vocabulary (word i gets id i) and a stopword list; a stopword
    /// is dropped even when the vocabulary has it.
    pub fn new<'w>(
        words: impl IntoIterator<Item = &'w str>,
        stopwords: impl IntoIterator<Item = &'w str>,
    ) -> Result<Self> {
        let mut table = WordTable::default();
        let mut ids = Vec::new();
        for (i, w) in words.into_iter().enumerate() {
            if i >= STOP as usize {
                return Err(Error::Value(format!(
                    "a vocabulary holds at most {STOP} words (token ids are uint32)"
                )));
            }
            if !table.insert(w.as_bytes()).1 {
                return Err(Error::Value(format!(
                    "vocabulary words must be unique; {w:?} occurs more than once"
                )));
            }
            ids.push(i as u32);
        }
        let n_words = ids.len();
        for w in stopwords {
            match table.insert(w.as_bytes()) {
                (_, true) => ids.push(STOP),
                (e, false) => ids[e] = STOP,
            }
        }
        Ok(Tokenizer {
            table,
            ids,
            n_words,
        })
    }

    /// The number of words of the vocabulary.
    pub fn n_words(&self) -> usize {
        self.n_words
    }

    /// Tokenizes every text of the column (in parallel on the current rayon pool).
    pub fn tokenize(&self, texts: &Texts<'_>) -> Result<Tokens> {
        self.tokenize_with(texts, false)
    }

    /// [`Tokenizer::tokenize`], with the character span of every kept token in its text
    /// (`Tokens::starts`, `Tokens::ends`).
    pub fn tokenize_spans(&self, texts: &Texts<'_>) -> Result<Tokens> {
        self.tokenize_with(texts, true)
    }

    fn tokenize_with(&self, texts: &Texts<'_>, spans: bool) -> Result<Tokens> {
        let parts = units(texts)
            .par_iter()
            .map(|u| self.tokenize_unit(texts, u, spans))
            .collect::<Result<Vec<_>>>()?;
        let n_tokens = parts.iter().map(|p| p.0.ids.len()).sum();
        let mut out = Tokens {
            ids: Vec::with_capacity(n_tokens),
            offsets: Vec::with_capacity(texts.len() + 1),
            boundaries: Vec::with_capacity(n_tokens),
            unknown: Vec::with_capacity(texts.len()),
            ..Tokens::default()
        };
        out.offsets.push(0);
        for (part, lengths) in parts {
            let base = out.ids.len() as i64;
            out.offsets.extend(lengths.iter().map(|&end| base + end));
            out.ids.extend_from_slice(&part.ids);
            out.boundaries.extend_from_slice(&part.boundaries);
            out.unknown.extend_from_slice(&part.unknown);
            out.starts.extend_from_slice(&part.starts);
            out.ends.extend_from_slice(&part.ends);
        }
        Ok(out)
    }

    /// One unit: its tokens (with offsets relative to the unit) and each document's end.
    fn tokenize_unit(
        &self,
        texts: &Texts<'_>,
        unit: &Unit,
        spans: bool,
    ) -> Result<(Tokens, Vec<i64>)> {
        let chunk = &texts.chunks()[unit.chunk];
        let mut sink = TokenSink {
            table: &self.table,
            ids_of: &self.ids,
            ids: Vec::new(),
            boundaries: Vec::new(),
            level: 0,
            first: true,
            unknown: 0,
            spans: spans.then(Spans::default),
        };
        let mut ends = Vec::with_capacity(unit.docs.len());
        let mut unknown = Vec::with_capacity(unit.docs.len());
        let mut word = Word::default();
        for (k, d) in unit.docs.clone().enumerate() {
            let t = text(chunk, d, unit.first + k)?;
            sink.first = true;
            sink.level = 0;
            sink.unknown = 0;
            if let Some(spans) = sink.spans.as_mut() {
                spans.start(t);
            }
            scan(t, &mut word, &mut sink);
            ends.push(sink.ids.len() as i64);
            unknown.push(sink.unknown);
        }
        let (span_starts, span_ends) = sink
            .spans
            .map_or_else(Default::default, |s| (s.starts, s.ends));
        let tokens = Tokens {
            ids: sink.ids,
            offsets: Vec::new(),
            boundaries: sink.boundaries,
            unknown,
            starts: span_starts,
            ends: span_ends,
        };
        Ok((tokens, ends))
    }
}

/// A word's occurrences and the documents holding it; `last` is the last document
/// counted (its number within the batch plus one; 0: none yet), so a document counts once.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    count: u64,
    docs: u32,
    last: u32,
}

impl Tally {
    /// Counts one occurrence in document `doc` (numbered from 1 within the batch).
    #[inline]
    fn add(&mut self, doc: u32) {
        self.count += 1;
        if self.last != doc {
            self.last = doc;
            self.docs += 1;
        }
    }
}

/// Running totals of one word.
#[derive(Debug, Clone, Copy, Default)]
struct Total {
    count: u64,
    docs: u64,
}

/// The most frequent words counted so far, counted in a table of their own with the
/// stopwords (see `hot`; 2^17 slots of 32 bytes, 4 MiB per worker), which stays in
/// the caches far better than the table of every word. On the
/// Wikipedia sample 2^15 words left 4% more of the pass's time to the batch tables of
/// other words, 2^17 words cost 1% more in the hot table's own misses.
const HOT_WORDS: usize = 65536;

/// Text bytes of the first round of a counter that has no hot words but the stopwords:
/// the words of a few megabytes already tell most of the frequent ones, and the rest of
/// the batch (often the first of a handful, a large share of the pass) then counts most
/// of its occurrences in the hot table instead of the batch's table of other words.
const FIRST_ROUND_BYTES: usize = 4 << 20;

/// Text bytes counted between two merges at most: a word takes at least two bytes (one
/// and a separator) but the last, so no count of a batch's tallies reaches 2^32.
const ROUND_BYTES: usize = 1 << 32;

/// What one worker counts of a batch. A frequent word or a stopword is counted in the
/// worker's copy of the hot table; any other word goes to a table of the worker's own for
/// the batch (small too, since the frequent words stay out of it), added into the totals
/// at the batch's end, one lookup in the large table of every word per distinct word.
/// Lookups in the large table per occurrence would miss the cache almost every time.
#[derive(Default)]
struct Scratch {
    hot: HotTable,
    /// The hot words this copy was made of (`WordCounter::hot_choice`).
    hot_choice: u64,
    new: WordTable,
    new_tallies: Vec<Tally>,
}

/// Counts the words of document `doc` (numbered from 1 within the batch) into a scratch.
struct CountSink<'t> {
    scratch: &'t mut Scratch,
    doc: u32,
}

impl Sink for CountSink<'_> {
    #[inline]
    fn word(&mut self, word: &[u8], _: Range<usize>) {
        let s = &mut *self.scratch;
        if s.hot.count(word, self.doc) {
            return;
        }
        let (e, added) = s.new.insert(word);
        if added {
            s.new_tallies.push(Tally::default());
        }
        s.new_tallies[e].add(self.doc);
    }

    #[inline]
    fn marker(&mut self, _kind: u8) {}
}

/// Word counts and document frequencies over any number of text columns, for building a
/// vocabulary in one streaming pass.
#[derive(Default)]
pub struct WordCounter {
    /// The stopwords (the first `n_stop` entries), then every word counted so far: one
    /// lookup tells a stopword and finds a word's totals, at `totals[entry - n_stop]`.
    table: WordTable,
    n_stop: usize,
    totals: Vec<Total>,
    /// The stopwords and the `HOT_WORDS` most frequent words at the last choice, by their
    /// entries in `table`, with no tallies: what the workers copy.
    hot: HotTable,
    /// How many times the hot words were chosen.
    hot_choice: u64,
    /// The number of distinct words at which the hot words are chosen again.
    next_choice: usize,
    words: u64,
    n_documents: u64,
    /// One per worker, kept across batches so the dense arrays are allocated once.
    scratch: Vec<Scratch>,
}

impl WordCounter {
    /// A counter that leaves out `stopwords`.
    pub fn new<'w>(stopwords: impl IntoIterator<Item = &'w str>) -> Self {
        let mut table = WordTable::default();
        for w in stopwords {
            table.insert(w.as_bytes());
        }
        let stop = (0..table.len()).map(|e| (table.word(e), e as u32));
        WordCounter {
            n_stop: table.len(),
            hot: HotTable::new(stop),
            hot_choice: 1,
            table,
            ..Default::default()
        }
    }

    /// Documents counted so far.
    pub fn n_documents(&self) -> u64 {
        self.n_documents
    }

    /// Words (stopwords left out) counted so far.
    pub fn n_words(&self) -> u64 {
        self.words
    }

    /// Distinct words counted so far.
    pub fn n_distinct(&self) -> usize {
        self.totals.len()
    }

    /// Counts the words of every text of the column (in parallel on the current pool).
    pub fn add(&mut self, texts: &Texts<'_>) -> Result<()> {
        if texts.len() >= u32::MAX as usize {
            return Err(Error::Value(format!(
                "a batch holds at most {} texts; got {}",
                u32::MAX - 1,
                texts.len()
            )));
        }
        let units = units(texts);
        let workers = rayon::current_num_threads().min(units.len()).max(1);
        self.scratch.resize_with(workers, Scratch::default);
        // Rounds of whole units, merged one by one, keep every tally of a worker below
        // 2^32 (one round in all but batches of gigabytes, and a small first round of a
        // new counter).
        let mut round = 0..0;
        let mut bytes = 0;
        for (i, u) in units.iter().enumerate() {
            let chunk = &texts.chunks()[u.chunk];
            let size: usize = u.docs.clone().map(|d| chunk.byte_len(d)).sum();
            let limit = if self.next_choice == 0 {
                FIRST_ROUND_BYTES
            } else {
                ROUND_BYTES
            };
            if bytes + size > limit && !round.is_empty() {
                self.count_round(texts, &units[round.clone()])?;
                round = i..i;
                bytes = 0;
            }
            round.end = i + 1;
            bytes += size;
        }
        self.count_round(texts, &units[round])?;
        self.n_documents += texts.len() as u64;
        Ok(())
    }

    /// Counts the texts of `units` and adds the counts into the totals; then chooses the
    /// hot words again if the words counted have grown enough since the last choice.
    fn count_round(&mut self, texts: &Texts<'_>, units: &[Unit]) -> Result<()> {
        for s in &mut self.scratch {
            if s.hot_choice != self.hot_choice {
                s.hot = self.hot.clone();
                s.hot_choice = self.hot_choice;
            }
        }
        // Every worker takes the next unit until none is left: the split adapts to uneven
        // units, and a document is always counted by one worker (one `last` per word).
        let next = AtomicUsize::new(0);
        self.scratch
            .par_iter_mut()
            .map(|scratch| -> Result<()> {
                let mut word = Word::default();
                while let Some(u) = units.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let chunk = &texts.chunks()[u.chunk];
                    for (k, d) in u.docs.clone().enumerate() {
                        let index = u.first + k;
                        let mut sink = CountSink {
                            scratch: &mut *scratch,
                            doc: index as u32 + 1,
                        };
                        scan(text(chunk, d, index)?, &mut word, &mut sink);
                    }
                }
                Ok(())
            })
            .collect::<Result<Vec<()>>>()
            .inspect_err(|_| self.clear_scratch())?;
        self.merge_scratch();
        if self.totals.len() >= self.next_choice {
            self.choose_hot_words();
        }
        Ok(())
    }

    /// Chooses the hot words again: the most frequent so far, for the batches to come.
    fn choose_hot_words(&mut self) {
        let mut order: Vec<u32> = (0..self.totals.len() as u32).collect();
        let by_count = |a: &u32, b: &u32| {
            let count = |k: &u32| self.totals[*k as usize].count;
            count(b).cmp(&count(a))
        };
        if order.len() > HOT_WORDS {
            order.select_nth_unstable_by(HOT_WORDS - 1, by_count);
            order.truncate(HOT_WORDS);
        }
        let n_stop = self.n_stop;
        let entries = (0..n_stop as u32).chain(order.iter().map(|&k| k + n_stop as u32));
        let words: Vec<(&[u8], u32)> = entries.map(|e| (self.table.word(e as usize), e)).collect();
        self.hot = HotTable::new(words.into_iter());
        self.hot_choice += 1;
        self.next_choice = self.totals.len() + self.totals.len() / 4 + 1;
    }

    /// Adds every worker's counts into the totals and clears them for the next batch.
    fn merge_scratch(&mut self) {
        let n_stop = self.n_stop;
        for s in &mut self.scratch {
            let (totals, words) = (&mut self.totals, &mut self.words);
            s.hot.drain(|entry, count, docs| {
                if entry as usize >= n_stop {
                    let total = &mut totals[entry as usize - n_stop];
                    total.count += count;
                    total.docs += docs;
                    *words += count;
                }
            });
            for (e, t) in s.new_tallies.iter().enumerate() {
                // Another worker may have added the same word already.
                let (entry, added) = self.table.insert(s.new.word(e));
                if added {
                    self.totals.push(Total::default());
                }
                let k = entry - n_stop;
                self.totals[k].count += t.count;
                self.totals[k].docs += t.docs as u64;
                self.words += t.count;
            }
            s.new.clear();
            s.new_tallies.clear();
        }
    }

    /// Forgets a failed batch's partial counts.
    fn clear_scratch(&mut self) {
        for s in &mut self.scratch {
            s.hot.drain(|_, _, _| {});
            s.new.clear();
            s.new_tallies.clear();
        }
    }

    /// The words found in at least `min_docs` and at most `max_docs` documents, most
    /// frequent first, ties in bytewise (code point) order; at most `max_words` of them.
    pub fn most_frequent(
        &self,
        min_docs: f64,
        max_docs: f64,
        max_words: Option<usize>,
    ) -> Vec<String> {
        let mut kept: Vec<(&[u8], u64)> = self
            .totals
            .iter()
            .enumerate()
            .filter(|(_, c)| (c.docs as f64) >= min_docs && (c.docs as f64) <= max_docs)
            .map(|(k, c)| (self.table.word(self.n_stop + k), c.count))
            .collect();
        let order = |a: &(&[u8], u64), b: &(&[u8], u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
        if let Some(m) = max_words {
            if m == 0 {
                return Vec::new();
            }
            if kept.len() > m {
                kept.select_nth_unstable_by(m - 1, order);
                kept.truncate(m);
            }
        }
        kept.sort_unstable_by(order);
        kept.into_iter()
            .map(|(w, _)| String::from_utf8_lossy(w).into_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column<'a>(offsets: &'a [i32], data: &'a [u8]) -> Texts<'a> {
        Texts::new(vec![TextChunk::utf8(offsets, data, None).unwrap()])
    }

    fn utf8(texts: &[&str]) -> (Vec<i32>, Vec<u8>) {
        let mut offsets = vec![0];
        let mut data = Vec::new();
        for t in texts {
            data.extend_from_slice(t.as_bytes());
            offsets.push(data.len() as i32);
        }
        (offsets, data)
    }

    #[test]
    fn ids_boundaries_and_unknown_words() {
        let (o, d) = utf8(&[
            "The Cat sat. A dog ran!\n\nBirds fly? Yes, they do.\n  \nThe end",
            "",
            "zebra cat",
        ]);
        let vocab = ["cat", "sat", "dog", "ran", "birds", "fly", "yes", "end"];
        let t = Tokenizer::new(vocab, ["the", "a", "they", "do"]).unwrap();
        let out = t.tokenize(&column(&o, &d)).unwrap();
        assert_eq!(out.ids, [0, 1, 2, 3, 4, 5, 6, 7, 0]);
        assert_eq!(out.boundaries, [0, 0, 1, 0, 2, 0, 1, 2, 0]);
        assert_eq!(out.offsets, [0, 8, 8, 9]);
        assert_eq!(out.unknown, [0, 0, 1]);
    }

    #[test]
    fn stopwords_win_over_the_vocabulary() {
        let (o, d) = utf8(&["the cat"]);
        let t = Tokenizer::new(["the", "cat"], ["the"]).unwrap();
        let out = t.tokenize(&column(&o, &d)).unwrap();
        assert_eq!((out.ids, out.unknown), (vec![1], vec![0]));
        assert!(Tokenizer::new(["a", "a"], []).is_err());
    }

    #[test]
    fn result_does_not_depend_on_the_thread_count() {
        let docs: Vec<String> = (0..3000)
            .map(|i| {
                format!(
                    "Word{i} alpha beta. Gamma {}!\n\nDelta",
                    "x ".repeat(i % 500)
                )
            })
            .collect();
        let refs: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
        let (o, d) = utf8(&refs);
        let t = Tokenizer::new(["alpha", "gamma", "delta", "x"], []).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| t.tokenize(&column(&o, &d)).unwrap())
        };
        let one = run(1);
        assert!(units(&column(&o, &d)).len() > 1);
        assert_eq!(one, run(3));
    }

    #[test]
    fn counting_and_ordering() {
        let (o, d) = utf8(&["pear apple kiwi apple", "kiwi fig apple the", "banana"]);
        let mut c = WordCounter::new(["the"]);
        c.add(&column(&o, &d)).unwrap();
        c.add(&column(&o, &d)).unwrap();
        assert_eq!((c.n_documents(), c.n_words()), (6, 16));
        assert_eq!(
            c.most_frequent(1.0, 6.0, None),
            ["apple", "kiwi", "banana", "fig", "pear"]
        );
        assert_eq!(c.most_frequent(3.0, 4.0, None), ["apple", "kiwi"]);
        assert_eq!(c.most_frequent(0.0, 6.0, Some(2)), ["apple", "kiwi"]);
    }

    #[test]
    fn counts_do_not_depend_on_batches_or_threads() {
        let docs: Vec<String> = (0..3000)
            .map(|i| {
                format!(
                    "w{} common the {} rare{}",
                    i % 37,
                    "x y ".repeat(i % 1400),
                    "q".repeat(i % 90)
                )
            })
            .collect();
        let refs: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
        // More than a first round: the hot words are chosen within the first call.
        assert!(docs.iter().map(|d| d.len()).sum::<usize>() > FIRST_ROUND_BYTES);
        let count = |threads: usize, cuts: &[usize]| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut c = WordCounter::new(["the"]);
            for w in cuts.windows(2) {
                let (o, d) = utf8(&refs[w[0]..w[1]]);
                pool.install(|| c.add(&column(&o, &d))).unwrap();
            }
            let by_docs: Vec<Vec<String>> = [1.0, 2.0, 81.0, 82.0, 1500.0]
                .iter()
                .map(|&lo| c.most_frequent(lo, f64::INFINITY, None))
                .collect();
            (c.n_documents(), c.n_words(), c.n_distinct(), by_docs)
        };
        let whole = count(1, &[0, 3000]);
        assert_eq!(whole, count(3, &[0, 3000]));
        assert_eq!(whole, count(2, &[0, 10, 1700, 1701, 3000]));
        assert_eq!(whole.3[4], ["x", "y", "common", "w"]);
        // w, common, rare…, and x y repeated; "the" is a stopword.
        let words: u64 = (0..3000u64).map(|i| 3 + 2 * (i % 1400)).sum();
        assert_eq!(whole.1, words);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let t = Tokenizer::new(["a"], []).unwrap();
        let err = t.tokenize(&column(&[0, 2], &[b'a', 0xFF])).unwrap_err();
        assert!(err.to_string().contains("text 0 is not valid UTF-8"));
    }
}

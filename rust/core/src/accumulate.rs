//! Deterministic parallel accumulation of word–topic sums ñ_wt.
//!
//! Documents are cut into chunks that depend only on the corpus. Each chunk is processed
//! by one worker into f32 sums over just the words it touched; the chunks' sums are then
//! added into an f64 target in chunk order. The result is therefore the same bit for bit
//! on any number of threads. Workers run ahead of the merge by at most a few chunks, so
//! the sums held at any time do not grow with the corpus, the vocabulary or the threads'
//! luck: a few chunk-sized buffers per thread.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::cancel;
use crate::documents::Documents;
use crate::error::{Error, Result};
use crate::kept;
use crate::lanes::{blocks, floats, floats_mut, prefetch, F8, LANES};
use crate::memory::zeroed;
#[cfg(target_arch = "x86_64")]
use crate::vector::has_avx2;

/// Entries per chunk: large enough to amortize a chunk's merge, small enough that the
/// distinct words of a chunk (whose f32 rows are held until its turn to merge) stay few.
pub const CHUNK_ENTRIES: usize = 32_768;

/// Chunks a call is cut into at least, while its chunks stay above [`MIN_CHUNK_ENTRIES`]:
/// a small call (one of stepwise EM's batches) still gives every worker several chunks,
/// so that the last chunk, which one worker runs alone, is a small share of the call.
const MIN_CHUNKS: usize = 16;
const MIN_CHUNK_ENTRIES: usize = 1_024;

/// The chunk size of a call over `n_entries` entries: a function of the input alone,
/// never of the thread count.
pub fn chunk_entries(n_entries: usize) -> usize {
    (n_entries / MIN_CHUNKS).clamp(MIN_CHUNK_ENTRIES, CHUNK_ENTRIES)
}

/// How many rows ahead the merge prefetches the target's row: a chunk's words are
/// scattered over n_wt, which is larger than the caches.
const MERGE_AHEAD: usize = 4;

/// Sums of finished chunks that may wait for an earlier chunk's merge, besides one per
/// worker: a worker that finishes early goes on with the next chunk instead of idling.
const SPARE_SUMS: usize = 1;

/// Additions into a chunk's f32 rows before they are spilled into f64. Only a document
/// with more entries than this ever spills (a chunk holds more only through one large
/// document): ordinary chunks pay nothing, and no f32 partial sum runs over more than
/// this many additions (n_wt itself is f64).
const SPILL_ADDS: usize = 65_536;

/// Sums of one chunk over the words it touched.
pub struct ChunkSums {
    n_words: usize,
    n_topics: usize,
    /// Blocks per row: rows are padded to whole blocks (see `lanes`).
    stride: usize,
    words: Vec<u32>,
    values: Vec<F8>,
    /// Additions since the last spill.
    adds: usize,
    /// f64 totals of spilled partial sums (empty until the chunk's first spill), with the
    /// padded layout of `values`.
    spilled: Vec<f64>,
    /// Row of each word in `values` (allocated on the first row: kernels that accumulate
    /// nothing never pay for it).
    slots: Vec<u32>,
}

impl ChunkSums {
    pub(crate) fn new(n_words: usize, n_topics: usize) -> Self {
        ChunkSums {
            n_words,
            n_topics,
            stride: blocks(n_topics),
            words: Vec::new(),
            values: Vec::new(),
            adds: 0,
            spilled: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// The row of word `w` (T values), created as zeros on first use.
    #[inline]
    pub fn row(&mut self, w: u32) -> &mut [f32] {
        let t = self.n_topics;
        &mut floats_mut(self.lanes(w))[..t]
    }

    /// The row of word `w` as blocks (zeros past T: keep them zero), created on first use.
    #[inline]
    pub fn lanes(&mut self, w: u32) -> &mut [F8] {
        let slot = self.slot(w);
        self.lanes_at(slot)
    }

    /// The index of word `w`'s row, the row created as zeros on first use (which adds
    /// nothing: kernels may name a chunk's words before they add into their rows).
    /// Indices count up from 0 in the order words are first named.
    #[inline]
    pub fn slot(&mut self, w: u32) -> usize {
        if self.slots.is_empty() {
            self.slots = vec![u32::MAX; self.n_words];
        }
        let mut slot = self.slots[w as usize];
        if slot == u32::MAX {
            slot = self.words.len() as u32;
            self.slots[w as usize] = slot;
            self.words.push(w);
            self.values
                .resize(self.values.len() + self.stride, F8::ZERO);
        }
        slot as usize
    }

    /// Row `slot` (from [`ChunkSums::slot`]) as blocks, to add into.
    #[inline]
    pub fn lanes_at(&mut self, slot: usize) -> &mut [F8] {
        self.adds += 1;
        if self.adds > SPILL_ADDS {
            self.spill();
        }
        let k = self.stride;
        &mut self.values[slot * k..(slot + 1) * k]
    }

    fn spill(&mut self) {
        let values = floats_mut(&mut self.values);
        self.spilled.resize(values.len(), 0.0);
        for (s, v) in self.spilled.iter_mut().zip(values.iter_mut()) {
            *s += *v as f64;
            *v = 0.0;
        }
        self.adds = 1;
    }

    /// Adds weight · (the rows) into the target's rows of the same words. The merge is
    /// the one serial step of an E-step, so it runs on AVX2 where the processor has it
    /// (lane by lane, no fused operations: the same sums as the baseline copy).
    fn add_into(&self, target: &mut Target<'_>) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the processor runs AVX2.
            unsafe { self.add_into_avx2(target) };
            return;
        }
        self.add_into_any(target)
    }

    /// [`ChunkSums::add_into_any`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn add_into_avx2(&self, target: &mut Target<'_>) {
        self.add_into_any(target)
    }

    #[inline(always)]
    fn add_into_any(&self, target: &mut Target<'_>) {
        let (t, weight) = (self.n_topics, target.weight);
        let width = self.stride * LANES;
        let values = floats(&self.values);
        let row_of = |w: u32| target.slots.map_or(w as usize, |s| s[w as usize] as usize);
        for (k, &w) in self.words.iter().enumerate() {
            if let Some(&ahead) = self.words.get(k + MERGE_AHEAD) {
                let row = row_of(ahead);
                prefetch(&target.values[row * t..(row + 1) * t]);
            }
            let row = row_of(w);
            let dst = &mut target.values[row * t..(row + 1) * t];
            let src = &values[k * width..k * width + t];
            add_row(dst, src, weight, target.columns.as_mut());
            if let Some(spilled) = self.spilled.get(k * width..k * width + t) {
                add_row(dst, spilled, weight, target.columns.as_mut());
            }
        }
    }

    fn clear(&mut self) {
        for &w in &self.words {
            self.slots[w as usize] = u32::MAX;
        }
        self.words.clear();
        self.values.clear();
        self.spilled.clear();
        self.adds = 0;
    }
}

/// Where the chunks' sums go: for every word w a chunk touched, row r(w) of `values` (T
/// values) receives `weight` times the chunk's row of w, with r(w) = w for a W×T matrix
/// or `slots[w]` for the rows of the touched words only (see [`touched_words`]).
pub struct Target<'a> {
    pub values: &'a mut [f64],
    pub slots: Option<&'a [u32]>,
    pub weight: f64,
    /// When present, how the additions change the column sums of `values`.
    pub columns: Option<ColumnChange>,
}

/// How additions into a W×T matrix m changed its column sums: Σ_w m_wt and
/// Σ_w max(m_wt, 0) after them minus before, per topic. Found while the rows are written,
/// so that a caller who keeps the column sums of a large matrix up to date (n_t of
/// online EM) never sums its rows again.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnChange {
    pub total: Vec<f64>,
    pub positive: Vec<f64>,
}

impl ColumnChange {
    pub fn zeros(n_topics: usize) -> Self {
        ColumnChange {
            total: vec![0.0; n_topics],
            positive: vec![0.0; n_topics],
        }
    }

    /// `dst` += weight · `src`, recording the change.
    #[inline(always)]
    pub fn add<S: Copy + Into<f64>>(&mut self, dst: &mut [f64], src: &[S], weight: f64) {
        let columns = self.total.iter_mut().zip(self.positive.iter_mut());
        for ((d, &s), (total, positive)) in dst.iter_mut().zip(src).zip(columns) {
            let old = *d;
            let new = old + weight * s.into();
            *d = new;
            *total += new - old;
            *positive += new.max(0.0) - old.max(0.0);
        }
    }
}

/// `dst` += weight · `src`, recording the change of the column sums when asked.
#[inline(always)]
fn add_row<S: Copy + Into<f64>>(
    dst: &mut [f64],
    src: &[S],
    weight: f64,
    columns: Option<&mut ColumnChange>,
) {
    match columns {
        Some(c) => c.add(dst, src, weight),
        None => dst
            .iter_mut()
            .zip(src)
            .for_each(|(d, &s)| *d += weight * s.into()),
    }
}

/// The distinct words of `docs` in increasing order, and the row of each word among them
/// (`u32::MAX` for a word that does not occur): the layout of sparse ñ_wt rows.
pub fn touched_words(docs: &Documents<'_>, n_words: usize) -> (Vec<u32>, Vec<u32>) {
    let mut slots = vec![u32::MAX; n_words];
    for &w in docs.words() {
        slots[w as usize] = 0;
    }
    let mut words = Vec::new();
    for (w, slot) in slots.iter_mut().enumerate() {
        if *slot == 0 {
            *slot = words.len() as u32;
            words.push(w as u32);
        }
    }
    (words, slots)
}

/// What a kernel sees of one chunk.
pub struct Chunk<'o> {
    /// Document indices of the chunk.
    pub docs: Range<usize>,
    /// Output rows of these documents (`doc` width values per document).
    pub doc_out: &'o mut [f32],
    /// Output rows of the chunk's entries (`entry` width values per entry).
    pub entry_out: &'o mut [f32],
    /// Topic indices of the chunk's entries (`entry_topics` width per entry).
    pub entry_topics: &'o mut [u16],
}

/// An output with `width` values per row (per document or per entry); width 0 for none.
pub struct Rows<'o, V> {
    pub values: &'o mut [V],
    pub width: usize,
}

impl<V> Default for Rows<'_, V> {
    fn default() -> Self {
        Rows {
            values: &mut [],
            width: 0,
        }
    }
}

impl<'o, V> Rows<'o, V> {
    /// Cuts off the rows of the next `n` documents or entries.
    fn take(&mut self, n: usize) -> &'o mut [V] {
        let values = std::mem::take(&mut self.values);
        let (head, rest) = values.split_at_mut(n * self.width);
        self.values = rest;
        head
    }
}

/// The per-row outputs of a kernel.
#[derive(Default)]
pub struct Outputs<'o> {
    pub doc: Rows<'o, f32>,
    pub entry: Rows<'o, f32>,
    pub entry_topics: Rows<'o, u16>,
}

/// The cleared chunk sums of the last call, for the next call over as many words and
/// topics: the buffers `kept` keeps per thread, for the ones that pass from worker to
/// worker (a chunk's row of every word it names, and the word → row index over the whole
/// vocabulary, are allocated and touched anew otherwise at every call). Only a call of
/// ordinary chunks leaves them (see [`run_chunks`]).
static KEPT_SUMS: Mutex<Vec<ChunkSums>> = Mutex::new(Vec::new());

/// Chunk sums in flight, and the merge that takes them in chunk order.
struct Pipeline<'t> {
    n_words: usize,
    n_topics: usize,
    capacity: usize,
    /// Idle buffers, and how many exist.
    free: Mutex<(Vec<ChunkSums>, usize)>,
    freed: Condvar,
    merge: Mutex<Merge<'t>>,
    /// A worker panicked: the others stop instead of waiting for its chunk forever.
    failed: AtomicBool,
}

struct Merge<'t> {
    next: usize,
    parked: BTreeMap<usize, ChunkSums>,
    target: Option<Target<'t>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pipeline<'_> {
    /// An empty buffer, once one is free (None once a worker failed).
    fn acquire(&self) -> Option<ChunkSums> {
        let mut free = lock(&self.free);
        loop {
            if self.failed.load(Ordering::Acquire) {
                return None;
            }
            if let Some(sums) = free.0.pop() {
                return Some(sums);
            }
            if free.1 < self.capacity {
                free.1 += 1;
                let shape =
                    |s: &ChunkSums| (s.n_words, s.n_topics) == (self.n_words, self.n_topics);
                let kept = lock(&KEPT_SUMS).pop().filter(shape);
                return Some(kept.unwrap_or_else(|| ChunkSums::new(self.n_words, self.n_topics)));
            }
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn release(&self, sums: ChunkSums) {
        lock(&self.free).0.push(sums);
        self.freed.notify_one();
    }

    /// Hands in the sums of chunk `index`; merges every chunk whose turn has come.
    fn finish(&self, index: usize, sums: ChunkSums) {
        let mut merge = lock(&self.merge);
        merge.parked.insert(index, sums);
        loop {
            let next = merge.next;
            let Some(mut sums) = merge.parked.remove(&next) else {
                break;
            };
            if let Some(target) = merge.target.as_mut() {
                sums.add_into(target);
            }
            sums.clear();
            merge.next += 1;
            self.release(sums);
        }
    }

    fn fail(&self) {
        self.failed.store(true, Ordering::Release);
        let _free = lock(&self.free);
        self.freed.notify_all();
    }
}

/// Marks the pipeline failed when a worker unwinds.
struct FailOnPanic<'p, 't>(&'p Pipeline<'t>);

impl Drop for FailOnPanic<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail();
        }
    }
}

/// Runs `kernel` on every chunk of `docs` in parallel and adds what the kernels put into
/// their `ChunkSums` into `target` (nothing when None), chunk after chunk. Each chunk gets
/// its documents' rows of `out.doc` and its entries' rows of `out.entry` and
/// `out.entry_topics`. Returns the target's column change, when it asked for one, or
/// `Error::Interrupted` when the call's cancel request (see `cancel`) stopped it: no
/// worker takes a chunk once it is set, and the target holds the chunks merged by then.
///
/// Every worker hands the kernel a `W` of its own, kept from chunk to chunk and, by the
/// thread it runs on, from call to call (see `kept`): the kernel's buffers, which would
/// otherwise be allocated anew, and their memory touched for the first time, in every
/// chunk.
pub fn run_chunks<W, F>(
    docs: &Documents<'_>,
    n_words: usize,
    n_topics: usize,
    mut out: Outputs<'_>,
    target: Option<Target<'_>>,
    kernel: F,
) -> Result<Option<ColumnChange>>
where
    W: Default + 'static,
    F: Fn(Chunk<'_>, &mut ChunkSums, &mut W) + Sync,
{
    assert_eq!(out.doc.values.len(), docs.n_docs() * out.doc.width);
    assert_eq!(out.entry.values.len(), docs.n_entries() * out.entry.width);
    assert_eq!(
        out.entry_topics.values.len(),
        docs.n_entries() * out.entry_topics.width
    );
    if let Some(t) = &target {
        let rows = t
            .slots
            .map_or(n_words, |s| s.iter().filter(|&&r| r != u32::MAX).count());
        assert_eq!(t.values.len(), rows * n_topics);
    }
    let chunks = docs.chunks(chunk_entries(docs.n_entries()));
    let cancel = cancel::current();

    // Cut the output buffers into the disjoint pieces each chunk owns.
    let mut pieces = Vec::with_capacity(chunks.len());
    // A chunk longer than CHUNK_ENTRIES is one long document, whose buffers grow with it.
    let mut ordinary = true;
    for c in &chunks {
        let entries = docs.range(c.start).start..docs.range(c.end - 1).end;
        ordinary &= entries.len() <= CHUNK_ENTRIES;
        pieces.push(Chunk {
            docs: c.clone(),
            doc_out: out.doc.take(c.len()),
            entry_out: out.entry.take(entries.len()),
            entry_topics: out.entry_topics.take(entries.len()),
        });
    }

    let workers = rayon::current_num_threads().min(pieces.len()).max(1);
    let pipeline = Pipeline {
        n_words,
        n_topics,
        capacity: workers + SPARE_SUMS,
        free: Mutex::new((Vec::new(), 0)),
        freed: Condvar::new(),
        merge: Mutex::new(Merge {
            next: 0,
            parked: BTreeMap::new(),
            target,
        }),
        failed: AtomicBool::new(false),
    };
    let pieces = Mutex::new(pieces.into_iter().enumerate());
    // A worker takes a buffer before it takes a chunk, so a worker that waits holds no
    // chunk: every chunk taken is being computed, and the merge always moves on.
    let worker = || {
        let _guard = FailOnPanic(&pipeline);
        let mut state = kept::take::<W>(n_topics);
        while let Some(mut sums) = pipeline.acquire() {
            let next = if cancel.is_cancelled() {
                None
            } else {
                lock(&pieces).next()
            };
            let Some((index, chunk)) = next else {
                pipeline.release(sums);
                break;
            };
            kernel(chunk, &mut sums, &mut state);
            pipeline.finish(index, sums);
        }
        if ordinary {
            kept::keep(n_topics, state);
        }
    };
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| worker());
        }
    });
    // Here every buffer is back in the free list, cleared, or parked by a cancelled call
    // (a worker's panic ends the call in `scope`, which raises it again). Buffers are kept
    // after ordinary chunks only, so that what stays held between calls is bounded by
    // CHUNK_ENTRIES, not by the longest document ever seen.
    let free = std::mem::take(&mut lock(&pipeline.free).0);
    *lock(&KEPT_SUMS) = if ordinary { free } else { Vec::new() };
    if cancel.is_cancelled() {
        return Err(Error::Interrupted);
    }
    let merge = pipeline
        .merge
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    Ok(merge.target.and_then(|t| t.columns))
}

/// What an E-step does with the word–topic sums ñ_wt it computes.
pub enum Accumulate<'a> {
    /// Nothing: ñ_wt is not computed.
    None,
    /// ñ_wt as a dense W×T matrix.
    Dense,
    /// ñ_wt of the words the documents touch only: [`WordTopicSums::Rows`].
    Rows,
    /// n_wt += weight · ñ_wt, into the caller's W×T matrix (row-major f64): an online
    /// update without a W×T ñ_wt of its own.
    Into { n_wt: &'a mut [f64], weight: f64 },
}

impl Accumulate<'_> {
    pub fn is_none(&self) -> bool {
        matches!(self, Accumulate::None)
    }
}

/// ñ_wt as an E-step returns it.
#[derive(Debug, PartialEq)]
pub enum WordTopicSums {
    /// Not computed.
    None,
    /// Added into the caller's matrix, which changed its column sums so.
    Added(ColumnChange),
    /// W×T, row-major.
    Dense(Vec<f64>),
    /// The touched words in increasing order and their rows (T values each).
    Rows { words: Vec<u32>, values: Vec<f64> },
}

/// [`run_chunks`] with its sums going where `how` says.
pub fn accumulate<W, F>(
    docs: &Documents<'_>,
    n_words: usize,
    n_topics: usize,
    how: Accumulate<'_>,
    out: Outputs<'_>,
    kernel: F,
) -> Result<WordTopicSums>
where
    W: Default + 'static,
    F: Fn(Chunk<'_>, &mut ChunkSums, &mut W) + Sync,
{
    let target = |values, slots, weight| {
        Some(Target {
            values,
            slots,
            weight,
            columns: None,
        })
    };
    Ok(match how {
        Accumulate::None => {
            run_chunks(docs, n_words, n_topics, out, None, kernel)?;
            WordTopicSums::None
        }
        Accumulate::Dense => {
            let mut n_wt = zeroed("ñ_wt (words × topics)", &[n_words, n_topics])?;
            run_chunks(
                docs,
                n_words,
                n_topics,
                out,
                target(&mut n_wt, None, 1.0),
                kernel,
            )?;
            WordTopicSums::Dense(n_wt)
        }
        Accumulate::Rows => {
            let (words, slots) = touched_words(docs, n_words);
            let mut values = zeroed("ñ_wt (touched words × topics)", &[words.len(), n_topics])?;
            let t = target(&mut values, Some(&slots[..]), 1.0);
            run_chunks(docs, n_words, n_topics, out, t, kernel)?;
            WordTopicSums::Rows { words, values }
        }
        Accumulate::Into { n_wt, weight } => {
            if n_wt.len() != n_words * n_topics {
                return Err(Error::Shape(format!(
                    "the matrix to add n_wt into must be {n_words}×{n_topics}, but has {} values",
                    n_wt.len()
                )));
            }
            if !weight.is_finite() {
                return Err(Error::Value(format!(
                    "the weight must be finite, not {weight}"
                )));
            }
            let target = Target {
                values: n_wt,
                slots: None,
                weight,
                columns: Some(ColumnChange::zeros(n_topics)),
            };
            let change = run_chunks(docs, n_words, n_topics, out, Some(target), kernel)?;
            WordTopicSums::Added(change.expect("asked for"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ñ of a token stream where every token adds (1, its position) into its word's row.
    fn sums(docs: &Documents<'_>, n_words: usize, slots: Option<&[u32]>, rows: usize) -> Vec<f64> {
        let mut values = vec![0.0; rows * 2];
        let target = Target {
            values: &mut values,
            slots,
            weight: 0.5,
            columns: None,
        };
        run_chunks(
            docs,
            n_words,
            2,
            Outputs::default(),
            Some(target),
            |chunk, sums, _: &mut ()| {
                for i in docs.range(chunk.docs.start).start..docs.range(chunk.docs.end - 1).end {
                    let row = sums.row(docs.words()[i]);
                    row[0] += 1.0;
                    row[1] += i as f32;
                }
            },
        )
        .unwrap();
        values
    }

    #[test]
    fn sparse_rows_equal_the_dense_rows_on_any_thread_count() {
        let n = 100_000;
        let words: Vec<u32> = (0..n).map(|i| ((i * 7919) % 1000 * 3) as u32).collect();
        let offsets: Vec<i64> = (0..=n as i64).step_by(250).collect();
        let docs = Documents::new(&words, None, &offsets, 3000).unwrap();
        let pool = |k| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .unwrap()
        };
        let dense = pool(1).install(|| sums(&docs, 3000, None, 3000));
        assert_eq!(dense, pool(3).install(|| sums(&docs, 3000, None, 3000)));
        let (touched, slots) = touched_words(&docs, 3000);
        assert_eq!(touched, (0..1000).map(|w| w * 3).collect::<Vec<u32>>());
        let sparse = pool(2).install(|| sums(&docs, 3000, Some(&slots), touched.len()));
        for (k, &w) in touched.iter().enumerate() {
            let w = w as usize;
            assert_eq!(sparse[2 * k..2 * k + 2], dense[2 * w..2 * w + 2]);
        }
        assert_eq!(dense.iter().step_by(2).sum::<f64>(), 0.5 * n as f64);
    }

    #[test]
    fn a_panicking_kernel_does_not_hang_the_others() {
        let words = vec![0u32; 50_000];
        let offsets: Vec<i64> = (0..=50_000).step_by(100).collect();
        let docs = Documents::new(&words, None, &offsets, 1).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                let mut values = vec![0.0; 1];
                let target = Target {
                    values: &mut values,
                    slots: None,
                    weight: 1.0,
                    columns: None,
                };
                run_chunks(
                    &docs,
                    1,
                    1,
                    Outputs::default(),
                    Some(target),
                    |chunk, sums, _: &mut ()| {
                        assert!(chunk.docs.start < 20, "boom");
                        sums.row(0)[0] += 1.0;
                    },
                )
                .unwrap();
            })
        }));
        assert!(outcome.is_err());
    }

    #[test]
    fn a_cancel_request_stops_the_workers_before_their_next_chunk() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;

        let words = vec![0u32; 50_000];
        let offsets: Vec<i64> = (0..=50_000).step_by(100).collect();
        let docs = Documents::new(&words, None, &offsets, 1).unwrap();
        let n_chunks = docs.chunks(chunk_entries(docs.n_entries())).len();
        assert!(n_chunks > 4);
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let cancel = Arc::new(cancel::Cancel::default());
            let ran = AtomicUsize::new(0);
            let outcome = pool.install(|| {
                cancel::with(cancel.clone(), || {
                    run_chunks(&docs, 1, 1, Outputs::default(), None, |_, _, _: &mut ()| {
                        ran.fetch_add(1, Ordering::Relaxed);
                        cancel.cancel();
                    })
                })
            });
            assert!(matches!(outcome, Err(Error::Interrupted)));
            // Each worker finishes the chunk it holds, and takes no other.
            assert!(ran.load(Ordering::Relaxed) <= threads);
        }
        // Outside `with`, nothing cancels.
        assert!(!cancel::current().is_cancelled());
    }
}

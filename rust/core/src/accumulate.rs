//! Deterministic parallel accumulation of word–topic sums ñ_wt.
//!
//! Documents are cut into chunks that depend only on the corpus. Each chunk is processed
//! by one rayon task into sums over just the words it touched; the chunks' sums are then
//! added into the global f64 matrix in chunk order. The result is therefore the same bit
//! for bit on any number of threads. Chunks run in waves so that memory stays bounded on
//! corpora of any size.

use std::ops::Range;

use rayon::prelude::*;

use crate::documents::Documents;
use crate::memory::zeroed;

/// Entries per chunk: large enough to amortize the merge, small enough to balance threads.
pub const CHUNK_ENTRIES: usize = 65_536;
const MIN_CHUNKS_PER_WAVE: usize = 16;

/// Additions into a chunk's f32 rows before they are spilled into f64. Chunks are cut at
/// this many entries, so only a document larger than that ever spills: ordinary chunks pay
/// nothing, and no f32 partial sum runs over more than this many additions (n_wt itself
/// is f64, DESIGN §2).
const SPILL_ADDS: usize = CHUNK_ENTRIES;

/// Sums of one chunk over the words it touched.
pub struct ChunkSums {
    n_topics: usize,
    words: Vec<u32>,
    values: Vec<f32>,
    /// Additions since the last spill.
    adds: usize,
    /// f64 totals of spilled partial sums (empty until the chunk's first spill).
    spilled: Vec<f64>,
    slots: Vec<u32>,
}

impl ChunkSums {
    fn new(n_words: usize, n_topics: usize) -> Self {
        ChunkSums {
            n_topics,
            words: Vec::new(),
            values: Vec::new(),
            adds: 0,
            spilled: Vec::new(),
            slots: vec![u32::MAX; n_words],
        }
    }

    /// The row of word `w`, created as zeros on first use.
    #[inline]
    pub fn row(&mut self, w: u32) -> &mut [f32] {
        self.adds += 1;
        if self.adds > SPILL_ADDS {
            self.spill();
        }
        let t = self.n_topics;
        let mut slot = self.slots[w as usize];
        if slot == u32::MAX {
            slot = self.words.len() as u32;
            self.slots[w as usize] = slot;
            self.words.push(w);
            self.values.resize(self.values.len() + t, 0.0);
        }
        let k = slot as usize;
        &mut self.values[k * t..(k + 1) * t]
    }

    fn spill(&mut self) {
        self.spilled.resize(self.values.len(), 0.0);
        for (s, v) in self.spilled.iter_mut().zip(self.values.iter_mut()) {
            *s += *v as f64;
            *v = 0.0;
        }
        self.adds = 1;
    }

    /// Adds the rows of words in `rows` into `dst`, which holds exactly those rows.
    fn add_into(&self, dst: &mut [f64], rows: Range<usize>) {
        let t = self.n_topics;
        for (k, &w) in self.words.iter().enumerate() {
            let w = w as usize;
            if rows.contains(&w) {
                let d = &mut dst[(w - rows.start) * t..(w - rows.start + 1) * t];
                for (d, s) in d.iter_mut().zip(&self.values[k * t..(k + 1) * t]) {
                    *d += *s as f64;
                }
                if let Some(spilled) = self.spilled.get(k * t..(k + 1) * t) {
                    d.iter_mut().zip(spilled).for_each(|(d, s)| *d += s);
                }
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

/// Adds the chunks' sums into n_wt in chunk order, in parallel over shards of words: every
/// entry still receives its terms in the same order, whatever the number of threads.
fn merge(pool: &[ChunkSums], n_wt: &mut [f64], n_topics: usize) {
    const SHARD_ROWS: usize = 2048;
    n_wt.par_chunks_mut(SHARD_ROWS * n_topics)
        .enumerate()
        .for_each(|(s, dst)| {
            let rows = s * SHARD_ROWS..s * SHARD_ROWS + dst.len() / n_topics;
            for sums in pool {
                sums.add_into(dst, rows.clone());
            }
        });
}

/// What a kernel sees of one chunk.
pub struct Chunk<'o> {
    /// Document indices of the chunk.
    pub docs: Range<usize>,
    /// Output rows of these documents (`doc_width` floats per document).
    pub doc_out: &'o mut [f32],
    /// Output rows of the chunk's entries (`entry_width` floats per entry).
    pub entry_out: &'o mut [f32],
}

/// An output with `width` floats per row (per document or per entry); width 0 for none.
pub struct Rows<'o> {
    pub values: &'o mut [f32],
    pub width: usize,
}

impl Rows<'_> {
    pub fn none() -> Rows<'static> {
        Rows {
            values: &mut [],
            width: 0,
        }
    }
}

/// Runs `kernel` on every chunk of `docs` in parallel and returns the word–topic sums
/// (W×T, f64, row-major) of what the kernels added into their `ChunkSums`. Each chunk
/// gets its documents' rows of `doc_out` and its entries' rows of `entry_out`.
pub fn run_chunks<F>(
    docs: &Documents<'_>,
    n_words: usize,
    n_topics: usize,
    doc_out: Rows<'_>,
    entry_out: Rows<'_>,
    kernel: F,
) -> Vec<f64>
where
    F: Fn(Chunk<'_>, &mut ChunkSums) + Sync,
{
    let (doc_width, entry_width) = (doc_out.width, entry_out.width);
    let (doc_out, entry_out) = (doc_out.values, entry_out.values);
    assert_eq!(doc_out.len(), docs.n_docs() * doc_width);
    assert_eq!(entry_out.len(), docs.n_entries() * entry_width);
    let mut n_wt = zeroed(n_words * n_topics);
    let chunks = docs.chunks(CHUNK_ENTRIES);

    // Cut the output buffers into the disjoint pieces each chunk owns.
    let mut pieces = Vec::with_capacity(chunks.len());
    let (mut doc_rest, mut entry_rest) = (doc_out, entry_out);
    for c in &chunks {
        let entries = docs.range(c.start).start..docs.range(c.end - 1).end;
        let (d, dr) = doc_rest.split_at_mut(c.len() * doc_width);
        let (e, er) = entry_rest.split_at_mut(entries.len() * entry_width);
        pieces.push(Chunk {
            docs: c.clone(),
            doc_out: d,
            entry_out: e,
        });
        doc_rest = dr;
        entry_rest = er;
    }

    let mut pieces = pieces.into_iter();
    let mut pool: Vec<ChunkSums> = Vec::new();
    loop {
        // The wave size bounds memory and feeds every thread; it never changes results.
        let per_wave = MIN_CHUNKS_PER_WAVE.max(4 * rayon::current_num_threads());
        let wave: Vec<Chunk<'_>> = pieces.by_ref().take(per_wave).collect();
        if wave.is_empty() {
            break;
        }
        while pool.len() < wave.len() {
            pool.push(ChunkSums::new(n_words, n_topics));
        }
        wave.into_par_iter()
            .zip(pool.par_iter_mut())
            .for_each(|(chunk, sums)| kernel(chunk, sums));
        merge(&pool, &mut n_wt, n_topics);
        pool.iter_mut().for_each(ChunkSums::clear);
    }
    n_wt
}

//! Workers' buffers kept from one kernel call to the next.
//!
//! A kernel's worker keeps its buffers (a `W` of [`crate::accumulate::run_chunks`]: rows
//! of the document in hand, the chunk's word table) from chunk to chunk. Made anew at every
//! call, they are allocated again and their memory touched for the first time, which the
//! system pays in page faults: a tagging job calls the kernel once per 1,000 documents,
//! and training once per update. So every thread of a pool keeps, after a call, its worker's
//! buffers for the next call of the same kernel over as many topics. A call only reads
//! what it first writes (as from one chunk or document to the next). One set is kept per
//! kernel and thread, and only after a call of ordinary chunks (`run_chunks`): what stays
//! held is then at most what a worker needs for a chunk of
//! [`crate::accumulate::CHUNK_ENTRIES`] entries, whatever documents came before.

use std::any::{Any, TypeId};
use std::cell::RefCell;

thread_local! {
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

struct Kept {
    kind: TypeId,
    n_topics: usize,
    state: Box<dyn Any>,
}

/// This thread's kept `W` for `n_topics` topics, or a new one.
pub fn take<W: Default + 'static>(n_topics: usize) -> W {
    let kind = TypeId::of::<W>();
    let kept = KEPT.with(|k| {
        let mut k = k.borrow_mut();
        let i = k.iter().position(|s| s.kind == kind)?;
        let s = k.swap_remove(i);
        (s.n_topics == n_topics).then_some(s.state)
    });
    kept.and_then(|s| s.downcast::<W>().ok())
        .map_or_else(W::default, |s| *s)
}

/// Keeps `state` (of a call over `n_topics` topics) for this thread's next [`take`].
pub fn keep<W: 'static>(n_topics: usize, state: W) {
    let kind = TypeId::of::<W>();
    KEPT.with(|k| {
        let mut k = k.borrow_mut();
        k.retain(|s| s.kind != kind);
        k.push(Kept {
            kind,
            n_topics,
            state: Box::new(state),
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_state_comes_back_for_its_kind_and_topics_only() {
        keep(5, vec![1u32, 2, 3]);
        assert_eq!(take::<Vec<u32>>(5), vec![1, 2, 3]);
        // Taken: the next take makes a new one.
        assert!(take::<Vec<u32>>(5).is_empty());
        keep(5, vec![7u32]);
        // Another number of topics drops it; another kind does not see it.
        assert!(take::<Vec<u64>>(5).is_empty());
        assert!(take::<Vec<u32>>(6).is_empty());
        assert!(take::<Vec<u32>>(5).is_empty());
        // One per kind: the last kept.
        keep(5, vec![1u32]);
        keep(5, vec![2u32]);
        assert_eq!(take::<Vec<u32>>(5), vec![2]);
        // Other threads keep their own.
        keep(5, vec![9u32]);
        std::thread::spawn(|| assert!(take::<Vec<u32>>(5).is_empty()))
            .join()
            .unwrap();
        assert_eq!(take::<Vec<u32>>(5), vec![9]);
    }
}

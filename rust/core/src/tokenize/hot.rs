//! The word counter's table of frequent words, each slot holding the word's first bytes
//! and its tallies: counting a word of at most 8 bytes, the common case, touches one
//! 32-byte slot and nothing else (a `WordTable` lookup then a tally update touch three
//! places, each a likely cache miss). Every worker counts into a copy of its own.

use super::table::{hash, prefix};

const EMPTY: u32 = u32::MAX;

/// One word: its first 8 bytes zero-padded (see `table::prefix`), its length, where its
/// bytes past the 8th start in `rest`, its entry in the counter's table, and the
/// occurrences and documents counted in this batch (`last`: the last document counted,
/// numbered from 1).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
struct Slot {
    prefix: u64,
    count: u32,
    entry: u32,
    len: u32,
    rest: u32,
    docs: u32,
    last: u32,
}

const VACANT: Slot = Slot {
    prefix: 0,
    count: 0,
    entry: EMPTY,
    len: 0,
    rest: 0,
    docs: 0,
    last: 0,
};

#[derive(Clone, Debug)]
pub(super) struct HotTable {
    slots: Vec<Slot>,
    rest: Vec<u8>,
}

impl Default for HotTable {
    fn default() -> Self {
        Self::new(std::iter::empty())
    }
}

impl HotTable {
    /// A table of `words` (unique) with their entries; the tallies start at zero.
    pub(super) fn new<'w>(words: impl ExactSizeIterator<Item = (&'w [u8], u32)>) -> Self {
        let n = (2 * words.len()).next_power_of_two().max(16);
        let mut table = HotTable {
            slots: vec![VACANT; n],
            rest: Vec::new(),
        };
        let mask = n - 1;
        for (word, entry) in words {
            let first = prefix(word);
            let mut i = hash(word, first) as usize & mask;
            while table.slots[i].entry != EMPTY {
                i = (i + 1) & mask;
            }
            let rest = table.rest.len();
            table.rest.extend_from_slice(word.get(8..).unwrap_or(&[]));
            table.slots[i] = Slot {
                prefix: first,
                entry,
                len: u32::try_from(word.len()).expect("a word shorter than 4 GiB"),
                rest: u32::try_from(rest).expect("hot words shorter than 4 GiB in all"),
                ..VACANT
            };
        }
        table
    }

    /// Counts `word` in document `doc` (numbered from 1) if it is in the table; whether
    /// it is. The caller keeps every count below 2^32 within a batch.
    #[inline]
    pub(super) fn count(&mut self, word: &[u8], doc: u32) -> bool {
        let first = prefix(word);
        let mask = self.slots.len() - 1;
        let mut i = hash(word, first) as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.entry == EMPTY {
                return false;
            }
            if s.prefix == first && s.len as usize == word.len() {
                let rest = s.rest as usize;
                if word.len() <= 8 || self.rest[rest..rest + word.len() - 8] == word[8..] {
                    let s = &mut self.slots[i];
                    s.count += 1;
                    if s.last != doc {
                        s.last = doc;
                        s.docs += 1;
                    }
                    return true;
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Hands the tallies of every word counted since the last drain, as (entry, count,
    /// documents), and sets them back to zero.
    pub(super) fn drain(&mut self, mut f: impl FnMut(u32, u64, u64)) {
        for s in &mut self.slots {
            if s.count > 0 {
                f(s.entry, s.count as u64, s.docs as u64);
                s.count = 0;
                s.docs = 0;
                s.last = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_its_words() {
        let words: Vec<String> = (0..300)
            .map(|i| "w".repeat(1 + i % 13) + &i.to_string())
            .collect();
        let mut t = HotTable::new(
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.as_bytes(), i as u32)),
        );
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        for (doc, w) in [
            (1, "w0"),
            (1, "w0"),
            (2, "w0"),
            (2, "absent"),
            (3, "wwwwwwwwwwwww12"),
        ] {
            t.count(w.as_bytes(), doc);
        }
        assert!(!t.count(b"wwwwwwwwwwwww1", 3) && !t.count(b"wwwwwwwwwwwww120", 3));
        let mut got = Vec::new();
        t.drain(|e, c, d| got.push((e, c, d)));
        got.sort();
        assert_eq!(got, [(0, 3, 2), (12, 1, 1)]);
        t.drain(|_, _, _| panic!("drained already"));
    }
}

//! A hash table from words (byte strings without NUL, as the scanner makes them) to dense
//! entry numbers 0, 1, 2, ... in insertion order.
//!
//! Lookups are the tokenizer's hot path (one per word of the text) and mostly cache
//! misses, so the table is laid out for them: open addressing with linear probing over
//! 8-byte slots (a hash tag and the entry number), then the entry's first 8 bytes,
//! zero-padded, from an array in entry order. A vocabulary's entries are in frequency
//! order, and a counter's in order of first occurrence, so the prefixes of the frequent
//! words share a few cache lines. A word of at most 8 bytes, the common case, is then
//! found; only a longer one compares its remaining bytes in the arena where all words
//! are stored one after the other.

const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Slot {
    tag: u32,
    entry: u32,
}

const VACANT: Slot = Slot {
    tag: 0,
    entry: EMPTY,
};

/// The first 8 bytes of a word, zero-padded. Words hold no NUL, so for words of at most
/// 8 bytes equal prefixes mean equal words.
#[inline]
pub(super) fn prefix(word: &[u8]) -> u64 {
    // Fixed-size loads only (a variable-length copy would be a memcpy call per word);
    // overlapping loads agree on the bytes they share, so OR-ing them is exact.
    let n = word.len();
    let u32_at = |i: usize| u32::from_le_bytes(word[i..i + 4].try_into().expect("4 bytes")) as u64;
    match n {
        8.. => u64::from_le_bytes(word[..8].try_into().expect("8 bytes")),
        4..=7 => u32_at(0) | (u32_at(n - 4) << (8 * (n - 4))),
        1..=3 => {
            word[0] as u64
                | (word[n / 2] as u64) << (8 * (n / 2))
                | (word[n - 1] as u64) << (8 * (n - 1))
        }
        0 => 0,
    }
}

#[inline]
fn fold(x: u64, y: u64) -> u64 {
    let p = (x as u128).wrapping_mul(y as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344;
const K2: u64 = 0xa409_3822_299f_31d0;

/// A fixed, well-mixed hash (folded multiplications), so tables and orders are the same
/// on every run.
#[inline]
pub(super) fn hash(word: &[u8], first: u64) -> u64 {
    let mut h = fold(first ^ K0, (word.len() as u64) ^ K1);
    let mut rest = word.get(8..).unwrap_or(&[]);
    while !rest.is_empty() {
        h = fold(h ^ prefix(rest), K2);
        rest = rest.get(8..).unwrap_or(&[]);
    }
    h
}

#[derive(Clone)]
pub struct WordTable {
    slots: Vec<Slot>,
    /// The first 8 bytes of each entry's word (see `prefix`).
    prefixes: Vec<u64>,
    arena: Vec<u8>,
    /// Start of each entry's word in `arena` (one more value closes the last word).
    starts: Vec<usize>,
}

impl Default for WordTable {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl WordTable {
    /// An empty table with room for `n` words before it grows.
    pub fn with_capacity(n: usize) -> Self {
        let slots = (2 * n).next_power_of_two().max(16);
        WordTable {
            slots: vec![VACANT; slots],
            prefixes: Vec::with_capacity(n),
            arena: Vec::new(),
            starts: vec![0],
        }
    }

    /// Removes every word, keeping the memory for as many as before.
    pub fn clear(&mut self) {
        self.slots.fill(VACANT);
        self.prefixes.clear();
        self.arena.clear();
        self.starts.truncate(1);
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The word of an entry.
    pub fn word(&self, entry: usize) -> &[u8] {
        &self.arena[self.starts[entry]..self.starts[entry + 1]]
    }

    /// Where `word` is, or the vacant slot where it would go; and whether it is there.
    #[inline(always)]
    fn find(&self, word: &[u8], first: u64, h: u64) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let tag = (h >> 32) as u32;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s.entry == EMPTY {
                return (i, false);
            }
            if s.tag == tag
                && self.prefixes[s.entry as usize] == first
                && (word.len() <= 8 || self.word(s.entry as usize) == word)
            {
                return (i, true);
            }
            i = (i + 1) & mask;
        }
    }

    /// The entry of `word`, if it is in the table.
    #[inline]
    pub fn get(&self, word: &[u8]) -> Option<usize> {
        let first = prefix(word);
        match self.find(word, first, hash(word, first)) {
            (i, true) => Some(self.slots[i].entry as usize),
            _ => None,
        }
    }

    /// The entry of `word`, added if it is new; and whether it was added.
    #[inline]
    pub fn insert(&mut self, word: &[u8]) -> (usize, bool) {
        let first = prefix(word);
        let h = hash(word, first);
        let (mut i, found) = self.find(word, first, h);
        if found {
            return (self.slots[i].entry as usize, false);
        }
        let entry = self.len();
        assert!(entry < EMPTY as usize, "more than 2^32 - 1 distinct words");
        if 2 * (entry + 1) > self.slots.len() {
            self.grow();
            i = self.find(word, first, h).0;
        }
        self.arena.extend_from_slice(word);
        self.starts.push(self.arena.len());
        self.prefixes.push(first);
        self.slots[i] = Slot {
            tag: (h >> 32) as u32,
            entry: entry as u32,
        };
        (entry, true)
    }

    fn grow(&mut self) {
        let bigger = vec![VACANT; 2 * self.slots.len()];
        let old = std::mem::replace(&mut self.slots, bigger);
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.entry != EMPTY) {
            let word = self.word(s.entry as usize);
            let mut i = hash(word, self.prefixes[s.entry as usize]) as usize & mask;
            while self.slots[i].entry != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_the_first_bytes_zero_padded() {
        for n in 0..12 {
            let word: Vec<u8> = (1..=n as u8).collect();
            let mut buf = [0u8; 8];
            buf[..n.min(8)].copy_from_slice(&word[..n.min(8)]);
            assert_eq!(prefix(&word), u64::from_le_bytes(buf), "length {n}");
        }
    }

    #[test]
    fn finds_what_was_inserted() {
        let mut t = WordTable::default();
        let words: Vec<String> = (0..5000)
            .map(|i| "w".repeat(1 + i % 20) + &i.to_string())
            .collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.insert(w.as_bytes()), (i, true));
        }
        assert_eq!(t.insert(b"w0"), (0, false));
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.get(w.as_bytes()), Some(i));
            assert_eq!(t.word(i), w.as_bytes());
        }
        assert_eq!(t.get(b"absent"), None);
        assert_eq!(t.get(b"wwwwwwwwwwwwwwwwwwwwwwwwwww"), None);
        assert_eq!(t.len(), 5000);
    }
}

//! A validated view of a tokenized collection: token ids (optionally with counts, for a
//! bag of words) cut into documents by offsets.

use std::ops::Range;

use crate::error::{Error, Result};

/// Documents as one stream of word ids cut by `offsets` (D+1 values, `offsets[0] == 0`,
/// non-decreasing, ending at `words.len()`). With `counts`, entry i stands for
/// `counts[i]` occurrences of `words[i]` (a bag of words); without, each entry counts 1.
#[derive(Clone, Copy, Debug)]
pub struct Documents<'a> {
    words: &'a [u32],
    counts: Option<&'a [f32]>,
    offsets: &'a [i64],
}

impl<'a> Documents<'a> {
    /// Checks every invariant the kernels rely on, so they can index without checks failing.
    pub fn new(
        words: &'a [u32],
        counts: Option<&'a [f32]>,
        offsets: &'a [i64],
        n_words: usize,
    ) -> Result<Self> {
        if offsets.is_empty() {
            return Err(Error::Shape(
                "doc_offsets must hold D+1 values starting at 0; it is empty".into(),
            ));
        }
        if offsets[0] != 0 {
            return Err(Error::Value(format!(
                "doc_offsets must start at 0, but starts at {}",
                offsets[0]
            )));
        }
        if let Some(i) = offsets.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::Value(format!(
                "doc_offsets must be non-decreasing, but offset {} ({}) is below offset {} ({})",
                i + 1,
                offsets[i + 1],
                i,
                offsets[i]
            )));
        }
        let last = *offsets.last().unwrap_or(&0);
        if last != words.len() as i64 {
            return Err(Error::Shape(format!(
                "doc_offsets must end at the number of tokens ({}), but ends at {last}",
                words.len()
            )));
        }
        if let Some(i) = words.iter().position(|&w| w as usize >= n_words) {
            return Err(Error::Value(format!(
                "token id {} at position {i} is outside the vocabulary of {n_words} words \
                 (phi has {n_words} rows)",
                words[i]
            )));
        }
        if let Some(c) = counts {
            if c.len() != words.len() {
                return Err(Error::Shape(format!(
                    "counts has {} values but there are {} tokens",
                    c.len(),
                    words.len()
                )));
            }
            if let Some(i) = c.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::Value(format!(
                    "counts must be finite and non-negative, but counts[{i}] is {}",
                    c[i]
                )));
            }
        }
        Ok(Documents {
            words,
            counts,
            offsets,
        })
    }

    pub fn n_docs(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn n_entries(&self) -> usize {
        self.words.len()
    }

    pub fn words(&self) -> &'a [u32] {
        self.words
    }

    pub fn offsets(&self) -> &'a [i64] {
        self.offsets
    }

    /// Entry range of document `d`.
    pub fn range(&self, d: usize) -> Range<usize> {
        self.offsets[d] as usize..self.offsets[d + 1] as usize
    }

    /// The counts of the entries (`None` for a token stream, whose entries count 1 each).
    #[inline]
    pub fn counts(&self) -> Option<&'a [f32]> {
        self.counts
    }

    /// Count of entry `i` (1 for a token stream).
    #[inline]
    pub fn count(&self, i: usize) -> f32 {
        self.counts.map_or(1.0, |c| c[i])
    }

    /// Consecutive groups of documents with about `target` entries each (at least one
    /// document per group). The cut depends only on the documents, never on the thread
    /// count, which is what makes results independent of the number of threads.
    pub fn chunks(&self, target: usize) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < self.n_docs() {
            let base = self.offsets[start];
            let mut end = start + 1;
            while end < self.n_docs() && ((self.offsets[end + 1] - base) as usize) <= target {
                end += 1;
            }
            out.push(start..end);
            start = end;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_offsets() {
        let w = [0u32, 1, 2];
        assert!(Documents::new(&w, None, &[0, 2, 3], 3).is_ok());
        assert!(matches!(
            Documents::new(&w, None, &[1, 3], 3),
            Err(Error::Value(_))
        ));
        assert!(matches!(
            Documents::new(&w, None, &[0, 2, 1, 3], 3),
            Err(Error::Value(_))
        ));
        assert!(matches!(
            Documents::new(&w, None, &[0, 2], 3),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            Documents::new(&w, None, &[], 3),
            Err(Error::Shape(_))
        ));
    }

    #[test]
    fn rejects_ids_outside_vocabulary_and_bad_counts() {
        let w = [0u32, 5];
        assert!(Documents::new(&w, None, &[0, 2], 5).is_err());
        assert!(Documents::new(&w, None, &[0, 2], 6).is_ok());
        assert!(Documents::new(&w, Some(&[1.0]), &[0, 2], 6).is_err());
        assert!(Documents::new(&w, Some(&[1.0, f32::NAN]), &[0, 2], 6).is_err());
        assert!(Documents::new(&w, Some(&[1.0, -1.0]), &[0, 2], 6).is_err());
    }

    #[test]
    fn chunks_cover_all_documents_in_order() {
        let w = vec![0u32; 10];
        let offsets = [0i64, 3, 3, 7, 8, 10];
        let docs = Documents::new(&w, None, &offsets, 1).unwrap();
        let chunks = docs.chunks(4);
        assert_eq!(chunks, vec![0..2, 2..3, 3..5]);
        let one = docs.chunks(1);
        assert_eq!(one.len(), 5);
    }
}

//! The scanner: one text, left to right, into lowercase words and sentence/paragraph
//! markers, by the rules of `tests/tokenize_reference.py`:
//!
//! - a word is a letter then letters and combining marks, `\p{L}[\p{L}\p{M}]*`, read on
//!   the lowercased text (full lowercase, with the Final_Sigma rule);
//! - a sentence end is a run of `.!?`, optional closing quotes/brackets `"'”’»)]`, then a
//!   paragraph break, one White_Space character or the end of the text; a paragraph marker
//!   when the paragraph break follows;
//! - a paragraph break is `\n[ \t\r]*\n`;
//! - everything else is skipped.
//!
//! Those are the alternatives of one leftmost-first regex; the scanner reproduces its
//! matches. The marker characters are ASCII or `”’»`, lowercase already, and no other
//! character lowercases to one of them (a test checks), so markers are read on the
//! original text and only words need lowercasing.

use std::ops::Range;

use super::unicode::{flags, is_final_sigma, LETTER, MARK};

/// Marker kinds, also the boundary levels they give the next kept word.
pub const SENTENCE: u8 = 1;
pub const PARAGRAPH: u8 = 2;

/// Receives the pieces of a text in order.
pub trait Sink {
    /// A lowercase word (valid UTF-8) read from bytes `span` of the text (the
    /// characters it was lowercased from).
    fn word(&mut self, word: &[u8], span: Range<usize>);
    /// A sentence end (`SENTENCE`) or a paragraph break (`PARAGRAPH`).
    fn marker(&mut self, kind: u8);
}

const OTHER: u8 = 0;
const UPPER: u8 = 1;
const LOWER: u8 = 2;
const END: u8 = 3;
const NEWLINE: u8 = 4;

const ASCII: [u8; 128] = {
    let mut t = [OTHER; 128];
    let mut c = 0;
    while c < 128 {
        t[c] = match c as u8 {
            b'A'..=b'Z' => UPPER,
            b'a'..=b'z' => LOWER,
            b'.' | b'!' | b'?' => END,
            b'\n' => NEWLINE,
            _ => OTHER,
        };
        c += 1;
    }
    t
};

/// The word being read, `buf[..len]`. `buf` keeps 8 bytes to spare past `len`, so
/// bytes go in by fixed-size 8-byte stores (a variable-length copy per word would cost
/// more than the rest of the word's scan).
#[derive(Default)]
pub struct Word {
    buf: Vec<u8>,
    len: usize,
    /// The bytes of the text it comes from.
    start: usize,
    end: usize,
}

impl Word {
    /// Writes 8 bytes at the end and keeps the first `n` of them.
    #[inline]
    fn put8(&mut self, bytes: [u8; 8], n: usize) {
        if self.buf.len() < self.len + 8 {
            self.buf.resize(2 * self.len + 64, 0);
        }
        self.buf[self.len..self.len + 8].copy_from_slice(&bytes);
        self.len += n;
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Hands the word to `sink`.
    #[inline]
    fn emit(&self, sink: &mut impl Sink) {
        sink.word(self.as_bytes(), self.start..self.end);
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// How many of the 8 bytes of `v` (little-endian) are ASCII letters before the first
/// other byte. Per byte, on the 7-bit value x of the byte with bit 5 set: x + 0x1F has its
/// high bit set when x >= 'a', 0xFA - x when x <= 'z', neither ever carrying into the next
/// byte.
#[inline]
fn ascii_letters(v: u64) -> usize {
    let x = (v | (0x20 * ONES)) & !HIGH;
    let at_least_a = x + (0x80 - b'a' as u64) * ONES;
    let at_most_z = (0x80 + b'z' as u64) * ONES - x;
    let letters = at_least_a & at_most_z & !v & HIGH;
    ((!letters & HIGH).trailing_zeros() / 8) as usize
}

/// The character starting at byte `i` of `text` (a char boundary) and its length.
#[inline]
fn char_at(text: &str, i: usize) -> (char, usize) {
    let c = text[i..].chars().next().expect("i < text.len()");
    (c, c.len_utf8())
}

/// Byte length of the closing quote or bracket at `i`, or 0.
#[inline]
fn closer_at(b: &[u8], i: usize) -> usize {
    match b[i] {
        b'"' | b'\'' | b')' | b']' => 1,
        0xC2 if b.get(i + 1) == Some(&0xBB) => 2, // »
        0xE2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x9D | 0x99)) => 3, // ” ’
        _ => 0,
    }
}

/// The end of the paragraph break `\n[ \t\r]*\n` starting at `i` (where `b[i] == b'\n'`).
#[inline]
fn paragraph_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\r') {
        j += 1;
    }
    (j < b.len() && b[j] == b'\n').then_some(j + 1)
}

/// Reads a sentence end whose `.!?` run starts at `i`; returns where scanning goes on.
/// Without a match the regex would fail at every position of the run and the closers
/// (none of which starts another piece), so scanning resumes after them.
#[inline]
fn sentence_end(text: &str, i: usize, sink: &mut impl Sink) -> usize {
    let b = text.as_bytes();
    let mut j = i + 1;
    while j < b.len() && matches!(b[j], b'.' | b'!' | b'?') {
        j += 1;
    }
    while j < b.len() {
        let n = closer_at(b, j);
        if n == 0 {
            break;
        }
        j += n;
    }
    if j == b.len() {
        sink.marker(SENTENCE);
        return j;
    }
    if b[j] == b'\n' {
        if let Some(end) = paragraph_end(b, j) {
            sink.marker(PARAGRAPH);
            return end;
        }
        sink.marker(SENTENCE);
        return j + 1;
    }
    let (c, n) = char_at(text, j);
    if c.is_whitespace() {
        sink.marker(SENTENCE);
        return j + n;
    }
    j
}

/// Adds one lowercased character of the source character at bytes `from` to the word
/// being read (`word`, live when `in_word`), or ends that word.
#[inline]
fn push_lower(
    c: char,
    from: Range<usize>,
    word: &mut Word,
    in_word: &mut bool,
    sink: &mut impl Sink,
) {
    let f = flags(c);
    if f & LETTER != 0 || (*in_word && f & MARK != 0) {
        if !*in_word {
            word.len = 0;
            word.start = from.start;
            *in_word = true;
        }
        let mut buf = [0u8; 8];
        let n = c.encode_utf8(&mut buf).len();
        word.put8(buf, n);
        word.end = from.end;
    } else if *in_word {
        word.emit(sink);
        *in_word = false;
    }
}

/// Scans `text`, handing its pieces to `sink`; `word` is scratch space.
pub fn scan(text: &str, word: &mut Word, sink: &mut impl Sink) {
    let b = text.as_bytes();
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            let kind = ASCII[c as usize];
            if kind == UPPER || kind == LOWER {
                if !in_word {
                    word.len = 0;
                    word.start = i;
                    in_word = true;
                }
                // ASCII letters lowercase by setting bit 5: 8 bytes at a time, of which
                // the leading letters are kept.
                while let Some(bytes) = b.get(i..i + 8) {
                    let v = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
                    let n = ascii_letters(v);
                    word.put8((v | (0x20 * ONES)).to_le_bytes(), n);
                    i += n;
                    if n < 8 {
                        break;
                    }
                }
                if i + 8 > b.len() {
                    while i < b.len() && b[i].is_ascii_alphabetic() {
                        word.put8([b[i] | 0x20; 8], 1);
                        i += 1;
                    }
                }
                word.end = i;
                continue;
            }
            if in_word {
                word.emit(sink);
                in_word = false;
            }
            i = match kind {
                END => sentence_end(text, i, sink),
                NEWLINE => match paragraph_end(b, i) {
                    Some(end) => {
                        sink.marker(PARAGRAPH);
                        end
                    }
                    None => i + 1,
                },
                _ => i + 1,
            };
        } else {
            let (ch, n) = char_at(text, i);
            if ch == 'Σ' {
                let lower = if is_final_sigma(text, i) { 'ς' } else { 'σ' };
                push_lower(lower, i..i + n, word, &mut in_word, sink);
            } else {
                for lower in ch.to_lowercase() {
                    push_lower(lower, i..i + n, word, &mut in_word, sink);
                }
            }
            i += n;
        }
    }
    if in_word {
        word.emit(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Pieces(Vec<String>, Vec<Range<usize>>);

    impl Sink for Pieces {
        fn word(&mut self, word: &[u8], span: Range<usize>) {
            self.0.push(String::from_utf8(word.to_vec()).unwrap());
            self.1.push(span);
        }
        fn marker(&mut self, kind: u8) {
            self.0
                .push(if kind == PARAGRAPH { "¶" } else { "." }.into());
        }
    }

    fn pieces(text: &str) -> Vec<String> {
        let mut sink = Pieces::default();
        scan(text, &mut Word::default(), &mut sink);
        sink.0
    }

    #[test]
    fn words_keep_the_bytes_they_come_from() {
        let text = "Ünïcode café İstanbul, OK... ΟΔΟΣ x";
        let mut sink = Pieces::default();
        scan(text, &mut Word::default(), &mut sink);
        let sources: Vec<&str> = sink.1.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(sources, ["Ünïcode", "café", "İstanbul", "OK", "ΟΔΟΣ", "x"]);
    }

    #[test]
    fn words_and_markers() {
        assert_eq!(
            pieces("The Cat sat. A dog!\n\nBirds? Yes.\n  \nEnd"),
            ["the", "cat", "sat", ".", "a", "dog", "¶", "birds", ".", "yes", "¶", "end"]
        );
        assert_eq!(
            pieces("3.14 e.g cs.cmu.edu \"stop.\" Then"),
            ["e", "g", "cs", "cmu", "edu", "stop", ".", "then"]
        );
        assert_eq!(pieces("end..."), ["end", "."]);
        assert_eq!(pieces("a.\r\nb"), ["a", ".", "b"]);
        assert_eq!(pieces("a.\n\r\nb"), ["a", "¶", "b"]);
        assert_eq!(pieces("a\n \n\nb"), ["a", "¶", "b"]);
        assert_eq!(pieces("a.»\u{2003}b"), ["a", ".", "b"]);
        assert_eq!(pieces("a.x"), ["a", "x"]);
    }

    #[test]
    fn ascii_letter_runs() {
        for (text, n) in [
            (*b"abcdefgh", 8),
            (*b"ABCxefgh", 8),
            (*b"abc defg", 3),
            (*b"@[`{Zz09", 0),
            (*b"Zz@aaaaa", 2),
            (*b"ab\xc3\xa9cdef", 2),
        ] {
            assert_eq!(ascii_letters(u64::from_le_bytes(text)), n, "{text:?}");
        }
        assert_eq!(
            pieces("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ x"),
            ["abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", "x"]
        );
    }

    #[test]
    fn unicode_words() {
        // A decomposed й (и + U+0306) stays one word; a lone mark is skipped.
        assert_eq!(pieces("Мой\u{0306} \u{0301}x"), ["мой\u{0306}", "x"]);
        assert_eq!(pieces("ΟΔΟΣ ΣΑ"), ["οδος", "σα"]);
        // İ lowercases to i + U+0307 (a mark): still one word.
        assert_eq!(pieces("İstanbul"), ["i\u{0307}stanbul"]);
        assert_eq!(pieces("日本語 😀 café"), ["日本語", "café"]);
    }

    #[test]
    fn no_other_character_lowercases_into_a_marker_character() {
        let special = |c: char| ".!?\"'”’»)]\n\r\t ".contains(c) || c.is_whitespace();
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            let lower: Vec<char> = c.to_lowercase().collect();
            if special(c) {
                assert_eq!(lower, [c], "{c:?} must lowercase to itself");
            } else {
                assert!(
                    !lower.iter().any(|&l| special(l)),
                    "{c:?} lowercases to {lower:?}"
                );
            }
        }
        assert!(!special('Σ'));
    }
}

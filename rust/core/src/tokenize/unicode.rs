//! The Unicode facts the scanner needs: is a character a letter (`\p{L}`), a combining
//! mark (`\p{M}`), cased or case-ignorable (for the Final_Sigma rule of lowercasing).
//!
//! The sets come from regex-syntax's tables, so they are the ones a Unicode regex means
//! by `\p{L}` and `\p{M}`. They are unpacked once into a two-level table (a block index per
//! 256 code points, then one byte of flags per code point of each distinct block), which
//! makes a lookup two loads instead of a binary search.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex_syntax::hir::{Class, HirKind};

pub const LETTER: u8 = 1;
pub const MARK: u8 = 2;
pub const CASED: u8 = 4;
pub const CASE_IGNORABLE: u8 = 8;

const BLOCK: usize = 256;
const N_BLOCKS: usize = (char::MAX as usize + 1) / BLOCK;

struct Tables {
    index: Vec<u16>,
    blocks: Vec<[u8; BLOCK]>,
}

fn ranges(property: &str) -> Vec<(u32, u32)> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(property)
        .expect("a Unicode property regex-syntax knows");
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        _ => unreachable!("a property parses to a Unicode class"),
    }
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut flags = vec![0u8; N_BLOCKS * BLOCK];
        for (property, flag) in [
            (r"\p{L}", LETTER),
            (r"\p{M}", MARK),
            (r"\p{Cased}", CASED),
            (r"\p{Case_Ignorable}", CASE_IGNORABLE),
        ] {
            for (start, end) in ranges(property) {
                for f in &mut flags[start as usize..=end as usize] {
                    *f |= flag;
                }
            }
        }
        let mut seen: HashMap<[u8; BLOCK], u16> = HashMap::new();
        let mut blocks = Vec::new();
        let index = flags
            .chunks_exact(BLOCK)
            .map(|chunk| {
                let block: [u8; BLOCK] = chunk.try_into().expect("chunks of BLOCK bytes");
                *seen.entry(block).or_insert_with(|| {
                    blocks.push(block);
                    (blocks.len() - 1) as u16
                })
            })
            .collect();
        Tables { index, blocks }
    })
}

/// The flags (`LETTER | MARK | CASED | CASE_IGNORABLE`) of a character.
#[inline]
pub fn flags(c: char) -> u8 {
    let t = tables();
    let cp = c as usize;
    t.blocks[t.index[cp / BLOCK] as usize][cp % BLOCK]
}

/// Whether the capital sigma starting at byte `at` of `text` lowercases to the final
/// form ς: Unicode's Final_Sigma condition, a cased letter before it and none after it,
/// case-ignorable characters skipped on both sides.
pub fn is_final_sigma(text: &str, at: usize) -> bool {
    fn cased_next(mut chars: impl Iterator<Item = char>) -> bool {
        chars
            .find(|&c| flags(c) & CASE_IGNORABLE == 0)
            .is_some_and(|c| flags(c) & CASED != 0)
    }
    cased_next(text[..at].chars().rev()) && !cased_next(text[at + 'Σ'.len_utf8()..].chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_some_characters() {
        assert_eq!(flags('a') & (LETTER | MARK), LETTER);
        assert_eq!(flags('Ж') & LETTER, LETTER);
        assert_eq!(flags('\u{0306}') & (LETTER | MARK), MARK);
        assert_eq!(flags('1') & (LETTER | MARK), 0);
        assert_eq!(flags('字') & LETTER, LETTER);
        assert_eq!(flags('😀') & (LETTER | MARK), 0);
        assert_ne!(flags('\'') & CASE_IGNORABLE, 0);
        assert_ne!(flags('Σ') & CASED, 0);
    }

    #[test]
    fn table_agrees_with_the_ranges_everywhere() {
        let letters = ranges(r"\p{L}");
        let is_letter = |cp: u32| letters.iter().any(|&(a, b)| a <= cp && cp <= b);
        for cp in (0..=char::MAX as u32).step_by(7) {
            if let Some(c) = char::from_u32(cp) {
                assert_eq!(flags(c) & LETTER != 0, is_letter(cp), "U+{cp:04X}");
            }
        }
    }

    #[test]
    fn final_sigma_needs_a_cased_letter_before_and_none_after() {
        let s = "ΟΔΟΣ";
        assert!(is_final_sigma(s, s.len() - 2));
        let s = "ΣΑ";
        assert!(!is_final_sigma(s, 0));
        let s = "Α'Σ'";
        assert!(is_final_sigma(s, 3));
        let s = "ΑΣ'Β";
        assert!(!is_final_sigma(s, 2));
        let s = "1Σ";
        assert!(!is_final_sigma(s, 1));
    }
}

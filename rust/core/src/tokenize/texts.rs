//! A column of texts as the buffers of Arrow string arrays (Utf8, LargeUtf8, Utf8View,
//! or an all-null column), borrowed, never copied. A null text reads as an empty text.
//! The constructors check the buffers once, so reading a text afterwards cannot go out
//! of bounds; UTF-8 is checked per text by the tokenizer.

use crate::error::{Error, Result};

/// The validity bitmap of an Arrow array: text i is present when bit `offset + i` of
/// `bits` (least significant bit first) is set.
#[derive(Clone, Copy, Debug)]
struct Validity<'a> {
    bits: &'a [u8],
    offset: usize,
}

impl Validity<'_> {
    #[inline]
    fn is_valid(&self, i: usize) -> bool {
        let k = self.offset + i;
        self.bits[k / 8] >> (k % 8) & 1 == 1
    }
}

#[derive(Debug)]
enum Layout<'a> {
    Null,
    Utf8 {
        offsets: &'a [i32],
        data: &'a [u8],
    },
    LargeUtf8 {
        offsets: &'a [i64],
        data: &'a [u8],
    },
    /// 16 bytes per text: the length (u32 LE); then up to 12 inline bytes, or a 4-byte
    /// prefix, the buffer index and the offset into that buffer (u32 LE each).
    Views {
        views: &'a [u8],
        buffers: Vec<&'a [u8]>,
    },
}

/// One Arrow string array.
#[derive(Debug)]
pub struct TextChunk<'a> {
    layout: Layout<'a>,
    len: usize,
    validity: Option<Validity<'a>>,
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as usize
}

fn check_offsets<T: Copy + Into<i64>>(offsets: &[T], data_len: usize) -> Result<()> {
    let Some(&first) = offsets.first() else {
        return Err(Error::Shape(
            "a string array needs at least one offset".into(),
        ));
    };
    if first.into() < 0 {
        return Err(Error::Value("string offsets must not be negative".into()));
    }
    if offsets.windows(2).any(|w| w[1].into() < w[0].into()) {
        return Err(Error::Value("string offsets must be non-decreasing".into()));
    }
    if offsets[offsets.len() - 1].into() as u64 > data_len as u64 {
        return Err(Error::Shape(
            "string offsets point past the end of the data".into(),
        ));
    }
    Ok(())
}

impl<'a> TextChunk<'a> {
    fn with_validity(
        layout: Layout<'a>,
        len: usize,
        validity: Option<(&'a [u8], usize)>,
    ) -> Result<Self> {
        let validity = validity.map(|(bits, offset)| Validity { bits, offset });
        if let Some(v) = validity {
            if (v.offset + len).div_ceil(8) > v.bits.len() {
                return Err(Error::Shape(format!(
                    "the validity bitmap ({} bytes) is too short for {len} texts at bit \
                     offset {}",
                    v.bits.len(),
                    v.offset
                )));
            }
        }
        Ok(TextChunk {
            layout,
            len,
            validity,
        })
    }

    /// `len` null texts (an Arrow Null array).
    pub fn null(len: usize) -> Self {
        TextChunk {
            layout: Layout::Null,
            len,
            validity: None,
        }
    }

    /// A Utf8 array: text i is `data[offsets[i]..offsets[i + 1]]`.
    pub fn utf8(
        offsets: &'a [i32],
        data: &'a [u8],
        validity: Option<(&'a [u8], usize)>,
    ) -> Result<Self> {
        check_offsets(offsets, data.len())?;
        Self::with_validity(Layout::Utf8 { offsets, data }, offsets.len() - 1, validity)
    }

    /// A LargeUtf8 array: text i is `data[offsets[i]..offsets[i + 1]]`.
    pub fn large_utf8(
        offsets: &'a [i64],
        data: &'a [u8],
        validity: Option<(&'a [u8], usize)>,
    ) -> Result<Self> {
        check_offsets(offsets, data.len())?;
        Self::with_validity(
            Layout::LargeUtf8 { offsets, data },
            offsets.len() - 1,
            validity,
        )
    }

    /// A Utf8View array: `views` holds the 16-byte views, `buffers` the data buffers.
    pub fn utf8_view(
        views: &'a [u8],
        buffers: Vec<&'a [u8]>,
        validity: Option<(&'a [u8], usize)>,
    ) -> Result<Self> {
        if !views.len().is_multiple_of(16) {
            return Err(Error::Shape(format!(
                "string views take 16 bytes each; got {} bytes",
                views.len()
            )));
        }
        let chunk =
            Self::with_validity(Layout::Views { views, buffers }, views.len() / 16, validity)?;
        if let Layout::Views { views, buffers } = &chunk.layout {
            for i in 0..chunk.len {
                if !chunk.is_valid(i) {
                    continue;
                }
                let view = &views[16 * i..16 * i + 16];
                let len = u32_at(view, 0);
                if len <= 12 {
                    continue;
                }
                let (buffer, offset) = (u32_at(view, 8), u32_at(view, 12));
                if buffers.get(buffer).is_none_or(|b| offset + len > b.len()) {
                    return Err(Error::Value(format!(
                        "string view {i} points outside the data buffers"
                    )));
                }
            }
        }
        Ok(chunk)
    }

    /// The number of texts.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no texts.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn is_valid(&self, i: usize) -> bool {
        self.validity.is_none_or(|v| v.is_valid(i))
    }

    /// The bytes of text `i` (empty for a null text).
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        if !self.is_valid(i) {
            return &[];
        }
        match &self.layout {
            Layout::Null => &[],
            Layout::Utf8 { offsets, data } => &data[offsets[i] as usize..offsets[i + 1] as usize],
            Layout::LargeUtf8 { offsets, data } => {
                &data[offsets[i] as usize..offsets[i + 1] as usize]
            }
            Layout::Views { views, buffers } => {
                let view: &'a [u8] = &views[16 * i..16 * i + 16];
                let len = u32_at(view, 0);
                if len <= 12 {
                    &view[4..4 + len]
                } else {
                    let (buffer, offset) = (u32_at(view, 8), u32_at(view, 12));
                    &buffers[buffer][offset..offset + len]
                }
            }
        }
    }

    /// The byte length of text `i`.
    #[inline]
    pub fn byte_len(&self, i: usize) -> usize {
        self.get(i).len()
    }
}

/// A column of texts: one or more string arrays, one after the other.
#[derive(Debug, Default)]
pub struct Texts<'a> {
    chunks: Vec<TextChunk<'a>>,
    len: usize,
}

impl<'a> Texts<'a> {
    pub fn new(chunks: Vec<TextChunk<'a>>) -> Self {
        let len = chunks.iter().map(TextChunk::len).sum();
        Texts { chunks, len }
    }

    /// The number of texts.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the column has no texts.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn chunks(&self) -> &[TextChunk<'a>] {
        &self.chunks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_nulls() {
        let data = b"helloworld";
        let c = TextChunk::utf8(&[0, 5, 5, 10], data, Some((&[0b101], 0))).unwrap();
        assert_eq!(
            (c.get(0), c.get(1), c.get(2)),
            (&b"hello"[..], &b""[..], &b"world"[..])
        );
        let c = TextChunk::large_utf8(&[5, 10], data, Some((&[0b10], 1))).unwrap();
        assert_eq!(c.get(0), b"world");

        let long = b"a text longer than twelve bytes";
        let mut views = Vec::new();
        views.extend_from_slice(&3u32.to_le_bytes());
        views.extend_from_slice(b"abc\0\0\0\0\0\0\0\0\0");
        views.extend_from_slice(&(long.len() as u32).to_le_bytes());
        views.extend_from_slice(&long[..4]);
        views.extend_from_slice(&0u32.to_le_bytes());
        views.extend_from_slice(&0u32.to_le_bytes());
        let c = TextChunk::utf8_view(&views, vec![long], None).unwrap();
        assert_eq!((c.get(0), c.get(1)), (&b"abc"[..], &long[..]));
        assert!(TextChunk::utf8_view(&views, vec![b"short"], None).is_err());
        assert_eq!(TextChunk::null(2).get(1), b"");
    }

    #[test]
    fn rejects_bad_buffers() {
        assert!(TextChunk::utf8(&[0, 4], b"abc", None).is_err());
        assert!(TextChunk::utf8(&[2, 1], b"abc", None).is_err());
        assert!(TextChunk::utf8(&[], b"abc", None).is_err());
        assert!(TextChunk::utf8(&[0, 1, 2, 3], b"abc", Some((&[], 0))).is_err());
        assert!(TextChunk::utf8_view(&[0; 15], vec![], None).is_err());
    }
}

//! The tokenizer's Python classes: text columns come in as Arrow string arrays (a polars
//! Series, a pyarrow array or chunked array: anything with `__arrow_c_stream__` or
//! `__arrow_c_array__`), read in place; results go out as numpy arrays, or as an Arrow
//! list array for a polars expression.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, LargeListArray, UInt32Array};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field};
use attartm_core::{TextChunk, Texts, Tokens};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3_arrow::{PyArray as ArrowArray, PyChunkedArray};

use crate::runtime::run;

/// The Arrow arrays of a text column, checked to hold strings.
fn text_arrays(obj: &Bound<'_, PyAny>) -> PyResult<Vec<ArrayRef>> {
    let chunks = if obj.hasattr("__arrow_c_stream__")? {
        let chunked: PyChunkedArray = obj.extract()?;
        chunked.into_inner().0
    } else if obj.hasattr("__arrow_c_array__")? {
        let array: ArrowArray = obj.extract()?;
        vec![array.into_inner().0]
    } else {
        return Err(PyTypeError::new_err(format!(
            "texts must be a polars Series of strings or an Arrow string array, not {}",
            obj.get_type().name()?
        )));
    };
    for c in &chunks {
        if !matches!(
            c.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        ) {
            return Err(PyTypeError::new_err(format!(
                "texts must hold strings, but the Arrow data has type {}; cast them first \
                 (polars: .cast(pl.String))",
                c.data_type()
            )));
        }
    }
    Ok(chunks)
}

/// The arrays' buffers as a core text column (checked once, then read in place).
fn texts_of(chunks: &[ArrayRef]) -> PyResult<Texts<'_>> {
    let mut out = Vec::with_capacity(chunks.len());
    for c in chunks {
        let validity = c.nulls().map(|n| (n.buffer().as_slice(), n.offset()));
        let chunk = match c.data_type() {
            DataType::Utf8 => {
                let a = c.as_string::<i32>();
                TextChunk::utf8(a.value_offsets(), a.values().as_slice(), validity)
            }
            DataType::LargeUtf8 => {
                let a = c.as_string::<i64>();
                TextChunk::large_utf8(a.value_offsets(), a.values().as_slice(), validity)
            }
            DataType::Utf8View => {
                let a = c.as_string_view();
                let buffers = a.data_buffers().iter().map(|b| b.as_slice()).collect();
                TextChunk::utf8_view(a.views().inner().as_slice(), buffers, validity)
            }
            _ => Ok(TextChunk::null(c.len())),
        };
        out.push(chunk.map_err(|e| PyValueError::new_err(format!("invalid Arrow texts: {e}")))?);
    }
    Ok(Texts::new(out))
}

type TokenArrays<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<i64>>,
);

type SpanArrays<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
);

/// The arrays of `Tokenizer.tokenize`, and the character spans of the tokens (empty
/// unless they were asked for).
fn token_arrays(py: Python<'_>, t: Tokens) -> (TokenArrays<'_>, (Vec<i64>, Vec<i64>)) {
    let arrays = (
        t.ids.into_pyarray(py),
        t.offsets.into_pyarray(py),
        t.boundaries.into_pyarray(py),
        t.unknown.into_pyarray(py),
    );
    (arrays, (t.starts, t.ends))
}

/// Words to token ids for one vocabulary and stopword list; see `attartm._core.Tokenizer`.
#[pyclass(frozen, module = "attartm._core")]
pub struct Tokenizer {
    inner: attartm_core::Tokenizer,
}

impl Tokenizer {
    fn run(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<Tokens> {
        self.run_with(py, texts, threads, false)
    }

    /// [`Tokenizer::run`], with the character spans of the tokens when `spans`.
    fn run_with(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        threads: Option<usize>,
        spans: bool,
    ) -> PyResult<Tokens> {
        let arrays = text_arrays(texts)?;
        let column = texts_of(&arrays)?;
        run(py, threads, || {
            if spans {
                self.inner.tokenize_spans(&column)
            } else {
                self.inner.tokenize(&column)
            }
        })
    }
}

#[pymethods]
impl Tokenizer {
    #[new]
    fn new(vocabulary: Vec<String>, stopwords: Vec<String>) -> PyResult<Self> {
        let inner = attartm_core::Tokenizer::new(
            vocabulary.iter().map(String::as_str),
            stopwords.iter().map(String::as_str),
        )
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Tokenizer { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.n_words()
    }

    /// (token ids, doc offsets, boundaries, unknown words per document).
    #[pyo3(signature = (texts, *, threads=None))]
    fn tokenize<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<TokenArrays<'py>> {
        let t = self.run(py, texts, threads)?;
        Ok(token_arrays(py, t).0)
    }

    /// (token ids, doc offsets, boundaries, unknown words per document, character
    /// starts, character ends): the last two give the span of each token's source
    /// characters within its text.
    #[pyo3(signature = (texts, *, threads=None))]
    fn tokenize_spans<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<SpanArrays<'py>> {
        let t = self.run_with(py, texts, threads, true)?;
        let ((ids, offsets, boundaries, unknown), (starts, ends)) = token_arrays(py, t);
        Ok((
            ids,
            offsets,
            boundaries,
            unknown,
            starts.into_pyarray(py),
            ends.into_pyarray(py),
        ))
    }

    /// The token ids of each text as an Arrow LargeList<UInt32> array.
    #[pyo3(signature = (texts, *, threads=None))]
    fn token_lists(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<ArrowArray> {
        let t = self.run(py, texts, threads)?;
        let values = UInt32Array::from(t.ids);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(t.offsets));
        let field = Arc::new(Field::new_list_field(DataType::UInt32, true));
        let list = LargeListArray::try_new(field, offsets, Arc::new(values), None)
            .map_err(|e| PyValueError::new_err(format!("internal list error: {e}")))?;
        Ok(ArrowArray::from_array_ref(Arc::new(list)))
    }
}

/// Word counts and document frequencies over batches of texts; see
/// `attartm._core.WordCounter`.
#[pyclass(module = "attartm._core")]
pub struct WordCounter {
    inner: attartm_core::WordCounter,
}

#[pymethods]
impl WordCounter {
    #[new]
    fn new(stopwords: Vec<String>) -> Self {
        WordCounter {
            inner: attartm_core::WordCounter::new(stopwords.iter().map(String::as_str)),
        }
    }

    #[getter]
    fn n_documents(&self) -> u64 {
        self.inner.n_documents()
    }

    #[getter]
    fn n_words(&self) -> u64 {
        self.inner.n_words()
    }

    fn __len__(&self) -> usize {
        self.inner.n_distinct()
    }

    /// Counts the words of a batch of texts.
    #[pyo3(signature = (texts, *, threads=None))]
    fn update(
        &mut self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<()> {
        let arrays = text_arrays(texts)?;
        let column = texts_of(&arrays)?;
        let inner = &mut self.inner;
        run(py, threads, || inner.add(&column))
    }

    /// The words in [min_docs, max_docs] documents, most frequent first (ties bytewise).
    #[pyo3(signature = (min_docs, max_docs, max_words=None))]
    fn most_frequent(&self, min_docs: f64, max_docs: f64, max_words: Option<usize>) -> Vec<String> {
        self.inner.most_frequent(min_docs, max_docs, max_words)
    }
}

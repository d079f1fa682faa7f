//! Reading array arguments in place: numpy arrays through the buffer they own, and Arrow
//! arrays (polars Series, pyarrow arrays, anything with `__arrow_c_stream__` or
//! `__arrow_c_array__`) through the Arrow PyCapsule interface. A single contiguous chunk
//! is borrowed, never copied.

use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use numpy::{PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3_arrow::{PyArray as ArrowArray, PyChunkedArray};

/// Token ids borrowed from numpy or Arrow memory (or, for many Arrow chunks, joined once).
pub enum TokenIds<'py> {
    Numpy(PyReadonlyArray1<'py, u32>),
    Arrow(ArrayRef),
    Owned(Vec<u32>),
}

impl TokenIds<'_> {
    pub fn as_slice(&self) -> &[u32] {
        match self {
            TokenIds::Numpy(a) => a.as_slice().expect("checked contiguous on extraction"),
            TokenIds::Arrow(a) => a.as_primitive::<UInt32Type>().values(),
            TokenIds::Owned(v) => v,
        }
    }
}

fn arrow_u32_chunk(name: &str, chunk: &ArrayRef) -> PyResult<()> {
    if chunk.data_type() != &DataType::UInt32 {
        return Err(PyTypeError::new_err(format!(
            "{name} must hold uint32 token ids, but the Arrow data has type {}; cast it first \
             (polars: .cast(pl.UInt32), numpy: .astype(np.uint32))",
            chunk.data_type()
        )));
    }
    if chunk.null_count() > 0 {
        return Err(PyValueError::new_err(format!(
            "{name} has {} null values; drop or fill them first",
            chunk.null_count()
        )));
    }
    Ok(())
}

fn from_chunks<'py>(name: &str, chunks: Vec<ArrayRef>) -> PyResult<TokenIds<'py>> {
    for c in &chunks {
        arrow_u32_chunk(name, c)?;
    }
    if chunks.len() == 1 {
        return Ok(TokenIds::Arrow(chunks.into_iter().next().unwrap()));
    }
    let mut joined = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    for c in &chunks {
        joined.extend_from_slice(c.as_primitive::<UInt32Type>().values());
    }
    Ok(TokenIds::Owned(joined))
}

/// Extracts a 1-D array of u32 token ids without copying it.
pub fn token_ids<'py>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<TokenIds<'py>> {
    if let Ok(arr) = obj.cast::<numpy::PyArray1<u32>>() {
        let ro = arr.try_readonly()?;
        if ro.as_slice().is_err() {
            return Err(PyValueError::new_err(format!(
                "{name} must be a contiguous array; pass np.ascontiguousarray({name})"
            )));
        }
        return Ok(TokenIds::Numpy(ro));
    }
    if obj.hasattr("__arrow_c_stream__")? {
        let chunked: PyChunkedArray = obj.extract()?;
        return from_chunks(name, chunked.into_inner().0);
    }
    if obj.hasattr("__arrow_c_array__")? {
        let array: ArrowArray = obj.extract()?;
        return from_chunks(name, vec![array.into_inner().0]);
    }
    if let Ok(arr) = obj.cast::<numpy::PyUntypedArray>() {
        if arr.ndim() != 1 {
            return Err(PyValueError::new_err(format!(
                "{name} must be a 1-D array, but has shape {:?}",
                arr.shape()
            )));
        }
        return Err(PyTypeError::new_err(format!(
            "{name} must have dtype uint32, but has dtype {} (shape {:?}); \
             convert with .astype(np.uint32)",
            arr.dtype(),
            arr.shape()
        )));
    }
    Err(PyTypeError::new_err(format!(
        "{name} must be a 1-D uint32 numpy array, a polars Series or an Arrow array, \
         not {}",
        obj.get_type().name()?
    )))
}

/// Extracts a contiguous 1-D numpy array of a given element type.
pub fn vector<'py, T: numpy::Element>(
    name: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    let arr = obj.cast::<numpy::PyArray1<T>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a 1-D numpy array of {}",
            std::any::type_name::<T>()
        ))
    })?;
    let ro = arr.try_readonly()?;
    if ro.as_slice().is_err() {
        return Err(PyValueError::new_err(format!(
            "{name} must be contiguous; pass np.ascontiguousarray({name})"
        )));
    }
    Ok(ro)
}

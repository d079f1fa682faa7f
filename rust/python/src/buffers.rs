//! Reading array arguments: numpy arrays through the buffer they own, and Arrow arrays
//! (polars Series, pyarrow arrays, anything with `__arrow_c_stream__` or
//! `__arrow_c_array__`) through the Arrow PyCapsule interface. A single contiguous Arrow
//! chunk is borrowed, never copied (Arrow memory is immutable once shared).
//!
//! The core reads its inputs with the GIL released, so another Python thread could write
//! into a numpy array meanwhile (and change a token id after it was checked). The core
//! never reads memory that Python may write during the call:
//!
//! * a read-only array whose memory only numpy arrays reach (a polars or Arrow view, a
//!   read-only view of another array) is read in place, and the writable arrays it views
//!   are made read-only for the call;
//! * a writable array of at most [`COPY_BYTES`] is copied (cheap, and safe from every
//!   view of its memory);
//! * a larger writable array is made read-only for the duration of the call, with the
//!   arrays it is a view of, and its flags are restored when the last call reading it
//!   ends; a write from another thread meanwhile raises numpy's "assignment destination
//!   is read-only";
//! * memory owned by something else that Python can write (a `bytearray`, a writable
//!   `mmap`, ...) is copied whatever its size.
//!
//! An array the core writes (`into=`, the model's n_wt and Φ in the online update) is
//! made read-only the same way while the core writes it.
//!
//! What freezing cannot reach: another view of the same memory made before the call (a
//! sibling, `b = a[:]`, rather than an array `a` views) keeps its own flag, and Python
//! code may set a flag back to writable. Those writes are the caller's doing; the core
//! indexes with bounds checks, so they can change a result (or end in a RuntimeError)
//! but not make it read outside its inputs.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use numpy::ndarray::{Dimension, Ix1, Ix2};
use numpy::npyffi::{self, NPY_ARRAY_OWNDATA, NPY_ARRAY_WRITEABLE};
use numpy::{
    Element, PyArray, PyArrayMethods, PyReadonlyArray, PyReadwriteArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3_arrow::{PyArray as ArrowArray, PyChunkedArray};

/// A writable input up to this size is copied rather than made read-only for the call.
pub const COPY_BYTES: usize = 1 << 20;

/// Arrays made read-only by the calls in flight (by address), with how many calls hold
/// each: the last one to end restores the flag. Only touched with the GIL held.
fn frozen_counts() -> std::sync::MutexGuard<'static, HashMap<usize, usize>> {
    static FROZEN: OnceLock<Mutex<HashMap<usize, usize>>> = OnceLock::new();
    FROZEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn fields(obj: &Bound<'_, PyAny>) -> *mut npyffi::PyArrayObject {
    obj.as_ptr() as *mut npyffi::PyArrayObject
}

/// numpy arrays that this call made read-only (or found made read-only by another call
/// in flight); dropping it, with the GIL held, restores them.
pub struct Frozen<'py> {
    arrays: Vec<Bound<'py, PyAny>>,
}

impl<'py> Frozen<'py> {
    /// Makes every writable numpy array of `chain` read-only (see [`owners`]).
    fn new(chain: Vec<Bound<'py, PyAny>>) -> Self {
        let mut counts = frozen_counts();
        let mut arrays = Vec::new();
        for a in chain {
            let key = a.as_ptr() as usize;
            // SAFETY: `a` is a numpy array (checked by `owners`), alive while held here,
            // and its flags are only changed with the GIL held, as numpy itself does.
            let flags = unsafe { &mut (*fields(&a)).fields.flags };
            if let Some(n) = counts.get_mut(&key) {
                *n += 1;
            } else if *flags & NPY_ARRAY_WRITEABLE != 0 {
                *flags &= !NPY_ARRAY_WRITEABLE;
                counts.insert(key, 1);
            } else {
                continue; // read-only by its owner: nothing to restore
            }
            arrays.push(a);
        }
        Frozen { arrays }
    }
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        let mut counts = frozen_counts();
        for a in self.arrays.iter().rev() {
            let key = a.as_ptr() as usize;
            let n = counts.get_mut(&key).expect("a frozen array is counted");
            *n -= 1;
            if *n == 0 {
                counts.remove(&key);
                // SAFETY: as in `Frozen::new`; the flag was set when this array was frozen.
                unsafe { (*fields(a)).fields.flags |= NPY_ARRAY_WRITEABLE };
            }
        }
    }
}

/// The numpy arrays through which Python reaches the memory of `array` (the array, the
/// array it views, and so on), or None when something else that Python can write owns
/// that memory (a `bytearray`, a writable `mmap`, an array without an owner).
fn owners<'py>(array: &Bound<'py, PyAny>) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
    let py = array.py();
    let mut chain = vec![array.clone()];
    loop {
        let last = chain.last().expect("the chain starts with the array");
        // SAFETY: every element of the chain is a numpy array (checked below).
        let (base, flags) = unsafe {
            let f = &(*fields(last)).fields;
            (f.base, f.flags)
        };
        if base.is_null() {
            return Ok((flags & NPY_ARRAY_OWNDATA != 0).then_some(chain));
        }
        // SAFETY: `base` is a live reference held by the array.
        let base = unsafe { Bound::from_borrowed_ptr(py, base) };
        // SAFETY: a type check on a live object.
        if unsafe { npyffi::array::PyArray_Check(py, base.as_ptr()) } != 0 {
            chain.push(base);
            continue;
        }
        // A foreign owner: only a writable buffer lets Python write its memory.
        let writable = match py
            .import("builtins")?
            .getattr("memoryview")?
            .call1((&base,))
        {
            Ok(view) => {
                let readonly: bool = view.getattr("readonly")?.extract()?;
                view.call_method0("release")?;
                !readonly
            }
            Err(_) => false,
        };
        return Ok((!writable).then_some(chain));
    }
}

/// A numpy array as the core reads it: in place (kept from Python's writes for the call)
/// or a private copy.
pub enum Held<'py, T: Element, D: Dimension> {
    InPlace {
        array: PyReadonlyArray<'py, T, D>,
        _frozen: Frozen<'py>,
    },
    Copied(Vec<T>),
}

impl<T: Element, D: Dimension> Held<'_, T, D> {
    pub fn as_slice(&self) -> &[T] {
        match self {
            Held::InPlace { array, .. } => array.as_slice().expect("checked contiguous when held"),
            Held::Copied(v) => v,
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }
}

/// Holds a C-contiguous numpy array for the core to read (see the module's documentation).
pub fn hold<'py, T: Element + Copy, D: Dimension>(
    name: &str,
    array: &Bound<'py, PyArray<T, D>>,
) -> PyResult<Held<'py, T, D>> {
    let ro = array.try_readonly()?;
    let values = ro.as_slice().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be C-contiguous; pass np.ascontiguousarray({name})"
        ))
    })?;
    // SAFETY: reading the flags of a live numpy array with the GIL held.
    let writable = unsafe { (*array.as_array_ptr()).fields.flags } & NPY_ARRAY_WRITEABLE != 0;
    let small = std::mem::size_of_val(values) <= COPY_BYTES;
    match owners(array.as_any())? {
        Some(chain) if !(writable && small) => Ok(Held::InPlace {
            array: ro,
            _frozen: Frozen::new(chain),
        }),
        _ => Ok(Held::Copied(values.to_vec())),
    }
}

/// A numpy array the core writes in place, read-only to Python meanwhile.
pub struct Written<'py, T: Element, D: Dimension> {
    array: PyReadwriteArray<'py, T, D>,
    _frozen: Frozen<'py>,
}

impl<T: Element, D: Dimension> Written<'_, T, D> {
    pub fn as_slice_mut(&mut self) -> &mut [T] {
        self.array
            .as_slice_mut()
            .expect("checked contiguous when held")
    }
}

/// Holds a writable C-contiguous numpy array for the core to write.
pub fn hold_mut<'py, T: Element, D: Dimension>(
    name: &str,
    array: &Bound<'py, PyArray<T, D>>,
) -> PyResult<Written<'py, T, D>> {
    let rw = array.try_readwrite()?;
    if rw.as_slice().is_err() {
        return Err(PyValueError::new_err(format!(
            "{name} must be C-contiguous"
        )));
    }
    // Whatever owns the memory, the arrays Python reaches it through are made read-only.
    let chain = owners(array.as_any())?.unwrap_or_else(|| vec![array.as_any().clone()]);
    Ok(Written {
        array: rw,
        _frozen: Frozen::new(chain),
    })
}

/// Token ids read in place from Arrow memory or a held numpy array (or, for many Arrow
/// chunks, joined once).
pub enum TokenIds<'py> {
    Numpy(Held<'py, u32, Ix1>),
    Arrow(ArrayRef),
    Owned(Vec<u32>),
}

impl TokenIds<'_> {
    pub fn as_slice(&self) -> &[u32] {
        match self {
            TokenIds::Numpy(a) => a.as_slice(),
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

/// Extracts a 1-D array of u32 token ids (see the module's documentation).
pub fn token_ids<'py>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<TokenIds<'py>> {
    if let Ok(arr) = obj.cast::<numpy::PyArray1<u32>>() {
        return Ok(TokenIds::Numpy(hold(name, arr)?));
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

/// `obj` as a 1-D numpy array of `T`, or a TypeError naming it.
fn array1<'a, 'py, T: Element>(
    name: &str,
    obj: &'a Bound<'py, PyAny>,
) -> PyResult<&'a Bound<'py, numpy::PyArray1<T>>> {
    obj.cast::<numpy::PyArray1<T>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a 1-D numpy array of {}",
            std::any::type_name::<T>()
        ))
    })
}

/// Extracts a contiguous 1-D numpy array of a given element type.
pub fn vector<'py, T: Element + Copy>(
    name: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Held<'py, T, Ix1>> {
    hold(name, array1(name, obj)?)
}

/// A contiguous 1-D numpy array of a given element type, held for writing.
pub fn vector_mut<'py, T: Element>(
    name: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Written<'py, T, Ix1>> {
    hold_mut(name, array1(name, obj)?)
}

/// A C-contiguous (row-major) 2-D numpy array of `T`.
pub fn c_array<'a, 'py, T: Element>(
    name: &str,
    obj: &'a Bound<'py, PyAny>,
) -> PyResult<&'a Bound<'py, PyArray<T, Ix2>>> {
    let arr = obj.cast::<PyArray<T, Ix2>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a 2-D numpy array of {}",
            std::any::type_name::<T>()
        ))
    })?;
    // A Fortran-ordered array is contiguous too, but its rows are not.
    if !arr.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name} must be C-contiguous (row-major); pass np.ascontiguousarray({name})"
        )));
    }
    Ok(arr)
}

/// A row-major matrix held for reading, with its shape.
pub fn matrix<'py, T: Element + Copy>(
    name: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<(Held<'py, T, Ix2>, [usize; 2])> {
    let arr = c_array::<T>(name, obj)?;
    let shape = [arr.shape()[0], arr.shape()[1]];
    Ok((hold(name, arr)?, shape))
}

/// A row-major matrix held for writing, with its shape.
pub fn matrix_mut<'py, T: Element>(
    name: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<(Written<'py, T, Ix2>, [usize; 2])> {
    let arr = c_array::<T>(name, obj)?;
    let shape = [arr.shape()[0], arr.shape()[1]];
    Ok((hold_mut(name, arr)?, shape))
}

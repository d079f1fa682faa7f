//! Large zeroed output buffers that fail with an error rather than an abort.
//!
//! The size of an output follows from the input (tokens × topics, words × topics), so it
//! can be anything: where `vec!` would abort the process when the allocator refuses, these
//! buffers return [`Error::Memory`] naming the size that was asked.
//!
//! They are not marked for transparent huge pages (MADV_HUGEPAGE): where the system
//! compacts memory on a huge-page fault of a marked region (`defrag` = `madvise`, a common
//! default), a fresh output of hundreds of megabytes stalled on it. Measured on the
//! project's 2-core virtual machine (README, "Corpora larger than memory, and Ray"): three top-3
//! outputs of 175 MB in one process took 3.7 s of system time with the advice, 0.6 s without.

use std::alloc::{alloc_zeroed, Layout};

use crate::error::{Error, Result};

/// Numbers whose all-zero bit pattern is the value 0.
pub trait Zero: Copy {}
impl Zero for f32 {}
impl Zero for f64 {}
impl Zero for u16 {}
impl Zero for u32 {}

/// The bytes of an array of `dims` values of `item` bytes each (None past 2^64), and
/// how an error says it: "N bytes (a×b values of `item` bytes)".
pub fn array_size(dims: &[usize], item: usize) -> (Option<usize>, String) {
    let bytes = dims.iter().try_fold(item, |acc, &d| acc.checked_mul(d));
    let shape = dims
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×");
    let size = bytes.map_or_else(|| "more than 2^64".to_string(), |b| b.to_string());
    (
        bytes,
        format!("{size} bytes ({shape} values of {item} bytes)"),
    )
}

/// A zero-filled vector of `dims` elements (their product), or `Error::Memory` naming
/// `what` and the size when it cannot be allocated.
pub fn zeroed<T: Zero>(what: &str, dims: &[usize]) -> Result<Vec<T>> {
    let refused = || {
        let size = array_size(dims, std::mem::size_of::<T>()).1;
        Error::Memory(format!(
            "{what} would take {size}, which could not be allocated"
        ))
    };
    let len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let Some((len, layout)) = len.and_then(|n| Some((n, Layout::array::<T>(n).ok()?))) else {
        return Err(refused());
    };
    if layout.size() == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: the layout has a non-zero size. A non-null result is an allocation of the
    // global allocator with the layout of a Vec<T> of capacity `len`, and every element
    // is initialized: its bytes are zero, which for every `Zero` type is the value 0.
    unsafe {
        let ptr = alloc_zeroed(layout).cast::<T>();
        if ptr.is_null() {
            return Err(refused());
        }
        Ok(Vec::from_raw_parts(ptr, len, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_buffers_are_zero() {
        let v: Vec<f32> = zeroed("v", &[5 << 20]).unwrap();
        assert!(v.iter().all(|&x| x == 0.0));
        let w: Vec<f64> = zeroed("w", &[3, 1]).unwrap();
        assert_eq!(w, vec![0.0; 3]);
        assert!(zeroed::<u16>("none", &[0, 7]).unwrap().is_empty());
    }

    #[test]
    fn an_impossible_size_is_an_error_not_an_abort() {
        let e = zeroed::<f32>("p", &[1 << 40, 1 << 20]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "p would take 4611686018427387904 bytes (1099511627776×1048576 values of 4 \
             bytes), which could not be allocated"
        );
        let e = zeroed::<f64>("n_wt", &[1 << 40, 1 << 30]).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("n_wt would take more than 2^64 bytes"));
    }
}

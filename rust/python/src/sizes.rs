//! Refusing, with MemoryError, an output that could never be allocated.
//!
//! The core allocates what a call returns (n×T for "tokens", n×(2T+2) for "contexts",
//! D×T for θ, W×T for dense ñ_wt) and tables sized by an argument (n_vocabulary). The
//! binding computes those sizes from the inputs before the core runs and refuses any
//! larger than this machine's physical memory, naming the size asked. An allocation under
//! that limit that still fails (memory is short) is the core's `Error::Memory`, also a
//! MemoryError naming the size, never an abort.

use attartm_core::memory::array_size;
use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;

/// This machine's physical memory in bytes (no limit where it cannot be read).
pub fn memory_limit() -> usize {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf only reads the system's configuration.
        let (pages, size) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && size > 0 {
            return (pages as usize).saturating_mul(size as usize);
        }
    }
    usize::MAX
}

/// Refuses `what`, an array of `dims` values of `item` bytes each, when it could never fit.
pub fn check(what: &str, dims: &[usize], item: usize) -> PyResult<()> {
    let limit = memory_limit();
    let (bytes, size) = array_size(dims, item);
    if bytes.is_some_and(|b| b <= limit) {
        return Ok(());
    }
    Err(PyMemoryError::new_err(format!(
        "{what} would take {size}, more than this machine's memory ({limit} bytes); pass \
         fewer tokens or documents per call"
    )))
}

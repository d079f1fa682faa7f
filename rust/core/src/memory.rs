//! Large zeroed output buffers that fault in quickly.
//!
//! A fresh buffer of hundreds of megabytes (p(t|C_i, w_i) of every token) costs more in
//! page faults than the E-step that fills it when the kernel maps it 4 KiB at a time. On
//! Linux such buffers are marked for transparent huge pages first.

/// Buffers at least this large (bytes) ask for huge pages.
const HUGE: usize = 8 << 20;

/// A zero-filled vector of `len` elements.
pub fn zeroed<T: Copy + Default>(len: usize) -> Vec<T> {
    let v = vec![T::default(); len];
    #[cfg(target_os = "linux")]
    advise_huge_pages(&v);
    v
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(v: &[T]) {
    let bytes = std::mem::size_of_val(v);
    if bytes < HUGE {
        return;
    }
    const PAGE: usize = 2 << 20;
    let start = v.as_ptr() as usize;
    let aligned = (start + PAGE - 1) & !(PAGE - 1);
    let end = (start + bytes) & !(PAGE - 1);
    if end > aligned {
        // SAFETY: the range lies inside the vector's allocation; madvise only changes
        // how the kernel backs it, never its contents. Failure is harmless (4 KiB pages).
        unsafe {
            libc::madvise(
                aligned as *mut libc::c_void,
                end - aligned,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_buffers_are_zero() {
        let v: Vec<f32> = super::zeroed(5 << 20);
        assert!(v.iter().all(|&x| x == 0.0));
        let w: Vec<f64> = super::zeroed(3);
        assert_eq!(w, vec![0.0; 3]);
    }
}

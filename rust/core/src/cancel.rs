//! Stopping a long computation early (Ctrl-C in Python).
//!
//! The caller (the binding) creates a [`Cancel`] per call and runs the computation inside
//! [`with`]; the chunked E-steps read it there ([`current`]) and check it before each
//! chunk. Once it is set, the workers take no more chunks, and the E-step returns
//! [`Error::Interrupted`] without its results (a matrix it was adding into holds part of
//! the sums: the caller restores it).
//!
//! [`Error::Interrupted`]: crate::Error::Interrupted

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A request to stop, shared by the caller and the workers.
#[derive(Debug, Default)]
pub struct Cancel(AtomicBool);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Cancel>>> = const { RefCell::new(None) };
}

/// Runs `f` with `cancel` as the request that the computations it starts on this thread
/// obey (the previous one is back afterwards, also when `f` panics).
pub fn with<T>(cancel: Arc<Cancel>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<Cancel>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.borrow_mut().replace(cancel));
    let _restore = Restore(previous);
    f()
}

/// The request in force on this thread (a fresh one, never set, outside [`with`]).
pub fn current() -> Arc<Cancel> {
    CURRENT.with(|c| c.borrow().clone()).unwrap_or_default()
}

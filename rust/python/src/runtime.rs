//! Running core work from Python: without the GIL, on a rayon pool of the requested size,
//! with core errors turned into ValueError and a panic into RuntimeError (never an abort),
//! answering Ctrl-C while it runs: the work runs on the pool while the calling thread
//! waits, and every `SIGNAL_POLL` it takes the GIL and runs Python's signal handlers. When
//! a handler raises (KeyboardInterrupt), the work's cancel request is set, the workers
//! stop before their next chunk, and the call raises what the handler raised.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use attartm_core::cancel::{self, Cancel};
use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// How often a running call looks for signals (Ctrl-C).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// More threads than this is a typo, not a machine: refuse before spawning them.
const MAX_THREADS: usize = 1024;

/// Pools kept for reuse. Each distinct `threads` value needs a pool of its own, and a
/// pool's threads live as long as it does: beyond this many, the least recently used
/// pool is dropped (its threads end once the calls still using it finish).
const MAX_POOLS: usize = 4;

/// (threads, pool), the most recently used last.
type Pools = Vec<(usize, Arc<rayon::ThreadPool>)>;

fn pool(threads: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(i) = pools.iter().position(|(n, _)| *n == threads) {
        let entry = pools.remove(i);
        let p = entry.1.clone();
        pools.push(entry);
        return Ok(p);
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start {threads} threads: {e}")))?;
    let p = Arc::new(p);
    if pools.len() == MAX_POOLS {
        pools.remove(0);
    }
    pools.push((threads, p.clone()));
    Ok(p)
}

/// Waits for the message of a job running elsewhere, running Python's signal handlers
/// every `SIGNAL_POLL`; the first error one raises sets `cancel` and comes back with the
/// message.
fn wait_answering_signals<M>(
    rx: &std::sync::mpsc::Receiver<M>,
    cancel: &Cancel,
) -> (M, Option<PyErr>) {
    let mut raised: Option<PyErr> = None;
    loop {
        match rx.recv_timeout(SIGNAL_POLL) {
            Ok(message) => return (message, raised),
            Err(RecvTimeoutError::Timeout) if raised.is_none() => {
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    cancel.cancel();
                    raised = Some(e);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                unreachable!("the job sends its message before it ends")
            }
        }
    }
}

/// Runs `work` with the GIL released on `threads` threads (None: all cores).
pub fn run<T, F>(py: Python<'_>, threads: Option<usize>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> attartm_core::Result<T> + Send,
{
    if let Some(n) = threads {
        if !(1..=MAX_THREADS).contains(&n) {
            return Err(PyValueError::new_err(format!(
                "threads must be between 1 and {MAX_THREADS} (or None for all cores), not {n}"
            )));
        }
    }
    let pool = threads.map(pool).transpose()?;
    let cancel = Arc::new(Cancel::default());
    let (outcome, raised) = py.detach(move || {
        let (tx, rx) = channel();
        let job = {
            let cancel = cancel.clone();
            move || {
                let outcome = catch_unwind(AssertUnwindSafe(move || cancel::with(cancel, work)));
                // The receiver waits for this message, so it is there to take it.
                let _ = tx.send(outcome);
            }
        };
        match pool {
            Some(p) => p.in_place_scope(|s| {
                s.spawn(move |_| job());
                wait_answering_signals(&rx, &cancel)
            }),
            None => rayon::in_place_scope(|s| {
                s.spawn(move |_| job());
                wait_answering_signals(&rx, &cancel)
            }),
        }
    });
    if let Some(e) = raised {
        return Err(e);
    }
    python_result(outcome)
}

/// Runs `work`, a short bookkeeping pass that uses no threads (the rows of one update), on
/// the calling thread with the GIL released: without the hop to a pool and back, and
/// without looking for signals (it ends within a fraction of a second anyway).
pub fn run_here<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> attartm_core::Result<T> + Send,
{
    python_result(py.detach(move || catch_unwind(AssertUnwindSafe(work))))
}

/// The outcome of core work as Python sees it: core errors as ValueError (an interrupted
/// one as KeyboardInterrupt, an output that could not be allocated as MemoryError), a
/// panic as RuntimeError.
fn python_result<T>(outcome: std::thread::Result<attartm_core::Result<T>>) -> PyResult<T> {
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(attartm_core::Error::Interrupted)) => Err(PyKeyboardInterrupt::new_err(())),
        Ok(Err(attartm_core::Error::Memory(msg))) => Err(PyMemoryError::new_err(msg)),
        Ok(Err(e)) => Err(PyValueError::new_err(e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown".into());
            Err(PyRuntimeError::new_err(format!(
                "internal error in attartm's core ({msg}); please report it with the input \
                 that caused it"
            )))
        }
    }
}

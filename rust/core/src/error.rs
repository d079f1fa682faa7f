//! The one error type of the core: every check that can fail on user input returns it,
//! so the binding turns it into a Python exception instead of a panic.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An argument has the wrong length or shape for the others.
    Shape(String),
    /// An argument holds a value the algorithm cannot use (NaN, out of range, ...).
    Value(String),
    /// The computation was cancelled (see `cancel`) before it was complete.
    Interrupted,
    /// An output could not be allocated; the message names its size.
    Memory(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(msg) | Error::Value(msg) | Error::Memory(msg) => f.write_str(msg),
            Error::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Returns `Error::Value` unless `x` is finite.
pub(crate) fn check_finite(name: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::Value(format!(
            "{name} must be finite, but element {i} is {}",
            values[i]
        ))),
    }
}

//! The core's errors as Python exceptions.

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::{import_exception, PyErr};

use nswg::persist::LoadError;
use nswg::Error;

// Defined in Python, where it is documented with the rest of the API.
import_exception!(nswg.errors, IndexFileError);
import_exception!(nswg.errors, ReadOnlyIndexError);

/// The exception for `e`. `source` names what was being read: the file, for the errors of
/// reading one, or the argument whose rows the errors about values name.
pub(crate) fn to_py(e: Error, source: Option<&str>) -> PyErr {
    match (e, source) {
        (e @ (Error::Corrupt(_) | Error::UnsupportedVersion { .. }), Some(source)) => {
            IndexFileError::new_err(format!("{source}: {e}"))
        }
        (
            e @ (Error::NonFinite { .. } | Error::OutOfRange { .. } | Error::ZeroNorm { .. }),
            Some(source),
        ) => PyValueError::new_err(format!("{source}: {e}")),
        (e @ Error::ReadOnly { .. }, _) => ReadOnlyIndexError::new_err(e.to_string()),
        (e @ Error::Interrupted, _) => PyKeyboardInterrupt::new_err(e.to_string()),
        (e @ Error::ThreadPool { .. }, _) => PyRuntimeError::new_err(e.to_string()),
        (e, _) => PyValueError::new_err(e.to_string()),
    }
}

/// The exception for a failed load of `source`: the OS's error, or [`IndexFileError`].
pub(crate) fn load_to_py(e: LoadError, source: &str) -> PyErr {
    match e {
        LoadError::Io(e) => e.into(),
        LoadError::Invalid(e) => to_py(e, Some(source)),
    }
}

/// The exception for an error of a call that reads no file.
pub(crate) fn py_err(e: Error) -> PyErr {
    to_py(e, None)
}

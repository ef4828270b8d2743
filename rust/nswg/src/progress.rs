//! Progress and cancellation of long graph constructions, shared between the threads that build
//! and one that watches (the Python binding's calling thread, which shows a progress bar and
//! turns Ctrl-C into a cancellation).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Counts the points linked so far out of those to link, and carries a request to stop.
///
/// The construction updates the counts after each batch and checks the request before and
/// during each batch; a cancelled construction returns [`crate::error::Error::Interrupted`].
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicUsize,
    total: AtomicUsize,
    cancelled: AtomicBool,
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Points linked so far.
    pub fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }

    /// Points to link; 0 until the construction starts.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Asks the construction to stop as soon as it can.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub(crate) fn start(&self, total: usize, done: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }

    pub(crate) fn set_done(&self, done: usize) {
        self.done.store(done, Ordering::Relaxed);
    }
}

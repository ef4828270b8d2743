//! Long calls run off the calling thread, so that Ctrl-C and progress reports reach Python.

use std::time::Duration;

use pyo3::prelude::*;

use nswg::Progress;

/// How long the calling thread waits, without the GIL, between two looks at a long call.
const SLICE: Duration = Duration::from_millis(50);

/// Runs `work` on a new thread while the calling thread, every [`SLICE`], checks for signals
/// and reports `progress(done, total)` when the counts changed. Python delivers Ctrl-C only
/// to the main thread, and only while it runs Python code, whereas the work runs on rayon's
/// threads: so the caller stays free to raise `KeyboardInterrupt`. An exception from either
/// cancels the work, waits for it to stop (leaving the index unchanged) and is raised.
pub(crate) fn watched<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&Progress) -> PyResult<T> + Send,
) -> PyResult<T> {
    let counts = &Progress::new();
    let caller = std::thread::current();
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let out = work(counts);
            caller.unpark();
            out
        });
        let mut reported = (0, 0);
        let report = |reported: &mut (usize, usize)| -> PyResult<()> {
            let now = (counts.done(), counts.total());
            if let Some(f) = progress.filter(|_| now.1 > 0 && now != *reported) {
                f.call1(now)?;
                *reported = now;
            }
            Ok(())
        };
        while !worker.is_finished() {
            // Returns early once the worker unparks this thread; may wake spuriously.
            py.detach(|| std::thread::park_timeout(SLICE));
            if worker.is_finished() {
                break;
            }
            if let Err(e) = py.check_signals().and_then(|()| report(&mut reported)) {
                counts.cancel();
                // The work's own outcome (most likely `Interrupted`) is superseded by `e`.
                let _ = join(py, worker);
                return Err(e);
            }
        }
        let out = join(py, worker)?;
        report(&mut reported)?;
        Ok(out)
    })
}

/// The result of a finished worker; its panic, if any, goes on unwinding here.
fn join<T: Send>(py: Python<'_>, worker: std::thread::ScopedJoinHandle<'_, T>) -> T {
    py.detach(|| worker.join())
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

//! Software prefetches: a search knows which rows and lists it reads next long before it reads
//! them, and asking for them early lets their cache misses overlap.

/// Asks the CPU to start loading every 64-byte line of the addresses `start..end`, from the line
/// holding `start`. A hint only: nothing is read, and it never faults, whatever the addresses.
#[inline]
pub(crate) fn prefetch_lines(start: usize, end: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut line = start & !63;
        while line < end {
            // SAFETY: a prefetch is a hint that never faults, whatever the address.
            unsafe { _mm_prefetch(line as *const i8, _MM_HINT_T0) };
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, end);
}

/// [`prefetch_lines`] over the first `max_bytes` of `values`.
#[inline]
pub(crate) fn prefetch<T>(values: &[T], max_bytes: usize) {
    let start = values.as_ptr() as usize;
    prefetch_lines(start, start + size_of_val(values).min(max_bytes));
}

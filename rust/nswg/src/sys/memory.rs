//! Huge pages for the large buffers a search reads at random.
//!
//! A graph search touches a few lines of a row, then jumps to another row far away: with 4 KiB
//! pages nearly every row costs a TLB miss on top of its cache misses once the index outgrows the
//! TLB's reach (a few MiB). Backing the rows and the adjacency with 2 MiB pages removes most of
//! those misses.

/// Size of a transparent huge page on x86-64 (and on aarch64 with 4 KiB base pages).
const HUGE_PAGE: usize = 2 << 20;

/// Asks the kernel to back the whole 2 MiB pages inside `buffer` with transparent huge pages,
/// now and as it is touched later. A hint: it changes no value, does nothing where the kernel
/// has no transparent huge pages or they are set to "never", and buffers holding no whole huge
/// page are left alone.
pub(crate) fn advise_huge_pages<T>(buffer: &[T]) {
    let start = buffer.as_ptr() as usize;
    let end = start + size_of_val(buffer);
    let first = start.next_multiple_of(HUGE_PAGE);
    let last = end / HUGE_PAGE * HUGE_PAGE;
    if last <= first {
        return;
    }
    advise(first, last - first);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn advise(start: usize, len: usize) {
    // MADV_COLLAPSE ignores the system's THP setting: an administrator's "never" is honoured here.
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let enabled = ENABLED.get_or_init(|| {
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .is_ok_and(|mode| !mode.contains("[never]"))
    });
    if !enabled {
        return;
    }
    let addr = start as *mut libc::c_void;
    // SAFETY: the range lies inside a live allocation and is page-aligned; neither advice changes
    // the memory's contents. Failures (old kernels, THP disabled, no free huge page) are ignored:
    // the memory then stays on small pages.
    unsafe {
        // Pages touched from now on (growth, copies) come as huge pages where THP is "madvise".
        libc::madvise(addr, len, libc::MADV_HUGEPAGE);
        // Linux >= 6.1: move the pages already written onto huge pages now, rather than waiting
        // for khugepaged, which may take minutes.
        libc::madvise(addr, len, libc::MADV_COLLAPSE);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn advise(_start: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_keeps_every_value() {
        let buffer: Vec<u32> = (0..3 * HUGE_PAGE as u32 / 4).collect();
        advise_huge_pages(&buffer);
        assert!(buffer.iter().enumerate().all(|(i, &v)| v == i as u32));
        advise_huge_pages(&buffer[..10]);
        advise_huge_pages::<u32>(&[]);
    }
}

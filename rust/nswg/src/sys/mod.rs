//! What the core asks of the machine: its CPU's vector instructions, huge pages, prefetches.

pub(crate) mod cpu;
pub(crate) mod memory;
pub(crate) mod prefetch;

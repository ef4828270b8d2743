//! Any bytes given to the loader: it returns an error or an index that answers queries and
//! writes back the same bytes, and never panics.
//!
//! Each input is also tried with its checksum recomputed, so that mutations reach the checks
//! behind it instead of all stopping at a checksum mismatch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nswg::persist::check_any_bytes;

fuzz_target!(|data: &[u8]| {
    check_any_bytes(data);
    if data.len() >= 4 {
        let mut bytes = data.to_vec();
        let body = data.len() - 4;
        let crc = crc32fast::hash(&data[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
        check_any_bytes(&bytes);
    }
});

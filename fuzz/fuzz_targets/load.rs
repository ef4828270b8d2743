//! Any bytes given to the loader: it returns an error or an index that answers queries and
//! writes back the same bytes, and never panics.
//!
//! Each input is also tried with its checksum recomputed, so that mutations reach the checks
//! behind it instead of all stopping at a checksum mismatch.
#![no_main]

use _core::index::QueryOptions;
use _core::persist::{read_index, write_index};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 4 {
        let mut bytes = data.to_vec();
        let body = data.len() - 4;
        let crc = crc32fast::hash(&data[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
        check(&bytes);
    }
});

fn check(bytes: &[u8]) {
    let Ok(index) = read_index(bytes) else {
        return;
    };
    for exact in [true, false] {
        let options = QueryOptions {
            k: 1,
            ef: 4,
            n_searches: 2,
            exact,
        };
        let answer = index.search(vec![0.5; index.dim()], &options);
        if exact || index.has_graph() {
            answer.unwrap();
        } else {
            assert!(answer.is_err(), "a graph search of an index without a graph");
        }
    }
    let mut again = Vec::new();
    write_index(&index, &mut again).unwrap();
    assert_eq!(again, bytes);
}

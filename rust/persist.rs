//! The index file format, and atomic saving.
//!
//! All numbers are little-endian. Version 1:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `NSWGIDX\0` |
//! | 4 | format version, u32 |
//! | 4 | metric, u32: 0 Euclidean, 1 cosine, 2 DTW |
//! | 8 × 9 | u64: Sakoe-Chiba radius (`u64::MAX` for the full window or no band), n_neighbors, max_degree, ef_construction, n_searches, seed, build distance computations, n (points), dim |
//! | 4·n·dim | vectors, f32, row-major (normalised under cosine; NaN padding kept under DTW) |
//! | 4·n·max_degree | adjacency, u32, `u32::MAX` padding |
//! | n | deletion marks, one byte each (0 or 1) |
//! | 4 | CRC-32 (IEEE) of every byte before it |
//!
//! A reader refuses a file whose magic, version, length, checksum or contents do not add up, so a
//! truncated, corrupted or foreign file is an error, never a half-read index.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::index::{Index, IndexOptions, Metric};
use crate::points::Points;

pub const MAGIC: &[u8; 8] = b"NSWGIDX\0";
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 + 8 * 9;

/// Writes `index` to `w` in the format above.
pub fn write_index<W: Write>(index: &Index, w: W) -> std::io::Result<()> {
    let mut w = Checksummed::new(w);
    let o = index.options();
    let (metric, radius) = match o.metric {
        Metric::Euclidean => (0u32, u64::MAX),
        Metric::Cosine => (1, u64::MAX),
        Metric::Dtw { sakoe_chiba_radius } => {
            (2, u64::try_from(sakoe_chiba_radius).unwrap_or(u64::MAX))
        }
    };
    w.write_all(MAGIC)?;
    w.write_all(&FORMAT_VERSION.to_le_bytes())?;
    w.write_all(&metric.to_le_bytes())?;
    let header = [
        radius,
        o.n_neighbors as u64,
        o.max_degree as u64,
        o.ef_construction as u64,
        o.n_searches as u64,
        o.seed,
        index.build_distance_computations(),
        index.len() as u64,
        index.dim() as u64,
    ];
    for x in header {
        w.write_all(&x.to_le_bytes())?;
    }
    for chunk in index.points().as_slice().chunks(1 << 14) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
        w.write_all(&bytes)?;
    }
    for chunk in index.graph().links().chunks(1 << 14) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
        w.write_all(&bytes)?;
    }
    let marks: Vec<u8> = (0..index.len() as u32)
        .map(|id| u8::from(index.is_deleted(id)))
        .collect();
    w.write_all(&marks)?;
    let crc = w.hasher.clone().finalize();
    w.inner.write_all(&crc.to_le_bytes())?;
    w.inner.flush()
}

/// Reads an index written by [`write_index`].
pub fn read_index(bytes: &[u8]) -> Result<Index> {
    let corrupt = |what: &str| Error::Corrupt(what.to_string());
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not an nswg index file (bad magic bytes)"));
    }
    if bytes.len() < HEADER_LEN + 4 {
        return Err(corrupt("truncated header"));
    }
    let mut at = MAGIC.len();
    let u32_at = |at: &mut usize| {
        let v = u32::from_le_bytes(bytes[*at..*at + 4].try_into().expect("4 bytes"));
        *at += 4;
        v
    };
    let version = u32_at(&mut at);
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let metric = u32_at(&mut at);
    let mut header = [0u64; 9];
    for x in &mut header {
        *x = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        at += 8;
    }
    let [radius, n_neighbors, max_degree, ef_construction, n_searches, seed, build_cost, n, dim] =
        header;
    let size = |x: u64| usize::try_from(x).map_err(|_| corrupt("a size does not fit in memory"));
    let (n, dim, max_degree) = (size(n)?, size(dim)?, size(max_degree)?);
    // Check the length before the checksum: a corrupt header must not make us slice out of range.
    let expected = n
        .checked_mul(dim)
        .and_then(|v| v.checked_mul(4))
        .and_then(|v| v.checked_add(n.checked_mul(max_degree)?.checked_mul(4)?))
        .and_then(|v| v.checked_add(n))
        .and_then(|v| v.checked_add(HEADER_LEN + 4))
        .ok_or_else(|| corrupt("sizes in the header overflow"))?;
    if bytes.len() != expected {
        return Err(Error::Corrupt(format!(
            "the file has {} bytes where its header promises {expected}: truncated or corrupted",
            bytes.len()
        )));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(corrupt("checksum mismatch: the file is corrupted"));
    }
    let metric = match metric {
        0 => Metric::Euclidean,
        1 => Metric::Cosine,
        2 => Metric::Dtw {
            sakoe_chiba_radius: usize::try_from(radius).unwrap_or(usize::MAX),
        },
        _ => return Err(corrupt("unknown metric")),
    };
    let options = IndexOptions {
        metric,
        n_neighbors: size(n_neighbors)?,
        max_degree,
        ef_construction: size(ef_construction)?,
        n_searches: size(n_searches)?,
        seed,
    };
    let vectors_end = at + 4 * n * dim;
    let links_end = vectors_end + 4 * n * max_degree;
    let data: Vec<f32> = bytes[at..vectors_end]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect();
    let links: Vec<u32> = bytes[vectors_end..links_end]
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect();
    let marks = &bytes[links_end..links_end + n];
    if marks.iter().any(|&m| m > 1) {
        return Err(corrupt("bad deletion marks"));
    }
    let deleted: Vec<bool> = if marks.contains(&1) {
        marks.iter().map(|&m| m == 1).collect()
    } else {
        Vec::new()
    };
    if n == 0 || deleted.iter().all(|&d| d) && !deleted.is_empty() {
        return Err(corrupt("the index holds no live point"));
    }
    let points = Points::new(data, dim, matches!(metric, Metric::Dtw { .. }))
        .map_err(|e| Error::Corrupt(format!("bad vectors: {e}")))?;
    let graph =
        Graph::from_links(max_degree, links).ok_or_else(|| corrupt("bad adjacency lists"))?;
    Index::from_parts(points, Some(graph), options, deleted, build_cost)
        .map_err(|e| Error::Corrupt(format!("bad parameters: {e}")))
}

/// Saves `index` to `path` atomically: it is written to a temporary file beside `path`, flushed
/// to disk, then renamed over `path`, so a crash leaves either the old file or the new one.
pub fn save(index: &Index, path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write_index(index, &mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Loads an index saved by [`save`].
pub fn load(path: &Path) -> std::result::Result<Index, LoadError> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    Ok(read_index(&bytes)?)
}

/// Why [`load`] failed: the file could not be read, or it is not a valid index.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Invalid(#[from] Error),
}

/// A writer that keeps a CRC-32 of what passes through it.
struct Checksummed<W> {
    inner: W,
    hasher: crc32fast::Hasher,
}

impl<W: Write> Checksummed<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: crc32fast::Hasher::new(),
        }
    }
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::QueryOptions;

    fn sample(metric: Metric) -> Index {
        let data: Vec<f32> = (0..400 * 12)
            .map(|i| ((i * 37 % 101) as f32).sin())
            .collect();
        let options = IndexOptions {
            metric,
            ..IndexOptions::default()
        };
        let mut index = Index::build(data, 12, options).unwrap();
        index.remove(&[3, 77]).unwrap();
        index
    }

    fn bytes_of(index: &Index) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_index(index, &mut bytes).unwrap();
        bytes
    }

    fn answers(index: &Index) -> crate::index::Neighbors {
        let q: Vec<f32> = (0..5 * 12).map(|i| (i as f32 * 0.3).cos()).collect();
        let options = QueryOptions {
            k: 7,
            ef: 20,
            n_searches: 2,
            exact: false,
        };
        index.search(q, &options).unwrap()
    }

    #[test]
    fn round_trip_answers_every_query_alike() {
        for metric in [
            Metric::Euclidean,
            Metric::Cosine,
            Metric::Dtw {
                sakoe_chiba_radius: 2,
            },
        ] {
            let index = sample(metric);
            let back = read_index(&bytes_of(&index)).unwrap();
            assert_eq!(back.graph(), index.graph());
            assert_eq!(back.deleted(), index.deleted());
            assert_eq!(answers(&back), answers(&index));
            assert_eq!(bytes_of(&back), bytes_of(&index));
        }
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = bytes_of(&sample(Metric::Euclidean));
        for len in (0..bytes.len())
            .step_by(97)
            .chain([HEADER_LEN, HEADER_LEN + 4, bytes.len() - 1])
        {
            assert!(read_index(&bytes[..len]).is_err(), "truncated at {len}");
        }
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let bytes = bytes_of(&sample(Metric::Dtw {
            sakoe_chiba_radius: 1,
        }));
        for at in (0..bytes.len()).step_by(13) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            assert!(read_index(&bad).is_err(), "flipped byte {at}");
        }
    }

    #[test]
    fn foreign_and_newer_files_are_refused_with_their_reason() {
        let mut bytes = bytes_of(&sample(Metric::Euclidean));
        assert!(matches!(
            read_index(b"GIF89a..........................................."),
            Err(Error::Corrupt(_))
        ));
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(
            read_index(&bytes).unwrap_err(),
            Error::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        );
    }

    #[test]
    fn a_header_promising_huge_sizes_is_refused_without_allocating() {
        let mut bytes = bytes_of(&sample(Metric::Euclidean));
        let n_at = HEADER_LEN - 16;
        bytes[n_at..n_at + 8].copy_from_slice(&(u64::MAX / 3).to_le_bytes());
        assert!(matches!(read_index(&bytes), Err(Error::Corrupt(_))));
    }

    #[test]
    fn save_replaces_the_file_atomically_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("nswg-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.nswg");
        let first = sample(Metric::Euclidean);
        save(&first, &path).unwrap();
        let mut second = sample(Metric::Euclidean);
        second.remove(&[5]).unwrap();
        save(&second, &path).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.deleted(), second.deleted());
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["index.nswg"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

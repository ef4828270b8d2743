//! The index file format, and atomic saving.
//!
//! The layout, field by field, and what a reader refuses are in `docs/format.md`: magic bytes,
//! version, metric, ten u64 header fields (nine in version 1), vectors, adjacency, deletion marks,
//! copies and codes (not in version 1), CRC-32. A reader
//! refuses a file whose magic, version, length, checksum or contents do not add up, so a
//! truncated, corrupted or foreign file is an error, never a half-read index.

mod header;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use memmap2::Mmap;

use crate::error::{Error, Result};
use crate::graph::{Graph, LinksCheck};
use crate::index::{Index, IndexOptions, Quantization, QueryOptions};
use crate::metric::check_row_range;
use crate::storage::{Buffer, Codes, Mapped, Rabitq4, RowsCheck, Sq8, Tombstones, ROUNDS};
use header::{header_len, Header, HEADER_LEN};
pub use header::{FORMAT_VERSION, MAGIC};

/// The kinds of codes in the section of codes (version 2 on).
const NO_CODES: u32 = 0;
const SQ8_CODES: u32 = 1;
const RABITQ4_CODES: u32 = 2;

/// Values are converted to and from bytes through a buffer of this many bytes, so that neither
/// writing nor reading holds a second copy of the vectors or the graph.
const CHUNK: usize = 1 << 18;

/// Writes `index` to `w` in the format above.
pub fn write_index<W: Write>(index: &Index, w: W) -> std::io::Result<()> {
    let mut w = Checksummed::new(w);
    w.write_all(&Header::of(index).to_bytes())?;
    write_values(&mut w, index.points().as_slice(), |x| x.to_le_bytes())?;
    let links = index.graph().map_or(&[][..], Graph::links);
    write_values(&mut w, links, |x| x.to_le_bytes())?;
    let marks: Vec<u8> = (0..index.n_ids() as u32)
        .map(|id| u8::from(index.removed().contains(id)))
        .collect();
    w.write_all(&marks)?;
    // Copies, as (copy, node) pairs in increasing copy order.
    let firsts = index.graph().map_or(&[][..], |g| g.copies().firsts());
    let pairs: Vec<u32> = (0..firsts.len() as u32)
        .filter(|&id| firsts[id as usize] != id)
        .flat_map(|id| [id, firsts[id as usize]])
        .collect();
    w.write_all(&(pairs.len() as u64 / 2).to_le_bytes())?;
    write_values(&mut w, &pairs, |x| x.to_le_bytes())?;
    // Codes: their kind, then the ranges and the codes of an SQ8 index, or the centre, the
    // rotation's signs and the codes of a RaBitQ one.
    match index.codes() {
        None => w.write_all(&NO_CODES.to_le_bytes())?,
        Some(Codes::Sq8(codes)) => {
            w.write_all(&SQ8_CODES.to_le_bytes())?;
            write_values(&mut w, codes.min(), |x| x.to_le_bytes())?;
            write_values(&mut w, codes.scale(), |x| x.to_le_bytes())?;
            w.write_all(codes.codes())?;
        }
        Some(Codes::Rabitq4(codes)) => {
            w.write_all(&RABITQ4_CODES.to_le_bytes())?;
            write_values(&mut w, codes.center(), |x| x.to_le_bytes())?;
            write_values(&mut w, codes.signs(), |x| x.to_le_bytes())?;
            w.write_all(codes.codes())?;
        }
    }
    // Labels: none (the ids are the row numbers), or one per point.
    let labels = index.labels().unwrap_or(&[]);
    w.write_all(&(labels.len() as u64).to_le_bytes())?;
    write_values(&mut w, labels, |x| x.to_le_bytes())?;
    let crc = w.hasher.clone().finalize();
    w.inner.write_all(&crc.to_le_bytes())?;
    w.inner.flush()
}

fn write_values<W: Write, T: Copy, const N: usize>(
    w: &mut W,
    values: &[T],
    to_bytes: fn(T) -> [u8; N],
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(CHUNK);
    for chunk in values.chunks(CHUNK / N) {
        buf.clear();
        buf.extend(chunk.iter().flat_map(|&x| to_bytes(x)));
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Reads an index written by [`write_index`] from memory.
pub fn read_index(bytes: &[u8]) -> Result<Index> {
    read_from(bytes, bytes.len() as u64, Place::Memory).map_err(|e| match e {
        LoadError::Invalid(e) => e,
        // Reading from memory fails only where the bytes end, which the length check foresees.
        LoadError::Io(e) => Error::Corrupt(e.to_string()),
    })
}

/// Where a loaded index keeps its rows and lists.
enum Place<'a> {
    /// Read into memory of its own.
    Memory,
    /// Left in the pages of this file, the one read, mapped once every check has passed.
    Map(&'a File),
}

/// Reads an index from `r`, which holds `len` bytes, in one pass that checksums and checks
/// everything as it goes: straight into its final buffers for [`Place::Memory`], so that
/// loading holds no second copy of the file; for [`Place::Map`], through a buffer of a few
/// rows, after which the file is mapped and its rows and lists are used in place.
///
/// `len` is checked against the sizes in the header before anything is allocated, so a corrupt
/// header cannot ask for more memory than the file holds. Checks of the contents are reported
/// after the checksum, as if they ran on the whole file read.
fn read_from<R: Read>(r: R, len: u64, place: Place<'_>) -> std::result::Result<Index, LoadError> {
    let corrupt = |what: &str| LoadError::Invalid(Error::Corrupt(what.to_string()));
    let mut r = Checksummed::new(r);
    let mut head = [0u8; HEADER_LEN];
    let magic_len = MAGIC.len().min(len as usize);
    r.read_exact(&mut head[..magic_len])?;
    if &head[..magic_len] != MAGIC {
        return Err(corrupt("not an nswg index file (bad magic bytes)"));
    }
    if len < (MAGIC.len() + 4) as u64 {
        return Err(corrupt("truncated header"));
    }
    r.read_exact(&mut head[MAGIC.len()..MAGIC.len() + 4])?;
    let header_len = header_len(Header::version(&head)?).expect("a known version");
    if len < (header_len + 4) as u64 {
        return Err(corrupt("truncated header"));
    }
    r.read_exact(&mut head[MAGIC.len() + 4..header_len])?;
    let header = Header::parse(&head[..header_len])?;
    let size = |x: u64| usize::try_from(x).map_err(|_| corrupt("a size does not fit in memory"));
    let (n, dim, max_degree) = (size(header.n)?, size(header.dim)?, size(header.max_degree)?);
    let expected = n
        .checked_mul(dim)
        .and_then(|v| v.checked_mul(4))
        .and_then(|v| v.checked_add(n.checked_mul(max_degree)?.checked_mul(4)?))
        .and_then(|v| v.checked_add(n))
        .and_then(|v| v.checked_add(header_len + 4))
        .ok_or_else(|| corrupt("sizes in the header overflow"))?;
    // Version 2 adds the copies (their count, then (copy, node) pairs of two u32), the codes
    // (their kind, then what that kind holds) and the labels (their count, then each, u64).
    let has_sections = header.version >= 2;
    let short = expected + if has_sections { 8 + 4 + 8 } else { 0 };
    if len < short as u64 || !has_sections && len != short as u64 {
        return Err(Error::Corrupt(format!(
            "the file has {len} bytes where its header promises {short}: truncated or corrupted"
        ))
        .into());
    }
    let keep = matches!(place, Place::Memory);
    let header_options = header.options();
    // The rows are checked as they pass, where the header tells how; a header that does not is
    // refused below.
    let mut rows = match &header_options {
        Ok(o) if o.metric.check_dim(dim).is_ok() => Some(RowsCheck::new(dim, o.metric.padding())),
        _ => None,
    };
    let metric = header_options.as_ref().map(|o| o.metric).ok();
    let bound = metric.and_then(|m| m.max_magnitude(dim));
    let data = read_checked(&mut r, n * dim, dim, keep, f32::from_le_bytes, |chunk| {
        if let (Some(Ok(check)), Some(metric)) = (&mut rows, metric) {
            let in_range = |row, values: &[f32]| {
                bound.map_or(Ok(()), |b| {
                    check_row_range(values, b, row, metric.name(), dim)
                })
            };
            if let Err(e) = check.push(chunk, in_range) {
                rows = Some(Err(e));
            }
        }
    })?;
    let mut lists = LinksCheck::new(n, max_degree);
    let mut lists_valid = true;
    let links = read_checked(
        &mut r,
        n * max_degree,
        max_degree,
        keep,
        u32::from_le_bytes,
        |chunk| {
            // Once a list is bad, the lists after it are not worth checking.
            lists_valid = lists_valid && lists.as_mut().and_then(|c| c.push(chunk)).is_some();
        },
    )?;
    let mut marks = vec![0u8; n];
    r.read_exact(&mut marks)?;
    let mut pairs = Vec::new();
    let mut promised = short as u64;
    let cut = |promised: Option<u64>, what: &str| {
        LoadError::Invalid(Error::Corrupt(format!(
            "the file has {len} bytes where its header and {what} promise {}: truncated or \
             corrupted",
            promised.map_or("more".to_string(), |w| w.to_string())
        )))
    };
    if has_sections {
        let mut count = [0u8; 8];
        r.read_exact(&mut count)?;
        let count = u64::from_le_bytes(count);
        let whole = count.checked_mul(8).and_then(|b| b.checked_add(promised));
        // Checked before the pairs are allocated.
        if whole.is_none_or(|w| w > len) {
            return Err(cut(whole, &format!("its {count} copies")));
        }
        pairs = read_values(&mut r, 2 * size(count)?, u32::from_le_bytes)?;
        promised = whole.expect("checked above");
    }
    let mut codes = None;
    let mut labels = None;
    if has_sections {
        let mut kind = [0u8; 4];
        r.read_exact(&mut kind)?;
        let quantization = match u32::from_le_bytes(kind) {
            NO_CODES => None,
            SQ8_CODES => Some(Quantization::Sq8),
            RABITQ4_CODES => Some(Quantization::Rabitq4),
            _ => return Err(corrupt("unknown kind of codes")),
        };
        let bytes = match quantization {
            None => Some(0),
            Some(Quantization::Sq8) => n.checked_add(8).and_then(|b| b.checked_mul(dim)),
            Some(Quantization::Rabitq4) => n
                .checked_mul(Rabitq4::stride_of(dim))
                .and_then(|b| b.checked_add(4 * (1 + ROUNDS) * dim)),
        };
        let whole = bytes.and_then(|b| promised.checked_add(b as u64));
        if whole.is_none_or(|w| w > len) {
            return Err(cut(whole, "its codes"));
        }
        promised = whole.expect("checked above");
        codes = match quantization {
            None => None,
            Some(Quantization::Sq8) => {
                let min = read_values(&mut r, dim, f32::from_le_bytes)?;
                let scale = read_values(&mut r, dim, f32::from_le_bytes)?;
                let mut bytes = vec![0u8; n * dim];
                r.read_exact(&mut bytes)?;
                let codes = Sq8::from_parts(dim, min, scale, bytes);
                Some(Codes::Sq8(codes.ok_or_else(|| corrupt("bad codes"))?))
            }
            Some(Quantization::Rabitq4) => {
                let center = read_values(&mut r, dim, f32::from_le_bytes)?;
                let signs = read_values(&mut r, ROUNDS * dim, f32::from_le_bytes)?;
                let mut bytes = vec![0u8; n * Rabitq4::stride_of(dim)];
                r.read_exact(&mut bytes)?;
                let codes = Rabitq4::from_parts(dim, center, signs, bytes);
                Some(Codes::Rabitq4(codes.ok_or_else(|| corrupt("bad codes"))?))
            }
        };
        let mut count = [0u8; 8];
        r.read_exact(&mut count)?;
        let count = u64::from_le_bytes(count);
        if count != 0 && count != n as u64 {
            return Err(corrupt("a count of labels other than 0 or the points'"));
        }
        let whole = promised.checked_add(8 * count);
        if whole != Some(len) {
            return Err(cut(whole, "its labels"));
        }
        if count > 0 {
            labels = Some(read_values(&mut r, n, u64::from_le_bytes)?);
        }
    }
    let computed = r.hasher.clone().finalize();
    let mut crc = [0u8; 4];
    r.inner.read_exact(&mut crc)?;
    if computed != u32::from_le_bytes(crc) {
        return Err(corrupt("checksum mismatch: the file is corrupted"));
    }
    let options = IndexOptions {
        quantization: codes.as_ref().map(Codes::quantization),
        ..header_options?
    };
    if marks.iter().any(|&m| m > 1) {
        return Err(corrupt("bad deletion marks"));
    }
    let removed = Tombstones::from_marks(marks.iter().map(|&m| m == 1).collect());
    if n == 0 || removed.len() == n {
        return Err(corrupt("the index holds no live point"));
    }
    let bad_vectors = |e: Error| Error::Corrupt(format!("bad vectors: {e}"));
    options.metric.check_dim(dim).map_err(bad_vectors)?;
    let rows = rows.expect("set up where the options and dim are valid");
    let rows = rows.map_err(bad_vectors)?;
    let (data, links) = match place {
        Place::Memory => (Buffer::from(data), Buffer::from(links)),
        Place::Map(file) => map_sections(file, len, header_len, n * dim, n * max_degree)?,
    };
    let points = rows.finish(data);
    let graph = match options.graph {
        None if pairs.is_empty() => None,
        None => return Err(corrupt("copies in an index without a graph")),
        Some(_) => {
            let lists = lists
                .filter(|_| lists_valid)
                .ok_or_else(|| corrupt("bad adjacency lists"))?;
            let first = copies_of(n, &pairs).ok_or_else(|| corrupt("bad copies"))?;
            let same_row = |a, b| points.same_row(a, b);
            Some(
                lists
                    .finish(links, first, same_row)
                    .ok_or_else(|| corrupt("bad copies"))?,
            )
        }
    };
    let index = Index::from_parts(
        points,
        graph,
        codes,
        options,
        removed,
        header.build_distance_computations,
    )
    .map_err(|e| Error::Corrupt(format!("bad parameters: {e}")))?;
    let index = match labels {
        None => index,
        Some(labels) => index
            .with_labels(labels)
            .map_err(|e| Error::Corrupt(format!("bad labels: {e}")))?,
    };
    index.advise_huge_pages();
    Ok(index)
}

/// Maps `file`, of `len` bytes, and cuts from the map the buffers of `rows` values after the
/// header of `header_len` bytes and of `links` values after them.
fn map_sections(
    file: &File,
    len: u64,
    header_len: usize,
    rows: usize,
    links: usize,
) -> std::result::Result<(Buffer<f32>, Buffer<u32>), LoadError> {
    // SAFETY: the map is read-only and `Buffer` hands out only shared slices of it; a file
    // changed underneath by another process is what `docs/format.md` forbids, and `load_mapped`
    // refuses a file whose size or modification time changed while it was read.
    let map = Arc::new(unsafe { Mmap::map(file)? });
    if map.len() as u64 != len {
        return Err(Error::Corrupt(CHANGED.to_string()).into());
    }
    let links_at = header_len + 4 * rows;
    let rows = Mapped::new(map.clone(), header_len, rows);
    let links = Mapped::new(map, links_at, links);
    match (rows, links) {
        (Some(rows), Some(links)) => Ok((Buffer::Mapped(rows), Buffer::Mapped(links))),
        _ => Err(Error::CannotMap("its sections are not aligned in memory").into()),
    }
}

/// Why a mapped load fails on a file that another process writes to.
const CHANGED: &str = "the file changed while it was being loaded";

/// Each point's node, from the (copy, node) `pairs` read from a file, which must come in
/// increasing copy order; `None` if they do not or name a point beyond `n`.
fn copies_of(n: usize, pairs: &[u32]) -> Option<Vec<u32>> {
    let mut first: Vec<u32> = (0..n as u32).collect();
    let mut last = None;
    for pair in pairs.chunks_exact(2) {
        let (copy, node) = (pair[0], pair[1]);
        if copy as usize >= n || last.is_some_and(|l| copy <= l) {
            return None;
        }
        last = Some(copy);
        first[copy as usize] = node;
    }
    Some(first)
}

/// Reads `n` values of `N` bytes each, converting them a chunk of whole rows of `stride` values
/// at a time and handing each chunk to `check`. Returns the values when `keep`; otherwise none
/// (they pass through a buffer of one chunk).
fn read_checked<R: Read, T, const N: usize>(
    r: &mut R,
    n: usize,
    stride: usize,
    keep: bool,
    from_bytes: fn([u8; N]) -> T,
    mut check: impl FnMut(&[T]),
) -> std::io::Result<Vec<T>> {
    let stride = stride.max(1);
    let per_chunk = (CHUNK / N / stride).max(1) * stride;
    let mut out = Vec::with_capacity(if keep { n } else { per_chunk.min(n) });
    let mut buf = vec![0u8; N * per_chunk.min(n)];
    let mut done = 0;
    while done < n {
        let take = per_chunk.min(n - done);
        let bytes = &mut buf[..N * take];
        r.read_exact(bytes)?;
        if !keep {
            out.clear();
        }
        let start = out.len();
        out.extend(
            bytes
                .chunks_exact(N)
                .map(|b| from_bytes(b.try_into().expect("N bytes"))),
        );
        check(&out[start..]);
        done += take;
    }
    if !keep {
        out = Vec::new();
    }
    Ok(out)
}

/// Reads `n` values of `N` bytes each into the returned vector.
fn read_values<R: Read, T, const N: usize>(
    r: &mut R,
    n: usize,
    from_bytes: fn([u8; N]) -> T,
) -> std::io::Result<Vec<T>> {
    read_checked(r, n, 1, true, from_bytes, |_| ())
}

/// Saves `index` to `path` atomically: it is written to a temporary file beside `path`, flushed
/// to disk, then renamed over `path`, so a crash leaves either the old file or the new one.
///
/// A symbolic link is followed, so the file it points to is replaced and the link kept; a file
/// replaced keeps its permissions. A FIFO, socket or device is not replaced: that is an error.
pub fn save(index: &Index, path: &Path) -> std::io::Result<()> {
    let path = &follow_links(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let tmp = dir.join(temporary_name(name));
    let result = (|| {
        let old = match std::fs::metadata(path) {
            Ok(old) => Some(old),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        // Renaming over a FIFO, socket or device would replace it (/dev/null, as root).
        if let Some(old) = old.as_ref().filter(|m| !m.is_file() && !m.is_dir()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a regular file ({:?}): saving would replace it",
                    path.display(),
                    old.file_type()
                ),
            ));
        }
        let file = File::create(&tmp)?;
        if let Some(old) = old {
            file.set_permissions(old.permissions())?;
        }
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

/// Bytes of the saved file's name kept in the temporary name: with the dot, the process id, the
/// count and `.tmp` (at most 36 bytes) it stays within the 255 bytes file systems allow.
const TEMPORARY_NAME_BYTES: usize = 200;

/// A hidden name beside the file's, unique per process and per call, so that saves running
/// together never share a temporary file.
fn temporary_name(name: &std::ffi::OsStr) -> String {
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let name = name.to_string_lossy();
    let mut end = name.len().min(TEMPORARY_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        ".{}.{}.{}.tmp",
        &name[..end],
        std::process::id(),
        SAVES.fetch_add(1, Ordering::Relaxed)
    )
}

/// `path` with its symbolic links followed to the file they name, which need not exist yet.
fn follow_links(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let mut path = path.to_path_buf();
    // As the system's own limit on links in a path (Linux's ELOOP after 40).
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Loads an index saved by [`save`] into memory. A FIFO, socket or device is refused before
/// it is opened, so that loading never waits on a pipe; a directory fails to read, as the
/// system says.
pub fn load(path: &Path) -> std::result::Result<Index, LoadError> {
    let (file, len) = open_regular(path)?;
    read_from(file, len, Place::Memory)
}

/// Loads an index saved by [`save`] whose rows and lists stay in the file's pages, mapped
/// read-only and searched in place: [`Index::add`], [`Index::remove`] and [`Index::compact`]
/// refuse it. The file gets every check of [`load`] first, in one pass read through the page
/// cache, not through the map; a file whose size or modification time changed meanwhile is
/// refused. The file must not be changed in place while the index lives (`docs/format.md`).
///
/// A big-endian CPU, whose values are not the file's bytes, cannot map one: that is
/// [`Error::CannotMap`].
pub fn load_mapped(path: &Path) -> std::result::Result<Index, LoadError> {
    if cfg!(target_endian = "big") {
        return Err(Error::CannotMap("this CPU is big-endian, the file little-endian").into());
    }
    let (file, len) = open_regular(path)?;
    let stamp = |m: std::fs::Metadata| (m.len(), m.modified().ok());
    let before = stamp(file.metadata()?);
    let index = read_from(&file, len, Place::Map(&file))?;
    if stamp(file.metadata()?) != before {
        return Err(Error::Corrupt(CHANGED.to_string()).into());
    }
    Ok(index)
}

/// `path` opened, with its length, if it is a regular file.
fn open_regular(path: &Path) -> std::result::Result<(File, u64), LoadError> {
    let special = |m: &std::fs::Metadata| !m.is_file() && !m.is_dir();
    let not_regular = || {
        LoadError::Invalid(Error::Corrupt(
            "not a regular file (a FIFO, socket or device)".to_string(),
        ))
    };
    if special(&std::fs::metadata(path)?) {
        return Err(not_regular());
    }
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if special(&metadata) {
        return Err(not_regular());
    }
    Ok((file, metadata.len()))
}

/// Why [`load`] failed: the file could not be read, or it is not a valid index.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Io(std::io::Error),
    #[error(transparent)]
    Invalid(#[from] Error),
}

impl From<std::io::Error> for LoadError {
    /// A file that ends before its header says it does (it shrank while being read) is corrupt;
    /// any other failure to read it is the system's.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            LoadError::Invalid(Error::Corrupt(
                "the file ends before its header says it does".to_string(),
            ))
        } else {
            LoadError::Io(e)
        }
    }
}

/// A reader or writer that keeps a CRC-32 of what passes through it.
struct Checksummed<W> {
    inner: W,
    hasher: crc32fast::Hasher,
}

impl<T> Checksummed<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            hasher: crc32fast::Hasher::new(),
        }
    }
}

impl<R: Read> Read for Checksummed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
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

/// The property that the fuzz target (`fuzz/`) and the mutation test check on any bytes: they
/// are refused, or they load into an index that answers queries and writes back the same bytes.
/// Returns whether they loaded; panics where the property fails.
#[doc(hidden)]
pub fn check_any_bytes(bytes: &[u8]) -> bool {
    let Ok(index) = read_index(bytes) else {
        return false;
    };
    let query = vec![0.5; index.dim()];
    for exact in [true, false] {
        let options = QueryOptions {
            k: 1,
            ef: 4,
            n_searches: 2,
            exact,
        };
        let answer = index.search(query.clone(), &options);
        if exact || index.has_graph() {
            answer.expect("a loaded index answers");
        } else {
            assert_eq!(answer, Err(Error::NoGraph));
        }
    }
    let mut again = Vec::new();
    write_index(&index, &mut again).expect("writing to memory");
    if bytes[8..12] == FORMAT_VERSION.to_le_bytes() {
        assert_eq!(again, bytes, "a file that loads is written back alike");
    } else {
        // An older version is written in the current one, which then holds steady.
        let mut third = Vec::new();
        write_index(&read_index(&again).expect("rewritten"), &mut third).expect("writing");
        assert_eq!(third, again, "a rewritten file is written back alike");
    }
    true
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::graph::GraphOptions;
    use crate::index::tests::{gaussian_like, options, query, recall};
    use crate::index::IndexOptions;
    use crate::metric::{Band, Metric};

    fn sample(metric: Metric) -> Index {
        sample_with(IndexOptions {
            metric,
            ..IndexOptions::default()
        })
    }

    fn sample_with(options: IndexOptions) -> Index {
        let data: Vec<f32> = (0..400 * 12)
            .map(|i| ((i * 37 % 101) as f32).sin())
            .collect();
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
            Metric::dtw(Band::Radius(2)),
            Metric::Dtw {
                band: Band::Radius(2),
                channels: 3,
            },
        ] {
            let index = sample(metric);
            let back = read_index(&bytes_of(&index)).unwrap();
            assert_eq!(back.graph(), index.graph());
            assert_eq!(back.removed(), index.removed());
            assert_eq!(answers(&back), answers(&index));
            assert_eq!(bytes_of(&back), bytes_of(&index));
        }
    }

    #[test]
    fn codes_are_kept_by_a_round_trip_and_checked_on_load() {
        let kinds = [Metric::Euclidean, Metric::Cosine]
            .into_iter()
            .flat_map(|m| Quantization::ALL.map(|q| (m, q)));
        for (metric, quantization) in kinds {
            let mut index = sample_with(IndexOptions {
                metric,
                quantization: Some(quantization),
                ..IndexOptions::default()
            });
            // Rows added after the build keep codes of what was trained, not trained again.
            index.add(vec![3.0; 12]).unwrap();
            let bytes = bytes_of(&index);
            let back = read_index(&bytes).unwrap();
            assert_eq!(back.options(), index.options());
            assert_eq!(back.codes(), index.codes());
            assert_eq!(answers(&back), answers(&index));
            assert!(answers(&back).n_code_distance_computations[0] > 0);
            assert_eq!(bytes_of(&back), bytes);
            // The codes' section: kind, its parts, then the count of labels and the checksum.
            let (n, dim) = (index.n_ids(), index.dim());
            let (kind, parts, rows, corruptions) = match quantization {
                // Ranges, then a byte per value.
                Quantization::Sq8 => (
                    SQ8_CODES,
                    8 * dim,
                    n * dim,
                    vec![(4 + 4 * dim, (-1.0f32).to_bits()), (4, f32::NAN.to_bits())],
                ),
                // Centre and signs, then per row its levels and two factors: the first row's
                // squared length and factor are corrupted.
                Quantization::Rabitq4 => {
                    let stride = Rabitq4::stride_of(dim);
                    let codes = 4 + 4 * (1 + ROUNDS) * dim;
                    (
                        RABITQ4_CODES,
                        4 * (1 + ROUNDS) * dim,
                        n * stride,
                        vec![
                            (4, f32::INFINITY.to_bits()),
                            (4 + 4 * dim, 0.5f32.to_bits()),
                            (codes + stride - 8, (-1.0f32).to_bits()),
                            (codes + stride - 4, f32::NAN.to_bits()),
                        ],
                    )
                }
            };
            let kind_at = bytes.len() - 4 - 8 - rows - parts - 4;
            assert_eq!(bytes[kind_at..kind_at + 4], kind.to_le_bytes());
            let unknown = (kind_at, 7u32, "unknown kind of codes");
            let bad_parts = corruptions
                .into_iter()
                .map(|(at, value)| (kind_at + at, value, "bad codes"));
            for (at, value, why) in std::iter::once(unknown).chain(bad_parts) {
                let mut bad = bytes.clone();
                bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
                reseal(&mut bad);
                assert_eq!(
                    read_index(&bad).unwrap_err(),
                    Error::Corrupt(why.to_string())
                );
            }
            for len in [kind_at, kind_at + 3, kind_at + 4 + dim, bytes.len() - 5] {
                assert!(read_index(&bytes[..len]).is_err(), "cut at {len}");
            }
        }
    }

    /// Rewrites the checksum at the end of `bytes` to match the rest, so that a change to them
    /// reaches the checks behind it.
    fn reseal(bytes: &mut [u8]) {
        let body = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
    }

    /// Offsets where the sections of `bytes` begin: header, vectors, adjacency, marks, checksum.
    fn section_starts(index: &Index) -> [usize; 5] {
        let degree = index.graph().map_or(0, Graph::max_degree);
        let (n, dim) = (index.n_ids(), index.dim());
        let vectors = HEADER_LEN;
        let links = vectors + 4 * n * dim;
        let marks = links + 4 * n * degree;
        [MAGIC.len(), vectors, links, marks, marks + n]
    }

    #[test]
    fn every_truncation_is_refused() {
        let index = sample(Metric::Euclidean);
        let bytes = bytes_of(&index);
        let boundaries = section_starts(&index)
            .into_iter()
            .flat_map(|at| [at - 1, at, at + 1]);
        for len in (0..bytes.len())
            .step_by(97)
            .chain(boundaries)
            .chain([bytes.len() - 1])
        {
            assert!(read_index(&bytes[..len]).is_err(), "truncated at {len}");
        }
    }

    #[test]
    fn a_file_cut_short_on_disk_is_refused() {
        let dir = std::env::temp_dir().join(format!("nswg-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.nswg");
        let index = sample(Metric::Cosine);
        save(&index, &path).unwrap();
        let full = std::fs::read(&path).unwrap();
        for at in section_starts(&index) {
            std::fs::write(&path, &full[..at]).unwrap();
            assert!(
                matches!(load(&path), Err(LoadError::Invalid(_))),
                "cut at {at}"
            );
        }
        assert!(matches!(load(&dir), Err(LoadError::Io(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn foreign_and_newer_files_are_refused_with_their_reason() {
        let mut bytes = bytes_of(&sample(Metric::Euclidean));
        assert!(matches!(
            read_index(b"GIF89a..........................................."),
            Err(Error::Corrupt(_))
        ));
        bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert_eq!(
            read_index(&bytes).unwrap_err(),
            Error::UnsupportedVersion {
                found: FORMAT_VERSION + 1,
                supported: FORMAT_VERSION
            }
        );
        bytes[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(read_index(&bytes), Err(Error::Corrupt(_))));
    }

    #[test]
    fn a_header_promising_huge_sizes_is_refused_without_allocating() {
        let mut bytes = bytes_of(&sample(Metric::Euclidean));
        let n_at = HEADER_LEN - 24;
        bytes[n_at..n_at + 8].copy_from_slice(&(u64::MAX / 3).to_le_bytes());
        assert!(matches!(read_index(&bytes), Err(Error::Corrupt(_))));
    }

    /// Small valid files of every kind: each metric, deletion marks, variable-length series, and
    /// the fuzzing corpus kept in the repository (`fuzz/corpus/load`).
    fn seed_files() -> Vec<Vec<u8>> {
        let tiny_with = |options, data: Vec<f32>, dim| {
            let mut index = Index::build(data, dim, options).unwrap();
            index.remove(&[1]).unwrap();
            bytes_of(&index)
        };
        let tiny = |metric, data: Vec<f32>, dim| {
            let options = IndexOptions {
                metric,
                graph: Some(GraphOptions {
                    n_neighbors: 2,
                    max_degree: 4,
                }),
                ..IndexOptions::default()
            };
            tiny_with(options, data, dim)
        };
        let values: Vec<f32> = (0..30 * 3).map(|i| ((i * 7 % 11) as f32) - 4.5).collect();
        let mut series = values.clone();
        series[5] = f32::NAN;
        // Exact and near copies, so that mutations reach the section of copies.
        let mut copies = values.clone();
        copies.extend_from_slice(&values[..6]);
        copies.extend(values[..6].iter().map(|x| x + 1e-6));
        let mut seeds = vec![
            tiny(Metric::Euclidean, values.clone(), 3),
            tiny(Metric::Euclidean, copies, 3),
            tiny(Metric::Cosine, values.clone(), 3),
            tiny(Metric::dtw(Band::Radius(1)), series, 3),
            tiny_with(
                IndexOptions {
                    metric: Metric::Euclidean,
                    quantization: Some(Quantization::Sq8),
                    graph: Some(GraphOptions {
                        n_neighbors: 2,
                        max_degree: 4,
                    }),
                    ..IndexOptions::default()
                },
                values.clone(),
                3,
            ),
            tiny(
                Metric::Dtw {
                    band: Band::Radius(1),
                    channels: 3,
                },
                values.clone(),
                6,
            ),
            tiny_with(
                IndexOptions {
                    metric: Metric::dtw(Band::Radius(1)),
                    graph: None,
                    ..IndexOptions::default()
                },
                values.clone(),
                3,
            ),
        ];
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/load");
        let entries = std::fs::read_dir(&corpus).unwrap_or_else(|e| panic!("{corpus:?}: {e}"));
        seeds.extend(entries.map(|e| std::fs::read(e.unwrap().path()).unwrap()));
        seeds
    }

    /// Changes `bytes` in one of the ways that files get damaged or forged.
    fn mutate(bytes: &mut Vec<u8>, rng: &mut impl Rng) {
        const WORDS: [u32; 8] = [0, 1, 2, 3, 0x7fc0_0000, 0x7f80_0000, 0x8000_0000, u32::MAX];
        let len = bytes.len().max(1);
        match rng.random_range(0..7) {
            0 => {
                let at = rng.random_range(0..len).min(bytes.len().saturating_sub(1));
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << rng.random_range(0..8);
                }
            }
            1 => {
                // A header field: the metric, version, or one of the ten sizes and parameters.
                let value: u64 = match rng.random_range(0..4) {
                    0 => rng.random_range(0..5),
                    1 => u64::MAX,
                    2 => 1 << rng.random_range(0..64),
                    _ => rng.random(),
                };
                let at = 8 + 4 * rng.random_range(0..2usize);
                let (at, width) = if rng.random_bool(0.3) {
                    (at, 4)
                } else {
                    (16 + 8 * rng.random_range(0..10usize), 8)
                };
                if bytes.len() >= at + width {
                    bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
                }
            }
            2 => {
                // A value in the body: a float or an id that is special.
                let at = 4 * rng.random_range(0..len / 4 + 1);
                let word = WORDS[rng.random_range(0..WORDS.len())];
                if bytes.len() >= at + 4 {
                    bytes[at..at + 4].copy_from_slice(&word.to_le_bytes());
                }
            }
            3 => bytes.truncate(rng.random_range(0..len)),
            4 => bytes.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>())),
            5 => {
                let (a, b) = (rng.random_range(0..len), rng.random_range(0..len));
                let (from, to) = (a.min(b).min(bytes.len()), a.max(b).min(bytes.len()));
                let copy = bytes[from..to].to_vec();
                let at = rng.random_range(0..=bytes.len());
                bytes.splice(at..at, copy);
            }
            _ => {
                let n = rng.random_range(0..len);
                *bytes = (0..n).map(|_| rng.random()).collect();
            }
        }
    }

    #[test]
    fn mutated_files_are_refused_or_load_into_a_working_index() {
        use rand::SeedableRng;
        let seeds = seed_files();
        // The corpus replayed as it is, then mutated.
        for seed in &seeds {
            check_any_bytes(seed);
        }
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(20261122);
        let (tries, mut loaded) = (60_000, 0);
        for i in 0..tries {
            let mut bytes = seeds[i % seeds.len()].clone();
            for _ in 0..rng.random_range(1..4) {
                mutate(&mut bytes, &mut rng);
            }
            // With a recomputed checksum the checks behind it are reached too.
            if rng.random_bool(0.7) && bytes.len() >= 4 {
                reseal(&mut bytes);
            }
            loaded += usize::from(check_any_bytes(&bytes));
        }
        println!(
            "{} corpus files and {tries} mutations of them, {loaded} loaded and answered",
            seeds.len()
        );
        assert!(loaded > 0 && loaded < tries / 2);
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
        assert_eq!(back.removed(), second.removed());
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["index.nswg"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn scratch_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("nswg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_name_of_255_bytes_can_be_saved() {
        let dir = scratch_dir("long-name");
        let index = sample(Metric::Euclidean);
        for name in ["i".repeat(255), "é".repeat(127)] {
            let path = dir.join(&name);
            save(&index, &path).unwrap();
            assert_eq!(load(&path).unwrap().n_ids(), index.n_ids());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn saving_keeps_the_permissions_and_writes_through_a_link() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = scratch_dir("modes");
        let index = sample(Metric::Euclidean);
        let target = dir.join("target.nswg");
        std::fs::write(&target, b"old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.join("link.nswg");
        symlink("target.nswg", &link).unwrap();
        save(&index, &link).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(&target).unwrap().n_ids(), index.n_ids());
        // A link to a file not yet written creates it.
        symlink("new.nswg", dir.join("dangling.nswg")).unwrap();
        save(&index, &dir.join("dangling.nswg")).unwrap();
        assert!(load(&dir.join("new.nswg")).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_is_neither_read_nor_replaced_and_a_directory_fails_to_read() {
        let dir = scratch_dir("not-regular");
        assert!(matches!(load(&dir), Err(LoadError::Io(_))));
        #[cfg(target_os = "linux")]
        {
            let fifo = dir.join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let err = save(&sample(Metric::Euclidean), &fifo).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
                let err = load(&fifo).unwrap_err();
                assert!(
                    matches!(&err, LoadError::Invalid(Error::Corrupt(m)) if m.contains("regular")),
                    "{err}"
                );
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_with_values_beyond_the_metric_range_is_refused() {
        let mut bytes = bytes_of(&sample(Metric::Euclidean));
        // The first vector value starts right after the header; rewrite it and the checksum.
        let big = 1e30f32.to_le_bytes();
        bytes[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&big);
        reseal(&mut bytes);
        let err = read_index(&bytes).unwrap_err();
        assert!(
            matches!(&err, Error::Corrupt(m) if m.contains("range")),
            "{err}"
        );
    }

    #[test]
    fn rows_on_huge_pages_keep_their_values_through_add_and_load() {
        // 10,000 rows of 128 values take 5 MB, so they hold whole 2 MiB pages that are advised
        // after the build, again after `add` has moved them, and after a load.
        let (n, dim, k) = (10_000, 128, 5);
        let data = gaussian_like(n, dim, 61);
        let half = n / 2 * dim;
        let mut index =
            Index::build(data[..half].to_vec(), dim, options(Metric::Euclidean)).unwrap();
        index.add(data[half..].to_vec()).unwrap();
        assert_eq!(index.points().as_slice(), &data[..]);
        let ids: Vec<usize> = (0..n).step_by(97).collect();
        let queries: Vec<f32> = ids
            .iter()
            .flat_map(|&id| &data[id * dim..(id + 1) * dim])
            .copied()
            .collect();
        let exact = index.search(queries.clone(), &query(k, true)).unwrap();
        for (&id, row) in ids.iter().zip(exact.ids.chunks(k)) {
            assert_eq!(row[0], id as u64, "an indexed row is its own nearest");
        }
        let graph = index.search(queries.clone(), &query(k, false)).unwrap();
        let r = recall(&graph.ids, &exact.ids, k);
        println!("recall@{k} on 128-d rows: {r:.3}");
        assert!(r > 0.8, "{r}");
        // Read back from a file, the rows are advised once more.
        let mut bytes = Vec::new();
        write_index(&index, &mut bytes).unwrap();
        let loaded = read_index(&bytes).unwrap();
        assert_eq!(loaded.points().as_slice(), &data[..]);
        assert_eq!(
            loaded.search(queries, &query(k, false)).unwrap().ids,
            graph.ids
        );
    }

    /// The outcome of loading `path` in memory and mapped: `Ok` of both, or their two errors.
    fn both_loads(path: &Path) -> std::result::Result<(Index, Index), (String, String)> {
        match (load(path), load_mapped(path)) {
            (Ok(loaded), Ok(mapped)) => Ok((loaded, mapped)),
            (a, b) => Err((
                a.err().map_or("loaded".into(), |e| e.to_string()),
                b.err().map_or("loaded".into(), |e| e.to_string()),
            )),
        }
    }

    /// Same answers, same distances, same counts, exact and on the graph.
    fn assert_same_answers(loaded: &Index, mapped: &Index) {
        let dim = loaded.dim();
        let queries: Vec<f32> = (0..6 * dim).map(|i| (i as f32 * 0.37).sin()).collect();
        for exact in [true, false] {
            if !exact && !loaded.has_graph() {
                continue;
            }
            let k = loaded.len().min(5);
            let options = query(k, exact);
            assert_eq!(
                loaded.search(queries.clone(), &options).unwrap(),
                mapped.search(queries.clone(), &options).unwrap()
            );
        }
    }

    #[test]
    fn a_mapped_index_answers_as_a_loaded_one_and_refuses_changes() {
        let dir = scratch_dir("mapped");
        let path = dir.join("index.nswg");
        let sq8 = sample_with(IndexOptions {
            quantization: Some(Quantization::Sq8),
            ..IndexOptions::default()
        });
        let mut files = seed_files();
        files.extend(
            [
                Metric::Euclidean,
                Metric::Cosine,
                Metric::dtw(Band::Radius(2)),
            ]
            .map(|m| bytes_of(&sample(m))),
        );
        files.push(bytes_of(&sq8));
        // The corpus holds damaged files too: the valid ones are those to compare.
        files.retain(|bytes| read_index(bytes).is_ok());
        assert!(files.len() >= 11, "{}", files.len());
        for bytes in &files {
            std::fs::write(&path, bytes).unwrap();
            let (loaded, mut mapped) = both_loads(&path).unwrap();
            assert!(mapped.is_mapped() && !loaded.is_mapped());
            assert_eq!(mapped.vectors().as_ptr() as usize % 4, 0);
            let bits = |index: &Index| {
                index
                    .vectors()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&mapped), bits(&loaded));
            assert_eq!(mapped.nbytes(), loaded.nbytes());
            assert_same_answers(&loaded, &mapped);
            if bytes[8..12] == FORMAT_VERSION.to_le_bytes() {
                assert_eq!(&bytes_of(&mapped), bytes);
            }
            assert_eq!(
                mapped.add(loaded.vectors()[..loaded.dim()].to_vec()),
                Err(Error::ReadOnly { operation: "add" })
            );
            assert_eq!(
                mapped.remove(&[0]),
                Err(Error::ReadOnly {
                    operation: "remove"
                })
            );
            assert_eq!(
                mapped.compact(),
                Err(Error::ReadOnly {
                    operation: "compact"
                })
            );
            // A clone shares the map; the index is unchanged by the refusals.
            assert_same_answers(&loaded, &mapped.clone());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn saving_over_the_mapped_file_leaves_the_mapped_index_answering_as_before() {
        let dir = scratch_dir("mapped-save");
        let path = dir.join("index.nswg");
        let first = sample(Metric::Euclidean);
        save(&first, &path).unwrap();
        let mapped = load_mapped(&path).unwrap();
        // Saved over its own file, then replaced by another index.
        save(&mapped, &path).unwrap();
        assert_same_answers(&first, &load(&path).unwrap());
        let other = sample(Metric::Cosine);
        save(&other, &path).unwrap();
        assert_same_answers(&first, &mapped);
        assert_same_answers(&other, &load_mapped(&path).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_mapped_load_refuses_exactly_what_a_load_refuses() {
        use rand::SeedableRng;
        let dir = scratch_dir("mapped-refused");
        let path = dir.join("index.nswg");
        let seeds = seed_files();
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(20261203);
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for seed in &seeds {
            cases.extend((0..seed.len()).step_by(13).map(|at| seed[..at].to_vec()));
        }
        for i in 0..3_000 {
            let mut bytes = seeds[i % seeds.len()].clone();
            mutate(&mut bytes, &mut rng);
            if rng.random_bool(0.7) && bytes.len() >= 4 {
                reseal(&mut bytes);
            }
            cases.push(bytes);
        }
        let mut loaded = 0;
        for bytes in &cases {
            std::fs::write(&path, bytes).unwrap();
            match both_loads(&path) {
                Ok((a, b)) => {
                    loaded += 1;
                    assert_same_answers(&a, &b);
                }
                Err((a, b)) => assert_eq!(a, b, "both refuse, for the same reason"),
            }
        }
        println!("{} files, {loaded} loaded both ways", cases.len());
        assert!(loaded > 0 && loaded < cases.len() / 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

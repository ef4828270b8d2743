//! A buffer of plain values, owned or read in place from a memory-mapped file.
//!
//! [`Points`](super::Points) and [`Graph`](crate::graph::Graph) keep their values in a
//! [`Buffer`], which derefs to `&[T]`: searches read a mapped index exactly as an owned one.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;

/// Values whose bytes, on a little-endian CPU, are the file's little-endian bytes: any 4 bytes
/// are a valid value and no value holds a pointer.
pub(crate) trait Plain: Copy + 'static {}
impl Plain for f32 {}
impl Plain for u32 {}

/// Values of `T`, in a `Vec` or in the pages of a file mapped read-only.
#[derive(Debug, Clone)]
pub(crate) enum Buffer<T: Plain> {
    Owned(Vec<T>),
    Mapped(Mapped<T>),
}

impl<T: Plain> Buffer<T> {
    /// The values to change, copied out of the file first if they are mapped.
    pub(crate) fn to_mut(&mut self) -> &mut Vec<T> {
        if let Buffer::Mapped(mapped) = self {
            *self = Buffer::Owned(mapped.to_vec());
        }
        match self {
            Buffer::Owned(values) => values,
            Buffer::Mapped(_) => unreachable!("copied above"),
        }
    }

    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self, Buffer::Mapped(_))
    }

    /// The values if they are owned: only memory of the process takes advice on its pages.
    pub(crate) fn owned(&self) -> Option<&[T]> {
        match self {
            Buffer::Owned(values) => Some(values),
            Buffer::Mapped(_) => None,
        }
    }
}

impl<T: Plain> Default for Buffer<T> {
    fn default() -> Self {
        Buffer::Owned(Vec::new())
    }
}

impl<T: Plain> From<Vec<T>> for Buffer<T> {
    fn from(values: Vec<T>) -> Self {
        Buffer::Owned(values)
    }
}

impl<T: Plain> Deref for Buffer<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Buffer::Owned(values) => values,
            Buffer::Mapped(mapped) => mapped,
        }
    }
}

impl<T: Plain + PartialEq> PartialEq for Buffer<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Plain + Eq> Eq for Buffer<T> {}

/// `len` values of `T` at byte `offset` of a read-only map, shared by every buffer cut from it.
#[derive(Debug, Clone)]
pub(crate) struct Mapped<T> {
    map: Arc<Mmap>,
    offset: usize,
    len: usize,
    values: PhantomData<T>,
}

impl<T: Plain> Mapped<T> {
    /// The `len` values at byte `offset` of `map`; `None` where they would not lie inside it,
    /// aligned for `T`, or where the CPU's byte order is not the file's (big-endian).
    pub(crate) fn new(map: Arc<Mmap>, offset: usize, len: usize) -> Option<Self> {
        let end = len
            .checked_mul(size_of::<T>())
            .and_then(|bytes| offset.checked_add(bytes))?;
        let aligned = (map.as_ptr() as usize + offset).is_multiple_of(align_of::<T>());
        (cfg!(target_endian = "little") && aligned && end <= map.len()).then_some(Self {
            map,
            offset,
            len,
            values: PhantomData,
        })
    }
}

impl<T: Plain> Deref for Mapped<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: `new` checked that the `len` values lie inside the map and are aligned, and
        // `Plain` values are valid for any bytes. The map lives as long as `self` holds it. It
        // is read-only in this process; the file changing underneath is what the format's
        // documentation forbids (`docs/format.md`), as every reader of a mapped file must.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(self.offset).cast(), self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_of(bytes: &[u8]) -> (Arc<Mmap>, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "nswg-buffer-{}-{}.bin",
            std::process::id(),
            bytes.len()
        ));
        std::fs::write(&path, bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the test's own file, unchanged while mapped.
        let map = unsafe { Mmap::map(&file) }.unwrap();
        (Arc::new(map), path)
    }

    #[test]
    fn a_mapped_buffer_reads_the_file_values_in_place() {
        let values: Vec<u32> = (0..1000).map(|i| i * 7 + 1).collect();
        let mut bytes = vec![0u8; 12];
        bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        let (map, path) = map_of(&bytes);
        let mapped = Mapped::<u32>::new(map.clone(), 12, 1000).unwrap();
        let buffer = Buffer::Mapped(mapped);
        assert!(buffer.is_mapped() && buffer.owned().is_none());
        assert_eq!(&*buffer, &values[..]);
        assert_eq!(buffer, Buffer::from(values.clone()));
        assert_eq!(buffer.as_ptr() as usize, map.as_ptr() as usize + 12);
        // Clones share the map; changing one copies it out and leaves the others in place.
        let mut changed = buffer.clone();
        changed.to_mut().push(5);
        assert!(!changed.is_mapped() && buffer.is_mapped());
        assert_eq!(&changed[..1000], &values[..]);
        assert_eq!(changed.len(), 1001);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn values_outside_the_map_or_misaligned_are_refused() {
        let (map, path) = map_of(&[0u8; 64]);
        assert!(Mapped::<f32>::new(map.clone(), 0, 16).is_some());
        assert!(Mapped::<f32>::new(map.clone(), 4, 16).is_none());
        assert!(Mapped::<f32>::new(map.clone(), 2, 1).is_none());
        assert!(Mapped::<f32>::new(map.clone(), 64, 0).is_some());
        assert!(Mapped::<f32>::new(map, usize::MAX - 1, usize::MAX / 2).is_none());
        std::fs::remove_file(path).unwrap();
    }
}

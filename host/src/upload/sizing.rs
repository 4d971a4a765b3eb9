//! How a file is cut into chunks: the server decides, from the file size and
//! the client's preference, within fixed bounds.

pub use hangar_client::chunking::{
    CHUNK_ALIGN, DEFAULT_CHUNK_BYTES, DEFAULT_MAX_CHUNK_BYTES, MAX_CHUNKS, MIN_CHUNK_BYTES,
};

/// Default largest file, 50 GiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 50 << 30;

/// The bounds chunk sizes are chosen within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChunkLimits {
    /// Largest file accepted.
    pub max_file_bytes: u64,
    /// Largest chunk.
    pub max_chunk_bytes: u64,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
        }
    }
}

/// The chosen layout of one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// File size.
    pub size: u64,
    /// Size of every chunk but the last.
    pub chunk_size: u64,
    /// Number of chunks (0 for an empty file).
    pub chunk_count: u32,
}

impl Layout {
    /// Picks the chunk size for `size` bytes with
    /// [`hangar_client::chunking::chunk_size`] (the rule clients plan with),
    /// bounded by the configured largest chunk.
    ///
    /// # Errors
    /// The file is larger than the limit.
    pub fn choose(size: u64, preferred: Option<u64>, limits: ChunkLimits) -> Result<Self, u64> {
        if size > limits.max_file_bytes {
            return Err(limits.max_file_bytes);
        }
        let chunk_size =
            hangar_client::chunking::chunk_size(size, preferred, limits.max_chunk_bytes);
        // The file limit is at most MAX_CHUNKS * max_chunk_bytes (checked
        // in the configuration), so this never exceeds MAX_CHUNKS.
        let chunk_count =
            u32::try_from(size.div_ceil(chunk_size)).map_err(|_| limits.max_file_bytes)?;
        Ok(Self {
            size,
            chunk_size,
            chunk_count,
        })
    }

    /// The exact length of chunk `index`, or `None` when out of range.
    pub fn chunk_len(&self, index: u32) -> Option<u64> {
        if index >= self.chunk_count {
            return None;
        }
        let start = u64::from(index) * self.chunk_size;
        Some((self.size - start).min(self.chunk_size))
    }

    /// Byte offset where chunk `index` starts.
    pub fn chunk_start(&self, index: u32) -> u64 {
        u64::from(index) * self.chunk_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_get_one_minimum_chunk() {
        let layout = Layout::choose(1000, None, ChunkLimits::default()).unwrap();
        assert_eq!(layout.chunk_count, 1);
        assert_eq!(layout.chunk_len(0), Some(1000));
        assert_eq!(layout.chunk_len(1), None);
    }

    #[test]
    fn preferences_are_clamped() {
        let limits = ChunkLimits::default();
        let tiny = Layout::choose(100 << 20, Some(1024), limits).unwrap();
        assert_eq!(tiny.chunk_size, MIN_CHUNK_BYTES);
        let odd = Layout::choose(100 << 20, Some((6 << 20) + 1), limits).unwrap();
        assert_eq!(odd.chunk_size, (6 << 20) + CHUNK_ALIGN);
        let huge = Layout::choose(100 << 20, Some(1 << 40), limits).unwrap();
        assert_eq!(huge.chunk_size, DEFAULT_MAX_CHUNK_BYTES);
    }

    #[test]
    fn the_largest_file_fits_in_ten_thousand_chunks() {
        let limits = ChunkLimits::default();
        let layout = Layout::choose(limits.max_file_bytes, Some(MIN_CHUNK_BYTES), limits).unwrap();
        assert!(u64::from(layout.chunk_count) <= MAX_CHUNKS);
        assert!(layout.chunk_size >= MIN_CHUNK_BYTES);
        assert_eq!(layout.chunk_size % CHUNK_ALIGN, 0);
        let last = layout.chunk_len(layout.chunk_count - 1).unwrap();
        assert!(last > 0 && last <= layout.chunk_size);
    }

    #[test]
    fn files_above_the_limit_are_refused_and_empty_files_have_no_chunks() {
        let limits = ChunkLimits::default();
        assert_eq!(
            Layout::choose(limits.max_file_bytes + 1, None, limits),
            Err(limits.max_file_bytes)
        );
        assert_eq!(Layout::choose(0, None, limits).unwrap().chunk_count, 0);
    }

    #[test]
    fn chunk_lengths_add_up() {
        let layout = Layout::choose(
            (17 << 20) + 3,
            Some(MIN_CHUNK_BYTES),
            ChunkLimits::default(),
        )
        .unwrap();
        let total: u64 = (0..layout.chunk_count)
            .filter_map(|i| layout.chunk_len(i))
            .sum();
        assert_eq!(total, layout.size);
        assert_eq!(layout.chunk_count, 4);
    }
}

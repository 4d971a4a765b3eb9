//! How a file is cut into chunks: one rule for the server, which decides,
//! and for clients, which plan ahead (they hash every chunk while they hash
//! the file, before the server has answered).

/// Smallest chunk (every chunk but the last); also S3's smallest part.
pub const MIN_CHUNK_BYTES: u64 = 5 << 20;
/// Most chunks one upload may have.
pub const MAX_CHUNKS: u64 = 10_000;
/// Largest chunk unless the server is configured otherwise, 64 MiB.
pub const DEFAULT_MAX_CHUNK_BYTES: u64 = 64 << 20;
/// Chunk size when the client states no preference.
pub const DEFAULT_CHUNK_BYTES: u64 = 8 << 20;
/// Chunk sizes are multiples of this (before the clamp to the bounds), so
/// every chunk starts on a 64-byte MD5 block of the file and its hash can
/// run in one pass with the whole file's (see [`crate::md5pair`]).
pub const CHUNK_ALIGN: u64 = 64 << 10;

/// The chunk size for a file of `size` bytes: the preference (or
/// [`DEFAULT_CHUNK_BYTES`]), raised so there are at most [`MAX_CHUNKS`]
/// chunks, rounded up to a multiple of [`CHUNK_ALIGN`], kept between
/// [`MIN_CHUNK_BYTES`] and `max_chunk_bytes`.
pub fn chunk_size(size: u64, preferred: Option<u64>, max_chunk_bytes: u64) -> u64 {
    preferred
        .unwrap_or(DEFAULT_CHUNK_BYTES)
        .max(size.div_ceil(MAX_CHUNKS))
        .checked_next_multiple_of(CHUNK_ALIGN)
        .unwrap_or(u64::MAX)
        .clamp(MIN_CHUNK_BYTES, max_chunk_bytes.max(MIN_CHUNK_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_rules() {
        let max = DEFAULT_MAX_CHUNK_BYTES;
        assert_eq!(chunk_size(1 << 30, None, max), 8 << 20);
        assert_eq!(chunk_size(1 << 30, Some(1), max), 5 << 20);
        assert_eq!(
            chunk_size(50 << 30, Some(5 << 20), max),
            (50u64 << 30).div_ceil(10_000).next_multiple_of(64 << 10)
        );
        assert_eq!(chunk_size(1 << 40, None, max), 64 << 20);
        assert_eq!(
            chunk_size(1 << 30, Some((6 << 20) + 1), max),
            (6 << 20) + CHUNK_ALIGN
        );
    }
}

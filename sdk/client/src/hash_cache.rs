//! Hashes of files whose upload has not finished, kept on disk so that an
//! interrupted upload, run again, resumes without reading the file twice.
//!
//! An entry is used only while the file keeps its size, modification time
//! and, on Unix, its inode and status-change time (which a write updates
//! even when the modification time is set back); it is removed once the
//! upload is done, and dropped when the server refuses the hashes.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::upload::FileHashes;

/// The cache: one JSON file per uploaded file, in a directory.
#[derive(Debug, Clone)]
pub struct HashCache {
    dir: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    path: PathBuf,
    stamp: Stamp,
    hashes: FileHashes,
}

/// What identifies a version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    modified_ns: u64,
    /// Inode and status-change time, where there are such things.
    inode: u64,
    changed_ns: i128,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    #[cfg(unix)]
    let (inode, changed_ns) = {
        use std::os::unix::fs::MetadataExt as _;
        (
            meta.ino(),
            i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        )
    };
    #[cfg(not(unix))]
    let (inode, changed_ns) = (0, 0);
    Some(Stamp {
        size: meta.len(),
        modified_ns: u64::try_from(modified.as_nanos()).ok()?,
        inode,
        changed_ns,
    })
}

impl HashCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn entry_path(&self, path: &Path) -> Option<(PathBuf, PathBuf)> {
        let canonical = std::fs::canonicalize(path).ok()?;
        let key = hex::encode(Sha256::digest(canonical.as_os_str().as_encoded_bytes()));
        Some((canonical, self.dir.join(format!("{key}.json"))))
    }

    /// The hashes of `path` with chunk MD5s for `chunk_size`, if cached for
    /// the file as it is now.
    pub fn get(&self, path: &Path, chunk_size: u64) -> Option<FileHashes> {
        let (canonical, file) = self.entry_path(path)?;
        let entry: Entry = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
        let now = stamp(path)?;
        let fits = entry.path == canonical
            && entry.stamp == now
            && entry.hashes.size == now.size
            && entry
                .hashes
                .chunks
                .as_ref()
                .is_some_and(|c| c.chunk_size == chunk_size);
        fits.then_some(entry.hashes)
    }

    /// Keeps `hashes` of `path`, unless the file changed while it was read.
    /// Failing to write only costs a second reading later.
    pub fn put(&self, path: &Path, hashes: &FileHashes) {
        let (Some((canonical, file)), Some(stamp)) = (self.entry_path(path), stamp(path)) else {
            return;
        };
        if stamp.size != hashes.size {
            return;
        }
        let entry = Entry {
            path: canonical,
            stamp,
            hashes: hashes.clone(),
        };
        let written = std::fs::create_dir_all(&self.dir).and_then(|()| {
            let tmp = file.with_extension("tmp");
            std::fs::write(&tmp, serde_json::to_vec(&entry).unwrap_or_default())?;
            std::fs::rename(tmp, &file)
        });
        if let Err(err) = written {
            tracing::warn!(dir = %self.dir.display(), error = %err, "could not keep the file's hashes");
        }
    }

    /// Forgets `path` (its upload is done, or its hashes were refused).
    pub fn remove(&self, path: &Path) {
        if let Some((_, file)) = self.entry_path(path) {
            let _ = std::fs::remove_file(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::hash_file;

    #[test]
    fn entries_hold_while_the_file_is_unchanged() {
        let dir = tempfile_dir("cache");
        let file = dir.join("data.bin");
        std::fs::write(&file, vec![1u8; 100_000]).unwrap();
        let cache = HashCache::new(dir.join("hashes"));
        assert_eq!(cache.get(&file, 5 << 20), None);
        let hashes = hash_file(&file, Some(5 << 20), &|_, _| {}).unwrap();
        cache.put(&file, &hashes);
        assert_eq!(cache.get(&file, 5 << 20), Some(hashes.clone()));
        // Another chunk size needs other chunk MD5s.
        assert_eq!(cache.get(&file, 6 << 20), None);
        // A changed file (new size and time) is hashed again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, vec![2u8; 100_001]).unwrap();
        assert_eq!(cache.get(&file, 5 << 20), None);
        cache.put(&file, &hashes);
        assert_eq!(cache.get(&file, 5 << 20), None, "stale hashes are not kept");
        cache.remove(&file);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hangar-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

//! On-disk cache of compiled components, keyed by component digest and
//! engine compatibility, so a restart loads native code instead of
//! recompiling.
//!
//! Loading a precompiled artifact runs native code without validation, so
//! every file carries an HMAC-SHA256 of the component's digest and the
//! payload, under a key only this host holds (`.key` in the cache
//! directory, 0600, made on first use), checked before `deserialize`: a
//! corrupted or tampered file, or one copied over another component's
//! name, is recompiled, never run. Files are written to a temporary name,
//! synced, then renamed, so a crash never leaves a half-written artifact
//! under a real name.
//!
//! File layout: `MAGIC` (8 bytes) | HMAC (32 bytes) | payload.
//!
//! File names carry the component's digest and a key of the engine's
//! compatibility hash (SHA-256 of it, stable across Rust releases, unlike
//! `DefaultHasher`); artifacts of another engine key can never load here
//! and are removed when the cache opens.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hangar_registry::Digest;
use sha2::{Digest as _, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::compile::{self, Compiler};
use super::engine::EngineSettings;

const MAGIC: &[u8; 8] = b"HANGARC2";
const HEADER: usize = MAGIC.len() + 32;

/// Counts of what the cache did; tests and the admin API read them.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Components compiled from WebAssembly.
    pub compiled: AtomicU64,
    /// Components loaded from a cached artifact.
    pub hits: AtomicU64,
    /// Cached artifacts refused (bad checksum, incompatible, unreadable).
    pub rejected: AtomicU64,
}

/// A snapshot of [`CacheStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheCounts {
    /// Components compiled from WebAssembly.
    pub compiled: u64,
    /// Components loaded from a cached artifact.
    pub hits: u64,
    /// Cached artifacts refused.
    pub rejected: u64,
}

/// The compiled-component cache in one directory.
#[derive(Debug)]
pub struct CompiledCache {
    dir: PathBuf,
    engine_key: String,
    /// The host's key that authenticates artifacts.
    mac_key: [u8; 32],
    stats: CacheStats,
    /// Where components are compiled, and the engine settings a child
    /// compiler must match.
    compiler: (Compiler, EngineSettings),
    /// One compile per digest at a time: a second load of the same
    /// component waits for the first and loads its artifact.
    compiling: Mutex<HashMap<Digest, Arc<Mutex<()>>>>,
}

impl CompiledCache {
    /// A cache in `dir` for artifacts compatible with `engine`.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex::encode(&hasher.0.finalize()[..8]);
        let cache = Self {
            dir: dir.to_path_buf(),
            engine_key,
            mac_key: host_key(&dir.join(".key"))?,
            stats: CacheStats::default(),
            compiler: (Compiler::InProcess, EngineSettings::default()),
            compiling: Mutex::default(),
        };
        let removed = cache.remove_stale()?;
        if removed > 0 {
            tracing::info!(removed, "removed compiled components of another engine");
        }
        Ok(cache)
    }

    /// This cache compiling with `compiler`; a child compiler builds its
    /// engine from `settings`, which must be the ones `engine` was built
    /// from.
    #[must_use]
    pub fn compiling_with(mut self, compiler: Compiler, settings: EngineSettings) -> Self {
        self.compiler = (compiler, settings);
        self
    }

    /// Removes artifacts this engine can never load (another engine key).
    fn remove_stale(&self) -> std::io::Result<usize> {
        let suffix = format!("-{}.cwasm", self.engine_key);
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".cwasm") && !name.ends_with(&suffix) {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// What the cache has done so far.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            compiled: self.stats.compiled.load(Ordering::Relaxed),
            hits: self.stats.hits.load(Ordering::Relaxed),
            rejected: self.stats.rejected.load(Ordering::Relaxed),
        }
    }

    /// Where the artifact of `digest` lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", digest.hex(), self.engine_key))
    }

    /// The component with `digest`: from the cache when a valid artifact is
    /// there, else compiled from `wasm` (whose digest the caller verified)
    /// and cached. Blocking: call it off the async runtime.
    ///
    /// # Errors
    /// When `wasm` does not compile. A cache that cannot be written is
    /// logged, not an error.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        digest: &Digest,
        wasm: &[u8],
    ) -> wasmtime::Result<Component> {
        if let Some(component) = self.load(engine, digest) {
            return Ok(component);
        }
        // The same component asked for twice at once compiles once: the
        // second waits here, then finds the first one's artifact.
        let turn = self
            .compiling
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(*digest)
            .or_default()
            .clone();
        let _turn = turn.lock().unwrap_or_else(PoisonError::into_inner);
        let loaded = self.load(engine, digest);
        let answer = match loaded {
            Some(component) => Ok(component),
            None => self.compile(engine, digest, wasm),
        };
        self.compiling
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(digest);
        answer
    }

    fn compile(
        &self,
        engine: &Engine,
        digest: &Digest,
        wasm: &[u8],
    ) -> wasmtime::Result<Component> {
        let started = std::time::Instant::now();
        if let (Compiler::Child(exe), settings) = &self.compiler {
            match compile::in_child(exe, settings, wasm) {
                Ok(payload) => {
                    // SAFETY: the payload is what `precompile_component` of
                    // an engine with this engine's settings produced, just
                    // now, from bytes whose digest the caller verified;
                    // wasmtime refuses an artifact of another version or
                    // configuration.
                    #[allow(unsafe_code)]
                    let loaded = unsafe { Component::deserialize(engine, &payload) };
                    match loaded {
                        Ok(component) => {
                            self.count_compile(started);
                            if let Err(err) = self.store(digest, &payload) {
                                tracing::warn!(%digest, error = %err, "compiled component not cached");
                            }
                            return Ok(component);
                        }
                        Err(err) => {
                            tracing::warn!(%digest, error = %format!("{err:#}"), "the compiler process wrote an artifact this engine refuses; compiling here")
                        }
                    }
                }
                // The component itself is refused: compiling here would
                // refuse it too.
                Err(compile::ChildError::Failed(message)) => {
                    return Err(wasmtime::Error::msg(message));
                }
                Err(err) => {
                    tracing::warn!(%digest, error = %err, "the compiler process could not run; compiling here");
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        self.count_compile(started);
        match component.serialize() {
            Ok(payload) => {
                if let Err(err) = self.store(digest, &payload) {
                    tracing::warn!(%digest, error = %err, "compiled component not cached");
                }
            }
            Err(err) => {
                tracing::warn!(%digest, error = %err, "compiled component not serialisable")
            }
        }
        Ok(component)
    }

    fn count_compile(&self, started: std::time::Instant) {
        self.stats.compiled.fetch_add(1, Ordering::Relaxed);
        let metrics = crate::metrics::metrics();
        metrics.plugin_compiles.inc();
        metrics
            .plugin_compile_seconds
            .observe(started.elapsed().as_secs_f64());
    }

    /// The cached component with `digest`, without the WebAssembly: used
    /// when the registry cannot be reached.
    pub fn load(&self, engine: &Engine, digest: &Digest) -> Option<Component> {
        let path = self.path(digest);
        let file = match std::fs::read(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            Err(err) => {
                self.reject(&path, &format!("unreadable: {err}"));
                return None;
            }
        };
        let Some(payload) = verified_payload(&self.mac_key, digest, &file) else {
            self.reject(&path, "checksum mismatch or bad header");
            return None;
        };
        // SAFETY: the payload is byte-for-byte what `Component::serialize`
        // produced for this engine configuration: its SHA-256 was recorded
        // when it was written and has just been checked. wasmtime itself
        // refuses artifacts of another version or configuration.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, payload) };
        match component {
            Ok(component) => {
                self.stats.hits.fetch_add(1, Ordering::Relaxed);
                crate::metrics::metrics().plugin_cache_hits.inc();
                Some(component)
            }
            Err(err) => {
                self.reject(&path, &format!("not loadable: {err}"));
                None
            }
        }
    }

    fn reject(&self, path: &Path, why: &str) {
        self.stats.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %path.display(), why, "cached artifact refused; recompiling");
        let _ = std::fs::remove_file(path);
    }

    fn store(&self, digest: &Digest, payload: &[u8]) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(MAGIC)?;
        tmp.write_all(&mac(&self.mac_key, digest, payload))?;
        tmp.write_all(payload)?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.path(digest)).map_err(|err| err.error)?;
        Ok(())
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

/// The HMAC of an artifact: binds the payload to the component's digest.
fn mac(key: &[u8; 32], digest: &Digest, payload: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(digest.as_bytes());
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

fn verified_payload<'a>(key: &[u8; 32], digest: &Digest, file: &'a [u8]) -> Option<&'a [u8]> {
    use hmac::Mac as _;
    if file.len() < HEADER || &file[..MAGIC.len()] != MAGIC {
        return None;
    }
    let (header, payload) = file.split_at(HEADER);
    let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(key).ok()?;
    mac.update(digest.as_bytes());
    mac.update(payload);
    // Constant-time comparison.
    mac.verify_slice(&header[MAGIC.len()..]).ok()?;
    Some(payload)
}

/// The host's artifact key at `path`: read, or made (0600) when missing.
///
/// The key is written whole to a private file first and then hard-linked
/// into place: a link never replaces and is atomic, so a process starting
/// at the same moment sees either no key or all 32 bytes, never a file that
/// was created and not yet written.
fn host_key(path: &Path) -> std::io::Result<[u8; 32]> {
    let read = |path: &Path| -> std::io::Result<Option<[u8; 32]>> {
        match std::fs::read(path) {
            Ok(existing) => <[u8; 32]>::try_from(existing.as_slice())
                .map(Some)
                .map_err(|_| {
                    std::io::Error::other(format!(
                        "{} is not a 32-byte key; remove it to make a new one",
                        path.display()
                    ))
                }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    };
    if let Some(key) = read(path)? {
        return Ok(key);
    }
    let key: [u8; 32] = rand::random();
    let staged = path.with_extension(format!("new-{:016x}", rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let linked = options
        .open(&staged)
        .and_then(|mut file| {
            file.write_all(&key)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&staged, path));
    // The staged name is only a step; a failure to remove it loses nothing.
    let _ = std::fs::remove_file(&staged);
    match linked {
        Ok(()) => Ok(key),
        // Another process linked its key first: use that one.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            read(path)?.ok_or_else(|| std::io::Error::other(format!("{} vanished", path.display())))
        }
        Err(err) => Err(err),
    }
}

/// Feeds what a `Hash` writes into SHA-256: a hash of it that stays the
/// same across Rust releases.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(std::array::from_fn(|i| digest[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_must_carry_the_hosts_mac_for_its_digest() {
        let key = [7u8; 32];
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        let payload = b"native code";
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&mac(&key, &a, payload));
        file.extend_from_slice(payload);
        assert_eq!(verified_payload(&key, &a, &file), Some(&payload[..]));
        // Copied over another component's name: refused.
        assert_eq!(verified_payload(&key, &b, &file), None);
        // Another host's key: refused.
        assert_eq!(verified_payload(&[8u8; 32], &a, &file), None);
        let last = file.len() - 1;
        file[last] ^= 1;
        assert_eq!(verified_payload(&key, &a, &file), None);
        assert_eq!(verified_payload(&key, &a, b"short"), None);
    }

    #[test]
    fn the_engine_key_is_stable_and_other_engines_artifacts_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let first = CompiledCache::new(dir.path(), &engine).unwrap();
        let kept = first.path(&Digest::of(b"x"));
        std::fs::write(&kept, b"artifact").unwrap();
        let stale = dir.path().join("00ff-0123456789abcdef.cwasm");
        std::fs::write(&stale, b"old engine").unwrap();
        let second = CompiledCache::new(dir.path(), &engine).unwrap();
        assert_eq!(first.engine_key, second.engine_key);
        assert!(kept.exists());
        assert!(!stale.exists());
    }

    #[test]
    fn processes_starting_together_agree_on_one_whole_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(".key");
            let keys: Vec<[u8; 32]> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|_| scope.spawn(|| host_key(&path).unwrap()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert!(keys.iter().all(|k| *k == keys[0]));
            assert_eq!(std::fs::read(&path).unwrap(), keys[0]);
            // Nothing but the key is left behind.
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".key");
        std::fs::write(&path, b"short").unwrap();
        let err = host_key(&path).unwrap_err().to_string();
        assert!(err.contains("not a 32-byte key"), "{err}");
    }

    /// The smallest component: the preamble of an empty one.
    const EMPTY_COMPONENT: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    #[test]
    fn a_component_asked_for_by_many_at_once_compiles_once() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CompiledCache::new(dir.path(), &engine).unwrap();
        let digest = Digest::of(EMPTY_COMPONENT);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    cache
                        .load_or_compile(&engine, &digest, EMPTY_COMPONENT)
                        .unwrap()
                });
            }
        });
        let counts = cache.counts();
        assert_eq!((counts.compiled, counts.hits), (1, 3), "{counts:?}");
        // And never again on this host: a new cache over the directory
        // (a restart) loads the artifact.
        let again = CompiledCache::new(dir.path(), &engine).unwrap();
        again
            .load_or_compile(&engine, &digest, EMPTY_COMPONENT)
            .unwrap();
        assert_eq!(again.counts().compiled, 0);
    }

    #[test]
    fn a_compiler_process_that_cannot_run_leaves_the_compile_to_this_one() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CompiledCache::new(dir.path(), &engine)
            .unwrap()
            .compiling_with(
                Compiler::Child("/nonexistent/hangar".into()),
                EngineSettings::default(),
            );
        let digest = Digest::of(EMPTY_COMPONENT);
        cache
            .load_or_compile(&engine, &digest, EMPTY_COMPONENT)
            .unwrap();
        assert_eq!(cache.counts().compiled, 1);
    }

    #[test]
    fn a_component_the_compiler_process_refuses_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        // A process that fails as a refused compile does, before reading
        // its input: more than a pipe holds, so the write breaks the pipe.
        let cache = CompiledCache::new(dir.path(), &engine)
            .unwrap()
            .compiling_with(Compiler::Child("false".into()), EngineSettings::default());
        let wasm = vec![0u8; 1 << 20];
        let digest = Digest::of(&wasm);
        let err = cache.load_or_compile(&engine, &digest, &wasm).unwrap_err();
        assert!(err.to_string().contains("compiler process ended"), "{err}");
        assert_eq!(cache.counts().compiled, 0);
    }
}

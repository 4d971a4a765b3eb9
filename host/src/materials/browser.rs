//! Materials for the browser: each material version's component turned
//! into an ES module and its core WebAssembly modules
//! (`js-component-bindgen`, the code generator of jco), once per digest,
//! kept in memory and served immutably under
//! `/materials/js/{name}@{version}/{digest}/`.
//!
//! The module is generated in instantiation mode: it has no `import`
//! statements and exports `instantiate(getCoreModule, imports)`, so the
//! browser SDK supplies the imports (WASI shims, the host interface) and
//! fetches the core modules itself. It holds no inline WebAssembly and
//! evaluates no code: a page needs `script-src 'self' 'wasm-unsafe-eval'`
//! and nothing more.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use hangar_registry::Digest;

use crate::deploy::fetch::Fetcher;

/// Name of the generated module (its files are `material.js`,
/// `material.core.wasm`, `material.core2.wasm`, ...).
pub const MODULE_NAME: &str = "material";

/// The URL path of a material version's ES module. The name and version
/// let any node (of a cluster, or after a restart) load the version the
/// URL names; the digest makes the URL immutable.
pub fn module_path(name: &str, version: &str, digest: &Digest) -> String {
    format!(
        "/materials/js/{name}@{version}/{}/{MODULE_NAME}.js",
        digest.hex()
    )
}

/// Bytes of bundles kept in memory; the least recently used go first.
const CACHE_BYTES: u64 = 64 << 20;

/// One material version for the browser: file name to bytes.
#[derive(Debug)]
pub struct Bundle {
    files: HashMap<String, Bytes>,
}

impl Bundle {
    /// A file of the bundle and its content type.
    pub fn file(&self, name: &str) -> Option<(&'static str, Bytes)> {
        let content_type = if name.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if name.ends_with(".wasm") {
            "application/wasm"
        } else {
            return None;
        };
        self.files.get(name).map(|b| (content_type, b.clone()))
    }

    fn weight(&self) -> u32 {
        let bytes: usize = self.files.values().map(Bytes::len).sum();
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

/// Why a bundle could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BundleError {
    /// The component could not be fetched from the registry.
    #[error("the component could not be fetched: {0}")]
    Fetch(String),
    /// The generator refused or failed on the component.
    #[error("the component could not be turned into JavaScript: {0}")]
    Transpile(String),
}

/// The bundles of this server: made on first request, one generation per
/// digest however many ask at once.
#[derive(Clone)]
pub struct Bundles {
    fetcher: Fetcher,
    cache: moka::future::Cache<Digest, Arc<Bundle>>,
}

impl std::fmt::Debug for Bundles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundles").finish_non_exhaustive()
    }
}

impl Bundles {
    /// Bundles of the components `fetcher` fetches.
    pub fn new(fetcher: Fetcher) -> Self {
        Self {
            fetcher,
            cache: moka::future::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|_, bundle: &Arc<Bundle>| bundle.weight())
                .build(),
        }
    }

    /// The bundle of the component `digest`, made once. A failure is not
    /// kept: the next request tries again.
    ///
    /// # Errors
    /// [`BundleError`].
    pub async fn get(&self, digest: Digest) -> Result<Arc<Bundle>, BundleError> {
        let fetcher = self.fetcher.clone();
        self.cache
            .try_get_with(digest, async move {
                let component = fetcher
                    .blob(digest)
                    .await
                    .map_err(|e| BundleError::Fetch(e.to_string()))?;
                let bundle = tokio::task::spawn_blocking(move || transpile(&component))
                    .await
                    .map_err(|e| BundleError::Transpile(e.to_string()))??;
                tracing::info!(%digest, bytes = bundle.weight(), "material bundled for browsers");
                Ok(Arc::new(bundle))
            })
            .await
            .map_err(|e: Arc<BundleError>| (*e).clone())
    }
}

/// Generates the module and core modules of `component`.
///
/// # Errors
/// [`BundleError::Transpile`] when the generator refuses the component or
/// panics on it.
pub fn transpile(component: &[u8]) -> Result<Bundle, BundleError> {
    use js_component_bindgen::{InstantiationMode, TranspileOpts};
    let opts = TranspileOpts::builder()
        .name(MODULE_NAME.to_owned())
        .no_typescript(true)
        .instantiation_mode(InstantiationMode::Async)
        .nodejs_compat_disabled(true)
        // Core modules as files, never inline: inline ones would need
        // base64 decoding into `WebAssembly.compile` of page-made bytes.
        .base64_cutoff(0)
        .build();
    let transpiled = std::panic::catch_unwind(|| js_component_bindgen::transpile(component, opts))
        .map_err(|_| BundleError::Transpile("the generator panicked".into()))?
        .map_err(|e| BundleError::Transpile(format!("{e:#}")))?;
    Ok(Bundle {
        files: transpiled
            .files
            .into_iter()
            .map(|(name, bytes)| (name, Bytes::from(bytes)))
            .collect(),
    })
}

//! Loading materials off the request path.
//!
//! A version is loaded once: its first request starts a background task
//! (a few run at once, `concurrent_loads`) that fetches, compiles and
//! describes it; every request for it meanwhile waits on that one task, up
//! to `load_wait_ms`, and is then told to retry while the load goes on. A
//! client that goes away never cancels a load. A failed load is remembered
//! and answered at once until its retry time (1 s, doubling to 5 min).
//!
//! The registry's package list is cached for [`PACKAGES_TTL`], refreshed by
//! one request at a time. Before anything is compiled, the version's
//! metadata must say it is a material: a request naming a chat plugin never
//! compiles it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use hangar_registry::store::PackageInfo;
use hangar_registry::{PluginName, World};
use semver::Version;
use tokio::sync::Semaphore;

use super::{Loaded, MaterialError, MaterialsConfig};
use crate::deploy::fetch::FetchError;
use crate::deploy::{DeployError, Deployer};

/// How long the registry's package list is reused.
pub const PACKAGES_TTL: Duration = Duration::from_secs(5);
/// First retry delay of a failed load; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest retry delay of a failed load.
const MAX_RETRY: Duration = Duration::from_secs(300);

type Loading = Shared<BoxFuture<'static, Result<Arc<Loaded>, MaterialError>>>;

enum Slot {
    /// Running; the failures of earlier loads, for the backoff.
    Loading(Loading, u32),
    Ready(Arc<Loaded>),
    Failed {
        error: MaterialError,
        retry_at: Instant,
        failures: u32,
    },
}

/// What is known of a version without waiting.
pub enum Peek {
    /// Loaded.
    Ready(Arc<Loaded>),
    /// Being loaded (this call started it if nobody had).
    Loading,
    /// The last load failed; retried after its backoff.
    Failed(MaterialError),
}

type Key = (PluginName, Version);

struct Inner {
    deployer: Deployer,
    config: MaterialsConfig,
    slots: Mutex<HashMap<Key, Slot>>,
    permits: Semaphore,
    packages: tokio::sync::Mutex<Option<(Instant, Arc<Vec<PackageInfo>>)>>,
}

/// The material loads of one server.
#[derive(Clone)]
pub struct Loads(Arc<Inner>);

impl Loads {
    /// Loads through `deployer`, under `config`.
    pub fn new(deployer: Deployer, config: MaterialsConfig) -> Self {
        Self(Arc::new(Inner {
            deployer,
            permits: Semaphore::new(config.concurrent_loads.max(1)),
            config,
            slots: Mutex::new(HashMap::new()),
            packages: tokio::sync::Mutex::new(None),
        }))
    }

    /// The registry's packages, at most [`PACKAGES_TTL`] old unless `fresh`.
    ///
    /// # Errors
    /// The registry is unreachable.
    pub async fn packages(&self, fresh: bool) -> Result<Arc<Vec<PackageInfo>>, MaterialError> {
        // One refresh at a time; callers that waited for it take its answer.
        let asked = Instant::now();
        let mut cached = self.0.packages.lock().await;
        if let Some((at, list)) = cached.as_ref()
            && (*at >= asked || !fresh && at.elapsed() < PACKAGES_TTL)
        {
            return Ok(list.clone());
        }
        let list = Arc::new(self.0.deployer.fetcher().packages().await.map_err(|err| {
            tracing::warn!(error = %err, "registry package list unavailable");
            MaterialError::RegistryUnavailable
        })?);
        *cached = Some((Instant::now(), list.clone()));
        Ok(list)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Slot>> {
        self.0.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The load of `key`: the running one, or a new one started now
    /// (unless the last failure's retry time has not come).
    fn start(&self, key: &Key) -> Result<Loading, Result<Arc<Loaded>, MaterialError>> {
        let mut slots = self.slots();
        match slots.get(key) {
            Some(Slot::Ready(loaded)) => return Err(Ok(loaded.clone())),
            Some(Slot::Loading(loading, _)) => return Ok(loading.clone()),
            Some(Slot::Failed {
                error, retry_at, ..
            }) if Instant::now() < *retry_at => return Err(Err(error.clone())),
            _ => {}
        }
        let failures = match slots.get(key) {
            Some(Slot::Failed { failures, .. }) => *failures,
            _ => 0,
        };
        let this = self.clone();
        let task_key = key.clone();
        // Spawned: the load finishes whoever stops waiting for it.
        let task = tokio::spawn(async move {
            let result = this.load_now(&task_key).await;
            this.settle(&task_key, &result);
            result
        });
        let reference = format!("{}@{}", key.0, key.1);
        let loading = async move {
            task.await.unwrap_or_else(|_| {
                tracing::error!(material = %reference, "material load task ended abnormally");
                Err(MaterialError::Load(reference))
            })
        }
        .boxed()
        .shared();
        slots.insert(key.clone(), Slot::Loading(loading.clone(), failures));
        Ok(loading)
    }

    fn settle(&self, key: &Key, result: &Result<Arc<Loaded>, MaterialError>) {
        let mut slots = self.slots();
        let failures = match slots.get(key) {
            Some(Slot::Loading(_, failures)) => *failures,
            _ => 0,
        };
        let slot = match result {
            Ok(loaded) => Slot::Ready(loaded.clone()),
            // Not found, not a material: facts about the registry that a
            // publish may change; retried like any failure.
            Err(error) => {
                let delay = FIRST_RETRY
                    .saturating_mul(2u32.saturating_pow(failures.min(16)))
                    .min(MAX_RETRY);
                Slot::Failed {
                    error: error.clone(),
                    retry_at: Instant::now() + delay,
                    failures: failures + 1,
                }
            }
        };
        slots.insert(key.clone(), slot);
    }

    /// What is known of `name` `version` now; starts its load if none ran.
    pub fn peek(&self, name: &PluginName, version: &Version) -> Peek {
        match self.start(&(name.clone(), version.clone())) {
            Ok(_) => Peek::Loading,
            Err(Ok(loaded)) => Peek::Ready(loaded),
            Err(Err(error)) => Peek::Failed(error),
        }
    }

    /// The loaded version, waiting for its load up to `load_wait_ms`.
    ///
    /// # Errors
    /// The load failed, or is still running after the wait.
    pub async fn get(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Result<Arc<Loaded>, MaterialError> {
        let loading = match self.start(&(name.clone(), version.clone())) {
            Ok(loading) => loading,
            Err(known) => return known,
        };
        let wait = Duration::from_millis(self.0.config.load_wait_ms);
        tokio::time::timeout(wait, loading)
            .await
            .unwrap_or_else(|_| Err(MaterialError::Loading(format!("{name}@{version}"))))
    }

    /// Every loaded version.
    pub fn loaded(&self) -> Vec<Arc<Loaded>> {
        let mut loaded: Vec<Arc<Loaded>> = self
            .slots()
            .values()
            .filter_map(|slot| match slot {
                Slot::Ready(loaded) => Some(loaded.clone()),
                _ => None,
            })
            .collect();
        loaded
            .sort_by(|a, b| (&a.info.name, &a.info.version).cmp(&(&b.info.name, &b.info.version)));
        loaded
    }

    async fn load_now(&self, (name, version): &Key) -> Result<Arc<Loaded>, MaterialError> {
        let reference = format!("{name}@{version}");
        let deployer = &self.0.deployer;
        // The world first, from the metadata: nothing but a material is
        // ever compiled for a material route.
        let info = deployer
            .fetcher()
            .version(name, version)
            .await
            .map_err(|err| match err {
                FetchError::NotFound(_) => MaterialError::NotFound(reference.clone()),
                other => {
                    tracing::warn!(material = %reference, error = %other, "material metadata unavailable");
                    MaterialError::RegistryUnavailable
                }
            })?;
        if info.world != World::Material {
            return Err(MaterialError::NotAMaterial(name.to_string(), info.world));
        }
        let _permit = self
            .0
            .permits
            .acquire()
            .await
            .map_err(|_| MaterialError::Load(reference.clone()))?;
        // Loaded from the metadata just read: one fetch of it per load.
        let (component, _) = deployer
                .load_version(&info)
                .await
                .map_err(|err| match err {
                    DeployError::Fetch(FetchError::NotFound(_)) => {
                        MaterialError::NotFound(reference.clone())
                    }
                    other => {
                        tracing::error!(material = %reference, error = %other, "material could not be loaded");
                        MaterialError::Load(reference.clone())
                    }
                })?;
        let plugin = deployer
            .runtime()
            .detached(component, deployer.defaults().clone());
        let loaded = Loaded::describe(plugin, Some((name, version, info.digest))).await?;
        tracing::info!(material = %reference, "material loaded");
        Ok(Arc::new(loaded))
    }
}

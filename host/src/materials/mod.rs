//! Low-code materials: UI components published to the registry, loaded the
//! first time they are used (concurrent first requests share one load),
//! described by a props JSON Schema, and rendered from props into HTML that
//! is validated on the way in and sanitised on the way out.
//!
//! [`http`] is the API (`docs/materials.md`), [`sanitize`] the HTML policy.

pub mod http;
pub mod sanitize;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use hangar_registry::store::PackageInfo;
use hangar_registry::{PluginName, World};
use semver::Version;
use serde::Serialize;
use serde_json::Value;

use crate::deploy::Deployer;
use crate::plugins::Plugin;

/// A failing prop: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON pointer into the props (`/label`; empty for the whole object).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Why a material could not be listed, described or rendered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MaterialError {
    /// No such material (or version) in the registry.
    #[error("no material {0} in the registry")]
    NotFound(String),
    /// The package is not a material.
    #[error("{0} is a {1} plugin, not a material")]
    NotAMaterial(String, World),
    /// `name@version` is malformed.
    #[error("{0}")]
    BadReference(String),
    /// The component could not be fetched or loaded.
    #[error("material {name} could not be loaded: {reason}")]
    Load {
        /// `name@version`.
        name: String,
        /// Why.
        reason: String,
    },
    /// Its props schema is not a usable JSON Schema.
    #[error("material {name} has an unusable props schema: {reason}")]
    BadSchema {
        /// `name@version`.
        name: String,
        /// Why.
        reason: String,
    },
    /// The props do not match the schema.
    #[error("props do not match the schema of {name}: {}", .errors.iter().map(|e| format!("{} {}", if e.path.is_empty() { "(props)" } else { &e.path }, e.message)).collect::<Vec<_>>().join("; "))]
    InvalidProps {
        /// `name@version`.
        name: String,
        /// Each failing field.
        errors: Vec<FieldError>,
    },
    /// The material returned an error, trapped or ran out of time.
    #[error("material {name} failed: {reason}")]
    Failed {
        /// `name@version`.
        name: String,
        /// Why.
        reason: String,
    },
}

/// What a material says about itself, parsed.
#[derive(Debug, Clone, Serialize)]
pub struct Described {
    /// Package name.
    pub name: String,
    /// Palette title.
    pub title: String,
    /// Version loaded.
    pub version: String,
    /// Palette group.
    pub category: String,
    /// JSON Schema of the props.
    pub props_schema: Value,
    /// Default props.
    pub default_props: Value,
}

/// A loaded material version.
pub struct Loaded {
    plugin: Arc<Plugin>,
    /// Its description.
    pub info: Described,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

type Loading = Shared<BoxFuture<'static, Result<Arc<Loaded>, MaterialError>>>;

/// The registry's package list and when it was read.
type PackageList = Option<(Instant, Arc<Vec<PackageInfo>>)>;

/// How long the registry's package list is reused to resolve "latest".
const LATEST_TTL: Duration = Duration::from_secs(2);

/// The materials service.
#[derive(Clone)]
pub struct Materials {
    deployer: Deployer,
    loads: Arc<Mutex<HashMap<(PluginName, Version), Loading>>>,
    packages: Arc<Mutex<PackageList>>,
}

impl std::fmt::Debug for Materials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Materials").finish_non_exhaustive()
    }
}

/// A material in the list.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// Package name.
    pub name: String,
    /// Palette title of the latest version.
    pub title: String,
    /// Palette group of the latest version.
    pub category: String,
    /// Every published version.
    pub versions: Vec<String>,
    /// Newest version not yanked.
    pub latest: String,
    /// Set when the latest version could not be loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Parses `name` or `name@version`.
///
/// # Errors
/// A malformed name or version.
pub fn parse_reference(reference: &str) -> Result<(PluginName, Option<Version>), MaterialError> {
    let (name, version) = match reference.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (reference, None),
    };
    let name =
        PluginName::from_str(name).map_err(|e| MaterialError::BadReference(e.to_string()))?;
    let version = version
        .map(|v| {
            Version::parse(v).map_err(|_| {
                MaterialError::BadReference(format!("invalid version {v:?} in {reference:?}"))
            })
        })
        .transpose()?;
    Ok((name, version))
}

impl Materials {
    /// Materials loaded through `deployer`'s registry and runtime.
    pub fn new(deployer: Deployer) -> Self {
        Self {
            deployer,
            loads: Arc::new(Mutex::new(HashMap::new())),
            packages: Arc::new(Mutex::new(None)),
        }
    }

    async fn packages(&self, fresh: bool) -> Result<Arc<Vec<PackageInfo>>, MaterialError> {
        if !fresh {
            let cached = self
                .packages
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Some((at, list)) = cached
                && at.elapsed() < LATEST_TTL
            {
                return Ok(list);
            }
        }
        let list = Arc::new(self.deployer.fetcher().packages().await.map_err(|err| {
            MaterialError::Load {
                name: "registry".into(),
                reason: err.to_string(),
            }
        })?);
        *self.packages.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// The version `version` names, or the latest one.
    ///
    /// # Errors
    /// Unknown material, or the registry is unreachable.
    pub async fn resolve(
        &self,
        name: &PluginName,
        version: Option<Version>,
    ) -> Result<Version, MaterialError> {
        if let Some(version) = version {
            return Ok(version);
        }
        for fresh in [false, true] {
            if let Some(package) = self.packages(fresh).await?.iter().find(|p| &p.name == name) {
                if package.world != World::Material {
                    return Err(MaterialError::NotAMaterial(name.to_string(), package.world));
                }
                return Ok(package.latest.clone());
            }
        }
        Err(MaterialError::NotFound(name.to_string()))
    }

    /// Every material in the registry, with its latest version described.
    ///
    /// # Errors
    /// The registry is unreachable.
    pub async fn list(&self) -> Result<Vec<Listed>, MaterialError> {
        let packages = self.packages(true).await?;
        let mut listed = Vec::new();
        for package in packages.iter().filter(|p| p.world == World::Material) {
            let described = self.load(&package.name, &package.latest).await;
            let (title, category, error) = match described {
                Ok(loaded) => (
                    loaded.info.title.clone(),
                    loaded.info.category.clone(),
                    None,
                ),
                Err(err) => (
                    package.name.to_string(),
                    "unavailable".into(),
                    Some(err.to_string()),
                ),
            };
            listed.push(Listed {
                name: package.name.to_string(),
                title,
                category,
                versions: package.versions.iter().map(ToString::to_string).collect(),
                latest: package.latest.to_string(),
                error,
            });
        }
        Ok(listed)
    }

    /// The loaded material, loading it on first use. Concurrent first
    /// requests share one load; a failed load is retried by the next request.
    ///
    /// # Errors
    /// [`MaterialError`] saying what could not be loaded.
    pub async fn load(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Result<Arc<Loaded>, MaterialError> {
        let key = (name.clone(), version.clone());
        let loading = {
            let mut loads = self.loads.lock().unwrap_or_else(PoisonError::into_inner);
            loads
                .entry(key.clone())
                .or_insert_with(|| {
                    let this = self.clone();
                    let (name, version) = key.clone();
                    async move { this.load_now(&name, &version).await }
                        .boxed()
                        .shared()
                })
                .clone()
        };
        let result = loading.await;
        if result.is_err() {
            self.loads
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        }
        result
    }

    async fn load_now(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Result<Arc<Loaded>, MaterialError> {
        let reference = format!("{name}@{version}");
        let (component, info, _) =
            self.deployer
                .load_published(name, version)
                .await
                .map_err(|err| match err {
                    crate::deploy::DeployError::Fetch(
                        crate::deploy::fetch::FetchError::NotFound(_),
                    ) => MaterialError::NotFound(reference.clone()),
                    other => MaterialError::Load {
                        name: reference.clone(),
                        reason: other.to_string(),
                    },
                })?;
        if info.world != World::Material {
            return Err(MaterialError::NotAMaterial(name.to_string(), info.world));
        }
        let plugin = self
            .deployer
            .runtime()
            .detached(component, self.deployer.defaults().clone());
        let raw = plugin
            .invoke(|exports, store| Ok(exports.material()?.call_describe(store)))
            .await
            .map_err(|why| MaterialError::Failed {
                name: reference.clone(),
                reason: why.to_string(),
            })?;
        let bad_schema = |reason: String| MaterialError::BadSchema {
            name: reference.clone(),
            reason,
        };
        let props_schema: Value =
            serde_json::from_str(&raw.props_schema).map_err(|e| bad_schema(e.to_string()))?;
        let default_props: Value =
            serde_json::from_str(&raw.default_props).map_err(|e| bad_schema(e.to_string()))?;
        // Built without the crate's file and HTTP resolvers: a `$ref` to a
        // file or URL fails here instead of being fetched.
        let validator =
            jsonschema::validator_for(&props_schema).map_err(|e| bad_schema(e.to_string()))?;
        if let Some(error) = validator.iter_errors(&default_props).next() {
            return Err(bad_schema(format!(
                "its default props do not match it: {error}"
            )));
        }
        tracing::info!(material = %reference, "material loaded");
        Ok(Arc::new(Loaded {
            plugin,
            info: Described {
                name: name.to_string(),
                title: raw.title,
                version: version.to_string(),
                category: raw.category,
                props_schema,
                default_props,
            },
            validator,
        }))
    }

    /// The material `name` at exactly `version` (a page node's pin), loaded.
    ///
    /// # Errors
    /// A malformed name or version, or the load failed.
    pub async fn load_pinned(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Arc<Loaded>, MaterialError> {
        let name =
            PluginName::from_str(name).map_err(|e| MaterialError::BadReference(e.to_string()))?;
        let version = Version::parse(version).map_err(|_| {
            MaterialError::BadReference(format!("invalid pinned version {version:?} of {name}"))
        })?;
        self.load(&name, &version).await
    }

    /// Checks `props` against the material's schema.
    ///
    /// # Errors
    /// [`MaterialError::InvalidProps`] with each failing field.
    pub fn validate(&self, loaded: &Loaded, props: &Value) -> Result<(), MaterialError> {
        let errors: Vec<FieldError> = loaded
            .validator
            .iter_errors(props)
            .map(|e| FieldError {
                path: e.instance_path().as_str().to_owned(),
                message: e.to_string(),
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(MaterialError::InvalidProps {
                name: format!("{}@{}", loaded.info.name, loaded.info.version),
                errors,
            })
        }
    }

    /// Validates `props` against the material's schema, renders them, and
    /// sanitises the HTML.
    ///
    /// # Errors
    /// Invalid props (each failing field), or the material failed.
    pub async fn render(&self, loaded: &Loaded, props: &Value) -> Result<String, MaterialError> {
        self.validate(loaded, props)?;
        let reference = format!("{}@{}", loaded.info.name, loaded.info.version);
        let json = props.to_string();
        let answer = loaded
            .plugin
            .invoke(move |exports, store| Ok(exports.material()?.call_render(store, &json)))
            .await;
        match answer {
            Ok(Ok(html)) => Ok(sanitize::clean(&html)),
            Ok(Err(reason)) => Err(MaterialError::Failed {
                name: reference,
                reason,
            }),
            Err(why) => Err(MaterialError::Failed {
                name: reference,
                reason: why.to_string(),
            }),
        }
    }
}

//! Low-code materials: UI components published to the registry, loaded the
//! first time they are used, described by a props JSON Schema, and
//! rendered from props into HTML that is validated on the way in and
//! checked and sanitised on the way out.
//!
//! - [`loading`]: loads run in the background, one per version however
//!   many ask, a few at a time; a failed load is remembered and retried
//!   with backoff, so no request compiles and no listing waits for one;
//! - [`sanitize`]: the HTML budget (size, nesting) and policy;
//! - [`structure`]: slots, events and form roles (`hangar:plugin@0.2.0`);
//! - [`browser`]: each version as an ES module and core WebAssembly, for
//!   the browser SDK to render in the page;
//! - [`http`]: the API (`docs/materials.md`).
//!
//! A material is a pure function of its props: the same version renders
//! the same props to the same HTML, which is what lets pages be cached per
//! revision (`wit/plugin.wit` says so to authors).

pub mod browser;
pub mod http;
pub mod loading;
pub mod sanitize;
pub mod structure;

use std::str::FromStr;
use std::sync::Arc;

use hangar_registry::{PluginName, World};
use semver::Version;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::deploy::Deployer;
use crate::plugins::{CallFailure, Plugin, Unanswered};
use loading::Loads;

/// A failing prop: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON pointer into the props (`/label`; empty for the whole object).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Why a material could not be listed, described or rendered. Every
/// message is fit for anyone to read: internal details (registry URLs,
/// guest backtraces) go to the log only.
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
    /// The component could not be fetched or loaded (the log says why).
    #[error("material {0} could not be loaded; retry later")]
    Load(String),
    /// Its load is still running.
    #[error("material {0} is still loading; retry shortly")]
    Loading(String),
    /// The registry could not be asked.
    #[error("the registry is unavailable; retry later")]
    RegistryUnavailable,
    /// Its slots or events are malformed.
    #[error("material {name} describes an unusable structure: {reason}")]
    BadStructure {
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
    /// The material returned an error, trapped, ran out of time or broke
    /// its output budget.
    #[error("material {name} failed: {reason}")]
    Failed {
        /// `name@version`.
        name: String,
        /// Why, without internal detail.
        reason: String,
    },
}

/// Limits of materials (`[materials]` in `hangar.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaterialsConfig {
    /// Largest HTML a render may return, bytes; more is a failure.
    pub max_html_bytes: usize,
    /// Deepest element nesting a render may return; more is a failure.
    pub max_html_depth: usize,
    /// Rendered pages kept in memory, bytes.
    pub page_cache_bytes: u64,
    /// Material loads (fetch and compile) running at once.
    pub concurrent_loads: usize,
    /// How long a request waits for a material's first load, ms; then it
    /// is told to retry (the load goes on).
    pub load_wait_ms: u64,
}

impl Default for MaterialsConfig {
    fn default() -> Self {
        Self {
            max_html_bytes: 256 * 1024,
            max_html_depth: 64,
            page_cache_bytes: 32 << 20,
            concurrent_loads: 2,
            load_wait_ms: 20_000,
        }
    }
}

impl MaterialsConfig {
    /// Refuses values that cannot work.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        use crate::config::Invalid;
        Invalid::positive("max_html_bytes", self.max_html_bytes as u64)?;
        Invalid::positive("max_html_depth", self.max_html_depth as u64)?;
        Invalid::positive("concurrent_loads", self.concurrent_loads as u64)?;
        Invalid::positive("load_wait_ms", self.load_wait_ms)
    }
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
    /// Its slots, events and role in forms.
    #[serde(flatten)]
    pub structure: structure::Structure,
    /// The `hangar:plugin` version it was built against.
    pub contract: &'static str,
    /// Digest of its component (`sha256:...`), when it came from the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<hangar_registry::Digest>,
    /// Path of its ES module for browsers (`docs/materials.md`), when it
    /// came from the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

/// A loaded material version.
pub struct Loaded {
    plugin: Arc<Plugin>,
    /// Its description.
    pub info: Described,
    validator: jsonschema::Validator,
}

impl Loaded {
    /// The sandboxed plugin behind it (health, quarantine).
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// Digest of its component, when it came from the registry.
    pub fn digest(&self) -> Option<hangar_registry::Digest> {
        self.info.digest
    }
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The materials service.
#[derive(Clone)]
pub struct Materials {
    config: MaterialsConfig,
    loads: Loads,
    bundles: browser::Bundles,
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
    /// Palette title of the latest version (the name until it is loaded).
    pub title: String,
    /// Palette group of the latest version.
    pub category: String,
    /// Every published version.
    pub versions: Vec<String>,
    /// Newest version not yanked.
    pub latest: String,
    /// `ready`, `loading` (ask again shortly) or `unavailable`.
    pub status: &'static str,
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

/// The answer of a render, before the HTML budget and sanitising.
fn render_failure(reference: &str, why: &Unanswered) -> MaterialError {
    tracing::warn!(material = %reference, error = %why, "material render failed");
    let reason = match why {
        Unanswered::Failed { failure, .. } => failure.kind().to_owned(),
        Unanswered::Quarantined(_) => {
            "quarantined after repeated failures; an admin can re-enable it".to_owned()
        }
        Unanswered::Disabled(_) => "disabled".to_owned(),
        Unanswered::Overloaded(_) | Unanswered::ShuttingDown(_) => {
            "the server is busy; retry".to_owned()
        }
        Unanswered::Unavailable(_) => "not loaded".to_owned(),
    };
    MaterialError::Failed {
        name: reference.to_owned(),
        reason,
    }
}

/// How often a server starts the loads of the materials' latest versions
/// in the background (a version published meanwhile is compiled before
/// anyone asks for it).
pub const WARM_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest a listing waits for the loads it started.
pub const LIST_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Longest error text of a material's own shown to clients.
const MAX_GUEST_ERROR_BYTES: usize = 200;

impl Materials {
    /// Materials loaded through `deployer`'s registry and runtime.
    pub fn new(deployer: Deployer, config: MaterialsConfig) -> Self {
        Self {
            bundles: browser::Bundles::new(deployer.fetcher().clone()),
            loads: Loads::new(deployer, config),
            config,
        }
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
            if let Some(package) = self
                .loads
                .packages(fresh)
                .await?
                .iter()
                .find(|p| &p.name == name)
            {
                if package.world != World::Material {
                    return Err(MaterialError::NotAMaterial(name.to_string(), package.world));
                }
                return Ok(package.latest.clone());
            }
        }
        Err(MaterialError::NotFound(name.to_string()))
    }

    /// Starts, in the background, the load of every material's latest
    /// version that is neither loaded nor loading (a failed one after its
    /// retry delay); returns how many it started or found running.
    ///
    /// # Errors
    /// The registry is unreachable.
    pub async fn warm(&self) -> Result<usize, MaterialError> {
        let packages = self.loads.packages(true).await?;
        Ok(packages
            .iter()
            .filter(|p| p.world == World::Material)
            .filter(|p| matches!(self.loads.peek(&p.name, &p.latest), loading::Peek::Loading))
            .count())
    }

    /// Every material in the registry, with its latest version described
    /// when it is loaded. Loads that are not done are started in the
    /// background and waited for together up to [`LIST_WAIT`]; one still
    /// running then is listed as `loading` (ask again shortly).
    ///
    /// # Errors
    /// The registry is unreachable.
    pub async fn list(&self) -> Result<Vec<Listed>, MaterialError> {
        let packages = self.loads.packages(false).await?;
        let pending: Vec<_> = packages
            .iter()
            .filter(|p| p.world == World::Material)
            .map(|p| self.loads.get(&p.name, &p.latest))
            .collect();
        let _ = tokio::time::timeout(LIST_WAIT, futures_util::future::join_all(pending)).await;
        let mut listed = Vec::new();
        for package in packages.iter().filter(|p| p.world == World::Material) {
            let (status, title, category, error) =
                match self.loads.peek(&package.name, &package.latest) {
                    loading::Peek::Ready(loaded) => (
                        "ready",
                        loaded.info.title.clone(),
                        loaded.info.category.clone(),
                        None,
                    ),
                    loading::Peek::Loading => {
                        ("loading", package.name.to_string(), "loading".into(), None)
                    }
                    loading::Peek::Failed(err) => (
                        "unavailable",
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
                status,
                error,
            });
        }
        Ok(listed)
    }

    /// The loaded material, loading it on first use (in the background,
    /// one load however many ask), waiting for it up to `load_wait_ms`.
    ///
    /// # Errors
    /// [`MaterialError`] saying what could not be loaded.
    pub async fn load(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Result<Arc<Loaded>, MaterialError> {
        self.loads.get(name, version).await
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

    /// Every loaded material version, for admins.
    pub fn loaded(&self) -> Vec<Arc<Loaded>> {
        self.loads.loaded()
    }

    /// The browser bundle of the component `digest` (a loaded material
    /// version's: the caller checks), made on first request.
    ///
    /// # Errors
    /// The bundle could not be made.
    pub async fn bundle(
        &self,
        digest: hangar_registry::Digest,
    ) -> Result<Arc<browser::Bundle>, browser::BundleError> {
        self.bundles.get(digest).await
    }

    /// Renders `props` with `loaded` within this server's HTML budget (see
    /// [`Loaded::render`]).
    ///
    /// # Errors
    /// Invalid props (each failing field), or the material failed.
    pub async fn render(&self, loaded: &Loaded, props: &Value) -> Result<String, MaterialError> {
        let budget = sanitize::Budget {
            max_bytes: self.config.max_html_bytes,
            max_depth: self.config.max_html_depth,
        };
        loaded.render(props, budget).await
    }
}

impl Loaded {
    /// Asks `plugin` to describe itself and checks what it says: its props
    /// schema must be a usable JSON Schema its default props match. `known`
    /// is the name and version the registry gave it; without one (a file
    /// tried locally) the material's own are used.
    ///
    /// # Errors
    /// The material failed, or its schema or defaults are unusable.
    pub async fn describe(
        plugin: Arc<Plugin>,
        known: Option<(&PluginName, &Version, hangar_registry::Digest)>,
    ) -> Result<Self, MaterialError> {
        let label = known.map_or_else(
            || plugin.name().to_string(),
            |(name, version, _)| format!("{name}@{version}"),
        );
        let (raw, structure, contract) = plugin
            .invoke(|exports, store| {
                let calls = exports.material()?;
                let contract = calls.contract();
                Ok(calls
                    .call_describe(store)
                    .and_then(|info| Ok((info, calls.call_structure(store)?, contract))))
            })
            .await
            .map_err(|why| render_failure(&label, &why))?;
        let (name, version) = known.map_or_else(
            || (raw.name.clone(), raw.version.clone()),
            |(name, version, _)| (name.to_string(), version.to_string()),
        );
        let digest = known.map(|(_, _, digest)| digest);
        let reference = format!("{name}@{version}");
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
        let structure = structure::Structure::checked(structure).map_err(|reason| {
            MaterialError::BadStructure {
                name: reference.clone(),
                reason,
            }
        })?;
        Ok(Self {
            plugin,
            info: Described {
                digest,
                module: digest.map(|d| browser::module_path(&name, &version, &d)),
                name,
                title: raw.title,
                version,
                category: raw.category,
                props_schema,
                default_props,
                structure,
                contract,
            },
            validator,
        })
    }

    /// Checks `props` against the material's schema.
    ///
    /// # Errors
    /// [`MaterialError::InvalidProps`] with each failing field.
    pub fn validate(&self, props: &Value) -> Result<(), MaterialError> {
        let errors: Vec<FieldError> = self
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
                name: format!("{}@{}", self.info.name, self.info.version),
                errors,
            })
        }
    }

    /// Validates `props` against the material's schema, renders them, and
    /// checks and sanitises the HTML (off the async workers, in the call's
    /// turn). HTML over `budget` is a failure of the material, counted
    /// towards its quarantine.
    ///
    /// # Errors
    /// Invalid props (each failing field), or the material failed.
    pub async fn render(
        &self,
        props: &Value,
        budget: sanitize::Budget,
    ) -> Result<String, MaterialError> {
        self.validate(props)?;
        let reference = format!("{}@{}", self.info.name, self.info.version);
        let json = props.to_string();
        let answer = self
            .plugin
            .invoke(move |exports, store| {
                let answer = match exports.material()?.call_render(store, &json) {
                    Ok(answer) => answer,
                    Err(err) => return Ok(Err(err)),
                };
                Ok(Ok(match answer {
                    Ok(html) => {
                        budget.check(&html).map_err(CallFailure::OverBudget)?;
                        Ok(sanitize::clean(&html))
                    }
                    Err(reason) => Err(reason),
                }))
            })
            .await;
        match answer {
            Ok(Ok(html)) => Ok(html),
            Ok(Err(reason)) => {
                let mut end = reason.len().min(MAX_GUEST_ERROR_BYTES);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                Err(MaterialError::Failed {
                    name: reference,
                    reason: format!("it answered: {}", &reason[..end]),
                })
            }
            Err(why) => Err(render_failure(&reference, &why)),
        }
    }
}

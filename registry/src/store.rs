//! The registry's storage: blobs by digest through `object_store`, version
//! metadata through sqlx (SQLite).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use semver::Version;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::{Digest, InspectError, PluginName, World, inspect};

/// Default largest component accepted, 32 MiB.
pub const DEFAULT_MAX_COMPONENT_BYTES: usize = 32 << 20;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The package name is invalid.
    #[error(transparent)]
    Name(#[from] crate::InvalidPluginName),
    /// The version is not semver.
    #[error("invalid version {0:?}: use semantic versioning, e.g. 1.2.3")]
    Version(String),
    /// The bytes are not a plugin component.
    #[error(transparent)]
    Component(#[from] InspectError),
    /// The component is larger than the limit.
    #[error("component is {size} bytes; the largest accepted is {limit} bytes")]
    TooLarge {
        /// Size sent.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The version exists with other bytes.
    #[error(
        "{name} {version} is already published with digest {existing}; versions are immutable: publish a new version"
    )]
    Immutable {
        /// Package.
        name: String,
        /// Version.
        version: String,
        /// Its digest.
        existing: Digest,
    },
    /// No such package or version.
    #[error("{0} is not in the registry")]
    NotFound(String),
    /// The stored blob does not hash to its digest.
    #[error("stored blob {0} is corrupt (its bytes hash to something else)")]
    Corrupt(Digest),
    /// The database failed.
    #[error("registry database: {0}")]
    Db(#[from] sqlx::Error),
    /// The database schema could not be applied.
    #[error("registry database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The blob store failed.
    #[error("registry blob store: {0}")]
    Blob(#[from] object_store::Error),
}

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Package name.
    pub name: PluginName,
    /// Version.
    pub version: Version,
    /// The world it exports.
    pub world: World,
    /// Digest of its bytes.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
    /// Who published it.
    pub publisher: String,
    /// When, ms since the epoch.
    pub published_ms: i64,
    /// Yanked versions stay fetchable for whoever pinned them but are not
    /// offered as latest.
    pub yanked: bool,
}

/// One package in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageInfo {
    /// Package name.
    pub name: PluginName,
    /// World of its latest version.
    pub world: World,
    /// Newest version that is not yanked (or the newest, if all are).
    pub latest: Version,
    /// Every version, oldest first.
    pub versions: Vec<Version>,
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Stored.
    Created(VersionInfo),
    /// The same bytes were already published under this version.
    Unchanged(VersionInfo),
}

/// The registry.
#[derive(Debug, Clone)]
pub struct Registry {
    db: SqlitePool,
    blobs: Arc<dyn ObjectStore>,
    max_component_bytes: usize,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn row_info(row: &SqliteRow) -> Result<VersionInfo, sqlx::Error> {
    let decode = |col: &str, err: String| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: err.into(),
    };
    let name: String = row.try_get("name")?;
    let version: String = row.try_get("version")?;
    let world: String = row.try_get("world")?;
    let digest: String = row.try_get("digest")?;
    Ok(VersionInfo {
        name: PluginName::from_str(&name).map_err(|e| decode("name", e.to_string()))?,
        version: Version::parse(&version).map_err(|e| decode("version", e.to_string()))?,
        world: World::from_str(&world).map_err(|e| decode("world", e))?,
        digest: Digest::from_str(&digest).map_err(|e| decode("digest", e.to_string()))?,
        size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or(0),
        publisher: row.try_get("publisher")?,
        published_ms: row.try_get("published_ms")?,
        yanked: row.try_get::<i64, _>("yanked")? != 0,
    })
}

fn blob_path(digest: &Digest) -> ObjectPath {
    ObjectPath::from_iter(["sha256", &digest.hex()])
}

impl Registry {
    /// Opens (creating) a registry in `dir`: `registry.db` and `blobs/`.
    ///
    /// # Errors
    /// The directory, database or blob store cannot be opened.
    pub async fn open(dir: &Path, max_component_bytes: usize) -> Result<Self, RegistryError> {
        std::fs::create_dir_all(dir.join("blobs")).map_err(|e| {
            RegistryError::Blob(object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(e),
            })
        })?;
        let options = SqliteConnectOptions::new()
            .filename(dir.join("registry.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let db = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&db).await?;
        let blobs = object_store::local::LocalFileSystem::new_with_prefix(dir.join("blobs"))?
            .with_fsync(true);
        Ok(Self::new(db, Arc::new(blobs), max_component_bytes))
    }

    /// A registry over an open database (migrated) and blob store.
    pub fn new(db: SqlitePool, blobs: Arc<dyn ObjectStore>, max_component_bytes: usize) -> Self {
        Self {
            db,
            blobs,
            max_component_bytes,
        }
    }

    /// The largest component accepted.
    pub fn max_component_bytes(&self) -> usize {
        self.max_component_bytes
    }

    /// Publishes `bytes` as `name` `version`: checks the name, the version,
    /// the size and that the bytes are a plugin component, stores the blob
    /// by digest, then the metadata. The same bytes again are a no-op.
    ///
    /// # Errors
    /// [`RegistryError`] saying what is wrong.
    pub async fn publish(
        &self,
        name: &str,
        version: &str,
        bytes: Bytes,
        publisher: &str,
    ) -> Result<Published, RegistryError> {
        let name = PluginName::from_str(name)?;
        let version =
            Version::parse(version).map_err(|_| RegistryError::Version(version.to_owned()))?;
        if bytes.len() > self.max_component_bytes {
            return Err(RegistryError::TooLarge {
                size: bytes.len(),
                limit: self.max_component_bytes,
            });
        }
        let digest = Digest::of(&bytes);
        if let Some(existing) = self.version(&name, &version).await? {
            return if existing.digest == digest {
                Ok(Published::Unchanged(existing))
            } else {
                Err(RegistryError::Immutable {
                    name: name.to_string(),
                    version: version.to_string(),
                    existing: existing.digest,
                })
            };
        }
        let world = inspect(&bytes)?;
        let size = bytes.len() as u64;
        self.blobs
            .put(&blob_path(&digest), PutPayload::from(bytes))
            .await?;
        let info = VersionInfo {
            name,
            version,
            world,
            digest,
            size,
            publisher: publisher.to_owned(),
            published_ms: now_ms(),
            yanked: false,
        };
        let inserted = sqlx::query(
            "INSERT INTO versions (name, version, world, digest, size, publisher, published_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, version) DO NOTHING",
        )
        .bind(info.name.as_str())
        .bind(info.version.to_string())
        .bind(info.world.as_str())
        .bind(info.digest.to_string())
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(&info.publisher)
        .bind(info.published_ms)
        .execute(&self.db)
        .await?;
        if inserted.rows_affected() == 0 {
            // A concurrent publish of the same version won: answer as it
            // would have been answered after it.
            return match self.version(&info.name, &info.version).await? {
                Some(existing) if existing.digest == info.digest => {
                    Ok(Published::Unchanged(existing))
                }
                Some(existing) => Err(RegistryError::Immutable {
                    name: info.name.to_string(),
                    version: info.version.to_string(),
                    existing: existing.digest,
                }),
                None => Err(RegistryError::NotFound(format!(
                    "{} {}",
                    info.name, info.version
                ))),
            };
        }
        tracing::info!(name = %info.name, version = %info.version, digest = %info.digest, world = %info.world, "published");
        Ok(Published::Created(info))
    }

    /// One version's metadata.
    ///
    /// # Errors
    /// The database failed.
    pub async fn version(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Result<Option<VersionInfo>, RegistryError> {
        let row = sqlx::query("SELECT * FROM versions WHERE name = ? AND version = ?")
            .bind(name.as_str())
            .bind(version.to_string())
            .fetch_optional(&self.db)
            .await?;
        Ok(row.as_ref().map(row_info).transpose()?)
    }

    /// Every version of a package, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn versions(&self, name: &PluginName) -> Result<Vec<VersionInfo>, RegistryError> {
        let rows = sqlx::query("SELECT * FROM versions WHERE name = ?")
            .bind(name.as_str())
            .fetch_all(&self.db)
            .await?;
        let mut infos = rows.iter().map(row_info).collect::<Result<Vec<_>, _>>()?;
        infos.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(infos)
    }

    /// Every package with its versions.
    ///
    /// # Errors
    /// The database failed.
    pub async fn packages(&self) -> Result<Vec<PackageInfo>, RegistryError> {
        let rows = sqlx::query("SELECT * FROM versions ORDER BY name")
            .fetch_all(&self.db)
            .await?;
        let infos = rows.iter().map(row_info).collect::<Result<Vec<_>, _>>()?;
        let mut packages: Vec<PackageInfo> = Vec::new();
        for chunk in infos.chunk_by(|a, b| a.name == b.name) {
            let mut versions: Vec<&VersionInfo> = chunk.iter().collect();
            versions.sort_by(|a, b| a.version.cmp(&b.version));
            let Some(newest) = versions
                .iter()
                .rev()
                .find(|v| !v.yanked)
                .or(versions.last())
            else {
                continue;
            };
            packages.push(PackageInfo {
                name: newest.name.clone(),
                world: newest.world,
                latest: newest.version.clone(),
                versions: versions.iter().map(|v| v.version.clone()).collect(),
            });
        }
        Ok(packages)
    }

    /// Marks a version yanked (or not).
    ///
    /// # Errors
    /// No such version, or the database failed.
    pub async fn set_yanked(
        &self,
        name: &PluginName,
        version: &Version,
        yanked: bool,
    ) -> Result<VersionInfo, RegistryError> {
        let done = sqlx::query("UPDATE versions SET yanked = ? WHERE name = ? AND version = ?")
            .bind(i64::from(yanked))
            .bind(name.as_str())
            .bind(version.to_string())
            .execute(&self.db)
            .await?;
        if done.rows_affected() == 0 {
            return Err(RegistryError::NotFound(format!("{name} {version}")));
        }
        self.version(name, version)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("{name} {version}")))
    }

    /// The bytes of a blob, verified against their digest.
    ///
    /// # Errors
    /// Unknown digest, a corrupt blob, or the store failed.
    pub async fn blob(&self, digest: &Digest) -> Result<Bytes, RegistryError> {
        let bytes = match self.blobs.get(&blob_path(digest)).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(RegistryError::NotFound(digest.to_string()));
            }
            Err(err) => return Err(err.into()),
        };
        if !digest.matches(&bytes) {
            tracing::error!(%digest, "registry blob does not match its digest");
            return Err(RegistryError::Corrupt(*digest));
        }
        Ok(bytes)
    }
}

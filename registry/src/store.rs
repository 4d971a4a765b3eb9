//! The registry's storage: blobs by digest through `object_store`, version
//! metadata in a database (SQLite or PostgreSQL, through `hangar_storage`).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use hangar_storage::db::{Db, DbError, Migrations};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use semver::Version;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::signature::Signed;
use crate::{Digest, InspectError, PluginName, World};

/// A blob's bytes, streamed and verified as they pass.
pub type BlobStream = futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A stream from a poll function.
fn async_stream_parts<F>(poll: F) -> BlobStream
where
    F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<Result<Bytes, std::io::Error>>>
        + Send
        + 'static,
{
    Box::pin(futures_util::stream::poll_fn(poll))
}

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
    /// The version carries build metadata (`1.0.0+abc`).
    #[error(
        "version {0} carries build metadata, which SemVer gives no precedence: `1.0.0+a` and `1.0.0` would be one version; publish a new version number instead"
    )]
    BuildMetadata(String),
    /// A version of another world than the package's.
    #[error(
        "{name} is a {package} package (its first version fixed that); this component exports {found}: publish it under another name"
    )]
    WorldChanged {
        /// Package.
        name: String,
        /// The package's world.
        package: World,
        /// What the new version exports.
        found: World,
    },
    /// The publisher does not own the package.
    #[error(
        "publisher {publisher} does not own {name}; an owner can add it (PUT /registry/v1/packages/{name}/owners/{publisher})"
    )]
    NotOwner {
        /// Package.
        name: String,
        /// Who tried.
        publisher: String,
    },
    /// The publish carried a signature that does not hold.
    #[error(transparent)]
    Signature(#[from] crate::signature::SignatureError),
    /// The database failed.
    #[error("registry database: {0}")]
    Db(#[from] sqlx::Error),
    /// The database could not be opened or its schema applied.
    #[error("registry database: {0}")]
    Open(#[from] DbError),
    /// The registry's directory cannot be created.
    #[error("registry directory {path}: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The blob store failed.
    #[error("registry blob store: {0}")]
    Blob(#[from] object_store::Error),
    /// The publish body could not be read to its end.
    #[error("the body could not be read: {0}")]
    Body(String),
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
    /// The `hangar:plugin` contract version it was built against (`0.2.0`),
    /// when its imports or exports tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// The publisher's signature over name, version and digest, when it
    /// was published signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<Signed>,
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
    db: Db,
    blobs: Arc<dyn ObjectStore>,
    max_component_bytes: usize,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn row_info(row: &AnyRow) -> Result<VersionInfo, sqlx::Error> {
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
        contract: row.try_get("contract")?,
        signed: match (
            row.try_get::<Option<String>, _>("signer")?,
            row.try_get::<Option<String>, _>("signature")?,
        ) {
            (Some(signer), Some(signature)) => Some(Signed {
                signer: signer
                    .parse()
                    .map_err(|e: crate::signature::SignatureError| {
                        decode("signer", e.to_string())
                    })?,
                signature,
            }),
            _ => None,
        },
    })
}

/// A unique name for a publish's staging object.
fn staging_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        now_ms(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Milliseconds since the epoch `age` ago.
fn chrono_cutoff(age: std::time::Duration) -> i64 {
    now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
}

fn blob_path(digest: &Digest) -> ObjectPath {
    ObjectPath::from_iter(["sha256", &digest.hex()])
}

impl Registry {
    /// Opens (creating) a registry: its blobs in `blobs` (an object store
    /// area), its metadata in `database_url`, or `registry.db` in `dir`
    /// when `None`. Staging objects of publishes that never finished (the
    /// process was killed) are removed once they are an hour old: no
    /// publish, on this node or another, takes that long.
    ///
    /// # Errors
    /// The directory, database or blob store cannot be opened.
    pub async fn open(
        dir: &Path,
        database_url: Option<&str>,
        blobs: Arc<dyn ObjectStore>,
        max_component_bytes: usize,
    ) -> Result<Self, RegistryError> {
        let db = match database_url {
            Some(url) => Self::database(url).await?,
            None => {
                std::fs::create_dir_all(dir).map_err(|source| RegistryError::Dir {
                    path: dir.display().to_string(),
                    source,
                })?;
                Self::database(&Db::sqlite_url(&dir.join("registry.db"))).await?
            }
        };
        let registry = Self::new(db, blobs, max_component_bytes);
        let removed = registry
            .remove_stale_staging(std::time::Duration::from_secs(3600))
            .await?;
        if removed > 0 {
            tracing::info!(removed, "removed staging objects of unfinished publishes");
        }
        Ok(registry)
    }

    /// Deletes staging objects older than `age`; returns how many.
    async fn remove_stale_staging(&self, age: std::time::Duration) -> Result<usize, RegistryError> {
        use futures_util::StreamExt as _;
        let cutoff = chrono_cutoff(age);
        let mut listing = self.blobs.list(Some(&ObjectPath::from("staging")));
        let mut removed = 0;
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if meta.last_modified.timestamp_millis() < cutoff {
                match self.blobs.delete(&meta.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => removed += 1,
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(removed)
    }

    /// Connects to the registry's database at `url` and applies its schema.
    /// On PostgreSQL the registry can share a database with the host: its
    /// migrations are recorded in a table of their own.
    ///
    /// # Errors
    /// The database cannot be reached or migrated.
    pub async fn database(url: &str) -> Result<Db, RegistryError> {
        let db = Db::connect(url, 4).await?;
        db.migrate(&Migrations {
            sqlite: sqlx::migrate!("./migrations/sqlite"),
            postgres: sqlx::migrate!("./migrations/postgres"),
            table: match db.dialect() {
                // Existing registry files keep sqlx's default table.
                hangar_storage::Dialect::Sqlite => None,
                hangar_storage::Dialect::Postgres => Some("_registry_migrations"),
            },
        })
        .await?;
        Ok(db)
    }

    /// A registry over an open database (migrated by [`Registry::database`])
    /// and blob store.
    pub fn new(db: Db, blobs: Arc<dyn ObjectStore>, max_component_bytes: usize) -> Self {
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

    /// Publishes `bytes` as `name` `version` (see [`Self::publish_stream`]).
    ///
    /// # Errors
    /// [`RegistryError`] saying what is wrong.
    pub async fn publish(
        &self,
        name: &str,
        version: &str,
        bytes: Bytes,
        publisher: &str,
        signed: Option<Signed>,
    ) -> Result<Published, RegistryError> {
        let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
        self.publish_stream(name, version, body, publisher, signed)
            .await
    }

    /// Publishes the component `body` streams as `name` `version`: checks
    /// the name, the version and the owner before reading the body, then,
    /// as the bytes arrive, the size limit, the digest and that they are a
    /// plugin component, writing them to a staging object (memory stays
    /// bounded, whatever the size); then the signature when there is one,
    /// that the version is new and the world the package's, and only then
    /// moves the blob to its digest's name and stores the metadata. The same
    /// bytes again are a no-op (the first publish's signature stays).
    ///
    /// # Errors
    /// [`RegistryError`] saying what is wrong; [`RegistryError::Body`] when
    /// the body could not be read to its end. Nothing is kept then.
    pub async fn publish_stream<E: std::fmt::Display>(
        &self,
        name: &str,
        version: &str,
        body: impl futures_util::Stream<Item = Result<Bytes, E>> + Send,
        publisher: &str,
        signed: Option<Signed>,
    ) -> Result<Published, RegistryError> {
        let name = PluginName::from_str(name)?;
        let version =
            Version::parse(version).map_err(|_| RegistryError::Version(version.to_owned()))?;
        if !version.build.is_empty() {
            return Err(RegistryError::BuildMetadata(version.to_string()));
        }
        self.check_owner(&name, publisher).await?;
        let staging = ObjectPath::from_iter(["staging", &staging_name()]);
        let received = self.receive(&staging, body).await;
        let result = match received {
            Ok((digest, size, world)) => {
                self.commit(
                    &staging,
                    name,
                    version,
                    (digest, size, world),
                    publisher,
                    signed,
                )
                .await
            }
            Err(err) => Err(err),
        };
        // A new version's staging object became its blob; otherwise it goes.
        if !matches!(result, Ok(Published::Created(_))) {
            match self.blobs.delete(&staging).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => tracing::warn!(error = %err, %staging, "staging object not removed"),
            }
        }
        result
    }

    /// Streams `body` into `staging`, hashing and inspecting it on the way,
    /// within the size limit.
    async fn receive<E: std::fmt::Display>(
        &self,
        staging: &ObjectPath,
        body: impl futures_util::Stream<Item = Result<Bytes, E>> + Send,
    ) -> Result<(Digest, u64, crate::Inspected), RegistryError> {
        use futures_util::StreamExt as _;
        use sha2::Digest as _;
        let upload = self.blobs.put_multipart(staging).await?;
        let mut writer = object_store::WriteMultipart::new(upload);
        let mut hasher = sha2::Sha256::new();
        let mut inspector = crate::Inspector::default();
        let mut size = 0usize;
        let mut body = std::pin::pin!(body);
        let outcome = async {
            while let Some(part) = body.next().await {
                let part = part.map_err(|err| RegistryError::Body(err.to_string()))?;
                size += part.len();
                if size > self.max_component_bytes {
                    return Err(RegistryError::TooLarge {
                        size,
                        limit: self.max_component_bytes,
                    });
                }
                hasher.update(&part);
                inspector.feed(&part)?;
                // At most two parts in flight: memory stays bounded.
                writer.wait_for_capacity(2).await?;
                writer.write(&part);
            }
            Ok(inspector.finish()?)
        }
        .await;
        match outcome {
            Ok(inspected) => {
                writer.finish().await?;
                let digest = Digest::from(<[u8; 32]>::from(hasher.finalize()));
                Ok((digest, size as u64, inspected))
            }
            Err(err) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "staging upload not aborted");
                }
                Err(err)
            }
        }
    }

    /// Checks a received component against what is published and makes it
    /// a version.
    async fn commit(
        &self,
        staging: &ObjectPath,
        name: PluginName,
        version: Version,
        (digest, size, inspected): (Digest, u64, crate::Inspected),
        publisher: &str,
        signed: Option<Signed>,
    ) -> Result<Published, RegistryError> {
        if let Some(signed) = &signed {
            signed.verify(&name, &version, &digest)?;
        }
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
        let world = inspected.world;
        if let Some(first) = self.versions(&name).await?.first()
            && first.world != world
        {
            return Err(RegistryError::WorldChanged {
                name: name.to_string(),
                package: first.world,
                found: world,
            });
        }
        // Another version with the same bytes already has the blob: renaming
        // over it replaces it with the same content.
        self.blobs.rename(staging, &blob_path(&digest)).await?;
        let info = VersionInfo {
            name,
            version,
            world,
            digest,
            size,
            publisher: publisher.to_owned(),
            published_ms: now_ms(),
            yanked: false,
            contract: inspected.contract,
            signed,
        };
        let inserted = sqlx::query(
            "INSERT INTO versions (name, version, world, digest, size, publisher, published_ms, signer, signature, contract) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name, version) DO NOTHING",
        )
        .bind(info.name.as_str())
        .bind(info.version.to_string())
        .bind(info.world.as_str())
        .bind(info.digest.to_string())
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(&info.publisher)
        .bind(info.published_ms)
        .bind(info.signed.as_ref().map(|s| s.signer.to_string()))
        .bind(info.signed.as_ref().map(|s| s.signature.clone()))
        .bind(info.contract.clone())
        .execute(self.db.pool())
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
        // The first publisher of a package owns it: under the package's
        // owners scope, so two first publishes racing on PostgreSQL do not
        // both become owners.
        let scope = format!("owners:{}", info.name);
        let mut tx = self.db.begin_write(&[&scope], false).await?;
        sqlx::query(
            "INSERT INTO owners (name, publisher, added_ms) SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM owners WHERE name = $4)",
        )
        .bind(info.name.as_str())
        .bind(&info.publisher)
        .bind(info.published_ms)
        .bind(info.name.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.audit(
            &info.publisher,
            "publish",
            &info.name,
            &match &info.signed {
                Some(signed) => format!(
                    "{} {} signed by {}",
                    info.version, info.digest, signed.signer
                ),
                None => format!("{} {}", info.version, info.digest),
            },
        )
        .await?;
        tracing::info!(name = %info.name, version = %info.version, digest = %info.digest, world = %info.world, "published");
        Ok(Published::Created(info))
    }

    /// Refuses `publisher` when the package has owners and it is not one.
    async fn check_owner(&self, name: &PluginName, publisher: &str) -> Result<(), RegistryError> {
        let owners = self.owners(name).await?;
        if owners.is_empty() || owners.iter().any(|o| o == publisher) {
            Ok(())
        } else {
            Err(RegistryError::NotOwner {
                name: name.to_string(),
                publisher: publisher.to_owned(),
            })
        }
    }

    /// The publishers who own `name` (none before its first publish).
    ///
    /// # Errors
    /// The database failed.
    pub async fn owners(&self, name: &PluginName) -> Result<Vec<String>, RegistryError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT publisher FROM owners WHERE name = $1 ORDER BY added_ms, publisher",
        )
        .bind(name.as_str())
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Makes `to` the only owner of `name`, as `by` (a registry admin,
    /// checked by the caller); recorded in the audit log.
    ///
    /// # Errors
    /// No such package, or the database failed.
    pub async fn transfer(
        &self,
        name: &PluginName,
        to: &str,
        by: &str,
    ) -> Result<Vec<String>, RegistryError> {
        let before = self.owners(name).await?;
        if before.is_empty() {
            return Err(RegistryError::NotFound(name.to_string()));
        }
        let scope = format!("owners:{name}");
        let mut tx = self.db.begin_write(&[&scope], false).await?;
        sqlx::query("DELETE FROM owners WHERE name = $1")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO owners (name, publisher, added_ms) VALUES ($1, $2, $3)")
            .bind(name.as_str())
            .bind(to)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.audit(
            by,
            "transfer",
            name,
            &format!("from {} to {to}", before.join(", ")),
        )
        .await?;
        tracing::info!(%name, from = %before.join(", "), %to, %by, "package transferred");
        self.owners(name).await
    }

    /// Adds `owner` to the owners of `name`, as `by` (an owner).
    ///
    /// # Errors
    /// No such package, `by` is not an owner, or the database failed.
    pub async fn add_owner(
        &self,
        name: &PluginName,
        owner: &str,
        by: &str,
    ) -> Result<Vec<String>, RegistryError> {
        if self.owners(name).await?.is_empty() {
            return Err(RegistryError::NotFound(name.to_string()));
        }
        self.check_owner(name, by).await?;
        sqlx::query(
            "INSERT INTO owners (name, publisher, added_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name, publisher) DO NOTHING",
        )
        .bind(name.as_str())
        .bind(owner)
        .bind(now_ms())
        .execute(self.db.pool())
        .await?;
        self.audit(by, "add-owner", name, owner).await?;
        self.owners(name).await
    }

    async fn audit(
        &self,
        publisher: &str,
        action: &str,
        name: &PluginName,
        detail: &str,
    ) -> Result<(), RegistryError> {
        sqlx::query(
            "INSERT INTO audit (at_ms, publisher, action, name, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now_ms())
        .bind(publisher)
        .bind(action)
        .bind(name.as_str())
        .bind(detail)
        .execute(self.db.pool())
        .await?;
        Ok(())
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
        let row = sqlx::query("SELECT * FROM versions WHERE name = $1 AND version = $2")
            .bind(name.as_str())
            .bind(version.to_string())
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.as_ref().map(row_info).transpose()?)
    }

    /// Every version of a package, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn versions(&self, name: &PluginName) -> Result<Vec<VersionInfo>, RegistryError> {
        let rows = sqlx::query("SELECT * FROM versions WHERE name = $1")
            .bind(name.as_str())
            .fetch_all(self.db.pool())
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
            .fetch_all(self.db.pool())
            .await?;
        let infos = rows.iter().map(row_info).collect::<Result<Vec<_>, _>>()?;
        let mut packages: Vec<PackageInfo> = Vec::new();
        for chunk in infos.chunk_by(|a, b| a.name == b.name) {
            let mut versions: Vec<&VersionInfo> = chunk.iter().collect();
            versions.sort_by(|a, b| a.version.cmp(&b.version));
            // A pre-release is latest only when there is no stable version.
            let Some(newest) = versions
                .iter()
                .rev()
                .find(|v| !v.yanked && v.version.pre.is_empty())
                .or_else(|| versions.iter().rev().find(|v| !v.yanked))
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
        by: &str,
    ) -> Result<VersionInfo, RegistryError> {
        self.check_owner(name, by).await?;
        let done = sqlx::query("UPDATE versions SET yanked = $1 WHERE name = $2 AND version = $3")
            .bind(i64::from(yanked))
            .bind(name.as_str())
            .bind(version.to_string())
            .execute(self.db.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(RegistryError::NotFound(format!("{name} {version}")));
        }
        let action = if yanked { "yank" } else { "unyank" };
        self.audit(by, action, name, &version.to_string()).await?;
        self.version(name, version)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("{name} {version}")))
    }

    /// The bytes of a blob as a stream, with its size: memory stays
    /// bounded whatever the blob's size and however many read it. The bytes
    /// are hashed as they pass; a blob that does not match its digest ends
    /// its stream with an error instead of its last part, so a reader never
    /// gets a complete wrong blob.
    ///
    /// # Errors
    /// Unknown digest, or the store failed.
    pub async fn blob_stream(&self, digest: &Digest) -> Result<(u64, BlobStream), RegistryError> {
        use futures_util::StreamExt as _;
        use sha2::Digest as _;
        let got = match self.blobs.get(&blob_path(digest)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(RegistryError::NotFound(digest.to_string()));
            }
            Err(err) => return Err(err.into()),
        };
        let size = got.meta.size;
        let expected = *digest;
        let mut hasher = Some(sha2::Sha256::new());
        // The newest part is held back until the next arrives, and the last
        // until the hash is checked: a wrong blob never arrives whole.
        let mut held: Option<Bytes> = None;
        let mut parts = got.into_stream();
        let stream = async_stream_parts(move |cx| {
            use std::task::Poll;
            loop {
                match parts.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(part))) => {
                        if let Some(hasher) = hasher.as_mut() {
                            hasher.update(&part);
                        }
                        if let Some(previous) = held.replace(part) {
                            return Poll::Ready(Some(Ok(previous)));
                        }
                    }
                    Poll::Ready(Some(Err(err))) => {
                        return Poll::Ready(Some(Err(std::io::Error::other(err))));
                    }
                    Poll::Ready(None) => {
                        let actual = hasher
                            .take()
                            .map(|h| Digest::from(<[u8; 32]>::from(h.finalize())));
                        if actual.is_some_and(|actual| actual != expected) {
                            held = None;
                            tracing::error!(digest = %expected, "registry blob does not match its digest");
                            return Poll::Ready(Some(Err(std::io::Error::other(
                                "stored blob does not match its digest",
                            ))));
                        }
                        return Poll::Ready(held.take().map(Ok));
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
        });
        Ok((size, stream))
    }
}

//! The object store behind a URL: `file:///DIR` (a local directory) or
//! `s3://BUCKET/PREFIX` (S3 or an S3-compatible server, configured by the
//! usual `AWS_*` variables as `object_store` reads them).
//!
//! Each user of the store (uploads, the registry) works in an *area*, a
//! folder of its own under the URL, so one bucket serves a whole node or
//! cluster.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;

/// Why an object store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    /// The URL is not one Hangar understands.
    #[error("object store URL {url:?} is not valid: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A local store's directory cannot be created.
    #[error("object store directory {path}: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The store cannot be configured or does not answer.
    #[error("object store {url}: {source}")]
    Store {
        /// The store's URL.
        url: String,
        /// The failure.
        source: object_store::Error,
    },
}

/// A parsed object store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectStoreUrl {
    /// A local directory.
    File(PathBuf),
    /// An S3 bucket, with a key prefix (empty for the bucket's root).
    S3 {
        /// The bucket.
        bucket: String,
        /// Key prefix, without leading or trailing `/`.
        prefix: String,
    },
}

/// One area of an object store: the store, and its directory when local
/// (local stores get extra care: flushing, removing temporary files).
#[derive(Debug, Clone)]
pub struct Area {
    /// The store, rooted at the area.
    pub store: Arc<dyn ObjectStore>,
    /// The area's directory, for a local store.
    pub local_root: Option<PathBuf>,
    /// Where the area is, for messages (no credentials: they come from the
    /// environment, never from the URL).
    pub display: String,
}

impl ObjectStoreUrl {
    /// Parses `file:///DIR` or `s3://BUCKET[/PREFIX]`.
    ///
    /// # Errors
    /// Another scheme, a relative path, a bucket missing.
    pub fn parse(raw: &str) -> Result<Self, ObjectStoreError> {
        let parsed = url::Url::parse(raw);
        // Never repeat credentials someone put in the URL.
        let shown = match &parsed {
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                let mut url = url.clone();
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.to_string()
            }
            _ => raw.to_owned(),
        };
        let invalid = |reason: &str| ObjectStoreError::Url {
            url: shown.clone(),
            reason: reason.to_owned(),
        };
        let url = parsed.map_err(|err| invalid(&err.to_string()))?;
        match url.scheme() {
            "file" => url
                .to_file_path()
                .map(Self::File)
                .map_err(|()| invalid("expected file:///ABSOLUTE/PATH")),
            "s3" => {
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(invalid(
                        "credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                    ));
                }
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| invalid("expected s3://BUCKET/PREFIX"))?;
                Ok(Self::S3 {
                    bucket: bucket.to_owned(),
                    prefix: url.path().trim_matches('/').to_owned(),
                })
            }
            other => Err(invalid(&format!(
                "unsupported scheme {other:?}: use file:///DIR or s3://BUCKET/PREFIX"
            ))),
        }
    }

    /// A local directory's URL.
    pub fn file(dir: &Path) -> Self {
        Self::File(dir.to_path_buf())
    }

    /// Opens `area` (a folder name; empty for the URL's own root) and checks
    /// that the store answers. `fsync` makes a local store flush what it
    /// writes before acknowledging it (S3 always does).
    ///
    /// # Errors
    /// The directory cannot be created, the S3 configuration is incomplete,
    /// or the store does not answer.
    pub async fn open(&self, area: &str, fsync: bool) -> Result<Area, ObjectStoreError> {
        match self {
            Self::File(dir) => {
                let root = if area.is_empty() {
                    dir.clone()
                } else {
                    dir.join(area)
                };
                let display = format!("file://{}", root.display());
                std::fs::create_dir_all(&root).map_err(|source| ObjectStoreError::Dir {
                    path: root.display().to_string(),
                    source,
                })?;
                let store = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|source| ObjectStoreError::Store {
                        url: display.clone(),
                        source,
                    })?
                    .with_fsync(fsync)
                    .with_automatic_cleanup(true);
                Ok(Area {
                    store: Arc::new(store),
                    local_root: Some(root),
                    display,
                })
            }
            Self::S3 { bucket, prefix } => {
                let key = [prefix.as_str(), area]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join("/");
                let display = format!("s3://{bucket}/{key}");
                let failed = |source| ObjectStoreError::Store {
                    url: display.clone(),
                    source,
                };
                let s3 = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(failed)?;
                let store: Arc<dyn ObjectStore> = if key.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, key.as_str()))
                };
                // A wrong endpoint, bucket or credential is reported now,
                // not at the first upload.
                store.list_with_delimiter(None).await.map_err(failed)?;
                Ok(Area {
                    store,
                    local_root: None,
                    display,
                })
            }
        }
    }
}

impl std::fmt::Display for ObjectStoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(dir) => write!(f, "file://{}", dir.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt as _;

    #[test]
    fn urls_are_parsed_or_refused_with_a_reason() {
        assert_eq!(
            ObjectStoreUrl::parse("file:///srv/hangar").unwrap(),
            ObjectStoreUrl::File(PathBuf::from("/srv/hangar"))
        );
        assert_eq!(
            ObjectStoreUrl::parse("s3://blobs/team/a/").unwrap(),
            ObjectStoreUrl::S3 {
                bucket: "blobs".into(),
                prefix: "team/a".into()
            }
        );
        assert_eq!(
            ObjectStoreUrl::parse("s3://blobs").unwrap().to_string(),
            "s3://blobs"
        );
        for (bad, says) in [
            ("gs://bucket", "unsupported scheme"),
            ("s3://key:secret@bucket/x", "credentials do not belong"),
            ("blobs", "relative URL"),
        ] {
            let err = ObjectStoreUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }

    #[tokio::test]
    async fn a_local_area_is_a_folder_under_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let url = ObjectStoreUrl::file(dir.path());
        let area = url.open("uploads", false).await.unwrap();
        area.store
            .put(&"a/b".into(), bytes::Bytes::from_static(b"x").into())
            .await
            .unwrap();
        assert!(dir.path().join("uploads/a/b").is_file());
        assert_eq!(
            area.local_root.as_deref(),
            Some(dir.path().join("uploads").as_path())
        );
    }
}

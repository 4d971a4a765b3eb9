//! Fetching components from a registry: metadata, then the blob, verified
//! against its digest before anyone compiles it. A remote registry is asked
//! over HTTP, with transient failures retried with backoff, and the host
//! hashes what arrives; the embedded one is called in-process, and its
//! blob stream is the check (it hashes as the bytes pass and ends in an
//! error on a mismatch). Concurrent requests for one digest share one
//! download.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use hangar_client::Backoff;
use hangar_registry::store::{Registry, RegistryError, VersionInfo};
use hangar_registry::{Digest, PluginName};
use semver::Version;

/// Why a fetch failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The registry does not have it.
    #[error("the registry has no {0}")]
    NotFound(String),
    /// The registry could not be reached or failed, after every retry.
    #[error("registry unreachable at {url}: {message}")]
    Unreachable {
        /// What was asked.
        url: String,
        /// The last failure.
        message: String,
    },
    /// The registry answered something unexpected.
    #[error("registry answered {status} for {url}: {message}")]
    Refused {
        /// What was asked.
        url: String,
        /// Status.
        status: u16,
        /// Its message.
        message: String,
    },
    /// The embedded registry failed, or holds a blob that does not match
    /// its digest.
    #[error("the embedded registry failed: {0}")]
    Local(String),
    /// The bytes do not hash to the digest asked for.
    #[error("blob {expected} from the registry hashes to {actual}; refusing it")]
    DigestMismatch {
        /// Asked for.
        expected: Digest,
        /// Received.
        actual: Digest,
    },
}

type Inflight = Shared<BoxFuture<'static, Result<Bytes, FetchError>>>;

/// Where components come from.
#[derive(Clone)]
enum Source {
    /// A registry server, over HTTP(S).
    Remote {
        http: reqwest::Client,
        base: Arc<str>,
    },
    /// This server's own registry, called in-process.
    Local(Registry),
}

/// A registry client.
#[derive(Clone)]
pub struct Fetcher {
    source: Source,
    attempts: u32,
    backoff: Backoff,
    inflight: Arc<Mutex<HashMap<Digest, Inflight>>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("base", &self.base())
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A client of the registry at `base` (`http://…` or `https://…`),
    /// with connect and request timeouts. Over HTTPS it trusts the
    /// system's certificate authorities and those in `ca_pem` (a PEM
    /// bundle), if given.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (a bad CA bundle, no usable TLS
    /// or resolver): a client without its timeouts could hang an activation
    /// forever.
    pub fn new(base: &str, ca_pem: Option<&[u8]>) -> Result<Self, reqwest::Error> {
        Ok(Self::with_source(Source::Remote {
            http: http_client(ca_pem)?
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(120))
                .build()?,
            base: base.trim_end_matches('/').into(),
        }))
    }

    /// A client of this server's own registry, called in-process.
    pub fn local(registry: Registry) -> Self {
        Self::with_source(Source::Local(registry))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            attempts: 4,
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(2),
            },
            inflight: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Every package of the registry.
    ///
    /// # Errors
    /// [`FetchError`].
    pub async fn packages(&self) -> Result<Vec<hangar_registry::store::PackageInfo>, FetchError> {
        if let Source::Local(registry) = &self.source {
            return registry.packages().await.map_err(local);
        }
        let path = "/registry/v1/packages";
        self.get(path)
            .await?
            .json()
            .await
            .map_err(|err| FetchError::Refused {
                url: path.to_owned(),
                status: 200,
                message: err.to_string(),
            })
    }

    /// The registry's URL, or `embedded` for this server's own.
    pub fn base(&self) -> &str {
        match &self.source {
            Source::Remote { base, .. } => base,
            Source::Local(_) => "embedded",
        }
    }

    /// GET with retries of transient failures (network, 5xx, 429).
    async fn get(&self, path: &str) -> Result<reqwest::Response, FetchError> {
        let Source::Remote { http, base } = &self.source else {
            return Err(FetchError::Local(format!(
                "{path} asked of the embedded registry over HTTP"
            )));
        };
        let url = format!("{base}{path}");
        let mut attempt = 0;
        loop {
            let failure = match http.get(&url).send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) if response.status() == reqwest::StatusCode::NOT_FOUND => {
                    return Err(FetchError::NotFound(path.to_owned()));
                }
                Ok(response)
                    if response.status().is_server_error()
                        || response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS =>
                {
                    format!("status {}", response.status())
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let message = response.text().await.unwrap_or_default();
                    return Err(FetchError::Refused {
                        url,
                        status,
                        message,
                    });
                }
                Err(err) => error_chain(&err),
            };
            attempt += 1;
            if attempt >= self.attempts {
                return Err(FetchError::Unreachable {
                    url,
                    message: failure,
                });
            }
            tracing::debug!(%url, attempt, failure, "registry fetch failed; retrying");
            tokio::time::sleep(self.backoff.delay(attempt)).await;
        }
    }

    /// A version's metadata.
    ///
    /// # Errors
    /// [`FetchError`].
    pub async fn version(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Result<VersionInfo, FetchError> {
        if let Source::Local(registry) = &self.source {
            return registry
                .version(name, version)
                .await
                .map_err(local)?
                .ok_or_else(|| FetchError::NotFound(format!("{name} {version}")));
        }
        let path = format!("/registry/v1/packages/{name}/{version}");
        let response = self.get(&path).await.map_err(|err| match err {
            FetchError::NotFound(_) => FetchError::NotFound(format!("{name} {version}")),
            other => other,
        })?;
        response.json().await.map_err(|err| FetchError::Refused {
            url: path,
            status: 200,
            message: err.to_string(),
        })
    }

    /// The blob `digest`, verified. Concurrent calls for one digest share
    /// one download.
    ///
    /// # Errors
    /// [`FetchError`].
    pub async fn blob(&self, digest: Digest) -> Result<Bytes, FetchError> {
        let shared = {
            let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            inflight
                .entry(digest)
                .or_insert_with(|| {
                    let this = self.clone();
                    async move { this.download(digest).await }.boxed().shared()
                })
                .clone()
        };
        let result = shared.await;
        self.inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&digest);
        result
    }

    async fn download(&self, digest: Digest) -> Result<Bytes, FetchError> {
        crate::metrics::metrics().registry_fetches.inc();
        if let Source::Local(registry) = &self.source {
            return local_blob(registry, digest).await;
        }
        let path = format!("/registry/v1/blobs/{digest}");
        let bytes =
            self.get(&path)
                .await?
                .bytes()
                .await
                .map_err(|err| FetchError::Unreachable {
                    url: path,
                    message: err.to_string(),
                })?;
        let actual = Digest::of(&bytes);
        if actual != digest {
            return Err(FetchError::DigestMismatch {
                expected: digest,
                actual,
            });
        }
        Ok(bytes)
    }
}

/// The embedded registry's blob: its stream checks the digest as the bytes
/// pass, so they are not hashed again here.
async fn local_blob(registry: &Registry, digest: Digest) -> Result<Bytes, FetchError> {
    use futures_util::TryStreamExt as _;
    let (size, stream) = registry.blob_stream(&digest).await.map_err(local)?;
    let mut bytes = bytes::BytesMut::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut stream = std::pin::pin!(stream);
    while let Some(part) = stream
        .try_next()
        .await
        .map_err(|err| FetchError::Local(format!("blob {digest}: {err}")))?
    {
        bytes.extend_from_slice(&part);
    }
    Ok(bytes.freeze())
}

fn local(err: RegistryError) -> FetchError {
    match err {
        RegistryError::NotFound(what) => FetchError::NotFound(what),
        other => FetchError::Local(other.to_string()),
    }
}

/// An HTTP client builder trusting the system's certificate authorities
/// and those in `ca_pem` (a PEM bundle of one or more certificates).
///
/// # Errors
/// When `ca_pem` holds no certificate or one that does not parse.
pub fn http_client(ca_pem: Option<&[u8]>) -> Result<reqwest::ClientBuilder, reqwest::Error> {
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = ca_pem {
        for certificate in reqwest::Certificate::from_pem_bundle(pem)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    Ok(builder)
}

/// An error with its causes: reqwest's own message hides the reason a
/// request failed (a refused certificate, a reset connection).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

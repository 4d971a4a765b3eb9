//! The storage backends a test body runs against: the embedded default
//! (SQLite and the data directory) and the shared one (PostgreSQL and S3,
//! what the nodes of a cluster use).
//!
//! [`on_every_backend!`](crate::on_every_backend) turns each named test body
//! into one test per backend. Inside the shared one, every server the body
//! starts (through [`Server`](crate::server::Server)) gets
//! `HANGAR_DATABASE_URL` naming a schema made for this test alone and
//! dropped after it, in the database `HANGAR_TEST_POSTGRES_URL` names
//! (e.g. `postgres://postgres@127.0.0.1:5432/hangar_run_1`; `scripts/test.sh`
//! makes one per run), and `HANGAR_OBJECT_STORE_URL` naming a bucket made
//! for this test on the S3-compatible server at `HANGAR_TEST_S3_ENDPOINT`
//! (`scripts/test.sh` starts one per run). The shared variant is skipped,
//! saying so, when `HANGAR_TEST_POSTGRES_URL` is unset; without
//! `HANGAR_TEST_S3_ENDPOINT` it keeps blobs in the data directory, saying
//! so.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use object_store::ObjectStore;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// The variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "HANGAR_TEST_POSTGRES_URL";

/// The variable naming the S3-compatible server tests may use.
pub const S3_ENDPOINT_VAR: &str = "HANGAR_TEST_S3_ENDPOINT";

tokio::task_local! {
    static DATABASE_URL: String;
    static BUCKET: S3Bucket;
}

/// The database URL servers started by the current test get, if any.
pub fn database_url() -> Option<String> {
    DATABASE_URL.try_with(Clone::clone).ok()
}

/// The bucket servers started by the current test keep their blobs in, if
/// any.
pub fn bucket() -> Option<S3Bucket> {
    BUCKET.try_with(Clone::clone).ok()
}

/// A bucket made for one test on the S3-compatible test server.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    /// The server, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
}

impl S3Bucket {
    /// A fresh bucket on the server `HANGAR_TEST_S3_ENDPOINT` names; `None`,
    /// after printing why, when the variable is unset.
    ///
    /// # Panics
    /// When the variable is set but the bucket cannot be made.
    pub async fn create() -> Option<Self> {
        let Ok(endpoint) = std::env::var(S3_ENDPOINT_VAR) else {
            eprintln!("{S3_ENDPOINT_VAR} is unset: blobs stay in the data directory");
            return None;
        };
        let bucket = format!(
            "hangar-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        // The test server takes any credentials; creating a bucket is one
        // plain PUT.
        let made = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .unwrap_or_else(|err| panic!("{S3_ENDPOINT_VAR}={endpoint}: {err}"));
        assert!(
            made.status().is_success(),
            "creating bucket {bucket}: {}",
            made.status()
        );
        Some(Self { endpoint, bucket })
    }

    /// The object store URL servers get.
    pub fn url(&self) -> String {
        format!("s3://{}/node", self.bucket)
    }

    /// The `AWS_*` variables servers get.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "hangar-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "hangar-test".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ]
    }

    /// The bucket's `area` (`uploads` or `registry`), as servers see it.
    ///
    /// # Panics
    /// When the store cannot be configured.
    pub fn area(&self, area: &str) -> Arc<dyn ObjectStore> {
        let s3 = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_bucket_name(&self.bucket)
            .with_access_key_id("hangar-test")
            .with_secret_access_key("hangar-test")
            .with_region("us-east-1")
            .build()
            .expect("configure the test bucket");
        Arc::new(object_store::prefix::PrefixStore::new(
            s3,
            format!("node/{area}").as_str(),
        ))
    }
}

/// The upload blobs of a server started by the current test with data
/// directory `data_dir`: in its bucket (S3 variant) or in the directory.
///
/// # Panics
/// When the local store cannot be opened.
pub fn upload_blobs(data_dir: &Path) -> Arc<dyn ObjectStore> {
    match bucket() {
        Some(bucket) => bucket.area("uploads"),
        None => Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(data_dir.join("blobs"))
                .expect("open the data directory's blobs"),
        ),
    }
}

/// Every key under `prefix` in `store`, sorted.
///
/// # Panics
/// When the store cannot be listed.
pub async fn keys_under(store: &dyn ObjectStore, prefix: &str) -> Vec<String> {
    use futures_util::TryStreamExt as _;
    let prefix = object_store::path::Path::from(prefix);
    let mut keys: Vec<String> = store
        .list(Some(&prefix))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .expect("list the store");
    keys.sort();
    keys
}

/// The current test's database: its PostgreSQL database, or else an SQLite
/// file in `dir`.
pub fn database_url_in(dir: &std::path::Path) -> String {
    database_url().unwrap_or_else(|| hangar_storage::Db::sqlite_url(&dir.join("hangar.db")))
}

/// A storage backend for one test.
#[derive(Debug)]
pub enum Backend {
    /// The embedded default: each server's own SQLite file.
    Sqlite,
    /// A PostgreSQL schema made for this test (dropped with the value), and
    /// an S3 bucket made for it when there is an S3 server.
    Shared(PostgresDatabase, Option<S3Bucket>),
}

impl Backend {
    /// A fresh schema in the PostgreSQL database `HANGAR_TEST_POSTGRES_URL`
    /// names, and a fresh bucket on the S3 server `HANGAR_TEST_S3_ENDPOINT`
    /// names (if it does); `None`, after printing why, when there is no
    /// PostgreSQL server.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be used: a test that
    /// was asked to run must not pass by skipping.
    pub async fn shared() -> Option<Self> {
        let Ok(server) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!(
                "skipped: {POSTGRES_URL_VAR} is unset, so the PostgreSQL variant does not run"
            );
            return None;
        };
        let database = PostgresDatabase::create(&server).await;
        Some(Self::Shared(database, S3Bucket::create().await))
    }

    /// Runs `body` with this backend's database given to every server it
    /// starts.
    pub async fn run<F: Future<Output = ()>>(&self, body: F) {
        match self {
            Self::Sqlite => body.await,
            Self::Shared(db, None) => DATABASE_URL.scope(db.url.clone(), body).await,
            Self::Shared(db, Some(bucket)) => {
                let body = BUCKET.scope(bucket.clone(), body);
                DATABASE_URL.scope(db.url.clone(), body).await
            }
        }
    }
}

/// A PostgreSQL schema that exists for one test: every table the test's
/// servers make lives in it (the URL sets `search_path`), and it is dropped
/// with the value. Schemas, not databases: making a database costs a
/// checkpoint's worth of disk writes, which stalls every other test's
/// queries. The test run's database is made and dropped by
/// `scripts/test.sh`.
#[derive(Debug)]
pub struct PostgresDatabase {
    /// Its URL.
    pub url: String,
    server: String,
    schema: String,
}

impl PostgresDatabase {
    /// Creates a schema with a unique name in the database `server` names.
    ///
    /// # Panics
    /// When the server cannot be reached or the schema cannot be made.
    pub async fn create(server: &str) -> Self {
        let schema = format!(
            "hangar_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect(server)
            .await
            .unwrap_or_else(|err| panic!("{POSTGRES_URL_VAR}={server}: {err}"));
        for sql in [
            format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
            format!("CREATE SCHEMA {schema}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .expect("make the test's schema");
        }
        let _ = conn.close().await;
        let separator = if server.contains('?') { '&' } else { '?' };
        Self {
            url: format!("{server}{separator}options[search_path]={schema}"),
            server: server.to_owned(),
            schema,
        }
    }
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: drop the schema from a
        // thread with a runtime of its own.
        let (server, schema) = (self.server.clone(), self.schema.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&server).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test schema {}", self.schema);
        }
    }
}

/// Declares, for each named `async fn NAME()` test body in scope, a module
/// `NAME` with a test `sqlite` (the embedded default) and a test `postgres`
/// (PostgreSQL, and S3 when there is an S3 server) that run it on that
/// backend.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::backend::Backend::Sqlite.run(super::$name()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::backend::Backend::shared().await {
                    backend.run(super::$name()).await;
                }
            }
        }
    )*};
}

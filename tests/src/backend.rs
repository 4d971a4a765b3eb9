//! The storage backends a test body runs against: the embedded default
//! (SQLite and the data directory), PostgreSQL, and S3.
//!
//! [`on_every_backend!`](crate::on_every_backend) turns each named test body
//! into one test per backend. Inside the PostgreSQL one, every server the
//! body starts (through [`Server`](crate::server::Server)) gets
//! `HANGAR_DATABASE_URL` naming a schema made for this test alone and
//! dropped after it, in the database `HANGAR_TEST_POSTGRES_URL` names
//! (e.g. `postgres://postgres@127.0.0.1:5432/hangar_run_1`; `scripts/test.sh`
//! makes one per run). Inside the S3 one, servers keep their blobs in a
//! bucket made for this test on the S3-compatible server at
//! `HANGAR_TEST_S3_ENDPOINT` (`scripts/test.sh` starts one per run). A
//! variant is skipped, saying so, when its variable is unset.

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
            eprintln!("skipped: {S3_ENDPOINT_VAR} is unset, so the S3 variant does not run");
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
    /// A PostgreSQL schema made for this test; dropped with the value.
    Postgres(PostgresDatabase),
    /// SQLite, and blobs in an S3 bucket made for this test.
    S3(S3Bucket),
}

impl Backend {
    /// A fresh schema in the PostgreSQL database `HANGAR_TEST_POSTGRES_URL`
    /// names; `None`, after printing why, when the variable is unset.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be used: a test that
    /// was asked to run must not pass by skipping.
    pub async fn postgres() -> Option<Self> {
        let Ok(server) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!(
                "skipped: {POSTGRES_URL_VAR} is unset, so the PostgreSQL variant does not run"
            );
            return None;
        };
        Some(Self::Postgres(PostgresDatabase::create(&server).await))
    }

    /// Runs `body` with this backend's database given to every server it
    /// starts.
    pub async fn run<F: Future<Output = ()>>(&self, body: F) {
        match self {
            Self::Sqlite => body.await,
            Self::Postgres(db) => DATABASE_URL.scope(db.url.clone(), body).await,
            Self::S3(bucket) => BUCKET.scope(bucket.clone(), body).await,
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
/// `NAME` with a test `sqlite` and a test `postgres` that run it on that
/// backend. Prefixed with `objects:`, each module also gets a test `s3`
/// that runs it with blobs in an S3 bucket.
#[macro_export]
macro_rules! on_every_backend {
    (objects: $($name:ident),* $(,)?) => {$(
        $crate::backend_tests!($name, s3);
    )*};
    ($($name:ident),* $(,)?) => {$(
        $crate::backend_tests!($name);
    )*};
}

/// The module of one test body's variants (see [`on_every_backend!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! backend_tests {
    ($name:ident $(, $s3:ident)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::backend::Backend::Sqlite.run(super::$name()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::backend::Backend::postgres().await {
                    backend.run(super::$name()).await;
                }
            }

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s3() {
                    if let Some(bucket) = $crate::backend::S3Bucket::create().await {
                        $crate::backend::Backend::S3(bucket)
                            .run(super::$name())
                            .await;
                    }
                }
            )?
        }
    };
}

//! The storage backends a test body runs against: the embedded SQLite
//! default and PostgreSQL.
//!
//! [`on_every_backend!`](crate::on_every_backend) turns each named test body
//! into one test per backend. Inside the PostgreSQL one, every server the
//! body starts (through [`Server`](crate::server::Server)) gets
//! `HANGAR_DATABASE_URL` naming a schema made for this test alone and
//! dropped after it, in the database `HANGAR_TEST_POSTGRES_URL` names
//! (e.g. `postgres://postgres@127.0.0.1:5432/hangar_run_1`; `scripts/test.sh`
//! makes one per run). The PostgreSQL tests are skipped, saying so, when
//! the variable is unset.

use std::future::Future;

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// The variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "HANGAR_TEST_POSTGRES_URL";

tokio::task_local! {
    static DATABASE_URL: String;
}

/// The database URL servers started by the current test get, if any.
pub fn database_url() -> Option<String> {
    DATABASE_URL.try_with(Clone::clone).ok()
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
                if let Some(backend) = $crate::backend::Backend::postgres().await {
                    backend.run(super::$name()).await;
                }
            }
        }
    )*};
}

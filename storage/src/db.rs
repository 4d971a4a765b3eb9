//! One database handle over SQLite or PostgreSQL.
//!
//! Every query is written once, with numbered placeholders (`$1`), which
//! both engines accept, and runs through sqlx's `Any` driver. What the two
//! engines do differently is decided here, not in each query:
//!
//! - **Write transactions** ([`Db::begin_write`]). SQLite has one writer at
//!   a time: `BEGIN IMMEDIATE` takes the write lock up front, so a
//!   read-then-write sequence cannot interleave with another. PostgreSQL
//!   runs writers side by side: the transaction takes a transaction-scoped
//!   advisory lock per *scope* the caller names (a room, a customer, a
//!   plugin's key-value store), so only writers of the same scope wait for
//!   each other. Locks are taken in one statement in key order, so two
//!   transactions never wait for each other in a cycle.
//! - **Change cursors** ([`Db::begin_write`] with `changes`, and
//!   [`Db::begin_change_read`]). A cursor value allocated by a writer that
//!   has not committed yet must not be skipped by a reader that already saw
//!   a higher one. On PostgreSQL writers that allocate cursor values hold a
//!   shared lock until they commit, and a reader takes it exclusively for an
//!   instant: everything it then reads below the sequence's current value is
//!   committed. On SQLite writes are serial, so cursor order is commit order.
//!
//! Transactions are sqlx's: one dropped before its commit rolls back, so a
//! caller that gives up half-way never returns a connection with an open
//! transaction to the pool.

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, Connection as _, Executor as _, Transaction};

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: one file, one writer at a time.
    Sqlite,
    /// PostgreSQL: shared by every node of a cluster.
    Postgres,
}

impl Dialect {
    /// The engine a database URL names.
    ///
    /// # Errors
    /// [`DbError::Url`] for any other scheme.
    pub fn of_url(url: &str) -> Result<Self, DbError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(DbError::Url(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite://PATH or postgres://HOST/DB"
            ))),
        }
    }
}

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names no engine Hangar speaks.
    #[error("{0}")]
    Url(String),
    /// The database could not be reached or opened.
    #[error("cannot open the database at {url}: {source}")]
    Open {
        /// The URL, without its password.
        url: String,
        /// What went wrong.
        source: sqlx::Error,
    },
    /// Migrating the schema failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// The schema of one component, as migrations for each engine.
#[derive(Debug)]
pub struct Migrations {
    /// Migrations for SQLite.
    pub sqlite: Migrator,
    /// Migrations for PostgreSQL.
    pub postgres: Migrator,
    /// The table that records the applied migrations. Components that share
    /// one PostgreSQL database need one each; `None` keeps sqlx's default.
    pub table: Option<&'static str>,
}

/// The advisory lock whose shared holders are writers allocating change
/// cursor values (see the module documentation).
const CHANGES_LOCK: i64 = 0x4841_4e47_4152_0001;

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

impl Db {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://...`) with
    /// at most `max_connections` pooled connections.
    ///
    /// # Errors
    /// An unknown scheme, or the database cannot be reached.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let dialect = Dialect::of_url(url)?;
        sqlx::any::install_default_drivers();
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10));
        if dialect == Dialect::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL + synchronous=FULL: a committed write survives a
                    // crash of the process or the machine.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let open_error = |source| DbError::Open {
            url: redact(url),
            source,
        };
        // One connection first: the pool retries until its timeout and then
        // reports only that, while this says why (refused, no such
        // database, authentication).
        sqlx::AnyConnection::connect(url)
            .await
            .map_err(open_error)?
            .close()
            .await
            .map_err(open_error)?;
        let pool = options.connect(url).await.map_err(open_error)?;
        Ok(Self { pool, dialect })
    }

    /// The URL of an SQLite database file at `path`, created when missing.
    pub fn sqlite_url(path: &Path) -> String {
        // Percent-encode what a URL parser would take for syntax.
        let mut url = String::from("sqlite://");
        for byte in path.to_string_lossy().bytes() {
            match byte {
                b'%' | b'?' | b'#' | b' ' => url.push_str(&format!("%{byte:02X}")),
                _ => url.push(char::from(byte)),
            }
        }
        url.push_str("?mode=rwc");
        url
    }

    /// Applies the migrations for this engine.
    ///
    /// # Errors
    /// A migration failed, or the applied ones differ from the embedded ones.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), DbError> {
        let mut migrator = clone_migrator(match self.dialect {
            Dialect::Sqlite => &migrations.sqlite,
            Dialect::Postgres => &migrations.postgres,
        });
        if let Some(table) = migrations.table {
            migrator.dangerous_set_table_name(table);
        }
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Begins a transaction for a read-then-write sequence over `scopes`
    /// (e.g. `room:conv-1`); with `changes` it may allocate change cursor
    /// values. See the module documentation.
    ///
    /// # Errors
    /// The database failed.
    pub async fn begin_write(
        &self,
        scopes: &[&str],
        changes: bool,
    ) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => {
                let mut tx = self.pool.begin().await?;
                let mut keys: Vec<i64> = scopes.iter().map(|s| lock_key(s)).collect();
                keys.sort_unstable();
                keys.dedup();
                // The change lock first, then the scopes in key order: every
                // writer asks in the same order. The keys are our own
                // integers, so writing them into the statement is safe.
                let mut locks = Vec::with_capacity(keys.len() + 1);
                if changes {
                    locks.push(format!("pg_advisory_xact_lock_shared({CHANGES_LOCK})"));
                }
                locks.extend(keys.iter().map(|k| format!("pg_advisory_xact_lock({k})")));
                if !locks.is_empty() {
                    let sql = format!("SELECT {}", locks.join(", "));
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut *tx)
                        .await?;
                }
                Ok(tx)
            }
        }
    }

    /// Begins a transaction from which change cursors read: no writer that
    /// allocated a lower cursor value is still running (see the module
    /// documentation). Keep it short: writers that allocate cursor values
    /// wait while it is open.
    ///
    /// # Errors
    /// The database failed.
    pub async fn begin_change_read(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(CHANGES_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn clone_migrator(m: &Migrator) -> Migrator {
    Migrator {
        migrations: m.migrations.clone(),
        ignore_missing: m.ignore_missing,
        locking: m.locking,
        no_tx: m.no_tx,
        table_name: m.table_name.clone(),
        create_schemas: m.create_schemas.clone(),
    }
}

/// A stable 64-bit hash of `text` (FNV-1a): the same in every process and
/// on every node, for lock keys and for spreading work by name.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The advisory-lock key of a scope.
fn lock_key(scope: &str) -> i64 {
    i64::from_ne_bytes(stable_hash(scope).to_ne_bytes())
}

/// `url` without a password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Dialect::of_url("sqlite://x.db").ok(), Some(Dialect::Sqlite));
        assert_eq!(
            Dialect::of_url("postgresql://h/db").ok(),
            Some(Dialect::Postgres)
        );
        assert!(Dialect::of_url("mysql://h/db").is_err());
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            Db::sqlite_url(Path::new("/a b/c?.db")),
            "sqlite:///a%20b/c%3F.db?mode=rwc"
        );
        assert_ne!(lock_key("room:a"), lock_key("room:b"));
    }

    #[tokio::test]
    async fn sqlite_file_is_created_and_written() -> Result<(), DbError> {
        let dir = tempfile::tempdir().map_err(|e| DbError::Url(e.to_string()))?;
        let db = Db::connect(&Db::sqlite_url(&dir.path().join("t.db")), 2).await?;
        let mut tx = db.begin_write(&["x"], true).await?;
        sqlx::query("CREATE TABLE t (v INTEGER)")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO t (v) VALUES ($1)")
            .bind(7_i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let (v,): (i64,) = sqlx::query_as("SELECT v FROM t")
            .fetch_one(db.pool())
            .await?;
        assert_eq!(v, 7);
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(db.pool())
            .await?;
        assert_eq!(mode, "wal");
        Ok(())
    }
}

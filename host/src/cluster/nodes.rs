//! The cluster's node list in the shared database: each node upserts its
//! row (public URL, open connections) every [`REFRESH`]; the live nodes are
//! those refreshed within [`NODE_TTL`]. A node that stops gracefully
//! deletes its row at once; one that dies drops out when its row ages past
//! the TTL. Times are the nodes' clocks: keep them in sync (NTP).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::store::{Database, StoreError, now_ms};

/// How often a node refreshes its row.
pub const REFRESH: Duration = Duration::from_secs(2);
/// How long a row stays live without a refresh: a killed node leaves the
/// list within this time (plus one refresh period of the reader's cache:
/// none, the list is read per request).
pub const NODE_TTL: Duration = Duration::from_secs(10);

/// How long a departed node's rows (its list entry, the versions it ran)
/// are kept before any node deletes them: long enough for an admin to see
/// which node went, short enough that node ids of past deployments do not
/// pile up.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// One live node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveNode {
    /// Its id.
    pub id: String,
    /// The URL clients reach it at.
    pub url: String,
    /// Its open connections at its last refresh.
    pub connections: u64,
}

/// The node list.
#[derive(Debug, Clone)]
pub struct Nodes {
    db: Database,
    id: String,
    url: String,
    started_ms: i64,
    /// Set once the node left: a refresh in flight must not list it again.
    left: Arc<Mutex<bool>>,
}

impl Nodes {
    /// The list in `db`, as node `id` reachable at `url`.
    pub fn new(db: Database, id: String, url: String) -> Self {
        Self {
            db,
            id,
            url,
            started_ms: now_ms(),
            left: Arc::new(Mutex::new(false)),
        }
    }

    /// This node's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Writes this node's row with its current load.
    ///
    /// # Errors
    /// The database failed.
    pub async fn refresh(&self, connections: usize) -> Result<(), StoreError> {
        let left = self.left.lock().await;
        if *left {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO nodes (id, url, connections, started_ms, refreshed_ms)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET url = excluded.url,
                 connections = excluded.connections, refreshed_ms = excluded.refreshed_ms",
        )
        .bind(&self.id)
        .bind(&self.url)
        .bind(i64::try_from(connections).unwrap_or(i64::MAX))
        .bind(self.started_ms)
        .bind(now_ms())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Removes this node from the list for good (a graceful shutdown).
    ///
    /// # Errors
    /// The database failed.
    pub async fn leave(&self) -> Result<(), StoreError> {
        let mut left = self.left.lock().await;
        *left = true;
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(&self.id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Deletes what nodes not heard from for [`FORGET_AFTER`] left behind:
    /// their list rows and the plugin versions they recorded (a live node
    /// records its versions on every convergence, so only departed nodes'
    /// records age). Returns the rows deleted.
    ///
    /// # Errors
    /// The database failed.
    pub async fn forget_departed(&self) -> Result<u64, StoreError> {
        let before = now_ms() - i64::try_from(FORGET_AFTER.as_millis()).unwrap_or(i64::MAX);
        let mut deleted = 0;
        for sql in [
            "DELETE FROM nodes WHERE refreshed_ms < $1",
            "DELETE FROM node_plugins WHERE applied_ms < $1",
        ] {
            deleted += sqlx::query(sql)
                .bind(before)
                .execute(self.db.pool())
                .await?
                .rows_affected();
        }
        Ok(deleted)
    }

    /// The live nodes, least loaded first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn live(&self) -> Result<Vec<LiveNode>, StoreError> {
        let since = now_ms() - i64::try_from(NODE_TTL.as_millis()).unwrap_or(i64::MAX);
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, url, connections FROM nodes WHERE refreshed_ms > $1 ORDER BY connections, id",
        )
        .bind(since)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, url, connections)| LiveNode {
                id,
                url,
                connections: u64::try_from(connections).unwrap_or(0),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn count(db: &Database, table: &str) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(db.pool())
                .await
                .unwrap();
        n
    }

    #[tokio::test]
    async fn departed_nodes_are_forgotten_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).await.unwrap();
        let live = Nodes::new(db.clone(), "live".into(), "http://127.0.0.1:1".into());
        live.refresh(3).await.unwrap();
        let long_ago = now_ms() - i64::try_from(FORGET_AFTER.as_millis()).unwrap() - 1000;
        sqlx::query("INSERT INTO nodes (id, url, connections, started_ms, refreshed_ms) VALUES ('gone', 'http://127.0.0.1:2', 0, $1, $1)")
            .bind(long_ago)
            .execute(db.pool())
            .await
            .unwrap();
        for (node, applied) in [("live", now_ms()), ("gone", long_ago)] {
            sqlx::query("INSERT INTO node_plugins (node, plugin, version, digest, error, applied_ms) VALUES ($1, 'p', '1.0.0', 'd', NULL, $2)")
                .bind(node)
                .bind(applied)
                .execute(db.pool())
                .await
                .unwrap();
        }
        assert_eq!(live.forget_departed().await.unwrap(), 2);
        assert_eq!(count(&db, "nodes").await, 1);
        assert_eq!(count(&db, "node_plugins").await, 1);
        assert_eq!(live.live().await.unwrap().len(), 1);
        assert_eq!(live.forget_departed().await.unwrap(), 0);
    }
}

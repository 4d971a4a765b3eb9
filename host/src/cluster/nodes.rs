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

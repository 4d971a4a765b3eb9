//! Merge leases: on a cluster, `complete` may be called on any node, and
//! exactly one node at a time finishes an upload's merge. The holder renews
//! its lease while it merges; a node that dies stops renewing, and after
//! [`LEASE`] another node's `complete` takes over from the stored chunks.

use std::time::Duration;

use super::index::IndexError;
use crate::store::{Database, now_ms};

/// How long a lease lasts without renewal: the longest a `complete` on
/// another node waits after the merging node died.
pub const LEASE: Duration = Duration::from_secs(15);

/// How often the holder renews.
const RENEW: Duration = Duration::from_secs(5);

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The leases of one node.
#[derive(Debug, Clone)]
pub struct MergeLeases {
    db: Database,
    node: String,
}

impl MergeLeases {
    /// Leases in `db`, taken as `node`.
    pub fn new(db: Database, node: String) -> Self {
        Self { db, node }
    }

    /// Takes the lease of `upload_id` if nobody else holds a live one (a
    /// lease this node held before a restart is its own again).
    ///
    /// # Errors
    /// The database failed.
    pub async fn try_take(&self, upload_id: &str) -> Result<Option<Lease>, IndexError> {
        let now = now_ms();
        let taken: Option<(String,)> = sqlx::query_as(
            "INSERT INTO merge_leases (upload_id, node, expires_ms) VALUES ($1, $2, $3)
             ON CONFLICT (upload_id) DO UPDATE SET node = excluded.node, expires_ms = excluded.expires_ms
             WHERE merge_leases.expires_ms < $4 OR merge_leases.node = excluded.node
             RETURNING node",
        )
        .bind(upload_id)
        .bind(&self.node)
        .bind(now + ms(LEASE))
        .bind(now)
        .fetch_optional(self.db.pool())
        .await?;
        if taken.is_none() {
            return Ok(None);
        }
        let renewer = {
            let leases = self.clone();
            let id = upload_id.to_owned();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(RENEW);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if let Err(err) = leases.renew(&id).await {
                        tracing::warn!(upload = %id, error = %err, "merge lease not renewed");
                    }
                }
            })
        };
        Ok(Some(Lease {
            leases: self.clone(),
            upload_id: upload_id.to_owned(),
            renewer,
        }))
    }

    async fn renew(&self, upload_id: &str) -> Result<(), IndexError> {
        sqlx::query("UPDATE merge_leases SET expires_ms = $1 WHERE upload_id = $2 AND node = $3")
            .bind(now_ms() + ms(LEASE))
            .bind(upload_id)
            .bind(&self.node)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn release(&self, upload_id: &str) -> Result<(), IndexError> {
        sqlx::query("DELETE FROM merge_leases WHERE upload_id = $1 AND node = $2")
            .bind(upload_id)
            .bind(&self.node)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

/// A held lease: renewed until dropped, then released.
#[derive(Debug)]
pub struct Lease {
    leases: MergeLeases,
    upload_id: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
        let (leases, id) = (self.leases.clone(), std::mem::take(&mut self.upload_id));
        // Released in the background; if that fails, it expires.
        tokio::spawn(async move {
            if let Err(err) = leases.release(&id).await {
                tracing::warn!(upload = %id, error = %err, "merge lease not released; it expires");
            }
        });
    }
}

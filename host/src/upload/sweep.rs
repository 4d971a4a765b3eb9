//! Removal of expired uploads and of chunks nothing refers to.

use std::collections::HashSet;
use std::sync::Arc;

use super::blobs::Blobs;
use super::service::{UploadError, UploadStore};
use crate::store::now_ms;

/// Removes every expired upload (open ones lose their chunks; complete ones
/// only their record), then chunk folders of uploads that are not open
/// (left by a crash between registering a file and deleting its chunks),
/// the same for tus uploads and their parts, then the blobs in the trash (left by a crash between orphaning a blob
/// and deleting it).
/// Returns how many uploads were removed.
///
/// # Errors
/// The index or the object store failed; the next sweep tries again.
pub async fn sweep_once(store: &UploadStore) -> Result<usize, UploadError> {
    let mut removed = 0;
    loop {
        let expired = store.index().expired(now_ms(), 100).await?;
        if expired.is_empty() {
            break;
        }
        let batch = expired.len();
        for id in expired {
            store.expire(&id).await?;
            removed += 1;
        }
        if batch < 100 {
            break;
        }
    }
    loop {
        let expired = store.index().tus_expired(now_ms(), 100).await?;
        let batch = expired.len();
        for id in expired {
            store.tus_expire(&id).await?;
            removed += 1;
        }
        if batch < 100 {
            break;
        }
    }
    // Folders first: a folder seen here belongs to an upload whose record
    // existed before its first chunk, so it is in the open set read after.
    let folders = store.blobs().chunk_folders().await?;
    let open: HashSet<String> = store.index().open_ids().await?.into_iter().collect();
    for folder in folders {
        if !open.contains(&folder) {
            store.blobs().delete_all(&Blobs::chunks_of(&folder)).await?;
        }
    }
    let tus_folders = store.blobs().tus_folders().await?;
    let tus_open: HashSet<String> = store.index().tus_open_ids().await?.into_iter().collect();
    for folder in tus_folders {
        if !tus_open.contains(&folder) {
            store
                .blobs()
                .delete_all(&Blobs::tus_parts_of(&folder))
                .await?;
        }
    }
    store.drop_stale_tus_hashes(&tus_open);
    store.drop_stale_merges(&open).await;
    let emptied = store.empty_trash().await?;
    if removed > 0 || emptied > 0 {
        tracing::info!(
            removed,
            blobs = emptied,
            "expired uploads and unused blobs removed"
        );
    }
    Ok(removed)
}

/// Sweeps every `interval` until the store is dropped elsewhere.
pub fn spawn(store: Arc<UploadStore>) -> tokio::task::JoinHandle<()> {
    let interval = store.config().sweep_interval;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(err) = sweep_once(&store).await {
                tracing::warn!(error = %err, "upload sweep failed; retrying next interval");
            }
        }
    })
}

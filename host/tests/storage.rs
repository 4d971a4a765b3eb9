//! The stores under concurrent writers, on SQLite and on PostgreSQL: what
//! one engine gives by running writers one at a time, the other must give
//! with its locks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use hangar_host::history::sql::SqlHistory;
use hangar_host::history::{HistoryStore, NewMessage, SenderKind, UserId};
use hangar_host::store::Database;
use hangar_host::store::kv::KvError;

async fn database(dir: &std::path::Path) -> Database {
    Database::connect(&hangar_testkit::backend::database_url_in(dir))
        .await
        .unwrap()
}

fn message(room: &hangar_host::history::RoomId, sender: &str, n: usize) -> NewMessage {
    NewMessage {
        room: room.clone(),
        id: format!("{room}-{n}"),
        sender: sender.into(),
        kind: SenderKind::User,
        text: format!("message {n}"),
        time_ms: 0,
        attachments: Vec::new(),
        client_id: Some(format!("c{n}").parse().unwrap()),
    }
}

/// Writers in many rooms take change cursor values side by side while a
/// client syncs incrementally: whatever order they commit in, the client
/// never steps past a change it has not seen, so its last sync shows every
/// room's final state.
async fn incremental_sync_never_skips_a_change_of_concurrent_writers() {
    const ROOMS: usize = 8;
    const SENDS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let history = Arc::new(SqlHistory::new(database(dir.path()).await));
    let agent: UserId = "agent-1".parse().unwrap();
    let mut rooms = Vec::new();
    for i in 0..ROOMS {
        let customer: UserId = format!("customer-{i}").parse().unwrap();
        rooms.push((
            customer.clone(),
            history.open_conversation(&customer).await.unwrap().room,
        ));
    }
    let writers: Vec<_> = rooms
        .iter()
        .cloned()
        .map(|(customer, room)| {
            let history = history.clone();
            tokio::spawn(async move {
                for n in 0..SENDS {
                    // Single appends and batches, as the hub's writer does.
                    if n % 4 == 0 {
                        let batch = vec![
                            message(&room, customer.as_str(), n),
                            message(&room, customer.as_str(), n + 1000),
                        ];
                        history.append_many(batch).await.unwrap();
                    } else {
                        history
                            .append(message(&room, customer.as_str(), n))
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    let mut cursor = 0;
    let mut seen: HashMap<String, u64> = HashMap::new();
    loop {
        let done = writers.iter().all(tokio::task::JoinHandle::is_finished);
        let changes = history
            .changed_since(&agent, None, cursor, 3)
            .await
            .unwrap();
        if done && changes.is_empty() {
            break;
        }
        for c in changes {
            assert!(c.changed > cursor, "a change at or below the cursor");
            cursor = c.changed;
            seen.insert(c.room.to_string(), c.head_seq);
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let expected = (SENDS + SENDS / 4) as u64;
    for (_, room) in &rooms {
        assert_eq!(seen.get(room.as_str()), Some(&expected), "room {room}");
    }
    // Retried sends were stored once: the heads say so already; the
    // idempotency key answers with the first message.
    let (customer, room) = &rooms[0];
    let again = history
        .append(message(room, customer.as_str(), 1))
        .await
        .unwrap();
    assert!(again.duplicate);
    // Send 0 was a batch of two (seqs 1 and 2): send 1 took seq 3.
    assert_eq!(again.message.seq, 3);
}

/// Concurrent writers of one plugin's key-value store never take it past
/// its quota together, and a refused write leaves what was stored.
async fn concurrent_key_value_writes_stay_within_the_quota() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let writes: Vec<_> = (0..16)
        .map(|i| {
            let db = db.clone();
            // Each write is 2 + 98 = 100 bytes; the quota holds 10 of them.
            tokio::spawn(async move { db.kv_set("p", &format!("k{i:x}"), &[7; 98], 1000).await })
        })
        .collect();
    let mut stored = 0;
    for write in writes {
        match write.await.unwrap() {
            Ok(()) => stored += 1,
            Err(KvError::QuotaExceeded { quota: 1000 }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(stored, 10);
    assert_eq!(db.kv_usage("p").await.unwrap(), 1000);
    let mut kept = 0;
    for i in 0..16 {
        if let Some(value) = db.kv_get("p", &format!("k{i:x}")).await.unwrap() {
            assert_eq!(value, [7; 98]);
            kept += 1;
        }
    }
    assert_eq!(kept, 10);
}

hangar_testkit::on_every_backend!(
    incremental_sync_never_skips_a_change_of_concurrent_writers,
    concurrent_key_value_writes_stay_within_the_quota,
);

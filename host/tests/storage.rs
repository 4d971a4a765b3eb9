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
use hangar_host::upload::index::{
    Content, FileRecord, Registration, Source, SqlIndex, UploadIndex, UploadRecord, UploadState,
};
use hangar_host::upload::sizing::Layout;

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

/// One group commit mixing rooms, retries and a closed room (what the
/// hub's writer hands the store under load): each message gets the next
/// seq of its own room in the order given, a retry of a stored send or of
/// a send earlier in the same group is answered with the first, and a
/// closed or unknown room refuses its messages alone.
async fn a_group_commit_answers_each_message_as_if_appended_alone() {
    let dir = tempfile::tempdir().unwrap();
    let history = SqlHistory::new(database(dir.path()).await);
    let (alice, bob, carol): (UserId, UserId, UserId) = (
        "alice".parse().unwrap(),
        "bob".parse().unwrap(),
        "carol".parse().unwrap(),
    );
    let a = history.open_conversation(&alice).await.unwrap().room;
    let b = history.open_conversation(&bob).await.unwrap().room;
    let c = history.open_conversation(&carol).await.unwrap().room;
    history.append(message(&a, "alice", 1)).await.unwrap();
    history.close(&c, &carol).await.unwrap();
    let unknown: hangar_host::history::RoomId = "conv-nobody".parse().unwrap();
    let before = history.changed_since(&alice, None, 0, 100).await.unwrap();
    let cursor = before.iter().map(|c| c.changed).max().unwrap();

    let group = vec![
        message(&a, "alice", 2),
        message(&b, "bob", 1),
        message(&a, "alice", 1), // stored before the group
        message(&c, "carol", 1), // closed
        message(&a, "alice", 3),
        message(&b, "bob", 1), // earlier in this group
        message(&unknown, "nobody", 1),
        message(&a, "alice", 2), // earlier in this group
        message(&c, "carol", 1), // closed, and a repeat
    ];
    let results = history.append_many(group).await.unwrap();
    let answer = |i: usize| {
        results[i]
            .as_ref()
            .map(|r| (r.message.seq, r.duplicate, r.message.id.clone()))
    };
    assert_eq!(answer(0).unwrap(), (2, false, format!("{a}-2")));
    assert_eq!(answer(1).unwrap(), (1, false, format!("{b}-1")));
    assert_eq!(answer(2).unwrap(), (1, true, format!("{a}-1")));
    assert!(matches!(
        results[3],
        Err(hangar_host::history::HistoryError::Closed(_))
    ));
    assert_eq!(answer(4).unwrap(), (3, false, format!("{a}-3")));
    assert_eq!(answer(5).unwrap(), (1, true, format!("{b}-1")));
    assert!(matches!(
        results[6],
        Err(hangar_host::history::HistoryError::UnknownRoom(_))
    ));
    assert_eq!(answer(7).unwrap(), (2, true, format!("{a}-2")));
    assert!(matches!(
        results[8],
        Err(hangar_host::history::HistoryError::Closed(_))
    ));

    // Stored as answered: the room's page and head agree, nothing extra.
    let page = history.page(&a, 0, u64::MAX, 100, false).await.unwrap();
    let texts: Vec<(u64, String)> = page.iter().map(|m| (m.seq, m.text.clone())).collect();
    assert_eq!(
        texts,
        vec![
            (1, "message 1".to_owned()),
            (2, "message 2".to_owned()),
            (3, "message 3".to_owned())
        ]
    );
    assert_eq!(
        history
            .page(&b, 0, u64::MAX, 100, false)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        history
            .page(&c, 0, u64::MAX, 100, false)
            .await
            .unwrap()
            .is_empty()
    );
    // Each written room shows up once more in a sync, with its last message
    // and its own change cursor value; the closed room does not.
    let changes = history
        .changed_since(&alice, None, cursor, 100)
        .await
        .unwrap();
    let mut changed: Vec<(String, u64, Option<String>)> = changes
        .iter()
        .map(|c| (c.room.to_string(), c.head_seq, c.last_text.clone()))
        .collect();
    changed.sort();
    let mut expected = vec![
        (a.to_string(), 3, Some("message 3".to_owned())),
        (b.to_string(), 1, Some("message 1".to_owned())),
    ];
    expected.sort();
    assert_eq!(changed, expected);
    assert_ne!(changes[0].changed, changes[1].changed);
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

fn upload(id: &str, expires_ms: i64) -> UploadRecord {
    UploadRecord {
        id: id.into(),
        owner: "alice".into(),
        name: "a.bin".into(),
        content_type: "application/octet-stream".into(),
        layout: Layout {
            size: 3,
            chunk_size: 5 << 20,
            chunk_count: 1,
        },
        md5: "0".repeat(32),
        state: UploadState::Open,
        sha256_claim: None,
        challenge: None,
        proof_used: false,
        file_id: None,
        created_ms: 0,
        expires_ms,
    }
}

fn file(id: &str, sha256: &str) -> FileRecord {
    FileRecord {
        id: id.into(),
        owner: "alice".into(),
        name: "a.bin".into(),
        size: 3,
        md5: "0".repeat(32),
        sha256: sha256.into(),
        content_type: "application/octet-stream".into(),
        inline: false,
        created_ms: 0,
    }
}

/// Every blob that becomes garbage is in the trash as of the commit that
/// made it so, and nothing that is still used ever is: a second copy of
/// stored content, an abandoned upload's merge, content no file uses.
async fn garbage_blobs_are_recorded_by_the_change_that_makes_them_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let index = SqlIndex::new(database(dir.path()).await);
    let sha = "ab".repeat(32);
    for id in ["u_1", "u_2", "u_3", "u_4"] {
        index.create(&upload(id, i64::MAX)).await.unwrap();
    }
    let merged = |id: &str| Content::Merged {
        location: match id {
            "u_1" => "merged/u_1",
            "u_2" => "merged/u_2",
            _ => "merged/u_4",
        },
        replace: false,
    };
    assert_eq!(
        index
            .register(Source::Native("u_1"), &file("f_1", &sha), merged("u_1"))
            .await
            .unwrap(),
        Registration::Stored("merged/u_1".into())
    );
    // The same content again: the first copy stays, the second is garbage.
    assert_eq!(
        index
            .register(Source::Native("u_2"), &file("f_2", &sha), merged("u_2"))
            .await
            .unwrap(),
        Registration::Stored("merged/u_1".into())
    );
    assert_eq!(index.trash(10).await.unwrap(), ["merged/u_2"]);
    index.untrash("merged/u_2").await.unwrap();
    // Instant upload counts a reference to what is stored.
    assert_eq!(
        index
            .register(Source::Native("u_3"), &file("f_3", &sha), Content::Existing)
            .await
            .unwrap(),
        Registration::Stored("merged/u_1".into())
    );
    // Registering twice, or after removal, changes nothing.
    assert_eq!(
        index
            .register(Source::Native("u_3"), &file("f_9", &sha), Content::Existing)
            .await
            .unwrap(),
        Registration::UploadGone
    );
    assert_eq!(index.object(&sha).await.unwrap().unwrap().refs, 3);
    // A complete upload's record goes; its merge is a file's content.
    index.delete_upload("u_1", "merged/u_1").await.unwrap();
    // An open one's merge is garbage.
    index.delete_upload("u_4", "merged/u_4").await.unwrap();
    assert_eq!(index.trash(10).await.unwrap(), ["merged/u_4"]);
    index.untrash("merged/u_4").await.unwrap();
    // The last file using the content releases it.
    for (n, f) in ["f_1", "f_2", "f_3"].into_iter().enumerate() {
        let released = index.delete_file(f).await.unwrap().unwrap();
        assert_eq!(released.location, "merged/u_1");
        assert_eq!(released.orphaned, n == 2);
        let trash = index.trash(10).await.unwrap();
        assert_eq!(trash.is_empty(), n < 2, "{trash:?}");
    }
    assert!(index.object(&sha).await.unwrap().is_none());
    // Content whose blob went missing is stored again by the next merge.
    index.create(&upload("u_5", i64::MAX)).await.unwrap();
    index.create(&upload("u_6", i64::MAX)).await.unwrap();
    let five = Content::Merged {
        location: "merged/u_5",
        replace: false,
    };
    index
        .register(Source::Native("u_5"), &file("f_5", &sha), five)
        .await
        .unwrap();
    let six = Content::Merged {
        location: "merged/u_6",
        replace: true,
    };
    assert_eq!(
        index
            .register(Source::Native("u_6"), &file("f_6", &sha), six)
            .await
            .unwrap(),
        Registration::Stored("merged/u_6".into())
    );
    let mut trash = index.trash(10).await.unwrap();
    trash.sort();
    assert_eq!(trash, ["merged/u_1", "merged/u_5"]);
}

hangar_testkit::on_every_backend!(
    incremental_sync_never_skips_a_change_of_concurrent_writers,
    concurrent_key_value_writes_stay_within_the_quota,
    garbage_blobs_are_recorded_by_the_change_that_makes_them_garbage,
    a_group_commit_answers_each_message_as_if_appended_alone,
);

//! A group of appends in one transaction, in a fixed number of statements
//! whatever its size: one look-up of retried sends, one update of every room
//! the group writes to (seqs, last message, change cursor), one insert of
//! the messages. The hub's writer commits what queued while the previous
//! group committed; on PostgreSQL each statement is a round trip, and on
//! SQLite each is a hop to the connection's thread, so the cost of a group
//! stays flat as it grows.

use std::collections::HashMap;

use hangar_storage::Dialect;
use sqlx::AnyConnection;

use super::{message, to_u64};
use crate::history::{Appended, HistoryError, Message, NewMessage, RoomId, SenderKind};

/// Rows per statement: 9 parameters each stays far below both engines'
/// parameter limits (SQLite 32,766; PostgreSQL 65,535).
const ROWS_PER_STATEMENT: usize = 500;

/// What a send is known by for idempotency.
type SendKey = (String, RoomId, String);

fn send_key(new: &NewMessage) -> Option<SendKey> {
    new.client_id
        .as_ref()
        .map(|c| (new.sender.clone(), new.room.clone(), c.as_str().to_owned()))
}

/// `($first, $first+1, …), (…)`: `rows` groups of `width` numbered
/// placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * width + column + 1));
        }
        sql.push(')');
    }
    sql
}

/// The stored sends among `keys`.
async fn stored_sends(
    conn: &mut AnyConnection,
    keys: &[&SendKey],
) -> Result<HashMap<SendKey, Message>, HistoryError> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        // One equality term per send: both engines look each up in the
        // idempotency index.
        let terms: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(sender = ${} AND room = ${} AND client_id = ${})",
                    3 * i + 1,
                    3 * i + 2,
                    3 * i + 3
                )
            })
            .collect();
        let sql = format!(
            "SELECT room, seq, id, sender, kind, text, time_ms, attachments, client_id \
             FROM messages WHERE {}",
            terms.join(" OR ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (sender, room, client_id) in chunk {
            query = query
                .bind(sender.as_str())
                .bind(room.as_str())
                .bind(client_id.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let stored = message(&row)?;
            if let Some(client_id) = &stored.client_id {
                found.insert(
                    (
                        stored.sender.clone(),
                        stored.room.clone(),
                        client_id.clone(),
                    ),
                    stored,
                );
            }
        }
    }
    Ok(found)
}

/// One room's part of the group: the positions of its new messages.
struct RoomWrite {
    room: RoomId,
    positions: Vec<usize>,
}

/// Bumps every room of `writes` by its count of new messages, if open, and
/// returns each bumped room's new head seq.
async fn bump_rooms(
    conn: &mut AnyConnection,
    dialect: Dialect,
    writes: &[RoomWrite],
    batch: &[NewMessage],
) -> Result<HashMap<RoomId, i64>, HistoryError> {
    let mut heads = HashMap::with_capacity(writes.len());
    for chunk in writes.chunks(ROWS_PER_STATEMENT) {
        // The change cursor: unique per room; on SQLite writes are serial,
        // so the highest value plus the room's rank; on PostgreSQL a
        // sequence.
        let changed = match dialect {
            Dialect::Sqlite => "(SELECT COALESCE(MAX(changed), 0) FROM rooms) + v.column6",
            Dialect::Postgres => "nextval('room_changes')",
        };
        let sql = format!(
            "UPDATE rooms SET head_seq = head_seq + v.column2, last_ms = v.column3, \
             last_sender = v.column4, last_text = v.column5, changed = {changed} \
             FROM (VALUES {}) AS v WHERE rooms.id = v.column1 AND rooms.status = 'open' \
             RETURNING rooms.id, rooms.head_seq",
            placeholders(chunk.len(), 6)
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for (rank, write) in chunk.iter().enumerate() {
            let Some(last) = write.positions.last().map(|&p| &batch[p]) else {
                continue;
            };
            query = query
                .bind(write.room.as_str())
                .bind(i64::try_from(write.positions.len()).unwrap_or(i64::MAX))
                .bind(last.time_ms)
                .bind(last.sender.as_str())
                .bind(last.text.as_str())
                .bind(i64::try_from(rank + 1).unwrap_or(i64::MAX));
        }
        for (room, head) in query.fetch_all(&mut *conn).await? {
            if let Ok(room) = room.parse() {
                heads.insert(room, head);
            }
        }
    }
    Ok(heads)
}

/// Why rooms that were not bumped refused: closed, or unknown.
async fn refusals(
    conn: &mut AnyConnection,
    rooms: &[&RoomId],
) -> Result<HashMap<RoomId, HistoryError>, HistoryError> {
    let mut why = HashMap::with_capacity(rooms.len());
    for &room in rooms {
        let exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM rooms WHERE id = $1")
            .bind(room.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        let error = match exists {
            Some(_) => HistoryError::Closed(room.clone()),
            None => HistoryError::UnknownRoom(room.clone()),
        };
        why.insert(room.clone(), error);
    }
    Ok(why)
}

fn kind_name(kind: SenderKind) -> &'static str {
    match kind {
        SenderKind::User => "user",
        SenderKind::Bot => "bot",
    }
}

async fn insert_messages(
    conn: &mut AnyConnection,
    messages: &[&Message],
) -> Result<(), HistoryError> {
    for chunk in messages.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO messages (room, seq, id, sender, kind, text, time_ms, attachments, client_id) VALUES {}",
            placeholders(chunk.len(), 9)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            let attachments = serde_json::to_string(&m.attachments).unwrap_or_else(|_| "[]".into());
            query = query
                .bind(m.room.as_str())
                .bind(i64::try_from(m.seq).unwrap_or(i64::MAX))
                .bind(m.id.as_str())
                .bind(m.sender.as_str())
                .bind(kind_name(m.kind))
                .bind(m.text.as_str())
                .bind(m.time_ms)
                .bind(attachments)
                .bind(m.client_id.as_deref());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// What became of one message of the group while it is being worked out.
enum Outcome {
    /// Stored before this group: answered as a duplicate.
    Stored(Message),
    /// Repeats an earlier message of this group (by its position).
    Repeats(usize),
    /// New: appended if its room takes it.
    New,
}

/// Appends `batch` in order inside an open write transaction: each message
/// gets the next seq of its room, a retried send is answered with what was
/// stored first, and a message to a closed or unknown room is refused alone.
/// A database failure fails the whole group.
pub(super) async fn append_group(
    conn: &mut AnyConnection,
    dialect: Dialect,
    batch: Vec<NewMessage>,
) -> Result<Vec<Result<Appended, HistoryError>>, HistoryError> {
    let keys: Vec<Option<SendKey>> = batch.iter().map(send_key).collect();
    let wanted: Vec<&SendKey> = keys.iter().flatten().collect();
    let mut stored = if wanted.is_empty() {
        HashMap::new()
    } else {
        stored_sends(conn, &wanted).await?
    };

    let mut outcomes = Vec::with_capacity(batch.len());
    let mut first_of: HashMap<&SendKey, usize> = HashMap::new();
    let mut writes: Vec<RoomWrite> = Vec::new();
    let mut write_of: HashMap<&RoomId, usize> = HashMap::new();
    for (position, (new, key)) in batch.iter().zip(&keys).enumerate() {
        if let Some(key) = key {
            if let Some(message) = stored.remove(key) {
                // A second retry in the same group repeats this one.
                first_of.insert(key, position);
                outcomes.push(Outcome::Stored(message));
                continue;
            }
            if let Some(&first) = first_of.get(key) {
                outcomes.push(Outcome::Repeats(first));
                continue;
            }
            first_of.insert(key, position);
        }
        let index = *write_of.entry(&new.room).or_insert_with(|| {
            writes.push(RoomWrite {
                room: new.room.clone(),
                positions: Vec::new(),
            });
            writes.len() - 1
        });
        writes[index].positions.push(position);
        outcomes.push(Outcome::New);
    }

    let heads = if writes.is_empty() {
        HashMap::new()
    } else {
        bump_rooms(conn, dialect, &writes, &batch).await?
    };
    let refused: Vec<&RoomId> = writes
        .iter()
        .map(|w| &w.room)
        .filter(|room| !heads.contains_key(*room))
        .collect();
    let why = refusals(conn, &refused).await?;

    // Seqs: a room bumped by k ends at head; its messages take
    // head-k+1 ..= head in the order they came.
    let mut seqs: Vec<Option<u64>> = vec![None; batch.len()];
    for write in &writes {
        if let Some(&head) = heads.get(&write.room) {
            let count = write.positions.len() as u64;
            let first = to_u64(head).saturating_sub(count) + 1;
            for (offset, &position) in write.positions.iter().enumerate() {
                seqs[position] = Some(first + offset as u64);
            }
        }
    }

    let mut results: Vec<Result<Appended, HistoryError>> = Vec::with_capacity(batch.len());
    for ((new, outcome), seq) in batch.into_iter().zip(outcomes).zip(seqs) {
        let result = match outcome {
            Outcome::Stored(message) => Ok(Appended {
                message,
                duplicate: true,
            }),
            Outcome::Repeats(first) => match &results[first] {
                Ok(appended) => Ok(Appended {
                    message: appended.message.clone(),
                    duplicate: true,
                }),
                Err(_) => Err(refusal(&why, &new.room)),
            },
            Outcome::New => match seq {
                Some(seq) => Ok(Appended {
                    message: Message {
                        room: new.room,
                        seq,
                        id: new.id,
                        sender: new.sender,
                        kind: new.kind,
                        text: new.text,
                        time_ms: new.time_ms,
                        attachments: new.attachments,
                        client_id: new.client_id.map(String::from),
                    },
                    duplicate: false,
                }),
                None => Err(refusal(&why, &new.room)),
            },
        };
        results.push(result);
    }

    let fresh: Vec<&Message> = results
        .iter()
        .filter_map(|r| match r {
            Ok(appended) if !appended.duplicate => Some(&appended.message),
            _ => None,
        })
        .collect();
    if !fresh.is_empty() {
        insert_messages(conn, &fresh).await?;
    }
    Ok(results)
}

/// The refusal of a message to `room` (each message gets its own error).
fn refusal(why: &HashMap<RoomId, HistoryError>, room: &RoomId) -> HistoryError {
    match why.get(room) {
        Some(HistoryError::UnknownRoom(_)) => HistoryError::UnknownRoom(room.clone()),
        _ => HistoryError::Closed(room.clone()),
    }
}

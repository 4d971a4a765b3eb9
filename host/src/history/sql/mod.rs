//! [`HistoryStore`] in the host's database (SQLite or PostgreSQL).

mod append;

use async_trait::async_trait;
use hangar_storage::Dialect;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{
    Appended, ClientMessageId, Conversation, ConversationStatus, HistoryError, HistoryStore,
    InvalidId, Message, NewMessage, RoomHead, RoomId, SenderKind, Seq, UserId,
};
use crate::store::{Database, StoreError, now_ms};

/// History in the host's database.
#[derive(Debug, Clone)]
pub struct SqlHistory {
    db: Database,
}

impl SqlHistory {
    /// History stored in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

// Column lists as macros so that every query stays a compile-time literal.
macro_rules! conversation_columns {
    () => {
        "r.id, r.customer, r.agent, r.status, r.epoch, r.head_seq, r.last_ms, r.last_sender, r.last_text, \
         r.changed, (SELECT COUNT(*) FROM messages m WHERE m.room = r.id AND m.sender <> $1 AND m.seq > \
         COALESCE((SELECT p.seq FROM read_positions p WHERE p.room = r.id AND p.\"user\" = $1), 0)) AS unread"
    };
}

macro_rules! message_columns {
    () => {
        "room, seq, id, sender, kind, text, time_ms, attachments, client_id"
    };
}

/// The write scope of a room: writers of one room wait for each other.
fn room_scope(room: &RoomId) -> String {
    format!("room:{room}")
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored id that no longer parses: the database holds what the code
/// never writes.
fn stored_id(err: InvalidId) -> HistoryError {
    HistoryError::Store(StoreError::Query(sqlx::Error::Decode(Box::new(err))))
}

fn status(stored: &str) -> ConversationStatus {
    if stored == "open" {
        ConversationStatus::Open
    } else {
        ConversationStatus::Closed
    }
}

fn conversation(row: &AnyRow) -> Result<Conversation, HistoryError> {
    Ok(Conversation {
        room: row.try_get::<String, _>("id")?.parse().map_err(stored_id)?,
        customer: row
            .try_get::<String, _>("customer")?
            .parse()
            .map_err(stored_id)?,
        agent: row
            .try_get::<Option<String>, _>("agent")?
            .map(|a| a.parse())
            .transpose()
            .map_err(stored_id)?,
        status: status(&row.try_get::<String, _>("status")?),
        epoch: to_u64(row.try_get("epoch")?),
        head_seq: to_u64(row.try_get("head_seq")?),
        last_ms: row.try_get("last_ms")?,
        last_sender: row.try_get("last_sender")?,
        last_text: row.try_get("last_text")?,
        unread: to_u64(row.try_get("unread")?),
        changed: to_u64(row.try_get("changed")?),
    })
}

fn message(row: &AnyRow) -> Result<Message, HistoryError> {
    let room: String = row.try_get("room")?;
    let attachments: String = row.try_get("attachments")?;
    Ok(Message {
        room: room.parse().map_err(stored_id)?,
        seq: to_u64(row.try_get("seq")?),
        id: row.try_get("id")?,
        sender: row.try_get("sender")?,
        kind: if row.try_get::<String, _>("kind")? == "bot" {
            SenderKind::Bot
        } else {
            SenderKind::User
        },
        text: row.try_get("text")?,
        time_ms: row.try_get("time_ms")?,
        attachments: serde_json::from_str(&attachments).unwrap_or_default(),
        client_id: row.try_get("client_id")?,
    })
}

/// The next change cursor value, inside a write transaction opened with
/// `changes` (see `hangar_storage::db`): on SQLite writes are serial, so the
/// highest value plus one; on PostgreSQL a sequence.
async fn next_change(conn: &mut AnyConnection, dialect: Dialect) -> Result<i64, sqlx::Error> {
    let sql = match dialect {
        Dialect::Sqlite => "SELECT COALESCE(MAX(changed), 0) + 1 FROM rooms",
        Dialect::Postgres => "SELECT nextval('room_changes')",
    };
    let (value,): (i64,) = sqlx::query_as(sql).fetch_one(conn).await?;
    Ok(value)
}

/// Runs `body` in a write transaction over `scopes` that may take change
/// cursor values (read-then-write sequences on the same scope cannot
/// interleave). sqlx's transaction rolls back when dropped: a request
/// abandoned mid-way never returns a connection with an open transaction
/// to the pool.
macro_rules! write_tx {
    ($self:expr, $scopes:expr, |$conn:ident| $body:block) => {{
        let scopes: Vec<String> = $scopes;
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let mut tx = $self.db.db().begin_write(&scopes, true).await?;
        let result: Result<_, HistoryError> = async {
            let $conn: &mut AnyConnection = &mut tx;
            $body
        }
        .await;
        if result.is_ok() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        result
    }};
}

impl SqlHistory {
    async fn fetch_conversation(
        conn: &mut AnyConnection,
        room: &RoomId,
        viewer: &UserId,
    ) -> Result<Option<Conversation>, HistoryError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM rooms r WHERE r.id = $2"
        ))
        .bind(viewer.as_str())
        .bind(room.as_str())
        .fetch_optional(conn)
        .await?;
        row.as_ref().map(conversation).transpose()
    }
}

#[async_trait]
impl HistoryStore for SqlHistory {
    fn parallel_writers(&self) -> usize {
        match self.db.db().dialect() {
            Dialect::Sqlite => 1,
            // Each group commit is round trips on a connection of its own;
            // four leave the pool room for readers.
            Dialect::Postgres => 4,
        }
    }

    async fn open_conversation(&self, customer: &UserId) -> Result<Conversation, HistoryError> {
        write_tx!(self, vec![format!("customer:{customer}")], |conn| {
            let open: Option<(String,)> =
                sqlx::query_as("SELECT id FROM rooms WHERE customer = $1 AND status = 'open'")
                    .bind(customer.as_str())
                    .fetch_optional(&mut *conn)
                    .await?;
            let room: RoomId = match open {
                Some((id,)) => id.parse().map_err(stored_id)?,
                None => {
                    let id = format!("conv-{}", uuid::Uuid::new_v4().simple());
                    let room: RoomId = id.parse().map_err(stored_id)?;
                    let changed = next_change(conn, self.db.db().dialect()).await?;
                    let now = now_ms();
                    sqlx::query(
                        "INSERT INTO rooms (id, customer, status, epoch, head_seq, created_ms, last_ms, changed)
                         VALUES ($1, $2, 'open', 1, 0, $3, $4, $5)",
                    )
                    .bind(room.as_str())
                    .bind(customer.as_str())
                    .bind(now)
                    .bind(now)
                    .bind(changed)
                    .execute(&mut *conn)
                    .await?;
                    room
                }
            };
            Self::fetch_conversation(conn, &room, customer)
                .await?
                .ok_or(HistoryError::UnknownRoom(room))
        })
    }

    async fn owner(
        &self,
        room: &RoomId,
    ) -> Result<Option<(UserId, ConversationStatus)>, HistoryError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT customer, status FROM rooms WHERE id = $1")
                .bind(room.as_str())
                .fetch_optional(self.db.pool())
                .await?;
        row.map(|(customer, stored_status)| {
            let customer = customer.parse().map_err(stored_id)?;
            Ok((customer, status(&stored_status)))
        })
        .transpose()
    }

    async fn conversation(
        &self,
        room: &RoomId,
        viewer: &UserId,
    ) -> Result<Option<Conversation>, HistoryError> {
        let mut conn = self.db.pool().acquire().await?;
        Self::fetch_conversation(&mut conn, room, viewer).await
    }

    async fn claim(&self, room: &RoomId, agent: &UserId) -> Result<Conversation, HistoryError> {
        write_tx!(self, vec![room_scope(room)], |conn| {
            let current = Self::fetch_conversation(conn, room, agent)
                .await?
                .ok_or_else(|| HistoryError::UnknownRoom(room.clone()))?;
            if current.status == ConversationStatus::Closed {
                return Err(HistoryError::Closed(room.clone()));
            }
            match &current.agent {
                Some(holder) if holder == agent => return Ok(current),
                Some(holder) => {
                    return Err(HistoryError::Claimed {
                        room: room.clone(),
                        agent: holder.clone(),
                    });
                }
                None => {}
            }
            let changed = next_change(conn, self.db.db().dialect()).await?;
            sqlx::query("UPDATE rooms SET agent = $1, changed = $2 WHERE id = $3")
                .bind(agent.as_str())
                .bind(changed)
                .bind(room.as_str())
                .execute(&mut *conn)
                .await?;
            Self::fetch_conversation(conn, room, agent)
                .await?
                .ok_or_else(|| HistoryError::UnknownRoom(room.clone()))
        })
    }

    async fn close(&self, room: &RoomId, by: &UserId) -> Result<Conversation, HistoryError> {
        write_tx!(self, vec![room_scope(room)], |conn| {
            let changed = next_change(conn, self.db.db().dialect()).await?;
            let updated =
                sqlx::query("UPDATE rooms SET status = 'closed', changed = $1 WHERE id = $2")
                    .bind(changed)
                    .bind(room.as_str())
                    .execute(&mut *conn)
                    .await?;
            if updated.rows_affected() == 0 {
                return Err(HistoryError::UnknownRoom(room.clone()));
            }
            Self::fetch_conversation(conn, room, by)
                .await?
                .ok_or_else(|| HistoryError::UnknownRoom(room.clone()))
        })
    }

    async fn append(&self, new: NewMessage) -> Result<Appended, HistoryError> {
        let room = new.room.clone();
        let mut results = self.append_many(vec![new]).await?;
        results
            .pop()
            .unwrap_or(Err(HistoryError::UnknownRoom(room)))
    }

    async fn append_many(
        &self,
        batch: Vec<NewMessage>,
    ) -> Result<Vec<Result<Appended, HistoryError>>, HistoryError> {
        let dialect = self.db.db().dialect();
        let scopes = batch.iter().map(|m| room_scope(&m.room)).collect();
        write_tx!(self, scopes, |conn| {
            append::append_group(conn, dialect, batch).await
        })
    }

    async fn find_sent(
        &self,
        room: &RoomId,
        sender: &str,
        client_id: &ClientMessageId,
    ) -> Result<Option<Message>, HistoryError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE sender = $1 AND room = $2 AND client_id = $3"
        ))
        .bind(sender)
        .bind(room.as_str())
        .bind(client_id.as_str())
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(message).transpose()
    }

    async fn head(&self, room: &RoomId) -> Result<Option<RoomHead>, HistoryError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT epoch, head_seq FROM rooms WHERE id = $1")
                .bind(room.as_str())
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.map(|(epoch, head)| RoomHead {
            epoch: to_u64(epoch),
            head_seq: to_u64(head),
        }))
    }

    async fn page(
        &self,
        room: &RoomId,
        after: Seq,
        before: Seq,
        limit: u32,
        newest: bool,
    ) -> Result<Vec<Message>, HistoryError> {
        let sql = if newest {
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE room = $1 AND seq > $2 AND seq < $3 ORDER BY seq DESC LIMIT $4"
            )
        } else {
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE room = $1 AND seq > $2 AND seq < $3 ORDER BY seq ASC LIMIT $4"
            )
        };
        let rows = sqlx::query(sql)
            .bind(room.as_str())
            .bind(to_i64(after))
            .bind(to_i64(before))
            .bind(i64::from(limit))
            .fetch_all(self.db.pool())
            .await?;
        let mut messages = rows.iter().map(message).collect::<Result<Vec<_>, _>>()?;
        if newest {
            messages.reverse();
        }
        Ok(messages)
    }

    async fn mark_read(&self, room: &RoomId, user: &UserId, seq: Seq) -> Result<(), HistoryError> {
        write_tx!(self, vec![room_scope(room)], |conn| {
            let changed = next_change(conn, self.db.db().dialect()).await?;
            sqlx::query(
                "INSERT INTO read_positions (room, \"user\", seq) VALUES ($1, $2, $3)
                 ON CONFLICT (room, \"user\") DO UPDATE SET seq = excluded.seq
                 WHERE excluded.seq > read_positions.seq",
            )
            .bind(room.as_str())
            .bind(user.as_str())
            .bind(to_i64(seq))
            .execute(&mut *conn)
            .await?;
            // The reader's unread count changed: the room shows up in their sync.
            sqlx::query("UPDATE rooms SET changed = $1 WHERE id = $2")
                .bind(changed)
                .bind(room.as_str())
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    async fn changed_since(
        &self,
        viewer: &UserId,
        customer: Option<&UserId>,
        cursor: u64,
        limit: u32,
    ) -> Result<Vec<Conversation>, HistoryError> {
        // No writer that took a lower cursor value is still running: a
        // change committed after this read has a higher value than any read.
        let mut tx = self.db.db().begin_change_read().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM rooms r WHERE r.changed > $2 AND ($3 IS NULL OR r.customer = $3) ORDER BY r.changed LIMIT $4"
        ))
            .bind(viewer.as_str())
            .bind(to_i64(cursor))
            .bind(customer.map(UserId::as_str))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(conversation).collect()
    }

    async fn reset(&self, room: &RoomId) -> Result<RoomHead, HistoryError> {
        write_tx!(self, vec![room_scope(room)], |conn| {
            let changed = next_change(conn, self.db.db().dialect()).await?;
            let row: Option<(i64, i64)> = sqlx::query_as(
                "UPDATE rooms SET epoch = epoch + 1, changed = $1, last_sender = NULL, last_text = NULL
                 WHERE id = $2 RETURNING epoch, head_seq",
            )
            .bind(changed)
            .bind(room.as_str())
            .fetch_optional(&mut *conn)
            .await?;
            let (epoch, head) = row.ok_or_else(|| HistoryError::UnknownRoom(room.clone()))?;
            sqlx::query("DELETE FROM messages WHERE room = $1")
                .bind(room.as_str())
                .execute(&mut *conn)
                .await?;
            Ok(RoomHead {
                epoch: to_u64(epoch),
                head_seq: to_u64(head),
            })
        })
    }
}

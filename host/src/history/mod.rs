//! Chat history: conversations, messages with a per-room sequence and epoch,
//! read positions, and the queries incremental sync needs.
//!
//! [`HistoryStore`] is the storage trait; [`sql::SqlHistory`] keeps it in
//! the host's database (SQLite or PostgreSQL).

pub mod http;
pub mod sql;

use async_trait::async_trait;

pub use hangar_client::protocol::{
    Attachment, ClientMessageId, Conversation, ConversationStatus, Epoch, InvalidId, Message,
    RoomId, SenderKind, Seq, UserId,
};

use crate::store::StoreError;

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Room.
    pub room: RoomId,
    /// Stable id (chosen before plugins see the message).
    pub id: String,
    /// Sender.
    pub sender: String,
    /// Person or bot.
    pub kind: SenderKind,
    /// Text (after moderation).
    pub text: String,
    /// Receive time.
    pub time_ms: i64,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// The client's id for this send.
    pub client_id: Option<ClientMessageId>,
}

/// Why a history operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// No such room.
    #[error("no conversation {0}")]
    UnknownRoom(RoomId),
    /// The conversation is closed.
    #[error("conversation {0} is closed")]
    Closed(RoomId),
    /// Another agent holds the conversation.
    #[error("conversation {room} is already claimed by {agent}")]
    Claimed {
        /// The room.
        room: RoomId,
        /// Who holds it.
        agent: UserId,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A write failed as part of a group, or the writer stopped.
    #[error("the history store failed: {0}")]
    Failed(String),
}

impl From<sqlx::Error> for HistoryError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(StoreError::from(err))
    }
}

/// The result of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The stored message (the original, for a retried send).
    pub message: Message,
    /// Whether this send was a retry of one already stored.
    pub duplicate: bool,
}

/// Where a room's history stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomHead {
    /// History generation.
    pub epoch: Epoch,
    /// Newest seq.
    pub head_seq: Seq,
}

/// Storage of chat history.
#[async_trait]
pub trait HistoryStore: Send + Sync + std::fmt::Debug {
    /// How many writers may append at once (to disjoint rooms): one where
    /// the engine has a single writer anyway (SQLite), more where writers
    /// of unrelated rooms run side by side (PostgreSQL).
    fn parallel_writers(&self) -> usize {
        1
    }

    /// The customer's open conversation, created when there is none.
    async fn open_conversation(&self, customer: &UserId) -> Result<Conversation, HistoryError>;

    /// The customer a room belongs to and whether it is open: what access
    /// checks need, without the per-viewer figures.
    async fn owner(
        &self,
        room: &RoomId,
    ) -> Result<Option<(UserId, ConversationStatus)>, HistoryError>;

    /// A conversation as `viewer` sees it (unread count for the viewer).
    async fn conversation(
        &self,
        room: &RoomId,
        viewer: &UserId,
    ) -> Result<Option<Conversation>, HistoryError>;

    /// Assigns an open conversation to `agent` (claiming one's own again is fine).
    async fn claim(&self, room: &RoomId, agent: &UserId) -> Result<Conversation, HistoryError>;

    /// Closes a conversation.
    async fn close(&self, room: &RoomId, by: &UserId) -> Result<Conversation, HistoryError>;

    /// Appends a message with the next seq, durably, unless (sender, client
    /// id) is already stored, in which case the stored message is returned.
    async fn append(&self, message: NewMessage) -> Result<Appended, HistoryError>;

    /// Appends several messages in one transaction (one disk sync for the
    /// lot: group commit), each as [`HistoryStore::append`] would. A
    /// message's own failure (unknown or closed room) is its result; a
    /// database failure fails them all and stores none.
    async fn append_many(
        &self,
        batch: Vec<NewMessage>,
    ) -> Result<Vec<Result<Appended, HistoryError>>, HistoryError>;

    /// The message stored for (sender, room, client id), if any: the key
    /// that makes a retried send idempotent.
    async fn find_sent(
        &self,
        room: &RoomId,
        sender: &str,
        client_id: &ClientMessageId,
    ) -> Result<Option<Message>, HistoryError>;

    /// Epoch and head of a room.
    async fn head(&self, room: &RoomId) -> Result<Option<RoomHead>, HistoryError>;

    /// Messages with `after < seq < before`, oldest first, at most `limit`;
    /// with `newest` the page ends at `before` instead of starting at `after`.
    async fn page(
        &self,
        room: &RoomId,
        after: Seq,
        before: Seq,
        limit: u32,
        newest: bool,
    ) -> Result<Vec<Message>, HistoryError>;

    /// Records that `user` has read `room` up to `seq` (never moves back).
    async fn mark_read(&self, room: &RoomId, user: &UserId, seq: Seq) -> Result<(), HistoryError>;

    /// Conversations changed after `cursor`, as `viewer` sees them, oldest
    /// change first, at most `limit`; `customer` restricts to one customer's.
    async fn changed_since(
        &self,
        viewer: &UserId,
        customer: Option<&UserId>,
        cursor: u64,
        limit: u32,
    ) -> Result<Vec<Conversation>, HistoryError>;

    /// Deletes a room's messages and starts a new epoch (seqs keep growing).
    async fn reset(&self, room: &RoomId) -> Result<RoomHead, HistoryError>;
}

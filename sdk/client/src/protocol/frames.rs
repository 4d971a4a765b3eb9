//! The WebSocket protocol, version 1: JSON text frames with a `type` field.
//! `docs/protocol.md` documents every frame, field, error code and close
//! code; a test checks it names each one defined here.

use serde::{Deserialize, Serialize};

use super::types::{Alert, Attachment, ClientMessageId, Epoch, Message, Role, RoomId, Seq};

/// The protocol version this server speaks (`/ws?v=1`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Subscribe to a room, catching up from `last_seq` of `epoch`.
    Join {
        /// The room.
        room: RoomId,
        /// Newest seq the client has; absent for a first visit.
        #[serde(default)]
        last_seq: Option<Seq>,
        /// Epoch of the client's cached copy.
        #[serde(default)]
        epoch: Option<Epoch>,
    },
    /// Unsubscribe.
    Leave {
        /// The room.
        room: RoomId,
    },
    /// Post a message to a joined room.
    Send {
        /// The room.
        room: RoomId,
        /// The client's id for this send; a retry with the same id is stored once.
        client_id: ClientMessageId,
        /// The text.
        text: String,
        /// Files from the upload store.
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// The reader's position, for unread counts.
    Read {
        /// The room.
        room: RoomId,
        /// Newest seq read.
        seq: Seq,
    },
    /// Application-level heartbeat (browsers cannot send Ping frames).
    Ping {
        /// Echoed in the pong.
        #[serde(default)]
        id: Option<u64>,
    },
    /// Older messages of a joined room.
    History {
        /// The room.
        room: RoomId,
        /// Messages with a seq below this (default: the newest).
        #[serde(default)]
        before: Option<Seq>,
        /// At most this many (default and maximum: the page size).
        #[serde(default)]
        limit: Option<u32>,
    },
}

/// How a join's catch-up went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JoinStatus {
    /// `messages` holds what is newer than `last_seq` (or the newest page).
    Ok,
    /// The epoch changed: drop the cached copy; `messages` is the newest page.
    Reset,
    /// The gap exceeds the recovery limit: page it through HTTP.
    TooFar,
}

/// Limits the server enforces, announced in `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest frame accepted, bytes.
    pub max_frame_bytes: usize,
    /// Longest message text, bytes.
    pub max_text_bytes: usize,
    /// Sends per second allowed on average.
    pub send_rate_per_sec: u32,
    /// Sends allowed in a burst.
    pub send_burst: u32,
    /// Most missed messages recovered on join.
    pub recovery_limit: u64,
    /// Messages per page.
    pub page_size: u32,
}

/// Frames the server sends. The hub's writer assembles merged `batch`
/// frames from pre-serialised messages; they parse as [`ServerFrame::Batch`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerFrame {
    /// First frame of every connection.
    Welcome {
        /// Protocol version.
        protocol: u32,
        /// This connection's id.
        connection_id: String,
        /// The authenticated user.
        user: String,
        /// Their role.
        role: Role,
        /// How often the server pings.
        heartbeat_ms: u64,
        /// Silence after which the server closes the connection.
        timeout_ms: u64,
        /// Limits.
        limits: Limits,
    },
    /// Answer to `join`.
    Joined {
        /// The room.
        room: RoomId,
        /// Current epoch.
        epoch: Epoch,
        /// Newest seq.
        head_seq: Seq,
        /// Catch-up outcome.
        status: JoinStatus,
        /// Messages, oldest first.
        messages: Vec<Message>,
        /// Whether more catch-up follows in `batch` frames (`ok`) or older
        /// history exists (`reset`, first visit).
        more: bool,
    },
    /// New messages of joined rooms, merged; oldest first.
    Batch {
        /// The messages.
        messages: Vec<Message>,
    },
    /// Answer to `leave`.
    Left {
        /// The room.
        room: RoomId,
    },
    /// The send was stored.
    Ack {
        /// The client's id.
        client_id: ClientMessageId,
        /// The room.
        room: RoomId,
        /// Stored id.
        id: String,
        /// Stored seq.
        seq: Seq,
        /// Whether it was a retry of an already stored send.
        duplicate: bool,
    },
    /// Moderation refused the send; nothing was stored.
    Rejected {
        /// The client's id.
        client_id: ClientMessageId,
        /// The room.
        room: RoomId,
        /// Why, for the sender.
        reason: String,
        /// The plugin that refused.
        by: String,
    },
    /// An alert (admin connections only).
    Alert {
        /// The alert.
        alert: Alert,
    },
    /// Answer to `ping`.
    Pong {
        /// The ping's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    /// Answer to `history`.
    History {
        /// The room.
        room: RoomId,
        /// Messages, oldest first.
        messages: Vec<Message>,
        /// Whether older ones exist.
        more: bool,
    },
    /// The room's history was reset by an admin: rejoin without `last_seq`.
    Reset {
        /// The room.
        room: RoomId,
        /// The new epoch.
        epoch: Epoch,
    },
    /// A frame was refused; the connection stays open.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// What happened and what to do.
        message: String,
        /// The send it is about, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<ClientMessageId>,
    },
}

/// Every `type` a server frame can have, `batch` included.
pub const SERVER_FRAME_TYPES: &[&str] = &[
    "welcome", "joined", "left", "batch", "ack", "rejected", "alert", "pong", "history", "reset",
    "error",
];

/// Every `type` a client frame can have.
pub const CLIENT_FRAME_TYPES: &[&str] = &["join", "leave", "send", "read", "ping", "history"];

/// Codes of `error` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// Not JSON, unknown `type`, or missing/extra fields.
    BadFrame,
    /// Text longer than the limit.
    TextTooLong,
    /// Sending faster than the rate limit; retry later with the same client id.
    RateLimited,
    /// The user may not join or read this room.
    Forbidden,
    /// No such room.
    UnknownRoom,
    /// A send, read or history request for a room not joined.
    NotJoined,
    /// The conversation is closed.
    Closed,
    /// An attachment is not a file the sender may read, or there are too many.
    BadAttachment,
    /// The session token is missing or invalid (the socket then closes).
    Unauthorized,
    /// The server failed; retry.
    Internal,
    /// The server is starting (restoring its plugins); the socket then
    /// closes with 1013: reconnect after a backoff.
    Starting,
}

/// Every error code, as sent.
pub const ERROR_CODES: &[&str] = &[
    "bad-frame",
    "text-too-long",
    "rate-limited",
    "forbidden",
    "unknown-room",
    "not-joined",
    "closed",
    "bad-attachment",
    "unauthorized",
    "internal",
    "starting",
];

/// WebSocket close codes the server uses.
pub mod close {
    /// Normal closure (the client asked).
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down: reconnect (to another node).
    pub const GOING_AWAY: u16 = 1001;
    /// A binary frame: the protocol is JSON text only.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// A text frame that is not UTF-8 (RFC 6455 §8.1).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Flooding: too many frames refused by the rate limit in a row.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame larger than the limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server is starting and not serving chat yet: reconnect after a
    /// backoff.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// No traffic within the heartbeat timeout.
    pub const HEARTBEAT_TIMEOUT: u16 = 4000;
    /// The session token expired: reconnect with a new one.
    pub const SESSION_EXPIRED: u16 = 4001;
    /// The client did not read fast enough; reconnect and sync.
    pub const SLOW_CONSUMER: u16 = 4002;
    /// The session token is missing or invalid.
    pub const UNAUTHORIZED: u16 = 4003;
    /// The protocol version asked for is not spoken here.
    pub const UNSUPPORTED_VERSION: u16 = 4004;
}

/// Every close code, as sent.
pub const CLOSE_CODES: &[u16] = &[
    close::NORMAL,
    close::GOING_AWAY,
    close::UNSUPPORTED_DATA,
    close::INVALID_PAYLOAD,
    close::POLICY_VIOLATION,
    close::TOO_BIG,
    close::TRY_AGAIN_LATER,
    close::HEARTBEAT_TIMEOUT,
    close::SESSION_EXPIRED,
    close::SLOW_CONSUMER,
    close::UNAUTHORIZED,
    close::UNSUPPORTED_VERSION,
];

impl ServerFrame {
    /// An `error` frame.
    pub fn error(
        code: ErrorCode,
        message: impl Into<String>,
        client_id: Option<ClientMessageId>,
    ) -> Self {
        Self::Error {
            code,
            message: message.into(),
            client_id,
        }
    }

    /// The frame as JSON text.
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"serialisation failed"}"#.to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_parse_and_refuse_unknown_fields() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"join","room":"r1","last_seq":5}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::Join {
                room: "r1".parse().unwrap(),
                last_seq: Some(5),
                epoch: None
            }
        );
        assert!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"join","room":"r1","x":1}"#).is_err()
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"join","room":"../etc"}"#).is_err());
    }

    #[test]
    fn code_lists_match_the_enums() {
        for (code, text) in [
            (ErrorCode::BadFrame, "bad-frame"),
            (ErrorCode::TextTooLong, "text-too-long"),
            (ErrorCode::RateLimited, "rate-limited"),
            (ErrorCode::Forbidden, "forbidden"),
            (ErrorCode::UnknownRoom, "unknown-room"),
            (ErrorCode::NotJoined, "not-joined"),
            (ErrorCode::Closed, "closed"),
            (ErrorCode::BadAttachment, "bad-attachment"),
            (ErrorCode::Unauthorized, "unauthorized"),
            (ErrorCode::Internal, "internal"),
            (ErrorCode::Starting, "starting"),
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), text);
            assert!(ERROR_CODES.contains(&text));
        }
        assert_eq!(ERROR_CODES.len(), 11);
        let pong = ServerFrame::Pong { id: Some(1) }.to_json();
        assert_eq!(pong, r#"{"type":"pong","id":1}"#);
    }
}

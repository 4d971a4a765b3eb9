//! The types the protocol carries: ids, messages, conversations, roles, alerts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Generates a validated string newtype.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        id_type!($(#[$doc])* $name, $what, $max, "");
    };
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal, $extra:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let valid = (1..=$max).contains(&s.len())
                    && s.chars().all(|c| {
                        c.is_ascii_alphanumeric()
                            || matches!(c, '-' | '_' | '.' | ':' | '@')
                            || $extra.contains(c)
                    });
                if valid {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidId { what: $what, max: $max, extra: $extra })
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// ` + / =` for `"+/="`.
fn spaced(extra: &str) -> String {
    extra.chars().map(|c| format!(" {c}")).collect()
}

/// A string that is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: use 1 to {max} ASCII characters of letters, digits and - _ . : @{}", spaced(.extra))]
pub struct InvalidId {
    what: &'static str,
    max: usize,
    extra: &'static str,
}

id_type!(
    /// A room (one customer-service conversation).
    RoomId,
    "room id",
    128
);
id_type!(
    /// A user, as named by the session token.
    UserId,
    "user id",
    128
);
id_type!(
    /// The id a client gives a send, so that a retried send is stored once:
    /// 1-64 ASCII letters, digits and `- _ . : @ + / =`, which UUIDs, ULIDs,
    /// base64 and base64url ids all fit.
    ClientMessageId,
    "client message id",
    64,
    "+/="
);

/// Position of a message in its room: 1, 2, 3, ... never reused.
pub type Seq = u64;

/// Generation of a room's history; a new epoch means cached copies are void.
pub type Epoch = u64;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderKind {
    /// A person.
    User,
    /// A bot plugin.
    Bot,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Id of the file in the upload store.
    pub file_id: String,
    /// File name (metadata, never a path).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Content type.
    pub content_type: String,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Room.
    pub room: RoomId,
    /// Position in the room.
    pub seq: Seq,
    /// Stable id.
    pub id: String,
    /// Sender: a user id, or a bot plugin's name.
    pub sender: String,
    /// Person or bot.
    pub kind: SenderKind,
    /// Text.
    pub text: String,
    /// When the hub received it, ms since the Unix epoch.
    pub time_ms: i64,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// The sender's client message id, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    /// Customer and agents may write.
    Open,
    /// Finished; read-only.
    Closed,
}

/// A conversation as listed to its participants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its room.
    pub room: RoomId,
    /// The customer it belongs to.
    pub customer: UserId,
    /// The agent who claimed it.
    pub agent: Option<UserId>,
    /// Open or closed.
    pub status: ConversationStatus,
    /// History generation.
    pub epoch: Epoch,
    /// Newest message's seq.
    pub head_seq: Seq,
    /// Time of the newest message (or of creation).
    pub last_ms: i64,
    /// Sender of the newest message.
    pub last_sender: Option<String>,
    /// Text of the newest message.
    pub last_text: Option<String>,
    /// Messages after the viewer's read position, not sent by the viewer.
    pub unread: u64,
    /// Change counter value of the last change (the sync cursor).
    pub changed: u64,
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes in their own conversations only.
    Customer,
    /// Serves any conversation.
    Agent,
    /// Serves any conversation and receives alerts.
    Admin,
}

impl Role {
    /// Agents and admins serve conversations.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Agent | Self::Admin)
    }
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth a look.
    Warning,
    /// Needs action now.
    Critical,
}

impl Severity {
    /// The name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// Parses a stored name; unknown names read as `warning`.
    pub fn parse(s: &str) -> Self {
        match s {
            "info" => Self::Info,
            "critical" => Self::Critical,
            _ => Self::Warning,
        }
    }
}

/// What raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    /// A plugin flagged a message or a file.
    Flag,
    /// The runtime quarantined a plugin after repeated failures.
    Quarantine,
}

impl AlertKind {
    /// The name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::Quarantine => "quarantine",
        }
    }

    /// Parses a stored name; unknown names read as `flag`.
    pub fn parse(s: &str) -> Self {
        match s {
            "quarantine" => Self::Quarantine,
            _ => Self::Flag,
        }
    }
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Increasing id.
    pub id: i64,
    /// When it was raised, ms since the Unix epoch.
    pub created_ms: i64,
    /// How serious.
    pub severity: Severity,
    /// What raised it.
    pub kind: AlertKind,
    /// The plugin it is about.
    pub source: String,
    /// What happened.
    pub reason: String,
    /// Room of the message, if any.
    pub room: Option<String>,
    /// The message, if any.
    pub message_id: Option<String>,
}

//! The chat hub: WebSocket connections, rooms, moderation, fan-out.
//!
//! - [`protocol`]: the frames (documented in `docs/protocol.md`);
//! - [`connection`]: one task per socket (heartbeat, batching, limits);
//! - [`rooms`]: subscriptions and fan-out through bounded outboxes;
//! - [`writer`]: the single writer (group commit, ordered publication);
//! - [`http`]: the `/ws` upgrade and the session endpoint.
//!
//! Every inbound message runs the chat-plugin chain before it is stored:
//! a reject is answered to the sender only; a rewrite is stored; a flag is
//! stored as an alert and pushed to admin connections; bot replies are
//! stored and delivered as messages from the bot.

pub mod connection;
pub mod http;
pub mod outbox;
pub mod protocol;
pub mod relay;
pub mod rooms;
pub mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;

use crate::auth::{Session, TokenKeys};
use crate::history::{
    Appended, Attachment, ClientMessageId, ConversationStatus, HistoryError, HistoryStore,
    NewMessage, RoomId, SenderKind, UserId,
};
use crate::plugins::{Runtime, wit};
use crate::store::alerts::{AlertKind, Alerts, NewAlert};
use crate::store::now_ms;
use crate::upload::UploadStore;
use protocol::{ErrorCode, Limits};
use rooms::Rooms;

/// How the hub behaves (`[hub]` in `hangar.toml`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HubConfig {
    /// How often the server sends a Ping.
    #[serde(rename = "heartbeat_ms", with = "crate::config::values::millis")]
    pub heartbeat: Duration,
    /// Silence after which a connection is closed.
    #[serde(rename = "timeout_ms", with = "crate::config::values::millis")]
    pub timeout: Duration,
    /// How long outbound messages wait to be merged into one batch; zero
    /// sends every message in its own frame.
    #[serde(rename = "batch_window_ms", with = "crate::config::values::millis")]
    pub batch_window: Duration,
    /// A batch is flushed at once when it holds this many messages.
    pub batch_max_messages: usize,
    /// Outbound items queued per connection before it counts as slow.
    pub outbox_capacity: usize,
    /// Protocol limits.
    #[serde(flatten)]
    pub limits: Limits,
    /// Origins allowed to open WebSockets; empty means the server's own
    /// (the top-level `allowed_origins`, which pages share).
    #[serde(skip)]
    pub allowed_origins: Vec<String>,
}

impl HubConfig {
    /// Refuses values that cannot work.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        use crate::config::Invalid;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Invalid::positive("heartbeat_ms", ms(self.heartbeat))?;
        if self.timeout <= self.heartbeat {
            return Err(Invalid::new(
                "timeout_ms",
                "must be longer than heartbeat_ms",
            ));
        }
        Invalid::positive("batch_max_messages", self.batch_max_messages as u64)?;
        Invalid::positive("outbox_capacity", self.outbox_capacity as u64)?;
        let l = &self.limits;
        Invalid::positive("max_text_bytes", l.max_text_bytes as u64)?;
        Invalid::positive("max_frame_bytes", l.max_frame_bytes as u64)?;
        if l.max_frame_bytes < l.max_text_bytes {
            return Err(Invalid::new(
                "max_frame_bytes",
                "must hold a message of max_text_bytes",
            ));
        }
        Invalid::positive("send_rate_per_sec", u64::from(l.send_rate_per_sec))?;
        Invalid::positive("send_burst", u64::from(l.send_burst))?;
        Invalid::positive("page_size", u64::from(l.page_size))?;
        Ok(())
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(25),
            timeout: Duration::from_secs(60),
            batch_window: Duration::from_millis(20),
            batch_max_messages: 256,
            outbox_capacity: 4096,
            limits: Limits {
                max_frame_bytes: 64 * 1024,
                max_text_bytes: 4000,
                send_rate_per_sec: 10,
                send_burst: 20,
                recovery_limit: 1000,
                page_size: 200,
            },
            allowed_origins: Vec::new(),
        }
    }
}

/// Why a request about a room was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No such room.
    #[error("no conversation {0}")]
    UnknownRoom(RoomId),
    /// Not the user's conversation.
    #[error("conversation {0} is not yours")]
    Forbidden(RoomId),
    /// The store failed.
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// What became of a send.
#[derive(Debug)]
pub enum SendOutcome {
    /// Stored (or already stored, for a retry).
    Stored(Appended),
    /// Refused by moderation.
    Rejected {
        /// Why.
        reason: String,
        /// The plugin.
        by: String,
    },
    /// Refused for another reason.
    Refused(ErrorCode, String),
}

/// Staff use every room; a customer only their own.
fn may_use(session: &Session, customer: &UserId, room: &RoomId) -> Result<(), AccessError> {
    if session.role.is_staff() || *customer == session.user {
        Ok(())
    } else {
        Err(AccessError::Forbidden(room.clone()))
    }
}

/// The hub's shared state.
#[derive(Debug)]
pub struct Hub {
    /// Behaviour.
    pub config: HubConfig,
    /// Message storage.
    pub history: Arc<dyn HistoryStore>,
    /// Plugins (the chat chain).
    pub runtime: Arc<Runtime>,
    /// Subscriptions.
    pub rooms: Arc<Rooms>,
    /// Each room's messages to this node's members, in order, from every
    /// node.
    pub relay: Arc<relay::Relay>,
    /// The batch windows of every connection's outbox.
    windows: Arc<outbox::Windows>,
    /// The single writer (group commit, ordered publication).
    writer: writer::Writer,
    /// Alerts.
    pub alerts: Alerts,
    /// Session verification.
    pub tokens: TokenKeys,
    /// Files that messages may carry.
    uploads: Arc<UploadStore>,
    /// Each room's customer, which never changes: a send checks who may
    /// write without a query (the append itself refuses a closed room).
    customers: moka::future::Cache<RoomId, UserId>,
    next_connection: AtomicU64,
    shutdown: broadcast::Sender<()>,
}

impl Hub {
    /// A hub over `history` and `runtime`.
    pub fn new(
        config: HubConfig,
        history: Arc<dyn HistoryStore>,
        runtime: Arc<Runtime>,
        alerts: Alerts,
        tokens: TokenKeys,
        uploads: Arc<UploadStore>,
        broker: Option<crate::cluster::broker::Broker>,
    ) -> Self {
        let (shutdown, _) = broadcast::channel(1);
        let rooms = Arc::new(Rooms::default());
        let relay = relay::Relay::new(rooms.clone(), history.clone(), broker.clone());
        if let Some(broker) = &broker {
            // Events published while the broker was unreachable, or
            // dropped because this node read too slowly, never arrive:
            // each watched room catches up from the database. And the
            // events this node dropped while it was cut off were lost to
            // nodes that came back before it: it tells them to catch up.
            let (events, watcher) = (broker.clone(), Arc::downgrade(&relay));
            tokio::spawn(async move {
                loop {
                    events.missed().await;
                    let Some(relay) = watcher.upgrade() else {
                        return;
                    };
                    relay.catch_up().await;
                    if events.take_dropped() {
                        events
                            .publish(&crate::cluster::broker::Topic::CatchUp, &())
                            .await;
                    }
                }
            });
            let (events, watcher) = (broker.clone(), Arc::downgrade(&relay));
            tokio::spawn(async move {
                let mut notices = match events
                    .subscribe::<()>(&crate::cluster::broker::Topic::CatchUp)
                    .await
                {
                    Ok(notices) => notices,
                    Err(err) => {
                        tracing::error!(error = %err, "cannot hear other nodes' catch-up notices");
                        return;
                    }
                };
                while notices.recv().await.is_some() {
                    let Some(relay) = watcher.upgrade() else {
                        return;
                    };
                    relay.catch_up().await;
                }
            });
        }
        let writer = writer::Writer::start(history.clone(), relay.clone());
        let windows = outbox::Windows::start(config.batch_window, config.batch_max_messages);
        Self {
            windows,
            config,
            history,
            runtime,
            rooms,
            relay,
            writer,
            alerts,
            tokens,
            uploads,
            customers: moka::future::Cache::new(100_000),
            next_connection: AtomicU64::new(1),
            shutdown,
        }
    }

    fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Subscribes connection `id` to `room`, then makes sure this node
    /// follows the room (see [`relay::Relay::watch`]).
    ///
    /// # Errors
    /// The node could not follow the room; the connection is unsubscribed.
    pub async fn subscribe(
        &self,
        room: &RoomId,
        id: rooms::ConnectionId,
        outbox: Arc<outbox::Outbox>,
    ) -> Result<(), HistoryError> {
        if !self.rooms.join(room, id, outbox) {
            return Ok(());
        }
        let watched = self.relay.watch(room).await;
        if watched.is_err() {
            self.unsubscribe(room, id);
        }
        watched
    }

    /// Unsubscribes connection `id` from `room`.
    pub fn unsubscribe(&self, room: &RoomId, id: rooms::ConnectionId) {
        if self.rooms.leave(room, id) {
            self.relay.unwatch(room);
        }
    }

    /// Tells every connection to close with "going away".
    pub fn shut_down(&self) {
        let _ = self.shutdown.send(());
    }

    /// Waits until every connection has sent its close frame and finished
    /// its closing handshake, or `within` passed; returns whether all did.
    /// Upgraded sockets outlive the HTTP server's graceful stop: without
    /// this wait the process could exit before they say "going away", and
    /// clients would see a dropped connection (1006) instead of 1001.
    pub async fn connections_closed(&self, within: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while self.rooms.connection_count() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        true
    }

    /// Whether `room` is open, if `session` may read and write it.
    ///
    /// # Errors
    /// [`AccessError::UnknownRoom`] or [`AccessError::Forbidden`].
    pub async fn access(
        &self,
        session: &Session,
        room: &RoomId,
    ) -> Result<ConversationStatus, AccessError> {
        let (customer, status) = self
            .history
            .owner(room)
            .await?
            .ok_or_else(|| AccessError::UnknownRoom(room.clone()))?;
        may_use(session, &customer, room)?;
        Ok(status)
    }

    /// Whether `session` may write to `room`, from the cached customer of
    /// the room (one query per room per process).
    async fn may_write(&self, session: &Session, room: &RoomId) -> Result<(), AccessError> {
        let customer = match self.customers.get(room).await {
            Some(customer) => customer,
            None => {
                let (customer, _) = self
                    .history
                    .owner(room)
                    .await?
                    .ok_or_else(|| AccessError::UnknownRoom(room.clone()))?;
                self.customers.insert(room.clone(), customer.clone()).await;
                customer
            }
        };
        may_use(session, &customer, room)
    }

    /// Runs one send through moderation, stores and delivers it. The checks
    /// and moderation run at once, but the append is queued only when
    /// `turn` comes (the previous send of the same connection queued its
    /// own): sends pipelined on one connection keep their order.
    pub async fn send(
        &self,
        session: &Session,
        room: &RoomId,
        client_id: ClientMessageId,
        text: String,
        attachments: Vec<Attachment>,
        mut turn: Turn,
    ) -> SendOutcome {
        let prepared = self
            .prepare(session, room, client_id, text, attachments)
            .await;
        turn.wait().await;
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(outcome) => return outcome,
        };
        let file_ids = file_ids(&prepared.message.attachments);
        let pending = self.writer.submit(prepared.message).await;
        // The next send of this connection may queue its append now.
        drop(turn);
        let appended = match pending {
            Ok(pending) => pending.await,
            Err(err) => Err(err),
        };
        let appended = match appended {
            Ok(appended) => appended,
            Err(HistoryError::Closed(_)) => {
                return SendOutcome::Refused(
                    ErrorCode::Closed,
                    format!("conversation {room} is closed"),
                );
            }
            Err(err) => return internal(&err),
        };
        // Shared only once the message that carries the files is stored:
        // a refused or failed append shares nothing. Should sharing fail,
        // the sender is told to retry, and the retry (a duplicate) shares.
        if let Err(err) = self.uploads.share(&file_ids, room.as_str()).await {
            return internal(&err);
        }
        if appended.duplicate {
            return SendOutcome::Stored(appended);
        }
        // Alerts and bot replies follow the message; the sender's ack does
        // not wait for them (the replies still get later seqs).
        let decision = prepared.decision;
        if !decision.flags.is_empty() || !decision.replies.is_empty() {
            let followers = Followers {
                alerts: self.alerts.clone(),
                writer: self.writer.clone(),
            };
            let message_id = appended.message.id.clone();
            let room = room.clone();
            tokio::spawn(async move {
                followers
                    .run(&room, &message_id, decision.flags, decision.replies)
                    .await;
            });
        }
        SendOutcome::Stored(appended)
    }

    /// Everything of a send before its append: the retry check, access,
    /// attachments and moderation. `Err` is the answer when the send stops
    /// here.
    async fn prepare(
        &self,
        session: &Session,
        room: &RoomId,
        client_id: ClientMessageId,
        text: String,
        attachments: Vec<Attachment>,
    ) -> Result<Prepared, SendOutcome> {
        let sender = session.user.as_str();
        // A retry of a stored send is answered from the store, without
        // running the plugins again.
        match self.history.find_sent(room, sender, &client_id).await {
            Ok(Some(message)) => {
                // A retry also repairs a share that failed after the append.
                let file_ids = file_ids(&message.attachments);
                if let Err(err) = self.uploads.share(&file_ids, room.as_str()).await {
                    return Err(internal(&err));
                }
                return Err(SendOutcome::Stored(Appended {
                    message,
                    duplicate: true,
                }));
            }
            Ok(None) => {}
            Err(err) => return Err(internal(&err)),
        }
        // Whether the room is still open is the append's to say, in its
        // transaction; a send to a closed room is refused there.
        match self.may_write(session, room).await {
            Ok(()) => {}
            Err(AccessError::UnknownRoom(_)) => {
                return Err(SendOutcome::Refused(
                    ErrorCode::UnknownRoom,
                    format!("no conversation {room}"),
                ));
            }
            Err(AccessError::Forbidden(_)) => {
                return Err(SendOutcome::Refused(
                    ErrorCode::Forbidden,
                    format!("conversation {room} is not yours"),
                ));
            }
            Err(AccessError::History(err)) => return Err(internal(&err)),
        }
        let attachments = self.attachments(session, attachments).await?;
        let id = format!("m-{}", uuid::Uuid::new_v4().simple());
        let time_ms = now_ms();
        let decision = self
            .runtime
            .chat_chain()
            .on_message(wit::ChatMessage {
                id: id.clone(),
                room: room.to_string(),
                sender: sender.to_owned(),
                text,
                time_ms,
                attachments: attachments
                    .iter()
                    .map(|a| wit::Attachment {
                        file_id: a.file_id.clone(),
                        name: a.name.clone(),
                        size: a.size,
                        content_type: a.content_type.clone(),
                    })
                    .collect(),
            })
            .await;
        if let Some(rejection) = decision.rejected {
            return Err(SendOutcome::Rejected {
                reason: rejection.reason,
                by: rejection.by.to_string(),
            });
        }
        Ok(Prepared {
            message: NewMessage {
                room: room.clone(),
                id,
                sender: sender.to_owned(),
                kind: SenderKind::User,
                text: decision.text.clone(),
                time_ms,
                attachments,
                client_id: Some(client_id),
            },
            decision,
        })
    }

    /// Imports messages into a room's history through the single writer (one
    /// transaction, seqs in order, published like any message).
    ///
    /// # Errors
    /// The store failed; nothing was stored.
    pub async fn import(
        &self,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Result<Appended, HistoryError>>, HistoryError> {
        self.writer.import(messages).await
    }

    /// Resets a room's history (new epoch) and tells its subscribers.
    ///
    /// # Errors
    /// When the room is unknown or the store fails.
    pub async fn reset_room(
        &self,
        room: &RoomId,
    ) -> Result<crate::history::RoomHead, HistoryError> {
        self.writer.reset(room.clone()).await
    }
}

/// The ids of the files `attachments` carry.
fn file_ids(attachments: &[Attachment]) -> Vec<String> {
    attachments.iter().map(|a| a.file_id.clone()).collect()
}

/// A send that passed its checks and moderation, ready to append.
struct Prepared {
    message: NewMessage,
    decision: crate::plugins::MessageDecision,
}

/// A send's place in its connection's order: it queues its append after
/// the previous send queued (or dropped) its own, then lets the next go.
#[derive(Debug)]
pub struct Turn {
    previous: Option<tokio::sync::oneshot::Receiver<()>>,
    _mine: tokio::sync::oneshot::Sender<()>,
}

impl Turn {
    /// The turn after the one `previous` belongs to, and the receiver the
    /// next one waits on.
    pub fn after(
        previous: Option<tokio::sync::oneshot::Receiver<()>>,
    ) -> (Self, tokio::sync::oneshot::Receiver<()>) {
        let (mine, next) = tokio::sync::oneshot::channel();
        (
            Self {
                previous,
                _mine: mine,
            },
            next,
        )
    }

    /// Waits until the previous send queued its append or gave up (its
    /// sender dropped either way).
    async fn wait(&mut self) {
        if let Some(previous) = self.previous.take() {
            let _ = previous.await;
        }
    }
}

/// What follows a stored message: its alerts and its bot replies.
struct Followers {
    alerts: Alerts,
    writer: writer::Writer,
}

impl Followers {
    async fn run(
        &self,
        room: &RoomId,
        message_id: &str,
        flags: Vec<crate::plugins::chain::Flag>,
        replies: Vec<crate::plugins::chain::Reply>,
    ) {
        for flag in flags {
            let alert = NewAlert {
                severity: flag.severity,
                kind: AlertKind::Flag,
                source: flag.by.to_string(),
                reason: flag.reason,
                room: Some(room.to_string()),
                message_id: Some(message_id.to_owned()),
            };
            if let Err(err) = self.alerts.raise(alert).await {
                tracing::error!(%room, error = %err, "flag alert not stored");
            }
        }
        for reply in replies {
            let stored = self
                .writer
                .append(NewMessage {
                    room: room.clone(),
                    id: format!("m-{}", uuid::Uuid::new_v4().simple()),
                    sender: reply.by.to_string(),
                    kind: SenderKind::Bot,
                    text: reply.text,
                    time_ms: now_ms(),
                    attachments: Vec::new(),
                    client_id: None,
                })
                .await;
            if let Err(err) = stored {
                tracing::error!(%room, bot = %reply.by, error = %err, "bot reply not stored");
            }
        }
    }
}

/// Most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

impl Hub {
    /// Checks that the sender may read every attached file and takes each
    /// file's name, size and type from the store rather than the client.
    async fn attachments(
        &self,
        session: &Session,
        attachments: Vec<Attachment>,
    ) -> Result<Vec<Attachment>, SendOutcome> {
        if attachments.is_empty() {
            return Ok(attachments);
        }
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(SendOutcome::Refused(
                ErrorCode::BadAttachment,
                format!("at most {MAX_ATTACHMENTS} attachments per message"),
            ));
        }
        let ids: Vec<String> = attachments.into_iter().map(|a| a.file_id).collect();
        match self.uploads.attachable(session, &ids).await {
            Ok(files) => Ok(files
                .into_iter()
                .map(|f| Attachment {
                    file_id: f.id,
                    name: f.name,
                    size: f.size,
                    content_type: f.content_type,
                })
                .collect()),
            Err(crate::upload::UploadError::UnknownFile(id)) => Err(SendOutcome::Refused(
                ErrorCode::BadAttachment,
                format!("attachment {id} is not a file you uploaded or may read"),
            )),
            Err(err) => Err(internal(&err)),
        }
    }
}

fn internal(err: &dyn std::fmt::Display) -> SendOutcome {
    tracing::error!(error = %err, "send failed");
    SendOutcome::Refused(
        ErrorCode::Internal,
        "the message could not be stored; retry".into(),
    )
}

//! One task per WebSocket: reads client frames, writes merged batches,
//! pings, and enforces the limits.
//!
//! Outbound chat messages wait in the connection's outbox (see `outbox`)
//! and are merged into one `batch` frame when the batch window ends or the
//! batch reaches `batch_max_messages`. Other frames (acks, errors) flush the
//! queued messages first, so a client always sees its messages in order.
//!
//! Sends are pipelined: up to [`MAX_IN_FLIGHT`] of one connection are
//! checked and moderated at once while the connection goes on reading; each
//! queues its append only after the previous one queued its own, so they
//! are stored in the order they were sent, and their answers go out in that
//! order, each after its commit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesOrdered, SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument as _;

use super::outbox::{Outbound, Outbox, Published};
use super::protocol::{ClientFrame, ErrorCode, JoinStatus, PROTOCOL_VERSION, ServerFrame, close};
use super::rooms::ConnectionId;
use super::{AccessError, Hub, SendOutcome, Turn};
use crate::auth::{Role, Session, unix_now};
use crate::history::{Message, RoomId, Seq};
use crate::metrics::metrics;

/// How long a closing connection waits for the client's Close.
pub const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Rate-limited frames in a row after which a client counts as flooding.
const FLOOD_THRESHOLD: u32 = 50;

/// Sends of one connection in flight at once; past it, the connection
/// stops reading until one is answered.
pub const MAX_IN_FLIGHT: usize = 32;

/// A token bucket for sends.
struct SendBudget {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    last: Instant,
}

impl SendBudget {
    fn new(per_sec: u32, burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            per_sec: f64::from(per_sec),
            last: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Why the loop ended.
enum End {
    /// The client closed or vanished.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

struct Connection {
    hub: Arc<Hub>,
    session: Session,
    id: ConnectionId,
    outbox: Arc<Outbox>,
    sink: SplitSink<WebSocket, WsMessage>,
    /// Joined rooms and the newest seq the client has of each.
    delivered: HashMap<RoomId, Seq>,
    budget: SendBudget,
    rate_limited_in_a_row: u32,
    /// Sends being moderated and stored, answered in order.
    in_flight: FuturesOrdered<BoxFuture<'static, ServerFrame>>,
    /// What the next send waits on before it queues its append.
    last_turn: Option<tokio::sync::oneshot::Receiver<()>>,
}

/// Serves one upgraded socket until it closes, in a `connection` span
/// (its id, user and role) that every line it logs carries.
pub async fn run(hub: Arc<Hub>, socket: WebSocket, session: Session) {
    let id = hub.next_connection_id();
    let span = tracing::info_span!("connection", id, user = %session.user, role = ?session.role);
    serve_socket(hub, socket, session, id)
        .instrument(span)
        .await;
}

async fn serve_socket(hub: Arc<Hub>, socket: WebSocket, session: Session, id: ConnectionId) {
    let (sink, stream) = socket.split();
    let phase = hub.windows.phase_of(id);
    let outbox = Outbox::new(hub.config.outbox_capacity, hub.windows.clone(), phase);
    let limits = hub.config.limits;
    let mut connection = Connection {
        id,
        budget: SendBudget::new(limits.send_rate_per_sec, limits.send_burst),
        hub,
        session,
        outbox,
        sink,
        delivered: HashMap::new(),
        rate_limited_in_a_row: 0,
        in_flight: FuturesOrdered::new(),
        last_turn: None,
    };
    connection.hub.rooms.connection_opened();
    let mut stream = stream;
    let end = connection.serve(&mut stream).await;
    for room in connection.delivered.keys() {
        connection.hub.unsubscribe(room, connection.id);
    }
    if let End::Close(code, reason) = end {
        tracing::debug!(
            connection = connection.id,
            code,
            reason,
            "closing connection"
        );
        let _ = connection.flush().await;
        let _ = connection
            .sink
            .send(WsMessage::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            })))
            .await;
        // Closing handshake: read (and drop) what the client still sends
        // until its Close, for a short grace. Dropping a socket with unread
        // data makes the kernel reset it, and the client would never see
        // the close code.
        let drain = async {
            while let Some(Ok(frame)) = stream.next().await {
                if matches!(frame, WsMessage::Close(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, drain).await;
    }
    let _ = connection.sink.close().await;
    // Counted until its close frame is out: a stopping server waits for
    // this (see [`Hub::connections_closed`]).
    connection.hub.rooms.connection_closed();
}

/// Closes a socket at once with an error frame and a close code (bad token,
/// unsupported version).
pub async fn refuse(mut socket: WebSocket, error: ServerFrame, code: u16, reason: &'static str) {
    let _ = socket.send(WsMessage::Text(error.to_json().into())).await;
    let _ = socket
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}

impl Connection {
    async fn serve(&mut self, stream: &mut SplitStream<WebSocket>) -> End {
        let config = self.hub.config.clone();
        let welcome = ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            connection_id: self.id.to_string(),
            user: self.session.user.to_string(),
            role: self.session.role,
            heartbeat_ms: millis(config.heartbeat),
            timeout_ms: millis(config.timeout),
            limits: config.limits,
        };
        if self.send_frame(&welcome).await.is_err() {
            return End::Gone;
        }
        let mut heartbeat =
            tokio::time::interval_at(Instant::now() + config.heartbeat, config.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_seen = Instant::now();
        let mut alerts = (self.session.role == Role::Admin).then(|| self.hub.alerts.subscribe());
        let mut shutdown = self.hub.shutdown.subscribe();
        let expires_in = Duration::from_secs(self.session.expires.saturating_sub(unix_now()));
        let expiry = tokio::time::sleep(expires_in);
        tokio::pin!(expiry);
        let outbox = self.outbox.clone();
        loop {
            tokio::select! {
                biased;
                _ = shutdown.recv() => return End::Close(close::GOING_AWAY, "server shutting down"),
                () = &mut expiry => return End::Close(close::SESSION_EXPIRED, "session expired"),
                Some(answer) = self.in_flight.next(), if !self.in_flight.is_empty() => {
                    if self.send_frame(&answer).await.is_err() {
                        return End::Gone;
                    }
                }
                frame = stream.next(), if self.in_flight.len() < MAX_IN_FLIGHT => {
                    let Some(frame) = frame else { return End::Gone };
                    last_seen = Instant::now();
                    let end = match frame {
                        Ok(WsMessage::Text(text)) => {
                            metrics().hub_frames_received.inc();
                            self.on_text(text.as_str()).await
                        }
                        Ok(WsMessage::Binary(_)) => Some(End::Close(close::UNSUPPORTED_DATA, "binary frames are not supported")),
                        Ok(WsMessage::Close(_)) => Some(End::Gone),
                        Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => None,
                        Err(err) => Some(read_error(&err)),
                    };
                    if let Some(end) = end {
                        return end;
                    }
                }
                () = outbox.ready() => {
                    if outbox.is_slow() {
                        metrics().hub_slow_consumer_closes.inc();
                        return End::Close(close::SLOW_CONSUMER, "slow consumer: reconnect and sync");
                    }
                    if self.flush().await.is_err() {
                        return End::Gone;
                    }
                }
                _ = heartbeat.tick() => {
                    if last_seen.elapsed() > config.timeout {
                        return End::Close(close::HEARTBEAT_TIMEOUT, "heartbeat timeout");
                    }
                    if self.sink.send(WsMessage::Ping(Default::default())).await.is_err() {
                        return End::Gone;
                    }
                }
                alert = recv_alert(&mut alerts) => {
                    if let Some(alert) = alert
                        && self.send_frame(&ServerFrame::Alert { alert }).await.is_err()
                    {
                        return End::Gone;
                    }
                }
            }
        }
    }

    async fn on_text(&mut self, text: &str) -> Option<End> {
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(err) => {
                let error = ServerFrame::error(
                    ErrorCode::BadFrame,
                    format!("unreadable frame: {err}"),
                    None,
                );
                return self.send_frame(&error).await.err();
            }
        };
        let result = match frame {
            ClientFrame::Ping { id } => self.send_frame(&ServerFrame::Pong { id }).await,
            ClientFrame::Join {
                room,
                last_seq,
                epoch,
            } => self.join(room, last_seq, epoch).await,
            ClientFrame::Leave { room } => {
                self.hub.unsubscribe(&room, self.id);
                self.delivered.remove(&room);
                self.send_frame(&ServerFrame::Left { room }).await
            }
            ClientFrame::Send {
                room,
                client_id,
                text,
                attachments,
            } => return self.on_send(room, client_id, text, attachments).await,
            ClientFrame::Read { room, seq } => {
                if let Some(&delivered) = self.delivered.get(&room) {
                    // Nobody reads past what was delivered: a read position
                    // beyond it would hide future messages from the unread
                    // count.
                    let seq = seq.min(delivered);
                    if let Err(err) = self
                        .hub
                        .history
                        .mark_read(&room, &self.session.user, seq)
                        .await
                    {
                        tracing::warn!(%room, error = %err, "read position not stored");
                    }
                    Ok(())
                } else {
                    self.not_joined(&room, None).await
                }
            }
            ClientFrame::History {
                room,
                before,
                limit,
            } => self.history(room, before, limit).await,
        };
        result.err()
    }

    async fn on_send(
        &mut self,
        room: RoomId,
        client_id: crate::history::ClientMessageId,
        text: String,
        attachments: Vec<crate::history::Attachment>,
    ) -> Option<End> {
        if !self.delivered.contains_key(&room) {
            return self.not_joined(&room, Some(client_id)).await.err();
        }
        let limits = self.hub.config.limits;
        if text.len() > limits.max_text_bytes {
            let error = ServerFrame::error(
                ErrorCode::TextTooLong,
                format!(
                    "text is {} bytes; the limit is {}",
                    text.len(),
                    limits.max_text_bytes
                ),
                Some(client_id),
            );
            return self.send_frame(&error).await.err();
        }
        if !self.budget.take() {
            metrics().hub_rate_limited_sends.inc();
            self.rate_limited_in_a_row += 1;
            if self.rate_limited_in_a_row > FLOOD_THRESHOLD {
                return Some(End::Close(
                    close::POLICY_VIOLATION,
                    "flooding: too many sends over the rate limit",
                ));
            }
            let error = ServerFrame::error(
                ErrorCode::RateLimited,
                format!(
                    "more than {} sends per second; retry later with the same client_id",
                    limits.send_rate_per_sec
                ),
                Some(client_id),
            );
            return self.send_frame(&error).await.err();
        }
        self.rate_limited_in_a_row = 0;
        let hub = self.hub.clone();
        let session = self.session.clone();
        let (turn, next) = Turn::after(self.last_turn.take());
        self.last_turn = Some(next);
        // Each send is a task of its own: plugin calls run in place on the
        // thread of the task that makes them, and must not hold up this
        // connection's reading, pings and deliveries, nor the sends after
        // it. A task is aborted if the connection ends first.
        let failed_id = client_id.clone();
        let read_at = std::time::Instant::now();
        // In the connection's span: its lines (a plugin call's) say whose.
        let send = AbortOnDropHandle::new(tokio::spawn(
            async move {
                let outcome = hub
                    .send(&session, &room, client_id.clone(), text, attachments, turn)
                    .await;
                match outcome {
                    SendOutcome::Stored(appended) => ServerFrame::Ack {
                        client_id,
                        room,
                        id: appended.message.id,
                        seq: appended.message.seq,
                        duplicate: appended.duplicate,
                    },
                    SendOutcome::Rejected { reason, by } => ServerFrame::Rejected {
                        client_id,
                        room,
                        reason,
                        by,
                    },
                    SendOutcome::Refused(code, message) => {
                        ServerFrame::error(code, message, Some(client_id))
                    }
                }
            }
            .in_current_span(),
        ));
        self.in_flight.push_back(
            async move {
                let answer = send.await.unwrap_or_else(|err| {
                    tracing::error!(error = %err, "a send task failed");
                    ServerFrame::error(
                        ErrorCode::Internal,
                        "the send failed; retry with the same client_id",
                        Some(failed_id),
                    )
                });
                metrics()
                    .hub_send_answer_seconds
                    .observe(read_at.elapsed().as_secs_f64());
                answer
            }
            .boxed(),
        );
        None
    }

    async fn join(
        &mut self,
        room: RoomId,
        last_seq: Option<Seq>,
        epoch: Option<u64>,
    ) -> Result<(), End> {
        match self.hub.access(&self.session, &room).await {
            Ok(_) => {}
            Err(AccessError::UnknownRoom(_)) => {
                let error = ServerFrame::error(
                    ErrorCode::UnknownRoom,
                    format!("no conversation {room}"),
                    None,
                );
                return self.send_frame(&error).await;
            }
            Err(AccessError::Forbidden(_)) => {
                let error = ServerFrame::error(
                    ErrorCode::Forbidden,
                    format!("you may not join {room}: it is not your conversation"),
                    None,
                );
                return self.send_frame(&error).await;
            }
            Err(AccessError::History(err)) => return self.internal(&err).await,
        }
        // Subscribe before reading history: what is published meanwhile is
        // queued and skipped by seq if the catch-up already covered it.
        if let Err(err) = self
            .hub
            .subscribe(&room, self.id, self.outbox.clone())
            .await
        {
            return self.internal(&err).await;
        }
        let head = match self.hub.history.head(&room).await {
            Ok(Some(head)) => head,
            Ok(None) => {
                self.hub.unsubscribe(&room, self.id);
                return self
                    .send_frame(&ServerFrame::error(
                        ErrorCode::UnknownRoom,
                        format!("no conversation {room}"),
                        None,
                    ))
                    .await;
            }
            Err(err) => return self.join_failed(&room, &err).await,
        };
        let limits = self.hub.config.limits;
        // A last seq beyond the head (a cache from before a restore, or a
        // bug) must never silence the room: it is answered as a reset.
        let reset = epoch.is_some_and(|e| e != head.epoch)
            || last_seq.is_some_and(|last| last > head.head_seq);
        let status;
        let mut pages = Vec::new();
        match last_seq.filter(|_| !reset) {
            Some(last) if head.head_seq.saturating_sub(last) > limits.recovery_limit => {
                status = JoinStatus::TooFar;
                self.delivered.insert(room.clone(), head.head_seq);
            }
            Some(last) => {
                status = JoinStatus::Ok;
                let mut after = last;
                while after < head.head_seq {
                    let page = match self
                        .hub
                        .history
                        .page(&room, after, u64::MAX, limits.page_size, false)
                        .await
                    {
                        Ok(page) => page,
                        Err(err) => return self.join_failed(&room, &err).await,
                    };
                    let Some(newest) = page.last().map(|m| m.seq) else {
                        break;
                    };
                    after = newest;
                    pages.push(page);
                }
                self.delivered.insert(room.clone(), after.max(last));
            }
            None => {
                status = if reset {
                    JoinStatus::Reset
                } else {
                    JoinStatus::Ok
                };
                match self
                    .hub
                    .history
                    .page(&room, 0, u64::MAX, limits.page_size, true)
                    .await
                {
                    Ok(page) => {
                        let newest = page.last().map_or(0, |m| m.seq);
                        self.delivered
                            .insert(room.clone(), newest.max(head.head_seq));
                        pages.push(page);
                    }
                    Err(err) => return self.join_failed(&room, &err).await,
                }
            }
        }
        let mut pages = pages.into_iter();
        let first = pages.next().unwrap_or_default();
        let more = match status {
            JoinStatus::Ok if last_seq.is_some() => pages.len() > 0,
            _ => first.first().is_some_and(|m| m.seq > 1),
        };
        self.send_frame(&ServerFrame::Joined {
            room,
            epoch: head.epoch,
            head_seq: head.head_seq,
            status,
            messages: first,
            more,
        })
        .await?;
        for page in pages {
            self.send_batch(&page).await?;
        }
        Ok(())
    }

    /// A join that failed after subscribing: unsubscribe, then answer.
    async fn join_failed(
        &mut self,
        room: &RoomId,
        err: &(dyn std::fmt::Display + Sync),
    ) -> Result<(), End> {
        self.hub.unsubscribe(room, self.id);
        self.internal(err).await
    }

    async fn history(
        &mut self,
        room: RoomId,
        before: Option<Seq>,
        limit: Option<u32>,
    ) -> Result<(), End> {
        if !self.delivered.contains_key(&room) {
            return self.not_joined(&room, None).await;
        }
        let page_size = self.hub.config.limits.page_size;
        if limit == Some(0) || limit.is_some_and(|l| l > page_size) {
            let error = ServerFrame::error(
                ErrorCode::BadFrame,
                format!("history limit must be 1 to {page_size}"),
                None,
            );
            return self.send_frame(&error).await;
        }
        let limit = limit.unwrap_or(page_size);
        match self
            .hub
            .history
            .page(&room, 0, before.unwrap_or(u64::MAX), limit, true)
            .await
        {
            Ok(messages) => {
                let more = messages.first().is_some_and(|m| m.seq > 1);
                self.send_frame(&ServerFrame::History {
                    room,
                    messages,
                    more,
                })
                .await
            }
            Err(err) => self.internal(&err).await,
        }
    }

    /// Sends what the outbox holds, in order: runs of messages as `batch`
    /// frames (one message each when batching is off), other frames as is.
    async fn flush(&mut self) -> Result<(), End> {
        let one_each = self.hub.config.batch_window.is_zero();
        let most = self.hub.config.batch_max_messages.max(1);
        let mut batch: Vec<Arc<Published>> = Vec::new();
        for item in self.outbox.take() {
            match item {
                Outbound::Message(published) => {
                    batch.push(published);
                    if one_each || batch.len() >= most {
                        self.send_published(&mut batch).await?;
                    }
                }
                Outbound::Frame(json) => {
                    self.send_published(&mut batch).await?;
                    self.write(json.to_string()).await?;
                }
            }
        }
        self.send_published(&mut batch).await
    }

    /// Sends `batch` as one `batch` frame (emptying it), skipping what the
    /// client already has and rooms it left.
    async fn send_published(&mut self, batch: &mut Vec<Arc<Published>>) -> Result<(), End> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut body = String::from(r#"{"type":"batch","messages":["#);
        let mut count = 0;
        for published in batch.drain(..) {
            let Some(delivered) = self.delivered.get_mut(&published.room) else {
                continue;
            };
            if published.seq <= *delivered {
                continue;
            }
            *delivered = published.seq;
            if count > 0 {
                body.push(',');
            }
            body.push_str(&published.json);
            count += 1;
        }
        if count == 0 {
            return Ok(());
        }
        metrics().hub_batch_messages.observe(f64::from(count));
        body.push_str("]}");
        self.write(body).await
    }

    async fn send_batch(&mut self, messages: &[Message]) -> Result<(), End> {
        if messages.is_empty() {
            return Ok(());
        }
        let frame = ServerFrame::Batch {
            messages: messages.to_vec(),
        };
        self.write(frame.to_json()).await
    }

    async fn send_frame(&mut self, frame: &ServerFrame) -> Result<(), End> {
        self.flush().await?;
        self.write(frame.to_json()).await
    }

    async fn write(&mut self, text: String) -> Result<(), End> {
        metrics().hub_frames_sent.inc();
        self.sink
            .send(WsMessage::Text(text.into()))
            .await
            .map_err(|_| End::Gone)
    }

    async fn not_joined(
        &mut self,
        room: &RoomId,
        client_id: Option<crate::history::ClientMessageId>,
    ) -> Result<(), End> {
        let error = ServerFrame::error(
            ErrorCode::NotJoined,
            format!("join {room} first"),
            client_id,
        );
        self.send_frame(&error).await
    }

    async fn internal(&mut self, err: &(dyn std::fmt::Display + Sync)) -> Result<(), End> {
        tracing::error!(connection = self.id, error = %err, "request failed");
        self.send_frame(&ServerFrame::error(
            ErrorCode::Internal,
            "the server failed; retry",
            None,
        ))
        .await
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The close a read error calls for. axum hides tungstenite's error type,
/// so its message is what tells them apart.
fn read_error(err: &axum::Error) -> End {
    let text = err.to_string();
    if text.contains("too long") || text.contains("Space limit exceeded") {
        End::Close(close::TOO_BIG, "frame too large")
    } else if text.to_ascii_lowercase().contains("utf-8") {
        End::Close(close::INVALID_PAYLOAD, "text frame is not UTF-8")
    } else {
        End::Gone
    }
}

async fn recv_alert(
    alerts: &mut Option<tokio::sync::broadcast::Receiver<crate::store::alerts::Alert>>,
) -> Option<crate::store::alerts::Alert> {
    match alerts {
        Some(rx) => loop {
            match rx.recv().await {
                Ok(alert) => return Some(alert),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "admin connection missed live alerts; they remain listed"
                    );
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    return std::future::pending().await;
                }
            }
        },
        None => std::future::pending().await,
    }
}

//! The reconnecting client.
//!
//! One background task owns the socket. The application talks to it with
//! [`Client`] methods and hears from it through [`Event`]s. When the
//! connection drops, the task reconnects in tiers:
//!
//! 1. the same URL, `same_url_attempts` times, with full-jitter backoff;
//! 2. every other node of the cached node list, once each;
//! 3. a fresh node list from `GET /api/lbs`, each node once;
//! 4. [`Event::GaveUp`]: the application decides.
//!
//! After reconnecting it joins every room again from its last seq (and
//! epoch), and resends every unacknowledged send with its original client
//! message id, so nothing is lost and nothing is stored twice.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::backoff::Backoff;
use crate::protocol::{
    Alert, Attachment, ClientFrame, ClientMessageId, Epoch, ErrorCode, JoinStatus, Message,
    PROTOCOL_VERSION, RoomId, Seq, ServerFrame, close,
};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How the client connects.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// WebSocket URLs (`ws://host/ws`), best first; may be empty when
    /// `lbs_url` is set.
    pub nodes: Vec<String>,
    /// `http://host/api/lbs`, to refresh the node list.
    pub lbs_url: Option<String>,
    /// The session token.
    pub token: String,
    /// Delays between tries of one URL.
    pub backoff: Backoff,
    /// Tries of the same URL before moving on.
    pub same_url_attempts: u32,
    /// Longest wait for one connection attempt.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// Defaults for `token`, connecting to `nodes`.
    pub fn new(nodes: Vec<String>, token: impl Into<String>) -> Self {
        Self {
            nodes,
            lbs_url: None,
            token: token.into(),
            backoff: Backoff::default(),
            same_url_attempts: 5,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// What happens on the connection.
#[derive(Debug, Clone)]
pub enum Event {
    /// Connected (or reconnected) to `url`.
    Connected {
        /// The node.
        url: String,
    },
    /// A room was joined or rejoined.
    Joined {
        /// The room.
        room: RoomId,
        /// Catch-up outcome.
        status: JoinStatus,
        /// Current epoch.
        epoch: Epoch,
        /// Newest seq.
        head_seq: Seq,
    },
    /// Messages, one event per `batch` or catch-up page.
    Messages(Vec<Message>),
    /// A send was stored.
    Acked {
        /// The send.
        client_id: ClientMessageId,
        /// Its seq.
        seq: Seq,
        /// Whether the server had it already (a resend).
        duplicate: bool,
    },
    /// Moderation refused a send.
    Rejected {
        /// The send.
        client_id: ClientMessageId,
        /// Why.
        reason: String,
        /// The plugin.
        by: String,
    },
    /// An alert (admins).
    Alert(Alert),
    /// The server refused a frame.
    Error {
        /// Code.
        code: ErrorCode,
        /// Message.
        message: String,
        /// The send it is about.
        client_id: Option<ClientMessageId>,
    },
    /// A room's history was reset; the client rejoins it afresh.
    Reset {
        /// The room.
        room: RoomId,
    },
    /// The connection dropped; reconnecting follows.
    Disconnected {
        /// The close code, when the server sent one.
        code: Option<u16>,
    },
    /// Trying to reconnect.
    Reconnecting {
        /// 1: same URL, 2: next cached node, 3: fresh node list.
        tier: u8,
        /// The URL being tried.
        url: String,
    },
    /// Every tier failed (or the token is refused): the client stopped.
    GaveUp {
        /// Why.
        reason: String,
    },
}

/// Why the client could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Neither nodes nor an LBS URL.
    #[error("no node to connect to: give nodes or an LBS URL")]
    NoNodes,
}

enum Command {
    Join(RoomId),
    Leave(RoomId),
    Send(PendingSend),
    Read(RoomId, Seq),
    Close,
}

#[derive(Debug, Clone)]
struct PendingSend {
    room: RoomId,
    client_id: ClientMessageId,
    text: String,
    attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Copy, Default)]
struct RoomState {
    last_seq: Option<Seq>,
    epoch: Option<Epoch>,
}

/// Handle to the client task; dropping it closes the connection.
#[derive(Debug)]
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
    next_id: std::sync::atomic::AtomicU64,
    prefix: String,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl Client {
    /// Starts the client task; events arrive on the returned receiver.
    ///
    /// # Errors
    /// [`ClientError::NoNodes`] when there is nothing to connect to.
    pub fn start(
        config: ClientConfig,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Event>), ClientError> {
        if config.nodes.is_empty() && config.lbs_url.is_none() {
            return Err(ClientError::NoNodes);
        }
        let (commands, rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        tokio::spawn(Session::new(config, events).run(rx));
        Ok((
            Self {
                commands,
                next_id: std::sync::atomic::AtomicU64::new(1),
                prefix: format!("{:016x}", rand::random::<u64>()),
            },
            events_rx,
        ))
    }

    /// Joins a room (and rejoins it after every reconnect).
    pub fn join(&self, room: RoomId) {
        let _ = self.commands.send(Command::Join(room));
    }

    /// Leaves a room.
    pub fn leave(&self, room: RoomId) {
        let _ = self.commands.send(Command::Leave(room));
    }

    /// Sends a message; returns its client message id. It is resent after
    /// reconnects until the server acknowledges or rejects it.
    pub fn send(&self, room: RoomId, text: impl Into<String>) -> ClientMessageId {
        self.send_with_attachments(room, text, Vec::new())
    }

    /// [`Client::send`] with attachments.
    pub fn send_with_attachments(
        &self,
        room: RoomId,
        text: impl Into<String>,
        attachments: Vec<Attachment>,
    ) -> ClientMessageId {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Generated ids are valid: hex and digits.
        let client_id: ClientMessageId = match format!("{}-{n}", self.prefix).parse() {
            Ok(id) => id,
            Err(_) => unreachable!("generated client ids are valid"),
        };
        let _ = self.commands.send(Command::Send(PendingSend {
            room,
            client_id: client_id.clone(),
            text: text.into(),
            attachments,
        }));
        client_id
    }

    /// Records the read position in a room.
    pub fn read(&self, room: RoomId, seq: Seq) {
        let _ = self.commands.send(Command::Read(room, seq));
    }

    /// Closes the connection and stops the task.
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Close);
    }
}

struct Session {
    config: ClientConfig,
    events: mpsc::UnboundedSender<Event>,
    nodes: Vec<String>,
    current: usize,
    rooms: HashMap<RoomId, RoomState>,
    unacked: Vec<PendingSend>,
    timeout: Duration,
}

enum Outcome {
    Reconnect(Option<u16>),
    Stop,
    GiveUp(String),
}

impl Session {
    fn new(config: ClientConfig, events: mpsc::UnboundedSender<Event>) -> Self {
        Self {
            nodes: config.nodes.clone(),
            config,
            events,
            current: 0,
            rooms: HashMap::new(),
            unacked: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }

    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        if self.nodes.is_empty() {
            self.refresh_nodes().await;
        }
        let mut first = true;
        loop {
            let Some(socket) = self.reconnect(first, &mut commands).await else {
                return;
            };
            first = false;
            match self.serve(socket, &mut commands).await {
                Outcome::Reconnect(code) => self.emit(Event::Disconnected { code }),
                Outcome::Stop => return,
                Outcome::GiveUp(reason) => {
                    self.emit(Event::GaveUp { reason });
                    return;
                }
            }
        }
    }

    /// Runs the tiers until a connection opens; `None` when giving up or closed.
    async fn reconnect(
        &mut self,
        first: bool,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Option<Socket> {
        // Tier 1: the same URL, with backoff (no wait before the very first try).
        for attempt in 0..self.config.same_url_attempts.max(1) {
            let wait_first = !first || attempt > 0;
            if wait_first
                && !self
                    .wait(self.config.backoff.delay(attempt), commands)
                    .await
            {
                return None;
            }
            let url = self.nodes.get(self.current)?.clone();
            self.emit(Event::Reconnecting {
                tier: 1,
                url: url.clone(),
            });
            if let Some(socket) = self.open(&url).await {
                return Some(socket);
            }
        }
        // Tier 2: the other cached nodes.
        for offset in 1..self.nodes.len() {
            let index = (self.current + offset) % self.nodes.len();
            let url = self.nodes[index].clone();
            self.emit(Event::Reconnecting {
                tier: 2,
                url: url.clone(),
            });
            if let Some(socket) = self.open(&url).await {
                self.current = index;
                return Some(socket);
            }
        }
        // Tier 3: a fresh node list.
        if self.refresh_nodes().await {
            for index in 0..self.nodes.len() {
                let url = self.nodes[index].clone();
                self.emit(Event::Reconnecting {
                    tier: 3,
                    url: url.clone(),
                });
                if let Some(socket) = self.open(&url).await {
                    self.current = index;
                    return Some(socket);
                }
            }
        }
        self.emit(Event::GaveUp {
            reason: "no node could be reached".into(),
        });
        None
    }

    /// Sleeps, unless the application closes the client meanwhile.
    async fn wait(
        &mut self,
        delay: Duration,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> bool {
        let deadline = Instant::now() + delay;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return true,
                command = commands.recv() => match command {
                    None | Some(Command::Close) => return false,
                    Some(command) => self.apply_offline(command),
                },
            }
        }
    }

    /// Records what the application asks while offline; it is sent on reconnect.
    fn apply_offline(&mut self, command: Command) {
        match command {
            Command::Join(room) => {
                self.rooms.entry(room).or_default();
            }
            Command::Leave(room) => {
                self.rooms.remove(&room);
            }
            Command::Send(send) => self.unacked.push(send),
            Command::Read(..) | Command::Close => {}
        }
    }

    async fn refresh_nodes(&mut self) -> bool {
        let Some(lbs) = &self.config.lbs_url else {
            return false;
        };
        #[derive(serde::Deserialize)]
        struct Node {
            url: String,
        }
        #[derive(serde::Deserialize)]
        struct Nodes {
            nodes: Vec<Node>,
        }
        let fetched = async {
            reqwest::get(lbs)
                .await?
                .error_for_status()?
                .json::<Nodes>()
                .await
        };
        match tokio::time::timeout(self.config.connect_timeout, fetched).await {
            Ok(Ok(list)) if !list.nodes.is_empty() => {
                self.nodes = list.nodes.into_iter().map(|n| n.url).collect();
                self.current = 0;
                true
            }
            Ok(Ok(_)) => false,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "node list unavailable");
                false
            }
            Err(_) => false,
        }
    }

    async fn open(&mut self, url: &str) -> Option<Socket> {
        let full = format!("{url}?v={PROTOCOL_VERSION}&token={}", self.config.token);
        match tokio::time::timeout(
            self.config.connect_timeout,
            // Nagle off: small frames (sends, pings) must not wait for the
            // server's delayed ACK of the previous one.
            tokio_tungstenite::connect_async_with_config(full, None, true),
        )
        .await
        {
            Ok(Ok((socket, _))) => {
                self.emit(Event::Connected {
                    url: url.to_owned(),
                });
                Some(socket)
            }
            Ok(Err(err)) => {
                tracing::debug!(%url, error = %err, "connect failed");
                None
            }
            Err(_) => None,
        }
    }

    async fn send_frame(socket: &mut Socket, frame: &ClientFrame) -> bool {
        match serde_json::to_string(frame) {
            Ok(text) => socket.send(WsMessage::Text(text.into())).await.is_ok(),
            Err(_) => false,
        }
    }

    async fn serve(
        &mut self,
        mut socket: Socket,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Outcome {
        // Resume: rejoin every room from where it was, resend what is unacked.
        let rooms: Vec<(RoomId, RoomState)> =
            self.rooms.iter().map(|(r, s)| (r.clone(), *s)).collect();
        for (room, state) in rooms {
            let frame = ClientFrame::Join {
                room,
                last_seq: state.last_seq,
                epoch: state.epoch,
            };
            if !Self::send_frame(&mut socket, &frame).await {
                return Outcome::Reconnect(None);
            }
        }
        for send in self.unacked.clone() {
            if !Self::send_frame(&mut socket, &send_frame(&send)).await {
                return Outcome::Reconnect(None);
            }
        }
        let mut last_seen = Instant::now();
        let mut check = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                frame = socket.next() => {
                    last_seen = Instant::now();
                    match frame {
                        None | Some(Err(_)) => return Outcome::Reconnect(None),
                        Some(Ok(WsMessage::Close(close_frame))) => {
                            let code = close_frame.map(|f| u16::from(f.code));
                            if matches!(code, Some(close::UNAUTHORIZED | close::SESSION_EXPIRED | close::UNSUPPORTED_VERSION)) {
                                return Outcome::GiveUp(format!("the server refused the session (close {code:?})"));
                            }
                            return Outcome::Reconnect(code);
                        }
                        Some(Ok(WsMessage::Text(text))) => {
                            if let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) {
                                self.on_frame(frame, &mut socket).await;
                            }
                        }
                        Some(Ok(_)) => {}
                    }
                }
                command = commands.recv() => {
                    let Some(command) = command else { return self.close(socket).await };
                    let frame = match command {
                        Command::Close => return self.close(socket).await,
                        Command::Join(room) => {
                            let state = *self.rooms.entry(room.clone()).or_default();
                            ClientFrame::Join { room, last_seq: state.last_seq, epoch: state.epoch }
                        }
                        Command::Leave(room) => {
                            self.rooms.remove(&room);
                            ClientFrame::Leave { room }
                        }
                        Command::Send(send) => {
                            let frame = send_frame(&send);
                            self.unacked.push(send);
                            frame
                        }
                        Command::Read(room, seq) => ClientFrame::Read { room, seq },
                    };
                    if !Self::send_frame(&mut socket, &frame).await {
                        return Outcome::Reconnect(None);
                    }
                }
                _ = check.tick() => {
                    // The server pings every heartbeat: silence means a dead link.
                    if last_seen.elapsed() > self.timeout {
                        return Outcome::Reconnect(None);
                    }
                }
            }
        }
    }

    async fn close(&self, mut socket: Socket) -> Outcome {
        let _ = socket
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "client closed".into(),
            }))
            .await;
        Outcome::Stop
    }

    fn advance(&mut self, messages: &[Message]) {
        for message in messages {
            let state = self.rooms.entry(message.room.clone()).or_default();
            state.last_seq = Some(state.last_seq.map_or(message.seq, |s| s.max(message.seq)));
        }
    }

    async fn on_frame(&mut self, frame: ServerFrame, socket: &mut Socket) {
        match frame {
            ServerFrame::Welcome { timeout_ms, .. } => {
                self.timeout = Duration::from_millis(timeout_ms);
            }
            ServerFrame::Joined {
                room,
                epoch,
                head_seq,
                status,
                messages,
                ..
            } => {
                let state = self.rooms.entry(room.clone()).or_default();
                if status == JoinStatus::Reset {
                    state.last_seq = None;
                }
                state.epoch = Some(epoch);
                if status == JoinStatus::TooFar {
                    // Rejoin from the newest page; the application pages the gap over HTTP.
                    state.last_seq = None;
                } else if state.last_seq.is_none() {
                    state.last_seq = Some(messages.last().map_or(head_seq, |m| m.seq));
                }
                self.advance(&messages);
                self.emit(Event::Joined {
                    room,
                    status,
                    epoch,
                    head_seq,
                });
                if !messages.is_empty() {
                    self.emit(Event::Messages(messages));
                }
            }
            ServerFrame::Batch { messages } => {
                self.advance(&messages);
                self.emit(Event::Messages(messages));
            }
            ServerFrame::History { messages, .. } => self.emit(Event::Messages(messages)),
            ServerFrame::Ack {
                client_id,
                seq,
                duplicate,
                ..
            } => {
                self.unacked.retain(|s| s.client_id != client_id);
                self.emit(Event::Acked {
                    client_id,
                    seq,
                    duplicate,
                });
            }
            ServerFrame::Rejected {
                client_id,
                reason,
                by,
                ..
            } => {
                self.unacked.retain(|s| s.client_id != client_id);
                self.emit(Event::Rejected {
                    client_id,
                    reason,
                    by,
                });
            }
            ServerFrame::Error {
                code,
                message,
                client_id,
            } => {
                // A refused send (too long, closed room, ...) is final; a
                // rate-limited one is retried on the next reconnect.
                if let Some(id) = &client_id
                    && code != ErrorCode::RateLimited
                    && code != ErrorCode::Internal
                {
                    self.unacked.retain(|s| s.client_id != *id);
                }
                self.emit(Event::Error {
                    code,
                    message,
                    client_id,
                });
            }
            ServerFrame::Alert { alert } => self.emit(Event::Alert(alert)),
            ServerFrame::Reset { room, .. } => {
                self.rooms.insert(room.clone(), RoomState::default());
                let frame = ClientFrame::Join {
                    room: room.clone(),
                    last_seq: None,
                    epoch: None,
                };
                let _ = Self::send_frame(socket, &frame).await;
                self.emit(Event::Reset { room });
            }
            ServerFrame::Pong { .. } | ServerFrame::Left { .. } => {}
        }
    }
}

fn send_frame(send: &PendingSend) -> ClientFrame {
    ClientFrame::Send {
        room: send.room.clone(),
        client_id: send.client_id.clone(),
        text: send.text.clone(),
        attachments: send.attachments.clone(),
    }
}

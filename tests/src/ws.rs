//! A raw WebSocket client for tests: JSON frames in, JSON frames out, and
//! close codes, exactly as on the wire.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for an expected frame.
pub const WAIT: Duration = Duration::from_secs(10);

/// What the server sent.
#[derive(Debug)]
pub enum Received {
    /// A JSON text frame.
    Frame(Value),
    /// A close frame with its code.
    Closed(u16, String),
    /// The stream ended without a close frame.
    Ended,
}

/// A test client.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// `batch` frames passed over while waiting for another kind (a
    /// client's own messages arrive before its ack), for `messages`.
    passed: std::collections::VecDeque<Value>,
}

impl WsClient {
    /// Connects to `base` (`http://127.0.0.1:PORT`) with `token`, and an
    /// optional `Origin` header.
    ///
    /// # Errors
    /// When the handshake fails (the error has the HTTP status).
    pub async fn connect(base: &str, token: &str, origin: Option<&str>) -> Result<Self, String> {
        Self::connect_query(base, &format!("v=1&token={token}"), origin).await
    }

    /// Connects with the handshake query `query` (`v=...&token=...`) as is;
    /// Nagle's algorithm is off, as in the real clients.
    ///
    /// # Errors
    /// When the handshake fails (the error has the HTTP status).
    pub async fn connect_query(
        base: &str,
        query: &str,
        origin: Option<&str>,
    ) -> Result<Self, String> {
        let url = format!("{}/ws?{query}", base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        if let Some(origin) = origin {
            request.headers_mut().insert(
                "origin",
                origin.parse().map_err(|_| "bad origin".to_owned())?,
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            stream,
            passed: std::collections::VecDeque::new(),
        })
    }

    /// Sends a JSON frame.
    ///
    /// # Panics
    /// When the socket is closed.
    pub async fn send(&mut self, frame: Value) {
        self.stream
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("send");
    }

    /// Sends `text` to `room` as `client_id` and returns the answer to it
    /// (`ack`, `rejected` or `error`), passing over anything else.
    ///
    /// # Panics
    /// When no answer comes within [`WAIT`].
    pub async fn say(&mut self, room: &str, client_id: &str, text: &str) -> Value {
        self.send(
            serde_json::json!({"type": "send", "room": room, "client_id": client_id, "text": text}),
        )
        .await;
        loop {
            let frame = self.expect_any(&["ack", "rejected", "error"]).await;
            if frame["client_id"] == client_id {
                return frame;
            }
        }
    }

    /// Sends raw frames (malformed input, binary).
    ///
    /// # Errors
    /// When the socket is closed.
    pub async fn send_raw(&mut self, message: Message) -> Result<(), String> {
        self.stream.send(message).await.map_err(|e| e.to_string())
    }

    /// The next frame, close or end, skipping pings; `None` on timeout.
    pub async fn next(&mut self, wait: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            return Some(match message {
                None => Received::Ended,
                Some(Err(_)) => Received::Ended,
                Some(Ok(Message::Text(text))) => {
                    Received::Frame(serde_json::from_str(&text).expect("server sends JSON"))
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    Received::Closed(code, reason)
                }
                Some(Ok(_)) => continue,
            });
        }
    }

    fn pass_over(&mut self, frame: Value) {
        if frame["type"] == "batch" {
            self.passed.push_back(frame);
        }
    }

    /// The next frame of type `kind`, skipping others; panics on timeout or close.
    ///
    /// # Panics
    /// When no such frame comes within [`WAIT`].
    pub async fn expect(&mut self, kind: &str) -> Value {
        loop {
            match self.next(WAIT).await {
                Some(Received::Frame(frame)) if frame["type"] == kind => return frame,
                Some(Received::Frame(frame)) => self.pass_over(frame),
                other => panic!("waiting for a {kind} frame, got {other:?}"),
            }
        }
    }

    /// The next frame of one of `kinds`, skipping others; panics on timeout.
    ///
    /// # Panics
    /// When none arrives within [`WAIT`].
    pub async fn expect_any(&mut self, kinds: &[&str]) -> Value {
        loop {
            match self.next(WAIT).await {
                Some(Received::Frame(f)) if kinds.iter().any(|k| f["type"] == *k) => return f,
                Some(Received::Frame(f)) => self.pass_over(f),
                other => panic!("waiting for one of {kinds:?}, got {other:?}"),
            }
        }
    }

    /// Chat messages from `batch` (and `joined`) frames until `count` have
    /// arrived; panics on timeout.
    ///
    /// # Panics
    /// When they do not arrive within [`WAIT`].
    pub async fn messages(&mut self, count: usize) -> Vec<Value> {
        let mut messages = Vec::new();
        while let Some(frame) = self.passed.pop_front() {
            messages.extend(frame["messages"].as_array().cloned().unwrap_or_default());
        }
        while messages.len() < count {
            match self.next(WAIT).await {
                Some(Received::Frame(frame))
                    if frame["type"] == "batch" || frame["type"] == "joined" =>
                {
                    messages.extend(frame["messages"].as_array().cloned().unwrap_or_default());
                }
                Some(Received::Frame(_)) => {}
                other => panic!(
                    "waiting for {count} messages (have {}), got {other:?}",
                    messages.len()
                ),
            }
        }
        messages
    }

    /// Waits for the server to close; returns the code.
    ///
    /// # Panics
    /// When no close comes within `wait`.
    pub async fn closed(&mut self, wait: Duration) -> u16 {
        loop {
            match self.next(wait).await {
                Some(Received::Closed(code, _)) => return code,
                Some(Received::Ended) => return 1006,
                Some(Received::Frame(_)) => {}
                None => panic!("the server did not close the connection"),
            }
        }
    }
}

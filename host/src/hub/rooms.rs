//! Room subscriptions and fan-out. A published message is serialised once
//! and the same `Arc<str>` is queued to every subscriber's outbox.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::{Notify, mpsc};

use crate::history::{Message, RoomId, Seq};

/// Id of one connection.
pub type ConnectionId = u64;

/// A published message, serialised once and shared by every subscriber.
#[derive(Debug)]
pub struct Published {
    /// Its room.
    pub room: RoomId,
    /// Its seq (the writer skips what the client already has).
    pub seq: Seq,
    /// The message as JSON.
    pub json: String,
}

/// One item of a connection's outbound queue; one pointer wide, so the
/// queue's blocks stay small on idle connections.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A chat message, merged into `batch` frames.
    Message(Arc<Published>),
    /// Any other frame, sent as is, after pending messages.
    Frame(Arc<str>),
}

/// The sending side of a connection's bounded outbound queue.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Outbound>,
    slow: AtomicBool,
    kicked: Notify,
}

impl Outbox {
    /// An outbox holding at most `capacity` items, and its receiving end.
    pub fn new(capacity: usize) -> (Arc<Self>, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            Arc::new(Self {
                tx,
                slow: AtomicBool::new(false),
                kicked: Notify::new(),
            }),
            rx,
        )
    }

    /// Queues an item without waiting. A full queue marks the connection as
    /// a slow consumer (it is closed and recovers by syncing); returns
    /// whether the item was queued.
    pub fn push(&self, item: Outbound) -> bool {
        if self.slow.load(Ordering::Relaxed) {
            return false;
        }
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.slow.store(true, Ordering::Relaxed);
                self.kicked.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Completes once the connection has been marked slow.
    pub async fn kicked(&self) {
        if self.slow.load(Ordering::Relaxed) {
            return;
        }
        self.kicked.notified().await;
    }
}

/// Who is subscribed to which room.
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: RwLock<HashMap<RoomId, HashMap<ConnectionId, Arc<Outbox>>>>,
    connections: AtomicUsize,
}

impl Rooms {
    /// Subscribes a connection to a room.
    pub fn join(&self, room: &RoomId, connection: ConnectionId, outbox: Arc<Outbox>) {
        let mut rooms = self
            .rooms
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rooms
            .entry(room.clone())
            .or_default()
            .insert(connection, outbox);
    }

    /// Unsubscribes a connection from a room.
    pub fn leave(&self, room: &RoomId, connection: ConnectionId) {
        let mut rooms = self
            .rooms
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(subscribers) = rooms.get_mut(room) {
            subscribers.remove(&connection);
            if subscribers.is_empty() {
                rooms.remove(room);
            }
        }
    }

    /// Queues `message` to every subscriber of its room; returns how many got it.
    pub fn publish(&self, message: &Message) -> usize {
        let rooms = self
            .rooms
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(subscribers) = rooms.get(&message.room) else {
            return 0;
        };
        let published = Arc::new(Published {
            room: message.room.clone(),
            seq: message.seq,
            json: serde_json::to_string(message).unwrap_or_default(),
        });
        subscribers
            .values()
            .filter(|outbox| outbox.push(Outbound::Message(published.clone())))
            .count()
    }

    /// Queues a frame to every subscriber of `room`.
    pub fn broadcast_frame(&self, room: &RoomId, frame: &str) {
        let frame: Arc<str> = frame.into();
        let rooms = self
            .rooms
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(subscribers) = rooms.get(room) {
            for outbox in subscribers.values() {
                outbox.push(Outbound::Frame(frame.clone()));
            }
        }
    }

    /// Counts a connection in or out (for LBS load figures).
    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// See [`Rooms::connection_opened`].
    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Open connections.
    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

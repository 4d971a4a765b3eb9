//! Room subscriptions and fan-out. A published message is serialised once
//! and the same `Arc<Published>` is queued to every subscriber's outbox.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use super::outbox::{Outbound, Outbox, Published};
use crate::history::{Message, RoomId};

/// Id of one connection.
pub type ConnectionId = u64;

/// Who is subscribed to which room.
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: RwLock<HashMap<RoomId, HashMap<ConnectionId, Arc<Outbox>>>>,
    connections: AtomicUsize,
}

impl Rooms {
    /// Subscribes a connection to a room; returns whether it was not
    /// subscribed yet.
    pub fn join(&self, room: &RoomId, connection: ConnectionId, outbox: Arc<Outbox>) -> bool {
        let mut rooms = self
            .rooms
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rooms
            .entry(room.clone())
            .or_default()
            .insert(connection, outbox)
            .is_none()
    }

    /// Unsubscribes a connection from a room; returns whether it was
    /// subscribed.
    pub fn leave(&self, room: &RoomId, connection: ConnectionId) -> bool {
        let mut rooms = self
            .rooms
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(subscribers) = rooms.get_mut(room) else {
            return false;
        };
        let was = subscribers.remove(&connection).is_some();
        if subscribers.is_empty() {
            rooms.remove(room);
        }
        was
    }

    /// Closes every subscriber of `room` as a slow consumer: each
    /// reconnects and syncs from its last seq (used when the messages it
    /// missed cannot be delivered live).
    pub fn resync(&self, room: &RoomId) {
        self.each_subscriber(room, |outbox| outbox.mark_slow());
    }

    fn each_subscriber(&self, room: &RoomId, mut f: impl FnMut(&Arc<Outbox>)) {
        let rooms = self
            .rooms
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(subscribers) = rooms.get(room) {
            subscribers.values().for_each(&mut f);
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
        let delivered = subscribers
            .values()
            .filter(|outbox| outbox.push(Outbound::Message(published.clone())))
            .count();
        crate::metrics::metrics()
            .hub_deliveries
            .inc_by(u64::try_from(delivered).unwrap_or(0));
        delivered
    }

    /// Queues a frame to every subscriber of `room`.
    pub fn broadcast_frame(&self, room: &RoomId, frame: &str) {
        let frame: Arc<str> = frame.into();
        self.each_subscriber(room, |outbox| {
            outbox.push(Outbound::Frame(frame.clone()));
        });
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

//! Delivery of each room's messages to this node's subscribers, in seq
//! order, each once, whichever node committed them.
//!
//! A room's messages reach a node from its own writers and, in a cluster,
//! from the broker, and two nodes may commit to one room side by side: seq
//! 5 committed here can arrive before seq 4 from another node. A connection
//! skips anything at or below the newest seq it delivered, so a late lower
//! seq would be lost. The relay keeps, per room with members here, the
//! newest seq delivered; a message past the next one first has the gap read
//! from the database (everything below a committed seq is committed: seqs
//! are taken in the room's row lock), a message at or below it is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Mutex as AsyncMutex;

use super::rooms::Rooms;
use crate::cluster::broker::{Broker, RoomEvent, Topic};
use crate::history::{HistoryError, HistoryStore, Message, RoomId, Seq};

/// The most messages a gap is filled with; past it the room's subscribers
/// are closed as slow consumers (they reconnect and sync from their last
/// seq: nothing is lost, only memory is bounded).
const MAX_GAP: u64 = 5_000;
/// Messages read from the database per page while filling a gap.
const GAP_PAGE: u32 = 500;
/// Attempts at reading a gap before the subscribers are sent to sync.
const GAP_ATTEMPTS: u32 = 3;

/// One watched room: the newest seq delivered here (`None` until the
/// first member's watch read it), and the room's broker subscription.
#[derive(Default)]
struct Cursor {
    head: Option<Seq>,
    subscription: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Cursor {
    fn drop(&mut self) {
        if let Some(task) = self.subscription.take() {
            task.abort();
        }
    }
}

/// A gap was not filled: the room's members were closed to sync.
struct Resynced;

struct Watch {
    members: usize,
    cursor: Arc<AsyncMutex<Cursor>>,
}

/// See the module documentation.
pub struct Relay {
    rooms: Arc<Rooms>,
    history: Arc<dyn HistoryStore>,
    broker: Option<Broker>,
    watched: Mutex<HashMap<RoomId, Watch>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("broker", &self.broker.is_some())
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A relay delivering to `rooms`, filling gaps from `history`, and
    /// exchanging rooms' events with the other nodes through `broker`.
    pub fn new(
        rooms: Arc<Rooms>,
        history: Arc<dyn HistoryStore>,
        broker: Option<Broker>,
    ) -> Arc<Self> {
        Arc::new(Self {
            rooms,
            history,
            broker,
            watched: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the broker is connected; `None` when this node is alone.
    pub fn broker_connected(&self) -> Option<bool> {
        self.broker.as_ref().map(Broker::is_connected)
    }

    fn cursor(&self, room: &RoomId) -> Option<Arc<AsyncMutex<Cursor>>> {
        let watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        watched.get(room).map(|w| w.cursor.clone())
    }

    /// A member joined `room` here: the first one subscribes the node to
    /// the room's events, then reads the room's head, before the member
    /// reads history; whatever is committed after that head is delivered
    /// live. Pair with [`Relay::unwatch`], also when this fails.
    ///
    /// # Errors
    /// The broker or the database failed.
    pub async fn watch(self: &Arc<Self>, room: &RoomId) -> Result<(), HistoryError> {
        let cursor = {
            let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
            let watch = watched.entry(room.clone()).or_insert_with(|| Watch {
                members: 0,
                cursor: Arc::new(AsyncMutex::new(Cursor::default())),
            });
            watch.members += 1;
            watch.cursor.clone()
        };
        let mut cursor = cursor.lock().await;
        if cursor.head.is_some() {
            return Ok(());
        }
        if let Some(broker) = &self.broker
            && cursor.subscription.is_none()
        {
            let events = broker
                .subscribe::<RoomEvent>(&Topic::Room(room.clone()))
                .await
                .map_err(|err| HistoryError::Failed(err.to_string()))?;
            let relay = self.clone();
            cursor.subscription = Some(tokio::spawn(async move {
                let mut events = events;
                while let Some(event) = events.recv().await {
                    relay.received(event).await;
                }
            }));
        }
        let head = self
            .history
            .head(room)
            .await?
            .map_or(0, |head| head.head_seq);
        cursor.head = Some(head);
        Ok(())
    }

    /// A member left `room` here; the last one unsubscribes the node.
    pub fn unwatch(&self, room: &RoomId) {
        let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(watch) = watched.get_mut(room) {
            watch.members = watch.members.saturating_sub(1);
            if watch.members == 0 {
                watched.remove(room);
            }
        }
    }

    /// How many rooms have members here.
    pub fn watched_count(&self) -> usize {
        self.watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Rooms with members here.
    pub fn watched_rooms(&self) -> Vec<RoomId> {
        let watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        watched.keys().cloned().collect()
    }

    /// A message committed on this node: to the other nodes, then to the
    /// members here.
    pub async fn committed(&self, message: &Message) {
        crate::metrics::metrics().hub_messages_stored.inc();
        if let Some(broker) = &self.broker {
            let event = RoomEvent::Message(message.clone());
            broker.publish(&event.topic(), &event).await;
        }
        self.deliver(message).await;
    }

    /// A frame about `room` (a reset) from this node: to the other nodes,
    /// then to the members here.
    pub async fn frame(&self, room: &RoomId, frame: String) {
        if let Some(broker) = &self.broker {
            let event = RoomEvent::Frame {
                room: room.clone(),
                frame: frame.clone(),
            };
            broker.publish(&event.topic(), &event).await;
        }
        self.rooms.broadcast_frame(room, &frame);
    }

    async fn received(&self, event: RoomEvent) {
        match event {
            RoomEvent::Message(message) => self.deliver(&message).await,
            RoomEvent::Frame { room, frame } => self.rooms.broadcast_frame(&room, &frame),
        }
    }

    /// Delivers `message` to the members here after any gap before it.
    async fn deliver(&self, message: &Message) {
        let Some(cursor) = self.cursor(&message.room) else {
            return;
        };
        let mut cursor = cursor.lock().await;
        let Some(head) = cursor.head else {
            // The watch that reads the head failed; its member leaves.
            return;
        };
        if message.seq <= head {
            return;
        }
        if message.seq > head + 1 {
            // Resynced members get the gap from their own sync.
            let _ = self.fill(&message.room, head, message.seq).await;
        }
        self.rooms.publish(message);
        cursor.head = Some(message.seq);
    }

    /// Delivers the committed messages after `head` and before `until`
    /// from the database; returns the last seq delivered, or `Resynced`
    /// when the gap was too large or unreadable and the members were sent
    /// to sync.
    async fn fill(&self, room: &RoomId, head: Seq, until: Seq) -> Result<Seq, Resynced> {
        let mut after = head;
        let mut attempt = 0;
        while after.saturating_add(1) < until {
            if after - head >= MAX_GAP {
                tracing::warn!(%room, delivered = after - head, "gap too large; members resync");
                self.rooms.resync(room);
                return Err(Resynced);
            }
            match self.history.page(room, after, until, GAP_PAGE, false).await {
                Ok(page) if page.is_empty() => break,
                Ok(page) => {
                    for message in &page {
                        self.rooms.publish(message);
                        after = message.seq;
                    }
                }
                Err(err) => {
                    attempt += 1;
                    if attempt >= GAP_ATTEMPTS {
                        tracing::warn!(%room, error = %err, "gap not readable; members resync");
                        self.rooms.resync(room);
                        return Err(Resynced);
                    }
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
            }
        }
        Ok(after)
    }

    /// Delivers what every watched room committed after its head: after the
    /// broker reconnects (events published meanwhile were lost to this
    /// node).
    pub async fn catch_up(&self) {
        for room in self.watched_rooms() {
            let Some(cursor) = self.cursor(&room) else {
                continue;
            };
            let mut cursor = cursor.lock().await;
            let Some(head) = cursor.head else {
                continue;
            };
            let last = match self.fill(&room, head, Seq::MAX).await {
                Ok(last) => last,
                // The members sync themselves; later messages go live.
                Err(Resynced) => match self.history.head(&room).await {
                    Ok(Some(now)) => now.head_seq,
                    _ => head,
                },
            };
            cursor.head = Some(last.max(head));
        }
    }
}

//! The broker between the nodes of a cluster (NATS): each room's events
//! (committed messages, resets) go to `PREFIX.room.ROOM`, and a node
//! subscribes to the rooms it has members in; deployment changes go to
//! `PREFIX.deploy`, alerts to `PREFIX.alerts`. NATS delivers at most once and in order
//! per publisher; what it loses, the relay reads back from the database
//! (see `hub::relay`).

use std::sync::Arc;

use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::history::{Message, RoomId};

/// Why the broker could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The first connection failed.
    #[error("cannot connect to the broker {url}: {reason}")]
    Connect {
        /// The broker's URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A subscription failed.
    #[error("broker subscription failed: {0}")]
    Subscribe(String),
}

/// An event about one room, shared with the other nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RoomEvent {
    /// A message committed.
    Message(Message),
    /// A frame for the room's members (a reset), as JSON.
    Frame {
        /// The room.
        room: RoomId,
        /// The frame.
        frame: String,
    },
}

impl RoomEvent {
    /// Its topic.
    pub fn topic(&self) -> Topic {
        match self {
            Self::Message(message) => Topic::Room(message.room.clone()),
            Self::Frame { room, .. } => Topic::Room(room.clone()),
        }
    }
}

/// What travels on the wire: the event and the node it comes from.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    node: String,
    event: T,
}

/// The longest a publish may wait for room in the client's queue.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// A connection to the cluster's broker.
#[derive(Debug, Clone)]
pub struct Broker {
    client: async_nats::Client,
    prefix: Arc<str>,
    node: Arc<str>,
    reconnected: Arc<Notify>,
    /// Set when an event of this node was dropped (the broker was gone or
    /// too slow): the other nodes are told to catch up once it is back.
    dropped: Arc<std::sync::atomic::AtomicBool>,
}

impl Broker {
    /// Connects to `url` as `node`, with subjects under `prefix`. The
    /// client reconnects by itself after a loss, without limit;
    /// [`Broker::missed`] tells when events may have been lost.
    ///
    /// # Errors
    /// The first connection failed.
    pub async fn connect(url: &str, prefix: &str, node: &str) -> Result<Self, BrokerError> {
        let reconnected = Arc::new(Notify::new());
        let signal = reconnected.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("hangar {node}"))
            .max_reconnects(None)
            .event_callback(move |event| {
                let signal = signal.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("broker connected");
                            signal.notify_one();
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("broker disconnected; reconnecting");
                        }
                        // This node read too slowly and the client dropped
                        // events: as after a reconnection, catch up.
                        async_nats::Event::SlowConsumer(subscription) => {
                            tracing::warn!(subscription, "broker events dropped; catching up");
                            signal.notify_one();
                        }
                        other => tracing::warn!(event = %other, "broker"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|err| BrokerError::Connect {
                url: url.to_owned(),
                reason: err.to_string(),
            })?;
        Ok(Self {
            client,
            prefix: prefix.into(),
            node: node.into(),
            reconnected,
            dropped: Arc::default(),
        })
    }

    /// Whether the client is connected now (it reconnects by itself).
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Completes when events may have been lost: at each (re)connection,
    /// and when the client dropped events this node read too slowly.
    pub async fn missed(&self) {
        self.reconnected.notified().await;
    }

    fn subject(&self, topic: &Topic) -> String {
        match topic {
            Topic::Room(room) => format!("{}.room.{room}", self.prefix),
            Topic::Deployments => format!("{}.deploy", self.prefix),
            Topic::Alerts => format!("{}.alerts", self.prefix),
            Topic::CatchUp => format!("{}.catch-up", self.prefix),
        }
    }

    /// Publishes `event` on `topic` to the other nodes. A failure is
    /// logged: each topic's readers recover what they miss from the
    /// database (see the callers).
    pub async fn publish<T: Serialize>(&self, topic: &Topic, event: &T) {
        let envelope = Envelope {
            node: self.node.to_string(),
            event,
        };
        let payload = match serde_json::to_vec(&envelope) {
            Ok(payload) => payload,
            Err(err) => {
                tracing::error!(error = %err, "event not encoded");
                return;
            }
        };
        // Never wait for the broker: a node's commits (the writer publishes
        // each one) must go on while it is gone. While disconnected the
        // client would queue events and then block; an event dropped here
        // is read back from the database by the readers' gap fill or their
        // catch-up after reconnecting.
        let dropped = || {
            self.dropped
                .store(true, std::sync::atomic::Ordering::Relaxed)
        };
        if !self.is_connected() {
            tracing::debug!("broker disconnected: event dropped");
            dropped();
            return;
        }
        let publish = self.client.publish(self.subject(topic), payload.into());
        match tokio::time::timeout(PUBLISH_WAIT, publish).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "event not published");
                dropped();
            }
            Err(_) => {
                tracing::warn!("broker too slow: event dropped");
                dropped();
            }
        }
    }

    /// Whether events of this node were dropped since the last call.
    pub fn take_dropped(&self) -> bool {
        self.dropped
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// The other nodes' events on `topic`, once the subscription is
    /// registered with the server (what they publish after this returns
    /// arrives).
    ///
    /// # Errors
    /// The broker refused the subscription or is unreachable.
    pub async fn subscribe<T: DeserializeOwned>(
        &self,
        topic: &Topic,
    ) -> Result<Events<T>, BrokerError> {
        let subscriber = self
            .client
            .subscribe(self.subject(topic))
            .await
            .map_err(|err| BrokerError::Subscribe(err.to_string()))?;
        self.client
            .flush()
            .await
            .map_err(|err| BrokerError::Subscribe(err.to_string()))?;
        Ok(Events {
            subscriber,
            node: self.node.clone(),
            kind: std::marker::PhantomData,
        })
    }
}

/// What the nodes tell each other about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// A room's events ([`RoomEvent`]), to the nodes with members in it.
    Room(RoomId),
    /// That the deployments changed (converge on the database).
    Deployments,
    /// Alerts raised, for the admins connected anywhere.
    Alerts,
    /// A node dropped events while the broker was gone: every node
    /// catches its watched rooms up from the database.
    CatchUp,
}

/// Events of one topic from the other nodes.
#[derive(Debug)]
pub struct Events<T> {
    subscriber: async_nats::Subscriber,
    node: Arc<str>,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Events<T> {
    /// The next event from another node; `None` when the subscription
    /// ended.
    pub async fn recv(&mut self) -> Option<T> {
        while let Some(message) = self.subscriber.next().await {
            match serde_json::from_slice::<Envelope<T>>(&message.payload) {
                Ok(envelope) if *envelope.node == *self.node => {}
                Ok(envelope) => return Some(envelope.event),
                Err(err) => tracing::warn!(error = %err, "undecodable event skipped"),
            }
        }
        None
    }
}

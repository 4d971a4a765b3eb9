//! The broker between the nodes of a cluster (NATS): each room's events
//! (committed messages, resets) go to `PREFIX.room.ROOM`; a node subscribes
//! to the rooms it has members in. NATS delivers at most once and in order
//! per publisher; what it loses, the relay reads back from the database
//! (see `hub::relay`).

use std::sync::Arc;

use futures_util::StreamExt as _;
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
    fn room(&self) -> &RoomId {
        match self {
            Self::Message(message) => &message.room,
            Self::Frame { room, .. } => room,
        }
    }
}

/// What travels on the wire: the event and the node it comes from.
#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    #[serde(flatten)]
    event: RoomEvent,
}

/// A connection to the cluster's broker.
#[derive(Debug, Clone)]
pub struct Broker {
    client: async_nats::Client,
    prefix: Arc<str>,
    node: Arc<str>,
    reconnected: Arc<Notify>,
}

impl Broker {
    /// Connects to `url` as `node`, with subjects under `prefix`. The
    /// client reconnects by itself after a loss, without limit;
    /// [`Broker::reconnected`] tells when.
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
        })
    }

    /// Completes at the next (re)connection.
    pub async fn reconnected(&self) {
        self.reconnected.notified().await;
    }

    fn room_subject(&self, room: &RoomId) -> String {
        format!("{}.room.{room}", self.prefix)
    }

    /// Publishes `event` to the other nodes. A failure is logged: the
    /// other nodes read what they missed from the database.
    pub async fn publish(&self, event: &RoomEvent) {
        let envelope = Envelope {
            node: self.node.to_string(),
            event: event.clone(),
        };
        let payload = match serde_json::to_vec(&envelope) {
            Ok(payload) => payload,
            Err(err) => {
                tracing::error!(error = %err, "room event not encoded");
                return;
            }
        };
        if let Err(err) = self
            .client
            .publish(self.room_subject(event.room()), payload.into())
            .await
        {
            tracing::warn!(error = %err, "room event not published");
        }
    }

    fn deploy_subject(&self) -> String {
        format!("{}.deploy", self.prefix)
    }

    /// Tells the other nodes the deployments changed (they converge on
    /// what the database holds). A failure is logged: nodes also converge
    /// periodically.
    pub async fn publish_deploy(&self) {
        let payload = self.node.as_bytes().to_vec();
        if let Err(err) = self
            .client
            .publish(self.deploy_subject(), payload.into())
            .await
        {
            tracing::warn!(error = %err, "deployment change not published");
        }
    }

    /// Changes made on the other nodes.
    ///
    /// # Errors
    /// The broker refused the subscription or is unreachable.
    pub async fn subscribe_deploys(&self) -> Result<DeployEvents, BrokerError> {
        let subscriber = self
            .client
            .subscribe(self.deploy_subject())
            .await
            .map_err(|err| BrokerError::Subscribe(err.to_string()))?;
        Ok(DeployEvents {
            subscriber,
            node: self.node.clone(),
        })
    }

    /// The other nodes' events about `room`, once the subscription is
    /// registered with the server (what they publish after this returns
    /// arrives).
    ///
    /// # Errors
    /// The broker refused the subscription or is unreachable.
    pub async fn subscribe_room(&self, room: &RoomId) -> Result<RoomEvents, BrokerError> {
        let subscriber = self
            .client
            .subscribe(self.room_subject(room))
            .await
            .map_err(|err| BrokerError::Subscribe(err.to_string()))?;
        self.client
            .flush()
            .await
            .map_err(|err| BrokerError::Subscribe(err.to_string()))?;
        Ok(RoomEvents {
            subscriber,
            node: self.node.clone(),
        })
    }
}

/// Signals that another node changed the deployments.
#[derive(Debug)]
pub struct DeployEvents {
    subscriber: async_nats::Subscriber,
    node: Arc<str>,
}

impl DeployEvents {
    /// Completes at the next change made on another node; `None` when the
    /// subscription ended.
    pub async fn recv(&mut self) -> Option<()> {
        while let Some(message) = self.subscriber.next().await {
            if *message.payload != *self.node.as_bytes() {
                return Some(());
            }
        }
        None
    }
}

/// A room's events from the other nodes.
#[derive(Debug)]
pub struct RoomEvents {
    subscriber: async_nats::Subscriber,
    node: Arc<str>,
}

impl RoomEvents {
    /// The next event from another node; `None` when the subscription
    /// ended.
    pub async fn recv(&mut self) -> Option<RoomEvent> {
        while let Some(message) = self.subscriber.next().await {
            match serde_json::from_slice::<Envelope>(&message.payload) {
                Ok(envelope) if *envelope.node == *self.node => {}
                Ok(envelope) => return Some(envelope.event),
                Err(err) => tracing::warn!(error = %err, "undecodable room event skipped"),
            }
        }
        None
    }
}

//! Alerts: raised by plugins (flags) and by the runtime (quarantine), stored
//! and broadcast live to whoever listens (the hub's admin connections).

pub use hangar_client::protocol::{Alert, AlertKind, Severity};
use tokio::sync::broadcast;

use crate::cluster::broker::{Broker, BrokerError, Topic};

use super::{Database, StoreError, now_ms};

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// How serious.
    pub severity: Severity,
    /// What raised it.
    pub kind: AlertKind,
    /// The plugin (or component of the host) it is about.
    pub source: String,
    /// What happened, for the admin.
    pub reason: String,
    /// The room of the message, when a message caused it.
    pub room: Option<String>,
    /// The message, when a message caused it.
    pub message_id: Option<String>,
}

type AlertRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Stores alerts and broadcasts each one as it is raised.
#[derive(Debug, Clone)]
pub struct Alerts {
    db: Database,
    live: broadcast::Sender<Alert>,
    /// In a cluster: alerts raised here go to the other nodes' admins too.
    broker: std::sync::Arc<std::sync::OnceLock<Broker>>,
}

impl Alerts {
    /// Alerts stored in `db`.
    pub fn new(db: Database) -> Self {
        let (live, _) = broadcast::channel(256);
        Self {
            db,
            live,
            broker: std::sync::Arc::default(),
        }
    }

    /// Shares live alerts with the other nodes of a cluster: those raised
    /// here are published, those raised elsewhere reach the admins
    /// connected here. An alert the broker loses is still stored (and
    /// listed by `GET /api/admin/alerts` on every node).
    ///
    /// # Errors
    /// The broker refused the subscription.
    pub async fn join_cluster(&self, broker: Broker) -> Result<(), BrokerError> {
        let mut events = broker.subscribe::<Alert>(&Topic::Alerts).await?;
        let live = self.live.clone();
        tokio::spawn(async move {
            while let Some(alert) = events.recv().await {
                let _ = live.send(alert);
            }
        });
        let _ = self.broker.set(broker);
        Ok(())
    }

    /// Stores an alert, then broadcasts it.
    ///
    /// # Errors
    /// When the insert fails; nothing is broadcast then.
    pub async fn raise(&self, alert: NewAlert) -> Result<Alert, StoreError> {
        let created_ms = now_ms();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO alerts (created_ms, severity, source, kind, reason, room, message_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(created_ms)
        .bind(alert.severity.as_str())
        .bind(&alert.source)
        .bind(alert.kind.as_str())
        .bind(&alert.reason)
        .bind(&alert.room)
        .bind(&alert.message_id)
        .fetch_one(self.db.pool())
        .await?;
        let stored = Alert {
            id,
            created_ms,
            severity: alert.severity,
            kind: alert.kind,
            source: alert.source,
            reason: alert.reason,
            room: alert.room,
            message_id: alert.message_id,
        };
        // Nobody listening is fine: the alert is stored.
        let _ = self.live.send(stored.clone());
        if let Some(broker) = self.broker.get() {
            broker.publish(&Topic::Alerts, &stored).await;
        }
        Ok(stored)
    }

    /// Receives every alert raised from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Alert> {
        self.live.subscribe()
    }

    /// The newest alerts first, at most `limit`, older than `before_id` when
    /// given, of `severity` when given.
    ///
    /// # Errors
    /// When the query fails.
    pub async fn list(
        &self,
        before_id: Option<i64>,
        limit: u32,
        severity: Option<Severity>,
    ) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<AlertRow> = sqlx::query_as(
            "SELECT id, created_ms, severity, source, kind, reason, room, message_id
             FROM alerts WHERE id < $1 AND ($2 IS NULL OR severity = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(severity.map(Severity::as_str))
        .bind(severity.map(Severity::as_str))
        .bind(i64::from(limit))
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, created_ms, severity, source, kind, reason, room, message_id)| Alert {
                    id,
                    created_ms,
                    severity: Severity::parse(&severity),
                    kind: AlertKind::parse(&kind),
                    source,
                    reason,
                    room,
                    message_id,
                },
            )
            .collect())
    }
}

//! Administration across a cluster. Every admin change is saved in the
//! shared database first; the node that made it then tells the others over
//! the broker, and each node converges: it brings its own plugins to the
//! saved deployments (fetching and verifying the digest itself, compiling
//! if its cache lacks it, hot-swapping with no call dropped) and records
//! the version it runs, or why it could not, in `node_plugins`. Nodes also
//! converge every [`CONVERGE_EVERY`], so a missed signal (a broker outage)
//! only delays a change.
//!
//! Quarantine stays per node: a plugin quarantined on one node (its calls
//! failed there) keeps serving on the others until they see failures of
//! their own; an admin's disable or enable applies everywhere.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use hangar_registry::{Digest, PluginName};
use serde::Serialize;

use super::saved::{self, Deployment};
use super::{DeployError, Deployer};
use crate::cluster::broker::{Broker, Topic};
use crate::cluster::nodes::Nodes;
use crate::plugins::PluginSettings;
use crate::store::now_ms;

/// How long an activation or rollback waits for every live node to apply
/// it before answering with the nodes that did not.
pub const APPLY_WAIT: Duration = Duration::from_secs(30);

/// How often a node converges without a signal.
pub const CONVERGE_EVERY: Duration = Duration::from_secs(15);

/// This node's place in a cluster, as the deployer sees it.
#[derive(Debug, Clone)]
pub struct ClusterLink {
    /// The broker that carries change signals.
    pub broker: Broker,
    /// The node list (this node's id, the live nodes).
    pub nodes: Nodes,
}

/// One node's state of one plugin.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodePlugin {
    /// The node.
    pub node: String,
    /// The version it runs.
    pub version: String,
    /// Its digest.
    pub digest: String,
    /// Why it could not run the saved version, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it last applied a change (ms since the epoch).
    pub applied_ms: i64,
    /// Whether it runs the saved version.
    pub current: bool,
}

/// One deployed plugin across the cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterPlugin {
    /// Plugin.
    pub name: String,
    /// The saved (wanted) version.
    pub version: String,
    /// Its digest.
    pub digest: String,
    /// Each live node's state.
    pub nodes: Vec<NodePlugin>,
    /// Live nodes that do not run the saved version.
    pub lagging: Vec<String>,
}

impl Deployer {
    /// Follows the cluster: converges on every signal from another node
    /// and every [`CONVERGE_EVERY`].
    pub fn follow_cluster(&self) {
        let Some(link) = self.cluster.clone() else {
            return;
        };
        let deployer = self.clone();
        tokio::spawn(async move {
            let mut events = match link.broker.subscribe::<()>(&Topic::Deployments).await {
                Ok(events) => Some(events),
                Err(err) => {
                    tracing::warn!(error = %err, "deployment signals not followed; converging periodically only");
                    None
                }
            };
            let mut tick = tokio::time::interval(CONVERGE_EVERY);
            loop {
                match &mut events {
                    Some(signals) => tokio::select! {
                        signal = signals.recv() => if signal.is_none() { events = None },
                        _ = tick.tick() => {}
                    },
                    None => {
                        tick.tick().await;
                    }
                }
                if let Err(err) = deployer.converge().await {
                    tracing::warn!(error = %err, "could not converge on the saved deployments");
                }
            }
        });
    }

    /// After an admin change saved here: record this node's state and tell
    /// the other nodes.
    pub(super) async fn changed(&self) {
        let Some(link) = &self.cluster else {
            return;
        };
        if let Err(err) = self.converge().await {
            tracing::warn!(error = %err, "could not record this node's plugins");
        }
        link.broker.publish(&Topic::Deployments, &()).await;
    }

    /// Brings this node's plugins and chains to the saved deployments and
    /// records what it runs. Returns the plugins that changed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn converge(&self) -> Result<Vec<PluginName>, DeployError> {
        let _one_at_a_time = self.converging.lock().await;
        let mut changed = Vec::new();
        let mut policies = HashMap::new();
        for saved in saved::load_all(&self.db).await? {
            let settings = self.settings_of(&saved);
            policies.insert(saved.name.clone(), settings.failure_policy);
            let error = match self.converge_one(&saved, settings).await {
                Ok(true) => {
                    changed.push(saved.name.clone());
                    None
                }
                Ok(false) => None,
                Err(err) => {
                    tracing::warn!(plugin = %saved.name, version = %saved.version, error = %err, "could not apply the saved deployment");
                    Some(err.to_string())
                }
            };
            self.record(&saved.name, error).await?;
        }
        self.restore_chains(&policies, true).await?;
        Ok(changed)
    }

    /// Applies one saved deployment; returns whether anything changed.
    async fn converge_one(
        &self,
        saved: &Deployment,
        settings: PluginSettings,
    ) -> Result<bool, DeployError> {
        let Some(plugin) = self.runtime.get(&saved.name) else {
            self.restore_one(saved, settings).await?;
            return Ok(true);
        };
        let mut changed = false;
        if plugin.active().digest != saved.digest {
            // Hot swap: calls in flight finish on the old version.
            self.restore_one(saved, settings.clone()).await?;
            changed = true;
        }
        let current = plugin.settings();
        if *current != settings {
            plugin.set_settings(settings.clone());
            if settings.enabled && !current.enabled {
                plugin.reset_health();
            }
            changed = true;
        }
        if *plugin.config() != saved.config {
            plugin.set_config(Arc::new(saved.config.clone()));
            changed = true;
        }
        Ok(changed)
    }

    /// Records the version this node runs of `name`.
    async fn record(&self, name: &PluginName, error: Option<String>) -> Result<(), DeployError> {
        let Some(link) = &self.cluster else {
            return Ok(());
        };
        let (version, digest) = match self.runtime.get(name) {
            Some(plugin) => {
                let active = plugin.active();
                (active.version.to_string(), active.digest.to_string())
            }
            None => (String::new(), String::new()),
        };
        sqlx::query(
            "INSERT INTO node_plugins (node, plugin, version, digest, error, applied_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (node, plugin) DO UPDATE SET version = excluded.version,
                 digest = excluded.digest, error = excluded.error, applied_ms = excluded.applied_ms",
        )
        .bind(link.nodes.id())
        .bind(name.as_str())
        .bind(version)
        .bind(digest)
        .bind(error)
        .bind(now_ms())
        .execute(self.db.pool())
        .await
        .map_err(crate::store::StoreError::from)?;
        Ok(())
    }

    /// What each live node runs of `name`, against `saved` (the digest
    /// every node should run). Empty when this node is alone.
    ///
    /// # Errors
    /// The database failed.
    pub async fn nodes_of(
        &self,
        name: &PluginName,
        saved: Digest,
    ) -> Result<Vec<NodePlugin>, DeployError> {
        let Some(link) = &self.cluster else {
            return Ok(Vec::new());
        };
        let live = link.nodes.live().await?;
        let rows: Vec<(String, String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT node, version, digest, error, applied_ms FROM node_plugins WHERE plugin = $1",
        )
        .bind(name.as_str())
        .fetch_all(self.db.pool())
        .await
        .map_err(crate::store::StoreError::from)?;
        let mut by_node: HashMap<String, NodePlugin> = rows
            .into_iter()
            .map(|(node, version, digest, error, applied_ms)| {
                let current = Digest::from_str(&digest).ok() == Some(saved);
                (
                    node.clone(),
                    NodePlugin {
                        node,
                        version,
                        digest,
                        error,
                        applied_ms,
                        current,
                    },
                )
            })
            .collect();
        // Every live node, even one that never recorded this plugin.
        Ok(live
            .into_iter()
            .map(|node| {
                by_node.remove(&node.id).unwrap_or(NodePlugin {
                    node: node.id,
                    version: String::new(),
                    digest: String::new(),
                    error: None,
                    applied_ms: 0,
                    current: false,
                })
            })
            .collect())
    }

    /// For each saved deployment: its saved version and what each live
    /// node runs of it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cluster_view(&self) -> Result<Vec<ClusterPlugin>, DeployError> {
        let mut view = Vec::new();
        for saved in saved::load_all(&self.db).await? {
            let nodes = self.nodes_of(&saved.name, saved.digest).await?;
            view.push(ClusterPlugin {
                lagging: nodes
                    .iter()
                    .filter(|n| !n.current)
                    .map(|n| n.node.clone())
                    .collect(),
                name: saved.name.to_string(),
                version: saved.version,
                digest: saved.digest.to_string(),
                nodes,
            });
        }
        Ok(view)
    }

    /// Waits until every live node runs `digest` of `name` or reported an
    /// error since `since_ms`, or until [`APPLY_WAIT`] passes; returns each
    /// live node's state (empty when this node is alone).
    ///
    /// # Errors
    /// The database failed.
    pub(super) async fn await_nodes(
        &self,
        name: &PluginName,
        digest: Digest,
        since_ms: i64,
    ) -> Result<Vec<NodePlugin>, DeployError> {
        let deadline = tokio::time::Instant::now() + APPLY_WAIT;
        loop {
            let nodes = self.nodes_of(name, digest).await?;
            let settled = nodes
                .iter()
                .all(|n| n.current || (n.error.is_some() && n.applied_ms >= since_ms));
            if settled || tokio::time::Instant::now() >= deadline {
                return Ok(nodes);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

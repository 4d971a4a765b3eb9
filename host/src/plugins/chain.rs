//! Chains: the ordered plugins that run at one hook point.
//!
//! Rules: plugins run in the admin's order; the first reject stops the
//! chain; a rewrite feeds its text to the next plugin; flags and bot replies
//! accumulate (replies capped in number and size). A plugin that gives no
//! answer (failure, timeout, quarantine) is answered by its failure policy:
//! `fail-open` goes on as if it allowed, `fail-closed` rejects. A disabled
//! plugin is skipped.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;

use super::bindings::wit;
use super::component::World;
use super::name::PluginName;
use super::plugin::{Plugin, Unanswered};
use crate::store::alerts::Severity;

/// A hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    /// Every chat message, before it is stored.
    ChatMessages,
    /// Every upload, when it completes.
    Uploads,
}

impl Hook {
    /// Every hook point.
    pub const ALL: [Self; 2] = [Self::ChatMessages, Self::Uploads];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatMessages => "chat-messages",
            Self::Uploads => "uploads",
        }
    }

    /// The hook called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == name)
    }

    /// The world its plugins export.
    pub fn world(self) -> World {
        match self {
            Self::ChatMessages => World::ChatPlugin,
            Self::Uploads => World::UploadHook,
        }
    }
}

/// Caps on the bot replies one message may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Replies kept per message, over all plugins; later ones are dropped.
    pub max_replies: usize,
    /// Longest reply kept, in bytes; longer ones are dropped.
    pub max_reply_bytes: usize,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        Self {
            max_replies: 5,
            max_reply_bytes: 4000,
        }
    }
}

/// Why a chain order was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// No such plugin is installed.
    #[error("no plugin named {0} is installed")]
    Unknown(PluginName),
    /// The plugin exports another world.
    #[error("plugin {plugin} is a {found} plugin; the {hook:?} chain takes {wanted} plugins")]
    WrongWorld {
        /// The plugin.
        plugin: PluginName,
        /// What it exports.
        found: World,
        /// The chain.
        hook: Hook,
        /// What the chain takes.
        wanted: World,
    },
    /// The same plugin twice.
    #[error("plugin {0} appears twice in the chain")]
    Duplicate(PluginName),
}

/// A plugin's rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Who rejected.
    pub by: PluginName,
    /// Why, as shown to the sender.
    pub reason: String,
}

/// A plugin's flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Who flagged.
    pub by: PluginName,
    /// How serious.
    pub severity: Severity,
    /// Why.
    pub reason: String,
}

/// A bot reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The bot (plugin) replying.
    pub by: PluginName,
    /// The reply.
    pub text: String,
}

/// What a chain decided about one message.
#[derive(Debug, Clone, Default)]
pub struct MessageDecision {
    /// The text to store: the original, or the last rewrite.
    pub text: String,
    /// Plugins that rewrote the text, in order.
    pub rewritten_by: Vec<PluginName>,
    /// Set when the message must not be stored.
    pub rejected: Option<Rejection>,
    /// Alerts to raise.
    pub flags: Vec<Flag>,
    /// Bot replies to send after the message.
    pub replies: Vec<Reply>,
    /// Plugins that gave no answer of their own.
    pub unanswered: Vec<Unanswered>,
}

/// What a chain decided about one upload.
#[derive(Debug, Clone, Default)]
pub struct UploadDecision {
    /// Set when the file must not be registered.
    pub rejected: Option<Rejection>,
    /// Alerts to raise.
    pub flags: Vec<Flag>,
    /// Plugins that gave no answer of their own.
    pub unanswered: Vec<Unanswered>,
}

/// The plugins of one hook point, in order.
pub struct Chain {
    hook: Hook,
    replies: ReplyLimits,
    plugins: ArcSwap<Vec<Arc<Plugin>>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("hook", &self.hook)
            .field("order", &self.order())
            .finish()
    }
}

fn severity(s: wit::Severity) -> Severity {
    match s {
        wit::Severity::Info => Severity::Info,
        wit::Severity::Warning => Severity::Warning,
        wit::Severity::Critical => Severity::Critical,
    }
}

/// The rejection a plugin's failure policy gives when it had no answer.
fn policy_rejection(plugin: &Plugin, why: &Unanswered) -> Option<Rejection> {
    match why {
        Unanswered::Disabled(_) => None,
        _ if plugin.fails_closed() => Some(Rejection {
            by: plugin.name().clone(),
            reason: format!("could not be checked ({why}); try again later"),
        }),
        _ => None,
    }
}

impl Chain {
    pub(super) fn new(hook: Hook, replies: ReplyLimits) -> Self {
        Self {
            hook,
            replies,
            plugins: ArcSwap::from_pointee(Vec::new()),
        }
    }

    pub(super) fn set(&self, plugins: Vec<Arc<Plugin>>) -> Result<(), ChainError> {
        for (i, plugin) in plugins.iter().enumerate() {
            if plugin.world() != self.hook.world() {
                return Err(ChainError::WrongWorld {
                    plugin: plugin.name().clone(),
                    found: plugin.world(),
                    hook: self.hook,
                    wanted: self.hook.world(),
                });
            }
            if plugins[..i].iter().any(|p| p.name() == plugin.name()) {
                return Err(ChainError::Duplicate(plugin.name().clone()));
            }
        }
        self.plugins.store(Arc::new(plugins));
        Ok(())
    }

    /// The plugins, in order.
    pub fn order(&self) -> Vec<PluginName> {
        self.plugins
            .load()
            .iter()
            .map(|p| p.name().clone())
            .collect()
    }

    /// Runs a chat message through the chain.
    pub async fn on_message(&self, msg: wit::ChatMessage) -> MessageDecision {
        let plugins = self.plugins.load_full();
        let mut decision = MessageDecision {
            text: msg.text.clone(),
            ..MessageDecision::default()
        };
        let mut msg = msg;
        for plugin in plugins.iter() {
            let input = msg.clone();
            let answer = plugin
                .invoke(move |exports, store| Ok(exports.chat()?.call_on_message(store, &input)))
                .await;
            let outcome = match answer {
                Ok(outcome) => outcome,
                Err(why) => {
                    decision.rejected = policy_rejection(plugin, &why);
                    decision.unanswered.push(why);
                    if decision.rejected.is_some() {
                        break;
                    }
                    continue;
                }
            };
            let by = plugin.name();
            match outcome.verdict {
                wit::Verdict::Allow => {}
                wit::Verdict::Rewrite(text) => {
                    msg.text.clone_from(&text);
                    decision.text = text;
                    decision.rewritten_by.push(by.clone());
                }
                wit::Verdict::Reject(reason) => {
                    decision.rejected = Some(Rejection {
                        by: by.clone(),
                        reason,
                    });
                    break;
                }
                wit::Verdict::Flag(alert) => decision.flags.push(Flag {
                    by: by.clone(),
                    severity: severity(alert.severity),
                    reason: alert.reason,
                }),
            }
            for reply in outcome.replies {
                if decision.replies.len() >= self.replies.max_replies {
                    tracing::warn!(plugin = %by, "bot reply dropped: too many replies to one message");
                    break;
                }
                if reply.text.len() > self.replies.max_reply_bytes || reply.text.is_empty() {
                    tracing::warn!(plugin = %by, bytes = reply.text.len(), "bot reply dropped: empty or too long");
                    continue;
                }
                decision.replies.push(Reply {
                    by: by.clone(),
                    text: reply.text,
                });
            }
        }
        if decision.rejected.is_some() {
            decision.replies.clear();
        }
        decision
    }

    /// Runs a completed upload through the chain.
    pub async fn on_upload(&self, file: wit::FileInfo, head: Vec<u8>) -> UploadDecision {
        let plugins = self.plugins.load_full();
        let mut decision = UploadDecision::default();
        let head: Arc<[u8]> = head.into();
        for plugin in plugins.iter() {
            let (file, head) = (file.clone(), head.clone());
            let answer = plugin
                .invoke(move |exports, store| {
                    Ok(exports.upload()?.call_on_upload(store, &file, &head))
                })
                .await;
            match answer {
                Ok(wit::Verdict::Allow | wit::Verdict::Rewrite(_)) => {}
                Ok(wit::Verdict::Reject(reason)) => {
                    decision.rejected = Some(Rejection {
                        by: plugin.name().clone(),
                        reason,
                    });
                    break;
                }
                Ok(wit::Verdict::Flag(alert)) => decision.flags.push(Flag {
                    by: plugin.name().clone(),
                    severity: severity(alert.severity),
                    reason: alert.reason,
                }),
                Err(why) => {
                    decision.rejected = policy_rejection(plugin, &why);
                    decision.unanswered.push(why);
                    if decision.rejected.is_some() {
                        break;
                    }
                }
            }
        }
        decision
    }
}

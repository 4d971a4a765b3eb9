//! Chains: the ordered plugins that run at one hook point.
//!
//! Rules: plugins run in the admin's order; the first reject stops the
//! chain; a rewrite feeds its text to the next plugin; flags and bot replies
//! accumulate. A plugin that gives no answer (failure, timeout, quarantine,
//! overload, or not loaded at all) is answered by its failure policy:
//! `fail-open` goes on as if it allowed, `fail-closed` rejects. A disabled
//! plugin is skipped.
//!
//! Answers have budgets ([`OutputLimits`]): rewritten text and replies no
//! longer than the hub's text limit, reasons no longer than
//! `max_reason_bytes`, at most `max_replies` replies. An answer over any of
//! them is a failure of the plugin (counted, its policy applied), never cut
//! short.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;

use super::bindings::wit;
use super::component::CallFailure;
use super::component::World;
use super::name::PluginName;
use super::plugin::{FailurePolicy, Plugin, Unanswered};
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

/// Budgets on what one chat or upload plugin may answer
/// (`[runtime.output]` in `hangar.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutputLimits {
    /// Most bot replies one plugin may give to one message.
    pub max_replies: usize,
    /// Longest rewritten text or reply, in bytes: the hub's text limit,
    /// set from `hub.max_text_bytes`.
    #[serde(skip)]
    pub max_text_bytes: usize,
    /// Longest reject or flag reason, in bytes.
    pub max_reason_bytes: usize,
}

/// Longest reject or flag reason by default, bytes.
pub const DEFAULT_MAX_REASON_BYTES: usize = 1024;

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            max_replies: 5,
            max_text_bytes: 4000,
            max_reason_bytes: DEFAULT_MAX_REASON_BYTES,
        }
    }
}

impl OutputLimits {
    fn reason(&self, what: &str, reason: &str) -> Result<(), CallFailure> {
        if reason.len() > self.max_reason_bytes {
            return Err(CallFailure::OverBudget(format!(
                "{what} reason of {} bytes; the limit is {}",
                reason.len(),
                self.max_reason_bytes
            )));
        }
        Ok(())
    }

    fn verdict(&self, verdict: &wit::Verdict) -> Result<(), CallFailure> {
        match verdict {
            wit::Verdict::Allow => Ok(()),
            wit::Verdict::Rewrite(text) if text.len() > self.max_text_bytes => {
                Err(CallFailure::OverBudget(format!(
                    "rewritten text of {} bytes; the limit is {}",
                    text.len(),
                    self.max_text_bytes
                )))
            }
            wit::Verdict::Rewrite(_) => Ok(()),
            wit::Verdict::Reject(reason) => self.reason("reject", reason),
            wit::Verdict::Flag(alert) => self.reason("flag", &alert.reason),
        }
    }

    /// Checks a chat plugin's answer against every budget.
    ///
    /// # Errors
    /// [`CallFailure::OverBudget`] naming the budget broken.
    pub fn outcome(&self, outcome: &wit::Outcome) -> Result<(), CallFailure> {
        self.verdict(&outcome.verdict)?;
        if outcome.replies.len() > self.max_replies {
            return Err(CallFailure::OverBudget(format!(
                "{} replies; the limit is {}",
                outcome.replies.len(),
                self.max_replies
            )));
        }
        if let Some(reply) = outcome
            .replies
            .iter()
            .find(|r| r.text.len() > self.max_text_bytes)
        {
            return Err(CallFailure::OverBudget(format!(
                "a reply of {} bytes; the limit is {}",
                reply.text.len(),
                self.max_text_bytes
            )));
        }
        Ok(())
    }
}

/// A place in a chain: an installed plugin, or the name of one that could
/// not be loaded, with its failure policy.
enum Link {
    Plugin(Arc<Plugin>),
    Unavailable(PluginName, FailurePolicy),
}

impl Link {
    fn policy(&self) -> FailurePolicy {
        match self {
            Self::Plugin(plugin) => plugin.settings().failure_policy,
            Self::Unavailable(_, policy) => *policy,
        }
    }

    fn name(&self) -> &PluginName {
        match self {
            Self::Plugin(plugin) => plugin.name(),
            Self::Unavailable(name, _) => name,
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
    links: ArcSwap<Vec<Link>>,
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

/// The rejection a failure policy gives when its plugin had no answer.
fn policy_rejection(
    name: &PluginName,
    policy: FailurePolicy,
    why: &Unanswered,
) -> Option<Rejection> {
    match why {
        Unanswered::Disabled(_) => None,
        _ if policy == FailurePolicy::FailClosed => Some(Rejection {
            by: name.clone(),
            reason: format!("could not be checked ({why}); try again later"),
        }),
        _ => None,
    }
}

impl Chain {
    pub(super) fn new(hook: Hook) -> Self {
        Self {
            hook,
            links: ArcSwap::from_pointee(Vec::new()),
        }
    }

    pub(super) fn set(&self, plugins: Vec<Arc<Plugin>>) -> Result<(), ChainError> {
        self.set_links(plugins.into_iter().map(Ok).collect())
    }

    pub(super) fn set_links(
        &self,
        links: Vec<Result<Arc<Plugin>, (PluginName, FailurePolicy)>>,
    ) -> Result<(), ChainError> {
        let links: Vec<Link> = links
            .into_iter()
            .map(|link| match link {
                Ok(plugin) => Link::Plugin(plugin),
                Err((name, policy)) => Link::Unavailable(name, policy),
            })
            .collect();
        for (i, link) in links.iter().enumerate() {
            if let Link::Plugin(plugin) = link
                && plugin.world() != self.hook.world()
            {
                return Err(ChainError::WrongWorld {
                    plugin: plugin.name().clone(),
                    found: plugin.world(),
                    hook: self.hook,
                    wanted: self.hook.world(),
                });
            }
            if links[..i].iter().any(|l| l.name() == link.name()) {
                return Err(ChainError::Duplicate(link.name().clone()));
            }
        }
        self.links.store(Arc::new(links));
        Ok(())
    }

    /// Puts `plugin` in the place of an unavailable link of its name.
    pub(super) fn relink(&self, plugin: &Arc<Plugin>) {
        self.links.rcu(|links| {
            links
                .iter()
                .map(|link| match link {
                    Link::Unavailable(name, _)
                        if name == plugin.name() && plugin.world() == self.hook.world() =>
                    {
                        Link::Plugin(plugin.clone())
                    }
                    Link::Unavailable(name, policy) => Link::Unavailable(name.clone(), *policy),
                    Link::Plugin(p) => Link::Plugin(p.clone()),
                })
                .collect::<Vec<_>>()
        });
    }

    /// The plugins, in order.
    pub fn order(&self) -> Vec<PluginName> {
        self.links.load().iter().map(|l| l.name().clone()).collect()
    }

    /// Names in the chain with no installed plugin behind them.
    pub fn unavailable(&self) -> Vec<PluginName> {
        self.links
            .load()
            .iter()
            .filter_map(|l| match l {
                Link::Unavailable(name, _) => Some(name.clone()),
                Link::Plugin(_) => None,
            })
            .collect()
    }

    /// Runs a chat message through the chain.
    pub async fn on_message(&self, msg: wit::ChatMessage) -> MessageDecision {
        let links = self.links.load_full();
        let mut decision = MessageDecision {
            text: msg.text.clone(),
            ..MessageDecision::default()
        };
        let mut msg = msg;
        for link in links.iter() {
            let answer = match link {
                Link::Plugin(plugin) => {
                    let input = msg.clone();
                    let limits = plugin.output_limits();
                    plugin
                        .invoke(move |exports, store| {
                            let outcome = match exports.chat()?.call_on_message(store, &input) {
                                Ok(outcome) => outcome,
                                Err(err) => return Ok(Err(err)),
                            };
                            limits.outcome(&outcome)?;
                            Ok(Ok(outcome))
                        })
                        .await
                }
                Link::Unavailable(name, _) => Err(Unanswered::Unavailable(name.clone())),
            };
            let outcome = match answer {
                Ok(outcome) => outcome,
                Err(why) => {
                    decision.rejected = policy_rejection(link.name(), link.policy(), &why);
                    decision.unanswered.push(why);
                    if decision.rejected.is_some() {
                        break;
                    }
                    continue;
                }
            };
            let by = link.name();
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
                // An empty reply has nothing to deliver; the budgets were
                // checked with the answer.
                if reply.text.is_empty() {
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
        let links = self.links.load_full();
        let mut decision = UploadDecision::default();
        let head: Arc<[u8]> = head.into();
        for link in links.iter() {
            let answer = match link {
                Link::Plugin(plugin) => {
                    let (file, head) = (file.clone(), head.clone());
                    let limits = plugin.output_limits();
                    plugin
                        .invoke(move |exports, store| {
                            let verdict =
                                match exports.upload()?.call_on_upload(store, &file, &head) {
                                    Ok(verdict) => verdict,
                                    Err(err) => return Ok(Err(err)),
                                };
                            limits.verdict(&verdict)?;
                            Ok(Ok(verdict))
                        })
                        .await
                }
                Link::Unavailable(name, _) => Err(Unanswered::Unavailable(name.clone())),
            };
            let by = link.name();
            match answer {
                Ok(wit::Verdict::Allow | wit::Verdict::Rewrite(_)) => {}
                Ok(wit::Verdict::Reject(reason)) => {
                    decision.rejected = Some(Rejection {
                        by: by.clone(),
                        reason,
                    });
                    break;
                }
                Ok(wit::Verdict::Flag(alert)) => decision.flags.push(Flag {
                    by: by.clone(),
                    severity: severity(alert.severity),
                    reason: alert.reason,
                }),
                Err(why) => {
                    decision.rejected = policy_rejection(by, link.policy(), &why);
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

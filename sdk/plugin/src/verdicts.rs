//! Constructors for the answers plugins give.

use crate::{Alert, BotReply, Outcome, Severity, Verdict};

impl Verdict {
    /// A verdict that flags: deliver, and raise an alert for admins.
    pub fn flag(severity: Severity, reason: impl Into<String>) -> Self {
        Verdict::Flag(Alert {
            severity,
            reason: reason.into(),
        })
    }
}

impl Outcome {
    /// Let the message through unchanged, no replies.
    pub fn allow() -> Self {
        Self::from(Verdict::Allow)
    }

    /// Deliver `text` instead of the message's text.
    pub fn rewrite(text: impl Into<String>) -> Self {
        Self::from(Verdict::Rewrite(text.into()))
    }

    /// Refuse the message; `reason` is shown to its sender.
    pub fn reject(reason: impl Into<String>) -> Self {
        Self::from(Verdict::Reject(reason.into()))
    }

    /// Deliver the message and raise an alert for admins.
    pub fn flag(severity: Severity, reason: impl Into<String>) -> Self {
        Self::from(Verdict::flag(severity, reason))
    }

    /// Adds a bot reply, sent into the same room after the message.
    #[must_use]
    pub fn with_reply(mut self, text: impl Into<String>) -> Self {
        self.replies.push(BotReply { text: text.into() });
        self
    }
}

impl From<Verdict> for Outcome {
    fn from(verdict: Verdict) -> Self {
        Outcome {
            verdict,
            replies: Vec::new(),
        }
    }
}

//! Every database statement's time, whatever module runs it: sqlx reports
//! each finished statement as a tracing event (target `sqlx::query`, with
//! its `summary` and `elapsed_secs`); this layer turns those events into
//! `hangar_database_statement_seconds{operation}`. It sees the events
//! through a filter of its own, so they are measured without being logged.

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};

use super::metrics;

/// The target sqlx reports statements on.
pub const TARGET: &str = "sqlx::query";

/// The operations measured apart; any other statement counts as `other`.
const OPERATIONS: &[&str] = &["select", "insert", "update", "delete", "begin", "commit"];

/// The tracing layer that times statements.
#[derive(Debug, Default)]
pub struct StatementTimes;

#[derive(Default)]
struct Fields {
    operation: Option<&'static str>,
    seconds: Option<f64>,
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.seconds = Some(value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.operation = Some(operation(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.operation = Some(operation(&format!("{value:?}").replace('"', "")));
        }
    }
}

/// A bounded label for the statement `summary` starts.
fn operation(summary: &str) -> &'static str {
    let word = summary
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let word = if word == "with" {
        "select".to_owned()
    } else {
        word
    };
    OPERATIONS
        .iter()
        .find(|op| **op == word)
        .copied()
        .unwrap_or("other")
}

impl<S: tracing::Subscriber> Layer<S> for StatementTimes {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(seconds) = fields.seconds {
            metrics()
                .database_statement_seconds
                .with_label_values(&[fields.operation.unwrap_or("other")])
                .observe(seconds);
        }
    }
}

/// Counts a failed database operation by kind: `unavailable` (no
/// connection, pool exhausted or closed, I/O), `constraint` (the database
/// refused a write), `other`. A row not found is an answer, not counted.
pub fn failed(err: &sqlx::Error) {
    let kind = match err {
        sqlx::Error::RowNotFound => return,
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => "unavailable",
        sqlx::Error::Database(db) if db.constraint().is_some() => "constraint",
        _ => "other",
    };
    metrics().database_errors.with_label_values(&[kind]).inc();
}

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn statements_are_labelled_by_their_first_word() {
        assert_eq!(operation("SELECT id FROM t …"), "select");
        assert_eq!(operation("insert into t"), "insert");
        assert_eq!(operation("WITH x AS (…) SELECT"), "select");
        assert_eq!(operation("CREATE TABLE t"), "other");
        assert_eq!(operation(""), "other");
    }
}

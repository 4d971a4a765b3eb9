//! The process's metrics, in the Prometheus text format at `GET /metrics`
//! (`docs/metrics.md` lists every name). One registry per process, as a
//! Prometheus target is one process: the hub, the plugin runtime, the
//! deployer and the upload store record into it where things happen, and
//! the admin API reads plugin call percentiles from the same histograms
//! it exports.
//!
//! Labels are bounded: plugin names and versions (what admins deploy),
//! failure kinds and outcomes (fixed sets); never a room, a user or a
//! file.

pub mod database;
pub mod objects;

use std::sync::LazyLock;

use prometheus::{
    Encoder as _, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    Opts, Registry, TextEncoder,
};

/// Seconds: 50 µs doubling to about 3.3 s (17 buckets), for plugin calls
/// and per-message latencies.
fn latency_buckets() -> Vec<f64> {
    (0..17).map(|i| 50e-6 * f64::from(1u32 << i)).collect()
}

/// Seconds: 10 ms doubling to about 164 s, for compiles and merges.
fn slow_buckets() -> Vec<f64> {
    (0..15).map(|i| 0.01 * f64::from(1u32 << i)).collect()
}

/// Every metric Hangar exports.
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub hub_connections: IntGauge,
    /// Rooms with members connected to this node.
    pub hub_rooms: IntGauge,
    /// Frames read from clients.
    pub hub_frames_received: IntCounter,
    /// Frames written to clients (a batch is one frame).
    pub hub_frames_sent: IntCounter,
    /// Messages committed by this node (retries answered `duplicate` are
    /// not counted).
    pub hub_messages_stored: IntCounter,
    /// Messages queued to subscribers on this node (one per subscriber).
    pub hub_deliveries: IntCounter,
    /// Messages per `batch` frame.
    pub hub_batch_messages: Histogram,
    /// From a `send` frame read to its answer (ack, duplicate, rejection)
    /// queued.
    pub hub_send_answer_seconds: Histogram,
    /// Messages per group commit (one database transaction).
    pub hub_group_commit_messages: Histogram,
    /// Time of one group commit in the database.
    pub hub_group_commit_seconds: Histogram,
    /// Group commits that failed (none of their messages was stored).
    pub hub_group_commit_failures: IntCounter,
    /// Connections closed because they read too slowly (`4002`).
    pub hub_slow_consumer_closes: IntCounter,
    /// Sends refused by the per-connection rate limit.
    pub hub_rate_limited_sends: IntCounter,
    /// Plugin calls by plugin, version and outcome (`ok` or a failure
    /// kind).
    pub plugin_calls: IntCounterVec,
    /// Plugin call time as its caller waits for it (turn, instance, call),
    /// by plugin and version.
    pub plugin_call_seconds: HistogramVec,
    /// Plugins quarantined by their failures, by plugin.
    pub plugin_quarantines: IntCounterVec,
    /// Versions loaded from the compiled cache.
    pub plugin_cache_hits: IntCounter,
    /// Versions compiled (not in the compiled cache).
    pub plugin_compiles: IntCounter,
    /// Time to compile one version.
    pub plugin_compile_seconds: Histogram,
    /// Component blobs fetched from the registry.
    pub registry_fetches: IntCounter,
    /// Upload chunk bytes stored.
    pub upload_bytes: IntCounter,
    /// Upload chunks stored.
    pub upload_chunks: IntCounter,
    /// Uploads completed by a merge.
    pub upload_merges: IntCounter,
    /// Uploads completed instantly (the content was already stored).
    pub upload_instant: IntCounter,
    /// Time to finish a merge at `complete`.
    pub upload_merge_seconds: Histogram,
    /// Every database statement's time, by operation (`select`,
    /// `insert`, `update`, `delete`, `begin`, `commit`, `other`).
    pub database_statement_seconds: HistogramVec,
    /// Database operations that failed, by kind (`unavailable`,
    /// `constraint`, `other`).
    pub database_errors: IntCounterVec,
    /// Object store operations' time to their answer, by area and
    /// operation.
    pub object_store_seconds: HistogramVec,
    /// Object store operations that failed (not "not found" or a refused
    /// conditional write), by area and operation.
    pub object_store_errors: IntCounterVec,
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let metric = IntCounter::new(name, help).unwrap_or_else(|err| invalid(name, &err));
    register(registry, name, metric)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let metric = IntGauge::new(name, help).unwrap_or_else(|err| invalid(name, &err));
    register(registry, name, metric)
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric =
        IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|err| invalid(name, &err));
    register(registry, name, metric)
}

fn histogram(registry: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let metric = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
        .unwrap_or_else(|err| invalid(name, &err));
    register(registry, name, metric)
}

fn histogram_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .unwrap_or_else(|err| invalid(name, &err));
    register(registry, name, metric)
}

fn register<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    name: &str,
    metric: M,
) -> M {
    registry
        .register(Box::new(metric.clone()))
        .unwrap_or_else(|err| invalid(name, &err));
    metric
}

/// The names and buckets above are constants of this module: a bad one is
/// a bug caught by the first test that touches metrics.
#[allow(clippy::panic)]
fn invalid(name: &str, err: &prometheus::Error) -> ! {
    panic!("metric {name}: {err}")
}

impl Metrics {
    fn new() -> Self {
        let r = Registry::new();
        #[cfg(target_os = "linux")]
        if let Err(err) = r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        )) {
            tracing::warn!(error = %err, "process metrics unavailable");
        }
        Self {
            hub_connections: gauge(&r, "hangar_hub_connections", "Open WebSocket connections."),
            hub_rooms: gauge(
                &r,
                "hangar_hub_rooms",
                "Rooms with members connected to this node.",
            ),
            hub_frames_received: counter(
                &r,
                "hangar_hub_frames_received_total",
                "Frames read from clients.",
            ),
            hub_frames_sent: counter(
                &r,
                "hangar_hub_frames_sent_total",
                "Frames written to clients (a batch is one frame).",
            ),
            hub_messages_stored: counter(
                &r,
                "hangar_hub_messages_stored_total",
                "Messages committed by this node.",
            ),
            hub_deliveries: counter(
                &r,
                "hangar_hub_deliveries_total",
                "Messages queued to subscribers on this node, one per subscriber.",
            ),
            hub_batch_messages: histogram(
                &r,
                "hangar_hub_batch_messages",
                "Messages per batch frame.",
                (0..10).map(|i| f64::from(1u32 << i)).collect(),
            ),
            hub_send_answer_seconds: histogram(
                &r,
                "hangar_hub_send_answer_seconds",
                "From a send frame read to its answer queued.",
                latency_buckets(),
            ),
            hub_group_commit_messages: histogram(
                &r,
                "hangar_hub_group_commit_messages",
                "Messages per group commit.",
                (0..10).map(|i| f64::from(1u32 << i)).collect(),
            ),
            hub_group_commit_seconds: histogram(
                &r,
                "hangar_hub_group_commit_seconds",
                "Time of one group commit in the database.",
                latency_buckets(),
            ),
            hub_group_commit_failures: counter(
                &r,
                "hangar_hub_group_commit_failures_total",
                "Group commits that failed.",
            ),
            hub_slow_consumer_closes: counter(
                &r,
                "hangar_hub_slow_consumer_closes_total",
                "Connections closed for reading too slowly.",
            ),
            hub_rate_limited_sends: counter(
                &r,
                "hangar_hub_rate_limited_sends_total",
                "Sends refused by the rate limit.",
            ),
            plugin_calls: counter_vec(
                &r,
                "hangar_plugin_calls_total",
                "Plugin calls by plugin, version and outcome.",
                &["plugin", "version", "outcome"],
            ),
            plugin_call_seconds: histogram_vec(
                &r,
                "hangar_plugin_call_seconds",
                "Plugin call time as its caller waits for it.",
                &["plugin", "version"],
                latency_buckets(),
            ),
            plugin_quarantines: counter_vec(
                &r,
                "hangar_plugin_quarantines_total",
                "Plugins quarantined by their failures.",
                &["plugin"],
            ),
            plugin_cache_hits: counter(
                &r,
                "hangar_plugin_cache_hits_total",
                "Versions loaded from the compiled cache.",
            ),
            plugin_compiles: counter(&r, "hangar_plugin_compiles_total", "Versions compiled."),
            plugin_compile_seconds: histogram(
                &r,
                "hangar_plugin_compile_seconds",
                "Time to compile one version.",
                slow_buckets(),
            ),
            registry_fetches: counter(
                &r,
                "hangar_registry_fetches_total",
                "Component blobs fetched from the registry.",
            ),
            upload_bytes: counter(
                &r,
                "hangar_upload_bytes_total",
                "Upload chunk bytes stored.",
            ),
            upload_chunks: counter(&r, "hangar_upload_chunks_total", "Upload chunks stored."),
            upload_merges: counter(
                &r,
                "hangar_upload_merges_total",
                "Uploads completed by a merge.",
            ),
            upload_instant: counter(
                &r,
                "hangar_upload_instant_total",
                "Uploads completed instantly (content already stored).",
            ),
            upload_merge_seconds: histogram(
                &r,
                "hangar_upload_merge_seconds",
                "Time to finish a merge at complete.",
                slow_buckets(),
            ),
            database_statement_seconds: histogram_vec(
                &r,
                "hangar_database_statement_seconds",
                "Time of each database statement, by operation.",
                &["operation"],
                latency_buckets(),
            ),
            database_errors: counter_vec(
                &r,
                "hangar_database_errors_total",
                "Database operations that failed, by kind.",
                &["kind"],
            ),
            object_store_seconds: histogram_vec(
                &r,
                "hangar_object_store_seconds",
                "Object store operations' time to their answer.",
                &["area", "op"],
                latency_buckets(),
            ),
            object_store_errors: counter_vec(
                &r,
                "hangar_object_store_errors_total",
                "Object store operations that failed.",
                &["area", "op"],
            ),
            registry: r,
        }
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %err, "metrics not encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// One plugin version's call metrics, resolved once when the version is
/// loaded: a call records into them without looking its labels up.
#[derive(Debug)]
pub struct PluginCallMetrics {
    plugin: String,
    version: String,
    seconds: Histogram,
    ok: IntCounter,
}

impl PluginCallMetrics {
    /// The metrics of version `version` of `plugin`.
    pub fn new(plugin: &str, version: &str) -> Self {
        let m = metrics();
        Self {
            seconds: m.plugin_call_seconds.with_label_values(&[plugin, version]),
            ok: m.plugin_calls.with_label_values(&[plugin, version, "ok"]),
            plugin: plugin.to_owned(),
            version: version.to_owned(),
        }
    }

    /// A call that took `elapsed` and ended `ok` or with the failure kind
    /// `failure` (`CallFailure::label`).
    pub fn record(&self, elapsed: std::time::Duration, failure: Option<&str>) {
        self.seconds.observe(elapsed.as_secs_f64());
        match failure {
            None => self.ok.inc(),
            Some(kind) => metrics()
                .plugin_calls
                .with_label_values(&[self.plugin.as_str(), self.version.as_str(), kind])
                .inc(),
        }
    }

    /// The `q` quantile (0..=1) of the call times, in µs, estimated from
    /// the histogram's buckets as Prometheus' `histogram_quantile` does
    /// (linear within the bucket); `None` before the first call.
    pub fn quantile_us(&self, q: f64) -> Option<u32> {
        quantile(&self.seconds, q).map(|seconds| {
            // Whole microseconds, as the admin API has always answered.
            let us = (seconds * 1e6).round();
            if us >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                us as u32
            }
        })
    }
}

/// The `q` quantile of `histogram`, interpolated within its bucket.
fn quantile(histogram: &Histogram, q: f64) -> Option<f64> {
    use prometheus::core::Metric as _;
    let metric = histogram.metric();
    let data = metric.get_histogram();
    let count = data.get_sample_count();
    if count == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let rank = q.clamp(0.0, 1.0) * count as f64;
    let mut lower_bound = 0.0;
    let mut lower_count = 0u64;
    for bucket in data.get_bucket() {
        let upper = bucket.upper_bound();
        let cumulative = bucket.cumulative_count();
        #[allow(clippy::cast_precision_loss)]
        if cumulative as f64 >= rank && cumulative > lower_count {
            let within = (rank - lower_count as f64) / (cumulative - lower_count) as f64;
            return Some(lower_bound + (upper - lower_bound) * within.clamp(0.0, 1.0));
        }
        lower_bound = upper;
        lower_count = cumulative;
    }
    // Past the last bucket: its bound is the best estimate.
    Some(lower_bound)
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_buckets() {
        let h = Histogram::with_opts(HistogramOpts::new("t", "t").buckets(vec![1.0, 2.0, 4.0]))
            .unwrap();
        assert_eq!(quantile(&h, 0.5), None);
        for v in [0.5, 0.5, 1.5, 3.0] {
            h.observe(v);
        }
        // Ranks: 2 of 4 at p50 falls at the top of the first bucket.
        assert_eq!(quantile(&h, 0.5), Some(1.0));
        // p99: rank 3.96 in (2, 4], the 4th sample's bucket.
        let p99 = quantile(&h, 0.99).unwrap();
        assert!(p99 > 2.0 && p99 <= 4.0, "{p99}");
        h.observe(100.0);
        assert_eq!(quantile(&h, 1.0), Some(4.0));
    }

    /// The dashboard in `docs/` queries only names this module exports.
    #[test]
    fn the_dashboard_names_exported_metrics_only() {
        let m = metrics();
        m.plugin_calls
            .with_label_values(&["p", "1.0.0", "ok"])
            .inc();
        m.plugin_call_seconds
            .with_label_values(&["p", "1.0.0"])
            .observe(0.001);
        m.plugin_quarantines.with_label_values(&["p"]).inc();
        m.object_store_seconds
            .with_label_values(&["uploads", "put"])
            .observe(0.001);
        m.object_store_errors
            .with_label_values(&["uploads", "put"])
            .inc_by(0);
        m.database_statement_seconds
            .with_label_values(&["select"])
            .observe(0.001);
        m.database_errors.with_label_values(&["other"]).inc_by(0);
        let families: Vec<String> = m
            .registry
            .gather()
            .iter()
            .map(|f| f.name().to_owned())
            .collect();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grafana-dashboard.json");
        let dashboard = std::fs::read_to_string(path).unwrap();
        let mut named = 0;
        for (at, _) in dashboard.match_indices("hangar_") {
            let name: String = dashboard[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(&name);
            assert!(
                families.iter().any(|f| f == family),
                "{name} is not exported"
            );
            named += 1;
        }
        assert!(named >= 15, "{named}");
    }

    #[test]
    fn the_text_format_names_every_family() {
        let m = metrics();
        m.hub_messages_stored.inc();
        m.plugin_calls
            .with_label_values(&["p", "1.0.0", "ok"])
            .inc();
        let text = m.render();
        for name in [
            "hangar_hub_connections",
            "hangar_hub_messages_stored_total",
            "hangar_plugin_calls_total{outcome=\"ok\",plugin=\"p\",version=\"1.0.0\"}",
            "hangar_hub_send_answer_seconds_bucket",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}

//! Precedence, every refusal, sources and secrets of the configuration.

use std::time::Duration;

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};

fn args(argv: &[&str]) -> ServeArgs {
    let mut full = vec!["hangar", "serve"];
    full.extend_from_slice(argv);
    match Cli::try_parse_from(full).unwrap().command {
        Command::Serve(args) => *args,
        other => panic!("expected serve, got {other:?}"),
    }
}

/// A configuration file in its own directory.
struct File {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(text: &str) -> File {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hangar.toml");
    std::fs::write(&path, text).unwrap();
    File { _dir: dir, path }
}

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load_with(text: &str, flags: &[&str], vars: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
    let f = file(text);
    let mut argv = vec!["--config", f.path.to_str().unwrap()];
    argv.extend_from_slice(flags);
    load_from(&args(&argv), env(vars))
}

#[test]
fn each_layer_beats_the_one_below_and_says_so() {
    let text = "listen = \"127.0.0.1:1001\"\ndata_dir = \"/srv/file\"\n\
                [hub]\nheartbeat_ms = 1000\ntimeout_ms = 9000\n\
                [plugins.limits]\ndeadline_ms = 50\n";
    let loaded = load_with(text, &[], &[]).unwrap();
    assert_eq!(loaded.config.listen.port(), 1001);
    assert_eq!(loaded.config.cache_dir, PathBuf::from("/srv/file/cache"));
    assert_eq!(loaded.config.hub.heartbeat, Duration::from_secs(1));
    assert_eq!(
        loaded.config.plugin_defaults.limits.deadline,
        Duration::from_millis(50)
    );
    assert!(matches!(loaded.sources["listen"], Source::File(_)));
    assert_eq!(loaded.sources["hub.batch_window_ms"], Source::Default);
    assert_eq!(loaded.sources["cache_dir"], Source::Derived("data_dir"));

    let loaded = load_with(
        text,
        &["--listen", "127.0.0.1:1003"],
        &[
            ("HANGAR_LISTEN", "127.0.0.1:1002"),
            ("HANGAR_DATA_DIR", "/srv/env"),
            ("HANGAR_HUB__HEARTBEAT_MS", "2000"),
            ("HANGAR_PLUGINS__LIMITS__DEADLINE_MS", "70"),
            ("HANGAR_RUNTIME__MAX_CONCURRENT_CALLS", "7"),
            // Not settings: other tools' variables are left alone.
            ("HANGAR_TEST_POSTGRES_URL", "postgres://x"),
            ("PATH", "/bin"),
        ],
    )
    .unwrap();
    let c = &loaded.config;
    assert_eq!(c.listen.port(), 1003, "a flag beats the environment");
    assert_eq!(c.data_dir, PathBuf::from("/srv/env"), "env beats the file");
    assert_eq!(c.hub.heartbeat, Duration::from_secs(2));
    assert_eq!(c.hub.timeout, Duration::from_secs(9), "the file's, kept");
    assert_eq!(c.plugin_defaults.limits.deadline, Duration::from_millis(70));
    assert_eq!(c.runtime.max_concurrent_calls, 7);
    assert_eq!(c.runtime.cache_dir, PathBuf::from("/srv/env/cache"));
    assert_eq!(loaded.sources["listen"], Source::Flag("--listen".into()));
    assert_eq!(
        loaded.sources["data_dir"],
        Source::Env("HANGAR_DATA_DIR".into())
    );
    assert!(matches!(loaded.sources["hub.timeout_ms"], Source::File(_)));

    // A flag for a nested key, in its own unit.
    let loaded = load_with("", &["--plugin-memory-mib", "16"], &[]).unwrap();
    assert_eq!(loaded.config.plugin_defaults.limits.memory_bytes, 16 << 20);
    assert_eq!(
        loaded.sources["plugins.limits.memory_bytes"],
        Source::Flag("--plugin-memory-mib".into())
    );
}

#[test]
fn values_that_used_to_be_fixed_are_settings() {
    let loaded = load_with(
        "[runtime]\nmax_concurrent_calls = 3\nmax_concurrent_material_calls = 2\nqueue_timeout_ms = 250\n\
         [runtime.output]\nmax_replies = 1\nmax_reason_bytes = 64\n\
         [runtime.engine]\nmax_memory_bytes = 268435456\n\
         [uploads]\nturn_wait_ms = 300\nfsync = false\n\
         [hub]\nmax_text_bytes = 1000\npage_size = 50\n",
        &[],
        &[],
    )
    .unwrap();
    let c = &loaded.config;
    assert_eq!(c.runtime.max_concurrent_calls, 3);
    assert_eq!(c.runtime.max_concurrent_material_calls, 2);
    assert_eq!(c.runtime.queue_timeout, Duration::from_millis(250));
    assert_eq!(c.runtime.output.max_replies, 1);
    assert_eq!(c.runtime.output.max_reason_bytes, 64);
    // Plugin answers obey the hub's text limit.
    assert_eq!(c.runtime.output.max_text_bytes, 1000);
    assert_eq!(c.runtime.engine.max_memory_bytes, 256 << 20);
    assert_eq!(c.uploads.turn_wait, Duration::from_millis(300));
    assert!(!c.uploads.fsync);
    assert_eq!(c.hub.limits.page_size, 50);
}

/// Every refusal names its key; none is clamped into range.
#[test]
fn every_invalid_value_is_refused_with_its_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[hub]\nheartbeat_ms = 0\n",
            "hub.heartbeat_ms",
            "at least 1",
        ),
        (
            "[hub]\ntimeout_ms = 100\nheartbeat_ms = 100\n",
            "hub.timeout_ms",
            "longer",
        ),
        (
            "[hub]\nbatch_max_messages = 0\n",
            "hub.batch_max_messages",
            "at least 1",
        ),
        (
            "[hub]\noutbox_capacity = 0\n",
            "hub.outbox_capacity",
            "at least 1",
        ),
        (
            "[hub]\nmax_text_bytes = 0\n",
            "hub.max_text_bytes",
            "at least 1",
        ),
        (
            "[hub]\nmax_frame_bytes = 100\n",
            "hub.max_frame_bytes",
            "max_text_bytes",
        ),
        (
            "[hub]\nsend_rate_per_sec = 0\n",
            "hub.send_rate_per_sec",
            "at least 1",
        ),
        ("[hub]\nsend_burst = 0\n", "hub.send_burst", "at least 1"),
        ("[hub]\npage_size = 0\n", "hub.page_size", "at least 1"),
        (
            "[uploads]\nmax_chunk_bytes = 1048576\n",
            "uploads.max_chunk_bytes",
            "5 MiB",
        ),
        (
            "[uploads]\nmax_chunk_bytes = 6292457\n",
            "uploads.max_chunk_bytes",
            "multiple of 65536",
        ),
        (
            "[uploads]\nmax_file_bytes = 0\n",
            "uploads.max_file_bytes",
            "at least 1",
        ),
        (
            "[uploads]\nmax_file_bytes = 1099511627776\nmax_chunk_bytes = 5242880\n",
            "uploads.max_file_bytes",
            "10,000 chunks",
        ),
        ("[uploads]\nttl_ms = 0\n", "uploads.ttl_ms", "at least 1"),
        (
            "[uploads]\nsweep_ms = 0\n",
            "uploads.sweep_ms",
            "at least 1",
        ),
        (
            "[uploads]\nbody_budget_bytes = 1\n",
            "uploads.body_budget_bytes",
            "one chunk",
        ),
        (
            "[uploads]\nchallenge_bytes = 0\n",
            "uploads.challenge_bytes",
            "at least 1",
        ),
        (
            "[uploads]\nlink_ttl_secs = 0\n",
            "uploads.link_ttl_secs",
            "at least 1",
        ),
        (
            "[plugins.limits]\ndeadline_ms = 0\n",
            "plugins.limits.deadline_ms",
            "at least 1",
        ),
        (
            "[plugins.limits]\nhost_budget_ms = 0\n",
            "plugins.limits.host_budget_ms",
            "at least 1",
        ),
        (
            "[plugins.limits]\nmemory_bytes = 0\n",
            "plugins.limits.memory_bytes",
            "engine pool",
        ),
        (
            "[plugins.limits]\nmemory_bytes = 2147483648\n",
            "plugins.limits.memory_bytes",
            "runtime.engine.max_memory_bytes",
        ),
        (
            "[runtime.engine]\nmax_memory_bytes = 67108864\n",
            "plugins.limits.memory_bytes",
            "must be 1 to 67108864",
        ),
        (
            "[plugins.limits]\ninstances = 0\n",
            "plugins.limits.instances",
            "at least 1",
        ),
        (
            "[plugins.limits]\ntable_elements = 1000000\n",
            "plugins.limits.table_elements",
            "max_table_elements",
        ),
        (
            "[plugins]\nquarantine_after = 0\n",
            "plugins.quarantine_after",
            "at least 1",
        ),
        (
            "[plugins.isolation]\nmode = \"pooled\"\nmax_uses = 0\nmax_idle = 2\n",
            "plugins.isolation.max_uses",
            "at least 1",
        ),
        (
            "[plugins.isolation]\nmode = \"pooled\"\nmax_uses = 10\nmax_idle = 0\n",
            "plugins.isolation.max_idle",
            "at least 1",
        ),
        (
            "[runtime]\nmax_concurrent_calls = 0\n",
            "runtime.max_concurrent_calls",
            "at least 1",
        ),
        (
            "[runtime]\nmax_concurrent_material_calls = 0\n",
            "runtime.max_concurrent_material_calls",
            "at least 1",
        ),
        (
            "[runtime]\nqueue_timeout_ms = 0\n",
            "runtime.queue_timeout_ms",
            "at least 1",
        ),
        (
            "[runtime.output]\nmax_reason_bytes = 0\n",
            "runtime.output.max_reason_bytes",
            "at least 1",
        ),
        (
            "[runtime.engine]\nepoch_tick_ms = 0\n",
            "runtime.engine.epoch_tick_ms",
            "1 to 1000",
        ),
        (
            "[runtime.engine]\ntotal_component_instances = 0\n",
            "runtime.engine.total_component_instances",
            "at least 1",
        ),
        (
            "[runtime.engine]\nmax_memory_bytes = 1000000\n",
            "runtime.engine.max_memory_bytes",
            "65536",
        ),
        (
            "[runtime.engine]\nmax_table_elements = 0\n",
            "runtime.engine.max_table_elements",
            "at least 1",
        ),
        (
            "[runtime.engine]\nmemory_keep_resident_bytes = 2147483648\n",
            "runtime.engine.memory_keep_resident_bytes",
            "max_memory_bytes",
        ),
        (
            "[runtime.engine]\ndecommit_batch_size = 0\n",
            "runtime.engine.decommit_batch_size",
            "at least 1",
        ),
        (
            "[http]\nmax_connections = 0\n",
            "http.max_connections",
            "at least 1",
        ),
        (
            "[http]\nheader_timeout_ms = 0\n",
            "http.header_timeout_ms",
            "at least 1",
        ),
        (
            "[http]\nanonymous_rate_per_sec = 0\n",
            "http.anonymous_rate_per_sec",
            "at least 1",
        ),
        (
            "[http]\nanonymous_burst = 0\n",
            "http.anonymous_burst",
            "at least 1",
        ),
        (
            "[materials]\nmax_html_bytes = 0\n",
            "materials.max_html_bytes",
            "at least 1",
        ),
        (
            "[materials]\nmax_html_depth = 0\n",
            "materials.max_html_depth",
            "at least 1",
        ),
        (
            "[materials]\nconcurrent_loads = 0\n",
            "materials.concurrent_loads",
            "at least 1",
        ),
        (
            "[materials]\nload_wait_ms = 0\n",
            "materials.load_wait_ms",
            "at least 1",
        ),
        (
            "max_component_bytes = 0\n",
            "max_component_bytes",
            "at least 1",
        ),
        (
            "max_component_bytes = 6442450944\n",
            "max_component_bytes",
            "5 GiB",
        ),
        ("object_store_url = \"gs://b\"\n", "object_store_url", "gs"),
        ("session_key = \"short\"\n", "session_key", "32 bytes"),
        ("admin_token = \"short\"\n", "admin_token", "16 characters"),
        (
            "require_signatures = true\n",
            "require_signatures",
            "trusted_publishers",
        ),
        ("broker_prefix = \"a..b\"\n", "broker_prefix", "inner dots"),
        ("broker = \"nats://127.0.0.1:4222\"\n", "broker", "postgres"),
        (
            "broker = \"nats://x\"\ndatabase_url = \"postgres://x/y\"\n",
            "broker",
            "object_store_url",
        ),
        (
            "broker = \"nats://x\"\ndatabase_url = \"postgres://x/y\"\nobject_store_url = \"s3://b\"\n",
            "broker",
            "public_url",
        ),
        (
            "broker = \"redis://x\"\ndatabase_url = \"postgres://x/y\"\nobject_store_url = \"s3://b\"\npublic_url = \"http://n\"\n",
            "broker",
            "nats://",
        ),
    ];
    for (text, key, says) in cases {
        match load_with(text, &[], &[]) {
            Err(ConfigError::Invalid { key: got, message }) => {
                assert_eq!(&got, key, "{text}: {message}");
                assert!(message.contains(says), "{text}: {message}");
            }
            other => panic!("{text}: expected {key} refused, got {other:?}"),
        }
    }
}

#[test]
fn unknown_keys_wrong_types_and_stale_variables_are_refused() {
    let f = file("lisen = \"127.0.0.1:1\"\n");
    let err = load_from(&args(&["--config", f.path.to_str().unwrap()]), env(&[])).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Unknown { key, origin: Source::File(_) } if key == "lisen"),
        "{err}"
    );
    let err = load_with("[hub]\nheartbeet_ms = 5\n", &[], &[]).unwrap_err();
    assert!(
        err.to_string().contains("unknown setting hub.heartbeet_ms"),
        "{err}"
    );
    let err = load_with("listen = 5\n", &[], &[]).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Value { key, .. } if key == "listen"),
        "{err}"
    );
    let err = load_with("listen = \n", &[], &[]).unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    let err = load_with("", &[], &[("HANGAR_HUB__HEARTBEET_MS", "5")]).unwrap_err();
    assert!(
        err.to_string()
            .contains("HANGAR_HUB__HEARTBEET_MS: names no setting"),
        "{err}"
    );
    let err = load_with("", &[], &[("HANGAR_HEARTBEAT_MS", "5")]).unwrap_err();
    assert!(
        err.to_string().contains("set HANGAR_HUB__HEARTBEAT_MS"),
        "{err}"
    );
    let err = load_with("", &[], &[("HANGAR_LISTEN", "nowhere")]).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Value { key, origin: Source::Env(_), .. } if key == "listen"),
        "{err}"
    );
    let err = load_from(&args(&["--config", "/nonexistent/h.toml"]), env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
}

#[test]
fn lists_and_switches_read_from_the_environment() {
    let loaded = load_with(
        "",
        &[],
        &[
            (
                "HANGAR_ALLOWED_ORIGINS",
                "https://a.example/, https://b.example",
            ),
            ("HANGAR_DEMO", "1"),
            ("HANGAR_ADMIN_TOKEN", "1234567890123456"),
        ],
    )
    .unwrap();
    assert_eq!(
        loaded.config.hub.allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    assert!(loaded.config.demo);
    // An all-digit token arrives as a number and is still a token.
    assert_eq!(
        loaded.config.admin_token.unwrap().expose_secret(),
        "1234567890123456"
    );
}

#[test]
fn secrets_never_show_in_debug_or_show_output() {
    let loaded = load_with(
        "database_url = \"postgres://u:db-password-must-stay-secret@h/d\"\n",
        &[
            "--session-key",
            "session-key-that-must-stay-secret-0123456789",
            "--admin-token",
            "admin-token-that-must-stay-secret",
            "--publish-tokens",
            "ci=publish-token-that-must-stay-secret",
        ],
        &[],
    )
    .unwrap();
    let shown = crate::commands::config::show_loaded(&loaded).unwrap();
    for text in [format!("{loaded:?}"), shown.clone()] {
        assert!(!text.contains("must-stay-secret"), "{text}");
    }
    assert!(
        shown.contains("session_key = \"(set)\"  # flag --session-key"),
        "{shown}"
    );
    assert!(shown.contains("publish_tokens = [\"ci=(set)\"]"), "{shown}");
    assert!(
        shown.contains("database_url = \"postgres://u:***@h/d\"  # file "),
        "{shown}"
    );
    assert!(
        shown.contains("hub.heartbeat_ms = 25000  # default"),
        "{shown}"
    );
    assert!(
        shown.contains("metrics_listen = (unset)  # default"),
        "{shown}"
    );
    assert!(
        shown.contains("cache_dir = \"data/cache\"  # derived from data_dir"),
        "{shown}"
    );
    // Every key of the model is shown.
    let keys = layers::known_keys().unwrap();
    for key in &keys {
        assert!(
            shown.contains(&format!("\n{key} = ")) || shown.starts_with(&format!("{key} = ")),
            "{key} missing"
        );
    }
}

/// docs/configuration.md lists every key of the model, and only those.
#[test]
fn the_reference_lists_every_key() {
    let doc = include_str!("../../../docs/configuration.md");
    let keys = layers::known_keys().unwrap();
    for key in &keys {
        assert!(
            doc.contains(&format!("| `{key}` |")),
            "{key} is not in docs/configuration.md"
        );
    }
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let key = line.trim_start_matches("| `").split('`').next().unwrap();
        assert!(
            keys.contains(key),
            "docs/configuration.md lists {key}, which is no key"
        );
    }
    // The example parses and is valid.
    let example = doc
        .split("```toml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    load_with(example, &[], &[]).unwrap();
}

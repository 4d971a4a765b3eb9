//! One `keyword-moderation` call on a 200-byte message through the server's
//! path (`Plugin::invoke` from a task, the headline row), beside the direct
//! call the runtime makes under it (fresh instance, no permit, no task) and
//! the same call on one long-lived instance (the floor).
//!
//! Run: `cargo bench -p hangar-host --bench plugin_call` (unset
//! `RUST_BACKTRACE` first: with it set, every error captures a backtrace).
//! Prints p50/p99 in µs and each mode's ratios to the direct call and to
//! the floor, measured in the same run.

#![allow(clippy::expect_used)] // a benchmark binary: any failure aborts the run

use std::sync::Arc;
use std::time::{Duration, Instant};

use hangar_host::plugins::{Isolation, PluginName, PluginSettings, Runtime, RuntimeConfig, wit};
use hangar_host::store::Database;
use hangar_host::store::alerts::Alerts;

const ITERATIONS: usize = 20_000;
const WARMUP: usize = 2_000;

const CONFIG: &str = r#"{"mask": ["damn", "stupid", "傻瓜", "笨蛋"], "reject": ["scam-link.example", "诈骗"],
  "flag": [{"words": ["lawyer", "complaint", "投诉"], "severity": "warning"}]}"#;

fn message() -> wit::ChatMessage {
    let mut text =
        String::from("Hello, I ordered a blue kettle last week and it still has not arrived. ");
    text.push_str("Could you check the tracking number for me? This is stupid, honestly. ");
    while text.len() < 200 {
        text.push('.');
    }
    text.truncate(200);
    wit::ChatMessage {
        id: "m-1".into(),
        room: "room-1".into(),
        sender: "customer-1".into(),
        text,
        time_ms: 1_700_000_000_000,
        attachments: vec![],
    }
}

struct Figures {
    p50: Duration,
    p99: Duration,
}

fn measure(mut call: impl FnMut()) -> Figures {
    for _ in 0..WARMUP {
        call();
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let start = Instant::now();
        call();
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    Figures {
        p50: samples[ITERATIONS / 2],
        p99: samples[ITERATIONS * 99 / 100],
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        eprintln!("note: RUST_BACKTRACE is set; unset it for representative figures");
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let wasm = hangar_testkit::guests::wasm("keyword-moderation");
    let size = wasm.len();
    let (runtime, plugin) = tokio.block_on(async {
        let db = Database::open(dir.path()).await.expect("database");
        let alerts = Alerts::new(db.clone());
        let runtime = Runtime::start(RuntimeConfig::new(dir.path().join("cache")), db, alerts)
            .expect("runtime");
        let name: PluginName = "keyword-moderation".parse().expect("name");
        let version = runtime
            .load(name, "0.1.0".parse().expect("version"), wasm.into(), None)
            .await
            .expect("load");
        let plugin = runtime
            .install(
                version,
                PluginSettings::default(),
                Arc::new(CONFIG.to_owned()),
            )
            .expect("install");
        (runtime, plugin)
    });
    let msg = message();
    let version = plugin.active();
    let engine = runtime.engine();

    // Floor: one instance, called again and again.
    let setup = plugin.call_setup(&PluginSettings::default());
    let (mut store, exports) = version.instance(engine, &setup).expect("instance");
    let chat = exports.chat().expect("chat plugin");
    let floor = measure(|| {
        store.set_epoch_deadline(setup.deadline_ticks());
        let outcome = chat.call_on_message(&mut store, &msg).expect("call");
        assert!(matches!(outcome.verdict, wit::Verdict::Rewrite(_)));
    });

    let mode = |isolation: Isolation| {
        let settings = PluginSettings {
            isolation,
            ..PluginSettings::default()
        };
        let setup = plugin.call_setup(&settings);
        measure(|| {
            let outcome = version
                .call(engine, &setup, |e, s| {
                    Ok(e.chat()?.call_on_message(s, &msg))
                })
                .expect("call");
            assert!(matches!(outcome.verdict, wit::Verdict::Rewrite(_)));
        })
    };
    let per_call = mode(Isolation::PerCall);
    let pooled = mode(Isolation::Pooled {
        max_uses: 10_000,
        max_idle: 4,
    });

    // Instantiation alone: fresh store + instance, no call.
    let instantiate = measure(|| {
        let instance = version.instance(engine, &setup).expect("instance");
        std::hint::black_box(instance);
    });

    // A minimal guest (rewrites with a prefix) through the same paths: how
    // much of the above is the host, and how much keyword-moderation's work.
    let (minimal_floor, minimal_per_call) = tokio.block_on(async {
        let name: PluginName = "swap".parse().expect("name");
        let minimal = runtime
            .load(
                name,
                "1.0.0".parse().expect("version"),
                hangar_testkit::guests::wasm("guest-swap-v1").into(),
                None,
            )
            .await
            .expect("load");
        let plugin = runtime
            .install(
                minimal.clone(),
                PluginSettings::default(),
                Arc::new("{}".to_owned()),
            )
            .expect("install");
        (minimal, plugin)
    });
    let minimal_setup = minimal_per_call.call_setup(&PluginSettings::default());
    let (mut minimal_store, minimal_exports) = minimal_floor
        .instance(engine, &minimal_setup)
        .expect("instance");
    let minimal_chat = minimal_exports.chat().expect("chat plugin");
    let minimal_live = measure(|| {
        minimal_store.set_epoch_deadline(minimal_setup.deadline_ticks());
        std::hint::black_box(
            minimal_chat
                .call_on_message(&mut minimal_store, &msg)
                .expect("call"),
        );
    });
    let minimal_fresh = measure(|| {
        let outcome = minimal_floor
            .call(engine, &minimal_setup, |e, s| {
                Ok(e.chat()?.call_on_message(s, &msg))
            })
            .expect("call");
        std::hint::black_box(outcome);
    });

    // The server's path: `Plugin::invoke` awaited by a task on a runtime
    // worker, as chains and renders do (permit, call in place, health).
    let server = {
        let plugin = plugin.clone();
        let m = msg.clone();
        tokio.block_on(async move {
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(ITERATIONS);
                for i in 0..WARMUP + ITERATIONS {
                    let m = m.clone();
                    let start = Instant::now();
                    let outcome = plugin
                        .invoke(move |e, s| Ok(e.chat()?.call_on_message(s, &m)))
                        .await
                        .expect("invoke");
                    if i >= WARMUP {
                        samples.push(start.elapsed());
                    }
                    assert!(matches!(outcome.verdict, wit::Verdict::Rewrite(_)));
                }
                samples.sort_unstable();
                Figures {
                    p50: samples[ITERATIONS / 2],
                    p99: samples[ITERATIONS * 99 / 100],
                }
            })
            .await
            .expect("task")
        })
    };

    println!("keyword-moderation ({size} bytes), 200-byte message, {ITERATIONS} calls each");
    println!(
        "{:<46} {:>9} {:>9} {:>11} {:>11}",
        "mode", "p50 µs", "p99 µs", "p50/direct", "p50/floor"
    );
    for (name, f) in [
        ("server path: Plugin::invoke from a task", &server),
        ("direct: fresh instance every call", &per_call),
        ("floor: one long-lived instance", &floor),
        ("pooled: warm instance reuse", &pooled),
        ("  of which: fresh store + instantiate only", &instantiate),
        ("minimal guest: one long-lived instance", &minimal_live),
        ("minimal guest: fresh instance every call", &minimal_fresh),
    ] {
        println!(
            "{name:<46} {:>9.2} {:>9.2} {:>10.2}x {:>10.1}x",
            us(f.p50),
            us(f.p99),
            us(f.p50) / us(per_call.p50),
            us(f.p50) / us(floor.p50)
        );
    }
    drop(store);
    drop(minimal_store);
    drop(runtime);
}

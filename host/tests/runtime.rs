//! The plugin runtime, driven with real components built from `plugins/`
//! and `tests/guests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hangar_host::plugins::engine::EngineSettings;
use hangar_host::plugins::{
    CallFailure, FailurePolicy, Hook, Isolation, LoadError, Plugin, PluginName, PluginSettings,
    PluginVersion, Runtime, RuntimeConfig, SwapError, Unanswered, World, wit,
};
use hangar_host::store::Database;
use hangar_host::store::alerts::{AlertKind, Alerts, Severity};
use hangar_testkit::guests;
use semver::Version;
use tempfile::TempDir;

struct Fixture {
    _dir: TempDir,
    runtime: Runtime,
    alerts: Alerts,
}

async fn fixture() -> Fixture {
    fixture_with_cache(hangar_testkit::shared_cache_dir()).await
}

async fn fixture_with_cache(cache_dir: std::path::PathBuf) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = hangar_testkit::backend::database_url_in(dir.path());
    let db = Database::connect(&url).await.unwrap();
    let alerts = Alerts::new(db.clone());
    let mut config = RuntimeConfig::new(cache_dir);
    config.engine = EngineSettings {
        epoch_tick: Duration::from_millis(2),
        total_component_instances: 100,
        ..EngineSettings::default()
    };
    let runtime = Runtime::start(config, db, alerts.clone()).unwrap();
    Fixture {
        _dir: dir,
        runtime,
        alerts,
    }
}

fn name(s: &str) -> PluginName {
    s.parse().unwrap()
}

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

async fn load(f: &Fixture, guest: &str, plugin: &str, version: &str) -> Arc<PluginVersion> {
    f.runtime
        .load(name(plugin), v(version), guests::wasm(guest).into(), None)
        .await
        .unwrap()
}

async fn install(
    f: &Fixture,
    guest: &str,
    plugin: &str,
    settings: PluginSettings,
    config: &str,
) -> Arc<Plugin> {
    let version = load(f, guest, plugin, "1.0.0").await;
    f.runtime
        .install(version, settings, Arc::new(config.to_owned()))
        .unwrap()
}

fn msg(text: &str) -> wit::ChatMessage {
    wit::ChatMessage {
        id: "m1".into(),
        room: "room-1".into(),
        sender: "alice".into(),
        text: text.into(),
        time_ms: 1_700_000_000_000,
        attachments: vec![],
    }
}

async fn chat(plugin: &Plugin, text: &str) -> Result<wit::Outcome, Unanswered> {
    let m = msg(text);
    plugin
        .invoke(move |exports, store| Ok(exports.chat()?.call_on_message(store, &m)))
        .await
}

fn rewritten(outcome: &wit::Outcome) -> &str {
    match &outcome.verdict {
        wit::Verdict::Rewrite(text) => text,
        other => panic!("expected a rewrite, got {other:?}"),
    }
}

fn failure(result: Result<wit::Outcome, Unanswered>) -> CallFailure {
    match result {
        Err(Unanswered::Failed { failure, .. }) => failure,
        other => panic!("expected a failed call, got {other:?}"),
    }
}

fn settings(deadline_ms: u64) -> PluginSettings {
    let mut s = PluginSettings::default();
    s.limits.deadline = Duration::from_millis(deadline_ms);
    s
}

const MODERATION: &str = r#"{"mask": ["darn"], "reject": ["scam"], "flag": [{"words": ["lawyer"], "severity": "critical"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_moderation_gives_every_verdict() {
    let f = fixture().await;
    let p = install(
        &f,
        "keyword-moderation",
        "keyword-moderation",
        PluginSettings::default(),
        MODERATION,
    )
    .await;
    assert_eq!(
        chat(&p, "hello there").await.unwrap().verdict,
        wit::Verdict::Allow
    );
    assert_eq!(
        rewritten(&chat(&p, "well DARN it").await.unwrap()),
        "well **** it"
    );
    assert_eq!(rewritten(&chat(&p, "ｄａｒｎ").await.unwrap()), "****");
    assert!(matches!(
        chat(&p, "a SCAM offer").await.unwrap().verdict,
        wit::Verdict::Reject(_)
    ));
    match chat(&p, "my lawyer will call").await.unwrap().verdict {
        wit::Verdict::Flag(alert) => {
            assert_eq!(alert.severity, wit::Severity::Critical);
            assert!(alert.reason.contains("lawyer"), "{}", alert.reason);
        }
        other => panic!("expected a flag, got {other:?}"),
    }
}

/// Components built against `hangar:plugin@0.1.0`, kept as they were built
/// (`plugins/contract-0.1.0`): a chat plugin importing the 0.1.0 host
/// interface still moderates with its configuration, and a material
/// without the 0.2.0 `structure` export still describes and renders, as
/// a leaf.
#[tokio::test]
async fn components_built_against_contract_0_1_0_keep_working() {
    let f = fixture().await;
    let fixture = |file: &str| {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../plugins/contract-0.1.0")
                .join(file),
        )
        .unwrap()
    };
    let moderation = f
        .runtime
        .load(
            name("legacy-moderation"),
            v("0.1.0"),
            fixture("keyword_moderation.wasm").into(),
            None,
        )
        .await
        .unwrap();
    let p = f
        .runtime
        .install(
            moderation,
            PluginSettings::default(),
            Arc::new(MODERATION.to_owned()),
        )
        .unwrap();
    assert_eq!(
        rewritten(&chat(&p, "well DARN it").await.unwrap()),
        "well **** it"
    );
    let card = f
        .runtime
        .load(
            name("legacy-card"),
            v("0.1.0"),
            fixture("material_card.wasm").into(),
            None,
        )
        .await
        .unwrap();
    let p = f
        .runtime
        .install(card, PluginSettings::default(), Arc::new("{}".to_owned()))
        .unwrap();
    let (contract, structure, html) = p
        .invoke(|exports, store| {
            let calls = exports.material()?;
            let contract = calls.contract();
            Ok(calls.call_structure(store).and_then(|structure| {
                let html = calls.call_render(store, r#"{"title": "Plans"}"#)?;
                Ok((contract, structure, html))
            }))
        })
        .await
        .unwrap();
    assert_eq!(contract, "0.1.0");
    assert!(structure.slots.is_empty() && structure.events.is_empty());
    assert_eq!(
        html.unwrap(),
        r#"<article class="hm-card"><h3>Plans</h3></article>"#
    );
}

async fn faq_bot_replies_once_per_cooldown_using_its_kv_store() {
    let f = fixture().await;
    let config = r#"{"entries": [{"keywords": ["退款", "refund"], "answer": "Refunds take 3 days."}], "cooldown_secs": 60}"#;
    // The host-call budget is not what this test is about: on PostgreSQL a
    // key-value write is a few round trips to another process, which a
    // test run that saturates both cores can stretch past 100 ms.
    let mut settings = PluginSettings::default();
    settings.limits.host_budget = Duration::from_secs(5);
    let p = install(&f, "faq-bot", "faq-bot", settings, config).await;
    let first = chat(&p, "我要退款").await.unwrap();
    assert_eq!(first.verdict, wit::Verdict::Allow);
    assert_eq!(first.replies.len(), 1);
    assert_eq!(first.replies[0].text, "Refunds take 3 days.");
    // Same room, same time: within the cooldown, remembered in the KV store
    // across fresh instances.
    assert!(chat(&p, "REFUND please").await.unwrap().replies.is_empty());
    assert!(chat(&p, "hello").await.unwrap().replies.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_policy_allows_and_rejects_by_content() {
    let f = fixture().await;
    install(
        &f,
        "upload-policy",
        "upload-policy",
        PluginSettings::default(),
        "{}",
    )
    .await;
    f.runtime
        .set_chain(Hook::Uploads, &[name("upload-policy")])
        .unwrap();
    let file = |n: &str| wit::FileInfo {
        id: "f1".into(),
        name: n.into(),
        size: 100,
        md5: "0".repeat(32),
        content_type: "application/octet-stream".into(),
    };
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let elf = elf_header();
    let chain = f.runtime.upload_chain();
    assert!(
        chain
            .on_upload(file("cat.png"), png)
            .await
            .rejected
            .is_none()
    );
    let rejected = chain
        .on_upload(file("cat.png"), elf)
        .await
        .rejected
        .unwrap();
    assert_eq!(rejected.by.as_str(), "upload-policy");
    assert!(
        rejected.reason.contains("executable"),
        "{}",
        rejected.reason
    );
    assert!(
        chain
            .on_upload(file("run.exe"), vec![])
            .await
            .rejected
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn materials_describe_and_render() {
    let f = fixture().await;
    let p = install(
        &f,
        "material-button",
        "button",
        PluginSettings::default(),
        "{}",
    )
    .await;
    assert_eq!(p.world(), World::Material);
    let info = p
        .invoke(|exports, store| Ok(exports.material()?.call_describe(store)))
        .await
        .unwrap();
    assert_eq!(info.name, "button");
    let schema: serde_json::Value = serde_json::from_str(&info.props_schema).unwrap();
    assert_eq!(schema["required"][0], "label");
    let html = p
        .invoke(|exports, store| {
            Ok(exports
                .material()?
                .call_render(store, r#"{"label": "Buy <now>"}"#))
        })
        .await
        .unwrap()
        .unwrap();
    assert!(html.contains("Buy &lt;now&gt;"), "{html}");
    let err = p
        .invoke(|exports, store| {
            Ok(exports
                .material()?
                .call_render(store, r#"{"label": "x", "variant": "neon"}"#))
        })
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.contains("variant"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_at_its_deadline_and_the_next_call_works() {
    let f = fixture().await;
    let p = install(&f, "guest-misbehave", "misbehave", settings(50), "{}").await;
    let started = Instant::now();
    assert_eq!(
        failure(chat(&p, "loop").await),
        CallFailure::Timeout(Duration::from_millis(50))
    );
    // A liveness bound, not a speed target: the loop did not run on.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        chat(&p, "hello").await.unwrap().verdict,
        wit::Verdict::Allow
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_flowing_while_a_plugin_loops() {
    // Plugin calls run on the blocking pool: async tasks keep running.
    let f = fixture().await;
    let p = install(&f, "guest-misbehave", "misbehave", settings(300), "{}").await;
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let looping: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { chat(&p, "loop").await })
        })
        .collect();
    for call in looping {
        assert!(matches!(
            failure(call.await.unwrap()),
            CallFailure::Timeout(_)
        ));
    }
    ticker.abort();
    assert!(
        ticks.load(Ordering::Relaxed) >= 10,
        "async tasks starved: {}",
        ticks.load(Ordering::Relaxed)
    );
}

/// The deadline bounds guest time; time blocked in host functions (each
/// key-value write is a synced commit) is charged to a separate host-call
/// budget, so a call never runs longer than the two together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_calls_spend_a_bounded_budget() {
    let f = fixture().await;
    let mut s = settings(30);
    s.limits.host_budget = Duration::from_millis(150);
    let p = install(&f, "guest-misbehave", "misbehave", s, "{}").await;
    // A few writes fit.
    let outcome = chat(&p, "kv-many:5").await.unwrap();
    assert_eq!(rewritten(&outcome), "kv-many 5");
    // 2,000 writes do not: the call is stopped when the budget is spent.
    let started = Instant::now();
    let failed = failure(chat(&p, "kv-many:2000").await);
    let took = started.elapsed();
    assert!(matches!(failed, CallFailure::HostBudget(_)), "{failed:?}");
    // Deadline + host budget is 180 ms; anything under a second shows the
    // bound holds (2,000 synced writes take seconds).
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // The store is left usable: nothing of the stopped call holds it (its
    // transaction rolled back). A generous budget here: on a loaded
    // machine one synced write can take longer than 150 ms.
    let mut generous = (*p.settings()).clone();
    generous.limits.host_budget = Duration::from_secs(5);
    p.set_settings(generous);
    assert_eq!(
        rewritten(&chat(&p, "kv-set:10").await.unwrap()),
        "kv-set ok"
    );
    // Guest time is still bounded.
    assert!(matches!(
        failure(chat(&p, "loop").await),
        CallFailure::Timeout(_)
    ));
}

/// WASI timers fire at once: a guest cannot sleep past its deadline (the
/// clocks read zero, so it could not tell the time passing anyway). One
/// that waits for the clock to move spins, and the deadline stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_cannot_sleep_past_the_deadline() {
    let f = fixture().await;
    let p = install(&f, "guest-misbehave", "misbehave", settings(200), "{}").await;
    let started = Instant::now();
    assert_eq!(
        rewritten(&chat(&p, "sleep:3000").await.unwrap()),
        "slept 3000"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    assert_eq!(
        rewritten(&chat(&p, "sleep-forever").await.unwrap()),
        "woke up"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let failed = failure(chat(&p, "wait:1000").await);
    assert!(matches!(failed, CallFailure::Timeout(_)), "{failed:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The failure counts towards quarantine like any other.
    assert_eq!(p.status().failures, 1);
}

/// Reasons and rewritten text over their budgets are failures of the
/// plugin, answered by its policy; log floods are cut at the call's budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_budget_are_failures() {
    let f = fixture().await;
    let mut s = settings(2000);
    s.failure_policy = FailurePolicy::FailClosed;
    install(&f, "guest-misbehave", "misbehave", s, "{}").await;
    f.runtime
        .set_chain(Hook::ChatMessages, &[name("misbehave")])
        .unwrap();
    let chain = f.runtime.chat_chain();
    for over in [
        "rewrite-huge:8388608",
        "reject-huge:2000",
        "flag-huge:4194304",
    ] {
        let d = chain.on_message(msg(over)).await;
        let rejection = d
            .rejected
            .unwrap_or_else(|| panic!("{over} was let through"));
        assert!(
            rejection.reason.contains("could not be checked"),
            "{over}: {}",
            rejection.reason
        );
        assert!(rejection.reason.len() < 1024, "{over}");
        assert!(d.flags.is_empty() && d.text.len() < 100, "{over}");
    }
    // Within the budgets, the same answers are taken as given.
    let d = chain.on_message(msg("reject-huge:1000")).await;
    assert_eq!(d.rejected.unwrap().reason.len(), 1000);
    let d = chain.on_message(msg("rewrite-huge:4000")).await;
    assert_eq!(d.text.len(), 4000);
    // A log flood answers normally; the log keeps a bounded amount.
    let d = chain.on_message(msg("log-flood:500")).await;
    assert_eq!(d.text, "logged 500");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growing_memory_past_the_cap_traps_cleanly() {
    let f = fixture().await;
    let mut s = settings(2000);
    s.limits.memory_bytes = 8 << 20;
    let p = install(&f, "guest-misbehave", "misbehave", s, "{}").await;
    assert_eq!(
        failure(chat(&p, "oom").await),
        CallFailure::OutOfMemory(8 << 20)
    );
    assert_eq!(
        chat(&p, "hello").await.unwrap().verdict,
        wit::Verdict::Allow
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_or_panic_does_not_affect_the_next_call() {
    let f = fixture().await;
    for isolation in [
        Isolation::PerCall,
        Isolation::Pooled {
            max_uses: 100,
            max_idle: 2,
        },
    ] {
        let mut s = settings(500);
        s.isolation = isolation;
        let p = install(&f, "guest-misbehave", "misbehave", s, "{}").await;
        assert!(matches!(
            failure(chat(&p, "trap").await),
            CallFailure::Trap(_)
        ));
        assert_eq!(
            chat(&p, "hello").await.unwrap().verdict,
            wit::Verdict::Allow
        );
        assert!(matches!(
            failure(chat(&p, "panic").await),
            CallFailure::Trap(_)
        ));
        assert_eq!(
            chat(&p, "hello").await.unwrap().verdict,
            wit::Verdict::Allow
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_isolation_shares_nothing_and_pooled_reuses_up_to_its_bound() {
    let f = fixture().await;
    let p = install(
        &f,
        "guest-misbehave",
        "misbehave",
        PluginSettings::default(),
        "{}",
    )
    .await;
    for _ in 0..3 {
        assert_eq!(rewritten(&chat(&p, "calls").await.unwrap()), "calls 1");
    }
    let pooled = PluginSettings {
        isolation: Isolation::Pooled {
            max_uses: 3,
            max_idle: 1,
        },
        ..PluginSettings::default()
    };
    p.set_settings(pooled);
    let seen: Vec<String> = {
        let mut seen = Vec::new();
        for _ in 0..7 {
            seen.push(rewritten(&chat(&p, "calls").await.unwrap()).to_owned());
        }
        seen
    };
    assert_eq!(
        seen,
        [
            "calls 1", "calls 2", "calls 3", "calls 1", "calls 2", "calls 3", "calls 1"
        ]
    );
    // After a trap the warm instance is dropped: the next call starts afresh.
    assert_eq!(rewritten(&chat(&p, "calls").await.unwrap()), "calls 2");
    assert!(chat(&p, "trap").await.is_err());
    assert_eq!(rewritten(&chat(&p, "calls").await.unwrap()), "calls 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_have_no_environment_files_or_network() {
    let f = fixture().await;
    let p = install(&f, "guest-misbehave", "misbehave", settings(2000), "{}").await;
    assert_eq!(rewritten(&chat(&p, "env").await.unwrap()), "env 0");
    let fs = chat(&p, "fs").await.unwrap();
    assert!(rewritten(&fs).starts_with("fs denied"), "{fs:?}");
    let net = chat(&p, "net").await.unwrap();
    assert!(rewritten(&net).starts_with("net denied"), "{net:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_reaches_the_guest_and_changes_apply_to_the_next_call() {
    let f = fixture().await;
    let p = install(
        &f,
        "guest-misbehave",
        "misbehave",
        PluginSettings::default(),
        r#"{"a":1}"#,
    )
    .await;
    assert_eq!(rewritten(&chat(&p, "config").await.unwrap()), r#"{"a":1}"#);
    p.set_config(Arc::new(r#"{"a":2}"#.to_owned()));
    assert_eq!(rewritten(&chat(&p, "config").await.unwrap()), r#"{"a":2}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_plugin_that_keeps_its_parsed_configuration_sees_a_change_at_the_next_call() {
    let f = fixture().await;
    let pooled = PluginSettings {
        isolation: Isolation::Pooled {
            max_uses: 1000,
            max_idle: 2,
        },
        ..PluginSettings::default()
    };
    let p = install(
        &f,
        "keyword-moderation",
        "keyword-moderation",
        pooled,
        r#"{"mask": ["apple"]}"#,
    )
    .await;
    // keyword-moderation parses its configuration once per instance.
    for _ in 0..3 {
        assert_eq!(
            rewritten(&chat(&p, "apple pie").await.unwrap()),
            "***** pie"
        );
    }
    p.set_config(Arc::new(r#"{"mask": ["pie"]}"#.to_owned()));
    assert_eq!(
        rewritten(&chat(&p, "apple pie").await.unwrap()),
        "apple ***"
    );
}

async fn kv_quota_is_enforced_and_refused_writes_change_nothing() {
    let f = fixture().await;
    let mut s = PluginSettings::default();
    s.limits.kv_quota_bytes = 1000;
    // Not about the host-call budget (tested on its own): as for the FAQ
    // bot above, a PostgreSQL write in a saturated test run can exceed 100 ms.
    s.limits.host_budget = Duration::from_secs(5);
    let p = install(&f, "guest-misbehave", "misbehave", s, "{}").await;
    // "blob" (4 bytes) + 900 bytes fits in 1000.
    assert_eq!(
        rewritten(&chat(&p, "kv-set:900").await.unwrap()),
        "kv-set ok"
    );
    match chat(&p, "kv-set:997").await.unwrap().verdict {
        wit::Verdict::Reject(reason) => assert!(reason.contains("quota of 1000 bytes"), "{reason}"),
        other => panic!("expected the quota to refuse the write, got {other:?}"),
    }
    assert_eq!(rewritten(&chat(&p, "kv-get").await.unwrap()), "kv-get 900");
    assert_eq!(
        rewritten(&chat(&p, "kv-delete").await.unwrap()),
        "kv-delete ok"
    );
    assert_eq!(rewritten(&chat(&p, "kv-get").await.unwrap()), "kv-get -1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_quarantine_the_plugin_and_raise_one_alert() {
    let f = fixture().await;
    let mut s = settings(500);
    s.quarantine_after = 3;
    let p = install(&f, "guest-misbehave", "misbehave", s, "{}").await;
    let mut live = f.alerts.subscribe();
    // Successes reset the count: two failures, a success, then three.
    for text in ["trap", "trap", "hello", "trap", "trap"] {
        let _ = chat(&p, text).await;
    }
    assert!(!p.is_quarantined());
    assert!(chat(&p, "trap").await.is_err());
    assert!(p.is_quarantined());
    assert_eq!(p.status().state, "quarantined");
    // Quarantined: not called at all.
    assert!(matches!(
        chat(&p, "hello").await,
        Err(Unanswered::Quarantined(_))
    ));
    let alert = live.recv().await.unwrap();
    assert_eq!(alert.kind, AlertKind::Quarantine);
    assert_eq!(alert.severity, Severity::Critical);
    assert_eq!(alert.source, "misbehave");
    let stored = f.alerts.list(None, 10, None).await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].id, alert.id);
    assert_eq!(p.status().failures, 5);
    // Lifting the quarantine lets it run again.
    p.reset_health();
    assert_eq!(
        chat(&p, "hello").await.unwrap().verdict,
        wit::Verdict::Allow
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_policy_decides_for_a_failing_plugin_in_the_chain() {
    let f = fixture().await;
    let mut open = settings(500);
    open.failure_policy = FailurePolicy::FailOpen;
    install(&f, "guest-misbehave", "misbehave", open, "{}").await;
    install(
        &f,
        "keyword-moderation",
        "keyword-moderation",
        PluginSettings::default(),
        MODERATION,
    )
    .await;
    f.runtime
        .set_chain(
            Hook::ChatMessages,
            &[name("misbehave"), name("keyword-moderation")],
        )
        .unwrap();
    let chain = f.runtime.chat_chain();
    // fail-open: the trap is recorded, the next plugin still runs.
    let d = chain.on_message(msg("trap")).await;
    assert!(d.rejected.is_none());
    assert_eq!(d.unanswered.len(), 1);
    let d = chain.on_message(msg("darn")).await;
    assert_eq!(d.text, "****");
    // fail-closed: the message is rejected, naming the plugin.
    let p = f.runtime.get(&name("misbehave")).unwrap();
    let mut closed = settings(500);
    closed.failure_policy = FailurePolicy::FailClosed;
    p.set_settings(closed);
    let d = chain.on_message(msg("trap")).await;
    let rejection = d.rejected.unwrap();
    assert_eq!(rejection.by.as_str(), "misbehave");
    assert!(
        rejection.reason.contains("could not be checked"),
        "{}",
        rejection.reason
    );
    // Disabled plugins are skipped, not failed.
    let mut disabled = settings(500);
    disabled.enabled = false;
    disabled.failure_policy = FailurePolicy::FailClosed;
    p.set_settings(disabled);
    let d = chain.on_message(msg("trap")).await;
    assert!(d.rejected.is_none(), "{:?}", d.rejected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_feed_rewrites_forward_stop_at_reject_and_cap_replies() {
    let f = fixture().await;
    install(
        &f,
        "keyword-moderation",
        "keyword-moderation",
        PluginSettings::default(),
        MODERATION,
    )
    .await;
    install(&f, "guest-swap-v1", "swap", PluginSettings::default(), "{}").await;
    install(
        &f,
        "guest-misbehave",
        "misbehave",
        PluginSettings::default(),
        "{}",
    )
    .await;
    f.runtime
        .set_chain(
            Hook::ChatMessages,
            &[name("keyword-moderation"), name("swap")],
        )
        .unwrap();
    let chain = f.runtime.chat_chain();
    let d = chain.on_message(msg("darn")).await;
    // swap saw the masked text and rewrote it again.
    assert_eq!(d.text, "v1:****");
    assert_eq!(d.rewritten_by, [name("keyword-moderation"), name("swap")]);
    assert_eq!(d.replies.len(), 1);
    let d = chain.on_message(msg("scam")).await;
    assert_eq!(d.rejected.unwrap().by, name("keyword-moderation"));
    assert!(
        d.replies.is_empty(),
        "a rejected message gets no bot replies"
    );

    f.runtime
        .set_chain(Hook::ChatMessages, &[name("misbehave")])
        .unwrap();
    // Five replies are within the budget; six, or one longer than the
    // text limit, make the answer a failure of the plugin: nothing is cut
    // short or dropped silently.
    let d = f.runtime.chat_chain().on_message(msg("replies:5:10")).await;
    assert_eq!(d.replies.len(), 5);
    assert!(d.unanswered.is_empty());
    for over in ["replies:6:10", "replies:1:4001"] {
        let d = f.runtime.chat_chain().on_message(msg(over)).await;
        assert!(d.replies.is_empty(), "{over}");
        assert!(
            matches!(
                &d.unanswered[..],
                [Unanswered::Failed {
                    failure: CallFailure::OverBudget(_),
                    ..
                }]
            ),
            "{over}: {:?}",
            d.unanswered
        );
    }

    let err = f
        .runtime
        .set_chain(Hook::Uploads, &[name("swap")])
        .unwrap_err();
    assert!(err.to_string().contains("upload-hook"), "{err}");
    let err = f
        .runtime
        .set_chain(Hook::ChatMessages, &[name("swap"), name("swap")])
        .unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    assert!(
        f.runtime
            .set_chain(Hook::ChatMessages, &[name("nope")])
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_components_are_refused_with_the_reason() {
    let f = fixture().await;
    let err = f
        .runtime
        .load(
            name("junk"),
            v("1.0.0"),
            b"not wasm at all".to_vec().into(),
            None,
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not a loadable WebAssembly component"),
        "{err}"
    );
    // A core module is not a component.
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    assert!(
        f.runtime
            .load(name("core"), v("1.0.0"), core_module.into(), None)
            .await
            .is_err()
    );
    // Bytes that do not match the digest asked for are never compiled.
    let wasm = guests::wasm("guest-swap-v1");
    let wrong = hangar_registry::Digest::of(b"something else");
    match f
        .runtime
        .load(name("swap"), v("1.0.0"), wasm.into(), Some(wrong))
        .await
    {
        Err(LoadError::DigestMismatch { expected, .. }) => assert_eq!(expected, wrong),
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    // A slot keeps its world.
    let chat_plugin = install(&f, "guest-swap-v1", "swap", PluginSettings::default(), "{}").await;
    let material = load(&f, "material-text", "swap", "2.0.0").await;
    assert!(matches!(
        chat_plugin.activate(material),
        Err(SwapError::WorldChanged { .. })
    ));
    assert!(matches!(
        chat_plugin.rollback(),
        Err(SwapError::NoPrevious(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loads_from_the_compiled_cache_and_a_tampered_artifact_is_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let wasm = guests::wasm("guest-swap-v2");
    {
        let f = fixture_with_cache(cache.path().to_path_buf()).await;
        f.runtime
            .load(name("swap"), v("2.0.0"), wasm.clone().into(), None)
            .await
            .unwrap();
        assert_eq!(f.runtime.cache_counts().compiled, 1);
        assert_eq!(f.runtime.cache_counts().hits, 0);
    }
    // "Restart": a new runtime over the same cache.
    let f = fixture_with_cache(cache.path().to_path_buf()).await;
    let version = f
        .runtime
        .load(name("swap"), v("2.0.0"), wasm.clone().into(), None)
        .await
        .unwrap();
    assert_eq!(f.runtime.cache_counts().compiled, 0);
    assert_eq!(f.runtime.cache_counts().hits, 1);
    // Without the WebAssembly at all (registry down).
    let cached = f
        .runtime
        .load_cached(name("swap"), v("2.0.0"), version.digest, version.size)
        .await
        .unwrap();
    let p = f
        .runtime
        .install(cached, PluginSettings::default(), Arc::new("{}".into()))
        .unwrap();
    assert_eq!(rewritten(&chat(&p, "x").await.unwrap()), "v2:x");

    // Flip one byte of native code: refused, recompiled, never run.
    let artifact = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let mut bytes = std::fs::read(&artifact).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&artifact, &bytes).unwrap();
    let f = fixture_with_cache(cache.path().to_path_buf()).await;
    assert!(matches!(
        f.runtime
            .load_cached(name("swap"), v("2.0.0"), version.digest, version.size)
            .await,
        Err(LoadError::NotCached(_))
    ));
    f.runtime
        .load(name("swap"), v("2.0.0"), wasm.into(), None)
        .await
        .unwrap();
    let counts = f.runtime.cache_counts();
    assert_eq!((counts.rejected, counts.compiled), (1, 1), "{counts:?}");

    // Another component's valid artifact copied over this one's name: its
    // MAC is for the other digest, so it is refused and never loaded as
    // this component.
    let v1 = guests::wasm("guest-swap-v1");
    let other = f
        .runtime
        .load(name("swap"), v("1.0.0"), v1.into(), None)
        .await
        .unwrap();
    let artifacts: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    let (of_v1, of_v2): (Vec<_>, Vec<_>) = artifacts
        .iter()
        .partition(|p| p.to_string_lossy().contains(&other.digest.hex()));
    std::fs::copy(of_v1[0], of_v2[0]).unwrap();
    let f = fixture_with_cache(cache.path().to_path_buf()).await;
    assert!(matches!(
        f.runtime
            .load_cached(name("swap"), v("2.0.0"), version.digest, version.size)
            .await,
        Err(LoadError::NotCached(_))
    ));
    assert_eq!(f.runtime.cache_counts().rejected, 1);
}

/// 8 callers make 2,000+ calls while v1 is swapped for v2: no call fails,
/// each is answered wholly by one version, and every call that starts after
/// `activate` returns is answered by v2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_swap_under_load_drops_nothing_and_switches_at_once() {
    let f = fixture().await;
    let p = install(&f, "guest-swap-v1", "swap", PluginSettings::default(), "{}").await;
    let v2 = load(&f, "guest-swap-v2", "swap", "2.0.0").await;
    const CALLERS: usize = 8;
    const CALLS_EACH: usize = 300;
    let swapped = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|c| {
            let (p, swapped, done) = (p.clone(), swapped.clone(), done.clone());
            tokio::spawn(async move {
                let mut answers = Vec::with_capacity(CALLS_EACH);
                for i in 0..CALLS_EACH {
                    let after_swap = swapped.load(Ordering::SeqCst);
                    let text = format!("c{c}-{i}");
                    let outcome = chat(&p, &text)
                        .await
                        .expect("no call may fail during a swap");
                    done.fetch_add(1, Ordering::Relaxed);
                    answers.push((after_swap, text, outcome));
                }
                answers
            })
        })
        .collect();
    while done.load(Ordering::Relaxed) < CALLERS * CALLS_EACH / 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    p.activate(v2).unwrap();
    swapped.store(true, Ordering::SeqCst);
    let (mut v1_calls, mut v2_calls) = (0, 0);
    for caller in callers {
        for (after_swap, text, outcome) in caller.await.unwrap() {
            let rewrite = rewritten(&outcome);
            let version = &outcome.replies[0].text;
            assert_eq!(
                rewrite,
                format!("{version}:{text}"),
                "answered by two versions at once"
            );
            if after_swap {
                assert_eq!(
                    version, "v2",
                    "a call started after the swap was answered by {version}"
                );
            }
            match version.as_str() {
                "v1" => v1_calls += 1,
                "v2" => v2_calls += 1,
                other => panic!("unknown version {other}"),
            }
        }
    }
    assert_eq!(v1_calls + v2_calls, CALLERS * CALLS_EACH);
    assert!(v1_calls > 0 && v2_calls > 0, "v1 {v1_calls}, v2 {v2_calls}");
    assert_eq!(p.status().failures, 0);
    // Rollback is a swap back.
    assert_eq!(p.rollback().unwrap().version, v("1.0.0"));
    assert_eq!(chat(&p, "x").await.unwrap().replies[0].text, "v1");
}

/// An x86-64 ELF header, padded to the 64 bytes a real one has.
fn elf_header() -> Vec<u8> {
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.resize(64, 0);
    elf
}

/// Guests import only the host interface and WASI (which the Rust standard
/// library pulls in, and which the host links with no files, network or
/// environment); nothing else can be linked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_plugins_import_only_the_host_interface_and_wasi() {
    let f = fixture().await;
    let engine = f.runtime.engine();
    for guest in [
        "keyword-moderation",
        "faq-bot",
        "upload-policy",
        "material-text",
        "material-button",
        "material-image",
    ] {
        let component = wasmtime::component::Component::new(engine, guests::wasm(guest)).unwrap();
        let imports: Vec<String> = component
            .component_type()
            .imports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        // Plugins that read their configuration or keep state import the
        // host interface; materials need nothing from the host.
        if !guest.starts_with("material-") {
            assert!(
                imports
                    .iter()
                    .any(|i| i.starts_with("hangar:plugin/host@0.2.0")),
                "{guest}: {imports:?}"
            );
        }
        for import in &imports {
            assert!(
                import.starts_with("hangar:plugin/") || import.starts_with("wasi:"),
                "{guest} imports {import}"
            );
        }
    }
}

hangar_testkit::on_every_backend!(
    kv_quota_is_enforced_and_refused_writes_change_nothing,
    faq_bot_replies_once_per_cooldown_using_its_kv_store,
);

/// The registry refuses at publish what the host cannot link
/// (`hangar_registry::imports`): the interfaces on its list link on the
/// host, and those it leaves out do not. Each import asks for a resource
/// its interface defines, so that linking means the host provides it (an
/// empty instance would link anywhere). Interfaces without resources
/// (clocks, random, stdio, environment) are imported by every Rust guest
/// the tests load.
#[tokio::test]
async fn the_host_links_what_the_registry_accepts_and_not_what_it_refuses() {
    let f = fixture().await;
    let listed: &[(&str, &[&str])] = &[
        ("wasi:io/error@0.2.0", &["error"]),
        ("wasi:io/poll@0.2.3", &["pollable"]),
        ("wasi:io/streams@0.2.0", &["input-stream", "output-stream"]),
        ("wasi:cli/terminal-input@0.2.0", &["terminal-input"]),
        ("wasi:cli/terminal-output@0.2.0", &["terminal-output"]),
        ("wasi:filesystem/types@0.2.0", &["descriptor"]),
        ("wasi:sockets/network@0.2.0", &["network"]),
        ("wasi:sockets/tcp@0.2.0", &["tcp-socket"]),
        ("wasi:sockets/udp@0.2.0", &["udp-socket"]),
        (
            "wasi:sockets/ip-name-lookup@0.2.0",
            &["resolve-address-stream"],
        ),
    ];
    for (import, resources) in listed {
        assert!(hangar_registry::imports::is_linked(import), "{import}");
        let linked = f.runtime.links(&guests::importing(&[(import, resources)]));
        assert!(
            linked.is_ok(),
            "{import} is listed but does not link: {linked:?}"
        );
    }
    let refused: &[(&str, &[&str])] = &[
        ("wasi:http/types@0.2.0", &["fields"]),
        ("wasi:http/types@0.2.10", &["fields"]),
        ("wasi:io/poll@0.3.0", &["pollable"]),
        ("wasi:keyvalue/store@0.2.0", &["bucket"]),
    ];
    for (import, resources) in refused {
        assert!(!hangar_registry::imports::is_linked(import), "{import}");
        assert!(
            f.runtime
                .links(&guests::importing(&[(import, resources)]))
                .is_err(),
            "{import} links, but the registry refuses it"
        );
    }
}

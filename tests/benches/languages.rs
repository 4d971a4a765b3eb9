//! One chat plugin per language, from `hangar new` (Rust, Python,
//! JavaScript with componentize-qjs): component size, build time, the
//! host's compile at activation, the server's RSS after it, and the cost
//! of a message through the server's real path (WebSocket send -> chain ->
//! plugin -> stored -> ack) with `per-call` and `pooled` isolation. Two
//! figures per message: the client's send -> ack, and the chain's call of
//! the plugin as the server times it (`hangar_plugin_call_seconds`, read
//! from `/api/admin/plugins`: the wait for a turn, the instance, the call).
//! Ratios are against the Rust plugin with `per-call` isolation, measured
//! in the same run.
//!
//! Run: `cargo bench -p hangar-testkit --bench languages` (builds the
//! server in release; `HANGAR_BIN` names another build).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: any failure aborts the run

use std::time::{Duration, Instant};

use hangar_testkit::metrics::Scrape;
use hangar_testkit::server::{Server, mint_token, request};
use hangar_testkit::templates;
use hangar_testkit::ws::WsClient;
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLISH_TOKEN: &str = "publish-token-0123456789abcdef";
const SESSION_KEY: &str = "bench-session-key-0123456789abcdef";
/// Messages timed per plugin and isolation (after a warm-up).
const MESSAGES: usize = 400;
const WARM_UP: usize = 40;

async fn admin(url: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, body) = request(method, &format!("{url}{path}"), Some(ADMIN), body.as_ref()).await;
    assert!(status < 300, "{path}: {status} {body}");
    body
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

struct Row {
    label: String,
    send_ack: (f64, f64),
    call: (f64, f64),
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    std::fs::create_dir(&server_dir).unwrap();
    let cache = server_dir.join("cache").display().to_string();
    let server = Server::start(
        &["--data-dir", "data", "--cache-dir", &cache],
        &[
            ("HANGAR_SESSION_KEY", SESSION_KEY),
            ("HANGAR_ADMIN_TOKEN", ADMIN),
            ("HANGAR_PUBLISH_TOKENS", &format!("bench={PUBLISH_TOKEN}")),
            // The per-connection send budget would pace the client.
            ("HANGAR_HUB__SEND_RATE_PER_SEC", "1000000"),
            ("HANGAR_HUB__SEND_BURST", "1000000"),
            ("RUST_LOG", "warn"),
        ],
        &server_dir,
    )
    .expect("server");
    let url = server.url.clone();
    let rss = |scrape: &Scrape| scrape.value("process_resident_memory_bytes") / f64::from(1 << 20);
    println!(
        "server RSS at start: {:.0} MiB",
        rss(&Scrape::of(&url).await)
    );

    let token = mint_token(SESSION_KEY, "ann", "customer", 3600);
    let (_, opened) = request(
        Method::POST,
        &format!("{url}/api/conversations"),
        Some(&token),
        None,
    )
    .await;
    let room = opened["room"].as_str().unwrap().to_owned();
    let mut client = WsClient::connect(&url, &token, None).await.unwrap();
    client.expect("welcome").await;
    client.send(json!({"type": "join", "room": room})).await;
    client.expect("joined").await;

    println!();
    println!("| language | component | build | host compile | server RSS after |");
    println!("|---|---|---|---|---|");
    let mut rows = Vec::new();
    let mut seq = 0usize;
    for lang in ["rust", "python", "js"] {
        let name = format!("{}-bot", &lang[..2]);
        let project = templates::scaffold(dir.path(), "chat-plugin", &name, lang);
        let (wasm, built) = templates::build(lang, &project, &name);
        let size = wasm.len();
        // Two versions of the same bytes: each isolation gets its own
        // call histogram (they are labelled by version).
        for version in ["0.1.0", "0.1.1"] {
            let response = reqwest::Client::new()
                .put(format!("{url}/registry/v1/packages/{name}/{version}"))
                .bearer_auth(PUBLISH_TOKEN)
                .body(wasm.clone())
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{}",
                response.text().await.unwrap()
            );
        }
        let activated = admin(
            &url,
            Method::POST,
            &format!("/api/admin/plugins/{name}/activate"),
            Some(json!({"version": "0.1.0", "wait_ms": 60000})),
        )
        .await;
        let after = rss(&Scrape::of(&url).await);
        println!(
            "| {lang} | {:.0} KiB | {:.1} s | {:.0} ms | {after:.0} MiB |",
            size as f64 / 1024.0,
            built.as_secs_f64(),
            activated["elapsed_ms"].as_f64().unwrap()
        );
        admin(
            &url,
            Method::PUT,
            &format!("/api/admin/plugins/{name}/config"),
            Some(json!({"banned": ["spam"]})),
        )
        .await;
        admin(
            &url,
            Method::PUT,
            "/api/admin/chains/chat-messages",
            Some(json!([name])),
        )
        .await;

        for (isolation, version) in [("per-call", "0.1.0"), ("pooled", "0.1.1")] {
            let settings = if isolation == "pooled" {
                json!({"isolation": {"mode": "pooled", "max_uses": 100000, "max_idle": 4}})
            } else {
                json!({})
            };
            admin(
                &url,
                Method::PUT,
                &format!("/api/admin/plugins/{name}/settings"),
                Some(settings),
            )
            .await;
            admin(
                &url,
                Method::POST,
                &format!("/api/admin/plugins/{name}/activate"),
                Some(json!({"version": version, "wait_ms": 60000})),
            )
            .await;
            let mut times = Vec::with_capacity(MESSAGES);
            for i in 0..WARM_UP + MESSAGES {
                seq += 1;
                let started = Instant::now();
                let ack = client
                    .say(&room, &format!("m{seq}"), &format!("hello number {i}"))
                    .await;
                let took = started.elapsed();
                assert_eq!(ack["type"], "ack", "{ack}");
                if i >= WARM_UP {
                    times.push(took.as_secs_f64() * 1e6);
                }
            }
            times.sort_by(f64::total_cmp);
            let plugins = admin(&url, Method::GET, "/api/admin/plugins", None).await;
            let row = plugins
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap()
                .clone();
            assert_eq!(row["version"], version);
            rows.push(Row {
                label: format!("{lang}, {isolation}"),
                send_ack: (percentile(&times, 0.5), percentile(&times, 0.99)),
                call: (
                    row["p50_us"].as_f64().unwrap_or(f64::NAN),
                    row["p99_us"].as_f64().unwrap_or(f64::NAN),
                ),
            });
        }
        // Out of the chain before the next language's plugin.
        admin(
            &url,
            Method::PUT,
            "/api/admin/chains/chat-messages",
            Some(json!([])),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let base = &rows[0];
    println!();
    println!(
        "{MESSAGES} messages each, one at a time over one WebSocket, after {WARM_UP} to warm up; µs; ratio of p50 to the Rust plugin's per-call p50"
    );
    println!();
    println!(
        "| plugin, isolation | send -> ack p50 | p99 | ratio | plugin call p50 | p99 | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.2} |",
            row.label,
            row.send_ack.0,
            row.send_ack.1,
            row.send_ack.0 / base.send_ack.0,
            row.call.0,
            row.call.1,
            row.call.0 / base.call.0,
        );
    }
    println!();
    println!(
        "server RSS at the end: {:.0} MiB",
        rss(&Scrape::of(&url).await)
    );
}

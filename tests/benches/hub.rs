//! Chat hub benchmark: one room, 1,000 subscribers, publishers at a fixed
//! rate; deliveries per second and send-to-receive latency, with batching
//! on (20 ms window) and off (the baseline), in the same run. Then the
//! server's resident memory per idle connection at 10,000 connections,
//! opened by two generator processes (this binary, re-executed).
//!
//! Then one connection sending as fast as it can: waiting for each ack
//! (the baseline) against pipelining its sends, in the same run.
//!
//! With PostgreSQL and NATS (`HANGAR_BENCH_POSTGRES_URL`,
//! `HANGAR_BENCH_NATS_URL`), the fan-out also runs on one node against three
//! nodes of one cluster on this machine (subscribers spread over the nodes,
//! publishers on the first), batching on.
//!
//! Run: `cargo bench -p hangar-testkit --bench hub` (`HANGAR_BENCH=load`,
//! `idle` or `pipeline` runs one part only).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: any failure aborts the run

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hangar_client::protocol::RoomId;
use hangar_client::{Client, ClientConfig, Event};
use hangar_testkit::metrics::Scrape;
use hangar_testkit::server::{Server, request};

const SUBSCRIBERS: usize = 1000;
const PUBLISHERS: usize = 16;
const KEY: &str = "bench-session-key-0123456789abcdef0123456789";

fn token(user: &str, role: &str) -> String {
    hangar_testkit::server::mint_token(KEY, user, role, 3600)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn hub_settings(dir: &std::path::Path, window_ms: u64) {
    std::fs::write(
        dir.join("hangar.toml"),
        format!(
            "[hub]\nbatch_window_ms = {window_ms}\nsend_rate_per_sec = 1000000\nsend_burst = 1000000\noutbox_capacity = 100000\n"
        ),
    )
    .unwrap();
}

fn start_server(dir: &std::path::Path, window_ms: u64, database_url: Option<&str>) -> Server {
    hub_settings(dir, window_ms);
    let mut env = vec![("HANGAR_SESSION_KEY", KEY), ("RUST_LOG", "warn")];
    if let Some(url) = database_url {
        env.push(("HANGAR_DATABASE_URL", url));
    }
    Server::start(&["--data-dir", "data"], &env, dir).expect("server")
}

struct Figures {
    deliveries_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The first server's `/metrics` before and after the run.
    scrapes: (Scrape, Scrape),
}

/// Publishes `rate` messages per second for `secs` into a room with
/// `SUBSCRIBERS` subscribers, on one server.
async fn load(window_ms: u64, rate: u64, secs: u64) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let server = vec![start_server(dir.path(), window_ms, None)];
    load_on(&server, KEY, rate, secs).await
}

/// As [`load`] on `servers` (tokens signed with `key`): the publishers on
/// the first, the subscribers spread over all of them in turn.
async fn load_on(servers: &[Server], key: &str, rate: u64, secs: u64) -> Figures {
    let server = &servers[0];
    let customer = hangar_testkit::server::mint_token(key, "bench-customer", "customer", 3600);
    let url = format!("{}/api/conversations", server.url);
    let (_, conversation) = request(reqwest::Method::POST, &url, Some(&customer), None).await;
    let room: RoomId = conversation["room"].as_str().unwrap().parse().unwrap();
    let ws_of = |s: &Server| format!("{}/ws", s.url.replacen("http://", "ws://", 1));
    let ws = ws_of(server);
    let agent = hangar_testkit::server::mint_token(key, "bench-agent", "agent", 3600);
    let base = Instant::now();
    let deliveries = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let mut clients = Vec::new();
    for i in 0..SUBSCRIBERS {
        let node = ws_of(&servers[i % servers.len()]);
        let (client, mut events) =
            Client::start(ClientConfig::new(vec![node], agent.clone())).unwrap();
        client.join(room.clone());
        loop {
            if let Some(Event::Joined { .. }) = events.recv().await {
                break;
            }
        }
        let deliveries = deliveries.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while let Some(event) = events.recv().await {
                if let Event::Messages(messages) = event {
                    let now = base.elapsed().as_nanos() as u64;
                    for m in messages {
                        if let Some(sent) = m
                            .text
                            .strip_prefix("t:")
                            .and_then(|t| t.parse::<u64>().ok())
                        {
                            latencies.push(now.saturating_sub(sent));
                            deliveries.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            latencies
        }));
        clients.push(client);
    }
    let publishers: Vec<Client> = (0..PUBLISHERS)
        .map(|_| {
            let (client, _events) =
                Client::start(ClientConfig::new(vec![ws.clone()], customer.clone())).unwrap();
            client.join(room.clone());
            client
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = Scrape::of(&server.url).await;
    let total = rate * secs;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    for i in 0..total {
        let at = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(at.into()).await;
        let text = format!("t:{}", base.elapsed().as_nanos());
        publishers[(i as usize) % PUBLISHERS].send(room.clone(), text);
    }
    // Wait for the tail to arrive (or 10 s).
    let expected = total * SUBSCRIBERS as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    while deliveries.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = Scrape::of(&server.url).await;
    drop(clients);
    drop(publishers);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64) * q) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1e6
    };
    Figures {
        deliveries_per_sec: latencies.len() as f64 / elapsed,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        scrapes: (before, after),
    }
}

/// What `/metrics` said of the run: each sample's change over it (or its
/// value, for gauges), as an operator's dashboard would show it.
fn print_scrape(name: &str, (before, after): &(Scrape, Scrape)) {
    println!("/metrics of the server during \"{name}\" (after the run; change over it):");
    let delta = |n: &str| after.value(n) - before.value(n);
    for gauge in [
        "hangar_hub_connections",
        "hangar_hub_rooms",
        "process_resident_memory_bytes",
    ] {
        println!("  {gauge:<48} {:>14.0}", after.value(gauge));
    }
    for counter in [
        "hangar_hub_frames_received_total",
        "hangar_hub_frames_sent_total",
        "hangar_hub_messages_stored_total",
        "hangar_hub_deliveries_total",
        "hangar_hub_batch_messages_count",
        "hangar_hub_send_answer_seconds_count",
        "process_cpu_seconds_total",
    ] {
        println!("  {counter:<48} {:>+14.0}", delta(counter));
    }
    let calls = |s: &Scrape| s.sum("hangar_plugin_calls_total", &["outcome=\"ok\""]);
    println!(
        "  {:<48} {:>+14.0}",
        "hangar_plugin_calls_total{outcome=\"ok\"}",
        calls(after) - calls(before)
    );
    let batches = delta("hangar_hub_batch_messages_count");
    if batches > 0.0 {
        println!(
            "  mean messages per batch frame: {:.1}; mean send->answer: {:.2} ms",
            delta("hangar_hub_batch_messages_sum") / batches,
            1e3 * delta("hangar_hub_send_answer_seconds_sum")
                / delta("hangar_hub_send_answer_seconds_count").max(1.0)
        );
    }
}

/// Child process: opens `n` connections and holds them, answering pings.
async fn idle_generator(url: String, token: String, n: usize) {
    use futures_util::StreamExt;
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let full = format!("{url}?v=1&token={token}");
        let (socket, _) = tokio_tungstenite::connect_async(full)
            .await
            .expect("connect");
        held.push(tokio::spawn(async move {
            let mut socket = socket;
            while socket.next().await.is_some() {}
        }));
    }
    println!("ready");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

async fn idle_memory() -> (u64, u64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), 20, None);
    let ws = format!("{}/ws", server.url.replacen("http://", "ws://", 1));
    let agent = token("idle", "agent");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(server.pid());
    let per_process = 5000;
    let mut children = Vec::new();
    for _ in 0..2 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["idle-generator", &ws, &agent, &per_process.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "generator failed");
        children.push(child);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(server.pid());
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    (before, after, 2 * per_process)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if args.get(1).map(String::as_str) == Some("idle-generator") {
        let n = args[4].parse().unwrap();
        runtime.block_on(idle_generator(args[2].clone(), args[3].clone(), n));
        return;
    }
    hangar_testkit::server::binary();
    let part = std::env::var("HANGAR_BENCH").unwrap_or_default();
    if part.is_empty() || part == "load" {
        load_table(&runtime);
    }
    if part.is_empty() || part == "pipeline" {
        runtime.block_on(pipeline_table());
    }
    if part.is_empty() || part == "idle" {
        let (before, after, n) = runtime.block_on(idle_memory());
        println!(
            "idle connections: {n}; server RSS {before} KiB -> {after} KiB; {:.1} KiB per connection",
            (after.saturating_sub(before)) as f64 / n as f64
        );
    }
}

fn load_table(runtime: &tokio::runtime::Runtime) {
    println!(
        "hub: one room, {SUBSCRIBERS} subscribers, {PUBLISHERS} publishers (server and load on the same 2 cores)"
    );
    println!(
        "{:<34} {:>14} {:>9} {:>9}",
        "run", "deliveries/s", "p50 ms", "p99 ms"
    );
    let row = |name: String, f: &Figures| {
        println!(
            "{:<34} {:>14.0} {:>9.1} {:>9.1}",
            name, f.deliveries_per_sec, f.p50_ms, f.p99_ms
        );
    };
    let mut first = None;
    for (rate, secs) in [(100u64, 5u64), (400, 4)] {
        for (name, window) in [("batching on (20 ms)", 20u64), ("batching off", 0)] {
            let name = format!("{name}, {rate} msg/s");
            let figures = runtime.block_on(load(window, rate, secs));
            row(name.clone(), &figures);
            first.get_or_insert((name, figures.scrapes));
        }
    }
    if let Some((name, scrapes)) = &first {
        print_scrape(name, scrapes);
    }
    // One node against three of one cluster, both on PostgreSQL, batching on.
    let postgres = std::env::var("HANGAR_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var(hangar_testkit::backend::POSTGRES_URL_VAR))
        .ok();
    let broker = std::env::var("HANGAR_BENCH_NATS_URL")
        .or_else(|_| std::env::var(hangar_testkit::cluster::NATS_URL_VAR))
        .ok();
    let (Some(postgres), Some(broker)) = (postgres, broker) else {
        println!("1 node vs 3 skipped: set HANGAR_BENCH_POSTGRES_URL and HANGAR_BENCH_NATS_URL");
        return;
    };
    for rate in [100u64, 400] {
        let one = runtime.block_on(async {
            let schema = hangar_testkit::backend::PostgresDatabase::create(&postgres).await;
            let dir = tempfile::tempdir().unwrap();
            let server = vec![start_server(dir.path(), 20, Some(&schema.url))];
            load_on(&server, KEY, rate, 4).await
        });
        row(format!("1 node (PostgreSQL), {rate} msg/s"), &one);
        let three = runtime.block_on(async {
            let shared =
                hangar_testkit::cluster::Shared::create_on(&postgres, broker.clone()).await;
            let mut dirs = Vec::new();
            let mut servers = Vec::new();
            for i in 0..3 {
                let dir = tempfile::tempdir().unwrap();
                hub_settings(dir.path(), 20);
                servers.push(shared.start_node(&format!("node-{i}"), dir.path()));
                dirs.push(dir);
            }
            load_on(&servers, hangar_testkit::cluster::SESSION_KEY, rate, 4).await
        });
        row(format!("3 nodes (cluster), {rate} msg/s"), &three);
    }
}

/// Sends `count` messages from one connection, waiting for each ack
/// (`window` 1) or keeping up to `window` in flight; messages per second.
async fn one_sender(url: &str, token: &str, room: &str, count: usize, window: usize) -> f64 {
    use hangar_testkit::ws::WsClient;
    let mut client = WsClient::connect(url, token, None).await.unwrap();
    client.expect("welcome").await;
    client
        .send(serde_json::json!({"type": "join", "room": room}))
        .await;
    client.expect("joined").await;
    let prefix = format!("w{window}-");
    let started = Instant::now();
    let (mut sent, mut acked) = (0, 0);
    while acked < count {
        while sent < count && sent - acked < window {
            client
                .send(serde_json::json!({"type": "send", "room": room,
                    "client_id": format!("{prefix}{sent}"), "text": "pipelined hello"}))
                .await;
            sent += 1;
        }
        let ack = client.expect("ack").await;
        assert!(ack["client_id"].as_str().unwrap().starts_with(&prefix));
        acked += 1;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn pipeline_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), 20, None);
    let customer = token("pipeline-customer", "customer");
    let url = format!("{}/api/conversations", server.url);
    let (_, conversation) = request(reqwest::Method::POST, &url, Some(&customer), None).await;
    let room = conversation["room"].as_str().unwrap().to_owned();
    println!(
        "one connection sending 2,000 messages (rate limit lifted; the sends are committed with fsync)"
    );
    println!("{:<34} {:>12} {:>14}", "client", "messages/s", "x waiting");
    let waiting = one_sender(&server.url, &customer, &room, 2000, 1).await;
    println!(
        "{:<34} {:>12.0} {:>13.1}x",
        "waits for each ack", waiting, 1.0
    );
    for window in [8, 32] {
        let rate = one_sender(&server.url, &customer, &room, 2000, window).await;
        println!(
            "{:<34} {:>12.0} {:>13.1}x",
            format!("pipelines {window} sends"),
            rate,
            rate / waiting
        );
    }
}

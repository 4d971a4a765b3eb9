//! Customer-service workload on each metadata backend, side by side: many
//! small rooms. 2,000 conversations, each with its customer and an agent
//! connected; sends spread evenly over the conversations at a fixed total
//! rate, alternately from the customer and the agent, through the demo's
//! moderation chain. At each rate: acked messages per second, send→ack p50
//! and p99, send→delivery (to the other party) p50 and p99; then the
//! highest rate each backend sustains with p99 ack ≤ 100 ms.
//!
//! SQLite always runs; PostgreSQL when `HANGAR_BENCH_POSTGRES_URL` (or
//! `HANGAR_TEST_POSTGRES_URL`) names a database the bench may make a schema
//! in. `HANGAR_BENCH_ROOMS`, `HANGAR_BENCH_SECS` and `HANGAR_BENCH_RATES`
//! (comma-separated) change the shape; `HANGAR_BENCH_CHAIN=off` runs a
//! server without plugins, to tell what the chain costs.
//!
//! With a NATS server too (`HANGAR_BENCH_NATS_URL` or
//! `HANGAR_TEST_NATS_URL`), the same workload on a cluster of
//! `HANGAR_BENCH_NODES` (3) demo nodes on this one machine, each
//! conversation's customer on one node and its agent on the next, so every
//! delivery to the other party crosses nodes; its server CPU is the sum
//! over the nodes. At the end one node is killed and the time its clients
//! take to rejoin on another node is printed (p50, p99, max).
//!
//! Run: `cargo bench -p hangar-testkit --bench service`

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: any failure aborts the run

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hangar_client::protocol::RoomId;
use hangar_client::{Client, ClientConfig, Event};
use hangar_testkit::backend::PostgresDatabase;
use hangar_testkit::server::{Server, cpu_seconds_of, request};

const KEY: &str = "bench-session-key-0123456789abcdef0123456789";
const ACK_BUDGET_MS: f64 = 100.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Send times by client id, shared by the sending loop and every client's
/// event task.
#[derive(Default)]
struct Clock {
    sent: Mutex<HashMap<String, Instant>>,
    acks: Mutex<Vec<Duration>>,
    deliveries: Mutex<Vec<Duration>>,
    /// When a node was killed, and how long each of its clients took to
    /// rejoin on another node.
    killed_at: Mutex<Option<Instant>>,
    failovers: Mutex<Vec<Duration>>,
}

impl Clock {
    fn since_sent(&self, client_id: &str) -> Option<Duration> {
        let sent = self.sent.lock().unwrap();
        sent.get(client_id).map(Instant::elapsed)
    }

    /// Forgets what was measured, keeping sends still in flight.
    fn reset(&self) -> (Vec<Duration>, Vec<Duration>) {
        let acks = std::mem::take(&mut *self.acks.lock().unwrap());
        let deliveries = std::mem::take(&mut *self.deliveries.lock().unwrap());
        (acks, deliveries)
    }
}

struct Party {
    client: Client,
}

/// One room's customer and agent, connected and joined.
struct Conversation {
    room: RoomId,
    customer: Party,
    agent: Party,
}

/// Connects as `token` to the first of `nodes` (the others, and the node
/// list at `lbs`, are where it fails over to) and joins `room`.
async fn connect(
    nodes: Vec<String>,
    lbs: Option<String>,
    token: String,
    room: &RoomId,
    me: String,
    clock: Arc<Clock>,
) -> Party {
    let mut config = ClientConfig::new(nodes, token);
    config.lbs_url = lbs;
    config.same_url_attempts = 2;
    config.connect_timeout = Duration::from_secs(2);
    config.backoff = hangar_client::Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };
    let (client, mut events) = Client::start(config).expect("client");
    client.join(room.clone());
    loop {
        match events.recv().await {
            Some(Event::Joined { .. }) => break,
            Some(_) => {}
            None => panic!("connection closed before joining"),
        }
    }
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                Event::Acked { client_id, .. } => {
                    if let Some(took) = clock.since_sent(&client_id.to_string()) {
                        clock.acks.lock().unwrap().push(took);
                    }
                }
                Event::Joined { .. } => {
                    if let Some(killed) = *clock.killed_at.lock().unwrap() {
                        clock.failovers.lock().unwrap().push(killed.elapsed());
                    }
                }
                Event::Messages(messages) => {
                    for m in messages.iter().filter(|m| m.sender != me) {
                        if let Some(took) = m.client_id.as_deref().and_then(|c| clock.since_sent(c))
                        {
                            clock.deliveries.lock().unwrap().push(took);
                        }
                    }
                }
                _ => {}
            }
        }
    });
    Party { client }
}

/// Opens the conversations, conversation `i` on node `i % n`, its
/// customer connected there and its agent on the next node (with one
/// node, both on it): in a cluster every delivery to the other party
/// crosses nodes.
async fn set_up(
    servers: &[Server],
    key: &str,
    rooms: usize,
    clock: &Arc<Clock>,
) -> Vec<Conversation> {
    let ws: Vec<String> = servers
        .iter()
        .map(|s| format!("{}/ws", s.url.replacen("http://", "ws://", 1)))
        .collect();
    // Each client's own node first, then the others in turn.
    let from = |first: usize| -> Vec<String> {
        let mut order = ws.clone();
        order.rotate_left(first);
        order
    };
    let lbs = (servers.len() > 1).then(|| format!("{}/api/lbs", servers[0].url));
    let mut conversations = Vec::with_capacity(rooms);
    for i in 0..rooms {
        let (home_at, next_at) = (i % servers.len(), (i + 1) % servers.len());
        let home = &servers[home_at];
        let (customer, agent) = (format!("customer-{i}"), format!("agent-{i}"));
        let customer_token = hangar_testkit::server::mint_token(key, &customer, "customer", 7200);
        let agent_token = hangar_testkit::server::mint_token(key, &agent, "agent", 7200);
        let url = format!("{}/api/conversations", home.url);
        let (status, opened) =
            request(reqwest::Method::POST, &url, Some(&customer_token), None).await;
        assert_eq!(status, 200, "{opened}");
        let room: RoomId = opened["room"].as_str().unwrap().parse().unwrap();
        let customer = connect(
            from(home_at),
            lbs.clone(),
            customer_token,
            &room,
            customer,
            clock.clone(),
        )
        .await;
        let agent = connect(
            from(next_at),
            lbs.clone(),
            agent_token,
            &room,
            agent,
            clock.clone(),
        )
        .await;
        conversations.push(Conversation {
            room,
            customer,
            agent,
        });
    }
    conversations
}

/// CPU seconds all `servers` used so far.
fn cpu_of(servers: &[Server]) -> f64 {
    servers.iter().filter_map(Server::cpu_seconds).sum()
}

struct Figures {
    acked_per_sec: f64,
    ack_p50_ms: f64,
    ack_p99_ms: f64,
    delivery_p50_ms: f64,
    delivery_p99_ms: f64,
    lost: usize,
    /// Cores the servers used while sending (CPU seconds / wall seconds;
    /// the sum over the nodes of a cluster).
    server_cores: f64,
    /// Cores this load generator (4,000 client connections) used.
    load_cores: f64,
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64) * q) as usize;
    sorted
        .get(i.min(sorted.len().saturating_sub(1)))
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// Sends at `rate` messages per second for `secs`, spread over the rooms in
/// turn, each send from the party that did not send last in that room.
async fn run(
    servers: &[Server],
    conversations: &[Conversation],
    clock: &Clock,
    rate: u64,
    secs: u64,
) -> Figures {
    const TICK: Duration = Duration::from_millis(5);
    let total = rate * secs;
    let cpu_before = cpu_of(servers);
    let load_before = cpu_seconds_of("self").unwrap_or(0.0);
    let started = Instant::now();
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(TICK);
    while sent < total {
        tick.tick().await;
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while sent < due {
            let i = sent as usize % conversations.len();
            let round = sent as usize / conversations.len();
            let c = &conversations[i];
            let party = if round.is_multiple_of(2) {
                &c.customer
            } else {
                &c.agent
            };
            let at = Instant::now();
            let client_id = party
                .client
                .send(c.room.clone(), "hello, is my order on its way?");
            clock.sent.lock().unwrap().insert(client_id.to_string(), at);
            sent += 1;
        }
    }
    let sending = started.elapsed();
    let server_cores = (cpu_of(servers) - cpu_before) / sending.as_secs_f64();
    let load_cores = (cpu_seconds_of("self").unwrap_or(0.0) - load_before) / sending.as_secs_f64();
    // The tail: until every send is acked and delivered, or 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let acked = clock.acks.lock().unwrap().len() as u64;
        let delivered = clock.deliveries.lock().unwrap().len() as u64;
        if acked >= total && delivered >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut acks, mut deliveries) = clock.reset();
    clock.sent.lock().unwrap().clear();
    acks.sort_unstable();
    deliveries.sort_unstable();
    // Acked within the sending time plus its p99 tail: what the server
    // keeps up with.
    let window = sending.as_secs_f64() + quantile(&acks, 0.99) / 1e3;
    Figures {
        acked_per_sec: acks.len() as f64 / window,
        ack_p50_ms: quantile(&acks, 0.5),
        ack_p99_ms: quantile(&acks, 0.99),
        delivery_p50_ms: quantile(&deliveries, 0.5),
        delivery_p99_ms: quantile(&deliveries, 0.99),
        lost: usize::try_from(total)
            .unwrap_or(usize::MAX)
            .saturating_sub(acks.len()),
        server_cores,
        load_cores,
    }
}

fn start(dir: &std::path::Path, database_url: Option<&str>) -> Server {
    // Rate limits lifted: the load is spread over thousands of
    // connections, far below any one's limit, but bursts of the sending
    // loop must not be refused.
    std::fs::write(
        dir.join("hangar.toml"),
        "[hub]\nsend_rate_per_sec = 1000\nsend_burst = 1000\n",
    )
    .unwrap();
    let mut env = vec![
        ("HANGAR_SESSION_KEY", KEY.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    if let Some(url) = database_url {
        env.push(("HANGAR_DATABASE_URL", url.to_owned()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if std::env::var("HANGAR_BENCH_CHAIN").as_deref() == Ok("off") {
        // No plugins at all: what the hub and the store cost on their own.
        return Server::start(&["--data-dir", "data"], &env, dir).expect("server");
    }
    Server::start_demo_with_env(dir, &[], &env).expect("server")
}

/// Runs the workload at each rate on `servers` (tokens signed with `key`).
async fn measure(
    name: &str,
    servers: &mut Vec<Server>,
    key: &str,
    rooms: usize,
    rates: &[u64],
    secs: u64,
) -> (Vec<(u64, Figures)>, Option<Failover>) {
    let clock = Arc::new(Clock::default());
    let began = Instant::now();
    let conversations = set_up(servers, key, rooms, &clock).await;
    let rss_mib = servers.iter().filter_map(Server::peak_rss_kib).sum::<u64>() as f64 / 1024.0;
    println!(
        "{name}: {rooms} conversations, {} connections ready in {:.1} s; server peak RSS {rss_mib:.0} MiB ({} node{})",
        2 * rooms,
        began.elapsed().as_secs_f64(),
        servers.len(),
        if servers.len() == 1 { "" } else { "s, summed" }
    );
    // Warm-up: plugin instances, pools, caches.
    let _ = run(servers, &conversations, &clock, 500, 2).await;
    let mut rows = Vec::new();
    for &rate in rates {
        let figures = run(servers, &conversations, &clock, rate, secs).await;
        rows.push((rate, figures));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // In a cluster: kill the last node (SIGKILL) and time how long each of
    // its clients takes to rejoin on another node.
    let failover = if servers.len() > 1 {
        let n = servers.len();
        let expected = (0..rooms).filter(|i| i % n == n - 1).count()
            + (0..rooms).filter(|i| (i + 1) % n == n - 1).count();
        *clock.killed_at.lock().unwrap() = Some(Instant::now());
        drop(servers.pop());
        let deadline = Instant::now() + Duration::from_secs(60);
        while clock.failovers.lock().unwrap().len() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut times = std::mem::take(&mut *clock.failovers.lock().unwrap());
        times.sort_unstable();
        Some(Failover {
            clients: expected,
            rejoined: times.len(),
            p50_ms: quantile(&times, 0.5),
            p99_ms: quantile(&times, 0.99),
            max_ms: times.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
        })
    } else {
        None
    };
    drop(conversations);
    (rows, failover)
}

/// How the clients of a killed node moved to the others.
struct Failover {
    clients: usize,
    rejoined: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

async fn backend(
    name: &str,
    database_url: Option<&str>,
    rooms: usize,
    rates: &[u64],
    secs: u64,
) -> Vec<(u64, Figures)> {
    let dir = tempfile::tempdir().unwrap();
    let mut server = vec![start(dir.path(), database_url)];
    measure(name, &mut server, KEY, rooms, rates, secs).await.0
}

/// The same workload on `nodes` demo nodes sharing PostgreSQL and NATS
/// (and S3 when `HANGAR_TEST_S3_ENDPOINT` names a server).
async fn cluster(
    postgres: &str,
    broker: String,
    nodes: usize,
    rooms: usize,
    rates: &[u64],
    secs: u64,
) -> (Vec<(u64, Figures)>, Option<Failover>) {
    let shared = hangar_testkit::cluster::Shared::create_on(postgres, broker).await;
    let args = hangar_testkit::cluster::demo_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut dirs = Vec::new();
    let mut servers = Vec::new();
    // One after the other: the first publishes the demo's plugins, the
    // others restore them.
    for i in 0..nodes {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hangar.toml"),
            "[hub]\nsend_rate_per_sec = 1000\nsend_burst = 1000\n",
        )
        .unwrap();
        servers.push(shared.start_node_with(&format!("node-{i}"), dir.path(), &args));
        dirs.push(dir);
    }
    measure(
        &format!("postgres x{nodes}"),
        &mut servers,
        hangar_testkit::cluster::SESSION_KEY,
        rooms,
        rates,
        secs,
    )
    .await
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    hangar_testkit::server::binary();
    let rooms: usize = env_or("HANGAR_BENCH_ROOMS", 2000);
    let secs: u64 = env_or("HANGAR_BENCH_SECS", 5);
    let rates: Vec<u64> = std::env::var("HANGAR_BENCH_RATES")
        .unwrap_or_else(|_| "500,1000,2000,3000,4000".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let postgres = std::env::var("HANGAR_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var(hangar_testkit::backend::POSTGRES_URL_VAR))
        .ok();
    let mut tables = vec![(
        "sqlite",
        runtime.block_on(backend("sqlite", None, rooms, &rates, secs)),
    )];
    match &postgres {
        Some(server) => {
            let schema = runtime.block_on(PostgresDatabase::create(server));
            let rows =
                runtime.block_on(backend("postgres", Some(&schema.url), rooms, &rates, secs));
            tables.push(("postgres", rows));
        }
        None => println!(
            "PostgreSQL skipped: set HANGAR_BENCH_POSTGRES_URL (or HANGAR_TEST_POSTGRES_URL)"
        ),
    }
    let broker = std::env::var("HANGAR_BENCH_NATS_URL")
        .or_else(|_| std::env::var(hangar_testkit::cluster::NATS_URL_VAR))
        .ok();
    let nodes: usize = env_or("HANGAR_BENCH_NODES", 3);
    let mut failover = None;
    match (&postgres, broker) {
        (Some(server), Some(broker)) if nodes > 1 => {
            let (rows, moved) =
                runtime.block_on(cluster(server, broker, nodes, rooms, &rates, secs));
            tables.push((if nodes == 3 { "postgres x3" } else { "cluster" }, rows));
            failover = moved;
        }
        _ => println!(
            "cluster skipped: set HANGAR_BENCH_NATS_URL (or HANGAR_TEST_NATS_URL) and PostgreSQL"
        ),
    }
    println!(
        "customer service: {rooms} conversations, customer + agent connected in each ({} connections), {}; {secs} s per rate; server and load on the same 2 cores",
        2 * rooms,
        if std::env::var("HANGAR_BENCH_CHAIN").as_deref() == Ok("off") {
            "no plugins"
        } else {
            "demo moderation chain on"
        }
    );
    println!(
        "{:<12} {:>8} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>7} {:>12} {:>12}",
        "backend",
        "rate/s",
        "acked/s",
        "x rate",
        "ack p50",
        "ack p99",
        "deliv. p50",
        "deliv. p99",
        "unacked",
        "server CPU",
        "load CPU"
    );
    for (name, rows) in &tables {
        for (rate, f) in rows {
            println!(
                "{:<12} {:>8} {:>10.0} {:>9.2}x {:>8.1}ms {:>8.1}ms {:>10.1}ms {:>10.1}ms {:>7} {:>6.2} cores {:>6.2} cores",
                name,
                rate,
                f.acked_per_sec,
                f.acked_per_sec / *rate as f64,
                f.ack_p50_ms,
                f.ack_p99_ms,
                f.delivery_p50_ms,
                f.delivery_p99_ms,
                f.lost,
                f.server_cores,
                f.load_cores
            );
        }
    }
    let sqlite_best = best(&tables[0].1);
    for (name, rows) in &tables {
        let top = best(rows);
        let ratio = match (top, sqlite_best) {
            (Some(t), Some(s)) => format!(" ({:.2}x SQLite's)", t as f64 / s as f64),
            _ => String::new(),
        };
        match top {
            Some(rate) => println!(
                "{name}: highest rate with p99 ack <= {ACK_BUDGET_MS} ms and every send acked: {rate} msg/s{ratio}"
            ),
            None => println!("{name}: no rate tried kept p99 ack <= {ACK_BUDGET_MS} ms"),
        }
    }
    if let Some(f) = failover {
        println!(
            "failover: one of {nodes} nodes killed (SIGKILL); {} of its {} clients rejoined on another node: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms after the kill",
            f.rejoined, f.clients, f.p50_ms, f.p99_ms, f.max_ms
        );
    }
}

/// The highest rate whose p99 ack stayed within budget with nothing lost.
fn best(rows: &[(u64, Figures)]) -> Option<u64> {
    rows.iter()
        .filter(|(_, f)| f.ack_p99_ms <= ACK_BUDGET_MS && f.lost == 0)
        .map(|(rate, _)| *rate)
        .max()
}

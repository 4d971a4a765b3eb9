//! Several `hangar` nodes as one service: PostgreSQL, S3 and NATS shared,
//! each node a separate process on its own port. Skipped, saying why,
//! without `HANGAR_TEST_POSTGRES_URL` and `HANGAR_TEST_NATS_URL` (a private
//! `nats-server` for the test that restarts it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use hangar_testkit::cluster::{ADMIN_TOKEN, PUBLISH_TOKEN, PrivateNats, SESSION_KEY, Shared};
use hangar_testkit::guests::wasm;
use hangar_testkit::server::{Server, mint_token, request};
use hangar_testkit::ws::{Received, WsClient};
use serde_json::{Value, json};

/// Sends are not rate-limited here: the tests pipeline them.
fn node_dir() -> tempfile::TempDir {
    node_dir_allowing(1000)
}

/// A node's directory whose configuration allows `rate` sends per second
/// per connection (and bursts as large).
fn node_dir_allowing(rate: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hangar.toml"),
        format!("[hub]\nsend_rate_per_sec = {rate}\nsend_burst = {rate}\n"),
    )
    .unwrap();
    dir
}

struct Node {
    server: Server,
    _dir: tempfile::TempDir,
}

fn start(shared: &Shared, names: &[&str]) -> Vec<Node> {
    names
        .iter()
        .map(|name| {
            let dir = node_dir();
            let server = shared.start_node(name, dir.path());
            Node { server, _dir: dir }
        })
        .collect()
}

fn token(user: &str, role: &str) -> String {
    mint_token(SESSION_KEY, user, role, 3600)
}

async fn open_conversation(node: &Server, customer: &str) -> String {
    let (status, body) = request(
        reqwest::Method::POST,
        &format!("{}/api/conversations", node.url),
        Some(&token(customer, "customer")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["room"].as_str().unwrap().to_owned()
}

async fn member(node: &Server, user: &str, role: &str, room: &str) -> WsClient {
    let mut client = WsClient::connect(&node.url, &token(user, role), None)
        .await
        .unwrap();
    client.send(json!({"type": "join", "room": room})).await;
    client.expect("joined").await;
    client
}

/// Reads until `count` messages of `room` and `acks` acks arrived; returns
/// the messages' seqs in arrival order.
async fn collect(client: &mut WsClient, count: usize, acks: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    let mut acked = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seqs.len() < count || acked < acks {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next(left).await {
            Some(Received::Frame(frame)) if frame["type"] == "batch" => {
                for m in frame["messages"].as_array().unwrap() {
                    seqs.push(m["seq"].as_u64().unwrap());
                }
            }
            Some(Received::Frame(frame)) if frame["type"] == "ack" => acked += 1,
            Some(Received::Frame(frame)) if frame["type"] == "error" => {
                panic!("error frame: {frame}")
            }
            Some(Received::Frame(_)) => {}
            other => panic!(
                "have {} of {count} messages and {acked} of {acks} acks, then {other:?}",
                seqs.len()
            ),
        }
    }
    seqs
}

async fn send_many(client: &mut WsClient, room: &str, who: &str, count: usize) {
    for i in 0..count {
        client
            .send(json!({"type": "send", "room": room, "client_id": format!("{who}-{i}"), "text": format!("{who} {i}")}))
            .await;
    }
}

/// Members of one room on three nodes send at once, each through its own
/// node: every member receives every message once, in seq order, with no
/// seq missing, whichever node committed it.
#[tokio::test]
async fn three_nodes_deliver_every_message_once_in_seq_order() {
    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let nodes = start(&shared, &["node-a", "node-b", "node-c"]);
    let room = open_conversation(&nodes[0].server, "customer-1").await;
    let mut members = vec![
        member(&nodes[0].server, "customer-1", "customer", &room).await,
        member(&nodes[1].server, "agent-b", "agent", &room).await,
        member(&nodes[2].server, "agent-c", "agent", &room).await,
    ];
    const EACH: usize = 60;
    let total = 3 * EACH;
    let tasks: Vec<_> = members
        .drain(..)
        .zip(["customer", "agent-b", "agent-c"])
        .map(|(mut client, who)| {
            let room = room.clone();
            tokio::spawn(async move {
                send_many(&mut client, &room, who, EACH).await;
                collect(&mut client, total, EACH).await
            })
        })
        .collect();
    let expected: Vec<u64> = (1..=total as u64).collect();
    for (task, who) in tasks.into_iter().zip(["node-a", "node-b", "node-c"]) {
        let seqs = task.await.unwrap();
        assert_eq!(seqs, expected, "the member on {who}");
    }
    // Retries through another node are answered with the first seq.
    let mut retry = member(&nodes[2].server, "customer-1", "customer", &room).await;
    let ack = retry.say(&room, "customer-7", "customer 7").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["duplicate"], true, "{ack}");
}

async fn lbs(node: &Server) -> Vec<String> {
    let (status, body) = node.get_json("/api/lbs").await;
    assert_eq!(status, 200, "{body}");
    body["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["url"].as_str().unwrap().to_owned())
        .collect()
}

fn ws_url(node: &Server) -> String {
    format!("{}/ws", node.url.replacen("http://", "ws://", 1))
}

/// `/api/lbs` on any node lists every live node; a killed node drops out
/// within the list's TTL; a node stopped gracefully leaves at once and
/// tells its clients to go elsewhere (`1001`).
#[tokio::test]
async fn the_node_list_follows_nodes_that_die_and_leave() {
    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let mut nodes = start(&shared, &["node-a", "node-b", "node-c"]);
    let all: Vec<String> = nodes.iter().map(|n| ws_url(&n.server)).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut listed = lbs(&nodes[0].server).await;
        listed.sort();
        let mut want = all.clone();
        want.sort();
        if listed == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "listed {listed:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The least loaded first.
    let room = open_conversation(&nodes[0].server, "customer-1").await;
    let mut on_b = member(&nodes[1].server, "customer-1", "customer", &room).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while lbs(&nodes[0].server).await.last() != Some(&all[1]) {
        assert!(
            Instant::now() < deadline,
            "node-b with a connection is not listed last"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Killed: listed until its row ages out.
    let killed = Instant::now();
    nodes.pop();
    let deadline = killed + Duration::from_secs(15);
    while lbs(&nodes[0].server).await.contains(&all[2]) {
        assert!(Instant::now() < deadline, "a killed node stays listed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dropped_after = killed.elapsed();
    assert!(
        dropped_after >= Duration::from_secs(5),
        "dropped after {dropped_after:?}: before its TTL?"
    );

    // Graceful: out of the list before its clients are told to go. The
    // client reads the close while the node stops.
    nodes[1].server.signal_term();
    assert_eq!(on_b.closed(Duration::from_secs(10)).await, 1001);
    assert_eq!(lbs(&nodes[0].server).await, vec![all[0].clone()]);
    assert!(nodes[1].server.wait_exit(Duration::from_secs(10)));
}

/// The broker restarts mid-traffic: messages committed while it was down
/// reach the members on the other nodes once it is back (each node reads
/// what it missed from the database), once each and in order.
#[tokio::test]
async fn members_get_what_was_sent_while_the_broker_was_down() {
    let Some(mut nats) = PrivateNats::start() else {
        return;
    };
    let Some(shared) = Shared::create(Some(nats.url())).await else {
        return;
    };
    let nodes = start(&shared, &["node-a", "node-b"]);
    let room = open_conversation(&nodes[0].server, "customer-1").await;
    let mut sender = member(&nodes[0].server, "customer-1", "customer", &room).await;
    let mut reader = member(&nodes[1].server, "agent-b", "agent", &room).await;

    send_many(&mut sender, &room, "before", 10).await;
    assert_eq!(
        collect(&mut reader, 10, 0).await,
        (1..=10).collect::<Vec<_>>()
    );

    assert_eq!(broker_check(&nodes[1].server).await, (200, "ok".to_owned()));
    nats.kill();
    // Commits do not need the broker: every send is acked.
    let mut during: Vec<Value> = Vec::new();
    for i in 0..10 {
        during.push(
            sender
                .say(&room, &format!("during-{i}"), "while down")
                .await,
        );
    }
    assert!(during.iter().all(|a| a["type"] == "ack"), "{during:?}");
    // The node says it is not ready while its broker is gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker_check(&nodes[1].server).await.0 != 503 {
        assert!(Instant::now() < deadline, "ready without its broker");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    nats.restart();

    send_many(&mut sender, &room, "after", 10).await;
    let seqs = collect(&mut reader, 20, 0).await;
    assert_eq!(seqs, (11..=30).collect::<Vec<_>>());
    assert_eq!(broker_check(&nodes[1].server).await, (200, "ok".to_owned()));
}

/// Only one node loses the broker: the events it dropped meanwhile reach the
/// nodes that never lost it once it is back (they had no reason to look).
// Starting a node blocks its thread: the proxy forwards on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_a_node_dropped_while_cut_off_reach_the_others_when_it_is_back() {
    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let proxy =
        hangar_testkit::proxy::Proxy::start(shared.broker.trim_start_matches("nats://")).await;
    let through_proxy = format!("nats://127.0.0.1:{}", proxy.port());
    let dir_a = node_dir();
    let a = shared.start_node_with("node-a", dir_a.path(), &["--broker", &through_proxy]);
    let nodes = start(&shared, &["node-b"]);
    let b = &nodes[0].server;
    let room = open_conversation(&a, "customer-1").await;
    let mut sender = member(&a, "customer-1", "customer", &room).await;
    let mut reader = member(b, "agent-b", "agent", &room).await;
    send_many(&mut sender, &room, "before", 5).await;
    assert_eq!(
        collect(&mut reader, 5, 0).await,
        (1..=5).collect::<Vec<_>>()
    );

    proxy.cut();
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker_check(&a).await.0 != 503 {
        assert!(Instant::now() < deadline, "node-a still has its broker");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Committed on node A (acked) while its events are dropped there.
    for i in 0..5 {
        let ack = sender.say(&room, &format!("cut-off-{i}"), "cut off").await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    proxy.restore();
    // Node B never lost the broker: only node A's word makes it look.
    assert_eq!(
        collect(&mut reader, 5, 0).await,
        (6..=10).collect::<Vec<_>>()
    );
    assert_eq!(broker_check(&a).await, (200, "ok".to_owned()));
}

/// `GET /readyz` of `node`: its status and its broker check.
async fn broker_check(node: &Server) -> (u16, String) {
    let (status, ready) = request(
        reqwest::Method::GET,
        &format!("{}/readyz", node.url),
        None,
        None,
    )
    .await;
    let broker = ready["checks"]["broker"]
        .as_str()
        .unwrap_or_else(|| panic!("no broker check in {ready}"));
    (status, broker.to_owned())
}

async fn admin(
    node: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    request(
        method,
        &format!("{}{path}", node.url),
        Some(ADMIN_TOKEN),
        body.as_ref(),
    )
    .await
}

/// Rolls `name` back through `node`; the answer.
async fn rollback(node: &Server, name: &str) -> Value {
    let (status, done) = admin(
        node,
        reqwest::Method::POST,
        &format!("/api/admin/plugins/{name}/rollback"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{done}");
    done
}

/// `name`'s entry in the cluster view (`GET /api/admin/cluster/plugins`)
/// of `node`.
async fn cluster_view_of(node: &Server, name: &str) -> Value {
    let (status, view) = admin(
        node,
        reqwest::Method::GET,
        "/api/admin/cluster/plugins",
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    view["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {view}"))
        .clone()
}

/// Publishes `guest` as `name` `version` to the cluster's registry
/// through `node`, activates it there, and returns the activation answer.
async fn install(node: &Server, name: &str, version: &str, guest: &str) -> Value {
    let (status, body) =
        hangar_testkit::server::publish(&node.url, name, version, wasm(guest), Some(PUBLISH_TOKEN))
            .await;
    assert!(status == 201 || status == 200, "{body}");
    let (status, done) = admin(
        node,
        reqwest::Method::POST,
        &format!("/api/admin/plugins/{name}/activate"),
        Some(json!({"version": version})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    done
}

/// Sets the chat chain through `node`.
async fn chat_chain(node: &Server, names: &[&str]) {
    let (status, body) = admin(
        node,
        reqwest::Method::PUT,
        "/api/admin/chains/chat-messages",
        Some(json!(names)),
    )
    .await;
    assert_eq!(status, 204, "{body}");
}

/// The text stored at `seq` of `room`, read through `node`.
async fn stored_text(node: &Server, token: &str, room: &str, seq: u64) -> String {
    let (status, page) = request(
        reqwest::Method::GET,
        &format!(
            "{}/api/rooms/{room}/messages?after={}&limit=1",
            node.url,
            seq - 1
        ),
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["messages"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// An admin activates and rolls back on one node while every node carries
/// chat: each change answers once every live node runs it, the other nodes
/// serve the new version from then on, and no send is lost meanwhile.
#[tokio::test]
async fn administration_on_one_node_applies_to_every_node() {
    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let nodes = start(&shared, &["node-a", "node-b", "node-c"]);
    let (a, b, c) = (&nodes[0].server, &nodes[1].server, &nodes[2].server);
    let (status, body) = hangar_testkit::server::publish(
        &a.url,
        "tagger",
        "2.0.0",
        wasm("guest-swap-v2"),
        Some(PUBLISH_TOKEN),
    )
    .await;
    assert!(status == 201 || status == 200, "{body}");
    let done = install(a, "tagger", "1.0.0", "guest-swap-v1").await;
    let applied = |done: &Value| -> Vec<(String, bool)> {
        let mut nodes: Vec<(String, bool)> = done["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("no nodes in {done}"))
            .iter()
            .map(|n| {
                (
                    n["node"].as_str().unwrap().to_owned(),
                    n["current"].as_bool().unwrap(),
                )
            })
            .collect();
        nodes.sort();
        nodes
    };
    let everywhere = vec![
        ("node-a".to_owned(), true),
        ("node-b".to_owned(), true),
        ("node-c".to_owned(), true),
    ];
    assert_eq!(applied(&done), everywhere, "{done}");
    // A chain order set on node B is followed on node C.
    chat_chain(b, &["tagger"]).await;

    let customer = token("customer-1", "customer");
    let room = open_conversation(c, "customer-1").await;
    let mut on_c = member(c, "customer-1", "customer", &room).await;
    // The chain order reaches node C within its convergence (a signal; at
    // worst the periodic pass).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    loop {
        n += 1;
        let ack = on_c.say(&room, &format!("probe-{n}"), "probe").await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let text = stored_text(c, &customer, &room, ack["seq"].as_u64().unwrap()).await;
        if text == "v1:probe" {
            break;
        }
        assert!(Instant::now() < deadline, "node-c still stores {text:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Traffic on every node while versions change on node A, then B.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let user = format!("customer-load-{i}");
        let room = open_conversation(&node.server, &user).await;
        let mut client = member(&node.server, &user, "customer", &room).await;
        let stop = stop.clone();
        load.push(tokio::spawn(async move {
            let mut acked = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ack = client.say(&room, &format!("load-{acked}"), "load").await;
                assert_eq!(ack["type"], "ack", "{ack}");
                acked += 1;
            }
            acked
        }));
    }
    let (status, done) = admin(
        a,
        reqwest::Method::POST,
        "/api/admin/plugins/tagger/activate",
        Some(json!({"version": "2.0.0"})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(applied(&done), everywhere, "{done}");
    // Node C answered "applied": its next message is v2's.
    let ack = on_c.say(&room, "after-v2", "hello").await;
    assert_eq!(
        stored_text(c, &customer, &room, ack["seq"].as_u64().unwrap()).await,
        "v2:hello"
    );

    let done = rollback(b, "tagger").await;
    assert_eq!(done["version"], "1.0.0", "{done}");
    assert_eq!(applied(&done), everywhere, "{done}");
    let ack = on_c.say(&room, "after-rollback", "hello").await;
    assert_eq!(
        stored_text(c, &customer, &room, ack["seq"].as_u64().unwrap()).await,
        "v1:hello"
    );

    // Disabled on node C: node A stores messages untouched.
    let (status, _) = admin(
        c,
        reqwest::Method::POST,
        "/api/admin/plugins/tagger/disable",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let room_a = open_conversation(a, "customer-2").await;
    let mut on_a = member(a, "customer-2", "customer", &room_a).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ack = on_a
            .say(
                &room_a,
                &format!("off-{}", Instant::now().elapsed().as_nanos()),
                "plain",
            )
            .await;
        let text = stored_text(
            a,
            &token("customer-2", "customer"),
            &room_a,
            ack["seq"].as_u64().unwrap(),
        )
        .await;
        if text == "plain" {
            break;
        }
        assert!(Instant::now() < deadline, "node-a still tags: {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Runtime settings set on node C reach node A.
    let overrides = json!({
        "isolation": {"mode": "pooled", "max_uses": 20, "max_idle": 2},
        "deadline_ms": 400,
    });
    let (status, body) = admin(
        c,
        reqwest::Method::PUT,
        "/api/admin/plugins/tagger/settings",
        Some(overrides.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, on_node_a) = admin(
            a,
            reqwest::Method::GET,
            "/api/admin/plugins/tagger/settings",
            None,
        )
        .await;
        if on_node_a["overrides"] == overrides {
            assert_eq!(on_node_a["settings"]["limits"]["deadline_ms"], 400);
            break;
        }
        assert!(Instant::now() < deadline, "node-a has {on_node_a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        assert!(task.await.unwrap() > 0, "a node carried no traffic");
    }
    // The cluster view agrees: the saved version everywhere, nobody lags.
    let tagger = cluster_view_of(c, "tagger").await;
    assert_eq!(tagger["version"], "1.0.0", "{tagger}");
    assert_eq!(tagger["lagging"], json!([]), "{tagger}");
}

/// A message flagged on one node raises an alert that the admins connected
/// to every node receive live.
#[tokio::test]
async fn alerts_raised_on_one_node_reach_admins_on_every_node() {
    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let nodes = start(&shared, &["node-a", "node-b"]);
    let (a, b) = (&nodes[0].server, &nodes[1].server);
    install(a, "keyword-moderation", "0.1.0", "keyword-moderation").await;
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(
            hangar_testkit::repo_root().join("plugins/keyword-moderation/demo-config.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (status, body) = admin(
        a,
        reqwest::Method::PUT,
        "/api/admin/plugins/keyword-moderation/config",
        Some(config),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    chat_chain(a, &["keyword-moderation"]).await;

    let mut admin_on_b = WsClient::connect(&b.url, &token("ops", "admin"), None)
        .await
        .unwrap();
    let room = open_conversation(a, "customer-1").await;
    let mut on_a = member(a, "customer-1", "customer", &room).await;
    let ack = on_a.say(&room, "m1", "I will call my lawyer").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let alert = admin_on_b.expect("alert").await;
    assert_eq!(alert["alert"]["room"], room.as_str(), "{alert}");
    assert_eq!(alert["alert"]["severity"], "warning", "{alert}");
}

/// A node is killed mid-traffic: the Rust clients on it move to another
/// node (their tiers, then the node list), rejoin from their last seq and
/// resend what was not acked. Over the whole run every message is stored
/// once and every member receives every message once, in order.
#[tokio::test]
async fn clients_of_a_killed_node_fail_over_and_nothing_is_lost_or_doubled() {
    use hangar_client::{Backoff, Client, ClientConfig, Event};

    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let mut nodes = start(&shared, &["node-a", "node-b", "node-c"]);
    let ws: Vec<String> = nodes.iter().map(|n| ws_url(&n.server)).collect();
    let lbs = format!("{}/api/lbs", nodes[0].server.url);
    let room_name = open_conversation(&nodes[2].server, "customer-1").await;
    let room: hangar_client::protocol::RoomId = room_name.parse().unwrap();
    let config = |first: usize, user: &str, role: &str| {
        let mut order = ws.clone();
        order.rotate_left(first);
        let mut config = ClientConfig::new(order, token(user, role));
        config.lbs_url = Some(lbs.clone());
        config.same_url_attempts = 2;
        config.connect_timeout = Duration::from_secs(2);
        config.backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
        };
        config
    };
    // The customer on node C (to be killed), the agent on node A.
    let mut parties = Vec::new();
    for (first, user, role) in [(2, "customer-1", "customer"), (0, "agent-a", "agent")] {
        let (client, mut events) = Client::start(config(first, user, role)).unwrap();
        client.join(room.clone());
        loop {
            match events.recv().await.unwrap() {
                Event::Joined { .. } => break,
                _ => continue,
            }
        }
        parties.push((client, events));
    }
    const EACH: usize = 80;
    let total = 2 * EACH as u64;
    // Each party sends one message per 20 ms and records what it receives.
    let mut tasks = Vec::new();
    for (client, mut events) in parties {
        let room = room.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs: Vec<u64> = Vec::new();
            let mut acked = std::collections::HashSet::new();
            let mut moved_at = None;
            let mut sent = 0;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let deadline = Instant::now() + Duration::from_secs(60);
            while (acked.len() < EACH || (seqs.len() as u64) < total) && Instant::now() < deadline {
                tokio::select! {
                    _ = tick.tick(), if sent < EACH => {
                        client.send(room.clone(), format!("message {sent}"));
                        sent += 1;
                    }
                    event = events.recv() => match event {
                        Some(Event::Messages(messages)) => seqs.extend(messages.iter().map(|m| m.seq)),
                        Some(Event::Acked { client_id, .. }) => { acked.insert(client_id.to_string()); }
                        Some(Event::Connected { url }) => moved_at = Some((Instant::now(), url)),
                        Some(Event::GaveUp { reason }) => panic!("gave up: {reason}"),
                        Some(_) => {}
                        None => break,
                    }
                }
            }
            (seqs, acked.len(), moved_at)
        }));
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let killed_at = Instant::now();
    nodes.pop(); // SIGKILL node C
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let expected: Vec<u64> = (1..=total).collect();
    for ((seqs, acked, _), who) in results.iter().zip(["customer (node C)", "agent (node A)"]) {
        assert_eq!(*acked, EACH, "{who}: acks");
        assert_eq!(seqs, &expected, "{who}: received");
    }
    let (moved, url) = results[0].2.clone().expect("the customer reconnected");
    assert!(moved > killed_at && url != ws[2], "moved to {url}");
    eprintln!(
        "failover: the customer resumed on {url} {:.0} ms after the kill",
        (moved - killed_at).as_secs_f64() * 1e3
    );
    // Stored once each.
    let (status, page) = request(
        reqwest::Method::GET,
        &format!(
            "{}/api/rooms/{room_name}/messages?after=0&limit=500",
            nodes[0].server.url
        ),
        Some(&token("agent-a", "agent")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"].as_array().unwrap().len() as u64, total);
}

/// An upload's chunks go to all three nodes; the node finishing its merge
/// is killed while it merges; `complete` on another node finishes it (at
/// once, or after the dead node's merge lease ran out) and the file is
/// byte for byte the one sent, downloadable from any node.
#[tokio::test]
async fn an_upload_spread_over_nodes_completes_after_its_merging_node_dies() {
    use hangar_testkit::uploads::{UploadApi, pattern, sha256_hex};

    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let mut nodes = start(&shared, &["node-a", "node-b", "node-c"]);
    let token = token("customer-1", "customer");
    let apis: Vec<UploadApi> = nodes
        .iter()
        .map(|n| UploadApi::new(&n.server.url, &token))
        .collect();
    let data = pattern(48 << 20, 17);
    let (status, upload) = apis[0].open("spread.bin", &data, false).await;
    assert!(status == 200 || status == 201, "{upload}");
    let id = upload["id"].as_str().unwrap().to_owned();
    let count = upload["chunk_count"].as_u64().unwrap();
    assert!(count >= 3, "{upload}");
    for index in 0..count {
        let api = &apis[usize::try_from(index).unwrap() % 3];
        let (status, body) = api.put_chunk(&upload, &data, index).await;
        assert_eq!(status, 201, "chunk {index}: {body}");
    }

    // Node C starts the merge and dies in it.
    let completing = {
        let url = format!("{}/api/uploads/{id}/complete", nodes[2].server.url);
        let token = token.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    nodes.pop();
    let _ = completing.await;

    let started = Instant::now();
    let (status, done) = apis[0].complete(&id).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["file"]["sha256"], sha256_hex(&data), "{done}");
    eprintln!(
        "completed on node A {:.1} s after node C died mid-merge",
        started.elapsed().as_secs_f64()
    );
    let file = done["file"]["id"].as_str().unwrap();
    let download = apis[1].download(file, &[]).await;
    assert_eq!(download.status, 200);
    assert!(download.body == data, "the file differs from what was sent");
    // Completing again anywhere answers the same file.
    let (status, again) = apis[1].complete(&id).await;
    assert_eq!((status, &again["file"]["id"]), (200, &done["file"]["id"]));
}

async fn plugin_state(node: &Server, name: &str) -> (String, u64) {
    let (status, list) = admin(node, reqwest::Method::GET, "/api/admin/plugins", None).await;
    assert_eq!(status, 200, "{list}");
    let plugin = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not on {}: {list}", node.url));
    (
        plugin["state"].as_str().unwrap().to_owned(),
        plugin["failures"].as_u64().unwrap(),
    )
}

/// Quarantine is decided per node: a plugin that keeps failing on one
/// node is quarantined there only, the other nodes keep calling it, and an
/// admin lifts it on the node that quarantined it.
#[tokio::test]
async fn quarantine_is_decided_per_node() {
    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let nodes = start(&shared, &["node-a", "node-b"]);
    let (a, b) = (&nodes[0].server, &nodes[1].server);
    install(a, "misbehave", "0.1.0", "guest-misbehave").await;
    chat_chain(a, &["misbehave"]).await;

    let room_a = open_conversation(a, "customer-a").await;
    let mut on_a = member(a, "customer-a", "customer", &room_a).await;
    for i in 0..5 {
        // Fail-open: each message is still stored.
        let ack = on_a.say(&room_a, &format!("trap-{i}"), "trap").await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    assert_eq!(plugin_state(a, "misbehave").await.0, "quarantined");
    // Node B keeps calling it (once its chain follows node A's order).
    let room_b = open_conversation(b, "customer-b").await;
    let mut on_b = member(b, "customer-b", "customer", &room_b).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    for i in 0.. {
        let ack = on_b.say(&room_b, &format!("trap-{i}"), "trap").await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let (state, failures) = plugin_state(b, "misbehave").await;
        if failures > 0 {
            assert_eq!(state, "active");
            break;
        }
        assert!(Instant::now() < deadline, "node-b never called the plugin");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(plugin_state(a, "misbehave").await.0, "quarantined");
    // The admin lifts it where it was decided.
    let (status, _) = admin(
        a,
        reqwest::Method::POST,
        "/api/admin/plugins/misbehave/enable",
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(plugin_state(a, "misbehave").await.0, "active");
}

/// One node of a cluster whose policy refuses a version (it requires a
/// trusted signature, the other does not) is flagged: the activation
/// answers which node did not apply it and why, the cluster view lists it
/// as lagging, and it keeps serving the version it had; a rollback brings
/// every node back in line.
#[tokio::test]
async fn a_node_that_cannot_apply_a_version_is_flagged_and_keeps_its_own() {
    let Some(shared) = Shared::create(None).await else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("trusted.pem");
    let keygen = std::process::Command::new(hangar_testkit::server::binary())
        .args(["registry", "keygen"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{keygen:?}");
    let public_key = String::from_utf8_lossy(&keygen.stdout).trim().to_owned();
    let (dir_a, dir_b) = (node_dir(), node_dir());
    let a = shared.start_node("node-a", dir_a.path());
    let b = shared.start_node_with(
        "node-b",
        dir_b.path(),
        &["--require-signatures", "--trusted-publishers", &public_key],
    );

    // 1.0.0 signed by the trusted key: both nodes run it.
    let file = keys.path().join("tagger.wasm");
    std::fs::write(&file, wasm("guest-swap-v1")).unwrap();
    let publish = std::process::Command::new(hangar_testkit::server::binary())
        .arg("publish")
        .arg(&file)
        .args(["--name", "tagger", "--version", "1.0.0"])
        .args([
            "--registry",
            a.url.as_str(),
            "--token",
            PUBLISH_TOKEN,
            "--sign",
        ])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(publish.status.success(), "{publish:?}");
    let (status, done) = admin(
        &a,
        reqwest::Method::POST,
        "/api/admin/plugins/tagger/activate",
        Some(json!({"version": "1.0.0"})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let current = |done: &Value, node: &str| {
        done["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("no nodes in {done}"))
            .iter()
            .find(|n| n["node"] == node)
            .unwrap_or_else(|| panic!("no {node} in {done}"))
            .clone()
    };
    assert_eq!(current(&done, "node-a")["current"], true, "{done}");
    assert_eq!(current(&done, "node-b")["current"], true, "{done}");
    chat_chain(&a, &["tagger"]).await;

    // 2.0.0 unsigned: node A runs it, node B refuses it and says why.
    let started = Instant::now();
    let done = install(&a, "tagger", "2.0.0", "guest-swap-v2").await;
    let on_b = current(&done, "node-b");
    assert_eq!(current(&done, "node-a")["current"], true, "{done}");
    assert_eq!(on_b["current"], false, "{done}");
    assert_eq!(on_b["version"], "1.0.0", "{done}");
    assert!(
        on_b["error"].as_str().unwrap_or("").contains("not signed"),
        "{done}"
    );
    // The answer came when node B reported, not at the apply timeout.
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
    let tagger = cluster_view_of(&b, "tagger").await;
    assert_eq!(tagger["version"], "2.0.0", "{tagger}");
    assert_eq!(tagger["lagging"], json!(["node-b"]), "{tagger}");

    // Node B keeps serving 1.0.0; node A serves 2.0.0.
    for (node, user, expected) in [(&a, "customer-a", "v2:hi"), (&b, "customer-b", "v1:hi")] {
        let room = open_conversation(node, user).await;
        let mut client = member(node, user, "customer", &room).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ack = client
                .say(
                    &room,
                    &format!("{user}-{}", started.elapsed().as_nanos()),
                    "hi",
                )
                .await;
            assert_eq!(ack["type"], "ack", "{ack}");
            let text = stored_text(
                node,
                &token(user, "customer"),
                &room,
                ack["seq"].as_u64().unwrap(),
            )
            .await;
            if text == expected {
                break;
            }
            assert!(Instant::now() < deadline, "{} stores {text:?}", node.url);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // Rolled back to the signed version: every node runs it again.
    let done = rollback(&a, "tagger").await;
    assert_eq!(done["version"], "1.0.0", "{done}");
    assert_eq!(current(&done, "node-a")["current"], true, "{done}");
    assert_eq!(current(&done, "node-b")["current"], true, "{done}");
    let tagger = cluster_view_of(&a, "tagger").await;
    assert_eq!(tagger["lagging"], json!([]), "{tagger}");
}

/// A node that missed more of a room than it may hold in memory (over
/// 5,000 messages committed elsewhere while its broker was gone) does not
/// deliver them live: its members there are closed as slow consumers
/// (`4002`), rejoin from their last seq, are told the gap is too far for
/// the socket, and page it over HTTP; nothing is lost, nothing repeated.
#[tokio::test]
async fn a_gap_too_large_to_hold_sends_members_to_sync() {
    let Some(mut nats) = PrivateNats::start() else {
        return;
    };
    let Some(shared) = Shared::create(Some(nats.url())).await else {
        return;
    };
    let dirs = [node_dir_allowing(100_000), node_dir_allowing(100_000)];
    let a = shared.start_node("node-a", dirs[0].path());
    let b = shared.start_node("node-b", dirs[1].path());
    let room = open_conversation(&a, "customer-1").await;
    let mut sender = member(&a, "customer-1", "customer", &room).await;
    let mut reader = member(&b, "agent-b", "agent", &room).await;
    send_many(&mut sender, &room, "before", 10).await;
    collect(&mut sender, 10, 10).await;
    assert_eq!(
        collect(&mut reader, 10, 0).await,
        (1..=10).collect::<Vec<_>>()
    );

    nats.kill();
    const GAP: usize = 5_100;
    for round in 0..GAP / 100 {
        send_many(&mut sender, &room, &format!("gap{round}"), 100).await;
        collect(&mut sender, 100, 100).await;
    }
    nats.restart();
    // Node B reads the gap from the database on reconnecting, and stops at
    // its bound: its member is sent to sync.
    assert_eq!(reader.closed(Duration::from_secs(60)).await, 4002);

    let mut again = WsClient::connect(&b.url, &token("agent-b", "agent"), None)
        .await
        .unwrap();
    again.expect("welcome").await;
    again
        .send(json!({"type": "join", "room": room, "last_seq": 10}))
        .await;
    let joined = again.expect("joined").await;
    assert_eq!(joined["status"], "too-far", "{joined}");
    let mut seqs = Vec::new();
    loop {
        let after = seqs.last().copied().unwrap_or(10);
        let (status, page) = request(
            reqwest::Method::GET,
            &format!(
                "{}/api/rooms/{room}/messages?after={after}&limit=500",
                b.url
            ),
            Some(&token("agent-b", "agent")),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let messages = page["messages"].as_array().unwrap();
        if messages.is_empty() {
            break;
        }
        seqs.extend(messages.iter().map(|m| m["seq"].as_u64().unwrap()));
    }
    assert_eq!(seqs, (11..=10 + GAP as u64).collect::<Vec<_>>());
}

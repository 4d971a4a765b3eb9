//! What an operator watches: `GET /metrics` moving as chat and uploads
//! flow, and the health endpoints (`/livez`, `/readyz`) saying what they
//! promise while the server starts. The real binary over HTTP and
//! WebSockets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::time::{Duration, Instant};

use hangar_testkit::metrics::Scrape;
use hangar_testkit::server::{Server, demo_customer, demo_session, request};
use hangar_testkit::uploads::{UploadApi, pattern};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn metrics_move_as_chat_and_uploads_flow() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_demo(dir.path(), &[]).unwrap();
    let before = Scrape::of(&server.url).await;
    // The process itself, and families present before any traffic.
    assert!(before.value("process_resident_memory_bytes") > 0.0);
    assert!(before.has("hangar_hub_connections"));

    let (token, room, mut client) = demo_customer(&server.url, "dana").await;
    for i in 0..5 {
        let ack = client
            .say(&room, &format!("m{i}"), &format!("hello {i}"))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    // A resend of the same client_id is answered, not stored again.
    let again = client.say(&room, "m0", "hello 0").await;
    assert_eq!(again["duplicate"], true, "{again}");

    let uploads = UploadApi::new(&server.url, &token);
    let data = pattern(3 * 1024 * 1024 + 17, 7);
    let (status, upload) = uploads.open("notes.txt", &data, true).await;
    assert_eq!(status, 201, "{upload}");
    for index in 0..upload["chunk_count"].as_u64().unwrap() {
        let (status, body) = uploads.put_chunk(&upload, &data, index).await;
        assert_eq!((status, &body["stored"]), (201, &json!(true)), "{body}");
    }
    let (status, done) = uploads.complete(upload["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{done}");

    let during = Scrape::of(&server.url).await;
    let grew = |name: &str| during.value(name) - before.value(name);
    assert_eq!(during.value("hangar_hub_connections"), 1.0);
    assert_eq!(during.value("hangar_hub_rooms"), 1.0);
    assert_eq!(grew("hangar_hub_messages_stored_total"), 5.0);
    // Five appends in one or more group commits (the resend is answered
    // from the stored message before it reaches the writer), none failed.
    let commits = grew("hangar_hub_group_commit_seconds_count");
    assert!((1.0..=5.0).contains(&commits), "{commits}");
    assert_eq!(grew("hangar_hub_group_commit_messages_sum"), 5.0);
    assert_eq!(grew("hangar_hub_group_commit_failures_total"), 0.0);
    // Every statement is timed, the group commits' inserts among them.
    let statements = |s: &Scrape, op: &str| {
        s.sum(
            "hangar_database_statement_seconds_count",
            &[&format!("operation=\"{op}\"")],
        )
    };
    assert!(statements(&during, "insert") - statements(&before, "insert") >= commits);
    assert!(statements(&during, "select") > statements(&before, "select"));
    assert_eq!(grew("hangar_hub_send_answer_seconds_count"), 6.0);
    assert!(grew("hangar_hub_frames_received_total") >= 7.0);
    assert!(grew("hangar_hub_frames_sent_total") >= 6.0);
    assert!(grew("hangar_hub_deliveries_total") >= 5.0);
    // Every stored message went through the moderation chain.
    let calls = |s: &Scrape| {
        s.sum(
            "hangar_plugin_calls_total",
            &["plugin=\"keyword-moderation\"", "outcome=\"ok\""],
        )
    };
    assert!(calls(&during) - calls(&before) >= 5.0);
    let timed = |s: &Scrape| {
        s.sum(
            "hangar_plugin_call_seconds_count",
            &["plugin=\"keyword-moderation\""],
        )
    };
    assert_eq!(
        timed(&during) - timed(&before),
        calls(&during) - calls(&before)
    );
    assert!(grew("hangar_upload_chunks_total") >= 1.0);
    assert_eq!(grew("hangar_upload_bytes_total"), data.len() as f64);
    assert_eq!(grew("hangar_upload_merges_total"), 1.0);
    assert_eq!(grew("hangar_upload_merge_seconds_count"), 1.0);
    // The store under it: every chunk a timed put, no failure.
    let puts = |s: &Scrape| {
        s.sum(
            "hangar_object_store_seconds_count",
            &["area=\"uploads\"", "op=\"put\""],
        )
    };
    assert!(puts(&during) - puts(&before) >= upload["chunk_count"].as_f64().unwrap());
    assert_eq!(during.sum("hangar_object_store_errors_total", &[]), 0.0);
    // The same content again, proven held: instant, nothing sent.
    let other = UploadApi::new(
        &server.url,
        &demo_session(&server.url, "erin", "customer").await,
    );
    let (status, copy) = other.open("copy.txt", &data, true).await;
    assert_eq!(status, 201, "{copy}");
    let (offset, length) = (
        copy["challenge"]["offset"].as_u64().unwrap() as usize,
        copy["challenge"]["length"].as_u64().unwrap() as usize,
    );
    let proof = hangar_testkit::uploads::md5_hex(&data[offset..offset + length]);
    let (status, instant) = other.prove(copy["id"].as_str().unwrap(), &proof).await;
    assert_eq!(
        (status, &instant["instant"]),
        (200, &json!(true)),
        "{instant}"
    );
    let after_instant = Scrape::of(&server.url).await;
    let instant_uploads = after_instant.value("hangar_upload_instant_total")
        - during.value("hangar_upload_instant_total");
    assert_eq!(instant_uploads, 1.0, "{instant}");

    // The admin API's percentiles come from the exported histogram.
    let admin = std::fs::read_to_string(dir.path().join("data/admin.token")).unwrap();
    let (status, plugins) = request(
        Method::GET,
        &format!("{}/api/admin/plugins", server.url),
        Some(admin.trim()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{plugins}");
    let moderation = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "keyword-moderation")
        .unwrap();
    let (p50, p99) = (
        moderation["p50_us"].as_u64().unwrap(),
        moderation["p99_us"].as_u64().unwrap(),
    );
    assert!(p50 > 0 && p50 <= p99, "{moderation}");

    // The connection goes: the gauges follow.
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = Scrape::of(&server.url).await;
        if now.value("hangar_hub_connections") == 0.0 && now.value("hangar_hub_rooms") == 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "gauges stay up after the close");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(url: &str, path: &str) -> (u16, Value) {
    request(Method::GET, &format!("{url}{path}"), None, None).await
}

#[tokio::test]
async fn readyz_waits_for_the_plugins_while_livez_answers_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // A fresh compiled cache: restoring the demo's plugins takes seconds.
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start_demo_with(dir.path(), cache.path(), &[], "starting on ").unwrap();
    let (status, live) = get(&server.url, "/livez").await;
    assert_eq!(
        (status, live["status"].as_str()),
        (200, Some("live")),
        "{live}"
    );
    let (status, ready) = get(&server.url, "/readyz").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "not-ready", "{ready}");
    assert_eq!(ready["checks"]["database"], "ok", "{ready}");
    assert_eq!(ready["checks"]["object_store"], "ok", "{ready}");
    assert_ne!(ready["checks"]["plugins"], "ok", "{ready}");
    // Alone: no broker to check.
    assert!(ready["checks"].get("broker").is_none(), "{ready}");

    let deadline = Instant::now() + Duration::from_secs(180);
    let ready = loop {
        let (status, ready) = get(&server.url, "/readyz").await;
        if status == 200 {
            break ready;
        }
        assert!(Instant::now() < deadline, "never ready: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready["status"], "ready", "{ready}");
    // Ready means the demo's plugins answer: the chain moderates.
    let (status, plugins) = get(&server.url, "/api/plugins").await;
    assert_eq!(status, 200, "{plugins}");
    assert_eq!(plugins.as_array().unwrap().len(), 10, "{plugins}");
}

#[tokio::test]
async fn a_request_id_is_in_the_answer_and_in_the_json_log_lines_of_its_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_demo(dir.path(), &["--log-format", "json"]).unwrap();
    let admin = std::fs::read_to_string(dir.path().join("data/admin.token")).unwrap();
    let client = reqwest::Client::new();
    let answer = client
        .post(format!(
            "{}/api/admin/plugins/keyword-moderation/activate",
            server.url
        ))
        .bearer_auth(admin.trim())
        .header("x-request-id", "req-observability-1")
        .json(&json!({"version": "0.1.0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"], "req-observability-1");
    // Without one, the server makes one up and returns it.
    let answer = client
        .get(format!("{}/api/plugins", server.url))
        .send()
        .await
        .unwrap();
    let made = answer.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(made.len(), 36, "{made}");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = server.log();
        let events: Vec<Value> = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
            .collect();
        let activated = events.iter().find(|e| {
            e["fields"]["message"] == "activated" && e["span"]["id"] == "req-observability-1"
        });
        if let Some(event) = activated {
            assert_eq!(event["fields"]["plugin"], "keyword-moderation", "{event}");
            assert_eq!(event["span"]["name"], "request", "{event}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no activation line with the request id: {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn plugin_failures_and_quarantines_are_counted_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_demo(dir.path(), &["--log-format", "json"]).unwrap();
    let read = |name: &str| {
        std::fs::read_to_string(dir.path().join("data").join(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (admin, publish) = (read("admin.token"), read("publish.token"));
    let (status, body) = hangar_testkit::server::publish(
        &server.url,
        "misbehave",
        "0.1.0",
        hangar_testkit::guests::wasm("guest-misbehave"),
        Some(&publish),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    for (method, path, body) in [
        (
            Method::POST,
            "/api/admin/plugins/misbehave/activate",
            json!({"version": "0.1.0"}),
        ),
        (
            Method::PUT,
            "/api/admin/chains/chat-messages",
            json!(["misbehave"]),
        ),
    ] {
        let (status, answer) = request(
            method,
            &format!("{}{path}", server.url),
            Some(&admin),
            Some(&body),
        )
        .await;
        assert!(status == 200 || status == 204, "{path}: {answer}");
    }
    let before = Scrape::of(&server.url).await;
    let (_, room, mut client) = demo_customer(&server.url, "fay").await;
    client.say(&room, "fine", "hello").await;
    for i in 0..5 {
        // Fail-open by default: each is still stored.
        let ack = client.say(&room, &format!("trap-{i}"), "trap").await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let after = Scrape::of(&server.url).await;
    let of = |s: &Scrape, outcome: &str| {
        s.sum(
            "hangar_plugin_calls_total",
            &[
                "plugin=\"misbehave\"",
                "version=\"0.1.0\"",
                &format!("outcome=\"{outcome}\""),
            ],
        )
    };
    assert_eq!(of(&after, "ok") - of(&before, "ok"), 1.0);
    assert_eq!(of(&after, "trap") - of(&before, "trap"), 5.0);
    assert_eq!(
        after.value("hangar_plugin_quarantines_total{plugin=\"misbehave\"}"),
        1.0
    );
    // Each failure is logged in the span of the connection that sent the
    // message: who it was is in the line.
    let failures: Vec<Value> = server
        .log()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["fields"]["message"] == "plugin call failed")
        .collect();
    assert_eq!(failures.len(), 5, "{failures:?}");
    for event in &failures {
        let spans = event["spans"].as_array().unwrap();
        assert!(
            spans
                .iter()
                .any(|s| s["name"] == "connection" && s["user"] == "fay"),
            "{event}"
        );
    }
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let port = hangar_testkit::server::free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_demo(dir.path(), &["--metrics-listen", &listen]).unwrap();
    // Not on the main listener any more.
    let (status, body) = get(&server.url, "/metrics").await;
    assert_eq!(status, 404, "{body}");
    let scrape = Scrape::of(&format!("http://{listen}")).await;
    assert!(scrape.has("hangar_hub_connections"));
    // Nothing else is served there.
    let other = reqwest::get(format!("http://{listen}/api/plugins"))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

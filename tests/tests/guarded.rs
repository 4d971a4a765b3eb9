//! The server never serves unguarded: nothing plugins protect is accepted
//! before they are restored, an interrupted first start is completed by the
//! next, a plugin that cannot be loaded answers by its failure policy, and
//! plugins cannot escape their deadline or their output budgets. The real
//! binary over HTTP and WebSockets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use hangar_testkit::guests::wasm;
use hangar_testkit::server::{Server, demo_customer, demo_session, request};
use hangar_testkit::uploads::UploadApi;
use hangar_testkit::ws::{Received, WsClient};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLISH: &str = "publish-token-0123456789abcdef";

async fn get(url: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    request(Method::GET, &format!("{url}{path}"), token, None).await
}

async fn send(client: &mut WsClient, room: &str, id: &str, text: &str) -> Value {
    client.say(room, id, text).await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn admin_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("data/admin.token"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A fresh compiled cache makes the demo's first start compile every
/// plugin, which holds the server in its starting phase for seconds.
#[tokio::test]
async fn a_starting_server_accepts_nothing_its_plugins_guard() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start_demo_with(dir.path(), cache.path(), &[], "starting on ").unwrap();
    let url = server.url.clone();
    let token = demo_session(&url, "early", "customer").await;
    let uploads = UploadApi::new(&url, &token);
    let page = b"<html><script>alert(1)</script></html>".to_vec();
    let (mut starting, mut refused_sockets, mut refused_uploads) = (0, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the server never became ready");
        let (status, health) = get(&url, "/healthz", None).await;
        if status == 200 {
            assert_eq!(health["status"], "ok", "{health}");
            break;
        }
        assert_eq!((status, health["status"].as_str()), (503, Some("starting")));
        starting += 1;
        // The chat socket is refused with an error frame and 1013.
        let mut client = WsClient::connect(&url, &token, None).await.unwrap();
        match client.next(Duration::from_secs(10)).await {
            Some(Received::Frame(frame)) if frame["type"] == "error" => {
                assert_eq!(frame["code"], "starting", "{frame}");
                assert_eq!(client.closed(Duration::from_secs(10)).await, 1013);
                refused_sockets += 1;
            }
            // It became ready in between: the socket is a normal one.
            Some(Received::Frame(frame)) => assert_eq!(frame["type"], "welcome", "{frame}"),
            other => panic!("unexpected {other:?}"),
        }
        // An upload of a page the policy refuses cannot complete yet.
        let (status, opened) = uploads.open("page.html", &page, false).await;
        assert!(matches!(status, 200 | 201), "{opened}");
        let id = opened["id"].as_str().unwrap().to_owned();
        let (status, chunk) = uploads.put_chunk(&opened, &page, 0).await;
        assert!(matches!(status, 200 | 201 | 204), "{chunk}");
        let (status, body) = uploads.complete(&id).await;
        if status == 503 {
            assert_eq!(code(&body), "starting", "{body}");
            refused_uploads += 1;
        } else {
            assert_eq!(code(&body), "rejected-by-policy", "{body}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        starting > 0 && refused_sockets > 0 && refused_uploads > 0,
        "the starting phase was not observed: {starting} {refused_sockets} {refused_uploads}"
    );
    // Ready: moderation applies from the first message.
    let (_, room, mut client) = demo_customer(&url, "alice").await;
    let verdict = send(&mut client, &room, "c1", "visit scam-link.example now").await;
    assert_eq!(verdict["type"], "rejected", "{verdict}");
    let ack = send(&mut client, &room, "c2", "you are stupid").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let (_, history) = get(
        &url,
        &format!("/api/rooms/{room}/messages"),
        Some(&demo_session(&url, "agent-1", "agent").await),
    )
    .await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "user")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["you are ******"], "{history}");
}

#[tokio::test]
async fn an_interrupted_first_start_is_completed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut first = Server::start_demo_with(dir.path(), cache.path(), &[], "starting on ").unwrap();
    // Stop it once some plugins are installed, before all are.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no plugin was ever installed");
        let (_, plugins) = get(&first.url, "/api/plugins", None).await;
        let installed = plugins.as_array().map_or(0, Vec::len);
        let (health, _) = get(&first.url, "/healthz", None).await;
        assert_eq!(
            health, 503,
            "the installation finished before it could be interrupted"
        );
        if installed >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        first.terminate(Duration::from_secs(30)),
        "no exit on SIGTERM"
    );
    drop(first);

    let second = Server::start_demo_with(dir.path(), cache.path(), &[], "listening on ").unwrap();
    let admin = admin_token(dir.path());
    let (status, chains) = get(&second.url, "/api/admin/chains", Some(&admin)).await;
    assert_eq!(status, 200);
    assert_eq!(
        chains,
        json!({"chat-messages": ["keyword-moderation", "faq-bot"], "uploads": ["upload-policy"]})
    );
    let (_, plugins) = get(&second.url, "/api/plugins", None).await;
    assert_eq!(plugins.as_array().unwrap().len(), 10, "{plugins}");
    let (_, room, mut client) = demo_customer(&second.url, "bob").await;
    let verdict = send(&mut client, &room, "c1", "visit scam-link.example now").await;
    assert_eq!(verdict["type"], "rejected", "{verdict}");
}

#[tokio::test]
async fn a_plugin_that_cannot_be_restored_answers_by_its_failure_policy() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    drop(Server::start_demo_with(dir.path(), cache.path(), &[], "listening on ").unwrap());
    // Neither the compiled cache nor the registry can give the plugins back.
    std::fs::remove_dir_all(cache.path()).unwrap();
    std::fs::remove_dir_all(dir.path().join("data/registry")).unwrap();
    let server = Server::start_demo_with(dir.path(), cache.path(), &[], "listening on ").unwrap();
    let url = server.url.clone();
    let (status, health) = get(&url, "/healthz", None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("degraded")));
    let unavailable = health["unavailable"].as_array().unwrap();
    assert!(
        unavailable.contains(&json!("keyword-moderation")),
        "{health}"
    );
    let (_, chains) = get(&url, "/api/admin/chains", Some(&admin_token(dir.path()))).await;
    assert_eq!(chains["chat-messages"][0], "keyword-moderation", "{chains}");
    // keyword-moderation fails closed: no message passes unchecked.
    let (token, room, mut client) = demo_customer(&url, "carol").await;
    let verdict = send(&mut client, &room, "c1", "hello").await;
    assert_eq!(verdict["type"], "rejected", "{verdict}");
    assert!(
        verdict["reason"]
            .as_str()
            .unwrap()
            .contains("could not be checked"),
        "{verdict}"
    );
    // upload-policy fails closed too.
    let uploads = UploadApi::new(&url, &token);
    let (status, body) = uploads.upload("notes.txt", b"plain text").await;
    assert_eq!((status, code(&body)), (422, "rejected-by-policy"), "{body}");
}

fn demo_with_tokens(dir: &Path) -> Server {
    let publishers = format!("ci={PUBLISH}");
    Server::start_demo(
        dir,
        &["--admin-token", ADMIN, "--publish-tokens", &publishers],
    )
    .unwrap()
}

async fn publish(url: &str, name: &str, version: &str, bytes: Vec<u8>) {
    let (status, body) =
        hangar_testkit::server::publish(url, name, version, bytes, Some(PUBLISH)).await;
    assert!(matches!(status, 200 | 201), "{body}");
}

/// Lifts the quarantine of the evil material through the admin API.
async fn reenable_evil(url: &str) {
    let (status, _) = request(
        Method::POST,
        &format!("{url}/api/admin/materials/evil@0.1.0/enable"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(status, 204);
}

async fn render(url: &str, props: Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let (status, body) = request(
        Method::POST,
        &format!("{url}/api/materials/evil/render"),
        None,
        Some(&props),
    )
    .await;
    (status, body, started.elapsed())
}

#[tokio::test]
async fn material_renders_are_bounded_and_an_admin_lifts_a_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    // 70 renders at once from one address: above the default burst.
    std::fs::write(
        dir.path().join("hangar.toml"),
        "[http]\nanonymous_burst = 1000\nanonymous_rate_per_sec = 1000\n",
    )
    .unwrap();
    let server = demo_with_tokens(dir.path());
    let url = server.url.clone();
    publish(&url, "evil", "0.1.0", wasm("guest-material-evil")).await;
    // A sleep does not hold the call: timers fire at once.
    let (status, body, took) = render(&url, json!({"mode": "sleep"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // 70 sleeping renders at once do not hold up another material.
    let sleepers = join_all((0..70).map(|_| render(&url, json!({"mode": "sleep"}))));
    let other = async {
        let started = Instant::now();
        let (status, _) = request(
            Method::POST,
            &format!("{url}/api/materials/text/render"),
            None,
            Some(&json!({"text": "meanwhile"})),
        )
        .await;
        (status, started.elapsed())
    };
    let (_, (status, took)) = tokio::join!(sleepers, other);
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "{took:?}");
    // Deep markup is refused before it is parsed, on the call's thread:
    // the server keeps answering while such renders run.
    let nested = join_all((0..4).map(|_| render(&url, json!({"mode": "nest", "n": 40_000}))));
    let health = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        let (status, _) = get(&url, "/healthz", None).await;
        (status, started.elapsed())
    };
    let (_, (status, took)) = tokio::join!(nested, health);
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "/healthz took {took:?}");
    // Those four failures in a row quarantined it: lift that (below, the
    // quarantine itself is what is tested).
    reenable_evil(&url).await;
    // Over the HTML budget: refused whole, quickly, as a failure.
    for props in [
        json!({"mode": "huge", "n": 8_388_608}),
        json!({"mode": "nest", "n": 20_000}),
    ] {
        let (status, body, took) = render(&url, props.clone()).await;
        assert_eq!((status, code(&body)), (502, "material-failed"), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("output budget"),
            "{body}"
        );
        assert!(took < Duration::from_secs(3), "{props}: {took:?}");
    }
    // A trap says so, without the guest's backtrace or internal addresses.
    let (_, body, _) = render(&url, json!({"mode": "trap"})).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("trapped"), "{message}");
    for leak in ["wasm", "backtrace", "127.0.0.1", "registry/v1"] {
        assert!(!message.contains(leak), "{leak} leaked: {message}");
    }
    // Five failures in a row quarantine it; an admin lifts that.
    for _ in 0..3 {
        render(&url, json!({"mode": "trap"})).await;
    }
    let (status, body, _) = render(&url, json!({"mode": "script"})).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("quarantined"),
        "{body}"
    );
    let (_, loaded) = get(&url, "/api/admin/materials", Some(ADMIN)).await;
    let evil = loaded
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "evil")
        .unwrap()
        .clone();
    assert_eq!(evil["state"], "quarantined", "{loaded}");
    reenable_evil(&url).await;
    let (status, body, _) = render(&url, json!({"mode": "script"})).await;
    assert_eq!(status, 200, "{body}");
}

/// A material that cannot be loaded is not fetched and compiled again on
/// every listing: its failure is remembered and retried with backoff.
#[tokio::test]
async fn a_material_that_fails_to_load_is_not_loaded_again_on_every_listing() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_with_tokens(dir.path());
    let url = server.url.clone();
    publish(&url, "broken", "0.1.0", wasm("guest-material-broken")).await;
    let listed = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "broken")
            .cloned()
    };
    // Wait until the listing knows it (the package list is reused for 5 s)
    // and every other material has finished loading (their compiles would
    // move the counters compared below).
    let deadline = Instant::now() + Duration::from_secs(15);
    let entry = loop {
        let (_, list) = get(&url, "/api/materials", None).await;
        let settled = list
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] != "loading");
        if let Some(entry) = listed(&list).filter(|e| e["status"] == "unavailable" && settled) {
            break entry;
        }
        assert!(Instant::now() < deadline, "{list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        entry["error"]
            .as_str()
            .unwrap()
            .contains("could not be loaded")
            || entry["error"].as_str().unwrap().contains("schema"),
        "{entry}"
    );
    let (_, before) = get(&url, "/api/admin/runtime", Some(ADMIN)).await;
    let started = Instant::now();
    for _ in 0..10 {
        let (status, list) = get(&url, "/api/materials", None).await;
        assert_eq!(status, 200);
        assert_eq!(listed(&list).unwrap()["status"], "unavailable");
        let (status, body) = get(&url, "/api/materials/broken@0.1.0", None).await;
        assert_eq!(status, 502, "{body}");
    }
    let (_, after) = get(&url, "/api/admin/runtime", Some(ADMIN)).await;
    assert_eq!(before["downloads"], after["downloads"], "{before} {after}");
    assert_eq!(
        before["cache"]["compiled"], after["cache"]["compiled"],
        "{before} {after}"
    );
    // Twenty requests, and the load is retried only on its backoff (1 s,
    // doubling): at most once per doubling within the time they took.
    let retries =
        after["cache"]["hits"].as_u64().unwrap() - before["cache"]["hits"].as_u64().unwrap();
    let allowed = 1 + (started.elapsed().as_secs_f64() + 1.0).log2().floor() as u64;
    assert!(
        retries <= allowed,
        "{retries} loads in {:?}: {before} {after}",
        started.elapsed()
    );
}

#[tokio::test]
async fn listing_and_describing_never_compile_what_is_not_a_material() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_with_tokens(dir.path());
    let url = server.url.clone();
    let (_, before) = get(&url, "/api/admin/runtime", Some(ADMIN)).await;
    for _ in 0..3 {
        let (status, body) = get(&url, "/api/materials/keyword-moderation@0.1.0", None).await;
        assert_eq!((status, code(&body)), (404, "not-a-material"), "{body}");
        let (status, _) = get(&url, "/api/materials", None).await;
        assert_eq!(status, 200);
    }
    let (_, after) = get(&url, "/api/admin/runtime", Some(ADMIN)).await;
    assert_eq!(before["downloads"], after["downloads"], "{before} {after}");
}

#[tokio::test]
async fn pages_save_concurrently_without_errors_and_their_history_is_staff_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_with_tokens(dir.path());
    let url = server.url.clone();
    let agent = demo_session(&url, "designer", "agent").await;
    let customer = demo_session(&url, "cust", "customer").await;
    let page = json!({"title": "T", "nodes": [
        {"material": "text", "version": "0.1.0", "props": {"text": "Hello", "level": "h1"}}
    ]});
    let put = |if_match: Option<&'static str>| {
        let (url, agent, page) = (url.clone(), agent.clone(), page.clone());
        async move {
            let mut request = reqwest::Client::new()
                .put(format!("{url}/api/pages/race"))
                .bearer_auth(agent)
                .json(&page);
            if let Some(tag) = if_match {
                request = request.header("if-match", tag);
            }
            request.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(put(None).await, 201);
    let statuses = join_all((0..20).map(|_| put(Some("\"r1\"")))).await;
    let won = statuses.iter().filter(|s| **s == 200).count();
    let lost = statuses.iter().filter(|s| **s == 412).count();
    assert_eq!((won, lost), (1, 19), "{statuses:?}");

    for path in [
        "/api/pages/race",
        "/api/pages/race/revisions",
        "/api/pages/race/revisions/1",
    ] {
        assert_eq!(get(&url, path, None).await.0, 401, "{path}");
        assert_eq!(get(&url, path, Some(&customer)).await.0, 403, "{path}");
        assert_eq!(get(&url, path, Some(&agent)).await.0, 200, "{path}");
    }

    // The published page: strict policy; rendered once per revision.
    let view = || async {
        let response = reqwest::get(format!("{url}/p/race")).await.unwrap();
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let frame = response.headers()["x-frame-options"]
            .to_str()
            .unwrap()
            .to_owned();
        (csp, frame, response.text().await.unwrap())
    };
    let (csp, frame, html) = view().await;
    assert!(html.contains("Hello"), "{html}");
    for part in [
        "frame-ancestors 'none'",
        "form-action 'self'",
        "img-src 'self'",
        "default-src 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing: {csp}");
    }
    assert!(!csp.contains("img-src *"), "{csp}");
    assert_eq!(frame, "DENY");
    let calls = || async {
        let (_, loaded) = get(&url, "/api/admin/materials", Some(ADMIN)).await;
        loaded
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "text")
            .map_or(0, |m| m["calls"].as_u64().unwrap())
    };
    let before = calls().await;
    for _ in 0..5 {
        view().await;
    }
    assert_eq!(
        calls().await,
        before,
        "a cached page ran its materials again"
    );
    for path in ["/admin", "/designer", "/chat"] {
        let response = reqwest::get(format!("{url}{path}")).await.unwrap();
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn demo_secrets_are_readable_by_the_server_user_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A secret left world-readable by an older version is narrowed too.
    std::fs::write(data.join("admin.token"), "a".repeat(64)).unwrap();
    std::fs::set_permissions(
        data.join("admin.token"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let server = Server::start_demo(dir.path(), &[]).unwrap();
    for file in ["admin.token", "publish.token", "demo-session.key"] {
        let mode = std::fs::metadata(data.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
    let key = std::fs::read_to_string(data.join("demo-session.key")).unwrap();
    assert!(
        !server.log().iter().any(|line| line.contains(key.trim())),
        "the session key was logged"
    );
}

/// A server whose chat chain is the misbehaving test plugin, and a
/// customer joined to a conversation: (server, room, client, session key).
async fn misbehaving_chat(dir: &Path) -> (Server, String, WsClient, &'static str) {
    let server = Server::start_isolated(dir, ADMIN, &format!("ci={PUBLISH}")).unwrap();
    let url = server.url.clone();
    publish(&url, "misbehave", "1.0.0", wasm("guest-misbehave")).await;
    let (status, body) = request(
        Method::POST,
        &format!("{url}/api/admin/plugins/misbehave/activate"),
        Some(ADMIN),
        Some(&json!({"version": "1.0.0"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = request(
        Method::PUT,
        &format!("{url}/api/admin/chains/chat-messages"),
        Some(ADMIN),
        Some(&json!(["misbehave"])),
    )
    .await;
    assert_eq!(status, 204);
    let key = "isolated-session-key-0123456789abcdef";
    let token = hangar_testkit::server::mint_token(key, "dave", "customer", 600);
    let (_, conversation) = request(
        Method::POST,
        &format!("{url}/api/conversations"),
        Some(&token),
        None,
    )
    .await;
    let room = conversation["room"].as_str().unwrap().to_owned();
    let mut client = WsClient::connect(&url, &token, None).await.unwrap();
    client.expect("welcome").await;
    client.send(json!({"type": "join", "room": room})).await;
    client.expect("joined").await;
    (server, room, client, key)
}

#[tokio::test]
async fn chat_answers_over_budget_never_reach_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let (server, room, mut client, key) = misbehaving_chat(dir.path()).await;
    let url = server.url.clone();
    // The plugin fails open (the default): its over-budget answers are
    // dropped whole and the message is stored as sent.
    for (id, text) in [("c1", "rewrite-huge:8388608"), ("c2", "flag-huge:4194304")] {
        let ack = send(&mut client, &room, id, text).await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let agent = hangar_testkit::server::mint_token(key, "agent-1", "agent", 600);
    let (_, history) = get(&url, &format!("/api/rooms/{room}/messages"), Some(&agent)).await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["rewrite-huge:8388608", "flag-huge:4194304"]);
    let response = reqwest::Client::new()
        .get(format!("{url}/api/admin/alerts"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let alerts = response.text().await.unwrap();
    assert!(alerts.len() < 10_000, "{} bytes of alerts", alerts.len());
    let (_, plugins) = get(&url, "/api/admin/plugins", Some(ADMIN)).await;
    assert_eq!(plugins[0]["failures"], 2, "{plugins}");
    // A log flood (500 events of 110 KB each) leaves a bounded log.
    let logged_before: usize = server.log().iter().map(String::len).sum();
    let ack = send(&mut client, &room, "c3", "log-flood:500").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logged: usize = server.log().iter().map(String::len).sum::<usize>() - logged_before;
    assert!(logged < 100_000, "{logged} bytes of log for one call");
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("plugin log events dropped")),
        "the dropped events are not reported"
    );
}

#[tokio::test]
async fn a_send_held_by_a_slow_plugin_holds_up_nothing_else_on_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, room, mut client, _) = misbehaving_chat(dir.path()).await;
    // `loop` spins until the plugin's deadline (200 ms of guest time) and
    // is then let through by its failure policy. While it runs, the same
    // connection answers a history request: the call runs in a task of its
    // own, not in the connection's.
    let started = Instant::now();
    client
        .send(json!({"type": "send", "room": room, "client_id": "slow", "text": "loop"}))
        .await;
    // Well into the call, short of its deadline.
    tokio::time::sleep(Duration::from_millis(60)).await;
    client
        .send(json!({"type": "history", "room": room, "limit": 5}))
        .await;
    client.expect("history").await;
    let answered = started.elapsed();
    let ack = client.expect("ack").await;
    let acked = started.elapsed();
    assert_eq!(ack["client_id"], "slow", "{ack}");
    assert!(
        acked >= Duration::from_millis(200),
        "the call took {acked:?}"
    );
    assert!(
        answered < Duration::from_millis(190),
        "history answered after {answered:?}, during a call that ended at {acked:?}"
    );
}

/// A server stopped with SIGTERM tells every client to go away (`1001`)
/// before it exits, however many there are: its sockets finish their
/// closing handshakes first.
#[tokio::test]
async fn a_stopping_server_says_going_away_to_every_client() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_demo(dir.path(), &[]).unwrap();
    let token = demo_session(&server.url, "gina", "customer").await;
    let clients = join_all((0..200).map(|_| async {
        let mut client = WsClient::connect(&server.url, &token, None).await.unwrap();
        client.expect("welcome").await;
        client
    }))
    .await;
    server.signal_term();
    let codes = join_all(
        clients
            .into_iter()
            .map(|mut client| async move { client.closed(Duration::from_secs(15)).await }),
    )
    .await;
    let going_away = codes.iter().filter(|code| **code == 1001).count();
    assert_eq!(going_away, codes.len(), "close codes: {codes:?}");
    assert!(server.wait_exit(Duration::from_secs(15)));
}

//! The registry and live administration end to end: the real binary,
//! publishing over HTTP and the CLI, activating, rolling back, hot swap
//! under chat load, persistence across restarts, a registry that is down.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::path::Path;
use std::time::{Duration, Instant};

use hangar_testkit::guests::wasm;
use hangar_testkit::server::{Server, binary, request};
use hangar_testkit::ws::WsClient;
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLISH: &str = "ci=publish-token-0123456789abcdef";
const PUBLISH_TOKEN: &str = "publish-token-0123456789abcdef";
const SESSION_KEY: &str = "session-key-0123456789abcdef0123456789";

const TOML: &str = r#"
max_component_bytes = 2097152

[hub]
send_rate_per_sec = 1000
send_burst = 1000
"#;

struct Host {
    server: Option<Server>,
    dir: TempDir,
}

fn demo_args() -> Vec<&'static str> {
    vec!["--admin-token", ADMIN, "--publish-tokens", PUBLISH]
}

impl Host {
    fn demo() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hangar.toml"), TOML).unwrap();
        let server = Server::start_demo(dir.path(), &demo_args()).unwrap();
        Self {
            server: Some(server),
            dir,
        }
    }

    fn url(&self) -> String {
        self.server.as_ref().unwrap().url.clone()
    }

    fn kill_and_restart(&mut self) {
        drop(self.server.take());
        self.server = Some(Server::start_demo(self.dir.path(), &demo_args()).unwrap());
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        request(method, &format!("{}{path}", self.url()), token, body).await
    }

    async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.call(method, path, Some(ADMIN), body).await
    }

    async fn publish(
        &self,
        name: &str,
        version: &str,
        bytes: Vec<u8>,
        token: Option<&str>,
    ) -> (u16, Value) {
        publish_to(&self.url(), name, version, bytes, token).await
    }

    async fn session(&self, user: &str, role: &str) -> String {
        let (_, body) = self
            .call(
                Method::POST,
                "/api/session",
                None,
                Some(&json!({"user": user, "role": role})),
            )
            .await;
        body["token"].as_str().unwrap().to_owned()
    }
}

async fn publish_to(
    base: &str,
    name: &str,
    version: &str,
    bytes: Vec<u8>,
    token: Option<&str>,
) -> (u16, Value) {
    hangar_testkit::server::publish(base, name, version, bytes, token).await
}

/// `tagger` 1.0.0 and 2.0.0: the test guests that tag each message with
/// their version.
async fn publish_taggers(host: &Host) {
    for (version, guest) in [("1.0.0", "guest-swap-v1"), ("2.0.0", "guest-swap-v2")] {
        let (status, body) = host
            .publish("tagger", version, wasm(guest), Some(PUBLISH_TOKEN))
            .await;
        assert!(status == 201 || status == 200, "{body}");
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hangar_testkit::uploads::sha256_hex(bytes))
}

async fn publish_list_fetch_with_immutable_versions_and_clear_refusals() {
    let host = Host::demo();
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or("").to_owned();
    let message = |v: &Value| v["error"]["message"].as_str().unwrap_or("").to_owned();

    // The demo published its examples into the embedded registry.
    let (status, packages) = host
        .call(Method::GET, "/registry/v1/packages", None, None)
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = packages
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for example in [
        "card",
        "form-input",
        "keyword-moderation",
        "faq-bot",
        "upload-policy",
        "text",
        "button",
        "image",
    ] {
        assert!(names.contains(&example), "{names:?}");
    }

    let v1 = wasm("guest-swap-v1");
    let v2 = wasm("guest-swap-v2");
    let (status, info) = host
        .publish("tagger", "1.0.0", v1.clone(), Some(PUBLISH_TOKEN))
        .await;
    assert_eq!(status, 201, "{info}");
    assert_eq!(info["digest"], sha256(&v1).as_str());
    assert_eq!(
        (info["world"].as_str(), info["publisher"].as_str()),
        (Some("chat-plugin"), Some("ci"))
    );
    // The same bytes again: nothing changes; other bytes: refused.
    let (status, again) = host
        .publish("tagger", "1.0.0", v1.clone(), Some(PUBLISH_TOKEN))
        .await;
    assert_eq!((status, &again["digest"]), (200, &info["digest"]));
    let (status, body) = host
        .publish("tagger", "1.0.0", v2.clone(), Some(PUBLISH_TOKEN))
        .await;
    assert_eq!((status, code(&body)), (409, "immutable".into()), "{body}");
    assert_eq!(
        host.publish("tagger", "2.0.0", v2.clone(), Some(PUBLISH_TOKEN))
            .await
            .0,
        201
    );

    let (status, versions) = host
        .call(Method::GET, "/registry/v1/packages/tagger", None, None)
        .await;
    assert_eq!(status, 200);
    let listed: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["1.0.0", "2.0.0"]);
    let blob_url = format!("{}/registry/v1/blobs/{}", host.url(), sha256(&v1));
    let blob = reqwest::get(&blob_url).await.unwrap();
    assert_eq!(blob.status(), 200);
    assert!(
        blob.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = blob.headers()["etag"].to_str().unwrap().to_owned();
    assert!(blob.bytes().await.unwrap() == v1);
    let cached = reqwest::Client::new()
        .get(&blob_url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // Yanked versions stay fetchable but are no longer the latest.
    let (status, _) = host
        .call(
            Method::POST,
            "/registry/v1/packages/tagger/2.0.0/yank",
            Some(PUBLISH_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (_, packages) = host
        .call(Method::GET, "/registry/v1/packages", None, None)
        .await;
    let tagger = packages
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tagger")
        .unwrap();
    assert_eq!(tagger["latest"], "1.0.0");
    let (_, yanked) = host
        .call(
            Method::GET,
            "/registry/v1/packages/tagger/2.0.0",
            None,
            None,
        )
        .await;
    assert_eq!(yanked["yanked"], true);

    // Refusals, each with its reason.
    let (status, body) = host
        .publish("junk", "1.0.0", b"hello".to_vec(), Some(PUBLISH_TOKEN))
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, "not-a-plugin".into()),
        "{body}"
    );
    let (status, body) = host
        .publish(
            "junk",
            "1.0.0",
            b"\0asm\x01\0\0\0".to_vec(),
            Some(PUBLISH_TOKEN),
        )
        .await;
    assert_eq!(status, 422);
    assert!(message(&body).contains("core WebAssembly module"), "{body}");
    // A component the host could never link (ComponentizeJS's default
    // build imports wasi:http) is refused at publish, with the fix.
    let http = hangar_testkit::guests::importing(&[("wasi:http/types@0.2.10", &["fields"])]);
    let (status, body) = host
        .publish("junk", "1.0.0", http, Some(PUBLISH_TOKEN))
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, "not-a-plugin".into()),
        "{body}"
    );
    let said = message(&body);
    assert!(
        said.contains("wasi:http/types@0.2.10") && said.contains("-d http -d fetch-event"),
        "{body}"
    );
    // Nothing of it was kept: the name is still free.
    let (status, _) = host
        .call(Method::GET, "/registry/v1/packages/junk", None, None)
        .await;
    assert_eq!(status, 404);
    let (status, body) = host
        .publish(
            "junk",
            "1.0.0",
            b"\0asm\x0d\0\x01\0".to_vec(),
            Some(PUBLISH_TOKEN),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        message(&body).contains("none of the hangar:plugin worlds"),
        "{body}"
    );
    let (status, body) = host
        .publish("junk", "1.0.0", vec![0; 3 << 20], Some(PUBLISH_TOKEN))
        .await;
    assert_eq!((status, code(&body)), (413, "too-large".into()), "{body}");
    let (status, body) = host
        .publish("Bad_Name", "1.0.0", v1.clone(), Some(PUBLISH_TOKEN))
        .await;
    assert_eq!((status, code(&body)), (400, "bad-name".into()));
    let (status, body) = host
        .publish("tagger", "one", v1.clone(), Some(PUBLISH_TOKEN))
        .await;
    assert_eq!((status, code(&body)), (400, "bad-version".into()));
    assert_eq!(
        host.call(Method::GET, "/registry/v1/packages/junk", None, None)
            .await
            .0,
        404
    );

    // Tokens: missing is 401, wrong is 403, on every protected route.
    assert_eq!(
        host.publish("tagger", "3.0.0", v1.clone(), None).await.0,
        401
    );
    assert_eq!(
        host.publish(
            "tagger",
            "3.0.0",
            v1.clone(),
            Some("wrong-token-0123456789")
        )
        .await
        .0,
        403
    );
    assert_eq!(
        host.call(
            Method::POST,
            "/registry/v1/packages/tagger/1.0.0/yank",
            None,
            None
        )
        .await
        .0,
        401
    );
    for (method, path) in [
        (Method::GET, "/api/admin/plugins"),
        (Method::POST, "/api/admin/plugins/tagger/activate"),
        (Method::POST, "/api/admin/plugins/faq-bot/rollback"),
        (Method::POST, "/api/admin/plugins/faq-bot/disable"),
        (Method::POST, "/api/admin/plugins/faq-bot/enable"),
        (Method::GET, "/api/admin/plugins/faq-bot/config"),
        (Method::GET, "/api/admin/chains"),
        (Method::GET, "/api/admin/files"),
        (Method::POST, "/api/admin/session"),
        (Method::PUT, "/api/admin/plugins/faq-bot/config"),
        (Method::PUT, "/api/admin/chains/chat-messages"),
        (Method::GET, "/api/admin/alerts"),
    ] {
        let path = path.to_owned();
        assert_eq!(
            host.call(method.clone(), &path, None, None).await.0,
            401,
            "{path}"
        );
        assert_eq!(
            host.call(method, &path, Some(PUBLISH_TOKEN), None).await.0,
            403,
            "{path}"
        );
    }
}

/// Sends `text` and returns the stored text (after moderation).
async fn say(client: &mut WsClient, room: &str, id: &str, text: &str) -> Value {
    client
        .send(json!({"type": "send", "room": room, "client_id": id, "text": text}))
        .await;
    loop {
        let frame = client.expect("ack").await;
        if frame["client_id"] == id {
            return frame;
        }
    }
}

async fn stored_texts(host: &Host, token: &str, room: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = host
            .call(
                Method::GET,
                &format!("/api/rooms/{room}/messages?after={after}&limit=500"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let messages = page["messages"].as_array().unwrap().clone();
        if messages.is_empty() {
            return out;
        }
        for m in &messages {
            after = m["seq"].as_u64().unwrap();
            if m["kind"] == "user" {
                out.push((
                    m["client_id"].as_str().unwrap_or("").to_owned(),
                    m["text"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
}

async fn customer(host: &Host, user: &str) -> (String, String, WsClient) {
    let token = host.session(user, "customer").await;
    let (status, conversation) = host
        .call(Method::POST, "/api/conversations", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let room = conversation["room"].as_str().unwrap().to_owned();
    let mut client = WsClient::connect(&host.url(), &token, None).await.unwrap();
    client.expect("welcome").await;
    client.send(json!({"type": "join", "room": room})).await;
    client.expect("joined").await;
    (token, room, client)
}

async fn activate_roll_back_configure_and_come_back_after_a_restart() {
    let mut host = Host::demo();
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or("").to_owned();
    publish_taggers(&host).await;
    // The registry keeps one world per package (the host would refuse such
    // a version too: the runtime tests cover that swap).
    let (status, body) = host
        .publish(
            "tagger",
            "3.0.0",
            wasm("upload-policy"),
            Some(PUBLISH_TOKEN),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, "world-mismatch".into()),
        "{body}"
    );

    let (status, done) = host
        .admin(
            Method::POST,
            "/api/admin/plugins/tagger/activate",
            Some(&json!({"version": "1.0.0"})),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    let (status, body) = host
        .admin(
            Method::PUT,
            "/api/admin/chains/chat-messages",
            Some(&json!(["keyword-moderation", "tagger"])),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, room, mut alice) = customer(&host, "alice").await;
    say(&mut alice, &room, "m1", "hello").await;

    // v2 answers the next message; the connection stays.
    let (status, done) = host
        .admin(
            Method::POST,
            "/api/admin/plugins/tagger/activate",
            Some(&json!({"version": "2.0.0"})),
        )
        .await;
    assert_eq!(
        (status, done["version"].as_str()),
        (200, Some("2.0.0")),
        "{done}"
    );
    say(&mut alice, &room, "m2", "hello").await;
    // A version the registry refused, or lacks, changes nothing.
    let (status, body) = host
        .admin(
            Method::POST,
            "/api/admin/plugins/tagger/activate",
            Some(&json!({"version": "3.0.0"})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (404, "not-in-registry".into()),
        "{body}"
    );
    let (status, body) = host
        .admin(
            Method::POST,
            "/api/admin/plugins/tagger/activate",
            Some(&json!({"version": "9.0.0"})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (404, "not-in-registry".into()),
        "{body}"
    );
    say(&mut alice, &room, "m3", "hello").await;
    let (status, back) = host
        .admin(Method::POST, "/api/admin/plugins/tagger/rollback", None)
        .await;
    assert_eq!(
        (status, back["version"].as_str()),
        (200, Some("1.0.0")),
        "{back}"
    );
    say(&mut alice, &room, "m4", "hello").await;

    // Config: validated as JSON, applied to the next call.
    let (status, body) = host
        .admin(
            Method::PUT,
            "/api/admin/plugins/keyword-moderation/config",
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (400, "bad-config".into()));
    let config = json!({"mask": [], "reject": ["banana"], "flag": []});
    let (status, _) = host
        .admin(
            Method::PUT,
            "/api/admin/plugins/keyword-moderation/config",
            Some(&config),
        )
        .await;
    assert_eq!(status, 204);
    alice
        .send(json!({"type": "send", "room": room, "client_id": "m5", "text": "a banana"}))
        .await;
    let rejected = alice.expect("rejected").await;
    assert_eq!(rejected["by"], "keyword-moderation", "{rejected}");

    let admin_token = host.session("root", "admin").await;
    let texts = stored_texts(&host, &admin_token, &room).await;
    let tags: Vec<&str> = texts
        .iter()
        .map(|(_, t)| t.split(':').next().unwrap())
        .collect();
    assert_eq!(tags, ["v1", "v2", "v2", "v1"], "{texts:?}");

    let (_, plugins) = host.admin(Method::GET, "/api/admin/plugins", None).await;
    let tagger = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tagger")
        .unwrap()
        .clone();
    assert_eq!(
        (tagger["version"].as_str(), tagger["state"].as_str()),
        (Some("1.0.0"), Some("active"))
    );
    assert!(tagger["calls"].as_u64().unwrap() >= 4);
    assert!(tagger["p50_us"].as_u64().is_some());

    // Disabled plugins are skipped; the state survives a restart, as do the
    // active version, the configuration and the chain order.
    assert_eq!(
        host.admin(Method::POST, "/api/admin/plugins/faq-bot/disable", None)
            .await
            .0,
        204
    );
    host.kill_and_restart();
    let (_, plugins) = host.admin(Method::GET, "/api/admin/plugins", None).await;
    let find = |name: &str| {
        plugins
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(find("tagger")["version"], "1.0.0");
    assert_eq!(find("faq-bot")["state"], "disabled");
    let (_, chains) = host.admin(Method::GET, "/api/admin/chains", None).await;
    assert_eq!(
        chains["chat-messages"],
        json!(["keyword-moderation", "tagger"])
    );
    let (_, saved) = host
        .admin(
            Method::GET,
            "/api/admin/plugins/keyword-moderation/config",
            None,
        )
        .await;
    assert_eq!(saved, config);
    let (_, room, mut bob) = customer(&host, "bob").await;
    let ack = say(&mut bob, &room, "b1", "after restart").await;
    assert_eq!(ack["type"], "ack");
    let admin_token = host.session("root", "admin").await;
    let texts = stored_texts(&host, &admin_token, &room).await;
    assert_eq!(texts[0].1, "v1:after restart");

    // Alerts: paged, filtered by severity.
    let (status, alerts) = host
        .admin(
            Method::GET,
            "/api/admin/alerts?limit=5&severity=critical",
            None,
        )
        .await;
    assert_eq!(status, 200, "{alerts}");
    assert!(alerts["alerts"].is_array());
}

#[tokio::test]
async fn hot_swap_under_chat_load_loses_no_message_and_mixes_no_versions() {
    let host = Host::demo();
    publish_taggers(&host).await;
    let activate = |version: &'static str| {
        let url = host.url();
        async move {
            request(
                Method::POST,
                &format!("{url}/api/admin/plugins/tagger/activate"),
                Some(ADMIN),
                Some(&json!({"version": version})),
            )
            .await
        }
    };
    assert_eq!(activate("1.0.0").await.0, 200);
    assert_eq!(
        host.admin(
            Method::PUT,
            "/api/admin/chains/chat-messages",
            Some(&json!(["tagger"]))
        )
        .await
        .0,
        204
    );
    let (_, room, mut alice) = customer(&host, "alice").await;

    // 1,000 sends at a steady pace; the admin swaps to v2 at ~300 and rolls
    // back at ~700, recording when each answer came back.
    const TOTAL: usize = 1000;
    let started = Instant::now();
    let swaps = {
        let url = host.url();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(900)).await;
            let (status, _) = request(
                Method::POST,
                &format!("{url}/api/admin/plugins/tagger/activate"),
                Some(ADMIN),
                Some(&json!({"version": "2.0.0"})),
            )
            .await;
            assert_eq!(status, 200);
            let swapped = Instant::now();
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let rollback_sent = Instant::now();
            let (status, _) = request(
                Method::POST,
                &format!("{url}/api/admin/plugins/tagger/rollback"),
                Some(ADMIN),
                None,
            )
            .await;
            assert_eq!(status, 200);
            (swapped, rollback_sent, Instant::now())
        })
    };
    let mut sent_at = Vec::with_capacity(TOTAL);
    // When each ack came back: a message acknowledged before the rollback
    // was asked for was moderated before it.
    let mut acked_at = vec![None; TOTAL];
    let mut acked = 0;
    let mut record = |frame: &Value| {
        let i: usize = frame["client_id"].as_str().unwrap()[1..].parse().unwrap();
        acked_at[i] = Some(Instant::now());
    };
    let mut interval = tokio::time::interval(Duration::from_millis(3));
    for i in 0..TOTAL {
        interval.tick().await;
        sent_at.push(Instant::now());
        alice
            .send(json!({"type": "send", "room": room, "client_id": format!("c{i}"), "text": format!("n{i}")}))
            .await;
        // Drain what has arrived without waiting.
        while let Some(hangar_testkit::ws::Received::Frame(frame)) =
            alice.next(Duration::ZERO).await
        {
            assert_ne!(frame["type"], "error", "{frame}");
            assert_ne!(frame["type"], "rejected", "{frame}");
            if frame["type"] == "ack" {
                record(&frame);
                acked += 1;
            }
        }
    }
    while acked < TOTAL {
        let frame = alice.expect_any(&["ack", "error", "rejected"]).await;
        assert_eq!(frame["type"], "ack", "{frame}");
        record(&frame);
        acked += 1;
    }
    let (swapped, rollback_sent, rolled_back) = swaps.await.unwrap();
    eprintln!("{TOTAL} messages in {:?}", started.elapsed());

    let admin_token = host.session("root", "admin").await;
    let texts = stored_texts(&host, &admin_token, &room).await;
    assert_eq!(texts.len(), TOTAL, "every message stored exactly once");
    let mut versions = Vec::new();
    for (client_id, text) in &texts {
        let i: usize = client_id[1..].parse().unwrap();
        let (tag, rest) = text.split_once(':').unwrap();
        assert_eq!(
            rest,
            format!("n{i}"),
            "moderated by exactly one version: {text}"
        );
        assert!(tag == "v1" || tag == "v2", "{text}");
        versions.push((i, tag.to_owned()));
    }
    versions.sort();
    for (i, tag) in &versions {
        let at = sent_at[*i];
        if at > swapped && acked_at[*i].is_some_and(|acked| acked < rollback_sent) {
            assert_eq!(tag, "v2", "message {i} sent after the swap returned");
        }
        if at > rolled_back {
            assert_eq!(tag, "v1", "message {i} sent after the rollback returned");
        }
    }
    assert!(
        versions.iter().any(|(_, t)| t == "v2"),
        "the swap took effect"
    );
}

async fn a_host_with_its_registry_down_starts_from_its_compiled_cache() {
    let dir = tempfile::tempdir().unwrap();
    let registry_dir = dir.path().join("registry");
    let registry = Server::start_command(
        &["registry", "serve"],
        &[
            "--dir",
            registry_dir.to_str().unwrap(),
            "--publish-tokens",
            PUBLISH,
        ],
        &[],
        dir.path(),
    )
    .unwrap();
    // Publish with the CLI: it prints the digest.
    let component = dir.path().join("tagger.wasm");
    let bytes = wasm("guest-swap-v1");
    std::fs::write(&component, &bytes).unwrap();
    let output = std::process::Command::new(binary())
        .args([
            "publish",
            component.to_str().unwrap(),
            "--name",
            "tagger",
            "--version",
            "1.0.0",
        ])
        .args(["--registry", &registry.url, "--token", PUBLISH_TOKEN])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains(&sha256(&bytes)));
    let output = std::process::Command::new(binary())
        .args([
            "publish",
            component.to_str().unwrap(),
            "--name",
            "tagger",
            "--version",
            "1.0.0",
        ])
        .args([
            "--registry",
            &registry.url,
            "--token",
            "wrong-token-0123456789",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("may not publish"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let start_host = |dir: &Path, registry_url: &str| {
        let cache = hangar_testkit::shared_cache_dir().display().to_string();
        Server::start(
            &[
                "--data-dir",
                "data",
                "--cache-dir",
                &cache,
                "--registry-url",
                registry_url,
                "--admin-token",
                ADMIN,
            ],
            &[("HANGAR_SESSION_KEY", SESSION_KEY)],
            dir,
        )
        .unwrap()
    };
    let host = start_host(dir.path(), &registry.url);
    let plugins_cli = |args: &[&str], server: &str| {
        std::process::Command::new(binary())
            .arg("plugins")
            .args(args)
            .args(["--server", server, "--admin-token", ADMIN])
            .output()
            .unwrap()
    };
    let output = plugins_cli(&["activate", "tagger", "1.0.0"], &host.url);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = plugins_cli(&["activate", "tagger", "9.9.9"], &host.url);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("the registry has no tagger 9.9.9") && !error.contains("{\""),
        "{error}"
    );
    // Not waited for by the server: the command follows the job.
    let output = plugins_cli(
        &["activate", "tagger", "1.0.0", "--wait-ms", "0"],
        &host.url,
    );
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{err}");
    assert!(err.contains("following /api/admin/jobs/"), "{err}");
    assert!(out.contains("tagger 1.0.0 active"), "{out}");
    let output = plugins_cli(
        &["activate", "tagger", "9.9.9", "--wait-ms", "0"],
        &host.url,
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        err.contains("following") && err.contains("the registry has no tagger 9.9.9 (404)"),
        "{err}"
    );
    let output = plugins_cli(&["list"], &host.url);
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(
        listing.contains("tagger") && listing.contains("1.0.0"),
        "{listing}"
    );

    // The registry goes away; the host restarts with its plugin.
    drop(registry);
    drop(host);
    let host = start_host(dir.path(), "http://127.0.0.1:9");
    let (status, plugins) = host.get_json("/api/plugins").await;
    assert_eq!(status, 200);
    assert_eq!(
        plugins,
        json!([{"name": "tagger", "version": "1.0.0", "world": "chat-plugin"}])
    );
}

#[tokio::test]
async fn a_blob_tampered_with_in_storage_is_detected_and_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let host = Server::start_isolated(dir.path(), ADMIN, PUBLISH).unwrap();
    let bytes = wasm("guest-swap-v1");
    assert_eq!(
        publish_to(
            &host.url,
            "tagger",
            "1.0.0",
            bytes.clone(),
            Some(PUBLISH_TOKEN)
        )
        .await
        .0,
        201
    );
    let hex = &sha256(&bytes)["sha256:".len()..];
    let blob = dir.path().join("data/registry/blobs/sha256").join(hex);
    let mut tampered = std::fs::read(&blob).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    std::fs::write(&blob, tampered).unwrap();

    let (status, body) = request(
        Method::POST,
        &format!("{}/api/admin/plugins/tagger/activate", host.url),
        Some(ADMIN),
        Some(&json!({"version": "1.0.0"})),
    )
    .await;
    assert!(status >= 400, "{status} {body}");
    let (_, plugins) = host.get_json("/api/plugins").await;
    assert_eq!(plugins, json!([]), "nothing was loaded");
    // The blob is streamed and checked as it passes: the tampered one ends
    // in an error, never as a complete body (before the answer's head when
    // the mismatch is found before the first bytes go out).
    let fetched = reqwest::get(format!("{}/registry/v1/blobs/{}", host.url, sha256(&bytes))).await;
    if let Ok(response) = fetched {
        assert!(
            response.bytes().await.is_err(),
            "a tampered blob was served whole"
        );
    }
}

async fn packages_have_owners_one_world_and_semver_versions() {
    const ALICE: &str = "alice-token-0123456789abcdef";
    const BOB: &str = "bob-token-0123456789abcdef";
    let dir = tempfile::tempdir().unwrap();
    let server =
        Server::start_isolated(dir.path(), ADMIN, &format!("alice={ALICE},bob={BOB}")).unwrap();
    let url = server.url.clone();
    let v1 = wasm("guest-swap-v1");
    let v2 = wasm("guest-swap-v2");
    let code = |body: &Value| body["error"]["code"].as_str().unwrap_or("").to_owned();
    assert_eq!(
        publish_to(&url, "tagger", "1.0.0", v1.clone(), Some(ALICE))
            .await
            .0,
        201
    );
    // Bob owns nothing of it: no new version, no yank.
    let (status, body) = publish_to(&url, "tagger", "1.0.1", v2.clone(), Some(BOB)).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "not-an-owner"),
        "{body}"
    );
    let (status, body) = request(
        Method::POST,
        &format!("{url}/registry/v1/packages/tagger/1.0.0/yank"),
        Some(BOB),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "not-an-owner"),
        "{body}"
    );
    // Nor can he make himself an owner.
    let (status, _) = request(
        Method::PUT,
        &format!("{url}/registry/v1/packages/tagger/owners/bob"),
        Some(BOB),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // Alice adds him; then he publishes.
    let (status, owners) = request(
        Method::PUT,
        &format!("{url}/registry/v1/packages/tagger/owners/bob"),
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(
        (status, &owners["owners"]),
        (200, &json!(["alice", "bob"])),
        "{owners}"
    );
    assert_eq!(
        publish_to(&url, "tagger", "1.0.1", v2.clone(), Some(BOB))
            .await
            .0,
        201
    );

    // One world per package: a material is not a new version of a chat plugin.
    let (status, body) = publish_to(
        &url,
        "tagger",
        "9.9.9",
        wasm("guest-material-evil"),
        Some(ALICE),
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (409, "world-mismatch"),
        "{body}"
    );

    // Build metadata makes no new version; a pre-release is never latest
    // while a stable version exists.
    let (status, body) = publish_to(&url, "tagger", "1.0.1+evil", v1.clone(), Some(ALICE)).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "bad-version"),
        "{body}"
    );
    assert_eq!(
        publish_to(&url, "tagger", "2.0.0-rc.1", v1.clone(), Some(ALICE))
            .await
            .0,
        201
    );
    let tagger = package(&url, "tagger").await;
    assert_eq!(tagger["latest"], "1.0.1", "{tagger}");
    // A package with only pre-releases offers its newest one.
    assert_eq!(
        publish_to(&url, "early", "0.1.0-alpha", v1.clone(), Some(BOB))
            .await
            .0,
        201
    );
    let early = package(&url, "early").await;
    assert_eq!(early["latest"], "0.1.0-alpha", "{early}");

    // An admin may pin the digest: anything else is refused before it is
    // fetched or compiled.
    let activate = |digest: String| {
        let url = url.clone();
        async move {
            request(
                Method::POST,
                &format!("{url}/api/admin/plugins/tagger/activate"),
                Some(ADMIN),
                Some(&json!({"version": "1.0.1", "digest": digest})),
            )
            .await
        }
    };
    let (status, body) = activate(sha256(&v1)).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (409, "digest-mismatch"),
        "{body}"
    );
    let (_, plugins) = request(Method::GET, &format!("{url}/api/plugins"), None, None).await;
    assert_eq!(plugins, json!([]));
    let (status, body) = activate(sha256(&v2)).await;
    assert_eq!(
        (status, body["version"].as_str()),
        (200, Some("1.0.1")),
        "{body}"
    );
}

/// The token is checked before the body is read: unauthenticated 60 MiB
/// publishes cost the server no memory.
#[tokio::test]
async fn unauthenticated_publishes_are_refused_before_their_body_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_isolated(dir.path(), ADMIN, &format!("ci={PUBLISH_TOKEN}")).unwrap();
    let before = server.peak_rss_kib().unwrap();
    assert!(server.reset_peak_rss());
    let body = vec![0u8; 60 << 20];
    let attempts = (0..6).map(|_| {
        let (url, body) = (server.url.clone(), body.clone());
        async move {
            let response = reqwest::Client::new()
                .put(format!("{url}/registry/v1/packages/big/1.0.0"))
                .bearer_auth("not-a-publish-token-0123456789")
                .body(body)
                .send()
                .await;
            // The server may answer and close before taking the body.
            response.map(|r| r.status().as_u16()).unwrap_or(403)
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 403), "{statuses:?}");
    let grew = server.peak_rss_kib().unwrap().saturating_sub(before);
    assert!(grew < 64 * 1024, "peak RSS grew by {grew} KiB");
    // With the token, over twice the limit is refused on its declared length,
    // before any of it is sent.
    use tokio::io::AsyncWriteExt as _;
    let mut stream = tokio::net::TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "PUT /registry/v1/packages/big/1.0.0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PUBLISH_TOKEN}\r\nContent-Length: {}\r\n\r\n",
        80 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = raw_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("too-large"), "{answer}");
}

/// The start of the answer on a raw HTTP connection.
async fn raw_answer(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

/// The registry's listing of package `name`.
async fn package(url: &str, name: &str) -> Value {
    let (_, packages) = request(
        Method::GET,
        &format!("{url}/registry/v1/packages"),
        None,
        None,
    )
    .await;
    packages
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
        .clone()
}

/// `bytes` with a custom section of `size` bytes appended: still a valid
/// component, as large as wanted.
fn padded(mut bytes: Vec<u8>, size: usize) -> Vec<u8> {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"padding";
    let mut section = Vec::new();
    leb128(name.len(), &mut section);
    section.extend_from_slice(name);
    section.resize(section.len() + size, 0x5a);
    bytes.push(0);
    leb128(section.len(), &mut bytes);
    bytes.extend_from_slice(&section);
    bytes
}

/// Slow readers of a large blob do not make the server hold it in memory
/// once per reader.
#[tokio::test]
async fn slow_readers_of_a_large_blob_keep_memory_bounded() {
    use futures_util::StreamExt as _;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_isolated(dir.path(), ADMIN, &format!("ci={PUBLISH_TOKEN}")).unwrap();
    let large = padded(wasm("guest-swap-v1"), 30 << 20);
    // The publish streams to storage: the server never holds the body.
    let before = server.peak_rss_kib().unwrap();
    assert!(server.reset_peak_rss());
    let (status, body) = publish_to(
        &server.url,
        "large",
        "1.0.0",
        large.clone(),
        Some(PUBLISH_TOKEN),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let grew = server.peak_rss_kib().unwrap().saturating_sub(before);
    eprintln!("publishing 30 MiB grew the peak RSS by {grew} KiB");
    assert!(
        grew < 20 * 1024,
        "publishing 30 MiB grew the peak RSS by {grew} KiB"
    );
    let url = format!("{}/registry/v1/blobs/{}", server.url, sha256(&large));
    let before = server.peak_rss_kib().unwrap();
    assert!(server.reset_peak_rss());
    let readers = (0..16).map(|_| {
        let url = url.clone();
        async move {
            let response = reqwest::get(&url).await.unwrap();
            let mut stream = response.bytes_stream();
            let mut read = 0usize;
            // Read a little, slowly, then the rest.
            for _ in 0..5 {
                if let Some(part) = stream.next().await {
                    read += part.unwrap().len();
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            while let Some(part) = stream.next().await {
                read += part.unwrap().len();
            }
            read
        }
    });
    let sizes = futures_util::future::join_all(readers).await;
    assert!(sizes.iter().all(|s| *s == large.len()), "{sizes:?}");
    let grew = server.peak_rss_kib().unwrap().saturating_sub(before);
    // Sixteen whole copies would be 480 MiB.
    assert!(grew < 100 * 1024, "peak RSS grew by {grew} KiB");
}

#[test]
fn the_streaming_inspector_tells_the_same_world_whatever_the_chunking() {
    for guest in ["guest-swap-v1", "material-button", "upload-policy"] {
        let bytes = wasm(guest);
        let whole = hangar_registry::inspect(&bytes).unwrap();
        for size in [1, 7, 4096, bytes.len()] {
            let mut inspector = hangar_registry::Inspector::default();
            for part in bytes.chunks(size) {
                inspector.feed(part).unwrap();
            }
            assert_eq!(
                inspector.finish().unwrap().world,
                whole,
                "{guest} in parts of {size}"
            );
        }
        let mut cut = hangar_registry::Inspector::default();
        cut.feed(&bytes[..bytes.len() - 1]).unwrap();
        assert!(cut.finish().is_err(), "{guest} cut short");
        let mut longer = hangar_registry::Inspector::default();
        let mut extended = bytes.clone();
        extended.push(0);
        assert!(
            longer.feed(&extended).is_err() || longer.finish().is_err(),
            "{guest} with a byte after its end"
        );
    }
}

/// Files under the registry's staging directory.
fn staged(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join("data/registry/blobs/staging"))
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn publish_bodies_stream_to_storage_and_nothing_is_kept_of_a_refused_one() {
    use tokio::io::AsyncWriteExt as _;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &[
            "--data-dir",
            "data",
            "--cache-dir",
            "cache",
            "--config",
            "hangar.toml",
        ],
        &[
            ("HANGAR_SESSION_KEY", SESSION_KEY),
            ("HANGAR_PUBLISH_TOKENS", PUBLISH),
            ("RUST_LOG", "warn"),
        ],
        {
            std::fs::write(dir.path().join("hangar.toml"), TOML).unwrap();
            dir.path()
        },
    )
    .unwrap();
    let addr = server.url.trim_start_matches("http://").to_owned();
    // A chunked body (no length) over the limit (2 MiB here) is refused
    // once past it, and nothing of it stays.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT /registry/v1/packages/big/1.0.0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PUBLISH_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let component = padded(wasm("guest-swap-v1"), 3 << 20);
    for part in component.chunks(64 << 10) {
        let chunk = [format!("{:x}\r\n", part.len()).as_bytes(), part, b"\r\n"].concat();
        if stream.write_all(&chunk).await.is_err() {
            break; // the server stopped reading: it has answered
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let answer = raw_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A body cut off midway: refused, nothing kept.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let small = wasm("guest-swap-v1");
    let head = format!(
        "PUT /registry/v1/packages/cut/1.0.0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PUBLISH_TOKEN}\r\nContent-Length: {}\r\n\r\n",
        small.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&small[..small.len() / 2]).await.unwrap();
    drop(stream);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(staged(dir.path()), Vec::<std::path::PathBuf>::new());
    let (status, _) = server.get_json("/registry/v1/packages/cut/1.0.0").await;
    assert_eq!(status, 404);
    // A whole one streams in, lands under its digest, and is served back.
    let (status, body) = publish_to(
        &server.url,
        "cut",
        "1.0.0",
        small.clone(),
        Some(PUBLISH_TOKEN),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(staged(dir.path()), Vec::<std::path::PathBuf>::new());
    let served = reqwest::get(format!(
        "{}/registry/v1/blobs/{}",
        server.url,
        sha256(&small)
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    assert_eq!(served.as_ref(), small.as_slice());
}

hangar_testkit::on_every_backend!(
    publish_list_fetch_with_immutable_versions_and_clear_refusals,
    activate_roll_back_configure_and_come_back_after_a_restart,
    packages_have_owners_one_world_and_semver_versions,
    a_host_with_its_registry_down_starts_from_its_compiled_cache,
);

/// A plugin's runtime settings are set through the admin API and the CLI,
/// checked against the engine pool, kept across a restart; chain order
/// through the CLI.
#[tokio::test]
async fn plugin_settings_and_chain_order_are_set_from_the_api_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let host = Server::start_isolated(dir.path(), ADMIN, PUBLISH).unwrap();
    let publish = publish_to(
        &host.url,
        "tagger",
        "1.0.0",
        wasm("guest-swap-v1"),
        Some(PUBLISH_TOKEN),
    );
    assert_eq!(publish.await.0, 201);
    let activate = |url: String| async move {
        request(
            Method::POST,
            &format!("{url}/api/admin/plugins/tagger/activate"),
            Some(ADMIN),
            Some(&json!({"version": "1.0.0"})),
        )
        .await
    };
    assert_eq!(activate(host.url.clone()).await.0, 200);
    let cli = |args: &[&str], server: &str| {
        let output = std::process::Command::new(binary())
            .arg("plugins")
            .args(args)
            .args(["--server", server, "--admin-token", ADMIN])
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = cli(
        &[
            "settings",
            "tagger",
            "--isolation",
            "pooled",
            "--max-uses",
            "50",
            "--max-idle",
            "2",
            "--deadline-ms",
            "500",
            "--failure-policy",
            "fail-closed",
        ],
        &host.url,
    );
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        shown["isolation"],
        json!({"mode": "pooled", "max_uses": 50, "max_idle": 2})
    );
    assert_eq!(shown["limits"]["deadline_ms"], 500);
    assert_eq!(shown["failure_policy"], "fail-closed");
    // A second change keeps the first.
    let (ok, out, err) = cli(&["settings", "tagger", "--memory-mib", "64"], &host.url);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["limits"]["memory_bytes"], 64 << 20);
    assert_eq!(shown["limits"]["deadline_ms"], 500);

    let settings_url = format!("{}/api/admin/plugins/tagger/settings", host.url);
    let (status, got) = request(Method::GET, &settings_url, Some(ADMIN), None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["overrides"],
        json!({
            "isolation": {"mode": "pooled", "max_uses": 50, "max_idle": 2},
            "deadline_ms": 500,
            "memory_bytes": 64 << 20,
            "failure_policy": "fail-closed",
        })
    );
    // Above what the engine pool's slots hold, a zero, an unknown key:
    // refused with the key, nothing changed.
    for (body, says) in [
        (json!({"memory_bytes": 4u64 << 30}), "limits.memory_bytes"),
        (json!({"quarantine_after": 0}), "quarantine_after"),
        (
            json!({"isolation": {"mode": "pooled", "max_uses": 0, "max_idle": 1}}),
            "isolation.max_uses",
        ),
        (json!({"deadline": 5}), "deadline"),
    ] {
        let (status, answer) = request(Method::PUT, &settings_url, Some(ADMIN), Some(&body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(says),
            "{body}: {answer}"
        );
    }
    let (ok, _, err) = cli(&["settings", "tagger", "--isolation", "pooled"], &host.url);
    assert!(!ok && err.contains("--max-uses"), "{err}");

    let (ok, out, err) = cli(&["chain", "chat-messages", "tagger"], &host.url);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "chat-messages: tagger");
    let (ok, _, err) = cli(&["chain", "chat-messages", "nobody"], &host.url);
    assert!(!ok && err.contains("nobody"), "{err}");
    let (ok, _, err) = cli(&["chain", "bogus"], &host.url);
    assert!(!ok && err.contains("no chain \"bogus\""), "{err}");

    // Kept across a restart.
    drop(host);
    let host = Server::start_isolated(dir.path(), ADMIN, PUBLISH).unwrap();
    let (_, again) = request(
        Method::GET,
        &format!("{}/api/admin/plugins/tagger/settings", host.url),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(again["overrides"], got["overrides"]);
    assert_eq!(again["settings"]["isolation"]["mode"], "pooled");
    let (ok, out, _) = cli(&["chain", "chat-messages"], &host.url);
    assert!(ok);
    assert_eq!(out.trim(), "chat-messages: tagger");
    // Back to the defaults.
    let (ok, out, err) = cli(&["settings", "tagger", "--reset"], &host.url);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["isolation"]["mode"], "per-call");
}

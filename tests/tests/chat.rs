//! The chat hub end to end: the real binary (demo mode, example plugins
//! active) over real WebSockets and HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::path::Path;
use std::time::Duration;

use hangar_testkit::server::{Server, request};
use hangar_testkit::ws::{Received, WsClient};
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio_tungstenite::tungstenite::Message;

struct Chat {
    server: Option<Server>,
    dir: TempDir,
}

const BASE_TOML: &str = r#"
demo = true

[hub]
send_rate_per_sec = 1000
send_burst = 1000
"#;

fn start(dir: &Path) -> Server {
    Server::start_demo(dir, &[]).unwrap()
}

impl Chat {
    async fn start(toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hangar.toml"), toml).unwrap();
        let server = start(dir.path());
        Self {
            server: Some(server),
            dir,
        }
    }

    fn url(&self) -> String {
        self.server.as_ref().unwrap().url.clone()
    }

    /// SIGKILL, then start again on the same data directory.
    fn kill_and_restart(&mut self) {
        drop(self.server.take());
        self.server = Some(start(self.dir.path()));
    }

    async fn token(&self, user: &str, role: &str) -> String {
        let body = json!({"user": user, "role": role});
        let (_, answer) = request(
            Method::POST,
            &format!("{}/api/session", self.url()),
            None,
            Some(&body),
        )
        .await;
        answer["token"].as_str().unwrap().to_owned()
    }

    async fn post(&self, path: &str, token: &str) -> (u16, Value) {
        request(
            Method::POST,
            &format!("{}{path}", self.url()),
            Some(token),
            None,
        )
        .await
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        request(
            Method::GET,
            &format!("{}{path}", self.url()),
            Some(token),
            None,
        )
        .await
    }

    /// A customer with an open conversation: (token, room).
    async fn customer(&self, user: &str) -> (String, String) {
        let token = self.token(user, "customer").await;
        let (status, conversation) = self.post("/api/conversations", &token).await;
        assert_eq!(status, 200, "{conversation}");
        (token, conversation["room"].as_str().unwrap().to_owned())
    }

    async fn connect(&self, token: &str) -> WsClient {
        let mut client = WsClient::connect(&self.url(), token, None).await.unwrap();
        client.expect("welcome").await;
        client
    }
}

async fn join(client: &mut WsClient, room: &str, last_seq: Option<u64>) -> Value {
    let mut frame = json!({"type": "join", "room": room});
    if let Some(last) = last_seq {
        frame["last_seq"] = json!(last);
    }
    client.send(frame).await;
    client.expect("joined").await
}

async fn send(client: &mut WsClient, room: &str, id: &str, text: &str) -> Value {
    client.say(room, id, text).await
}

async fn customer_and_agent_chat_with_acks_batches_and_unread_counts() {
    let chat = Chat::start(BASE_TOML).await;
    let (customer_token, room) = chat.customer("alice").await;
    let agent_token = chat.token("agent-1", "agent").await;
    let (status, _) = chat
        .post(&format!("/api/conversations/{room}/claim"), &agent_token)
        .await;
    assert_eq!(status, 200);

    let mut customer = chat.connect(&customer_token).await;
    let mut agent = chat.connect(&agent_token).await;
    let joined = join(&mut customer, &room, None).await;
    assert_eq!(joined["status"], "ok");
    assert_eq!(joined["head_seq"], 0);
    join(&mut agent, &room, None).await;

    let ack = send(&mut customer, &room, "c1", "hello, is anyone there?").await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["seq"], 1);
    assert_eq!(ack["duplicate"], false);
    let got = agent.messages(1).await;
    assert_eq!(got[0]["text"], "hello, is anyone there?");
    assert_eq!(got[0]["sender"], "alice");
    assert_eq!(got[0]["kind"], "user");

    assert_eq!(
        send(&mut agent, &room, "a1", "Hi Alice, how can I help?").await["seq"],
        2
    );
    let got = customer.messages(2).await;
    assert_eq!(
        got.iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );

    // Unread counts follow the read position.
    let (_, list) = chat.get("/api/conversations", &customer_token).await;
    assert_eq!(list["conversations"][0]["unread"], 1);
    customer
        .send(json!({"type": "read", "room": room, "seq": 2}))
        .await;
    customer.send(json!({"type": "ping", "id": 7})).await;
    assert_eq!(customer.expect("pong").await["id"], 7);
    let cursor = list["cursor"].as_u64().unwrap();
    let (_, changed) = chat
        .get(
            &format!("/api/conversations?cursor={cursor}"),
            &customer_token,
        )
        .await;
    assert_eq!(changed["conversations"][0]["unread"], 0, "{changed}");
    let (_, nothing) = chat
        .get(
            &format!("/api/conversations?cursor={}", changed["cursor"]),
            &customer_token,
        )
        .await;
    assert_eq!(nothing["conversations"].as_array().unwrap().len(), 0);

    // Scrollback over HTTP.
    let (status, page) = chat
        .get(
            &format!("/api/rooms/{room}/messages?after=0&limit=10"),
            &agent_token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);

    // Another customer may not join; nobody may write once it is closed.
    let (mallory_token, _) = chat.customer("mallory").await;
    let mut mallory = chat.connect(&mallory_token).await;
    mallory.send(json!({"type": "join", "room": room})).await;
    assert_eq!(mallory.expect("error").await["code"], "forbidden");
    let (status, _) = chat
        .post(&format!("/api/conversations/{room}/close"), &agent_token)
        .await;
    assert_eq!(status, 200);
    customer
        .send(json!({"type": "send", "room": room, "client_id": "c9", "text": "still there?"}))
        .await;
    assert_eq!(customer.expect("error").await["code"], "closed");
    let (_, page) = chat
        .get(
            &format!("/api/rooms/{room}/messages?after=0&limit=10"),
            &agent_token,
        )
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2, "{page}");
}

async fn a_reconnecting_client_gets_exactly_what_it_missed_and_retries_are_stored_once() {
    let chat = Chat::start(BASE_TOML).await;
    let (customer_token, room) = chat.customer("bob").await;
    let agent_token = chat.token("agent-1", "agent").await;
    let mut customer = chat.connect(&customer_token).await;
    join(&mut customer, &room, None).await;
    for i in 1..=3 {
        send(
            &mut customer,
            &room,
            &format!("c{i}"),
            &format!("message {i}"),
        )
        .await;
    }
    drop(customer);

    let mut agent = chat.connect(&agent_token).await;
    join(&mut agent, &room, None).await;
    for i in 1..=5 {
        send(&mut agent, &room, &format!("a{i}"), &format!("reply {i}")).await;
    }
    // The customer had seq 3; it gets 4..=8, in order, nothing else.
    let mut customer = chat.connect(&customer_token).await;
    let joined = join(&mut customer, &room, Some(3)).await;
    assert_eq!(joined["status"], "ok");
    assert_eq!(joined["head_seq"], 8);
    let seqs: Vec<u64> = joined["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [4, 5, 6, 7, 8]);

    // A retried send (same client id) is acknowledged with the original.
    let first = send(&mut customer, &room, "retry-1", "only once").await;
    let again = send(&mut customer, &room, "retry-1", "only once").await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        (again["seq"].clone(), again["id"].clone()),
        (first["seq"].clone(), first["id"].clone())
    );
    let (_, page) = chat
        .get(
            &format!("/api/rooms/{room}/messages?after=0"),
            &customer_token,
        )
        .await;
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts.iter().filter(|t| **t == "only once").count(), 1);
}

async fn acked_messages_survive_sigkill_and_seqs_continue_after_restart() {
    let mut chat = Chat::start(BASE_TOML).await;
    let (token, room) = chat.customer("carol").await;
    let mut client = chat.connect(&token).await;
    join(&mut client, &room, None).await;
    for i in 1..=20 {
        assert_eq!(
            send(
                &mut client,
                &room,
                &format!("k{i}"),
                &format!("durable {i}")
            )
            .await["type"],
            "ack"
        );
    }
    // SIGKILL right after the last ack.
    chat.kill_and_restart();
    let (status, page) = chat
        .get(&format!("/api/rooms/{room}/messages?after=0"), &token)
        .await;
    assert_eq!(status, 200, "tokens survive the restart: {page}");
    let seqs: Vec<u64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let mut client = chat.connect(&token).await;
    join(&mut client, &room, Some(20)).await;
    assert_eq!(
        send(&mut client, &room, "after-restart", "still here").await["seq"],
        21
    );
}

async fn moderation_rejects_rewrites_flags_and_bots_reply_and_admins_get_alerts() {
    let chat = Chat::start(BASE_TOML).await;
    let (token, room) = chat.customer("dave").await;
    let admin_token = chat.token("root", "admin").await;
    let mut admin = chat.connect(&admin_token).await;
    join(&mut admin, &room, None).await;
    let mut customer = chat.connect(&token).await;
    join(&mut customer, &room, None).await;

    let rejected = send(&mut customer, &room, "m1", "visit scam-link.example now").await;
    assert_eq!(rejected["type"], "rejected");
    assert_eq!(rejected["by"], "keyword-moderation");

    let ack = send(&mut customer, &room, "m2", "this is STUPID").await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["seq"], 1, "the rejected message took no seq");
    let stored = admin.messages(1).await;
    assert_eq!(stored[0]["text"], "this is ******");

    let ack = send(&mut customer, &room, "m3", "I will call my lawyer").await;
    assert_eq!(ack["type"], "ack");
    let alert = admin.expect("alert").await;
    assert_eq!(alert["alert"]["severity"], "warning");
    assert_eq!(alert["alert"]["room"], room);
    assert_eq!(alert["alert"]["message_id"], ack["id"]);

    // The ack does not wait for the bot: its reply follows, with the next
    // seq, on the socket and in the history.
    let ack = send(&mut customer, &room, "m4", "how do I get a refund?").await;
    let reply = loop {
        if let Some(bot) = admin
            .messages(1)
            .await
            .into_iter()
            .find(|m| m["kind"] == "bot")
        {
            break bot;
        }
    };
    assert_eq!(reply["seq"], ack["seq"].as_u64().unwrap() + 1, "{reply}");
    let (_, page) = chat
        .get(
            &format!("/api/rooms/{room}/messages?after={}", ack["seq"]),
            &token,
        )
        .await;
    let bot = &page["messages"][0];
    assert_eq!(bot["kind"], "bot", "{page}");
    assert_eq!(bot["sender"], "faq-bot");
    assert!(bot["text"].as_str().unwrap().contains("Refunds"), "{bot}");
}

#[tokio::test]
async fn access_rules_origin_and_tokens_are_enforced() {
    let chat = Chat::start(BASE_TOML).await;
    let (_, alices_room) = chat.customer("alice").await;
    let (mallory, _) = chat.customer("mallory").await;
    let mut client = chat.connect(&mallory).await;
    client
        .send(json!({"type": "join", "room": alices_room}))
        .await;
    let error = client.expect("error").await;
    assert_eq!(error["code"], "forbidden");
    client
        .send(json!({"type": "send", "room": alices_room, "client_id": "x", "text": "hi"}))
        .await;
    assert_eq!(client.expect("error").await["code"], "not-joined");
    let (status, _) = chat
        .get(&format!("/api/rooms/{alices_room}/messages"), &mallory)
        .await;
    assert_eq!(status, 403);

    // Another site's page may not open a socket with the user's token.
    let err = WsClient::connect(&chat.url(), &mallory, Some("https://evil.example"))
        .await
        .err()
        .unwrap();
    assert!(err.contains("403"), "{err}");
    let own_origin = chat.url();
    assert!(
        WsClient::connect(&chat.url(), &mallory, Some(&own_origin))
            .await
            .is_ok()
    );

    // Expired and forged tokens: an error frame, then the matching close code.
    let key = std::fs::read_to_string(chat.dir.path().join("data/demo-session.key")).unwrap();
    let expired = mint(&key, "mallory", "customer", -10);
    let mut client = WsClient::connect(&chat.url(), &expired, None)
        .await
        .unwrap();
    assert_eq!(client.expect("error").await["code"], "unauthorized");
    assert_eq!(client.closed(Duration::from_secs(5)).await, 4001);
    let mut client = WsClient::connect(&chat.url(), "not.a.token", None)
        .await
        .unwrap();
    assert_eq!(client.expect("error").await["code"], "unauthorized");
    assert_eq!(client.closed(Duration::from_secs(5)).await, 4003);
    let (status, body) = chat.get("/api/conversations", &expired).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("session-expired"))
    );
}

/// Mints a token, `ttl` seconds from now (negative: already expired).
fn mint(key: &str, user: &str, role: &str, ttl: i64) -> String {
    if ttl < 0 {
        // Tokens are minted for the future: mint a 1-second one and outlive it.
        let token = hangar_testkit::server::mint_token(key, user, role, 1);
        std::thread::sleep(Duration::from_millis(2100));
        return token;
    }
    hangar_testkit::server::mint_token(key, user, role, ttl.unsigned_abs())
}

#[tokio::test]
async fn bad_input_gets_documented_answers_and_never_hurts_other_connections() {
    let chat = Chat::start(
        "demo = true\n[hub]\nsend_rate_per_sec = 5\nsend_burst = 5\nmax_text_bytes = 100\nmax_frame_bytes = 2000\n",
    )
    .await;
    let (token, room) = chat.customer("erin").await;
    let mut bystander = chat.connect(&token).await;
    join(&mut bystander, &room, None).await;

    let mut client = chat.connect(&token).await;
    join(&mut client, &room, None).await;
    client
        .send_raw(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(client.expect("error").await["code"], "bad-frame");
    client.send(json!({"type": "dance"})).await;
    assert_eq!(client.expect("error").await["code"], "bad-frame");
    let long = "x".repeat(101);
    assert_eq!(
        send(&mut client, &room, "long", &long).await["code"],
        "text-too-long"
    );
    // Still up after all that.
    client.send(json!({"type": "ping"})).await;
    client.expect("pong").await;

    // Flooding: the burst passes, then rate-limited errors, then a close.
    let mut limited = 0;
    for i in 0..80 {
        client
            .send(
                json!({"type": "send", "room": room, "client_id": format!("f{i}"), "text": "spam"}),
            )
            .await;
    }
    let code = loop {
        match client.next(Duration::from_secs(10)).await {
            Some(Received::Frame(f)) if f["code"] == "rate-limited" => limited += 1,
            Some(Received::Frame(_)) => {}
            Some(Received::Closed(code, _)) => break code,
            other => panic!("{other:?}"),
        }
    };
    assert!(limited >= 50, "{limited}");
    assert_eq!(code, 1008);

    // Binary frames and oversized frames close with their codes.
    let mut client = chat.connect(&token).await;
    client
        .send_raw(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(client.closed(Duration::from_secs(5)).await, 1003);
    let mut client = chat.connect(&token).await;
    let _ = client
        .send_raw(Message::Text("y".repeat(5000).into()))
        .await;
    assert_eq!(client.closed(Duration::from_secs(5)).await, 1009);

    // The bystander saw none of it and still works.
    bystander.send(json!({"type": "ping", "id": 1})).await;
    assert_eq!(bystander.expect("pong").await["id"], 1);
    assert!(
        send(&mut bystander, &room, "ok", "fine").await["seq"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn a_silent_client_is_closed_by_the_heartbeat() {
    let chat = Chat::start("demo = true\n[hub]\nheartbeat_ms = 200\ntimeout_ms = 600\n").await;
    let (token, _) = chat.customer("frank").await;
    // Connects, then never reads: it never answers the server's pings.
    let mut silent = WsClient::connect(&chat.url(), &token, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(silent.closed(Duration::from_secs(5)).await, 4000);
    // A client that reads (and so answers pings) stays connected.
    let mut live = chat.connect(&token).await;
    let stay = tokio::time::timeout(
        Duration::from_millis(1500),
        live.closed(Duration::from_secs(2)),
    )
    .await;
    assert!(stay.is_err(), "a live client was closed");
}

async fn epoch_changes_reset_and_large_gaps_are_too_far() {
    let chat = Chat::start(
        "demo = true\n[hub]\nsend_rate_per_sec = 1000\nsend_burst = 1000\nrecovery_limit = 5\n",
    )
    .await;
    let (token, room) = chat.customer("grace").await;
    let admin = chat.token("root", "admin").await;
    let mut client = chat.connect(&token).await;
    let joined = join(&mut client, &room, None).await;
    let epoch = joined["epoch"].as_u64().unwrap();
    for i in 1..=8 {
        send(&mut client, &room, &format!("g{i}"), &format!("m{i}")).await;
    }
    // A client at seq 1 is 7 behind: beyond the limit of 5.
    let mut late = chat.connect(&token).await;
    late.send(json!({"type": "join", "room": room, "last_seq": 1, "epoch": epoch}))
        .await;
    let joined = late.expect("joined").await;
    assert_eq!(joined["status"], "too-far");
    assert_eq!(joined["head_seq"], 8);
    // An admin resets the room: joined clients hear of it, rejoins reset.
    let (status, reset) = chat.post(&format!("/api/rooms/{room}/reset"), &admin).await;
    assert_eq!(status, 200, "{reset}");
    assert_eq!(client.expect("reset").await["epoch"], epoch + 1);
    let mut again = chat.connect(&token).await;
    again
        .send(json!({"type": "join", "room": room, "last_seq": 8, "epoch": epoch}))
        .await;
    let joined = again.expect("joined").await;
    assert_eq!(joined["status"], "reset");
    assert_eq!(joined["epoch"], epoch + 1);
    assert_eq!(joined["messages"].as_array().unwrap().len(), 0);
    let (status, _) = chat.post(&format!("/api/rooms/{room}/reset"), &token).await;
    assert_eq!(status, 403, "customers cannot reset");
}

#[tokio::test]
async fn a_slow_consumer_is_closed_and_recovers_everything_by_syncing() {
    let chat = Chat::start(
        "demo = true\n[hub]\nsend_rate_per_sec = 100000\nsend_burst = 100000\noutbox_capacity = 8\n\
         max_text_bytes = 60000\nmax_frame_bytes = 70000\nrecovery_limit = 100000\n",
    )
    .await;
    let (token, room) = chat.customer("heidi").await;
    let mut slow = chat.connect(&token).await;
    join(&mut slow, &room, None).await;
    let mut sender = chat.connect(&token).await;
    join(&mut sender, &room, None).await;
    // ~15 MB of messages while `slow` reads nothing: its socket buffers
    // fill, then its queue, and the server closes it.
    let big = "z".repeat(50_000);
    let mut acked = 0u64;
    for i in 0..300 {
        let ack = send(&mut sender, &room, &format!("s{i}"), &big).await;
        acked = ack["seq"].as_u64().unwrap();
    }
    let mut received = Vec::new();
    let code = loop {
        match slow.next(Duration::from_secs(10)).await {
            Some(Received::Frame(f)) if f["type"] == "batch" => {
                received.extend(
                    f["messages"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m["seq"].as_u64().unwrap()),
                );
            }
            Some(Received::Frame(_)) => {}
            Some(Received::Closed(code, _)) => break code,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, 4002);
    // Reconnect from the last seq received: nothing lost, nothing twice.
    let last = received.last().copied().unwrap_or(0);
    let mut back = chat.connect(&token).await;
    let joined = join(&mut back, &room, Some(last)).await;
    received.extend(
        joined["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap()),
    );
    if joined["more"] == true {
        while received.last() != Some(&acked) {
            let batch = back.expect("batch").await;
            received.extend(
                batch["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["seq"].as_u64().unwrap()),
            );
        }
    }
    assert_eq!(received, (1..=acked).collect::<Vec<_>>());
}

#[tokio::test]
async fn lbs_lists_this_node_with_a_ttl() {
    let chat = Chat::start(BASE_TOML).await;
    let answer: Value = reqwest::get(format!("{}/api/lbs", chat.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let node = &answer["nodes"][0];
    assert_eq!(
        node["url"],
        format!("{}/ws", chat.url().replacen("http://", "ws://", 1))
    );
    assert!(answer["ttl_secs"].as_u64().unwrap() > 0);
}

async fn attachments_must_be_readable_by_the_sender_and_share_the_file_with_the_conversation() {
    use hangar_testkit::uploads::{UploadApi, pattern};
    let chat = Chat::start(BASE_TOML).await;
    let (alice_token, room) = chat.customer("alice").await;
    let (eve_token, eves_room) = chat.customer("eve").await;
    let agent_token = chat.token("agent-1", "agent").await;
    let agent_files = UploadApi::new(&chat.url(), &agent_token);
    let alice_files = UploadApi::new(&chat.url(), &alice_token);
    let eve_files = UploadApi::new(&chat.url(), &eve_token);

    let data = pattern(70_000, 21);
    let (status, done) = agent_files.upload("invoice.pdf", &data).await;
    assert_eq!(status, 200, "{done}");
    let file_id = done["file"]["id"].as_str().unwrap().to_owned();
    assert_eq!(alice_files.download(&file_id, &[]).await.status, 404);

    // Eve cannot attach a file she may not read.
    let mut eve = chat.connect(&eve_token).await;
    join(&mut eve, &eves_room, None).await;
    let attachment =
        json!([{"file_id": file_id, "name": "x", "size": 1, "content_type": "text/plain"}]);
    eve.send(json!({"type": "send", "room": eves_room, "client_id": "e1", "text": "mine now", "attachments": attachment}))
        .await;
    let refused = eve.expect_any(&["ack", "rejected", "error"]).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("bad-attachment")),
        "{refused}"
    );
    assert_eq!(eve_files.download(&file_id, &[]).await.status, 404);

    // The agent sends it to Alice's conversation: Alice may now read it, and
    // the message carries the stored name and size, not the client's.
    let mut agent = chat.connect(&agent_token).await;
    join(&mut agent, &room, None).await;
    agent
        .send(json!({"type": "send", "room": room, "client_id": "a1", "text": "your invoice", "attachments": attachment}))
        .await;
    let ack = agent.expect_any(&["ack", "rejected", "error"]).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut alice = chat.connect(&alice_token).await;
    let joined = join(&mut alice, &room, Some(0)).await;
    let message = &joined["messages"][0];
    assert_eq!(message["attachments"][0]["name"], "invoice.pdf", "{joined}");
    assert_eq!(message["attachments"][0]["size"], data.len());
    assert!(alice_files.download(&file_id, &[]).await.body == data);
    assert_eq!(eve_files.download(&file_id, &[]).await.status, 404);
}

hangar_testkit::on_every_backend!(
    customer_and_agent_chat_with_acks_batches_and_unread_counts,
    a_reconnecting_client_gets_exactly_what_it_missed_and_retries_are_stored_once,
    acked_messages_survive_sigkill_and_seqs_continue_after_restart,
    moderation_rejects_rewrites_flags_and_bots_reply_and_admins_get_alerts,
    epoch_changes_reset_and_large_gaps_are_too_far,
    attachments_must_be_readable_by_the_sender_and_share_the_file_with_the_conversation,
);

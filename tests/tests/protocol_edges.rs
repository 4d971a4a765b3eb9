//! Edges of the chat protocol, each as `docs/protocol.md` says: unreadable
//! versions, client ids of common shapes, joins from beyond the head, read
//! positions, idempotency per room, invalid UTF-8, history limits, and
//! acks that never wait for a delayed ACK.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::time::{Duration, Instant};

use hangar_testkit::server::{Server, request};
use hangar_testkit::ws::{Received, WsClient};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

struct Chat {
    server: Server,
    _dir: tempfile::TempDir,
}

impl Chat {
    fn start(toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hangar.toml"), toml).unwrap();
        let server = Server::start_demo(dir.path(), &[]).unwrap();
        Self { server, _dir: dir }
    }

    async fn token(&self, user: &str, role: &str) -> String {
        let (_, body) = request(
            Method::POST,
            &format!("{}/api/session", self.server.url),
            None,
            Some(&json!({"user": user, "role": role})),
        )
        .await;
        body["token"].as_str().unwrap().to_owned()
    }

    async fn room(&self, token: &str) -> String {
        let (_, body) = request(
            Method::POST,
            &format!("{}/api/conversations", self.server.url),
            Some(token),
            None,
        )
        .await;
        body["room"].as_str().unwrap().to_owned()
    }

    async fn joined(&self, token: &str, room: &str, last_seq: Option<u64>) -> (WsClient, Value) {
        let mut client = WsClient::connect(&self.server.url, token, None)
            .await
            .unwrap();
        client.expect("welcome").await;
        let mut frame = json!({"type": "join", "room": room});
        if let Some(last) = last_seq {
            frame["last_seq"] = json!(last);
        }
        client.send(frame).await;
        let joined = client.expect("joined").await;
        (client, joined)
    }
}

async fn send(client: &mut WsClient, room: &str, id: &str, text: &str) -> Value {
    client.say(room, id, text).await
}

#[tokio::test]
async fn versions_client_ids_and_idempotency_per_room() {
    let chat = Chat::start("");
    let url = chat.server.url.clone();
    let token = chat.token("alice", "customer").await;
    // An unreadable version is answered inside the socket, like 2.
    for v in ["abc", "2"] {
        let mut client = WsClient::connect_query(&url, &format!("v={v}&token={token}"), None)
            .await
            .unwrap();
        let error = client.expect("error").await;
        assert_eq!(error["code"], "bad-frame", "{error}");
        assert_eq!(client.closed(Duration::from_secs(5)).await, 4004, "v={v}");
    }
    // No version: version 1.
    let mut client = WsClient::connect_query(&url, &format!("token={token}"), None)
        .await
        .unwrap();
    assert_eq!(client.expect("welcome").await["protocol"], 1);

    let room = chat.room(&token).await;
    let (mut client, _) = chat.joined(&token, &room, None).await;
    for id in [
        "Zm9v+YmFy/cQ==",
        "Zm9v-YmFy_cQ",
        "2c6fa3f4-7a4b-4d7e-9c2f-0b8a3f1e5d6c",
        "01HZY8K9QX7C3B5N2M4P6R8T0V",
    ] {
        let ack = send(&mut client, &room, id, "hello").await;
        assert_eq!(ack["type"], "ack", "{id}: {ack}");
    }
    // Outside the set: the frame is unreadable (no client id to echo).
    client
        .send(json!({"type": "send", "room": room, "client_id": "naïve", "text": "x"}))
        .await;
    let error = client.expect("error").await;
    assert_eq!(error["code"], "bad-frame", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("+ / ="),
        "{error}"
    );

    // The same client id in another room is another message.
    let agent = chat.token("agent-1", "agent").await;
    let bob = chat.token("bob", "customer").await;
    let other = chat.room(&bob).await;
    let (mut agent_client, _) = chat.joined(&agent, &room, None).await;
    agent_client
        .send(json!({"type": "join", "room": other}))
        .await;
    agent_client.expect("joined").await;
    let first = send(&mut agent_client, &room, "same-id", "to alice").await;
    let second = send(&mut agent_client, &other, "same-id", "to bob").await;
    assert_eq!(first["duplicate"], false);
    assert_eq!(second["duplicate"], false, "{second}");
    assert_eq!(second["room"], other.as_str());
    assert_ne!(first["id"], second["id"]);
    let again = send(&mut agent_client, &other, "same-id", "to bob").await;
    assert_eq!(
        (again["duplicate"].as_bool(), &again["id"]),
        (Some(true), &second["id"])
    );
}

#[tokio::test]
async fn a_join_beyond_the_head_resets_and_reads_never_pass_the_head() {
    let chat = Chat::start("");
    let customer = chat.token("carol", "customer").await;
    let room = chat.room(&customer).await;
    let (mut carol, _) = chat.joined(&customer, &room, None).await;
    for i in 0..3 {
        send(&mut carol, &room, &format!("c{i}"), "hi").await;
    }
    let agent = chat.token("agent-2", "agent").await;
    let (mut stale, joined) = chat.joined(&agent, &room, Some(500)).await;
    assert_eq!(joined["status"], "reset", "{joined}");
    assert_eq!(joined["head_seq"], 3);
    // Live messages reach the connection that came from beyond the head.
    send(&mut carol, &room, "c3", "after").await;
    let messages = stale.messages(1).await;
    assert_eq!(messages[0]["seq"], 4, "{messages:?}");
    // A read position beyond the head counts as the newest delivered.
    stale
        .send(json!({"type": "read", "room": room, "seq": 1000}))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&mut carol, &room, "c4", "unread?").await;
    let (_, list) = request(
        Method::GET,
        &format!("{}/api/conversations", chat.server.url),
        Some(&agent),
        None,
    )
    .await;
    let conversation = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["room"] == room.as_str())
        .unwrap()
        .clone();
    assert_eq!(conversation["unread"], 1, "{conversation}");
    // History limits are 1 to the page size.
    stale
        .send(json!({"type": "history", "room": room, "limit": 0}))
        .await;
    let error = stale.expect("error").await;
    assert_eq!(error["code"], "bad-frame", "{error}");
    stale
        .send(json!({"type": "history", "room": room, "limit": 2}))
        .await;
    let history = stale.expect("history").await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    let chat = Chat::start("");
    let token = chat.token("dave", "customer").await;
    let mut client = WsClient::connect(&chat.server.url, &token, None)
        .await
        .unwrap();
    client.expect("welcome").await;
    let frame = Frame::message(vec![0xff, 0xfe, 0x7b], OpCode::Data(Data::Text), true);
    client.send_raw(Message::Frame(frame)).await.unwrap();
    match client.next(Duration::from_secs(5)).await {
        Some(Received::Closed(code, _)) => assert_eq!(code, 1007),
        other => panic!("expected close 1007, got {other:?}"),
    }
}

/// With Nagle's algorithm on either side, an ack written right after a
/// batch waits for the peer's delayed ACK (~40 ms). Sequential sends must
/// not pay that.
#[tokio::test]
async fn sequential_sends_are_acked_without_waiting_for_delayed_acks() {
    let chat = Chat::start("[hub]\nsend_rate_per_sec = 1000\nsend_burst = 1000\n");
    let token = chat.token("erin", "customer").await;
    let room = chat.room(&token).await;
    let (mut client, _) = chat.joined(&token, &room, None).await;
    let mut times = Vec::new();
    for i in 0..50 {
        let started = Instant::now();
        let ack = send(&mut client, &room, &format!("s{i}"), "ping").await;
        assert_eq!(ack["type"], "ack");
        times.push(started.elapsed());
    }
    times.sort();
    let p50 = times[times.len() / 2];
    eprintln!("send→ack p50 {p50:?}, max {:?}", times[times.len() - 1]);
    // An order of magnitude under the delayed-ACK wait.
    assert!(p50 < Duration::from_millis(20), "send→ack p50 {p50:?}");
}

/// A history import goes through the single writer: its messages take the
/// next seqs and reach joined clients in order, between live messages.
#[tokio::test]
async fn imported_history_is_delivered_in_seq_order_between_live_messages() {
    let chat = Chat::start("");
    let admin = std::fs::read_to_string(chat._dir.path().join("data/admin.token")).unwrap();
    let token = chat.token("fred", "customer").await;
    let room = chat.room(&token).await;
    let (mut client, _) = chat.joined(&token, &room, None).await;
    send(&mut client, &room, "l1", "live 1").await;
    let (status, body) = request(
        Method::POST,
        &format!("{}/api/admin/rooms/{room}/import", chat.server.url),
        Some(admin.trim()),
        Some(&json!([
            {"sender": "old-agent", "text": "imported 1"},
            {"sender": "fred", "text": "imported 2"}
        ])),
    )
    .await;
    assert_eq!(
        (status, body["imported"].as_u64()),
        (200, Some(2)),
        "{body}"
    );
    send(&mut client, &room, "l2", "live 2").await;
    let messages = client.messages(4).await;
    let seen: Vec<(u64, &str)> = messages
        .iter()
        .map(|m| (m["seq"].as_u64().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "live 1"),
            (2, "imported 1"),
            (3, "imported 2"),
            (4, "live 2")
        ]
    );
}

/// An oversize message sent in fragments is refused with 1009, like one
/// sent whole: the close code reaches the client.
#[tokio::test]
async fn an_oversize_message_in_fragments_closes_with_1009() {
    let chat = Chat::start("");
    let token = chat.token("gina", "customer").await;
    for total in [1usize << 20, 10 << 20] {
        let mut client = WsClient::connect(&chat.server.url, &token, None)
            .await
            .unwrap();
        client.expect("welcome").await;
        let fragment = vec![b'x'; 16 << 10];
        let count = total / fragment.len();
        let mut refused = false;
        for i in 0..count {
            let opcode = if i == 0 {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            };
            let frame = Frame::message(fragment.clone(), opcode, i + 1 == count);
            if client.send_raw(Message::Frame(frame)).await.is_err() {
                refused = true;
                break;
            }
        }
        let _ = refused;
        match client.next(Duration::from_secs(10)).await {
            Some(Received::Closed(code, _)) => assert_eq!(code, 1009, "{total} bytes"),
            other => panic!("{total} bytes: expected close 1009, got {other:?}"),
        }
    }
}

/// Sends pipelined on one connection (not waiting for acks) are stored in
/// the order sent and answered in that order, rejected ones included.
#[tokio::test]
async fn pipelined_sends_keep_their_order() {
    let chat = Chat::start("[hub]\nsend_rate_per_sec = 1000\nsend_burst = 1000\n");
    let token = chat.token("hana", "customer").await;
    let room = chat.room(&token).await;
    let (mut client, _) = chat.joined(&token, &room, None).await;
    let texts: Vec<String> = (0..60)
        .map(|i| {
            if i % 7 == 3 {
                format!("{i} visit scam-link.example")
            } else {
                format!("message {i}")
            }
        })
        .collect();
    for (i, text) in texts.iter().enumerate() {
        client
            .send(json!({"type": "send", "room": room, "client_id": format!("p{i}"), "text": text}))
            .await;
    }
    let mut answers = Vec::new();
    while answers.len() < texts.len() {
        answers.push(client.expect_any(&["ack", "rejected", "error"]).await);
    }
    let order: Vec<&str> = answers
        .iter()
        .map(|a| a["client_id"].as_str().unwrap())
        .collect();
    let sent: Vec<String> = (0..texts.len()).map(|i| format!("p{i}")).collect();
    assert_eq!(order, sent, "answers out of order");
    let mut last = 0;
    for (i, answer) in answers.iter().enumerate() {
        if i % 7 == 3 {
            assert_eq!(answer["type"], "rejected", "{answer}");
        } else {
            assert_eq!(answer["type"], "ack", "{answer}");
            let seq = answer["seq"].as_u64().unwrap();
            assert_eq!(seq, last + 1, "{answer}");
            last = seq;
        }
    }
}

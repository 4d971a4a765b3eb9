//! `hangar-client` against the real server: tiered reconnect, resume from
//! the last seq, resend of unacknowledged sends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::time::Duration;

use hangar_client::protocol::RoomId;
use hangar_client::{Backoff, Client, ClientConfig, Event};
use hangar_testkit::server::{Server, free_port, request};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

fn start(dir: &std::path::Path, port: u16) -> Server {
    Server::start_demo(dir, &["--listen", &format!("127.0.0.1:{port}")]).unwrap()
}

async fn post(url: &str, token: Option<&str>, body: Value) -> Value {
    request(Method::POST, url, token, Some(&body)).await.1
}

async fn session(base: &str, user: &str, role: &str) -> String {
    let answer = post(
        &format!("{base}/api/session"),
        None,
        json!({"user": user, "role": role}),
    )
    .await;
    answer["token"].as_str().unwrap().to_owned()
}

fn fast(nodes: Vec<String>, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(nodes, token);
    config.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(800),
    };
    config.same_url_attempts = 40;
    config.connect_timeout = Duration::from_secs(2);
    config
}

async fn until<T>(
    events: &mut UnboundedReceiver<Event>,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("timed out waiting for an event")
            .expect("client stopped");
        if let Some(value) = pick(&event) {
            return value;
        }
    }
}

#[tokio::test]
async fn reconnects_after_a_restart_resumes_and_resends_the_offline_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Some(start(dir.path(), port));
    let base = format!("http://127.0.0.1:{port}");
    let token = session(&base, "ivan", "customer").await;
    let conversation = post(
        &format!("{base}/api/conversations"),
        Some(&token),
        json!({}),
    )
    .await;
    let room: RoomId = conversation["room"].as_str().unwrap().parse().unwrap();

    let (client, mut events) =
        Client::start(fast(vec![format!("ws://127.0.0.1:{port}/ws")], &token)).unwrap();
    client.join(room.clone());
    until(&mut events, |e| {
        matches!(e, Event::Joined { .. }).then_some(())
    })
    .await;
    for i in 1..=3 {
        let id = client.send(room.clone(), format!("before {i}"));
        until(&mut events, |e| match e {
            Event::Acked { client_id, .. } if *client_id == id => Some(()),
            _ => None,
        })
        .await;
    }

    // SIGKILL; type while the server is down; start it again on the same port.
    drop(server.take());
    until(&mut events, |e| {
        matches!(e, Event::Disconnected { .. }).then_some(())
    })
    .await;
    let offline = client.send(room.clone(), "typed while offline");
    tokio::time::sleep(Duration::from_millis(500)).await;
    server = Some(start(dir.path(), port));
    let (seq, duplicate) = until(&mut events, |e| match e {
        Event::Acked {
            client_id,
            seq,
            duplicate,
        } if *client_id == offline => Some((*seq, *duplicate)),
        _ => None,
    })
    .await;
    assert_eq!((seq, duplicate), (4, false));

    // Messages posted by someone else after the reconnect arrive too.
    let agent = session(&base, "agent-1", "agent").await;
    let (agent_client, mut agent_events) =
        Client::start(fast(vec![format!("ws://127.0.0.1:{port}/ws")], &agent)).unwrap();
    agent_client.join(room.clone());
    until(&mut agent_events, |e| {
        matches!(e, Event::Joined { .. }).then_some(())
    })
    .await;
    agent_client.send(room.clone(), "welcome back");
    let text = until(&mut events, |e| match e {
        Event::Messages(m) => m
            .iter()
            .find(|m| m.sender == "agent-1")
            .map(|m| m.text.clone()),
        _ => None,
    })
    .await;
    assert_eq!(text, "welcome back");

    // Stored exactly once each, in order.
    let (_, page) = request(
        Method::GET,
        &format!("{base}/api/rooms/{room}/messages?after=0"),
        Some(&token),
        None,
    )
    .await;
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "before 1",
            "before 2",
            "before 3",
            "typed while offline",
            "welcome back"
        ]
    );
    drop(server);
}

#[tokio::test]
async fn reconnect_tiers_move_to_the_next_node_then_the_lbs_list_then_give_up() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = start(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let token = session(&base, "judy", "customer").await;
    let dead = format!("ws://127.0.0.1:{}/ws", free_port());
    let live = format!("ws://127.0.0.1:{port}/ws");

    // Tier 2: the first node is dead, the next cached one answers.
    let mut config = fast(vec![dead.clone(), live.clone()], &token);
    config.same_url_attempts = 2;
    let (_c, mut events) = Client::start(config).unwrap();
    let tier = until(&mut events, |e| match e {
        Event::Reconnecting { tier, url } if *url == live => Some(*tier),
        _ => None,
    })
    .await;
    assert_eq!(tier, 2);
    until(&mut events, |e| {
        matches!(e, Event::Connected { url } if *url == live).then_some(())
    })
    .await;

    // Tier 3: only a dead node cached; the LBS list names the live one.
    let mut config = fast(vec![dead.clone()], &token);
    config.same_url_attempts = 2;
    config.lbs_url = Some(format!("{base}/api/lbs"));
    let (_c, mut events) = Client::start(config).unwrap();
    let tier = until(&mut events, |e| match e {
        Event::Reconnecting { tier, url } if *url == live => Some(*tier),
        _ => None,
    })
    .await;
    assert_eq!(tier, 3);
    until(&mut events, |e| {
        matches!(e, Event::Connected { .. }).then_some(())
    })
    .await;

    // Nothing reachable and no LBS: the client gives up to the application.
    let mut config = fast(vec![dead], &token);
    config.same_url_attempts = 2;
    let (_c, mut events) = Client::start(config).unwrap();
    until(&mut events, |e| {
        matches!(e, Event::GaveUp { .. }).then_some(())
    })
    .await;

    // A refused token is not retried forever.
    let (_c, mut events) = Client::start(fast(vec![live], "forged.token.value")).unwrap();
    let reason = until(&mut events, |e| match e {
        Event::GaveUp { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(reason.contains("refused"), "{reason}");
    drop(server);
}

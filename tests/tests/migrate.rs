//! `hangar migrate-data`: a demo installation on the embedded default
//! (SQLite and the data directory) moves to PostgreSQL and S3, and a server
//! started there has its conversations, files, plugins and registry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use hangar_testkit::backend::{POSTGRES_URL_VAR, PostgresDatabase, S3Bucket};
use hangar_testkit::server::{Server, binary, demo_session, request};
use hangar_testkit::uploads::{UploadApi, pattern};
use hangar_testkit::ws::WsClient;
use reqwest::Method;
use serde_json::{Value, json};

async fn get(url: &str, path: &str, token: &str) -> Value {
    let (status, body) = request(Method::GET, &format!("{url}{path}"), Some(token), None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// A socket of `token`'s, joined to `room`.
async fn joined(url: &str, token: &str, room: &str) -> WsClient {
    let mut chat = WsClient::connect(url, token, None).await.unwrap();
    chat.expect("welcome").await;
    chat.send(json!({"type": "join", "room": room})).await;
    chat.expect("joined").await;
    chat
}

fn migrate(data: &Path, database: &str, bucket: &S3Bucket) -> std::process::Output {
    Command::new(binary())
        .args(["migrate-data", "--data-dir"])
        .arg(data)
        .args(["--to-database-url", database])
        .args(["--to-object-store-url", &bucket.url()])
        .envs(bucket.env())
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_installation_moves_to_postgres_and_s3_with_nothing_lost() {
    let Ok(postgres) = std::env::var(POSTGRES_URL_VAR) else {
        eprintln!("skipped: {POSTGRES_URL_VAR} is unset");
        return;
    };
    let Some(bucket) = S3Bucket::create().await else {
        eprintln!("skipped: no S3 server to move the blobs to");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // The embedded installation: a conversation, a file, the demo plugins.
    let server = Server::start_demo(dir.path(), &[]).unwrap();
    let customer = demo_session(&server.url, "migrating-customer", "customer").await;
    let (_, opened) = request(
        Method::POST,
        &format!("{}/api/conversations", server.url),
        Some(&customer),
        None,
    )
    .await;
    let room = opened["room"].as_str().unwrap().to_owned();
    let mut chat = joined(&server.url, &customer, &room).await;
    for i in 0..5 {
        let id = format!("m{i}");
        chat.send(json!({"type": "send", "room": room, "client_id": id, "text": format!("before the move {i}")}))
            .await;
        while chat.expect("ack").await["client_id"] != id.as_str() {}
    }
    let file_bytes = pattern(7 << 20, 21);
    let uploads = UploadApi::new(&server.url, &customer);
    let (status, done) = uploads.upload("manual.pdf", &file_bytes).await;
    assert_eq!(status, 200, "{done}");
    let file_id = done["file"]["id"].as_str().unwrap().to_owned();
    let messages_before = get(
        &server.url,
        &format!("/api/rooms/{room}/messages"),
        &customer,
    )
    .await;
    let (_, health_before) = server.get_json("/healthz").await;
    let (status, packages_before) = server.get_json("/registry/v1/packages").await;
    assert_eq!(status, 200, "{packages_before}");
    assert!(
        packages_before.to_string().contains("keyword-moderation"),
        "{packages_before}"
    );
    assert_eq!(health_before["plugins"], 10, "{health_before}");
    assert_eq!(
        messages_before["messages"].as_array().unwrap().len(),
        5,
        "{messages_before}"
    );
    drop(chat);
    drop(server);

    let target = PostgresDatabase::create(&postgres).await;
    let moved = migrate(&data, &target.url, &bucket);
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(
        moved.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(said.contains("table messages: "), "{said}");
    assert!(said.contains("blobs registry: 15 copied"), "{said}");

    // A second run finds the target in use and changes nothing.
    let again = migrate(&data, &target.url, &bucket);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(stderr.contains("is not empty"), "{stderr}");

    // The embedded state is gone: whatever the new server has, it has from
    // PostgreSQL and S3.
    for gone in [
        "hangar.db",
        "hangar.db-wal",
        "hangar.db-shm",
        "blobs",
        "registry",
    ] {
        let path = data.join(gone);
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else if path.exists() {
            std::fs::remove_file(&path).unwrap();
        }
    }
    let mut env: Vec<(&str, String)> = bucket.env();
    env.push(("HANGAR_DATABASE_URL", target.url.clone()));
    env.push(("HANGAR_OBJECT_STORE_URL", bucket.url()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_demo_with_env(dir.path(), &[], &env).unwrap();
    let (_, health) = server.get_json("/healthz").await;
    assert_eq!(health, health_before);
    let (_, packages) = server.get_json("/registry/v1/packages").await;
    assert_eq!(packages, packages_before);
    let messages = get(
        &server.url,
        &format!("/api/rooms/{room}/messages"),
        &customer,
    )
    .await;
    assert_eq!(messages, messages_before);
    let uploads = UploadApi::new(&server.url, &customer);
    assert!(uploads.download(&file_id, &[]).await.body == file_bytes);

    // And it carries on: the next message takes the next seq.
    let mut chat = joined(&server.url, &customer, &room).await;
    chat.send(
        json!({"type": "send", "room": room, "client_id": "after", "text": "after the move"}),
    )
    .await;
    let ack = chat.expect("ack").await;
    let last = messages["messages"].as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    assert_eq!(ack["seq"].as_u64().unwrap(), last + 1, "{ack}");
}

//! HTTP limits of the listener: slow headers are cut off, connections are
//! capped with a clear answer, anonymous routes are rate-limited per client.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::time::{Duration, Instant};

use hangar_testkit::server::{Server, mint_token, request};
use hangar_testkit::ws::WsClient;
use reqwest::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const KEY: &str = "isolated-session-key-0123456789abcdef";

fn start(toml: &str) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hangar.toml"), toml).unwrap();
    let server = Server::start_isolated(
        dir.path(),
        "admin-token-0123456789abcdef",
        "ci=publish-token-0123456789abcdef",
    )
    .unwrap();
    (dir, server)
}

fn addr(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed() {
    let (_dir, server) = start("[http]\nheader_timeout_ms = 500\n");
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    for mut stream in slow {
        let mut buf = [0u8; 512];
        // The server answers (408 or nothing) and closes: the read ends.
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(read.is_ok(), "a slow connection was still open after 5 s");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // Normal requests are unaffected.
    assert_eq!(server.get_json("/healthz").await.0, 200);
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_get_a_clear_answer() {
    let (_dir, server) = start("[http]\nmax_connections = 20\n");
    let token = mint_token(KEY, "u1", "customer", 600);
    // The server's own client of its embedded registry may hold a pooled
    // connection too: fill the cap, whatever else holds a place.
    let mut sockets = Vec::new();
    loop {
        match WsClient::connect(&server.url, &token, None).await {
            Ok(mut client) => {
                client.expect("welcome").await;
                sockets.push(client);
            }
            Err(err) => {
                assert!(err.contains("503"), "{err}");
                break;
            }
        }
        assert!(sockets.len() <= 20, "more connections than the cap");
    }
    assert!(
        sockets.len() >= 18,
        "only {} connections fit",
        sockets.len()
    );
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"overloaded\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    // A closed WebSocket frees its place.
    drop(sockets.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = reqwest::get(format!("{}/healthz", server.url)).await
            && response.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed place was never reused"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn anonymous_routes_are_rate_limited_per_client() {
    let (_dir, server) = start("[http]\nanonymous_rate_per_sec = 1\nanonymous_burst = 3\n");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = reqwest::get(format!("{}/api/materials", server.url))
            .await
            .unwrap();
        statuses.push((
            response.status().as_u16(),
            response.headers().get("retry-after").is_some(),
        ));
    }
    assert_eq!(&statuses[..3], [(200, false); 3], "{statuses:?}");
    assert_eq!(statuses[4], (429, true), "{statuses:?}");
    // Routes for signed-in users are not metered this way.
    let token = mint_token(KEY, "u2", "customer", 600);
    for _ in 0..10 {
        let (status, _) = request(
            Method::POST,
            &format!("{}/api/conversations", server.url),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
}

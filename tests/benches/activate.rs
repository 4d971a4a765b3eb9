//! Activation benchmark: time from the activate request to the new version
//! being the one that answers, for a component the host must fetch and
//! compile, and for one already in its compiled cache. Printed with the
//! component's size; target ≤ 50 ms for a cached component.
//!
//! Run: `cargo bench -p hangar-testkit --bench activate`

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: any failure aborts the run

use std::time::Instant;

use hangar_testkit::server::{Server, request};
use reqwest::Method;
use serde_json::json;

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLISH: &str = "publish-token-0123456789abcdef";

async fn activate(url: &str, name: &str, version: &str) -> (f64, serde_json::Value) {
    let started = Instant::now();
    let (status, body) = request(
        Method::POST,
        &format!("{url}/api/admin/plugins/{name}/activate"),
        Some(ADMIN),
        Some(&json!({"version": version})),
    )
    .await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200, "{body}");
    (ms, body)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_isolated(dir.path(), ADMIN, PUBLISH).expect("server");
    println!("activation: request sent -> new version active (answers the next call)");
    for guest in ["keyword-moderation", "faq-bot"] {
        let bytes = hangar_testkit::guests::wasm(guest);
        let size = bytes.len();
        // Two versions with the same bytes: the second is a cache hit.
        for version in ["1.0.0", "2.0.0"] {
            let response = reqwest::Client::new()
                .put(format!(
                    "{}/registry/v1/packages/{guest}/{version}",
                    server.url
                ))
                .bearer_auth(PUBLISH)
                .body(bytes.clone())
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
        }
        let (fresh, body) = activate(&server.url, guest, "1.0.0").await;
        assert_eq!(body["cached"], false, "{body}");
        let mut cached = Vec::new();
        for round in 0..21 {
            let version = if round % 2 == 0 { "2.0.0" } else { "1.0.0" };
            let (ms, body) = activate(&server.url, guest, version).await;
            assert_eq!(body["cached"], true, "{body}");
            cached.push(ms);
        }
        println!(
            "  {guest:<20} {:>4} KiB   fetch + verify + compile: {fresh:7.1} ms   cached (median of 21): {:5.1} ms (target <= 50)",
            size / 1024,
            median(cached)
        );
    }
}

//! Materials benchmark: warm render p50/p99 of `button` with a few props
//! (server-side, from the `Server-Timing` header: validation, the sandboxed
//! call and sanitising), beside the HTTP round trip of `/healthz` as the
//! baseline; the first use of a material (fetch + compile + describe); and
//! its first use after a restart, from the compiled cache. Targets: warm
//! render p50 ≤ 100 µs; restart load ≤ 20 ms per material.
//!
//! Run: `cargo bench -p hangar-testkit --bench materials`

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: any failure aborts the run

use std::path::Path;
use std::time::Instant;

use hangar_testkit::server::Server;
use serde_json::json;

const PUBLISH: &str = "publish-token-0123456789abcdef";
const RENDERS: usize = 2000;

fn start(dir: &Path) -> Server {
    Server::start_isolated(dir, "bench-admin-token-0123456789", PUBLISH).expect("server")
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn first_use(client: &reqwest::Client, url: &str, reference: &str) -> f64 {
    let started = Instant::now();
    let response = client
        .get(format!("{url}/api/materials/{reference}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    started.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let materials = ["button", "card", "form-input", "text", "image"];
    let server = start(dir.path());
    for name in materials {
        let bytes = hangar_testkit::guests::wasm(&format!("material-{name}"));
        let response = client
            .put(format!("{}/registry/v1/packages/{name}/1.0.0", server.url))
            .bearer_auth(PUBLISH)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
    println!("materials: first use (registry metadata + fetch + verify + compile + describe)");
    for name in materials {
        let ms = first_use(&client, &server.url, &format!("{name}@1.0.0")).await;
        println!("  {name:<12} {ms:7.1} ms");
    }

    let props =
        json!({"label": "Sign up now", "href": "/join", "variant": "primary", "size": "large"});
    let mut render_us = Vec::with_capacity(RENDERS);
    let mut round_trip_us = Vec::with_capacity(RENDERS);
    let mut health_us = Vec::with_capacity(RENDERS);
    for _ in 0..RENDERS {
        let started = Instant::now();
        let response = client
            .post(format!("{}/api/materials/button@1.0.0/render", server.url))
            .json(&props)
            .send()
            .await
            .unwrap();
        let timing = response.headers()["server-timing"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
        round_trip_us.push(started.elapsed().as_secs_f64() * 1e6);
        let ms: f64 = timing.rsplit_once("dur=").unwrap().1.parse().unwrap();
        render_us.push(ms * 1000.0);
        let started = Instant::now();
        client
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        health_us.push(started.elapsed().as_secs_f64() * 1e6);
    }
    for v in [&mut render_us, &mut round_trip_us, &mut health_us] {
        v.sort_by(f64::total_cmp);
    }
    println!("warm render of button, {RENDERS} requests:");
    println!(
        "  server-side render   p50 {:6.1} µs  p99 {:6.1} µs   (target p50 <= 100)",
        percentile(&render_us, 0.5),
        percentile(&render_us, 0.99)
    );
    println!(
        "  HTTP round trip      p50 {:6.1} µs  p99 {:6.1} µs   (baseline GET /healthz: p50 {:.1} µs, ratio {:.2})",
        percentile(&round_trip_us, 0.5),
        percentile(&round_trip_us, 0.99),
        percentile(&health_us, 0.5),
        percentile(&round_trip_us, 0.5) / percentile(&health_us, 0.5)
    );

    drop(server);
    let server = start(dir.path());
    println!("after a restart (compiled cache; registry metadata over HTTP + load + describe):");
    for name in materials {
        let ms = first_use(&client, &server.url, &format!("{name}@1.0.0")).await;
        println!("  {name:<12} {ms:7.1} ms   (target <= 20)");
    }
}

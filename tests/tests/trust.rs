//! Registry trust end to end: HTTPS between hosts, the CLI and a registry
//! (`hangar registry serve --tls-cert`), publisher signatures under a
//! host's trust policy, scoped publish tokens and ownership transfer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::path::Path;

use hangar_testkit::guests::wasm;
use hangar_testkit::server::{Server, binary, request};
use hangar_testkit::tls::TestCa;
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLISH_TOKEN: &str = "publish-token-0123456789abcdef";
const SESSION_KEY: &str = "session-key-0123456789abcdef0123456789";

/// `hangar registry serve` over HTTPS with `ca`'s server certificate.
fn tls_registry(dir: &Path, ca: &TestCa, tokens: &str) -> Server {
    let registry_dir = dir.join("registry");
    Server::start_command(
        &["registry", "serve"],
        &[
            "--dir",
            registry_dir.to_str().unwrap(),
            "--publish-tokens",
            tokens,
            "--tls-cert",
            ca.cert.to_str().unwrap(),
            "--tls-key",
            ca.key.to_str().unwrap(),
        ],
        &[],
        dir,
    )
    .unwrap()
}

/// `hangar publish` of `bytes`; (success, stdout + stderr).
fn cli_publish(
    dir: &Path,
    registry: &str,
    name: &str,
    version: &str,
    bytes: &[u8],
    extra: &[&str],
) -> (bool, String) {
    let file = dir.join(format!("{name}-{version}.wasm"));
    std::fs::write(&file, bytes).unwrap();
    let output = std::process::Command::new(binary())
        .args([
            "publish",
            file.to_str().unwrap(),
            "--name",
            name,
            "--version",
            version,
        ])
        .args(["--registry", registry, "--token", PUBLISH_TOKEN])
        .args(extra)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A host fetching from `registry_url`, with `extra` arguments.
fn host(dir: &Path, registry_url: &str, extra: &[&str]) -> Server {
    let cache = dir.join("cache").display().to_string();
    let mut args = vec![
        "--data-dir",
        "data",
        "--cache-dir",
        &cache,
        "--registry-url",
        registry_url,
        "--admin-token",
        ADMIN,
    ];
    args.extend_from_slice(extra);
    Server::start(
        &args,
        &[("HANGAR_SESSION_KEY", SESSION_KEY), ("RUST_LOG", "warn")],
        dir,
    )
    .unwrap()
}

async fn activate(host: &Server, name: &str, body: Value) -> (u16, Value) {
    request(
        Method::POST,
        &format!("{}/api/admin/plugins/{name}/activate", host.url),
        Some(ADMIN),
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn hosts_and_the_cli_reach_a_registry_over_https_with_the_ca_they_trust() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "good");
    let stranger = TestCa::new(dir.path(), "stranger");
    let registry = tls_registry(dir.path(), &ca, &format!("ci={PUBLISH_TOKEN}"));
    assert!(registry.url.starts_with("https://"), "{}", registry.url);
    let bytes = wasm("guest-swap-v1");

    // The CLI refuses a certificate it has no reason to trust...
    let (ok, text) = cli_publish(dir.path(), &registry.url, "tagger", "1.0.0", &bytes, &[]);
    assert!(!ok, "published without trusting the certificate: {text}");
    assert!(text.contains("certificate"), "{text}");
    let (ok, text) = cli_publish(
        dir.path(),
        &registry.url,
        "tagger",
        "1.0.0",
        &bytes,
        &["--registry-ca", stranger.ca.to_str().unwrap()],
    );
    assert!(!ok, "published trusting another authority: {text}");
    // ...and publishes when told which authority signed it.
    let (ok, text) = cli_publish(
        dir.path(),
        &registry.url,
        "tagger",
        "1.0.0",
        &bytes,
        &["--registry-ca", ca.ca.to_str().unwrap()],
    );
    assert!(ok, "{text}");

    // A host that trusts the authority activates over HTTPS.
    let trusting_dir = dir.path().join("trusting");
    std::fs::create_dir_all(&trusting_dir).unwrap();
    let trusting = host(
        &trusting_dir,
        &registry.url,
        &["--registry-ca", ca.ca.to_str().unwrap()],
    );
    let (status, body) = activate(&trusting, "tagger", json!({"version": "1.0.0"})).await;
    assert_eq!(status, 200, "{body}");

    // One that does not is refused by the certificate check, and says so.
    let wary_dir = dir.path().join("wary");
    std::fs::create_dir_all(&wary_dir).unwrap();
    let wary = host(
        &wary_dir,
        &registry.url,
        &["--registry-ca", stranger.ca.to_str().unwrap()],
    );
    let (status, body) = activate(&wary, "tagger", json!({"version": "1.0.0"})).await;
    assert_ne!(status, 200, "{body}");
    assert!(body.to_string().contains("certificate"), "{body}");

    // A bad CA file stops the host at start, with the reason.
    let (code, stderr) = Server::expect_failure(
        &[
            "--data-dir",
            "data",
            "--registry-url",
            &registry.url,
            "--registry-ca",
            "/nonexistent.pem",
        ],
        &[("HANGAR_SESSION_KEY", SESSION_KEY)],
        &wary_dir,
    );
    assert_ne!(code, Some(0));
    assert!(stderr.contains("/nonexistent.pem"), "{stderr}");
}

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
    let host_trusting = |name: &str, authority: &TestCa| {
        let host_dir = dir.path().join(name);
        std::fs::create_dir_all(&host_dir).unwrap();
        let server = host(
            &host_dir,
            &registry.url,
            &["--registry-ca", authority.ca.to_str().unwrap()],
        );
        (host_dir, server)
    };
    let (_, trusting) = host_trusting("trusting", &ca);
    let (status, body) = activate(&trusting, "tagger", json!({"version": "1.0.0"})).await;
    assert_eq!(status, 200, "{body}");

    // One that does not is refused by the certificate check, and says so.
    let (wary_dir, wary) = host_trusting("wary", &stranger);
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

/// `hangar registry keygen` into `dir/NAME.pem`; the public key it prints.
fn keygen(dir: &Path, name: &str) -> String {
    let output = std::process::Command::new(binary())
        .args(["registry", "keygen"])
        .arg(dir.join(format!("{name}.pem")))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn a_host_requiring_signatures_runs_only_what_a_trusted_publisher_signed() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = keygen(dir.path(), "trusted");
    let stranger = keygen(dir.path(), "stranger");
    assert!(trusted.starts_with("ed25519:"), "{trusted}");
    // The private key is the owner's alone, and never overwritten.
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("trusted.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = std::process::Command::new(binary())
        .args(["registry", "keygen"])
        .arg(dir.path().join("trusted.pem"))
        .output()
        .unwrap();
    assert!(!again.status.success());

    // Signatures required without a trusted key is a configuration error.
    let (code, stderr) = Server::expect_failure(
        &["--data-dir", "data", "--require-signatures"],
        &[("HANGAR_SESSION_KEY", SESSION_KEY)],
        dir.path(),
    );
    assert_ne!(code, Some(0));
    assert!(stderr.contains("trusted_publishers"), "{stderr}");

    let cache = dir.path().join("cache").display().to_string();
    let host = Server::start(
        &[
            "--data-dir",
            "data",
            "--cache-dir",
            &cache,
            "--admin-token",
            ADMIN,
            "--require-signatures",
        ],
        &[
            ("HANGAR_SESSION_KEY", SESSION_KEY),
            ("HANGAR_PUBLISH_TOKENS", &format!("ci={PUBLISH_TOKEN}")),
            ("HANGAR_TRUSTED_PUBLISHERS", &trusted),
            ("RUST_LOG", "warn"),
        ],
        dir.path(),
    )
    .unwrap();
    let bytes = wasm("guest-swap-v1");
    let key = |name: &str| dir.path().join(format!("{name}.pem")).display().to_string();
    let (ok, text) = cli_publish(dir.path(), &host.url, "tagger", "1.0.0", &bytes, &[]);
    assert!(ok, "{text}");
    let (ok, text) = cli_publish(
        dir.path(),
        &host.url,
        "tagger",
        "1.1.0",
        &bytes,
        &["--sign", &key("stranger")],
    );
    assert!(ok, "{text}");
    assert!(text.contains(&stranger), "{text}");
    let (ok, text) = cli_publish(
        dir.path(),
        &host.url,
        "tagger",
        "1.2.0",
        &bytes,
        &["--sign", &key("trusted")],
    );
    assert!(ok, "{text}");

    // The registry keeps who signed what.
    let metadata: Value = reqwest::get(format!("{}/registry/v1/packages/tagger/1.2.0", host.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["signed"]["signer"], trusted.as_str(), "{metadata}");

    // Unsigned and signed by a stranger: refused, nothing loaded.
    let (status, body) = activate(&host, "tagger", json!({"version": "1.0.0"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("untrusted")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not signed"),
        "{body}"
    );
    let (status, body) = activate(&host, "tagger", json!({"version": "1.1.0"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&stranger),
        "{body}"
    );
    let (_, plugins) = request(
        Method::GET,
        &format!("{}/api/admin/plugins", host.url),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(plugins, json!([]));
    // Signed by the trusted key: runs.
    let (status, body) = activate(&host, "tagger", json!({"version": "1.2.0"})).await;
    assert_eq!(status, 200, "{body}");

    // A signature that does not match what is published is refused at
    // publish: here, a signature of 1.2.0 sent with 1.3.0.
    let signed = &metadata["signed"];
    let response = reqwest::Client::new()
        .put(format!("{}/registry/v1/packages/tagger/1.3.0", host.url))
        .bearer_auth(PUBLISH_TOKEN)
        .header("hangar-signer", signed["signer"].as_str().unwrap())
        .header("hangar-signature", signed["signature"].as_str().unwrap())
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad-signature", "{body}");
    let response = reqwest::get(format!("{}/registry/v1/packages/tagger/1.3.0", host.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn scoped_tokens_do_only_what_they_are_for_and_an_admin_transfers_packages() {
    let dir = tempfile::tempdir().unwrap();
    let alice = "alice-token-0123456789abcdef";
    let bob = "bob-token-0123456789abcdef";
    let ci = "ci-token-0123456789abcdef";
    let ops = "ops-token-0123456789abcdef";
    let tokens = format!("alice={alice},bob={bob},ci:publish:acme-*={ci},ops:admin={ops}");

    // A scope that does not parse stops the registry at start.
    let bad = std::process::Command::new(binary())
        .args(["registry", "serve", "--dir"])
        .arg(dir.path().join("bad"))
        .args(["--publish-tokens", &format!("x:fly={alice}")])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown token action"));

    let registry = Server::start_command(
        &["registry", "serve"],
        &[
            "--dir",
            dir.path().join("registry").to_str().unwrap(),
            "--publish-tokens",
            &tokens,
        ],
        &[],
        dir.path(),
    )
    .unwrap();
    let url = registry.url.clone();
    let bytes = wasm("guest-swap-v1");
    let client = reqwest::Client::new();
    let call = |method: Method, path: String, token: &'static str, body: Option<Value>| {
        let client = client.clone();
        let url = url.clone();
        let bytes = bytes.clone();
        async move {
            let request = client
                .request(method.clone(), format!("{url}{path}"))
                .bearer_auth(token);
            let request = match (method, body) {
                (_, Some(body)) => request.json(&body),
                (Method::PUT, None) => request.body(bytes),
                _ => request,
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    let code = |answer: &(u16, Value)| {
        (
            answer.0,
            answer.1["error"]["code"].as_str().map(str::to_owned),
        )
    };
    let put = |name: &str, version: &str, token| {
        call(
            Method::PUT,
            format!("/registry/v1/packages/{name}/{version}"),
            token,
            None,
        )
    };
    let yank = |name: &str, version: &str, token| {
        call(
            Method::POST,
            format!("/registry/v1/packages/{name}/{version}/yank"),
            token,
            None,
        )
    };
    let transfer = |name: &str, to: Value, token| {
        call(
            Method::POST,
            format!("/registry/v1/packages/{name}/transfer"),
            token,
            Some(to),
        )
    };
    let out_of_scope = (403, Some("out-of-scope".to_owned()));
    let not_owner = (403, Some("not-an-owner".to_owned()));

    // The CI token publishes its packages only, and never yanks.
    assert_eq!(put("acme-tagger", "1.0.0", ci).await.0, 201);
    let answer = put("tagger", "1.0.0", ci).await;
    assert_eq!(code(&answer), out_of_scope, "{}", answer.1);
    assert!(
        answer.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("acme-*"),
        "{}",
        answer.1
    );
    assert_eq!(code(&yank("acme-tagger", "1.0.0", ci).await), out_of_scope);

    // Owners: alice's package is hers; bob can neither publish nor yank it,
    // nor transfer it to himself.
    assert_eq!(put("tagger", "1.0.0", alice).await.0, 201);
    assert_eq!(code(&put("tagger", "1.0.1", bob).await), not_owner);
    assert_eq!(code(&yank("tagger", "1.0.0", bob).await), not_owner);
    assert_eq!(
        code(&transfer("tagger", json!({"to": "bob"}), bob).await),
        out_of_scope
    );
    // The admin token publishes nothing...
    assert_eq!(code(&put("ops-thing", "1.0.0", ops).await), out_of_scope);
    // ...and transfers: bob is now the only owner.
    let answer = transfer("tagger", json!({"to": "bob"}), ops).await;
    assert_eq!(answer, (200, json!({"name": "tagger", "owners": ["bob"]})));
    assert_eq!(put("tagger", "1.0.1", bob).await.0, 201);
    assert_eq!(code(&put("tagger", "1.0.2", alice).await), not_owner);
    assert_eq!(yank("tagger", "1.0.0", bob).await.0, 200);
    // Refusals say what is wrong.
    assert_eq!(
        code(&transfer("tagger", json!({"to": "mallory"}), ops).await),
        (404, Some("unknown-publisher".to_owned()))
    );
    assert_eq!(
        code(&transfer("nothing-here", json!({"to": "bob"}), ops).await),
        (404, Some("not-found".to_owned()))
    );
    assert_eq!(
        code(&transfer("tagger", json!({"who": "bob"}), ops).await),
        (400, Some("bad-body".to_owned()))
    );
    let (_, owners) = call(
        Method::GET,
        "/registry/v1/packages/tagger/owners".into(),
        ops,
        None,
    )
    .await;
    assert_eq!(owners["owners"], json!(["bob"]));
}

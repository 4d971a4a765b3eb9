//! The application's router called in-process (`tower::ServiceExt::oneshot`,
//! no socket): how each module maps bad requests, missing things and the
//! server's start to a status and an error code. Fast; the process-level
//! tests (`tests/tests`) keep crashes, restarts and clusters.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use axum::body::Body;
use axum::http::Request;
use clap::Parser as _;
use hangar_host::cli::{Cli, Command};
use hangar_host::config::ServeConfig;
use hangar_host::server::{Built, build};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ADMIN: &str = "router-admin-token-0123456789";
const PUBLISH: &str = "router-publish-token-0123456789";

/// A demo server in `dir`, built but not listening.
async fn demo(dir: &std::path::Path) -> (Built, ServeConfig) {
    let argv = [
        "hangar".to_owned(),
        "serve".to_owned(),
        "--demo".to_owned(),
        "--data-dir".to_owned(),
        dir.join("data").display().to_string(),
        "--cache-dir".to_owned(),
        hangar_testkit::shared_cache_dir().display().to_string(),
        "--plugins-dir".to_owned(),
        hangar_testkit::repo_root()
            .join("plugins")
            .display()
            .to_string(),
        "--admin-token".to_owned(),
        ADMIN.to_owned(),
        "--publish-tokens".to_owned(),
        format!("ci={PUBLISH}"),
    ];
    let Command::Serve(args) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!("a serve command")
    };
    let config = ServeConfig::from_args(&args).unwrap();
    (build(&config).await.unwrap(), config)
}

/// A demo customer's session token.
async fn customer_token(built: &Built) -> String {
    let (status, _, session) = call(
        built,
        "POST",
        "/api/session",
        None,
        Some(r#"{"user":"ann","role":"customer"}"#),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    session["token"].as_str().unwrap().to_owned()
}

/// One call: the status and the error code (`-` when the answer has none).
async fn call(
    built: &Built,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let response = built.router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let code = value["error"]["code"].as_str().unwrap_or("-").to_owned();
    (status, code, value)
}

type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    u16,
    &'a str,
);

async fn check(built: &Built, cases: &[Case<'_>]) {
    let mut wrong = Vec::new();
    for &(method, path, token, body, status, code) in cases {
        let (got_status, got_code, value) = call(built, method, path, token, body).await;
        if (got_status, got_code.as_str()) != (status, code) {
            wrong.push(format!(
                "{method} {path}: {got_status} {got_code}, want {status} {code} ({value})"
            ));
        }
        // Every refusal is the one JSON error shape, with a message (the
        // probes answer their own shape: docs/metrics.md).
        if got_status >= 400 && !matches!(path, "/healthz" | "/readyz") {
            assert!(
                value["error"]["message"].is_string(),
                "{method} {path}: {value}"
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn guarded_routes_answer_starting_until_the_plugins_are_restored() {
    let dir = tempfile::tempdir().unwrap();
    let (built, config) = demo(dir.path()).await;
    let token = &customer_token(&built).await;
    check(
        &built,
        &[
            ("GET", "/healthz", None, None, 503, "-"),
            ("GET", "/readyz", None, None, 503, "-"),
            ("GET", "/livez", None, None, 200, "-"),
            (
                "POST",
                "/api/uploads/u_1/complete",
                Some(token),
                None,
                503,
                "starting",
            ),
            ("GET", "/api/materials/text", None, None, 503, "starting"),
            ("GET", "/p/p_1", None, None, 503, "starting"),
            ("GET", "/api/lbs", None, None, 200, "-"),
        ],
    )
    .await;
    built.restore(&config).await.unwrap();
    check(
        &built,
        &[
            ("GET", "/healthz", None, None, 200, "-"),
            ("GET", "/readyz", None, None, 200, "-"),
            (
                "POST",
                "/api/uploads/u_1/complete",
                Some(token),
                None,
                404,
                "unknown-upload",
            ),
            (
                "GET",
                "/api/materials/nope",
                None,
                None,
                404,
                "unknown-material",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn every_module_maps_bad_input_and_missing_things_to_a_status_and_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let (built, config) = demo(dir.path()).await;
    built.restore(&config).await.unwrap();
    let token = customer_token(&built).await;
    let customer = Some(token.as_str());
    let admin = Some(ADMIN);
    let activate = Some(r#"{"version":"1.0.0"}"#);
    check(
        &built,
        &[
            // The router.
            ("GET", "/no/such/route", None, None, 404, "not-found"),
            // Admin API.
            ("GET", "/api/admin/plugins", None, None, 401, "unauthorized"),
            (
                "GET",
                "/api/admin/plugins",
                Some("wrong-token-0123456789"),
                None,
                403,
                "forbidden",
            ),
            (
                "POST",
                "/api/admin/plugins/nope/activate",
                admin,
                activate,
                404,
                "not-in-registry",
            ),
            (
                "POST",
                "/api/admin/plugins/nope/activate",
                admin,
                Some("{not json"),
                400,
                "bad-request",
            ),
            (
                "POST",
                "/api/admin/plugins/Bad_Name!/activate",
                admin,
                activate,
                400,
                "bad-request",
            ),
            (
                "POST",
                "/api/admin/plugins/nope/rollback",
                admin,
                None,
                404,
                "unknown-plugin",
            ),
            // Sessions and chat.
            (
                "POST",
                "/api/session",
                None,
                Some(r#"{"user":"","role":"customer"}"#),
                400,
                "bad-request",
            ),
            (
                "POST",
                "/api/session",
                None,
                Some(r#"{"user":"ann","role":"pilot"}"#),
                400,
                "bad-request",
            ),
            (
                "POST",
                "/api/conversations",
                None,
                None,
                401,
                "unauthorized",
            ),
            (
                "POST",
                "/api/conversations",
                Some("not-a-token"),
                None,
                401,
                "unauthorized",
            ),
            (
                "GET",
                "/api/conversations?cursor=abc",
                customer,
                None,
                400,
                "bad-request",
            ),
            (
                "GET",
                "/api/rooms/r_nope/messages",
                customer,
                None,
                404,
                "not-found",
            ),
            // Uploads and files.
            (
                "POST",
                "/api/uploads",
                customer,
                Some(r#"{"name":"a.txt","size":10}"#),
                400,
                "bad-request",
            ),
            (
                "GET",
                "/api/uploads/u_nope",
                customer,
                None,
                404,
                "unknown-upload",
            ),
            (
                "PUT",
                "/api/uploads/u_nope/chunks/0",
                customer,
                None,
                404,
                "unknown-upload",
            ),
            (
                "POST",
                "/api/uploads/u_nope/complete",
                customer,
                None,
                404,
                "unknown-upload",
            ),
            (
                "GET",
                "/api/files/f_nope",
                customer,
                None,
                404,
                "unknown-file",
            ),
            ("GET", "/files/f_nope", None, None, 401, "unauthorized"),
            // Materials and pages.
            (
                "GET",
                "/api/materials/nope",
                None,
                None,
                404,
                "unknown-material",
            ),
            ("GET", "/api/pages/p_nope", None, None, 401, "unauthorized"),
            // The embedded registry.
            (
                "GET",
                "/registry/v1/packages/nope",
                None,
                None,
                404,
                "not-found",
            ),
            (
                "PUT",
                "/registry/v1/packages/nope/1.0.0",
                None,
                Some("x"),
                401,
                "unauthorized",
            ),
            (
                "PUT",
                "/registry/v1/packages/nope/1.0.0",
                Some(PUBLISH),
                Some("not wasm"),
                422,
                "not-a-plugin",
            ),
            (
                "GET",
                "/registry/v1/blobs/sha256:00",
                None,
                None,
                400,
                "bad-digest",
            ),
        ],
    )
    .await;
}

/// `GET /api/openapi.json` describes the routes served: every documented
/// operation reaches a handler (the router's fallbacks answer `no route` or
/// `method-not-allowed`, never a documented operation), and the error
/// schema lists the codes.
#[tokio::test]
async fn the_openapi_document_describes_every_route_served() {
    let dir = tempfile::tempdir().unwrap();
    let (built, _config) = demo(dir.path()).await;
    let (status, _, doc) = call(&built, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let codes = doc["components"]["schemas"]["ErrorObject"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap();
    assert!(codes.contains(&Value::from("unknown-upload")), "{codes:?}");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 40, "{} paths", paths.len());
    let mut unserved = Vec::new();
    for (path, item) in paths {
        // Fill path parameters with a value of their type.
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    if segment == "{index}" || segment == "{revision}" {
                        "0"
                    } else {
                        "x"
                    }
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let (status, code, value) = call(&built, &method, &concrete, None, None).await;
            let fallback = status == 405
                || (code == "not-found"
                    && value["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("no route")));
            if fallback {
                unserved.push(format!("{method} {path}: {status} {value}"));
            }
        }
    }
    assert!(unserved.is_empty(), "{}", unserved.join("\n"));
    // And a route that is not documented is not served.
    let (status, code, _) = call(&built, "GET", "/api/undocumented", None, None).await;
    assert_eq!((status, code.as_str()), (404, "not-found"));
    let (status, code, _) = call(&built, "DELETE", "/api/plugins", None, None).await;
    assert_eq!((status, code.as_str()), (405, "method-not-allowed"));
}

/// Follows a job until it ends; returns its last view.
async fn follow(built: &Built, href: &str) -> Value {
    for _ in 0..600 {
        let (status, _, job) = call(built, "GET", href, Some(ADMIN), None).await;
        assert_eq!(status, 200, "{job}");
        if job["status"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {href} still running after 30 s");
}

#[tokio::test]
async fn an_activation_that_outlasts_its_wait_is_a_job_to_follow() {
    let dir = tempfile::tempdir().unwrap();
    let (built, config) = demo(dir.path()).await;
    built.restore(&config).await.unwrap();
    let (_, _, plugins) = call(&built, "GET", "/api/admin/plugins", Some(ADMIN), None).await;
    let version = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "keyword-moderation")
        .map(|p| p["version"].as_str().unwrap().to_owned())
        .unwrap();
    let path = "/api/admin/plugins/keyword-moderation/activate";

    // No wait: the answer is the job (this runtime runs the job only once
    // the handler has answered).
    let body = format!(r#"{{"version": "{version}", "wait_ms": 0}}"#);
    let (status, _, job) = call(&built, "POST", path, Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(
        (
            &job["kind"],
            &job["plugin"],
            &job["version"],
            &job["status"]
        ),
        (
            &json!("activate"),
            &json!("keyword-moderation"),
            &json!(version),
            &json!("running")
        )
    );
    let done = follow(&built, job["href"].as_str().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["version"], json!(version), "{done}");
    assert!(done["result"]["digest"].is_string(), "{done}");

    // A failed job keeps the error the request would have answered.
    let (status, _, job) = call(
        &built,
        "POST",
        path,
        Some(ADMIN),
        Some(r#"{"version": "9.9.9", "wait_ms": 0}"#),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let failed = follow(&built, job["href"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["status"], 404, "{failed}");
    assert_eq!(failed["error"]["code"], "not-in-registry", "{failed}");
    // The version that was active still is.
    let (_, _, plugins) = call(&built, "GET", "/api/admin/plugins", Some(ADMIN), None).await;
    assert!(
        plugins
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "keyword-moderation" && p["version"] == json!(version))
    );

    // Within its wait, the answer is the activation's own.
    let body = format!(r#"{{"version": "{version}"}}"#);
    let (status, _, activated) = call(&built, "POST", path, Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 200, "{activated}");
    assert_eq!(activated["version"], json!(version));

    check(
        &built,
        &[
            (
                "GET",
                "/api/admin/jobs/0123456789abcdef",
                Some(ADMIN),
                None,
                404,
                "unknown-job",
            ),
            ("GET", "/api/admin/jobs/x", None, None, 401, "unauthorized"),
            (
                "POST",
                path,
                Some(ADMIN),
                Some(r#"{"version": "1.0.0", "wait_ms": 60001}"#),
                400,
                "bad-request",
            ),
        ],
    )
    .await;
}

//! Low-code materials and pages end to end: the real binary over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use futures_util::future::join_all;
use hangar_testkit::guests::wasm;
use hangar_testkit::server::{Server, request};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLISH: &str = "publish-token-0123456789abcdef";

fn demo() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let publishers = format!("ci={PUBLISH}");
    let server = Server::start_demo(
        dir.path(),
        &["--admin-token", ADMIN, "--publish-tokens", &publishers],
    )
    .unwrap();
    (dir, server)
}

async fn call(
    server: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    request(method, &format!("{}{path}", server.url), token, body).await
}

async fn publish(server: &Server, name: &str, version: &str, bytes: Vec<u8>) {
    let (status, body) =
        hangar_testkit::server::publish(&server.url, name, version, bytes, Some(PUBLISH)).await;
    assert!(matches!(status, 200 | 201), "{body}");
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

async fn materials_are_listed_described_validated_and_rendered() {
    let (_dir, server) = demo();
    let (status, list) = call(&server, Method::GET, "/api/materials", None, None).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "button",
            "card",
            "columns",
            "form",
            "form-input",
            "image",
            "text"
        ]
    );
    let card = &list[1];
    assert_eq!(
        (card["title"].as_str(), card["category"].as_str()),
        (Some("Card"), Some("layout"))
    );
    assert_eq!(
        (card["latest"].as_str(), card["versions"].clone()),
        (Some("0.2.0"), json!(["0.1.0", "0.2.0"]))
    );

    let (status, button) = call(&server, Method::GET, "/api/materials/button", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(button["props_schema"]["required"], json!(["label"]));
    assert_eq!(button["default_props"]["label"], "Click me");
    let (_, pinned) = call(
        &server,
        Method::GET,
        "/api/materials/button@0.1.0",
        None,
        None,
    )
    .await;
    assert_eq!(pinned["version"], "0.1.0");

    let (status, rendered) = call(
        &server,
        Method::POST,
        "/api/materials/button/render",
        None,
        Some(&json!({"label": "Buy <now>"})),
    )
    .await;
    assert_eq!(status, 200, "{rendered}");
    let html = rendered["html"].as_str().unwrap();
    assert!(
        html.contains("hm-button") && html.contains("Buy &lt;now&gt;"),
        "{html}"
    );

    // Invalid props: 422 with every failing field.
    let (status, body) = call(
        &server,
        Method::POST,
        "/api/materials/button/render",
        None,
        Some(&json!({"label": 5, "colour": "red"})),
    )
    .await;
    assert_eq!((status, code(&body)), (422, "invalid-props"), "{body}");
    let paths: Vec<&str> = body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/label") && paths.contains(&""), "{body}");
    let (status, body) = call(
        &server,
        Method::POST,
        "/api/materials/button/render",
        None,
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("label"),
        "{body}"
    );

    // Unknown, not a material, malformed.
    let (status, body) = call(&server, Method::GET, "/api/materials/nothing", None, None).await;
    assert_eq!((status, code(&body)), (404, "unknown-material"));
    let (status, body) = call(
        &server,
        Method::GET,
        "/api/materials/button@9.9.9",
        None,
        None,
    )
    .await;
    assert_eq!((status, code(&body)), (404, "unknown-material"), "{body}");
    let (status, body) = call(&server, Method::GET, "/api/materials/faq-bot", None, None).await;
    assert_eq!((status, code(&body)), (404, "not-a-material"));
    assert_eq!(
        call(
            &server,
            Method::GET,
            "/api/materials/button@one",
            None,
            None
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn material_html_is_sanitised_and_a_failing_material_is_isolated() {
    let (_dir, server) = demo();
    publish(&server, "evil", "0.1.0", wasm("guest-material-evil")).await;
    let (status, rendered) = call(
        &server,
        Method::POST,
        "/api/materials/evil/render",
        None,
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{rendered}");
    let html = rendered["html"].as_str().unwrap();
    for bad in ["<script", "onclick", "javascript:", "onerror", "cookie"] {
        assert!(!html.contains(bad), "{bad} survived: {html}");
    }
    assert!(html.contains("hi"), "{html}");
    for (mode, hint) in [
        ("trap", "trapped"),
        ("loop", "timed out"),
        ("error", "refuses"),
    ] {
        let (status, body) = call(
            &server,
            Method::POST,
            "/api/materials/evil/render",
            None,
            Some(&json!({"mode": mode})),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (502, "material-failed"),
            "{mode}: {body}"
        );
        assert!(
            body["error"]["message"].as_str().unwrap().contains(hint),
            "{mode}: {body}"
        );
        // Every other material keeps working.
        let (status, _) = call(
            &server,
            Method::POST,
            "/api/materials/text/render",
            None,
            Some(&json!({"text": "still here"})),
        )
        .await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch_and_one_compile() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_isolated(dir.path(), ADMIN, &format!("ci={PUBLISH}")).unwrap();
    publish(&server, "card", "1.0.0", wasm("material-card")).await;
    let (_, before) = call(
        &server,
        Method::GET,
        "/api/admin/runtime",
        Some(ADMIN),
        None,
    )
    .await;
    let renders = join_all((0..8).map(|i| {
        let url = server.url.clone();
        async move {
            request(
                Method::POST,
                &format!("{url}/api/materials/card@1.0.0/render"),
                None,
                Some(&json!({"title": format!("card {i}")})),
            )
            .await
        }
    }))
    .await;
    for (status, body) in &renders {
        assert_eq!(*status, 200, "{body}");
    }
    let (_, after) = call(
        &server,
        Method::GET,
        "/api/admin/runtime",
        Some(ADMIN),
        None,
    )
    .await;
    let delta = |k: &str| {
        after.pointer(k).unwrap().as_u64().unwrap() - before.pointer(k).unwrap().as_u64().unwrap()
    };
    assert_eq!(delta("/downloads"), 1, "{before} -> {after}");
    assert_eq!(delta("/cache/compiled"), 1, "{before} -> {after}");
    // Later calls use the loaded material: nothing more is fetched or compiled.
    call(
        &server,
        Method::POST,
        "/api/materials/card@1.0.0/render",
        None,
        Some(&json!({"title": "again"})),
    )
    .await;
    let (_, later) = call(
        &server,
        Method::GET,
        "/api/admin/runtime",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(
        (
            later["downloads"].clone(),
            later["cache"]["compiled"].clone()
        ),
        (
            after["downloads"].clone(),
            after["cache"]["compiled"].clone()
        )
    );
}

async fn pages_keep_revisions_pin_versions_and_refuse_stale_writes() {
    let (_dir, server) = demo();
    let session = |role: &'static str| {
        let url = server.url.clone();
        async move {
            let (_, body) = request(
                Method::POST,
                &format!("{url}/api/session"),
                None,
                Some(&json!({"user": format!("{role}-1"), "role": role})),
            )
            .await;
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let designer = session("agent").await;
    let customer = session("customer").await;
    let page = json!({"title": "Spring sale", "nodes": [
        {"material": "text", "version": "0.1.0", "props": {"text": "Spring sale", "level": "h1"}},
        {"material": "card", "version": "0.1.0", "props": {"title": "Plans", "body": "Pick one"}, "children": [
            {"material": "form-input", "version": "0.1.0", "props": {"label": "Email", "name": "email", "kind": "email", "required": true}},
            {"material": "button", "version": "0.1.0", "props": {"label": "Join"}}
        ]}
    ]});
    let put = |token: String, body: Value, if_match: Option<&'static str>| {
        let url = server.url.clone();
        async move {
            let mut req = reqwest::Client::new()
                .put(format!("{url}/api/pages/spring"))
                .bearer_auth(token)
                .json(&body);
            if let Some(tag) = if_match {
                req = req.header("if-match", tag);
            }
            let response = req.send().await.unwrap();
            let status = response.status().as_u16();
            let etag = response
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                status,
                etag,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(put(customer.clone(), page.clone(), None).await.0, 403);
    let (status, etag, body) = put(designer.clone(), page.clone(), None).await;
    assert_eq!((status, etag.as_deref()), (201, Some("\"r1\"")), "{body}");
    let (status, _, body) = put(designer.clone(), page.clone(), None).await;
    assert_eq!((status, code(&body)), (428, "if-match-required"));
    let mut edited = page.clone();
    edited["nodes"][0]["props"]["text"] = json!("Spring sale, now");
    let (status, etag, _) = put(designer.clone(), edited.clone(), Some("\"r1\"")).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"r2\"")));
    let (status, _, body) = put(designer.clone(), page.clone(), Some("\"r1\"")).await;
    assert_eq!((status, code(&body)), (412, "stale-page"), "{body}");

    // Invalid pages are refused with the node's path.
    let mut bad = edited.clone();
    bad["nodes"][1]["children"][1]["props"] = json!({"label": ""});
    let (status, _, body) = put(designer.clone(), bad, Some("\"r2\"")).await;
    assert_eq!((status, code(&body)), (422, "invalid-props"), "{body}");
    assert_eq!(body["error"]["path"], "/nodes/1/children/1");
    let mut unknown = edited.clone();
    unknown["nodes"][0]["version"] = json!("7.0.0");
    let (status, _, body) = put(designer.clone(), unknown, Some("\"r2\"")).await;
    assert_eq!((status, code(&body)), (422, "invalid-page"), "{body}");

    let (status, loaded) = call(
        &server,
        Method::GET,
        "/api/pages/spring",
        Some(&designer),
        None,
    )
    .await;
    assert_eq!((status, loaded["revision"].as_i64()), (200, Some(2)));
    // Stored normalised: every node has its children list.
    assert_eq!(
        loaded["page"]["nodes"][0]["props"],
        edited["nodes"][0]["props"]
    );
    assert_eq!(
        loaded["page"]["nodes"][1]["children"][1]["props"],
        json!({"label": "Join"})
    );
    let (_, revisions) = call(
        &server,
        Method::GET,
        "/api/pages/spring/revisions",
        Some(&designer),
        None,
    )
    .await;
    let numbers: Vec<i64> = revisions["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let (_, first) = call(
        &server,
        Method::GET,
        "/api/pages/spring/revisions/1",
        Some(&designer),
        None,
    )
    .await;
    assert_eq!(
        first["page"]["nodes"][0]["props"],
        page["nodes"][0]["props"]
    );

    let fetch_page = || {
        let url = server.url.clone();
        async move {
            let response = reqwest::get(format!("{url}/p/spring")).await.unwrap();
            assert_eq!(response.status(), 200);
            // No script source at all: default-src 'none' covers scripts.
            let csp = response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                csp.contains("default-src 'none'") && !csp.contains("script-src"),
                "{csp}"
            );
            response.text().await.unwrap()
        }
    };
    let html = fetch_page().await;
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<title>Spring sale</title>"),
        "{html}"
    );
    assert!(
        html.contains("Spring sale, now")
            && html.contains("hm-card")
            && html.contains(r#"type="email""#)
            && html.contains(">Join</a>"),
        "{html}"
    );

    // A new version of a material changes nothing on the page; a yanked
    // pinned version still renders.
    publish(&server, "button", "0.3.0", wasm("guest-material-evil")).await;
    // The listing reuses the registry's package list for up to 5 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, listed) = call(&server, Method::GET, "/api/materials", None, None).await;
        let button = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "button")
            .unwrap()
            .clone();
        if button["latest"] == "0.3.0" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{listed}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(fetch_page().await, html);
    let yank = reqwest::Client::new()
        .post(format!(
            "{}/registry/v1/packages/button/0.1.0/yank",
            server.url
        ))
        .bearer_auth(PUBLISH)
        .send()
        .await
        .unwrap();
    assert_eq!(yank.status(), 200);
    assert_eq!(fetch_page().await, html);
    assert_eq!(
        call(&server, Method::GET, "/p/nothing", None, None).await.0,
        404
    );
    assert_eq!(
        call(&server, Method::GET, "/p/Bad_Id", None, None).await.0,
        400
    );
}

hangar_testkit::on_every_backend!(
    pages_keep_revisions_pin_versions_and_refuse_stale_writes,
    materials_are_listed_described_validated_and_rendered,
);

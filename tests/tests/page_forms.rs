//! Pages made of slots, events and forms (`hangar:plugin@0.2.0`), end to
//! end over HTTP: what a save refuses, how a published page is rendered
//! (slot children inside their slot, the runtime only when needed, 0.1.0
//! pages unchanged), what the registry records of each contract, and form
//! submissions (validation, storage, admin listing, CSV, rate limit).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use hangar_testkit::server::{Server, demo_session, request};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef";

fn demo() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_demo(dir.path(), &["--admin-token", ADMIN]).unwrap();
    (dir, server)
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// A signup page: columns > card > form (two fields) and a button bound
/// to a message, in the card's body.
fn signup() -> Value {
    json!({"title": "Signup", "nodes": [
        {"id": "cols", "material": "columns", "version": "0.2.0", "props": {"ratio": "2:1"}, "slots": {
            "left": [
                {"id": "card", "material": "card", "version": "0.2.0", "props": {"title": "Join us"}, "slots": {
                    "body": [
                        {"id": "signup", "material": "form", "version": "0.2.0", "props": {"submit_label": "Join"},
                         "events": {"submit": {"action": "show-message", "text": "Welcome!"}},
                         "slots": {"fields": [
                            {"id": "email", "material": "form-input", "version": "0.2.0", "props": {"label": "Email", "name": "email", "kind": "email", "required": true}},
                            {"id": "age", "material": "form-input", "version": "0.2.0", "props": {"label": "Age", "name": "age", "kind": "number"}},
                            {"id": "go", "material": "button", "version": "0.2.0", "props": {"label": "Send it"},
                             "events": {"click": {"action": "submit-form"}}}
                         ]}}
                    ]
                }}
            ],
            "right": [
                {"material": "text", "version": "0.2.0", "props": {"text": "Why join?"}}
            ]
        }}
    ]})
}

async fn put_page(server: &Server, token: &str, id: &str, page: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .put(format!("{}/api/pages/{id}", server.url))
        .bearer_auth(token)
        .json(page)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn published_page_renders_slots_and_its_forms_take_submissions() {
    let (_dir, server) = demo();
    let agent = demo_session(&server.url, "designer-1", "agent").await;
    let (status, body) = put_page(&server, &agent, "signup", &signup()).await;
    assert_eq!(status, 201, "{body}");

    let response = reqwest::get(format!("{}/p/signup", server.url))
        .await
        .unwrap();
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    // Children inside their slots, in order, in their parents' markup.
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing from {html}"))
    };
    assert!(at(r#"<div data-hangar-slot="left">"#) < at("Join us"));
    assert!(at("Join us") < at(r#"<div data-hangar-slot="fields">"#));
    assert!(at(r#"<div data-hangar-slot="fields">"#) < at(r#"name="email""#));
    assert!(at(r#"name="age""#) < at(r#"<div data-hangar-slot="right">"#));
    assert!(at(r#"<div data-hangar-slot="right">"#) < at("Why join?"));
    // The form and the bound button are marked; the bindings are data.
    assert!(
        html.contains(r#"data-node="signup" data-form="""#),
        "{html}"
    );
    assert!(html.contains(r#"data-node="go""#), "{html}");
    assert!(html.contains(r#"<script type="application/json" id="hangar-page-actions">"#));
    assert!(html.contains(r#"<script type="module" src="/sdk/js/page-runtime.js">"#));
    let runtime = reqwest::get(format!("{}/sdk/js/page-runtime.js", server.url))
        .await
        .unwrap();
    assert_eq!(runtime.status(), 200);

    let submissions = "/api/pages/signup/forms/signup/submissions";
    let submit = |values: Value| {
        let url = format!("{}{submissions}", server.url);
        async move { request(Method::POST, &url, None, Some(&json!({ "values": values }))).await }
    };
    // Refusals: missing required, wrong kinds, unknown field, not text.
    let (status, body) = submit(json!({"age": "x", "extra": "1"})).await;
    assert_eq!((status, code(&body)), (422, "invalid-submission"), "{body}");
    let failing: Vec<&str> = body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["extra", "email", "age"], "{body}");
    let (status, body) = submit(json!({"email": "not-an-address"})).await;
    assert_eq!((status, code(&body)), (422, "invalid-submission"), "{body}");
    let (status, body) = submit(json!({"email": ["a@b.co"]})).await;
    assert_eq!((status, code(&body)), (422, "invalid-submission"), "{body}");
    // Not a form, no such node, no such page.
    for (path, want) in [
        ("/api/pages/signup/forms/card/submissions", 404),
        ("/api/pages/signup/forms/nothing/submissions", 404),
        ("/api/pages/nothing/forms/signup/submissions", 404),
        ("/api/pages/signup/forms/Bad_Id/submissions", 404),
    ] {
        let (status, body) = request(
            Method::POST,
            &format!("{}{path}", server.url),
            None,
            Some(&json!({"values": {}})),
        )
        .await;
        assert_eq!(status, want, "{path}: {body}");
    }
    // Accepted: stored with the revision seen, optional fields empty.
    let (status, body) = submit(json!({"email": "ann@example.com"})).await;
    assert_eq!(status, 201, "{body}");

    // Admins list them and export them; nobody else does.
    let list = format!("{}/api/admin/pages/signup/submissions", server.url);
    assert_eq!(request(Method::GET, &list, None, None).await.0, 401);
    assert!(matches!(
        request(Method::GET, &list, Some(&agent), None).await.0,
        401 | 403
    ));
    let (status, listed) = request(Method::GET, &list, Some(ADMIN), None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["submissions"].as_array().unwrap().len(), 1);
    assert_eq!(listed["submissions"][0]["form"], "signup");
    assert_eq!(listed["submissions"][0]["revision"], 1);
    assert_eq!(
        listed["submissions"][0]["values"],
        json!({"email": "ann@example.com", "age": ""})
    );
    let csv = reqwest::Client::new()
        .get(format!("{list}.csv"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        csv.headers().get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,submitted_at,form,revision,email,age");
    assert!(
        lines[1].starts_with("1,") && lines[1].ends_with(",signup,1,ann@example.com,"),
        "{csv}"
    );

    // One client address gets a burst of five, then waits.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(submit(json!({"email": "bob@example.com"})).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let (_, listed) = request(Method::GET, &list, Some(ADMIN), None).await;
    // 1 + the accepted ones of the burst (the refused ones, 422 or 429, were not stored).
    let stored = listed["submissions"].as_array().unwrap().len();
    let accepted = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(stored, 1 + accepted, "{statuses:?}");
}

/// A change that breaks a page.
type Mutation = Box<dyn Fn(&mut Value)>;

async fn saves_refuse_what_breaks_slots_events_and_forms() {
    let (_dir, server) = demo();
    let agent = demo_session(&server.url, "designer-2", "agent").await;
    let base = signup();
    let mutations: Vec<(&str, Mutation, &str)> = vec![
        (
            "a slot the material does not have",
            Box::new(|p| p["nodes"][0]["slots"]["middle"] = json!([])),
            "no slot \"middle\"",
        ),
        (
            "children in a 0.1.0 material's slot",
            Box::new(|p| p["nodes"][0]["slots"]["left"][0]["version"] = json!("0.1.0")),
            "no slot \"body\"",
        ),
        (
            "an event the material does not emit",
            Box::new(|p| {
                p["nodes"][0]["id"] = json!("cols");
                p["nodes"][0]["events"] = json!({"click": {"action": "show-message", "text": "x"}});
            }),
            "emits no event \"click\"",
        ),
        (
            "a script URL",
            Box::new(|p| {
                p["nodes"][0]["slots"]["left"][0]["slots"]["body"][0]["slots"]["fields"][2]["events"]
                    ["click"] = json!({"action": "navigate", "url": "javascript:alert(1)"});
            }),
            "not an http(s), mailto or relative URL",
        ),
        (
            "submit-form outside a form",
            Box::new(|p| {
                p["nodes"][0]["slots"]["right"] = json!([{"id": "lonely", "material": "button", "version": "0.2.0",
                    "props": {"label": "x"}, "events": {"click": {"action": "submit-form"}}}]);
            }),
            "submit-form is bound outside any form",
        ),
        (
            "a form inside a form",
            Box::new(|p| {
                p["nodes"][0]["slots"]["left"][0]["slots"]["body"][0]["slots"]["fields"][1] =
                    json!({"id": "inner", "material": "form", "version": "0.2.0", "props": {}});
            }),
            "a form inside a form",
        ),
        (
            "a form without an id",
            Box::new(|p| {
                p["nodes"][0]["slots"]["left"][0]["slots"]["body"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("id");
            }),
            "needs an id",
        ),
        (
            "two nodes with one id",
            Box::new(|p| p["nodes"][0]["slots"]["left"][0]["id"] = json!("cols")),
            "used twice",
        ),
        (
            "two fields with one name",
            Box::new(|p| {
                p["nodes"][0]["slots"]["left"][0]["slots"]["body"][0]["slots"]["fields"][1]["props"]
                    ["name"] = json!("email");
            }),
            "another field of this form is named \"email\"",
        ),
        (
            "an unknown action",
            Box::new(|p| {
                p["nodes"][0]["slots"]["left"][0]["slots"]["body"][0]["slots"]["fields"][2]["events"]
                    ["click"] = json!({"action": "eval", "code": "x"});
            }),
            "",
        ),
        (
            "a malformed variable name",
            Box::new(|p| {
                p["nodes"][0]["slots"]["left"][0]["slots"]["body"][0]["slots"]["fields"][2]["events"]
                    ["click"] = json!({"action": "set-variable", "name": "1x", "value": "v"});
            }),
            "variable name",
        ),
    ];
    for (what, mutate, message) in mutations {
        let mut page = base.clone();
        mutate(&mut page);
        let (status, body) = put_page(&server, &agent, "refused", &page).await;
        assert!(matches!(status, 400 | 422), "{what}: {status} {body}");
        let text = body["error"]["message"].as_str().unwrap_or("");
        assert!(text.contains(message), "{what}: {text}");
    }
    // Nothing refused was stored.
    let (status, _) = request(
        Method::GET,
        &format!("{}/api/pages/refused", server.url),
        Some(&agent),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn pages_and_components_of_contract_0_1_0_are_unchanged() {
    let (_dir, server) = demo();
    let agent = demo_session(&server.url, "designer-3", "agent").await;
    // A page made before slots: 0.1.0 materials, nested `children`.
    let legacy = json!({"title": "Old", "nodes": [
        {"material": "card", "version": "0.1.0", "props": {"title": "Plans", "body": "Pick one"}, "children": [
            {"material": "button", "version": "0.1.0", "props": {"label": "Join"}}
        ]}
    ]});
    let (status, body) = put_page(&server, &agent, "old", &legacy).await;
    assert_eq!(status, 201, "{body}");
    let response = reqwest::get(format!("{}/p/old", server.url)).await.unwrap();
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self'"),
        "no script: {csp}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains(
            r##"<div class="hm-node" data-material="card" data-version="0.1.0"><article class="hm-card"><h3>Plans</h3><p>Pick one</p></article><div class="hm-children"><div class="hm-node" data-material="button" data-version="0.1.0"><a class="hm-button hm-button-primary hm-button-medium" role="button" href="#m-" rel="noopener noreferrer">Join</a></div></div></div>"##
        ),
        "{html}"
    );
    // The registry says which contract each was built against.
    for (name, version, contract) in [
        ("card", "0.1.0", "0.1.0"),
        ("card", "0.2.0", "0.2.0"),
        ("keyword-moderation", "0.1.0", "0.2.0"),
    ] {
        let (status, info) = request(
            Method::GET,
            &format!("{}/registry/v1/packages/{name}/{version}", server.url),
            None,
            None,
        )
        .await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["contract"], contract, "{name}@{version}: {info}");
        let (_, described) = if name == "keyword-moderation" {
            continue;
        } else {
            request(
                Method::GET,
                &format!("{}/api/materials/{name}@{version}", server.url),
                None,
                None,
            )
            .await
        };
        assert_eq!(described["contract"], contract);
    }
}

hangar_testkit::on_every_backend!(
    published_page_renders_slots_and_its_forms_take_submissions,
    saves_refuse_what_breaks_slots_events_and_forms,
    pages_and_components_of_contract_0_1_0_are_unchanged,
);

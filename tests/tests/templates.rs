//! `hangar new`: every template of every language (Rust, Python,
//! JavaScript) builds with its pinned
//! tools, is accepted by the registry (which checks its world and its
//! imports), answers `hangar test` as its README says, and runs on a
//! server as its template says: the materials render, the chat plugins
//! reject and reply, the upload hooks pass a text file and refuse an
//! executable.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hangar_testkit::metrics::Scrape;
use hangar_testkit::server::{Server, binary, mint_token, publish, request};
use hangar_testkit::templates::{build, scaffold};
use hangar_testkit::uploads::UploadApi;
use hangar_testkit::ws::WsClient;
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLISH: &str = "ci=publish-token-0123456789abcdef";
const PUBLISH_TOKEN: &str = "publish-token-0123456789abcdef";
const SESSION_KEY: &str = "isolated-session-key-0123456789abcdef";
const WORLDS: [&str; 3] = ["chat-plugin", "upload-hook", "material"];

/// Runs the `hangar test` line of the project's README, as written, in the
/// project; returns the JSON lines it printed.
fn try_as_the_readme_says(project: &Path, name: &str) -> Vec<Value> {
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("hangar test "))
        .unwrap_or_else(|| panic!("{name}: no hangar test line in its README"));
    let bin = binary();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        .args(["-c", line])
        .current_dir(project)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name}: {line}\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What each template's README line must print.
fn check_tried(world: &str, name: &str, lines: &[Value]) {
    match world {
        "chat-plugin" => {
            assert_eq!(lines[0]["verdict"], "reject", "{name}: {lines:?}");
            assert_eq!(lines[1]["verdict"], "allow", "{name}: {lines:?}");
            assert_eq!(lines[1]["replies"], json!(["pong"]), "{name}: {lines:?}");
        }
        "upload-hook" => assert_eq!(lines[0]["verdict"], "allow", "{name}: {lines:?}"),
        _ => {
            assert_eq!(lines[0]["describe"]["name"], name, "{name}: {lines:?}");
            assert_eq!(
                lines[1]["html"], "<section><h3>Hello</h3><p>from a material</p></section>",
                "{name}: {lines:?}"
            );
        }
    }
}

/// The six activated components were compiled once each (the materials'
/// background loads and their activations share one compile), in child
/// processes: the server grows by the artifacts it loads and its calls'
/// buffers, not by the compiler's working memory (docs/plugins/README.md
/// gives the bound).
async fn compiled_once_and_out_of_process(server: &Server, dir: &Path, rss_before: f64) {
    let (_, runtime) = admin(server, Method::GET, "/api/admin/runtime", None).await;
    assert_eq!(runtime["cache"]["compiled"], 6, "{runtime}");
    let artifacts: u64 = std::fs::read_dir(dir.join("cache"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    let rss_after = Scrape::of(&server.url)
        .await
        .value("process_resident_memory_bytes");
    let grown = rss_after - rss_before;
    let mib = |b: f64| b / f64::from(1 << 20);
    eprintln!(
        "server RSS {:.0} MiB -> {:.0} MiB (+{:.0} MiB) after compiling 6 components; artifacts {:.0} MiB",
        mib(rss_before),
        mib(rss_after),
        mib(grown),
        mib(artifacts as f64)
    );
    // Measured: +145 and +147 MiB with 77 MiB of artifacts; +386 MiB
    // when the server compiled in its own process.
    let bound = artifacts as f64 + f64::from(128 << 20);
    assert!(
        grown <= bound,
        "the server grew by {:.0} MiB, over its bound of {:.0} MiB (the artifacts and 128 MiB)",
        mib(grown),
        mib(bound)
    );
}

async fn admin(server: &Server, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    request(
        method,
        &format!("{}{path}", server.url),
        Some(ADMIN),
        body.as_ref(),
    )
    .await
}

/// Activates version 0.1.0 of `name`, following the job when the compile
/// outlasts the request's wait.
async fn activate(server: &Server, name: &str) {
    let path = format!("/api/admin/plugins/{name}/activate");
    let version = json!({"version": "0.1.0"});
    let (status, mut body) = admin(server, Method::POST, &path, Some(version)).await;
    if status == 202 {
        let href = body["href"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(300);
        while body["status"] == "running" {
            assert!(Instant::now() < deadline, "{name}: {body}");
            tokio::time::sleep(Duration::from_millis(250)).await;
            body = admin(server, Method::GET, &href, None).await.1;
        }
        assert_eq!(body["status"], "done", "{name}: {body}");
        return;
    }
    assert_eq!(status, 200, "{name}: {body}");
}

#[tokio::test]
async fn every_template_builds_publishes_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    std::fs::create_dir(&server_dir).unwrap();
    let server = Server::start_isolated(&server_dir, ADMIN, PUBLISH).unwrap();
    // What compiling costs the server: its memory before anything is
    // published or compiled.
    let rss_before = Scrape::of(&server.url)
        .await
        .value("process_resident_memory_bytes");
    let projects = dir.path().join("projects");
    for lang in ["rust", "python", "js"] {
        for world in WORLDS {
            let name = format!("{}-{world}", &lang[..2]);
            let project = scaffold(&projects, world, &name, lang);
            let (wasm, _) = build(lang, &project, &name);
            check_tried(world, &name, &try_as_the_readme_says(&project, &name));
            let (status, body) =
                publish(&server.url, &name, "0.1.0", wasm, Some(PUBLISH_TOKEN)).await;
            assert_eq!(status, 201, "{name}: {body}");
            assert_eq!(body["world"], world, "{name}: {body}");
        }
    }
    // A project directory that is not empty is left alone.
    let output = Command::new(binary())
        .args(["new", "chat-plugin", "again", "--dir"])
        .arg(projects.join("ru-chat-plugin"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));

    // Each material renders its props, escaped.
    for lang in ["ru", "py", "js"] {
        let name = format!("{lang}-material");
        activate(&server, &name).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let rendered = loop {
            let (status, body) = request(
                Method::POST,
                &format!("{}/api/materials/{name}@0.1.0/render", server.url),
                None,
                Some(&json!({"title": "<b>Hi</b>", "text": "there"})),
            )
            .await;
            if status == 200 {
                break body;
            }
            // The material list loads in the background after activation.
            assert!(Instant::now() < deadline, "{name}: {status} {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(
            rendered["html"], "<section><h3>&lt;b&gt;Hi&lt;/b&gt;</h3><p>there</p></section>",
            "{name}"
        );
    }

    // The chat plugins, activated and chained, configured to ban "spam".
    for name in ["ru-chat-plugin", "py-chat-plugin", "js-chat-plugin"] {
        activate(&server, name).await;
        let path = format!("/api/admin/plugins/{name}/config");
        let (status, body) = admin(
            &server,
            Method::PUT,
            &path,
            Some(json!({"banned": ["spam"]})),
        )
        .await;
        assert_eq!(status, 204, "{name}: {body}");
    }
    compiled_once_and_out_of_process(&server, &server_dir, rss_before).await;
    let chain = json!(["ru-chat-plugin", "py-chat-plugin", "js-chat-plugin"]);
    let (status, body) = admin(
        &server,
        Method::PUT,
        "/api/admin/chains/chat-messages",
        Some(chain),
    )
    .await;
    assert_eq!(status, 204, "{body}");

    let token = mint_token(SESSION_KEY, "ann", "customer", 600);
    let (status, opened) = request(
        Method::POST,
        &format!("{}/api/conversations", server.url),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{opened}");
    let room = opened["room"].as_str().unwrap().to_owned();
    let mut client = WsClient::connect(&server.url, &token, None).await.unwrap();
    client.expect("welcome").await;
    client.send(json!({"type": "join", "room": room})).await;
    client.expect("joined").await;

    let rejected = client.say(&room, "m1", "buy SPAM here").await;
    assert_eq!(rejected["type"], "rejected", "{rejected}");
    assert_eq!(rejected["by"], "ru-chat-plugin", "{rejected}");
    let ack = client.say(&room, "m2", "ping").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    // Each plugin's reply is stored after the message, in the history.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page) = request(
            Method::GET,
            &format!(
                "{}/api/rooms/{room}/messages?after={}",
                server.url, ack["seq"]
            ),
            Some(&token),
            None,
        )
        .await;
        let mut bots: Vec<(String, String)> = page["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["kind"] == "bot")
            .map(|m| {
                (
                    m["sender"].as_str().unwrap().to_owned(),
                    m["text"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        bots.sort();
        if bots.len() == 3 {
            assert_eq!(
                bots,
                [
                    ("js-chat-plugin".to_owned(), "pong".to_owned()),
                    ("py-chat-plugin".to_owned(), "pong".to_owned()),
                    ("ru-chat-plugin".to_owned(), "pong".to_owned())
                ]
            );
            break;
        }
        assert!(Instant::now() < deadline, "bot replies: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The upload hooks, activated and chained: a text file passes all
    // three, one that starts like a Windows executable is refused by the
    // first.
    let hooks = ["ru-upload-hook", "py-upload-hook", "js-upload-hook"];
    for name in hooks {
        activate(&server, name).await;
    }
    let (status, body) = admin(
        &server,
        Method::PUT,
        "/api/admin/chains/uploads",
        Some(json!(hooks)),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let uploads = UploadApi::new(&server.url, &token);
    let (status, body) = uploads.upload("notes.txt", b"plain words").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = uploads
        .upload("tool.txt", b"MZ\x90\x00 then the rest")
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["by"], "ru-upload-hook", "{body}");
    assert_eq!(
        body["error"]["reason"], "executables are not accepted",
        "{body}"
    );
}

//! `hangar test`: a plugin called on the command line, without a server,
//! under the runtime a server gives it. Driven through the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::process::Command;

use hangar_testkit::{guests, repo_root, server};
use serde_json::Value;

/// Runs `hangar test ARGS`: the exit status, the JSON lines printed, and
/// what went to standard error.
fn hangar_test(args: &[&str]) -> (bool, Vec<Value>, String) {
    let out = Command::new(server::binary())
        .arg("test")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn guest(crate_name: &str) -> String {
    let path = guests::artifacts_dir().join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(path.exists(), "{}", path.display());
    path.display().to_string()
}

fn demo_config(plugin: &str) -> String {
    format!(
        "@{}",
        repo_root()
            .join("plugins")
            .join(plugin)
            .join("demo-config.json")
            .display()
    )
}

#[test]
fn a_chat_plugin_answers_each_message_as_the_server_would() {
    let wasm = guest("keyword-moderation");
    let config = demo_config("keyword-moderation");
    let (ok, lines, stderr) = hangar_test(&[
        &wasm,
        "--config",
        &config,
        "--text",
        "hello there",
        "--text",
        "this is damn slow",
        "--text",
        "see scam-link.example now",
        "--message",
        r#"{"text": "I will call my lawyer", "sender": "bob", "room": "r9"}"#,
    ]);
    assert!(ok, "{stderr}");
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["allow", "rewrite", "reject", "flag"],
        "{lines:?}"
    );
    assert_eq!(lines[0]["text"], "hello there");
    assert_eq!(lines[1]["text"], "this is **** slow");
    assert_eq!(lines[2]["reason"], "message contains a blocked word");
    assert_eq!(lines[3]["flags"][0]["severity"], "warning");
    assert!(lines.iter().all(|l| l["failure"].is_null()));
    // Without the configuration, the same plugin has no words to act on.
    let (ok, lines, _) = hangar_test(&[&wasm, "--text", "this is damn slow"]);
    assert!(ok);
    assert_eq!(lines[0]["verdict"], "allow");
}

#[test]
fn expect_fails_the_run_when_a_verdict_differs() {
    let wasm = guest("keyword-moderation");
    let config = demo_config("keyword-moderation");
    let run = |text: &str, expect: &str| {
        hangar_test(&[
            &wasm, "--config", &config, "--text", text, "--expect", expect,
        ])
    };
    assert!(run("see scam-link.example", "reject").0);
    let (ok, lines, stderr) = run("hello", "reject");
    assert!(!ok);
    assert_eq!(lines[0]["verdict"], "allow");
    assert!(
        stderr.contains("1 of 1 calls failed or gave another verdict"),
        "{stderr}"
    );
}

#[test]
fn failures_are_reported_and_answered_by_the_failure_policy() {
    let wasm = guest("guest-misbehave");
    // The deadline cuts an endless loop; fail-open lets the message through.
    let (ok, lines, _) = hangar_test(&[
        &wasm,
        "--settings",
        r#"{"limits": {"deadline_ms": 50}}"#,
        "--text",
        "loop",
    ]);
    assert!(!ok);
    assert_eq!(lines[0]["verdict"], "allow");
    let failure = lines[0]["failure"].as_str().unwrap();
    assert!(failure.contains("deadline"), "{failure}");
    // Fail-closed rejects instead.
    let (ok, lines, _) = hangar_test(&[
        &wasm,
        "--settings",
        r#"{"failure_policy": "fail-closed"}"#,
        "--text",
        "trap",
    ]);
    assert!(!ok);
    assert_eq!(lines[0]["verdict"], "reject");
    assert!(
        lines[0]["failure"].as_str().unwrap().contains("trap"),
        "{lines:?}"
    );
    // The output budget is the server's: six replies are one too many.
    let (ok, lines, _) = hangar_test(&[&wasm, "--text", "replies:6:1"]);
    assert!(!ok);
    assert!(
        lines[0]["failure"].as_str().unwrap().contains("replies"),
        "{lines:?}"
    );
    assert_eq!(lines[0]["replies"], Value::Array(vec![]));
}

#[test]
fn messages_of_one_run_share_the_key_value_store_and_see_the_config() {
    let wasm = guest("guest-misbehave");
    let (ok, lines, stderr) = hangar_test(&[
        &wasm,
        "--config",
        r#"{"a": 1}"#,
        "--text",
        "kv-get",
        "--text",
        "kv-set:10",
        "--text",
        "kv-get",
        "--text",
        "config",
    ]);
    assert!(ok, "{stderr}");
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        ["kv-get -1", "kv-set ok", "kv-get 10", r#"{"a": 1}"#]
    );
}

#[test]
fn an_upload_hook_sees_the_file_as_the_upload_store_describes_it() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("photo.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR and the rest").unwrap();
    let elf = dir.path().join("notes.txt");
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    bytes.resize(64, 0);
    std::fs::write(&elf, bytes).unwrap();
    let wasm = guest("upload-policy");
    let config = demo_config("upload-policy");
    let (ok, lines, stderr) = hangar_test(&[
        &wasm,
        "--config",
        &config,
        "--file",
        &png.display().to_string(),
        "--file",
        &elf.display().to_string(),
    ]);
    assert_eq!(lines.len(), 2, "{stderr}");
    assert_eq!(lines[0]["file"], "photo.png");
    assert_eq!(lines[0]["verdict"], "allow", "{lines:?}");
    // An executable's head is seen whatever its name says.
    assert_eq!(lines[1]["file"], "notes.txt");
    assert_eq!(lines[1]["verdict"], "reject", "{lines:?}");
    assert!(
        lines[1]["reason"].as_str().unwrap().contains("executable"),
        "{lines:?}"
    );
    assert!(ok, "{stderr}");
}

#[test]
fn a_material_describes_itself_and_renders_sanitised_html() {
    let wasm = guest("material-button");
    let (ok, lines, stderr) =
        hangar_test(&[&wasm, "--props", r#"{"label": "Buy", "variant": "danger"}"#]);
    assert!(ok, "{stderr}");
    assert_eq!(lines[0]["describe"]["name"], "button");
    assert!(lines[0]["describe"]["props_schema"].is_object());
    let html = lines[1]["html"].as_str().unwrap();
    assert!(
        html.contains("Buy") && html.contains("hm-button-danger"),
        "{html}"
    );
    // Without props: the default props.
    let (ok, lines, _) = hangar_test(&[&wasm]);
    assert!(ok);
    assert_eq!(lines[1]["props"], lines[0]["describe"]["default_props"]);
    // Props the schema refuses are refused as the server refuses them.
    let (ok, lines, _) = hangar_test(&[&wasm, "--props", r#"{"label": 5}"#]);
    assert!(!ok);
    let error = lines[1]["error"].as_str().unwrap();
    assert!(
        error.contains("props do not match") && error.contains("/label"),
        "{error}"
    );
    // What a material must not return is cleaned as on the server.
    let (ok, lines, stderr) = hangar_test(&[&guest("guest-material-evil")]);
    assert!(ok, "{stderr}");
    let html = lines[1]["html"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("onclick"),
        "{html}"
    );
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not a component").unwrap();
    let refused = |args: &[&str], wanted: &str| {
        let (ok, lines, stderr) = hangar_test(args);
        assert!(!ok, "{args:?} was accepted");
        assert!(lines.is_empty(), "{lines:?}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
    };
    refused(
        &[&junk.display().to_string(), "--text", "x"],
        "cannot be loaded",
    );
    refused(
        &["/nonexistent/x.wasm", "--text", "x"],
        "cannot read /nonexistent/x.wasm",
    );
    let chat = guest("keyword-moderation");
    refused(&[&chat], "a chat plugin needs --text or --message");
    refused(
        &[&chat, "--text", "x", "--props", "{}"],
        "--props does not apply to a chat-plugin component",
    );
    refused(
        &[&chat, "--text", "x", "--config", "{"],
        "--config is not JSON",
    );
    refused(
        &[&chat, "--text", "x", "--settings", r#"{"deadline": 5}"#],
        "unknown field `deadline`",
    );
    refused(
        &[
            &chat,
            "--text",
            "x",
            "--settings",
            r#"{"limits": {"memory_bytes": 0}}"#,
        ],
        "memory_bytes",
    );
    refused(
        &[&chat, "--message", r#"{"text": 5}"#],
        "--message: text must be a string",
    );
    let button = guest("material-button");
    refused(
        &[&button, "--config", "{}"],
        "--config does not apply to a material component",
    );
    refused(&[&guest("upload-policy")], "an upload hook needs --file");
}

/// The templates' READMEs show `hangar test` lines that must keep working.
#[test]
fn the_docs_name_flags_the_command_has() {
    let out = Command::new(server::binary())
        .args(["test", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let docs = std::fs::read_to_string(repo_root().join("docs/plugins/README.md")).unwrap();
    for flag in flags_in(&docs) {
        assert!(
            help.contains(&flag),
            "docs/plugins/README.md uses {flag}, unknown to hangar test"
        );
    }
}

/// The `--flags` of every `hangar test` line in `text`.
fn flags_in(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("hangar test "))
        // Up to a shell comment.
        .flat_map(|l| l.split(" #").next().unwrap_or_default().split_whitespace())
        .filter(|w| w.starts_with("--"))
        .map(|w| w.trim_end_matches(['`', ',']).to_owned())
        .collect()
}

//! The compiler process a server runs for each component it compiles
//! (`hangar compile-component`): what it writes loads in an engine of the
//! same settings, and what does not compile is refused with the compiler's
//! reason.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::io::Write as _;
use std::process::{Command, Stdio};

use hangar_host::plugins::engine::{self, EngineSettings};

fn compile(settings: &str, wasm: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hangar"))
        .args(["compile-component", "--engine", settings])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(wasm).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_compiler_process_writes_an_artifact_the_servers_engine_loads() {
    let settings = EngineSettings::default();
    let wasm = hangar_testkit::guests::wasm("keyword-moderation");
    let out = compile(&serde_json::to_string(&settings).unwrap(), &wasm);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let engine = engine::build(&settings).unwrap();
    // SAFETY: the artifact was just made by `precompile_component` of an
    // engine built from the same settings; wasmtime checks its version
    // and configuration.
    #[allow(unsafe_code)]
    let component = unsafe { wasmtime::component::Component::deserialize(&engine, &out.stdout) };
    let component = component.unwrap();
    let exports: Vec<String> = component
        .component_type()
        .exports(&engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    assert!(exports.iter().any(|e| e == "on-message"), "{exports:?}");
}

#[test]
fn what_does_not_compile_is_refused_with_the_reason() {
    let settings = serde_json::to_string(&EngineSettings::default()).unwrap();
    let out = compile(&settings, b"not a component");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("magic header") || stderr.contains("wasm"),
        "{stderr}"
    );
    // Settings it cannot read are refused too.
    let out = compile(r#"{"epoch_tick_ms": "soon"}"#, b"");
    assert!(!out.status.success());
}

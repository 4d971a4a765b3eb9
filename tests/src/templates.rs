//! Plugin projects made by `hangar new` and built as their READMEs say:
//! Rust with cargo, Python with the componentize-py their `build.sh` pins,
//! JavaScript with the componentize-qjs their `package.json` pins.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::repo_root;
use crate::server::binary;

/// Runs `command`; panics with its output when it fails.
///
/// # Panics
/// When the command cannot run or fails.
pub fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `hangar new WORLD NAME --lang LANG` in `dir/NAME`; returns the project.
///
/// # Panics
/// When `hangar new` fails.
pub fn scaffold(dir: &Path, world: &str, name: &str, lang: &str) -> PathBuf {
    let project = dir.join(name);
    run(
        Command::new(binary())
            .args(["new", world, name, "--lang", lang, "--dir"])
            .arg(&project),
        &format!("hangar new {world} {name} --lang {lang}"),
    );
    project
}

/// Builds `project` (made with `--lang lang`) as its README says; returns
/// the component and how long the build took. A Rust component is also
/// copied where the README's lines look for it (the build uses a target
/// directory shared by every template, so dependencies build once).
///
/// # Panics
/// When the build fails.
pub fn build(lang: &str, project: &Path, name: &str) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let module = format!("{}.wasm", name.replace('-', "_"));
    let wasm = match lang {
        "rust" => {
            let target = repo_root().join("target/templates");
            run(
                Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                    .args([
                        "build",
                        "--release",
                        "--target",
                        "wasm32-wasip2",
                        "--manifest-path",
                    ])
                    .arg(project.join("Cargo.toml"))
                    .env("CARGO_TARGET_DIR", &target)
                    .env_remove("RUSTFLAGS")
                    .env_remove("CARGO_ENCODED_RUSTFLAGS"),
                &format!("cargo build of {name}"),
            );
            let wasm = std::fs::read(target.join("wasm32-wasip2/release").join(&module))
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            let built = project.join("target/wasm32-wasip2/release");
            std::fs::create_dir_all(&built).unwrap_or_else(|err| panic!("{name}: {err}"));
            std::fs::write(built.join(&module), &wasm)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            wasm
        }
        "python" => {
            let path = format!(
                "{}:{}",
                python_env().display(),
                std::env::var("PATH").unwrap_or_default()
            );
            run(
                Command::new(project.join("build.sh")).env("PATH", path),
                &format!("build.sh of {name}"),
            );
            std::fs::read(project.join(&module)).unwrap_or_else(|err| panic!("{name}: {err}"))
        }
        _ => {
            run(
                Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund"])
                    .current_dir(project),
                &format!("npm install of {name}"),
            );
            run(
                Command::new("npm")
                    .args(["run", "build"])
                    .current_dir(project),
                &format!("npm run build of {name}"),
            );
            std::fs::read(project.join(&module)).unwrap_or_else(|err| panic!("{name}: {err}"))
        }
    };
    (wasm, started.elapsed())
}

/// A virtual environment for the Python templates' build scripts, which
/// install the componentize-py they pin into it.
fn python_env() -> PathBuf {
    let venv = repo_root().join("target/templates-venv");
    if !venv.join("bin/pip").exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
    }
    venv.join("bin")
}

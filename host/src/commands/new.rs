//! `hangar new WORLD NAME --lang rust|python|js`: a plugin project that
//! builds, from templates compiled into the binary, with the contract
//! (`wit/plugin.wit`) the host speaks. Tool versions are pinned in the
//! templates; CI builds every template and runs the chat plugins on a
//! server.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::NewArgs;
use crate::plugins::PluginName;

/// The contract, as the host builds against it.
const WIT: &str = include_str!("../../../wit/plugin.wit");

/// The componentize-py the Python templates pin.
pub const COMPONENTIZE_PY: &str = "0.25.1";

/// The arguments of `hangar test` that try a freshly made project of
/// `world` (its README shows them; CI runs them).
fn try_args(world: &str) -> &'static str {
    match world {
        "chat-plugin" => r#"--config '{"banned": ["spam"]}' --text 'buy spam' --text ping"#,
        "upload-hook" => "--file README.md --expect allow",
        _ => r#"--props '{"title": "Hello", "text": "from a material"}'"#,
    }
}

/// One file of a project: its path and its text (before substitution).
type File = (&'static str, &'static str);

fn rust(world: &str) -> Vec<File> {
    let lib = match world {
        "chat-plugin" => include_str!("../../templates/rust/chat-plugin.rs"),
        "upload-hook" => include_str!("../../templates/rust/upload-hook.rs"),
        _ => include_str!("../../templates/rust/material.rs"),
    };
    vec![
        (
            "Cargo.toml",
            include_str!("../../templates/rust/Cargo.toml"),
        ),
        ("src/lib.rs", lib),
        ("README.md", include_str!("../../templates/rust/README.md")),
        (".gitignore", "/target\n"),
    ]
}

fn python(world: &str) -> Vec<File> {
    let app = match world {
        "chat-plugin" => include_str!("../../templates/python/chat-plugin.py"),
        "upload-hook" => include_str!("../../templates/python/upload-hook.py"),
        _ => include_str!("../../templates/python/material.py"),
    };
    vec![
        ("app.py", app),
        ("build.sh", include_str!("../../templates/python/build.sh")),
        (
            "README.md",
            include_str!("../../templates/python/README.md"),
        ),
        (".gitignore", "*.wasm\n__pycache__/\n"),
    ]
}

fn js(world: &str) -> Vec<File> {
    let app = match world {
        "chat-plugin" => include_str!("../../templates/js/chat-plugin.js"),
        "upload-hook" => include_str!("../../templates/js/upload-hook.js"),
        _ => include_str!("../../templates/js/material.js"),
    };
    vec![
        ("app.js", app),
        (
            "package.json",
            include_str!("../../templates/js/package.json"),
        ),
        ("README.md", include_str!("../../templates/js/README.md")),
        (".gitignore", "*.wasm\nnode_modules/\n"),
    ]
}

/// Creates the project; returns its directory.
///
/// # Errors
/// An invalid name, a directory that is not empty, or a write that fails.
pub fn run(args: &NewArgs) -> anyhow::Result<PathBuf> {
    let name: PluginName = args.name.parse().map_err(|err| anyhow::anyhow!("{err}"))?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(name.as_str()));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        anyhow::bail!("{} exists and is not empty", dir.display());
    }
    let module = name.as_str().replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{name}}", name.as_str())
            .replace("{{crate}}", &module)
            .replace("{{module}}", &module)
            .replace("{{world}}", &args.world)
            .replace("{{componentize_py}}", COMPONENTIZE_PY)
            .replace("{{try}}", try_args(&args.world))
    };
    let files = match args.lang.as_str() {
        "python" => python(&args.world),
        "js" => js(&args.world),
        _ => rust(&args.world),
    };
    for (path, text) in files.into_iter().chain([("wit/plugin.wit", WIT)]) {
        write(&dir.join(path), &fill(text))?;
    }
    if args.lang == "python" {
        make_executable(&dir.join("build.sh"))?;
    }
    Ok(dir)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

//! Where components are compiled.
//!
//! Cranelift's working memory for a large component (an interpreter
//! carried inside it: Python 18 MB, ComponentizeJS 12 MB) is hundreds of
//! MiB, and an allocator keeps much of it after the compile ends. The
//! server therefore compiles in a child process (`hangar compile-component`,
//! the same executable): the child builds an engine of the same settings,
//! reads the WebAssembly on its standard input and writes the compiled
//! artifact to its standard output, and its memory is returned when it
//! exits. The server keeps only the artifact it loads.
//!
//! Tools and tests that run the runtime inside another program compile in
//! their own process ([`Compiler::InProcess`]).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::engine::{self, EngineSettings};

/// How the runtime compiles components.
#[derive(Debug, Clone, Default)]
pub enum Compiler {
    /// In the calling process.
    #[default]
    InProcess,
    /// In a child process: this executable, run as `hangar
    /// compile-component`.
    Child(PathBuf),
}

impl Compiler {
    /// Compiling in children of the running executable. On Linux that is
    /// `/proc/self/exe`, which stays the running build even when its file
    /// is replaced by an upgrade before the server restarts (a newer build
    /// would write artifacts this engine cannot load).
    ///
    /// # Errors
    /// When the executable cannot be found.
    pub fn this_executable() -> std::io::Result<Self> {
        let proc_exe = PathBuf::from("/proc/self/exe");
        if proc_exe.exists() {
            return Ok(Self::Child(proc_exe));
        }
        std::env::current_exe().map(Self::Child)
    }
}

/// Why a child could not compile.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// The child could not be started or talked to.
    #[error("cannot run the compiler process {exe}: {source}")]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The child refused the component (it does not compile) or failed.
    #[error("{0}")]
    Failed(String),
}

/// The subcommand the child runs.
pub const SUBCOMMAND: &str = "compile-component";

/// Compiles `wasm` in a child process running `exe compile-component`,
/// with an engine of `settings`; returns the serialized artifact.
/// Blocking.
///
/// # Errors
/// The child could not run, or the component does not compile (with the
/// compiler's message).
pub fn in_child(
    exe: &PathBuf,
    settings: &EngineSettings,
    wasm: &[u8],
) -> Result<Vec<u8>, ChildError> {
    let spawn = |source| ChildError::Spawn {
        exe: exe.clone(),
        source,
    };
    let settings =
        serde_json::to_string(settings).map_err(|err| ChildError::Failed(err.to_string()))?;
    let mut child = Command::new(exe)
        .args([SUBCOMMAND, "--engine", &settings])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its log lines, if any, are not the server's.
        .env("RUST_LOG", "error")
        .spawn()
        .map_err(spawn)?;
    // The child reads all of its input before it writes anything, so
    // writing first cannot fill both pipes. A child that ends before it
    // read everything (it failed) breaks the pipe: its exit status and
    // message below say why.
    if let Some(mut stdin) = child.stdin.take()
        && let Err(err) = stdin.write_all(wasm)
    {
        tracing::debug!(error = %err, "the compiler process stopped reading");
    }
    let output = child.wait_with_output().map_err(spawn)?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let message = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    Err(ChildError::Failed(if message.is_empty() {
        format!("the compiler process ended with {}", output.status)
    } else {
        message
    }))
}

/// The child's side: reads a component on standard input, compiles it
/// with an engine of `settings` (JSON), writes the artifact to standard
/// output.
///
/// # Errors
/// The settings are not valid, the input cannot be read, or the component
/// does not compile.
pub fn serve_child(settings: &str) -> anyhow::Result<()> {
    let settings: EngineSettings = serde_json::from_str(settings)?;
    let engine = engine::build(&settings).map_err(|err| anyhow::anyhow!("{err:#}"))?;
    let mut wasm = Vec::new();
    std::io::stdin().lock().read_to_end(&mut wasm)?;
    let artifact = engine
        .precompile_component(&wasm)
        .map_err(|err| anyhow::anyhow!("{err:#}"))?;
    let mut out = std::io::stdout().lock();
    out.write_all(&artifact)?;
    out.flush()?;
    Ok(())
}

//! `hangar test`: calls a plugin component on the command line, without a
//! server, under the same runtime a server gives it (sandbox, limits,
//! output budgets, failure policy, HTML budget and sanitising).
//!
//! A chat plugin or upload hook runs as the only link of its chain, so the
//! answer printed is what the server would decide; a material describes
//! itself and renders each `--props` (its default props when none is
//! given). Each call prints one JSON line on standard output; the plugin's
//! log lines and captured output go to standard error. The exit status is
//! 1 when a call failed or did not give the `--expect`ed verdict.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use semver::Version;
use serde::Serialize;
use serde_json::{Value, json};

use crate::materials::{Loaded, MaterialsConfig, sanitize};
use crate::plugins::{
    Hook, MessageDecision, Plugin, PluginName, PluginSettings, PluginVersion, Runtime,
    RuntimeConfig, UploadDecision, World, wit,
};
use crate::store::Database;
use crate::store::alerts::Alerts;
use crate::upload::guessed_content_type;
use crate::upload::merge::HEAD_BYTES;

/// `hangar test`.
#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// The component (`.wasm`) to call.
    pub component: PathBuf,
    /// Chat plugins: a message with this text (repeat for several; they
    /// share the plugin's key-value store, and warm instances when pooled).
    #[arg(long)]
    pub text: Vec<String>,
    /// Chat plugins: a whole message as JSON (`{"text": "...", "sender":
    /// "...", "room": "...", "attachments": [...]}`; what is left out gets
    /// a test value).
    #[arg(long)]
    pub message: Vec<String>,
    /// Upload hooks: a file to present as just uploaded (repeatable).
    #[arg(long)]
    pub file: Vec<PathBuf>,
    /// Upload hooks: the content type the uploader declares [default:
    /// guessed from the file name].
    #[arg(long)]
    pub content_type: Option<String>,
    /// Materials: props to render, as JSON (repeatable) [default: the
    /// material's default props].
    #[arg(long)]
    pub props: Vec<String>,
    /// The plugin's configuration (what `host.config()` returns), as JSON
    /// or `@FILE`.
    #[arg(long)]
    pub config: Option<String>,
    /// Its runtime settings, as the admin API takes them (`{"limits":
    /// {"deadline_ms": 50}, "failure_policy": "fail-closed"}`), or `@FILE`.
    #[arg(long)]
    pub settings: Option<String>,
    /// Chat plugins and upload hooks: the verdict every call must give
    /// (`allow`, `rewrite`, `reject` or `flag`); exit 1 when one differs.
    #[arg(long, value_parser = ["allow", "rewrite", "reject", "flag"])]
    pub expect: Option<String>,
    /// The name the plugin runs under [default: the file's stem].
    #[arg(long)]
    pub name: Option<String>,
}

/// Why the plugin could not be tried.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The arguments do not fit the component or each other.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or its scratch database could not start.
    #[error("cannot start the plugin runtime: {0}")]
    Start(String),
    /// The answers could not be written out.
    #[error("cannot write the answers: {0}")]
    Output(String),
    /// The component cannot be loaded as a plugin.
    #[error("{path} cannot be loaded: {reason}")]
    Load {
        /// The component.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// What the calls came to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Calls made.
    pub calls: usize,
    /// Calls that failed or gave another verdict than expected.
    pub failed: usize,
}

/// Loads the component and makes the calls the arguments ask for, printing
/// one JSON line per call to `out`.
///
/// # Errors
/// [`TestError`] when nothing could be called.
pub async fn run(args: &TestArgs, out: &mut impl std::io::Write) -> Result<Summary, TestError> {
    let wasm = std::fs::read(&args.component).map_err(|source| TestError::Read {
        path: args.component.clone(),
        source,
    })?;
    let settings: PluginSettings = match &args.settings {
        Some(text) => serde_json::from_str(&argument(text)?)
            .map_err(|err| TestError::Usage(format!("--settings: {err}")))?,
        None => PluginSettings::default(),
    };
    let config = match &args.config {
        Some(text) => {
            let text = argument(text)?;
            serde_json::from_str::<Value>(&text)
                .map_err(|err| TestError::Usage(format!("--config is not JSON: {err}")))?;
            text
        }
        None => "{}".to_owned(),
    };
    let name = plugin_name(args)?;

    // A scratch database (the key-value store) and compiled cache, removed
    // on return.
    let scratch = tempfile::tempdir().map_err(|err| TestError::Start(err.to_string()))?;
    let db = Database::open(scratch.path())
        .await
        .map_err(|err| TestError::Start(err.to_string()))?;
    let runtime = Runtime::start(
        RuntimeConfig::new(scratch.path().join("compiled")),
        db.clone(),
        Alerts::new(db),
    )
    .map_err(|err| TestError::Start(err.to_string()))?;
    settings
        .validate(runtime.engine_settings())
        .map_err(|err| TestError::Usage(format!("--settings: {}: {}", err.key, err.message)))?;

    let started = Instant::now();
    let version = runtime
        .load(name.clone(), Version::new(0, 0, 0), wasm.into(), None)
        .await
        .map_err(|err| TestError::Load {
            path: args.component.clone(),
            reason: err.to_string(),
        })?;
    tracing::info!(
        world = %version.world,
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "component compiled and linked"
    );
    check_inputs(args, version.world)?;

    let mut summary = Summary::default();
    match version.world {
        World::ChatPlugin => {
            install(&runtime, version, settings, config, Hook::ChatMessages)?;
            for msg in messages(args)? {
                let input = msg.text.clone();
                let started = Instant::now();
                let decision = runtime.chat_chain().on_message(msg).await;
                let report = ChatReport::new(input, &decision, started);
                summary.record(report.failure.is_some(), args, report.verdict);
                line(out, &report)?;
            }
        }
        World::UploadHook => {
            install(&runtime, version, settings, config, Hook::Uploads)?;
            for path in &args.file {
                let (file, head) = file_info(path, args.content_type.as_deref())?;
                let name = file.name.clone();
                let started = Instant::now();
                let decision = runtime.upload_chain().on_upload(file, head).await;
                let report = UploadReport::new(name, &decision, started);
                summary.record(report.failure.is_some(), args, report.verdict);
                line(out, &report)?;
            }
        }
        World::Material => {
            let plugin = runtime.detached(version, settings);
            summary = materials(args, plugin, out).await?;
        }
    }
    Ok(summary)
}

/// The text of an argument that may be `@FILE`.
fn argument(text: &str) -> Result<String, TestError> {
    match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|source| TestError::Read {
            path: PathBuf::from(path),
            source,
        }),
        None => Ok(text.to_owned()),
    }
}

fn plugin_name(args: &TestArgs) -> Result<PluginName, TestError> {
    if let Some(name) = &args.name {
        return PluginName::from_str(name)
            .map_err(|err| TestError::Usage(format!("--name: {err}")));
    }
    // The stem of `keyword_moderation.wasm` is a fine name once its
    // underscores are dashes; anything else runs as `plugin`.
    let stem = args
        .component
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase().replace('_', "-"))
        .unwrap_or_default();
    PluginName::from_str(&stem)
        .or_else(|_| PluginName::from_str("plugin"))
        .map_err(|err| TestError::Usage(err.to_string()))
}

/// Refuses inputs the component's world has no use for, and asks for one
/// when it needs it.
fn check_inputs(args: &TestArgs, world: World) -> Result<(), TestError> {
    let given = |flag: &str, present: bool| present.then(|| flag.to_owned());
    let chat = [
        given("--text", !args.text.is_empty()),
        given("--message", !args.message.is_empty()),
    ];
    let upload = [
        given("--file", !args.file.is_empty()),
        given("--content-type", args.content_type.is_some()),
    ];
    let material = [given("--props", !args.props.is_empty())];
    let (needed, foreign): (bool, Vec<String>) = match world {
        World::ChatPlugin => (
            chat.iter().any(Option::is_some),
            upload.into_iter().chain(material).flatten().collect(),
        ),
        World::UploadHook => (
            !args.file.is_empty(),
            chat.into_iter().chain(material).flatten().collect(),
        ),
        World::Material => {
            let mut foreign: Vec<String> = chat.into_iter().chain(upload).flatten().collect();
            foreign.extend(given("--expect", args.expect.is_some()));
            // The server gives materials no configuration: they render from
            // props alone.
            foreign.extend(given("--config", args.config.is_some()));
            (true, foreign)
        }
    };
    if let Some(flag) = foreign.first() {
        return Err(TestError::Usage(format!(
            "{flag} does not apply to a {world} component"
        )));
    }
    if !needed {
        return Err(TestError::Usage(match world {
            World::ChatPlugin => "a chat plugin needs --text or --message".to_owned(),
            _ => "an upload hook needs --file".to_owned(),
        }));
    }
    Ok(())
}

/// Installs `version` as the only link of `hook`'s chain.
fn install(
    runtime: &Runtime,
    version: Arc<PluginVersion>,
    settings: PluginSettings,
    config: String,
    hook: Hook,
) -> Result<(), TestError> {
    let name = version.name.clone();
    runtime
        .install(version, settings, Arc::new(config))
        .map_err(|err| TestError::Start(err.to_string()))?;
    runtime
        .set_chain(hook, &[name])
        .map_err(|err| TestError::Start(err.to_string()))
}

/// The chat messages `--text` and `--message` describe, in that order.
fn messages(args: &TestArgs) -> Result<Vec<wit::ChatMessage>, TestError> {
    let now = crate::store::now_ms();
    let mut messages = Vec::new();
    let texts = args.text.iter().map(|text| json!({ "text": text }));
    let whole = args
        .message
        .iter()
        .map(|m| {
            serde_json::from_str::<Value>(m)
                .map_err(|err| TestError::Usage(format!("--message is not JSON: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, m) in texts.chain(whole).enumerate() {
        let field = |key: &str, default: String| match m.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            None => Ok(default),
            Some(_) => Err(TestError::Usage(format!(
                "--message: {key} must be a string"
            ))),
        };
        let attachments = match m.get("attachments") {
            None => Vec::new(),
            Some(list) => serde_json::from_value::<Vec<Attachment>>(list.clone())
                .map_err(|err| TestError::Usage(format!("--message: attachments: {err}")))?
                .into_iter()
                .map(|a| wit::Attachment {
                    file_id: a.file_id,
                    name: a.name,
                    size: a.size,
                    content_type: a.content_type,
                })
                .collect(),
        };
        messages.push(wit::ChatMessage {
            id: field("id", format!("test-{}", i + 1))?,
            room: field("room", "test".to_owned())?,
            sender: field("sender", "tester".to_owned())?,
            text: field("text", String::new())?,
            time_ms: m.get("time_ms").and_then(Value::as_i64).unwrap_or(now),
            attachments,
        });
    }
    Ok(messages)
}

/// An attachment as `--message` takes it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Attachment {
    file_id: String,
    name: String,
    size: u64,
    #[serde(default = "octet_stream")]
    content_type: String,
}

fn octet_stream() -> String {
    "application/octet-stream".to_owned()
}

/// What an upload hook is told about `path`: as the upload store tells it
/// (size, whole-file MD5, the first [`HEAD_BYTES`], the declared type or
/// the one the store guesses from the name).
fn file_info(
    path: &Path,
    content_type: Option<&str>,
) -> Result<(wit::FileInfo, Vec<u8>), TestError> {
    use std::io::Read as _;
    let read = |source| TestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let hashes = hangar_client::upload::hash_file(path, None, &|_, _| {}).map_err(|err| {
        TestError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other(err.to_string()),
        }
    })?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    std::fs::File::open(path)
        .and_then(|file| file.take(HEAD_BYTES as u64).read_to_end(&mut head))
        .map_err(read)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let content_type = content_type.map_or_else(|| guessed_content_type(&name), str::to_owned);
    let info = wit::FileInfo {
        id: format!("test-{}", &hashes.md5[..16]),
        name,
        size: hashes.size,
        md5: hashes.md5,
        content_type,
    };
    Ok((info, head))
}

/// A material: its description, then one render per props.
async fn materials(
    args: &TestArgs,
    plugin: Arc<Plugin>,
    out: &mut impl std::io::Write,
) -> Result<Summary, TestError> {
    let mut summary = Summary::default();
    let loaded = match Loaded::describe(plugin, None).await {
        Ok(loaded) => loaded,
        Err(err) => {
            line(out, &json!({ "describe": null, "error": err.to_string() }))?;
            return Ok(Summary {
                calls: 1,
                failed: 1,
            });
        }
    };
    line(out, &json!({ "describe": loaded.info }))?;
    let props = if args.props.is_empty() {
        vec![loaded.info.default_props.clone()]
    } else {
        args.props
            .iter()
            .map(|p| {
                serde_json::from_str(&argument(p)?)
                    .map_err(|err| TestError::Usage(format!("--props is not JSON: {err}")))
            })
            .collect::<Result<_, _>>()?
    };
    let defaults = MaterialsConfig::default();
    let budget = sanitize::Budget {
        max_bytes: defaults.max_html_bytes,
        max_depth: defaults.max_html_depth,
    };
    for props in props {
        let started = Instant::now();
        let answer = loaded.render(&props, budget).await;
        let elapsed_ms = elapsed_ms(started);
        summary.calls += 1;
        match answer {
            Ok(html) => line(
                out,
                &json!({ "props": props, "html": html, "elapsed_ms": elapsed_ms }),
            )?,
            Err(err) => {
                summary.failed += 1;
                line(
                    out,
                    &json!({ "props": props, "error": err.to_string(), "elapsed_ms": elapsed_ms }),
                )?;
            }
        }
    }
    Ok(summary)
}

impl Summary {
    fn record(&mut self, failed: bool, args: &TestArgs, verdict: &str) {
        self.calls += 1;
        if failed || args.expect.as_deref().is_some_and(|e| e != verdict) {
            self.failed += 1;
        }
    }
}

/// One chat message's answer.
#[derive(Debug, Serialize)]
struct ChatReport {
    input: String,
    /// `allow`, `rewrite`, `reject` or `flag`: what the server would do.
    verdict: &'static str,
    /// The text that would be stored.
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    flags: Vec<crate::plugins::chain::Flag>,
    replies: Vec<String>,
    /// Why the plugin gave no answer of its own (its failure policy then
    /// decided).
    failure: Option<String>,
    elapsed_ms: f64,
}

impl ChatReport {
    fn new(input: String, decision: &MessageDecision, started: Instant) -> Self {
        Self {
            input,
            verdict: verdict(
                decision.rejected.is_some(),
                !decision.rewritten_by.is_empty(),
                !decision.flags.is_empty(),
            ),
            text: decision.text.clone(),
            reason: decision.rejected.as_ref().map(|r| r.reason.clone()),
            flags: decision.flags.clone(),
            replies: decision.replies.iter().map(|r| r.text.clone()).collect(),
            failure: decision.unanswered.first().map(ToString::to_string),
            elapsed_ms: elapsed_ms(started),
        }
    }
}

/// One file's answer.
#[derive(Debug, Serialize)]
struct UploadReport {
    file: String,
    /// `allow`, `reject` or `flag`.
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    flags: Vec<crate::plugins::chain::Flag>,
    failure: Option<String>,
    elapsed_ms: f64,
}

impl UploadReport {
    fn new(file: String, decision: &UploadDecision, started: Instant) -> Self {
        Self {
            file,
            verdict: verdict(
                decision.rejected.is_some(),
                false,
                !decision.flags.is_empty(),
            ),
            reason: decision.rejected.as_ref().map(|r| r.reason.clone()),
            flags: decision.flags.clone(),
            failure: decision.unanswered.first().map(ToString::to_string),
            elapsed_ms: elapsed_ms(started),
        }
    }
}

/// What the server does with the message or file, in one word.
fn verdict(rejected: bool, rewritten: bool, flagged: bool) -> &'static str {
    if rejected {
        "reject"
    } else if rewritten {
        "rewrite"
    } else if flagged {
        "flag"
    } else {
        "allow"
    }
}

fn elapsed_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn line(out: &mut impl std::io::Write, value: &impl Serialize) -> Result<(), TestError> {
    let text = serde_json::to_string(value).map_err(|err| TestError::Output(err.to_string()))?;
    writeln!(out, "{text}").map_err(|err| TestError::Output(err.to_string()))
}

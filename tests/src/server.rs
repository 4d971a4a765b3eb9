//! Runs the real `hangar` binary for end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::repo_root;

/// The `hangar` binary of the profile the tests were built with, built
/// (or found up to date) once per process; `HANGAR_BIN` names another one
/// (to measure two builds with the same benchmark).
///
/// # Panics
/// When the build fails.
pub fn binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(given) = std::env::var_os("HANGAR_BIN") {
                return PathBuf::from(given);
            }
            // Test executables live in target/<profile>/deps.
            let exe = std::env::current_exe().expect("test executable path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target/<profile>")
                .to_path_buf();
            let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") => "dev".to_owned(),
                Some(other) => other.to_owned(),
                None => "dev".to_owned(),
            };
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "hangar-host",
                    "--bin",
                    "hangar",
                    "--profile",
                    &profile,
                ])
                .current_dir(repo_root())
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the hangar binary failed");
            profile_dir.join("hangar")
        })
        .clone()
}

/// Sends an HTTP request with an optional bearer token and JSON body;
/// returns the status and the JSON answer (`null` when the body is not JSON).
///
/// # Panics
/// When the request cannot be sent.
pub async fn request(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// Publishes `bytes` as `name` `version` to the registry at `base`, with
/// `token` when given; returns the status and the JSON answer.
///
/// # Panics
/// When the request cannot be sent.
pub async fn publish(
    base: &str,
    name: &str,
    version: &str,
    bytes: Vec<u8>,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .put(format!("{base}/registry/v1/packages/{name}/{version}"))
        .body(bytes);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("publish request");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// Mints a session token with `hangar token`, valid for `ttl_secs`.
///
/// # Panics
/// When the command fails.
pub fn mint_token(key: &str, user: &str, role: &str, ttl_secs: u64) -> String {
    let output = Command::new(binary())
        .args([
            "token",
            "--user",
            user,
            "--role",
            role,
            "--ttl-secs",
            &ttl_secs.to_string(),
        ])
        .env("HANGAR_SESSION_KEY", key.trim())
        .output()
        .expect("hangar token runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A free loopback port (free when this returns; taken by whoever binds
/// it next).
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `hangar serve`; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Everything the server printed to stdout before it was ready.
    pub banner: Vec<String>,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// The server's log lines so far (stderr; plain text, as it is a pipe).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Starts `hangar serve` with `args` and `env`, listening on a free
    /// port unless `args` or `env` say otherwise, and waits until it prints
    /// its address.
    ///
    /// # Errors
    /// When the server exits or stays silent for 60 s; the error carries
    /// what it printed.
    pub fn start(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Result<Self, String> {
        Self::start_command(&["serve"], args, env, cwd)
    }

    /// As [`start`](Self::start) for another long-running subcommand
    /// (e.g. `["registry", "serve"]`) that prints `listening on URL`.
    ///
    /// # Errors
    /// As [`Server::start`].
    pub fn start_command(
        subcommand: &[&str],
        args: &[&str],
        env: &[(&str, &str)],
        cwd: &Path,
    ) -> Result<Self, String> {
        Self::start_until(subcommand, args, env, cwd, "listening on ")
    }

    /// As [`start_command`](Self::start_command), returning as soon as the
    /// process prints `marker` followed by its URL (`"starting on "`: the
    /// listener is open, plugins may still be restoring).
    ///
    /// # Errors
    /// As [`Server::start`].
    pub fn start_until(
        subcommand: &[&str],
        args: &[&str],
        env: &[(&str, &str)],
        cwd: &Path,
        marker: &str,
    ) -> Result<Self, String> {
        let mut command = Command::new(binary());
        command
            .args(subcommand)
            .args(args)
            .current_dir(cwd)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let sets_listen =
            args.contains(&"--listen") || env.iter().any(|(k, _)| *k == "HANGAR_LISTEN");
        if !sets_listen {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        // A test running on PostgreSQL: its servers share its database.
        if let Some(url) = crate::backend::database_url()
            && !env.iter().any(|(k, _)| *k == "HANGAR_DATABASE_URL")
        {
            command.env("HANGAR_DATABASE_URL", url);
        }
        // A test running on S3: its servers keep their blobs in its bucket.
        if let Some(bucket) = crate::backend::bucket()
            && !env.iter().any(|(k, _)| *k == "HANGAR_OBJECT_STORE_URL")
        {
            command.env("HANGAR_OBJECT_STORE_URL", bucket.url());
            command.envs(bucket.env());
        }
        let mut child = command.spawn().map_err(|err| err.to_string())?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        std::thread::spawn({
            let errors = errors.clone();
            move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("[hangar] {line}");
                    if let Ok(mut errors) = errors.lock() {
                        errors.push(line);
                    }
                }
            }
        });
        let mut banner = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    let url = line.strip_prefix(marker).map(str::to_owned);
                    banner.push(line);
                    if let Some(url) = url {
                        // Keep draining stdout so the server never blocks on it.
                        std::thread::spawn(move || while rx.recv().is_ok() {});
                        return Ok(Self {
                            child,
                            url,
                            banner,
                            log: errors,
                        });
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().map_err(|err| err.to_string())?;
                    std::thread::sleep(Duration::from_millis(100));
                    let errors = errors.lock().map(|e| e.join("\n")).unwrap_or_default();
                    return Err(format!(
                        "hangar did not start ({status}):\n{}\n{errors}",
                        banner.join("\n")
                    ));
                }
            }
        }
    }

    /// Starts the demo server in `dir` (data in `dir/data`, `dir/hangar.toml`
    /// read when present) with the built example plugins and the shared
    /// compiled cache, plus `args`.
    ///
    /// # Errors
    /// As [`Server::start`].
    pub fn start_demo(dir: &Path, args: &[&str]) -> Result<Self, String> {
        let cache = crate::shared_cache_dir();
        Self::start_demo_with(dir, &cache, args, "listening on ")
    }

    /// Starts the demo server in `dir` with its compiled cache in `cache`,
    /// returning when it prints `marker` (`"starting on "` returns before
    /// its plugins are restored).
    ///
    /// # Errors
    /// As [`Server::start`].
    pub fn start_demo_with(
        dir: &Path,
        cache: &Path,
        args: &[&str],
        marker: &str,
    ) -> Result<Self, String> {
        Self::start_demo_full(dir, cache, args, &[], marker)
    }

    /// [`Server::start_demo`] with environment variables.
    ///
    /// # Errors
    /// As [`Server::start`].
    pub fn start_demo_with_env(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self, String> {
        let cache = crate::shared_cache_dir();
        Self::start_demo_full(dir, &cache, args, env, "listening on ")
    }

    fn start_demo_full(
        dir: &Path,
        cache: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        marker: &str,
    ) -> Result<Self, String> {
        crate::guests::artifacts_dir();
        let plugins = repo_root().join("plugins").display().to_string();
        let cache = cache.display().to_string();
        let mut all = vec![
            "--demo",
            "--plugins-dir",
            &plugins,
            "--cache-dir",
            &cache,
            "--data-dir",
            "data",
        ];
        all.extend_from_slice(args);
        Self::start_until(&["serve"], &all, env, dir, marker)
    }

    /// Starts a server that is not a demo in `dir` (data in `dir/data`), with
    /// a compiled cache of its own (`dir/cache`, so fetches and compiles can
    /// be counted), a session key, and the given tokens: `--admin-token
    /// ADMIN`, `--publish-tokens PUBLISHERS` (`NAME=TOKEN`, comma-separated).
    ///
    /// # Errors
    /// As [`Server::start`].
    pub fn start_isolated(dir: &Path, admin: &str, publishers: &str) -> Result<Self, String> {
        let cache = dir.join("cache").display().to_string();
        Self::start(
            &["--data-dir", "data", "--cache-dir", &cache],
            &[
                (
                    "HANGAR_SESSION_KEY",
                    "isolated-session-key-0123456789abcdef",
                ),
                ("HANGAR_ADMIN_TOKEN", admin),
                ("HANGAR_PUBLISH_TOKENS", publishers),
                ("RUST_LOG", "warn"),
            ],
            dir,
        )
    }

    /// Runs `hangar serve` expecting it to fail; returns its exit code and stderr.
    ///
    /// # Panics
    /// When it cannot be run.
    pub fn expect_failure(
        args: &[&str],
        env: &[(&str, &str)],
        cwd: &Path,
    ) -> (Option<i32>, String) {
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .args(args)
            .current_dir(cwd)
            .env_remove("RUST_LOG");
        for (k, v) in env {
            command.env(k, v);
        }
        let output = command.output().expect("hangar runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (a graceful stop) and waits up to `wait` for the
    /// process to exit; returns whether it did. It blocks the thread: a
    /// test whose clients must answer the server's close meanwhile sends
    /// [`signal_term`](Self::signal_term) and awaits them first.
    ///
    /// # Panics
    /// When `kill` cannot be run.
    pub fn terminate(&mut self, wait: Duration) -> bool {
        self.signal_term();
        self.wait_exit(wait)
    }

    /// Sends SIGTERM (a graceful stop) without waiting.
    ///
    /// # Panics
    /// When `kill` cannot be run.
    pub fn signal_term(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `wait` for the process to exit; returns whether it did.
    pub fn wait_exit(&mut self, wait: Duration) -> bool {
        let deadline = std::time::Instant::now() + wait;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Peak resident memory of the server since start (or the last
    /// [`reset_peak_rss`](Self::reset_peak_rss)), KiB, from `/proc`.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Starts measuring the peak resident memory afresh (Linux `clear_refs`).
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// CPU time (user + system) the server has used, seconds, from `/proc`.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds_of(&self.pid().to_string())
    }

    /// GETs `path` and parses the JSON answer; returns the status too.
    ///
    /// # Panics
    /// When the request fails or the body is not JSON.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        request(
            reqwest::Method::GET,
            &format!("{}{path}", self.url),
            None,
            None,
        )
        .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) process `pid` (or `self`) has used.
pub fn cpu_seconds_of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ")".
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks / 100.0)
}

/// A session token for `user` in `role` from a demo server's
/// `POST /api/session`.
///
/// # Panics
/// When the server does not issue one.
pub async fn demo_session(base: &str, user: &str, role: &str) -> String {
    let (status, body) = request(
        reqwest::Method::POST,
        &format!("{base}/api/session"),
        None,
        Some(&serde_json::json!({"user": user, "role": role})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("a token").to_owned()
}

/// A demo customer `user` of the server at `base`: their session token,
/// their conversation's room, and a socket joined to it.
///
/// # Panics
/// When the server refuses any step.
pub async fn demo_customer(base: &str, user: &str) -> (String, String, crate::ws::WsClient) {
    let token = demo_session(base, user, "customer").await;
    let (status, conversation) = request(
        reqwest::Method::POST,
        &format!("{base}/api/conversations"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{conversation}");
    let room = conversation["room"].as_str().expect("a room").to_owned();
    let mut client = crate::ws::WsClient::connect(base, &token, None)
        .await
        .expect("the socket opens");
    client.expect("welcome").await;
    client
        .send(serde_json::json!({"type": "join", "room": room}))
        .await;
    client.expect("joined").await;
    (token, room, client)
}

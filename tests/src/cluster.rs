//! A cluster of `hangar` processes on loopback ports sharing what a real
//! one shares: a PostgreSQL schema and an S3 bucket made for the test (see
//! [`backend`](crate::backend)), and a NATS server with a subject prefix
//! of the test's own. The broker is `HANGAR_TEST_NATS_URL`, or a private
//! `nats-server` the test starts (and may stop and restart).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::backend::{POSTGRES_URL_VAR, PostgresDatabase, S3Bucket};
use crate::server::{Server, free_port};

/// The variable naming the NATS server cluster tests may use.
pub const NATS_URL_VAR: &str = "HANGAR_TEST_NATS_URL";

/// The session key every node of a test cluster shares.
pub const SESSION_KEY: &str = "cluster-session-key-0123456789abcdef012345";

/// The admin token of every node of a test cluster.
pub const ADMIN_TOKEN: &str = "cluster-admin-token-0123456789abcdef";

/// The publish token of the test cluster's registry (publisher `ci`).
pub const PUBLISH_TOKEN: &str = "cluster-publish-token-0123456789abcdef";

/// A `nats-server` of the test's own, on a fixed port so that it can be
/// restarted where the nodes expect it; killed when dropped.
pub struct PrivateNats {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl PrivateNats {
    /// Starts one on a free port; `None`, after printing why, when the
    /// machine has no `nats-server`.
    ///
    /// # Panics
    /// When it does not come up.
    pub fn start() -> Option<Self> {
        let binary = nats_server_binary()?;
        let mut nats = Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("a directory"),
        };
        nats.spawn(&binary);
        Some(nats)
    }

    fn spawn(&mut self, binary: &Path) {
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it (the nodes lose their broker).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    ///
    /// # Panics
    /// When it does not come up.
    pub fn restart(&mut self) {
        self.kill();
        let binary = nats_server_binary().expect("nats-server");
        self.spawn(&binary);
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}

fn nats_server_binary() -> Option<PathBuf> {
    let found = [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        eprintln!("skipped: no nats-server on this machine for a private broker");
    }
    found
}

/// The shared state of a test cluster: database, object store, broker.
pub struct Shared {
    database: PostgresDatabase,
    bucket: Option<S3Bucket>,
    /// Blobs when there is no S3 server: one directory all nodes share.
    blobs: tempfile::TempDir,
    /// The broker's URL.
    pub broker: String,
    prefix: String,
}

impl Shared {
    /// A schema, a bucket (or a shared directory without an S3 server) and
    /// a subject prefix for one test, on the broker `broker` (default:
    /// `HANGAR_TEST_NATS_URL`); `None`, after printing why, when
    /// PostgreSQL or the broker is not given.
    pub async fn create(broker: Option<String>) -> Option<Self> {
        let Ok(server) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("skipped: {POSTGRES_URL_VAR} is unset; a cluster needs PostgreSQL");
            return None;
        };
        let Some(broker) = broker.or_else(|| std::env::var(NATS_URL_VAR).ok()) else {
            eprintln!("skipped: {NATS_URL_VAR} is unset; a cluster needs NATS");
            return None;
        };
        Some(Self::create_on(&server, broker).await)
    }

    /// As [`Shared::create`] on the PostgreSQL server `server` and the
    /// broker `broker`.
    pub async fn create_on(server: &str, broker: String) -> Self {
        let database = PostgresDatabase::create(server).await;
        let bucket = S3Bucket::create().await;
        Self {
            prefix: format!(
                "hangar-test-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            ),
            database,
            bucket,
            blobs: tempfile::tempdir().expect("a directory"),
            broker,
        }
    }

    /// Starts node `name` in `dir` (data in `dir/data`, `dir/hangar.toml`
    /// read when present) on a free port, joined to this cluster.
    ///
    /// # Panics
    /// When it does not start.
    pub fn start_node(&self, name: &str, dir: &Path) -> Server {
        self.start_node_with(name, dir, &[])
    }

    /// As [`Shared::start_node`] with more `hangar serve` arguments (e.g.
    /// `--demo`, see [`demo_args`]).
    ///
    /// # Panics
    /// When it does not start.
    pub fn start_node_with(&self, name: &str, dir: &Path, args: &[&str]) -> Server {
        let port = free_port();
        let public = format!("http://127.0.0.1:{port}");
        let listen = format!("127.0.0.1:{port}");
        let cache = crate::shared_cache_dir().display().to_string();
        let mut env: Vec<(&str, String)> = vec![
            ("HANGAR_SESSION_KEY", SESSION_KEY.into()),
            ("HANGAR_ADMIN_TOKEN", ADMIN_TOKEN.into()),
            ("HANGAR_PUBLISH_TOKENS", format!("ci={PUBLISH_TOKEN}")),
            ("HANGAR_DATABASE_URL", self.database.url.clone()),
            ("HANGAR_BROKER", self.broker.clone()),
            ("HANGAR_BROKER_PREFIX", self.prefix.clone()),
            ("HANGAR_NODE_ID", name.into()),
            ("HANGAR_PUBLIC_URL", public),
            ("HANGAR_LISTEN", listen),
            ("RUST_LOG", "warn".into()),
        ];
        match &self.bucket {
            Some(bucket) => {
                env.push(("HANGAR_OBJECT_STORE_URL", bucket.url()));
                env.extend(bucket.env());
            }
            None => env.push((
                "HANGAR_OBJECT_STORE_URL",
                format!("file://{}", self.blobs.path().display()),
            )),
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut all = vec!["--data-dir", "data", "--cache-dir", &cache];
        all.extend_from_slice(args);
        Server::start(&all, &env, dir).unwrap_or_else(|err| panic!("node {name}: {err}"))
    }
}

/// Arguments that make a node a demo node with the built example plugins:
/// the first demo node of a cluster publishes and activates them, the
/// others restore them from the shared registry.
pub fn demo_args() -> Vec<String> {
    crate::guests::artifacts_dir();
    vec![
        "--demo".into(),
        "--plugins-dir".into(),
        crate::repo_root().join("plugins").display().to_string(),
    ]
}

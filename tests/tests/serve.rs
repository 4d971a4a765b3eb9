//! `hangar serve`, started as a real process and driven over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use hangar_testkit::server::Server;
use hangar_testkit::{repo_root, shared_cache_dir};

fn plugins_dir() -> String {
    // The demo loads the built example plugins.
    hangar_testkit::guests::artifacts_dir();
    repo_root().join("plugins").display().to_string()
}

#[tokio::test]
async fn demo_server_is_healthy_and_lists_the_example_plugins() {
    let data = tempfile::tempdir().unwrap();
    let cache = shared_cache_dir().display().to_string();
    let plugins = plugins_dir();
    let server = Server::start(
        &[
            "--demo",
            "--data-dir",
            data.path().to_str().unwrap(),
            "--cache-dir",
            &cache,
            "--plugins-dir",
            &plugins,
        ],
        &[],
        data.path(),
    )
    .unwrap();
    let (status, health) = server.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let (status, list) = server.get_json("/api/plugins").await;
    assert_eq!(status, 200);
    let mut rows: Vec<(String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["world"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    // The materials at their 0.2.0 builds (their 0.1.0 ones are published
    // too, and activated first).
    let expected = [
        ("button", "material", "0.2.0"),
        ("card", "material", "0.2.0"),
        ("columns", "material", "0.2.0"),
        ("faq-bot", "chat-plugin", "0.1.0"),
        ("form", "material", "0.2.0"),
        ("form-input", "material", "0.2.0"),
        ("image", "material", "0.2.0"),
        ("keyword-moderation", "chat-plugin", "0.1.0"),
        ("text", "material", "0.2.0"),
        ("upload-policy", "upload-hook", "0.1.0"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for ((name, world, version), want) in rows.iter().zip(expected) {
        assert_eq!((name.as_str(), world.as_str(), version.as_str()), want);
    }
    let (status, error) = server.get_json("/api/nope").await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "not-found");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/nope")
    );
}

/// Flags beat `HANGAR_*` variables, which beat `hangar.toml`, which beats
/// the defaults.
#[tokio::test]
async fn configuration_comes_from_flags_environment_and_file() {
    let cwd = tempfile::tempdir().unwrap();
    let cache = shared_cache_dir().display().to_string();
    let plugins = plugins_dir();
    std::fs::write(
        cwd.path().join("hangar.toml"),
        format!(
            "listen = \"127.0.0.1:1\"\ndata_dir = \"from-file\"\ndemo = true\nplugins_dir = {plugins:?}\ncache_dir = {cache:?}\n\n[plugins.limits]\ndeadline_ms = 150\n"
        ),
    )
    .unwrap();
    // The file alone picks the data directory and demo mode; the environment
    // overrides its (unusable) port.
    let server = Server::start(&[], &[("HANGAR_LISTEN", "127.0.0.1:0")], cwd.path()).unwrap();
    assert!(cwd.path().join("from-file/hangar.db").exists());
    let (_, list) = server.get_json("/api/plugins").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        10,
        "demo = true came from the file"
    );
    drop(server);

    // The environment beats the file; a flag beats the environment.
    let server = Server::start(
        &["--data-dir", "from-flag"],
        &[
            ("HANGAR_LISTEN", "127.0.0.1:0"),
            ("HANGAR_DATA_DIR", "from-env"),
        ],
        cwd.path(),
    )
    .unwrap();
    assert!(cwd.path().join("from-flag/hangar.db").exists());
    assert!(!cwd.path().join("from-env").exists());
    drop(server);
    let server = Server::start(
        &[],
        &[
            ("HANGAR_LISTEN", "127.0.0.1:0"),
            ("HANGAR_DATA_DIR", "from-env"),
        ],
        cwd.path(),
    )
    .unwrap();
    assert!(cwd.path().join("from-env/hangar.db").exists());
    drop(server);
}

#[tokio::test]
async fn bad_configuration_stops_the_server_with_the_reason() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("hangar.toml"), "lisen = \"127.0.0.1:0\"\n").unwrap();
    let (code, stderr) = Server::expect_failure(&[], &[], cwd.path());
    assert_ne!(code, Some(0));
    assert!(stderr.contains("lisen"), "{stderr}");

    let (code, stderr) = Server::expect_failure(&["--config", "missing.toml"], &[], cwd.path());
    assert_ne!(code, Some(0));
    assert!(stderr.contains("missing.toml"), "{stderr}");

    // Demo mode without the example plugins says how to build them.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("demo.toml"), "artifacts = \"nowhere\"\n[[plugin]]\nname = \"faq-bot\"\nversion = \"0.1.0\"\nfile = \"faq_bot.wasm\"\n").unwrap();
    let (code, stderr) = Server::expect_failure(
        &[
            "--demo",
            "--config",
            "/dev/null",
            "--listen",
            "127.0.0.1:0",
            "--plugins-dir",
            empty.path().to_str().unwrap(),
        ],
        &[],
        cwd.path(),
    );
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("cargo build --release --target wasm32-wasip2"),
        "{stderr}"
    );

    let (code, stderr) = Server::expect_failure(&["--listen", "not-an-address"], &[], cwd.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--listen"), "{stderr}");

    // A database it cannot use: the engine it does not speak, or a server
    // that refuses, is named with the reason, and the password never shows.
    let (code, stderr) = Server::expect_failure(
        &["--config", "/dev/null", "--database-url", "mysql://db/x"],
        &[],
        cwd.path(),
    );
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("unsupported database URL scheme \"mysql\""),
        "{stderr}"
    );
    let (code, stderr) = Server::expect_failure(
        &[
            "--config",
            "/dev/null",
            "--database-url",
            "postgres://u:hunter2@127.0.0.1:1/x",
        ],
        &[],
        cwd.path(),
    );
    assert_ne!(code, Some(0));
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");

    // An object store it cannot use: a scheme it does not speak,
    // credentials in the URL, an S3 endpoint that refuses, a bucket that
    // does not exist. Each stops the start, named with the reason.
    let session = ["--session-key", "0123456789abcdef0123456789abcdef"];
    let refusing_s3 = [
        ("AWS_ENDPOINT", "http://127.0.0.1:1"),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "k"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ];
    for (url, env, says) in [
        ("gs://bucket", &[][..], "unsupported scheme \"gs\""),
        (
            "s3://key:secret@bucket",
            &[][..],
            "credentials do not belong in the URL",
        ),
        ("s3://bucket/node", &refusing_s3[..], "Connection refused"),
    ] {
        let mut args = vec!["--config", "/dev/null", "--object-store-url", url];
        args.extend(session);
        let (code, stderr) = Server::expect_failure(&args, env, cwd.path());
        assert_ne!(code, Some(0), "{url}");
        assert!(stderr.contains(says), "{url}: {stderr}");
        assert!(!stderr.contains("secret@"), "{stderr}");
    }
    if let Ok(endpoint) = std::env::var(hangar_testkit::backend::S3_ENDPOINT_VAR) {
        let mut args = vec![
            "--config",
            "/dev/null",
            "--object-store-url",
            "s3://no-such-bucket/n",
        ];
        args.extend(session);
        let env = [
            ("AWS_ENDPOINT", endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ];
        let (code, stderr) = Server::expect_failure(&args, &env, cwd.path());
        assert_ne!(code, Some(0));
        assert!(stderr.contains("s3://no-such-bucket/n/uploads"), "{stderr}");
        assert!(stderr.contains("NoSuchBucket"), "{stderr}");
    }

    // A cluster node: every piece of state shared, a URL to be listed at,
    // a broker it can reach; each missing piece is named.
    let pg = ["--database-url", "postgres://postgres@127.0.0.1:1/x"];
    let s3 = ["--object-store-url", "s3://bucket/n"];
    let public = ["--public-url", "http://127.0.0.1:9"];
    let broker = ["--broker", "nats://127.0.0.1:1"];
    for (extra, says) in [
        (vec![&broker[..]], "set database_url to postgres://"),
        (vec![&broker[..], &pg[..]], "set object_store_url"),
        (vec![&broker[..], &pg[..], &s3[..]], "public_url: set it"),
        (
            vec![
                &["--broker", "redis://x"][..],
                &pg[..],
                &s3[..],
                &public[..],
            ],
            "expected nats://HOST:PORT",
        ),
        (
            vec![
                &broker[..],
                &pg[..],
                &s3[..],
                &public[..],
                &["--broker-prefix", "a.*"][..],
            ],
            "broker_prefix",
        ),
        (vec![&["--node-id", "a b"][..]], "node id \"a b\""),
    ] {
        let mut args = vec!["--config", "/dev/null"];
        args.extend(session);
        args.extend(extra.concat());
        let (code, stderr) = Server::expect_failure(&args, &[], cwd.path());
        assert_ne!(code, Some(0), "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // A broker that cannot be reached stops the start with the reason.
    if let Ok(server) = std::env::var(hangar_testkit::backend::POSTGRES_URL_VAR) {
        let database = hangar_testkit::backend::PostgresDatabase::create(&server).await;
        let shared = database.url.clone();
        let dir = tempfile::tempdir().unwrap();
        let objects = format!("file://{}", dir.path().display());
        let mut args = vec![
            "--config",
            "/dev/null",
            "--database-url",
            &shared,
            "--object-store-url",
            &objects,
        ];
        args.extend(session);
        args.extend(public);
        args.extend(broker);
        let (code, stderr) = Server::expect_failure(&args, &[], cwd.path());
        assert_ne!(code, Some(0));
        assert!(
            stderr.contains("cannot connect to the broker nats://127.0.0.1:1"),
            "{stderr}"
        );
    }
}

/// `hangar config check` and `show` resolve what `serve` would, from the
/// same flags, variables and file: a refused value exits 1 naming it; the
/// effective values print with secrets hidden.
#[test]
fn config_check_and_show_resolve_what_serve_would() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let output = std::process::Command::new(hangar_testkit::server::binary())
            .args(args)
            .envs(env.iter().copied())
            .env_remove("RUST_BACKTRACE")
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    std::fs::write(
        dir.path().join("hangar.toml"),
        "listen = \"127.0.0.1:9191\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&["config", "check"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("configuration is valid: listens on 127.0.0.1:9191"),
        "{out}"
    );
    // A flag beats the file, as for serve.
    let (_, out, _) = run(&["config", "check", "--listen", "127.0.0.1:9292"], &[]);
    assert!(out.contains("127.0.0.1:9292"), "{out}");

    std::fs::write(
        dir.path().join("bad.toml"),
        "[uploads]\nmax_chunk_bytes = 6292457\n",
    )
    .unwrap();
    let (code, out, err) = run(&["config", "check", "--config", "bad.toml"], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        err.contains("max_chunk_bytes") && err.contains("multiple of 65536"),
        "{err}"
    );

    let (code, out, err) = run(
        &[
            "config",
            "show",
            "--database-url",
            "postgres://hangar:db-password-9876@db.internal/hangar",
        ],
        &[
            ("HANGAR_ADMIN_TOKEN", "admin-token-that-stays-hidden"),
            (
                "HANGAR_SESSION_KEY",
                "session-key-that-stays-hidden-0123456789",
            ),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    // Each value with where it came from.
    assert!(
        out.contains("listen = \"127.0.0.1:9191\"  # file hangar.toml"),
        "{out}"
    );
    assert!(
        out.contains(
            "database_url = \"postgres://hangar:***@db.internal/hangar\"  # flag --database-url"
        ),
        "{out}"
    );
    assert!(
        out.contains("admin_token = \"(set)\"  # env HANGAR_ADMIN_TOKEN")
            && out.contains("session_key = \"(set)\"  # env HANGAR_SESSION_KEY"),
        "{out}"
    );
    assert!(out.contains("hub.heartbeat_ms = 25000  # default"), "{out}");
    // A variable of an earlier release is refused, naming its successor.
    let (code, _, err) = run(&["config", "check"], &[("HANGAR_HEARTBEAT_MS", "1000")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("set HANGAR_HUB__HEARTBEAT_MS"), "{err}");
    for secret in [
        "db-password-9876",
        "admin-token-that-stays-hidden",
        "session-key-that-stays-hidden",
    ] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} printed"
        );
    }
}

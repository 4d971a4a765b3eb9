//! Upload benchmark: a 1 GiB file through `hangar upload` (4 parallel
//! chunks) into the demo server (upload-policy active) over loopback.
//!
//! Printed in the same run, so the ratios do not depend on the machine:
//! - the floor: md-5 hashing the file once on one core (read from the page
//!   cache, as the upload reads it);
//! - end-to-end MB/s and wall time as a multiple of the floor (target ≤ 2.5);
//! - the server's CPU seconds for the upload as a multiple of two floors
//!   (target ≤ 1.3): every byte is hashed as a chunk and into the whole
//!   file (in one interleaved pass when chunks arrive in order);
//! - the server's peak RSS during the upload (target ≤ 128 MiB);
//! - the same file through tus (tus-js-client in Node, 8 MiB `PATCH`es;
//!   skipped when `node` or `tests/browser/node_modules` is missing), with
//!   its ratios to the native CLI's run;
//! - the same upload into a server keeping its blobs on S3 (a bucket on the
//!   S3-compatible server `HANGAR_TEST_S3_ENDPOINT` names; skipped when it
//!   is unset), with its ratios to the local-files run, and through tus
//!   there too.
//!
//! Run: `cargo bench -p hangar-testkit --bench upload`
//! (`HANGAR_BENCH_MIB=256` uploads a smaller file).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: any failure aborts the run

use std::io::{Read, Write};
use std::time::Instant;

use hangar_testkit::server::Server;
use hangar_testkit::uploads::pattern;
use md5::{Digest as _, Md5};

fn md5_pass(path: &std::path::Path) -> (f64, String) {
    let started = Instant::now();
    let mut file = std::fs::File::open(path).unwrap();
    let mut md5 = Md5::new();
    let mut block = vec![0u8; 4 << 20];
    loop {
        let n = file.read(&mut block).unwrap();
        if n == 0 {
            break;
        }
        md5.update(&block[..n]);
    }
    (started.elapsed().as_secs_f64(), hex::encode(md5.finalize()))
}

/// The file's MD5 and its 8 MiB chunks' MD5s in one interleaved pass, as
/// the CLI and the server compute them.
fn paired_pass(path: &std::path::Path) -> (f64, String) {
    use hangar_md5pair::{Md5 as Paired, update_both};
    let started = Instant::now();
    let mut file = std::fs::File::open(path).unwrap();
    let (mut whole, mut chunk) = (Paired::new(), Paired::new());
    let mut block = vec![0u8; 8 << 20];
    loop {
        let n = file.read(&mut block).unwrap();
        if n == 0 {
            break;
        }
        update_both(&mut chunk, &mut whole, &block[..n]);
        std::hint::black_box(std::mem::take(&mut chunk).finalize());
    }
    (started.elapsed().as_secs_f64(), whole.finalize_hex())
}

fn main() {
    let mib: usize = std::env::var("HANGAR_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = mib << 20;
    // Built first, so the sync below also covers the fresh binary.
    hangar_testkit::server::binary();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.zip");
    {
        let mut out = std::fs::File::create(&path).unwrap();
        for part in 0..mib.div_ceil(64) {
            let len = (64 << 20).min(size - part * (64 << 20));
            out.write_all(&pattern(len, part as u64 + 1)).unwrap();
        }
    }
    // Everything dirty on disk before anything is measured (this fixture,
    // and a build that just wrote the binaries): the kernel writing it back
    // during the upload would be charged to the upload.
    let synced = std::process::Command::new("sync").status();
    assert!(synced.is_ok_and(|s| s.success()), "sync failed");
    // The floor: best of two passes (the first also warms the page cache).
    let (first, md5) = md5_pass(&path);
    let (second, _) = md5_pass(&path);
    let floor = first.min(second);
    let (paired, paired_md5) = paired_pass(&path);
    assert_eq!(paired_md5, md5);

    let mb = size as f64 / 1e6;
    println!(
        "upload of {mib} MiB, 4 parallel chunks, loopback, demo server (upload-policy active)"
    );
    println!(
        "  floor: md-5 alone, one pass, one core        {floor:7.2} s  ({:.0} MB/s)",
        mb / floor
    );
    println!(
        "  file + chunk MD5s in one pass (md5pair)       {paired:7.2} s  = {:.2} x floor",
        paired / floor
    );
    let server_dir = tempfile::tempdir().unwrap();
    let server = Server::start_demo(server_dir.path(), &[]).expect("server");
    let local = upload(&server, &path, &md5);
    print_figures("local files (the data directory)", &local, mb, floor);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    match runtime.block_on(tus_upload(&server, &path, &md5)) {
        Ok(tus) => {
            print_figures(
                "local files, through tus (tus-js-client, 8 MiB PATCHes)",
                &tus,
                mb,
                floor,
            );
            print_ratios("tus / native CLI", &tus, &local);
        }
        Err(why) => println!("  tus: skipped ({why})"),
    }
    match runtime.block_on(hangar_testkit::backend::S3Bucket::create()) {
        Some(bucket) => {
            let s3_dir = tempfile::tempdir().unwrap();
            let mut env = bucket.env();
            env.push(("HANGAR_OBJECT_STORE_URL", bucket.url()));
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let s3_server =
                Server::start_demo_with_env(s3_dir.path(), &[], &env).expect("server on S3");
            let s3 = upload(&s3_server, &path, &md5);
            print_figures(
                &format!("S3 (moto at {}, same machine)", bucket.endpoint),
                &s3,
                mb,
                floor,
            );
            print_ratios("S3 / local", &s3, &local);
            if let Ok(tus) = runtime.block_on(tus_upload(&s3_server, &path, &md5)) {
                print_figures(
                    "S3, through tus (tus-js-client, 8 MiB PATCHes)",
                    &tus,
                    mb,
                    floor,
                );
                print_ratios("tus / native CLI on S3", &tus, &s3);
            }
        }
        None => println!("  S3: skipped (set HANGAR_TEST_S3_ENDPOINT to an S3-compatible server)"),
    }

    // The same file again: instant upload, nothing sent.
    let started = Instant::now();
    let output = std::process::Command::new(hangar_testkit::server::binary())
        .args(["upload", path.to_str().unwrap(), "--server", &server.url])
        .args(["--user", "bench-2", "--json", "--no-hash-cache"])
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(again["instant"], true, "{again}");
    println!(
        "  instant upload of the same file by another user {:.2} s (= {:.2} x floor: the client's hash pass)",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() / floor
    );
}

struct Figures {
    wall: f64,
    cpu: f64,
    peak_mib: f64,
}

/// Runs `command` (an upload into `server`): its output, with the wall
/// time, the server's CPU seconds and peak RSS during it; why it could
/// not be started.
fn measured(
    server: &Server,
    command: &mut std::process::Command,
) -> Result<(Figures, Vec<u8>), String> {
    let cpu_before = server.cpu_seconds().unwrap();
    assert!(server.reset_peak_rss(), "cannot reset the peak RSS counter");
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|err| format!("{}: {err}", command.get_program().to_string_lossy()))?;
    let wall = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figures = Figures {
        wall,
        cpu: server.cpu_seconds().unwrap() - cpu_before,
        peak_mib: server.peak_rss_kib().unwrap() as f64 / 1024.0,
    };
    Ok((figures, output.stdout))
}

/// Uploads `path` with the CLI into `server`.
fn upload(server: &Server, path: &std::path::Path, md5: &str) -> Figures {
    let (figures, stdout) = measured(
        server,
        std::process::Command::new(hangar_testkit::server::binary())
            .args(["upload", path.to_str().unwrap(), "--server", &server.url])
            .args([
                "--user",
                "bench",
                "--parallel",
                "4",
                "--json",
                "--no-hash-cache",
            ]),
    )
    .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(answer["file"]["md5"], md5, "{answer}");
    assert_eq!(answer["instant"], false);
    figures
}

/// Uploads `path` with tus-js-client (`tests/tus/tus_upload.mjs`) into
/// `server`.
async fn tus_upload(server: &Server, path: &std::path::Path, md5: &str) -> Result<Figures, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !root
        .join("tests/browser/node_modules/tus-js-client")
        .exists()
    {
        return Err("run `npm ci` in tests/browser for tus-js-client".into());
    }
    let (status, session) = hangar_testkit::server::request(
        reqwest::Method::POST,
        &format!("{}/api/session", server.url),
        None,
        Some(&serde_json::json!({"user": "bench-tus", "role": "customer"})),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().unwrap();
    let (figures, stdout) = measured(
        server,
        std::process::Command::new("node")
            .arg(root.join("tests/tus/tus_upload.mjs"))
            .args([&server.url, token, path.to_str().unwrap(), "8"]),
    )?;
    let answer: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    let file = answer["file_id"].as_str().unwrap();
    let (status, record) = hangar_testkit::server::request(
        reqwest::Method::GET,
        &format!("{}/api/files/{file}", server.url),
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["md5"], md5, "{record}");
    Ok(figures)
}

/// Prints the wall time, server CPU and peak RSS of `a` over `b`.
fn print_ratios(label: &str, a: &Figures, b: &Figures) {
    println!(
        "  {label}: wall {:.2}x, server CPU {:.2}x, peak RSS {:.2}x",
        a.wall / b.wall,
        a.cpu / b.cpu,
        a.peak_mib / b.peak_mib
    );
}

fn print_figures(store: &str, f: &Figures, mb: f64, floor: f64) {
    println!("  into {store}:");
    println!(
        "    end to end (hash + open + chunks + complete) {:7.2} s  ({:.0} MB/s) = {:.2} x floor (target <= 2.5)",
        f.wall,
        mb / f.wall,
        f.wall / floor
    );
    println!(
        "    server CPU                                    {:7.2} s  = {:.2} x two floors (target <= 1.3)",
        f.cpu,
        f.cpu / (2.0 * floor)
    );
    println!(
        "    server peak RSS                               {:7.1} MiB (target <= 128)",
        f.peak_mib
    );
}

//! `hangar upload FILE`: the uploader of `hangar-client` with progress bars.

use std::time::Instant;

use anyhow::Context;
use hangar_client::upload::{UploadEvent, UploadOptions, Uploader};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::ExposeSecret as _;

use crate::cli::UploadArgs;

/// A session for `user` from a demo server.
async fn demo_token(server: &str, user: &str) -> anyhow::Result<String> {
    let url = format!("{}/api/session", server.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .json(&serde_json::json!({"user": user, "role": "customer"}))
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    if !response.status().is_success() {
        anyhow::bail!(
            "no --token given and {url} gave no demo session ({}); pass --token or set HANGAR_TOKEN",
            response.status()
        );
    }
    let body: serde_json::Value = response.json().await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .context("the demo session answer has no token")
}

/// The hash cache directory: `--hash-cache`, else the user's cache directory.
fn hash_cache(args: &UploadArgs) -> Option<std::path::PathBuf> {
    if args.no_hash_cache {
        return None;
    }
    let user_cache = || {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|dir| !dir.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cache"))
            })
            .map(|dir| dir.join("hangar").join("hashes"))
    };
    args.hash_cache.clone().or_else(user_cache)
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg:>9} [{bar:32}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// Runs the upload and prints the stored file.
///
/// # Errors
/// The file, the server or the session failed; the message says which.
pub async fn run(args: &UploadArgs) -> anyhow::Result<()> {
    let token = match &args.token {
        Some(token) => token.expose_secret().to_owned(),
        None => demo_token(&args.server, &args.user).await?,
    };
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    let hashing = bar(size, "hashing");
    let sending = bar(size, "uploading");
    let options = UploadOptions {
        parallel: args.parallel.max(1),
        retries: args.retries,
        chunk_size: args.chunk_mib.map(|mib| mib << 20),
        instant: !args.no_instant,
        hash_cache: hash_cache(args),
        ..UploadOptions::default()
    };
    let started = Instant::now();
    let events = |event: UploadEvent| match event {
        UploadEvent::Hashed { done, .. } => hashing.set_position(done),
        UploadEvent::Opened { received_bytes, .. } => {
            hashing.finish();
            sending.set_position(received_bytes);
            if received_bytes > 0 {
                sending.println(format!("resuming: {received_bytes} bytes already stored"));
            }
        }
        UploadEvent::Sent { bytes, .. } => sending.inc(bytes),
        UploadEvent::Retrying { index, error } => {
            sending.println(format!("chunk {index} failed ({error}); retrying"));
        }
        UploadEvent::Instant => {
            hashing.finish();
            sending.finish_with_message("instant");
        }
        UploadEvent::Completing => sending.set_message("merging"),
    };
    let uploaded = Uploader::new(&args.server, &token)
        .upload(&args.file, &options, &events)
        .await
        .with_context(|| {
            format!(
                "upload of {} failed; run again to resume",
                args.file.display()
            )
        })?;
    sending.finish_and_clear();
    hashing.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "file": uploaded.file,
                "instant": uploaded.instant,
                "chunks_sent": uploaded.chunks_sent,
                "hashes_cached": uploaded.hashes_cached,
                "seconds": seconds,
            })
        );
    } else {
        println!(
            "uploaded {} as {} ({} bytes, md5 {}, sha256 {}){} in {seconds:.1} s",
            uploaded.file.name,
            uploaded.file.id,
            uploaded.file.size,
            uploaded.file.md5,
            uploaded.file.sha256,
            if uploaded.instant { ", instantly" } else { "" },
        );
    }
    Ok(())
}

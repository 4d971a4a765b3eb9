//! `hangar publish FILE --name N --version V`: uploads a component to a
//! registry with a progress bar and prints its digest.

use anyhow::Context;
use bytes::Bytes;
use futures_util::stream;
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::ExposeSecret as _;

use super::server_message;
use crate::cli::PublishArgs;

/// Publishes and prints the digest.
///
/// # Errors
/// The file cannot be read, the registry cannot be reached or refuses.
pub async fn run(args: &PublishArgs) -> anyhow::Result<()> {
    let bytes = Bytes::from(
        tokio::fs::read(&args.file)
            .await
            .with_context(|| format!("cannot read {}", args.file.display()))?,
    );
    let bar = ProgressBar::new(bytes.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("publishing [{bar:32}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let parts: Vec<Bytes> = (0..bytes.len())
        .step_by(64 << 10)
        .map(|at| bytes.slice(at..(at + (64 << 10)).min(bytes.len())))
        .collect();
    let progress = bar.clone();
    let body = stream::iter(parts.into_iter().map(move |part| {
        progress.inc(part.len() as u64);
        Ok::<_, std::io::Error>(part)
    }));
    let url = format!(
        "{}/registry/v1/packages/{}/{}",
        args.registry.trim_end_matches('/'),
        args.name,
        args.version
    );
    let ca = match &args.registry_ca {
        Some(path) => Some(
            tokio::fs::read(path)
                .await
                .with_context(|| format!("cannot read the CA bundle {}", path.display()))?,
        ),
        None => None,
    };
    let client = crate::deploy::fetch::http_client(ca.as_deref())
        .and_then(reqwest::ClientBuilder::build)
        .context("cannot set up the HTTP client")?;
    let mut request = client.put(&url).bearer_auth(args.token.expose_secret());
    let mut signer = None;
    if let Some(path) = &args.sign {
        let signed = sign(path, &args.name, &args.version, &bytes).await?;
        request = request
            .header(
                hangar_registry::http::SIGNER_HEADER,
                signed.signer.to_string(),
            )
            .header(hangar_registry::http::SIGNATURE_HEADER, &signed.signature);
        signer = Some(signed.signer);
    }
    let response = request
        .header(reqwest::header::CONTENT_LENGTH, bytes.len())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .with_context(|| format!("cannot reach the registry at {url}"))?;
    bar.finish_and_clear();
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("publish refused: {}", server_message(status, &text));
    }
    let info: serde_json::Value = serde_json::from_str(&text).context("unreadable answer")?;
    let unchanged = if status == reqwest::StatusCode::OK {
        " (already published with these bytes)"
    } else {
        ""
    };
    println!(
        "published {} {} ({}, {} bytes){unchanged}\n{}",
        args.name,
        args.version,
        info["world"].as_str().unwrap_or("?"),
        bytes.len(),
        info["digest"].as_str().unwrap_or("?"),
    );
    if let Some(signer) = signer {
        println!("signed by {signer}");
    }
    Ok(())
}

/// The signature of `name` `version` with the digest of `bytes`, by the
/// key in `path`.
async fn sign(
    path: &std::path::Path,
    name: &str,
    version: &str,
    bytes: &[u8],
) -> anyhow::Result<hangar_registry::signature::Signed> {
    let pem = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("cannot read the signing key {}", path.display()))?;
    let key = hangar_registry::signature::key_from_pem(&pem)
        .with_context(|| format!("{} is not a usable signing key", path.display()))?;
    let name: hangar_registry::PluginName = name.parse()?;
    let version = semver::Version::parse(version)
        .with_context(|| format!("{version:?} is not a semantic version"))?;
    Ok(hangar_registry::signature::Signed::sign(
        &key,
        &name,
        &version,
        &hangar_registry::Digest::of(bytes),
    ))
}

//! `hangar registry serve`: the registry on its own, for hosts that fetch
//! from a shared one.

use std::future::Future;

use anyhow::Context;
use hangar_registry::http::{Publisher, RegistryApi};
use hangar_registry::store::Registry;

use crate::cli::RegistryArgs;

/// Serves the registry until `shutdown` completes.
///
/// # Errors
/// Bad tokens, the directory cannot be opened, the address cannot be bound.
pub async fn serve(
    args: &RegistryArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let publishers: Vec<Publisher> = args.publish_tokens.clone();
    if publishers.is_empty() {
        tracing::warn!("no publish tokens: the registry is read-only");
    }
    let blobs = hangar_storage::ObjectStoreUrl::file(&args.dir)
        .open("blobs", true)
        .await
        .with_context(|| format!("cannot open the registry's blobs in {}", args.dir.display()))?;
    let registry = Registry::open(&args.dir, None, blobs.store, args.max_component_bytes)
        .await
        .with_context(|| format!("cannot open the registry in {}", args.dir.display()))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::server::listener::tls_acceptor(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{addr}");
    crate::server::listener::serve(
        listener,
        RegistryApi::new(registry, publishers)
            .router::<()>()
            .split_for_parts()
            .0,
        crate::server::listener::HttpLimits::default(),
        tls,
        shutdown,
    )
    .await?;
    Ok(())
}

/// Writes a new signing key to `out` (PKCS#8 PEM, mode 0600, never over
/// an existing file) and returns its public key.
///
/// # Errors
/// The file exists or cannot be written.
pub fn keygen(out: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Write as _;
    let key = hangar_registry::signature::generate_key(rand::random());
    let pem = hangar_registry::signature::key_to_pem(&key)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(out).with_context(|| {
        format!(
            "cannot create {} (an existing key is never replaced)",
            out.display()
        )
    })?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(hangar_registry::signature::public_key(&key).to_string())
}

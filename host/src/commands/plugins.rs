//! `hangar plugins list|activate|rollback|config|enable|disable|settings|chain`:
//! the admin API from a shell, with readable errors.

use anyhow::Context;
use secrecy::ExposeSecret;

use super::server_message;
use crate::cli::{PluginsAction, PluginsArgs};

async fn call(
    args: &PluginsArgs,
    method: reqwest::Method,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<serde_json::Value> {
    let token = args
        .admin_token
        .as_ref()
        .map(ExposeSecret::expose_secret)
        .context("no admin token: pass --admin-token or set HANGAR_ADMIN_TOKEN")?;
    let url = format!("{}{path}", args.server.trim_end_matches('/'));
    let mut request = reqwest::Client::new()
        .request(method, &url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("{}", server_message(status, &text));
    }
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// The answer of an operation that may have become a job (`202` with an
/// `href`): followed until it ends, its progress on standard error.
async fn follow(
    args: &PluginsArgs,
    answer: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    if answer["status"] != "running" {
        return Ok(answer);
    }
    let href = answer["href"]
        .as_str()
        .context("a job answer without its href")?
        .to_owned();
    eprintln!(
        "{} {} is taking a while; following {href}",
        field(&answer, "plugin"),
        field(&answer, "version")
    );
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let job = call(args, reqwest::Method::GET, &href, None).await?;
        match job["status"].as_str() {
            Some("running") => {}
            Some("done") => return Ok(job["result"].clone()),
            _ => anyhow::bail!(
                "{} ({})",
                job["error"]["message"].as_str().unwrap_or("the job failed"),
                job["error"]["status"]
            ),
        }
    }
}

fn field(row: &serde_json::Value, key: &str) -> String {
    match &row[key] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Runs one action and prints its outcome.
///
/// # Errors
/// The server cannot be reached or refuses; the message says why.
pub async fn run(args: &PluginsArgs) -> anyhow::Result<()> {
    use reqwest::Method;
    match &args.action {
        PluginsAction::List => {
            let rows = call(args, Method::GET, "/api/admin/plugins", None).await?;
            println!(
                "{:<22} {:<10} {:<12} {:<12} {:>8} {:>8} {:>8} {:>8}",
                "NAME", "VERSION", "WORLD", "STATE", "CALLS", "FAILED", "P50 µs", "P99 µs"
            );
            for row in rows.as_array().into_iter().flatten() {
                println!(
                    "{:<22} {:<10} {:<12} {:<12} {:>8} {:>8} {:>8} {:>8}",
                    field(row, "name"),
                    field(row, "version"),
                    field(row, "world"),
                    field(row, "state"),
                    field(row, "calls"),
                    field(row, "failures"),
                    field(row, "p50_us"),
                    field(row, "p99_us"),
                );
            }
        }
        PluginsAction::Activate {
            name,
            version,
            wait_ms,
        } => {
            let mut body = serde_json::json!({ "version": version });
            if let Some(wait_ms) = wait_ms {
                body["wait_ms"] = serde_json::json!(wait_ms);
            }
            let body = body.to_string();
            let answer = call(
                args,
                Method::POST,
                &format!("/api/admin/plugins/{name}/activate"),
                Some(body),
            )
            .await?;
            let done = follow(args, answer).await?;
            println!(
                "{name} {} active ({}, {} in {:.1} ms)",
                field(&done, "version"),
                field(&done, "digest"),
                if done["cached"] == true {
                    "from the compiled cache"
                } else {
                    "fetched and compiled"
                },
                done["elapsed_ms"].as_f64().unwrap_or(0.0),
            );
        }
        PluginsAction::Rollback { name } => {
            let done = call(
                args,
                Method::POST,
                &format!("/api/admin/plugins/{name}/rollback"),
                None,
            )
            .await?;
            println!("{name} rolled back to {}", field(&done, "version"));
        }
        PluginsAction::Config { name, file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
            } else {
                std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            call(
                args,
                Method::PUT,
                &format!("/api/admin/plugins/{name}/config"),
                Some(text),
            )
            .await?;
            println!("{name}: configuration applied from the next call");
        }
        PluginsAction::Enable { name } | PluginsAction::Disable { name } => {
            let verb = if matches!(args.action, PluginsAction::Enable { .. }) {
                "enable"
            } else {
                "disable"
            };
            call(
                args,
                Method::POST,
                &format!("/api/admin/plugins/{name}/{verb}"),
                None,
            )
            .await?;
            println!("{name}: {verb}d");
        }
        PluginsAction::Settings { name, change } => settings(args, name, change).await?,
        PluginsAction::Chain { hook, plugins } => {
            let path = format!("/api/admin/chains/{hook}");
            if !plugins.is_empty() {
                let body = serde_json::to_string(plugins)?;
                call(args, Method::PUT, &path, Some(body)).await?;
            }
            let chains = call(args, Method::GET, "/api/admin/chains", None).await?;
            let Some(order) = chains.get(hook.as_str()).and_then(|o| o.as_array()) else {
                anyhow::bail!("no chain {hook:?}: use chat-messages or uploads");
            };
            let order: Vec<&str> = order.iter().filter_map(|p| p.as_str()).collect();
            println!("{hook}: {}", order.join(" -> "));
        }
    }
    Ok(())
}

/// Shows the settings of `name`, after applying `change` when it changes
/// anything.
async fn settings(
    args: &PluginsArgs,
    name: &str,
    change: &crate::cli::SettingsChange,
) -> anyhow::Result<()> {
    use reqwest::Method;
    let path = format!("/api/admin/plugins/{name}/settings");
    let current = call(args, Method::GET, &path, None).await?;
    let mut overrides = if change.reset {
        serde_json::Map::new()
    } else {
        current["overrides"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let mut set = |key: &str, value: Option<serde_json::Value>| {
        if let Some(value) = value {
            overrides.insert(key.to_owned(), value);
        }
    };
    let isolation = match change.isolation.as_deref() {
        Some("pooled") => {
            let (Some(uses), Some(idle)) = (change.max_uses, change.max_idle) else {
                anyhow::bail!("--isolation pooled needs --max-uses and --max-idle");
            };
            Some(serde_json::json!({"mode": "pooled", "max_uses": uses, "max_idle": idle}))
        }
        Some(mode) => Some(serde_json::json!({ "mode": mode })),
        None => None,
    };
    set("isolation", isolation);
    set("deadline_ms", change.deadline_ms.map(Into::into));
    set("host_budget_ms", change.host_budget_ms.map(Into::into));
    set(
        "memory_bytes",
        change
            .memory_mib
            .map(|mib| mib.saturating_mul(1 << 20).into()),
    );
    set("kv_quota_bytes", change.kv_quota_bytes.map(Into::into));
    set(
        "failure_policy",
        change.failure_policy.clone().map(Into::into),
    );
    set("quarantine_after", change.quarantine_after.map(Into::into));
    let changed = change.reset || Some(&overrides) != current["overrides"].as_object();
    let settings = if changed {
        let body = serde_json::Value::Object(overrides).to_string();
        call(args, Method::PUT, &path, Some(body)).await?["settings"].clone()
    } else {
        current["settings"].clone()
    };
    println!("{}", serde_json::to_string_pretty(&settings)?);
    Ok(())
}

//! `hangar migrate-data`: copies a stopped installation's embedded state
//! (SQLite files and the data directory's blobs) to PostgreSQL and an
//! object store, so a node (or a cluster) can start on them.
//!
//! Blobs go first and are skipped when the target already holds them with
//! the same size, so an interrupted copy resumes. The tables then go in one
//! PostgreSQL transaction, into tables that must be empty: a failure leaves
//! the target database as it was, and a second run cannot mix two
//! installations.

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt};
use hangar_registry::store::Registry;
use hangar_storage::{Db, Dialect, ObjectStoreUrl};
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::cli::MigrateArgs;
use crate::store::Database;

/// Objects up to this size are copied in one put; larger ones stream
/// through a multipart upload in parts of this size.
const PART_BYTES: usize = 16 << 20;

/// Rows per INSERT statement.
const ROWS_PER_INSERT: usize = 100;

/// Runs the copy and prints what it copied.
///
/// # Errors
/// No installation in the data directory, a target that is not PostgreSQL
/// or not empty, or a failure of either side (named).
pub async fn run(args: &MigrateArgs) -> anyhow::Result<()> {
    let dir = &args.data_dir;
    let host_file = dir.join("hangar.db");
    if !host_file.is_file() {
        bail!(
            "no installation in {}: {} is missing",
            dir.display(),
            host_file.display()
        );
    }
    if Dialect::of_url(&args.to_database_url)? != Dialect::Postgres {
        bail!("--to-database-url must name a PostgreSQL database (postgres://...)");
    }
    // Both sides at the current schema: an older installation is migrated
    // in place first, as its server would at start.
    let source = Database::connect(&Database::default_url(dir))
        .await
        .context("the installation's database")?;
    let registry_file = dir.join("registry").join("registry.db");
    let registry_source = if registry_file.is_file() {
        Some(Registry::database(&Db::sqlite_url(&registry_file)).await?)
    } else {
        None
    };
    let target = Database::connect(&args.to_database_url)
        .await
        .context("the target database")?;
    Registry::database(&args.to_database_url)
        .await
        .context("the target database (registry tables)")?;

    let mut plan: Vec<(String, Db)> = tables_of(source.db())
        .await?
        .into_iter()
        .map(|table| (table, source.db().clone()))
        .collect();
    if let Some(registry) = &registry_source {
        for table in tables_of(registry).await? {
            plan.push((table, registry.clone()));
        }
    }
    for (table, _) in &plan {
        let (rows,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            quoted(table)
        )))
        .fetch_one(target.pool())
        .await
        .with_context(|| format!("the target has no table {table}"))?;
        if rows > 0 {
            bail!(
                "the target table {table} is not empty ({rows} rows): migrate-data copies into a new database only"
            );
        }
    }

    if let Some(url) = &args.to_object_store_url {
        let url = ObjectStoreUrl::parse(url)?;
        for (from, area) in [(dir.clone(), "uploads"), (dir.join("registry"), "registry")] {
            let source = ObjectStoreUrl::file(&from).open("blobs", false).await?;
            let target = url.open(area, true).await?;
            let (copied, skipped, bytes) =
                copy_blobs(source.store.as_ref(), target.store.as_ref()).await?;
            println!(
                "blobs {area}: {copied} copied ({bytes} bytes), {skipped} already there -> {}",
                target.display
            );
        }
    }

    let mut tx = target.pool().begin().await?;
    for (table, db) in &plan {
        let copied = copy_table(db, &mut tx, table).await?;
        println!("table {table}: {copied} rows");
    }
    reset_sequences(&mut tx).await?;
    tx.commit().await?;
    println!(
        "done: start the server with --database-url {}{}",
        hangar_storage::db::redact(&args.to_database_url),
        args.to_object_store_url
            .as_deref()
            .map(|u| format!(" --object-store-url {u}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// The tables of an SQLite database in creation order (which respects
/// their references), without sqlx's bookkeeping.
async fn tables_of(db: &Db) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY rowid",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(name,)| name).collect())
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A column's value, typed as the target column is.
enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Bool(Option<bool>),
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Text,
    Bytes,
    Bool,
}

/// The target's columns of `table` and their kinds.
async fn target_columns(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &str,
) -> anyhow::Result<Vec<(String, Kind)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|(name, data_type)| {
            let kind = match data_type.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Int,
                "double precision" | "real" | "numeric" => Kind::Float,
                "text" | "character varying" | "character" => Kind::Text,
                "bytea" => Kind::Bytes,
                "boolean" => Kind::Bool,
                other => bail!("{table}.{name}: no copy for PostgreSQL type {other}"),
            };
            Ok((name, kind))
        })
        .collect()
}

fn read(row: &AnyRow, column: &str, kind: Kind) -> Result<Value, sqlx::Error> {
    Ok(match kind {
        Kind::Int => Value::Int(row.try_get(column)?),
        Kind::Float => Value::Float(row.try_get(column)?),
        Kind::Text => Value::Text(row.try_get(column)?),
        Kind::Bytes => Value::Bytes(row.try_get(column)?),
        Kind::Bool => Value::Bool(row.try_get::<Option<i64>, _>(column)?.map(|v| v != 0)),
    })
}

/// Copies every row of `table` from `from` into the target, in
/// multi-row INSERTs; returns how many.
async fn copy_table(
    from: &Db,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &str,
) -> anyhow::Result<u64> {
    let target = target_columns(tx, table).await?;
    let select = format!("SELECT * FROM {}", quoted(table));
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(from.pool());
    // The source's columns (known from its first row) decide what is
    // copied; each must exist in the target.
    let mut columns: Vec<(String, Kind)> = Vec::new();
    let mut list = String::new();
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(ROWS_PER_INSERT);
    let mut copied = 0u64;
    while let Some(row) = rows.try_next().await? {
        if columns.is_empty() {
            for column in sqlx::Row::columns(&row) {
                let name = sqlx::Column::name(column);
                let kind = target
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, k)| *k)
                    .with_context(|| format!("the target's {table} has no column {name}"))?;
                columns.push((name.to_owned(), kind));
            }
            list = columns
                .iter()
                .map(|(n, _)| quoted(n))
                .collect::<Vec<_>>()
                .join(", ");
        }
        let values = columns
            .iter()
            .map(|(name, kind)| read(&row, name, *kind))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("reading a row of {table}"))?;
        batch.push(values);
        if batch.len() == ROWS_PER_INSERT {
            copied += insert(tx, table, &list, columns.len(), &mut batch).await?;
        }
    }
    copied += insert(tx, table, &list, columns.len(), &mut batch).await?;
    Ok(copied)
}

async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &str,
    list: &str,
    width: usize,
    batch: &mut Vec<Vec<Value>>,
) -> anyhow::Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let tuples = (0..batch.len())
        .map(|r| {
            let params = (1..=width)
                .map(|c| format!("${}", r * width + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({params})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("INSERT INTO {} ({list}) VALUES {tuples}", quoted(table));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for value in batch.drain(..).flatten() {
        query = match value {
            Value::Int(v) => query.bind(v),
            Value::Float(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
            Value::Bytes(v) => query.bind(v),
            Value::Bool(v) => query.bind(v),
        };
    }
    let done = query
        .execute(&mut **tx)
        .await
        .with_context(|| format!("inserting into {table}"))?;
    Ok(done.rows_affected())
}

/// Sequences and identity columns continue after the copied values.
async fn reset_sequences(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> anyhow::Result<()> {
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (table, column) in identities {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, false)",
            c = quoted(&column),
            t = quoted(&table)
        )))
        .execute(&mut **tx)
        .await
        .with_context(|| format!("continuing {table}.{column}"))?;
    }
    // Conversation-list cursors (see docs/storage.md).
    sqlx::query(
        "SELECT setval('room_changes', COALESCE((SELECT MAX(changed) FROM rooms), 0) + 1, false)",
    )
    .execute(&mut **tx)
    .await
    .context("continuing room_changes")?;
    Ok(())
}

/// Copies every object of `from` that `to` does not hold with the same
/// size; returns (copied, skipped, bytes copied). Partial files of the
/// local store and unfinished publishes are not objects of the
/// installation and stay behind.
async fn copy_blobs(
    from: &dyn ObjectStore,
    to: &dyn ObjectStore,
) -> anyhow::Result<(u64, u64, u64)> {
    let (mut copied, mut skipped, mut bytes) = (0, 0, 0);
    let mut listing = from.list(None);
    while let Some(meta) = listing.next().await {
        let meta = meta?;
        let key = meta.location.as_ref();
        if key.contains('#') || key.starts_with("staging/") {
            continue;
        }
        match to.head(&meta.location).await {
            Ok(there) if there.size == meta.size => {
                skipped += 1;
                continue;
            }
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(err) => return Err(err).with_context(|| format!("checking {key} in the target")),
        }
        copy_object(from, to, &meta.location, meta.size)
            .await
            .with_context(|| format!("copying {key}"))?;
        copied += 1;
        bytes += meta.size;
    }
    Ok((copied, skipped, bytes))
}

async fn copy_object(
    from: &dyn ObjectStore,
    to: &dyn ObjectStore,
    path: &object_store::path::Path,
    size: u64,
) -> anyhow::Result<()> {
    let got = from.get(path).await?;
    if size <= PART_BYTES as u64 {
        to.put(path, got.bytes().await?.into()).await?;
        return Ok(());
    }
    let mut writer = WriteMultipart::new_with_chunk_size(to.put_multipart(path).await?, PART_BYTES);
    let mut stream = got.into_stream();
    let written = async {
        while let Some(part) = stream.try_next().await? {
            writer.wait_for_capacity(2).await?;
            writer.write(&part);
        }
        Ok::<_, object_store::Error>(())
    }
    .await;
    match written {
        Ok(()) => writer.finish().await.map(|_| ()).map_err(Into::into),
        Err(err) => {
            let _ = writer.abort().await;
            Err(err.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_for_sql() {
        assert_eq!(quoted("user"), "\"user\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}

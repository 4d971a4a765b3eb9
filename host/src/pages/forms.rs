//! What visitors submit through the forms of published pages: checked
//! against the fields the form holds in the page's current revision (names,
//! required, kinds, lengths), stored, listed per page for admins and
//! exported as CSV.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::Row;

use super::{Node, Page};
use crate::materials::Materials;
use crate::materials::structure::Role;
use crate::store::{Database, now_ms};

/// Longest value of a `textarea` field, in characters.
const MAX_LONG_VALUE: usize = 10_000;
/// Longest value of any other field, in characters.
const MAX_VALUE: usize = 1_000;
/// Submissions one client address may have stored a minute (bursts of
/// [`SUBMIT_BURST`]), across every page of this server (per node).
pub const SUBMITS_PER_MINUTE: u32 = 10;
/// The burst of [`SUBMITS_PER_MINUTE`].
pub const SUBMIT_BURST: u32 = 5;
/// Most submissions one listing returns.
pub const MAX_PAGE: i64 = 500;

/// One field of a form, from its node's props.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The submitted name (`props.name`).
    pub name: String,
    /// Whether it must be filled (`props.required`).
    pub required: bool,
    /// `text`, `email`, `number`, `tel`, `url` or `textarea` (`props.kind`).
    pub kind: String,
}

/// A refused submission's failing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Field name (empty for the submission as a whole).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// The fields among `form`'s descendants, in page order.
///
/// # Errors
/// A descendant's material could not be loaded (the message says which).
pub async fn fields_of(materials: &Materials, form: &Node) -> Result<Vec<Field>, String> {
    fn collect<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
        for (_, children) in node.child_lists() {
            for child in children {
                out.push(child);
                collect(child, out);
            }
        }
    }
    let mut ordered = Vec::new();
    collect(form, &mut ordered);
    let mut fields = Vec::new();
    for node in ordered {
        let loaded = materials
            .load_pinned(&node.material, &node.version)
            .await
            .map_err(|e| e.to_string())?;
        if loaded.info.structure.role != Role::Field {
            continue;
        }
        let Some(name) = node.props.get("name").and_then(Value::as_str) else {
            continue;
        };
        fields.push(Field {
            name: name.to_owned(),
            required: node
                .props
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            kind: node
                .props
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("text")
                .to_owned(),
        });
    }
    Ok(fields)
}

fn kind_error(kind: &str, value: &str) -> Option<&'static str> {
    match kind {
        "email" => {
            let ok = value.len() <= 254
                && !value.contains(char::is_whitespace)
                && value.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                });
            (!ok).then_some("is not an email address")
        }
        "number" => (!value.parse::<f64>().is_ok_and(f64::is_finite)).then_some("is not a number"),
        "tel" => {
            let digits = value.bytes().filter(u8::is_ascii_digit).count();
            let ok = (3..=32).contains(&value.len())
                && digits >= 3
                && value
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b" +-().".contains(&b));
            (!ok).then_some("is not a telephone number")
        }
        "url" => {
            let lower = value.to_ascii_lowercase();
            let ok = (lower.starts_with("http://") || lower.starts_with("https://"))
                && hangar_policy::link_allowed(value);
            (!ok).then_some("is not an http(s) URL")
        }
        _ => None,
    }
}

/// Checks submitted `values` against `fields` and returns them in field
/// order (a missing optional field as `""`).
///
/// # Errors
/// Each failing field: not a string, unknown, missing, too long, or not of
/// its kind.
pub fn check(
    fields: &[Field],
    values: &Map<String, Value>,
) -> Result<Vec<(String, String)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let known: HashSet<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    for name in values.keys() {
        if !known.contains(name.as_str()) {
            errors.push(FieldError {
                field: name.clone(),
                message: "this form has no such field".into(),
            });
        }
    }
    let mut kept = Vec::new();
    for field in fields {
        let error = |message: &str| FieldError {
            field: field.name.clone(),
            message: message.to_owned(),
        };
        let value = match values.get(&field.name) {
            None | Some(Value::Null) => "",
            Some(Value::String(text)) => text.as_str(),
            Some(_) => {
                errors.push(error("must be text"));
                continue;
            }
        };
        let limit = if field.kind == "textarea" {
            MAX_LONG_VALUE
        } else {
            MAX_VALUE
        };
        if value.chars().count() > limit {
            errors.push(error(&format!("is longer than {limit} characters")));
        } else if value.trim().is_empty() {
            if field.required {
                errors.push(error("is required"));
            }
        } else if let Some(message) = kind_error(&field.kind, value.trim()) {
            errors.push(error(message));
        }
        kept.push((field.name.clone(), value.to_owned()));
    }
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err(errors)
    }
}

/// A stored submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submission {
    /// Increasing id.
    pub id: i64,
    /// The form node's id.
    pub form: String,
    /// The page revision the visitor saw.
    pub revision: i64,
    /// Field name to value.
    pub values: Map<String, Value>,
    /// The field names in the form's order.
    pub fields: Vec<String>,
    /// When, ms since the epoch.
    pub created_ms: i64,
}

/// The submissions of every page.
#[derive(Debug, Clone)]
pub struct Submissions {
    db: Database,
}

impl Submissions {
    /// Submissions kept in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Stores one; returns its id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn add(
        &self,
        page: &str,
        form: &str,
        revision: i64,
        values: &[(String, String)],
    ) -> Result<i64, sqlx::Error> {
        // Pairs, so the form's order survives.
        let fields = serde_json::to_string(values).unwrap_or_else(|_| "[]".into());
        let row = sqlx::query(
            "INSERT INTO form_submissions (page_id, form_node, revision, fields, created_ms) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(page)
        .bind(form)
        .bind(revision)
        .bind(fields)
        .bind(now_ms())
        .fetch_one(self.db.pool())
        .await?;
        row.try_get::<i64, _>("id")
    }

    /// The page's submissions, newest first, with ids below `before`;
    /// only form `form`'s when given.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        page: &str,
        form: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Submission>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, form_node, revision, fields, created_ms FROM form_submissions \
             WHERE page_id = $1 AND ($2 = '' OR form_node = $3) AND id < $4 \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(page)
        .bind(form.unwrap_or(""))
        .bind(form.unwrap_or(""))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, MAX_PAGE))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let stored: String = row.try_get("fields")?;
                let pairs: Vec<(String, String)> =
                    serde_json::from_str(&stored).unwrap_or_default();
                Ok(Submission {
                    id: row.try_get("id")?,
                    form: row.try_get("form_node")?,
                    revision: row.try_get("revision")?,
                    fields: pairs.iter().map(|(name, _)| name.clone()).collect(),
                    values: pairs
                        .into_iter()
                        .map(|(name, value)| (name, Value::String(value)))
                        .collect(),
                    created_ms: row.try_get("created_ms")?,
                })
            })
            .collect()
    }
}

/// `ms` since the epoch as RFC 3339 in UTC (`2026-12-02T16:04:05.123Z`).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        ms.rem_euclid(1000)
    )
}

/// A cell a spreadsheet would not read as a formula: text starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// `submissions` as CSV: `id`, `submitted_at`, `form`, `revision`, then one
/// column per field name in order of first appearance (oldest first).
///
/// # Errors
/// Writing failed (it writes to memory; only a bug could).
pub fn csv(submissions: &[Submission]) -> Result<Vec<u8>, csv::Error> {
    let mut columns: Vec<&str> = Vec::new();
    for submission in submissions.iter().rev() {
        for name in &submission.fields {
            if !columns.contains(&name.as_str()) {
                columns.push(name);
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["id", "submitted_at", "form", "revision"];
    header.extend(columns.iter().copied());
    writer.write_record(
        header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .iter()
            .map(|c| c.as_ref()),
    )?;
    for submission in submissions.iter().rev() {
        let mut record = vec![
            submission.id.to_string(),
            rfc3339(submission.created_ms),
            cell(&submission.form).into_owned(),
            submission.revision.to_string(),
        ];
        for column in &columns {
            let value = submission
                .values
                .get(*column)
                .and_then(Value::as_str)
                .unwrap_or("");
            record.push(cell(value).into_owned());
        }
        writer.write_record(&record)?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// The form node `id` of `page`, if it is one.
///
/// # Errors
/// A message naming why not.
pub async fn form_node<'a>(
    materials: &Materials,
    page: &'a Page,
    id: &str,
) -> Result<&'a Node, String> {
    let node = page
        .node(id)
        .ok_or_else(|| format!("the page has no node {id:?}"))?;
    let loaded = materials
        .load_pinned(&node.material, &node.version)
        .await
        .map_err(|e| e.to_string())?;
    if loaded.info.structure.role == Role::Form {
        Ok(node)
    } else {
        Err(format!("node {id:?} is not a form"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str, required: bool, kind: &str) -> Field {
        Field {
            name: name.into(),
            required,
            kind: kind.into(),
        }
    }

    #[test]
    fn values_are_checked_against_the_fields() {
        let fields = [field("email", true, "email"), field("age", false, "number")];
        let ok = check(&fields, json!({"email": "a@b.co"}).as_object().unwrap()).unwrap();
        assert_eq!(
            ok,
            [
                ("email".into(), "a@b.co".into()),
                ("age".into(), String::new())
            ]
        );
        let errors = check(
            &fields,
            json!({"email": "nope", "age": "x", "extra": "1"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        let failing: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(failing, ["extra", "email", "age"]);
        let missing = check(&fields, json!({"age": 3}).as_object().unwrap()).unwrap_err();
        assert_eq!(missing.len(), 2, "{missing:?}");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let submissions = [Submission {
            id: 7,
            form: "signup".into(),
            revision: 2,
            values: json!({"name": "=HYPERLINK(\"x\")", "note": "a,\"b\"\nc"})
                .as_object()
                .unwrap()
                .clone(),
            fields: vec!["name".into(), "note".into()],
            created_ms: 0,
        }];
        let text = String::from_utf8(csv(&submissions).unwrap()).unwrap();
        assert!(
            text.starts_with("id,submitted_at,form,revision,name,note\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "7,1970-01-01T00:00:00.000Z,signup,2,\"'=HYPERLINK(\"\"x\"\")\",\"a,\"\"b\"\"\nc\""
            ),
            "{text}"
        );
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(1_796_227_445_123), "2026-12-02T16:04:05.123Z");
    }
}

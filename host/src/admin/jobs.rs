//! Admin operations that may outlast their request: an activation that
//! fetches and compiles a large component takes seconds to a minute. Each
//! runs as a job on this node, to its end whatever happens to the request
//! that started it (a client that hangs up never leaves a version half
//! activated); the request waits for it up to `wait_ms`, then answers
//! `202 Accepted` with the job, which `GET /api/admin/jobs/{id}` follows.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::Instrument as _;

use super::Admin;
use crate::error::{ApiError, ApiPath};
use crate::server::AppState;

/// Jobs kept for `GET /api/admin/jobs/{id}`; the oldest finished ones go
/// first.
const KEPT: usize = 256;

/// How a job ended.
#[derive(Debug, Clone)]
enum Ended {
    Done(Value),
    Failed(ApiError),
}

/// One operation running (or run) on this node.
#[derive(Debug)]
pub struct Job {
    id: String,
    kind: &'static str,
    plugin: String,
    version: String,
    started_ms: i64,
    started: Instant,
    ended: watch::Sender<Option<(Ended, f64)>>,
}

/// A job as `GET /api/admin/jobs/{id}` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    /// The job's id.
    pub id: String,
    /// What it does: `activate`.
    pub kind: &'static str,
    /// The plugin it is about.
    pub plugin: String,
    /// The version it is about.
    pub version: String,
    /// `running`, `done` or `failed`.
    pub status: &'static str,
    /// When it started, ms since the Unix epoch.
    pub started_ms: i64,
    /// How long it ran (so far), ms.
    pub elapsed_ms: f64,
    /// Where to follow it.
    pub href: String,
    /// When done: what the operation answers (an activation's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// When failed: the error the operation answers, with its HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
}

impl Job {
    /// Waits up to `wait` for the job's end: its answer, or `None` while it
    /// runs.
    pub async fn wait(&self, wait: Duration) -> Option<Result<Value, ApiError>> {
        // No wait: the state now, without yielding to the job.
        if !wait.is_zero() {
            let mut ended = self.ended.subscribe();
            let _ = tokio::time::timeout(wait, ended.wait_for(Option::is_some)).await;
        }
        let ended = self.ended.borrow().clone();
        ended.map(|(ended, _)| match ended {
            Ended::Done(value) => Ok(value),
            Ended::Failed(err) => Err(err),
        })
    }

    /// What `GET /api/admin/jobs/{id}` shows.
    pub fn view(&self) -> JobView {
        let ended = self.ended.borrow().clone();
        let (status, elapsed_ms, result, error) = match ended {
            None => (
                "running",
                self.started.elapsed().as_secs_f64() * 1000.0,
                None,
                None,
            ),
            Some((Ended::Done(value), ms)) => ("done", ms, Some(value), None),
            Some((Ended::Failed(err), ms)) => (
                "failed",
                ms,
                None,
                Some(json!({
                    "status": err.status.as_u16(),
                    "code": err.code,
                    "message": err.message,
                })),
            ),
        };
        JobView {
            id: self.id.clone(),
            kind: self.kind,
            plugin: self.plugin.clone(),
            version: self.version.clone(),
            status,
            started_ms: self.started_ms,
            elapsed_ms,
            href: format!("/api/admin/jobs/{}", self.id),
            result,
            error,
        }
    }

    fn running(&self) -> bool {
        self.ended.borrow().is_none()
    }
}

/// The jobs of this node.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<VecDeque<Arc<Job>>>,
}

impl Jobs {
    /// Starts `work` as a job about `version` of `plugin`. It runs to its
    /// end on its own task, in the request's span and with its request id.
    pub fn start<F>(&self, kind: &'static str, plugin: String, version: String, work: F) -> Arc<Job>
    where
        F: Future<Output = Result<Value, ApiError>> + Send + 'static,
    {
        let (ended, _) = watch::channel(None);
        let job = Arc::new(Job {
            id: uuid::Uuid::new_v4().simple().to_string(),
            kind,
            plugin,
            version,
            started_ms: crate::store::now_ms(),
            started: Instant::now(),
            ended,
        });
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
            jobs.push_back(job.clone());
            while jobs.len() > KEPT {
                match jobs.iter().position(|j| !j.running()) {
                    Some(oldest) => drop(jobs.remove(oldest)),
                    None => break,
                }
            }
        }
        let running = job.clone();
        let work = crate::error::in_request(crate::error::request_id(), work)
            .instrument(tracing::Span::current());
        tokio::spawn(async move {
            let ended = match work.await {
                Ok(value) => Ended::Done(value),
                Err(err) => Ended::Failed(err),
            };
            let ms = running.started.elapsed().as_secs_f64() * 1000.0;
            running.ended.send_replace(Some((ended, ms)));
        });
        job
    }

    /// The job `id`, while it is kept.
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|j| j.id == id)
            .cloned()
    }
}

/// The answer of a request that started `job` and waited `wait` for it:
/// the operation's own answer when it ended, else `202` with the job.
pub async fn answer(job: &Job, wait: Duration) -> Result<Response, ApiError> {
    match job.wait(wait).await {
        Some(Ok(value)) => Ok(Json(value).into_response()),
        Some(Err(err)) => Err(err),
        None => {
            let view = job.view();
            let location = view.href.clone();
            Ok((
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                Json(view),
            )
                .into_response())
        }
    }
}

/// An operation started by an admin request, as long as this node keeps it
/// (the last 256): running, done with its answer, or failed with its
/// error. Jobs live on the node that took the request.
#[utoipa::path(
    get,
    path = "/api/admin/jobs/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "job id, from a `202 Accepted` answer")),
    security(("admin" = [])),
    responses((status = 200, description = "the job", body = JobView), crate::server::openapi::Refusals),
)]
pub(super) async fn job(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<JobView>, ApiError> {
    state
        .jobs
        .get(&id)
        .map(|job| Json(job.view()))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown-job", format!("no job {id} on this node (jobs are kept on the node that started them, the last {KEPT})")))
}

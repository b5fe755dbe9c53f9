//! Tasks (2025-11-25, experimental): task-augmented `tools/call`, `tasks/get`,
//! `tasks/result`, `tasks/list`, `tasks/cancel` and `notifications/tasks/status`.
//!
//! Tasks live in the legacy session that created them and expire after their TTL.
//! A task's messages (progress, logs, requests to the client) carry the
//! `io.modelcontextprotocol/related-task` metadata. This module must never hold the
//! session lock across an `.await` and never let a terminal task change status.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::{AbortHandle, Abortable};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use crate::defects::Defect;
use crate::jsonrpc::{self, RpcError};
use crate::pagination;
use crate::server::{Connection, Ctx, Fut, Reply};

pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
const DEFAULT_TTL_MS: u64 = 300_000;
const MAX_TTL_MS: u64 = 3_600_000;
const MIN_TTL_MS: u64 = 1_000;
const POLL_INTERVAL_MS: u64 = 100;

/// One task of a session.
#[derive(Debug)]
pub(crate) struct TaskEntry {
    id: String,
    status: &'static str,
    status_message: Option<String>,
    created_at: SystemTime,
    updated_at: SystemTime,
    ttl_ms: u64,
    outcome: Option<Result<Value, RpcError>>,
    waiters: Vec<oneshot::Sender<()>>,
    abort: Option<AbortHandle>,
}

fn terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

/// RFC 3339 / ISO 8601 UTC timestamp with milliseconds.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
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
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis()
    )
}

fn task_json(t: &TaskEntry) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("taskId".into(), json!(t.id));
    m.insert("status".into(), json!(t.status));
    if let Some(s) = &t.status_message {
        m.insert("statusMessage".into(), json!(s));
    }
    m.insert("createdAt".into(), json!(iso8601(t.created_at)));
    m.insert("lastUpdatedAt".into(), json!(iso8601(t.updated_at)));
    m.insert("ttl".into(), json!(t.ttl_ms));
    m.insert("pollInterval".into(), json!(POLL_INTERVAL_MS));
    m
}

fn expire(tasks: &mut Vec<TaskEntry>) {
    let now = SystemTime::now();
    tasks.retain(|t| {
        let age = now.duration_since(t.created_at).unwrap_or(Duration::ZERO);
        age < Duration::from_millis(t.ttl_ms)
    });
}

/// Whether tasks are offered on this request (2025-11-25 sessions).
pub(crate) fn enabled(ctx: &Ctx) -> bool {
    !ctx.req.modern && ctx.version() == crate::version::Version::V2025_11_25
}

/// The `tasks` server capability.
pub(crate) fn capability() -> Value {
    json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}})
}

/// Adds the related-task metadata to a message's params (requests and notifications).
pub(crate) fn tag(params: &mut Value, task_id: &str) {
    if let Some(p) = params.as_object_mut() {
        let meta = p.entry("_meta").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert(RELATED_TASK.into(), json!({"taskId": task_id}));
        }
    }
}

/// Moves a non-terminal task to `status` (input_required <-> working).
pub(crate) fn set_status(conn: &Connection, id: &str, status: &'static str, message: Option<&str>) {
    let mut s = conn.state();
    if let Some(t) = s.tasks.iter_mut().find(|t| t.id == id)
        && !terminal(t.status)
        && t.status != status
    {
        t.status = status;
        t.status_message = message.map(str::to_string);
        t.updated_at = SystemTime::now();
        let snapshot = task_json(t);
        drop(s);
        conn.send(
            jsonrpc::notification("notifications/tasks/status", Some(Value::Object(snapshot))),
            None,
        );
    }
}

/// Starts `work` as a task and answers with a `CreateTaskResult`.
pub(crate) fn create(
    ctx: &Ctx,
    task_id: String,
    requested_ttl: Option<u64>,
    work: Fut,
) -> Result<Value, RpcError> {
    let conn = ctx.conn.clone();
    let now = SystemTime::now();
    let ttl_ms = requested_ttl
        .unwrap_or(DEFAULT_TTL_MS)
        .clamp(MIN_TTL_MS, MAX_TTL_MS);
    let (handle, registration) = AbortHandle::new_pair();
    let entry = TaskEntry {
        id: task_id.clone(),
        status: "working",
        status_message: Some("The operation is now in progress.".into()),
        created_at: now,
        updated_at: now,
        ttl_ms,
        outcome: None,
        waiters: vec![],
        abort: Some(handle),
    };
    let mut created = task_json(&entry);
    if ctx.has(Defect::TaskCreatedPending) {
        created.insert("status".into(), json!("pending"));
    }
    {
        let mut s = conn.state();
        expire(&mut s.tasks);
        s.tasks.push(entry);
    }
    let id = task_id.clone();
    tokio::spawn(async move {
        let Ok(outcome) = Abortable::new(work, registration).await else {
            return;
        };
        let failed = match &outcome {
            Err(_) => true,
            Ok(v) => v.get("isError") == Some(&json!(true)),
        };
        let mut s = conn.state();
        let Some(t) = s.tasks.iter_mut().find(|t| t.id == id) else {
            return;
        };
        if terminal(t.status) {
            return; // cancelled meanwhile: stays cancelled
        }
        t.status = if failed { "failed" } else { "completed" };
        t.status_message = Some(
            if failed {
                "The operation failed."
            } else {
                "The operation completed."
            }
            .into(),
        );
        t.updated_at = SystemTime::now();
        t.outcome = Some(outcome);
        t.abort = None;
        let waiters: Vec<_> = t.waiters.drain(..).collect();
        let snapshot = task_json(t);
        drop(s);
        // The status notification goes out before any blocked tasks/result answers.
        conn.send(
            jsonrpc::notification("notifications/tasks/status", Some(Value::Object(snapshot))),
            None,
        );
        for w in waiters {
            let _ = w.send(());
        }
    });
    let mut result = Map::new();
    result.insert("task".into(), Value::Object(created));
    result.insert(
        "_meta".into(),
        json!({"io.modelcontextprotocol/model-immediate-response": format!("Started task {task_id}; its result will be available later.")}),
    );
    Ok(Value::Object(result))
}

fn task_id_param(params: &Map<String, Value>, method: &str) -> Result<String, RpcError> {
    params
        .get("taskId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| RpcError::invalid_params(format!("{method}: taskId (string) is required")))
}

fn not_found(ctx: &Ctx, id: &str) -> RpcError {
    let message = format!("Failed to retrieve task: Task not found ({id})");
    if ctx.has(Defect::UnknownTaskWrongCode) {
        return RpcError::internal(message);
    }
    RpcError::invalid_params(message)
}

pub(crate) fn get(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let id = task_id_param(params, "tasks/get")?;
    let mut s = ctx.conn.state();
    expire(&mut s.tasks);
    let t = s
        .tasks
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found(ctx, &id))?;
    let mut task = task_json(t);
    if ctx.has(Defect::TaskTimestampsNotRfc3339) {
        for key in ["createdAt", "lastUpdatedAt"] {
            if let Some(Value::String(ts)) = task.get_mut(key) {
                // "2026-12-06T10:00:00.000Z" -> "2026-12-06 10:00:00"
                *ts = ts.replace('T', " ").chars().take(19).collect();
            }
        }
    }
    Ok(Value::Object(task))
}

pub(crate) fn list(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let items: Vec<Value> = {
        let mut s = ctx.conn.state();
        expire(&mut s.tasks);
        let shown = if ctx.has(Defect::TasksListMissesNewest) {
            s.tasks.len().saturating_sub(1)
        } else {
            s.tasks.len()
        };
        s.tasks[..shown]
            .iter()
            .map(|t| Value::Object(task_json(t)))
            .collect()
    };
    pagination::page(ctx, "tasks", "tasks", items, params)
}

fn with_related(
    outcome: Result<Value, RpcError>,
    id: &str,
    tagged: bool,
) -> Result<Value, RpcError> {
    outcome.map(|mut v| {
        if tagged {
            tag(&mut v, id);
        }
        v
    })
}

pub(crate) fn result(ctx: &Ctx, params: &Map<String, Value>) -> Reply {
    let tagged = !ctx.has(Defect::TaskMissingRelatedTask);
    let id = match task_id_param(params, "tasks/result") {
        Ok(id) => id,
        Err(e) => return Reply::Now(Err(e)),
    };
    let rx = {
        let mut s = ctx.conn.state();
        expire(&mut s.tasks);
        let Some(t) = s.tasks.iter_mut().find(|t| t.id == id) else {
            return Reply::Now(Err(not_found(ctx, &id)));
        };
        if terminal(t.status) {
            let outcome = t
                .outcome
                .clone()
                .unwrap_or_else(|| Err(RpcError::internal("The task was cancelled")));
            return Reply::Now(with_related(outcome, &id, tagged));
        }
        if ctx.has(Defect::TaskResultNotBlocking) {
            return Reply::Now(Err(RpcError::invalid_request(
                "The task has not finished yet",
            )));
        }
        let (tx, rx) = oneshot::channel();
        t.waiters.push(tx);
        rx
    };
    let conn = ctx.conn.clone();
    Reply::Later(Box::pin(async move {
        let _ = rx.await;
        let s = conn.state();
        let outcome = s
            .tasks
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.outcome.clone())
            .unwrap_or_else(|| Err(RpcError::internal("The task was cancelled")));
        drop(s);
        with_related(outcome, &id, tagged)
    }))
}

pub(crate) fn cancel(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let id = task_id_param(params, "tasks/cancel")?;
    let mut s = ctx.conn.state();
    expire(&mut s.tasks);
    let t = s
        .tasks
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found(ctx, &id))?;
    if terminal(t.status) && !ctx.has(Defect::TaskCancelTerminalAccepted) {
        return Err(RpcError::invalid_params(format!(
            "Task {id} is already {}",
            t.status
        )));
    }
    if let Some(h) = t.abort.take() {
        h.abort();
    }
    t.status = "cancelled";
    t.status_message = Some("The task was cancelled by request.".into());
    t.updated_at = SystemTime::now();
    t.outcome = Some(Err(RpcError::internal("The task was cancelled")));
    let waiters: Vec<_> = t.waiters.drain(..).collect();
    let snapshot = task_json(t);
    drop(s);
    ctx.conn.send(
        jsonrpc::notification(
            "notifications/tasks/status",
            Some(Value::Object(snapshot.clone())),
        ),
        None,
    );
    for w in waiters {
        let _ = w.send(());
    }
    Ok(Value::Object(snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_millis(1_764_066_600_123)),
            "2025-11-25T10:30:00.123Z"
        );
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }
}

//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on 2026-07-28:
//! server-directed task creation for `tools/call` (a flat `CreateTaskResult`,
//! `resultType: "task"`), `tasks/get` (a `DetailedTask` with the result, error or
//! outstanding `inputRequests` inlined), `tasks/update` (answers to `inputRequests`) and
//! `tasks/cancel` (an empty acknowledgement).
//!
//! Only requests whose per-request client capabilities declare the extension see any of
//! it. Tasks are server-wide (stateless requests have no session) and keyed by an
//! unguessable id; they expire after their `ttlMs`. The 2025-11-25 tasks of a legacy
//! session are `tasks.rs`. This module must never hold the store lock across an
//! `.await`, and a terminal task never changes status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures_util::future::{AbortHandle, Abortable};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use crate::defects::Defect;
use crate::jsonrpc::{self, RpcError};
use crate::server::{Ctx, Fut};
use crate::tasks::iso8601;

pub const EXTENSION: &str = "io.modelcontextprotocol/tasks";
const TTL_MS: u64 = 600_000;
const POLL_INTERVAL_MS: u64 = 200;
/// At most this many tasks are kept; the oldest terminal ones go first.
const MAX_TASKS: usize = 4096;

/// Whether this request's client capabilities declare the extension.
pub(crate) fn declared(ctx: &Ctx) -> bool {
    ctx.req.modern
        && ctx
            .req
            .client_caps
            .get("extensions")
            .and_then(|e| e.get(EXTENSION))
            .is_some_and(Value::is_object)
}

/// `MissingRequiredClientCapability` naming the extension.
pub(crate) fn missing_capability() -> RpcError {
    RpcError::new(
        jsonrpc::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!("Missing required client capability: the {EXTENSION} extension"),
    )
    .with_data(json!({"requiredCapabilities": {"extensions": {EXTENSION: {}}}}))
}

/// How a tool uses tasks: `Optional` runs synchronously for clients without the
/// extension; `Required` cannot be served to them (-32021).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    Optional,
    Required,
}

/// The task fixtures (2026-07-28 only).
pub(crate) fn support(tool: &str) -> Option<Support> {
    match tool {
        "slow_compute" | "protocol_error_job" => Some(Support::Optional),
        "failing_job" | "confirm_delete" | "multi_input" | "test_tool_with_task" => {
            Some(Support::Required)
        }
        _ => None,
    }
}

struct Entry {
    status: &'static str,
    status_message: Option<String>,
    created_at: SystemTime,
    updated_at: SystemTime,
    ttl_ms: u64,
    result: Option<Value>,
    error: Option<Value>,
    /// Outstanding input requests, by key, and where each answer goes.
    inputs: Map<String, Value>,
    waiting: HashMap<String, oneshot::Sender<Value>>,
    abort: Option<AbortHandle>,
}

fn terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

impl Entry {
    fn set(&mut self, status: &'static str, message: &str) {
        self.status = status;
        self.status_message = Some(message.to_string());
        self.updated_at = SystemTime::now();
    }

    /// The `Task` fields (the seed state of a `CreateTaskResult`).
    fn task(&self, id: &str, d: &crate::defects::Defects) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("taskId".into(), json!(id));
        m.insert("status".into(), json!(self.status));
        if let Some(s) = &self.status_message {
            m.insert("statusMessage".into(), json!(s));
        }
        m.insert("createdAt".into(), json!(iso8601(self.created_at)));
        m.insert("lastUpdatedAt".into(), json!(iso8601(self.updated_at)));
        if d.has(Defect::TaskLegacyWireFields) {
            m.insert("ttl".into(), json!(self.ttl_ms));
            m.insert("pollInterval".into(), json!(POLL_INTERVAL_MS));
        } else {
            m.insert("ttlMs".into(), json!(self.ttl_ms));
            m.insert("pollIntervalMs".into(), json!(POLL_INTERVAL_MS));
        }
        m
    }

    /// The `DetailedTask`: the task plus what its status carries.
    fn detailed(&self, id: &str, d: &crate::defects::Defects) -> Map<String, Value> {
        let mut m = self.task(id, d);
        match self.status {
            "input_required" => {
                m.insert("inputRequests".into(), Value::Object(self.inputs.clone()));
            }
            "completed" => {
                if let Some(r) = &self.result {
                    m.insert("result".into(), r.clone());
                }
            }
            "failed" => {
                if let Some(e) = &self.error {
                    m.insert("error".into(), e.clone());
                }
            }
            _ => {}
        }
        m
    }

    fn expired(&self, now: SystemTime) -> bool {
        now.duration_since(self.created_at)
            .unwrap_or(Duration::ZERO)
            >= Duration::from_millis(self.ttl_ms)
    }
}

/// Every task of the server.
#[derive(Default)]
pub struct Store {
    tasks: Mutex<HashMap<String, Entry>>,
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        let mut g = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let now = SystemTime::now();
        g.retain(|_, t| !t.expired(now));
        g
    }
}

fn store(ctx: &Ctx) -> Arc<crate::modern::Hub> {
    ctx.conn.config().hub.clone()
}

/// What a task's work can do besides computing: ask the client for input.
pub(crate) struct TaskHandle {
    hub: Arc<crate::modern::Hub>,
    id: String,
}

impl TaskHandle {
    /// Moves the task to `input_required` with `requests` (key -> request) and waits
    /// until every key is answered through `tasks/update`; then it is `working` again.
    pub(crate) async fn ask(
        &self,
        requests: Vec<(String, Value)>,
    ) -> Result<Map<String, Value>, RpcError> {
        let mut receivers = Vec::new();
        {
            let mut tasks = self.hub.tasks.lock();
            let Some(t) = tasks.get_mut(&self.id).filter(|t| !terminal(t.status)) else {
                return Err(RpcError::internal("the task is gone"));
            };
            for (key, request) in requests {
                let (tx, rx) = oneshot::channel();
                t.inputs.insert(key.clone(), request);
                t.waiting.insert(key.clone(), tx);
                receivers.push((key, rx));
            }
            t.set("input_required", "Waiting for input from the client.");
        }
        let mut answers = Map::new();
        for (key, rx) in receivers {
            let answer = rx
                .await
                .map_err(|_| RpcError::internal("the task ended while waiting for input"))?;
            answers.insert(key, answer);
        }
        Ok(answers)
    }
}

/// Creates a task running `work` and answers with the flat `CreateTaskResult`. The
/// task is in the store before this returns, so an immediate `tasks/get` finds it.
pub(crate) fn create(ctx: &Ctx, work: impl FnOnce(TaskHandle) -> Fut) -> Result<Value, RpcError> {
    let hub = store(ctx);
    let id = crate::random_token(16);
    let now = SystemTime::now();
    let (abort, registration) = AbortHandle::new_pair();
    let entry = Entry {
        status: "working",
        status_message: Some("The operation is now in progress.".into()),
        created_at: now,
        updated_at: now,
        ttl_ms: TTL_MS,
        result: None,
        error: None,
        inputs: Map::new(),
        waiting: HashMap::new(),
        abort: Some(abort),
    };
    let defects = ctx.conn.defects();
    let mut created = entry.task(&id, &defects);
    created.insert("resultType".into(), json!("task"));
    {
        let mut tasks = hub.tasks.lock();
        if tasks.len() >= MAX_TASKS {
            let oldest = tasks
                .iter()
                .filter(|(_, t)| terminal(t.status))
                .min_by_key(|(_, t)| t.updated_at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    tasks.remove(&k);
                }
                None => return Err(RpcError::internal("too many tasks are running")),
            }
        }
        tasks.insert(id.clone(), entry);
    }
    let fut = work(TaskHandle {
        hub: hub.clone(),
        id: id.clone(),
    });
    let related_meta = defects.has(Defect::TaskResultRelatedMeta);
    tokio::spawn(async move {
        let Ok(outcome) = Abortable::new(fut, registration).await else {
            return; // cancelled: tasks/cancel already settled the status
        };
        let mut tasks = hub.tasks.lock();
        let Some(t) = tasks.get_mut(&id).filter(|t| !terminal(t.status)) else {
            return;
        };
        t.abort = None;
        t.inputs.clear();
        t.waiting.clear();
        match outcome {
            Ok(mut result) => {
                if let Some(o) = result.as_object_mut() {
                    o.insert("resultType".into(), json!("complete"));
                    if related_meta {
                        o.insert(
                            "_meta".into(),
                            json!({crate::tasks::RELATED_TASK: {"taskId": id}}),
                        );
                    }
                }
                t.result = Some(result);
                t.set("completed", "The operation completed.");
            }
            Err(e) => {
                t.error = Some(jsonrpc::failure(Value::Null, &e)["error"].clone());
                t.set("failed", "The operation failed with a protocol error.");
            }
        }
    });
    Ok(Value::Object(created))
}

fn task_id(params: &Map<String, Value>, method: &str) -> Result<String, RpcError> {
    params
        .get("taskId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| RpcError::invalid_params(format!("{method}: taskId (string) is required")))
}

fn not_found(id: &str) -> RpcError {
    RpcError::invalid_params(format!("Failed to retrieve task: Task not found ({id})"))
}

/// The gate every `tasks/*` method passes first.
fn gate(ctx: &Ctx) -> Result<(), RpcError> {
    if declared(ctx) || ctx.has(Defect::TasksUngated) {
        Ok(())
    } else {
        Err(missing_capability())
    }
}

pub(crate) fn get(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    gate(ctx)?;
    let id = task_id(params, "tasks/get")?;
    let tasks = store(ctx);
    let tasks = tasks.tasks.lock();
    let t = tasks.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(Value::Object(t.detailed(&id, &ctx.conn.defects())))
}

pub(crate) fn update(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    gate(ctx)?;
    let id = task_id(params, "tasks/update")?;
    let Some(responses) = params.get("inputResponses").and_then(Value::as_object) else {
        return Err(RpcError::invalid_params(
            "tasks/update: inputResponses (object) is required",
        ));
    };
    let hub = store(ctx);
    let mut tasks = hub.tasks.lock();
    let t = tasks.get_mut(&id).ok_or_else(|| not_found(&id))?;
    // Keys that are not outstanding (never issued, already answered) are ignored.
    for (key, answer) in responses {
        if let Some(tx) = t.waiting.remove(key) {
            t.inputs.remove(key);
            let _ = tx.send(answer.clone());
        }
    }
    if t.status == "input_required" && t.inputs.is_empty() {
        t.set("working", "The operation is now in progress.");
    }
    Ok(json!({}))
}

pub(crate) fn cancel(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    gate(ctx)?;
    let id = task_id(params, "tasks/cancel")?;
    let hub = store(ctx);
    let mut tasks = hub.tasks.lock();
    let t = tasks.get_mut(&id).ok_or_else(|| not_found(&id))?;
    if !terminal(t.status) {
        if let Some(h) = t.abort.take() {
            h.abort();
        }
        t.inputs.clear();
        t.waiting.clear();
        t.set("cancelled", "The task was cancelled by request.");
    }
    Ok(json!({}))
}

// ---- the fixtures' work ----

fn text_result(text: impl Into<String>, is_error: bool) -> Value {
    let mut r = json!({"content": [{"type": "text", "text": text.into()}]});
    if is_error {
        r["isError"] = json!(true);
    }
    r
}

fn elicit(message: &str, properties: Value, required: &[&str]) -> Value {
    json!({"method": "elicitation/create", "params": {
        "mode": "form",
        "message": message,
        "requestedSchema": {"type": "object", "properties": properties, "required": required}
    }})
}

/// The accepted content of an ElicitResult (None: declined, cancelled or malformed).
fn accepted(answer: &Value) -> Option<&Map<String, Value>> {
    (answer.get("action").and_then(Value::as_str) == Some("accept"))
        .then(|| answer.get("content").and_then(Value::as_object))
        .flatten()
}

/// The work of fixture `tool` as a task.
pub(crate) fn work(tool: &str, args: &Map<String, Value>, task: TaskHandle) -> Fut {
    let args = args.clone();
    let tool = tool.to_string();
    Box::pin(async move {
        match tool.as_str() {
            "slow_compute" => {
                let (seconds, label) = slow_args(&args);
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                Ok(text_result(
                    format!("Computed {label} in {seconds}s"),
                    false,
                ))
            }
            "failing_job" => {
                tokio::time::sleep(Duration::from_millis(1000)).await;
                Ok(text_result(
                    "failing_job: the job ran and reported an error",
                    true,
                ))
            }
            "protocol_error_job" => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Err(RpcError::internal(
                    "protocol_error_job: the job crashed (internal error)",
                ))
            }
            "confirm_delete" => {
                let file = args
                    .get("filename")
                    .and_then(Value::as_str)
                    .unwrap_or("the file")
                    .to_string();
                let a = task
                    .ask(vec![(
                        "confirm".into(),
                        elicit(
                            &format!("Delete {file}?"),
                            json!({"confirm": {"type": "boolean", "description": "Delete the file"}}),
                            &["confirm"],
                        ),
                    )])
                    .await?;
                let yes = a
                    .get("confirm")
                    .and_then(accepted)
                    .and_then(|c| c.get("confirm"))
                    .and_then(Value::as_bool)
                    == Some(true);
                Ok(text_result(
                    if yes {
                        format!("Deleted {file}")
                    } else {
                        format!("Kept {file}: the deletion was not confirmed")
                    },
                    false,
                ))
            }
            "multi_input" => {
                let a = task
                    .ask(vec![
                        (
                            "name".into(),
                            elicit(
                                "What is your name?",
                                json!({"name": {"type": "string"}}),
                                &["name"],
                            ),
                        ),
                        (
                            "confirmation".into(),
                            elicit(
                                "Proceed?",
                                json!({"confirm": {"type": "boolean"}}),
                                &["confirm"],
                            ),
                        ),
                    ])
                    .await?;
                let name = a
                    .get("name")
                    .and_then(accepted)
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("(no name)")
                    .to_string();
                let confirmed = a
                    .get("confirmation")
                    .and_then(accepted)
                    .and_then(|c| c.get("confirm"))
                    .and_then(Value::as_bool)
                    == Some(true);
                Ok(text_result(
                    format!("Hello, {name}! Confirmed: {confirmed}"),
                    false,
                ))
            }
            "test_tool_with_task" => {
                let name = args
                    .get("user_name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(text_result(format!("Hello, {name}!"), false))
            }
            other => Err(RpcError::internal(format!("{other} is not a task fixture"))),
        }
    })
}

/// `slow_compute` arguments: seconds (0..=600, default 0.1) and a label.
pub(crate) fn slow_args(args: &Map<String, Value>) -> (f64, String) {
    let seconds = args
        .get("seconds")
        .and_then(Value::as_f64)
        .unwrap_or(0.1)
        .clamp(0.0, 600.0);
    let label = args
        .get("label")
        .and_then(Value::as_str)
        .unwrap_or("slow_compute")
        .to_string();
    (seconds, label)
}

/// `test_tool_with_task`: the user's name gathered by a multi round-trip request first
/// (synchronously, `user_name`), then the work runs as a task.
pub(crate) async fn mrtr_then_task(ctx: Ctx, args: Map<String, Value>) -> Result<Value, RpcError> {
    let params = json!({
        "mode": "form",
        "message": "What is your name?",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    });
    let answer = match ctx
        .client_request(
            "elicitation",
            Defect::ElicitationWithoutCapability,
            "user_name",
            "elicitation/create",
            params,
        )
        .await
    {
        Ok(a) => a,
        Err(crate::server::ClientError::InputRequired(requests, stage)) => {
            return Ok(crate::modern::input_required(&ctx, requests, &stage));
        }
        Err(crate::server::ClientError::NoCapability(cap)) => {
            return Err(RpcError::new(
                jsonrpc::MISSING_REQUIRED_CLIENT_CAPABILITY,
                format!("Server requires the {cap} capability for this request"),
            )
            .with_data(json!({"requiredCapabilities": {cap: {}}})));
        }
        Err(e) => return Err(RpcError::internal(e.to_string())),
    };
    if !answer.is_object() {
        return Err(RpcError::invalid_params(
            "inputResponses.user_name must be an ElicitResult object",
        ));
    }
    let name = accepted(&answer)
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("(declined)")
        .to_string();
    let mut work_args = args;
    work_args.insert("user_name".into(), json!(name));
    create(&ctx, |task| work("test_tool_with_task", &work_args, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_and_support() {
        assert_eq!(support("slow_compute"), Some(Support::Optional));
        assert_eq!(support("failing_job"), Some(Support::Required));
        assert_eq!(support("greet"), None);
        assert_eq!(slow_args(&Map::new()).0, 0.1);
        let big: Map<String, Value> = json!({"seconds": 1e9}).as_object().cloned().unwrap();
        assert_eq!(slow_args(&big).0, 600.0);
    }
}

//! The protocol core: one `Connection` per client connection (a stdio process, an HTTP
//! session, or a stateless 2026-07-28 exchange), holding the session state and mapping
//! each incoming message to outgoing messages.
//!
//! Outgoing messages (responses, notifications, server->client requests) all go through
//! one unbounded channel of `Outgoing`, tagged with the request they belong to, so that a
//! transport can route them (stdio writes them in order; HTTP puts them on the right
//! stream). Work that takes time (a slow tool, a request to the client) runs in spawned
//! tasks registered for cancellation.
//!
//! This module must never do IO itself (no stdin/stdout/sockets), never panic on any
//! input, and never hold the session lock across an `.await`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::{AbortHandle, Abortable};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::defects::{Defect, Defects};
use crate::jsonrpc::{self, Incoming, RpcError};
use crate::version::Version;
use crate::{completion, modern, prompts, resources, tasks, tools};

pub const SERVER_NAME: &str = "mcp-reference-server";
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Server-wide settings, shared by every connection.
#[derive(Debug, Clone)]
pub struct Config {
    pub defects: Defects,
    /// Items per page of every list method.
    pub page_size: usize,
    /// How long a tool waits for the client to answer a server->client request.
    pub client_request_timeout: Duration,
    /// Server-wide state shared by all connections (2026-07-28 listen streams).
    pub hub: Arc<crate::modern::Hub>,
    /// Where diagnostics go: stderr, or (a server embedded in another program, such
    /// as the harness running it in-process) this channel, one line per message.
    pub notes: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            defects: Defects::none(),
            page_size: 4,
            client_request_timeout: Duration::from_secs(30),
            hub: Arc::new(crate::modern::Hub::default()),
            notes: None,
        }
    }
}

impl Config {
    /// A diagnostic line, to stderr or to the `notes` channel.
    pub fn note(&self, line: String) {
        match &self.notes {
            Some(tx) => {
                let _ = tx.send(line);
            }
            None => note!("{line}"),
        }
    }

    pub fn with_defects(defects: Defects) -> Self {
        Config {
            defects,
            ..Config::default()
        }
    }
}

/// One message for the transport to deliver to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The JSON-RPC message. `Value::Null` is not a message but a signal: the request
    /// `related` ended without a response (it was cancelled); transports write nothing
    /// for it, but may close what they kept open for that request.
    pub message: Value,
    /// The id key (`jsonrpc::id_key`) of the client request this message belongs to
    /// (its response, or progress/log/server->client requests made while serving it);
    /// `None` for messages unrelated to any request (e.g. list_changed, resource updates).
    pub related: Option<String>,
}

/// RFC 5424 severities as MCP names them, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl LogLevel {
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s {
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "notice" => LogLevel::Notice,
            "warning" => LogLevel::Warning,
            "error" => LogLevel::Error,
            "critical" => LogLevel::Critical,
            "alert" => LogLevel::Alert,
            "emergency" => LogLevel::Emergency,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
            LogLevel::Critical => "critical",
            LogLevel::Alert => "alert",
            LogLevel::Emergency => "emergency",
        }
    }
}

/// Per-connection state of a legacy (initialize-based) session.
#[derive(Debug)]
pub(crate) struct Session {
    /// The negotiated version; `None` until `initialize` succeeded.
    pub version: Option<Version>,
    pub client_caps: Value,
    pub client_info: Value,
    pub initialized_notified: bool,
    pub log_level: LogLevel,
    pub subscriptions: HashSet<String>,
    /// Which of the dynamic `extra_*` primitives are offered (by `Extra as usize`).
    pub extras: [bool; 3],
    /// Whether the timer that changes the watched resource runs.
    pub watch_ticker: bool,
    /// 2025-11-25 tasks created in this session.
    pub tasks: Vec<crate::tasks::TaskEntry>,
    next_out_id: i64,
    pending: HashMap<String, oneshot::Sender<Result<Value, Value>>>,
    inflight: HashMap<String, AbortHandle>,
    pub closed: bool,
}

impl Session {
    fn new() -> Self {
        Session {
            version: None,
            client_caps: json!({}),
            client_info: Value::Null,
            initialized_notified: false,
            log_level: LogLevel::Debug,
            subscriptions: HashSet::new(),
            extras: [false; 3],
            watch_ticker: false,
            tasks: Vec::new(),
            next_out_id: 0,
            pending: HashMap::new(),
            inflight: HashMap::new(),
            closed: false,
        }
    }
}

/// Everything a handler knows about the request it serves.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub id: Value,
    pub key: String,
    pub method: String,
    pub version: Version,
    /// Served under 2026-07-28 per-request metadata (no session).
    pub modern: bool,
    pub client_caps: Value,
    /// 2026-07-28: the log level from `_meta` (None: no log messages for this request).
    pub meta_log_level: Option<LogLevel>,
    pub progress_token: Option<Value>,
    /// 2026-07-28: `inputResponses` sent on a retry, by key.
    pub input_responses: Map<String, Value>,
    /// 2026-07-28: `requestState` echoed back on a retry.
    pub request_state: Option<String>,
    /// 2026-07-28: what a minted `requestState` is bound to (e.g. the tool name).
    pub input_name: String,
    /// Defect request-state-unverified is on.
    pub accept_any_state: bool,
    /// 2025-11-25: the task this work runs for.
    pub related_task: Option<String>,
    /// 2026-07-28: the stage carried by a verified `requestState`.
    pub state_stage: Option<String>,
}

pub(crate) type Fut = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>;

/// How a request is answered: now, or by a future that runs as a cancellable task.
pub(crate) enum Reply {
    Now(Result<Value, RpcError>),
    Later(Fut),
}

/// The outcome of processing one (non-batch) message.
enum Pending {
    Ready(Option<Value>),
    Deferred { req: Arc<Req>, fut: Fut },
}

/// The dynamic primitives that toggle tools add and remove (list_changed fixtures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extra {
    Tool = 0,
    Prompt = 1,
    Resource = 2,
}

impl Extra {
    pub fn list_changed_method(self) -> &'static str {
        match self {
            Extra::Tool => "notifications/tools/list_changed",
            Extra::Prompt => "notifications/prompts/list_changed",
            Extra::Resource => "notifications/resources/list_changed",
        }
    }
}

/// Why a server->client request produced no result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClientError {
    /// The client did not declare the capability the request needs.
    NoCapability(&'static str),
    /// The client answered with a JSON-RPC error object.
    Rejected(Value),
    Timeout,
    Closed,
    /// The client has not sent `notifications/initialized` yet.
    NotInitialized,
    /// 2026-07-28: the client must be asked through an InputRequiredResult: the
    /// `inputRequests` map, and the stage its `requestState` carries.
    InputRequired(Value, String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::NoCapability(c) => {
                write!(f, "the client did not declare the {c} capability")
            }
            ClientError::Rejected(e) => {
                let msg = e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)");
                let code = e.get("code").cloned().unwrap_or(Value::Null);
                write!(f, "the client answered with error {code}: {msg}")
            }
            ClientError::Timeout => f.write_str("the client did not answer in time"),
            ClientError::Closed => f.write_str("the connection closed"),
            ClientError::NotInitialized => {
                f.write_str("the client has not sent notifications/initialized yet, so the server may not send it requests")
            }
            ClientError::InputRequired(..) => f.write_str("input from the client is required"),
        }
    }
}

/// A handle to one connection's core. Cheap to clone.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

/// Where a connection's outgoing messages go.
pub type Sink = Arc<dyn Fn(Outgoing) + Send + Sync>;

struct Inner {
    config: Arc<Config>,
    state: Mutex<Session>,
    out: Sink,
}

/// A weak handle to a connection (for server-wide registries).
#[derive(Clone)]
pub struct WeakConnection {
    inner: std::sync::Weak<Inner>,
}

impl WeakConnection {
    pub fn upgrade(&self) -> Option<Connection> {
        self.inner
            .upgrade()
            .map(|inner| Connection { inner })
            .filter(|c| !c.is_closed())
    }
}

/// The context a feature handler works with: the connection and the request.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub conn: Connection,
    pub req: Arc<Req>,
}

impl Connection {
    /// A new connection whose outgoing messages go to `out`.
    pub fn new(config: Arc<Config>, out: mpsc::UnboundedSender<Outgoing>) -> Connection {
        Connection::with_sink(
            config,
            Arc::new(move |o| {
                let _ = out.send(o);
            }),
        )
    }

    /// A new connection whose outgoing messages are handed to `sink`, synchronously,
    /// in order.
    pub fn with_sink(config: Arc<Config>, sink: Sink) -> Connection {
        Connection {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(Session::new()),
                out: sink,
            }),
        }
    }

    /// Whether two handles name the same connection.
    pub fn same_as(&self, other: &Connection) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub fn downgrade(&self) -> WeakConnection {
        WeakConnection {
            inner: Arc::downgrade(&self.inner),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn defects(&self) -> Defects {
        self.inner.config.defects
    }

    pub(crate) fn has(&self, d: Defect) -> bool {
        self.inner.config.defects.has(d)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, Session> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The negotiated legacy version, if `initialize` succeeded.
    pub fn negotiated_version(&self) -> Option<Version> {
        self.state().version
    }

    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Whether requests are still being served.
    pub fn has_inflight(&self) -> bool {
        !self.state().inflight.is_empty()
    }

    /// Ends the connection: aborts in-flight work and fails pending client requests.
    pub fn close(&self) {
        let mut s = self.state();
        s.closed = true;
        for (_, h) in s.inflight.drain() {
            h.abort();
        }
        s.pending.clear();
    }

    pub(crate) fn send(&self, message: Value, related: Option<String>) {
        if self.is_closed() {
            return;
        }
        (self.inner.out)(Outgoing { message, related });
    }

    /// Handles one line/body of bytes: parse errors are answered here.
    pub fn handle_bytes(&self, bytes: &[u8]) {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return self.parse_error("message is not valid UTF-8"),
        };
        // Blank means JSON whitespace only (RFC 8259 section 2: space, tab, LF, CR);
        // any other character, even one Unicode calls whitespace, is not JSON.
        if text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
            return;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(v) => self.handle_value(v),
            Err(e) => self.parse_error(&format!("invalid JSON: {e}")),
        }
    }

    fn parse_error(&self, detail: &str) {
        if self.has(Defect::ParseErrorSilent) {
            return;
        }
        let id = if self.has(Defect::ParseErrorWithId) {
            json!(0)
        } else {
            Value::Null
        };
        let e = RpcError::new(jsonrpc::PARSE_ERROR, format!("Parse error: {detail}"));
        let msg = self.respond(&id, Err(e), None);
        self.send(msg, None);
    }

    /// An error response for `id`, shaped like every other response (defects included).
    pub fn error_response(&self, id: &Value, e: RpcError) -> Value {
        self.respond(id, Err(e), None)
    }

    /// Treats the connection as initialized with `version` (used when a transport
    /// serves a request outside any session because of a defect).
    pub fn assume_initialized(&self, version: Version) {
        let mut s = self.state();
        s.version = Some(version);
        s.initialized_notified = true;
    }

    /// Handles one parsed JSON value: a message or a batch.
    pub fn handle_value(&self, v: Value) {
        match v {
            Value::Array(items) => self.handle_batch(items),
            other => {
                // Route by the request's own id (a defect may alter the id it echoes).
                let related = match jsonrpc::classify(&other) {
                    Incoming::Request { id, .. } => Some(jsonrpc::id_key(&id)),
                    Incoming::Invalid { id, .. } if !id.is_null() => Some(jsonrpc::id_key(&id)),
                    _ => None,
                };
                self.handle_single(other, related)
            }
        }
    }

    fn handle_single(&self, v: Value, related: Option<String>) {
        match self.process(v) {
            Pending::Ready(Some(msg)) => self.send_response(msg, related),
            Pending::Ready(None) => {}
            Pending::Deferred { req, fut } => self.spawn_single(req, fut),
        }
    }

    fn send_response(&self, msg: Value, related: Option<String>) {
        if self.has(Defect::DuplicateResponse) && msg.get("id").is_some_and(|id| !id.is_null()) {
            self.send(msg.clone(), related.clone());
        }
        self.send(msg, related);
    }

    /// Whether a JSON-RPC batch would be accepted now (by the negotiated version).
    pub fn accepts_batches(&self) -> bool {
        self.batch_allowed()
    }

    fn batch_allowed(&self) -> bool {
        match self.negotiated_version() {
            Some(Version::V2025_03_26) => !self.has(Defect::BatchRejected),
            // 2024-11-05 does not define batches but builds on JSON-RPC 2.0, which does;
            // the server accepts them there.
            Some(Version::V2024_11_05) => true,
            Some(_) => self.has(Defect::BatchAccepted),
            None => false,
        }
    }

    fn handle_batch(&self, items: Vec<Value>) {
        // The batch's answer belongs to its first request (transports route by it).
        let related = items.iter().find_map(|i| match jsonrpc::classify(i) {
            Incoming::Request { id, .. } => Some(jsonrpc::id_key(&id)),
            _ => None,
        });
        if items.is_empty() || !self.batch_allowed() {
            let reason = if items.is_empty() {
                "empty batch"
            } else if self.negotiated_version().is_none() {
                "batches are not accepted before initialization (initialize must not be batched)"
            } else {
                "JSON-RPC batches are not supported in this protocol version"
            };
            if !self.has(Defect::InvalidRequestSilent) {
                let msg = self.respond(&Value::Null, Err(RpcError::invalid_request(reason)), None);
                self.send(msg, related);
            }
            return;
        }
        let mut ready = Vec::new();
        let mut deferred = Vec::new();
        for item in items {
            let is_initialize = item.get("method").and_then(Value::as_str) == Some("initialize");
            if is_initialize {
                let id = item
                    .get("id")
                    .filter(|id| jsonrpc::valid_id(id))
                    .cloned()
                    .unwrap_or(Value::Null);
                let e = RpcError::invalid_request("initialize must not be part of a batch");
                ready.push(self.respond(&id, Err(e), None));
                continue;
            }
            match self.process(item) {
                Pending::Ready(Some(m)) => ready.push(m),
                Pending::Ready(None) => {}
                Pending::Deferred { req, fut } => deferred.push((req, fut)),
            }
        }
        if deferred.is_empty() {
            if !ready.is_empty() {
                self.send_batch(ready, related);
            } else if self.has(Defect::NotificationBatchAnswered) {
                // A batch of notifications only deserves no answer at all.
                self.send(Value::Array(Vec::new()), related);
            }
            return;
        }
        let conn = self.clone();
        let futs: Vec<_> = deferred
            .into_iter()
            .map(|(req, fut)| {
                let (abortable, _) = conn.register(&req, fut);
                let conn = conn.clone();
                async move {
                    let r = abortable.await;
                    conn.state().inflight.remove(&req.key);
                    match r {
                        Ok(r) => Some(conn.respond(&req.id, r, Some(&req))),
                        Err(_) => None,
                    }
                }
            })
            .collect();
        tokio::spawn(async move {
            let results = futures_util::future::join_all(futs).await;
            ready.extend(results.into_iter().flatten());
            if !ready.is_empty() {
                conn.send_batch(ready, related);
            }
        });
    }

    fn send_batch(&self, responses: Vec<Value>, related: Option<String>) {
        if self.has(Defect::BatchUnwrapped) {
            for r in responses {
                let key = r.get("id").filter(|id| !id.is_null()).map(jsonrpc::id_key);
                self.send(r, key);
            }
        } else {
            self.send(Value::Array(responses), related);
        }
    }

    fn register(&self, req: &Req, fut: Fut) -> (Abortable<Fut>, AbortHandle) {
        let (handle, registration) = AbortHandle::new_pair();
        self.state()
            .inflight
            .insert(req.key.clone(), handle.clone());
        (Abortable::new(fut, registration), handle)
    }

    fn spawn_single(&self, req: Arc<Req>, fut: Fut) {
        let (abortable, _) = self.register(&req, fut);
        let conn = self.clone();
        tokio::spawn(async move {
            let r = abortable.await;
            conn.state().inflight.remove(&req.key);
            if let Ok(r) = r {
                let msg = conn.respond(&req.id, r, Some(&req));
                conn.send_response(msg, Some(req.key.clone()));
                if let (Some(token), true) =
                    (&req.progress_token, conn.has(Defect::ProgressAfterResponse))
                {
                    let p = json!({"progressToken": token, "progress": 1000});
                    conn.send(
                        jsonrpc::notification("notifications/progress", Some(p)),
                        Some(req.key.clone()),
                    );
                }
            }
        });
    }

    /// Builds a response message, applying the response-shaping defects in one place.
    fn respond(&self, id: &Value, r: Result<Value, RpcError>, req: Option<&Req>) -> Value {
        let d = self.defects();
        let id = match id {
            Value::Number(n) if d.has(Defect::IdAsString) => Value::String(n.to_string()),
            // An id kept as a float once it no longer fits in 32 bits.
            Value::Number(n)
                if d.has(Defect::LargeIdAsFloat)
                    && n.as_i64().is_none_or(|v| v.unsigned_abs() > u64::from(u32::MAX)) =>
            {
                n.as_f64().map_or(Value::Null, |f| json!(f))
            }
            // The error path loses the request it answers.
            _ if r.is_err() && d.has(Defect::ErrorIdNull) => Value::Null,
            other => other.clone(),
        };
        let mut msg = match r {
            Ok(mut result) => {
                if let Some(req) = req.filter(|r| r.modern) {
                    modern::decorate_result(self, req, &mut result);
                }
                jsonrpc::success(id, result)
            }
            Err(mut e) => {
                if e.code == jsonrpc::INVALID_PARAMS && d.has(Defect::InvalidParamsWrongCode) {
                    e.code = jsonrpc::INTERNAL_ERROR;
                }
                if e.code == jsonrpc::METHOD_NOT_FOUND && d.has(Defect::UnknownMethodWrongCode) {
                    e.code = jsonrpc::INTERNAL_ERROR;
                }
                let mut m = jsonrpc::failure(id, &e);
                if d.has(Defect::ErrorWithoutMessage)
                    && let Some(eo) = m.get_mut("error").and_then(Value::as_object_mut)
                {
                    eo.remove("message");
                }
                if d.has(Defect::ResultAndError) {
                    m["result"] = json!({});
                }
                m
            }
        };
        if d.has(Defect::WrongJsonrpcVersion) {
            msg["jsonrpc"] = json!("1.0");
        }
        msg
    }

    fn process(&self, v: Value) -> Pending {
        match jsonrpc::classify(&v) {
            Incoming::Invalid { id, reason } => {
                if self.has(Defect::NullIdAccepted)
                    && let Some(obj) = v.as_object()
                    && obj.get("id") == Some(&Value::Null)
                    && obj.get("jsonrpc") == Some(&json!("2.0"))
                    && let Some(method) = obj.get("method").and_then(Value::as_str)
                {
                    return self.process_request(Value::Null, method, obj.get("params").cloned());
                }
                if let Some(obj) = v.as_object()
                    && obj.get("jsonrpc") == Some(&json!("2.0"))
                    && let Some(method) = obj.get("method").and_then(Value::as_str)
                {
                    let raw_id = obj.get("id");
                    let params = obj.get("params");
                    // Ids checked only for "is a number", not "is an integer".
                    if self.has(Defect::FractionalIdAccepted)
                        && let Some(fid) = raw_id.filter(|i| i.as_f64().is_some_and(|f| f.fract() != 0.0))
                        && params.is_none_or(|p| p.is_object())
                    {
                        return self.process_request(fid.clone(), method, params.cloned());
                    }
                    // Params that are not structured are dropped instead of refused.
                    if self.has(Defect::ScalarParamsAccepted)
                        && let Some(rid) = raw_id.filter(|i| jsonrpc::valid_id(i))
                        && params.is_some_and(|p| p.is_string() || p.is_number() || p.is_boolean())
                    {
                        return self.process_request(rid.clone(), method, None);
                    }
                }
                if self.has(Defect::InvalidRequestSilent) {
                    return Pending::Ready(None);
                }
                let id = if self.has(Defect::InvalidRequestNullId) { Value::Null } else { id };
                let e = RpcError::invalid_request(format!("Invalid Request: {reason}"));
                Pending::Ready(Some(self.respond(&id, Err(e), None)))
            }
            Incoming::Response { id, outcome } => {
                let tx = self.state().pending.remove(&jsonrpc::id_key(&id));
                match tx {
                    Some(tx) => {
                        let _ = tx.send(outcome);
                    }
                    None => {
                        self.config()
                            .note(format!("[{SERVER_NAME}] ignoring a response to unknown request id {id}"))
                    }
                }
                Pending::Ready(None)
            }
            Incoming::Notification { method, params } => self.process_notification(&method, params),
            Incoming::Request { id, method, params } => {
                // A JavaScript-style `if (!msg.id)` takes a falsy id for a notification.
                if self.has(Defect::FalsyIdIgnored) && (id == json!(0) || id == json!("")) {
                    return self.process_notification(&method, params);
                }
                // Ids parsed as unsigned integers refuse negative ones.
                if self.has(Defect::NegativeIdRejected) && id.as_i64().is_some_and(|n| n < 0) {
                    let e = RpcError::invalid_request("Invalid Request: id must be a non-negative integer");
                    return Pending::Ready(Some(self.respond(&Value::Null, Err(e), None)));
                }
                self.process_request(id, &method, params)
            }
        }
    }

    /// Defect serve-only-after-initialized: initialize answered, notifications/initialized
    /// not yet received, and the server wrongly waits for it before serving anything.
    fn awaits_initialized_notification(&self) -> bool {
        if !self.has(Defect::ServeOnlyAfterInitialized) {
            return false;
        }
        let s = self.state();
        s.version.is_some() && !s.initialized_notified
    }

    fn process_notification(&self, method: &str, params: Option<Value>) -> Pending {
        let empty_ack = || json!({"jsonrpc": "2.0", "id": null, "result": {}});
        match method {
            "notifications/initialized" => {
                self.state().initialized_notified = true;
                if self.has(Defect::RespondToInitialized) {
                    return Pending::Ready(Some(empty_ack()));
                }
            }
            "notifications/cancelled" => {
                let request_id = params.as_ref().and_then(|p| p.get("requestId")).cloned();
                if let Some(rid) = request_id.filter(jsonrpc::valid_id) {
                    let key = jsonrpc::id_key(&rid);
                    let handle = self.state().inflight.remove(&key);
                    if let Some(h) = handle {
                        h.abort();
                        if self.has(Defect::CancelledStillResponds) {
                            let e = RpcError::internal("Request cancelled");
                            let msg = self.respond(&rid, Err(e), None);
                            self.send(msg, Some(key));
                        } else {
                            // No response; tell the transport the request is over.
                            self.send(Value::Null, Some(key));
                        }
                    }
                }
                if self.has(Defect::RespondToNotifications) {
                    return Pending::Ready(Some(empty_ack()));
                }
            }
            _ => {
                if self.has(Defect::RespondToNotifications) {
                    return Pending::Ready(Some(empty_ack()));
                }
            }
        }
        Pending::Ready(None)
    }

    fn process_request(&self, id: Value, method: &str, params: Option<Value>) -> Pending {
        let params = match params {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => {
                let e = RpcError::invalid_params("params must be an object");
                return Pending::Ready(Some(self.respond(&id, Err(e), None)));
            }
        };
        let key = jsonrpc::id_key(&id);
        let meta = params.get("_meta").and_then(Value::as_object);
        let progress_token = meta
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();

        let req = if modern::is_modern_request(&params) {
            match modern::request_context(self, &id, method, &params) {
                Ok(mut r) => {
                    r.progress_token = progress_token;
                    r
                }
                Err(e) => return Pending::Ready(Some(self.respond(&id, Err(e), None))),
            }
        } else {
            if method == "initialize" {
                let r = self.initialize(&params);
                return Pending::Ready(Some(self.respond(&id, r, None)));
            }
            if method == "ping" {
                let r = if self.has(Defect::PingError) {
                    Err(RpcError::internal("ping failed"))
                } else if self.has(Defect::PingBeforeInitializeRejected)
                    && self.negotiated_version().is_none()
                {
                    Err(RpcError::invalid_request("Server not initialized"))
                } else if self.awaits_initialized_notification() {
                    Err(RpcError::invalid_request("Server not initialized: waiting for notifications/initialized"))
                } else {
                    Ok(json!({}))
                };
                return Pending::Ready(Some(self.respond(&id, r, None)));
            }
            if method == "server/discover" && self.negotiated_version().is_some() {
                let e = RpcError::invalid_params(
                    "server/discover is a 2026-07-28 request: it needs _meta[\"io.modelcontextprotocol/protocolVersion\"]",
                );
                return Pending::Ready(Some(self.respond(&id, Err(e), None)));
            }
            let (version, caps) = {
                let s = self.state();
                (s.version, s.client_caps.clone())
            };
            if self.awaits_initialized_notification() {
                let e = RpcError::invalid_request("Server not initialized: waiting for notifications/initialized");
                return Pending::Ready(Some(self.respond(&id, Err(e), None)));
            }
            let version = match version {
                Some(v) => v,
                None if self.has(Defect::ServeBeforeInitialize) => Version::LATEST_LEGACY,
                None => {
                    let e = if method == "server/discover" {
                        RpcError::invalid_params(
                            "server/discover needs _meta[\"io.modelcontextprotocol/protocolVersion\"] (2026-07-28)",
                        )
                    } else {
                        RpcError::invalid_request(
                            "Server not initialized: send initialize first (or, for 2026-07-28, \
                             _meta[\"io.modelcontextprotocol/protocolVersion\"] on every request)",
                        )
                    };
                    return Pending::Ready(Some(self.respond(&id, Err(e), None)));
                }
            };
            Req {
                id: id.clone(),
                key,
                method: method.to_string(),
                version,
                modern: false,
                client_caps: caps,
                meta_log_level: None,
                progress_token,
                input_responses: Map::new(),
                request_state: None,
                input_name: String::new(),
                accept_any_state: false,
                related_task: None,
                state_stage: None,
            }
        };
        let req = Arc::new(req);
        let ctx = Ctx {
            conn: self.clone(),
            req: req.clone(),
        };
        match self.dispatch(&ctx, method, params) {
            Reply::Now(r) => Pending::Ready(Some(self.respond(&id, r, Some(&req)))),
            Reply::Later(fut) => Pending::Deferred { req, fut },
        }
    }

    fn dispatch(&self, ctx: &Ctx, method: &str, params: Map<String, Value>) -> Reply {
        let modern = ctx.req.modern;
        let now = Reply::Now;
        if modern && method != "server/discover" && ctx.has(Defect::RequireInitialize) {
            return now(Err(RpcError::invalid_request("Server not initialized: send initialize first")));
        }
        match method {
            "logging/setLevel" if !modern && ctx.has(Defect::SetLevelError) => now(Err(RpcError::internal("logging/setLevel failed"))),
            "resources/subscribe" if !modern && ctx.has(Defect::SubscribeError) => now(Err(RpcError::internal("subscribe failed"))),
            "ping" if !modern || ctx.has(Defect::RemovedMethodsServed) => now(Ok(json!({}))),
            "logging/setLevel" if modern && ctx.has(Defect::RemovedMethodsServed) => now(self.set_level(&params)),
            "initialize" if !modern => now(Err(RpcError::invalid_request("already initialized"))),
            "tools/list" => now(tools::list(ctx, &params)),
            "tools/call" => tools::call(ctx, params),
            "resources/list" => now(resources::list(ctx, &params)),
            "resources/templates/list" => now(resources::templates_list(ctx, &params)),
            "resources/read" => now(resources::read(ctx, &params)),
            "resources/subscribe" if !modern => now(resources::subscribe(ctx, &params)),
            "resources/unsubscribe" if !modern => now(resources::unsubscribe(ctx, &params)),
            "prompts/list" => now(prompts::list(ctx, &params)),
            "prompts/get" => now(prompts::get(ctx, &params)),
            "logging/setLevel" if !modern => now(self.set_level(&params)),
            "completion/complete" => now(completion::complete(ctx, &params)),
            "tasks/get" if tasks::enabled(ctx) => now(tasks::get(ctx, &params)),
            "tasks/list" if tasks::enabled(ctx) => now(tasks::list(ctx, &params)),
            "tasks/cancel" if tasks::enabled(ctx) => now(tasks::cancel(ctx, &params)),
            "tasks/result" if tasks::enabled(ctx) => tasks::result(ctx, &params),
            "tasks/get" if modern => now(crate::ext_tasks::get(ctx, &params)),
            "tasks/update" if modern => now(crate::ext_tasks::update(ctx, &params)),
            "tasks/cancel" if modern => now(crate::ext_tasks::cancel(ctx, &params)),
            "server/discover" if modern => now(modern::discover(ctx)),
            "subscriptions/listen" if modern => modern::listen(ctx, params),
            _ => now(Err(RpcError::method_not_found(method))),
        }
    }

    fn initialize(&self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        let d = self.defects();
        {
            let s = self.state();
            if s.version.is_some() && !d.has(Defect::DoubleInitializeAccepted) {
                return Err(RpcError::invalid_request(
                    "initialize was already called on this connection",
                ));
            }
        }
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                RpcError::invalid_params("initialize: protocolVersion (string) is required")
            })?;
        let caps = match params.get("capabilities") {
            Some(c @ Value::Object(_)) => c.clone(),
            _ => {
                return Err(RpcError::invalid_params(
                    "initialize: capabilities (object) is required",
                ));
            }
        };
        let info = params.get("clientInfo").cloned().unwrap_or(Value::Null);
        let info_ok = info.get("name").is_some_and(Value::is_string)
            && info.get("version").is_some_and(Value::is_string);
        if !info_ok {
            return Err(RpcError::invalid_params(
                "initialize: clientInfo {name, version} is required",
            ));
        }
        let version = match Version::parse(requested) {
            Some(v) if v.is_legacy() => v,
            _ => Version::LATEST_LEGACY,
        };
        let answered = if d.has(Defect::InitializeWrongVersion) {
            "1999-01-01".to_string()
        } else if d.has(Defect::EchoUnsupportedVersion) {
            requested.to_string()
        } else {
            version.as_str().to_string()
        };
        {
            let mut s = self.state();
            s.version = Some(version);
            s.client_caps = caps;
            s.client_info = info;
        }
        let mut result = Map::new();
        result.insert("protocolVersion".into(), json!(answered));
        if !d.has(Defect::MissingCapabilities) {
            result.insert("capabilities".into(), server_capabilities(version, d));
        }
        if !d.has(Defect::InitializeMissingServerInfo) {
            result.insert("serverInfo".into(), server_info(version));
        }
        result.insert("instructions".into(), json!(INSTRUCTIONS));
        Ok(Value::Object(result))
    }

    fn set_level(&self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        let level = params.get("level").and_then(Value::as_str);
        match level.and_then(LogLevel::parse) {
            Some(l) => {
                self.state().log_level = l;
                Ok(json!({}))
            }
            None if self.has(Defect::InvalidLogLevelAccepted) => Ok(json!({})),
            None => Err(RpcError::invalid_params(format!(
                "logging/setLevel: level must be one of debug, info, notice, warning, error, critical, alert, emergency (got {})",
                params.get("level").cloned().unwrap_or(Value::Null)
            ))),
        }
    }

    /// Sends a request to the client and waits for its answer.
    pub(crate) async fn client_request(
        &self,
        related: Option<String>,
        method: &str,
        params: Value,
    ) -> Result<Value, ClientError> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut s = self.state();
            if s.closed {
                return Err(ClientError::Closed);
            }
            // The defect computes the next id without storing it back.
            let id = if self.has(Defect::ServerRequestIdReused) {
                json!(1)
            } else {
                s.next_out_id += 1;
                json!(s.next_out_id)
            };
            s.pending.insert(jsonrpc::id_key(&id), tx);
            id
        };
        self.send(jsonrpc::request(id.clone(), method, params), related);
        match tokio::time::timeout(self.inner.config.client_request_timeout, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(ClientError::Rejected(e)),
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => {
                self.state().pending.remove(&jsonrpc::id_key(&id));
                Err(ClientError::Timeout)
            }
        }
    }
}

/// A JSON number, integral when the value is integral.
pub(crate) fn json_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

pub const INSTRUCTIONS: &str = "Reference MCP server of mcp-conform. Tools exercise every content type, \
logging, progress, cancellation (slow), sampling, elicitation and roots; resources include static, \
binary, templated and subscribable (test://watched-resource) ones.";

pub(crate) fn server_info(version: Version) -> Value {
    let mut info = Map::new();
    info.insert("name".into(), json!(SERVER_NAME));
    if version >= Version::V2025_06_18 {
        info.insert("title".into(), json!("MCP Reference Server"));
    }
    info.insert("version".into(), json!(SERVER_VERSION));
    if version >= Version::V2025_11_25 {
        info.insert(
            "description".into(),
            json!("The reference server bundled with the mcp-conform test suite"),
        );
        info.insert(
            "websiteUrl".into(),
            json!("https://modelcontextprotocol.io"),
        );
        info.insert("icons".into(), crate::tools::icon_list());
    }
    Value::Object(info)
}

pub(crate) fn server_capabilities(version: Version, d: Defects) -> Value {
    let mut caps = declared_capabilities(version, d);
    // The capability-honesty defects: the feature is still served, just not declared.
    for (defect, key) in [
        (Defect::UndeclaredCapabilityServed, "tools"),
        (Defect::PromptsCapabilityUndeclared, "prompts"),
        (Defect::ResourcesCapabilityUndeclared, "resources"),
        (Defect::LoggingCapabilityUndeclared, "logging"),
        (Defect::CompletionsCapabilityUndeclared, "completions"),
    ] {
        if d.has(defect)
            && let Some(o) = caps.as_object_mut()
        {
            o.remove(key);
        }
    }
    caps
}

fn declared_capabilities(version: Version, d: Defects) -> Value {
    let _ = d;
    let mut caps = Map::new();
    if !version.is_legacy() {
        caps.insert("tools".into(), json!({"listChanged": true}));
        caps.insert(
            "resources".into(),
            json!({"subscribe": true, "listChanged": true}),
        );
        caps.insert("prompts".into(), json!({"listChanged": true}));
        caps.insert("logging".into(), json!({}));
        caps.insert("completions".into(), json!({}));
        return Value::Object(caps);
    }
    caps.insert("logging".into(), json!({}));
    caps.insert("prompts".into(), json!({"listChanged": true}));
    caps.insert(
        "resources".into(),
        json!({"subscribe": true, "listChanged": true}),
    );
    caps.insert("tools".into(), json!({"listChanged": true}));
    if version >= Version::V2025_03_26 {
        caps.insert("completions".into(), json!({}));
    }
    if version == Version::V2025_11_25 {
        caps.insert("tasks".into(), crate::tasks::capability());
    }
    Value::Object(caps)
}

impl Ctx {
    pub fn version(&self) -> Version {
        self.req.version
    }
    pub fn has(&self, d: Defect) -> bool {
        self.conn.has(d)
    }
    pub fn page_size(&self) -> usize {
        self.conn.config().page_size.max(1)
    }
    pub fn client_has(&self, capability: &str) -> bool {
        self.req
            .client_caps
            .get(capability)
            .is_some_and(|c| !c.is_null())
    }

    fn log_allowed(&self, level: LogLevel) -> bool {
        if self.req.modern {
            match self.req.meta_log_level {
                Some(t) => level >= t,
                None => self.has(Defect::LogWithoutLevelMeta),
            }
        } else {
            level >= self.conn.state().log_level || self.has(Defect::LogLevelIgnored)
        }
    }

    /// Sends a `notifications/message` for this request if the level allows it.
    pub fn log(&self, level: LogLevel, data: Value) {
        if !self.log_allowed(level) {
            return;
        }
        let name = if level == LogLevel::Debug && self.has(Defect::LogInvalidLevel) {
            "trace"
        } else {
            level.as_str()
        };
        let mut params = json!({"level": name, "logger": SERVER_NAME, "data": data});
        self.tag_task(&mut params);
        self.conn.send(
            jsonrpc::notification("notifications/message", Some(params)),
            Some(self.req.key.clone()),
        );
    }

    /// Sends a `notifications/progress` for this request's progressToken (none: nothing).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let token = match (
            &self.req.progress_token,
            self.has(Defect::ProgressWithoutToken),
        ) {
            (Some(t), _) => {
                if self.has(Defect::ProgressWrongToken) {
                    match t {
                        Value::String(s) => json!(format!("{s}-other")),
                        Value::Number(n) => json!(n.as_i64().unwrap_or(0).wrapping_add(1)),
                        other => other.clone(),
                    }
                } else {
                    t.clone()
                }
            }
            (None, true) => json!("unsolicited-progress"),
            (None, false) => return,
        };
        let mut p = Map::new();
        p.insert("progressToken".into(), token);
        p.insert("progress".into(), json_number(progress));
        if let Some(t) = total {
            p.insert("total".into(), json_number(t));
        }
        if let (Some(m), true) = (message, self.version() >= Version::V2025_03_26) {
            p.insert("message".into(), json!(m));
        }
        let mut p = Value::Object(p);
        self.tag_task(&mut p);
        self.conn.send(
            jsonrpc::notification("notifications/progress", Some(p)),
            Some(self.req.key.clone()),
        );
    }

    /// Asks the client for something that needs client capability `capability`: a
    /// server->client request (legacy), or an input request answered on a retry
    /// (2026-07-28 multi round-trip requests; `key` names it in `inputRequests`).
    pub async fn client_request(
        &self,
        capability: &'static str,
        bypass: Defect,
        key: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, ClientError> {
        if !self.client_has(capability) && !self.has(bypass) {
            return Err(ClientError::NoCapability(capability));
        }
        if self.req.modern {
            if let Some(answer) = self.req.input_responses.get(key) {
                return Ok(answer.clone());
            }
            let stage = self.req.state_stage.clone().unwrap_or_default();
            return Err(ClientError::InputRequired(
                json!({key: {"method": method, "params": params}}),
                stage,
            ));
        }
        let initialized = self.conn.state().initialized_notified;
        if !initialized && !self.has(Defect::RequestBeforeInitialized) {
            return Err(ClientError::NotInitialized);
        }
        let mut params = params;
        self.tag_task(&mut params);
        let Some(task) = self.req.related_task.clone() else {
            return self
                .conn
                .client_request(Some(self.req.key.clone()), method, params)
                .await;
        };
        tasks::set_status(
            &self.conn,
            &task,
            "input_required",
            Some("Waiting for the client"),
        );
        let r = self.conn.client_request(None, method, params).await;
        tasks::set_status(
            &self.conn,
            &task,
            "working",
            Some("The operation is now in progress."),
        );
        r
    }

    /// Adds related-task metadata to a message sent on behalf of a task.
    fn tag_task(&self, params: &mut Value) {
        if let (Some(id), false) = (
            &self.req.related_task,
            self.has(Defect::TaskMissingRelatedTask),
        ) {
            tasks::tag(params, id);
        }
    }

    /// Asks for several inputs at once (2026-07-28: one InputRequiredResult listing all
    /// that are still missing, with `stage` in its requestState; legacy: one request to
    /// the client after the other). Each ask: (capability, key, method, params).
    pub async fn client_requests(
        &self,
        asks: Vec<(&'static str, &str, &str, Value)>,
        stage: &str,
    ) -> Result<Vec<Value>, ClientError> {
        let bypass = |cap: &str| match cap {
            "sampling" => Defect::SamplingWithoutCapability,
            "elicitation" => Defect::ElicitationWithoutCapability,
            _ => Defect::RootsWithoutCapability,
        };
        if let Some((cap, ..)) = asks
            .iter()
            .find(|(cap, ..)| !self.client_has(cap) && !self.has(bypass(cap)))
        {
            return Err(ClientError::NoCapability(cap));
        }
        if self.req.modern {
            let asked = |k: &String| asks.iter().any(|(_, key, ..)| key == k);
            if self.has(Defect::MrtrExtraResponsesRejected)
                && self.req.input_responses.keys().any(|k| !asked(k))
            {
                return Err(ClientError::Rejected(json!({"code": -32602})));
            }
            let mut missing = Map::new();
            let mut answers = Vec::new();
            for (_, key, method, params) in &asks {
                // Answers that are not result objects were refused with -32602 when the
                // request was read (`modern::request_context`), unless the defect lets them in.
                match self.req.input_responses.get(*key) {
                    Some(a) => answers.push(a.clone()),
                    None if self.has(Defect::MrtrCompleteAtOnce) => answers.push(Value::Null),
                    None => {
                        missing
                            .insert(key.to_string(), json!({"method": method, "params": params}));
                    }
                }
            }
            if !missing.is_empty() {
                return Err(ClientError::InputRequired(
                    Value::Object(missing),
                    stage.to_string(),
                ));
            }
            return Ok(answers);
        }
        let mut answers = Vec::new();
        for (cap, key, method, params) in asks {
            answers.push(
                self.client_request(cap, bypass(cap), key, method, params)
                    .await?,
            );
        }
        Ok(answers)
    }

    /// Whether the client accepts form mode elicitation: any `elicitation` capability
    /// before 2025-11-25; from then on `form`, or an empty object (form only).
    pub fn client_supports_form_elicitation(&self) -> bool {
        match self.req.client_caps.get("elicitation") {
            Some(Value::Object(m)) => {
                self.version() < Version::V2025_11_25 || m.is_empty() || m.contains_key("form")
            }
            Some(v) => !v.is_null(),
            None => false,
        }
    }

    /// Whether the client declared URL mode elicitation (2025-11-25+).
    pub fn client_supports_url_elicitation(&self) -> bool {
        self.req
            .client_caps
            .get("elicitation")
            .and_then(|e| e.get("url"))
            .is_some_and(|u| !u.is_null())
    }

    /// Whether the dynamic primitive is offered: per session (legacy) or server-wide
    /// (2026-07-28, where lists do not vary per connection).
    pub fn extra_enabled(&self, e: Extra) -> bool {
        if self.req.modern {
            self.conn.config().hub.extra(e)
        } else {
            self.conn.state().extras[e as usize]
        }
    }

    /// Adds or removes the dynamic primitive and announces the list change; returns
    /// whether it is now offered.
    pub fn toggle_extra(&self, e: Extra) -> bool {
        if self.req.modern {
            let on = self.conn.config().hub.toggle_extra(e);
            modern::list_changed(&self.conn, e);
            on
        } else {
            let on = {
                let mut s = self.conn.state();
                s.extras[e as usize] = !s.extras[e as usize];
                s.extras[e as usize]
            };
            self.notify(e.list_changed_method(), None);
            on
        }
    }

    /// Sends a notification unrelated to this request (list changes, resource updates).
    pub fn notify(&self, method: &str, params: Option<Value>) {
        self.conn.send(jsonrpc::notification(method, params), None);
    }
}

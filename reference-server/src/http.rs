//! HTTP transports: Streamable HTTP at `/mcp` (2025-03-26 .. 2025-11-25 with sessions,
//! and stateless 2026-07-28) and the legacy HTTP+SSE transport (2024-11-05) at `/sse`
//! with its POST endpoint `/messages?sessionId=...`.
//!
//! This module is a thin edge around the core: it checks HTTP-level rules (Origin,
//! Accept, Content-Type, sessions, protocol-version and mirrored headers), hands bodies
//! to a `Connection`, and routes the connection's outgoing messages to the right HTTP
//! response (a POST's JSON body or SSE stream, the session's GET stream, or the legacy
//! SSE stream). It must never interpret method semantics.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use futures_util::Stream;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::defects::Defect;
use crate::jsonrpc::{self, Incoming, RpcError};
use crate::modern;
use crate::server::{Config, Connection, Outgoing};
use crate::version::Version;

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

/// Serves both HTTP transports on `listener` until the process ends.
pub async fn serve_http(
    config: Arc<Config>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    axum::serve(listener, router(config)).await
}

/// The axum router (public for in-process tests).
pub fn router(config: Arc<Config>) -> Router {
    let state = Arc::new(Http {
        config,
        sessions: Mutex::new(HashMap::new()),
        sse: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/mcp", get(mcp_get).post(mcp_post).delete(mcp_delete))
        .route("/sse", get(sse_get))
        .route("/messages", axum::routing::post(sse_post))
        .with_state(state)
}

struct Http {
    config: Arc<Config>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    sse: Mutex<HashMap<String, Arc<Session>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where one POST wants its messages.
struct Route {
    tx: Option<mpsc::UnboundedSender<Value>>,
    /// Request keys of this POST still waiting for their response.
    remaining: usize,
    /// JSON response mode: only final responses go here; the rest goes to the stream.
    json_only: bool,
}

/// One connection's routing table.
#[derive(Default)]
struct Routes {
    by_key: HashMap<String, Arc<Mutex<Route>>>,
    standalone: Option<mpsc::UnboundedSender<Value>>,
    /// Legacy HTTP+SSE: everything, responses included, goes on the one SSE stream.
    everything_standalone: bool,
}

struct Session {
    conn: Connection,
    routes: Arc<Mutex<Routes>>,
}

impl Session {
    /// A connection plus a dispatcher task that routes its outgoing messages.
    fn new(config: Arc<Config>) -> Arc<Session> {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let r = routes.clone();
        let conn = Connection::with_sink(config, Arc::new(move |out: Outgoing| dispatch(&r, out)));
        Arc::new(Session { conn, routes })
    }

    fn register(&self, keys: &[String], json_only: bool) -> mpsc::UnboundedReceiver<Value> {
        let (tx, rx) = mpsc::unbounded_channel();
        let route = Arc::new(Mutex::new(Route {
            tx: Some(tx),
            remaining: keys.len(),
            json_only,
        }));
        let mut routes = lock(&self.routes);
        for k in keys {
            routes.by_key.insert(k.clone(), route.clone());
        }
        rx
    }

    fn unregister(&self, keys: &[String]) {
        let mut routes = lock(&self.routes);
        for k in keys {
            routes.by_key.remove(k);
        }
    }
}

fn is_final(msg: &Value) -> bool {
    match msg {
        Value::Array(_) => true,
        Value::Object(o) => {
            !o.contains_key("method") && (o.contains_key("result") || o.contains_key("error"))
        }
        _ => false,
    }
}

fn dispatch(routes: &Mutex<Routes>, out: Outgoing) {
    let mut rs = lock(routes);
    let route = out.related.as_ref().and_then(|k| rs.by_key.get(k).cloned());
    if let Some(route) = route {
        let fin = is_final(&out.message);
        let batch = out.message.is_array();
        let mut r = lock(&route);
        if fin || !r.json_only {
            if let Some(tx) = &r.tx {
                let _ = tx.send(out.message);
            }
            if fin {
                // A batch answers every request of its POST at once.
                r.remaining = if batch {
                    0
                } else {
                    r.remaining.saturating_sub(1)
                };
                if let Some(k) = &out.related {
                    rs.by_key.remove(k);
                }
                if batch {
                    rs.by_key.retain(|_, v| !Arc::ptr_eq(v, &route));
                }
                if r.remaining == 0 {
                    r.tx = None;
                }
            }
            return;
        }
    }
    if is_final(&out.message) && !rs.everything_standalone {
        // Streamable HTTP never puts responses on the GET stream; its POST went away.
        return;
    }
    if let Some(tx) = &rs.standalone
        && tx.send(out.message).is_err()
    {
        rs.standalone = None;
    }
}

// ---------- helpers ----------

fn json_response(status: StatusCode, body: &Value, d: &Config) -> Response {
    let ct = if d.defects.has(Defect::WrongContentTypeHeader) {
        "text/plain"
    } else {
        "application/json"
    };
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

fn error_response(
    status: StatusCode,
    conn: Option<&Connection>,
    config: &Config,
    id: Value,
    e: RpcError,
) -> Response {
    let body = match conn {
        Some(c) => c.error_response(&id, e),
        None => jsonrpc::failure(id, &e),
    };
    json_response(status, &body, config)
}

fn plain(status: StatusCode, text: &str) -> Response {
    (status, text.to_string()).into_response()
}

/// Origins allowed to talk to the server: loopback ones (the server binds loopback).
fn origin_allowed(headers: &HeaderMap, config: &Config) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    if config.defects.has(Defect::NoOriginCheck) {
        return true;
    }
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let Some(hostport) = rest else { return false };
    let host = if hostport.starts_with('[') {
        hostport
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        hostport.split(':').next().unwrap_or("").to_string()
    };
    matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}

fn forbidden(config: &Config) -> Response {
    error_response(
        StatusCode::FORBIDDEN,
        None,
        config,
        Value::Null,
        RpcError::invalid_request("Forbidden: Origin not allowed"),
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn accepts(headers: &HeaderMap, mime: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .any(|t| {
            t == mime || t == "*/*" || (t.ends_with("/*") && mime.starts_with(&t[..t.len() - 1]))
        })
}

fn is_json_content(headers: &HeaderMap) -> bool {
    header_str(headers, header::CONTENT_TYPE.as_str())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false)
}

fn new_session_id(config: &Config) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if config.defects.has(Defect::SessionIdPredictable) {
        return format!(
            "session-{}",
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
        );
    }
    let token = crate::random_token(16);
    if config.defects.has(Defect::SessionIdNotAscii) {
        format!("session {token}")
    } else {
        token
    }
}

fn sse_event(msg: &Value) -> Result<Event, Infallible> {
    Ok(Event::default().event("message").data(msg.to_string()))
}

/// An SSE body that runs `on_drop` when the client goes away (or the stream ends).
struct Watched<S> {
    inner: S,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl<S: Stream + Unpin> Stream for Watched<S> {
    type Item = S::Item;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        std::pin::Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl<S> Drop for Watched<S> {
    fn drop(&mut self) {
        if let Some(f) = self.on_drop.take() {
            f();
        }
    }
}

fn sse_from(
    rx: mpsc::UnboundedReceiver<Value>,
    first: Vec<Event>,
    on_drop: Box<dyn FnOnce() + Send>,
) -> Response {
    use futures_util::StreamExt;
    let head = futures_util::stream::iter(first.into_iter().map(Ok::<Event, Infallible>));
    let body = tokio_stream::wrappers::UnboundedReceiverStream::new(rx).map(|m| sse_event(&m));
    let stream = Watched {
        inner: Box::pin(head.chain(body)),
        on_drop: Some(on_drop),
    };
    Sse::new(stream).into_response()
}

/// What a POST body holds.
struct BodyInfo {
    /// Keys of the requests in the body.
    request_keys: Vec<String>,
    is_batch: bool,
    single_request: Option<(Value, String, Value)>,
    invalid: Option<(Value, String)>,
}

fn inspect(body: &Value) -> BodyInfo {
    let items: Vec<&Value> = match body {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut info = BodyInfo {
        request_keys: vec![],
        is_batch: body.is_array(),
        single_request: None,
        invalid: None,
    };
    for item in items {
        match jsonrpc::classify(item) {
            Incoming::Request { id, method, params } => {
                info.request_keys.push(jsonrpc::id_key(&id));
                if !body.is_array() {
                    info.single_request = Some((id, method, params.unwrap_or(Value::Null)));
                }
            }
            Incoming::Invalid { id, reason } if info.invalid.is_none() => {
                info.invalid = Some((id, reason))
            }
            _ => {}
        }
    }
    info
}

/// Waits for the responses routed to `rx` and answers with JSON (one object, or the
/// batch array).
async fn collect_json(
    mut rx: mpsc::UnboundedReceiver<Value>,
    config: &Config,
    status_of: impl Fn(&Value) -> StatusCode,
    extra: Option<(String, String)>,
) -> Response {
    let mut finals = Vec::new();
    while let Some(m) = rx.recv().await {
        if is_final(&m) {
            finals.push(m);
        }
    }
    let body = match finals.len() {
        0 => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no response was produced",
            );
        }
        1 => finals.pop().unwrap_or(Value::Null),
        _ => Value::Array(finals),
    };
    let mut r = json_response(status_of(&body), &body, config);
    if let Some((k, v)) = extra
        && let (Ok(name), Ok(val)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        )
    {
        r.headers_mut().insert(name, val);
    }
    r
}

// ---------- Streamable HTTP ----------

async fn mcp_post(State(http): State<Arc<Http>>, headers: HeaderMap, body: Bytes) -> Response {
    let config = http.config.clone();
    if !origin_allowed(&headers, &config) {
        return forbidden(&config);
    }
    let wants_json = accepts(&headers, "application/json");
    let wants_sse = accepts(&headers, "text/event-stream");
    if !wants_json && !wants_sse {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Accept must list application/json and text/event-stream",
        );
    }
    if !is_json_content(&headers) {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: use Content-Type: application/json",
        );
    }
    let value: Value = match std::str::from_utf8(&body)
        .ok()
        .and_then(|t| serde_json::from_str(t).ok())
    {
        Some(v) => v,
        None => {
            let e = RpcError::new(
                jsonrpc::PARSE_ERROR,
                "Parse error: the body is not valid UTF-8 JSON",
            );
            let id = if config.defects.has(Defect::ParseErrorWithId) {
                json!(0)
            } else {
                Value::Null
            };
            return error_response(StatusCode::BAD_REQUEST, None, &config, id, e);
        }
    };
    let info = inspect(&value);

    // 2026-07-28 traffic without a request: no batches, notifications are accepted and
    // ignored (this revision defines none over HTTP).
    let modern_header = header_str(&headers, VERSION_HEADER)
        .and_then(Version::parse)
        .is_some_and(|v| !v.is_legacy());
    if modern_header && info.single_request.is_none() {
        if info.is_batch {
            let e = RpcError::invalid_request("JSON-RPC batches are not supported in 2026-07-28");
            return error_response(StatusCode::BAD_REQUEST, None, &config, Value::Null, e);
        }
        if let Some((id, reason)) = info.invalid.clone() {
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                &config,
                id,
                RpcError::invalid_request(format!("Invalid Request: {reason}")),
            );
        }
        if config.defects.has(Defect::NotificationNot202) {
            return json_response(StatusCode::OK, &json!({}), &config);
        }
        return StatusCode::ACCEPTED.into_response();
    }
    // 2026-07-28: a single request with per-request metadata is served statelessly.
    if let Some((id, method, params)) = &info.single_request
        && params.as_object().is_some_and(modern::is_modern_request)
    {
        return modern_post(
            &http,
            &headers,
            value.clone(),
            id.clone(),
            method,
            params,
            wants_json,
            wants_sse,
        )
        .await;
    }

    let is_initialize = matches!(&info.single_request, Some((_, m, _)) if m == "initialize");
    let session_id = header_str(&headers, SESSION_HEADER).map(str::to_string);
    let (session, new_id) = if is_initialize {
        (Session::new(config.clone()), Some(new_session_id(&config)))
    } else {
        match session_id {
            Some(sid) => match lock(&http.sessions).get(&sid).cloned() {
                Some(s) => (s, None),
                None if config.defects.has(Defect::UnknownSessionAccepted) => {
                    (adhoc_session(&http), None)
                }
                None => {
                    return error_response(
                        StatusCode::NOT_FOUND,
                        None,
                        &config,
                        Value::Null,
                        RpcError::invalid_request("Session not found"),
                    );
                }
            },
            None if config.defects.has(Defect::MissingSessionAccepted) => {
                (adhoc_session(&http), None)
            }
            None => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    None,
                    &config,
                    Value::Null,
                    RpcError::invalid_request("Bad Request: Mcp-Session-Id header is required"),
                );
            }
        }
    };
    // MCP-Protocol-Version (2025-06-18+): an invalid or unsupported value is a 400.
    if !is_initialize
        && !config.defects.has(Defect::ProtocolVersionHeaderIgnored)
        && let Some(v) = headers.get(VERSION_HEADER)
    {
        let ok = v
            .to_str()
            .ok()
            .and_then(Version::parse)
            .is_some_and(|v| v.is_legacy());
        if !ok {
            return error_response(
                StatusCode::BAD_REQUEST,
                Some(&session.conn),
                &config,
                Value::Null,
                RpcError::invalid_request(format!(
                    "Bad Request: unsupported MCP-Protocol-Version {:?}",
                    v
                )),
            );
        }
    }
    if let Some((id, reason)) = info.invalid.clone()
        && !info.is_batch
        && !config.defects.has(Defect::InvalidRequestSilent)
    {
        let e = RpcError::invalid_request(format!("Invalid Request: {reason}"));
        return error_response(StatusCode::BAD_REQUEST, Some(&session.conn), &config, id, e);
    }
    if info.request_keys.is_empty() {
        // Only notifications and/or responses.
        session.conn.handle_value(value);
        if config.defects.has(Defect::NotificationNot202) {
            return json_response(StatusCode::OK, &json!({}), &config);
        }
        return StatusCode::ACCEPTED.into_response();
    }
    let keys = info.request_keys.clone();
    let json_only = !wants_sse;
    let rx = session.register(&keys, json_only);
    session.conn.handle_value(value);
    if let (Some(sid), true) = (&new_id, is_initialize)
        && session.conn.negotiated_version().is_some()
    {
        lock(&http.sessions).insert(sid.clone(), session.clone());
    }
    let extra = new_id
        .filter(|_| session.conn.negotiated_version().is_some())
        .map(|sid| (SESSION_HEADER.to_string(), sid));
    respond_to_post(
        session, keys, rx, wants_json, wants_sse, &config, extra, false,
    )
    .await
}

/// Answers a POST that carried requests: JSON when the answer is ready (or SSE is not
/// accepted), an SSE stream otherwise.
#[allow(clippy::too_many_arguments)]
async fn respond_to_post(
    session: Arc<Session>,
    keys: Vec<String>,
    mut rx: mpsc::UnboundedReceiver<Value>,
    wants_json: bool,
    wants_sse: bool,
    config: &Config,
    extra: Option<(String, String)>,
    modern_status: bool,
) -> Response {
    let status_of = move |body: &Value| {
        if modern_status {
            modern_status_of(body)
        } else {
            StatusCode::OK
        }
    };
    // Synchronous requests are already answered: reply with plain JSON.
    let mut early = Vec::new();
    while let Ok(m) = rx.try_recv() {
        early.push(m);
    }
    let done = session_route_closed(&session, &keys);
    if done && (wants_json || !wants_sse) {
        let (tx, rx2) = mpsc::unbounded_channel();
        for m in early {
            let _ = tx.send(m);
        }
        drop(tx);
        return collect_json(rx2, config, status_of, extra).await;
    }
    if !wants_sse {
        // JSON mode: wait for the answer.
        let (tx, rx2) = mpsc::unbounded_channel();
        for m in early {
            let _ = tx.send(m);
        }
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        return collect_json(rx2, config, status_of, extra).await;
    }
    let first: Vec<Event> = early
        .iter()
        .map(|m| sse_event(m).unwrap_or_default())
        .collect();
    let s = session.clone();
    let on_drop: Box<dyn FnOnce() + Send> = if modern_status {
        // 2026-07-28: closing the response stream cancels the request.
        Box::new(move || s.conn.close())
    } else {
        Box::new(move || s.unregister(&keys))
    };
    let mut r = sse_from(rx, first, on_drop);
    if let Some((k, v)) = extra
        && let (Ok(name), Ok(val)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        )
    {
        r.headers_mut().insert(name, val);
    }
    r
}

/// Whether every request of a POST already got its final response.
fn session_route_closed(session: &Session, keys: &[String]) -> bool {
    let routes = lock(&session.routes);
    keys.iter().all(|k| !routes.by_key.contains_key(k))
}

fn adhoc_session(http: &Http) -> Arc<Session> {
    let s = Session::new(http.config.clone());
    s.conn.assume_initialized(Version::LATEST_LEGACY);
    s
}

async fn mcp_get(State(http): State<Arc<Http>>, headers: HeaderMap) -> Response {
    let config = &http.config;
    if !origin_allowed(&headers, config) {
        return forbidden(config);
    }
    if header_str(&headers, VERSION_HEADER)
        .and_then(Version::parse)
        .is_some_and(|v| !v.is_legacy())
    {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed: 2026-07-28 has no GET stream; use subscriptions/listen",
        );
    }
    if !accepts(&headers, "text/event-stream") {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: GET needs Accept: text/event-stream",
        );
    }
    let Some(sid) = header_str(&headers, SESSION_HEADER) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            None,
            config,
            Value::Null,
            RpcError::invalid_request("Bad Request: Mcp-Session-Id header is required"),
        );
    };
    let Some(session) = lock(&http.sessions).get(sid).cloned() else {
        return error_response(
            StatusCode::NOT_FOUND,
            None,
            config,
            Value::Null,
            RpcError::invalid_request("Session not found"),
        );
    };
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let mut routes = lock(&session.routes);
        if routes.standalone.as_ref().is_some_and(|t| !t.is_closed()) {
            return plain(
                StatusCode::CONFLICT,
                "Conflict: this session already has a GET stream",
            );
        }
        routes.standalone = Some(tx);
    }
    sse_from(rx, vec![], Box::new(|| {}))
}

async fn mcp_delete(State(http): State<Arc<Http>>, headers: HeaderMap) -> Response {
    let config = &http.config;
    if !origin_allowed(&headers, config) {
        return forbidden(config);
    }
    if header_str(&headers, VERSION_HEADER)
        .and_then(Version::parse)
        .is_some_and(|v| !v.is_legacy())
    {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed: 2026-07-28 has no sessions to delete",
        );
    }
    let Some(sid) = header_str(&headers, SESSION_HEADER) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            None,
            config,
            Value::Null,
            RpcError::invalid_request("Bad Request: Mcp-Session-Id header is required"),
        );
    };
    if config.defects.has(Defect::DeleteIgnored) {
        return if lock(&http.sessions).contains_key(sid) {
            StatusCode::OK.into_response()
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
    }
    match lock(&http.sessions).remove(sid) {
        Some(s) => {
            s.conn.close();
            lock(&s.routes).standalone = None;
            StatusCode::OK.into_response()
        }
        None => error_response(
            StatusCode::NOT_FOUND,
            None,
            config,
            Value::Null,
            RpcError::invalid_request("Session not found"),
        ),
    }
}

// ---------- 2026-07-28 ----------

fn modern_status_of(body: &Value) -> StatusCode {
    match body.pointer("/error/code").and_then(Value::as_i64) {
        None => StatusCode::OK,
        Some(jsonrpc::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        Some(jsonrpc::INVALID_PARAMS | jsonrpc::INVALID_REQUEST | jsonrpc::HEADER_MISMATCH)
        | Some(
            jsonrpc::MISSING_REQUIRED_CLIENT_CAPABILITY | jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        ) => StatusCode::BAD_REQUEST,
        Some(_) => StatusCode::OK,
    }
}

/// Decodes a header value that may use the `=?base64?...?=` sentinel.
fn decode_header_value(v: &str) -> Option<String> {
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(v.to_string()),
    }
}

/// Checks the mirrored headers of a 2026-07-28 POST against its body.
fn check_modern_headers(headers: &HeaderMap, method: &str, params: &Value) -> Result<(), String> {
    let body_version = params
        .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    match header_str(headers, VERSION_HEADER) {
        None => return Err("the MCP-Protocol-Version header is missing".into()),
        Some(v) if v != body_version => {
            return Err(format!(
                "MCP-Protocol-Version header value '{v}' does not match body value '{body_version}'"
            ));
        }
        _ => {}
    }
    match header_str(headers, "mcp-method") {
        None => return Err("the Mcp-Method header is missing".into()),
        Some(m) if m != method => {
            return Err(format!(
                "Mcp-Method header value '{m}' does not match body value '{method}'"
            ));
        }
        _ => {}
    }
    let name_source = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" => params.get("uri"),
        _ => None,
    };
    if let Some(body_name) = name_source.and_then(Value::as_str) {
        match headers.get("mcp-name") {
            None => return Err("the Mcp-Name header is missing".into()),
            Some(raw) => {
                let decoded = raw.to_str().ok().and_then(decode_header_value);
                match decoded {
                    Some(n) if n == body_name => {}
                    Some(n) => {
                        return Err(format!(
                            "Mcp-Name header value '{n}' does not match body value '{body_name}'"
                        ));
                    }
                    None => return Err("the Mcp-Name header value is malformed".into()),
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn modern_post(
    http: &Http,
    headers: &HeaderMap,
    value: Value,
    id: Value,
    method: &str,
    params: &Value,
    wants_json: bool,
    wants_sse: bool,
) -> Response {
    let config = http.config.clone();
    let session = Session::new(config.clone());
    // Version first: an unsupported version is reported as such, even if headers agree.
    let requested = params
        .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
        .cloned()
        .unwrap_or(Value::Null);
    let supported = requested
        .as_str()
        .and_then(Version::parse)
        .is_some_and(|v| !v.is_legacy());
    if !supported {
        let e = modern::unsupported_version(
            config.defects.has(Defect::UnsupportedVersionWrongCode),
            &requested,
        );
        return error_response(StatusCode::BAD_REQUEST, Some(&session.conn), &config, id, e);
    }
    if !config.defects.has(Defect::HeaderMismatchAccepted)
        && let Err(why) = check_modern_headers(headers, method, params)
    {
        let e = RpcError::new(jsonrpc::HEADER_MISMATCH, format!("Header mismatch: {why}"));
        return error_response(StatusCode::BAD_REQUEST, Some(&session.conn), &config, id, e);
    }
    let keys = vec![jsonrpc::id_key(&id)];
    let rx = session.register(&keys, !wants_sse);
    session.conn.handle_value(value);
    respond_to_post(
        session, keys, rx, wants_json, wants_sse, &config, None, true,
    )
    .await
}

// ---------- legacy HTTP+SSE (2024-11-05) ----------

#[derive(serde::Deserialize)]
struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

async fn sse_get(State(http): State<Arc<Http>>, headers: HeaderMap) -> Response {
    let config = http.config.clone();
    if !origin_allowed(&headers, &config) {
        return forbidden(&config);
    }
    if !accepts(&headers, "text/event-stream") {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: GET /sse needs Accept: text/event-stream",
        );
    }
    let sid = new_session_id(&config);
    let session = Session::new(config.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let mut routes = lock(&session.routes);
        routes.standalone = Some(tx);
        routes.everything_standalone = true;
    }
    lock(&http.sse).insert(sid.clone(), session.clone());
    let mut first = vec![];
    if !config.defects.has(Defect::SseNoEndpointEvent) {
        first.push(
            Event::default()
                .event("endpoint")
                .data(format!("/messages?sessionId={sid}")),
        );
    }
    let http2 = Arc::clone(&http);
    let on_drop: Box<dyn FnOnce() + Send> = Box::new(move || {
        if let Some(s) = lock(&http2.sse).remove(&sid) {
            s.conn.close();
        }
    });
    sse_from(rx, first, on_drop)
}

async fn sse_post(
    State(http): State<Arc<Http>>,
    Query(q): Query<SessionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = http.config.clone();
    if !origin_allowed(&headers, &config) {
        return forbidden(&config);
    }
    let Some(sid) = q.session_id else {
        return plain(
            StatusCode::BAD_REQUEST,
            "Bad Request: sessionId query parameter is required",
        );
    };
    let Some(session) = lock(&http.sse).get(&sid).cloned() else {
        return plain(StatusCode::NOT_FOUND, "Session not found");
    };
    // Every answer (including parse errors) goes on the SSE stream.
    session.conn.handle_bytes(&body);
    StatusCode::ACCEPTED.into_response()
}

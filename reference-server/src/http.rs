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
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use futures_util::Stream;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::auth::{Auth, oauth_json};
use crate::defects::Defect;
use crate::jsonrpc::{self, Incoming, RpcError};
use crate::modern;
use crate::server::{Config, Connection, Outgoing};
use crate::version::Version;

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

/// What the HTTP layer does beyond the protocol: authorization and resource bounds.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// OAuth resource-server mode with the local issuer (`--auth`).
    pub auth: Option<Arc<Auth>>,
    /// At most this many Streamable HTTP sessions (and as many legacy SSE sessions)
    /// live at once; an initialize beyond it gets 503.
    pub max_sessions: usize,
    /// A Streamable HTTP session without a request for this long, and without an open
    /// GET stream, is ended (later requests with its id get 404).
    pub session_idle: Duration,
    /// Request bodies larger than this get 413.
    pub max_body_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            auth: None,
            max_sessions: 1000,
            session_idle: Duration::from_secs(600),
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Serves both HTTP transports on `listener` until the process ends.
pub async fn serve_http(
    config: Arc<Config>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    serve_http_with(config, listener, HttpOptions::default()).await
}

/// [`serve_http`] with options.
pub async fn serve_http_with(
    config: Arc<Config>,
    listener: tokio::net::TcpListener,
    options: HttpOptions,
) -> std::io::Result<()> {
    let loopback = listener.local_addr()?.ip().is_loopback();
    axum::serve(listener, router_with(config, loopback, options)).await
}

/// The axum router (public for in-process tests). `loopback`: the server listens on a
/// loopback address, so requests must name a loopback `Host` (DNS rebinding).
pub fn router(config: Arc<Config>, loopback: bool) -> Router {
    router_with(config, loopback, HttpOptions::default())
}

/// [`router`] with options.
pub fn router_with(config: Arc<Config>, loopback: bool, options: HttpOptions) -> Router {
    let with_auth = options.auth.is_some();
    let body_limit = axum::extract::DefaultBodyLimit::max(options.max_body_bytes);
    let state = Arc::new(Http {
        config,
        loopback,
        max_sessions: options.max_sessions.max(1),
        session_idle: options.session_idle,
        auth: options.auth,
        sessions: Mutex::new(HashMap::new()),
        sse: Mutex::new(HashMap::new()),
    });
    let mut r = Router::new()
        .route("/mcp", get(mcp_get).post(mcp_post).delete(mcp_delete))
        .route("/sse", get(sse_get))
        .route("/messages", axum::routing::post(sse_post));
    if with_auth {
        r = r
            .route("/.well-known/oauth-protected-resource", get(prm_mcp))
            .route("/.well-known/oauth-protected-resource/mcp", get(prm_mcp))
            .route("/.well-known/oauth-protected-resource/sse", get(prm_sse))
            .route("/.well-known/oauth-authorization-server", get(as_metadata))
            .route("/token", axum::routing::post(token));
    }
    r.layer(body_limit).with_state(state)
}

struct Http {
    config: Arc<Config>,
    /// Listening on loopback: `Host` must be a loopback name.
    loopback: bool,
    /// OAuth resource-server mode.
    auth: Option<Arc<Auth>>,
    max_sessions: usize,
    session_idle: Duration,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    sse: Mutex<HashMap<String, Arc<Session>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One SSE event to write: an event id (resumable streams) and a message; no message
/// is a priming event (an id with empty data).
struct Ev {
    id: Option<String>,
    msg: Option<Value>,
}

/// The `retry` (ms) sent before the server closes a connection to be polled again.
const RECONNECT_RETRY_MS: u64 = 100;
/// At most this many events are kept per stream for replay.
const MAX_LOGGED_EVENTS: usize = 1000;
/// At most this many streams per session are kept resumable.
const MAX_STREAMS: usize = 64;
/// At most this many GET streams are open at once per session.
const MAX_GET_STREAMS: usize = 8;

/// One response stream (a POST's answer, or the GET stream) of a session.
struct Route {
    stream: u64,
    /// The stream's part of its event ids: its own number (the `sse-event-ids-restart`
    /// defect makes it the same for every stream).
    id_stream: u64,
    /// The `sse-stream-left-open` defect: the stream outlives its final response.
    keep_open: bool,
    /// Where events go now; `None` while the client is disconnected or when done.
    tx: Option<mpsc::UnboundedSender<Ev>>,
    /// A batch: only its one array answer ends it.
    batch: bool,
    /// Request keys of this POST still waiting for their response.
    remaining: usize,
    /// JSON response mode: only final responses go here; the rest goes to the GET stream.
    json_only: bool,
    /// Events carry ids and are kept for replay after `Last-Event-ID`.
    resumable: bool,
    next_seq: u64,
    log: Vec<(u64, Value)>,
    done: bool,
}

impl Route {
    fn deliver(&mut self, msg: Value) {
        let id = if self.resumable {
            self.next_seq += 1;
            if self.log.len() < MAX_LOGGED_EVENTS {
                self.log.push((self.next_seq, msg.clone()));
            }
            Some(format!("{}-{}", self.id_stream, self.next_seq))
        } else {
            None
        };
        if let Some(tx) = &self.tx
            && tx.send(Ev { id, msg: Some(msg) }).is_err()
        {
            self.tx = None;
        }
    }

    fn finish(&mut self) {
        self.done = true;
        if !self.keep_open {
            self.tx = None;
        }
    }
}

/// One connection's routing table.
#[derive(Default)]
struct Routes {
    by_key: HashMap<String, Arc<Mutex<Route>>>,
    /// The GET streams, oldest first. A client may hold several; each message goes to
    /// one of them (the oldest still connected), never to all.
    standalone: Vec<Arc<Mutex<Route>>>,
    /// Legacy HTTP+SSE: everything, responses included, goes on the one SSE stream.
    everything_standalone: bool,
    next_stream: u64,
    /// Recent streams, for resumption by `Last-Event-ID`.
    streams: std::collections::VecDeque<Arc<Mutex<Route>>>,
    /// Defects that shape every new stream.
    restart_ids: bool,
    keep_open: bool,
}

impl Routes {
    fn new_route(
        &mut self,
        tx: mpsc::UnboundedSender<Ev>,
        remaining: usize,
        json_only: bool,
        batch: bool,
        resumable: bool,
    ) -> Arc<Mutex<Route>> {
        self.next_stream += 1;
        let route = Arc::new(Mutex::new(Route {
            stream: self.next_stream,
            id_stream: if self.restart_ids { 0 } else { self.next_stream },
            // Only SSE streams: a JSON answer is written once its channel closes.
            keep_open: self.keep_open && !json_only,
            tx: Some(tx),
            batch,
            remaining,
            json_only,
            resumable: resumable && !json_only,
            next_seq: 0,
            log: Vec::new(),
            done: false,
        }));
        if resumable && !json_only {
            self.streams.push_back(route.clone());
            if self.streams.len() > MAX_STREAMS {
                self.streams.pop_front();
            }
        }
        route
    }
}

struct Session {
    conn: Connection,
    routes: Arc<Mutex<Routes>>,
    /// When the session last received a request.
    last_used: Mutex<Instant>,
}

impl Session {
    /// A connection whose outgoing messages are routed to HTTP responses.
    fn new(config: Arc<Config>) -> Arc<Session> {
        let routes = Arc::new(Mutex::new(Routes {
            restart_ids: config.defects.has(Defect::SseEventIdsRestart),
            keep_open: config.defects.has(Defect::SseStreamLeftOpen),
            ..Routes::default()
        }));
        let r = routes.clone();
        let conn = Connection::with_sink(config, Arc::new(move |out: Outgoing| dispatch(&r, out)));
        Arc::new(Session {
            conn,
            routes,
            last_used: Mutex::new(Instant::now()),
        })
    }

    fn touch(&self) {
        *lock(&self.last_used) = Instant::now();
    }

    /// Idle: no request for `limit`, and no client listening on the GET stream.
    fn idle(&self, limit: Duration) -> bool {
        let listening = lock(&self.routes).standalone.iter().any(connected);
        !listening && lock(&self.last_used).elapsed() >= limit
    }

    /// Ends the session: its connection and every open stream.
    fn end(&self) {
        self.conn.close();
        self.close_streams();
    }

    /// Streamable HTTP sessions of 2025-03-26 and later have resumable streams.
    fn resumable(&self) -> bool {
        self.conn
            .negotiated_version()
            .is_some_and(|v| v >= Version::V2025_03_26 && v.is_legacy())
    }

    /// 2025-11-25 streams start with a priming event.
    fn primes(&self) -> bool {
        self.conn.negotiated_version() == Some(Version::V2025_11_25)
            && !self
                .conn
                .config()
                .defects
                .has(Defect::SseMissingPrimingEvent)
    }

    fn register(
        &self,
        keys: &[String],
        json_only: bool,
        batch: bool,
        resumable: bool,
    ) -> (mpsc::UnboundedReceiver<Ev>, Arc<Mutex<Route>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut routes = lock(&self.routes);
        let route = routes.new_route(tx, keys.len(), json_only, batch, resumable);
        for k in keys {
            routes.by_key.insert(k.clone(), route.clone());
        }
        (rx, route)
    }

    /// Ends every open stream of the session.
    fn close_streams(&self) {
        let mut routes = lock(&self.routes);
        for r in routes.standalone.drain(..) {
            lock(&r).finish();
        }
        for r in routes.by_key.values() {
            lock(r).finish();
        }
        routes.by_key.clear();
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
    if out.message.is_null() {
        // A request ended without a response (cancelled): its POST is done with it.
        if let (Some(route), Some(k)) = (route, &out.related) {
            let mut r = lock(&route);
            if !r.batch {
                rs.by_key.remove(k);
                r.remaining = r.remaining.saturating_sub(1);
                if r.remaining == 0 {
                    r.finish();
                }
            }
        }
        return;
    }
    if let Some(route) = route {
        let fin = is_final(&out.message);
        let batch = out.message.is_array();
        let mut r = lock(&route);
        if fin || !r.json_only {
            r.deliver(out.message);
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
                    r.finish();
                }
            }
            return;
        }
    }
    if is_final(&out.message) && !rs.everything_standalone {
        // Streamable HTTP never puts responses on the GET stream; its POST went away.
        return;
    }
    // The oldest connected GET stream; with none connected, the newest keeps the
    // message for a resumption.
    let target = rs.standalone.iter().find(|r| connected(r)).or(rs.standalone.last());
    if let Some(sa) = target {
        lock(sa).deliver(out.message);
    }
}

/// A stream whose client is still reading it.
fn connected(route: &Arc<Mutex<Route>>) -> bool {
    lock(route).tx.as_ref().is_some_and(|t| !t.is_closed())
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

/// The host part of `host[:port]` (IPv6 literals keep their brackets).
fn host_of(hostport: &str) -> String {
    if hostport.starts_with('[') {
        hostport
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        hostport.split(':').next().unwrap_or("").to_string()
    }
}

fn is_loopback_name(host: &str) -> bool {
    matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// DNS rebinding protection: a foreign `Origin`, or (on a loopback listener) a
/// non-loopback `Host`, is refused.
fn request_allowed(headers: &HeaderMap, http: &Http) -> bool {
    if http.loopback && !http.config.defects.has(Defect::NoHostCheck) {
        let host_ok = header_str(headers, header::HOST.as_str())
            .is_none_or(|h| is_loopback_name(&host_of(h)));
        if !host_ok {
            return false;
        }
    }
    origin_allowed(headers, &http.config)
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
        RpcError::invalid_request(
            "Forbidden: Origin or Host not allowed (DNS rebinding protection)",
        ),
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

/// One SSE event as text: optional `id:` and `event:` fields, then the data (one
/// `data:` line per line of it; an empty data field for empty data).
fn sse_text(id: Option<&str>, event: Option<&str>, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + 48);
    if let Some(id) = id {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    if let Some(e) = event {
        s.push_str("event: ");
        s.push_str(e);
        s.push('\n');
    }
    for line in data.split('\n') {
        s.push_str("data: ");
        s.push_str(line.trim_end_matches('\r'));
        s.push('\n');
    }
    s.push('\n');
    Bytes::from(s)
}

fn ev_event(ev: Ev) -> Bytes {
    named_event(ev, "message")
}

/// An SSE event of the given type (legacy `sse-wrong-event-name` uses another than `message`).
fn named_event(ev: Ev, event: &str) -> Bytes {
    match ev.msg {
        Some(m) => sse_text(ev.id.as_deref(), Some(event), &m.to_string()),
        None => sse_text(ev.id.as_deref(), None, ""),
    }
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
    rx: mpsc::UnboundedReceiver<Ev>,
    first: Vec<Bytes>,
    on_drop: Box<dyn FnOnce() + Send>,
) -> Response {
    sse_named(rx, first, on_drop, "message")
}

fn sse_named(
    rx: mpsc::UnboundedReceiver<Ev>,
    first: Vec<Bytes>,
    on_drop: Box<dyn FnOnce() + Send>,
    event: &'static str,
) -> Response {
    use futures_util::StreamExt;
    let head = futures_util::stream::iter(first);
    let body = tokio_stream::wrappers::UnboundedReceiverStream::new(rx).map(move |ev| named_event(ev, event));
    let stream = Watched {
        inner: Box::pin(head.chain(body).map(Ok::<Bytes, Infallible>)),
        on_drop: Some(on_drop),
    };
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
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
    mut rx: mpsc::UnboundedReceiver<Ev>,
    config: &Config,
    status_of: impl Fn(&Value) -> StatusCode,
    extra: Option<(String, String)>,
) -> Response {
    let mut finals = Vec::new();
    while let Some(ev) = rx.recv().await {
        if let Some(m) = ev.msg.filter(is_final) {
            finals.push(m);
        }
    }
    let body = match finals.len() {
        0 => {
            // The request was cancelled: there is no JSON-RPC response to return.
            return StatusCode::NO_CONTENT.into_response();
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

// ---------- OAuth (--auth) ----------

/// The refusal of a request to `endpoint` that is not authorized (`--auth` only).
fn unauthorized(http: &Http, headers: &HeaderMap, endpoint: &str) -> Option<Response> {
    let auth = http.auth.as_ref()?;
    auth.check(headers, endpoint, &http.config.defects)
        .err()
        .map(|r| *r)
}

fn metadata_of(http: &Http, endpoint: &str) -> Response {
    match &http.auth {
        Some(a) => oauth_json(
            StatusCode::OK,
            &a.protected_resource_metadata(endpoint, &http.config.defects),
        ),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn prm_mcp(State(http): State<Arc<Http>>) -> Response {
    metadata_of(&http, "/mcp")
}

async fn prm_sse(State(http): State<Arc<Http>>) -> Response {
    metadata_of(&http, "/sse")
}

async fn as_metadata(State(http): State<Arc<Http>>) -> Response {
    match &http.auth {
        Some(_) if http.config.defects.has(Defect::AuthNoAuthorizationServerMetadata) => {
            StatusCode::NOT_FOUND.into_response()
        }
        Some(a) => oauth_json(StatusCode::OK, &a.authorization_server_metadata()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn token(
    State(http): State<Arc<Http>>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some(a) = &http.auth else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match form {
        Ok(axum::Form(fields)) => a.token(&headers, &fields),
        Err(_) => oauth_json(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request", "error_description": "the body must be application/x-www-form-urlencoded"}),
        ),
    }
}

// ---------- Streamable HTTP ----------

async fn mcp_post(State(http): State<Arc<Http>>, headers: HeaderMap, body: Bytes) -> Response {
    let config = http.config.clone();
    if !request_allowed(&headers, &http) {
        return forbidden(&config);
    }
    if let Some(refusal) = unauthorized(&http, &headers, "/mcp") {
        return refusal;
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
    // A 2026-07-28 request (by its header) without the per-request metadata is malformed.
    if modern_header
        && let Some((id, _, params)) = &info.single_request
        && !params.as_object().is_some_and(modern::is_modern_request)
    {
        let e = RpcError::invalid_params(
            "2026-07-28 requests need _meta[\"io.modelcontextprotocol/protocolVersion\"] and _meta[\"io.modelcontextprotocol/clientCapabilities\"]",
        );
        return error_response(StatusCode::BAD_REQUEST, None, &config, id.clone(), e);
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
    // An initialize inside a session belongs to that session (which refuses it as a
    // second initialize); only one without a session id opens a new session.
    let (session, new_id) = if is_initialize && session_id.is_none() {
        if let Some(refusal) = admit(&http, &http.sessions, true) {
            return refusal;
        }
        (Session::new(config.clone()), Some(new_session_id(&config)))
    } else {
        match session_id {
            Some(sid) => match lock(&http.sessions).get(&sid).cloned() {
                Some(s) => {
                    s.touch();
                    (s, None)
                }
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
    if new_id.is_none()
        && config.defects.has(Defect::ProtocolVersionHeaderRequired)
        && headers.get(VERSION_HEADER).is_none()
    {
        let e = RpcError::invalid_request("Bad Request: MCP-Protocol-Version header is required");
        return error_response(StatusCode::BAD_REQUEST, Some(&session.conn), &config, Value::Null, e);
    }
    // MCP-Protocol-Version (2025-06-18+): an invalid or unsupported value is a 400.
    if new_id.is_none()
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
    if info.is_batch
        && (!session.conn.accepts_batches() || value.as_array().is_some_and(Vec::is_empty))
    {
        let e = RpcError::invalid_request(
            "JSON-RPC batches are not supported in this protocol version",
        );
        return error_response(
            StatusCode::BAD_REQUEST,
            Some(&session.conn),
            &config,
            Value::Null,
            e,
        );
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
    let rx = session.register(&keys, json_only, info.is_batch, session.resumable());
    session.conn.handle_value(value);
    if let (Some(sid), true) = (&new_id, is_initialize)
        && session.conn.negotiated_version().is_some()
    {
        lock(&http.sessions).insert(sid.clone(), session.clone());
    }
    let extra = new_id
        .filter(|_| session.conn.negotiated_version().is_some())
        .map(|sid| (SESSION_HEADER.to_string(), sid));
    // The reconnection fixture's stream is closed right after priming (SSE polling).
    let close_early = matches!(&info.single_request, Some((_, m, p)) if m == "tools/call"
        && p.get("name").and_then(Value::as_str) == Some("test_reconnection"));
    respond_to_post(
        session,
        keys,
        rx,
        wants_json,
        wants_sse,
        &config,
        extra,
        false,
        close_early,
    )
    .await
}

/// Answers a POST that carried requests: JSON when the answer is ready (or SSE is not
/// accepted), an SSE stream otherwise.
#[allow(clippy::too_many_arguments)]
async fn respond_to_post(
    session: Arc<Session>,
    keys: Vec<String>,
    (mut rx, route): (mpsc::UnboundedReceiver<Ev>, Arc<Mutex<Route>>),
    wants_json: bool,
    wants_sse: bool,
    config: &Config,
    extra: Option<(String, String)>,
    modern_status: bool,
    close_early: bool,
) -> Response {
    let errors_as_200 = config.defects.has(Defect::StatelessErrorsHttp200);
    let status_of = move |body: &Value| {
        if modern_status && !errors_as_200 {
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
    // 2026-07-28: hold the response head until the first message, so that an error
    // answer (e.g. -32021 found while running) still gets its HTTP status; a client that
    // goes away meanwhile cancels the request.
    if modern_status && early.is_empty() && wants_sse {
        let guard = CloseOnDrop(Some(session.clone()));
        match rx.recv().await {
            Some(first) => early.push(first),
            None => {
                drop(guard);
                return StatusCode::NO_CONTENT.into_response();
            }
        }
        guard.disarm();
        while let Ok(m) = rx.try_recv() {
            early.push(m);
        }
    }
    let done = session_route_closed(&session, &keys)
        || (modern_status
            && early
                .first()
                .and_then(|e| e.msg.as_ref())
                .is_some_and(is_final));
    // 2026-07-28 clients accept both, and error statuses (400/404) need a plain answer.
    if done && (wants_json || !wants_sse || modern_status) {
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
    let mut first: Vec<Bytes> = Vec::new();
    if session.primes() {
        let stream = lock(&route).id_stream;
        if close_early {
            // SSE polling (2025-11-25): prime, tell the client when to come back, and
            // close the connection; the stream lives on for a GET with Last-Event-ID.
            first.push(Bytes::from(format!(
                "id: {stream}-0\nretry: {RECONNECT_RETRY_MS}\ndata: \n\n"
            )));
            lock(&route).tx = None;
            let (_, closed) = mpsc::unbounded_channel();
            return sse_from(closed, first, Box::new(|| {}));
        }
        first.push(ev_event(Ev {
            id: Some(format!("{stream}-0")),
            msg: None,
        }));
    }
    first.extend(early.into_iter().map(ev_event));
    let s = session.clone();
    let on_drop: Box<dyn FnOnce() + Send> = if modern_status {
        // 2026-07-28: closing the response stream cancels the request.
        Box::new(move || s.conn.close())
    } else {
        // Legacy: a disconnection is not a cancellation; the request goes on and its
        // messages are kept for a resumption (`Last-Event-ID`).
        let _ = keys;
        Box::new(move || lock(&route).tx = None)
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

/// Closes a session's connection when dropped, unless disarmed (2026-07-28: a client
/// that disconnects before the answer cancels its request).
struct CloseOnDrop(Option<Arc<Session>>);

impl CloseOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.conn.close();
        }
    }
}

/// Whether every request of a POST already got its final response.
fn session_route_closed(session: &Session, keys: &[String]) -> bool {
    let routes = lock(&session.routes);
    keys.iter().all(|k| !routes.by_key.contains_key(k))
}

/// Room for one more session in `table`, or the refusal: idle Streamable HTTP sessions
/// are ended first; at the bound the answer is 503 (refusing newcomers keeps existing
/// sessions alive).
fn admit(http: &Http, table: &Mutex<HashMap<String, Arc<Session>>>, sweep: bool) -> Option<Response> {
    let mut t = lock(table);
    if sweep {
        let idle: Vec<String> = t
            .iter()
            .filter(|(_, s)| s.idle(http.session_idle))
            .map(|(k, _)| k.clone())
            .collect();
        for k in idle {
            if let Some(s) = t.remove(&k) {
                s.end();
            }
        }
    }
    if t.len() >= http.max_sessions {
        let mut r = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            &http.config,
            Value::Null,
            RpcError::new(
                jsonrpc::INTERNAL_ERROR,
                "Service Unavailable: too many open sessions; retry later",
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return Some(r);
    }
    None
}

fn adhoc_session(http: &Http) -> Arc<Session> {
    let s = Session::new(http.config.clone());
    s.conn.assume_initialized(Version::LATEST_LEGACY);
    s
}

async fn mcp_get(State(http): State<Arc<Http>>, headers: HeaderMap) -> Response {
    let config = &http.config;
    if !request_allowed(&headers, &http) {
        return forbidden(config);
    }
    if let Some(refusal) = unauthorized(&http, &headers, "/mcp") {
        return refusal;
    }
    if header_str(&headers, VERSION_HEADER)
        .and_then(Version::parse)
        .is_some_and(|v| !v.is_legacy())
    {
        if config.defects.has(Defect::StatelessGetDeleteServed) {
            return StatusCode::OK.into_response();
        }
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed: 2026-07-28 has no GET stream; use subscriptions/listen",
        );
    }
    if config.defects.has(Defect::GetStreamRefused) {
        return plain(StatusCode::BAD_REQUEST, "Bad Request: GET is not supported");
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
    session.touch();
    let (tx, rx) = mpsc::unbounded_channel();
    // Resumption of an earlier stream: replay what followed the last event seen, then
    // go on delivering that stream's messages here.
    if let Some(last) = header_str(&headers, "last-event-id") {
        let parsed = last
            .split_once('-')
            .and_then(|(s, n)| Some((s.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
        let route = parsed.and_then(|(stream, _)| {
            lock(&session.routes)
                .streams
                .iter()
                .find(|r| lock(r).stream == stream)
                .cloned()
        });
        let (Some((_, seen)), Some(route)) = (parsed, route) else {
            return plain(
                StatusCode::NOT_FOUND,
                "Not Found: no resumable stream has that event id",
            );
        };
        if config.defects.has(Defect::ResumeCrossesStreams) {
            let others: Vec<_> = lock(&session.routes)
                .streams
                .iter()
                .filter(|r| !Arc::ptr_eq(r, &route))
                .cloned()
                .collect();
            for other in others {
                let o = lock(&other);
                for (seq, m) in o.log.iter() {
                    let _ = tx.send(Ev {
                        id: Some(format!("{}-{seq}", o.stream)),
                        msg: Some(m.clone()),
                    });
                }
            }
        }
        {
            let mut r = lock(&route);
            let stream = r.stream;
            for (seq, m) in r.log.iter().filter(|(seq, _)| *seq > seen) {
                let _ = tx.send(Ev {
                    id: Some(format!("{stream}-{seq}")),
                    msg: Some(m.clone()),
                });
            }
            if !r.done {
                r.tx = Some(tx);
            }
        }
        return sse_from(rx, vec![], Box::new(move || lock(&route).tx = None));
    }
    let resumable = session.resumable();
    let route = {
        let mut routes = lock(&session.routes);
        // Several GET streams are allowed (the spec's answer to a GET is a stream or
        // 405); disconnected ones are dropped, and the count is bounded.
        routes.standalone.retain(connected);
        if routes.standalone.len() >= MAX_GET_STREAMS {
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: this session has too many GET streams",
            );
        }
        let route = routes.new_route(tx, 0, false, false, resumable);
        routes.standalone.push(route.clone());
        route
    };
    let mut first = Vec::new();
    if session.primes() {
        let stream = lock(&route).id_stream;
        first.push(ev_event(Ev {
            id: Some(format!("{stream}-0")),
            msg: None,
        }));
    }
    sse_from(rx, first, Box::new(move || lock(&route).tx = None))
}

async fn mcp_delete(State(http): State<Arc<Http>>, headers: HeaderMap) -> Response {
    let config = &http.config;
    if !request_allowed(&headers, &http) {
        return forbidden(config);
    }
    if let Some(refusal) = unauthorized(&http, &headers, "/mcp") {
        return refusal;
    }
    if header_str(&headers, VERSION_HEADER)
        .and_then(Version::parse)
        .is_some_and(|v| !v.is_legacy())
    {
        if config.defects.has(Defect::StatelessGetDeleteServed) {
            return StatusCode::OK.into_response();
        }
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
            s.close_streams();
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
fn check_modern_headers(
    headers: &HeaderMap,
    method: &str,
    params: &Value,
    param_headers_ignored: bool,
    name_not_decoded: bool,
) -> Result<(), String> {
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
        // The tasks extension routes tasks/* by task id.
        "tasks/get" | "tasks/update" | "tasks/cancel" => params.get("taskId"),
        _ => None,
    };
    if method == "tools/call" && !param_headers_ignored {
        let tool = params.get("name").and_then(Value::as_str).unwrap_or("");
        let args = params.get("arguments").cloned().unwrap_or(Value::Null);
        for (path, header) in crate::tools::mirrored_params(tool) {
            let mut v = &args;
            for p in &path {
                v = v.get(p).unwrap_or(&Value::Null);
            }
            let expected = match v {
                Value::Null => continue, // no value: no header expected
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            let name = format!("mcp-param-{}", header.to_ascii_lowercase());
            let Some(raw) = headers.get(name.as_str()) else {
                return Err(format!("the Mcp-Param-{header} header is missing"));
            };
            let Some(got) = raw.to_str().ok().and_then(decode_header_value) else {
                return Err(format!("the Mcp-Param-{header} header value is malformed"));
            };
            let same = match v {
                Value::Number(n) => got.parse::<f64>().ok() == n.as_f64(),
                _ => got == expected,
            };
            if !same {
                return Err(format!(
                    "Mcp-Param-{header} header value '{got}' does not match body value '{expected}'"
                ));
            }
        }
    }
    if let Some(body_name) = name_source.and_then(Value::as_str) {
        match headers.get("mcp-name") {
            None => return Err("the Mcp-Name header is missing".into()),
            Some(raw) => {
                let decoded = if name_not_decoded {
                    raw.to_str().ok().map(str::to_string)
                } else {
                    raw.to_str().ok().and_then(decode_header_value)
                };
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
    // Headers first: a request whose MCP-Protocol-Version header disagrees with its
    // body asks for no single version, so the mismatch is what is wrong with it (an
    // unsupported version whose header agrees is reported as such below).
    if !config.defects.has(Defect::HeaderMismatchAccepted)
        && let Err(why) = check_modern_headers(
            headers,
            method,
            params,
            config.defects.has(Defect::ParamHeaderIgnored),
            config.defects.has(Defect::Base64HeaderNotDecoded),
        )
    {
        let e = RpcError::new(jsonrpc::HEADER_MISMATCH, format!("Header mismatch: {why}"));
        return error_response(StatusCode::BAD_REQUEST, Some(&session.conn), &config, id, e);
    }
    // Then the version the (consistent) request asks for.
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
        let status = if config.defects.has(Defect::StatelessErrorsHttp200) {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        return error_response(status, Some(&session.conn), &config, id, e);
    }
    let keys = vec![jsonrpc::id_key(&id)];
    let rx = session.register(&keys, !wants_sse, false, false);
    session.conn.handle_value(value);
    let echoed = header_str(headers, SESSION_HEADER)
        .filter(|_| config.defects.has(Defect::StatelessSessionIdEchoed))
        .map(|sid| (SESSION_HEADER.to_string(), sid.to_string()));
    respond_to_post(
        session, keys, rx, wants_json, wants_sse, &config, echoed, true, false,
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
    if !request_allowed(&headers, &http) {
        return forbidden(&config);
    }
    if let Some(refusal) = unauthorized(&http, &headers, "/sse") {
        return refusal;
    }
    if !accepts(&headers, "text/event-stream") {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: GET /sse needs Accept: text/event-stream",
        );
    }
    // Legacy sessions live as long as their SSE connection: bounded, never idle.
    if let Some(refusal) = admit(&http, &http.sse, false) {
        return refusal;
    }
    let sid = new_session_id(&config);
    let session = Session::new(config.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let mut routes = lock(&session.routes);
        let route = routes.new_route(tx, 0, false, false, false);
        routes.standalone.push(route);
        routes.everything_standalone = true;
    }
    lock(&http.sse).insert(sid.clone(), session.clone());
    let mut first = vec![];
    if !config.defects.has(Defect::SseNoEndpointEvent) {
        first.push(sse_text(
            None,
            Some("endpoint"),
            &format!("/messages?sessionId={sid}"),
        ));
    }
    let http2 = Arc::clone(&http);
    let on_drop: Box<dyn FnOnce() + Send> = Box::new(move || {
        if let Some(s) = lock(&http2.sse).remove(&sid) {
            s.conn.close();
        }
    });
    let event = if config.defects.has(Defect::SseWrongEventName) {
        "response"
    } else {
        "message"
    };
    sse_named(rx, first, on_drop, event)
}

async fn sse_post(
    State(http): State<Arc<Http>>,
    Query(q): Query<SessionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = http.config.clone();
    if !request_allowed(&headers, &http) {
        return forbidden(&config);
    }
    if let Some(refusal) = unauthorized(&http, &headers, "/sse") {
        return refusal;
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

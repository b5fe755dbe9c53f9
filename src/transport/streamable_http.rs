//! The Streamable HTTP transport (protocol versions 2025-03-26 to 2025-11-25, and the
//! stateless 2026-07-28 revision).
//!
//! Every message is its own POST to the MCP endpoint. A request's answer (a JSON body,
//! or an SSE stream whose `data` events are frames) is read by a background task into
//! one bounded channel, as stdio's reader does; the engine's `recv` waits on that
//! channel with its own deadline, so a stream that never ends or drips bytes never holds
//! the engine. Notifications and responses are POSTed in order (each awaited up to the
//! timeout) and must be answered 202 Accepted.
//!
//! Sessions (2025-*): the `Mcp-Session-Id` of the initialize response is sent on every
//! later request; the negotiated version goes in `MCP-Protocol-Version` (2025-06-18+);
//! after `notifications/initialized` a GET opens the server's own stream (405 is fine);
//! a 404 for the session starts a new one (initialize again) and retries once; close
//! sends DELETE (405 is fine). SSE streams that end before their response are resumed
//! with GET and `Last-Event-ID` after the server's `retry`. Stateless (2026-07-28): no
//! session, no GET, no resumption; `MCP-Protocol-Version` comes from the message's
//! `_meta`, and requests carry `Mcp-Method` and, for `tools/call`, `prompts/get` and
//! `resources/read`, `Mcp-Name`.
//!
//! What breaks a transport rule (a status, a content type, a session id) is a finding,
//! handed to the engine through `take_findings`; what breaks framing is a `BadFrame`;
//! a request whose exchange ended without its response is `Unanswered`.

use super::http::{self, BodyEnd, Outgoing};
use super::sse_parse::{SseItem, SseParser};
use super::{CloseReport, Event, HttpError, HttpRequest, HttpResponse, SendError, Transport};
use crate::spec::{Level, ProtocolVersion};
use crate::transcript::{Dir, Transcript};
use crate::verdict::Finding;
use crate::wire::Id;
use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Response, Url};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Frames buffered between the reader tasks and the engine (as stdio).
const CHANNEL_FRAMES: usize = 256;
/// Times a session may be re-initialised after a 404 before the transport gives up.
const MAX_REINITS: u32 = 2;
/// Resumptions of one POST stream, and reconnections of the GET stream.
const MAX_RESUMES: u32 = 5;
const MAX_GET_RECONNECTS: u32 = 16;
/// Reconnection delay when the server gave no `retry`, and the most a `retry` may ask.
const DEFAULT_RETRY_MS: u64 = 1000;
const MAX_RETRY_MS: u64 = 30_000;
/// Comment lines noted per stream (the rest are counted).
const NOTED_COMMENTS: usize = 3;

pub struct HttpConfig {
    pub url: String,
    /// The user's headers (`--header`, bearer token): sent on every request, never noted.
    pub headers: Vec<(String, String)>,
    /// Bounds every wait for a response head, a JSON body, a DELETE.
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// Extra test tokens by kind (`wrong-audience`, `insufficient-scope`) that cases may
    /// send instead of the user's own; never sent by themselves.
    pub tokens: Vec<(String, String)>,
}

pub struct StreamableHttpTransport {
    inner: Arc<Inner>,
    events: mpsc::Receiver<Event>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    closed: bool,
}

struct Inner {
    client: reqwest::Client,
    url: Url,
    user_headers: HeaderMap,
    tokens: Vec<(String, String)>,
    timeout: Duration,
    max_body: usize,
    transcript: Transcript,
    findings: Mutex<Vec<Finding>>,
    state: Mutex<State>,
    reinit: tokio::sync::Mutex<()>,
    tx: mpsc::Sender<Event>,
    shutdown: watch::Receiver<bool>,
}

#[derive(Default)]
struct State {
    intended: Option<ProtocolVersion>,
    session: Option<HeaderValue>,
    negotiated: Option<String>,
    /// The last initialize request sent, to start a new session after a 404.
    init_body: Option<Vec<u8>>,
    reinits: u32,
    get_stream_opened: bool,
    /// Per tool name, the parameters its `inputSchema` mirrors into `Mcp-Param-*`
    /// headers (learnt from the `tools/list` results that pass by).
    mirrored: std::collections::HashMap<String, Vec<(Vec<String>, String)>>,
}

/// Which stream a reader task reads, and what it watches for.
struct StreamCtx {
    label: &'static str,
    /// The request whose answer this stream carries.
    id: Option<Id>,
    initialize: bool,
    /// The server's own GET stream: responses do not belong there.
    standalone: bool,
    answered: bool,
    delivered: bool,
    comments: usize,
    /// The stream answers a `tools/list`: its tools' `x-mcp-header` annotations are kept.
    lists_tools: bool,
    /// Posted without a session where one is needed (see `Event::Unanswered`).
    sessionless: bool,
}

impl StreamCtx {
    fn new(label: &'static str, id: Option<Id>, initialize: bool) -> StreamCtx {
        StreamCtx { label, id, initialize, standalone: false, answered: false, delivered: false, comments: 0, lists_tools: false, sessionless: false }
    }
}

impl StreamableHttpTransport {
    pub async fn open(config: &HttpConfig, transcript: Transcript) -> Result<StreamableHttpTransport, String> {
        let url = Url::parse(&config.url).map_err(|e| format!("bad URL {:?}: {e}", config.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("the URL {url} is not http or https"));
        }
        http::check_reachable(&url, config.timeout).await?;
        let (tx, events) = mpsc::channel(CHANNEL_FRAMES);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let inner = Inner {
            client: http::client(config.timeout)?,
            url,
            user_headers: http::user_headers(&config.headers)?,
            tokens: config.tokens.clone(),
            timeout: config.timeout,
            max_body: config.max_body_bytes,
            transcript,
            findings: Mutex::new(Vec::new()),
            state: Mutex::new(State::default()),
            reinit: tokio::sync::Mutex::new(()),
            tx,
            shutdown: shutdown_rx,
        };
        Ok(StreamableHttpTransport { inner: Arc::new(inner), events, shutdown, tasks: Vec::new(), closed: false })
    }

    fn spawn(&mut self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(task));
    }
}

#[async_trait]
impl Transport for StreamableHttpTransport {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        let inner = &self.inner;
        inner.transcript.record(Dir::Out, bytes);
        if self.closed {
            return Err(SendError("the session is closed".into()));
        }
        let out = Outgoing::of(bytes);
        if out.is_request {
            if out.method.as_deref() == Some("initialize") {
                inner.state().init_body = Some(bytes.to_vec());
            }
            let (inner, body) = (self.inner.clone(), bytes.to_vec());
            self.spawn(async move { inner.run_request(body, out).await });
            return Ok(());
        }
        // Notifications and responses go one at a time, in order: the next message
        // leaves only when the server took this one.
        let headers = inner.headers_for(&Method::POST, Some(&out));
        let response = http::execute(&inner.client, &inner.transcript, Method::POST, &inner.url, &headers, Some(bytes), inner.timeout)
            .await
            .map_err(|e| SendError(format!("POST to {} failed: {e}", inner.url)))?;
        let opens_stream = out.method.as_deref() == Some("notifications/initialized")
            && response.status().is_success()
            && !inner.stateless()
            && !std::mem::replace(&mut inner.state().get_stream_opened, true);
        let inner = self.inner.clone();
        self.spawn(async move { inner.handle_response(response, &out).await });
        if opens_stream {
            let inner = self.inner.clone();
            self.spawn(async move { inner.run_get_stream().await });
        }
        Ok(())
    }

    async fn recv(&mut self, wait: Duration) -> Event {
        match tokio::time::timeout(wait, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => Event::Closed { reason: "the transport's readers are gone".into() },
            Err(_) => Event::Timeout,
        }
    }

    async fn close(&mut self, grace: Duration) -> CloseReport {
        if self.closed {
            return CloseReport { ended_cleanly: true, detail: "already closed".into() };
        }
        self.closed = true;
        let _ = self.shutdown.send(true);
        // Readers stop at the signal (recording what they hold); stragglers are aborted.
        let stop_by = tokio::time::Instant::now() + Duration::from_millis(250);
        for task in &mut self.tasks {
            if tokio::time::timeout_at(stop_by, &mut *task).await.is_err() {
                task.abort();
            }
        }
        self.tasks.clear();
        let inner = &self.inner;
        let session = inner.state().session.clone();
        let report = match session {
            Some(_) if !inner.stateless() => {
                let headers = inner.headers_for(&Method::DELETE, None);
                match http::execute(&inner.client, &inner.transcript, Method::DELETE, &inner.url, &headers, None, grace).await {
                    Ok(r) if r.status().is_success() => {
                        CloseReport { ended_cleanly: true, detail: format!("the session ended (DELETE answered {})", r.status().as_u16()) }
                    }
                    Ok(r) if r.status().as_u16() == 405 => CloseReport {
                        ended_cleanly: true,
                        detail: "the server does not let clients end sessions (DELETE answered 405)".into(),
                    },
                    Ok(r) if r.status().as_u16() == 404 => {
                        CloseReport { ended_cleanly: true, detail: "the session was already gone (DELETE answered 404)".into() }
                    }
                    Ok(r) => CloseReport {
                        ended_cleanly: false,
                        detail: format!("DELETE of the session answered {}", r.status()),
                    },
                    Err(e) => CloseReport { ended_cleanly: false, detail: format!("DELETE of the session failed: {e}") },
                }
            }
            _ => CloseReport { ended_cleanly: true, detail: "no session to end".into() },
        };
        inner.transcript.note(&report.detail);
        report
    }

    fn transcript(&self) -> &Transcript {
        &self.inner.transcript
    }

    fn set_protocol_version(&mut self, version: ProtocolVersion) {
        self.inner.state().intended = Some(version);
    }

    fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut *self.inner.findings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    async fn http_exchange(&mut self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let inner = &self.inner;
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpError::Failed(format!("bad HTTP method {:?}", request.method)))?;
        let out = request.body.as_deref().map(Outgoing::of);
        let headers = inner.headers_for(&method, out.as_ref());
        http::exchange(&inner.client, &inner.transcript, &inner.url, headers, &request, inner.max_body, inner.timeout).await
    }

    fn case_bindings(&self) -> Vec<(String, Value)> {
        http::case_bindings(&self.inner.url, &self.inner.tokens)
    }
}

impl Drop for StreamableHttpTransport {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stateless(&self) -> bool {
        self.state().intended.is_some_and(ProtocolVersion::is_stateless)
    }

    fn finding(&self, level: Level, message: String) {
        self.findings.lock().unwrap_or_else(|p| p.into_inner()).push(Finding::new(level, message));
    }

    fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// The headers a request of `method` carries by default.
    fn headers_for(&self, method: &Method, out: Option<&Outgoing>) -> HeaderMap {
        let mut h = HeaderMap::new();
        let accept = if method == Method::POST { "application/json, text/event-stream" } else { "text/event-stream" };
        h.insert(ACCEPT, HeaderValue::from_static(accept));
        if method == Method::POST {
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let state = self.state();
        let stateless = state.intended.is_some_and(ProtocolVersion::is_stateless);
        if stateless {
            let version = out
                .and_then(|o| o.meta_version.clone())
                .or_else(|| state.intended.map(|v| v.as_str().to_string()));
            if let Some(v) = version.and_then(|v| HeaderValue::from_str(&v).ok()) {
                h.insert(http::PROTOCOL_VERSION, v);
            }
            if let Some(o) = out.filter(|o| o.is_request) {
                if let Some(m) = o.method.as_deref().and_then(|m| HeaderValue::from_str(&http::encode_header_value(m)).ok()) {
                    h.insert(http::MCP_METHOD, m);
                }
                if let Some(n) = o.name.as_deref().and_then(|n| HeaderValue::from_str(&http::encode_header_value(n)).ok()) {
                    h.insert(http::MCP_NAME, n);
                }
                // Tool parameters the server asked to see as headers (clients MUST mirror them).
                let mirrored = o.name.as_deref().and_then(|n| state.mirrored.get(n));
                if let (Some(mirrored), Some(args)) = (mirrored, o.arguments.as_ref()) {
                    for (name, value) in http::param_headers(mirrored, args) {
                        if let (Ok(k), Ok(v)) = (reqwest::header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
                            h.insert(k, v);
                        }
                    }
                }
            }
        } else {
            // An initialize inside a session is sent in it (a second initialize is the
            // server's to refuse); starting a new session clears the id first.
            if let Some(s) = &state.session {
                h.insert(http::SESSION_ID, s.clone());
            }
            // The header exists from 2025-06-18; a 2025-03-26 session goes without.
            if let Some(v) = state.negotiated.as_deref().filter(|v| *v >= "2025-06-18").and_then(|v| HeaderValue::from_str(v).ok()) {
                h.insert(http::PROTOCOL_VERSION, v);
            }
        }
        drop(state);
        for (k, v) in &self.user_headers {
            h.insert(k.clone(), v.clone());
        }
        h
    }

    /// Hand an event to the engine; false once the transport is shutting down.
    async fn deliver(&self, event: Event) -> bool {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            sent = self.tx.send(event) => sent.is_ok(),
            _ = shutdown.wait_for(|s| *s) => false,
        }
    }

    async fn frame(&self, bytes: Vec<u8>, ctx: &mut StreamCtx) -> bool {
        self.transcript.record(Dir::In, &bytes);
        if ctx.initialize
            && let Some(v) = http::negotiated_version(&bytes)
        {
            self.state().negotiated = Some(v);
        }
        if ctx.id.as_ref().is_some_and(|id| http::answers(&bytes, id)) {
            ctx.answered = true;
            if ctx.lists_tools {
                self.learn_mirrored_params(&bytes);
            }
        }
        if ctx.standalone && http::is_response(&bytes) {
            self.finding(
                Level::Must,
                format!("the server sent a JSON-RPC response on its GET stream, which carries only requests and notifications: {}", http::preview(&bytes)),
            );
        }
        ctx.delivered = true;
        self.deliver(Event::Frame(bytes)).await
    }

    fn learn_mirrored_params(&self, frame: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(frame) else { return };
        let Some(tools) = v.pointer("/result/tools").and_then(Value::as_array) else { return };
        let mut state = self.state();
        for tool in tools {
            if let (Some(name), Some(schema)) = (tool.get("name").and_then(Value::as_str), tool.get("inputSchema")) {
                state.mirrored.insert(name.to_string(), http::mirrored_params(schema));
            }
        }
    }

    async fn bad_frame(&self, raw: Vec<u8>, reason: String, ctx: &mut StreamCtx) -> bool {
        self.transcript.record(Dir::In, &raw);
        ctx.delivered = true;
        self.deliver(Event::BadFrame { raw, reason }).await
    }

    async fn unanswered(&self, ctx: &StreamCtx, status: Option<u16>, reason: String) {
        if !ctx.answered && (ctx.id.is_some() || !ctx.delivered) {
            self.transcript.note(format!("http: no response to {}: {reason}", ctx.id.as_ref().map(|i| i.to_string()).unwrap_or("the message".into())));
            let event = Event::Unanswered { id: ctx.id.clone(), status, reason, body_delivered: ctx.delivered, sessionless: ctx.sessionless };
            self.deliver(event).await;
        }
    }

    /// The session id of an initialize response: kept, and checked.
    fn take_session(&self, response: &Response) {
        let id = response.headers().get(http::SESSION_ID).cloned();
        if let Some(id) = id.as_ref().filter(|id| !http::is_visible_ascii(id.as_bytes())) {
            self.finding(
                Level::Must,
                format!(
                    "the session id {:?} contains characters outside visible ASCII (0x21 to 0x7E)",
                    String::from_utf8_lossy(id.as_bytes())
                ),
            );
        }
        // No id: the server keeps no sessions, or refused a second initialize inside one.
        if let Some(id) = id.filter(|_| !self.stateless()) {
            self.state().session = Some(id);
        }
    }

    // ----- requests ----------------------------------------------------------

    async fn run_request(self: Arc<Self>, body: Vec<u8>, out: Outgoing) {
        let initialize = out.method.as_deref() == Some("initialize");
        let mut ctx = StreamCtx::new("POST stream", out.id.clone(), initialize);
        ctx.lists_tools = out.method.as_deref() == Some("tools/list");
        let mut retried = false;
        loop {
            let headers = self.headers_for(&Method::POST, Some(&out));
            let sent_session = headers.get(http::SESSION_ID).cloned();
            ctx.sessionless = sent_session.is_none() && !initialize && !self.stateless() && self.state().negotiated.is_none();
            let response =
                match http::execute(&self.client, &self.transcript, Method::POST, &self.url, &headers, Some(&body), self.timeout).await {
                    Ok(r) => r,
                    Err(e) => return self.unanswered(&ctx, None, format!("POST to {} failed: {e}", self.url)).await,
                };
            if initialize && response.status().is_success() {
                self.take_session(&response);
            }
            if let Some(stale) = sent_session.filter(|_| response.status().as_u16() == 404 && !retried) {
                match self.reinitialise(stale).await {
                    Ok(()) => {
                        retried = true;
                        continue;
                    }
                    Err(e) => return self.unanswered(&ctx, Some(404), e).await,
                }
            }
            return self.read_answer(response, &out, &mut ctx).await;
        }
    }

    /// What a POST's response carried, for a request: JSON or SSE, else a finding.
    async fn read_answer(&self, mut response: Response, out: &Outgoing, ctx: &mut StreamCtx) {
        let status = response.status().as_u16();
        let media = http::media_type(response.headers());
        let success = response.status().is_success();
        match media.as_deref() {
            Some("text/event-stream") if success => {
                let end = self.read_post_stream(response, ctx).await;
                if !self.shutting_down() {
                    self.unanswered(ctx, Some(status), format!("the SSE stream ended without the response ({end})")).await;
                }
                return;
            }
            Some("application/json") => {}
            _ if success && out.is_request => {
                let what = media.as_deref().map(|m| format!("Content-Type {m}")).unwrap_or("no Content-Type".into());
                self.finding(
                    Level::Must,
                    format!("a request was answered {status} with {what}, not application/json or text/event-stream"),
                );
            }
            _ => {}
        }
        let (body, end) = http::read_body(&mut response, self.max_body, self.timeout).await;
        let json = media.as_deref() == Some("application/json");
        if !success && !json {
            // An HTTP error with a text body: evidence, not a message.
            if !body.is_empty() {
                self.transcript.note(format!("http: body: {}", http::preview(&body)));
            }
        } else {
            let reason = match end {
                BodyEnd::Complete if body.is_empty() && status == 202 => None,
                BodyEnd::Complete if body.is_empty() => Some(format!("an HTTP {status} response with an empty body")),
                BodyEnd::Complete => None,
                BodyEnd::TooLarge(seen) => Some(format!("the response body is larger than the {}-byte bound (at least {seen} bytes)", self.max_body)),
                BodyEnd::Timeout => Some(format!("the response body did not end within {} ms", self.timeout.as_millis())),
                BodyEnd::Broken(e) => Some(format!("the response body broke off: {e}")),
            };
            match reason {
                Some(reason) => {
                    self.bad_frame(body, reason, ctx).await;
                }
                None if body.is_empty() => {}
                None => {
                    self.frame(body, ctx).await;
                }
            }
        }
        if out.is_request {
            let why = if success { format!("HTTP {status} without the response") } else { format!("HTTP {status} {}", reason_phrase(status)) };
            self.unanswered(ctx, Some(status), why).await;
        }
    }

    /// A notification's or response's POST: 202 Accepted with no body, else a finding
    /// (and whatever the body carried goes to the engine).
    async fn handle_response(&self, mut response: Response, out: &Outgoing) {
        let status = response.status().as_u16();
        let what = if out.method.is_some() { "notification" } else { "response" };
        let mut ctx = StreamCtx::new("POST stream", None, false);
        if status == 202 {
            let (body, _) = http::read_body(&mut response, 64 * 1024, self.timeout.min(Duration::from_secs(2))).await;
            if !body.is_empty() {
                self.transcript.note(format!("http: body: {}", http::preview(&body)));
                self.finding(Level::Must, format!("a posted {what} was answered 202 Accepted with a body ({} bytes); it must have none", body.len()));
            }
            return;
        }
        if response.status().is_success() {
            self.finding(
                Level::Must,
                format!("a posted {what} was answered {status}, not 202 Accepted"),
            );
            if http::media_type(response.headers()).as_deref() == Some("text/event-stream") {
                self.read_post_stream(response, &mut ctx).await;
            } else {
                let (body, _) = http::read_body(&mut response, self.max_body, self.timeout).await;
                if !body.is_empty() {
                    self.frame(body, &mut ctx).await;
                }
            }
            return;
        }
        // The server may refuse a message with an HTTP error; the engine sees the effects.
        let (body, _) = http::read_body(&mut response, 64 * 1024, self.timeout).await;
        self.transcript.note(format!(
            "http: the server did not accept the {what} ({status} {}){}",
            reason_phrase(status),
            if body.is_empty() { String::new() } else { format!(": {}", http::preview(&body)) }
        ));
    }

    // ----- streams -----------------------------------------------------------

    /// Read a POST's SSE stream; when it ends before the response and the server gave
    /// an event id, resume with GET and `Last-Event-ID` (sessions only). Returns how the
    /// last stream ended.
    async fn read_post_stream(&self, response: Response, ctx: &mut StreamCtx) -> String {
        let mut parser = SseParser::new(self.max_body);
        let mut response = response;
        let mut resumes = 0;
        loop {
            let end = self.pump_sse(&mut response, &mut parser, ctx).await;
            if ctx.answered || self.shutting_down() || self.stateless() || ctx.id.is_none() {
                return end;
            }
            let last = parser.last_event_id().to_string();
            if last.is_empty() || resumes >= MAX_RESUMES {
                return end;
            }
            resumes += 1;
            match self.resume(&last, parser.retry_ms(), &end).await {
                Some(r) => {
                    response = r;
                    parser = SseParser::new(self.max_body).with_last_event_id(&last);
                }
                None => return end,
            }
        }
    }

    /// Wait the server's `retry`, then GET with `Last-Event-ID`.
    async fn resume(&self, last_event_id: &str, retry: Option<u64>, end: &str) -> Option<Response> {
        let wait = retry.unwrap_or(DEFAULT_RETRY_MS).min(MAX_RETRY_MS);
        self.transcript.note(format!("sse: the stream ended ({end}); reconnecting in {wait} ms with Last-Event-ID {last_event_id}"));
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = shutdown.wait_for(|s| *s) => return None,
        }
        let mut headers = self.headers_for(&Method::GET, None);
        headers.insert(http::LAST_EVENT_ID, HeaderValue::from_str(last_event_id).ok()?);
        let response = http::execute(&self.client, &self.transcript, Method::GET, &self.url, &headers, None, self.timeout).await;
        match response {
            Ok(r) if r.status().is_success() && http::media_type(r.headers()).as_deref() == Some("text/event-stream") => Some(r),
            Ok(r) => {
                self.transcript.note(format!("sse: the resumption GET answered {} {:?}; not resuming", r.status(), http::media_type(r.headers())));
                None
            }
            Err(e) => {
                self.transcript.note(format!("sse: the resumption GET failed: {e}"));
                None
            }
        }
    }

    /// The server's own stream (GET), reconnected while it uses event ids.
    async fn run_get_stream(self: Arc<Self>) {
        let mut ctx = StreamCtx::new("GET stream", None, false);
        ctx.standalone = true;
        let headers = self.headers_for(&Method::GET, None);
        let response = match http::execute(&self.client, &self.transcript, Method::GET, &self.url, &headers, None, self.timeout).await {
            Ok(r) => r,
            Err(e) => {
                self.transcript.note(format!("sse: the GET stream could not be opened: {e}"));
                return;
            }
        };
        let status = response.status().as_u16();
        let media = http::media_type(response.headers());
        if status == 405 {
            self.transcript.note("sse: the server offers no GET stream (405)");
            return;
        }
        if !(response.status().is_success() && media.as_deref() == Some("text/event-stream")) {
            self.finding(
                Level::Must,
                format!(
                    "a GET to the MCP endpoint was answered {status} with {}; it must be a text/event-stream or 405 Method Not Allowed",
                    media.map(|m| format!("Content-Type {m}")).unwrap_or("no Content-Type".into())
                ),
            );
            return;
        }
        let mut parser = SseParser::new(self.max_body);
        let mut response = response;
        let mut reconnects = 0;
        loop {
            let end = self.pump_sse(&mut response, &mut parser, &mut ctx).await;
            if self.shutting_down() {
                return;
            }
            let last = parser.last_event_id().to_string();
            if last.is_empty() || reconnects >= MAX_GET_RECONNECTS {
                self.transcript.note(format!("sse: the GET stream ended ({end})"));
                return;
            }
            reconnects += 1;
            match self.resume(&last, parser.retry_ms(), &end).await {
                Some(r) => {
                    response = r;
                    parser = SseParser::new(self.max_body).with_last_event_id(&last);
                }
                None => return,
            }
        }
    }

    /// Read one SSE body until it ends, breaks or the transport shuts down. Each event
    /// with data is one frame; events without data (priming, `retry`) are noted.
    async fn pump_sse(&self, response: &mut Response, parser: &mut SseParser, ctx: &mut StreamCtx) -> String {
        let mut shutdown = self.shutdown.clone();
        let end = loop {
            let chunk = tokio::select! {
                c = response.chunk() => c,
                _ = shutdown.wait_for(|s| *s) => break "the session closed".to_string(),
            };
            let chunk = match chunk {
                Ok(Some(c)) => c,
                Ok(None) => break "the server ended it".to_string(),
                Err(e) => break format!("the connection broke: {}", http::describe_error(&e)),
            };
            for item in parser.feed(&chunk) {
                let going = match item {
                    SseItem::Event(e) if e.has_data() => {
                        if e.event_type() != "message" {
                            self.transcript.note(format!("sse: event type {:?} on the {}", e.event_type(), ctx.label));
                        }
                        self.frame(e.data.unwrap_or_default(), ctx).await
                    }
                    SseItem::Event(e) => {
                        self.transcript.note(format!(
                            "sse: event without data on the {} (id {:?}, retry {:?}){}",
                            ctx.label,
                            e.id.as_deref().unwrap_or(""),
                            e.retry,
                            if e.id.is_some() { ": a priming event" } else { "" }
                        ));
                        true
                    }
                    SseItem::Comment(text) => {
                        ctx.comments += 1;
                        if ctx.comments <= NOTED_COMMENTS {
                            self.transcript.note(format!("sse: comment {:?}", String::from_utf8_lossy(&text)));
                        }
                        true
                    }
                    SseItem::TooLarge { prefix, size } => {
                        let reason = format!("an SSE event on the {} is larger than the {}-byte bound ({size} bytes)", ctx.label, self.max_body);
                        self.bad_frame(prefix, reason, ctx).await
                    }
                };
                if !going {
                    break;
                }
            }
        };
        if ctx.comments > NOTED_COMMENTS {
            self.transcript.note(format!("sse: {} comment lines on the {}", ctx.comments, ctx.label));
            ctx.comments = 0;
        }
        let pending = parser.pending_raw();
        if parser.pending_bytes() > 0 && !pending.iter().all(|b| b.is_ascii_whitespace()) {
            let reason = format!("the {} stopped inside an SSE event ({end}; {} bytes without the closing blank line)", ctx.label, parser.pending_bytes());
            if self.shutting_down() {
                self.transcript.record(Dir::In, &pending);
                self.transcript.note(reason);
            } else {
                self.bad_frame(pending, reason, ctx).await;
            }
        }
        end
    }

    // ----- sessions ----------------------------------------------------------

    /// The server answered 404 for the session `stale`: start a new session (initialize,
    /// initialized) as a client must, unless another task already did.
    async fn reinitialise(&self, stale: HeaderValue) -> Result<(), String> {
        let _one_at_a_time = self.reinit.lock().await;
        let init = {
            let mut state = self.state();
            if state.session.as_ref() != Some(&stale) {
                return Ok(());
            }
            if state.reinits >= MAX_REINITS {
                return Err(format!("the server ended the session (404) again; not starting more than {MAX_REINITS} new sessions"));
            }
            let Some(init) = state.init_body.clone() else {
                return Err("the server answered 404 for the session, and no initialize request is known to start another".into());
            };
            state.reinits += 1;
            state.session = None;
            init
        };
        self.transcript.note("http: the server answered 404 for the session: starting a new session");
        let mut value: Value = serde_json::from_slice(&init).map_err(|e| format!("the initialize request does not parse: {e}"))?;
        let n = self.state().reinits;
        let id = json!(format!("mcp-conform-reinitialise-{n}"));
        value["id"] = id.clone();
        let body = serde_json::to_vec(&value).expect("a Value always serialises");
        self.transcript.record(Dir::Out, &body);
        let out = Outgoing::of(&body);
        let headers = self.headers_for(&Method::POST, Some(&out));
        let mut response = http::execute(&self.client, &self.transcript, Method::POST, &self.url, &headers, Some(&body), self.timeout)
            .await
            .map_err(|e| format!("the new initialize failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("the new initialize was answered {}", response.status()));
        }
        self.take_session(&response);
        let answer = Id::from_value(&id).expect("a string id");
        let frames = if http::media_type(response.headers()).as_deref() == Some("text/event-stream") {
            self.collect_until(&mut response, &answer).await
        } else {
            vec![http::read_body(&mut response, self.max_body, self.timeout).await.0]
        };
        let mut ok = false;
        for f in &frames {
            self.transcript.record(Dir::In, f);
            if http::answers(f, &answer) {
                ok = true;
                if let Some(v) = http::negotiated_version(f) {
                    self.state().negotiated = Some(v);
                }
            }
        }
        if !ok {
            return Err("the new initialize got no response".into());
        }
        let note = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        self.transcript.record(Dir::Out, note);
        let headers = self.headers_for(&Method::POST, Some(&Outgoing::of(note)));
        http::execute(&self.client, &self.transcript, Method::POST, &self.url, &headers, Some(note), self.timeout)
            .await
            .map_err(|e| format!("the new session's initialized notification failed: {e}"))?;
        Ok(())
    }

    /// The frames of an SSE body up to the response to `id` (bounded by the timeout).
    async fn collect_until(&self, response: &mut Response, id: &Id) -> Vec<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut parser = SseParser::new(self.max_body);
        let mut frames = Vec::new();
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await {
            for item in parser.feed(&chunk) {
                if let SseItem::Event(e) = item
                    && let Some(d) = e.data.filter(|d| !d.is_empty())
                {
                    let done = http::answers(&d, id);
                    frames.push(d);
                    if done {
                        return frames;
                    }
                }
            }
        }
        frames
    }
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
}

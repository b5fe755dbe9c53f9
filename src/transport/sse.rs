//! The legacy HTTP+SSE transport (protocol version 2024-11-05).
//!
//! Opening GETs the SSE URL; the server's first job is an `endpoint` event naming where
//! to POST messages (relative or absolute, resolved against the SSE URL; another origin
//! is refused, since the user's headers would follow). Every message is POSTed there,
//! in order, each awaited up to the timeout; the server's messages arrive as `message`
//! events on the SSE stream, read by a background task into a bounded channel. The
//! session lives as long as the SSE connection: when it ends, the session is `Closed`.

use super::http::{self, Outgoing};
use super::sse_parse::{SseItem, SseParser};
use super::streamable_http::HttpConfig;
use super::{CloseReport, Event, HttpError, HttpRequest, HttpResponse, SendError, Transport};
use crate::spec::Level;
use crate::transcript::{Dir, Transcript};
use crate::verdict::Finding;
use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Response, Url};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

const CHANNEL_FRAMES: usize = 256;

/// Where messages go: not yet known, known, or refused (with the reason).
type Endpoint = Option<Result<Url, String>>;

pub struct SseTransport {
    client: reqwest::Client,
    sse_url: Url,
    user_headers: HeaderMap,
    tokens: Vec<(String, String)>,
    timeout: Duration,
    max_body: usize,
    transcript: Transcript,
    findings: Arc<Mutex<Vec<Finding>>>,
    endpoint: watch::Receiver<Endpoint>,
    events: mpsc::Receiver<Event>,
    /// For events of the transport's own (a refused POST); the reader holds another.
    tx: mpsc::Sender<Event>,
    shutdown: watch::Sender<bool>,
    reader: Option<JoinHandle<()>>,
    closed: bool,
}

impl SseTransport {
    pub async fn open(config: &HttpConfig, transcript: Transcript) -> Result<SseTransport, String> {
        let sse_url = Url::parse(&config.url).map_err(|e| format!("bad URL {:?}: {e}", config.url))?;
        if !matches!(sse_url.scheme(), "http" | "https") {
            return Err(format!("the URL {sse_url} is not http or https"));
        }
        http::check_reachable(&sse_url, config.timeout).await?;
        let client = http::client(config.timeout)?;
        let user_headers = http::user_headers(&config.headers)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        headers.extend(user_headers.clone());
        // The server is reachable: from here on what it answers is judged, not a harness
        // error. A GET that fails or is not an SSE stream is a finding, and every send
        // fails with it (so a version probe reports the server broken, exit 1).
        let opened = match http::execute(&client, &transcript, Method::GET, &sse_url, &headers, None, config.timeout).await {
            Err(e) => Err(format!("GET {sse_url} failed: {e}")),
            Ok(response) => {
                let media = http::media_type(response.headers());
                if response.status().is_success() && media.as_deref() == Some("text/event-stream") {
                    Ok(response)
                } else {
                    Err(format!(
                        "GET {sse_url} answered {} with {}: not an SSE stream (is this the legacy HTTP+SSE endpoint?)",
                        response.status(),
                        media.unwrap_or("no Content-Type".into())
                    ))
                }
            }
        };
        let (tx, events) = mpsc::channel(CHANNEL_FRAMES);
        let (endpoint_tx, endpoint) = watch::channel(None);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let findings = Arc::new(Mutex::new(Vec::new()));
        let reader = match opened {
            Ok(response) => {
                let reader = Reader {
                    sse_url: sse_url.clone(),
                    max_body: config.max_body_bytes,
                    transcript: transcript.clone(),
                    findings: findings.clone(),
                    tx: tx.clone(),
                    endpoint: endpoint_tx,
                    shutdown: shutdown_rx,
                };
                Some(tokio::spawn(reader.run(response)))
            }
            Err(why) => {
                findings.lock().unwrap_or_else(|p| p.into_inner()).push(Finding::new(Level::Must, why.clone()));
                let _ = endpoint_tx.send(Some(Err(why)));
                None
            }
        };
        Ok(SseTransport {
            client,
            sse_url,
            user_headers,
            tokens: config.tokens.clone(),
            timeout: config.timeout,
            max_body: config.max_body_bytes,
            transcript,
            findings,
            endpoint,
            events,
            tx,
            shutdown,
            reader,
            closed: false,
        })
    }

    /// The endpoint, once the server named it (waiting up to the timeout).
    async fn endpoint(&mut self) -> Result<Url, String> {
        let wait = tokio::time::timeout(self.timeout, self.endpoint.wait_for(Option::is_some)).await;
        match wait {
            Ok(Ok(e)) => e.clone().expect("waited for Some"),
            Ok(Err(_)) => Err("the SSE stream ended before its endpoint event".into()),
            Err(_) => Err(format!("the server sent no endpoint event within {} ms of opening the SSE stream", self.timeout.as_millis())),
        }
    }

    fn headers(&self, post: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        if post {
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
        } else {
            h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        for (k, v) in &self.user_headers {
            h.insert(k.clone(), v.clone());
        }
        h
    }

    fn finding(&self, level: Level, message: String) {
        self.findings.lock().unwrap_or_else(|p| p.into_inner()).push(Finding::new(level, message));
    }
}

#[async_trait]
impl Transport for SseTransport {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        self.transcript.record(Dir::Out, bytes);
        if self.closed {
            return Err(SendError("the session is closed".into()));
        }
        let url = self.endpoint().await.map_err(SendError)?;
        let out = Outgoing::of(bytes);
        let headers = self.headers(true);
        let mut response = http::execute(&self.client, &self.transcript, Method::POST, &url, &headers, Some(bytes), self.timeout)
            .await
            .map_err(|e| SendError(format!("POST to the endpoint failed: {e}")))?;
        let status = response.status().as_u16();
        let (body, _) = http::read_body(&mut response, 64 * 1024, self.timeout.min(Duration::from_secs(2))).await;
        if !body.is_empty() {
            self.transcript.note(format!("http: body: {}", http::preview(&body)));
        }
        if !response.status().is_success() {
            let reason = response.status().canonical_reason().unwrap_or("");
            if !out.is_request {
                self.finding(Level::Must, format!("the server refused a message POSTed to its endpoint: HTTP {status} {reason}"));
            } else {
                // The response will not come on the stream: say so now, behind whatever
                // the reader delivered already. Bounded, as everything else.
                let event = Event::Unanswered {
                    id: out.id,
                    status: Some(status),
                    reason: format!("its POST to the endpoint was refused with HTTP {status} {reason}"),
                    body_delivered: false,
                    sessionless: false,
                };
                let _ = tokio::time::timeout(self.timeout, self.tx.send(event)).await;
            }
        }
        Ok(())
    }

    async fn recv(&mut self, wait: Duration) -> Event {
        match tokio::time::timeout(wait, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => Event::Closed { reason: "the SSE stream is closed".into() },
            Err(_) => Event::Timeout,
        }
    }

    async fn close(&mut self, _grace: Duration) -> CloseReport {
        if self.closed {
            return CloseReport { ended_cleanly: true, detail: "already closed".into() };
        }
        self.closed = true;
        let _ = self.shutdown.send(true);
        if let Some(mut reader) = self.reader.take()
            && tokio::time::timeout(Duration::from_millis(250), &mut reader).await.is_err()
        {
            reader.abort();
        }
        let report = CloseReport { ended_cleanly: true, detail: "closed the SSE stream (the legacy transport's session ends with it)".into() };
        self.transcript.note(&report.detail);
        report
    }

    fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut *self.findings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    async fn http_exchange(&mut self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        // POSTs go to the message endpoint, everything else to the SSE URL.
        let post = request.method.eq_ignore_ascii_case("POST");
        let url = if post { self.endpoint().await.map_err(HttpError::Failed)? } else { self.sse_url.clone() };
        let headers = self.headers(post);
        http::exchange(&self.client, &self.transcript, &url, headers, &request, self.max_body, self.timeout).await
    }

    fn case_bindings(&self) -> Vec<(String, Value)> {
        http::case_bindings(&self.sse_url, &self.tokens)
    }
}

impl Drop for SseTransport {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(r) = &self.reader {
            r.abort();
        }
    }
}

struct Reader {
    sse_url: Url,
    max_body: usize,
    transcript: Transcript,
    findings: Arc<Mutex<Vec<Finding>>>,
    tx: mpsc::Sender<Event>,
    endpoint: watch::Sender<Endpoint>,
    shutdown: watch::Receiver<bool>,
}

impl Reader {
    fn finding(&self, level: Level, message: String) {
        self.findings.lock().unwrap_or_else(|p| p.into_inner()).push(Finding::new(level, message));
    }

    async fn deliver(&self, event: Event) -> bool {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            sent = self.tx.send(event) => sent.is_ok(),
            _ = shutdown.wait_for(|s| *s) => false,
        }
    }

    async fn run(self, mut response: Response) {
        let mut parser = SseParser::new(self.max_body);
        let mut shutdown = self.shutdown.clone();
        let mut comments = 0usize;
        let end = 'read: loop {
            let chunk = tokio::select! {
                c = response.chunk() => c,
                _ = shutdown.wait_for(|s| *s) => break "the session closed".to_string(),
            };
            let chunk = match chunk {
                Ok(Some(c)) => c,
                Ok(None) => break "the server ended the SSE stream".to_string(),
                Err(e) => break format!("the SSE connection broke: {}", http::describe_error(&e)),
            };
            for item in parser.feed(&chunk) {
                let going = match item {
                    SseItem::Event(e) if e.event_type() == "endpoint" => {
                        self.on_endpoint(e.data.as_deref().unwrap_or_default());
                        true
                    }
                    SseItem::Event(e) if e.has_data() => {
                        if e.event_type() != "message" {
                            self.finding(
                                Level::Must,
                                format!("a server message came as an SSE `{}` event; 2024-11-05 sends them as `message` events", e.event_type()),
                            );
                        }
                        let data = e.data.unwrap_or_default();
                        self.transcript.record(Dir::In, &data);
                        self.deliver(Event::Frame(data)).await
                    }
                    SseItem::Event(e) => {
                        self.transcript.note(format!("sse: event without data (type {:?}, id {:?}, retry {:?})", e.event_type(), e.id, e.retry));
                        true
                    }
                    SseItem::Comment(text) => {
                        comments += 1;
                        if comments <= 3 {
                            self.transcript.note(format!("sse: comment {:?}", String::from_utf8_lossy(&text)));
                        }
                        true
                    }
                    SseItem::TooLarge { prefix, size } => {
                        self.transcript.record(Dir::In, &prefix);
                        let reason = format!("an SSE event is larger than the {}-byte bound ({size} bytes)", self.max_body);
                        self.deliver(Event::BadFrame { raw: prefix, reason }).await
                    }
                };
                if !going {
                    break 'read "the session closed".to_string();
                }
            }
        };
        if comments > 3 {
            self.transcript.note(format!("sse: {comments} comment lines"));
        }
        if self.endpoint.borrow().is_none() {
            let _ = self.endpoint.send(Some(Err(format!("the SSE stream ended before its endpoint event ({end})"))));
        }
        if *self.shutdown.borrow() {
            return;
        }
        if parser.pending_bytes() > 0 && !parser.pending_raw().iter().all(|b| b.is_ascii_whitespace()) {
            let raw = parser.pending_raw();
            self.transcript.record(Dir::In, &raw);
            let reason = format!("the SSE stream stopped inside an event ({end})");
            self.deliver(Event::BadFrame { raw, reason }).await;
        }
        self.deliver(Event::Closed { reason: end }).await;
    }

    fn on_endpoint(&self, data: &[u8]) {
        let text = String::from_utf8_lossy(data).trim().to_string();
        if self.endpoint.borrow().is_some() {
            self.transcript.note(format!("sse: another endpoint event ({text:?}); the first one stays in use"));
            return;
        }
        let resolved = match self.sse_url.join(&text) {
            Ok(url) if url.origin() != self.sse_url.origin() => Err(format!(
                "the endpoint event names another origin ({url}); mcp-conform does not send the session's messages and headers there"
            )),
            Ok(url) => Ok(url),
            Err(e) => Err(format!("the endpoint event's data {text:?} is not a URL: {e}")),
        };
        match &resolved {
            Ok(url) => self.transcript.note(format!("sse: endpoint {url}")),
            Err(e) => self.finding(Level::Must, e.clone()),
        }
        let _ = self.endpoint.send(Some(resolved));
    }
}

//! Transports: how frames reach a server and come back. Each transport does IO and
//! nothing else: it writes the bytes it is given, reads framed bytes, records both in
//! the transcript, and reports what happened at the edges (timeouts, closed streams,
//! over-long or undecodable frames, process exit, HTTP status).
//!
//! Must never parse, repair or drop a message: classification and judgement belong
//! to `wire` and `check`.

pub mod http;
pub mod sse;
pub mod sse_parse;
pub mod in_process;
pub mod stdio;
pub mod streamable_http;

use crate::spec::ProtocolVersion;
use crate::transcript::Transcript;
use crate::verdict::Finding;
use crate::wire::Id;
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// What a transport hands to the engine.
#[derive(Debug)]
pub enum Event {
    /// One framed message's bytes, exactly as received (without the frame terminator).
    Frame(Vec<u8>),
    /// Bytes that could not be framed: an over-long line, an SSE event that broke the
    /// framing, an HTTP body of the wrong content type. Never silently dropped.
    BadFrame { raw: Vec<u8>, reason: String },
    /// The server's output ended (process exit, connection closed).
    Closed { reason: String },
    /// Nothing arrived within the wait.
    Timeout,
    /// The request in bytes sent earlier will get no JSON-RPC response: its HTTP
    /// exchange ended without one (an HTTP error status, a refused or dropped
    /// connection, a stream that closed first). `id` is the request's id (None when the
    /// bytes had none the transport could read); `status` the HTTP status, if any. Lets
    /// the engine stop waiting at once instead of at its deadline. `body_delivered`: the
    /// exchange's body was delivered as a frame just before (an id-null JSON-RPC error
    /// that came with the HTTP error status). `sessionless`: it was posted without a
    /// session where the protocol needs one (before a successful initialize), so the
    /// server had nowhere to serve it.
    Unanswered { id: Option<Id>, status: Option<u16>, reason: String, body_delivered: bool, sessionless: bool },
}

/// Why sending failed: the server is gone or refused the bytes.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// The outcome of ending a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReport {
    /// stdio: the process exited by itself after stdin closed, within the grace period.
    /// HTTP: the session ended as asked (DELETE accepted or not needed).
    pub ended_cleanly: bool,
    pub detail: String,
}

#[async_trait]
pub trait Transport: Send {
    /// Send one message's bytes (stdio adds the newline; HTTP POSTs them).
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SendError>;
    /// The next event from the server, waiting at most `wait`.
    async fn recv(&mut self, wait: Duration) -> Event;
    /// End the session politely, then forcefully; always releases every resource.
    async fn close(&mut self, grace: Duration) -> CloseReport;
    /// The transcript this transport records into.
    fn transcript(&self) -> &Transcript;

    /// The protocol version the session intends to speak (called once, before the
    /// first message). HTTP transports use it to choose the per-version headers; the
    /// negotiated version, where there is one, still comes from the initialize response.
    fn set_protocol_version(&mut self, _version: ProtocolVersion) {}

    /// Violations the transport observed at its own layer (HTTP statuses, content
    /// types, headers) since the last call. The engine records them as findings.
    fn take_findings(&mut self) -> Vec<Finding> {
        Vec::new()
    }

    /// One raw HTTP exchange outside the session's message flow, with the session's
    /// default headers adjusted as asked. Only HTTP transports have one.
    async fn http_exchange(&mut self, _request: HttpRequest) -> Result<HttpResponse, HttpError> {
        Err(HttpError::NotHttp)
    }

    /// Values a case can name before its first step: HTTP transports bind `endpoint`
    /// (`{url, origin, path}` of the server's URL) and `tokens` (the extra test tokens
    /// the user gave by kind, e.g. `wrong-audience`).
    fn case_bindings(&self) -> Vec<(String, Value)> {
        Vec::new()
    }
}

/// A raw HTTP request for [`Transport::http_exchange`].
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `GET`, `POST`, `DELETE`, ...
    pub method: String,
    /// Headers to set (`Some`) or to leave out (`None`), over the defaults the transport
    /// would send for this method: `Accept`, `Content-Type`, the session id, the protocol
    /// version header, the stateless `Mcp-*` headers, and the user's headers.
    pub headers: Vec<(String, Option<String>)>,
    pub body: Option<Vec<u8>>,
    /// How long to read the response body at most (an SSE stream may never end).
    pub read_window: Duration,
    /// Stop reading an SSE body after its first JSON-RPC response.
    pub stop_at_response: bool,
    /// Another URL than the session's (relative references resolve against the
    /// server's URL). Such a request carries none of the transport's default headers and
    /// none of the user's (no credentials leave for a URL the user did not give), only
    /// `headers`.
    pub url: Option<String>,
}

/// What came back from an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case, values as text (lossy), in the order received.
    pub headers: Vec<(String, String)>,
    /// The body bytes read (bounded).
    pub body: Vec<u8>,
    /// The body parsed as SSE, when it was `text/event-stream`.
    pub events: Option<Vec<sse_parse::SseEvent>>,
    /// Whether the body ended within the read window and the bound.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("not an HTTP transport")]
    NotHttp,
    #[error("{0}")]
    Failed(String),
}

impl HttpResponse {
    /// The media type of `Content-Type`, lower case, without parameters.
    pub fn content_type(&self) -> Option<String> {
        let v = self.headers.iter().find(|(k, _)| k == "content-type")?;
        Some(v.1.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }

    /// The exchange as a JSON value for a case's expectations:
    /// `{"status", "headers": {name: value}, "content_type", "body", "json"?, "events"?, "messages", "complete"}`.
    /// `messages` are the JSON-RPC messages the body carried: the JSON body, or each
    /// SSE event with data (as JSON, or as the text when it is not JSON).
    pub fn to_value(&self) -> Value {
        let mut headers = Map::new();
        for (k, v) in &self.headers {
            match headers.get_mut(k) {
                Some(Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(v);
                }
                _ => {
                    headers.insert(k.clone(), json!(v));
                }
            }
        }
        let mut out = json!({
            "status": self.status,
            "headers": headers,
            "content_type": self.content_type(),
            "body": String::from_utf8_lossy(&self.body[..self.body.len().min(crate::transcript::MAX_ENTRY_BYTES)]),
            "complete": self.complete,
        });
        let mut messages = Vec::new();
        match &self.events {
            Some(events) => {
                let list: Vec<Value> = events
                    .iter()
                    .map(|e| {
                        let data = e.data.as_ref().map(|d| String::from_utf8_lossy(d).into_owned());
                        json!({"event": e.event_type(), "id": e.id, "data": data, "retry": e.retry})
                    })
                    .collect();
                for e in events.iter().filter(|e| e.has_data()) {
                    let data = e.data.as_deref().unwrap_or_default();
                    messages.push(
                        serde_json::from_slice(data).unwrap_or_else(|_| json!(String::from_utf8_lossy(data))),
                    );
                }
                out["events"] = json!(list);
            }
            None => {
                if let Ok(v) = serde_json::from_slice::<Value>(&self.body) {
                    out["json"] = v.clone();
                    messages.push(v);
                }
            }
        }
        out["messages"] = json!(messages);
        out
    }
}

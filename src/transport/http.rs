//! What both HTTP transports share: the client (no silent redirects, bounded waits),
//! request and response notes for the transcript (status lines and the MCP headers,
//! never the user's headers), bounded body reads, and a light look at the harness's
//! own outgoing messages (method, id, `_meta` version) to pick headers.
//!
//! Nothing here judges the server's messages: the only bytes of the server's that are
//! looked into are ids (to know whether a request's exchange carried its response) and
//! the initialize result's `protocolVersion` (to send the negotiated version header).

use crate::spec::meta_key;
use crate::transcript::Transcript;
use crate::wire::Id;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};
use serde_json::Value;
use std::time::Duration;

/// A JSON body or SSE event larger than this is a bad frame.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Redirects followed (307/308 only, each noted) before giving up.
pub const MAX_REDIRECTS: usize = 3;

pub const SESSION_ID: &str = "mcp-session-id";
pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";
pub const MCP_METHOD: &str = "mcp-method";
pub const MCP_NAME: &str = "mcp-name";
pub const LAST_EVENT_ID: &str = "last-event-id";

/// Headers worth a note: never the user's own (which may carry credentials).
const NOTED_HEADERS: &[&str] =
    &["content-type", SESSION_ID, PROTOCOL_VERSION, MCP_METHOD, MCP_NAME, LAST_EVENT_ID, "location", "allow", "accept"];

/// The HTTP client: redirects are handled by [`execute`] (noted, limited), connects are
/// bounded; whole-request timeouts are applied per use since SSE bodies may stream long.
pub fn client(connect_timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(concat!("mcp-conform/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// The user's `--header`s (and bearer token) as a header map.
pub fn user_headers(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("bad header name {k:?}"))?;
        // The value may be a secret: it is never echoed.
        let value = HeaderValue::from_str(v).map_err(|_| format!("the value of header {k} is not a valid header value"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// Whether a header value is visible ASCII only (0x21 to 0x7E), as session ids must be.
pub fn is_visible_ascii(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// `Mcp-Name` / `Mcp-Param-*` value encoding (2026-07-28): plain when it is safe header
/// text, else `=?base64?…?=` of its UTF-8 bytes.
pub fn encode_header_value(value: &str) -> String {
    use base64::Engine;
    let safe = !value.is_empty()
        && value.bytes().all(|b| b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b))
        && !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && (!value.starts_with("=?base64?") || !value.ends_with("?="));
    if safe { value.to_string() } else { format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(value)) }
}

pub fn note_request(transcript: &Transcript, method: &Method, url: &Url, headers: &HeaderMap) {
    transcript.note(format!("http: {method} {url}{}", noted(headers)));
}

pub fn note_response(transcript: &Transcript, method: &Method, response: &Response) {
    let status = response.status();
    transcript.note(format!(
        "http: {} {} to {method}{}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        noted(response.headers())
    ));
}

fn noted(headers: &HeaderMap) -> String {
    let mut out = String::new();
    for name in NOTED_HEADERS {
        for v in headers.get_all(*name) {
            out.push_str(&format!("; {name}: {}", String::from_utf8_lossy(v.as_bytes())));
        }
    }
    out
}

/// The media type of a response, lower case, without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(reqwest::header::CONTENT_TYPE)?;
    Some(String::from_utf8_lossy(v.as_bytes()).split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// Send one request, waiting at most `timeout` for the response head. 307 and 308 are
/// followed (same method and body, noted) up to [`MAX_REDIRECTS`]; other redirects are
/// returned as they are, for the caller to report.
pub async fn execute(
    client: &reqwest::Client,
    transcript: &Transcript,
    method: Method,
    url: &Url,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<Response, String> {
    let mut url = url.clone();
    for hop in 0..=MAX_REDIRECTS {
        note_request(transcript, &method, &url, headers);
        let mut builder = client.request(method.clone(), url.clone()).headers(headers.clone());
        if let Some(b) = body {
            builder = builder.body(b.to_vec());
        }
        let response = match tokio::time::timeout(timeout, builder.send()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(describe_error(&e)),
            Err(_) => return Err(format!("no response head within {} ms", timeout.as_millis())),
        };
        note_response(transcript, &method, &response);
        let status = response.status();
        if status == StatusCode::TEMPORARY_REDIRECT || status == StatusCode::PERMANENT_REDIRECT {
            let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
            let Some(next) = location.and_then(|l| url.join(l).ok()) else {
                return Ok(response);
            };
            if next.origin() != url.origin() {
                transcript.note(format!("http: not following a redirect to another origin ({next})"));
                return Ok(response);
            }
            if hop == MAX_REDIRECTS {
                transcript.note(format!("http: more than {MAX_REDIRECTS} redirects; not following"));
                return Ok(response);
            }
            transcript.note(format!("http: following redirect {} to {next}", hop + 1));
            url = next;
            continue;
        }
        return Ok(response);
    }
    unreachable!("the loop returns by its last hop")
}

/// An error without the URL's query (which may carry a token) or header values.
pub fn describe_error(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the body broke off"
    } else {
        "the request failed"
    };
    let mut source = String::new();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cause {
        source = c.to_string();
        cause = c.source();
    }
    if source.is_empty() { kind.to_string() } else { format!("{kind}: {source}") }
}

/// How reading a body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEnd {
    Complete,
    /// Over the bound: the bytes seen so far (only a prefix is kept).
    TooLarge(usize),
    /// The deadline passed first.
    Timeout,
    Broken(String),
}

/// Read a whole body, bounded in size and time. Past `max` bytes reading stops.
pub async fn read_body(response: &mut Response, max: usize, wait: Duration) -> (Vec<u8>, BodyEnd) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => return (body, BodyEnd::Timeout),
            Ok(Err(e)) => return (body, BodyEnd::Broken(describe_error(&e))),
            Ok(Ok(None)) => return (body, BodyEnd::Complete),
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > max {
                    let seen = body.len() + chunk.len();
                    let keep = crate::transcript::MAX_ENTRY_BYTES.saturating_sub(body.len()).min(chunk.len());
                    body.extend_from_slice(&chunk[..keep]);
                    body.truncate(crate::transcript::MAX_ENTRY_BYTES);
                    return (body, BodyEnd::TooLarge(seen));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

/// Whether `host:port` of `url` accepts TCP connections (an unreachable server is a
/// harness error, not a finding). Skipped when a proxy is configured.
pub async fn check_reachable(url: &Url, wait: Duration) -> Result<(), String> {
    let proxied = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if proxied {
        return Ok(());
    }
    let host = url.host_str().ok_or_else(|| format!("the URL {url} has no host"))?;
    let port = url.port_or_known_default().ok_or_else(|| format!("the URL {url} has no port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match tokio::time::timeout(wait, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("cannot connect to {host}:{port}: {e}")),
        Err(_) => Err(format!("cannot connect to {host}:{port} within {} ms", wait.as_millis())),
    }
}

/// What the harness is sending, as far as the HTTP layer needs to know.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outgoing {
    pub method: Option<String>,
    /// The request id; None for notifications, responses and unreadable bytes.
    pub id: Option<Id>,
    pub is_request: bool,
    /// A notification or a response: the server answers 202 Accepted.
    pub expects_accepted: bool,
    /// `params.name`, `params.uri` or (the tasks extension's `tasks/*`) `params.taskId`,
    /// for `Mcp-Name`.
    pub name: Option<String>,
    /// `params._meta["io.modelcontextprotocol/protocolVersion"]`.
    pub meta_version: Option<String>,
    /// `params.arguments` of a `tools/call`, for `Mcp-Param-*` headers.
    pub arguments: Option<Value>,
}

/// A batch element the server answers nothing to: a notification or a response.
fn is_notification_or_response(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        let notification = m.get("method").is_some_and(Value::is_string) && !m.contains_key("id");
        let response = !m.contains_key("method") && (m.contains_key("result") || m.contains_key("error"));
        notification || response
    })
}

impl Outgoing {
    pub fn of(bytes: &[u8]) -> Outgoing {
        let m = match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => m,
            // A batch of notifications and responses only is accepted with 202, like one.
            Ok(Value::Array(items)) if !items.is_empty() && items.iter().all(is_notification_or_response) => {
                return Outgoing { expects_accepted: true, ..Outgoing::default() };
            }
            // Unreadable bytes (a deliberately malformed frame) or a batch with requests:
            // the server answers with something or an error, as it would to a request.
            _ => return Outgoing { is_request: true, ..Outgoing::default() },
        };
        let method = m.get("method").and_then(Value::as_str).map(str::to_string);
        let id = m.get("id").and_then(Id::from_value);
        let is_request = method.is_some() && m.contains_key("id");
        let params = m.get("params");
        let name = match method.as_deref() {
            Some("tools/call" | "prompts/get") => params.and_then(|p| p.get("name")).and_then(Value::as_str),
            Some("resources/read") => params.and_then(|p| p.get("uri")).and_then(Value::as_str),
            Some("tasks/get" | "tasks/update" | "tasks/cancel") => {
                params.and_then(|p| p.get("taskId")).and_then(Value::as_str)
            }
            _ => None,
        }
        .map(str::to_string);
        let meta_version = params
            .and_then(|p| p.get("_meta"))
            .and_then(|meta| meta.get(meta_key::PROTOCOL_VERSION))
            .and_then(Value::as_str)
            .map(str::to_string);
        let arguments = params.filter(|_| method.as_deref() == Some("tools/call")).and_then(|p| p.get("arguments")).cloned();
        let expects_accepted = !is_request && (method.is_some() || m.contains_key("result") || m.contains_key("error"));
        Outgoing {
            method,
            id: if is_request { id } else { None },
            is_request: is_request || !expects_accepted,
            expects_accepted,
            name,
            meta_version,
            arguments,
        }
    }
}

/// Where a tool's `x-mcp-header` annotations point: (property path, header name part),
/// for the properties statically reachable through nested `properties` (2026-07-28,
/// streamable-http "Custom Headers from Tool Parameters").
pub fn mirrored_params(input_schema: &Value) -> Vec<(Vec<String>, String)> {
    fn walk(schema: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
        for (name, prop) in props {
            path.push(name.clone());
            if let Some(header) = prop.get("x-mcp-header").and_then(Value::as_str) {
                out.push((path.clone(), header.to_string()));
            }
            walk(prop, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(input_schema, &mut Vec::new(), &mut out);
    out
}

/// The `Mcp-Param-{Name}` headers of a tool call: one per annotated property present in
/// the arguments with a primitive value (string, integer, boolean), encoded like
/// `Mcp-Name`.
pub fn param_headers(mirrored: &[(Vec<String>, String)], arguments: &Value) -> Vec<(String, String)> {
    mirrored
        .iter()
        .filter_map(|(path, header)| {
            let value = path.iter().try_fold(arguments, |v, key| v.get(key))?;
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                _ => return None,
            };
            Some((format!("mcp-param-{}", header.to_ascii_lowercase()), encode_header_value(&text)))
        })
        .collect()
}

/// The values every HTTP transport binds for a case (see `Transport::case_bindings`).
pub fn case_bindings(url: &Url, tokens: &[(String, String)]) -> Vec<(String, Value)> {
    let origin = url.origin().ascii_serialization();
    let endpoint = serde_json::json!({"url": url.as_str(), "origin": origin, "path": url.path()});
    let tokens: serde_json::Map<String, Value> = tokens.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    vec![("endpoint".into(), endpoint), ("tokens".into(), Value::Object(tokens))]
}

/// Whether a frame is (or, as a batch, contains) the response to `id`.
pub fn answers(frame: &[u8], id: &Id) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(frame) else { return false };
    let is_answer = |m: &Value| {
        m.get("method").is_none()
            && (m.get("result").is_some() || m.get("error").is_some())
            && m.get("id").and_then(Id::from_value).as_ref() == Some(id)
    };
    match &v {
        Value::Array(items) => items.iter().any(is_answer),
        m => is_answer(m),
    }
}

/// Whether a frame is a JSON-RPC response (to anything).
pub fn is_response(frame: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(frame) else { return false };
    let one = |m: &Value| m.get("method").is_none() && m.get("id").is_some() && (m.get("result").is_some() || m.get("error").is_some());
    match &v {
        Value::Array(items) => items.iter().any(one),
        m => one(m),
    }
}

/// The `protocolVersion` of an initialize result.
pub fn negotiated_version(frame: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(frame).ok()?;
    v.pointer("/result/protocolVersion").and_then(Value::as_str).map(str::to_string)
}

pub fn preview(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(200)]).into_owned();
    if raw.len() > 200 { format!("{text}… ({} bytes)", raw.len()) } else { text }
}

/// One raw exchange for a case's `http` step: send, then read the body for at most
/// `request.read_window` (an SSE body as events, stopping at the first response when
/// asked). `headers` are the transport's defaults; the request's own adjust them.
pub async fn exchange(
    client: &reqwest::Client,
    transcript: &Transcript,
    url: &Url,
    mut headers: HeaderMap,
    request: &super::HttpRequest,
    max_body: usize,
    timeout: Duration,
) -> Result<super::HttpResponse, super::HttpError> {
    use super::{HttpError, HttpResponse};
    use super::sse_parse::{SseItem, SseParser};
    let method = Method::from_bytes(request.method.as_bytes())
        .map_err(|_| HttpError::Failed(format!("bad HTTP method {:?}", request.method)))?;
    let other;
    let url = match &request.url {
        Some(u) => {
            other = url.join(u).map_err(|e| HttpError::Failed(format!("bad URL {u:?}: {e}")))?;
            if !matches!(other.scheme(), "http" | "https") {
                return Err(HttpError::Failed(format!("the URL {other} is not http or https")));
            }
            // Neither the session's headers nor the user's credentials go elsewhere.
            headers = HeaderMap::new();
            &other
        }
        None => url,
    };
    for (k, v) in &request.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| HttpError::Failed(format!("bad header name {k:?}")))?;
        match v {
            Some(v) => {
                let value = HeaderValue::from_bytes(v.as_bytes())
                    .map_err(|_| HttpError::Failed(format!("bad value for header {k}: {v:?}")))?;
                headers.insert(name, value);
            }
            None => {
                headers.remove(name);
            }
        }
    }
    if request.body.is_none() {
        headers.remove(reqwest::header::CONTENT_TYPE);
    }
    if let Some(body) = &request.body {
        transcript.record(crate::transcript::Dir::Out, body);
    }
    let mut response = execute(client, transcript, method, url, &headers, request.body.as_deref(), timeout)
        .await
        .map_err(HttpError::Failed)?;
    let status = response.status().as_u16();
    let names: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let sse = media_type(response.headers()).as_deref() == Some("text/event-stream");
    if !sse {
        let (body, end) = read_body(&mut response, max_body, request.read_window).await;
        if !body.is_empty() {
            if serde_json::from_slice::<Value>(&body).is_ok() {
                transcript.record(crate::transcript::Dir::In, &body);
            } else {
                transcript.note(format!("http: body: {}", preview(&body)));
            }
        }
        if end != BodyEnd::Complete {
            transcript.note(format!("http: body not read to its end: {end:?}"));
        }
        return Ok(HttpResponse { status, headers: names, body, events: None, complete: end == BodyEnd::Complete });
    }
    let deadline = tokio::time::Instant::now() + request.read_window;
    let mut parser = SseParser::new(max_body);
    let mut body = Vec::new();
    let mut events = Vec::new();
    let complete = loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => break false,
            Ok(Err(e)) => {
                transcript.note(format!("http: the SSE body broke off: {}", describe_error(&e)));
                break false;
            }
            Ok(Ok(None)) => break true,
            Ok(Ok(Some(chunk))) => {
                if body.len() < max_body {
                    body.extend_from_slice(&chunk[..chunk.len().min(max_body - body.len())]);
                }
                let mut stop = false;
                for item in parser.feed(&chunk) {
                    match item {
                        SseItem::Event(e) => {
                            if let Some(data) = e.data.as_ref().filter(|d| !d.is_empty()) {
                                transcript.record(crate::transcript::Dir::In, data);
                                stop |= request.stop_at_response && is_response(data);
                            } else {
                                transcript.note(format!("sse: event without data (id {}, retry {})", e.id.as_deref().unwrap_or("none"), e.retry.map(|r| r.to_string()).unwrap_or("none".into())));
                            }
                            events.push(e);
                        }
                        SseItem::Comment(_) => {}
                        SseItem::TooLarge { size, .. } => {
                            transcript.note(format!("sse: an event of {size} bytes is over the {max_body}-byte bound"))
                        }
                    }
                }
                if stop {
                    break false;
                }
            }
        }
    };
    Ok(HttpResponse { status, headers: names, body, events: Some(events), complete })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_kinds() {
        let r = Outgoing::of(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#);
        assert!(r.is_request && !r.expects_accepted);
        assert_eq!(r.id, Some(Id::from_value(&serde_json::json!(3)).unwrap()));
        assert_eq!((r.name.as_deref(), r.meta_version.as_deref()), (Some("echo"), Some("2026-07-28")));
        let n = Outgoing::of(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert!(n.expects_accepted && !n.is_request);
        let a = Outgoing::of(br#"{"jsonrpc":"2.0","id":"s1","result":{}}"#);
        assert!(a.expects_accepted && a.id.is_none());
        let junk = Outgoing::of(b"{not json");
        assert!(junk.is_request && junk.id.is_none());
        let quiet = Outgoing::of(br#"[{"jsonrpc":"2.0","method":"notifications/a"},{"jsonrpc":"2.0","id":1,"result":{}}]"#);
        assert!(quiet.expects_accepted && !quiet.is_request);
        let mixed = Outgoing::of(br#"[{"jsonrpc":"2.0","method":"notifications/a"},{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
        assert!(mixed.is_request && !mixed.expects_accepted);
    }

    #[test]
    fn header_values_are_encoded_when_unsafe() {
        assert_eq!(encode_header_value("get_weather"), "get_weather");
        assert_eq!(encode_header_value("file:///a b.txt"), "file:///a b.txt");
        assert_eq!(encode_header_value("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
        assert_eq!(encode_header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(encode_header_value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(encode_header_value("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
    }

    #[test]
    fn annotated_tool_parameters_become_headers() {
        let schema = serde_json::json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "query": {"type": "string"},
            "opts": {"type": "object", "properties": {"shard": {"type": "integer", "x-mcp-header": "Shard"}, "ratio": {"type": "number", "x-mcp-header": "Ratio"}}}
        }});
        let mirrored = mirrored_params(&schema);
        assert_eq!(mirrored.len(), 3);
        let args = serde_json::json!({"region": "Hello, 世界", "query": "q", "opts": {"shard": 3, "ratio": 0.5}});
        let mut headers = param_headers(&mirrored, &args);
        headers.sort();
        assert_eq!(headers, vec![
            ("mcp-param-region".to_string(), "=?base64?SGVsbG8sIOS4lueVjA==?=".to_string()),
            ("mcp-param-shard".to_string(), "3".to_string()),
        ]);
        assert!(param_headers(&mirrored, &serde_json::json!({})).is_empty());
    }

    #[test]
    fn correlation_looks_at_ids_only() {
        let id = Id::from_value(&serde_json::json!(1)).unwrap();
        assert!(answers(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#, &id));
        assert!(!answers(br#"{"jsonrpc":"2.0","id":"1","result":{}}"#, &id));
        assert!(!answers(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#, &id));
        assert!(answers(br#"[{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":""}}]"#, &id));
        assert!(is_visible_ascii(b"abc-123"));
        assert!(!is_visible_ascii(b"abc 123"));
        assert!(!is_visible_ascii("é".as_bytes()));
    }
}

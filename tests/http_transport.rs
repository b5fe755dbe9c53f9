//! The HTTP transports against tiny in-process servers, each written to behave one way:
//! JSON and SSE answers, sessions, a 404 that forces a new session, resumption, streams
//! that never end or drip, wrong statuses and content types, the stateless headers,
//! and the legacy HTTP+SSE transport. Each test reads like the exchange on the wire.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use mcp_conform::spec::ProtocolVersion;
use mcp_conform::transcript::{Dir, Transcript};
use mcp_conform::transport::sse::SseTransport;
use mcp_conform::transport::streamable_http::{HttpConfig, StreamableHttpTransport};
use mcp_conform::transport::{Event, HttpRequest, Transport};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server saw: method, headers (lower-case names), body.
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>, String)>>>;

fn header(seen: &(String, Vec<(String, String)>, String), name: &str) -> Option<String> {
    seen.1.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A server from one function of (method, headers, body) to a response; every request
/// is recorded.
async fn server<F>(f: F) -> (String, Seen)
where
    F: Fn(&Method, &HeaderMap, &Value) -> Response + Send + Sync + 'static,
{
    let seen: Seen = Arc::default();
    let (log, f) = (seen.clone(), Arc::new(f));
    let handler = move |method: Method, headers: HeaderMap, body: Bytes| {
        let (log, f) = (log.clone(), f.clone());
        async move {
            let names = headers.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
            log.lock().unwrap().push((method.to_string(), names, String::from_utf8_lossy(&body).into_owned()));
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            f(&method, &headers, &value)
        }
    };
    let url = serve(Router::new().route("/mcp", any(handler))).await;
    (format!("{url}/mcp"), seen)
}

fn json_response(status: u16, body: Value, extra: &[(&str, &str)]) -> Response {
    let mut r = Response::builder().status(status).header("content-type", "application/json");
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

fn status(code: u16) -> Response {
    Response::builder().status(code).body(Body::empty()).unwrap()
}

/// An SSE body written in the given chunks, `gap` apart; `then_hang` keeps it open.
fn sse_response(chunks: Vec<String>, gap: Duration, then_hang: bool) -> Response {
    let stream = futures_util::stream::unfold((chunks.into_iter(), true), move |(mut it, first)| async move {
        if !first {
            tokio::time::sleep(gap).await;
        }
        match it.next() {
            Some(c) => Some((Ok::<_, Infallible>(Bytes::from(c)), (it, false))),
            None if then_hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                None
            }
            None => None,
        }
    });
    Response::builder().status(200).header("content-type", "text/event-stream").body(Body::from_stream(stream)).unwrap()
}

fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn init_result(msg: &Value) -> Value {
    result(&msg["id"], json!({"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {}, "serverInfo": {"name": "t", "version": "1"}}))
}

async fn open(url: &str, version: ProtocolVersion) -> StreamableHttpTransport {
    let config = HttpConfig {
        url: url.to_string(),
        headers: vec![("Authorization".into(), "Bearer sekret-token-123".into())],
        timeout: Duration::from_millis(1500),
        max_body_bytes: 64 * 1024,
        tokens: vec![],
    };
    let mut t = StreamableHttpTransport::open(&config, Transcript::new(vec!["Bearer sekret-token-123".into(), "sekret-token-123".into()]))
        .await
        .unwrap();
    t.set_protocol_version(version);
    t
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const PING: &str = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;

async fn frame(t: &mut dyn Transport, wait_ms: u64) -> Value {
    match t.recv(Duration::from_millis(wait_ms)).await {
        Event::Frame(raw) => serde_json::from_slice(&raw).unwrap(),
        other => panic!("expected a frame, got {other:?}\n{:#?}", t.transcript().entries()),
    }
}

/// The ordinary session: JSON answers, a session id and the negotiated version on every
/// later request, a GET stream refused with 405, DELETE at the end; the user's token goes
/// on every request and never into the transcript.
#[tokio::test]
async fn json_answers_in_a_session() {
    let (url, seen) = server(|method, headers, msg| match (method.as_str(), msg.get("method").and_then(Value::as_str)) {
        ("POST", Some("initialize")) => json_response(200, init_result(msg), &[("mcp-session-id", "sess-1")]),
        ("POST", Some("notifications/initialized")) => status(202),
        ("POST", Some("ping")) => {
            assert_eq!(headers.get("mcp-session-id").unwrap(), "sess-1");
            json_response(200, result(&msg["id"], json!({})), &[])
        }
        ("GET", _) => status(405),
        ("DELETE", _) => status(200),
        _ => status(500),
    })
    .await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(INIT.as_bytes()).await.unwrap();
    assert_eq!(frame(&mut t, 1000).await["result"]["protocolVersion"], "2025-11-25");
    t.send(INITIALIZED.as_bytes()).await.unwrap();
    t.send(PING.as_bytes()).await.unwrap();
    assert_eq!(frame(&mut t, 1000).await["id"], 2);
    let report = t.close(Duration::from_millis(500)).await;
    assert!(report.ended_cleanly, "{report:?}");
    assert!(t.take_findings().is_empty(), "{:?}", t.take_findings());

    let seen = seen.lock().unwrap().clone();
    let (init, ping) = (&seen[0], seen.iter().find(|s| s.2.contains("ping")).unwrap());
    assert_eq!(header(init, "accept").as_deref(), Some("application/json, text/event-stream"));
    assert_eq!(header(init, "content-type").as_deref(), Some("application/json"));
    assert_eq!(header(init, "mcp-session-id"), None);
    assert_eq!(header(init, "mcp-protocol-version"), None, "not negotiated yet");
    assert_eq!(header(ping, "mcp-session-id").as_deref(), Some("sess-1"));
    assert_eq!(header(ping, "mcp-protocol-version").as_deref(), Some("2025-11-25"));
    assert!(seen.iter().all(|s| header(s, "authorization").as_deref() == Some("Bearer sekret-token-123")));
    assert!(seen.iter().any(|s| s.0 == "GET"), "the server's stream is asked for");
    assert!(seen.iter().any(|s| s.0 == "DELETE" && header(s, "mcp-session-id").as_deref() == Some("sess-1")));
    let entries = t.transcript().entries();
    assert!(entries.iter().all(|e| !e.raw.contains("sekret")), "the token never reaches the transcript");
    assert!(entries.iter().any(|e| e.dir == Dir::Note && e.raw.contains("200 OK to POST") && e.raw.contains("mcp-session-id: sess-1")));
    assert!(entries.iter().any(|e| e.raw.contains("405")));
}

/// An SSE answer: CRLF line ends, a priming event (id, empty data, not a frame), a
/// notification and then the response, in awkward chunks.
#[tokio::test]
async fn sse_answers_with_priming_and_notifications() {
    let (url, _) = server(|method, _, msg| match msg.get("method").and_then(Value::as_str) {
        Some("initialize") => json_response(200, init_result(msg), &[]),
        Some("ping") => {
            let body = format!(
                "id: p-1\r\ndata:\r\n\r\n: keep-alive\r\nevent: message\r\ndata: {}\r\n\r\ndata: {}\r\n\r\n",
                json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "x"}}),
                result(&msg["id"], json!({}))
            );
            let chunks = body.as_bytes().chunks(7).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            sse_response(chunks, Duration::from_millis(1), false)
        }
        _ if method == Method::GET => status(405),
        _ => status(202),
    })
    .await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(INIT.as_bytes()).await.unwrap();
    frame(&mut t, 1000).await;
    t.send(PING.as_bytes()).await.unwrap();
    assert_eq!(frame(&mut t, 1000).await["method"], "notifications/message");
    assert_eq!(frame(&mut t, 1000).await["id"], 2);
    assert!(matches!(t.recv(Duration::from_millis(100)).await, Event::Timeout), "the priming event is no frame");
    let notes: Vec<String> = t.transcript().entries().into_iter().filter(|e| e.dir == Dir::Note).map(|e| e.raw.to_string()).collect();
    assert!(notes.iter().any(|n| n.contains("priming")), "{notes:?}");
}

/// The server forgets the session: a 404 starts a new one (initialize again, without
/// the old id) and the request is sent again in it.
#[tokio::test]
async fn a_404_for_the_session_starts_a_new_one() {
    let sessions = Arc::new(Mutex::new(0));
    let s = sessions.clone();
    let (url, seen) = server(move |method, headers, msg| {
        let sid = headers.get("mcp-session-id").map(|v| v.to_str().unwrap().to_string());
        match msg.get("method").and_then(Value::as_str) {
            Some("initialize") => {
                let mut n = s.lock().unwrap();
                *n += 1;
                json_response(200, init_result(msg), &[("mcp-session-id", &format!("sess-{n}"))])
            }
            Some("ping") if sid.as_deref() == Some("sess-1") => status(404),
            Some("ping") => json_response(200, result(&msg["id"], json!({"session": sid})), &[]),
            _ if method == Method::GET => status(405),
            _ => status(202),
        }
    })
    .await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(INIT.as_bytes()).await.unwrap();
    frame(&mut t, 1000).await;
    t.send(PING.as_bytes()).await.unwrap();
    let answer = frame(&mut t, 2000).await;
    assert_eq!(answer["result"]["session"], "sess-2", "{answer}");
    let seen = seen.lock().unwrap().clone();
    let second_init = seen.iter().filter(|s| s.2.contains("initialize")).nth(1).expect("a second initialize");
    assert_eq!(header(second_init, "mcp-session-id"), None, "a new session starts without the old id");
    assert!(seen.iter().any(|s| s.2.contains("notifications/initialized") && header(s, "mcp-session-id").as_deref() == Some("sess-2")));
}

/// A stream that never ends and one that drips: the engine's wait is never exceeded,
/// a complete event arrives within the deadline, and close is prompt.
#[tokio::test]
async fn endless_and_dripping_streams_respect_the_wait() {
    let (url, _) = server(|_, _, msg| match msg.get("method").and_then(Value::as_str) {
        Some("initialize") => json_response(200, init_result(msg), &[]),
        Some("tools/list") => sse_response(vec![": still here\n\n".into()], Duration::ZERO, true),
        Some("ping") => {
            let event = format!("data: {}\n\n", result(&msg["id"], json!({})));
            sse_response(event.chars().map(String::from).collect(), Duration::from_millis(5), true)
        }
        _ => status(202),
    })
    .await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(INIT.as_bytes()).await.unwrap();
    frame(&mut t, 1000).await;
    t.send(br#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#).await.unwrap();
    let started = Instant::now();
    assert!(matches!(t.recv(Duration::from_millis(200)).await, Event::Timeout));
    assert!(started.elapsed() < Duration::from_millis(400), "the wait is the engine's");
    t.send(PING.as_bytes()).await.unwrap();
    let started = Instant::now();
    assert!(matches!(t.recv(Duration::from_millis(50)).await, Event::Timeout), "a dripping event is not done yet");
    assert!(started.elapsed() < Duration::from_millis(250));
    assert_eq!(frame(&mut t, 3000).await["id"], 2, "the dripped event arrives whole");
    let started = Instant::now();
    t.close(Duration::from_millis(500)).await;
    assert!(started.elapsed() < Duration::from_secs(2), "close does not wait for endless streams");
}

/// Wrong statuses and content types are findings; the bytes still reach the engine.
#[tokio::test]
async fn wrong_content_type_and_notification_status_are_findings() {
    let (url, _) = server(|method, _, msg| match msg.get("method").and_then(Value::as_str) {
        Some("initialize") => {
            let mut r = json_response(200, init_result(msg), &[("mcp-session-id", "bad id")]);
            r.headers_mut().insert("content-type", "text/plain".parse().unwrap());
            r
        }
        Some("notifications/initialized") => json_response(200, json!({}), &[]),
        _ if method == Method::GET => json_response(200, json!({}), &[]),
        _ => status(202),
    })
    .await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(INIT.as_bytes()).await.unwrap();
    assert_eq!(frame(&mut t, 1000).await["id"], 1, "the body is still judged by the engine");
    t.send(INITIALIZED.as_bytes()).await.unwrap();
    let _ = t.recv(Duration::from_millis(300)).await; // the `{}` body of the notification
    tokio::time::sleep(Duration::from_millis(200)).await;
    let findings: Vec<String> = t.take_findings().into_iter().map(|f| f.message).collect();
    let all = findings.join("\n");
    assert!(all.contains("Content-Type text/plain"), "{all}");
    assert!(all.contains("outside visible ASCII"), "{all}");
    assert!(all.contains("not 202 Accepted"), "{all}");
    assert!(all.contains("GET to the MCP endpoint"), "{all}");
}

/// An HTTP error without a JSON-RPC body: the request is unanswered, at once.
#[tokio::test]
async fn a_refused_request_is_unanswered_at_once() {
    let (url, _) = server(|_, _, _| Response::builder().status(400).body(Body::from("Bad Request")).unwrap()).await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(PING.as_bytes()).await.unwrap();
    let started = Instant::now();
    match t.recv(Duration::from_millis(1000)).await {
        Event::Unanswered { id, status, reason, .. } => {
            assert_eq!(id.map(|i| i.to_string()), Some("2".into()));
            assert_eq!(status, Some(400));
            assert!(reason.contains("400"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// A body over the bound is a bad frame, not a message.
#[tokio::test]
async fn an_oversized_body_is_a_bad_frame() {
    let (url, _) = server(|_, _, msg| json_response(200, result(&msg["id"], json!({"pad": "x".repeat(100_000)})), &[])).await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(PING.as_bytes()).await.unwrap();
    match t.recv(Duration::from_millis(1000)).await {
        Event::BadFrame { reason, raw } => {
            assert!(reason.contains("bound"), "{reason}");
            assert!(raw.len() <= 64 * 1024);
        }
        other => panic!("{other:?}"),
    }
}

/// A stream that ends after its priming event is resumed with GET and Last-Event-ID
/// after the server's retry.
#[tokio::test]
async fn a_stream_closed_early_is_resumed_with_last_event_id() {
    let (url, seen) = server(|method, headers, msg| match (method.as_str(), msg.get("method").and_then(Value::as_str)) {
        ("POST", Some("initialize")) => json_response(200, init_result(msg), &[("mcp-session-id", "s")]),
        ("POST", Some("ping")) => sse_response(vec!["id: ev-1\nretry: 50\ndata:\n\n".into()], Duration::ZERO, false),
        ("GET", _) if headers.get("last-event-id").is_some_and(|v| v == "ev-1") => {
            sse_response(vec![format!("id: ev-2\ndata: {}\n\n", result(&json!(2), json!({"resumed": true})))], Duration::ZERO, false)
        }
        ("GET", _) => status(405),
        _ => status(202),
    })
    .await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    t.send(INIT.as_bytes()).await.unwrap();
    frame(&mut t, 1000).await;
    t.send(PING.as_bytes()).await.unwrap();
    assert_eq!(frame(&mut t, 2000).await["result"]["resumed"], true);
    let seen = seen.lock().unwrap().clone();
    let get = seen.iter().find(|s| s.0 == "GET").unwrap();
    assert_eq!(header(get, "mcp-session-id").as_deref(), Some("s"));
}

/// 2026-07-28: no session; every POST carries the version from `_meta`, `Mcp-Method`,
/// and `Mcp-Name` where the method has one (Base64 when unsafe).
#[tokio::test]
async fn stateless_requests_carry_their_headers() {
    let (url, seen) = server(|_, _, msg| json_response(200, result(&msg["id"], json!({})), &[("mcp-session-id", "ignored")])).await;
    let mut t = open(&url, ProtocolVersion::V2026_07_28).await;
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"});
    for msg in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_weather", "arguments": {}, "_meta": meta}}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "file:///ä.txt", "_meta": meta}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": meta}}),
    ] {
        t.send(msg.to_string().as_bytes()).await.unwrap();
        frame(&mut t, 1000).await;
    }
    t.close(Duration::from_millis(300)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "no GET, no DELETE: {:?}", seen.iter().map(|s| &s.0).collect::<Vec<_>>());
    assert!(seen.iter().all(|s| header(s, "mcp-protocol-version").as_deref() == Some("2026-07-28")));
    assert!(seen.iter().all(|s| header(s, "mcp-session-id").is_none()));
    assert_eq!(header(&seen[0], "mcp-method").as_deref(), Some("tools/call"));
    assert_eq!(header(&seen[0], "mcp-name").as_deref(), Some("get_weather"));
    assert_eq!(header(&seen[1], "mcp-name").as_deref(), Some("=?base64?ZmlsZTovLy/DpC50eHQ=?="));
    assert_eq!(header(&seen[2], "mcp-name"), None);
}

/// A raw exchange for a case: defaults adjusted, the response as data.
#[tokio::test]
async fn raw_exchanges_report_status_headers_and_messages() {
    let (url, seen) = server(|_, headers, msg| {
        if headers.get("origin").is_some() {
            return status(403);
        }
        json_response(200, result(&msg["id"], json!({})), &[])
    })
    .await;
    let mut t = open(&url, ProtocolVersion::V2025_11_25).await;
    let request = |headers: Vec<(String, Option<String>)>| HttpRequest {
        method: "POST".into(),
        headers,
        body: Some(PING.as_bytes().to_vec()),
        read_window: Duration::from_millis(500),
        stop_at_response: true,
        url: None,
    };
    let r = t.http_exchange(request(vec![("Origin".into(), Some("https://evil.example".into()))])).await.unwrap();
    assert_eq!(r.status, 403);
    let r = t.http_exchange(request(vec![("Accept".into(), None)])).await.unwrap();
    let v = r.to_value();
    assert_eq!(v["status"], 200);
    assert_eq!(v["content_type"], "application/json");
    assert_eq!(v["messages"][0]["id"], 2);
    // Left out: reqwest then sends its own `*/*`.
    assert_eq!(header(&seen.lock().unwrap()[1], "accept").as_deref(), Some("*/*"), "a default header left out");
}

// ----- legacy HTTP+SSE ---------------------------------------------------------------

/// The legacy transport: the endpoint event (relative) names where to POST; answers
/// come on the stream.
#[tokio::test]
async fn legacy_sse_posts_to_the_endpoint_and_reads_the_stream() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let rx = Arc::new(tokio::sync::Mutex::new(Some(rx)));
    let sse = {
        let rx = rx.clone();
        move || {
            let rx = rx.clone();
            async move {
                let rx = rx.lock().await.take().expect("one SSE connection");
                let first = futures_util::stream::once(async { Ok::<_, Infallible>(Bytes::from("event: endpoint\ndata: /messages?session=abc\n\n")) });
                let rest = futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|m| (Ok::<_, Infallible>(Bytes::from(format!("event: message\ndata: {m}\n\n"))), rx))
                });
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(futures_util::StreamExt::chain(first, rest)))
                    .unwrap()
            }
        }
    };
    let post = move |body: Bytes| {
        let tx = tx.clone();
        async move {
            let msg: Value = serde_json::from_slice(&body).unwrap();
            if let Some(id) = msg.get("id") {
                tx.send(result(id, json!({"via": "stream"})).to_string()).unwrap();
            }
            StatusCode::ACCEPTED
        }
    };
    let base = serve(Router::new().route("/sse", axum::routing::get(sse)).route("/messages", axum::routing::post(post))).await;
    let config = HttpConfig { url: format!("{base}/sse"), headers: vec![], timeout: Duration::from_millis(1000), max_body_bytes: 64 * 1024, tokens: vec![] };
    let mut t = SseTransport::open(&config, Transcript::default()).await.unwrap();
    t.send(PING.as_bytes()).await.unwrap();
    let answer = frame(&mut t, 1000).await;
    assert_eq!(answer["result"]["via"], "stream");
    assert!(t.transcript().entries().iter().any(|e| e.raw.contains("endpoint") && e.raw.contains("/messages?session=abc")));
    assert!(t.close(Duration::from_millis(200)).await.ended_cleanly);
}

/// No endpoint event: sending fails within the timeout, as a finding, not a hang.
#[tokio::test]
async fn legacy_sse_without_an_endpoint_event_fails_to_send() {
    let sse = || async { sse_response(vec![": hello\n\n".into()], Duration::ZERO, true) };
    let base = serve(Router::new().route("/sse", axum::routing::get(sse))).await;
    let config = HttpConfig { url: format!("{base}/sse"), headers: vec![], timeout: Duration::from_millis(300), max_body_bytes: 1024, tokens: vec![] };
    let mut t = SseTransport::open(&config, Transcript::default()).await.unwrap();
    let started = Instant::now();
    let err = t.send(PING.as_bytes()).await.unwrap_err();
    assert!(err.0.contains("no endpoint event"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

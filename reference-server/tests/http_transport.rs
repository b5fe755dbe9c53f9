//! In-process tests of the HTTP transports (a real socket on 127.0.0.1).

use std::sync::Arc;

use mcp_reference_server::Config;
use mcp_reference_server::defects::Defects;
use serde_json::{Value, json};

async fn start(defects: &[&str]) -> String {
    let config = Arc::new(Config::with_defects(Defects::parse(defects).unwrap()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mcp_reference_server::serve_http(config, listener));
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(base: &str, sid: Option<&str>, body: Value, accept: &str) -> reqwest::Response {
    let mut r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", accept);
    if let Some(s) = sid {
        r = r
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-06-18");
    }
    r.body(body.to_string()).send().await.unwrap()
}

const BOTH: &str = "application/json, text/event-stream";

async fn init(base: &str) -> String {
    let r = post(base, None, json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}), BOTH).await;
    assert_eq!(r.status(), 200);
    let sid = r
        .headers()
        .get("mcp-session-id")
        .expect("session id")
        .to_str()
        .unwrap()
        .to_string();
    assert!(sid.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    let r = post(
        base,
        Some(&sid),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        BOTH,
    )
    .await;
    assert_eq!(r.status(), 202);
    sid
}

/// The JSON-RPC messages of an SSE body.
fn sse_messages(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

#[tokio::test]
async fn streamable_http_session_lifecycle() {
    let base = start(&[]).await;
    let sid = init(&base).await;
    let r = post(
        &base,
        Some(&sid),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
        BOTH,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(v["result"]["tools"].is_array());

    // A slow request with progress streams over SSE.
    let r = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"test_tool_with_progress","_meta":{"progressToken":"p"}}}), BOTH).await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let msgs = sse_messages(&r.text().await.unwrap());
    assert_eq!(msgs.len(), 4);
    assert_eq!(msgs[3]["id"], 3);

    // JSON-only clients get JSON even for slow requests.
    let r = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"slow","arguments":{"ms":50}}}), "application/json").await;
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "Slept 50 ms");

    // Unknown session: 404; missing session: 400; bad version header: 400.
    assert_eq!(
        post(
            &base,
            Some("nope"),
            json!({"jsonrpc":"2.0","id":5,"method":"ping"}),
            BOTH
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        post(
            &base,
            None,
            json!({"jsonrpc":"2.0","id":5,"method":"ping"}),
            BOTH
        )
        .await
        .status(),
        400
    );
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "1999-01-01")
        .body(json!({"jsonrpc":"2.0","id":6,"method":"ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Foreign origin: 403.
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .header("origin", "https://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // DELETE ends the session.
    let r = client()
        .delete(format!("{base}/mcp"))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        post(
            &base,
            Some(&sid),
            json!({"jsonrpc":"2.0","id":7,"method":"ping"}),
            BOTH
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn http_defects() {
    let base = start(&[
        "no-origin-check",
        "notification-not-202",
        "session-id-not-ascii",
    ])
    .await;
    let r = post(&base, None, json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}), BOTH).await;
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    assert!(sid.contains(' '));
    assert_eq!(
        post(
            &base,
            Some(&sid),
            json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
            BOTH
        )
        .await
        .status(),
        200
    );
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .header("origin", "https://evil.example")
        .header("mcp-session-id", &sid)
        .body(json!({"jsonrpc":"2.0","id":2,"method":"ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn modern_http() {
    let base = start(&[]).await;
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let send = |method: &str, name: Option<&str>, params: Value, version: &str| {
        let mut r = client()
            .post(format!("{base}/mcp"))
            .header("content-type", "application/json")
            .header("accept", BOTH)
            .header("mcp-protocol-version", version)
            .header("mcp-method", method);
        if let Some(n) = name {
            r = r.header("mcp-name", n);
        }
        r.body(json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string())
            .send()
    };
    let r = send("tools/list", None, json!({"_meta": meta}), "2026-07-28")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["result"]["resultType"], "complete");
    assert!(v["result"]["ttlMs"].is_u64());
    let r = send(
        "tools/call",
        Some("echo"),
        json!({"_meta": meta, "name": "echo", "arguments": {"message": "x"}}),
        "2026-07-28",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(
        "tools/call",
        Some("=?base64?ZWNobw==?="),
        json!({"_meta": meta, "name": "echo", "arguments": {"message": "x"}}),
        "2026-07-28",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(
        "tools/call",
        Some("add"),
        json!({"_meta": meta, "name": "echo", "arguments": {"message": "x"}}),
        "2026-07-28",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["error"]["code"], -32020);
    let r = send("nope", None, json!({"_meta": meta}), "2026-07-28")
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let mut m2 = meta.clone();
    m2["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let r = send("tools/list", None, json!({"_meta": m2}), "2099-01-01")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["error"]["code"], -32022);
}

#[tokio::test]
async fn legacy_sse_transport() {
    use futures_util::StreamExt;
    let base = start(&[]).await;
    let r = client()
        .get(format!("{base}/sse"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    let next_chunk =
        |buf: &mut String, chunk: bytes::Bytes| buf.push_str(&String::from_utf8_lossy(&chunk));
    while !buf.contains("\n\n") {
        next_chunk(&mut buf, stream.next().await.unwrap().unwrap());
    }
    assert!(buf.starts_with("event: endpoint"), "{buf}");
    let endpoint = buf
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap()
        .trim()
        .to_string();
    let r = client().post(format!("{base}{endpoint}")).header("content-type", "application/json")
        .body(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}).to_string())
        .send().await.unwrap();
    assert_eq!(r.status(), 202);
    buf.clear();
    while !buf.contains("\n\n") {
        next_chunk(&mut buf, stream.next().await.unwrap().unwrap());
    }
    let msgs = sse_messages(&buf);
    assert_eq!(msgs[0]["result"]["protocolVersion"], "2024-11-05");
    let r = client()
        .post(format!("{base}/messages?sessionId=nope"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

async fn init_version(base: &str, version: &str, caps: Value) -> String {
    let r = post(base, None, json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":version,"capabilities":caps,"clientInfo":{"name":"t","version":"1"}}}), BOTH).await;
    r.headers()["mcp-session-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn batch_over_http_2025_03_26() {
    let base = start(&[]).await;
    let sid = init_version(&base, "2025-03-26", json!({})).await;
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"ping"},
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"ms":20}}}
    ]);
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-session-id", &sid)
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let arr = v.as_array().expect("an array of responses");
    assert_eq!(arr.len(), 2);
}

#[tokio::test]
async fn sampling_over_http_and_get_stream() {
    use futures_util::StreamExt;
    let base = start(&[]).await;
    let sid = init_version(&base, "2025-06-18", json!({"sampling": {}})).await;
    // The GET stream receives notifications unrelated to any request.
    let get = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let mut get_stream = get.bytes_stream();
    // A second GET stream is refused.
    let again = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let r = post(
        &base,
        Some(&sid),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"toggle_extra_tool"}}),
        BOTH,
    )
    .await;
    assert_eq!(r.status(), 200);
    let mut buf = String::new();
    while !buf.contains("list_changed") {
        buf.push_str(&String::from_utf8_lossy(
            &get_stream.next().await.unwrap().unwrap(),
        ));
    }

    // Sampling: the request arrives on the POST's SSE stream, the answer is POSTed back.
    let r = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"test_sampling","arguments":{"prompt":"hi"}}}), BOTH).await;
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    let req = loop {
        buf.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
        if let Some(m) = sse_messages(&buf)
            .into_iter()
            .find(|m| m["method"] == "sampling/createMessage")
        {
            break m;
        }
    };
    let answer = json!({"jsonrpc":"2.0","id":req["id"],"result":{"role":"assistant","content":{"type":"text","text":"hello"},"model":"m"}});
    assert_eq!(post(&base, Some(&sid), answer, BOTH).await.status(), 202);
    let fin = loop {
        buf.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
        if let Some(m) = sse_messages(&buf).into_iter().find(|m| m["id"] == 3) {
            break m;
        }
    };
    assert_eq!(fin["result"]["content"][0]["text"], "LLM response: hello");
}

#[tokio::test]
async fn modern_listen_over_http() {
    use futures_util::StreamExt;
    let base = start(&[]).await;
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let req = |id: u32, method: &str, name: Option<&str>, params: Value| {
        let mut r = client()
            .post(format!("{base}/mcp"))
            .header("content-type", "application/json")
            .header("accept", BOTH)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method);
        if let Some(n) = name {
            r = r.header("mcp-name", n);
        }
        r.body(json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string())
            .send()
    };
    let listen = req(1, "subscriptions/listen", None, json!({"_meta": meta, "notifications": {"resourceSubscriptions": ["test://watched-resource"]}})).await.unwrap();
    assert!(
        listen.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = listen.bytes_stream();
    let mut buf = String::new();
    while !buf.contains("acknowledged") {
        buf.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }
    let r = req(
        2,
        "tools/call",
        Some("update_watched"),
        json!({"_meta": meta, "name": "update_watched"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    while !buf.contains("resources/updated") {
        buf.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }
    let upd = sse_messages(&buf)
        .into_iter()
        .find(|m| m["method"] == "notifications/resources/updated")
        .unwrap();
    assert_eq!(
        upd["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        1
    );
    // GET and DELETE are not part of 2026-07-28.
    let g = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 405);
}

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
    // A header that disagrees with the body's (unsupported) version is a mismatch.
    let r = send("tools/list", None, json!({"_meta": m2}), "2026-07-28")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["error"]["code"], -32020);
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
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
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
    // A second GET stream is served too (a GET is answered with a stream or 405);
    // messages still go to one stream only, the oldest connected one.
    let again = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
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

#[tokio::test]
async fn more_http_defects() {
    let ping = json!({"jsonrpc":"2.0","id":9,"method":"ping"});
    // unknown-session-accepted
    let base = start(&["unknown-session-accepted"]).await;
    assert_eq!(
        post(&base, Some("nope"), ping.clone(), BOTH).await.status(),
        200
    );
    // missing-session-accepted
    let base = start(&["missing-session-accepted"]).await;
    assert_eq!(post(&base, None, ping.clone(), BOTH).await.status(), 200);
    // protocol-version-header-ignored
    let base = start(&["protocol-version-header-ignored"]).await;
    let sid = init(&base).await;
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "1999-01-01")
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // delete-ignored
    let base = start(&["delete-ignored"]).await;
    let sid = init(&base).await;
    client()
        .delete(format!("{base}/mcp"))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(
        post(&base, Some(&sid), ping.clone(), BOTH).await.status(),
        200
    );
    // wrong-content-type-header
    let base = start(&["wrong-content-type-header"]).await;
    let sid = init(&base).await;
    let r = post(&base, Some(&sid), ping.clone(), BOTH).await;
    assert_eq!(r.headers()["content-type"], "text/plain");
    // session-id-predictable
    let base = start(&["session-id-predictable"]).await;
    let a = init(&base).await;
    let b = init(&base).await;
    assert!(a.starts_with("session-") && b.starts_with("session-") && a != b);
    // header-mismatch-accepted
    let base = start(&["header-mismatch-accepted"]).await;
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "prompts/list")
        .body(
            json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta": meta}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn sse_no_endpoint_event_defect() {
    use futures_util::StreamExt;
    let base = start(&["sse-no-endpoint-event"]).await;
    let r = client()
        .get(format!("{base}/sse"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let mut stream = r.bytes_stream();
    let first = tokio::time::timeout(std::time::Duration::from_millis(200), stream.next()).await;
    assert!(first.is_err(), "no event expected, got {first:?}");
}

#[tokio::test]
async fn mirrored_param_headers() {
    for (defects, expect_strict) in [(&[][..], true), (&["param-header-ignored"][..], false)] {
        let base = start(defects).await;
        let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
        let call = |headers: Vec<(&'static str, &'static str)>, args: Value| {
            let mut r = client()
                .post(format!("{base}/mcp"))
                .header("content-type", "application/json")
                .header("accept", BOTH)
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "run_query");
            for (k, v) in headers {
                r = r.header(k, v);
            }
            r.body(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta": meta, "name": "run_query", "arguments": args}}).to_string()).send()
        };
        let args =
            json!({"region": "us-west1", "query": "q", "options": {"limit": 5, "dryRun": true}});
        let ok = call(
            vec![
                ("mcp-param-region", "us-west1"),
                ("mcp-param-limit", "5"),
                ("mcp-param-dry-run", "true"),
            ],
            args.clone(),
        )
        .await
        .unwrap();
        assert_eq!(ok.status(), 200);
        let b64 = call(
            vec![
                ("mcp-param-region", "=?base64?dXMtd2VzdDE=?="),
                ("mcp-param-limit", "5.0"),
                ("mcp-param-dry-run", "true"),
            ],
            args.clone(),
        )
        .await
        .unwrap();
        assert_eq!(b64.status(), 200);
        let missing = call(vec![("mcp-param-region", "us-west1")], args.clone())
            .await
            .unwrap();
        let wrong = call(
            vec![
                ("mcp-param-region", "eu-west1"),
                ("mcp-param-limit", "5"),
                ("mcp-param-dry-run", "true"),
            ],
            args.clone(),
        )
        .await
        .unwrap();
        if expect_strict {
            assert_eq!(missing.status(), 400);
            let v: Value = serde_json::from_str(&wrong.text().await.unwrap()).unwrap();
            assert_eq!(v["error"]["code"], -32020);
        } else {
            assert_eq!(wrong.status(), 200);
        }
        // No value in the body: no header expected.
        let r = call(
            vec![("mcp-param-region", "us-west1")],
            json!({"region": "us-west1", "query": "q"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn modern_request_without_meta_is_malformed() {
    let base = start(&[]).await;
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list")
        .body(json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["error"]["code"], -32602);
    assert_eq!(v["id"], 1);
}

#[tokio::test]
async fn batches_rejected_over_http_after_2025_03_26() {
    let base = start(&[]).await;
    let sid = init_version(&base, "2025-06-18", json!({})).await;
    for body in [
        json!([{"jsonrpc":"2.0","id":1,"method":"ping"}]),
        json!([{"jsonrpc":"2.0","method":"notifications/initialized"}]),
        json!([]),
    ] {
        let r = post(&base, Some(&sid), body, BOTH).await;
        assert_eq!(r.status(), 400);
        let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(v["error"]["code"], -32600);
    }
}

#[tokio::test]
async fn cancelled_request_ends_its_post() {
    let base = start(&[]).await;
    let sid = init_version(&base, "2025-06-18", json!({})).await;
    let (b2, s2) = (base.clone(), sid.clone());
    let slow_sse = tokio::spawn(async move {
        let r = post(&b2, Some(&s2), json!({"jsonrpc":"2.0","id":"s1","method":"tools/call","params":{"name":"slow","arguments":{"ms":5000}}}), BOTH).await;
        r.text().await.unwrap()
    });
    let (b3, s3) = (base.clone(), sid.clone());
    let slow_json = tokio::spawn(async move {
        let r = post(&b3, Some(&s3), json!({"jsonrpc":"2.0","id":"s2","method":"tools/call","params":{"name":"slow","arguments":{"ms":5000}}}), "application/json").await;
        r.status().as_u16()
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for id in ["s1", "s2"] {
        let r = post(
            &base,
            Some(&sid),
            json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId": id}}),
            BOTH,
        )
        .await;
        assert_eq!(r.status(), 202);
    }
    let text = tokio::time::timeout(std::time::Duration::from_secs(2), slow_sse)
        .await
        .expect("the stream ends")
        .unwrap();
    assert!(!text.contains("\"id\":\"s1\""), "{text}");
    let status = tokio::time::timeout(std::time::Duration::from_secs(2), slow_json)
        .await
        .expect("the POST ends")
        .unwrap();
    assert_eq!(status, 204);
}

#[tokio::test]
async fn altered_ids_still_reach_their_post() {
    let base = start(&["id-as-string"]).await;
    let sid = init_version(&base, "2025-06-18", json!({})).await;
    let r = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{"ms":10}}}), BOTH).await;
    let msgs = sse_messages(&r.text().await.unwrap());
    assert_eq!(msgs.last().unwrap()["id"], "7");
}

#[tokio::test]
async fn streams_resume_after_last_event_id() {
    use futures_util::StreamExt;
    let base = start(&[]).await;
    let sid = init_version(&base, "2025-11-25", json!({})).await;
    let r = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"ms":400},"_meta":{"progressToken":"t"}}}), BOTH).await;
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    // The priming event (an id, empty data), then the first progress event.
    while !buf.contains("\"progress\":100") {
        buf.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }
    assert!(buf.starts_with("id: "), "{buf}");
    assert!(buf.contains("\ndata: \n\n"), "{buf}");
    let last_id = buf
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .to_string();
    drop(stream); // the connection drops; the request goes on
    let r = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let msgs = sse_messages(&text);
    assert!(
        msgs.iter().all(|m| m["params"]["progress"] != 100),
        "no replay of what was seen: {text}"
    );
    assert_eq!(
        msgs.last().unwrap()["result"]["content"][0]["text"],
        "Slept 400 ms"
    );
    // Unknown event ids are refused.
    let r = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("last-event-id", "999-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn resumption_defects() {
    use futures_util::StreamExt;
    // sse-missing-priming-event
    let base = start(&["sse-missing-priming-event"]).await;
    let sid = init_version(&base, "2025-11-25", json!({})).await;
    let r = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"ms":10}}}), BOTH).await;
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("\ndata: \n\n") && !text.starts_with("id: 2-0\ndata: \n"),
        "{text}"
    );
    // resume-crosses-streams
    let base = start(&["resume-crosses-streams"]).await;
    let sid = init_version(&base, "2025-11-25", json!({})).await;
    let done = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":"other","method":"tools/call","params":{"name":"slow","arguments":{"ms":10}}}), BOTH).await;
    let _ = done.text().await.unwrap();
    let r = post(&base, Some(&sid), json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow","arguments":{"ms":300},"_meta":{"progressToken":"t"}}}), BOTH).await;
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    while !buf.contains("\"progress\":100") {
        buf.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }
    let last_id = buf
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .to_string();
    drop(stream);
    let r = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("\"id\":\"other\""), "{text}");
}

#[tokio::test]
async fn host_header_is_checked_on_loopback() {
    for (defects, expected) in [(&[][..], 403u16), (&["no-host-check"][..], 200)] {
        let base = start(defects).await;
        let r = client().post(format!("{base}/mcp")).header("content-type", "application/json").header("accept", BOTH)
            .header("host", "evil.example.com")
            .body(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}).to_string())
            .send().await.unwrap();
        assert_eq!(r.status().as_u16(), expected, "{defects:?}");
        let port = base.rsplit(':').next().unwrap();
        let r = client().post(format!("{base}/mcp")).header("content-type", "application/json").header("accept", BOTH)
            .header("host", format!("localhost:{port}"))
            .body(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}).to_string())
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn reconnection_fixture_closes_and_resumes() {
    let base = start(&[]).await;
    let sid = init_version(&base, "2025-11-25", json!({})).await;
    let r = post(
        &base,
        Some(&sid),
        json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"test_reconnection"}}),
        BOTH,
    )
    .await;
    let text = tokio::time::timeout(std::time::Duration::from_secs(1), r.text())
        .await
        .expect("closed at once")
        .unwrap();
    assert!(text.contains("retry: "), "{text}");
    assert!(sse_messages(&text).is_empty(), "{text}");
    let last = text
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .to_string();
    let r = client()
        .get(format!("{base}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("last-event-id", &last)
        .send()
        .await
        .unwrap();
    let msgs = sse_messages(&r.text().await.unwrap());
    assert_eq!(msgs.last().unwrap()["id"], 5);
}

#[tokio::test]
async fn modern_late_errors_keep_their_status() {
    let base = start(&[]).await;
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    // test_sampling without the sampling capability: -32021, found while the tool runs.
    let r = client().post(format!("{base}/mcp")).header("content-type", "application/json").header("accept", "text/event-stream")
        .header("mcp-protocol-version", "2026-07-28").header("mcp-method", "tools/call").header("mcp-name", "test_sampling")
        .body(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta": meta, "name": "test_sampling", "arguments": {"prompt": "p"}}}).to_string())
        .send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["error"]["code"], -32021);
    // A tool with progress still streams.
    let mut m2 = meta.clone();
    m2["progressToken"] = json!("p");
    let r = client().post(format!("{base}/mcp")).header("content-type", "application/json").header("accept", BOTH)
        .header("mcp-protocol-version", "2026-07-28").header("mcp-method", "tools/call").header("mcp-name", "slow")
        .body(json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"_meta": m2, "name": "slow", "arguments": {"ms": 200}}}).to_string())
        .send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let msgs = sse_messages(&r.text().await.unwrap());
    assert_eq!(msgs.len(), 3);
}

async fn start_with(options: mcp_reference_server::HttpOptions) -> String {
    let config = Arc::new(Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mcp_reference_server::serve_http_with(config, listener, options));
    format!("http://{addr}")
}

const PING: &str = r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#;

async fn json_of(r: reqwest::Response) -> Value {
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn sessions_are_bounded_and_idle_ones_expire() {
    let base = start_with(mcp_reference_server::HttpOptions {
        max_sessions: 2,
        session_idle: std::time::Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let first = init(&base).await;
    let second = init(&base).await;
    assert_ne!(first, second);
    // At the bound: a newcomer is refused, the open sessions go on.
    let r = post(&base, None, json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}), BOTH).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let r = post(&base, Some(&first), serde_json::from_str(PING).unwrap(), BOTH).await;
    assert_eq!(r.status(), 200);
    // Keep `first` busy; `second` goes idle and is ended when room is needed.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(post(&base, Some(&first), serde_json::from_str(PING).unwrap(), BOTH).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let third = init(&base).await;
    assert_eq!(post(&base, Some(&second), serde_json::from_str(PING).unwrap(), BOTH).await.status(), 404);
    assert_eq!(post(&base, Some(&first), serde_json::from_str(PING).unwrap(), BOTH).await.status(), 200);
    assert_eq!(post(&base, Some(&third), serde_json::from_str(PING).unwrap(), BOTH).await.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_are_refused_413() {
    let base = start_with(mcp_reference_server::HttpOptions { max_body_bytes: 64 * 1024, ..Default::default() }).await;
    let big = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(128 * 1024));
    let r = client()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // The server is still there.
    init(&base).await;
}

#[tokio::test]
async fn session_ids_are_random_hex() {
    let base = start(&[]).await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..4 {
        let sid = init(&base).await;
        assert_eq!(sid.len(), 32, "{sid}");
        assert!(sid.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(seen.insert(sid));
    }
}

#[tokio::test]
async fn auth_mode_over_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let auth = Arc::new(mcp_reference_server::auth::Auth::new(base.clone(), "sec".into()));
    let options = mcp_reference_server::HttpOptions { auth: Some(auth), ..Default::default() };
    tokio::spawn(mcp_reference_server::serve_http_with(Arc::new(Config::default()), listener, options));
    let r = post(&base, None, serde_json::from_str(PING).unwrap(), BOTH).await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.contains(&format!("resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\"")), "{challenge}");
    let prm = json_of(client().get(format!("{base}/.well-known/oauth-protected-resource/mcp")).send().await.unwrap()).await;
    assert_eq!(prm["resource"], json!(format!("{base}/mcp")));
    let asm = json_of(client().get(format!("{base}/.well-known/oauth-authorization-server")).send().await.unwrap()).await;
    let token_url = asm["token_endpoint"].as_str().unwrap().to_string();
    let token = |resource: String, scope: &'static str| {
        let url = token_url.clone();
        async move {
            let v = json_of(
                client()
                    .post(url)
                    .basic_auth("mcp-conform", Some("sec"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("grant_type=client_credentials&scope={scope}&resource={}", resource.replace(':', "%3A").replace('/', "%2F")))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            v["access_token"].as_str().unwrap().to_string()
        }
    };
    let with = |t: String| {
        let base = base.clone();
        async move {
            client()
                .post(format!("{base}/mcp"))
                .header("content-type", "application/json")
                .header("accept", BOTH)
                .header("authorization", format!("Bearer {t}"))
                .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(with(token(format!("{base}/mcp"), "mcp").await).await, 200);
    assert_eq!(with(token("http://other.invalid/mcp".into(), "mcp").await).await, 401);
    assert_eq!(with(token(format!("{base}/mcp"), "profile").await).await, 403);
    // The legacy SSE endpoint is its own resource: a /mcp token is not for it.
    let sse = |t: Option<String>| {
        let base = base.clone();
        async move {
            let mut r = client().get(format!("{base}/sse")).header("accept", "text/event-stream");
            if let Some(t) = t {
                r = r.header("authorization", format!("Bearer {t}"));
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(sse(None).await, 401);
    assert_eq!(sse(Some(token(format!("{base}/mcp"), "mcp").await)).await, 401);
    assert_eq!(sse(Some(token(format!("{base}/sse"), "mcp").await)).await, 200);
    let prm = json_of(client().get(format!("{base}/.well-known/oauth-protected-resource/sse")).send().await.unwrap()).await;
    assert_eq!(prm["resource"], json!(format!("{base}/sse")));
}

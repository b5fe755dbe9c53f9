//! Unit tests of the protocol core: messages in, messages out, no IO.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::defects::Defects;
use crate::server::{Config, Connection, Outgoing};

pub(crate) struct T {
    pub conn: Connection,
    rx: mpsc::UnboundedReceiver<Outgoing>,
    next_id: i64,
    /// Notifications and server->client requests seen while waiting for responses.
    pub seen: Vec<Value>,
}

impl T {
    pub fn new(defects: &[&str]) -> T {
        let defects = Defects::parse(defects).expect("known defects");
        let (tx, rx) = mpsc::unbounded_channel();
        T {
            conn: Connection::new(Arc::new(Config::with_defects(defects)), tx),
            rx,
            next_id: 100,
            seen: vec![],
        }
    }

    pub async fn initialized(version: &str, defects: &[&str]) -> T {
        T::initialized_with(version, defects, json!({})).await
    }

    pub async fn initialized_with(version: &str, defects: &[&str], caps: Value) -> T {
        let mut t = T::new(defects);
        let r = t
            .request("initialize", json!({"protocolVersion": version, "capabilities": caps, "clientInfo": {"name": "t", "version": "1"}}))
            .await;
        assert!(r.get("result").is_some(), "initialize failed: {r}");
        t.notify("notifications/initialized", None);
        t
    }

    pub fn raw(&self, bytes: &[u8]) {
        self.conn.handle_bytes(bytes);
    }

    pub fn send(&self, v: Value) {
        self.conn.handle_value(v);
    }

    pub fn notify(&self, method: &str, params: Option<Value>) {
        let mut m = json!({"jsonrpc": "2.0", "method": method});
        if let Some(p) = params {
            m["params"] = p;
        }
        self.send(m);
    }

    pub async fn recv(&mut self) -> Value {
        loop {
            match tokio::time::timeout(Duration::from_secs(3), self.rx.recv()).await {
                Ok(Some(o)) if o.message.is_null() => continue, // "ended" marker
                Ok(Some(o)) => return o.message,
                other => panic!("no message: {other:?}"),
            }
        }
    }

    pub async fn recv_outgoing(&mut self) -> Outgoing {
        tokio::time::timeout(Duration::from_secs(3), self.rx.recv())
            .await
            .expect("timely")
            .expect("open")
    }

    pub async fn nothing_within(&mut self, ms: u64) -> Option<Value> {
        loop {
            let o = tokio::time::timeout(Duration::from_millis(ms), self.rx.recv())
                .await
                .ok()
                .flatten()?;
            if !o.message.is_null() {
                return Some(o.message);
            }
        }
    }

    /// Sends a request and returns its response; other messages land in `seen`.
    pub async fn request(&mut self, method: &str, mut params: Value) -> Value {
        // Tests echo a previous round's requestState; a single-round request has none.
        if let Some(p) = params.as_object_mut()
            && p.get("requestState").is_some_and(Value::is_null)
        {
            p.remove("requestState");
        }
        self.next_id += 1;
        let id = json!(self.next_id);
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response_to(&id).await
    }

    pub async fn response_to(&mut self, id: &Value) -> Value {
        loop {
            let m = self.recv().await;
            if m.get("method").is_none() && m.get("id") == Some(id) {
                return m;
            }
            self.seen.push(m);
        }
    }

    pub async fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params).await;
        r.get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{method} failed: {r}"))
    }

    pub async fn error_code(&mut self, method: &str, params: Value) -> i64 {
        let r = self.request(method, params).await;
        r.pointer("/error/code")
            .and_then(Value::as_i64)
            .unwrap_or_else(|| panic!("{method} did not fail: {r}"))
    }
}

fn text_of(result: &Value) -> String {
    result
        .pointer("/content/0/text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

const V: &str = "2025-06-18";

/// A predicate over a response.
type Check = Box<dyn Fn(&Value) -> bool>;

// ---------- framing ----------

#[tokio::test]
async fn framing_table() {
    // (defects, input bytes, expected response or None)
    let cases: Vec<(&[&str], &str, Option<Value>)> = vec![
        (
            &[],
            "not json",
            Some(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700}})),
        ),
        (
            &[],
            "{\"jsonrpc\":\"2.0\",",
            Some(json!({"id": null, "error": {"code": -32700}})),
        ),
        (
            &["parse-error-with-id"],
            "nope",
            Some(json!({"id": 0, "error": {"code": -32700}})),
        ),
        (&["parse-error-silent"], "nope", None),
        (
            &[],
            r#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#,
            Some(json!({"id": 5, "error": {"code": -32600}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            Some(json!({"id": null, "error": {"code": -32600}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
            Some(json!({"id": null, "error": {"code": -32600}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            Some(json!({"id": null, "error": {"code": -32600}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","id":7,"method":42}"#,
            Some(json!({"id": 7, "error": {"code": -32600}})),
        ),
        (
            &[],
            r#"[]"#,
            Some(json!({"id": null, "error": {"code": -32600}})),
        ),
        (
            &[],
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
            Some(json!({"id": null, "error": {"code": -32600}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
            Some(json!({"id": 3, "result": {}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","id":"s","method":"ping"}"#,
            Some(json!({"id": "s", "result": {}})),
        ),
        (
            &["id-as-string"],
            r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
            Some(json!({"id": "3", "result": {}})),
        ),
        (
            &["ping-error"],
            r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
            Some(json!({"id": 3, "error": {"code": -32603}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#,
            Some(json!({"id": 4, "error": {"code": -32600}})),
        ),
        (
            &["serve-before-initialize"],
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#,
            Some(json!({"id": 4, "result": {}})),
        ),
        (
            &[],
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            None,
        ),
        (
            &["respond-to-initialized"],
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            Some(json!({"id": null, "result": {}})),
        ),
        (
            &["respond-to-notifications"],
            r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#,
            Some(json!({"id": null, "result": {}})),
        ),
        (
            &["null-id-accepted"],
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            Some(json!({"id": null, "result": {}})),
        ),
        (
            &["invalid-request-silent"],
            r#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#,
            None,
        ),
        (
            &["wrong-jsonrpc-version"],
            r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#,
            Some(json!({"jsonrpc": "1.0", "id": 5})),
        ),
    ];
    for (defects, input, expected) in cases {
        let mut t = T::new(defects);
        t.raw(input.as_bytes());
        let got = t.nothing_within(50).await;
        match (&expected, &got) {
            (None, None) => {}
            (Some(e), Some(g)) => {
                assert!(subset(e, g), "{defects:?} {input}: expected {e}, got {g}")
            }
            _ => panic!("{defects:?} {input}: expected {expected:?}, got {got:?}"),
        }
    }
}

/// `expected` is contained in `actual` (objects: every expected key matches).
pub(crate) fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| subset(v, av))),
        _ => expected == actual,
    }
}

#[tokio::test]
async fn invalid_utf8_is_a_parse_error() {
    let mut t = T::new(&[]);
    t.raw(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xffing\"}");
    let r = t.recv().await;
    assert_eq!(r["error"]["code"], -32700);
    assert_eq!(r["id"], Value::Null);
}

#[tokio::test]
async fn error_shaping_defects() {
    let mut t = T::initialized(V, &["error-without-message", "unknown-method-wrong-code"]).await;
    let r = t.request("nope/nope", json!({})).await;
    assert_eq!(r["error"]["code"], -32603);
    assert!(r["error"].get("message").is_none());
    let mut t = T::initialized(V, &["invalid-params-wrong-code", "result-and-error"]).await;
    let r = t.request("prompts/get", json!({})).await;
    assert_eq!(r["error"]["code"], -32603);
    assert!(r.get("result").is_some());
}

// ---------- lifecycle ----------

#[tokio::test]
async fn initialize_negotiates() {
    for (asked, answered) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
        ("1900-01-01", "2025-11-25"),
    ] {
        let mut t = T::new(&[]);
        let r = t.result("initialize", json!({"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
        assert_eq!(r["protocolVersion"], answered);
        assert_eq!(r["serverInfo"]["name"], "mcp-reference-server");
        assert!(r["capabilities"]["tools"].is_object());
        assert_eq!(
            r["capabilities"].get("completions").is_some(),
            answered != "2024-11-05"
        );
        assert_eq!(
            r["serverInfo"].get("title").is_some(),
            answered >= "2025-06-18"
        );
    }
}

#[tokio::test]
async fn initialize_defects() {
    let init = json!({"protocolVersion": "1900-01-01", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}});
    let mut t = T::new(&["echo-unsupported-version"]);
    assert_eq!(
        t.result("initialize", init.clone()).await["protocolVersion"],
        "1900-01-01"
    );
    let mut t = T::new(&["initialize-wrong-version"]);
    assert_eq!(
        t.result("initialize", init.clone()).await["protocolVersion"],
        "1999-01-01"
    );
    let mut t = T::new(&["initialize-missing-server-info"]);
    assert!(
        t.result("initialize", init.clone())
            .await
            .get("serverInfo")
            .is_none()
    );
    let mut t = T::new(&["missing-capabilities"]);
    assert!(
        t.result("initialize", init.clone())
            .await
            .get("capabilities")
            .is_none()
    );
    let mut t = T::new(&["tools-capability-undeclared"]);
    assert!(
        t.result("initialize", init.clone()).await["capabilities"]
            .get("tools")
            .is_none()
    );
}

#[tokio::test]
async fn initialize_rules() {
    let mut t = T::new(&[]);
    assert_eq!(
        t.error_code(
            "initialize",
            json!({"capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})
        )
        .await,
        -32602
    );
    let mut t = T::initialized(V, &[]).await;
    let init = json!({"protocolVersion": V, "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}});
    assert_eq!(t.error_code("initialize", init.clone()).await, -32600);
    let mut t = T::initialized(V, &["double-initialize-accepted"]).await;
    t.result("initialize", init).await;
}

// ---------- batches ----------

#[tokio::test]
async fn batches_per_version() {
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}}
    ]);
    for (version, defects, accepted) in [
        ("2025-03-26", &[][..], true),
        ("2024-11-05", &[][..], true),
        ("2025-06-18", &[][..], false),
        ("2025-11-25", &[][..], false),
        ("2025-03-26", &["batch-rejected"][..], false),
        ("2025-06-18", &["batch-accepted"][..], true),
    ] {
        let mut t = T::initialized(version, defects).await;
        t.send(batch.clone());
        let r = t.recv().await;
        if accepted {
            let arr = r
                .as_array()
                .unwrap_or_else(|| panic!("{version}: expected an array, got {r}"));
            assert_eq!(arr.len(), 2, "{r}");
            assert!(arr.iter().any(|m| m["id"] == 1 && m["result"] == json!({})));
            assert!(
                arr.iter()
                    .any(|m| m["id"] == "b" && m["result"]["content"][0]["text"] == "hi")
            );
        } else {
            assert_eq!(r["error"]["code"], -32600, "{version}: {r}");
            assert_eq!(r["id"], Value::Null);
        }
    }
    // Only notifications: no response at all.
    let mut t = T::initialized("2025-03-26", &[]).await;
    t.send(json!([{"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}]));
    assert_eq!(t.nothing_within(50).await, None);
}

// ---------- tools ----------

#[tokio::test]
async fn tools_paginate_to_the_end() {
    for v in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let mut t = T::initialized(v, &[]).await;
        let mut names = vec![];
        let mut cursor: Option<Value> = None;
        for _ in 0..50 {
            let params = cursor
                .as_ref()
                .map(|c| json!({"cursor": c}))
                .unwrap_or(json!({}));
            let r = t.result("tools/list", params).await;
            for tool in r["tools"].as_array().unwrap() {
                assert!(tool["inputSchema"]["type"] == "object", "{tool}");
                names.push(tool["name"].as_str().unwrap().to_string());
            }
            match r.get("nextCursor") {
                Some(c) => cursor = Some(c.clone()),
                None => break,
            }
        }
        assert!(names.len() > 4);
        assert_eq!(
            names.contains(&"test_audio_content".to_string()),
            v != "2024-11-05"
        );
        assert_eq!(
            names.contains(&"get_resource_link".to_string()),
            v >= "2025-06-18"
        );
        assert!(names.contains(&"json_schema_2020_12_tool".to_string()));
    }
}

#[tokio::test]
async fn pagination_defects_and_bad_cursors() {
    let mut t = T::initialized(V, &[]).await;
    assert_eq!(
        t.error_code("tools/list", json!({"cursor": "bogus"})).await,
        -32602
    );
    assert_eq!(
        t.error_code(
            "prompts/list",
            json!({"cursor": crate::pagination::encode("tools", 4)})
        )
        .await,
        -32602
    );
    let mut t = T::initialized(V, &["invalid-cursor-accepted"]).await;
    t.result("tools/list", json!({"cursor": "bogus"})).await;
    let mut t = T::initialized(V, &["pagination-loop"]).await;
    let r = t
        .result(
            "prompts/list",
            json!({"cursor": crate::pagination::encode("prompts", 4)}),
        )
        .await;
    assert_eq!(
        r["nextCursor"],
        json!(crate::pagination::encode("prompts", 0))
    );
    let mut t = T::initialized(V, &["null-next-cursor"]).await;
    let r = t
        .result(
            "prompts/list",
            json!({"cursor": crate::pagination::encode("prompts", 4)}),
        )
        .await;
    assert_eq!(r.get("nextCursor"), Some(&Value::Null));
}

#[tokio::test]
async fn tool_calls() {
    let mut t = T::initialized(V, &[]).await;
    let r = t
        .result("tools/call", json!({"name": "test_simple_text"}))
        .await;
    assert_eq!(text_of(&r), "This is a simple text response for testing.");
    let r = t
        .result("tools/call", json!({"name": "test_image_content"}))
        .await;
    assert_eq!(r["content"][0]["mimeType"], "image/png");
    let r = t
        .result("tools/call", json!({"name": "test_audio_content"}))
        .await;
    assert_eq!(r["content"][0]["type"], "audio");
    let r = t
        .result("tools/call", json!({"name": "test_error_handling"}))
        .await;
    assert_eq!(r["isError"], true);
    let r = t
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
        )
        .await;
    assert_eq!(r["structuredContent"], json!({"sum": 5}));
    let r = t
        .result("tools/call", json!({"name": "get_resource_link"}))
        .await;
    assert_eq!(r["content"][1]["type"], "resource_link");
    assert_eq!(
        t.error_code("tools/call", json!({"name": "no_such_tool"}))
            .await,
        -32602
    );
    assert_eq!(
        t.error_code("tools/call", json!({"arguments": {}})).await,
        -32602
    );
    // Invalid arguments: a protocol error before 2025-11-25 ...
    assert_eq!(
        t.error_code(
            "tools/call",
            json!({"name": "add", "arguments": {"a": "x"}})
        )
        .await,
        -32602
    );
    // ... a tool execution error from 2025-11-25 on.
    let mut t = T::initialized("2025-11-25", &[]).await;
    let r = t
        .result("tools/call", json!({"name": "add", "arguments": {"a": 1}}))
        .await;
    assert_eq!(r["isError"], true);
    let r = t.result("tools/call", json!({"name": "json_schema_2020_12_tool", "arguments": {"name": "n", "address": {"city": "c"}, "email": "n@example.com"}})).await;
    assert!(r.get("isError").is_none(), "{r}");
    // if/then/else: contactMethod "phone" needs a phone.
    let r = t.result("tools/call", json!({"name": "json_schema_2020_12_tool", "arguments": {"contactMethod": "phone", "email": "n@example.com"}})).await;
    assert_eq!(r["isError"], true, "{r}");
    let r = t
        .result(
            "tools/call",
            json!({"name": "json_schema_2020_12_tool", "arguments": {"name": "n", "extra": 1}}),
        )
        .await;
    assert_eq!(r["isError"], true);
    // Version-gated content.
    let mut t = T::initialized("2024-11-05", &[]).await;
    assert_eq!(
        t.error_code("tools/call", json!({"name": "test_audio_content"}))
            .await,
        -32602
    );
    let r = t
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
        )
        .await;
    assert!(r.get("structuredContent").is_none());
}

#[tokio::test]
async fn tool_defects() {
    let cases: Vec<(&str, &str, Value, Check)> = vec![
        (
            "tools-call-bad-result",
            "test_simple_text",
            json!({}),
            Box::new(|r| r["result"].get("content").is_none()),
        ),
        (
            "unknown-tool-succeeds",
            "nope",
            json!({}),
            Box::new(|r| r["result"]["content"].is_array() && r["result"].get("isError").is_none()),
        ),
        (
            "unknown-tool-is-error",
            "nope",
            json!({}),
            Box::new(|r| r["result"]["isError"] == true),
        ),
        (
            "tool-error-as-protocol-error",
            "test_error_handling",
            json!({}),
            Box::new(|r| r["error"]["code"] == -32603),
        ),
        (
            "invalid-args-accepted",
            "add",
            json!({"a": "x"}),
            Box::new(|r| r["result"]["structuredContent"]["sum"].is_number()),
        ),
        (
            "structured-content-mismatch",
            "add",
            json!({"a": 1, "b": 2}),
            Box::new(|r| r["result"]["structuredContent"]["sum"] == "3"),
        ),
        (
            "structured-content-missing",
            "add",
            json!({"a": 1, "b": 2}),
            Box::new(|r| r["result"].get("structuredContent").is_none()),
        ),
        (
            "image-bad-base64",
            "test_image_content",
            json!({}),
            Box::new(|r| {
                r["result"]["content"][0]["data"]
                    .as_str()
                    .unwrap()
                    .contains('*')
            }),
        ),
    ];
    for (defect, tool, args, check) in cases {
        let mut t = T::initialized(V, &[defect]).await;
        let r = t
            .request("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert!(check(&r), "{defect}: {r}");
    }
    let mut t = T::initialized(V, &["tools-list-bad-schema"]).await;
    let r = t.result("tools/list", json!({})).await;
    assert!(r["tools"][0].get("inputSchema").is_none());
    let mut t = T::initialized("2024-11-05", &["wrong-content-type"]).await;
    let r = t
        .result("tools/call", json!({"name": "test_audio_content"}))
        .await;
    assert_eq!(r["content"][0]["type"], "audio");
}

#[tokio::test]
async fn logging_honours_level() {
    let mut t = T::initialized(V, &[]).await;
    t.result("tools/call", json!({"name": "test_tool_with_logging"}))
        .await;
    let levels: Vec<String> = t
        .seen
        .drain(..)
        .filter(|m| m["method"] == "notifications/message")
        .map(|m| m["params"]["level"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(levels, ["debug", "info", "info", "info", "warning"]);
    t.result("logging/setLevel", json!({"level": "warning"}))
        .await;
    t.result("tools/call", json!({"name": "test_tool_with_logging"}))
        .await;
    let levels: Vec<Value> = t
        .seen
        .drain(..)
        .map(|m| m["params"]["level"].clone())
        .collect();
    assert_eq!(levels, [json!("warning")]);
    assert_eq!(
        t.error_code("logging/setLevel", json!({"level": "loud"}))
            .await,
        -32602
    );
    let mut t = T::initialized(V, &["log-level-ignored"]).await;
    t.result("logging/setLevel", json!({"level": "error"}))
        .await;
    t.result("tools/call", json!({"name": "test_tool_with_logging"}))
        .await;
    assert_eq!(t.seen.len(), 5);
    let mut t = T::initialized(V, &["invalid-log-level-accepted"]).await;
    t.result("logging/setLevel", json!({"level": "loud"})).await;
}

#[tokio::test]
async fn progress_only_with_token_and_increasing() {
    let mut t = T::initialized(V, &[]).await;
    t.result("tools/call", json!({"name": "test_tool_with_progress"}))
        .await;
    assert!(t.seen.is_empty());
    t.result(
        "tools/call",
        json!({"name": "test_tool_with_progress", "_meta": {"progressToken": 7}}),
    )
    .await;
    let p: Vec<f64> = t
        .seen
        .drain(..)
        .map(|m| {
            assert_eq!(m["params"]["progressToken"], 7);
            m["params"]["progress"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(p, [0.0, 50.0, 100.0]);
    for (defect, with_token) in [
        ("progress-decreasing", true),
        ("progress-without-token", false),
        ("progress-wrong-token", true),
    ] {
        let mut t = T::initialized(V, &[defect]).await;
        let mut params = json!({"name": "test_tool_with_progress"});
        if with_token {
            params["_meta"] = json!({"progressToken": "tok"});
        }
        t.result("tools/call", params).await;
        let notes: Vec<Value> = t.seen.drain(..).collect();
        assert_eq!(notes.len(), 3, "{defect}");
        match defect {
            "progress-decreasing" => assert_eq!(notes[0]["params"]["progress"], 100),
            "progress-without-token" => assert!(notes[0]["params"]["progressToken"].is_string()),
            _ => assert_ne!(notes[0]["params"]["progressToken"], "tok"),
        }
    }
}

#[tokio::test]
async fn cancellation_suppresses_the_response() {
    let mut t = T::initialized(V, &[]).await;
    t.send(json!({"jsonrpc": "2.0", "id": "slow-1", "method": "tools/call", "params": {"name": "slow", "arguments": {"ms": 5000}}}));
    tokio::time::sleep(Duration::from_millis(20)).await;
    t.notify(
        "notifications/cancelled",
        Some(json!({"requestId": "slow-1", "reason": "test"})),
    );
    // Unknown ids are ignored.
    t.notify("notifications/cancelled", Some(json!({"requestId": 999})));
    assert_eq!(t.nothing_within(200).await, None);
    assert!(!t.conn.has_inflight());
    // The connection still works.
    t.result("ping", json!({})).await;

    let mut t = T::initialized(V, &["cancelled-still-responds"]).await;
    t.send(json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "slow", "arguments": {"ms": 5000}}}));
    tokio::time::sleep(Duration::from_millis(20)).await;
    t.notify("notifications/cancelled", Some(json!({"requestId": 9})));
    let r = t.recv().await;
    assert_eq!(r["id"], 9);
}

#[tokio::test]
async fn duplicate_response_defect() {
    let mut t = T::initialized(V, &["duplicate-response"]).await;
    assert_eq!(t.recv().await["id"], 101); // the initialize response, again
    t.send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}));
    assert_eq!(t.recv().await["id"], 1);
    assert_eq!(t.recv().await["id"], 1);
}

// ---------- server->client requests ----------

#[tokio::test]
async fn sampling_round_trip() {
    let mut t = T::initialized_with(V, &[], json!({"sampling": {}})).await;
    t.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "test_sampling", "arguments": {"prompt": "2+2?"}}}));
    let out = t.recv_outgoing().await;
    assert_eq!(out.related.as_deref(), Some("1"));
    let req = out.message;
    assert_eq!(req["method"], "sampling/createMessage");
    assert_eq!(req["params"]["messages"][0]["content"]["text"], "2+2?");
    t.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}}));
    let r = t.response_to(&json!(1)).await;
    assert_eq!(text_of(&r["result"]), "LLM response: 4");

    // A client error is handled gracefully.
    t.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "test_sampling", "arguments": {"prompt": "x"}}}));
    let req = t.recv().await;
    t.send(json!({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -1, "message": "User rejected sampling request"}}));
    let r = t.response_to(&json!(2)).await;
    assert_eq!(r["result"]["isError"], true);

    // Without the capability nothing is sent to the client.
    let mut t = T::initialized(V, &[]).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "test_sampling", "arguments": {"prompt": "x"}}),
        )
        .await;
    assert_eq!(r["isError"], true);
    assert!(t.seen.is_empty());
    let mut t = T::initialized(V, &["sampling-without-capability"]).await;
    t.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "test_sampling", "arguments": {"prompt": "x"}}}));
    assert_eq!(t.recv().await["method"], "sampling/createMessage");
}

#[tokio::test]
async fn no_requests_to_the_client_before_initialized() {
    let mut t = T::new(&[]);
    let init = json!({"protocolVersion": V, "capabilities": {"sampling": {}}, "clientInfo": {"name": "c", "version": "1"}});
    t.result("initialize", init).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "test_sampling", "arguments": {"prompt": "x"}}),
        )
        .await;
    assert_eq!(r["isError"], true);
    assert!(t.seen.is_empty());
}

#[tokio::test]
async fn elicitation_and_roots() {
    let mut t = T::initialized_with(
        "2025-11-25",
        &[],
        json!({"elicitation": {}, "roots": {"listChanged": true}}),
    )
    .await;
    t.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "test_elicitation", "arguments": {"message": "Who?"}}}));
    let req = t.recv().await;
    assert_eq!(req["method"], "elicitation/create");
    assert_eq!(req["params"]["mode"], "form");
    t.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": {"action": "accept", "content": {"username": "u", "email": "u@example.com"}}}));
    let r = t.response_to(&json!(1)).await;
    assert!(text_of(&r["result"]).starts_with("User response: action=accept"));

    t.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_roots"}}));
    let req = t.recv().await;
    assert_eq!(req["method"], "roots/list");
    t.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": {"roots": [{"uri": "file:///tmp", "name": "tmp"}]}}));
    let r = t.response_to(&json!(2)).await;
    assert_eq!(text_of(&r["result"]), "1 root(s): file:///tmp (tmp)");

    // URL mode needs the url sub-capability.
    let r = t
        .result(
            "tools/call",
            json!({"name": "test_url_elicitation_required"}),
        )
        .await;
    assert_eq!(r["isError"], true);
    let mut t = T::initialized_with("2025-11-25", &[], json!({"elicitation": {"url": {}}})).await;
    assert_eq!(
        t.error_code(
            "tools/call",
            json!({"name": "test_url_elicitation_required"})
        )
        .await,
        -32042
    );
}

// ---------- resources ----------

#[tokio::test]
async fn resources() {
    let mut t = T::initialized(V, &[]).await;
    let r = t.result("resources/list", json!({})).await;
    assert_eq!(r["resources"].as_array().unwrap().len(), 4);
    let next = r["nextCursor"].clone();
    let r = t.result("resources/list", json!({"cursor": next})).await;
    assert!(r.get("nextCursor").is_none());
    let r = t
        .result("resources/read", json!({"uri": "test://static-binary"}))
        .await;
    assert_eq!(r["contents"][0]["uri"], "test://static-binary");
    assert!(r["contents"][0]["blob"].is_string());
    let r = t
        .result("resources/read", json!({"uri": "test://template/abc/data"}))
        .await;
    assert_eq!(r["contents"][0]["uri"], "test://template/abc/data");
    assert_eq!(
        t.error_code("resources/read", json!({"uri": "test://missing"}))
            .await,
        -32002
    );
    assert_eq!(t.error_code("resources/read", json!({})).await, -32602);
    let r = t.result("resources/templates/list", json!({})).await;
    assert!(r["nextCursor"].is_string());

    for (defect, check) in [
        (
            "resource-uri-mismatch",
            json!({"uri": "test://static-text"}),
        ),
        (
            "resource-not-found-wrong-code",
            json!({"uri": "test://missing"}),
        ),
        ("resource-not-found-empty", json!({"uri": "test://missing"})),
    ] {
        let mut t = T::initialized(V, &[defect]).await;
        let r = t.request("resources/read", check).await;
        let broken = match defect {
            "resource-uri-mismatch" => r["result"]["contents"][0]["uri"] != "test://static-text",
            "resource-not-found-wrong-code" => r["error"]["code"] == -32603,
            _ => r["result"]["contents"] == json!([]),
        };
        assert!(broken, "{defect}: {r}");
    }
    let mut t = T::initialized(V, &["resources-list-bad-schema"]).await;
    assert!(
        t.result("resources/list", json!({})).await["resources"][0]
            .get("uri")
            .is_none()
    );
}

#[tokio::test]
async fn subscriptions() {
    let mut t = T::initialized(V, &[]).await;
    // Not subscribed: a change sends nothing.
    t.result("tools/call", json!({"name": "update_watched"}))
        .await;
    assert!(t.seen.is_empty());
    t.result(
        "resources/subscribe",
        json!({"uri": "test://watched-resource"}),
    )
    .await;
    t.result("tools/call", json!({"name": "update_watched"}))
        .await;
    let r = t
        .result("resources/read", json!({"uri": "test://watched-resource"}))
        .await;
    assert!(
        r["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("revision")
    );
    assert!(
        t.seen
            .iter()
            .any(|m| m["method"] == "notifications/resources/updated"
                && m["params"]["uri"] == "test://watched-resource")
    );
    // The timer changes it too.
    t.seen.clear();
    let m = t.recv().await;
    assert_eq!(m["method"], "notifications/resources/updated");
    t.result(
        "resources/unsubscribe",
        json!({"uri": "test://watched-resource"}),
    )
    .await;
    t.seen.clear();
    t.result("tools/call", json!({"name": "update_watched"}))
        .await;
    assert!(t.seen.is_empty());
    assert_eq!(
        t.error_code("resources/subscribe", json!({"uri": "test://missing"}))
            .await,
        -32002
    );

    let mut t = T::initialized(V, &["updated-without-subscription"]).await;
    t.result("tools/call", json!({"name": "update_watched"}))
        .await;
    assert_eq!(t.seen.len(), 1);
    let mut t = T::initialized(V, &["unsubscribe-ignored"]).await;
    t.result(
        "resources/subscribe",
        json!({"uri": "test://watched-resource"}),
    )
    .await;
    t.result(
        "resources/unsubscribe",
        json!({"uri": "test://watched-resource"}),
    )
    .await;
    t.result("tools/call", json!({"name": "update_watched"}))
        .await;
    assert!(
        t.seen
            .iter()
            .any(|m| m["method"] == "notifications/resources/updated")
    );
}

#[tokio::test]
async fn list_changed_on_toggle_for_prompts_and_resources() {
    let mut t = T::initialized(V, &[]).await;
    t.result("tools/call", json!({"name": "toggle_extra_prompt"}))
        .await;
    assert!(
        t.seen
            .iter()
            .any(|m| m["method"] == "notifications/prompts/list_changed")
    );
    let r = t
        .result("prompts/get", json!({"name": "extra_prompt"}))
        .await;
    assert_eq!(r["messages"][0]["role"], "user");
    t.result("tools/call", json!({"name": "toggle_extra_resource"}))
        .await;
    assert!(
        t.seen
            .iter()
            .any(|m| m["method"] == "notifications/resources/list_changed")
    );
    t.result("resources/read", json!({"uri": "test://extra-resource"}))
        .await;
    t.result("tools/call", json!({"name": "toggle_extra_resource"}))
        .await;
    assert_eq!(
        t.error_code("resources/read", json!({"uri": "test://extra-resource"}))
            .await,
        -32002
    );
    // 2026-07-28: server-wide, announced on listen streams that asked for it.
    let mut t = T::new(&[]);
    t.send(
        json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen",
        "params": with_meta(json!({"notifications": {"toolsListChanged": true}}), json!({}))}),
    );
    assert_eq!(
        t.recv().await["method"],
        "notifications/subscriptions/acknowledged"
    );
    t.result(
        "tools/call",
        with_meta(json!({"name": "toggle_extra_prompt"}), json!({})),
    )
    .await;
    assert!(
        t.seen.is_empty(),
        "prompts were not asked for: {:?}",
        t.seen
    );
    t.result(
        "tools/call",
        with_meta(json!({"name": "toggle_extra_tool"}), json!({})),
    )
    .await;
    let n = t.seen.drain(..).next().expect("a notification");
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L"
    );
    let r = t
        .result(
            "tools/call",
            with_meta(json!({"name": "extra_tool"}), json!({})),
        )
        .await;
    assert_eq!(text_of(&r), "extra_tool ran");
}

#[tokio::test]
async fn list_changed_on_toggle() {
    let mut t = T::initialized(V, &[]).await;
    t.result("tools/call", json!({"name": "toggle_extra_tool"}))
        .await;
    assert!(
        t.seen
            .iter()
            .any(|m| m["method"] == "notifications/tools/list_changed")
    );
    let r = t.result("tools/call", json!({"name": "extra_tool"})).await;
    assert_eq!(text_of(&r), "extra_tool ran");
}

// ---------- prompts & completion ----------

#[tokio::test]
async fn prompts() {
    let mut t = T::initialized(V, &[]).await;
    let r = t
        .result(
            "prompts/get",
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a", "arg2": "b"}}),
        )
        .await;
    assert_eq!(
        r["messages"][0]["content"]["text"],
        "Prompt with arguments: arg1='a', arg2='b'"
    );
    assert_eq!(
        t.error_code(
            "prompts/get",
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a"}})
        )
        .await,
        -32602
    );
    assert_eq!(
        t.error_code("prompts/get", json!({"name": "nope"})).await,
        -32602
    );
    let r = t.result("prompts/get", json!({"name": "test_prompt_with_embedded_resource", "arguments": {"resourceUri": "test://x"}})).await;
    assert_eq!(r["messages"][0]["content"]["resource"]["uri"], "test://x");
    let r = t
        .result("prompts/get", json!({"name": "test_prompt_with_image"}))
        .await;
    assert_eq!(r["messages"][0]["content"]["type"], "image");

    let mut t = T::initialized(V, &["missing-prompt-arg-accepted"]).await;
    t.result("prompts/get", json!({"name": "test_prompt_with_arguments"}))
        .await;
    let mut t = T::initialized(V, &["prompt-bad-role"]).await;
    assert_eq!(
        t.result("prompts/get", json!({"name": "test_simple_prompt"}))
            .await["messages"][0]["role"],
        "system"
    );
    let mut t = T::initialized(V, &["prompts-list-bad-schema"]).await;
    assert!(
        t.result("prompts/list", json!({})).await["prompts"][0]
            .get("name")
            .is_none()
    );
    let mut t = T::initialized(V, &["unknown-prompt-succeeds"]).await;
    t.result("prompts/get", json!({"name": "nope"})).await;
}

#[tokio::test]
async fn completion() {
    let mut t = T::initialized(V, &[]).await;
    let r = t.result("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "py"}})).await;
    assert_eq!(r["completion"]["values"], json!(["python"]));
    let r = t.result("completion/complete", json!({"ref": {"type": "ref/resource", "uri": "test://template/{id}/data"}, "argument": {"name": "id", "value": ""}})).await;
    assert_eq!(r["completion"]["values"].as_array().unwrap().len(), 100);
    assert_eq!(r["completion"]["total"], 250);
    assert_eq!(r["completion"]["hasMore"], true);
    let r = t.result("completion/complete", json!({"ref": {"type": "ref/resource", "uri": "test://users/{userId}/posts/{postId}"}, "argument": {"name": "postId", "value": ""}, "context": {"arguments": {"userId": "user7"}}})).await;
    assert_eq!(r["completion"]["values"][0], "user7-post1");
    assert_eq!(t.error_code("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "a", "value": ""}})).await, -32602);
    let mut t = T::initialized(V, &["completion-too-many-values"]).await;
    let r = t.result("completion/complete", json!({"ref": {"type": "ref/resource", "uri": "test://template/{id}/data"}, "argument": {"name": "id", "value": ""}})).await;
    assert_eq!(r["completion"]["values"].as_array().unwrap().len(), 250);
    let mut t = T::initialized(V, &["completion-wrong-has-more"]).await;
    let r = t.result("completion/complete", json!({"ref": {"type": "ref/resource", "uri": "test://template/{id}/data"}, "argument": {"name": "id", "value": ""}})).await;
    assert_eq!(r["completion"]["hasMore"], false);
}

// ---------- 2026-07-28 ----------

fn meta() -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}})
}

fn with_meta(mut params: Value, extra: Value) -> Value {
    let mut m = meta();
    if let Some(e) = extra.as_object() {
        for (k, v) in e {
            m[k] = v.clone();
        }
    }
    params["_meta"] = m;
    params
}

#[tokio::test]
async fn modern_requests_are_stateless() {
    let mut t = T::new(&[]);
    let r = t
        .result("tools/list", with_meta(json!({}), json!({})))
        .await;
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["cacheScope"], "public");
    assert!(r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"].is_string());
    let r = t
        .result("server/discover", with_meta(json!({}), json!({})))
        .await;
    assert_eq!(r["supportedVersions"][0], "2026-07-28");
    // Removed methods.
    assert_eq!(
        t.error_code("ping", with_meta(json!({}), json!({}))).await,
        -32601
    );
    assert_eq!(
        t.error_code(
            "logging/setLevel",
            with_meta(json!({"level": "info"}), json!({}))
        )
        .await,
        -32601
    );
    assert_eq!(
        t.error_code(
            "resources/subscribe",
            with_meta(json!({"uri": "test://static-text"}), json!({}))
        )
        .await,
        -32601
    );
    // Malformed metadata.
    let r = t
        .request(
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602);
    let r = t.request("tools/list", json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2025-06-18", "io.modelcontextprotocol/clientCapabilities": {}}})).await;
    assert_eq!(r["error"]["code"], -32022);
    assert_eq!(r["error"]["data"]["requested"], "2025-06-18");
    assert_eq!(t.error_code("server/discover", json!({})).await, -32602);
    assert_eq!(
        t.error_code(
            "resources/read",
            with_meta(json!({"uri": "test://missing"}), json!({}))
        )
        .await,
        -32602
    );
    // Without logLevel: no log messages; with it: filtered.
    t.result(
        "tools/call",
        with_meta(json!({"name": "test_tool_with_logging"}), json!({})),
    )
    .await;
    assert!(t.seen.is_empty());
    t.result(
        "tools/call",
        with_meta(
            json!({"name": "test_tool_with_logging"}),
            json!({"io.modelcontextprotocol/logLevel": "warning"}),
        ),
    )
    .await;
    assert_eq!(t.seen.len(), 1);
    t.seen.clear();
    t.result(
        "tools/call",
        with_meta(
            json!({"name": "test_tool_with_progress"}),
            json!({"progressToken": "pt"}),
        ),
    )
    .await;
    assert_eq!(t.seen.len(), 3);
}

#[tokio::test]
async fn modern_defects() {
    let cases: Vec<(&str, &str, Value, Check)> = vec![
        (
            "missing-result-type",
            "tools/list",
            with_meta(json!({}), json!({})),
            Box::new(|r| r["result"].get("resultType").is_none()),
        ),
        (
            "missing-cache-fields",
            "tools/list",
            with_meta(json!({}), json!({})),
            Box::new(|r| r["result"].get("ttlMs").is_none()),
        ),
        (
            "discover-missing-versions",
            "server/discover",
            with_meta(json!({}), json!({})),
            Box::new(|r| r["result"].get("supportedVersions").is_none()),
        ),
        (
            "unsupported-version-wrong-code",
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "1.0", "io.modelcontextprotocol/clientCapabilities": {}}}),
            Box::new(|r| r["error"]["code"] == -32602),
        ),
    ];
    for (defect, method, params, check) in cases {
        let mut t = T::new(&[defect]);
        let r = t.request(method, params).await;
        assert!(check(&r), "{defect}: {r}");
    }
    let mut t = T::new(&["log-without-level-meta"]);
    t.result(
        "tools/call",
        with_meta(json!({"name": "test_tool_with_logging"}), json!({})),
    )
    .await;
    assert!(!t.seen.is_empty());
}

#[tokio::test]
async fn modern_input_required_and_request_state() {
    let mut t = T::new(&[]);
    let caps = json!({"io.modelcontextprotocol/clientCapabilities": {"sampling": {}}});
    let params = with_meta(
        json!({"name": "test_sampling", "arguments": {"prompt": "hi"}}),
        caps.clone(),
    );
    let r = t.result("tools/call", params.clone()).await;
    assert_eq!(r["resultType"], "input_required");
    assert_eq!(
        r["inputRequests"]["sampling"]["method"],
        "sampling/createMessage"
    );
    assert!(r.get("ttlMs").is_none());
    // A tampered requestState is rejected.
    let mut retry = params.clone();
    retry["requestState"] = json!("forged");
    retry["inputResponses"] = json!({"sampling": {"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m"}});
    assert_eq!(t.error_code("tools/call", retry.clone()).await, -32602);
    // A state minted for another tool is rejected too.
    let other = t
        .result(
            "tools/call",
            with_meta(
                json!({"name": "test_input_required_result_request_state"}),
                json!({"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}),
            ),
        )
        .await;
    assert!(other["requestState"].is_string(), "a staged request carries its state");
    assert!(r.get("requestState").is_none(), "a single-round request needs none");
    retry["requestState"] = other["requestState"].clone();
    assert_eq!(t.error_code("tools/call", retry.clone()).await, -32602);
    retry["requestState"] = r["requestState"].clone();
    let done = t.result("tools/call", retry).await;
    assert_eq!(text_of(&done), "LLM response: x");
    // Without the capability: MissingRequiredClientCapability.
    let r = t
        .request(
            "tools/call",
            with_meta(
                json!({"name": "test_sampling", "arguments": {"prompt": "hi"}}),
                json!({}),
            ),
        )
        .await;
    assert_eq!(r["error"]["code"], -32021);
    assert!(r["error"]["data"]["requiredCapabilities"]["sampling"].is_object());
}

#[tokio::test]
async fn modern_listen_stream() {
    let mut t = T::new(&[]);
    let listen = with_meta(
        json!({"notifications": {"resourceSubscriptions": ["test://watched-resource", "test://missing"], "toolsListChanged": true}}),
        json!({}),
    );
    t.send(
        json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen", "params": listen}),
    );
    let ack = t.recv().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L"
    );
    assert_eq!(
        ack["params"]["notifications"]["resourceSubscriptions"],
        json!(["test://watched-resource"])
    );
    t.result(
        "tools/call",
        with_meta(json!({"name": "update_watched"}), json!({})),
    )
    .await;
    let upd = t
        .seen
        .drain(..)
        .find(|m| m["method"] == "notifications/resources/updated")
        .expect("an update");
    assert_eq!(
        upd["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L"
    );
    // Cancelling the listen request ends it without a response.
    t.notify("notifications/cancelled", Some(json!({"requestId": "L"})));
    assert_eq!(t.nothing_within(50).await, None);
    t.result(
        "tools/call",
        with_meta(json!({"name": "update_watched"}), json!({})),
    )
    .await;
    assert!(t.seen.is_empty(), "{:?}", t.seen);
}

#[tokio::test]
async fn garbage_never_panics() {
    let inputs: Vec<Value> = vec![
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": 5}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "slow", "arguments": {"ms": -5}}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1e308, "b": 1e308}}}),
        json!({"jsonrpc": "2.0", "id": u64::MAX, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": "test://template/é/data"}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": {"ref": {"type": "ref/resource", "uri": 3}}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": "code_review", "arguments": {"language": 1}}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"cursor": 12}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": [1, 2]}),
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": {"x": 1}}}),
        json!({"jsonrpc": "2.0", "id": 77, "result": {}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": 5}}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}, "name": "echo", "requestState": 5}}),
        json!([1, 2, 3]),
        json!(null),
    ];
    for v in ["2024-11-05", "2025-03-26", "2025-11-25"] {
        let mut t = T::initialized(v, &[]).await;
        for i in &inputs {
            t.send(i.clone());
        }
        let _ = t.result("ping", json!({})).await;
    }
}

#[tokio::test]
async fn more_defects() {
    // progress-after-response
    let mut t = T::initialized(V, &["progress-after-response"]).await;
    t.result(
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "m"}, "_meta": {"progressToken": "z"}}),
    )
    .await;
    assert_eq!(t.recv().await["method"], "notifications/progress");
    // log-invalid-level
    let mut t = T::initialized(V, &["log-invalid-level"]).await;
    t.result("tools/call", json!({"name": "test_tool_with_logging"}))
        .await;
    assert_eq!(t.seen[0]["params"]["level"], "trace");
    // template-read-fails
    let mut t = T::initialized(V, &["template-read-fails"]).await;
    assert_eq!(
        t.error_code("resources/read", json!({"uri": "test://template/1/data"}))
            .await,
        -32002
    );
    // completion-ignores-prefix
    let mut t = T::initialized(V, &["completion-ignores-prefix"]).await;
    let r = t.result("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "py"}})).await;
    assert!(r["completion"]["values"].as_array().unwrap().len() > 1);
    // image-missing-mime-type
    let mut t = T::initialized(V, &["image-missing-mime-type"]).await;
    let r = t
        .result("tools/call", json!({"name": "test_image_content"}))
        .await;
    assert!(r["content"][0].get("mimeType").is_none());
    // pagination-overlap
    let mut t = T::initialized(V, &["pagination-overlap"]).await;
    let p1 = t.result("tools/list", json!({})).await;
    let p2 = t
        .result("tools/list", json!({"cursor": p1["nextCursor"]}))
        .await;
    assert_eq!(p1["tools"][3]["name"], p2["tools"][0]["name"]);
    // ping-before-initialize-rejected
    let mut t = T::new(&["ping-before-initialize-rejected"]);
    assert_eq!(t.error_code("ping", json!({})).await, -32600);
    let mut t = T::new(&[]);
    t.result("ping", json!({})).await;
    // batch-unwrapped
    let mut t = T::initialized("2025-03-26", &["batch-unwrapped"]).await;
    t.send(json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "ping"}]));
    assert_eq!(t.recv().await["id"], 1);
    assert_eq!(t.recv().await["id"], 2);
    // request-state-unverified
    let mut t = T::new(&["request-state-unverified"]);
    let p = with_meta(
        json!({"name": "echo", "arguments": {"message": "m"}, "requestState": "forged"}),
        json!({}),
    );
    t.result("tools/call", p).await;
    // missing-capability-as-tool-error
    let mut t = T::new(&["missing-capability-as-tool-error"]);
    let r = t
        .result(
            "tools/call",
            with_meta(
                json!({"name": "test_sampling", "arguments": {"prompt": "x"}}),
                json!({}),
            ),
        )
        .await;
    assert_eq!(r["isError"], true);
    // listen-no-ack / listen-missing-subscription-id
    let mut t = T::new(&["listen-no-ack", "listen-missing-subscription-id"]);
    t.send(json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen",
        "params": with_meta(json!({"notifications": {"resourceSubscriptions": ["test://watched-resource"]}}), json!({}))}));
    t.result(
        "tools/call",
        with_meta(json!({"name": "update_watched"}), json!({})),
    )
    .await;
    assert_eq!(t.seen.len(), 1, "{:?}", t.seen);
    assert_eq!(t.seen[0]["method"], "notifications/resources/updated");
    assert!(t.seen[0]["params"].get("_meta").is_none());
}

// ---------- tasks (2025-11-25) ----------

#[tokio::test]
async fn tasks_lifecycle() {
    let mut t = T::initialized("2025-11-25", &[]).await;
    // A task-augmented call returns at once with a task in "working".
    let created = t
        .result(
            "tools/call",
            json!({"name": "slow", "arguments": {"ms": 100}, "task": {"ttl": 60000}}),
        )
        .await;
    let task = &created["task"];
    assert_eq!(task["status"], "working");
    assert_eq!(task["ttl"], 60000);
    let id = task["taskId"].as_str().unwrap().to_string();
    let got = t.result("tasks/get", json!({"taskId": id})).await;
    assert_eq!(got["taskId"], id.as_str());
    // tasks/result blocks until the task ends, then returns the tool's result.
    let r = t.result("tasks/result", json!({"taskId": id})).await;
    assert_eq!(r["content"][0]["text"], "Slept 100 ms");
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id.as_str()
    );
    assert_eq!(
        t.result("tasks/get", json!({"taskId": id})).await["status"],
        "completed"
    );
    // Cancelling a terminal task is an error.
    assert_eq!(
        t.error_code("tasks/cancel", json!({"taskId": id})).await,
        -32602
    );
    let list = t.result("tasks/list", json!({})).await;
    assert_eq!(list["tasks"][0]["taskId"], id.as_str());
    assert_eq!(
        t.error_code("tasks/get", json!({"taskId": "nope"})).await,
        -32602
    );

    // Cancel a running task.
    let created = t
        .result(
            "tools/call",
            json!({"name": "slow", "arguments": {"ms": 5000}, "task": {}}),
        )
        .await;
    let id2 = created["task"]["taskId"].as_str().unwrap().to_string();
    let c = t.result("tasks/cancel", json!({"taskId": id2})).await;
    assert_eq!(c["status"], "cancelled");
    assert_eq!(
        t.result("tasks/get", json!({"taskId": id2})).await["status"],
        "cancelled"
    );

    // Task support negotiation.
    assert_eq!(
        t.error_code(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}, "task": {}})
        )
        .await,
        -32601
    );
    assert_eq!(
        t.error_code("tools/call", json!({"name": "long_job"}))
            .await,
        -32601
    );
    let created = t.result("tools/call", json!({"name": "long_job", "arguments": {"ms": 50}, "task": {}, "_meta": {"progressToken": "lj"}})).await;
    let id3 = created["task"]["taskId"].as_str().unwrap().to_string();
    let r = t.result("tasks/result", json!({"taskId": id3})).await;
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Long job finished")
    );
    let progress: Vec<&Value> = t
        .seen
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 5);
    assert_eq!(
        progress[0]["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id3.as_str()
    );
    assert!(t.seen.iter().any(
        |m| m["method"] == "notifications/tasks/status" && m["params"]["status"] == "completed"
    ));

    // Other versions ignore task metadata.
    let mut t = T::initialized("2025-06-18", &[]).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}, "task": {}}),
        )
        .await;
    assert_eq!(text_of(&r), "x");
    assert_eq!(t.error_code("tasks/list", json!({})).await, -32601);
}

#[tokio::test]
async fn task_waiting_for_the_client_is_input_required() {
    let mut t = T::initialized_with("2025-11-25", &[], json!({"sampling": {}})).await;
    let created = t
        .result(
            "tools/call",
            json!({"name": "test_sampling", "arguments": {"prompt": "p"}, "task": {}}),
        )
        .await;
    let id = created["task"]["taskId"].as_str().unwrap().to_string();
    let req = loop {
        let m = t.recv().await;
        if m["method"] == "sampling/createMessage" {
            break m;
        }
    };
    assert_eq!(
        req["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id.as_str()
    );
    assert_eq!(
        t.result("tasks/get", json!({"taskId": id})).await["status"],
        "input_required"
    );
    t.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"}}));
    let r = t.result("tasks/result", json!({"taskId": id})).await;
    assert_eq!(text_of(&r), "LLM response: ok");
}

#[tokio::test]
async fn task_defects() {
    let mut t = T::initialized("2025-11-25", &["task-support-ignored"]).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}, "task": {}}),
        )
        .await;
    assert!(r["task"]["taskId"].is_string());
    let mut t = T::initialized("2025-11-25", &["task-result-not-blocking"]).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "slow", "arguments": {"ms": 300}, "task": {}}),
        )
        .await;
    assert!(
        t.request("tasks/result", json!({"taskId": r["task"]["taskId"]}))
            .await
            .get("error")
            .is_some()
    );
    let mut t = T::initialized("2025-11-25", &["task-cancel-terminal-accepted"]).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "slow", "arguments": {"ms": 0}, "task": {}}),
        )
        .await;
    let id = r["task"]["taskId"].clone();
    t.result("tasks/result", json!({"taskId": id})).await;
    assert_eq!(
        t.result("tasks/cancel", json!({"taskId": id})).await["status"],
        "cancelled"
    );
    let mut t = T::initialized("2025-11-25", &["task-missing-related-task"]).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "slow", "arguments": {"ms": 0}, "task": {}}),
        )
        .await;
    let r = t
        .result("tasks/result", json!({"taskId": r["task"]["taskId"]}))
        .await;
    assert!(r.get("_meta").is_none(), "{r}");
}

#[tokio::test]
async fn form_elicitation_needs_form_mode() {
    let mut t = T::initialized_with("2025-11-25", &[], json!({"elicitation": {"url": {}}})).await;
    let r = t
        .result(
            "tools/call",
            json!({"name": "test_elicitation", "arguments": {"message": "m"}}),
        )
        .await;
    assert_eq!(r["isError"], true);
    assert!(t.seen.is_empty());
    // 2025-06-18 knows no modes: any elicitation capability means form.
    let mut t = T::initialized_with("2025-06-18", &[], json!({"elicitation": {}})).await;
    t.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "test_elicitation", "arguments": {"message": "m"}}}));
    let req = t.recv().await;
    assert_eq!(req["method"], "elicitation/create");
    assert!(req["params"].get("mode").is_none());
}

#[tokio::test]
async fn mrtr_fixtures() {
    let all = json!({"io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}, "sampling": {}, "roots": {}}});
    let call = |name: &str, extra: Value| {
        let mut p = with_meta(json!({"name": name, "arguments": {}}), all.clone());
        if let Some(e) = extra.as_object() {
            for (k, v) in e {
                p[k] = v.clone();
            }
        }
        p
    };
    let mut t = T::new(&[]);
    // Single inputs.
    for (tool, key, answer, expect) in [
        (
            "test_input_required_result_elicitation",
            "user_name",
            json!({"action": "accept", "content": {"name": "Alice"}}),
            "Hello, Alice!",
        ),
        (
            "test_input_required_result_sampling",
            "capital_question",
            json!({"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m"}),
            "LLM response: Paris",
        ),
        (
            "test_input_required_result_list_roots",
            "client_roots",
            json!({"roots": [{"uri": "file:///r"}]}),
            "1 root(s): file:///r",
        ),
    ] {
        let r1 = t.result("tools/call", call(tool, json!({}))).await;
        assert_eq!(r1["resultType"], "input_required", "{tool}: {r1}");
        assert!(r1["inputRequests"][key].is_object(), "{tool}: {r1}");
        // Wrong keys: asked again.
        let again = t
            .result(
                "tools/call",
                call(tool, json!({"inputResponses": {"wrong_key": {}}})),
            )
            .await;
        assert_eq!(again["resultType"], "input_required");
        let r2 = t
            .result(
                "tools/call",
                call(
                    tool,
                    json!({"inputResponses": {key: answer}, "requestState": r1["requestState"]}),
                ),
            )
            .await;
        assert_eq!(text_of(&r2), expect);
    }
    // Request state: round trip, and tampering.
    let r1 = t
        .result(
            "tools/call",
            call("test_input_required_result_request_state", json!({})),
        )
        .await;
    let state = r1["requestState"].as_str().unwrap().to_string();
    let ok = json!({"confirm": {"action": "accept", "content": {"ok": true}}});
    let r2 = t
        .result(
            "tools/call",
            call(
                "test_input_required_result_request_state",
                json!({"inputResponses": ok, "requestState": state}),
            ),
        )
        .await;
    assert!(text_of(&r2).contains("state-ok"));
    let r1 = t
        .result(
            "tools/call",
            call("test_input_required_result_tampered_state", json!({})),
        )
        .await;
    let tampered = format!("{}-TAMPERED", r1["requestState"].as_str().unwrap());
    let r = t
        .request(
            "tools/call",
            call(
                "test_input_required_result_tampered_state",
                json!({"inputResponses": ok, "requestState": tampered}),
            ),
        )
        .await;
    assert!(r.get("error").is_some(), "{r}");
    // Multiple inputs at once.
    let r1 = t
        .result(
            "tools/call",
            call("test_input_required_result_multiple_inputs", json!({})),
        )
        .await;
    assert_eq!(r1["inputRequests"].as_object().unwrap().len(), 3);
    let answers = json!({
        "user_name": {"action": "accept", "content": {"name": "Bo"}},
        "greeting": {"role": "assistant", "content": {"type": "text", "text": "Hi"}, "model": "m"},
        "client_roots": {"roots": []}
    });
    let r2 = t
        .result(
            "tools/call",
            call(
                "test_input_required_result_multiple_inputs",
                json!({"inputResponses": answers, "requestState": r1["requestState"]}),
            ),
        )
        .await;
    assert_eq!(r2["resultType"], "complete");
    // Multi-round: the state changes between rounds.
    let r1 = t
        .result(
            "tools/call",
            call("test_input_required_result_multi_round", json!({})),
        )
        .await;
    assert!(r1["inputRequests"]["step1"].is_object());
    let r2 = t.result("tools/call", call("test_input_required_result_multi_round", json!({"inputResponses": {"step1": {"action": "accept", "content": {"name": "Al"}}}, "requestState": r1["requestState"]}))).await;
    assert!(r2["inputRequests"]["step2"].is_object(), "{r2}");
    assert_ne!(r2["requestState"], r1["requestState"]);
    let r3 = t.result("tools/call", call("test_input_required_result_multi_round", json!({"inputResponses": {"step2": {"action": "accept", "content": {"color": "blue"}}}, "requestState": r2["requestState"]}))).await;
    assert_eq!(text_of(&r3), "Both rounds answered: Al likes blue");
    // Capabilities: only declared kinds are asked for.
    let p = with_meta(
        json!({"name": "test_input_required_result_capabilities", "arguments": {}}),
        json!({"io.modelcontextprotocol/clientCapabilities": {"sampling": {}}}),
    );
    let r1 = t.result("tools/call", p).await;
    let keys: Vec<&String> = r1["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["sampling_input"]);
    // Missing capability: refused.
    let p = with_meta(
        json!({"name": "test_missing_capability", "arguments": {}}),
        json!({}),
    );
    assert_eq!(t.error_code("tools/call", p).await, -32021);
    // The prompt.
    let p = with_meta(
        json!({"name": "test_input_required_result_prompt"}),
        all.clone(),
    );
    let r1 = t.result("prompts/get", p.clone()).await;
    assert_eq!(r1["resultType"], "input_required");
    let mut p2 = p.clone();
    p2["inputResponses"] =
        json!({"user_context": {"action": "accept", "content": {"context": "ctx"}}});
    p2["requestState"] = r1["requestState"].clone();
    let r2 = t.result("prompts/get", p2).await;
    assert!(r2["messages"].is_array());
}

#[tokio::test]
async fn stateless_diagnostic_fixtures() {
    let mut t = T::new(&[]);
    // test_logging_tool logs only with a level in _meta.
    t.result(
        "tools/call",
        with_meta(json!({"name": "test_logging_tool"}), json!({})),
    )
    .await;
    assert!(t.seen.is_empty());
    t.result(
        "tools/call",
        with_meta(
            json!({"name": "test_logging_tool"}),
            json!({"io.modelcontextprotocol/logLevel": "debug"}),
        ),
    )
    .await;
    assert_eq!(t.seen.drain(..).count(), 1);
    // test_streaming_elicitation answers with an InputRequiredResult, never a request.
    let caps = json!({"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}});
    let r = t
        .result(
            "tools/call",
            with_meta(json!({"name": "test_streaming_elicitation"}), caps),
        )
        .await;
    assert_eq!(r["resultType"], "input_required");
    assert!(t.seen.is_empty());
    // Triggers publish list changes to listen streams.
    t.send(json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen",
        "params": with_meta(json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true}}), json!({}))}));
    assert_eq!(
        t.recv().await["method"],
        "notifications/subscriptions/acknowledged"
    );
    t.result(
        "tools/call",
        with_meta(json!({"name": "test_trigger_tool_change"}), json!({})),
    )
    .await;
    t.result(
        "tools/call",
        with_meta(json!({"name": "test_trigger_prompt_change"}), json!({})),
    )
    .await;
    let methods: Vec<Value> = t.seen.drain(..).map(|m| m["method"].clone()).collect();
    assert_eq!(
        methods,
        [
            json!("notifications/tools/list_changed"),
            json!("notifications/prompts/list_changed")
        ]
    );
}

// ---------- the tasks extension on 2026-07-28 ----------

fn tasks_meta() -> Value {
    json!({"io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}, "elicitation": {}}})
}

/// Polls tasks/get until `done` holds (at most ~5 s).
async fn poll_task(t: &mut T, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let r = t
            .result("tasks/get", with_meta(json!({"taskId": id}), tasks_meta()))
            .await;
        if done(&r) {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("task {id} never reached the expected state");
}

#[tokio::test]
async fn tasks_extension_lifecycle() {
    let mut t = T::new(&[]);
    let d = t
        .result("server/discover", with_meta(json!({}), json!({})))
        .await;
    assert!(d["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"].is_object());
    assert!(d["capabilities"].get("tasks").is_none());
    // Without the extension: gated methods, synchronous optional tools, refused required ones.
    let r = t
        .request("tasks/get", with_meta(json!({"taskId": "x"}), json!({})))
        .await;
    assert_eq!(r["error"]["code"], -32021, "{r}");
    assert!(r["error"]["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"].is_object());
    let r = t
        .result(
            "tools/call",
            with_meta(json!({"name": "slow_compute", "arguments": {"seconds": 0}}), json!({})),
        )
        .await;
    assert_eq!(r["resultType"], "complete");
    assert!(r.get("taskId").is_none());
    assert_eq!(
        t.error_code("tools/call", with_meta(json!({"name": "failing_job"}), json!({})))
            .await,
        -32021
    );
    // With it: a flat CreateTaskResult that tasks/get finds at once.
    let c = t
        .result(
            "tools/call",
            with_meta(json!({"name": "slow_compute", "arguments": {"seconds": 30}}), tasks_meta()),
        )
        .await;
    assert_eq!(c["resultType"], "task");
    assert!(c.get("task").is_none() && c.get("requestState").is_none());
    assert!(c["ttlMs"].is_u64() && c["pollIntervalMs"].is_u64());
    let id = c["taskId"].as_str().unwrap().to_string();
    let g = poll_task(&mut t, &id, |_| true).await;
    assert_eq!(g["status"], "working");
    assert_eq!(g["resultType"], "complete");
    // Cancel: an empty ack; the task settles to cancelled; cancelling again acks too.
    let a = t
        .result("tasks/cancel", with_meta(json!({"taskId": id}), tasks_meta()))
        .await;
    assert!(a.get("taskId").is_none() && a.get("status").is_none(), "{a}");
    poll_task(&mut t, &id, |r| r["status"] == "cancelled").await;
    t.result("tasks/cancel", with_meta(json!({"taskId": id}), tasks_meta()))
        .await;
    assert_eq!(
        t.error_code("tasks/get", with_meta(json!({"taskId": "nope"}), tasks_meta()))
            .await,
        -32602
    );
    // A tool error completes (isError); a protocol error fails with the error inlined.
    let c = t
        .result("tools/call", with_meta(json!({"name": "failing_job"}), tasks_meta()))
        .await;
    let id = c["taskId"].as_str().unwrap().to_string();
    let g = poll_task(&mut t, &id, |r| r["status"] != "working").await;
    assert_eq!(g["status"], "completed");
    assert_eq!(g["result"]["isError"], true);
    let c = t
        .result("tools/call", with_meta(json!({"name": "protocol_error_job"}), tasks_meta()))
        .await;
    let id = c["taskId"].as_str().unwrap().to_string();
    let g = poll_task(&mut t, &id, |r| r["status"] != "working").await;
    assert_eq!(g["status"], "failed");
    assert_eq!(g["error"]["code"], -32603);
    assert!(g.get("result").is_none());
}

#[tokio::test]
async fn tasks_extension_input() {
    let mut t = T::new(&[]);
    // Two inputs at once, answered one by one.
    let c = t
        .result("tools/call", with_meta(json!({"name": "multi_input"}), tasks_meta()))
        .await;
    let id = c["taskId"].as_str().unwrap().to_string();
    let g = poll_task(&mut t, &id, |r| r["status"] == "input_required").await;
    let keys: Vec<String> = g["inputRequests"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 2, "{g}");
    let answer = json!({"action": "accept", "content": {"name": "Ada", "confirm": true}});
    let ack = t
        .result(
            "tasks/update",
            with_meta(json!({"taskId": id, "inputResponses": {keys[0].clone(): answer, "stray": {}}}), tasks_meta()),
        )
        .await;
    assert!(ack.get("status").is_none(), "{ack}");
    let g = t
        .result("tasks/get", with_meta(json!({"taskId": id}), tasks_meta()))
        .await;
    assert_eq!(g["status"], "input_required");
    let left: Vec<&String> = g["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(left, vec![&keys[1]]);
    t.result(
        "tasks/update",
        with_meta(json!({"taskId": id, "inputResponses": {keys[1].clone(): answer}}), tasks_meta()),
    )
    .await;
    let g = poll_task(&mut t, &id, |r| r["status"] == "completed").await;
    assert!(text_of(&g["result"]).contains("Ada"), "{g}");
    // MRTR first, then a task whose result carries the gathered name.
    let r = t
        .result("tools/call", with_meta(json!({"name": "test_tool_with_task"}), tasks_meta()))
        .await;
    assert_eq!(r["resultType"], "input_required");
    assert!(r.get("taskId").is_none());
    let mut params = json!({"name": "test_tool_with_task", "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Alice"}}}});
    if let Some(s) = r.get("requestState") {
        params["requestState"] = s.clone();
    }
    let c = t.result("tools/call", with_meta(params, tasks_meta())).await;
    assert_eq!(c["resultType"], "task", "{c}");
    assert!(c.get("requestState").is_none());
    let id = c["taskId"].as_str().unwrap().to_string();
    let g = poll_task(&mut t, &id, |r| r["status"] == "completed").await;
    assert!(text_of(&g["result"]).contains("Alice"), "{g}");
}

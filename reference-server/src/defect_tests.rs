//! Every defect must change what the server does: a broad scripted session is run with
//! no defect and with each defect alone, and the transcripts must differ. Defects that
//! only show on a transport (HTTP headers, stdout framing, process lifetime) are
//! checked by the transport tests instead.

use std::time::Duration;

use serde_json::{Value, json};

use crate::core_tests::T;
use crate::defects::TABLE;

/// Defects visible only on a transport; covered in `tests/`.
const TRANSPORT_ONLY: &[&str] = &[
    "stdout-banner",
    "ignore-stdin-close",
    "embedded-newline",
    // The encoding of stdout bytes: tests/conformance.rs (stdio/messages-utf8).
    "stdout-latin1",
    "session-id-not-ascii",
    "no-origin-check",
    "no-host-check",
    "unknown-session-accepted",
    "missing-session-accepted",
    "notification-not-202",
    "protocol-version-header-ignored",
    "delete-ignored",
    "wrong-content-type-header",
    "sse-no-endpoint-event",
    "header-mismatch-accepted",
    "session-id-predictable",
    "param-header-ignored",
    "sse-missing-priming-event",
    "get-stream-refused",
    "sse-stream-left-open",
    "sse-event-ids-restart",
    "protocol-version-header-required",
    "sse-wrong-event-name",
    "stateless-errors-http-200",
    "stateless-get-delete-served",
    "stateless-session-id-echoed",
    "base64-header-not-decoded",
    "resume-crosses-streams",
    "auth-no-www-authenticate",
    "auth-no-resource-metadata",
    "auth-metadata-no-authorization-servers",
    "auth-metadata-wrong-resource",
    "auth-any-token-accepted",
    "auth-wrong-audience-accepted",
    "auth-scope-ignored",
    "auth-malformed-header-accepted",
    "auth-no-authorization-server-metadata",
    "auth-challenge-without-scope",
];

enum Step {
    /// A request; wait for its response (answering client requests meanwhile).
    Req(Value),
    /// Anything else (notifications, garbage, batches); collect output briefly.
    Send(Value),
    Raw(&'static str),
    /// A request whose answer is not awaited.
    Fire(Value),
    Wait(u64),
}

fn req(id: i64, method: &str, params: Value) -> Step {
    Step::Req(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
}

fn note(method: &str, params: Value) -> Step {
    Step::Send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
}

fn call(id: i64, name: &str, args: Value) -> Step {
    req(id, "tools/call", json!({"name": name, "arguments": args}))
}

fn legacy_script(version: &str) -> Vec<Step> {
    let caps = json!({"sampling": {}, "roots": {"listChanged": true}, "elicitation": {"form": {}, "url": {}}});
    let mut s = vec![
        Step::Raw("this is not json"),
        Step::Send(json!({"jsonrpc": "1.0", "id": 1, "method": "ping"})),
        Step::Send(json!({"jsonrpc": "2.0", "id": null, "method": "ping"})),
        req(2, "ping", json!({})),
        req(3, "tools/list", json!({})),
        req(
            5,
            "initialize",
            json!({"protocolVersion": version, "capabilities": caps, "clientInfo": {"name": "t", "version": "1"}}),
        ),
        note("notifications/initialized", json!({})),
        note("notifications/roots/list_changed", json!({})),
        req(6, "ping", json!({})),
        req(7, "nope/nope", json!({})),
        req(8, "prompts/get", json!({})),
        // Request ids at the edges of what MCP allows, and malformed requests.
        req(0, "ping", json!({})),
        Step::Req(json!({"jsonrpc": "2.0", "id": "", "method": "ping"})),
        req(-1, "ping", json!({})),
        req(9_007_199_254_740_991, "ping", json!({})),
        Step::Send(json!({"jsonrpc": "2.0", "id": 1.5, "method": "ping"})),
        Step::Send(json!({"jsonrpc": "2.0", "id": 9, "method": "ping", "params": "x"})),
    ];
    // Lists, all pages.
    for (i, m) in [
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "prompts/list",
    ]
    .iter()
    .enumerate()
    {
        s.push(req(10 + i as i64, m, json!({})));
        for p in 1..4 {
            let list = match *m {
                "tools/list" => "tools",
                "resources/list" => "resources",
                "resources/templates/list" => "resource-templates",
                _ => "prompts",
            };
            s.push(req(
                100 + 10 * i as i64 + p,
                m,
                json!({"cursor": crate::pagination::encode(list, 4 * p as usize)}),
            ));
        }
        s.push(req(150 + i as i64, m, json!({"cursor": "bogus"})));
    }
    s.push(req(
        160,
        "tools/list",
        json!({"cursor": crate::pagination::encode("tools", 3)}),
    ));
    // Tools.
    let mut id = 200;
    let mut next = || {
        id += 1;
        id
    };
    for (name, args) in [
        ("test_simple_text", json!({})),
        ("test_image_content", json!({})),
        ("test_audio_content", json!({})),
        ("test_embedded_resource", json!({})),
        ("test_multiple_content_types", json!({})),
        ("test_tool_with_logging", json!({})),
        ("test_error_handling", json!({})),
        ("test_sampling", json!({"prompt": "p"})),
        ("test_elicitation", json!({"message": "m"})),
        ("test_url_elicitation_required", json!({})),
        ("json_schema_2020_12_tool", json!({"name": "n"})),
        ("echo", json!({"message": "hi"})),
        ("echo", json!({})),
        ("add", json!({"a": 1, "b": 2})),
        ("add", json!({"a": "x"})),
        ("get_resource_link", json!({})),
        ("list_roots", json!({})),
        ("no_such_tool", json!({})),
    ] {
        s.push(call(next(), name, args));
    }
    s.push(req(
        next(),
        "tools/call",
        json!({"name": "test_tool_with_progress", "_meta": {"progressToken": "pt"}}),
    ));
    s.push(req(
        next(),
        "tools/call",
        json!({"name": "test_tool_with_progress"}),
    ));
    s.push(req(
        next(),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "x"}, "_meta": {"progressToken": 9}}),
    ));
    // Logging levels.
    s.push(req(next(), "logging/setLevel", json!({"level": "warning"})));
    s.push(call(next(), "test_tool_with_logging", json!({})));
    s.push(req(
        next(),
        "logging/setLevel",
        json!({"level": "shouting"}),
    ));
    s.push(req(next(), "logging/setLevel", json!({"level": "debug"})));
    // Resources.
    for uri in [
        "test://static-text",
        "test://static-binary",
        "test://template/5/data",
        "test://missing",
    ] {
        s.push(req(next(), "resources/read", json!({"uri": uri})));
    }
    s.push(call(next(), "update_watched", json!({})));
    s.push(req(
        next(),
        "resources/subscribe",
        json!({"uri": "test://watched-resource"}),
    ));
    s.push(call(next(), "update_watched", json!({})));
    s.push(req(
        next(),
        "resources/unsubscribe",
        json!({"uri": "test://watched-resource"}),
    ));
    s.push(call(next(), "update_watched", json!({})));
    // Prompts.
    s.push(req(
        next(),
        "prompts/get",
        json!({"name": "test_simple_prompt"}),
    ));
    s.push(req(
        next(),
        "prompts/get",
        json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a"}}),
    ));
    s.push(req(
        next(),
        "prompts/get",
        json!({"name": "no_such_prompt"}),
    ));
    for (name, args) in [
        ("test_prompt_with_arguments", json!({"arg1": "a", "arg2": "b"})),
        ("test_prompt_with_embedded_resource", json!({"resourceUri": "test://static-text"})),
        ("test_prompt_with_image", json!({})),
    ] {
        s.push(req(next(), "prompts/get", json!({"name": name, "arguments": args})));
    }
    s.push(req(
        next(),
        "prompts/get",
        json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": 42, "arg2": "b"}}),
    ));
    s.push(req(next(), "tools/call", json!({"name": "test_simple_text", "arguments": "oops"})));
    for name in ["test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums"] {
        s.push(call(next(), name, json!({})));
    }
    // Completion.
    s.push(req(next(), "completion/complete", json!({"ref": {"type": "ref/resource", "uri": "test://template/{id}/data"}, "argument": {"name": "id", "value": ""}})));
    s.push(req(next(), "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "ru"}})));
    s.push(req(next(), "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "no_such_prompt"}, "argument": {"name": "x", "value": ""}})));
    s.push(req(next(), "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"}, "argument": {"name": "arg2", "value": ""}, "context": {"arguments": {"arg1": "alpha"}}})));
    // Batches.
    s.push(Step::Send(json!([{"jsonrpc": "2.0", "id": 900, "method": "ping"}, {"jsonrpc": "2.0", "id": 901, "method": "ping"}])));
    s.push(Step::Send(json!([{"jsonrpc": "2.0", "method": "notifications/mcp-conform-a"}, {"jsonrpc": "2.0", "method": "notifications/mcp-conform-b"}])));
    // Cancellation.
    s.push(Step::Fire(json!({"jsonrpc": "2.0", "id": 950, "method": "tools/call", "params": {"name": "slow", "arguments": {"ms": 3000}}})));
    s.push(Step::Wait(30));
    s.push(note("notifications/cancelled", json!({"requestId": 950})));
    s.push(Step::Wait(30));
    // Tasks (2025-11-25).
    s.push(req(
        960,
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "t"}, "task": {}}),
    ));
    s.push(req(961, "tools/call", json!({"name": "slow", "arguments": {"ms": 100}, "task": {}, "_meta": {"progressToken": "tk"}})));
    s.push(req(9611, "tasks/result", json!({"taskId": "$TASK"})));
    s.push(req(962, "tasks/list", json!({})));
    s.push(req(9621, "tasks/get", json!({"taskId": "$TASK"})));
    s.push(req(9622, "tasks/get", json!({"taskId": "mcp-conform-no-such-task"})));
    s.push(req(964, "tasks/cancel", json!({"taskId": "$TASK"})));
    s.push(req(
        965,
        "tools/call",
        json!({"name": "slow", "arguments": {"ms": 60}, "task": {}}),
    ));
    s.push(req(966, "tasks/result", json!({"taskId": "$TASK"})));
    s.push(req(963, "initialize", json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})));
    s
}

fn negotiation_script() -> Vec<Step> {
    vec![req(
        1,
        "initialize",
        json!({"protocolVersion": "1900-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    )]
}

fn no_capabilities_script() -> Vec<Step> {
    vec![
        req(
            1,
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        ),
        call(2, "test_sampling", json!({"prompt": "p"})),
        call(3, "test_elicitation", json!({"message": "m"})),
        call(4, "test_url_elicitation", json!({})),
        call(5, "list_roots", json!({})),
    ]
}

fn not_initialized_script() -> Vec<Step> {
    vec![
        req(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {"sampling": {}}, "clientInfo": {"name": "t", "version": "1"}}),
        ),
        call(2, "test_sampling", json!({"prompt": "p"})),
    ]
}

/// The tasks extension on 2026-07-28: with and without the extension declared.
fn tasks_script() -> Vec<Step> {
    let with = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}});
    let without = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    vec![
        req(
            1,
            "tools/call",
            json!({"_meta": without, "name": "slow_compute", "arguments": {"seconds": 0}}),
        ),
        req(2, "tasks/get", json!({"_meta": without, "taskId": "nope"})),
        req(
            3,
            "tools/call",
            json!({"_meta": with, "name": "slow_compute", "arguments": {"seconds": 0}}),
        ),
        Step::Wait(100),
        req(4, "tasks/get", json!({"_meta": with, "taskId": "$TASK"})),
        req(5, "tasks/cancel", json!({"_meta": with, "taskId": "$TASK"})),
        // Multi round-trip requests: an answer that is not a result object.
        req(
            6,
            "tools/call",
            json!({"_meta": without, "name": "test_input_required_result_elicitation", "inputResponses": {"user_name": 12345}}),
        ),
    ]
}

fn modern_script() -> Vec<Step> {
    let meta = |extra: Value| {
        let mut m = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"roots": {}}, "io.modelcontextprotocol/logLevel": "info"});
        if let Some(e) = extra.as_object() {
            for (k, v) in e {
                m[k] = v.clone();
            }
        }
        m
    };
    vec![
        req(1, "server/discover", json!({"_meta": meta(json!({}))})),
        req(2, "tools/list", json!({"_meta": meta(json!({}))})),
        req(
            3,
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {}}}),
        ),
        req(
            4,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "test_tool_with_logging"}),
        ),
        req(
            5,
            "tools/call",
            json!({"_meta": meta(json!({"io.modelcontextprotocol/logLevel": null})), "name": "test_simple_text"}),
        ),
        req(
            6,
            "tools/call",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}, "name": "test_tool_with_logging"}),
        ),
        req(
            7,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "test_sampling", "arguments": {"prompt": "p"}}),
        ),
        req(
            8,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "list_roots", "requestState": "forged", "inputResponses": {"roots": {"roots": []}}}),
        ),
        Step::Fire(
            json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen", "params": {"_meta": meta(json!({})), "notifications": {"resourceSubscriptions": ["test://watched-resource"]}}}),
        ),
        Step::Wait(20),
        req(
            9,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "update_watched"}),
        ),
        req(
            10,
            "resources/read",
            json!({"_meta": meta(json!({})), "uri": "test://nope"}),
        ),
        req(11, "ping", json!({"_meta": meta(json!({}))})),
        req(
            17,
            "tools/list",
            json!({"_meta": meta(json!({})), "cursor": crate::pagination::encode("tools", 12)}),
        ),
        req(
            15,
            "tools/call",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}, "name": "test_input_required_result_request_state"}),
        ),
        req(
            16,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "test_input_required_result_list_roots", "inputResponses": {"client_roots": 7}}),
        ),
        req(
            13,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "test_input_required_result_list_roots"}),
        ),
        req(
            14,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "test_input_required_result_list_roots",
                   "inputResponses": {"client_roots": {"roots": []}, "extra": {}}}),
        ),
        req(
            12,
            "server/discover",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}),
        ),
    ]
}

fn normalize(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in [
                "taskId",
                "requestState",
                "elicitationId",
                "url",
                "io.modelcontextprotocol/model-immediate-response",
            ] {
                if m.contains_key(k) {
                    m.insert(k.to_string(), json!("<varies>"));
                }
            }
            // Timestamps vary; their format does not.
            for k in ["createdAt", "lastUpdatedAt"] {
                if let Some(Value::String(s)) = m.get_mut(k) {
                    *s = s.chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect();
                }
            }
            if let Some(Value::String(s)) = m.get_mut("message")
                && s.starts_with("Task ")
            {
                *s = "<varies>".into();
            }
            if let Some(Value::String(s)) = m.get_mut("text")
                && (s.starts_with("test://watched-resource is now at revision")
                    || s.starts_with("Started task"))
            {
                *s = "<varies>".into();
            }
            m.values_mut().for_each(normalize);
        }
        Value::Array(a) => a.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// The transcript of the scripted sessions; with `reference`, stops at the first line
/// that differs from it.
async fn transcript(defects: &[&str], reference: Option<&[String]>) -> Vec<String> {
    let mut scripts: Vec<(String, Vec<Step>)> =
        ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
            .iter()
            .map(|v| (v.to_string(), legacy_script(v)))
            .collect();
    scripts.push(("negotiation".into(), negotiation_script()));
    scripts.push(("no-capabilities".into(), no_capabilities_script()));
    scripts.push(("not-initialized".into(), not_initialized_script()));
    scripts.push(("modern".into(), modern_script()));
    scripts.push(("tasks".into(), tasks_script()));
    // The scripts run concurrently, each on its own connection; their transcripts are
    // concatenated in script order.
    let runs = scripts.into_iter().map(|(label, script)| async move {
        let reference: Option<Vec<String>> = reference.map(|r| {
            r.iter()
                .filter(|l| l.starts_with(&format!("{label}: ")))
                .cloned()
                .collect()
        });
        run_script(defects, &label, script, reference.as_deref()).await
    });
    futures_util::future::join_all(runs).await.concat()
}

async fn run_script(
    defects: &[&str],
    label: &str,
    script: Vec<Step>,
    reference: Option<&[String]>,
) -> Vec<String> {
    let mut out = Vec::new();
    {
        let mut t = T::new(defects);
        let mut last_task = Value::Null;
        for step in script {
            let mut got = Vec::new();
            match step {
                Step::Req(mut m) => {
                    if m.pointer("/params/taskId") == Some(&json!("$TASK")) {
                        m["params"]["taskId"] = last_task.clone();
                    }
                    let id = m["id"].clone();
                    t.send(m);
                    // Collect until the response (or a string id for id-as-string).
                    loop {
                        let Some(msg) = t.nothing_within(2000).await else {
                            got.push(json!("<timeout>"));
                            break;
                        };
                        if let Some(method) = msg.get("method").and_then(Value::as_str) {
                            if msg.get("id").is_some() {
                                let answer = match method {
                                    "sampling/createMessage" => {
                                        json!({"role": "assistant", "content": {"type": "text", "text": "s"}, "model": "m"})
                                    }
                                    "elicitation/create" => {
                                        json!({"action": "accept", "content": {"username": "u", "email": "e@x.org"}})
                                    }
                                    _ => json!({"roots": [{"uri": "file:///r"}]}),
                                };
                                t.send(
                                    json!({"jsonrpc": "2.0", "id": msg["id"], "result": answer}),
                                );
                            }
                            got.push(msg);
                            continue;
                        }
                        if let Some(tid) = msg
                            .pointer("/result/task/taskId")
                            .or_else(|| msg.pointer("/result/taskId"))
                        {
                            last_task = tid.clone();
                        }
                        let done = msg.get("id") == Some(&id)
                            || msg
                                .get("id")
                                .is_some_and(|i| i.as_str() == Some(&id.to_string()));
                        got.push(msg);
                        if done {
                            break;
                        }
                    }
                }
                Step::Send(m) | Step::Fire(m) => {
                    t.send(m);
                    while let Some(m) = t.nothing_within(10).await {
                        got.push(m);
                    }
                }
                Step::Raw(text) => {
                    t.raw(text.as_bytes());
                    while let Some(m) = t.nothing_within(10).await {
                        got.push(m);
                    }
                }
                Step::Wait(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    while let Some(m) = t.nothing_within(5).await {
                        got.push(m);
                    }
                }
            }
            for mut m in got {
                normalize(&mut m);
                out.push(format!("{label}: {m}"));
                if let Some(r) = reference
                    && r.get(out.len() - 1) != out.last()
                {
                    t.conn.close();
                    return out;
                }
            }
        }
        t.conn.close();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_defect_changes_the_transcript() {
    let (clean, again) = tokio::join!(transcript(&[], None), transcript(&[], None));
    assert!(!clean.iter().any(|l| l.contains("<timeout>")), "{clean:#?}");
    if clean != again {
        let a: std::collections::BTreeSet<_> = clean.iter().collect();
        let b: std::collections::BTreeSet<_> = again.iter().collect();
        let only_a: Vec<_> = a.difference(&b).collect();
        let only_b: Vec<_> = b.difference(&a).collect();
        panic!(
            "the clean transcript must be deterministic:\n{only_a:#?}\nvs\n{only_b:#?}\n(lengths {} {})",
            clean.len(),
            again.len()
        );
    }
    let names: Vec<&str> = TABLE
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !TRANSPORT_ONLY.contains(n))
        .collect();
    let reference = &clean;
    let runs = names
        .iter()
        .map(|n| async move { (*n, transcript(&[n], Some(reference)).await) });
    let results = futures_util::future::join_all(runs).await;
    let unchanged: Vec<&str> = results
        .into_iter()
        .filter(|(_, t)| *t == clean)
        .map(|(n, _)| n)
        .collect();
    assert!(
        unchanged.is_empty(),
        "defects with no visible effect: {unchanged:?}"
    );
}

//! Validation throughput of `SchemaSet::validate_message` (messages per second).
//!
//! `cargo run --release --example schema_throughput [seconds]`
//!
//! Validates a fixed mix of realistic 2025-06-18 and 2026-07-28 messages (requests, results of
//! tools/list, tools/call, resources/read, notifications, errors; a quarter of them invalid), first
//! on one thread, then on every available core sharing one `SchemaSet`.

use mcp_conform::schema::{SchemaSet, Sender};
use mcp_conform::spec::ProtocolVersion;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn corpus() -> Vec<(ProtocolVersion, Value, Sender, Option<&'static str>)> {
    let v1 = ProtocolVersion::V2025_06_18;
    let v2 = ProtocolVersion::V2026_07_28;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"sampling": {}},
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"}
    });
    let tools: Vec<Value> = (0..20)
        .map(|i| json!({
            "name": format!("tool_{i}"), "title": "A tool", "description": "Does things",
            "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]},
            "annotations": {"readOnlyHint": true}
        }))
        .collect();
    let content = json!([
        {"type": "text", "text": "Sunny, 21°C"},
        {"type": "image", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "mimeType": "image/png"},
        {"type": "resource_link", "uri": "file:///forecast.json", "name": "forecast"}
    ]);
    vec![
        (
            v1,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "tool_1", "arguments": {"city": "Paris"}}}),
            Sender::Client,
            None,
        ),
        (
            v1,
            json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": tools}}),
            Sender::Server,
            Some("tools/list"),
        ),
        (
            v1,
            json!({"jsonrpc": "2.0", "id": 2, "result": {"content": content}}),
            Sender::Server,
            Some("tools/call"),
        ),
        (
            v1,
            json!({"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "image", "data": "AAAA"}]}}),
            Sender::Server,
            Some("tools/call"),
        ),
        (
            v1,
            json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 0.5}}),
            Sender::Server,
            None,
        ),
        (
            v1,
            json!({"jsonrpc": "2.0", "id": 4, "error": {"code": -32602, "message": "bad"}}),
            Sender::Server,
            Some("tools/call"),
        ),
        (
            v1,
            json!({"jsonrpc": "2.0", "id": 5, "result": {"contents": [{"uri": "file:///a", "text": "x"}]}}),
            Sender::Server,
            Some("resources/read"),
        ),
        (
            v1,
            json!({"jsonrpc": "2.0", "id": 6, "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "s"}}}),
            Sender::Server,
            Some("initialize"),
        ),
        (
            v2,
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {"_meta": meta}}),
            Sender::Client,
            None,
        ),
        (
            v2,
            json!({"jsonrpc": "2.0", "id": 7, "result": {"resultType": "complete", "ttlMs": 60000, "cacheScope": "public", "tools": tools}}),
            Sender::Server,
            Some("tools/list"),
        ),
        (
            v2,
            json!({"jsonrpc": "2.0", "id": 8, "result": {"resultType": "complete", "content": content}}),
            Sender::Server,
            Some("tools/call"),
        ),
        (
            v2,
            json!({"jsonrpc": "2.0", "id": 9, "result": {"content": content}}),
            Sender::Server,
            Some("tools/call"),
        ),
    ]
}

fn run(
    set: &SchemaSet,
    corpus: &[(ProtocolVersion, Value, Sender, Option<&'static str>)],
    budget: Duration,
) -> (u64, usize, Duration) {
    let start = Instant::now();
    let (mut messages, mut findings) = (0u64, 0usize);
    while start.elapsed() < budget {
        for (version, message, sender, method) in corpus {
            findings += set
                .validate_message(*version, message, *sender, *method)
                .len();
            messages += 1;
        }
    }
    (messages, findings, start.elapsed())
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    let set = SchemaSet::embedded().expect("schemas");
    let corpus = corpus();
    let t = Instant::now();
    assert!(set.compile_all().is_empty());
    println!(
        "compiled every definition of every version in {:?}",
        t.elapsed()
    );
    run(&set, &corpus, Duration::from_millis(200)); // warm up

    let (n, findings, elapsed) = run(&set, &corpus, budget);
    println!(
        "1 thread: {n} messages in {elapsed:.2?}: {:.0} messages/s ({findings} findings)",
        n as f64 / elapsed.as_secs_f64()
    );

    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| run(&set, &corpus, budget).0))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!(
        "{threads} threads sharing one SchemaSet: {total} messages: {:.0} messages/s",
        total as f64 / budget.as_secs_f64()
    );
}

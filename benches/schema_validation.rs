//! Schema validation throughput: messages per second through
//! `SchemaSet::validate_message`, over a mix of typical server messages.
//! `cargo bench --bench schema_validation`.

use mcp_conform::schema::{SchemaSet, Sender};
use mcp_conform::spec::ProtocolVersion;
use serde_json::json;
use std::time::Instant;

fn main() {
    let schemas = SchemaSet::embedded().expect("schemas load");
    let v = ProtocolVersion::V2025_11_25;
    let corpus = vec![
        (json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-11-25", "capabilities": {"tools": {"listChanged": true}}, "serverInfo": {"name": "s", "version": "1"}}}), Some("initialize")),
        (json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": [{"name": "echo", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}}]}}), Some("tools/list")),
        (json!({"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": "hello"}], "isError": false}}), Some("tools/call")),
        (json!({"jsonrpc": "2.0", "id": 4, "result": {"contents": [{"uri": "test://x", "mimeType": "text/plain", "text": "x"}]}}), Some("resources/read")),
        (json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "x"}}), None),
        (json!({"jsonrpc": "2.0", "id": 5, "error": {"code": -32601, "message": "Method not found"}}), Some("nope")),
    ];
    // Warm up: compile every validator once.
    for (m, method) in &corpus {
        schemas.validate_message(v, m, Sender::Server, *method);
    }
    let rounds = 20_000;
    let started = Instant::now();
    let mut findings = 0;
    for _ in 0..rounds {
        for (m, method) in &corpus {
            findings += schemas.validate_message(v, m, Sender::Server, *method).len();
        }
    }
    let n = rounds * corpus.len();
    let secs = started.elapsed().as_secs_f64();
    println!("schema_validation: {n} messages in {secs:.3} s: {:.0} messages/s ({findings} findings)", n as f64 / secs);
}

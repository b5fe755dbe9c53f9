//! Offline validation of a recorded trace: NDJSON, one JSON-RPC message per line, both
//! directions in one file. Each line is either a bare message, or a transcript-style
//! wrapper `{"dir": "out"|"in", "raw": "<message text>"}` (what our reports carry).
//!
//! Requests are paired with their responses by id, so a result is validated as the
//! result of its request's method. The direction of a bare message is inferred from
//! its method (or, for a response, from the request it answers). Pure: the caller
//! reads the file; this module never does IO.

use crate::schema::{SchemaSet, Sender};
use crate::spec::{ProtocolVersion, meta_key};
use crate::wire::{Kind, Message};
use serde_json::Value;
use std::collections::HashMap;

/// One problem on one line of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFinding {
    /// 1-based line number.
    pub line: usize,
    /// JSON pointer into the message (empty for the whole line).
    pub pointer: String,
    /// The rule broken: a schema keyword, or `json-rpc`, `json`, `version`.
    pub rule: String,
    pub message: String,
}

impl std::fmt::Display for TraceFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() { "(root)" } else { &self.pointer };
        write!(f, "line {}: {pointer}: [{}] {}", self.line, self.rule, self.message)
    }
}

/// Methods only a server sends; everything else named is taken as the client's.
const SERVER_METHODS: &[&str] = &[
    "sampling/createMessage",
    "roots/list",
    "elicitation/create",
    "notifications/message",
    "notifications/tools/list_changed",
    "notifications/prompts/list_changed",
    "notifications/resources/list_changed",
    "notifications/resources/updated",
    "notifications/elicitation/complete",
];

/// The protocol version a trace speaks, from its `initialize` exchange or a
/// stateless request's `_meta`.
pub fn detect_version(text: &str) -> Option<ProtocolVersion> {
    for line in text.lines() {
        let Some(msg) = parse_line(line).ok().flatten().and_then(|(_, m)| m.value) else { continue };
        let candidates = [
            msg.pointer("/result/protocolVersion"),
            msg.pointer("/params/protocolVersion"),
            msg.get("params").and_then(|p| p.get("_meta")).and_then(|m| m.get(meta_key::PROTOCOL_VERSION)),
        ];
        for c in candidates.into_iter().flatten() {
            if let Some(v) = c.as_str().and_then(|s| s.parse().ok()) {
                return Some(v);
            }
        }
    }
    None
}

/// Validate every line of `text` against `version`'s schema.
pub fn validate(text: &str, version: ProtocolVersion, schemas: &SchemaSet) -> Vec<TraceFinding> {
    let mut findings = Vec::new();
    // id (as JSON text) -> (method, sender of the request)
    let mut open: HashMap<String, (String, Sender)> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        let (dir, msg) = match parse_line(line) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => continue,
            Err(message) => {
                findings.push(TraceFinding { line: n, pointer: String::new(), rule: "json".into(), message });
                continue;
            }
        };
        let Some(value) = &msg.value else {
            let reason = match &msg.kind {
                Kind::Invalid { reason } => reason.clone(),
                _ => "unreadable".into(),
            };
            findings.push(TraceFinding { line: n, pointer: String::new(), rule: "json".into(), message: reason });
            continue;
        };
        let (sender, request_method) = match &msg.kind {
            Kind::Invalid { reason } => {
                findings.push(TraceFinding { line: n, pointer: String::new(), rule: "json-rpc".into(), message: reason.clone() });
                continue;
            }
            Kind::Batch => {
                findings.push(TraceFinding {
                    line: n,
                    pointer: String::new(),
                    rule: "json-rpc".into(),
                    message: "batches are not validated message by message; split them".into(),
                });
                continue;
            }
            Kind::Request { id, method } => {
                let sender = dir.unwrap_or_else(|| sender_of(method));
                open.insert(id.to_string(), (method.clone(), sender));
                (sender, None)
            }
            Kind::Notification { method } => (dir.unwrap_or_else(|| sender_of(method)), None),
            Kind::Response { id } | Kind::ErrorResponse { id, .. } => match open.remove(&id.to_string()) {
                Some((method, requester)) => (dir.unwrap_or(other(requester)), Some(method)),
                None => (dir.unwrap_or(Sender::Server), None),
            },
        };
        for f in schemas.validate_message(version, value, sender, request_method.as_deref()) {
            findings.push(TraceFinding {
                line: n,
                pointer: f.instance_path,
                rule: f.rule,
                message: format!("{} ({}; schema {})", f.message, f.definition, f.schema_path),
            });
        }
    }
    findings
}

fn sender_of(method: &str) -> Sender {
    if SERVER_METHODS.contains(&method) { Sender::Server } else { Sender::Client }
}

fn other(s: Sender) -> Sender {
    match s {
        Sender::Client => Sender::Server,
        Sender::Server => Sender::Client,
    }
}

/// A line: blank (None), a transcript wrapper, or a bare message. Wrapper entries
/// that are not messages (stderr, notes) are skipped.
fn parse_line(line: &str) -> Result<Option<(Option<Sender>, Message)>, String> {
    // (Err is kept for lines that cannot even be classified; none today.)
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let Ok(value) = serde_json::from_str::<Value>(trimmed) else {
        // Not JSON: classified Invalid with the parser's reason.
        return Ok(Some((None, Message::parse(trimmed.as_bytes().to_vec()))));
    };
    if let (Some(dir), Some(raw)) = (value.get("dir").and_then(Value::as_str), value.get("raw").and_then(Value::as_str)) {
        if value.get("jsonrpc").is_none() {
            let sender = match dir {
                "out" => Sender::Client,
                "in" => Sender::Server,
                _ => return Ok(None),
            };
            return Ok(Some((Some(sender), Message::parse(raw.as_bytes().to_vec()))));
        }
    }
    Ok(Some((None, Message::from_value(value))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_version_and_skips_notes() {
        let trace = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}}\n\n{\"dir\":\"note\",\"t_ms\":0,\"raw\":\"x\"}\n";
        assert_eq!(detect_version(trace), Some(ProtocolVersion::V2025_06_18));
        assert!(matches!(parse_line("{\"dir\":\"stderr\",\"raw\":\"boom\"}"), Ok(None)));
    }

    #[test]
    fn bad_json_lines_are_findings() {
        let schemas = SchemaSet::embedded().unwrap();
        let f = validate("{not json\n", ProtocolVersion::V2025_06_18, &schemas);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 1);
        assert_eq!(f[0].rule, "json");
    }
}

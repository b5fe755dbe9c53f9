//! Session-wide rules: judged on every server notification of every case, whatever
//! the case is about. They need state across messages (which progress tokens the
//! client sent, the last progress of each, the log level asked for, the capabilities
//! the server declared), so they live in `SessionRules`, fed by the engine.
//!
//! Pure: no IO, no waiting. Each rule returns findings with the spec's level.

use crate::spec::{Level, ProtocolVersion};
use crate::verdict::Finding;
use serde_json::Value;
use std::collections::BTreeMap;

const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

#[derive(Default)]
pub struct SessionRules {
    /// Progress tokens the client sent (as JSON text, so 1 and "1" differ), with the
    /// last progress value seen for each.
    progress: BTreeMap<String, Option<f64>>,
    /// The minimum level asked for with `logging/setLevel`.
    log_level: Option<usize>,
    /// The server's declared capabilities, once known.
    capabilities: Option<Value>,
}

impl SessionRules {
    /// Note what an outgoing request implies (a progress token, a log level).
    pub fn on_request_sent(&mut self, method: &str, params: Option<&Value>) {
        if let Some(token) = params.and_then(|p| p.pointer("/_meta/progressToken")) {
            self.progress.insert(token.to_string(), None);
        }
        if method == "logging/setLevel" {
            let level = params.and_then(|p| p.get("level")).and_then(Value::as_str);
            self.log_level = level.and_then(|l| LOG_LEVELS.iter().position(|x| *x == l));
        }
    }

    pub fn on_capabilities(&mut self, capabilities: &Value) {
        self.capabilities = Some(capabilities.clone());
    }

    /// Judge one notification from the server.
    pub fn on_notification(&mut self, version: ProtocolVersion, method: &str, params: &Value) -> Vec<Finding> {
        let mut out = Vec::new();
        match method {
            "notifications/progress" => self.progress_rules(params, &mut out),
            "notifications/message" => {
                if version < ProtocolVersion::V2026_07_28 {
                    self.require_capability("logging", method, &mut out);
                }
                let level = params.get("level").and_then(Value::as_str);
                let rank = level.and_then(|l| LOG_LEVELS.iter().position(|x| *x == l));
                if let (Some(min), Some(rank)) = (self.log_level, rank) {
                    if rank < min {
                        out.push(Finding::new(
                            Level::Should,
                            format!("a {} log message was sent although the client set the level to {}", level.unwrap_or("?"), LOG_LEVELS[min]),
                        ));
                    }
                }
            }
            "notifications/tools/list_changed" => self.require_capability("tools.listChanged", method, &mut out),
            "notifications/prompts/list_changed" => self.require_capability("prompts.listChanged", method, &mut out),
            "notifications/resources/list_changed" => self.require_capability("resources.listChanged", method, &mut out),
            "notifications/resources/updated" if version < ProtocolVersion::V2026_07_28 => {
                self.require_capability("resources.subscribe", method, &mut out)
            }
            _ => {}
        }
        out
    }

    fn progress_rules(&mut self, params: &Value, out: &mut Vec<Finding>) {
        let Some(token) = params.get("progressToken") else { return };
        let key = token.to_string();
        let Some(last) = self.progress.get_mut(&key) else {
            out.push(Finding::new(
                Level::Must,
                format!("a progress notification references token {key}, which the client never sent"),
            ));
            return;
        };
        if let Some(p) = params.get("progress").and_then(Value::as_f64) {
            if let Some(prev) = *last {
                if p <= prev {
                    out.push(Finding::new(
                        Level::Must,
                        format!("progress for token {key} went from {prev} to {p}: it MUST increase with each notification"),
                    ));
                }
            }
            *last = Some(p);
        }
    }

    fn require_capability(&self, path: &str, method: &str, out: &mut Vec<Finding>) {
        let Some(caps) = &self.capabilities else { return };
        let pointer = format!("/{}", path.replace('.', "/"));
        let declared = caps.pointer(&pointer).is_some_and(|v| !v.is_null() && v != &Value::Bool(false));
        if !declared {
            out.push(Finding::new(
                Level::Must,
                format!("the server sent {method} without declaring the `{path}` capability"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const V: ProtocolVersion = ProtocolVersion::V2025_11_25;

    #[test]
    fn progress_needs_a_known_token_and_increases() {
        let mut r = SessionRules::default();
        r.on_request_sent("tools/call", Some(&json!({"_meta": {"progressToken": "t1"}})));
        assert!(r.on_notification(V, "notifications/progress", &json!({"progressToken": "t1", "progress": 1})).is_empty());
        assert_eq!(r.on_notification(V, "notifications/progress", &json!({"progressToken": "t1", "progress": 1})).len(), 1);
        assert_eq!(r.on_notification(V, "notifications/progress", &json!({"progressToken": 7, "progress": 1})).len(), 1);
    }

    #[test]
    fn logging_needs_the_capability_and_honours_the_level() {
        let mut r = SessionRules::default();
        r.on_capabilities(&json!({"tools": {}}));
        assert_eq!(r.on_notification(V, "notifications/message", &json!({"level": "error", "data": 1})).len(), 1);
        r.on_capabilities(&json!({"logging": {}}));
        r.on_request_sent("logging/setLevel", Some(&json!({"level": "warning"})));
        assert!(r.on_notification(V, "notifications/message", &json!({"level": "error", "data": 1})).is_empty());
        let f = r.on_notification(V, "notifications/message", &json!({"level": "info", "data": 1}));
        assert_eq!(f[0].level, Level::Should);
        assert_eq!(r.on_notification(V, "notifications/tools/list_changed", &json!({})).len(), 1);
    }
}

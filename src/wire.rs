//! JSON-RPC 2.0 messages as they travel: raw bytes kept beside the parsed value,
//! and a classification that never repairs its input.
//!
//! Must never do IO, and never normalise a message: what the server sent is what
//! the checks see. A message that is not valid JSON-RPC is classified `Invalid` with
//! the reason, so the checks can report it instead of the harness dropping it.

use serde_json::{Map, Value};
use std::fmt;

/// A JSON-RPC request id, keeping its JSON type: `1` and `"1"` are different ids.
#[derive(Debug, Clone, PartialEq)]
pub enum Id {
    Number(serde_json::Number),
    String(String),
    Null,
}

impl Id {
    pub fn from_value(v: &Value) -> Option<Id> {
        match v {
            Value::Number(n) => Some(Id::Number(n.clone())),
            Value::String(s) => Some(Id::String(s.clone())),
            Value::Null => Some(Id::Null),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Id::Number(n) => Value::Number(n.clone()),
            Id::String(s) => Value::String(s.clone()),
            Id::Null => Value::Null,
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

/// What a received message is. Decided from the JSON alone, without context.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Request { id: Id, method: String },
    Notification { method: String },
    Response { id: Id },
    ErrorResponse { id: Id, code: Option<i64> },
    /// A JSON array: a batch (2025-03-26 only).
    Batch,
    /// Anything else, with the reason it is not a valid JSON-RPC message.
    Invalid { reason: String },
}

/// One message received or sent: the raw bytes and, when they parse, the value.
#[derive(Debug, Clone)]
pub struct Message {
    pub raw: Vec<u8>,
    pub value: Option<Value>,
    pub kind: Kind,
}

impl Message {
    /// Parse and classify raw bytes (one frame, without its line terminator).
    pub fn parse(raw: Vec<u8>) -> Message {
        let text = match std::str::from_utf8(&raw) {
            Ok(t) => t,
            Err(e) => {
                let reason = format!("not valid UTF-8 (at byte {})", e.valid_up_to());
                return Message { raw, value: None, kind: Kind::Invalid { reason } };
            }
        };
        match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                let kind = classify(&value);
                Message { raw, value: Some(value), kind }
            }
            Err(e) => {
                let reason = format!("not valid JSON: {e}");
                Message { raw, value: None, kind: Kind::Invalid { reason } }
            }
        }
    }

    pub fn from_value(value: Value) -> Message {
        let raw = serde_json::to_vec(&value).expect("a Value always serialises");
        let kind = classify(&value);
        Message { raw, value: Some(value), kind }
    }

    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    pub fn method(&self) -> Option<&str> {
        match &self.kind {
            Kind::Request { method, .. } | Kind::Notification { method } => Some(method),
            _ => None,
        }
    }

    /// The id of a response or error response.
    pub fn response_id(&self) -> Option<&Id> {
        match &self.kind {
            Kind::Response { id } | Kind::ErrorResponse { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn is_response(&self) -> bool {
        self.response_id().is_some()
    }
}

/// Classify a parsed value as a JSON-RPC 2.0 message. Strict: every deviation from
/// JSON-RPC 2.0 as MCP profiles it makes the message `Invalid`.
pub fn classify(value: &Value) -> Kind {
    let obj = match value {
        Value::Object(o) => o,
        Value::Array(_) => return Kind::Batch,
        other => return invalid(format!("a JSON-RPC message must be an object, got {}", type_name(other))),
    };
    match obj.get("jsonrpc") {
        Some(Value::String(s)) if s == "2.0" => {}
        Some(other) => return invalid(format!("\"jsonrpc\" must be \"2.0\", got {other}")),
        None => return invalid("missing \"jsonrpc\": \"2.0\"".into()),
    }
    let has_method = obj.contains_key("method");
    let has_result = obj.contains_key("result");
    let has_error = obj.contains_key("error");
    if has_method {
        if has_result || has_error {
            return invalid("a message has \"method\" together with \"result\" or \"error\"".into());
        }
        let method = match obj.get("method") {
            Some(Value::String(m)) => m.clone(),
            Some(other) => return invalid(format!("\"method\" must be a string, got {}", type_name(other))),
            None => unreachable!(),
        };
        if let Some(p) = obj.get("params") {
            if !p.is_object() && !p.is_array() {
                return invalid(format!("\"params\" must be an object, got {}", type_name(p)));
            }
        }
        return match obj.get("id") {
            None => Kind::Notification { method },
            Some(id) => match request_id(id) {
                Ok(id) => Kind::Request { id, method },
                Err(reason) => invalid(reason),
            },
        };
    }
    match (has_result, has_error) {
        (true, true) => invalid("a response has both \"result\" and \"error\"".into()),
        (false, false) => invalid("neither a request (no \"method\") nor a response (no \"result\" or \"error\")".into()),
        (true, false) => match response_id(obj) {
            Ok(Id::Null) => invalid("a result response must not have \"id\": null".into()),
            Ok(id) => Kind::Response { id },
            Err(reason) => invalid(reason),
        },
        (false, true) => {
            let id = match response_id(obj) {
                Ok(id) => id,
                Err(reason) => return invalid(reason),
            };
            match error_object_problem(obj.get("error").unwrap()) {
                Some(reason) => invalid(reason),
                None => {
                    let code = obj["error"].get("code").and_then(Value::as_i64);
                    Kind::ErrorResponse { id, code }
                }
            }
        }
    }
}

fn invalid(reason: String) -> Kind {
    Kind::Invalid { reason }
}

/// MCP requires request ids to be strings or integers, never null.
fn request_id(id: &Value) -> Result<Id, String> {
    match id {
        Value::String(_) => Ok(Id::from_value(id).unwrap()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Id::from_value(id).unwrap()),
        Value::Number(n) => Err(format!("request id must be a string or an integer, got {n}")),
        Value::Null => Err("request id must not be null".into()),
        other => Err(format!("request id must be a string or an integer, got {}", type_name(other))),
    }
}

fn response_id(obj: &Map<String, Value>) -> Result<Id, String> {
    match obj.get("id") {
        None => Err("a response must have an \"id\"".into()),
        Some(Value::Null) => Ok(Id::Null),
        Some(id) => request_id(id),
    }
}

fn error_object_problem(error: &Value) -> Option<String> {
    let Value::Object(e) = error else {
        return Some(format!("\"error\" must be an object, got {}", type_name(error)));
    };
    match e.get("code") {
        Some(Value::Number(n)) if n.is_i64() => {}
        Some(other) => return Some(format!("error \"code\" must be an integer, got {other}")),
        None => return Some("error object lacks \"code\"".into()),
    }
    match e.get("message") {
        Some(Value::String(_)) => None,
        Some(other) => Some(format!("error \"message\" must be a string, got {}", type_name(other))),
        None => Some("error object lacks \"message\"".into()),
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Kind {
        Message::parse(text.as_bytes().to_vec()).kind
    }

    fn is_invalid(text: &str) -> bool {
        matches!(kind(text), Kind::Invalid { .. })
    }

    #[test]
    fn classifies_valid_messages() {
        assert_eq!(
            kind(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Kind::Request { id: Id::Number(1.into()), method: "ping".into() }
        );
        assert_eq!(
            kind(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Kind::Notification { method: "notifications/initialized".into() }
        );
        assert_eq!(kind(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#), Kind::Response { id: Id::String("a".into()) });
        assert_eq!(
            kind(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#),
            Kind::ErrorResponse { id: Id::Null, code: Some(-32700) }
        );
        assert_eq!(kind(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#), Kind::Batch);
    }

    #[test]
    fn never_repairs_invalid_messages() {
        for bad in [
            "not json",
            r#"{"jsonrpc":"1.0","id":1,"result":{}}"#,
            r#"{"id":1,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-1}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#,
            "42",
        ] {
            assert!(is_invalid(bad), "{bad} should be invalid");
        }
        assert!(matches!(Message::parse(vec![0xff, 0xfe]).kind, Kind::Invalid { .. }));
    }

    #[test]
    fn ids_keep_their_type() {
        assert_ne!(Id::from_value(&serde_json::json!(1)), Id::from_value(&serde_json::json!("1")));
    }
}

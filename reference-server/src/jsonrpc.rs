//! JSON-RPC 2.0 framing: classifying incoming values and building outgoing messages.
//!
//! This module knows the shapes of JSON-RPC messages and the MCP restrictions on them
//! (ids are strings or integers, never null; params are objects). It must never do IO,
//! never look at method semantics, and never consult session state.

use serde_json::{Map, Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// Resource not found (2024-11-05 .. 2025-11-25).
pub const RESOURCE_NOT_FOUND: i64 = -32002;
/// URL elicitation required (2025-11-25).
pub const URL_ELICITATION_REQUIRED: i64 = -32042;
/// 2026-07-28: a header disagrees with the body.
pub const HEADER_MISMATCH: i64 = -32020;
/// 2026-07-28: the request needs a client capability that was not declared.
pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
/// 2026-07-28: the requested protocol version is not supported.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, message)
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_REQUEST, message)
    }
    pub fn method_not_found(method: &str) -> Self {
        RpcError::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }
    pub fn internal(message: impl Into<String>) -> Self {
        RpcError::new(INTERNAL_ERROR, message)
    }
}

/// What an incoming JSON value is.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    /// A response to a request the server sent: `Ok(result)` or `Err(error object)`.
    Response {
        id: Value,
        outcome: Result<Value, Value>,
    },
    /// Valid JSON but not a valid message; `id` is the request id if it could be read, else null.
    Invalid { id: Value, reason: String },
}

/// True for ids MCP allows: strings and integers.
pub fn valid_id(id: &Value) -> bool {
    match id {
        Value::String(_) => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

/// Classifies one (non-batch) JSON value.
pub fn classify(v: &Value) -> Incoming {
    let Some(obj) = v.as_object() else {
        return Incoming::Invalid {
            id: Value::Null,
            reason: "message is not a JSON object".into(),
        };
    };
    let readable_id = obj
        .get("id")
        .filter(|id| valid_id(id))
        .cloned()
        .unwrap_or(Value::Null);
    let invalid = |reason: &str| Incoming::Invalid {
        id: readable_id.clone(),
        reason: reason.to_string(),
    };
    match obj.get("jsonrpc") {
        Some(Value::String(s)) if s == "2.0" => {}
        Some(_) => return invalid("\"jsonrpc\" must be exactly \"2.0\""),
        None => return invalid("missing \"jsonrpc\": \"2.0\""),
    }
    if let Some(method) = obj.get("method") {
        let Some(method) = method.as_str() else {
            return invalid("\"method\" must be a string");
        };
        if obj.contains_key("result") || obj.contains_key("error") {
            return invalid("a request must not carry \"result\" or \"error\"");
        }
        let params = obj.get("params").cloned();
        if let Some(p) = &params
            && !p.is_object()
            && !p.is_array()
        {
            return invalid("\"params\" must be an object");
        }
        match obj.get("id") {
            None => Incoming::Notification {
                method: method.to_string(),
                params,
            },
            Some(Value::Null) => invalid("request id must not be null"),
            Some(id) if valid_id(id) => Incoming::Request {
                id: id.clone(),
                method: method.to_string(),
                params,
            },
            Some(_) => invalid("request id must be a string or an integer"),
        }
    } else if obj.contains_key("result") || obj.contains_key("error") {
        let id = match obj.get("id") {
            Some(id) if valid_id(id) => id.clone(),
            _ => return invalid("a response must carry a string or integer id"),
        };
        match (obj.get("result"), obj.get("error")) {
            (Some(r), None) => Incoming::Response {
                id,
                outcome: Ok(r.clone()),
            },
            (None, Some(e)) if e.is_object() => Incoming::Response {
                id,
                outcome: Err(e.clone()),
            },
            _ => invalid("a response must carry exactly one of \"result\" or an \"error\" object"),
        }
    } else {
        invalid("neither a request, a notification nor a response")
    }
}

/// A canonical key for an id: its JSON text, so `1` and `"1"` differ.
pub fn id_key(id: &Value) -> String {
    id.to_string()
}

pub fn request(id: Value, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

pub fn notification(method: &str, params: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("jsonrpc".into(), json!("2.0"));
    m.insert("method".into(), json!(method));
    if let Some(p) = params {
        m.insert("params".into(), p);
    }
    Value::Object(m)
}

pub fn success(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

pub fn error_object(e: &RpcError) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), json!(e.code));
    m.insert("message".into(), json!(e.message));
    if let Some(d) = &e.data {
        m.insert("data".into(), d.clone());
    }
    Value::Object(m)
}

pub fn failure(id: Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": error_object(e)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let cases: Vec<(Value, &str, Value)> = vec![
            (
                json!({"jsonrpc":"2.0","id":1,"method":"ping"}),
                "request",
                json!(1),
            ),
            (
                json!({"jsonrpc":"2.0","id":"a","method":"ping","params":{}}),
                "request",
                json!("a"),
            ),
            (
                json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
                "notification",
                Value::Null,
            ),
            (
                json!({"jsonrpc":"2.0","id":3,"result":{}}),
                "response",
                json!(3),
            ),
            (
                json!({"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"x"}}),
                "response",
                json!(3),
            ),
            (
                json!({"jsonrpc":"1.0","id":4,"method":"ping"}),
                "invalid",
                json!(4),
            ),
            (json!({"id":5,"method":"ping"}), "invalid", json!(5)),
            (
                json!({"jsonrpc":"2.0","id":6,"method":7}),
                "invalid",
                json!(6),
            ),
            (
                json!({"jsonrpc":"2.0","id":null,"method":"ping"}),
                "invalid",
                Value::Null,
            ),
            (
                json!({"jsonrpc":"2.0","id":{"a":1},"method":"ping"}),
                "invalid",
                Value::Null,
            ),
            (
                json!({"jsonrpc":"2.0","id":[1],"method":"ping"}),
                "invalid",
                Value::Null,
            ),
            (
                json!({"jsonrpc":"2.0","id":true,"method":"ping"}),
                "invalid",
                Value::Null,
            ),
            (
                json!({"jsonrpc":"2.0","id":1.5,"method":"ping"}),
                "invalid",
                Value::Null,
            ),
            (
                json!({"jsonrpc":"2.0","id":8,"method":"ping","params":"x"}),
                "invalid",
                json!(8),
            ),
            (json!("hello"), "invalid", Value::Null),
            (json!(42), "invalid", Value::Null),
            (json!({"jsonrpc":"2.0","id":9}), "invalid", json!(9)),
        ];
        for (input, kind, id) in cases {
            let got = classify(&input);
            let (k, got_id) = match &got {
                Incoming::Request { id, .. } => ("request", id.clone()),
                Incoming::Notification { .. } => ("notification", Value::Null),
                Incoming::Response { id, .. } => ("response", id.clone()),
                Incoming::Invalid { id, .. } => ("invalid", id.clone()),
            };
            assert_eq!((k, &got_id), (kind, &id), "input {input}");
        }
    }
}

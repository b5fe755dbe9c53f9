//! Synthesis of example instances from a JSON Schema: how the harness builds valid
//! arguments for a tool it discovered on an unknown server.
//!
//! Best effort and deterministic: required members only, the first of any choice,
//! `const`/`default`/`examples`/`enum` preferred, bounds respected. Must never do IO.

use serde_json::{Map, Value, json};

/// An instance that satisfies `schema` as far as this synthesiser understands it.
pub fn example_of(schema: &Value) -> Value {
    synth(schema, schema, 0)
}

fn synth(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    let Value::Object(s) = schema else {
        return json!({}); // `true` or an unusable schema: anything goes
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        if let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            return synth(target, root, depth + 1);
        }
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(d) = s.get("default") {
        return d.clone();
    }
    if let Some(Value::Array(ex)) = s.get("examples") {
        if let Some(first) = ex.first() {
            return first.clone();
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if let Some(first) = options.first() {
            return first.clone();
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = s.get(key) {
            if let Some(first) = options.iter().find(|o| o.get("type") != Some(&json!("null"))).or(options.first()) {
                return synth(first, root, depth + 1);
            }
        }
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(o) = synth(part, root, depth + 1) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ if s.contains_key("items") => "array",
        _ => "object",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let props = s.get("properties").and_then(Value::as_object);
            if let Some(Value::Array(required)) = s.get("required") {
                for name in required.iter().filter_map(Value::as_str) {
                    let sub = props.and_then(|p| p.get(name)).cloned().unwrap_or(json!({"type": "string"}));
                    out.insert(name.to_string(), synth(&sub, root, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let item = s.get("items").cloned().unwrap_or(json!({"type": "string"}));
            Value::Array((0..min.min(16)).map(|_| synth(&item, root, depth + 1)).collect())
        }
        "string" => Value::String(example_string(s)),
        "integer" => json!(number_in_bounds(s).round() as i64),
        "number" => json!(number_in_bounds(s)),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

fn example_string(s: &Map<String, Value>) -> String {
    let base = match s.get("format").and_then(Value::as_str) {
        Some("uri") | Some("uri-reference") | Some("url") => "https://example.com/".to_string(),
        Some("date-time") => "2025-01-01T00:00:00Z".to_string(),
        Some("date") => "2025-01-01".to_string(),
        Some("email") => "user@example.com".to_string(),
        Some("uuid") => "00000000-0000-4000-8000-000000000000".to_string(),
        _ => "example".to_string(),
    };
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = s.get("maxLength").and_then(Value::as_u64).map(|m| m as usize);
    let mut out = base;
    while out.chars().count() < min {
        out.push('x');
    }
    if let Some(max) = max {
        out = out.chars().take(max).collect();
    }
    out
}

fn number_in_bounds(s: &Map<String, Value>) -> f64 {
    let lo = s.get("minimum").and_then(Value::as_f64).or(s.get("exclusiveMinimum").and_then(Value::as_f64).map(|v| v + 1.0));
    let hi = s.get("maximum").and_then(Value::as_f64).or(s.get("exclusiveMaximum").and_then(Value::as_f64).map(|v| v - 1.0));
    match (lo, hi) {
        (Some(lo), _) => lo.max(1.0f64.min(hi.unwrap_or(f64::MAX))),
        (None, Some(hi)) => hi.min(1.0),
        (None, None) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_required_members_from_common_schemas() {
        let schema = json!({
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "count": {"type": "integer", "minimum": 3},
                "mode": {"enum": ["fast", "slow"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "point": {"$ref": "#/$defs/point"},
                "optional": {"type": "string"}
            },
            "required": ["message", "count", "mode", "tags", "point"],
            "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}}
        });
        assert_eq!(
            example_of(&schema),
            json!({"message": "example", "count": 3, "mode": "fast", "tags": ["example"], "point": {"x": 1.0}})
        );
        assert_eq!(example_of(&json!({"type": "object"})), json!({}));
        assert_eq!(example_of(&json!({"type": "string", "maxLength": 3})), json!("exa"));
    }
}

//! A small JSON Schema (2020-12 subset) validator for tool arguments.
//!
//! It understands the keywords the server's own tool schemas use: `type`, `properties`,
//! `required`, `additionalProperties`, `items`, `enum`, `const`, numeric and length
//! bounds, `$ref` into `$defs`/`definitions`, `allOf`/`anyOf`/`oneOf`, `if`/`then`/`else`. Unknown keywords
//! are ignored (annotations). It must never panic and never recurse without bound.

use serde_json::Value;

const MAX_DEPTH: usize = 32;

/// Validates `value` against `schema`; returns human-readable violations (empty: valid).
pub fn validate(value: &Value, schema: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, schema, "$", 0, &mut errors);
    errors
}

fn type_matches(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => match value {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        _ => true,
    }
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn check(
    value: &Value,
    schema: &Value,
    root: &Value,
    path: &str,
    depth: usize,
    errors: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        errors.push(format!("{path}: schema nesting too deep"));
        return;
    }
    let obj = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            errors.push(format!("{path}: no value is allowed here"));
            return;
        }
        Value::Object(o) => o,
        _ => return,
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        match resolve(root, r) {
            Some(target) => check(value, target, root, path, depth + 1, errors),
            None => errors.push(format!("{path}: unresolvable $ref {r}")),
        }
    }
    if let Some(t) = obj.get("type") {
        let ok = match t {
            Value::String(s) => type_matches(value, s),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|s| type_matches(value, s)),
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: expected type {t}, got {}", kind(value)));
            return;
        }
    }
    if let Some(e) = obj.get("enum").and_then(Value::as_array)
        && !e.contains(value)
    {
        errors.push(format!(
            "{path}: must be one of {}",
            Value::Array(e.clone())
        ));
    }
    if let Some(c) = obj.get("const")
        && c != value
    {
        errors.push(format!("{path}: must equal {c}"));
    }
    if let Some(n) = value.as_f64() {
        if let Some(m) = obj.get("minimum").and_then(Value::as_f64)
            && n < m
        {
            errors.push(format!("{path}: must be >= {m}"));
        }
        if let Some(m) = obj.get("maximum").and_then(Value::as_f64)
            && n > m
        {
            errors.push(format!("{path}: must be <= {m}"));
        }
        if let Some(m) = obj.get("exclusiveMinimum").and_then(Value::as_f64)
            && n <= m
        {
            errors.push(format!("{path}: must be > {m}"));
        }
        if let Some(m) = obj.get("exclusiveMaximum").and_then(Value::as_f64)
            && n >= m
        {
            errors.push(format!("{path}: must be < {m}"));
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        if let Some(m) = obj.get("minLength").and_then(Value::as_u64)
            && len < m
        {
            errors.push(format!("{path}: must have at least {m} characters"));
        }
        if let Some(m) = obj.get("maxLength").and_then(Value::as_u64)
            && len > m
        {
            errors.push(format!("{path}: must have at most {m} characters"));
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(item_schema) = obj.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(
                    item,
                    item_schema,
                    root,
                    &format!("{path}[{i}]"),
                    depth + 1,
                    errors,
                );
            }
        }
        if let Some(m) = obj.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < m
        {
            errors.push(format!("{path}: must have at least {m} items"));
        }
        if let Some(m) = obj.get("maxItems").and_then(Value::as_u64)
            && (items.len() as u64) > m
        {
            errors.push(format!("{path}: must have at most {m} items"));
        }
    }
    if let Some(map) = value.as_object() {
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(req) = obj.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    errors.push(format!("{path}: missing required property \"{r}\""));
                }
            }
        }
        for (k, v) in map {
            let sub = format!("{path}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(v, s, root, &sub, depth + 1, errors),
                None => match obj.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{path}: unexpected property \"{k}\""))
                    }
                    Some(s @ Value::Object(_)) => check(v, s, root, &sub, depth + 1, errors),
                    _ => {}
                },
            }
        }
    }
    if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(value, s, root, path, depth + 1, errors);
        }
    }
    // Conditional application: `then` when the value is valid against `if`, else `else`.
    if let Some(cond) = obj.get("if") {
        let mut e = Vec::new();
        check(value, cond, root, path, depth + 1, &mut e);
        let branch = if e.is_empty() {
            obj.get("then")
        } else {
            obj.get("else")
        };
        if let Some(b) = branch {
            check(value, b, root, path, depth + 1, errors);
        }
    }
    if let Some(any) = obj.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|s| {
            let mut e = Vec::new();
            check(value, s, root, path, depth + 1, &mut e);
            e.is_empty()
        })
    {
        errors.push(format!("{path}: matches none of anyOf"));
    }
    if let Some(one) = obj.get("oneOf").and_then(Value::as_array) {
        let n = one
            .iter()
            .filter(|s| {
                let mut e = Vec::new();
                check(value, s, root, path, depth + 1, &mut e);
                e.is_empty()
            })
            .count();
        if n != 1 {
            errors.push(format!(
                "{path}: must match exactly one of oneOf (matched {n})"
            ));
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table() {
        let schema = json!({
            "type": "object",
            "$defs": {"addr": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            "properties": {
                "a": {"type": "number"}, "n": {"type": "integer", "minimum": 1},
                "addr": {"$ref": "#/$defs/addr"}, "e": {"enum": ["x", "y"]}
            },
            "required": ["a"],
            "additionalProperties": false
        });
        let cases = [
            (json!({"a": 1}), true),
            (json!({"a": 1.5, "n": 2}), true),
            (json!({}), false),
            (json!({"a": "1"}), false),
            (json!({"a": 1, "n": 0}), false),
            (json!({"a": 1, "n": 1.5}), false),
            (json!({"a": 1, "zz": 1}), false),
            (json!({"a": 1, "addr": {"city": "X"}}), true),
            (json!({"a": 1, "addr": {}}), false),
            (json!({"a": 1, "e": "z"}), false),
            (json!([1]), false),
        ];
        for (v, ok) in cases {
            assert_eq!(
                validate(&v, &schema).is_empty(),
                ok,
                "{v}: {:?}",
                validate(&v, &schema)
            );
        }
    }

    #[test]
    fn conditional_keywords() {
        let schema = json!({
            "type": "object",
            "if": {"properties": {"via": {"const": "phone"}}, "required": ["via"]},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]}
        });
        for (v, ok) in [
            (json!({"via": "phone", "phone": "1"}), true),
            (json!({"via": "phone", "email": "e"}), false),
            (json!({"email": "e"}), true),
            (json!({"via": "email"}), false),
        ] {
            assert_eq!(validate(&v, &schema).is_empty(), ok, "{v}");
        }
    }

    #[test]
    fn self_referencing_schema_terminates() {
        let schema = json!({"$defs": {"x": {"$ref": "#/$defs/x"}}, "$ref": "#/$defs/x"});
        assert!(!validate(&json!(1), &schema).is_empty());
    }
}

//! Matchers: partial JSON matching and JSON-pointer assertions, as used by the
//! `expect` part of a case step. Every problem names the JSON pointer it is about.

use crate::case::Assertion;
use crate::wire::type_name;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// A case's regex, compiled once per run: the same patterns are checked in every
/// session, and compiling one costs more than most matches (the pattern text is the key;
/// at most 1,024 are kept, since substituted patterns may vary).
pub fn compiled(pattern: &str) -> Result<regex::Regex, regex::Error> {
    static CACHE: LazyLock<Mutex<HashMap<String, regex::Regex>>> = LazyLock::new(Default::default);
    if let Some(re) = CACHE.lock().unwrap_or_else(|p| p.into_inner()).get(pattern) {
        return Ok(re.clone());
    }
    let re = regex::Regex::new(pattern)?;
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() < 1024 {
        cache.insert(pattern.to_string(), re.clone());
    }
    Ok(re)
}

/// Partial match: every member of an expected object must be present and match;
/// arrays match element by element (same length); scalars by equality.
pub fn partial_match(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}/{}", escape(k));
                match a.get(k) {
                    Some(av) => partial_match(ev, av, &p, problems),
                    None => problems.push(format!("{p} is missing (expected {ev})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                problems.push(format!("{} has {} elements, expected {}", at(path), a.len(), e.len()));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                partial_match(ev, av, &format!("{path}/{i}"), problems);
            }
        }
        (e, a) if numbers_equal(e, a) => {}
        (e, a) if e == a => {}
        (e, a) => problems.push(format!("{} is {}, expected {e}", at(path), short(a))),
    }
}

/// Check one assertion against `root`; problems are appended.
pub fn check_assertion(a: &Assertion, root: &Value, base: &str, problems: &mut Vec<String>) {
    let full = format!("{base}{}", a.pointer);
    let found = root.pointer(&a.pointer);
    let before = problems.len();
    if let Some(should_exist) = a.exists {
        match (should_exist, found) {
            (true, None) => problems.push(format!("{} is missing", at(&full))),
            (false, Some(v)) => problems.push(format!("{} must be absent, got {}", at(&full), short(v))),
            _ => {}
        }
    }
    let needs_value = a.equals.is_some()
        || a.valid_against.is_some()
        || a.type_.is_some()
        || a.one_of.is_some()
        || a.regex.is_some()
        || a.min_items.is_some()
        || a.max_items.is_some()
        || a.each.is_some()
        || a.unique_by.is_some();
    let Some(v) = found else {
        if needs_value && a.exists != Some(false) && problems.len() == before {
            problems.push(format!("{} is missing", at(&full)));
        }
        return;
    };
    if let Some(e) = &a.equals {
        if !(e == v || numbers_equal(e, v)) {
            problems.push(format!("{} is {}, expected {e}", at(&full), short(v)));
        }
    }
    if let (Some(key), Some(items)) = (&a.unique_by, v.as_array()) {
        let mut seen: Vec<&Value> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(k) = item.pointer(key) else { continue };
            if seen.contains(&k) {
                problems.push(format!("{}/{i} repeats {} (elements must be unique by {})", at(&full), short(k), if key.is_empty() { "value" } else { key }));
            } else {
                seen.push(k);
            }
        }
    }
    if let Some(e) = &a.not_equals {
        if e == v || numbers_equal(e, v) {
            problems.push(format!("{} must not be {e}", at(&full)));
        }
    }
    if let Some(types) = &a.type_ {
        let names = types.names();
        let actual = type_name(v);
        let ok = names.iter().any(|n| *n == actual || (*n == "number" && actual == "integer"));
        if !ok {
            problems.push(format!("{} is {} ({}), expected {}", at(&full), actual, short(v), names.join(" or ")));
        }
    }
    if let Some(schema) = &a.valid_against {
        match jsonschema::validator_for(schema) {
            Ok(validator) => {
                for e in validator.iter_errors(v).take(5) {
                    problems.push(format!("{}{} does not satisfy the schema: {e}", at(&full), e.instance_path()));
                }
            }
            Err(e) => problems.push(format!("the schema for {} is not a valid JSON Schema: {e}", at(&full))),
        }
    }
    if let Some(options) = &a.one_of {
        if !options.iter().any(|o| o == v || numbers_equal(o, v)) {
            let list: Vec<String> = options.iter().map(Value::to_string).collect();
            problems.push(format!("{} is {}, expected one of {}", at(&full), short(v), list.join(", ")));
        }
    }
    if let Some(re) = &a.regex {
        match (v.as_str(), compiled(re)) {
            (Some(s), Ok(r)) if r.is_match(s) => {}
            (Some(s), Ok(_)) => problems.push(format!("{} is {s:?}, which does not match /{re}/", at(&full))),
            (None, _) => problems.push(format!("{} is {}, expected a string matching /{re}/", at(&full), type_name(v))),
            (_, Err(e)) => problems.push(format!("bad regex /{re}/: {e}")),
        }
    }
    if a.min_items.is_some() || a.max_items.is_some() || a.each.is_some() {
        let Some(items) = v.as_array() else {
            problems.push(format!("{} is {}, expected an array", at(&full), type_name(v)));
            return;
        };
        if let Some(min) = a.min_items {
            if items.len() < min {
                problems.push(format!("{} has {} items, expected at least {min}", at(&full), items.len()));
            }
        }
        if let Some(max) = a.max_items {
            if items.len() > max {
                problems.push(format!("{} has {} items, at most {max} allowed", at(&full), items.len()));
            }
        }
        if let Some(each) = &a.each {
            for (i, item) in items.iter().enumerate() {
                for inner in each {
                    check_assertion(inner, item, &format!("{full}/{i}"), problems);
                }
            }
        }
    }
    if problems.len() > before {
        if let Some(because) = &a.because {
            for p in &mut problems[before..] {
                p.push_str(&format!(" ({because})"));
            }
        }
    }
}

/// Whether every assertion holds for `value` (used to pick list elements).
pub fn satisfies(value: &Value, assertions: &[Assertion]) -> bool {
    let mut problems = Vec::new();
    for a in assertions {
        check_assertion(a, value, "", &mut problems);
    }
    problems.is_empty()
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => a.is_number() && b.is_number() && x == y,
        _ => false,
    }
}

fn at(path: &str) -> String {
    if path.is_empty() { "the message".into() } else { path.to_string() }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A value shortened for messages.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 { format!("{}…", s.chars().take(120).collect::<String>()) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assertion(v: Value) -> Assertion {
        serde_json::from_value(v).unwrap()
    }

    fn problems_of(a: Value, root: Value) -> Vec<String> {
        let mut p = Vec::new();
        check_assertion(&assertion(a), &root, "", &mut p);
        p
    }

    #[test]
    fn unique_by_names_the_repeated_element() {
        let list = json!({"items": [{"name": "a"}, {"name": "b"}, {"name": "a"}]});
        let p = problems_of(json!({"pointer": "/items", "unique_by": "/name"}), list);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("/items/2"), "{}", p[0]);
        assert!(problems_of(json!({"pointer": "/items", "unique_by": ""}), json!({"items": [1, 2]})).is_empty());
    }

    #[test]
    fn partial_match_reports_paths() {
        let mut p = Vec::new();
        partial_match(&json!({"id": null, "error": {"code": -32700}}), &json!({"id": 0, "error": {"code": -32700, "message": "x"}}), "", &mut p);
        assert_eq!(p, vec!["/id is 0, expected null"]);
        let mut p = Vec::new();
        partial_match(&json!({"result": {}}), &json!({"error": {}}), "", &mut p);
        assert_eq!(p, vec!["/result is missing (expected {})"]);
    }

    #[test]
    fn assertions() {
        let root = json!({"result": {"tools": [{"name": "a"}, {"name": 3}], "v": "2025-11-25", "n": 1}});
        assert!(problems_of(json!({"pointer": "/result/v", "equals": "2025-11-25"}), root.clone()).is_empty());
        assert!(problems_of(json!({"pointer": "/result/n", "equals": 1.0}), root.clone()).is_empty());
        assert_eq!(problems_of(json!({"pointer": "/result/x", "exists": true}), root.clone()), vec!["/result/x is missing"]);
        assert_eq!(
            problems_of(json!({"pointer": "/result/tools", "each": [{"pointer": "/name", "type": "string"}]}), root.clone()),
            vec!["/result/tools/1/name is integer (3), expected string"]
        );
        assert_eq!(problems_of(json!({"pointer": "/result/tools", "max_items": 1}), root.clone()).len(), 1);
        assert_eq!(problems_of(json!({"pointer": "/result/v", "regex": "^\\d{4}$"}), root.clone()).len(), 1);
        assert_eq!(problems_of(json!({"pointer": "/result/v", "one_of": ["a", "b"]}), root.clone()).len(), 1);
        assert!(problems_of(json!({"pointer": "/result/n", "type": "number"}), root.clone()).is_empty());
        assert!(problems_of(json!({"pointer": "/result/zz", "exists": false}), root.clone()).is_empty());
        assert!(satisfies(&json!({"a": 1}), &[assertion(json!({"pointer": "/b", "exists": false}))]));
        let schema = json!({"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]});
        assert!(problems_of(json!({"pointer": "/s", "valid_against": schema}), json!({"s": {"sum": 3}})).is_empty());
        assert_eq!(problems_of(json!({"pointer": "/s", "valid_against": schema}), json!({"s": {"total": 3}})).len(), 1);
    }
}

//! Generates `schemas/<version>/schema.json` from `schemas/src/` and fails when the
//! committed files are stale.
//!
//! Sources: `schemas/src/base.json` holds the 2024-11-05 definitions; every later version has
//! `schemas/src/<version>.json`, a list of changes (add / replace / remove whole definitions,
//! set / unset a member inside one) applied to the previous version's definitions, each with a
//! short `why` and a `spec` link.
//!
//! Regenerate: `MCP_CONFORM_BLESS=1 cargo test --test schema_generate`.

use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

const VERSIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];
const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Split `Name/properties/x` into JSON-pointer tokens (`~1` and `~0` unescaped).
fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn apply(
    defs: &mut Map<String, Value>,
    change: &Value,
    version: &str,
    index: usize,
) -> Result<(), String> {
    let ctx = |msg: String| format!("{version} change #{index}: {msg}");
    let obj = change
        .as_object()
        .ok_or_else(|| ctx("not an object".into()))?;
    if obj
        .get("why")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ctx("missing `why`".into()));
    }
    if !obj
        .get("spec")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("https://modelcontextprotocol.io/specification/"))
    {
        return Err(ctx(
            "missing `spec` link (https://modelcontextprotocol.io/specification/...)".into(),
        ));
    }
    for key in obj.keys() {
        if !["why", "spec", "add", "replace", "remove", "set", "unset"].contains(&key.as_str()) {
            return Err(ctx(format!("unknown key `{key}`")));
        }
    }
    let mut did = 0;
    if let Some(add) = obj.get("add") {
        for (name, schema) in add
            .as_object()
            .ok_or_else(|| ctx("`add` must be an object".into()))?
        {
            if defs.insert(name.clone(), schema.clone()).is_some() {
                return Err(ctx(format!("add: {name} already exists (use replace)")));
            }
        }
        did += 1;
    }
    if let Some(replace) = obj.get("replace") {
        for (name, schema) in replace
            .as_object()
            .ok_or_else(|| ctx("`replace` must be an object".into()))?
        {
            if defs.insert(name.clone(), schema.clone()).is_none() {
                return Err(ctx(format!("replace: {name} does not exist (use add)")));
            }
        }
        did += 1;
    }
    if let Some(remove) = obj.get("remove") {
        for name in remove
            .as_array()
            .ok_or_else(|| ctx("`remove` must be an array".into()))?
        {
            let name = name
                .as_str()
                .ok_or_else(|| ctx("remove: names are strings".into()))?;
            if defs.shift_remove(name).is_none() {
                return Err(ctx(format!("remove: {name} does not exist")));
            }
        }
        did += 1;
    }
    if let Some(set) = obj.get("set") {
        for (pointer, value) in set
            .as_object()
            .ok_or_else(|| ctx("`set` must be an object".into()))?
        {
            let toks = tokens(pointer);
            let (last, parents) = toks.split_last().unwrap();
            let mut cur = defs
                .get_mut(&parents[0])
                .ok_or_else(|| ctx(format!("set {pointer}: no definition {}", parents[0])))?;
            if parents.is_empty() {
                unreachable!()
            }
            for t in &parents[1..] {
                cur = cur
                    .get_mut(t.as_str())
                    .ok_or_else(|| ctx(format!("set {pointer}: no member {t}")))?;
            }
            let target = cur
                .as_object_mut()
                .ok_or_else(|| ctx(format!("set {pointer}: parent not an object")))?;
            target.insert(last.clone(), value.clone());
        }
        did += 1;
    }
    if let Some(unset) = obj.get("unset") {
        for pointer in unset
            .as_array()
            .ok_or_else(|| ctx("`unset` must be an array".into()))?
        {
            let pointer = pointer
                .as_str()
                .ok_or_else(|| ctx("unset: pointers are strings".into()))?;
            let toks = tokens(pointer);
            let (last, parents) = toks.split_last().unwrap();
            let mut cur = defs
                .get_mut(&parents[0])
                .ok_or_else(|| ctx(format!("unset {pointer}: no definition {}", parents[0])))?;
            for t in &parents[1..] {
                cur = cur
                    .get_mut(t.as_str())
                    .ok_or_else(|| ctx(format!("unset {pointer}: no member {t}")))?;
            }
            if cur
                .as_object_mut()
                .and_then(|o| o.shift_remove(last))
                .is_none()
            {
                return Err(ctx(format!("unset {pointer}: nothing there")));
            }
        }
        did += 1;
    }
    if did == 0 {
        return Err(ctx("no add/replace/remove/set/unset".into()));
    }
    Ok(())
}

/// Every `$ref` must point at something that exists.
fn check_refs(doc: &Value, node: &Value, at: &str, errors: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let target = r.strip_prefix('#').and_then(|p| doc.pointer(p));
                if target.is_none() {
                    errors.push(format!("{at}: dangling $ref {r}"));
                }
            }
            for (k, v) in map {
                check_refs(doc, v, &format!("{at}/{k}"), errors);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_refs(doc, v, &format!("{at}/{i}"), errors);
            }
        }
        _ => {}
    }
}

fn generate() -> Vec<(String, String)> {
    let src = root().join("src");
    let base = read_json(&src.join("base.json"));
    assert_eq!(base["version"], VERSIONS[0]);
    let mut defs = base["$defs"].as_object().expect("base.json $defs").clone();
    let mut out = Vec::new();
    for (i, version) in VERSIONS.iter().enumerate() {
        let spec = if i == 0 {
            base["spec"].clone()
        } else {
            let file = read_json(&src.join(format!("{version}.json")));
            assert_eq!(file["version"], *version, "{version}.json: version");
            assert_eq!(file["base"], VERSIONS[i - 1], "{version}.json: base");
            for (n, change) in file["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .enumerate()
            {
                apply(&mut defs, change, version, n).unwrap_or_else(|e| panic!("{e}"));
            }
            file["spec"].clone()
        };
        let mut sorted: Vec<_> = defs.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let sorted: Map<String, Value> = sorted
            .into_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let doc = json!({
            "$schema": DIALECT,
            "title": format!("Model Context Protocol {version} messages (mcp-conform)"),
            "$comment": format!(
                "GENERATED from schemas/src by tests/schema_generate.rs; do not edit. Spec: {}",
                spec.as_str().unwrap_or_default()
            ),
            "$defs": sorted,
        });
        let mut errors = Vec::new();
        check_refs(&doc, &doc, "", &mut errors);
        assert!(errors.is_empty(), "{version}: {errors:#?}");
        let mut text = serde_json::to_string_pretty(&doc).unwrap();
        text.push('\n');
        out.push((version.to_string(), text));
    }
    out
}

#[test]
fn generated_schemas_are_fresh() {
    let bless = std::env::var_os("MCP_CONFORM_BLESS").is_some();
    let mut stale = Vec::new();
    for (version, text) in generate() {
        let path = root().join(&version).join("schema.json");
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != text {
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
                eprintln!("wrote {}", path.display());
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated schemas are stale: {stale:?}\nregenerate with: MCP_CONFORM_BLESS=1 cargo test --test schema_generate"
    );
}

//! Validates what the server sends against the official schema.json of each version
//! (found in `$MCP_SPEC_SCHEMAS`, `../schemas`, or the shared spec folder; the test is
//! skipped when none is present).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::core_tests::T;

fn schema_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("MCP_SPEC_SCHEMAS").map(PathBuf::from),
        Some(manifest.join("../schemas")),
        Some(manifest.join("../../shared/spec-schemas")),
        Some(PathBuf::from("/work/shared/spec-schemas")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("2025-06-18/schema.json").is_file())
}

struct Schemas {
    root: Value,
    defs_key: &'static str,
}

impl Schemas {
    fn load(version: &str) -> Option<Schemas> {
        let text = std::fs::read_to_string(schema_dir()?.join(version).join("schema.json")).ok()?;
        let root: Value = serde_json::from_str(&text).ok()?;
        let defs_key = if root.get("$defs").is_some() {
            "$defs"
        } else {
            "definitions"
        };
        Some(Schemas { root, defs_key })
    }

    fn check(&self, def: &str, instance: &Value) -> Vec<String> {
        if self.root[self.defs_key].get(def).is_none() {
            return vec![format!("no definition {def}")];
        }
        let mut schema = self.root.clone();
        schema["$ref"] = json!(format!("#/{}/{def}", self.defs_key));
        let v = jsonschema::validator_for(&schema).expect("schema compiles");
        v.iter_errors(instance)
            .map(|e| format!("{def} at {}: {e}", e.instance_path()))
            .collect()
    }
}

fn result_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "initialize" => "InitializeResult",
        "tools/list" => "ListToolsResult",
        "tools/call" => "CallToolResult",
        "resources/list" => "ListResourcesResult",
        "resources/read" => "ReadResourceResult",
        "resources/templates/list" => "ListResourceTemplatesResult",
        "prompts/list" => "ListPromptsResult",
        "prompts/get" => "GetPromptResult",
        "completion/complete" => "CompleteResult",
        "server/discover" => "DiscoverResult",
        _ => return None,
    })
}

/// Every request the scripted session sends: (method, params).
fn script() -> Vec<(&'static str, Value)> {
    let mut s = vec![
        ("tools/list", json!({})),
        ("resources/list", json!({})),
        ("resources/templates/list", json!({})),
        ("prompts/list", json!({})),
        ("resources/read", json!({"uri": "test://static-text"})),
        ("resources/read", json!({"uri": "test://static-binary"})),
        ("resources/read", json!({"uri": "test://template/1/data"})),
        ("prompts/get", json!({"name": "test_simple_prompt"})),
        (
            "prompts/get",
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a", "arg2": "b"}}),
        ),
        (
            "prompts/get",
            json!({"name": "test_prompt_with_embedded_resource", "arguments": {"resourceUri": "test://static-text"}}),
        ),
        ("prompts/get", json!({"name": "test_prompt_with_image"})),
        (
            "prompts/get",
            json!({"name": "code_review", "arguments": {"language": "rust", "code": "fn main() {}"}}),
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "r"}}),
        ),
    ];
    for tool in [
        "test_simple_text",
        "test_image_content",
        "test_audio_content",
        "test_embedded_resource",
        "test_multiple_content_types",
        "test_tool_with_logging",
        "test_tool_with_progress",
        "test_error_handling",
        "get_resource_link",
        "update_watched",
    ] {
        s.push((
            "tools/call",
            json!({"name": tool, "_meta": {"progressToken": "p"}}),
        ));
    }
    s.push((
        "tools/call",
        json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
    ));
    s.push((
        "tools/call",
        json!({"name": "slow", "arguments": {"ms": 150}, "_meta": {"progressToken": 1}}),
    ));
    s
}

#[tokio::test]
async fn legacy_messages_match_the_official_schemas() {
    if schema_dir().is_none() {
        eprintln!("skipped: no spec schemas found");
        return;
    }
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let schemas = Schemas::load(version).expect("schema loads");
        assert!(
            !schemas
                .check("CallToolResult", &json!({"content": "x"}))
                .is_empty(),
            "the validator must bite"
        );
        let mut problems = Vec::new();
        let mut t = T::new(&[]);
        let init = json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}});
        let r = t.request("initialize", init).await;
        problems.extend(schemas.check("InitializeResult", &r["result"]));
        t.notify("notifications/initialized", None);
        t.result(
            "resources/subscribe",
            json!({"uri": "test://watched-resource"}),
        )
        .await;
        for (method, params) in script() {
            let is_audio =
                params["name"] == "test_audio_content" || params["name"] == "get_resource_link";
            let r = t.request(method, params.clone()).await;
            if is_audio && r.get("error").is_some() && version < "2025-06-18" {
                continue; // not offered in this version
            }
            match r.get("result") {
                Some(result) => {
                    if let Some(def) = result_def(method) {
                        problems.extend(
                            schemas
                                .check(def, result)
                                .into_iter()
                                .map(|p| format!("{method} {params}: {p}")),
                        );
                    }
                }
                None => problems.push(format!("{method} {params} failed: {r}")),
            }
        }
        for m in t.seen.drain(..) {
            problems.extend(
                schemas
                    .check("ServerNotification", &m)
                    .into_iter()
                    .map(|p| format!("{m}: {p}")),
            );
        }
        // An error response.
        let r = t.request("nope", json!({})).await;
        problems.extend(schemas.check("JSONRPCMessage", &r));
        assert!(problems.is_empty(), "{version}:\n{}", problems.join("\n"));
    }
}

fn modern_meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
        "io.modelcontextprotocol/logLevel": "debug"
    })
}

#[tokio::test]
async fn modern_messages_match_the_official_schema() {
    let Some(schemas) = Schemas::load("2026-07-28") else {
        eprintln!("skipped: no 2026-07-28 schema found");
        return;
    };
    assert!(
        !schemas
            .check("CallToolResult", &json!({"content": "x"}))
            .is_empty(),
        "the validator must bite"
    );
    assert!(
        !schemas
            .check("ListToolsResult", &json!({"tools": []}))
            .is_empty(),
        "resultType/ttlMs are required"
    );
    let mut problems = Vec::new();
    let mut t = T::new(&[]);
    let mut script = script();
    script.push(("server/discover", json!({})));
    for (method, mut params) in script {
        let mut meta = modern_meta(json!({"sampling": {}, "elicitation": {}, "roots": {}}));
        if let Some(token) = params.get("_meta").and_then(|m| m.get("progressToken")) {
            meta["progressToken"] = token.clone();
        }
        params["_meta"] = meta;
        let r = t.request(method, params.clone()).await;
        match r.get("result") {
            Some(result) => {
                if let Some(def) = result_def(method) {
                    problems.extend(
                        schemas
                            .check(def, result)
                            .into_iter()
                            .map(|p| format!("{method} {params}: {p}")),
                    );
                }
            }
            None => problems.push(format!("{method} {params} failed: {r}")),
        }
    }
    // Multi round-trip: an InputRequiredResult, then the retry.
    for (tool, args, key, answer) in [
        (
            "test_sampling",
            json!({"prompt": "hi"}),
            "sampling",
            json!({"role": "assistant", "content": {"type": "text", "text": "yo"}, "model": "m"}),
        ),
        (
            "test_elicitation",
            json!({"message": "who?"}),
            "elicitation",
            json!({"action": "accept", "content": {"username": "u", "email": "e@x.org"}}),
        ),
        (
            "list_roots",
            json!({}),
            "roots",
            json!({"roots": [{"uri": "file:///tmp"}]}),
        ),
    ] {
        let params = json!({"_meta": modern_meta(json!({"sampling": {}, "elicitation": {}, "roots": {}})), "name": tool, "arguments": args});
        let r = t.result("tools/call", params.clone()).await;
        assert_eq!(r["resultType"], "input_required", "{r}");
        problems.extend(schemas.check("InputRequiredResult", &r));
        let state = r["requestState"].clone();
        let mut retry = params.clone();
        retry["inputResponses"] = json!({key: answer});
        retry["requestState"] = state;
        let r = t.result("tools/call", retry).await;
        assert_eq!(r["resultType"], "complete", "{r}");
        assert!(r.get("isError").is_none(), "{tool}: {r}");
        problems.extend(schemas.check("CallToolResult", &r));
    }
    for m in t.seen.drain(..) {
        problems.extend(
            schemas
                .check("ServerNotification", &m)
                .into_iter()
                .map(|p| format!("{m}: {p}")),
        );
    }
    for (method, params) in [
        (
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {}}}),
        ),
        (
            "tools/call",
            json!({"_meta": modern_meta(json!({})), "name": "test_sampling", "arguments": {"prompt": "x"}}),
        ),
    ] {
        let r = t.request(method, params).await;
        problems.extend(schemas.check("JSONRPCMessage", &r));
        let def = if method == "tools/list" {
            "UnsupportedProtocolVersionError"
        } else {
            "MissingRequiredClientCapabilityError"
        };
        problems.extend(
            schemas
                .check(def, &r)
                .into_iter()
                .map(|p| format!("{r}: {p}")),
        );
    }
    assert!(problems.is_empty(), "2026-07-28:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn task_messages_match_the_2025_11_25_schema() {
    let Some(schemas) = Schemas::load("2025-11-25") else {
        eprintln!("skipped: no 2025-11-25 schema found");
        return;
    };
    let mut problems = Vec::new();
    let mut t = T::initialized("2025-11-25", &[]).await;
    let r = t
        .result(
            "tools/list",
            json!({"cursor": crate::pagination::encode("tools", 8)}),
        )
        .await;
    problems.extend(schemas.check("ListToolsResult", &r));
    let created = t.result("tools/call", json!({"name": "long_job", "arguments": {"ms": 20}, "task": {"ttl": 10000}, "_meta": {"progressToken": 1}})).await;
    problems.extend(schemas.check("CreateTaskResult", &created));
    let id = created["task"]["taskId"].clone();
    problems.extend(schemas.check(
        "GetTaskResult",
        &t.result("tasks/get", json!({"taskId": id})).await,
    ));
    problems.extend(schemas.check(
        "CallToolResult",
        &t.result("tasks/result", json!({"taskId": id})).await,
    ));
    problems.extend(schemas.check("ListTasksResult", &t.result("tasks/list", json!({})).await));
    let running = t
        .result(
            "tools/call",
            json!({"name": "slow", "arguments": {"ms": 5000}, "task": {}}),
        )
        .await;
    problems.extend(
        schemas.check(
            "CancelTaskResult",
            &t.result("tasks/cancel", json!({"taskId": running["task"]["taskId"]}))
                .await,
        ),
    );
    for m in t.seen.drain(..) {
        problems.extend(
            schemas
                .check("ServerNotification", &m)
                .into_iter()
                .map(|p| format!("{m}: {p}")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

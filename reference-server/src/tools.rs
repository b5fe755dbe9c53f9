//! Tools: the catalogue (per protocol version) and their real implementations.
//!
//! Includes the official conformance fixtures (`test_*`, `json_schema_2020_12_tool`)
//! plus tools that exercise structured output, cancellation, resource links,
//! server->client requests and list changes. Arguments are validated against each
//! tool's inputSchema before the tool runs. Tools only ever produce content types that
//! exist in the negotiated version. This module must never write to stdout/stderr
//! directly and never block the runtime (sleeping is `tokio::time::sleep`).

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::defects::Defect;
use crate::jsonrpc::{self, RpcError};
use crate::media;
use crate::pagination;
use crate::server::{ClientError, Ctx, Extra, LogLevel, Reply};
use crate::validate;
use crate::version::Version;

struct ToolDef {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    input_schema: Value,
    output_schema: Option<Value>,
    annotations: Option<Value>,
    /// 2025-11-25 `execution.taskSupport`: "optional" or "required" (None: forbidden).
    task_support: Option<&'static str>,
}

fn tool(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    input_schema: Value,
) -> ToolDef {
    ToolDef {
        name,
        title,
        description,
        input_schema,
        output_schema: None,
        annotations: None,
        task_support: None,
    }
}

fn no_args() -> Value {
    json!({"type": "object", "properties": {}})
}

fn read_only() -> Value {
    json!({"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false})
}

/// A small icon (the fixture PNG as a data: URI).
pub(crate) fn icon_list() -> Value {
    json!([{"src": format!("data:image/png;base64,{}", media::PNG_BASE64), "mimeType": "image/png", "sizes": ["16x16"]}])
}

fn run_query_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "description": "Where to run the query", "x-mcp-header": "Region"},
            "query": {"type": "string", "description": "The query text"},
            "options": {"type": "object", "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "x-mcp-header": "Limit"},
                "dryRun": {"type": "boolean", "x-mcp-header": "Dry-Run"}
            }}
        },
        "required": ["region", "query"]
    })
}

fn custom_header_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "description": "Region to route to", "x-mcp-header": "Region"},
            "query": {"type": "string", "description": "Free text"}
        },
        "required": ["region"]
    })
}

/// 2026-07-28 `x-mcp-header` annotations of a tool: (property path, header name).
pub(crate) fn mirrored_params(tool: &str) -> Vec<(Vec<String>, String)> {
    fn walk(schema: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (k, v) in props {
            path.push(k.clone());
            if let Some(h) = v.get("x-mcp-header").and_then(Value::as_str) {
                out.push((path.clone(), h.to_string()));
            }
            walk(v, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    match tool {
        "run_query" => walk(&run_query_schema(), &mut Vec::new(), &mut out),
        "test_custom_header" => walk(&custom_header_schema(), &mut Vec::new(), &mut out),
        _ => {}
    }
    out
}

/// The tools offered under `version` (modern: 2026-07-28 stateless), in a fixed order.
fn catalogue(ctx: &Ctx) -> Vec<ToolDef> {
    let v = ctx.version();
    let any_type = ctx.has(Defect::WrongContentType);
    let mut t = Vec::new();
    t.push(ToolDef {
        annotations: Some(read_only()),
        ..tool(
            "test_simple_text",
            "Simple text",
            "Returns a simple text content block",
            no_args(),
        )
    });
    // No side effects: safe for a harness to call.
    t.push(ToolDef { annotations: Some(read_only()), ..tool(
        "test_image_content",
        "Image content",
        "Returns a small PNG image content block",
        no_args(),
    ) });
    if v >= Version::V2025_03_26 || any_type {
        // No side effects: safe for a harness to call.
        t.push(ToolDef { annotations: Some(read_only()), ..tool(
            "test_audio_content",
            "Audio content",
            "Returns a short WAV audio content block",
            no_args(),
        ) });
    }
    // No side effects: safe for a harness to call.
    t.push(ToolDef { annotations: Some(read_only()), ..tool(
        "test_embedded_resource",
        "Embedded resource",
        "Returns an embedded text resource",
        no_args(),
    ) });
    // No side effects: safe for a harness to call.
    t.push(ToolDef { annotations: Some(read_only()), ..tool(
        "test_multiple_content_types",
        "Multiple content types",
        "Returns text, image and embedded resource content together",
        no_args(),
    ) });
    t.push(ToolDef {
        // No side effects on the server: safe for a harness to call.
        annotations: Some(read_only()),
        ..tool(
        "test_tool_with_logging",
        "Tool with logging",
        "Emits notifications/message log messages (debug, info, warning) while it runs",
        no_args(),
    )
    });
    t.push(ToolDef {
        // No side effects on the server: safe for a harness to call.
        annotations: Some(read_only()),
        ..tool(
        "test_tool_with_progress",
        "Tool with progress",
        "Emits notifications/progress (0, 50, 100 of 100) for the request's progressToken",
        no_args(),
    )
    });
    // No side effects: safe for a harness to call.
    t.push(ToolDef { annotations: Some(read_only()), ..tool(
        "test_error_handling",
        "Error handling",
        "Always fails with a tool execution error (isError: true)",
        no_args(),
    ) });
    t.push(ToolDef { annotations: Some(read_only()), task_support: Some("optional"), ..tool(
        "test_sampling",
        "Sampling",
        "Asks the client's LLM (sampling/createMessage) and returns its answer",
        json!({"type": "object", "properties": {"prompt": {"type": "string", "description": "The prompt to send"}}, "required": ["prompt"]}),
    )});
    if v >= Version::V2025_06_18 {
        t.push(ToolDef { annotations: Some(read_only()), task_support: Some("optional"), ..tool(
            "test_elicitation",
            "Elicitation",
            "Asks the user for a username and an email (elicitation/create, form mode)",
            json!({"type": "object", "properties": {"message": {"type": "string", "description": "The message shown to the user"}}, "required": ["message"]}),
        )});
    }
    if v >= Version::V2025_11_25 {
        t.push(tool(
            "test_elicitation_sep1034_defaults",
            "Elicitation with defaults",
            "Asks for a form whose fields (string, integer, number, enum, boolean) carry default values",
            no_args(),
        ));
        t.push(tool(
            "test_elicitation_sep1330_enums",
            "Elicitation with enums",
            "Asks for a form with every enum variant: untitled/titled single-select, legacy enumNames, untitled/titled multi-select",
            no_args(),
        ));
    }
    if v >= Version::V2025_11_25 {
        t.push(tool(
            "test_url_elicitation",
            "URL elicitation",
            "Asks the user to visit a URL (elicitation/create, url mode)",
            no_args(),
        ));
    }
    if v == Version::V2025_11_25 {
        t.push(tool(
            "test_url_elicitation_required",
            "URL elicitation required",
            "Needs an out-of-band authorization it never gets: fails with URLElicitationRequiredError (-32042)",
            no_args(),
        ));
    }
    let mut schema_tool = tool(
        "json_schema_2020_12_tool",
        "JSON Schema 2020-12",
        "Accepts arguments described by a JSON Schema 2020-12 inputSchema: $defs with an $anchor, $ref, allOf/anyOf, if/then/else",
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "$anchor": "addressDef",
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
                }
            },
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"},
                "email": {"type": "string"}
            },
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": false
        }),
    );
    if ctx.req.modern {
        // SEP-2106 (2026-07-28): any 2020-12 keyword may appear and is kept as authored.
        let s = &mut schema_tool.input_schema;
        s["$defs"]["address"]["$anchor"] = json!("address");
        s["allOf"] = json!([{"anyOf": [{"required": ["name"]}, {"required": ["address"]}]}]);
        s["if"] = json!({"required": ["address"]});
        s["then"] = json!({"properties": {"address": {"required": ["city"]}}});
        s["else"] = json!({"required": ["name"]});
    }
    t.push(schema_tool);
    t.push(ToolDef {
        annotations: Some(read_only()),
        ..tool(
            "echo",
            "Echo",
            "Returns its message unchanged",
            json!({"type": "object", "properties": {"message": {"type": "string", "description": "Text to echo"}}, "required": ["message"]}),
        )
    });
    t.push(ToolDef {
        output_schema: (v >= Version::V2025_06_18)
            .then(|| json!({"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]})),
        annotations: Some(read_only()),
        ..tool(
            "add",
            "Add",
            "Adds two numbers; returns structured content {sum}",
            json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}),
        )
    });
    t.push(ToolDef {
        annotations: Some(json!({"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false})),
        task_support: Some("optional"),
        ..tool(
            "slow",
            "Slow",
            "Sleeps for ms milliseconds (default 100, at most 60000), reporting progress; cancellable",
            json!({"type": "object", "properties": {"ms": {"type": "integer", "minimum": 0, "maximum": 60000}}}),
        )
    });
    if v == Version::V2025_11_25 && !ctx.req.modern {
        t.push(tool(
            "test_reconnection",
            "Reconnection",
            "Over Streamable HTTP the server closes this call's SSE connection right after priming it; the answer (after 200 ms) is fetched by reconnecting with Last-Event-ID",
            no_args(),
        ));
        t.push(ToolDef {
            task_support: Some("required"),
            ..tool(
                "long_job",
                "Long job",
                "Works for ms milliseconds (default 500) as a task; must be called with task augmentation",
                json!({"type": "object", "properties": {"ms": {"type": "integer", "minimum": 0, "maximum": 60000}}}),
            )
        });
    }
    if v >= Version::V2025_06_18 || any_type {
        // No side effects: safe for a harness to call.
        t.push(ToolDef { annotations: Some(read_only()), ..tool(
            "get_resource_link",
            "Resource link",
            "Returns a resource_link to test://static-text",
            no_args(),
        ) });
    }
    t.push(ToolDef {
        // No side effects on the server: safe for a harness to call.
        annotations: Some(read_only()),
        ..tool(
        "list_roots",
        "List roots",
        "Asks the client for its roots (roots/list) and lists them",
        no_args(),
    )
    });
    t.push(ToolDef {
        annotations: Some(json!({"readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": false})),
        ..tool(
            "update_watched",
            "Update watched resource",
            "Changes test://watched-resource, notifying subscribers",
            no_args(),
        )
    });
    if ctx.req.modern {
        for (name, title, description) in [
            (
                "test_input_required_result_elicitation",
                "MRTR: elicitation",
                "Asks the user's name through an InputRequiredResult (key user_name)",
            ),
            (
                "test_input_required_result_sampling",
                "MRTR: sampling",
                "Asks the client's LLM through an InputRequiredResult (key capital_question)",
            ),
            (
                "test_input_required_result_list_roots",
                "MRTR: roots",
                "Asks for the client's roots through an InputRequiredResult (key client_roots)",
            ),
            (
                "test_input_required_result_request_state",
                "MRTR: request state",
                "Round-trips an integrity-checked requestState (key confirm)",
            ),
            (
                "test_input_required_result_multiple_inputs",
                "MRTR: multiple inputs",
                "Asks for an elicitation, a sampling and the roots at once",
            ),
            (
                "test_input_required_result_multi_round",
                "MRTR: multi-round",
                "Needs two rounds of input (step1, then step2), with an evolving requestState",
            ),
            (
                "test_input_required_result_tampered_state",
                "MRTR: tampered state",
                "Rejects a requestState that was modified (key confirm)",
            ),
            (
                "test_input_required_result_capabilities",
                "MRTR: capabilities",
                "Asks only for the input kinds the client declared",
            ),
            (
                "test_missing_capability",
                "Missing capability",
                "Needs the sampling capability; refused with -32021 when it is not declared",
            ),
            (
                "test_streaming_elicitation",
                "Streaming elicitation",
                "Needs a confirmation: answered with an InputRequiredResult, never a request on the stream",
            ),
            (
                "test_logging_tool",
                "Logging tool",
                "Logs at info, but only for requests that carry a log level in _meta",
            ),
            (
                "test_trigger_tool_change",
                "Trigger tool change",
                "Changes the tool list (extra_tool) and publishes tools/list_changed to listen streams",
            ),
            (
                "test_trigger_prompt_change",
                "Trigger prompt change",
                "Changes the prompt list (extra_prompt) and publishes prompts/list_changed to listen streams",
            ),
        ] {
            t.push(tool(name, title, description, no_args()));
        }
        t.push(tool(
            "test_custom_header",
            "Custom header",
            "Mirrors its region argument into the Mcp-Param-Region header over HTTP",
            custom_header_schema(),
        ));
        // The tasks extension's fixtures (io.modelcontextprotocol/tasks).
        t.push(ToolDef { annotations: Some(read_only()), ..tool(
            "greet",
            "Greet",
            "Greets by name, synchronously (never a task)",
            json!({"type": "object", "properties": {"name": {"type": "string", "description": "Who to greet"}}, "required": ["name"]}),
        )});
        t.push(ToolDef { annotations: Some(read_only()), ..tool(
            "slow_compute",
            "Slow compute (task)",
            "Computes for `seconds` seconds; a task for clients with the tasks extension, synchronous otherwise; cancellable",
            json!({"type": "object", "properties": {
                "seconds": {"type": "number", "minimum": 0, "maximum": 600, "description": "How long to compute (default 0.1)"},
                "label": {"type": "string", "description": "A label echoed in the result"}
            }}),
        )});
        for (name, title, description) in [
            ("failing_job", "Failing job (task)", "Needs the tasks extension; after about a second it reports a tool execution error (completed, isError)"),
            ("protocol_error_job", "Protocol error job (task)", "A task (with the tasks extension) or a call that fails with a JSON-RPC internal error (the task ends failed)"),
            ("multi_input", "Multiple inputs (task)", "Needs the tasks extension; asks for a name and a confirmation at once (two inputRequests)"),
            ("test_tool_with_task", "Input, then a task", "Needs the tasks extension; asks the user's name through an InputRequiredResult (user_name), then runs as a task"),
        ] {
            t.push(tool(name, title, description, no_args()));
        }
        t.push(tool(
            "confirm_delete",
            "Confirm delete (task)",
            "Needs the tasks extension; asks for a confirmation (an elicitation in inputRequests) before it (pretends to) delete the file",
            json!({"type": "object", "properties": {"filename": {"type": "string", "description": "The file to delete"}}}),
        ));
        t.push(ToolDef { annotations: Some(read_only()), ..tool(
            "run_query",
            "Run query",
            "Runs a (simulated) query in a region; region and limit are mirrored into Mcp-Param-* headers over HTTP",
            run_query_schema(),
        )});
    }
    for (name, title, description) in [
        (
            "toggle_extra_tool",
            "Toggle extra tool",
            "Adds or removes the tool extra_tool and announces tools/list_changed",
        ),
        (
            "toggle_extra_prompt",
            "Toggle extra prompt",
            "Adds or removes the prompt extra_prompt and announces prompts/list_changed",
        ),
        (
            "toggle_extra_resource",
            "Toggle extra resource",
            "Adds or removes test://extra-resource and announces resources/list_changed",
        ),
    ] {
        t.push(tool(name, title, description, no_args()));
    }
    if ctx.extra_enabled(Extra::Tool) {
        t.push(tool(
            "extra_tool",
            "Extra tool",
            "A tool that exists only while toggled on",
            no_args(),
        ));
    }
    t
}

fn tool_json(ctx: &Ctx, d: &ToolDef) -> Value {
    let v = ctx.version();
    let mut m = Map::new();
    m.insert("name".into(), json!(d.name));
    if v >= Version::V2025_06_18 {
        m.insert("title".into(), json!(d.title));
    }
    m.insert("description".into(), json!(d.description));
    m.insert("inputSchema".into(), d.input_schema.clone());
    if let (Some(o), true) = (&d.output_schema, v >= Version::V2025_06_18) {
        let o = if ctx.has(Defect::OutputSchemaNotObject) {
            // The bug: the schema of a list of results, where MCP wants an object schema.
            json!({"type": "array", "items": o})
        } else {
            o.clone()
        };
        m.insert("outputSchema".into(), o);
    }
    if let (Some(a), true) = (&d.annotations, v >= Version::V2025_03_26) {
        m.insert("annotations".into(), a.clone());
    }
    if v >= Version::V2025_11_25 {
        let mut icons = icon_list();
        if ctx.has(Defect::IconMissingSrc) {
            for icon in icons.as_array_mut().into_iter().flatten() {
                if let Some(o) = icon.as_object_mut() {
                    o.remove("src");
                }
            }
        }
        m.insert("icons".into(), icons);
    }
    if let (Some(ts), true) = (d.task_support, v == Version::V2025_11_25 && !ctx.req.modern) {
        m.insert("execution".into(), json!({"taskSupport": ts}));
    }
    Value::Object(m)
}

pub(crate) fn list(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let mut items: Vec<Value> = catalogue(ctx).iter().map(|d| tool_json(ctx, d)).collect();
    if ctx.has(Defect::JsonSchema2106KeywordsStripped) {
        for item in &mut items {
            if item["name"] == "json_schema_2020_12_tool"
                && let Some(schema) = item.get_mut("inputSchema").and_then(Value::as_object_mut)
            {
                for k in ["allOf", "if", "then", "else"] {
                    schema.remove(k);
                }
                if let Some(a) = schema.get_mut("$defs").and_then(|d| d.get_mut("address")).and_then(Value::as_object_mut) {
                    a.remove("$anchor");
                }
            }
        }
    }
    if ctx.has(Defect::JsonSchemaKeywordsStripped) {
        for item in &mut items {
            if item["name"] == "json_schema_2020_12_tool"
                && let Some(schema) = item.get_mut("inputSchema").and_then(Value::as_object_mut)
            {
                for k in ["$schema", "$defs", "additionalProperties"] {
                    schema.remove(k);
                }
            }
        }
    }
    if ctx.has(Defect::ToolNameInvalid) {
        if let Some(first) = items.first_mut().and_then(Value::as_object_mut) {
            first.insert("name".into(), json!("bad tool name!"));
        }
    }
    if ctx.has(Defect::ToolsListBadSchema)
        && let Some(first) = items.first_mut().and_then(Value::as_object_mut)
    {
        first.remove("inputSchema");
    }
    pagination::page(ctx, "tools", "tools", items, params)
}

/// What a tool produced.
struct ToolOut {
    content: Vec<Value>,
    structured: Option<Value>,
    is_error: bool,
}

impl ToolOut {
    fn text(s: impl Into<String>) -> Self {
        ToolOut {
            content: vec![text(s)],
            structured: None,
            is_error: false,
        }
    }
    fn error(s: impl Into<String>) -> Self {
        ToolOut {
            content: vec![text(s)],
            structured: None,
            is_error: true,
        }
    }
}

/// Why a tool stopped without producing a result of its own.
enum Stop {
    Rpc(RpcError),
    Client(ClientError),
}

impl From<ClientError> for Stop {
    fn from(e: ClientError) -> Self {
        Stop::Client(e)
    }
}

impl From<RpcError> for Stop {
    fn from(e: RpcError) -> Self {
        Stop::Rpc(e)
    }
}

fn text(s: impl Into<String>) -> Value {
    json!({"type": "text", "text": s.into()})
}

fn image() -> Value {
    json!({"type": "image", "data": media::PNG_BASE64, "mimeType": "image/png"})
}

pub(crate) fn call(ctx: &Ctx, params: Map<String, Value>) -> Reply {
    let name = match params.get("name") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Reply::Now(Err(RpcError::invalid_params(
                "tools/call: name (string) is required",
            )));
        }
    };
    let args = match params.get("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        // The bug: a lenient parser that drops arguments it cannot read as an object.
        Some(_) if ctx.has(Defect::ToolArgumentsNotObjectAccepted) => Map::new(),
        Some(_) => {
            return Reply::Now(Err(RpcError::invalid_params(
                "tools/call: arguments must be an object",
            )));
        }
    };
    let defs = catalogue(ctx);
    let Some(def) = defs.iter().find(|d| d.name == name) else {
        let r = if ctx.has(Defect::UnknownToolSucceeds) {
            Ok(json!({"content": [text("ok")]}))
        } else if ctx.has(Defect::UnknownToolIsError) {
            Ok(json!({"content": [text(format!("Unknown tool: {name}"))], "isError": true}))
        } else {
            Err(RpcError::invalid_params(format!("Unknown tool: {name}")))
        };
        return Reply::Now(r);
    };
    if !ctx.has(Defect::InvalidArgsAccepted) {
        let errors = validate::validate(&Value::Object(args.clone()), &def.input_schema);
        if !errors.is_empty() {
            let msg = format!("Invalid arguments for tool {name}: {}", errors.join("; "));
            // 2025-11-25 and later report input validation errors as tool execution
            // errors; earlier versions list invalid arguments among protocol errors.
            let r = if ctx.version() >= Version::V2025_11_25 {
                Ok(finish(ctx, ToolOut::error(msg)))
            } else {
                Err(RpcError::invalid_params(msg))
            };
            return Reply::Now(r);
        }
    }
    if ctx.req.modern
        && let Some(support) = crate::ext_tasks::support(&name)
    {
        let declared =
            crate::ext_tasks::declared(ctx) || ctx.has(Defect::TaskForUndeclaredClient);
        if name == "test_tool_with_task" && declared {
            return Reply::Later(Box::pin(crate::ext_tasks::mrtr_then_task(
                ctx.clone(),
                args,
            )));
        }
        if declared {
            return Reply::Now(crate::ext_tasks::create(ctx, |task| {
                crate::ext_tasks::work(&name, &args, task)
            }));
        }
        if support == crate::ext_tasks::Support::Required {
            return Reply::Now(Err(crate::ext_tasks::missing_capability()));
        }
    }
    if crate::tasks::enabled(ctx) {
        let wants_task = params.get("task").is_some_and(Value::is_object);
        match (wants_task, def.task_support) {
            (true, None) if !ctx.has(Defect::TaskSupportIgnored) => {
                return Reply::Now(Err(RpcError::method_not_found(&format!(
                    "tools/call of {name} as a task: the tool does not support task-augmented execution"
                ))));
            }
            (false, Some("required")) => {
                return Reply::Now(Err(RpcError::method_not_found(&format!(
                    "tools/call of {name} without a task: the tool requires task-augmented execution"
                ))));
            }
            (true, _) => {
                let ttl = params
                    .get("task")
                    .and_then(|t| t.get("ttl"))
                    .and_then(Value::as_u64);
                let task_id = if ctx.has(Defect::TaskIdsRepeat) {
                    format!("task-{name}")
                } else {
                    crate::random_token(12)
                };
                let mut req = (*ctx.req).clone();
                req.related_task = Some(task_id.clone());
                let task_ctx = Ctx {
                    conn: ctx.conn.clone(),
                    req: std::sync::Arc::new(req),
                };
                let work = Box::pin(execute(task_ctx, name, args));
                return Reply::Now(crate::tasks::create(ctx, task_id, ttl, work));
            }
            _ => {}
        }
    }
    Reply::Later(Box::pin(execute(ctx.clone(), name, args)))
}

/// Runs a tool and shapes its result (or error).
async fn execute(ctx: Ctx, name: String, args: Map<String, Value>) -> Result<Value, RpcError> {
    {
        match run(&ctx, &name, &args).await {
            Ok(out) => {
                if out.is_error && ctx.has(Defect::ToolErrorAsProtocolError) {
                    let msg = out
                        .content
                        .first()
                        .and_then(|c| c.get("text"))
                        .and_then(Value::as_str)
                        .unwrap_or("tool failed");
                    return Err(RpcError::internal(msg.to_string()));
                }
                Ok(finish(&ctx, out))
            }
            Err(Stop::Rpc(e)) => Err(e),
            Err(Stop::Client(ClientError::InputRequired(requests, stage))) => {
                Ok(crate::modern::input_required(&ctx, requests, &stage))
            }
            Err(Stop::Client(ClientError::NoCapability(cap)))
                if ctx.req.modern && !ctx.has(Defect::MissingCapabilityAsToolError) =>
            {
                Err(RpcError::new(
                    jsonrpc::MISSING_REQUIRED_CLIENT_CAPABILITY,
                    format!("Server requires the {cap} capability for this request"),
                )
                .with_data(json!({"requiredCapabilities": {cap: {}}})))
            }
            Err(Stop::Client(ClientError::Rejected(_)))
                if ctx.req.modern && ctx.has(Defect::MrtrExtraResponsesRejected) =>
            {
                Err(RpcError::invalid_params("inputResponses holds a key that was not asked for"))
            }
            Err(Stop::Client(e)) => Ok(finish(
                &ctx,
                ToolOut::error(format!("Tool {name} could not complete: {e}")),
            )),
        }
    }
}

fn finish(ctx: &Ctx, mut out: ToolOut) -> Value {
    let mut m = Map::new();
    content_defects(ctx, &mut out);
    if !ctx.has(Defect::ToolsCallBadResult) {
        m.insert("content".into(), Value::Array(out.content));
    }
    if let (Some(s), true) = (out.structured, ctx.version() >= Version::V2025_06_18)
        && !ctx.has(Defect::StructuredContentMissing)
    {
        m.insert("structuredContent".into(), s);
    }
    if out.is_error {
        m.insert("isError".into(), json!(true));
    }
    Value::Object(m)
}

/// The content defects, applied to whatever any tool produced.
fn content_defects(ctx: &Ctx, out: &mut ToolOut) {
    if out.structured.is_some() && ctx.has(Defect::StructuredWithoutText) {
        out.content.retain(|c| c.get("type") != Some(&json!("text")));
    }
    if out.is_error && ctx.has(Defect::ErrorResultEmpty) {
        out.content.clear();
    }
    for item in &mut out.content {
        let Some(o) = item.as_object_mut() else { continue };
        match o.get("type").and_then(Value::as_str) {
            Some("audio") if ctx.has(Defect::AudioBadBase64) => {
                o.insert("data".into(), json!("this is *not* base64!"));
            }
            Some("resource") if ctx.has(Defect::EmbeddedResourceMissingUri) => {
                if let Some(r) = o.get_mut("resource").and_then(Value::as_object_mut) {
                    r.remove("uri");
                }
            }
            Some("resource_link") if ctx.has(Defect::ResourceLinkMissingName) => {
                o.remove("name");
            }
            Some("audio") if ctx.has(Defect::AudioContentWrongMimeType) => {
                o.insert("mimeType".into(), json!("audio/mpeg"));
            }
            _ => {}
        }
    }
}

fn sleep_ms(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

fn arg_str<'a>(args: &'a Map<String, Value>, k: &str) -> &'a str {
    args.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Text out of a sampling result's content (an object, or an array since 2025-11-25).
fn sampled_text(result: &Value) -> String {
    let content = result.get("content").cloned().unwrap_or(Value::Null);
    let blocks = match content {
        Value::Array(a) => a,
        other => vec![other],
    };
    let texts: Vec<String> = blocks
        .iter()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    if texts.is_empty() {
        "(no text content)".to_string()
    } else {
        texts.join("\n")
    }
}

async fn run(ctx: &Ctx, name: &str, args: &Map<String, Value>) -> Result<ToolOut, Stop> {
    let v = ctx.version();
    Ok(match name {
        "test_simple_text" => ToolOut::text("This is a simple text response for testing."),
        "test_image_content" => {
            let mut img = image();
            if ctx.has(Defect::ImageBadBase64) {
                img["data"] = json!("this is *not* base64!");
            }
            if ctx.has(Defect::ImageMissingMimeType)
                && let Some(o) = img.as_object_mut()
            {
                o.remove("mimeType");
            }
            ToolOut {
                content: vec![img],
                structured: None,
                is_error: false,
            }
        }
        "test_audio_content" => ToolOut {
            content: vec![
                json!({"type": "audio", "data": media::wav_base64(), "mimeType": "audio/wav"}),
            ],
            structured: None,
            is_error: false,
        },
        "test_embedded_resource" => ToolOut {
            content: vec![json!({"type": "resource", "resource": {
                "uri": "test://embedded-resource", "mimeType": "text/plain",
                "text": "This is an embedded resource content."}})],
            structured: None,
            is_error: false,
        },
        "test_multiple_content_types" => ToolOut {
            content: vec![
                text("Multiple content types test:"),
                image(),
                json!({"type": "resource", "resource": {
                    "uri": "test://mixed-content-resource", "mimeType": "application/json",
                    "text": "{\"test\":\"data\",\"value\":123}"}}),
            ],
            structured: None,
            is_error: false,
        },
        "test_tool_with_logging" => {
            let steps = [
                (
                    LogLevel::Debug,
                    "test_tool_with_logging: starting (debug detail)",
                ),
                (LogLevel::Info, "Tool execution started"),
                (LogLevel::Info, "Tool processing data"),
                (LogLevel::Info, "Tool execution completed"),
                // After the official fixture's three info messages, so they stay first.
                (LogLevel::Warning, "Tool emitted a warning for testing"),
            ];
            for (i, (level, msg)) in steps.iter().enumerate() {
                if i > 0 {
                    sleep_ms(10).await;
                }
                if !ctx.has(Defect::LoggingFixtureSilent) {
                    ctx.log(*level, json!(msg));
                }
            }
            ToolOut::text("Tool with logging executed successfully")
        }
        "test_tool_with_progress" => {
            let mut steps = [0.0, 50.0, 100.0];
            if ctx.has(Defect::ProgressDecreasing) {
                steps.reverse();
            }
            for (i, p) in steps.iter().enumerate() {
                if i > 0 {
                    sleep_ms(20).await;
                }
                ctx.progress(
                    *p,
                    Some(100.0),
                    Some(&format!("Completed step {} of {}", i + 1, steps.len())),
                );
            }
            ToolOut::text("Tool with progress executed successfully")
        }
        "test_error_handling" => {
            ToolOut::error("This tool intentionally returns an error for testing")
        }
        "test_sampling" if ctx.has(Defect::SamplingFixtureNoRequest) => {
            ToolOut::text("LLM response: (not asked)")
        }
        "test_elicitation" if ctx.has(Defect::ElicitationFixtureNoRequest) => {
            ToolOut::text("User response: (not asked)")
        }
        "test_sampling" => {
            let prompt = arg_str(args, "prompt");
            let params = json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
                "maxTokens": 100
            });
            let r = ctx
                .client_request(
                    "sampling",
                    Defect::SamplingWithoutCapability,
                    "sampling",
                    "sampling/createMessage",
                    params,
                )
                .await?;
            ToolOut::text(format!("LLM response: {}", sampled_text(&r)))
        }
        "test_elicitation" => {
            let mut params = json!({
                "message": arg_str(args, "message"),
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "format": "email", "description": "User's email address"}
                    },
                    "required": ["username", "email"]
                }
            });
            if v >= Version::V2025_11_25 {
                params["mode"] = json!("form");
            }
            if !ctx.client_supports_form_elicitation()
                && !ctx.has(Defect::ElicitationWithoutCapability)
            {
                return Err(ClientError::NoCapability("elicitation").into());
            }
            let r = ctx
                .client_request(
                    "elicitation",
                    Defect::ElicitationWithoutCapability,
                    "elicitation",
                    "elicitation/create",
                    params,
                )
                .await?;
            let action = r
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("(missing)");
            let content = r.get("content").cloned().unwrap_or(Value::Null);
            ToolOut::text(format!("User response: action={action}, content={content}"))
        }
        "test_elicitation_sep1034_defaults" | "test_elicitation_sep1330_enums" => {
            let schema = if name == "test_elicitation_sep1034_defaults" {
                json!({
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "title": "Name", "default": "John Doe"},
                        "age": {"type": "integer", "title": "Age", "minimum": 0, "default": 30},
                        "score": {"type": "number", "title": "Score", "default": 95.5},
                        "status": {"type": "string", "title": "Status", "enum": ["active", "inactive", "pending"], "default": "active"},
                        "verified": {"type": "boolean", "title": "Verified", "default": true}
                    }
                })
            } else {
                json!({
                    "type": "object",
                    "properties": {
                        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                        "titledSingle": {"type": "string", "oneOf": [
                            {"const": "value1", "title": "First Option"},
                            {"const": "value2", "title": "Second Option"},
                            {"const": "value3", "title": "Third Option"}
                        ]},
                        "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"]},
                        "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                        "titledMulti": {"type": "array", "items": {"anyOf": [
                            {"const": "value1", "title": "First Choice"},
                            {"const": "value2", "title": "Second Choice"},
                            {"const": "value3", "title": "Third Choice"}
                        ]}}
                    }
                })
            };
            if !ctx.client_supports_form_elicitation()
                && !ctx.has(Defect::ElicitationWithoutCapability)
            {
                return Err(ClientError::NoCapability("elicitation").into());
            }
            let mut schema = schema;
            if ctx.has(Defect::Sep1034DefaultMissing)
                && let Some(age) = schema.pointer_mut("/properties/age").and_then(Value::as_object_mut)
            {
                age.remove("default");
            }
            if ctx.has(Defect::Sep1330EnumVariantMissing)
                && let Some(titled) = schema.pointer_mut("/properties/titledSingle")
            {
                *titled = json!({"type": "string", "enum": ["value1", "value2", "value3"]});
            }
            let params = json!({
                "mode": "form",
                "message": "Please review and update the form fields",
                "requestedSchema": schema
            });
            let r = ctx
                .client_request(
                    "elicitation",
                    Defect::ElicitationWithoutCapability,
                    "form",
                    "elicitation/create",
                    params,
                )
                .await?;
            let action = r
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("(missing)");
            let content = r.get("content").cloned().unwrap_or(Value::Null);
            ToolOut::text(format!(
                "Elicitation completed: action={action}, content={content}"
            ))
        }
        "test_url_elicitation" => {
            if !ctx.client_supports_url_elicitation()
                && !ctx.has(Defect::ElicitationWithoutCapability)
            {
                return Err(ClientError::NoCapability("elicitation").into());
            }
            let id = crate::random_token(16);
            let mut params = json!({
                "mode": "url",
                "message": "Please open this page to finish a (simulated) authorization.",
                "url": format!("https://example.com/authorize?session={id}"),
            });
            if ctx.req.version == Version::V2025_11_25 {
                params["elicitationId"] = json!(id);
            }
            let r = ctx
                .client_request(
                    "elicitation",
                    Defect::ElicitationWithoutCapability,
                    "url_elicitation",
                    "elicitation/create",
                    params,
                )
                .await?;
            let action = r
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("(missing)");
            if action == "accept" && v == Version::V2025_11_25 {
                // The (simulated) out-of-band interaction completes right away.
                ctx.notify(
                    "notifications/elicitation/complete",
                    Some(json!({"elicitationId": id})),
                );
            }
            ToolOut::text(format!("URL elicitation answered: action={action}"))
        }
        "test_url_elicitation_required" => {
            if !ctx.client_supports_url_elicitation() {
                return Ok(ToolOut::error(
                    "This tool needs a client that supports URL mode elicitation",
                ));
            }
            let id = crate::random_token(16);
            return Err(Stop::Rpc(
                RpcError::new(
                    jsonrpc::URL_ELICITATION_REQUIRED,
                    "This request requires an authorization in the browser.",
                )
                .with_data(json!({"elicitations": [{
                    "mode": "url",
                    "elicitationId": id,
                    "url": format!("https://example.com/connect?elicitationId={id}"),
                    "message": "Authorization is required to use this (simulated) account."
                }]})),
            ));
        }
        "json_schema_2020_12_tool" => ToolOut::text(format!(
            "Received arguments: {}",
            Value::Object(args.clone())
        )),
        "echo" => ToolOut::text(arg_str(args, "message")),
        "greet" => ToolOut::text(format!("Hello, {}!", arg_str(args, "name"))),
        // Synchronous runs of the optional task fixtures (clients without the extension).
        "slow_compute" => {
            let (seconds, label) = crate::ext_tasks::slow_args(args);
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            ToolOut::text(format!("Computed {label} in {seconds}s"))
        }
        "protocol_error_job" => {
            return Err(Stop::Rpc(RpcError::internal(
                "protocol_error_job: the job crashed (internal error)",
            )));
        }
        "add" => {
            let a = args.get("a").and_then(Value::as_f64).unwrap_or(0.0);
            let b = args.get("b").and_then(Value::as_f64).unwrap_or(0.0);
            let sum = crate::server::json_number(a + b);
            let structured = if ctx.has(Defect::StructuredContentMismatch) {
                json!({"sum": sum.to_string()})
            } else {
                json!({"sum": sum})
            };
            ToolOut {
                content: vec![text(structured.to_string())],
                structured: Some(structured),
                is_error: false,
            }
        }
        "slow" => {
            let ms = args
                .get("ms")
                .and_then(Value::as_u64)
                .unwrap_or(100)
                .min(60_000);
            let step = 100u64;
            let mut elapsed = 0u64;
            while elapsed < ms {
                let d = step.min(ms - elapsed);
                sleep_ms(d).await;
                elapsed += d;
                let shown = if ctx.has(Defect::ProgressDecreasing) {
                    ms - elapsed
                } else {
                    elapsed
                };
                ctx.progress(shown as f64, Some(ms as f64), None);
            }
            ToolOut::text(format!("Slept {ms} ms"))
        }
        "long_job" => {
            let ms = args
                .get("ms")
                .and_then(Value::as_u64)
                .unwrap_or(500)
                .min(60_000);
            let steps = 5u64;
            for i in 1..=steps {
                sleep_ms(ms / steps).await;
                ctx.progress(
                    (i * 20) as f64,
                    Some(100.0),
                    Some(&format!("Step {i} of {steps}")),
                );
            }
            ToolOut::text(format!("Long job finished after {ms} ms"))
        }
        "get_resource_link" => ToolOut {
            content: vec![
                text("Here is a link to a resource:"),
                json!({"type": "resource_link", "uri": "test://static-text", "name": "static-text",
                       "description": "A static text resource", "mimeType": "text/plain"}),
            ],
            structured: None,
            is_error: false,
        },
        "list_roots" => {
            let r = ctx
                .client_request(
                    "roots",
                    Defect::RootsWithoutCapability,
                    "roots",
                    "roots/list",
                    json!({}),
                )
                .await?;
            let roots = r
                .get("roots")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let uris: Vec<String> = roots
                .iter()
                .map(|r| {
                    let uri = r.get("uri").and_then(Value::as_str).unwrap_or("?");
                    match r.get("name").and_then(Value::as_str) {
                        Some(n) => format!("{uri} ({n})"),
                        None => uri.to_string(),
                    }
                })
                .collect();
            ToolOut::text(format!("{} root(s): {}", uris.len(), uris.join(", ")))
        }
        "update_watched" => {
            let rev = crate::resources::touch_watched(ctx);
            ToolOut::text(format!("test://watched-resource is now at revision {rev}"))
        }
        "toggle_extra_tool" | "toggle_extra_prompt" | "toggle_extra_resource" => {
            let (extra, what) = match name {
                "toggle_extra_tool" => (Extra::Tool, "extra_tool"),
                "toggle_extra_prompt" => (Extra::Prompt, "extra_prompt"),
                _ => (Extra::Resource, "test://extra-resource"),
            };
            let enabled = ctx.toggle_extra(extra);
            ToolOut::text(format!(
                "{what} is now {}",
                if enabled { "offered" } else { "withdrawn" }
            ))
        }
        "extra_tool" => ToolOut::text("extra_tool ran"),
        n if n.starts_with("test_input_required_result_") || n == "test_missing_capability" => {
            mrtr(ctx, n).await?
        }
        "test_streaming_elicitation" => greet_by_elicited_name(ctx).await?,
        "test_logging_tool" => {
            ctx.log(LogLevel::Info, json!("test_logging_tool ran"));
            ToolOut::text("Logging tool finished.")
        }
        "test_trigger_tool_change" => {
            let on = ctx.toggle_extra(Extra::Tool);
            ToolOut::text(format!(
                "Tool list change published (extra_tool {}).",
                if on { "added" } else { "removed" }
            ))
        }
        "test_trigger_prompt_change" => {
            let on = ctx.toggle_extra(Extra::Prompt);
            ToolOut::text(format!(
                "Prompt list change published (extra_prompt {}).",
                if on { "added" } else { "removed" }
            ))
        }
        "test_reconnection" => {
            sleep_ms(200).await;
            ToolOut::text("Reconnection test completed: the answer survived the closed connection.")
        }
        "test_custom_header" => ToolOut::text(format!(
            "Routed to region {}: {}",
            arg_str(args, "region"),
            arg_str(args, "query")
        )),
        "run_query" => {
            let options = args.get("options").cloned().unwrap_or(Value::Null);
            let limit = options.get("limit").and_then(Value::as_u64).unwrap_or(100);
            let dry = options
                .get("dryRun")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            ToolOut::text(format!(
                "{} in {} (limit {limit}): {}",
                if dry { "Planned query" } else { "Ran query" },
                arg_str(args, "region"),
                arg_str(args, "query")
            ))
        }
        other => {
            return Err(Stop::Rpc(RpcError::invalid_params(format!(
                "Unknown tool: {other}"
            ))));
        }
    })
}

fn name_schema(field: &str) -> Value {
    json!({"type": "object", "properties": {field: {"type": "string"}}, "required": [field]})
}

fn elicit(message: &str, schema: Value) -> Value {
    json!({"mode": "form", "message": message, "requestedSchema": schema})
}

/// The accepted content's `field` of an elicitation answer.
fn accepted(answer: &Value, field: &str) -> String {
    answer
        .pointer(&format!("/content/{field}"))
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_default()
}

fn roots_text(answer: &Value) -> String {
    let uris: Vec<&str> = answer
        .get("roots")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|r| r.get("uri").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    format!("{} root(s): {}", uris.len(), uris.join(", "))
}

/// Asks the user's name by elicitation (a server request, or an InputRequiredResult on
/// 2026-07-28) and greets them.
async fn greet_by_elicited_name(ctx: &Ctx) -> Result<ToolOut, Stop> {
    let a = ctx
        .client_requests(
            vec![("elicitation", "user_name", "elicitation/create", elicit("What is your name?", name_schema("name")))],
            "",
        )
        .await?;
    Ok(ToolOut::text(format!("Hello, {}!", accepted(&a[0], "name"))))
}

/// The 2026-07-28 multi round-trip request fixtures.
async fn mrtr(ctx: &Ctx, name: &str) -> Result<ToolOut, Stop> {
    let sampling = |text: &str, max: u64| json!({"messages": [{"role": "user", "content": {"type": "text", "text": text}}], "maxTokens": max});
    Ok(match name {
        "test_input_required_result_elicitation" => greet_by_elicited_name(ctx).await?,
        "test_input_required_result_sampling" => {
            let a = ctx
                .client_requests(
                    vec![(
                        "sampling",
                        "capital_question",
                        "sampling/createMessage",
                        sampling("What is the capital of France?", 100),
                    )],
                    "",
                )
                .await?;
            ToolOut::text(format!("LLM response: {}", sampled_text(&a[0])))
        }
        "test_input_required_result_list_roots" => {
            let a = ctx
                .client_requests(vec![("roots", "client_roots", "roots/list", json!({}))], "")
                .await?;
            ToolOut::text(roots_text(&a[0]))
        }
        "test_input_required_result_request_state"
        | "test_input_required_result_tampered_state" => {
            let confirm = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]});
            let a = ctx
                .client_requests(
                    vec![(
                        "elicitation",
                        "confirm",
                        "elicitation/create",
                        elicit("Please confirm", confirm),
                    )],
                    "confirm",
                )
                .await?;
            if ctx.req.state_stage.as_deref() != Some("confirm") {
                // The answer came without the state minted for it: ask again.
                let confirm = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]});
                return Err(Stop::Client(ClientError::InputRequired(
                    json!({"confirm": {"method": "elicitation/create", "params": elicit("Please confirm", confirm)}}),
                    "confirm".into(),
                )));
            }
            ToolOut::text(format!(
                "state-ok: the echoed requestState verified (ok={})",
                accepted(&a[0], "ok")
            ))
        }
        "test_input_required_result_multiple_inputs" => {
            let a = ctx
                .client_requests(
                    vec![
                        (
                            "elicitation",
                            "user_name",
                            "elicitation/create",
                            elicit("What is your name?", name_schema("name")),
                        ),
                        (
                            "sampling",
                            "greeting",
                            "sampling/createMessage",
                            sampling("Generate a greeting", 50),
                        ),
                        ("roots", "client_roots", "roots/list", json!({})),
                    ],
                    "all",
                )
                .await?;
            ToolOut::text(format!(
                "{}: {} ({})",
                accepted(&a[0], "name"),
                sampled_text(&a[1]),
                roots_text(&a[2])
            ))
        }
        "test_input_required_result_multi_round" => {
            let stage = ctx.req.state_stage.clone().unwrap_or_default();
            if let Some(first) = stage.strip_prefix("round2:") {
                let a = ctx
                    .client_requests(
                        vec![(
                            "elicitation",
                            "step2",
                            "elicitation/create",
                            elicit("Step 2: What is your favorite color?", name_schema("color")),
                        )],
                        &stage,
                    )
                    .await?;
                ToolOut::text(format!(
                    "Both rounds answered: {first} likes {}",
                    accepted(&a[0], "color")
                ))
            } else {
                let a = ctx
                    .client_requests(
                        vec![(
                            "elicitation",
                            "step1",
                            "elicitation/create",
                            elicit("Step 1: What is your name?", name_schema("name")),
                        )],
                        "round1",
                    )
                    .await?;
                let next = format!("round2:{}", accepted(&a[0], "name"));
                return Err(Stop::Client(ClientError::InputRequired(
                    json!({"step2": {"method": "elicitation/create", "params": elicit("Step 2: What is your favorite color?", name_schema("color"))}}),
                    next,
                )));
            }
        }
        "test_input_required_result_capabilities" => {
            let mut asks = Vec::new();
            if ctx.client_supports_form_elicitation() {
                asks.push((
                    "elicitation",
                    "elicit_input",
                    "elicitation/create",
                    elicit("Elicitation input", name_schema("value")),
                ));
            }
            if ctx.client_has("sampling") {
                asks.push((
                    "sampling",
                    "sampling_input",
                    "sampling/createMessage",
                    sampling("Say something", 20),
                ));
            }
            if ctx.client_has("roots") {
                asks.push(("roots", "roots_input", "roots/list", json!({})));
            }
            let keys: Vec<&str> = asks.iter().map(|(_, k, ..)| *k).collect::<Vec<_>>();
            let keys = keys.join(",");
            if asks.is_empty() {
                ToolOut::text(
                    "capabilities-ok: the client declared no input kind, so none was asked for",
                )
            } else {
                ctx.client_requests(asks, "").await?;
                ToolOut::text(format!("capabilities-ok: received {keys}"))
            }
        }
        _ => {
            // test_missing_capability
            let a = ctx
                .client_requests(
                    vec![(
                        "sampling",
                        "sample",
                        "sampling/createMessage",
                        sampling("Say hello", 20),
                    )],
                    "",
                )
                .await?;
            ToolOut::text(format!("LLM response: {}", sampled_text(&a[0])))
        }
    })
}

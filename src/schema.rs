//! JSON Schema validation of MCP messages against the schemas authored in `schemas/`.
//!
//! Owns: loading `schemas/<version>/schema.json` (embedded in the binary, or from
//! `--schema-dir`), compiling validators once per run, and choosing the definition
//! for a message from its method (a `tools/call` request's params, its result as
//! `CallToolResult`, notifications by method, errors as `JSONRPCError`).
//! Must never do network IO and never decide a verdict: it returns findings only.
//!
//! Layout: one document per protocol version, definitions under `$defs` (our schemas, JSON
//! Schema 2020-12) or `definitions` (the official draft-07 files, so `--schema-dir` may point
//! at a copy of the specification's `schema/` folder). Every definition gets its own validator,
//! compiled on first use (thread-safe, `OnceLock`) against a per-version registry that holds the
//! document once, so compiling one definition never re-indexes the whole document.
//!
//! `anyOf`/`oneOf` failures are reported through their most plausible alternative: branches
//! rejected by a discriminator (`type`/`method` const, or the wrong JSON type) are dropped and
//! the branch with the fewest errors is reported, so an image block lacking `mimeType` yields
//! `required` at `/result/content/0` naming `mimeType`, not only "not valid under any of the
//! schemas".

use crate::spec::ProtocolVersion;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{Registry, Resource, ValidationError, Validator};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Who sent a message: decides which side's request/notification unions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// One schema violation, precise enough to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFinding {
    /// The definition the instance was validated against, e.g. `CallToolResult`.
    pub definition: String,
    /// JSON pointer into the validated message, e.g. `/result/content/0/mimeType`.
    pub instance_path: String,
    /// JSON pointer into the schema, e.g. `/$defs/ImageContent/required`.
    pub schema_path: String,
    /// The JSON Schema keyword that failed (`required`, `type`, `const`, ...).
    pub rule: String,
    /// Human-readable explanation.
    pub message: String,
}

/// The schema files compiled into the binary, one per protocol version (`ProtocolVersion::ALL` order).
const EMBEDDED: [(ProtocolVersion, &str); 5] = [
    (
        ProtocolVersion::V2024_11_05,
        include_str!("../schemas/2024-11-05/schema.json"),
    ),
    (
        ProtocolVersion::V2025_03_26,
        include_str!("../schemas/2025-03-26/schema.json"),
    ),
    (
        ProtocolVersion::V2025_06_18,
        include_str!("../schemas/2025-06-18/schema.json"),
    ),
    (
        ProtocolVersion::V2025_11_25,
        include_str!("../schemas/2025-11-25/schema.json"),
    ),
    (
        ProtocolVersion::V2026_07_28,
        include_str!("../schemas/2026-07-28/schema.json"),
    ),
];

/// The text of the embedded (generated) schema of `version`.
pub fn embedded_schema_text(version: ProtocolVersion) -> &'static str {
    EMBEDDED
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, t)| *t)
        .expect("every version is embedded")
}

type Cached = OnceLock<Result<Validator, String>>;

/// One version's document, registry and lazily compiled validators.
struct VersionSchemas {
    version: ProtocolVersion,
    /// The URI the document is registered under.
    uri: String,
    /// `$defs` or `definitions`.
    defs_key: &'static str,
    /// The document's `$schema`, used for every per-definition root.
    dialect: Option<String>,
    registry: Registry<'static>,
    validators: BTreeMap<String, Cached>,
}

impl VersionSchemas {
    fn load(version: ProtocolVersion, doc: Value, origin: &str) -> Result<VersionSchemas, String> {
        let (defs_key, names): (&'static str, Vec<String>) =
            if let Some(Value::Object(defs)) = doc.get("$defs") {
                ("$defs", defs.keys().cloned().collect())
            } else if let Some(Value::Object(defs)) = doc.get("definitions") {
                ("definitions", defs.keys().cloned().collect())
            } else {
                return Err(format!("{origin}: no `$defs` (or `definitions`) object"));
            };
        let dialect = doc
            .get("$schema")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let uri = format!("urn:mcp-conform:schema:{}", version.as_str());
        let registry = Registry::new()
            .add(&uri, Resource::from_contents(doc))
            .and_then(|b| b.prepare())
            .map_err(|e| format!("{origin}: {e}"))?;
        let validators = names.into_iter().map(|n| (n, OnceLock::new())).collect();
        Ok(VersionSchemas {
            version,
            uri,
            defs_key,
            dialect,
            registry,
            validators,
        })
    }

    /// The document, to name the alternatives of an `anyOf`/`oneOf` in findings: the
    /// registry's copy (a second one cost 1.7 MB over the five versions).
    fn document(&self) -> &Value {
        let resolved = jsonschema::uri::from_str(&self.uri).ok().and_then(|uri| self.registry.resolver(uri).lookup("").ok());
        resolved.map_or(&Value::Null, |r| r.contents())
    }

    /// The compiled validator of `definition` (compiled on first use); None if there is no such
    /// definition. Returns references: no reference counting on the hot path.
    fn validator(&self, definition: &str) -> Option<Result<&Validator, &str>> {
        let cell = self.validators.get(definition)?;
        Some(
            cell.get_or_init(|| {
                let mut root = serde_json::Map::new();
                if let Some(d) = &self.dialect {
                    root.insert("$schema".into(), Value::String(d.clone()));
                }
                let pointer = format!(
                    "{}#/{}/{}",
                    self.uri,
                    self.defs_key,
                    escape_pointer(definition)
                );
                root.insert("$ref".into(), Value::String(pointer));
                options(&self.registry)
                    .build(&Value::Object(root))
                    .map_err(|e| format!("{} {definition}: cannot compile: {e}", self.version))
            })
            .as_ref()
            .map_err(String::as_str),
        )
    }
}

/// Options every validator is built with: formats are assertions (`uri`, `uri-template`, `date-time`,
/// ... and `byte` as base64) in every dialect, so a draft-07 and a 2020-12 document judge alike.
fn options<'r>(registry: &'r Registry<'static>) -> jsonschema::ValidationOptions<'r> {
    jsonschema::options()
        .with_registry(registry)
        .with_base_uri("urn:mcp-conform:root")
        .should_validate_formats(true)
        .with_format("byte", is_base64)
}

/// RFC 4648 base64 (standard alphabet, padding optional but never in the middle).
pub fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    pad <= 2
        && (pad == 0 || s.len().is_multiple_of(4))
        && body.len() % 4 != 1
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Compiled validators for every protocol version. Cheap to share (`Arc`).
pub struct SchemaSet {
    versions: Vec<VersionSchemas>,
}

impl SchemaSet {
    /// The schemas compiled into the binary from `schemas/`. Loaded once per process and shared,
    /// so validators compiled through one handle serve every other.
    pub fn embedded() -> Result<Arc<SchemaSet>, String> {
        static EMBEDDED_SET: OnceLock<Result<Arc<SchemaSet>, String>> = OnceLock::new();
        EMBEDDED_SET
            .get_or_init(|| {
                let mut versions = Vec::new();
                for (version, text) in EMBEDDED {
                    let origin = format!("embedded schemas/{version}/schema.json");
                    let doc: Value =
                        serde_json::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
                    versions.push(VersionSchemas::load(version, doc, &origin)?);
                }
                Ok(Arc::new(SchemaSet { versions }))
            })
            .clone()
    }

    /// Schemas from another directory laid out like `schemas/` (`--schema-dir`).
    pub fn from_dir(dir: &Path) -> Result<Arc<SchemaSet>, String> {
        let mut versions = Vec::new();
        for version in ProtocolVersion::ALL {
            let path = dir.join(version.as_str()).join("schema.json");
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{origin}: {e}"))?;
            let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{origin}: {e}"))?;
            versions.push(VersionSchemas::load(version, doc, &origin)?);
        }
        Ok(Arc::new(SchemaSet { versions }))
    }

    fn get(&self, version: ProtocolVersion) -> &VersionSchemas {
        self.versions
            .iter()
            .find(|v| v.version == version)
            .expect("every version is loaded")
    }

    /// Whether `definition` exists for `version`.
    pub fn has_definition(&self, version: ProtocolVersion, definition: &str) -> bool {
        self.get(version).validators.contains_key(definition)
    }

    /// Every definition name of `version`, sorted.
    pub fn definitions(&self, version: ProtocolVersion) -> Vec<&str> {
        self.get(version)
            .validators
            .keys()
            .map(String::as_str)
            .collect()
    }

    /// Compile every definition of every version now (otherwise each compiles on first use).
    /// Returns the compile errors, if any.
    pub fn compile_all(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for v in &self.versions {
            for name in v.validators.keys() {
                if let Some(Err(e)) = v.validator(name) {
                    errors.push(e.to_owned());
                }
            }
        }
        errors
    }

    /// Accept/reject only (no findings): `None` when the definition does not exist or
    /// does not compile.
    pub fn is_valid(
        &self,
        version: ProtocolVersion,
        definition: &str,
        instance: &Value,
    ) -> Option<bool> {
        match self.get(version).validator(definition)? {
            Ok(v) => Some(v.is_valid(instance)),
            Err(_) => None,
        }
    }

    /// Validate `instance` against one named definition. Findings' instance paths are
    /// relative to `instance`.
    pub fn validate_definition(
        &self,
        version: ProtocolVersion,
        definition: &str,
        instance: &Value,
    ) -> Vec<SchemaFinding> {
        let mut out = Vec::new();
        self.validate_at(version, definition, instance, "", &mut out);
        out
    }

    fn validate_at(
        &self,
        version: ProtocolVersion,
        definition: &str,
        instance: &Value,
        prefix: &str,
        out: &mut Vec<SchemaFinding>,
    ) {
        let problem = |rule: &str, message: String| SchemaFinding {
            definition: definition.to_owned(),
            instance_path: prefix.to_owned(),
            schema_path: String::new(),
            rule: rule.to_owned(),
            message,
        };
        let schemas = self.get(version);
        match schemas.validator(definition) {
            None => out.push(problem(
                "definition",
                format!("no definition `{definition}` in the {version} schema"),
            )),
            Some(Err(e)) => out.push(problem("schema", e.to_owned())),
            Some(Ok(validator)) => {
                let mut errors = validator.iter_errors(instance).peekable();
                if errors.peek().is_some() {
                    let doc = schemas.document();
                    for error in errors {
                        findings_from_error(&error, doc, definition, prefix, &[], out);
                    }
                }
            }
        }
    }

    /// Validate a whole JSON-RPC message. `request_method` is the method of the request
    /// that a response answers (None for requests and notifications, or when unknown).
    /// Findings' instance paths are relative to the message (`/result/...`, `/params/...`).
    pub fn validate_message(
        &self,
        version: ProtocolVersion,
        message: &Value,
        sender: Sender,
        request_method: Option<&str>,
    ) -> Vec<SchemaFinding> {
        let mut out = Vec::new();
        self.validate_message_at(version, message, sender, request_method, "", &mut out);
        dedup(out)
    }

    fn validate_message_at(
        &self,
        version: ProtocolVersion,
        message: &Value,
        sender: Sender,
        request_method: Option<&str>,
        prefix: &str,
        out: &mut Vec<SchemaFinding>,
    ) {
        let has = |d: &str| self.has_definition(version, d);
        if let Value::Array(items) = message {
            // JSON-RPC batches exist in 2025-03-26 only; elsewhere the envelope union rejects them.
            if has("JSONRPCBatchRequest") && !items.is_empty() {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{prefix}/{i}");
                    self.validate_message_at(version, item, sender, request_method, &at, out);
                }
            } else {
                let def = if has("JSONRPCBatchRequest") {
                    "JSONRPCBatchRequest"
                } else {
                    "JSONRPCMessage"
                };
                self.validate_at(version, def, message, prefix, out);
            }
            return;
        }
        let Some(obj) = message.as_object() else {
            self.validate_at(version, "JSONRPCMessage", message, prefix, out);
            return;
        };
        let method = obj.get("method").and_then(Value::as_str);
        if obj.contains_key("method") {
            let is_request = obj.contains_key("id");
            let envelope = if is_request {
                "JSONRPCRequest"
            } else {
                "JSONRPCNotification"
            };
            self.validate_at(version, envelope, message, prefix, out);
            let Some(method) = method else { return };
            let Some(defs) = method_definitions(version, method) else {
                return;
            };
            if defs.is_notification == is_request {
                let what = if defs.is_notification {
                    "a notification"
                } else {
                    "a request"
                };
                out.push(SchemaFinding {
                    definition: defs.message.to_owned(),
                    instance_path: prefix.to_owned(),
                    schema_path: format!("/$defs/{}", defs.message),
                    rule: "id".to_owned(),
                    message: format!(
                        "`{method}` is {what} in {version}, but the message {} an `id`",
                        if is_request { "has" } else { "lacks" }
                    ),
                });
            }
            if !defs.senders.contains(&sender) {
                let union = match (sender, defs.is_notification) {
                    (Sender::Client, false) => "ClientRequest",
                    (Sender::Client, true) => "ClientNotification",
                    (Sender::Server, false) => "ServerRequest",
                    (Sender::Server, true) => "ServerNotification",
                };
                out.push(SchemaFinding {
                    definition: union.to_owned(),
                    instance_path: format!("{prefix}/method"),
                    schema_path: format!("/$defs/{union}"),
                    rule: "method".to_owned(),
                    message: format!(
                        "`{method}` is not sent by the {} in {version} (not a {union})",
                        if sender == Sender::Client {
                            "client"
                        } else {
                            "server"
                        }
                    ),
                });
            }
            self.validate_at(version, defs.message, message, prefix, out);
        } else if obj.contains_key("result") {
            let envelope = if has("JSONRPCResultResponse") {
                "JSONRPCResultResponse"
            } else {
                "JSONRPCResponse"
            };
            self.validate_at(version, envelope, message, prefix, out);
            let result = &obj["result"];
            if let Some(def) = request_method.and_then(|m| result_definition(version, m, result))
                && has(def)
            {
                self.validate_at(version, def, result, &format!("{prefix}/result"), out);
            }
        } else if obj.contains_key("error") {
            let envelope = if has("JSONRPCErrorResponse") {
                "JSONRPCErrorResponse"
            } else {
                "JSONRPCError"
            };
            self.validate_at(version, envelope, message, prefix, out);
            let code = obj
                .get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_i64);
            if let Some(def) = code.and_then(error_definition)
                && has(def)
            {
                self.validate_at(version, def, message, prefix, out);
            }
        } else {
            self.validate_at(version, "JSONRPCMessage", message, prefix, out);
        }
    }
}

/// Error responses with a definition of their own (the whole message), by error code.
fn error_definition(code: i64) -> Option<&'static str> {
    Some(match code {
        -32020 => "HeaderMismatchError",
        -32021 => "MissingRequiredClientCapabilityError",
        -32022 => "UnsupportedProtocolVersionError",
        -32042 => "URLElicitationRequiredError",
        _ => return None,
    })
}

/// The definition a result of `method` is validated against, looking at the result itself where
/// a version allows alternatives: a task handle (`CreateTaskResult`, 2025-11-25, for task-augmented
/// requests) or a request for more input (`InputRequiredResult`, 2026-07-28).
pub fn result_definition(
    version: ProtocolVersion,
    method: &str,
    result: &Value,
) -> Option<&'static str> {
    let defs = method_definitions(version, method)?;
    let primary = defs.result?;
    if version == ProtocolVersion::V2025_11_25
        && matches!(
            method,
            "tools/call" | "sampling/createMessage" | "elicitation/create"
        )
        && result.get("task").is_some()
    {
        return Some("CreateTaskResult");
    }
    if version >= ProtocolVersion::V2026_07_28
        && defs.input_required
        && result.get("resultType").and_then(Value::as_str) == Some("input_required")
    {
        return Some("InputRequiredResult");
    }
    // A resultType an extension adds (the tasks extension's "task": a CreateTaskResult)
    // has its shape in the extension, not in the core schema.
    if version >= ProtocolVersion::V2026_07_28
        && result
            .get("resultType")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "complete" && t != "input_required")
    {
        return None;
    }
    Some(primary)
}

/// The definitions of one method in one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodDefinitions {
    pub method: &'static str,
    /// The definition of the whole request/notification message, e.g. `CallToolRequest`.
    pub message: &'static str,
    /// The definition of the `result` of a request, e.g. `CallToolResult` (None for notifications).
    pub result: Option<&'static str>,
    pub is_notification: bool,
    /// Who may send the request/notification.
    pub senders: &'static [Sender],
    /// 2026-07-28: the result may instead be an `InputRequiredResult`.
    pub input_required: bool,
}

const C: &[Sender] = &[Sender::Client];
const S: &[Sender] = &[Sender::Server];
const BOTH: &[Sender] = &[Sender::Client, Sender::Server];

use ProtocolVersion::{V2024_11_05 as V0, V2025_06_18 as V2, V2025_11_25 as V3, V2026_07_28 as V4};

/// (method, message definition, result definition, senders, first version, last version, input_required)
type Row = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [Sender],
    ProtocolVersion,
    ProtocolVersion,
    bool,
);

/// Sampling, roots and elicitation stop at 2025-11-25: in 2026-07-28 servers send no requests; those
/// requests travel inside an `InputRequiredResult` (their definitions remain, see `InputRequest`).
const METHODS: &[Row] = &[
    (
        "initialize",
        "InitializeRequest",
        Some("InitializeResult"),
        C,
        V0,
        V3,
        false,
    ),
    (
        "ping",
        "PingRequest",
        Some("EmptyResult"),
        BOTH,
        V0,
        V3,
        false,
    ),
    (
        "server/discover",
        "DiscoverRequest",
        Some("DiscoverResult"),
        C,
        V4,
        V4,
        false,
    ),
    (
        "resources/list",
        "ListResourcesRequest",
        Some("ListResourcesResult"),
        C,
        V0,
        V4,
        false,
    ),
    (
        "resources/templates/list",
        "ListResourceTemplatesRequest",
        Some("ListResourceTemplatesResult"),
        C,
        V0,
        V4,
        false,
    ),
    (
        "resources/read",
        "ReadResourceRequest",
        Some("ReadResourceResult"),
        C,
        V0,
        V4,
        true,
    ),
    (
        "resources/subscribe",
        "SubscribeRequest",
        Some("EmptyResult"),
        C,
        V0,
        V3,
        false,
    ),
    (
        "resources/unsubscribe",
        "UnsubscribeRequest",
        Some("EmptyResult"),
        C,
        V0,
        V3,
        false,
    ),
    (
        "subscriptions/listen",
        "SubscriptionsListenRequest",
        Some("SubscriptionsListenResult"),
        C,
        V4,
        V4,
        false,
    ),
    (
        "prompts/list",
        "ListPromptsRequest",
        Some("ListPromptsResult"),
        C,
        V0,
        V4,
        false,
    ),
    (
        "prompts/get",
        "GetPromptRequest",
        Some("GetPromptResult"),
        C,
        V0,
        V4,
        true,
    ),
    (
        "tools/list",
        "ListToolsRequest",
        Some("ListToolsResult"),
        C,
        V0,
        V4,
        false,
    ),
    (
        "tools/call",
        "CallToolRequest",
        Some("CallToolResult"),
        C,
        V0,
        V4,
        true,
    ),
    (
        "logging/setLevel",
        "SetLevelRequest",
        Some("EmptyResult"),
        C,
        V0,
        V3,
        false,
    ),
    (
        "completion/complete",
        "CompleteRequest",
        Some("CompleteResult"),
        C,
        V0,
        V4,
        false,
    ),
    (
        "sampling/createMessage",
        "CreateMessageRequest",
        Some("CreateMessageResult"),
        S,
        V0,
        V3,
        false,
    ),
    (
        "roots/list",
        "ListRootsRequest",
        Some("ListRootsResult"),
        S,
        V0,
        V3,
        false,
    ),
    (
        "elicitation/create",
        "ElicitRequest",
        Some("ElicitResult"),
        S,
        V2,
        V3,
        false,
    ),
    (
        "tasks/get",
        "GetTaskRequest",
        Some("GetTaskResult"),
        BOTH,
        V3,
        V3,
        false,
    ),
    (
        "tasks/result",
        "GetTaskPayloadRequest",
        Some("GetTaskPayloadResult"),
        BOTH,
        V3,
        V3,
        false,
    ),
    (
        "tasks/list",
        "ListTasksRequest",
        Some("ListTasksResult"),
        BOTH,
        V3,
        V3,
        false,
    ),
    (
        "tasks/cancel",
        "CancelTaskRequest",
        Some("CancelTaskResult"),
        BOTH,
        V3,
        V3,
        false,
    ),
    (
        "notifications/cancelled",
        "CancelledNotification",
        None,
        BOTH,
        V0,
        V4,
        false,
    ),
    (
        "notifications/progress",
        "ProgressNotification",
        None,
        BOTH,
        V0,
        V4,
        false,
    ),
    (
        "notifications/initialized",
        "InitializedNotification",
        None,
        C,
        V0,
        V3,
        false,
    ),
    (
        "notifications/roots/list_changed",
        "RootsListChangedNotification",
        None,
        C,
        V0,
        V3,
        false,
    ),
    (
        "notifications/message",
        "LoggingMessageNotification",
        None,
        S,
        V0,
        V4,
        false,
    ),
    (
        "notifications/resources/list_changed",
        "ResourceListChangedNotification",
        None,
        S,
        V0,
        V4,
        false,
    ),
    (
        "notifications/resources/updated",
        "ResourceUpdatedNotification",
        None,
        S,
        V0,
        V4,
        false,
    ),
    (
        "notifications/prompts/list_changed",
        "PromptListChangedNotification",
        None,
        S,
        V0,
        V4,
        false,
    ),
    (
        "notifications/tools/list_changed",
        "ToolListChangedNotification",
        None,
        S,
        V0,
        V4,
        false,
    ),
    (
        "notifications/elicitation/complete",
        "ElicitationCompleteNotification",
        None,
        S,
        V3,
        V3,
        false,
    ),
    (
        "notifications/tasks/status",
        "TaskStatusNotification",
        None,
        BOTH,
        V3,
        V3,
        false,
    ),
    (
        "notifications/subscriptions/acknowledged",
        "SubscriptionsAcknowledgedNotification",
        None,
        S,
        V4,
        V4,
        false,
    ),
];

fn row_to_defs(row: &Row) -> MethodDefinitions {
    let (method, message, result, senders, _, _, input_required) = *row;
    MethodDefinitions {
        method,
        message,
        result,
        is_notification: result.is_none(),
        senders,
        input_required,
    }
}

/// The request/notification and result definitions of `method` in `version`; None when the
/// version has no such method.
pub fn method_definitions(version: ProtocolVersion, method: &str) -> Option<MethodDefinitions> {
    METHODS
        .iter()
        .find(|r| r.0 == method && r.4 <= version && version <= r.5)
        .map(row_to_defs)
}

/// Every method of `version` with its definitions, in a stable order.
pub fn methods(version: ProtocolVersion) -> Vec<MethodDefinitions> {
    METHODS
        .iter()
        .filter(|r| r.4 <= version && version <= r.5)
        .map(row_to_defs)
        .collect()
}

/// Drop exact repeats (the envelope and the method's definition often report the same problem).
fn dedup(findings: Vec<SchemaFinding>) -> Vec<SchemaFinding> {
    let mut seen = HashSet::new();
    findings
        .into_iter()
        .filter(|f| seen.insert((f.instance_path.clone(), f.rule.clone(), f.message.clone())))
        .collect()
}

/// A name for alternative `index` of the `anyOf`/`oneOf` at `schema_path`: the definition it
/// references (`ImageContent`), else its `const`/`type`, else its position.
fn alternative_name(doc: &Value, schema_path: &str, index: usize) -> String {
    let alt = doc.pointer(&format!("{schema_path}/{index}"));
    if let Some(r) = alt.and_then(|a| a.get("$ref")).and_then(Value::as_str) {
        return r
            .rsplit('/')
            .next()
            .unwrap_or(r)
            .replace("~1", "/")
            .replace("~0", "~");
    }
    if let Some(t) = alt.and_then(|a| a.get("type")) {
        return format!("alternative {index} (type {t})");
    }
    format!("alternative {index}")
}

/// Whether `path` is `base` or one member below it.
fn at_or_child(path: &str, base: &str) -> bool {
    path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/') && !rest[1..].contains('/'))
}

/// How badly an alternative of an `anyOf`/`oneOf` fails: (rejected by a discriminator, number of errors).
fn branch_score(branch: &[ValidationError<'static>], at: &str) -> (bool, usize) {
    let discriminated = branch.iter().any(|e| {
        let path = e.instance_path().as_str();
        match e.kind() {
            ValidationErrorKind::Type { .. } | ValidationErrorKind::FalseSchema => path == at,
            ValidationErrorKind::Constant { .. } | ValidationErrorKind::Enum { .. } => {
                at_or_child(path, at)
            }
            _ => false,
        }
    });
    (discriminated, branch.len())
}

/// Turn one validator error into findings; `anyOf`/`oneOf` failures descend into their closest
/// alternative, whose names are collected in `via` (outermost first) and appended to messages.
fn findings_from_error(
    error: &ValidationError<'_>,
    doc: &Value,
    definition: &str,
    prefix: &str,
    via: &[String],
    out: &mut Vec<SchemaFinding>,
) {
    let suffix = if via.is_empty() {
        String::new()
    } else {
        format!(" (closest match: {})", via.join(" > "))
    };
    let context = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            Some(context)
        }
        _ => None,
    };
    let at = error.instance_path().as_str();
    if let Some(context) = context.filter(|c| !c.is_empty()) {
        let best = context
            .iter()
            .enumerate()
            .map(|(i, b)| (branch_score(b, at), i))
            .filter(|((discriminated, n), _)| !discriminated && *n > 0)
            .min();
        if let Some((_, i)) = best {
            let mut via = via.to_vec();
            via.push(alternative_name(doc, error.schema_path().as_str(), i));
            for sub in &context[i] {
                findings_from_error(sub, doc, definition, prefix, &via, out);
            }
            return;
        }
        // Every alternative is ruled out by a discriminator: say what was expected.
        let expected: Vec<String> = context
            .iter()
            .filter_map(|b| {
                b.iter().find_map(|e| match e.kind() {
                    ValidationErrorKind::Constant { expected_value }
                        if at_or_child(e.instance_path().as_str(), at) =>
                    {
                        let member = &e.instance_path().as_str()[at.len()..];
                        Some(format!("{member}={expected_value}"))
                    }
                    _ => None,
                })
            })
            .collect();
        let mut message = error.to_string();
        if !expected.is_empty() {
            message.push_str(&format!(" (expected one of: {})", expected.join(", ")));
        }
        message.push_str(&suffix);
        out.push(SchemaFinding {
            definition: definition.to_owned(),
            instance_path: format!("{prefix}{at}"),
            schema_path: error.schema_path().as_str().to_owned(),
            rule: error.kind().keyword().to_owned(),
            message,
        });
        return;
    }
    out.push(SchemaFinding {
        definition: definition.to_owned(),
        instance_path: format!("{prefix}{at}"),
        schema_path: error.schema_path().as_str().to_owned(),
        rule: error.kind().keyword().to_owned(),
        message: format!("{error}{suffix}"),
    });
}

/// The harness validates from several tokio tasks: a `SchemaSet` must be shareable.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<SchemaSet>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set() -> Arc<SchemaSet> {
        SchemaSet::embedded().expect("embedded schemas load")
    }

    #[test]
    fn every_embedded_definition_compiles() {
        assert_eq!(set().compile_all(), Vec::<String>::new());
    }

    #[test]
    fn method_table_matches_schemas() {
        let set = set();
        for version in ProtocolVersion::ALL {
            for m in methods(version) {
                assert!(
                    set.has_definition(version, m.message),
                    "{version}: {} missing",
                    m.message
                );
                if let Some(r) = m.result {
                    assert!(set.has_definition(version, r), "{version}: {r} missing");
                }
            }
            // Every definition naming a method by `const` is in the table.
            let doc: Value = serde_json::from_str(embedded_schema_text(version)).unwrap();
            for (name, def) in doc["$defs"].as_object().unwrap() {
                if let Some(method) = def
                    .pointer("/properties/method/const")
                    .and_then(Value::as_str)
                {
                    // 2026-07-28: sampling/roots/elicitation requests live inside InputRequiredResult
                    // (no `jsonrpc`): they are not JSON-RPC methods any more.
                    let embedded =
                        version.is_stateless() && def.pointer("/properties/jsonrpc").is_none();
                    if (name.ends_with("Request") || name.ends_with("Notification")) && !embedded {
                        let m = method_definitions(version, method).unwrap_or_else(|| {
                            panic!("{version}: {method} ({name}) not in the method table")
                        });
                        assert_eq!(m.message, name, "{version} {method}");
                    }
                }
            }
        }
    }

    #[test]
    fn call_tool_result_without_content() {
        let set = set();
        let msg = json!({"jsonrpc": "2.0", "id": 1, "result": {"isError": false}});
        let findings = set.validate_message(
            ProtocolVersion::V2025_06_18,
            &msg,
            Sender::Server,
            Some("tools/call"),
        );
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.definition, "CallToolResult");
        assert_eq!(f.instance_path, "/result");
        assert_eq!(f.rule, "required");
        assert_eq!(f.schema_path, "/$defs/CallToolResult/required");
        assert!(f.message.contains("content"), "{f:?}");
    }

    #[test]
    fn image_content_without_mime_type() {
        let set = set();
        let msg = json!({"jsonrpc": "2.0", "id": 7, "result": {
            "content": [{"type": "text", "text": "ok"}, {"type": "image", "data": "aGVsbG8="}]
        }});
        let findings = set.validate_message(
            ProtocolVersion::V2025_06_18,
            &msg,
            Sender::Server,
            Some("tools/call"),
        );
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.definition, "CallToolResult");
        assert_eq!(f.instance_path, "/result/content/1");
        assert_eq!(f.rule, "required");
        assert_eq!(f.schema_path, "/$defs/ImageContent/required");
        assert!(f.message.contains("mimeType"), "{f:?}");
        assert!(f.message.contains("ImageContent"), "{f:?}");
    }

    #[test]
    fn unknown_content_type_names_the_alternatives() {
        let set = set();
        let msg = json!({"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "video", "data": "x"}]}});
        let findings = set.validate_message(
            ProtocolVersion::V2025_06_18,
            &msg,
            Sender::Server,
            Some("tools/call"),
        );
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].instance_path, "/result/content/0");
        assert_eq!(findings[0].rule, "anyOf");
        assert!(findings[0].message.contains("\"image\""), "{findings:?}");
    }

    #[test]
    fn requests_notifications_errors_and_unknown_methods() {
        let set = set();
        let v = ProtocolVersion::V2025_06_18;
        let ok = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {}}});
        assert_eq!(set.validate_message(v, &ok, Sender::Client, None), vec![]);
        let bad =
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"arguments": {}}});
        let f = set.validate_message(v, &bad, Sender::Client, None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].definition.as_str(), f[0].instance_path.as_str()),
            ("CallToolRequest", "/params")
        );
        let note = json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1}});
        let f = set.validate_message(v, &note, Sender::Server, None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].rule, "required");
        let err = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}});
        let f = set.validate_message(v, &err, Sender::Server, Some("tools/call"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].definition.as_str(), f[0].instance_path.as_str()),
            ("JSONRPCError", "/error/code")
        );
        let unknown =
            json!({"jsonrpc": "2.0", "id": 1, "method": "x/y", "params": {"anything": 1}});
        assert_eq!(
            set.validate_message(v, &unknown, Sender::Client, None),
            vec![]
        );
        let unknown_result = json!({"jsonrpc": "2.0", "id": 1, "result": {"anything": 1}});
        assert_eq!(
            set.validate_message(v, &unknown_result, Sender::Server, Some("x/y")),
            vec![]
        );
        let wrong_side = json!({"jsonrpc": "2.0", "id": 1, "method": "roots/list"});
        let f = set.validate_message(v, &wrong_side, Sender::Client, None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].rule, "method");
    }

    #[test]
    fn stateless_results_need_result_type_and_may_ask_for_input() {
        let set = set();
        let v = ProtocolVersion::V2026_07_28;
        let msg = json!({"jsonrpc": "2.0", "id": 1, "result": {"content": []}});
        let f = set.validate_message(v, &msg, Sender::Server, Some("tools/call"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].instance_path.as_str(), f[0].rule.as_str()),
            ("/result", "required")
        );
        assert!(f[0].message.contains("resultType"), "{f:?}");
        let input = json!({"jsonrpc": "2.0", "id": 1, "result": {
            "resultType": "input_required",
            "inputRequests": {"r1": {"method": "roots/list"}},
            "requestState": "opaque"
        }});
        assert_eq!(
            set.validate_message(v, &input, Sender::Server, Some("tools/call")),
            vec![]
        );
        let bad_input = json!({"jsonrpc": "2.0", "id": 1, "result": {
            "resultType": "input_required", "inputRequests": {"r1": {"method": "elicitation/create", "params": {"mode": "url"}}}
        }});
        let f = set.validate_message(v, &bad_input, Sender::Server, Some("tools/call"));
        assert!(!f.is_empty());
        assert!(
            f.iter().all(|f| f.definition == "InputRequiredResult"
                && f.instance_path.starts_with("/result/inputRequests/r1")),
            "{f:#?}"
        );
        // A request without the per-request `_meta` is reported at /params.
        let req = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
        let f = set.validate_message(v, &req, Sender::Client, None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].instance_path.as_str(), f[0].rule.as_str()),
            ("/params", "required")
        );
    }

    #[test]
    fn base64_format() {
        for ok in ["", "aGVsbG8=", "aGVsbG8", "aGk=", "aGk", "AAAA"] {
            assert!(is_base64(ok), "{ok}");
        }
        for bad in ["a", "aGVsbG8===", "a=b=", "not base64!", "aGk=="] {
            assert!(!is_base64(bad), "{bad}");
        }
    }
}

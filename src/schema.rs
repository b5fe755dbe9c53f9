//! JSON Schema validation of MCP messages against the schemas authored in `schemas/`.
//!
//! Owns: loading `schemas/<version>/schema.json` (embedded in the binary, or from
//! `--schema-dir`), compiling validators once per run, and choosing the definition
//! for a message from its method (a `tools/call` request's params, its result as
//! `CallToolResult`, notifications by method, errors as `JSONRPCError`).
//! Must never do network IO and never decide a verdict: it returns findings only.
//!
//! PLACEHOLDER: the API below is fixed; the implementation is being written (issue 4).

use crate::spec::ProtocolVersion;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

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

/// Compiled validators for every protocol version. Cheap to share (`Arc`).
pub struct SchemaSet {
    _private: (),
}

impl SchemaSet {
    /// The schemas compiled into the binary from `schemas/`.
    pub fn embedded() -> Result<Arc<SchemaSet>, String> {
        Ok(Arc::new(SchemaSet { _private: () }))
    }

    /// Schemas from another directory laid out like `schemas/` (`--schema-dir`).
    pub fn from_dir(_dir: &Path) -> Result<Arc<SchemaSet>, String> {
        Ok(Arc::new(SchemaSet { _private: () }))
    }

    /// Whether `definition` exists for `version`.
    pub fn has_definition(&self, _version: ProtocolVersion, _definition: &str) -> bool {
        false
    }

    /// Validate `instance` against one named definition. Findings' instance paths are
    /// relative to `instance`.
    pub fn validate_definition(
        &self,
        _version: ProtocolVersion,
        _definition: &str,
        _instance: &Value,
    ) -> Vec<SchemaFinding> {
        Vec::new()
    }

    /// Validate a whole JSON-RPC message. `request_method` is the method of the request
    /// that a response answers (None for requests and notifications, or when unknown).
    /// Findings' instance paths are relative to the message (`/result/...`, `/params/...`).
    pub fn validate_message(
        &self,
        _version: ProtocolVersion,
        _message: &Value,
        _sender: Sender,
        _request_method: Option<&str>,
    ) -> Vec<SchemaFinding> {
        Vec::new()
    }
}

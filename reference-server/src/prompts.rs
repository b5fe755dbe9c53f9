//! Prompts: the official fixtures (`test_*`) plus `code_review`, with argument checks.
//!
//! Messages only use the roles `user` and `assistant`. This module must never do IO.

use serde_json::{Map, Value, json};

use crate::defects::Defect;
use crate::jsonrpc::RpcError;
use crate::media;
use crate::pagination;
use crate::server::Ctx;
use crate::version::Version;

pub(crate) struct PromptDef {
    pub name: &'static str,
    title: &'static str,
    description: &'static str,
    /// (name, description, required)
    pub args: &'static [(&'static str, &'static str, bool)],
}

pub(crate) const PROMPTS: &[PromptDef] = &[
    PromptDef {
        name: "test_simple_prompt",
        title: "Simple prompt",
        description: "A prompt without arguments",
        args: &[],
    },
    PromptDef {
        name: "test_prompt_with_arguments",
        title: "Prompt with arguments",
        description: "A prompt with two required arguments",
        args: &[
            ("arg1", "First test argument", true),
            ("arg2", "Second test argument", true),
        ],
    },
    PromptDef {
        name: "test_prompt_with_embedded_resource",
        title: "Prompt with embedded resource",
        description: "A prompt that embeds a resource",
        args: &[("resourceUri", "URI of the resource to embed", true)],
    },
    PromptDef {
        name: "test_prompt_with_image",
        title: "Prompt with image",
        description: "A prompt with an image",
        args: &[],
    },
    PromptDef {
        name: "code_review",
        title: "Code review",
        description: "Asks for a review of a piece of code",
        args: &[
            ("language", "Programming language (completable)", true),
            ("code", "The code to review", true),
            ("focus", "What to focus on", false),
        ],
    },
];

fn prompt_json(ctx: &Ctx, p: &PromptDef) -> Value {
    let v = ctx.version();
    let mut m = Map::new();
    if !ctx.has(Defect::PromptsListBadSchema) {
        m.insert("name".into(), json!(p.name));
    }
    if v >= Version::V2025_06_18 {
        m.insert("title".into(), json!(p.title));
    }
    m.insert("description".into(), json!(p.description));
    if !p.args.is_empty() {
        let args: Vec<Value> = p
            .args
            .iter()
            .map(|(n, d, r)| json!({"name": n, "description": d, "required": r}))
            .collect();
        m.insert("arguments".into(), Value::Array(args));
    }
    Value::Object(m)
}

pub(crate) fn list(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let items = PROMPTS.iter().map(|p| prompt_json(ctx, p)).collect();
    pagination::page(ctx, "prompts", "prompts", items, params)
}

fn user_text(t: impl Into<String>) -> Value {
    json!({"role": "user", "content": {"type": "text", "text": t.into()}})
}

pub(crate) fn get(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("prompts/get: name (string) is required"))?;
    let args = match params.get("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(RpcError::invalid_params(
                "prompts/get: arguments must be an object",
            ));
        }
    };
    if let Some((k, _)) = args.iter().find(|(_, v)| !v.is_string()) {
        return Err(RpcError::invalid_params(format!(
            "prompts/get: argument {k} must be a string"
        )));
    }
    let Some(def) = PROMPTS.iter().find(|p| p.name == name) else {
        if ctx.has(Defect::UnknownPromptSucceeds) {
            return Ok(json!({"messages": [user_text("ok")]}));
        }
        return Err(RpcError::invalid_params(format!("Unknown prompt: {name}")));
    };
    if !ctx.has(Defect::MissingPromptArgAccepted) {
        let missing: Vec<&str> = def
            .args
            .iter()
            .filter(|(n, _, req)| *req && !args.contains_key(*n))
            .map(|(n, _, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(RpcError::invalid_params(format!(
                "prompts/get {name}: missing required argument(s): {}",
                missing.join(", ")
            )));
        }
    }
    let arg = |k: &str| {
        args.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut messages = match name {
        "test_simple_prompt" => vec![user_text("This is a simple prompt for testing.")],
        "test_prompt_with_arguments" => {
            vec![user_text(format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1"),
                arg("arg2")
            ))]
        }
        "test_prompt_with_embedded_resource" => vec![
            json!({"role": "user", "content": {"type": "resource", "resource": {
                "uri": arg("resourceUri"), "mimeType": "text/plain",
                "text": "Embedded resource content for testing."}}}),
            user_text("Please process the embedded resource above."),
        ],
        "test_prompt_with_image" => vec![
            json!({"role": "user", "content": {"type": "image", "data": media::PNG_BASE64, "mimeType": "image/png"}}),
            user_text("Please analyze the image above."),
        ],
        "code_review" => {
            let focus = args
                .get("focus")
                .and_then(Value::as_str)
                .map(|f| format!(" Focus on {f}."))
                .unwrap_or_default();
            vec![
                user_text(format!(
                    "Please review this {} code:{focus}\n\n{}",
                    arg("language"),
                    arg("code")
                )),
                json!({"role": "assistant", "content": {"type": "text",
                    "text": format!("I will review the {} code for correctness, clarity and style.", arg("language"))}}),
            ]
        }
        _ => vec![user_text("ok")],
    };
    if ctx.has(Defect::PromptBadRole)
        && let Some(first) = messages.first_mut()
    {
        first["role"] = json!("system");
    }
    Ok(json!({"description": def.description, "messages": messages}))
}

//! Prompts: the official fixtures (`test_*`) plus `code_review`, with argument checks.
//!
//! Messages only use the roles `user` and `assistant`. This module must never do IO.

use serde_json::{Map, Value, json};

use crate::defects::Defect;
use crate::jsonrpc::RpcError;
use crate::media;
use crate::pagination;
use crate::server::{Ctx, Extra};
use crate::version::Version;

pub(crate) struct PromptDef {
    pub name: &'static str,
    title: &'static str,
    description: &'static str,
    /// (name, description, required)
    pub args: &'static [(&'static str, &'static str, bool)],
}

const EXTRA_PROMPT: PromptDef = PromptDef {
    name: "extra_prompt",
    title: "Extra prompt",
    description: "A prompt that exists only while toggled on (toggle_extra_prompt)",
    args: &[],
};

/// The prompts offered to this request, in a fixed order.
const MRTR_PROMPT: PromptDef = PromptDef {
    name: "test_input_required_result_prompt",
    title: "MRTR prompt",
    description: "Asks the user for context through an InputRequiredResult (2026-07-28)",
    args: &[],
};

fn offered(ctx: &Ctx) -> Vec<&'static PromptDef> {
    let mut v: Vec<&'static PromptDef> = PROMPTS.iter().collect();
    if ctx.req.modern {
        v.push(&MRTR_PROMPT);
    }
    if ctx.extra_enabled(Extra::Prompt) {
        v.push(&EXTRA_PROMPT);
    }
    v
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
    if v >= Version::V2025_11_25 {
        m.insert("icons".into(), crate::tools::icon_list());
    }
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
    let items = offered(ctx)
        .into_iter()
        .map(|p| prompt_json(ctx, p))
        .collect();
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
    let args = if ctx.has(Defect::PromptNonStringArgAccepted) {
        // The bug: non-string values are stringified instead of refused.
        args.into_iter()
            .map(|(k, v)| match v {
                Value::String(_) => (k, v),
                other => (k, Value::String(other.to_string())),
            })
            .collect()
    } else {
        args
    };
    if let Some((k, _)) = args.iter().find(|(_, v)| !v.is_string()) {
        return Err(RpcError::invalid_params(format!(
            "prompts/get: argument {k} must be a string"
        )));
    }
    let Some(def) = offered(ctx).into_iter().find(|p| p.name == name) else {
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
    // The embedded resource's `uri` is a URI (schema: `format: uri`): an argument that
    // is not one is refused rather than sent on as an invalid message.
    if name == "test_prompt_with_embedded_resource"
        && let Some(uri) = args.get("resourceUri").and_then(Value::as_str)
        && !is_absolute_uri(uri)
    {
        return Err(RpcError::invalid_params(format!(
            "prompts/get {name}: resourceUri must be an absolute URI, got {uri:?}"
        )));
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
        "extra_prompt" => vec![user_text("This prompt was added at run time.")],
        "test_input_required_result_prompt" => {
            // Multi round-trip: the prompt needs context from the user first.
            if !ctx.client_supports_form_elicitation()
                && !ctx.has(Defect::ElicitationWithoutCapability)
            {
                return Err(RpcError::new(
                    crate::jsonrpc::MISSING_REQUIRED_CLIENT_CAPABILITY,
                    "Server requires the elicitation capability for this request",
                )
                .with_data(json!({"requiredCapabilities": {"elicitation": {}}})));
            }
            let at_once = json!({});
            let answer = match ctx.req.input_responses.get("user_context") {
                None if ctx.has(Defect::MrtrCompleteAtOnce) => Some(&at_once),
                other => other,
            };
            let Some(answer) = answer else {
                let request = json!({"user_context": {"method": "elicitation/create", "params": {
                    "mode": "form",
                    "message": "What context should the prompt use?",
                    "requestedSchema": {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}
                }}});
                return Ok(crate::modern::input_required(ctx, request, ""));
            };
            let context = answer
                .pointer("/content/context")
                .and_then(Value::as_str)
                .unwrap_or("(none)");
            vec![user_text(format!("Answer using this context: {context}"))]
        }
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
    match name {
        "test_prompt_with_arguments" if ctx.has(Defect::PromptArgsNotSubstituted) => {
            messages = vec![user_text("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")];
        }
        "test_prompt_with_embedded_resource" if ctx.has(Defect::PromptEmbeddedResourceMissing) => {
            messages.retain(|m| m.pointer("/content/type") != Some(&json!("resource")));
        }
        "test_prompt_with_image" if ctx.has(Defect::PromptImageMissingData) => {
            for m in &mut messages {
                if let Some(c) = m.get_mut("content").and_then(Value::as_object_mut)
                    && c.get("type") == Some(&json!("image"))
                {
                    c.remove("data");
                }
            }
        }
        _ => {}
    }
    // Mime types dropped from image and embedded-resource content, wherever it appears.
    for m in &mut messages {
        let Some(c) = m.get_mut("content").and_then(Value::as_object_mut) else { continue };
        let kind = c.get("type").and_then(Value::as_str).unwrap_or("").to_string();
        if kind == "image" && ctx.has(Defect::PromptImageMissingMimeType) {
            c.remove("mimeType");
        }
        if kind == "resource"
            && ctx.has(Defect::PromptEmbeddedResourceNoMimeType)
            && let Some(r) = c.get_mut("resource").and_then(Value::as_object_mut)
        {
            r.remove("mimeType");
        }
    }
    if ctx.has(Defect::PromptBadRole)
        && let Some(first) = messages.first_mut()
    {
        first["role"] = json!("system");
    }
    Ok(json!({"description": def.description, "messages": messages}))
}

/// RFC 3986 section 3: a scheme (a letter, then letters, digits, `+`, `-`, `.`), a
/// colon, and the rest made of URI characters only (section 2: unreserved, reserved,
/// and `%` followed by two hex digits).
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut sc = scheme.chars();
    if !sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return false;
    }
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if i + 2 >= b.len() || !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
            continue;
        }
        let ok = c.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&c);
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

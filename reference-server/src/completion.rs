//! `completion/complete`: argument completion for prompt arguments and resource
//! template variables, filtered by prefix, at most 100 values with `total`/`hasMore`.
//!
//! This module must never do IO and never return more than 100 values.

use serde_json::{Map, Value, json};

use crate::defects::Defect;
use crate::jsonrpc::RpcError;
use crate::prompts::PROMPTS;
use crate::resources::TEMPLATES;
use crate::server::Ctx;

pub const MAX_VALUES: usize = 100;

const LANGUAGES: &[&str] = &[
    "c",
    "clojure",
    "cpp",
    "csharp",
    "dart",
    "elixir",
    "erlang",
    "fsharp",
    "go",
    "haskell",
    "java",
    "javascript",
    "julia",
    "kotlin",
    "lua",
    "ocaml",
    "perl",
    "php",
    "python",
    "r",
    "ruby",
    "rust",
    "scala",
    "swift",
    "typescript",
    "zig",
];
const COLORS: &[&str] = &[
    "black", "blue", "brown", "cyan", "gray", "green", "magenta", "orange", "pink", "purple",
    "red", "white", "yellow",
];
const GREETING_LANGS: &[&str] = &["de", "en", "es", "fr"];

fn candidates(
    ref_type: &str,
    ref_name: &str,
    arg: &str,
    context: &Map<String, Value>,
) -> Option<Vec<String>> {
    let owned = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Some(match (ref_type, ref_name, arg) {
        ("ref/prompt", "code_review", "language") => owned(LANGUAGES),
        ("ref/prompt", "code_review", "focus") => {
            owned(&["correctness", "performance", "readability", "security"])
        }
        ("ref/prompt", "test_prompt_with_arguments", "arg1") => {
            owned(&["alpha", "alpine", "beta", "gamma"])
        }
        ("ref/prompt", "test_prompt_with_arguments", "arg2") => owned(&["one", "two", "three"]),
        ("ref/prompt", "test_prompt_with_embedded_resource", "resourceUri") => owned(&[
            "test://static-text",
            "test://static-binary",
            "test://watched-resource",
        ]),
        ("ref/resource", "test://template/{id}/data", "id") => {
            (1..=250).map(|i| i.to_string()).collect()
        }
        ("ref/resource", "test://users/{userId}", "userId")
        | ("ref/resource", "test://users/{userId}/posts/{postId}", "userId") => {
            (1..=20).map(|i| format!("user{i}")).collect()
        }
        ("ref/resource", "test://users/{userId}/posts/{postId}", "postId") => {
            // Posts depend on the user already chosen (context.arguments, 2025-06-18+).
            let user = context
                .get("userId")
                .and_then(Value::as_str)
                .unwrap_or("user1");
            (1..=5).map(|i| format!("{user}-post{i}")).collect()
        }
        ("ref/resource", "test://colors/{color}", "color") => owned(COLORS),
        ("ref/resource", "test://lang/{language}/greeting", "language") => owned(GREETING_LANGS),
        _ => return None,
    })
}

pub(crate) fn complete(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let r = params
        .get("ref")
        .and_then(Value::as_object)
        .ok_or_else(|| RpcError::invalid_params("completion/complete: ref (object) is required"))?;
    let ref_type = r.get("type").and_then(Value::as_str).unwrap_or("");
    let ref_name = match ref_type {
        "ref/prompt" => r.get("name").and_then(Value::as_str),
        "ref/resource" => r.get("uri").and_then(Value::as_str),
        _ => {
            return Err(RpcError::invalid_params(
                "completion/complete: ref.type must be ref/prompt or ref/resource",
            ));
        }
    }
    .ok_or_else(|| {
        RpcError::invalid_params("completion/complete: ref.name / ref.uri is required")
    })?;
    let argument = params
        .get("argument")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            RpcError::invalid_params("completion/complete: argument (object) is required")
        })?;
    let (Some(arg_name), Some(prefix)) = (
        argument.get("name").and_then(Value::as_str),
        argument.get("value").and_then(Value::as_str),
    ) else {
        return Err(RpcError::invalid_params(
            "completion/complete: argument.name and argument.value (strings) are required",
        ));
    };
    let known = match ref_type {
        "ref/prompt" => PROMPTS.iter().any(|p| p.name == ref_name),
        _ => TEMPLATES.iter().any(|t| t.uri_template == ref_name),
    };
    if !known && ctx.has(Defect::CompletionUnknownRefAccepted) {
        return Ok(json!({"completion": {"values": [], "total": 0, "hasMore": false}}));
    }
    if !known {
        return Err(RpcError::invalid_params(format!(
            "completion/complete: unknown {ref_type} {ref_name}"
        )));
    }
    // The bug: a server built against 2025-03-26 refuses the 2025-06-18 `context`.
    if ctx.has(Defect::CompletionContextRejected) && params.contains_key("context") {
        return Err(RpcError::invalid_params(
            "completion/complete: unknown parameter context",
        ));
    }
    let context = params
        .get("context")
        .and_then(|c| c.get("arguments"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let all = candidates(ref_type, ref_name, arg_name, &context).unwrap_or_default();
    let ignore_prefix = ctx.has(Defect::CompletionIgnoresPrefix);
    let matching: Vec<String> = all
        .into_iter()
        .filter(|v| ignore_prefix || v.starts_with(prefix))
        .collect();
    let total = matching.len();
    let limit = if ctx.has(Defect::CompletionTooManyValues) { usize::MAX } else { MAX_VALUES };
    let mut values: Vec<String> = matching.into_iter().take(limit).collect();
    if ctx.has(Defect::CompletionTooManyValues) {
        // The defect must show on any completion, not only on long candidate lists.
        values.extend((values.len()..=MAX_VALUES).map(|i| format!("{prefix}extra-{i}")));
    }
    let has_more = values.len() < total && !ctx.has(Defect::CompletionWrongHasMore);
    Ok(json!({"completion": {"values": values, "total": total, "hasMore": has_more}}))
}

//! Fuzz findings as replayable case files (`schemas/case.schema.json`): `setup:
//! "none"`, one `raw` step per frame with the exact bytes, and expectations that
//! encode the broken invariant, so `mcp-conform run --cases DIR` fails the same way.

use super::generators::FuzzMessage;
use super::invariants::{Answer, Class, Expect, Violation};
use crate::spec::{ProtocolVersion, TransportKind};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub struct CaseInput<'a> {
    pub id: String,
    pub messages: &'a [FuzzMessage],
    pub planned: &'a [Vec<Expect>],
    /// The violation to encode.
    pub violation: &'a Violation,
    /// What the target answered each message in the minimal replay.
    pub answers: &'a HashMap<usize, Vec<Answer>>,
    /// What the reference answered (differential findings).
    pub reference_answers: Option<&'a HashMap<usize, Vec<Answer>>>,
    pub version: ProtocolVersion,
    pub transport: TransportKind,
    pub defect: Option<&'a str>,
    pub description: String,
}

/// The result schema definition for a method, for `expect.schema`.
pub fn result_definition(method: &str) -> Option<&'static str> {
    Some(match method {
        "initialize" => "InitializeResult",
        "tools/list" => "ListToolsResult",
        "tools/call" => "CallToolResult",
        "resources/list" => "ListResourcesResult",
        "resources/templates/list" => "ListResourceTemplatesResult",
        "resources/read" => "ReadResourceResult",
        "prompts/list" => "ListPromptsResult",
        "prompts/get" => "GetPromptResult",
        "completion/complete" => "CompleteResult",
        "server/discover" => "DiscoverResult",
        _ => return None,
    })
}

fn spec_link(kind: &str) -> Value {
    match kind {
        "server-exited" | "invalid-output" => json!({"default": "basic/transports#stdio"}),
        "not-responsive" => json!({"default": "basic/utilities/ping", "2026-07-28": "server/discover"}),
        "schema" => json!({"2024-11-05": "basic/messages", "default": "basic#messages"}),
        _ => json!({"2024-11-05": "basic/messages#responses", "default": "basic#responses", "2026-07-28": "basic#responses"}),
    }
}

fn expect_of_class(class: &Class) -> Value {
    match class {
        Class::Any => json!({"outcome": "any"}),
        Class::Result => json!({"outcome": "result"}),
        Class::Error(codes) if codes.is_empty() => json!({"outcome": "error"}),
        Class::Error(codes) => json!({"error": {"codes": codes}}),
    }
}

/// Build the case file's JSON. Fails when the bytes cannot be written as a case
/// (`raw` is text: invalid UTF-8 cannot be replayed byte for byte).
pub fn build(input: &CaseInput<'_>) -> Result<Value, String> {
    let v = input.violation;
    let mut steps: Vec<Value> = Vec::new();
    let mut stdio_only = false;
    let mut trailing_silence = false;
    for (i, m) in input.messages.iter().enumerate() {
        let text = std::str::from_utf8(&m.bytes)
            .map_err(|_| format!("message #{} ({}) is not valid UTF-8: a case file's raw step is text", i + 1, m.label))?;
        if text.contains("${") {
            return Err(format!("message #{} contains `${{`, which a case file would substitute", i + 1));
        }
        let frames: Vec<&str> = if input.transport == TransportKind::Stdio { text.split('\n').collect() } else { vec![text] };
        stdio_only |= frames.len() > 1;
        let answered = input.answers.get(&i).map(Vec::len).unwrap_or(0);
        let subject = v.msg == Some(i);
        for (j, frame) in frames.iter().enumerate() {
            let expect = input.planned[i].get(j).or(input.planned[i].first());
            let mut step = Map::new();
            step.insert("raw".into(), json!(frame));
            step.insert("label".into(), json!(format!("message #{} ({}){}", i + 1, m.label, if frames.len() > 1 { format!(", line {}", j + 1) } else { String::new() })));
            // A reply a conforming server owes is always awaited (so the case passes on
            // one); other answers only when the replay showed them.
            let owed = matches!(expect, Some(Expect::Reply(r)) if !r.optional);
            let mut e: Option<Value> = if owed || j < answered { Some(json!({"outcome": "any"})) } else { None };
            if subject {
                match v.kind {
                    "id-mismatch" => {
                        if let Some(Expect::Reply(r)) = expect {
                            e = Some(json!({"outcome": "any", "match": {"id": r.id.to_value()}}));
                        }
                    }
                    "error-class" => {
                        e = match expect {
                            Some(Expect::Reply(r)) => Some(expect_of_class(&r.class)),
                            Some(Expect::NullError(n)) => Some(expect_of_class(&Class::Error(n.codes.clone()))),
                            _ => e,
                        };
                    }
                    "schema" => {
                        let def = m.method.as_deref().and_then(result_definition);
                        e = Some(match def {
                            Some(d) => json!({"outcome": "any", "schema": d}),
                            None => json!({"outcome": "any"}),
                        });
                    }
                    "no-response" | "unanswered-invalid" => {
                        e = Some(json!({"outcome": if v.kind == "no-response" { "any" } else { "error" }}));
                    }
                    "divergence" => {
                        let reference = input.reference_answers.and_then(|a| a.get(&i)).and_then(|a| a.first());
                        match reference {
                            Some(Answer::Error(Some(code))) => e = Some(json!({"error": {"codes": [code]}})),
                            Some(Answer::Error(None)) => e = Some(json!({"outcome": "error"})),
                            Some(Answer::Result(members)) => {
                                let asserts: Vec<Value> = members.iter().map(|k| json!({"pointer": format!("/result/{}", k.replace('~', "~0").replace('/', "~1")), "exists": true})).collect();
                                e = Some(json!({"outcome": "result", "assert": asserts}));
                            }
                            None => {
                                e = None;
                                trailing_silence = true;
                            }
                        }
                    }
                    _ => {}
                }
                if e.is_some() {
                    step.insert("level".into(), json!(v.level.as_str()));
                }
            }
            if let Some(e) = e {
                step.insert("expect".into(), e);
            }
            steps.push(Value::Object(step));
            if subject && trailing_silence {
                steps.push(json!({"no_response_ms": 300, "label": "the reference server does not answer", "level": v.level.as_str()}));
                trailing_silence = false;
            }
        }
    }
    match v.kind {
        "duplicate-response" | "unsolicited-response" | "invalid-output" => {
            steps.push(json!({"no_response_ms": 500, "label": "nothing more may arrive", "level": v.level.as_str()}));
        }
        "server-exited" | "not-responsive" => {
            let method = if input.version.is_stateless() { "server/discover" } else { "ping" };
            steps.push(json!({"request": {"method": method}, "expect": {"outcome": "result"}, "label": "the server still answers", "level": v.level.as_str()}));
        }
        _ => {}
    }
    let mut case = json!({
        "id": input.id,
        "title": format!("fuzz: {}", truncate(&v.message, 160)),
        "description": input.description,
        "spec": spec_link(v.kind),
        "level": v.level.as_str(),
        "versions": [input.version.as_str()],
        "setup": "none",
        "steps": steps,
        "defects": [input.defect.unwrap_or("fuzz-found")],
    });
    if stdio_only {
        case["transports"] = json!(["stdio"]);
    }
    Ok(case)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

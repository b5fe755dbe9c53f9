//! SARIF 2.1.0 (`--sarif`), for code-scanning dashboards.
//!
//! One rule per check id (its title as the short description, its spec link as
//! `helpUri`, its level as a property); one result per `fail` (level `error`),
//! `xpass` (`error`: a stale baseline entry) and `warn` (`warning`). Passing, skipped
//! and expected failures are not results. A result's location is the server under
//! test (its URL or program, at line 1: viewers want a region) plus a logical
//! location naming the trial; its
//! `partialFingerprints` make the same finding on the next run the same alert.

use super::{CheckResult, Report};
use crate::verdict::Status;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn to_value(report: &Report) -> Value {
    // Rules: one per check id, in first-seen order; the link of the newest version.
    let mut rules: Vec<(&str, &CheckResult)> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &report.results {
        match index.get(r.id.as_str()) {
            Some(&i) => {
                if r.spec_version > rules[i].1.spec_version {
                    rules[i].1 = r;
                }
            }
            None => {
                index.insert(&r.id, rules.len());
                rules.push((&r.id, r));
            }
        }
    }
    let rules_json: Vec<Value> = rules
        .iter()
        .map(|(id, r)| {
            let title = if r.title.is_empty() { id.to_string() } else { r.title.clone() };
            json!({
                "id": id,
                "name": rule_name(id),
                "shortDescription": {"text": title},
                "fullDescription": {"text": format!("{} ({} rule of the MCP specification)", title, r.level.as_str())},
                "helpUri": r.spec,
                "help": {"text": format!("See {}", r.spec)},
                "defaultConfiguration": {"level": if r.level == crate::spec::Level::Must { "error" } else { "warning" }},
                "properties": {"level": r.level.as_str(), "tags": [r.area(), "mcp", "conformance"]}
            })
        })
        .collect();

    let artifact = match (&report.target.url, &report.target.command) {
        (Some(u), _) => u.clone(),
        (None, Some(cmd)) => cmd.first().cloned().unwrap_or_else(|| "mcp-server".into()),
        (None, None) => "mcp-server".into(),
    };
    let results: Vec<Value> = report
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Xpass | Status::Warn))
        .map(|r| {
            let level = if r.status == Status::Warn { "warning" } else { "error" };
            let text = match r.status {
                Status::Xpass => format!(
                    "{}: expected to fail ({}) but passed; the baseline entry is stale",
                    r.trial_name(),
                    report.baseline_reason(&r.trial_name()).unwrap_or("")
                ),
                _ if r.message.is_empty() => format!("{}: {}", r.trial_name(), r.status.as_str()),
                _ => format!("{}: {}", r.trial_name(), r.message),
            };
            json!({
                "ruleId": r.id,
                "ruleIndex": index[r.id.as_str()],
                "level": level,
                "kind": "fail",
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact},
                        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}
                    },
                    "logicalLocations": [{"fullyQualifiedName": r.trial_name(), "kind": "function"}]
                }],
                "partialFingerprints": {"mcpConformTrial/v1": r.trial_name()},
                "properties": {
                    "status": r.status.as_str(),
                    "spec_version": r.spec_version,
                    "transport": r.transport,
                    "spec": r.spec,
                    "duration_ms": r.duration_ms
                }
            })
        })
        .collect();

    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": "https://modelcontextprotocol.io/specification",
                "rules": rules_json
            }},
            "automationDetails": {"id": format!("mcp-conform/{}/{}/", report.target.transport, report.spec_version)},
            "results": results,
            "properties": {"summary": report.summary, "spec_version": report.spec_version}
        }]
    })
}

/// A rule's readable name, distinct from its id as SARIF asks: `lifecycle/ping` -> `LifecyclePing`.
pub fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

pub fn to_string(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(report)).expect("SARIF always serialises");
    s.push('\n');
    s
}

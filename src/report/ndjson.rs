//! The NDJSON stream (`--ndjson F|-`): one JSON object per line, written as each check
//! finishes (through the runner's `on_result` hook), then one closing summary line.
//!
//! - `{"type":"result", ...}`: a result object exactly as in the JSON report's
//!   `results` (GUIDE section 3), plus `"type"`. Its status is the check's verdict with
//!   the baseline's `xfail` already applied; `xpass` can only be decided once every
//!   result of an entry is in, so it appears in the summary line's counts and
//!   `xpass` list, not in result lines.
//! - `{"type":"summary", ...}`: the JSON report without `results` (report_version,
//!   tool, target, spec_version, summary, baseline, shard), plus `"xpass"`: the trial
//!   names whose status became `xpass` at the end.
//!
//! Lines are in completion order, not report order.

use super::{CheckResult, Report};
use crate::verdict::Status;
use serde_json::{Map, Value};

pub fn result_line(r: &CheckResult) -> String {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from("result"));
    if let Value::Object(fields) = serde_json::to_value(r).expect("a result always serialises") {
        obj.extend(fields);
    }
    let mut s = serde_json::to_string(&Value::Object(obj)).expect("a result always serialises");
    s.push('\n');
    s
}

pub fn summary_line(report: &Report) -> String {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from("summary"));
    if let Value::Object(fields) = serde_json::to_value(report).expect("a report always serialises") {
        obj.extend(fields.into_iter().filter(|(k, _)| k != "results"));
    }
    let xpass: Vec<Value> =
        report.results.iter().filter(|r| r.status == Status::Xpass).map(|r| Value::from(r.trial_name())).collect();
    obj.insert("xpass".into(), Value::Array(xpass));
    let mut s = serde_json::to_string(&Value::Object(obj)).expect("a report always serialises");
    s.push('\n');
    s
}

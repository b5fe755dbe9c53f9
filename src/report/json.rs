//! The JSON report (GUIDE section 3), pretty-printed.

use super::Report;

pub fn to_string(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
    s.push('\n');
    s
}

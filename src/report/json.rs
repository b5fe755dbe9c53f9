//! The JSON report (GUIDE section 3), pretty-printed.

use super::Report;

/// The report, pretty-printed, straight into `w`.
pub fn write_to(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

pub fn to_string(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
    s.push('\n');
    s
}

/// The JSON Schema of this report (`schemas/report.schema.json`).
pub const SCHEMA: &str = include_str!("../../schemas/report.schema.json");

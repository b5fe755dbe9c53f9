//! The human summary printed at the end of a run: failures first, each with its spec
//! link and message, then warnings, then a one-line count.

use super::Report;
use crate::verdict::Status;
use std::fmt::Write;

pub fn summary(report: &Report, color: bool) -> String {
    let paint = |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
    let mut out = String::new();
    for (status, code) in [(Status::Fail, "31"), (Status::Xpass, "35"), (Status::Warn, "33")] {
        for r in report.results.iter().filter(|r| r.status == status) {
            let tag = paint(code, &status.as_str().to_uppercase());
            let _ = writeln!(out, "{tag} {} [{} {}] ({})", r.trial_name(), r.level.as_str(), r.title, r.spec);
            for line in r.message.split("; ").take(8) {
                let _ = writeln!(out, "     {line}");
            }
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} checks: {} passed, {} failed, {} warned, {} skipped, {} xfail, {} xpass",
        s.total(),
        paint("32", &s.pass.to_string()),
        paint(if s.fail > 0 { "31" } else { "0" }, &s.fail.to_string()),
        s.warn,
        s.skip,
        s.xfail,
        s.xpass
    );
    out
}

//! The human summary printed at the end of a run: a compact table of counts per
//! version x transport, then the failures (and stale baseline passes) with their spec
//! links and messages, then the warnings (each check once per transport, with the
//! versions it concerns: the newest version's link and message stand for the group), then the baseline's stale and unused
//! entries, then a one-line total. Colour only when asked (the caller decides: a
//! terminal, and `NO_COLOR` unset).

use super::{EntryState, Report};
use crate::verdict::Status;
use std::fmt::Write;

/// Message lines shown per finding, and characters per line.
const MAX_LINES: usize = 8;
const MAX_CHARS: usize = 240;

fn cut(line: &str) -> String {
    if line.chars().count() > MAX_CHARS {
        format!("{}…", line.chars().take(MAX_CHARS).collect::<String>())
    } else {
        line.to_string()
    }
}

pub fn summary(report: &Report, color: bool) -> String {
    let paint = |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
    let mut out = String::new();

    let columns = report.summary_by_column();
    if !columns.is_empty() {
        let _ = writeln!(out, "{:<12} {:<16} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}", "version", "transport", "pass", "fail", "warn", "skip", "xfail", "xpass");
        for ((v, t), c) in &columns {
            let cell = |n: usize, code: &str| {
                let text = format!("{n:>5}");
                if n > 0 { paint(code, &text) } else { text }
            };
            let _ = writeln!(
                out,
                "{v:<12} {t:<16} {} {} {} {} {} {}",
                cell(c.pass, "32"),
                cell(c.fail, "31;1"),
                cell(c.warn, "33"),
                cell(c.skip, "2"),
                cell(c.xfail, "36"),
                cell(c.xpass, "35;1")
            );
        }
        out.push('\n');
    }

    for (status, code) in [(Status::Fail, "31;1"), (Status::Xpass, "35;1"), (Status::Warn, "33")] {
        for g in report.grouped(status) {
            let r = g.newest();
            let tag = paint(code, &format!("{:<5}", status.as_str().to_uppercase()));
            let title = if r.title.is_empty() { String::new() } else { format!(" {}", r.title) };
            let _ = writeln!(out, "{tag} {} [{}]{title}", r.id, r.level.as_str());
            let _ = writeln!(out, "      {}", g.where_());
            let _ = writeln!(out, "      {}", paint("2", &r.spec));
            if status == Status::Xpass {
                let reason = report.baseline_reason(&r.trial_name()).unwrap_or("");
                let _ = writeln!(out, "      expected to fail ({reason}) but passed: remove or narrow the baseline entry");
            }
            let lines: Vec<&str> = r.message.split("; ").filter(|l| !l.is_empty()).collect();
            for line in lines.iter().take(MAX_LINES) {
                let _ = writeln!(out, "      {}", cut(line));
            }
            if lines.len() > MAX_LINES {
                let _ = writeln!(out, "      ... {} more", lines.len() - MAX_LINES);
            }
            if g.messages_differ() {
                let _ = writeln!(out, "      (older versions' messages differ: see the report)");
            }
        }
    }

    if let Some(b) = &report.baseline {
        for e in b.entries.iter().filter(|e| e.state == EntryState::Stale) {
            let _ = writeln!(
                out,
                "{} baseline entry {} ({}): every check it matches now passes",
                paint("35;1", "STALE"),
                e.label(),
                e.reason
            );
        }
        for e in b.entries.iter().filter(|e| e.state == EntryState::Unused) {
            let _ = writeln!(out, "{} baseline entry {} ({}): matched no exercised check", paint("33", "UNUSED"), e.label(), e.reason);
        }
    }

    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} checks: {} passed, {} failed, {} warned, {} skipped, {} xfail, {} xpass",
        s.total(),
        paint("32", &s.pass.to_string()),
        if s.fail > 0 { paint("31;1", &s.fail.to_string()) } else { s.fail.to_string() },
        if s.warn > 0 { paint("33", &s.warn.to_string()) } else { s.warn.to_string() },
        s.skip,
        s.xfail,
        if s.xpass > 0 { paint("35;1", &s.xpass.to_string()) } else { s.xpass.to_string() },
    );
    out
}

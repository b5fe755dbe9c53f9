//! A compact Markdown summary (`--markdown`), for CI job summaries and PR comments:
//! a headline, counts per version x transport, then failures and warnings with their
//! spec links (each check once per transport, with the versions it concerns), then
//! what the baseline found. Bounded: long lists end in "and N more",
//! and messages are cut, so a report stays well under the 1 MiB a job summary allows.

use super::{EntryState, Report};
use crate::verdict::Status;
use std::fmt::Write;

/// Entries listed per section before "... and N more".
const MAX_ITEMS: usize = 50;
/// Characters of a message shown.
const MAX_MESSAGE: usize = 400;

pub fn to_string(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let verdict = if report.has_failures() { "❌ failed" } else { "✅ passed" };
    let _ = writeln!(out, "## mcp-conform: {verdict}\n");
    let _ = writeln!(
        out,
        "**{}** checks: **{}** passed, **{}** failed, **{}** warned, {} skipped, {} xfail, {} xpass  ",
        s.total(),
        s.pass,
        s.fail,
        s.warn,
        s.skip,
        s.xfail,
        s.xpass
    );
    let target = match (&report.target.command, &report.target.url) {
        (_, Some(url)) => url.clone(),
        (Some(cmd), None) => cmd.join(" "),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        out,
        "Target: {} ({}) · spec version: {} · {} {}{}\n",
        code(&target),
        report.target.transport,
        report.spec_version,
        report.tool.name,
        report.tool.version,
        report.shard.map(|sh| format!(" · shard {}/{}", sh.index, sh.count)).unwrap_or_default()
    );

    let _ = writeln!(out, "| version | transport | pass | fail | warn | skip | xfail | xpass |");
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|");
    for ((v, t), c) in report.summary_by_column() {
        let _ = writeln!(out, "| {v} | {t} | {} | {} | {} | {} | {} | {} |", c.pass, c.fail, c.warn, c.skip, c.xfail, c.xpass);
    }
    out.push('\n');

    section(&mut out, report, "Failures", "❌", &[Status::Fail]);
    section(&mut out, report, "Stale baseline entries (now passing)", "⚠️", &[Status::Xpass]);
    section(&mut out, report, "Warnings", "⚠️", &[Status::Warn]);

    if let Some(b) = &report.baseline {
        let stale: Vec<_> = b.entries.iter().filter(|e| e.state == EntryState::Stale).collect();
        let unused: Vec<_> = b.entries.iter().filter(|e| e.state == EntryState::Unused).collect();
        let used = b.entries.len() - stale.len() - unused.len();
        let _ = writeln!(
            out,
            "### Baseline {}\n\n{used} entries used ({} expected failures), {} stale, {} unused.\n",
            code(&b.file),
            report.summary.xfail,
            stale.len(),
            unused.len()
        );
        for e in stale.iter().take(MAX_ITEMS) {
            let _ = writeln!(out, "- stale: {}: {}", code(&e.label()), escape(&e.reason));
        }
        for e in unused.iter().take(MAX_ITEMS) {
            let _ = writeln!(out, "- unused: {}: {}", code(&e.label()), escape(&e.reason));
        }
        if !stale.is_empty() || !unused.is_empty() {
            out.push('\n');
        }
    }
    out
}

fn section(out: &mut String, report: &Report, title: &str, icon: &str, statuses: &[Status]) {
    let groups: Vec<_> = statuses.iter().flat_map(|s| report.grouped(*s)).collect();
    if groups.is_empty() {
        return;
    }
    let count: usize = groups.iter().map(|g| g.results.len()).sum();
    let _ = writeln!(out, "### {title} ({count})\n");
    for g in groups.iter().take(MAX_ITEMS) {
        let r = g.newest();
        let message = if r.status == Status::Xpass {
            format!("expected to fail ({}) but passed", report.baseline_reason(&r.trial_name()).unwrap_or(""))
        } else {
            r.message.clone()
        };
        let _ = writeln!(
            out,
            "- {icon} {} {} · {} · [spec]({}): {}",
            code(&r.id),
            r.level.as_str(),
            g.where_(),
            r.spec,
            escape(&cut(&message))
        );
    }
    if groups.len() > MAX_ITEMS {
        let _ = writeln!(out, "- … and {} more (see the full report)", groups.len() - MAX_ITEMS);
    }
    out.push('\n');
}

fn cut(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > MAX_MESSAGE {
        format!("{}…", one.chars().take(MAX_MESSAGE).collect::<String>())
    } else {
        one
    }
}

/// Inline code that survives backticks in the text.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.contains('`') { format!("`` {s} ``") } else { format!("`{s}`") }
}

/// Escape Markdown (and inline HTML) in free text.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

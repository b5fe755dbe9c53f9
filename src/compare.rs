//! `mcp-conform compare OLD.json NEW.json`: what changed between two JSON reports.
//!
//! Results are paired by trial name (`VERSION/TRANSPORT/ID`). Each status has a
//! badness for the server's behaviour: `pass`/`xpass` 0 (the rule held), `warn` 1,
//! `fail` 2, `xfail` 2 for a MUST check and 1 otherwise (a baselined failure is
//! still a failure). Then a pair is:
//!
//! - **worse** when the badness went up (`pass` to `warn`, `warn` to `fail`, ...);
//! - **better** when it went down;
//! - **changed** when either side is `skip` and the other is not (neither better nor
//!   worse: the rule was not exercised on one side);
//! - unchanged otherwise.
//!
//! Trials only in NEW are **new**, only in OLD are **gone**; neither counts as worse.
//! `compare` exits 1 when anything got worse, 0 otherwise. Pure: no IO here.

use crate::report::{CheckResult, Report};
use crate::spec::Level;
use crate::verdict::Status;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub trial: String,
    pub old: Status,
    pub new: Status,
    pub level: Level,
    pub spec: String,
    /// The NEW side's message (the OLD one's for `gone`).
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comparison {
    pub worse: Vec<Change>,
    pub better: Vec<Change>,
    pub changed: Vec<Change>,
    pub new: Vec<Item>,
    pub gone: Vec<Item>,
    pub unchanged: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub trial: String,
    pub status: Status,
    pub level: Level,
    pub spec: String,
    pub message: String,
}

impl Comparison {
    pub fn got_worse(&self) -> bool {
        !self.worse.is_empty()
    }
}

/// How bad a status is for the server; `None` for skip (not comparable).
pub fn badness(status: Status, level: Level) -> Option<u8> {
    match status {
        Status::Pass | Status::Xpass => Some(0),
        Status::Warn => Some(1),
        Status::Fail => Some(2),
        Status::Xfail => Some(if level == Level::Must { 2 } else { 1 }),
        Status::Skip => None,
    }
}

pub fn compare(old: &Report, new: &Report) -> Comparison {
    let olds: BTreeMap<String, &CheckResult> = old.results.iter().map(|r| (r.trial_name(), r)).collect();
    let news: BTreeMap<String, &CheckResult> = new.results.iter().map(|r| (r.trial_name(), r)).collect();
    let mut c = Comparison::default();
    for (trial, n) in &news {
        let Some(o) = olds.get(trial) else {
            c.new.push(item(n));
            continue;
        };
        let change = Change {
            trial: trial.clone(),
            old: o.status,
            new: n.status,
            level: n.level,
            spec: n.spec.clone(),
            message: n.message.clone(),
        };
        match (badness(o.status, o.level), badness(n.status, n.level)) {
            (Some(a), Some(b)) if b > a => c.worse.push(change),
            (Some(a), Some(b)) if b < a => c.better.push(change),
            (None, None) => c.unchanged += 1,
            (None, _) | (_, None) => c.changed.push(change),
            _ => c.unchanged += 1,
        }
    }
    for (trial, o) in &olds {
        if !news.contains_key(trial) {
            c.gone.push(item(o));
        }
    }
    c
}

fn item(r: &CheckResult) -> Item {
    Item { trial: r.trial_name(), status: r.status, level: r.level, spec: r.spec.clone(), message: r.message.clone() }
}

/// The human form: each non-empty group with its entries, then a count line.
pub fn to_text(c: &Comparison, color: bool) -> String {
    let paint = |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
    let mut out = String::new();
    let groups: [(&str, &str, &Vec<Change>); 3] = [("WORSE", "31;1", &c.worse), ("BETTER", "32", &c.better), ("CHANGED", "36", &c.changed)];
    for (tag, code, list) in groups {
        for ch in list {
            let _ = writeln!(out, "{} {} {} -> {} [{}]", paint(code, &format!("{tag:<7}")), ch.trial, ch.old.as_str(), ch.new.as_str(), ch.level.as_str());
            if tag == "WORSE" {
                let _ = writeln!(out, "        {}", ch.spec);
                if !ch.message.is_empty() {
                    let _ = writeln!(out, "        {}", first_chars(&ch.message, 300));
                }
            }
        }
    }
    for (tag, code, list) in [("NEW", "34", &c.new), ("GONE", "2", &c.gone)] {
        for it in list {
            let _ = writeln!(out, "{} {} {} [{}]", paint(code, &format!("{tag:<7}")), it.trial, it.status.as_str(), it.level.as_str());
        }
    }
    let _ = writeln!(
        out,
        "{} worse, {} better, {} changed, {} new, {} gone, {} unchanged",
        c.worse.len(),
        c.better.len(),
        c.changed.len(),
        c.new.len(),
        c.gone.len(),
        c.unchanged
    );
    out
}

fn first_chars(s: &str, n: usize) -> String {
    if s.chars().count() > n { format!("{}…", s.chars().take(n).collect::<String>()) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TargetInfo;
    use Status::*;

    fn report(results: &[(&str, Status)]) -> Report {
        let results = results
            .iter()
            .map(|(id, s)| CheckResult {
                id: id.to_string(),
                title: String::new(),
                spec_version: "2025-11-25".into(),
                transport: "stdio".into(),
                status: *s,
                level: Level::Must,
                spec: String::new(),
                message: String::new(),
                duration_ms: 0.0,
                transcript: Vec::new(),
                aliases: Vec::new(),
            })
            .collect();
        Report::new(TargetInfo { transport: "stdio".into(), command: None, url: None }, "2025-11-25".into(), results)
    }

    #[test]
    fn classifies_each_transition() {
        let old = report(&[("a/1", Pass), ("a/2", Fail), ("a/3", Warn), ("a/4", Pass), ("a/5", Skip), ("a/6", Xfail), ("a/7", Fail)]);
        let new = report(&[("a/1", Fail), ("a/2", Pass), ("a/3", Warn), ("a/4", Skip), ("a/5", Pass), ("a/6", Fail), ("a/8", Fail)]);
        let c = compare(&old, &new);
        let names = |v: &[Change]| v.iter().map(|c| c.trial.clone()).collect::<Vec<_>>();
        assert_eq!(names(&c.worse), ["2025-11-25/stdio/a/1"]);
        assert_eq!(names(&c.better), ["2025-11-25/stdio/a/2"]);
        assert_eq!(names(&c.changed), ["2025-11-25/stdio/a/4", "2025-11-25/stdio/a/5"]);
        assert_eq!(c.new.iter().map(|i| i.trial.as_str()).collect::<Vec<_>>(), ["2025-11-25/stdio/a/8"]);
        assert_eq!(c.gone.iter().map(|i| i.trial.as_str()).collect::<Vec<_>>(), ["2025-11-25/stdio/a/7"]);
        assert_eq!(c.unchanged, 2); // a/3 warn->warn, a/6 xfail(MUST)->fail
        assert!(c.got_worse());
        assert!(!compare(&new, &new).got_worse());
        let text = to_text(&c, false);
        assert!(text.contains("WORSE   2025-11-25/stdio/a/1 pass -> fail [MUST]"), "{text}");
        assert!(text.ends_with("1 worse, 1 better, 2 changed, 1 new, 1 gone, 2 unchanged\n"), "{text}");
    }
}

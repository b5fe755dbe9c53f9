//! Verdicts: what a check concluded, and why.
//!
//! A verdict is decided from findings, never from the absence of work: a check that
//! had nothing to act on is `Skip` with its reason. Must never do IO.

use crate::spec::Level;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A MUST rule is violated.
    Fail,
    /// A rule the baseline expected to fail now passes: the baseline is stale.
    Xpass,
    /// A SHOULD (or MAY) rule is violated.
    Warn,
    /// A failure listed in the expected-failures baseline.
    Xfail,
    /// The rule was exercised and held.
    Pass,
    /// The rule could not be exercised (version, transport, capability, nothing to act on).
    Skip,
}

impl Status {
    pub const ALL: [Status; 6] = [Status::Pass, Status::Fail, Status::Warn, Status::Skip, Status::Xfail, Status::Xpass];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Xfail => "xfail",
            Status::Xpass => "xpass",
        }
    }

    /// Whether this status makes the run exit 1.
    pub fn fails_run(self) -> bool {
        matches!(self, Status::Fail | Status::Xpass)
    }
}

/// One observed violation of a rule, at the level of that rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub message: String,
}

impl Finding {
    pub fn new(level: Level, message: impl Into<String>) -> Finding {
        Finding { level, message: message.into() }
    }
}

/// Decide a status from findings: any MUST finding fails, any other finding warns,
/// none passes. The message lists the findings, most severe first; a finding repeated
/// (a server that floods the same violation) is listed once with its count.
pub fn decide(findings: &[Finding]) -> (Status, String) {
    let mut sorted: Vec<(&Finding, usize)> = Vec::new();
    for f in findings {
        match sorted.iter_mut().find(|(g, _)| *g == f) {
            Some((_, n)) => *n += 1,
            None => sorted.push((f, 1)),
        }
    }
    sorted.sort_by_key(|(f, _)| f.level);
    let message = sorted
        .iter()
        .map(|(f, n)| {
            let text = if f.level == Level::Must { f.message.clone() } else { format!("[{}] {}", f.level.as_str(), f.message) };
            if *n > 1 { format!("{text} ({n} times)") } else { text }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let status = match sorted.first().map(|(f, _)| f) {
        None => Status::Pass,
        Some(f) if f.level == Level::Must => Status::Fail,
        Some(_) => Status::Warn,
    };
    (status, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn must_fails_should_warns_nothing_passes() {
        assert_eq!(decide(&[]).0, Status::Pass);
        assert_eq!(decide(&[Finding::new(Level::Should, "s")]).0, Status::Warn);
        let (status, message) = decide(&[Finding::new(Level::Should, "s"), Finding::new(Level::Must, "m")]);
        assert_eq!(status, Status::Fail);
        assert_eq!(message, "m; [SHOULD] s");
        let flood = vec![Finding::new(Level::Must, "x"); 3];
        assert_eq!(decide(&flood).1, "x (3 times)");
    }
}

//! Reports: the run's results as data (`Report`), and writers for each format.
//!
//! The model follows the JSON report contract (GUIDE section 3; `schemas/report.schema.json`).
//! Writers turn a finished `Report` into bytes; they must never run checks or change
//! a verdict.

pub mod json;
pub mod terminal;

use crate::spec::Level;
use crate::transcript::Entry;
use crate::verdict::Status;
use serde::{Deserialize, Serialize};

pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub report_version: u32,
    pub tool: Tool,
    pub target: TargetInfo,
    /// The one version tested, or `all` when more than one was.
    pub spec_version: String,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool { name: "mcp-conform".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetInfo {
    pub transport: String,
    pub command: Option<Vec<String>>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub xfail: usize,
    pub xpass: usize,
}

impl Summary {
    pub fn of(results: &[CheckResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            *s.slot(r.status) += 1;
        }
        s
    }

    fn slot(&mut self, status: Status) -> &mut usize {
        match status {
            Status::Pass => &mut self.pass,
            Status::Fail => &mut self.fail,
            Status::Warn => &mut self.warn,
            Status::Skip => &mut self.skip,
            Status::Xfail => &mut self.xfail,
            Status::Xpass => &mut self.xpass,
        }
    }

    pub fn count(&self, status: Status) -> usize {
        let mut copy = *self;
        *copy.slot(status)
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.warn + self.skip + self.xfail + self.xpass
    }
}

/// One check's verdict for one version and transport, with its evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub spec_version: String,
    pub transport: String,
    pub status: Status,
    pub level: Level,
    pub spec: String,
    pub message: String,
    pub duration_ms: f64,
    pub transcript: Vec<Entry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl CheckResult {
    /// The trial name used by `cargo test` and filters: `2025-11-25/stdio/lifecycle/ping`.
    pub fn trial_name(&self) -> String {
        format!("{}/{}/{}", self.spec_version, self.transport, self.id)
    }
}

impl Report {
    /// Whether the run has a failure that makes it exit 1.
    pub fn has_failures(&self) -> bool {
        self.results.iter().any(|r| r.status.fails_run())
    }
}

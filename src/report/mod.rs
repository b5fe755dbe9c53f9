//! Reports: the run's results as data (`Report`), and writers for each format.
//!
//! The model follows the JSON report contract (GUIDE section 3; `schemas/report.schema.json`).
//! Writers turn a finished `Report` into bytes; they must never run checks or change
//! a verdict.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod ndjson;
pub mod output;
pub mod redact;
pub mod sarif;
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
    /// What the expected-failures baseline did, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
    /// Which part of the trials this run covered (`--shard K/N`), when sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// `--shard K/N`: this run covered the trials whose name hashes to part K of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

/// The outcome of applying an expected-failures baseline (see `crate::baseline`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// The baseline file, as given on the command line.
    pub file: String,
    pub entries: Vec<BaselineEntryReport>,
}

/// One baseline entry and what it matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineEntryReport {
    /// Check id or glob over ids.
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<String>,
    pub reason: String,
    pub state: EntryState,
    /// Trial names (`VERSION/TRANSPORT/ID`) the entry matched.
    pub trials: Vec<String>,
}

impl BaselineEntryReport {
    /// How the entry is named in messages: `tools/* [2025-06-18] [stdio]`.
    pub fn label(&self) -> String {
        let mut s = self.id.clone();
        if !self.versions.is_empty() {
            s.push_str(&format!(" [{}]", self.versions.join(",")));
        }
        if !self.transports.is_empty() {
            s.push_str(&format!(" [{}]", self.transports.join(",")));
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryState {
    /// Some matched result failed or warned: those are `xfail`.
    Used,
    /// Every exercised matched result passed: those are `xpass`, and the run fails.
    Stale,
    /// Nothing matched (or only skipped checks did): a warning, not a failure.
    Unused,
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

/// The results of one check on one transport that share a status, across versions.
#[derive(Debug, Clone)]
pub struct FindingGroup<'a> {
    pub status: Status,
    /// Newest version first; never empty.
    pub results: Vec<&'a CheckResult>,
}

impl FindingGroup<'_> {
    /// The newest version's result: its title, level, spec link and message stand for the group.
    pub fn newest(&self) -> &CheckResult {
        self.results[0]
    }

    /// `stdio 2024-11-05 2025-06-18` (oldest first).
    pub fn where_(&self) -> String {
        let mut vs: Vec<&str> = self.results.iter().map(|r| r.spec_version.as_str()).collect();
        vs.reverse();
        format!("{} {}", self.newest().transport, vs.join(" "))
    }

    /// Whether the versions' messages differ (then only the newest is shown).
    pub fn messages_differ(&self) -> bool {
        self.results.iter().any(|r| r.message != self.newest().message)
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

    /// The spec area: the first segment of the id (`lifecycle` for `lifecycle/ping`).
    pub fn area(&self) -> &str {
        self.id.split('/').next().unwrap_or(&self.id)
    }
}

impl Report {
    /// A report over `results`, its summary counted from them.
    pub fn new(target: TargetInfo, spec_version: String, results: Vec<CheckResult>) -> Report {
        Report {
            report_version: REPORT_VERSION,
            tool: Tool::default(),
            target,
            spec_version,
            summary: Summary::of(&results),
            results,
            baseline: None,
            shard: None,
        }
    }

    /// Recount `summary` after statuses changed (a baseline was applied).
    pub fn recount(&mut self) {
        self.summary = Summary::of(&self.results);
    }

    /// The reason of the baseline entry that matched this trial, if any.
    pub fn baseline_reason(&self, trial: &str) -> Option<&str> {
        let b = self.baseline.as_ref()?;
        b.entries.iter().find(|e| e.trials.iter().any(|t| t == trial)).map(|e| e.reason.as_str())
    }

    /// The (version, transport) pairs tested, in report order.
    pub fn matrix_columns(&self) -> Vec<(String, String)> {
        let mut cols: Vec<(String, String)> = Vec::new();
        for r in &self.results {
            let c = (r.spec_version.clone(), r.transport.clone());
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        cols.sort();
        cols
    }

    /// Per (version, transport): the counts of its results.
    pub fn summary_by_column(&self) -> Vec<((String, String), Summary)> {
        self.matrix_columns()
            .into_iter()
            .map(|(v, t)| {
                let rs: Vec<CheckResult> =
                    self.results.iter().filter(|r| r.spec_version == v && r.transport == t).cloned().collect();
                ((v, t), Summary::of(&rs))
            })
            .collect()
    }

    /// Results in the order people read them: failures, stale passes, warnings,
    /// expected failures, passes, skips; by trial name within each.
    pub fn results_by_severity(&self) -> Vec<&CheckResult> {
        let mut v: Vec<&CheckResult> = self.results.iter().collect();
        v.sort_by_key(|r| (r.status, r.trial_name()));
        v
    }

    /// One report from several (the shards of a run, or runs over other transports):
    /// results concatenated in order, summary recounted, `spec_version` kept when all
    /// agree (else `all`), target and tool from the first. Baseline entries with the
    /// same id, versions, transports and reason are combined: their trials joined, the
    /// state `used` if any was, else `stale` if any was, else `unused`. The merged
    /// report has no `shard`. `None` for no reports.
    pub fn merge(reports: Vec<Report>) -> Option<Report> {
        let mut it = reports.into_iter();
        let mut out = it.next()?;
        out.shard = None;
        for r in it {
            if r.spec_version != out.spec_version {
                out.spec_version = "all".into();
            }
            out.results.extend(r.results);
            if let Some(b) = r.baseline {
                let mine = out.baseline.get_or_insert_with(|| BaselineSummary { file: b.file.clone(), entries: Vec::new() });
                for e in b.entries {
                    let same = mine.entries.iter_mut().find(|m| {
                        m.id == e.id && m.versions == e.versions && m.transports == e.transports && m.reason == e.reason
                    });
                    match same {
                        Some(m) => {
                            m.trials.extend(e.trials);
                            m.state = match (m.state, e.state) {
                                (EntryState::Used, _) | (_, EntryState::Used) => EntryState::Used,
                                (EntryState::Stale, _) | (_, EntryState::Stale) => EntryState::Stale,
                                _ => EntryState::Unused,
                            };
                        }
                        None => mine.entries.push(e),
                    }
                }
            }
        }
        out.recount();
        Some(out)
    }

    /// The results of one status grouped by check and transport across versions, for
    /// compact summaries: one group per (id, transport), newest version first in
    /// `results`, groups by id.
    pub fn grouped(&self, status: Status) -> Vec<FindingGroup<'_>> {
        let mut groups: Vec<FindingGroup<'_>> = Vec::new();
        for r in self.results.iter().filter(|r| r.status == status) {
            match groups.iter_mut().find(|g| g.results[0].id == r.id && g.results[0].transport == r.transport) {
                Some(g) => g.results.push(r),
                None => groups.push(FindingGroup { status, results: vec![r] }),
            }
        }
        for g in &mut groups {
            g.results.sort_by(|a, b| b.spec_version.cmp(&a.spec_version));
        }
        groups.sort_by(|a, b| (&a.results[0].id, &a.results[0].transport).cmp(&(&b.results[0].id, &b.results[0].transport)));
        groups
    }

    /// Whether the run has a failure that makes it exit 1.
    pub fn has_failures(&self) -> bool {
        self.results.iter().any(|r| r.status.fails_run())
    }
}

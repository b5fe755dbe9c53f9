//! Expected-failures baselines (`--expected-failures F`, `--write-baseline F`).
//!
//! A baseline lists known failures, each with a reason, so a server can adopt the
//! suite before it conforms fully and still have every *new* violation fail CI:
//!
//! ```yaml
//! expected_failures:
//!   - id: tools/call-unknown-tool       # a check id, or a glob over ids (`tools/*`, `**`)
//!     reason: "returns isError instead of a JSON-RPC error; issue #12"
//!   - id: lifecycle/ping
//!     version: 2025-06-18               # optional: one version or a list
//!     transport: [stdio]                # optional: one transport or a list
//!     reason: "..."
//! ```
//!
//! The same structure in a `.json` file is read as JSON; a bare list is accepted too.
//! Matching (pure, no IO): an entry matches a result when its id glob matches the
//! result's id (or one of its aliases) and its versions and transports, if given,
//! include the result's. Then:
//!
//! - a `fail` or `warn` result matched by any entry becomes `xfail`;
//! - an entry whose matched results include a failure or warning is **used**;
//! - an entry whose exercised matched results (skips aside) all pass is **stale**:
//!   those passes become `xpass`, which fails the run, and the entry is named;
//! - an entry that matches no result, or only skipped ones, is **unused**: a warning.
//!
//! In ids, `*` does not cross `/`; `**` does.

use crate::report::{BaselineEntryReport, BaselineSummary, CheckResult, EntryState, Report};
use crate::spec::{ProtocolVersion, TransportKind};
use crate::verdict::Status;
use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One entry as written in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    #[serde(default, alias = "versions", skip_serializing_if = "OneOrMany::is_empty")]
    pub version: OneOrMany,
    #[serde(default, alias = "transports", skip_serializing_if = "OneOrMany::is_empty")]
    pub transport: OneOrMany,
    pub reason: String,
}

/// `version: 2025-06-18` or `version: [2025-06-18, 2025-11-25]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn is_empty(&self) -> bool {
        self.values().is_empty()
    }

    pub fn values(&self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }

    fn from_values(mut v: Vec<String>) -> OneOrMany {
        match v.len() {
            0 => OneOrMany::None,
            1 => OneOrMany::One(v.remove(0)),
            _ => OneOrMany::Many(v),
        }
    }
}

/// The file as written: `{version: 1, expected_failures: [...]}`.
#[derive(Serialize)]
struct File<'a> {
    version: u32,
    expected_failures: &'a [Entry],
}

/// A parsed, validated baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub entries: Vec<Entry>,
    matchers: Vec<GlobMatcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// `.json` is JSON; anything else (`.yaml`, `.yml`) is YAML.
    pub fn of_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".json") { Format::Json } else { Format::Yaml }
    }
}

impl Baseline {
    pub fn parse(text: &str, format: Format) -> Result<Baseline, String> {
        let value: serde_json::Value = match format {
            Format::Json => serde_json::from_str(text).map_err(|e| format!("not a baseline: {e}"))?,
            Format::Yaml if text.trim().is_empty() => serde_json::Value::Array(Vec::new()),
            Format::Yaml => serde_yaml_ng::from_str(text).map_err(|e| format!("not a baseline: {e}"))?,
        };
        let list = match value {
            serde_json::Value::Array(list) => list,
            serde_json::Value::Object(mut map) => {
                if let Some(v) = map.remove("version")
                    && v != serde_json::json!(1)
                {
                    return Err(format!("baseline version {v} is not supported (this tool reads version 1)"));
                }
                let list = match map.remove("expected_failures") {
                    Some(serde_json::Value::Array(list)) => list,
                    Some(serde_json::Value::Null) => Vec::new(),
                    Some(_) => return Err("not a baseline: `expected_failures` must be a list".into()),
                    None => return Err("not a baseline: no `expected_failures` list".into()),
                };
                if let Some(k) = map.keys().next() {
                    return Err(format!("not a baseline: unknown key `{k}` (expected `version`, `expected_failures`)"));
                }
                list
            }
            serde_json::Value::Null => Vec::new(),
            _ => return Err("not a baseline: expected a list of entries or `expected_failures: [...]`".into()),
        };
        let entries = list
            .into_iter()
            .enumerate()
            .map(|(i, v)| serde_json::from_value::<Entry>(v).map_err(|e| format!("entry {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Baseline::new(entries)
    }

    pub fn new(entries: Vec<Entry>) -> Result<Baseline, String> {
        let mut matchers = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let at = format!("entry {} ({})", i + 1, e.id);
            if e.id.trim().is_empty() {
                return Err(format!("entry {}: `id` is empty", i + 1));
            }
            if e.reason.trim().is_empty() {
                return Err(format!("{at}: `reason` is required and must not be empty"));
            }
            for v in e.version.values() {
                v.parse::<ProtocolVersion>().map_err(|err| format!("{at}: {err}"))?;
            }
            for t in e.transport.values() {
                t.parse::<TransportKind>().map_err(|err| format!("{at}: {err}"))?;
            }
            let glob = GlobBuilder::new(&e.id).literal_separator(true).build().map_err(|err| format!("{at}: bad glob: {err}"))?;
            matchers.push(glob.compile_matcher());
        }
        Ok(Baseline { entries, matchers })
    }

    /// Whether entry `i` matches a result.
    fn matches(&self, i: usize, r: &CheckResult) -> bool {
        let e = &self.entries[i];
        let m = &self.matchers[i];
        (m.is_match(&r.id) || r.aliases.iter().any(|a| m.is_match(a)))
            && (e.version.is_empty() || e.version.values().contains(&r.spec_version))
            && (e.transport.is_empty() || e.transport.values().contains(&r.transport))
    }

    /// The first entry matching `r`, if any.
    pub fn entry_for(&self, r: &CheckResult) -> Option<&Entry> {
        (0..self.entries.len()).find(|&i| self.matches(i, r)).map(|i| &self.entries[i])
    }

    /// Mark one result as the stream sees it: a matched `fail`/`warn` becomes `xfail`.
    /// (Whether a pass is `xpass` needs every result: see [`Baseline::apply`].)
    pub fn classify(&self, r: &mut CheckResult) {
        if matches!(r.status, Status::Fail | Status::Warn) && self.entry_for(r).is_some() {
            r.status = Status::Xfail;
        }
    }

    /// Apply to a finished report: statuses change as described in the module docs,
    /// `summary` is recounted, and `report.baseline` says what each entry did.
    pub fn apply(&self, report: &mut Report, file: &str) {
        let mut matched: Vec<Vec<usize>> = vec![Vec::new(); self.entries.len()];
        for (ri, r) in report.results.iter().enumerate() {
            for (ei, m) in matched.iter_mut().enumerate() {
                if self.matches(ei, r) {
                    m.push(ri);
                }
            }
        }
        let mut states = Vec::with_capacity(self.entries.len());
        for m in &matched {
            let failing = m.iter().any(|&ri| matches!(report.results[ri].status, Status::Fail | Status::Warn | Status::Xfail));
            let passing = m.iter().any(|&ri| matches!(report.results[ri].status, Status::Pass | Status::Xpass));
            states.push(if failing {
                EntryState::Used
            } else if passing {
                EntryState::Stale
            } else {
                EntryState::Unused
            });
        }
        for (ei, m) in matched.iter().enumerate() {
            for &ri in m {
                let r = &mut report.results[ri];
                match (states[ei], r.status) {
                    (EntryState::Used, Status::Fail | Status::Warn) => r.status = Status::Xfail,
                    (EntryState::Stale, Status::Pass) => r.status = Status::Xpass,
                    _ => {}
                }
            }
        }
        // A result matched by a used entry and by a stale one stays xfail: the
        // failing entry explains it. Reasons: the first entry that matched.
        let entries = self
            .entries
            .iter()
            .zip(states)
            .zip(matched)
            .map(|((e, state), m)| BaselineEntryReport {
                id: e.id.clone(),
                versions: e.version.values(),
                transports: e.transport.values(),
                reason: e.reason.clone(),
                state,
                trials: m.iter().map(|&ri| report.results[ri].trial_name()).collect(),
            })
            .collect();
        report.baseline = Some(BaselineSummary { file: file.to_string(), entries });
        report.recount();
    }

    /// The baseline that expects exactly the current failures and warnings (and keeps
    /// expected failures, with their old reasons). Checks that fail in every version
    /// they ran on get one entry without versions; otherwise the versions are listed.
    pub fn record(report: &Report, reason: &str) -> Baseline {
        /// Per (id, transport): failing versions, exercised versions, an old reason.
        #[derive(Default)]
        struct Group(Vec<String>, Vec<String>, Option<String>);
        let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
        for r in &report.results {
            if r.status == Status::Skip {
                continue;
            }
            let g = groups.entry((r.id.clone(), r.transport.clone())).or_default();
            g.1.push(r.spec_version.clone());
            if matches!(r.status, Status::Fail | Status::Warn | Status::Xfail) {
                g.0.push(r.spec_version.clone());
                if g.2.is_none() && r.status == Status::Xfail {
                    g.2 = report.baseline_reason(&r.trial_name()).map(str::to_string);
                }
            }
        }
        let entries = groups
            .into_iter()
            .filter(|(_, Group(failing, _, _))| !failing.is_empty())
            .map(|((id, transport), Group(failing, exercised, old))| Entry {
                id: globset::escape(&id),
                version: if failing.len() == exercised.len() { OneOrMany::None } else { OneOrMany::from_values(failing) },
                transport: OneOrMany::One(transport),
                reason: old.unwrap_or_else(|| reason.to_string()),
            })
            .collect();
        Baseline::new(entries).expect("recorded entries are valid")
    }

    pub fn to_text(&self, format: Format) -> String {
        let file = File { version: 1, expected_failures: &self.entries };
        match format {
            Format::Json => {
                let mut s = serde_json::to_string_pretty(&file).expect("a baseline serialises");
                s.push('\n');
                s
            }
            Format::Yaml => {
                let body = serde_yaml_ng::to_string(&file).expect("a baseline serialises");
                format!(
                    "# mcp-conform expected failures (--expected-failures). Every entry needs a reason;\n\
                     # `id` may be a glob, `version` and `transport` narrow it (one value or a list).\n{body}"
                )
            }
        }
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, for "recorded on DATE" reasons.
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    civil_date((secs / 86_400) as i64)
}

/// Days since 1970-01-01 to `YYYY-MM-DD` (Howard Hinnant's algorithm).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Report, TargetInfo};
    use crate::spec::Level;

    fn result(trial: &str, status: Status) -> CheckResult {
        let mut parts = trial.splitn(3, '/');
        let (v, t, id) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        CheckResult {
            id: id.into(),
            title: String::new(),
            spec_version: v.into(),
            transport: t.into(),
            status,
            level: Level::Must,
            spec: String::new(),
            message: String::new(),
            duration_ms: 0.0,
            transcript: Vec::new(),
            aliases: Vec::new(),
        }
    }

    fn report(results: &[(&str, Status)]) -> Report {
        let target = TargetInfo { transport: "stdio".into(), command: Some(vec!["x".into()]), url: None };
        Report::new(target, "all".into(), results.iter().map(|(t, s)| result(t, *s)).collect())
    }

    const A: &str = "2025-06-18/stdio/tools/call";
    const B: &str = "2025-11-25/stdio/tools/call";
    const C: &str = "2025-11-25/stdio/tools/list";
    const D: &str = "2025-11-25/stdio/lifecycle/ping";

    use Status::*;

    /// (baseline yaml, results before, statuses after, entry states)
    #[allow(clippy::type_complexity)]
    const TABLE: &[(&str, &[(&str, Status)], &[Status], &[EntryState])] = &[
        // An exact entry turns a failure into xfail.
        ("- {id: tools/call, reason: r}", &[(A, Fail), (D, Pass)], &[Xfail, Pass], &[EntryState::Used]),
        // Warnings too.
        ("- {id: tools/call, reason: r}", &[(A, Warn)], &[Xfail], &[EntryState::Used]),
        // A glob covers an area; passes under a used entry stay passes.
        ("- {id: 'tools/*', reason: r}", &[(A, Fail), (C, Pass), (D, Fail)], &[Xfail, Pass, Fail], &[EntryState::Used]),
        // `*` does not cross `/`, `**` does.
        ("- {id: '*', reason: r}", &[(A, Fail)], &[Fail], &[EntryState::Unused]),
        ("- {id: '**', reason: r}", &[(A, Fail), (D, Warn)], &[Xfail, Xfail], &[EntryState::Used]),
        // Narrowed by version.
        ("- {id: tools/call, version: 2025-06-18, reason: r}", &[(A, Fail), (B, Fail)], &[Xfail, Fail], &[EntryState::Used]),
        ("- {id: tools/call, version: [2025-06-18, 2025-11-25], reason: r}", &[(A, Fail), (B, Fail)], &[Xfail, Xfail], &[EntryState::Used]),
        // Narrowed by transport.
        ("- {id: tools/call, transport: sse, reason: r}", &[(A, Fail)], &[Fail], &[EntryState::Unused]),
        ("- {id: tools/call, transports: [stdio], reason: r}", &[(A, Fail)], &[Xfail], &[EntryState::Used]),
        // Stale: everything it matches passes, so the passes become xpass.
        ("- {id: tools/call, reason: r}", &[(A, Pass), (B, Pass), (D, Fail)], &[Xpass, Xpass, Fail], &[EntryState::Stale]),
        // Skips do not make an entry stale, nor used.
        ("- {id: tools/call, reason: r}", &[(A, Skip), (B, Pass)], &[Skip, Xpass], &[EntryState::Stale]),
        ("- {id: tools/call, reason: r}", &[(A, Skip)], &[Skip], &[EntryState::Unused]),
        // Unused: nothing matches.
        ("- {id: prompts/get, reason: r}", &[(A, Fail)], &[Fail], &[EntryState::Unused]),
        // Two entries: one used, one stale.
        (
            "- {id: tools/call, reason: r}\n- {id: lifecycle/ping, reason: fixed}",
            &[(A, Fail), (D, Pass)],
            &[Xfail, Xpass],
            &[EntryState::Used, EntryState::Stale],
        ),
        // The wrapped form.
        ("version: 1\nexpected_failures:\n  - id: tools/call\n    reason: r", &[(A, Fail)], &[Xfail], &[EntryState::Used]),
    ];

    #[test]
    fn table() {
        for (i, (yaml, before, after, states)) in TABLE.iter().enumerate() {
            let b = Baseline::parse(yaml, Format::Yaml).unwrap_or_else(|e| panic!("row {i}: {e}"));
            let mut rep = report(before);
            b.apply(&mut rep, "b.yaml");
            let got: Vec<Status> = rep.results.iter().map(|r| r.status).collect();
            assert_eq!(&got, after, "row {i}: statuses");
            let got: Vec<EntryState> = rep.baseline.as_ref().unwrap().entries.iter().map(|e| e.state).collect();
            assert_eq!(&got, states, "row {i}: entry states");
            assert_eq!(rep.summary, crate::report::Summary::of(&rep.results), "row {i}: summary recounted");
        }
    }

    #[test]
    fn aliases_match() {
        let b = Baseline::parse("- {id: old/name, reason: r}", Format::Yaml).unwrap();
        let mut rep = report(&[(A, Fail)]);
        rep.results[0].aliases = vec!["old/name".into()];
        b.apply(&mut rep, "b");
        assert_eq!(rep.results[0].status, Xfail);
    }

    #[test]
    fn rejects_bad_entries() {
        for (text, format, want) in [
            ("- {id: tools/call}", Format::Yaml, "reason"),
            ("- {id: tools/call, reason: ''}", Format::Yaml, "reason"),
            ("- {id: tools/call, reason: r, version: 1999-01-01}", Format::Yaml, "unknown protocol version"),
            ("- {id: tools/call, reason: r, transport: pigeon}", Format::Yaml, "unknown transport"),
            ("- {id: 'tools/[', reason: r}", Format::Yaml, "bad glob"),
            ("- {id: tools/call, reason: r, extra: 1}", Format::Yaml, "unknown field `extra`"),
            ("expected_failures: 3", Format::Yaml, "must be a list"),
            ("{expected_failures: [], other: 1}", Format::Yaml, "unknown key `other`"),
            (r#"{"version": 2, "expected_failures": []}"#, Format::Json, "version 2"),
            ("[{\"id\": \"x\"}]", Format::Json, "entry 1: missing field `reason`"),
        ] {
            let err = Baseline::parse(text, format).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn record_then_apply_round_trips_in_both_formats() {
        let mut rep = report(&[(A, Fail), (B, Pass), (C, Warn), (D, Pass), ("2025-06-18/stdio/tools/list", Warn)]);
        let b = Baseline::record(&rep, "recorded on 2026-01-01");
        // tools/call failed on one of two versions: narrowed; tools/list on both: not.
        assert_eq!(b.entries.len(), 2);
        assert_eq!(b.entries[0].id, "tools/call");
        assert_eq!(b.entries[0].version, OneOrMany::One("2025-06-18".into()));
        assert_eq!(b.entries[1].version, OneOrMany::None);
        for format in [Format::Yaml, Format::Json] {
            let text = b.to_text(format);
            let parsed = Baseline::parse(&text, format).unwrap_or_else(|e| panic!("{format:?}: {e}\n{text}"));
            assert_eq!(parsed.entries, b.entries);
        }
        b.apply(&mut rep, "b");
        assert!(!rep.has_failures());
        assert_eq!(rep.summary.xfail, 3);
        // Recording again keeps the old reasons.
        let again = Baseline::record(&rep, "recorded on 2030-01-01");
        assert!(again.entries.iter().all(|e| e.reason == "recorded on 2026-01-01"));
    }

    #[test]
    fn classify_marks_only_matched_failures() {
        let b = Baseline::parse("- {id: tools/call, reason: r}", Format::Yaml).unwrap();
        for (status, want) in [(Fail, Xfail), (Warn, Xfail), (Pass, Pass), (Skip, Skip)] {
            let mut r = result(A, status);
            b.classify(&mut r);
            assert_eq!(r.status, want);
        }
        let mut other = result(D, Fail);
        b.classify(&mut other);
        assert_eq!(other.status, Fail);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(20_513), "2026-03-01");
    }
}

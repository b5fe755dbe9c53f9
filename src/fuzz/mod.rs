//! Property-based fuzzing of a server's message handling (`mcp-conform fuzz`).
//!
//! Seeded generators ([`generators`]) produce sessions of valid and malformed messages for
//! a protocol version; each session runs on one long-lived server session with
//! pipelined windows ([`exec`]) and every message is held to the invariants
//! ([`invariants`]): the server stays alive, answers each request exactly once with
//! the same id and id type within the timeout, never answers a notification, uses
//! the right error class, sends schema-valid JSON-RPC only, and still answers `ping`
//! at the end. With a reference server, answers are also compared ([`oracle`]).
//! A violation is shrunk to a minimal message sequence on fresh sessions
//! ([`shrink`]), reported with its seed and transcript, and can be saved as a
//! replayable case file ([`case_out`]).
//!
//! Determinism: session `i` of seed `S` is generated from `(S, i)` alone; sessions
//! are assigned to workers dynamically but results are keyed by session index, and
//! each finding is shrunk from the lowest-index session that showed it. Timings are
//! the only nondeterministic parts of a report.

pub mod case_out;
pub mod exec;
pub mod generators;
pub mod invariants;
pub mod oracle;
pub mod shrink;

use crate::engine::{self, Context, Probe};
use crate::report::{TargetInfo, Tool};
use crate::runner::VersionSelection;
use crate::schema::SchemaSet;
use crate::spec::{Level, ProtocolVersion, TransportKind};
use crate::target::Target;
use crate::transcript::{Dir, Entry, Transcript};
use crate::verdict::Status;
use async_trait::async_trait;
use exec::{ExecConfig, Execution};
use generators::{FuzzMessage, GenContext};
use invariants::Violation;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much to fuzz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// About this many generated messages (sessions are cut to fit).
    Count(u64),
    /// Start sessions until this much time has passed.
    Duration(Duration),
}

/// Progress of the main phase: messages sent so far, and the total when known.
pub type ProgressFn = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

pub struct FuzzConfig {
    pub target: Target,
    /// `--differential`: the reference server to compare with.
    pub reference: Option<Target>,
    pub versions: VersionSelection,
    pub seed: u64,
    pub budget: Budget,
    /// Per-response timeout.
    pub timeout: Duration,
    pub schemas: Arc<SchemaSet>,
    /// Messages per session (a fresh server process per session).
    pub session_len: usize,
    /// Messages pipelined before waiting for answers.
    pub window: usize,
    /// Sessions run at once. Over stdio a session mostly waits for its window's round
    /// trip, so more sessions than cores pay off (8: about 11,000 messages/s against
    /// the reference server on two busy cores, against 4,700 with 2).
    pub workers: usize,
    /// Write each finding as a replayable case file into this directory.
    pub save_failures: Option<PathBuf>,
    /// The planted defect, named in saved cases (`fuzz-found` when none).
    pub defect: Option<String>,
    /// Distinct findings shrunk and reported (the most severe and earliest first).
    pub max_findings: usize,
    /// Fresh sessions one finding's shrinking may use, and its time limit.
    pub shrink_runs: usize,
    pub shrink_time: Duration,
    pub progress: Option<ProgressFn>,
}

impl FuzzConfig {
    pub fn new(target: Target, schemas: Arc<SchemaSet>) -> FuzzConfig {
        FuzzConfig {
            target,
            reference: None,
            versions: VersionSelection::All,
            seed: 0,
            budget: Budget::Count(10_000),
            timeout: Duration::from_millis(2000),
            schemas,
            session_len: 1000,
            window: 64,
            workers: 8,
            save_failures: None,
            defect: None,
            max_findings: 20,
            shrink_runs: 400,
            shrink_time: Duration::from_secs(60),
            progress: None,
        }
    }
}

/// The `--json` report of a fuzz run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FuzzReport {
    pub report_version: u32,
    /// Always `fuzz` (the conformance report has no `kind`).
    pub kind: String,
    pub tool: Tool,
    pub target: TargetInfo,
    /// The reference server of a differential run.
    pub reference: Option<TargetInfo>,
    pub seed: u64,
    /// The protocol versions fuzzed (sessions rotate through them).
    pub spec_versions: Vec<String>,
    pub count: Option<u64>,
    pub duration_s: Option<f64>,
    pub sessions: u64,
    /// Generated messages sent (liveness probes not included).
    pub messages_sent: u64,
    /// Liveness probes sent (one `ping` or `server/discover` per window).
    pub probes_sent: u64,
    pub elapsed_ms: f64,
    pub messages_per_second: f64,
    /// Messages sent per generator.
    pub generators: BTreeMap<String, u64>,
    pub summary: FuzzSummary,
    pub findings: Vec<FuzzFinding>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuzzSummary {
    /// Findings that break a MUST (exit 1).
    pub fail: usize,
    /// Findings where the spec recommends (SHOULD) or leaves the choice open.
    pub warn: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FuzzFinding {
    /// `fuzz/s<seed>-<n>-<invariant>`: also the saved case's id.
    pub id: String,
    /// The invariant broken: `server-exited`, `no-response`, `duplicate-response`,
    /// `id-mismatch`, `unsolicited-response`, `error-class`, `schema`,
    /// `invalid-output`, `not-responsive`, `unanswered-invalid`, `divergence`.
    pub invariant: String,
    /// What makes two violations the same finding.
    pub key: String,
    pub level: Level,
    pub status: Status,
    pub message: String,
    pub spec_version: String,
    pub seed: u64,
    /// The first session (by index) that showed it.
    pub session: u64,
    /// Sessions that showed it.
    pub occurrences: u64,
    /// Messages before shrinking (the session up to the window where it showed).
    pub original_length: usize,
    pub shrink_runs: usize,
    /// Whether the sequence failed again on a fresh session (if not, it is reported
    /// unshrunk: a flaky or history-dependent failure).
    pub reproduced: bool,
    pub minimal_sequence: Vec<SentMessage>,
    /// The minimal sequence replayed on a fresh target session.
    pub transcript: Vec<Entry>,
    /// Differential findings: the same sequence on the reference server.
    pub reference_transcript: Option<Vec<Entry>>,
    pub case_file: Option<String>,
    /// Why no case file was written, when one was asked for.
    pub case_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentMessage {
    pub label: String,
    /// The bytes as text (lossy when not UTF-8; then `raw_base64` has them exactly).
    pub raw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_base64: Option<String>,
}

impl FuzzReport {
    /// Whether a MUST-level invariant broke (exit 1).
    pub fn has_failures(&self) -> bool {
        self.summary.fail > 0
    }
}

// ----- running sequences ---------------------------------------------------------------

struct Outcome {
    violations: Vec<Violation>,
    target: Execution,
    reference: Option<Execution>,
    transcript: Transcript,
    reference_transcript: Option<Transcript>,
}

/// Runs sequences on fresh sessions of the target (and the reference).
struct Runner {
    target: Target,
    reference: Option<Target>,
    exec: ExecConfig,
}

impl Runner {
    async fn once(&self, messages: &[FuzzMessage], stop_key: Option<&str>) -> Result<Outcome, String> {
        let stop = |vs: &[Violation]| stop_key.is_some_and(|k| vs.iter().any(|v| v.key == k));
        let (target, transcript) = run_on(&self.target, messages, &self.exec, &stop).await?;
        let mut violations = target.violations.clone();
        let (reference, reference_transcript) = match &self.reference {
            Some(r) => {
                let (exec, t) = run_on(r, messages, &self.exec, &|_: &[Violation]| false).await?;
                let wins = exec::windows(messages, self.exec.window);
                let planned = generators::plan(messages, self.exec.version, &wins);
                violations.extend(oracle::compare(messages, &planned, &wins, &target.answers, &exec.answers));
                (Some(exec), Some(t))
            }
            None => (None, None),
        };
        Ok(Outcome { violations, target, reference, transcript, reference_transcript })
    }
}

async fn run_on(
    target: &Target,
    messages: &[FuzzMessage],
    cfg: &ExecConfig,
    stop: &(dyn Fn(&[Violation]) -> bool + Sync),
) -> Result<(Execution, Transcript), String> {
    let transcript = Transcript::new(target.secrets());
    let mut t = target.open(transcript.clone(), cfg.timeout).await?;
    // Over HTTP the version's headers (MCP-Protocol-Version, 2026-07-28's Mcp-Method).
    t.set_protocol_version(cfg.version);
    let exec = exec::execute(t.as_mut(), messages, cfg, stop).await;
    t.close(cfg.close_grace).await;
    Ok((exec, transcript))
}

struct KeyRepro<'a> {
    runner: &'a Runner,
    key: &'a str,
}

#[async_trait]
impl shrink::Reproduce for KeyRepro<'_> {
    async fn reproduces(&self, messages: &[FuzzMessage]) -> bool {
        match self.runner.once(messages, Some(self.key)).await {
            Ok(o) => o.violations.iter().any(|v| v.key == self.key),
            Err(_) => false,
        }
    }
}

// ----- the run -------------------------------------------------------------------------

struct Candidate {
    session: u64,
    version: ProtocolVersion,
    messages: Vec<FuzzMessage>,
    violation: Violation,
}

#[derive(Default)]
struct Collected {
    candidates: BTreeMap<String, Candidate>,
    occurrences: BTreeMap<String, u64>,
    generators: BTreeMap<String, u64>,
    sent: u64,
    probes: u64,
    sessions: u64,
    error: Option<String>,
}

/// Which versions to fuzz: those the server accepts among the selection.
async fn select_versions(cfg: &FuzzConfig) -> Result<Vec<ProtocolVersion>, String> {
    let candidates: Vec<ProtocolVersion> = match &cfg.versions {
        VersionSelection::One(v) => vec![*v],
        VersionSelection::Latest => ProtocolVersion::ALL.iter().rev().copied().collect(),
        VersionSelection::All => ProtocolVersion::ALL.to_vec(),
    };
    let mut supported = Vec::new();
    let mut broken = Vec::new();
    let mut declined = Vec::new();
    for v in candidates {
        let ctx = Context {
            version: v,
            transport: cfg.target.transport_kind(),
            schemas: cfg.schemas.clone(),
            timeout: cfg.timeout,
            close_grace: cfg.timeout.min(Duration::from_millis(500)),
        };
        let mut t = cfg.target.open(Transcript::new(cfg.target.secrets()), cfg.timeout).await?;
        match engine::probe_version(&ctx, t.as_mut()).await {
            Probe::Supported(_) => {
                supported.push(v);
                if cfg.versions == VersionSelection::Latest {
                    break;
                }
            }
            Probe::Unsupported(reason) => declined.push(format!("{v}: {reason}")),
            // A server broken at the handshake is still fuzzed: what breaks is the finding.
            Probe::Broken(_) => broken.push(v),
        }
    }
    if supported.is_empty() {
        if let Some(v) = broken.last() {
            return Ok(vec![*v]);
        }
        return Err(format!("the server supports none of the protocol versions asked for ({})", declined.join("; ")));
    }
    supported.sort();
    Ok(supported)
}

/// Fuzz the target. Harness failures (the target cannot be started) are `Err`;
/// everything the server does wrong is a finding in the report.
pub async fn run(cfg: FuzzConfig) -> Result<FuzzReport, String> {
    let versions = select_versions(&cfg).await?;
    let transport = cfg.target.transport_kind();
    // One discovery session per version, all at once (each may wait on slow tools).
    let (target, timeout) = (&cfg.target, cfg.timeout);
    let discoveries = versions.iter().map(|&v| async move {
        let mut t = target.open(Transcript::new(target.secrets()), timeout).await?;
        t.set_protocol_version(v);
        // A server too broken to describe itself is fuzzed without a catalogue.
        let catalogue = exec::discover(t.as_mut(), v, timeout).await.unwrap_or_default();
        t.close(timeout.min(Duration::from_millis(500))).await;
        Ok::<GenContext, String>(GenContext { version: v, transport, catalogue: Arc::new(catalogue) })
    });
    let contexts: Vec<GenContext> = futures_util::future::join_all(discoveries).await.into_iter().collect::<Result<_, _>>()?;
    let (schemas, timeout, window) = (cfg.schemas.clone(), cfg.timeout, cfg.window);
    let exec_for = move |v: ProtocolVersion| ExecConfig {
        version: v,
        schemas: schemas.clone(),
        timeout,
        window,
        final_drain: timeout.min(Duration::from_millis(25)),
        close_grace: timeout.min(Duration::from_millis(200)),
        concurrent_posts: transport != crate::spec::TransportKind::Stdio,
    };
    let session_len = cfg.session_len.max(4) as u64;
    let next = Arc::new(AtomicU64::new(0));
    let collected = Arc::new(Mutex::new(Collected::default()));
    let started = Instant::now();
    let shared_cfg = Arc::new((cfg.target.clone(), cfg.reference.clone(), contexts.clone(), cfg.seed, cfg.budget, cfg.progress.clone()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..cfg.workers.max(1) {
        let next = next.clone();
        let collected = collected.clone();
        let shared = shared_cfg.clone();
        let execs: Vec<ExecConfig> = contexts.iter().map(|c| exec_for(c.version)).collect();
        workers.spawn(async move {
            let (target, reference, contexts, seed, budget, progress) = &*shared;
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let len = match budget {
                    Budget::Count(n) => {
                        let done = i * session_len;
                        if done >= *n {
                            break;
                        }
                        (*n - done).min(session_len) as usize
                    }
                    Budget::Duration(d) => {
                        if started.elapsed() >= *d {
                            break;
                        }
                        session_len as usize
                    }
                };
                let slot = (i % contexts.len() as u64) as usize;
                let ctx = &contexts[slot];
                let messages = generators::session(ctx, *seed, i, len);
                let runner = Runner { target: target.clone(), reference: reference.clone(), exec: execs[slot].clone() };
                let outcome = match runner.once(&messages, None).await {
                    Ok(o) => o,
                    Err(e) => {
                        collected.lock().unwrap().error.get_or_insert(e);
                        break;
                    }
                };
                let wins = exec::windows(&messages, runner.exec.window);
                let sent_now;
                {
                    let mut c = collected.lock().unwrap();
                    c.sessions += 1;
                    c.sent += outcome.target.sent as u64;
                    c.probes += outcome.target.probes as u64;
                    for m in &messages[..outcome.target.sent.min(messages.len())] {
                        *c.generators.entry(m.label.to_string()).or_default() += 1;
                    }
                    let mut seen_here = std::collections::BTreeSet::new();
                    for v in &outcome.violations {
                        if seen_here.insert(v.key.clone()) {
                            *c.occurrences.entry(v.key.clone()).or_default() += 1;
                        }
                        let better = c.candidates.get(&v.key).is_none_or(|old| i < old.session);
                        if better {
                            let end = wins.get(v.window).map(|w| w.end).unwrap_or(messages.len());
                            c.candidates.insert(
                                v.key.clone(),
                                Candidate { session: i, version: ctx.version, messages: messages[..end].to_vec(), violation: v.clone() },
                            );
                        }
                    }
                    sent_now = c.sent;
                }
                if let Some(p) = progress {
                    let total = match budget {
                        Budget::Count(n) => Some(*n),
                        Budget::Duration(_) => None,
                    };
                    p(sent_now, total);
                }
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        joined.map_err(|e| format!("a fuzz worker failed: {e}"))?;
    }
    let elapsed = started.elapsed();
    let mut collected = Arc::try_unwrap(collected).map_err(|_| "workers still hold the results")?.into_inner().unwrap();
    if let Some(e) = collected.error.take() {
        return Err(e);
    }

    // Shrink the findings: most severe first, then by the session that showed them.
    let mut keys: Vec<(Level, u64, String)> =
        collected.candidates.iter().map(|(k, c)| (c.violation.level, c.session, k.clone())).collect();
    keys.sort();
    keys.truncate(cfg.max_findings);
    if let Some(dir) = &cfg.save_failures {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut findings = Vec::new();
    let cfg = Arc::new(cfg);
    let jobs: Vec<_> = keys
        .into_iter()
        .enumerate()
        .map(|(n, (_, _, key))| {
            let cand = collected.candidates.remove(&key).expect("listed from the map");
            let occurrences = collected.occurrences.get(&key).copied().unwrap_or(1);
            (n, key, cand, occurrences)
        })
        .collect();
    let mut pending = jobs.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut results = Vec::new();
    loop {
        while running.len() < cfg.workers.max(1) {
            let Some((n, key, cand, occurrences)) = pending.next() else { break };
            let cfg = cfg.clone();
            let exec = exec_for(cand.version);
            running.spawn(async move { (n, finish_finding(&cfg, exec, n, key, cand, occurrences).await) });
        }
        match running.join_next().await {
            Some(joined) => results.push(joined.map_err(|e| format!("shrinking failed: {e}"))?),
            None => break,
        }
    }
    results.sort_by_key(|(n, _)| *n);
    for (_, f) in results {
        findings.push(f?);
    }
    let summary = FuzzSummary {
        fail: findings.iter().filter(|f| f.level == Level::Must).count(),
        warn: findings.iter().filter(|f| f.level != Level::Must).count(),
    };
    let secs = elapsed.as_secs_f64().max(1e-9);
    Ok(FuzzReport {
        report_version: 1,
        kind: "fuzz".into(),
        tool: Tool::default(),
        target: crate::runner::target_info(&cfg.target),
        reference: cfg.reference.as_ref().map(crate::runner::target_info),
        seed: cfg.seed,
        spec_versions: versions.iter().map(|v| v.to_string()).collect(),
        count: match cfg.budget {
            Budget::Count(n) => Some(n),
            _ => None,
        },
        duration_s: match cfg.budget {
            Budget::Duration(d) => Some(d.as_secs_f64()),
            _ => None,
        },
        sessions: collected.sessions,
        messages_sent: collected.sent,
        probes_sent: collected.probes,
        elapsed_ms: (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        messages_per_second: (collected.sent as f64 / secs).round(),
        generators: collected.generators,
        summary,
        findings,
    })
}

async fn finish_finding(cfg: &FuzzConfig, exec: ExecConfig, n: usize, key: String, cand: Candidate, occurrences: u64) -> Result<FuzzFinding, String> {
    let runner = Runner { target: cfg.target.clone(), reference: cfg.reference.clone(), exec };
    let original_length = cand.messages.len();
    let deadline = Instant::now() + cfg.shrink_time;
    let repro = KeyRepro { runner: &runner, key: &key };
    // Over HTTP (but stateless 2026-07-28) the session exists only after its initialize.
    let sessions = cfg.target.transport_kind() != TransportKind::Stdio && !cand.version.is_stateless();
    let opener = cand.messages.iter().position(|m| matches!(m.effect, generators::Effect::Initialize { valid: true }));
    let pinned: Vec<usize> = opener.filter(|_| sessions).into_iter().collect();
    let shrunk = shrink::shrink(cand.messages.clone(), cand.violation.msg, &pinned, &repro, cfg.shrink_runs, deadline).await;
    let minimal = shrunk.messages;
    // Replay the minimal sequence for the evidence.
    let outcome = runner.once(&minimal, None).await?;
    let violation = outcome.violations.iter().find(|v| v.key == key).cloned().unwrap_or_else(|| {
        let mut v = cand.violation.clone();
        v.msg = None; // indices of the unshrunk session
        v
    });
    let id = format!("fuzz/s{}-{}-{}", cfg.seed, n + 1, violation.kind);
    let (case_file, case_note) = match &cfg.save_failures {
        None => (None, None),
        Some(dir) => {
            let wins = exec::windows(&minimal, runner.exec.window);
            let planned = generators::plan(&minimal, cand.version, &wins);
            let input = case_out::CaseInput {
                id: id.clone(),
                messages: &minimal,
                planned: &planned,
                violation: &violation,
                answers: &outcome.target.answers,
                reference_answers: outcome.reference.as_ref().map(|r| &r.answers),
                version: cand.version,
                transport: cfg.target.transport_kind(),
                defect: cfg.defect.as_deref(),
                description: format!(
                    "Found by `mcp-conform fuzz --seed {}` (session {}, protocol version {}); shrunk from {} to {} messages. The raw steps are the exact bytes the fuzzer sent.",
                    cfg.seed,
                    cand.session,
                    cand.version,
                    original_length,
                    minimal.len()
                ),
            };
            match case_out::build(&input) {
                Ok(case) => {
                    let text = serde_json::to_string_pretty(&case).expect("serialisable") + "\n";
                    let file = dir.join(format!("{}.json", id.replace('/', "-")));
                    // Only write what the case loader accepts.
                    crate::case::parse_cases(&file.display().to_string(), &text).map_err(|e| format!("a generated case is invalid: {e}"))?;
                    std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                    (Some(file.display().to_string()), None)
                }
                Err(note) => (None, Some(note)),
            }
        }
    };
    Ok(FuzzFinding {
        id,
        invariant: violation.kind.to_string(),
        key,
        level: violation.level,
        status: if violation.level == Level::Must { Status::Fail } else { Status::Warn },
        message: violation.message.clone(),
        spec_version: cand.version.to_string(),
        seed: cfg.seed,
        session: cand.session,
        occurrences,
        original_length,
        shrink_runs: shrunk.runs,
        reproduced: shrunk.reproduced,
        minimal_sequence: minimal.iter().map(sent_message).collect(),
        transcript: sanitize(outcome.transcript.entries()),
        reference_transcript: outcome.reference_transcript.map(|t| sanitize(t.entries())),
        case_file,
        case_note,
    })
}

fn sent_message(m: &FuzzMessage) -> SentMessage {
    use base64::Engine;
    let exact = std::str::from_utf8(&m.bytes).is_ok();
    SentMessage {
        label: m.label.to_string(),
        raw: m.text(),
        raw_base64: if exact { None } else { Some(base64::engine::general_purpose::STANDARD.encode(&m.bytes)) },
    }
}

/// Transcripts without process ids, so two runs of a seed give the same report.
fn sanitize(entries: Vec<Entry>) -> Vec<Entry> {
    entries
        .into_iter()
        .map(|mut e| {
            if e.dir == Dir::Note
                && let Some(at) = e.raw.find("(pid ")
                    && let Some(end) = e.raw[at..].find(')') {
                        let mut text = e.raw.to_string();
                        text.replace_range(at..at + end + 1, "(pid)");
                        e.raw = text.into();
                    }
            e
        })
        .collect()
}

/// The human summary: the run's numbers, then each finding (failures first) with
/// its minimal sequence and case file.
pub fn terminal_summary(report: &FuzzReport, color: bool) -> String {
    use std::fmt::Write;
    let paint = |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
    let mut out = String::new();
    for f in &report.findings {
        let (tag, code) = if f.level == Level::Must { ("FAIL", "31") } else { ("WARN", "33") };
        let _ = writeln!(out, "{} {} [{} {}] {}", paint(code, tag), f.id, f.level.as_str(), f.spec_version, f.message);
        let _ = writeln!(
            out,
            "     minimal sequence: {} message(s), shrunk from {} in {} run(s){}; seen in {} session(s), first in session {}",
            f.minimal_sequence.len(),
            f.original_length,
            f.shrink_runs,
            if f.reproduced { "" } else { " (did not reproduce on a fresh session)" },
            f.occurrences,
            f.session
        );
        for m in f.minimal_sequence.iter().take(10) {
            let raw: String = m.raw.chars().take(160).collect();
            let more = if m.raw.chars().count() > 160 { "…" } else { "" };
            let _ = writeln!(out, "       > {}{more}   ({})", raw.replace('\n', "\\n"), m.label);
        }
        if let Some(file) = &f.case_file {
            let _ = writeln!(out, "     case: {file}");
        }
        if let Some(note) = &f.case_note {
            let _ = writeln!(out, "     no case file: {note}");
        }
    }
    let _ = writeln!(
        out,
        "fuzz: {} messages (+{} probes) in {} sessions over {} in {:.2} s: {} msg/s; seed {}; {} failed, {} warned",
        report.messages_sent,
        report.probes_sent,
        report.sessions,
        report.spec_versions.join(", "),
        report.elapsed_ms / 1000.0,
        report.messages_per_second,
        report.seed,
        paint(if report.summary.fail > 0 { "31" } else { "32" }, &report.summary.fail.to_string()),
        report.summary.warn
    );
    out
}

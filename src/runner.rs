//! The runner: turns a target, a version selection and a set of cases into a Report.
//!
//! It probes which protocol versions the server speaks, schedules one fresh session
//! per case (in parallel, bounded), and collects verdicts with their transcripts.
//! The IO it does is opening transports; the judging is the engine's.

use crate::case::Case;
use crate::engine::{self, Context, Probe};
use crate::report::{CheckResult, Report, Summary, TargetInfo, Tool};
use crate::schema::SchemaSet;
use crate::spec::{ProtocolVersion, TransportKind};
use crate::target::Target;
use crate::transcript::{Entry, Transcript};
use crate::verdict::Status;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Which protocol versions to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelection {
    /// Every version the server accepts.
    All,
    /// The newest version the server accepts.
    Latest,
    /// Exactly this one.
    One(ProtocolVersion),
}

impl std::str::FromStr for VersionSelection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(VersionSelection::All),
            "latest" => Ok(VersionSelection::Latest),
            v => v.parse().map(VersionSelection::One),
        }
    }
}

pub struct RunConfig {
    pub target: Target,
    pub versions: VersionSelection,
    /// Globs over case ids or trial names (`lifecycle/*`, `2025-11-25/stdio/tools/*`).
    pub filters: Vec<String>,
    pub timeout: Duration,
    pub close_grace: Duration,
    pub schemas: Arc<SchemaSet>,
    pub cases: Vec<Case>,
    /// Sessions run at once.
    pub jobs: usize,
    /// Called after each result (progress display).
    pub on_result: Option<Arc<dyn Fn(&CheckResult, usize) + Send + Sync>>,
}

/// A failure of the harness itself (not of the server): exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("bad filter {0:?}: {1}")]
    Filter(String, String),
    #[error("cannot reach the server: {0}")]
    Target(String),
}

pub fn build_filter(filters: &[String]) -> Result<Option<GlobSet>, RunError> {
    if filters.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for f in filters {
        // A bare prefix like `lifecycle` or `stdio/tools` matches everything below it.
        for pattern in [f.clone(), format!("{f}/*"), format!("*/{f}"), format!("*/{f}/*")] {
            b.add(Glob::new(&pattern).map_err(|e| RunError::Filter(f.clone(), e.to_string()))?);
        }
    }
    b.build().map(Some).map_err(|e| RunError::Filter(filters.join(","), e.to_string()))
}

/// The number of sessions to run at once by default. A session mostly waits (for
/// answers, for no-response windows), so cheap sessions (the bundled server, an HTTP
/// URL) run many at once; a spawned third-party command costs a process start-up each
/// (a Node or Python server takes a core for a while), so those run two per core.
pub fn default_jobs(cheap_sessions: bool) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    if cheap_sessions { (cores * 16).clamp(16, 64) } else { (cores * 2).clamp(2, 32) }
}

pub async fn run(mut config: RunConfig) -> Result<Report, RunError> {
    let filter = build_filter(&config.filters)?;
    let transport = config.target.transport_kind();
    let candidates: Vec<ProtocolVersion> = match &config.versions {
        VersionSelection::One(v) => vec![*v],
        _ => ProtocolVersion::ALL.to_vec(),
    };
    // Taken from the config and shared, not copied, by the sessions: every task is
    // spawned up front and waits for its turn holding its case.
    let selected: Vec<Arc<Case>> = std::mem::take(&mut config.cases)
        .into_iter()
        .filter(|c| {
            filter.as_ref().is_none_or(|f| {
                f.is_match(&c.id) || candidates.iter().any(|v| f.is_match(format!("{v}/{transport}/{}", c.id)))
            })
        })
        .map(Arc::new)
        .collect();

    // Probe the versions the selection could run, all at once: a dead server costs one
    // timeout, not one per version.
    let config = Arc::new(config);
    let latest_only = config.versions == VersionSelection::Latest;
    let mut probe_tasks = tokio::task::JoinSet::new();
    for v in candidates.iter().copied() {
        if !latest_only && !selected.iter().any(|c| c.applies_to(v, transport)) {
            continue;
        }
        let config = config.clone();
        probe_tasks.spawn(async move {
            let transcript = Transcript::new(config.target.secrets());
            let mut t = config.target.open(transcript.clone(), config.timeout).await?;
            let probe = engine::probe_version(&context(&config, v), t.as_mut()).await;
            Ok::<_, String>((v, probe, transcript.entries()))
        });
    }
    let mut probes: Vec<(ProtocolVersion, Probe, Vec<Entry>)> = Vec::new();
    while let Some(joined) = probe_tasks.join_next().await {
        let probed = joined.map_err(|e| RunError::Target(format!("a version probe failed: {e}")))?;
        probes.push(probed.map_err(RunError::Target)?);
    }
    probes.sort_by_key(|(v, _, _)| *v);
    // A server that accepts none of the versions tried speaks no version of this
    // specification: that is a failure of version negotiation, not a reason to skip all.
    if !probes.is_empty() && !probes.iter().any(|(_, p, _)| matches!(p, Probe::Supported(_))) {
        for (v, p, _) in probes.iter_mut() {
            if let Probe::Unsupported(reason) = p {
                *p = Probe::Broken(format!("the server accepted none of the protocol versions tried ({v}: {reason})"));
            }
        }
    }
    if latest_only {
        // Only the newest supported version runs; if none is, report against the newest.
        let keep = probes
            .iter()
            .rev()
            .find(|(_, p, _)| matches!(p, Probe::Supported(_)))
            .map(|(v, _, _)| *v)
            .unwrap_or(ProtocolVersion::LATEST);
        probes.retain(|(v, _, _)| *v == keep);
    }

    // Every (version, case) pair with its place in the report; the sessions start in
    // order of planned waits, longest first (the semaphore hands out permits in FIFO
    // order), and the report keeps the library's order.
    let mut planned: Vec<(usize, &(ProtocolVersion, Probe, Vec<Entry>), &Arc<Case>)> = Vec::new();
    for probed in &probes {
        let version = probed.0;
        for case in selected.iter().filter(|c| c.applies_to(version, transport)) {
            let trial = format!("{version}/{transport}/{}", case.id);
            if filter.as_ref().is_some_and(|f| !f.is_match(&case.id) && !f.is_match(&trial)) {
                continue;
            }
            planned.push((planned.len() + 1, probed, case));
        }
    }
    planned.sort_by_key(|(slot, _, case)| (std::cmp::Reverse(case.planned_wait_ms()), *slot));

    let semaphore = Arc::new(Semaphore::new(config.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut results: Vec<(usize, CheckResult)> = Vec::new();
    let total = planned.len();
    for (slot, (version, probe, probe_transcript), case) in planned {
        match probe {
            // A case that judges negotiation runs whatever the probe concluded (the
            // probe's "unsupported" may be the very fault it is there to see); every
            // other case has nothing to test in a version the server does not speak.
            Probe::Unsupported(reason) if !(case.setup == crate::case::Setup::None && case.judges_negotiation) => {
                results.push((slot, skipped(case, *version, transport, reason.clone())));
                continue;
            }
            Probe::Unsupported(_) => {}
            Probe::Broken(reason) => {
                // Every case would fail the same way after the same timeout: say so
                // once per case, with the probe's transcript as evidence.
                let message = format!("the server could not be set up for {version}: {reason}");
                let r = result(case, *version, transport, Status::Fail, message, Instant::now(), probe_transcript.clone());
                results.push((slot, r));
                continue;
            }
            Probe::Supported(_) => {}
        }
        let case = Arc::clone(case);
        let config = config.clone();
        let semaphore = semaphore.clone();
        let version = *version;
        tasks.spawn(async move {
            let _permit = semaphore.acquire().await.expect("semaphore is never closed");
            // Boxed: a waiting task then holds a pointer, not the 2.4 KB of a session's
            // state, and hundreds wait.
            (slot, Box::pin(run_one(&config, &case, version)).await)
        });
    }
    let mut done = 0;
    for (_, r) in &results {
        done += 1;
        if let Some(cb) = &config.on_result {
            cb(r, total);
        }
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((slot, result)) => {
                done += 1;
                if let Some(cb) = &config.on_result {
                    cb(&result, total);
                }
                results.push((slot, result));
            }
            Err(e) => return Err(RunError::Target(format!("a check task failed: {e}"))),
        }
    }
    let _ = done;
    results.sort_by_key(|(slot, _)| *slot);
    let results: Vec<CheckResult> = results.into_iter().map(|(_, r)| r).collect();
    let versions_run: Vec<ProtocolVersion> = probes.iter().map(|(v, _, _)| *v).collect();
    Ok(Report {
        report_version: crate::report::REPORT_VERSION,
        tool: Tool::default(),
        target: target_info(&config.target),
        spec_version: match versions_run.as_slice() {
            [one] => one.to_string(),
            _ => "all".into(),
        },
        summary: Summary::of(&results),
        results,
        baseline: None,
        shard: None,
    })
}

pub fn context(config: &RunConfig, version: ProtocolVersion) -> Context {
    Context {
        version,
        transport: config.target.transport_kind(),
        schemas: config.schemas.clone(),
        timeout: config.timeout,
        close_grace: config.close_grace,
    }
}

async fn run_one(config: &RunConfig, case: &Case, version: ProtocolVersion) -> CheckResult {
    run_case_once(&config.target, case, &context(config, version)).await
}

/// Run one case for one version on a fresh session, without probing versions first.
/// This is what a `cargo test` trial calls.
pub async fn run_case_once(target: &Target, case: &Case, ctx: &Context) -> CheckResult {
    let started = Instant::now();
    let transcript = Transcript::new(target.secrets());
    let version = ctx.version;
    let (status, message) = match target.open(transcript.clone(), ctx.timeout).await {
        Ok(mut t) => {
            let verdict = engine::run_case(case, ctx, t.as_mut()).await;
            (verdict.status, verdict.message)
        }
        Err(e) => (Status::Fail, format!("cannot open a session: {e}")),
    };
    result(case, version, target.transport_kind(), status, message, started, transcript.entries())
}

fn skipped(case: &Case, version: ProtocolVersion, transport: TransportKind, reason: String) -> CheckResult {
    result(case, version, transport, Status::Skip, reason, Instant::now(), Vec::new())
}

fn result(
    case: &Case,
    version: ProtocolVersion,
    transport: TransportKind,
    status: Status,
    message: String,
    started: Instant,
    transcript: Vec<Entry>,
) -> CheckResult {
    CheckResult {
        id: case.id.clone(),
        title: case.title.clone(),
        spec_version: version.to_string(),
        transport: transport.to_string(),
        status,
        level: case.level,
        spec: case.spec_url(version),
        message,
        duration_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        transcript,
        aliases: case.aliases.clone(),
    }
}

/// What a report says about the server it ran against.
pub fn target_info(target: &Target) -> TargetInfo {
    match target {
        Target::Stdio { command, .. } => {
            TargetInfo { transport: "stdio".into(), command: Some(command.clone()), url: None }
        }
        Target::InProcess => TargetInfo {
            transport: "stdio".into(),
            command: Some(vec!["mcp-conform reference-server (in-process)".into()]),
            url: None,
        },
        Target::Http { url, transport, .. } => {
            TargetInfo { transport: transport.to_string(), command: None, url: Some(url.clone()) }
        }
    }
}

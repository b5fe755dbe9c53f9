//! The `mcp-conform` command line. Thin: parse arguments, call the library, map the
//! outcome to an exit code (0 conforming, 1 findings, 2 usage or harness error).

use clap::{Args, Parser, Subcommand};
use mcp_conform::baseline::{self, Baseline};
use mcp_conform::case::{self, Case};
use mcp_conform::report::{self, Report};
use mcp_conform::runner::{self, RunConfig, VersionSelection};
use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::TransportKind;
use mcp_conform::target::Target;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use std::time::Duration;

#[derive(Parser)]
#[command(name = "mcp-conform", version, about = "Conformance test suite for Model Context Protocol servers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
enum Command {
    /// Run the conformance checks against a server (default: the bundled reference server).
    Run(RunArgs),
    /// List the checks: id, level, versions, spec link.
    List(ListArgs),
    /// Validate a recorded NDJSON trace offline against a version's schema.
    Validate(ValidateArgs),
    /// Fuzz a server's message handling: seeded, shrinking, optionally differential.
    Fuzz(FuzzArgs),
    /// Compare two JSON reports: what got better, worse, new, gone (exit 1 if worse).
    Compare(CompareArgs),
    /// Write reports (HTML, JUnit, ...) from saved JSON reports; several are merged
    /// (e.g. the shards of a run). Exit 1 if the merged report has failures.
    Report(ReportCmdArgs),
    /// Run the bundled reference server (see `mcp-conform reference-server --help`).
    #[command(disable_help_flag = true)]
    ReferenceServer {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Args)]
struct TargetArgs {
    /// An HTTP server's URL instead of a stdio command.
    #[arg(long)]
    url: Option<String>,
    /// The HTTP transport to use with --url.
    #[arg(long, default_value = "streamable-http", value_parser = parse_http_transport)]
    transport: TransportKind,
    /// Extra HTTP header, 'Name: value' (repeatable).
    #[arg(long = "header", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Send `Authorization: Bearer $VAR` (the token is redacted from every report).
    #[arg(long)]
    bearer_token_env: Option<String>,
    /// A test token for the authorization checks, `KIND=VAR` with the token in $VAR
    /// (repeatable; redacted like the bearer token). Kinds: `wrong-audience` (a valid
    /// token issued for another resource), `insufficient-scope` (a valid token for this
    /// server that lacks a scope it needs).
    #[arg(long = "auth-token-env", value_name = "KIND=VAR", value_parser = parse_token_kind)]
    auth_token_env: Vec<(String, String)>,
    /// The stdio server to spawn: `-- CMD ARGS...`.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// With no server given: spawn the bundled reference server as a child process per
    /// session, as any stdio server, instead of running it in-process (the default,
    /// which saves a process start per session).
    #[arg(long)]
    bundled_process: bool,
    /// `all` (every version the server accepts), `latest`, or one version.
    #[arg(long, default_value = "all")]
    spec_version: VersionSelection,
    /// Case ids or trial names to run, as globs (repeatable): `lifecycle/*`, `tools`.
    #[arg(long = "filter")]
    filters: Vec<String>,
    #[command(flatten)]
    reports: ReportArgs,
    /// Run only part K of N of the trials (deterministic by trial name; see docs/ci.md).
    #[arg(long, value_name = "K/N")]
    shard: Option<mcp_conform::shard::Shard>,
    /// Per-response timeout in milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Load cases from DIR instead of the built-in library.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// Validate against the schemas in DIR (laid out like `schemas/`).
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// Sessions to run at once.
    #[arg(long)]
    jobs: Option<usize>,
    /// `all` (every case) or `official`: only the cases that stand for a scenario or check
    /// of the official `@modelcontextprotocol/conformance` suite (those with `aliases`).
    #[arg(long, default_value = "all")]
    suite: Suite,
}

/// Which cases `run` takes from the library.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Suite {
    All,
    Official,
}

impl Suite {
    fn keeps(self, case: &Case) -> bool {
        match self {
            Suite::All => true,
            // Every alias is an official suite id (scenario, or `scenario:check`).
            Suite::Official => !case.aliases.is_empty(),
        }
    }
}

#[derive(Args)]
struct ValidateArgs {
    /// The protocol version, or `auto` to read it from the trace's initialize exchange.
    #[arg(long)]
    spec_version: String,
    /// Validate against the schemas in DIR (laid out like `schemas/`).
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// The trace: one JSON-RPC message per line (or transcript entries); `-` for stdin.
    file: String,
}

/// The report files a run or a re-render writes (`-` = stdout, for one of them at most).
#[derive(Args)]
struct FormatArgs {
    /// Write the JSON report to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<String>,
    /// Write a Markdown summary (CI job summaries, PR comments) to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<String>,
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// Write a SARIF 2.1.0 log (code-scanning dashboards) to FILE.
    #[arg(long, value_name = "FILE")]
    sarif: Option<String>,
}

impl FormatArgs {
    fn outputs(&self, ndjson: Option<String>) -> report::output::Outputs {
        report::output::Outputs {
            json: self.json.clone(),
            junit: self.junit.clone(),
            markdown: self.markdown.clone(),
            html: self.html.clone(),
            sarif: self.sarif.clone(),
            ndjson,
        }
    }
}

/// Reports, baseline and NDJSON stream of a run.
#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    formats: FormatArgs,
    /// Stream one JSON result per line to FILE as checks finish, then a summary line.
    #[arg(long, value_name = "FILE")]
    ndjson: Option<String>,
    /// Known failures (YAML, or JSON for `.json`): matched failures become xfail;
    /// entries whose checks now pass are stale and fail the run.
    #[arg(long, value_name = "FILE")]
    expected_failures: Option<String>,
    /// Write the current failures and warnings as a baseline to FILE (YAML, or JSON for `.json`).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<String>,
}

impl ReportArgs {
    fn outputs(&self) -> report::output::Outputs {
        self.formats.outputs(self.ndjson.clone())
    }
}

#[derive(Args)]
struct CompareArgs {
    /// The earlier JSON report.
    old: PathBuf,
    /// The later JSON report.
    new: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ReportCmdArgs {
    /// JSON reports written by `run --json`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    formats: FormatArgs,
}

#[derive(Args)]
struct ListArgs {
    /// Only checks that apply to this version.
    #[arg(long)]
    spec_version: Option<mcp_conform::spec::ProtocolVersion>,
    /// Load cases from DIR instead of the built-in library.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// Print the catalogue as Markdown (what `docs/checks.md` holds).
    #[arg(long)]
    markdown: bool,
}

fn parse_http_transport(s: &str) -> Result<TransportKind, String> {
    match s.parse::<TransportKind>()? {
        TransportKind::Stdio => Err("use `-- CMD ARGS` for a stdio server".into()),
        t => Ok(t),
    }
}

const TOKEN_KINDS: &[&str] = &["wrong-audience", "insufficient-scope"];

fn parse_token_kind(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("expected KIND=VAR, got {s:?}"))?;
    if !TOKEN_KINDS.contains(&k) {
        return Err(format!("unknown token kind {k:?} (kinds: {})", TOKEN_KINDS.join(", ")));
    }
    if v.is_empty() {
        return Err("the environment variable name is empty".into());
    }
    Ok((k.to_string(), v.to_string()))
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once(':').ok_or_else(|| format!("a header is 'Name: value', got {s:?}"))?;
    let k = k.trim();
    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) {
        return Err(format!("bad header name {k:?}"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

/// On Ctrl-C or SIGTERM, kill every server this run spawned (they live in their own
/// process groups), then exit 130: an interrupted run leaves nothing behind.
fn kill_servers_on_interrupt() {
    std::thread::spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else { return };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        mcp_conform::transport::stdio::kill_all_spawned();
        eprintln!("mcp-conform: interrupted; spawned servers killed");
        std::process::exit(130);
    });
}

/// mimalloc instead of glibc's malloc: with Tokio's workers and the in-process server,
/// glibc's arena locks took a third of the CPU of a default run and, now and then,
/// contention storms doubled its wall time (docs/performance.md). mimalloc keeps freed
/// memory for reuse; purging it at once and committing arena memory on demand keeps
/// the peak RSS where glibc's was.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs from `.init_array`, before the first allocation: the arena that allocation
/// creates takes its commit policy from the options as they are then.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

#[cfg(target_os = "linux")]
extern "C" fn tune_allocator() {
    use libmimalloc_sys as mi;
    // Option numbers of mimalloc 3 (`mi_option_e` in its mimalloc.h; `mi_version` is
    // major * 10000 + minor * 100 + patch); other versions number them differently,
    // so they keep their defaults.
    const ARENA_EAGER_COMMIT: mi::mi_option_t = 4;
    const PURGE_DELAY: mi::mi_option_t = 15;
    // SAFETY: mi_version and mi_option_set only read and set allocator tunables.
    unsafe {
        if mi::mi_version() / 10_000 == 3 {
            mi::mi_option_set(ARENA_EAGER_COMMIT, 0);
            mi::mi_option_set(PURGE_DELAY, 0);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::ReferenceServer { args } => mcp_reference_server::run_cli(args),
        Command::List(args) => exit(list(args)),
        Command::Run(args) => {
            kill_servers_on_interrupt();
            exit(run(args))
        }
        Command::Validate(args) => exit(validate(args)),
        Command::Fuzz(args) => {
            kill_servers_on_interrupt();
            exit(fuzz(args))
        }
        Command::Compare(args) => exit(compare(args)),
        Command::Report(args) => exit(render(args)),
    }
}

/// Usage and harness errors are exit 2, with the message on stderr.
fn exit(outcome: Result<bool, String>) -> ExitCode {
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("mcp-conform: {e}");
            ExitCode::from(2)
        }
    }
}

fn load_cases(dir: Option<&PathBuf>) -> Result<Vec<Case>, String> {
    match dir {
        Some(d) => case::load_dir(d),
        None => mcp_conform::embedded_cases(),
    }
    .map_err(|e| e.to_string())
}

fn list(args: ListArgs) -> Result<bool, String> {
    let cases = load_cases(args.cases.as_ref())?;
    let mut out = std::io::stdout().lock();
    if args.markdown {
        let _ = out.write_all(mcp_conform::catalogue::markdown(&cases).as_bytes());
        return Ok(true);
    }
    for c in &cases {
        let versions: Vec<_> = mcp_conform::spec::ProtocolVersion::ALL.into_iter().filter(|v| c.versions.contains(*v)).collect();
        if args.spec_version.is_some_and(|v| !versions.contains(&v)) {
            continue;
        }
        let shown = args.spec_version.or(versions.last().copied()).unwrap_or(mcp_conform::spec::ProtocolVersion::LATEST);
        let vs: Vec<_> = versions.iter().map(|v| v.as_str()).collect();
        let _ = writeln!(out, "{}\t{}\t{}\t{}\t{}", c.id, c.level.as_str(), vs.join(","), c.spec_url(shown), c.title);
    }
    Ok(true)
}

fn validate(args: ValidateArgs) -> Result<bool, String> {
    let text = if args.file == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
        s
    } else {
        std::fs::read_to_string(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file))?
    };
    let version = match args.spec_version.as_str() {
        "auto" => mcp_conform::trace::detect_version(&text)
            .ok_or_else(|| format!("{}: no initialize exchange or protocol version found; pass --spec-version", args.file))?,
        v => v.parse()?,
    };
    let schemas = match &args.schema_dir {
        Some(d) => SchemaSet::from_dir(d)?,
        None => SchemaSet::embedded()?,
    };
    let findings = mcp_conform::trace::validate(&text, version, &schemas);
    let mut out = std::io::stdout().lock();
    for f in &findings {
        let _ = writeln!(out, "{}: {f}", args.file);
    }
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    eprintln!("{}: {lines} messages checked against {version}: {} findings", args.file, findings.len());
    Ok(findings.is_empty())
}

fn target_of(args: &TargetArgs) -> Result<Target, String> {
    let mut headers = args.headers.clone();
    if let Some(var) = &args.bearer_token_env {
        let token = std::env::var(var).map_err(|_| format!("--bearer-token-env: ${var} is not set"))?;
        headers.push(("Authorization".into(), format!("Bearer {token}")));
    }
    let mut tokens = Vec::new();
    for (kind, var) in &args.auth_token_env {
        let token = std::env::var(var).map_err(|_| format!("--auth-token-env {kind}: ${var} is not set"))?;
        tokens.push((kind.clone(), token));
    }
    if !tokens.is_empty() && args.url.is_none() {
        return Err("--auth-token-env is for HTTP servers (--url)".into());
    }
    match (&args.url, args.command.is_empty()) {
        (Some(_), false) => Err("give either --url or `-- CMD ARGS`, not both".into()),
        (Some(url), true) => Ok(Target::Http { url: url.clone(), transport: args.transport, headers, tokens }),
        (None, false) => Ok(Target::Stdio { command: args.command.clone(), env: Vec::new() }),
        (None, true) => {
            let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
            Ok(Target::Stdio { command: vec![exe.display().to_string(), "reference-server".into()], env: Vec::new() })
        }
    }
}

fn run(args: RunArgs) -> Result<bool, String> {
    let bundled = args.target.url.is_none() && args.target.command.is_empty();
    // Validate the target flags whatever runs: a bad flag is a usage error either way.
    let target = target_of(&args.target)?;
    let target = if bundled && !args.bundled_process { Target::InProcess } else { target };
    let mut cases = load_cases(args.cases.as_ref())?;
    cases.retain(|c| args.suite.keeps(c));
    let schemas = match &args.schema_dir {
        Some(d) => SchemaSet::from_dir(d)?,
        None => SchemaSet::embedded()?,
    };
    let outputs = args.reports.outputs();
    outputs.check()?;
    if args.reports.write_baseline.as_deref() == Some("-") && outputs.stdout_taken() {
        return Err("only one report can go to stdout (`-`): --write-baseline and another".into());
    }
    let baseline = match &args.reports.expected_failures {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            let b = Baseline::parse(&text, baseline::Format::of_path(path)).map_err(|e| format!("{path}: {e}"))?;
            Some(Arc::new(b))
        }
        None => None,
    };
    let mut filters = args.filters.clone();
    if let Some(shard) = args.shard {
        filters = mcp_conform::shard::trial_filters(&cases, &args.filters, target.transport_kind(), shard)
            .map_err(|e| e.to_string())?;
        if filters.is_empty() {
            // Nothing of this shard: a filter no trial matches makes an empty run.
            filters.push("!no-trial-in-this-shard!".into());
        }
    }
    let secrets = report::redact::secrets_of(&target);
    let live = Arc::new(report::output::Live::new(
        report::output::stderr_is_terminal(),
        args.reports.ndjson.as_deref(),
        baseline.clone(),
        secrets.clone(),
    )?);
    let config = RunConfig {
        target,
        versions: args.spec_version.clone(),
        filters,
        timeout: Duration::from_millis(args.timeout),
        close_grace: Duration::from_millis((args.timeout / 2).clamp(100, 2000)),
        schemas,
        cases,
        jobs: args.jobs.unwrap_or_else(|| runner::default_jobs(bundled || args.target.url.is_some())),
        on_result: Some(live.hook()),
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut report = match runtime.block_on(runner::run(config)) {
        Ok(r) => r,
        Err(e) => {
            let _ = live.finish(None);
            return Err(e.to_string());
        }
    };
    if let Some(shard) = args.shard {
        report.results.retain(|r| shard.contains(&r.trial_name()));
        report.shard = Some(report::ShardInfo { index: shard.index, count: shard.count });
        report.recount();
    }
    if let (Some(b), Some(path)) = (&baseline, &args.reports.expected_failures) {
        b.apply(&mut report, path);
    }
    report::redact::report(&mut report, &secrets);
    let streamed = live.finish(Some(&report));
    outputs.write(&report)?;
    streamed?;
    if let Some(path) = &args.reports.write_baseline {
        let recorded = Baseline::record(&report, &format!("recorded on {}", baseline::today()));
        report::output::write_out(path, &recorded.to_text(baseline::Format::of_path(path)))?;
        eprintln!("mcp-conform: wrote {} expected failures to {path}", recorded.entries.len());
    }
    if let Some(b) = &report.baseline {
        for e in b.entries.iter().filter(|e| e.state == report::EntryState::Unused) {
            eprintln!("mcp-conform: warning: baseline entry {} matched no exercised check ({})", e.label(), e.reason);
        }
    }
    print_summary(&report, outputs.stdout_taken() || args.reports.write_baseline.as_deref() == Some("-"));
    Ok(!report.has_failures())
}

/// The terminal summary goes to stderr when a report took stdout.
fn print_summary(report: &Report, to_stderr: bool) {
    let terminal = if to_stderr { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() };
    let summary = report::terminal::summary(report, report::output::color_wanted(terminal));
    if to_stderr {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
}

fn read_report(p: &PathBuf) -> Result<Report, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a JSON report: {e}", p.display()))
}

fn render(args: ReportCmdArgs) -> Result<bool, String> {
    let reports = args.inputs.iter().map(read_report).collect::<Result<Vec<_>, _>>()?;
    let mut report = Report::merge(reports).ok_or("no report given")?;
    report::redact::report(&mut report, &[]);
    let outputs = args.formats.outputs(None);
    outputs.check()?;
    outputs.write(&report)?;
    print_summary(&report, outputs.stdout_taken());
    Ok(!report.has_failures())
}

fn compare(args: CompareArgs) -> Result<bool, String> {
    let (old, new) = (read_report(&args.old)?, read_report(&args.new)?);
    let c = mcp_conform::compare::compare(&old, &new);
    if args.json {
        let mut s = serde_json::to_string_pretty(&c).map_err(|e| e.to_string())?;
        s.push('\n');
        report::output::write_out("-", &s)?;
    } else {
        print!("{}", mcp_conform::compare::to_text(&c, report::output::color_wanted(std::io::stdout().is_terminal())));
    }
    Ok(!c.got_worse())
}

// ----- mcp-conform fuzz ------------------------------------------------------------

#[derive(Args)]
struct FuzzArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Generated messages to send [default: 10000, unless --duration].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "duration")]
    count: Option<u64>,
    /// Fuzz for this many seconds instead of a message count.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    duration: Option<f64>,
    /// The seed: the same seed sends the same messages [default: random, printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Write the JSON report to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Write each finding as a replayable case file (`mcp-conform run --cases DIR`).
    #[arg(long, value_name = "DIR")]
    save_failures: Option<PathBuf>,
    /// Also send every message to the bundled reference server and compare answers.
    #[arg(long)]
    differential: bool,
    /// `all` (every version the server accepts), `latest`, or one version.
    #[arg(long, default_value = "all")]
    spec_version: VersionSelection,
    /// Per-response timeout in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Server sessions fuzzed at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    jobs: u64,
    /// Messages per server session (a fresh process each).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(4..))]
    session_length: u64,
    /// Messages pipelined before waiting for the answers.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    window: u64,
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("expected a positive number of seconds, got {s:?}")),
    }
}

/// The reference-server defect a stdio command plants (named in saved cases).
fn planted_defect(command: &[String]) -> Option<String> {
    if !command.iter().any(|a| a == "reference-server") {
        return None;
    }
    command.iter().enumerate().find_map(|(i, a)| match a.strip_prefix("--defect=") {
        Some(name) => Some(name.to_string()),
        None if a == "--defect" => command.get(i + 1).cloned(),
        None => None,
    })
}

fn fuzz(args: FuzzArgs) -> Result<bool, String> {
    use mcp_conform::fuzz::{self, Budget, FuzzConfig};
    let target = target_of(&args.target)?;
    let seed = args.seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        (t.as_nanos() as u64) ^ ((std::process::id() as u64) << 32)
    });
    let mut config = FuzzConfig::new(target.clone(), SchemaSet::embedded()?);
    config.seed = seed;
    config.versions = args.spec_version.clone();
    config.budget = match args.duration {
        Some(secs) => Budget::Duration(Duration::from_secs_f64(secs)),
        None => Budget::Count(args.count.unwrap_or(10_000)),
    };
    config.timeout = Duration::from_millis(args.timeout);
    config.workers = args.jobs as usize;
    config.session_len = args.session_length as usize;
    config.window = args.window as usize;
    config.save_failures = args.save_failures.clone();
    if let Target::Stdio { command, .. } = &target {
        config.defect = planted_defect(command);
    }
    if args.differential {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
        config.reference = Some(Target::Stdio { command: vec![exe.display().to_string(), "reference-server".into()], env: Vec::new() });
    }
    eprintln!("mcp-conform fuzz: seed {seed}");
    let bar = report::output::stderr_is_terminal().then(|| {
        let bar = match config.budget {
            Budget::Count(n) => indicatif::ProgressBar::new(n),
            Budget::Duration(_) => indicatif::ProgressBar::new_spinner(),
        };
        let template = match config.budget {
            Budget::Count(_) => "{bar:40} {pos}/{len} messages {per_sec} {elapsed}",
            Budget::Duration(_) => "{spinner} {pos} messages {per_sec} {elapsed}",
        };
        bar.set_style(indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
        bar
    });
    if let Some(bar) = &bar {
        let bar = bar.clone();
        config.progress = Some(std::sync::Arc::new(move |sent, _| bar.set_position(sent)));
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let report = runtime.block_on(fuzz::run(config));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report?;
    if let Some(path) = &args.json {
        report::output::write_out(path, &(serde_json::to_string_pretty(&report).expect("a report always serialises") + "\n"))?;
    }
    let to_stderr = args.json.as_deref() == Some("-");
    let color = report::output::color_wanted(if to_stderr { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() });
    let summary = fuzz::terminal_summary(&report, color);
    if to_stderr {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(!report.has_failures())
}

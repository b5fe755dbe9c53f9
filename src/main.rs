//! The `mcp-conform` command line. Thin: parse arguments, call the library, map the
//! outcome to an exit code (0 conforming, 1 findings, 2 usage or harness error).

use clap::{Args, Parser, Subcommand};
use mcp_conform::case::{self, Case};
use mcp_conform::report::{self, Report};
use mcp_conform::runner::{self, RunConfig, VersionSelection};
use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::TransportKind;
use mcp_conform::target::Target;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use std::time::Duration;

#[derive(Parser)]
#[command(name = "mcp-conform", version, about = "Conformance test suite for Model Context Protocol servers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance checks against a server (default: the bundled reference server).
    Run(RunArgs),
    /// List the checks: id, level, versions, spec link.
    List(ListArgs),
    /// Validate a recorded NDJSON trace offline against a version's schema.
    Validate(ValidateArgs),
    /// Fuzz a server's message handling: seeded, shrinking, optionally differential.
    Fuzz(FuzzArgs),
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
    /// The stdio server to spawn: `-- CMD ARGS...`.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// `all` (every version the server accepts), `latest`, or one version.
    #[arg(long, default_value = "all")]
    spec_version: VersionSelection,
    /// Case ids or trial names to run, as globs (repeatable): `lifecycle/*`, `tools`.
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Write the JSON report to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
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

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once(':').ok_or_else(|| format!("a header is 'Name: value', got {s:?}"))?;
    let k = k.trim();
    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) {
        return Err(format!("bad header name {k:?}"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::ReferenceServer { args } => mcp_reference_server::run_cli(args),
        Command::List(args) => exit(list(args)),
        Command::Run(args) => exit(run(args)),
        Command::Validate(args) => exit(validate(args)),
        Command::Fuzz(args) => exit(fuzz(args)),
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
    match (&args.url, args.command.is_empty()) {
        (Some(_), false) => Err("give either --url or `-- CMD ARGS`, not both".into()),
        (Some(url), true) => Ok(Target::Http { url: url.clone(), transport: args.transport, headers }),
        (None, false) => Ok(Target::Stdio { command: args.command.clone(), env: Vec::new() }),
        (None, true) => {
            let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
            Ok(Target::Stdio { command: vec![exe.display().to_string(), "reference-server".into()], env: Vec::new() })
        }
    }
}

fn run(args: RunArgs) -> Result<bool, String> {
    let target = target_of(&args.target)?;
    let cases = load_cases(args.cases.as_ref())?;
    let schemas = match &args.schema_dir {
        Some(d) => SchemaSet::from_dir(d)?,
        None => SchemaSet::embedded()?,
    };
    let config = RunConfig {
        target,
        versions: args.spec_version.clone(),
        filters: args.filters.clone(),
        timeout: Duration::from_millis(args.timeout),
        close_grace: Duration::from_millis((args.timeout / 2).clamp(100, 2000)),
        schemas,
        cases,
        jobs: args.jobs.unwrap_or_else(runner::default_jobs),
        on_result: None,
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let report = runtime.block_on(runner::run(config)).map_err(|e| e.to_string())?;
    write_reports(&args, &report)?;
    let stdout_taken = args.json.as_deref() == Some("-");
    let summary = report::terminal::summary(&report, color_wanted());
    if stdout_taken {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(!report.has_failures())
}

fn color_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn write_reports(args: &RunArgs, report: &Report) -> Result<(), String> {
    if let Some(path) = &args.json {
        write_out(path, &report::json::to_string(report))?;
    }
    Ok(())
}

fn write_out(path: &str, text: &str) -> Result<(), String> {
    if path == "-" {
        std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("cannot write to stdout: {e}"))
    } else {
        std::fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"))
    }
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
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
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
    let bar = std::io::stderr().is_terminal().then(|| {
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
        write_out(path, &(serde_json::to_string_pretty(&report).expect("a report always serialises") + "\n"))?;
    }
    let summary = fuzz::terminal_summary(&report, color_wanted());
    if args.json.as_deref() == Some("-") {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(!report.has_failures())
}

//! Fuzzing throughput: generated messages per second against the bundled reference
//! server, over stdio (one server process per session) and over Streamable HTTP (one
//! server, a session per fuzz session). Only the fuzzing phase is timed, and nothing
//! is shrunk: this measures speed, `tests/fuzz.rs` measures correctness.
//!
//! `cargo bench --bench fuzz_throughput`; `MCP_FUZZ_BENCH_COUNT` sets the messages
//! per run (default 50000), `MCP_FUZZ_BENCH_CMD` another stdio server command
//! (space-separated) instead of the reference server (then stdio only).

use mcp_conform::fuzz::{self, Budget, FuzzConfig};
use mcp_conform::runner::VersionSelection;
use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::{ProtocolVersion, TransportKind};
use mcp_conform::target::Target;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-conform");

fn main() {
    let count: u64 = std::env::var("MCP_FUZZ_BENCH_COUNT").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let custom = std::env::var("MCP_FUZZ_BENCH_CMD").ok();
    let command: Vec<String> = match &custom {
        Some(cmd) => cmd.split_whitespace().map(str::to_string).collect(),
        None => vec![BIN.to_string(), "reference-server".to_string()],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let stdio = Target::Stdio { command, env: Vec::new() };
    for (name, versions) in [
        ("2025-06-18", VersionSelection::One(ProtocolVersion::V2025_06_18)),
        ("2026-07-28", VersionSelection::One(ProtocolVersion::V2026_07_28)),
        ("all versions", VersionSelection::All),
    ] {
        measure(&runtime, &format!("stdio/{name}"), stdio.clone(), versions, count);
    }
    if custom.is_some() {
        return;
    }
    let Some((mut server, url)) = http_server() else {
        eprintln!("fuzz_throughput/http: the reference server did not start over HTTP");
        std::process::exit(2);
    };
    let http = Target::Http { url, transport: TransportKind::StreamableHttp, headers: Vec::new(), tokens: Vec::new() };
    measure(&runtime, "streamable-http/all versions", http, VersionSelection::All, count / 5);
    let _ = server.kill();
    let _ = server.wait();
}

fn measure(runtime: &tokio::runtime::Runtime, name: &str, target: Target, versions: VersionSelection, count: u64) {
    let mut config = FuzzConfig::new(target, SchemaSet::embedded().expect("schemas"));
    config.seed = 1;
    config.budget = Budget::Count(count);
    config.versions = versions;
    config.max_findings = 0;
    let report = match runtime.block_on(fuzz::run(config)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fuzz_throughput/{name}: cannot fuzz: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "fuzz_throughput/{name}: {} messages (+{} probes) in {:.2} s = {} messages/s; {} sessions (findings are neither shrunk nor listed here)",
        report.messages_sent,
        report.probes_sent,
        report.elapsed_ms / 1000.0,
        report.messages_per_second,
        report.sessions
    );
}

/// The reference server over Streamable HTTP on a free port, and its URL (printed on
/// stderr as `listening on URL`; waited for at most 10 s).
fn http_server() -> Option<(Child, String)> {
    let mut child = Command::new(BIN)
        .args(["reference-server", "--transport", "streamable-http", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let stderr = child.stderr.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    match rx.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(url) => Some((child, url)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }
}

//! Fuzzing throughput over stdio: generated messages per second against the bundled
//! reference server (one long-lived session per worker, pipelined windows).
//!
//! `cargo bench --bench fuzz_throughput`; `MCP_FUZZ_BENCH_COUNT` sets the messages
//! per run (default 50000), `MCP_FUZZ_BENCH_CMD` another stdio server command
//! (space-separated) instead of the reference server.

use mcp_conform::fuzz::{self, Budget, FuzzConfig};
use mcp_conform::runner::VersionSelection;
use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::ProtocolVersion;
use mcp_conform::target::Target;

fn main() {
    let count: u64 = std::env::var("MCP_FUZZ_BENCH_COUNT").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let command: Vec<String> = match std::env::var("MCP_FUZZ_BENCH_CMD") {
        Ok(cmd) => cmd.split_whitespace().map(str::to_string).collect(),
        Err(_) => vec![env!("CARGO_BIN_EXE_mcp-conform").to_string(), "reference-server".to_string()],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    for (name, versions) in [
        ("2025-06-18", VersionSelection::One(ProtocolVersion::V2025_06_18)),
        ("2026-07-28", VersionSelection::One(ProtocolVersion::V2026_07_28)),
        ("all versions", VersionSelection::All),
    ] {
        let mut config = FuzzConfig::new(Target::Stdio { command: command.clone(), env: Vec::new() }, SchemaSet::embedded().expect("schemas"));
        config.seed = 1;
        config.budget = Budget::Count(count);
        config.versions = versions;
        let report = match runtime.block_on(fuzz::run(config)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("fuzz_throughput/{name}: cannot fuzz: {e}");
                std::process::exit(2);
            }
        };
        println!(
            "fuzz_throughput/{name}: {} messages (+{} probes) in {:.2} s = {} messages/s over stdio; {} sessions, {} findings",
            report.messages_sent,
            report.probes_sent,
            report.elapsed_ms / 1000.0,
            report.messages_per_second,
            report.sessions,
            report.findings.len()
        );
    }
}

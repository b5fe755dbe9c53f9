//! Checks are gated by the versions a server speaks: a server of the initialize era only
//! (it answers `server/discover` with -32601) gets every 2026-07-28 check skipped with
//! the probe's reason, never failed, while the handshake checks that judge negotiation
//! still run on versions it declined.
//!
//! This test binary is its own server: started with `MCP_GATING_SERVER=1` it speaks
//! 2025-11-25 only, over stdio.

use libtest_mimic::{Arguments, Failed, Trial};
use mcp_conform::runner::{RunConfig, VersionSelection, run};
use mcp_conform::schema::SchemaSet;
use mcp_conform::target::Target;
use mcp_conform::verdict::Status;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::time::Duration;

fn main() {
    if std::env::var_os("MCP_GATING_SERVER").is_some() {
        serve();
        return;
    }
    let args = Arguments::from_args();
    let trials = vec![Trial::test("gating/initialize-era-server-skips-2026-07-28", check)];
    libtest_mimic::run(&args, trials).exit();
}

fn check() -> Result<(), Failed> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let config = RunConfig {
        target: Target::Stdio { command: vec![exe.display().to_string()], env: vec![("MCP_GATING_SERVER".into(), "1".into())] },
        versions: VersionSelection::All,
        filters: vec!["stateless/*".into(), "lifecycle/initialize-result".into()],
        timeout: Duration::from_millis(2000),
        close_grace: Duration::from_millis(500),
        schemas: SchemaSet::embedded()?,
        cases: mcp_conform::embedded_cases().map_err(|e| e.to_string())?,
        jobs: 4,
        on_result: None,
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let report = runtime.block_on(run(config)).map_err(|e| e.to_string())?;
    let stateless: Vec<_> = report.results.iter().filter(|r| r.id.starts_with("stateless/")).collect();
    if stateless.is_empty() {
        return Err("no stateless check was reported".into());
    }
    for r in &stateless {
        if r.status != Status::Skip || !r.message.contains("declined protocol version 2026-07-28") {
            return Err(format!("{} {}: {} {}", r.spec_version, r.id, r.status.as_str(), r.message).into());
        }
    }
    // The handshake check still runs where the server declined the version (it answers
    // with 2025-11-25, which is how negotiation is meant to go).
    let declined = report.results.iter().find(|r| r.id == "lifecycle/initialize-result" && r.spec_version == "2024-11-05");
    match declined {
        Some(r) if r.status == Status::Pass => Ok(()),
        Some(r) => Err(format!("lifecycle/initialize-result at 2024-11-05: {} {}", r.status.as_str(), r.message).into()),
        None => Err("lifecycle/initialize-result did not run at 2024-11-05".into()),
    }
}

/// A correct server of the initialize era that speaks 2025-11-25 only.
fn serve() {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else { continue };
        let (Some(id), Some(method)) = (msg.get("id").cloned(), msg.get("method").and_then(Value::as_str)) else { continue };
        let reply = match method {
            "initialize" => json!({"jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "serverInfo": {"name": "initialize-era", "version": "1"}
            }}),
            "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
            _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}}),
        };
        let _ = writeln!(out, "{reply}");
        let _ = out.flush();
    }
}

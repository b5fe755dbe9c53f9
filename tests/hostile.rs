//! Hostile stdio servers: the harness must survive anything a server does.
//!
//! This test binary is its own hostile server: started with `MCP_HOSTILE_MODE=<mode>`
//! it behaves as that server instead of running tests. Each trial runs a few checks
//! against one mode and asserts that the run ends in bounded time, reports a failure
//! (where the mode breaks a rule), and leaves no process behind.

use libtest_mimic::{Arguments, Failed, Trial};
use mcp_conform::runner::{RunConfig, VersionSelection, run};
use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::ProtocolVersion;
use mcp_conform::target::Target;
use mcp_conform::verdict::Status;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

const TIMEOUT_MS: u64 = 500;

/// (mode, whether the run must report a failure)
const MODES: &[(&str, bool)] = &[
    ("exit-at-once", true),
    ("never-answers", true),
    ("answers-late", true),
    ("crash-mid-run", true),
    ("flood-stdout", true),
    ("endless-line", true),
    ("invalid-utf8", true),
    ("non-json-banner", true),
    ("deep-nesting", true),
    ("slow-drip", true),
    ("ignores-sigterm", true),
    ("grandchild-holds-stdout", false),
];

fn main() {
    if let Ok(mode) = std::env::var("MCP_HOSTILE_MODE") {
        serve(&mode);
        return;
    }
    let args = Arguments::from_args();
    let trials = MODES
        .iter()
        .map(|(mode, must_fail)| Trial::test(format!("hostile/{mode}"), move || check_mode(mode, *must_fail)))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn check_mode(mode: &str, must_fail: bool) -> Result<(), Failed> {
    let pidfile = std::env::temp_dir().join(format!("mcp-conform-hostile-{mode}-{}.pids", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let config = RunConfig {
        target: Target::Stdio {
            command: vec![exe.display().to_string()],
            env: vec![
                ("MCP_HOSTILE_MODE".into(), mode.into()),
                ("MCP_HOSTILE_PIDFILE".into(), pidfile.display().to_string()),
            ],
        },
        versions: VersionSelection::One(ProtocolVersion::V2025_11_25),
        filters: vec!["lifecycle/ping".into(), "stdio/exit-on-stdin-close".into(), "tools/list".into()],
        timeout: Duration::from_millis(TIMEOUT_MS),
        close_grace: Duration::from_millis(TIMEOUT_MS / 2),
        schemas: SchemaSet::embedded()?,
        cases: mcp_conform::embedded_cases().map_err(|e| e.to_string())?,
        jobs: 4,
        on_result: None,
    };
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let report = runtime.block_on(run(config)).map_err(|e| format!("harness error (should be a finding): {e}"))?;
    drop(runtime);
    let elapsed = started.elapsed();
    // A probe (one timeout) then, for servers that pass it, cases in parallel (a timeout
    // each, a close grace, a SIGTERM grace): bounded by a few timeouts whatever happens.
    let bound = Duration::from_millis(TIMEOUT_MS * 6);
    if elapsed > bound {
        return Err(format!("{mode}: the run took {elapsed:?}, more than {bound:?}").into());
    }
    if must_fail && !report.results.iter().any(|r| r.status == Status::Fail || r.status == Status::Warn) {
        let statuses: Vec<_> = report.results.iter().map(|r| format!("{} {}", r.id, r.status.as_str())).collect();
        return Err(format!("{mode}: expected a finding, got {statuses:?}").into());
    }
    std::thread::sleep(Duration::from_millis(100));
    let pids = std::fs::read_to_string(&pidfile).unwrap_or_default();
    let _ = std::fs::remove_file(&pidfile);
    for pid in pids.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
        // SAFETY: signal 0 only checks for existence.
        let alive = unsafe { libc::kill(pid, 0) } == 0 && !is_zombie(pid);
        if alive {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return Err(format!("{mode}: process {pid} was left running").into());
        }
    }
    Ok(())
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

// ----- the hostile server side -------------------------------------------------------

fn record_pid(pid: u32) {
    if let Ok(path) = std::env::var("MCP_HOSTILE_PIDFILE") {
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{pid}");
        }
    }
}

fn answer(request: &Value) -> Option<Value> {
    let id = request.get("id")?.clone();
    let method = request.get("method")?.as_str()?;
    let result = match method {
        "initialize" => json!({
            "protocolVersion": request.pointer("/params/protocolVersion").cloned().unwrap_or(json!("2025-11-25")),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "hostile", "version": "0"}
        }),
        "tools/list" => json!({"tools": []}),
        _ => json!({}),
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

fn serve(mode: &str) {
    record_pid(std::process::id());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match mode {
        "exit-at-once" => std::process::exit(0),
        "flood-stdout" => loop {
            if out.write_all(b"this is not JSON-RPC, and there is a lot of it\n").is_err() {
                std::process::exit(0);
            }
        },
        "endless-line" => {
            let chunk = vec![b'x'; 64 * 1024];
            loop {
                if out.write_all(&chunk).is_err() {
                    std::process::exit(0);
                }
            }
        }
        "ignores-sigterm" => unsafe {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
        },
        "non-json-banner" => {
            let _ = out.write_all(b"Welcome to my MCP server v1.0!\n");
            let _ = out.flush();
        }
        "grandchild-holds-stdout" => {
            if let Ok(child) = std::process::Command::new("sleep").arg("1000").spawn() {
                record_pid(child.id());
            }
        }
        _ => {}
    }
    let stdin = std::io::stdin();
    let mut answered = 0;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(request) = serde_json::from_str::<Value>(&line) else { continue };
        let Some(reply) = answer(&request) else { continue };
        let text = reply.to_string();
        answered += 1;
        match mode {
            "never-answers" => continue,
            "answers-late" => std::thread::sleep(Duration::from_millis(TIMEOUT_MS * 2)),
            "crash-mid-run" if answered > 1 => std::process::exit(3),
            "invalid-utf8" if answered > 1 => {
                let _ = out.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"x\":\"\xff\xfe\"}}\n");
                let _ = out.flush();
                continue;
            }
            "deep-nesting" if answered > 1 => {
                let depth = 100_000;
                let mut body = "[".repeat(depth);
                body.push_str(&"]".repeat(depth));
                let _ = writeln!(out, "{{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{{\"deep\":{body}}}}}");
                let _ = out.flush();
                continue;
            }
            "slow-drip" if answered > 1 => {
                for b in text.bytes() {
                    if out.write_all(&[b]).and_then(|_| out.flush()).is_err() {
                        std::process::exit(0);
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                continue;
            }
            _ => {}
        }
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
    if mode == "ignores-sigterm" || mode == "never-answers" {
        // Stay alive after stdin closes: the harness must escalate.
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

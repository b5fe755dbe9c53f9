//! `mcp-conform fuzz`: bounded, seeded runs that must find nothing on a conforming
//! server, be reproducible, and find and shrink planted defects.
//!
//! Two targets. The bundled reference server (`mcp-conform reference-server`, with
//! `--defect NAME`): its trials are ignored, with the reason, until its
//! `--list-defects` lists the defect. And a small fake server that this test binary
//! becomes when started with `MCP_FUZZ_FAKE=<defects>` (comma-separated; `clean`
//! for none): it plants the same defects, so the fuzzer's machinery is proven even
//! where the reference server is not there yet.

use libtest_mimic::{Arguments, Failed, Trial};
use mcp_conform::fuzz::{self, Budget, FuzzConfig, FuzzReport};
use mcp_conform::runner::{self, RunConfig, VersionSelection};
use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::ProtocolVersion;
use mcp_conform::target::Target;
use mcp_conform::verdict::Status;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-conform");

/// Messages of a clean run (run twice: the same seed must give the same report).
/// Bigger runs are the benchmark's (`benches/fuzz_throughput.rs`) and the
/// ignored `fuzz/reference/clean-run-100k` trial's.
const CLEAN_COUNT: u64 = 2500;
/// Messages within which each planted defect must be found (the issue allows
/// 10,000; the fuzzer needs far fewer, and the trials stay fast in debug builds).
const PLANTED_COUNT: u64 = 2000;
const DIFFERENTIAL_COUNT: u64 = 1000;

/// Planted defects: (name, the invariant that must catch it).
const DEFECTS: &[(&str, &str)] = &[
    ("id-as-string", "id-mismatch"),
    ("respond-to-notifications", "unsolicited-response"),
    ("duplicate-response", "duplicate-response"),
    ("crash-on-bad-params", "server-exited"),
    ("unknown-method-wrong-code", "error-class"),
];

fn main() {
    if let Ok(defects) = std::env::var("MCP_FUZZ_FAKE") {
        fake::serve(&defects);
        return;
    }
    let args = Arguments::from_args();
    let listed = reference_defects();
    let mut trials = Vec::new();
    for server in [Server::Fake, Server::Reference] {
        let unavailable = match (server, &listed) {
            (Server::Reference, Err(why)) => Some(why.clone()),
            _ => None,
        };
        let name = server.name();
        trials.push(gate(Trial::test(format!("fuzz/{name}/clean-run-finds-nothing-and-is-reproducible"), move || clean_run(server)), unavailable.clone()));
        for &(defect, invariant) in DEFECTS {
            let missing = match (server, &listed) {
                (Server::Reference, Ok(list)) if !list.iter().any(|d| d == defect) => {
                    Some(format!("`mcp-conform reference-server --list-defects` does not list {defect} yet"))
                }
                _ => unavailable.clone(),
            };
            trials.push(gate(
                Trial::test(format!("fuzz/{name}/finds-and-shrinks/{defect}"), move || planted(server, defect, invariant)),
                missing,
            ));
        }
        let missing = match (server, &listed) {
            (Server::Reference, Ok(list)) if !list.iter().any(|d| d == "unknown-method-wrong-code") => {
                Some("`mcp-conform reference-server --list-defects` does not list unknown-method-wrong-code yet".to_string())
            }
            _ => unavailable.clone(),
        };
        trials.push(gate(Trial::test(format!("fuzz/{name}/differential-reports-divergence"), move || differential(server)), missing));
    }
    for transport in ["streamable-http", "sse"] {
        trials.push(gate(
            Trial::test(format!("fuzz/reference/{transport}/clean-run-finds-nothing"), move || clean_http_run(transport)),
            listed.as_ref().err().cloned(),
        ));
    }
    // Too long for every `cargo test`: `cargo test --release --test fuzz -- --ignored`.
    trials.push(Trial::test("fuzz/reference/clean-run-100k", long_clean_run).with_ignored_flag(true));
    trials.push(Trial::test("fuzz/cli/usage-errors-exit-2", cli_usage));
    libtest_mimic::run(&args, trials).exit();
}

fn gate(trial: Trial, skip: Option<String>) -> Trial {
    match skip {
        Some(why) => {
            eprintln!("note: {} is ignored: {why}", trial.name());
            trial.with_ignored_flag(true)
        }
        None => trial,
    }
}

/// The reference server's defects, or why they cannot be listed.
fn reference_defects() -> Result<Vec<String>, String> {
    let out = std::process::Command::new(BIN)
        .args(["reference-server", "--list-defects"])
        .output()
        .map_err(|e| format!("cannot run the reference server: {e}"))?;
    if !out.status.success() {
        return Err(format!("the reference server is not available yet (`reference-server --list-defects` exits {})", out.status));
    }
    // One defect per line, its name first.
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|s| s.trim_end_matches(':').to_string())
        .collect())
}

#[derive(Clone, Copy, PartialEq)]
enum Server {
    Fake,
    Reference,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Fake => "fake",
            Server::Reference => "reference",
        }
    }

    fn target(self, defect: Option<&str>) -> Target {
        match self {
            Server::Fake => Target::Stdio {
                command: vec![std::env::current_exe().expect("test binary").display().to_string()],
                env: vec![("MCP_FUZZ_FAKE".into(), defect.unwrap_or("clean").into())],
            },
            Server::Reference => {
                let mut command = vec![BIN.to_string(), "reference-server".to_string()];
                if let Some(d) = defect {
                    command.extend(["--defect".to_string(), d.to_string()]);
                }
                Target::Stdio { command, env: Vec::new() }
            }
        }
    }

    /// The fake server speaks the handshake-era versions only.
    fn versions(self) -> VersionSelection {
        match self {
            Server::Fake => VersionSelection::One(ProtocolVersion::V2025_06_18),
            Server::Reference => VersionSelection::All,
        }
    }
}

fn config(server: Server, defect: Option<&str>, seed: u64, count: u64) -> Result<FuzzConfig, Failed> {
    let mut c = FuzzConfig::new(server.target(defect), SchemaSet::embedded()?);
    c.seed = seed;
    c.budget = Budget::Count(count);
    c.versions = server.versions();
    c.timeout = Duration::from_millis(1500);
    // Short sessions: every version of the reference server is fuzzed within a
    // small budget, and a finding is shrunk from at most this many messages.
    c.session_len = 250;
    c.defect = defect.map(str::to_string);
    Ok(c)
}

fn run(c: FuzzConfig) -> Result<FuzzReport, Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    Ok(runtime.block_on(fuzz::run(c))?)
}

/// The report without its timings: what two runs of one seed must agree on. How the
/// frames of a transcript interleave (a server's answer before or after the next message
/// the fuzzer wrote) is timing too, so transcripts compare as sets of frames.
fn timeless(report: &FuzzReport) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for k in ["t_ms", "elapsed_ms", "messages_per_second"] {
                    o.remove(k);
                }
                o.values_mut().for_each(strip);
                if let Some(Value::Array(frames)) = o.get_mut("transcript") {
                    frames.sort_by_cached_key(|f| f.to_string());
                }
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(report).expect("serialisable");
    strip(&mut v);
    v
}

/// Where two JSON values differ (JSON pointers and both values, the first few).
fn differences(a: &Value, b: &Value) -> String {
    fn walk(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
        match (a, b) {
            _ if a == b => {}
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    walk(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), format!("{at}/{k}"), out);
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, format!("{at}/{i}"), out);
                }
            }
            _ => {
                let short = |v: &Value| v.to_string().chars().take(400).collect::<String>();
                out.push(format!("\n  {at}: {} vs {}", short(a), short(b)));
            }
        }
    }
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out.truncate(8);
    out.concat()
}

fn describe(report: &FuzzReport) -> String {
    report
        .findings
        .iter()
        .map(|f| {
            let seq: Vec<String> = f.minimal_sequence.iter().map(|m| format!("\n      > {}", m.raw.chars().take(300).collect::<String>())).collect();
            format!("\n  {} [{}] {}{}", f.id, f.level.as_str(), f.message, seq.concat())
        })
        .collect()
}

fn clean_run(server: Server) -> Result<(), Failed> {
    let a = run(config(server, None, 20260728, CLEAN_COUNT)?)?;
    if !a.findings.is_empty() {
        return Err(format!("a conforming server has findings:{}", describe(&a)).into());
    }
    if a.messages_sent < CLEAN_COUNT - 100 {
        return Err(format!("only {} messages were sent", a.messages_sent).into());
    }
    let b = run(config(server, None, 20260728, CLEAN_COUNT)?)?;
    if timeless(&a) != timeless(&b) {
        return Err(format!("two runs of one seed differ:{}", differences(&timeless(&a), &timeless(&b))).into());
    }
    let c = run(config(server, None, 20260729, 500)?)?;
    if c.generators == a.generators {
        return Err("another seed sent the same messages".into());
    }
    Ok(())
}

/// The reference server over HTTP, every version: a refusal with an HTTP status (a
/// session-less request, invalid input) is an answer, and nothing is found.
fn clean_http_run(transport: &str) -> Result<(), Failed> {
    let mut server = std::process::Command::new(BIN)
        .args(["reference-server", "--transport", transport])
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let url = {
        let mut line = String::new();
        std::io::BufReader::new(server.stderr.take().ok_or("no stderr")?).read_line(&mut line)?;
        line.trim().strip_prefix("listening on ").map(str::to_string)
    };
    let result = (|| {
        let url = url.ok_or("the reference server did not print its URL")?;
        let kind = if transport == "sse" { mcp_conform::spec::TransportKind::Sse } else { mcp_conform::spec::TransportKind::StreamableHttp };
        let mut c = config(Server::Reference, None, 20261206, CLEAN_COUNT)?;
        c.target = Target::Http { url, transport: kind, headers: Vec::new(), tokens: Vec::new() };
        let report = run(c)?;
        if !report.findings.is_empty() {
            return Err(format!("the reference server over {transport} has findings:{}", describe(&report)).into());
        }
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// 100,000 messages over every version, default session length: nothing found.
fn long_clean_run() -> Result<(), Failed> {
    let mut c = config(Server::Reference, None, 1, 100_000)?;
    c.session_len = 1000;
    let report = run(c)?;
    if !report.findings.is_empty() {
        return Err(format!("the reference server has findings:{}", describe(&report)).into());
    }
    eprintln!("{} messages in {:.1} s, {} messages/s", report.messages_sent, report.elapsed_ms / 1000.0, report.messages_per_second);
    Ok(())
}

fn planted(server: Server, defect: &str, invariant: &str) -> Result<(), Failed> {
    let dir = scratch(&format!("{}-{defect}", server.name()));
    let mut c = config(server, Some(defect), 42, PLANTED_COUNT)?;
    c.save_failures = Some(dir.clone());
    let report = run(c)?;
    if server == Server::Fake {
        // The same seed gives the same findings (the fake is quick to run twice).
        let again = run(config(server, Some(defect), 42, PLANTED_COUNT)?)?;
        let (mut a, mut b) = (timeless(&report), timeless(&again));
        for v in [&mut a, &mut b] {
            for f in v["findings"].as_array_mut().into_iter().flatten() {
                f["case_file"] = Value::Null;
                f["case_note"] = Value::Null;
            }
        }
        if a != b {
            return Err(format!("{defect}: two runs of one seed differ:{}", differences(&a, &b)).into());
        }
    }
    let Some(f) = report.findings.iter().find(|f| f.invariant == invariant) else {
        return Err(format!("{defect}: no {invariant} finding in {} messages:{}", report.messages_sent, describe(&report)).into());
    };
    if f.minimal_sequence.len() > 3 {
        let seq: Vec<_> = f.minimal_sequence.iter().map(|m| m.raw.as_str()).collect();
        return Err(format!("{defect}: shrunk to {} messages, more than 3: {seq:#?}", seq.len()).into());
    }
    if f.seed != 42 || f.transcript.is_empty() || !f.reproduced {
        return Err(format!("{defect}: the finding lacks its seed, transcript or reproduction: {f:?}").into());
    }
    if !report.has_failures() {
        return Err(format!("{defect}: a MUST finding must fail the run").into());
    }
    // The saved case replays and fails the same way.
    let file = f.case_file.clone().ok_or_else(|| format!("{defect}: no case file ({:?})", f.case_note))?;
    let text = std::fs::read_to_string(&file)?;
    let case: Value = serde_json::from_str(&text)?;
    if case["setup"] != json!("none") || case["defects"] != json!([defect]) {
        return Err(format!("{defect}: the case file does not say setup none or name the defect: {text}").into());
    }
    let cases = mcp_conform::case::load_dir(&dir).map_err(|e| e.to_string())?;
    let replay = RunConfig {
        target: server.target(Some(defect)),
        versions: VersionSelection::One(f.spec_version.parse().map_err(|e: String| e)?),
        filters: Vec::new(),
        timeout: Duration::from_millis(1500),
        close_grace: Duration::from_millis(500),
        schemas: SchemaSet::embedded()?,
        cases: cases.clone(),
        jobs: 2,
        on_result: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let replayed = runtime.block_on(runner::run(replay)).map_err(|e| e.to_string())?;
    let result = replayed.results.iter().find(|r| r.id == f.id).ok_or("the case did not run")?;
    if result.status != Status::Fail {
        return Err(format!("{defect}: the saved case {} does not fail on replay: {:?} {}", f.id, result.status, result.message).into());
    }
    // ... and passes on the clean server: it encodes the defect, not the fuzzer's noise.
    let clean = RunConfig {
        target: server.target(None),
        versions: VersionSelection::One(f.spec_version.parse().map_err(|e: String| e)?),
        filters: vec![f.id.clone()],
        timeout: Duration::from_millis(1500),
        close_grace: Duration::from_millis(500),
        schemas: SchemaSet::embedded()?,
        cases,
        jobs: 2,
        on_result: None,
    };
    let clean = runtime.block_on(runner::run(clean)).map_err(|e| e.to_string())?;
    let result = clean.results.iter().find(|r| r.id == f.id).ok_or("the case did not run on the clean server")?;
    if result.status != Status::Pass {
        return Err(format!("{defect}: the saved case {} does not pass on the clean server: {:?} {}", f.id, result.status, result.message).into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn differential(server: Server) -> Result<(), Failed> {
    let mut c = config(server, Some("unknown-method-wrong-code"), 7, DIFFERENTIAL_COUNT)?;
    c.reference = Some(server.target(None));
    let report = run(c)?;
    let Some(f) = report.findings.iter().find(|f| f.invariant == "divergence" && f.key.contains("error-class")) else {
        return Err(format!("no error-class divergence:{}", describe(&report)).into());
    };
    let theirs = f.reference_transcript.as_ref().ok_or("no reference transcript")?;
    // "... the target gave error X, the reference server gave error -32601": each
    // transcript shows its own answer (the fake answers -32600, the reference -32603).
    let code_after = |marker: &str| -> Option<i64> {
        let rest = &f.message[f.message.find(marker)? + marker.len()..];
        rest.split(|c: char| c != '-' && !c.is_ascii_digit()).find(|s| !s.is_empty())?.parse().ok()
    };
    let (Some(ours), Some(reference)) = (code_after("the target gave error "), code_after("the reference server gave error ")) else {
        return Err(format!("the divergence does not name both error codes: {}", f.message).into());
    };
    let has_code = |t: &[mcp_conform::transcript::Entry], code: i64| {
        t.iter().any(|e| e.dir == mcp_conform::transcript::Dir::In && e.raw.contains(&format!("\"code\":{code}")))
    };
    if ours == -32601 || reference != -32601 || !has_code(&f.transcript, ours) || !has_code(theirs, reference) {
        return Err(format!("the transcripts do not show both answers ({}): {:?} vs {:?}", f.message, f.transcript, theirs).into());
    }
    if f.minimal_sequence.len() > 3 {
        return Err(format!("the divergence shrunk to {} messages", f.minimal_sequence.len()).into());
    }
    Ok(())
}

fn cli_usage() -> Result<(), Failed> {
    for args in [&["fuzz", "--count", "0"][..], &["fuzz", "--count", "5", "--duration", "1"], &["fuzz", "--spec-version", "1999-01-01"], &["fuzz", "--bogus"]] {
        let status = std::process::Command::new(BIN).args(args).stdin(std::process::Stdio::null()).output()?.status;
        if status.code() != Some(2) {
            return Err(format!("`mcp-conform {}` exits {status}, not 2", args.join(" ")).into());
        }
    }
    Ok(())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-conform-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A small MCP server (handshake-era versions) with plantable defects.
mod fake {
    use super::*;

    const VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

    struct Fake {
        defects: Vec<String>,
    }

    pub fn serve(defects: &str) {
        let fake = Fake { defects: defects.split(',').map(str::to_string).collect() };
        let stdin = std::io::stdin();
        let mut input = std::io::BufReader::with_capacity(1 << 16, stdin.lock());
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let mut line = Vec::new();
        loop {
            line.clear();
            match input.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            for reply in fake.frame(&line) {
                let mut bytes = serde_json::to_vec(&reply).expect("serialisable");
                bytes.push(b'\n');
                let copies = if fake.has("duplicate-response") && reply.get("id").is_some_and(|i| !i.is_null()) { 2 } else { 1 };
                for _ in 0..copies {
                    if out.write_all(&bytes).is_err() {
                        return;
                    }
                }
            }
            if input.buffer().is_empty() && out.flush().is_err() {
                return;
            }
        }
    }

    fn error(id: Value, code: i64, message: &str) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
    }

    impl Fake {
        fn has(&self, d: &str) -> bool {
            self.defects.iter().any(|x| x == d)
        }

        fn frame(&self, line: &[u8]) -> Vec<Value> {
            if line.iter().all(u8::is_ascii_whitespace) {
                return Vec::new();
            }
            let value: Value = match serde_json::from_slice(line) {
                Ok(v) => v,
                Err(_) => return vec![error(Value::Null, -32700, "Parse error")],
            };
            match value {
                Value::Array(items) if items.is_empty() => vec![error(Value::Null, -32600, "empty batch")],
                Value::Array(items) => {
                    let replies: Vec<Value> = items.iter().filter_map(|i| self.message(i)).collect();
                    if replies.is_empty() { Vec::new() } else { vec![Value::Array(replies)] }
                }
                other => self.message(&other).into_iter().collect(),
            }
        }

        fn message(&self, v: &Value) -> Option<Value> {
            let Some(obj) = v.as_object() else { return Some(error(Value::Null, -32600, "not an object")) };
            let id = match obj.get("id") {
                None => None,
                Some(Value::String(s)) => Some(json!(s)),
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(Value::Number(n.clone())),
                Some(_) => return Some(error(Value::Null, -32600, "invalid id")),
            };
            if obj.get("jsonrpc") != Some(&json!("2.0")) {
                return Some(error(id.unwrap_or(Value::Null), -32600, "jsonrpc must be 2.0"));
            }
            let Some(method) = obj.get("method").and_then(Value::as_str) else {
                return Some(error(id.unwrap_or(Value::Null), -32600, "no method"));
            };
            let params = obj.get("params");
            if id.is_none() && params.is_some_and(|p| !p.is_object()) {
                return Some(error(Value::Null, -32600, "params must be an object"));
            }
            let Some(id) = id else {
                if self.has("respond-to-notifications") {
                    return Some(error(Value::Null, -32601, "answered a notification"));
                }
                return None;
            };
            let echo = match (&id, self.has("id-as-string")) {
                (Value::Number(n), true) => json!(n.to_string()),
                _ => id.clone(),
            };
            if params.is_some_and(|p| !p.is_object()) {
                if self.has("crash-on-bad-params") {
                    std::process::exit(3);
                }
                return Some(error(echo, -32602, "params must be an object"));
            }
            let empty = json!({});
            let p = params.unwrap_or(&empty);
            Some(match self.call(method, p) {
                Ok(result) => json!({"jsonrpc": "2.0", "id": echo, "result": result}),
                Err((code, message)) => error(echo, code, &message),
            })
        }

        fn call(&self, method: &str, p: &Value) -> Result<Value, (i64, String)> {
            let bad = |what: &str| Err((-32602, format!("invalid params: {what}")));
            let string = |key: &str| p.get(key).and_then(Value::as_str);
            match method {
                "initialize" => {
                    let Some(asked) = string("protocolVersion") else { return bad("protocolVersion") };
                    if !p.get("capabilities").is_none_or(Value::is_object) || !p.get("clientInfo").is_some_and(Value::is_object) {
                        return bad("capabilities and clientInfo");
                    }
                    let version = if VERSIONS.contains(&asked) { asked } else { VERSIONS[VERSIONS.len() - 1] };
                    Ok(json!({
                        "protocolVersion": version,
                        "capabilities": {"tools": {}, "resources": {"subscribe": true}, "prompts": {}, "logging": {}},
                        "serverInfo": {"name": "fuzz-fake", "version": "0.0.0"}
                    }))
                }
                "ping" => Ok(json!({})),
                "tools/list" | "resources/list" | "resources/templates/list" | "prompts/list" => {
                    if p.get("cursor").is_some() {
                        return bad("unknown cursor");
                    }
                    Ok(match method {
                        "tools/list" => json!({"tools": [{
                            "name": "echo",
                            "description": "Echo the text",
                            "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
                            "annotations": {"readOnlyHint": true}
                        }]}),
                        "resources/list" => json!({"resources": [{"uri": "fake://one", "name": "one"}]}),
                        "resources/templates/list" => json!({"resourceTemplates": []}),
                        _ => json!({"prompts": [{"name": "greet", "arguments": [{"name": "name", "required": true}]}]}),
                    })
                }
                "tools/call" => {
                    let Some(name) = string("name") else { return bad("name") };
                    if !p.get("arguments").is_none_or(Value::is_object) {
                        return bad("arguments");
                    }
                    if name != "echo" {
                        return bad("unknown tool");
                    }
                    let text = p.pointer("/arguments/text").and_then(Value::as_str).unwrap_or("");
                    Ok(json!({"content": [{"type": "text", "text": text}], "isError": false}))
                }
                "resources/read" => match string("uri") {
                    Some("fake://one") => Ok(json!({"contents": [{"uri": "fake://one", "text": "one"}]})),
                    Some(_) => Err((-32002, "resource not found".into())),
                    None => bad("uri"),
                },
                "resources/subscribe" | "resources/unsubscribe" => string("uri").map(|_| json!({})).ok_or((-32602, "uri".into())),
                "prompts/get" => match string("name") {
                    Some("greet") => Ok(json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hello"}}]})),
                    Some(_) => bad("unknown prompt"),
                    None => bad("name"),
                },
                "completion/complete" => match p.get("ref") {
                    Some(r) if r.is_object() => Ok(json!({"completion": {"values": []}})),
                    _ => bad("ref"),
                },
                "logging/setLevel" => match string("level") {
                    Some("debug" | "info" | "notice" | "warning" | "error" | "critical" | "alert" | "emergency") => Ok(json!({})),
                    _ => bad("level"),
                },
                "tasks/get" | "tasks/result" | "tasks/cancel" | "tasks/list" => bad("no such task"),
                _ if self.has("unknown-method-wrong-code") => Err((-32600, format!("no method {method}"))),
                _ => Err((-32601, format!("Method not found: {method}"))),
            }
        }
    }
}

//! Reports, baselines, compare and sharding, end to end.
//!
//! Two kinds of trials:
//! - `writers/...`: every writer over a hand-built report that has every status, a
//!   baseline, a shard, two versions and two transports, hostile text and secrets;
//! - `cli/...`: the `mcp-conform` binary against a small fake server (this test binary,
//!   started with `MCP_FAKE_SERVER=1`; `MCP_FAKE_DEFECT=ping-error` breaks `ping`).
//!
//! Every JSON report any trial writes is validated against `schemas/report.schema.json`.

use libtest_mimic::{Arguments, Failed, Trial};
use mcp_conform::baseline::{Baseline, Format};
use mcp_conform::report::{self, CheckResult, Report, ShardInfo, TargetInfo};
use mcp_conform::spec::Level;
use mcp_conform::transcript::{Dir, Entry};
use mcp_conform::verdict::Status;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

const EXE: &str = env!("CARGO_BIN_EXE_mcp-conform");
const SECRET: &str = "s3cr3t-t0ken-value";
const ECHOED: &str = "echoed-bearer-9f8e7d";

type Check = fn() -> Result<(), Failed>;

fn main() {
    if std::env::var_os("MCP_FAKE_SERVER").is_some() {
        fake_server();
        return;
    }
    let args = Arguments::from_args();
    let trials: &[(&str, Check)] = &[
        ("writers/json-is-schema-valid-and-round-trips", json_valid),
        ("writers/schema-rejects-broken-reports", schema_rejects),
        ("writers/junit-parses-and-counts-match", junit_counts),
        ("writers/markdown-lists-failures-with-links", markdown_lists),
        ("writers/html-is-self-contained-and-escaped", html_self_contained),
        ("writers/sarif-rules-and-results", sarif_shape),
        ("writers/ndjson-lines", ndjson_lines),
        ("writers/every-writer-redacts", writers_redact),
        ("writers/sizes-and-times", sizes_and_times),
        ("writers/fixture-from-a-real-run", real_fixture),
        ("browser/html-report-check-script", browser_check),
        ("cli/all-reports-from-one-run", cli_all_reports),
        ("cli/json-to-stdout-is-pure-json", cli_json_stdout),
        ("cli/two-reports-on-stdout-is-a-usage-error", cli_two_stdout),
        ("cli/ndjson-to-stdout-streams-results-then-a-summary", cli_ndjson_stdout),
        ("cli/stale-baseline-entry-fails-the-run", cli_stale_baseline),
        ("cli/write-baseline-then-expected-failures-exits-0", cli_baseline_round_trip),
        ("cli/unused-baseline-entry-only-warns", cli_unused_entry),
        ("cli/bad-baseline-is-a-usage-error", cli_bad_baseline),
        ("cli/compare-exit-codes", cli_compare),
        ("cli/shards-partition-the-run", cli_shards),
        ("cli/secrets-in-the-command-and-echoed-headers-are-redacted", cli_redacts),
        ("cli/auth-token-env-usage-errors", cli_auth_token_usage),
        ("cli/auth-checks-against-an-auth-server-redact-every-token", cli_auth_run),
    ];
    let trials = trials.iter().map(|(name, f)| Trial::test(*name, *f)).collect();
    libtest_mimic::run(&args, trials).exit();
}

// ----- helpers ----------------------------------------------------------------------

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(report::json::SCHEMA).expect("the report schema is JSON");
    jsonschema::validator_for(&schema).expect("the report schema compiles")
}

/// Schema-valid, and the summary counts the results.
fn check_report_json(text: &str) -> Result<Report, Failed> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let v = validator();
    let errors: Vec<String> = v.iter_errors(&value).map(|e| format!("{}: {e}", e.instance_path())).collect();
    if !errors.is_empty() {
        return Err(format!("the report does not match schemas/report.schema.json:\n{}", errors.join("\n")).into());
    }
    let report: Report = serde_json::from_value(value).map_err(|e| format!("does not deserialise: {e}"))?;
    if report.summary != report::Summary::of(&report.results) {
        return Err(format!("summary {:?} does not count the results", report.summary).into());
    }
    Ok(report)
}

fn result(trial: &str, status: Status, level: Level, message: &str) -> CheckResult {
    let mut parts = trial.splitn(3, '/');
    let (v, t, id) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    CheckResult {
        id: id.into(),
        title: format!("Title of {id}"),
        spec_version: v.into(),
        transport: t.into(),
        status,
        level,
        spec: format!("https://modelcontextprotocol.io/specification/{v}/basic/{}", id.replace('/', "#")),
        message: message.into(),
        duration_ms: 1.25,
        transcript: vec![
            Entry { dir: Dir::Out, t_ms: 0.0, raw: r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into(), truncated_from: None },
            Entry { dir: Dir::In, t_ms: 0.8, raw: r#"{"jsonrpc":"2.0","id":1,"result":{}}"#.into(), truncated_from: None },
            Entry { dir: Dir::Stderr, t_ms: 0.9, raw: "log <b>line</b> & \u{1b}[31mred\u{1b}[0m".into(), truncated_from: None },
            Entry { dir: Dir::Note, t_ms: 1.0, raw: "closed".into(), truncated_from: Some(70000) },
        ],
        aliases: Vec::new(),
    }
}

/// A report with every status, two versions, two transports, a baseline and a shard.
fn fixture() -> Report {
    use Status::*;
    let rows = [
        ("2025-06-18/stdio/lifecycle/ping", Fail, Level::Must, "expected a result, got error -32603; [SHOULD] be nice"),
        ("2025-11-25/stdio/lifecycle/ping", Pass, Level::Must, ""),
        ("2025-11-25/stdio/tools/list", Warn, Level::Should, "tool name \"a b\" <script>alert(1)</script> | pipes `ticks`"),
        ("2025-11-25/stdio/tools/call-unknown-tool", Xfail, Level::Must, "returned isError instead of a JSON-RPC error"),
        ("2025-06-18/stdio/tools/call-unknown-tool", Xpass, Level::Must, ""),
        ("2025-11-25/stdio/resources/subscribe", Skip, Level::Must, "the server does not declare resources.subscribe"),
        ("2025-11-25/streamable-http/lifecycle/ping", Fail, Level::Must, "HTTP 500"),
        ("2025-11-25/streamable-http/jsonrpc/parse-error", Pass, Level::Must, ""),
    ];
    let results = rows.iter().map(|(t, s, l, m)| result(t, *s, *l, m)).collect();
    let target = TargetInfo { transport: "stdio".into(), command: Some(vec!["my-server".into(), "--stdio".into()]), url: None };
    let mut r = Report::new(target, "all".into(), results);
    r.shard = Some(ShardInfo { index: 1, count: 1 });
    r.baseline = Some(report::BaselineSummary {
        file: "expected-failures.yaml".into(),
        entries: vec![
            report::BaselineEntryReport {
                id: "tools/call-unknown-tool".into(),
                versions: vec!["2025-11-25".into()],
                transports: vec![],
                reason: "known: issue #12".into(),
                state: report::EntryState::Used,
                trials: vec!["2025-11-25/stdio/tools/call-unknown-tool".into()],
            },
            report::BaselineEntryReport {
                id: "tools/call-unknown-tool".into(),
                versions: vec!["2025-06-18".into()],
                transports: vec!["stdio".into()],
                reason: "fixed since".into(),
                state: report::EntryState::Stale,
                trials: vec!["2025-06-18/stdio/tools/call-unknown-tool".into()],
            },
            report::BaselineEntryReport {
                id: "prompts/*".into(),
                versions: vec![],
                transports: vec![],
                reason: "no prompts".into(),
                state: report::EntryState::Unused,
                trials: vec![],
            },
        ],
    });
    r
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mcp-conform-reports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temp dir");
    d
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), Failed> {
    if cond { Ok(()) } else { Err(what().into()) }
}

// ----- writers ----------------------------------------------------------------------

fn json_valid() -> Result<(), Failed> {
    let r = fixture();
    let text = report::json::to_string(&r);
    let back = check_report_json(&text)?;
    ensure(back.results.len() == r.results.len() && back.baseline == r.baseline && back.shard == r.shard, || "round trip lost data".into())?;
    // The minimal report of GUIDE section 3 (no optional members) is valid too.
    let mut minimal = Report::new(TargetInfo { transport: "stdio".into(), command: None, url: None }, "2025-11-25".into(), vec![]);
    minimal.results.push(result("2025-11-25/stdio/lifecycle/ping", Status::Pass, Level::Must, ""));
    minimal.recount();
    check_report_json(&report::json::to_string(&minimal))?;
    Ok(())
}

fn schema_rejects() -> Result<(), Failed> {
    let v = validator();
    let good: Value = serde_json::from_str(&report::json::to_string(&fixture())).unwrap();
    let breakages: &[(&str, Value)] = &[
        ("/report_version", json!(2)),
        ("/results/0/status", json!("passed")),
        ("/results/0/level", json!("must")),
        ("/results/0/transcript/0/dir", json!("sideways")),
        ("/summary/pass", json!(-1)),
        ("/spec_version", json!("latest")),
        ("/target/transport", json!("carrier-pigeon")),
        ("/baseline/entries/0/state", json!("fresh")),
    ];
    for (pointer, bad) in breakages {
        let mut doc = good.clone();
        *doc.pointer_mut(pointer).ok_or_else(|| format!("no {pointer} in the fixture"))? = bad.clone();
        ensure(!v.is_valid(&doc), || format!("the schema accepted {pointer} = {bad}"))?;
    }
    let mut doc = good.clone();
    doc.as_object_mut().unwrap().remove("results");
    ensure(!v.is_valid(&doc), || "the schema accepted a report without results".into())?;
    let mut doc = good;
    doc["results"][0].as_object_mut().unwrap().insert("surprise".into(), json!(1));
    ensure(!v.is_valid(&doc), || "the schema accepted an unknown result member".into())
}

/// JUnit counts (tests, failures, skipped, errors) of the `<testsuites>` root and its suites.
fn junit_check(xml: &str, report: &Report) -> Result<(), Failed> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("JUnit XML does not parse: {e}"))?;
    let root = doc.root_element();
    ensure(root.has_tag_name("testsuites"), || format!("root is <{}>", root.tag_name().name()))?;
    let attr = |n: roxmltree::Node, a: &str| n.attribute(a).and_then(|v| v.parse::<usize>().ok()).unwrap_or(usize::MAX);
    let s = &report.summary;
    let want = [("tests", s.total()), ("failures", s.fail + s.xpass), ("skipped", s.skip + s.xfail), ("errors", 0)];
    for (a, n) in want {
        ensure(attr(root, a) == n, || format!("<testsuites {a}> is {}, the JSON says {n}", attr(root, a)))?;
    }
    let cases: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    ensure(cases.len() == s.total(), || format!("{} testcases for {} results", cases.len(), s.total()))?;
    let suites: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.has_tag_name("testsuite")).collect();
    ensure(suites.iter().map(|n| attr(*n, "tests")).sum::<usize>() == s.total(), || "suite counts do not add up".into())?;
    for r in &report.results {
        let class = format!("{}.{}.{}", r.spec_version, r.transport, r.area());
        let tc = cases
            .iter()
            .find(|n| n.attribute("name") == Some(r.id.as_str()) && n.attribute("classname") == Some(class.as_str()))
            .ok_or_else(|| format!("no testcase {class} {}", r.id))?;
        let child = |tag: &str| tc.children().find(|c| c.has_tag_name(tag));
        match r.status {
            Status::Fail | Status::Xpass => {
                let f = child("failure").ok_or_else(|| format!("{} has no <failure>", r.trial_name()))?;
                let msg = f.attribute("message").unwrap_or("");
                ensure(msg.contains(&r.spec), || format!("failure message lacks the spec link: {msg}"))?;
                let out = child("system-out").and_then(|n| n.text()).unwrap_or("");
                ensure(r.transcript.is_empty() || out.contains("->"), || format!("{}: no transcript in system-out", r.trial_name()))?;
            }
            Status::Skip | Status::Xfail => {
                ensure(child("skipped").is_some(), || format!("{} has no <skipped>", r.trial_name()))?;
            }
            Status::Pass | Status::Warn => {
                ensure(child("failure").is_none() && child("skipped").is_none(), || format!("{} is not a success", r.trial_name()))?;
            }
        }
    }
    Ok(())
}

fn junit_counts() -> Result<(), Failed> {
    let r = fixture();
    let xml = report::junit::to_string(&r);
    junit_check(&xml, &r)?;
    ensure(!xml.contains('\u{1b}'), || "ANSI escapes reached the XML".into())
}

fn markdown_lists() -> Result<(), Failed> {
    let r = fixture();
    let md = report::markdown::to_string(&r);
    for want in [
        "## mcp-conform: ❌ failed",
        "| 2025-11-25 | stdio | 1 | 0 | 1 | 1 | 1 | 0 |",
        "### Failures (2)",
        "`lifecycle/ping` MUST · stdio 2025-06-18 · [spec](https://modelcontextprotocol.io/specification/2025-06-18/basic/lifecycle#ping)",
        "### Warnings (1)",
        "\\<script\\>",
        "stale: `tools/call-unknown-tool [2025-06-18] [stdio]`",
        "unused: `prompts/*`",
    ] {
        ensure(md.contains(want), || format!("markdown lacks {want:?}:\n{md}"))?;
    }
    ensure(!md.contains("<script>"), || "raw HTML in markdown".into())?;
    // Failures come before warnings.
    ensure(md.find("### Failures") < md.find("### Warnings"), || "warnings before failures".into())
}

fn html_self_contained() -> Result<(), Failed> {
    let r = fixture();
    let html = report::html::to_string(&r);
    for bad in ["<script>alert(1)", "src=\"http", "href=\"//", "<link rel=\"stylesheet\"", "@import", "url(http"] {
        ensure(!html.contains(bad), || format!("the HTML contains {bad:?}"))?;
    }
    for want in [
        "<table id=\"matrix\">",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "log &lt;b&gt;line&lt;/b&gt; &amp;",
        "data-status=\"fail\"",
        "wire transcript (4 entries)",
        "known: issue #12",
        "id=\"q\"",
    ] {
        ensure(html.contains(want), || format!("the HTML lacks {want:?}"))?;
    }
    // One <details class="res"> per result; failures open.
    ensure(html.matches("<details class=\"res ").count() == r.results.len(), || "one details per result".into())?;
    ensure(html.matches("data-status=\"fail\" data-search").count() == 2, || "two failures".into())?;
    ensure(!html.contains('\u{1b}'), || "an escape character reached the HTML".into())
}

fn sarif_shape() -> Result<(), Failed> {
    let r = fixture();
    let v: Value = serde_json::from_str(&report::sarif::to_string(&r)).map_err(|e| e.to_string())?;
    ensure(v["version"] == "2.1.0", || "version".into())?;
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().ok_or("no rules")?;
    let ids: std::collections::BTreeSet<&str> = r.results.iter().map(|r| r.id.as_str()).collect();
    ensure(rules.len() == ids.len(), || format!("{} rules for {} checks", rules.len(), ids.len()))?;
    for rule in rules {
        ensure(rule["helpUri"].as_str().is_some_and(|u| u.starts_with("https://")), || format!("rule without helpUri: {rule}"))?;
    }
    let results = run["results"].as_array().ok_or("no results")?;
    let s = &r.summary;
    ensure(results.len() == s.fail + s.warn + s.xpass, || format!("{} SARIF results", results.len()))?;
    for res in results {
        let i = res["ruleIndex"].as_u64().ok_or("ruleIndex")? as usize;
        ensure(rules[i]["id"] == res["ruleId"], || "ruleIndex points at another rule".into())?;
        ensure(["error", "warning"].contains(&res["level"].as_str().unwrap_or("")), || "level".into())?;
        ensure(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string(), || "location".into())?;
    }
    Ok(())
}

fn ndjson_lines() -> Result<(), Failed> {
    let r = fixture();
    let v = validator();
    let schema: Value = serde_json::from_str(report::json::SCHEMA).unwrap();
    let mut result_schema = schema["$defs"]["result"].clone();
    result_schema["$defs"] = schema["$defs"].clone();
    let rv = jsonschema::validator_for(&result_schema).map_err(|e| e.to_string())?;
    for res in &r.results {
        let line = report::ndjson::result_line(res);
        ensure(line.ends_with('\n') && line.matches('\n').count() == 1, || "one line per result".into())?;
        let mut obj: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
        ensure(obj["type"] == "result", || "type".into())?;
        obj.as_object_mut().unwrap().remove("type");
        ensure(rv.is_valid(&obj), || format!("a result line is not a schema-valid result: {line}"))?;
    }
    let mut summary: Value = serde_json::from_str(&report::ndjson::summary_line(&r)).map_err(|e| e.to_string())?;
    ensure(summary["type"] == "summary" && summary["xpass"] == json!(["2025-06-18/stdio/tools/call-unknown-tool"]), || "summary line".into())?;
    let obj = summary.as_object_mut().unwrap();
    obj.remove("type");
    obj.remove("xpass");
    obj.insert("results".into(), json!([]));
    ensure(v.is_valid(&summary), || "the summary line is not a report without results".into())
}

fn writers_redact() -> Result<(), Failed> {
    let mut r = fixture();
    r.target.command = Some(vec!["srv".into(), "--token".into(), SECRET.into(), format!("--api-key={SECRET}")]);
    r.target.url = Some(format!("https://user:{SECRET}@example.com/mcp?access_token={SECRET}"));
    r.results[0].message = format!("server said Authorization: Bearer {SECRET}");
    r.results[0].transcript.push(Entry {
        dir: Dir::Stderr,
        t_ms: 2.0,
        raw: format!(r#"{{"headers":{{"authorization":"Bearer {ECHOED}"}},"x":"{SECRET}"}}"#).into(),
        truncated_from: None,
    });
    report::redact::report(&mut r, &[SECRET.to_string()]);
    let outputs = [
        ("json", report::json::to_string(&r)),
        ("junit", report::junit::to_string(&r)),
        ("markdown", report::markdown::to_string(&r)),
        ("html", report::html::to_string(&r)),
        ("sarif", report::sarif::to_string(&r)),
        ("ndjson", r.results.iter().map(report::ndjson::result_line).collect::<String>() + &report::ndjson::summary_line(&r)),
        ("terminal", report::terminal::summary(&r, false)),
    ];
    for (name, text) in outputs {
        ensure(!text.contains(SECRET) && !text.contains(ECHOED), || format!("{name} leaks a secret"))?;
    }
    ensure(r.target.command.as_ref().unwrap()[2] == "[REDACTED]", || "command not redacted".into())
}

fn sizes_and_times() -> Result<(), Failed> {
    // A big report: 60 checks x 4 versions, transcripts of 8 entries of ~300 bytes.
    let mut results = Vec::new();
    for v in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        for i in 0..60 {
            let st = [Status::Pass, Status::Pass, Status::Fail, Status::Warn, Status::Skip][i % 5];
            let mut r = result(&format!("{v}/stdio/area{}/check-{i}", i % 7), st, Level::Must, "some message; and another");
            for k in 0..4 {
                r.transcript.push(Entry { dir: Dir::In, t_ms: k as f64, raw: "x".repeat(300).into(), truncated_from: None });
            }
            results.push(r);
        }
    }
    let r = Report::new(TargetInfo { transport: "stdio".into(), command: Some(vec!["s".into()]), url: None }, "all".into(), results);
    let mut lines = Vec::new();
    let writers: [(&str, report::output::Writer); 5] = [
        ("json", report::json::to_string),
        ("junit", report::junit::to_string),
        ("markdown", report::markdown::to_string),
        ("html", report::html::to_string),
        ("sarif", report::sarif::to_string),
    ];
    for (name, write) in writers {
        let t = Instant::now();
        let text = write(&r);
        lines.push(format!("{name}: {} bytes in {:.1} ms", text.len(), t.elapsed().as_secs_f64() * 1e3));
    }
    let md = report::markdown::to_string(&r);
    ensure(md.len() < 64 * 1024, || format!("the markdown summary is {} bytes", md.len()))?;
    eprintln!("240 results: {}", lines.join(", "));
    Ok(())
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.json")
}

/// A report saved from a real run (server-everything, with a baseline): still valid,
/// and every writer agrees with it.
fn real_fixture() -> Result<(), Failed> {
    let r = read_report(&fixture_path())?;
    let s = &r.summary;
    ensure(s.fail > 0 && s.warn > 0 && s.xfail > 0 && s.xpass > 0 && s.skip > 0, || format!("the fixture lost a status: {s:?}"))?;
    junit_check(&report::junit::to_string(&r), &r)?;
    let html = report::html::to_string(&r);
    ensure(html.matches("<details class=\"res st-fail\"").count() == s.fail, || "html failures".into())?;
    let md = report::markdown::to_string(&r);
    ensure(md.contains("stale: `lifecycle/ping [2025-11-25]`") && md.contains("unused: `nothing/*`"), || md.clone())?;
    // `report` re-renders it; several inputs merge.
    let d = tmpdir("fixture");
    let out = d.join("merged.json");
    let o = Command::new(EXE).arg("report").arg(fixture_path()).arg(fixture_path()).arg("--json").arg(&out).output()?;
    ensure(code(&o) == 1, || show(&o))?;
    let merged = read_report(&out)?;
    ensure(merged.results.len() == 2 * r.results.len(), || "merge concatenates".into())?;
    let b = merged.baseline.as_ref().ok_or("merged baseline")?;
    ensure(b.entries.len() == r.baseline.as_ref().unwrap().entries.len(), || "merge combines equal entries".into())
}

/// `scripts/html-report-check.sh` in headless Chromium (skips itself without it).
fn browser_check() -> Result<(), Failed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/html-report-check");
    let o = Command::new("bash")
        .arg(root.join("scripts/html-report-check.sh"))
        .arg(fixture_path())
        .arg(&out)
        .env("MCP_CONFORM", EXE)
        .output()?;
    eprint!("{}", String::from_utf8_lossy(&o.stdout));
    ensure(o.status.success(), || show(&o))
}

// ----- the CLI against the fake server ------------------------------------------------

fn fake_server() {
    let defect = std::env::var("MCP_FAKE_DEFECT").unwrap_or_default();
    eprintln!("fake server up; debug: Authorization: Bearer {ECHOED}");
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        let reply = match serde_json::from_str::<Value>(&line) {
            Err(_) => Some(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "parse error"}})),
            Ok(msg) => answer(&msg, &defect),
        };
        if let Some(reply) = reply {
            let _ = writeln!(out, "{reply}");
            let _ = out.flush();
        }
    }
}

fn answer(msg: &Value, defect: &str) -> Option<Value> {
    let Some(obj) = msg.as_object() else {
        return Some(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "invalid request"}}));
    };
    let id = obj.get("id")?.clone();
    let method = obj.get("method").and_then(Value::as_str).unwrap_or("");
    let result = match method {
        "initialize" => json!({
            "protocolVersion": msg.pointer("/params/protocolVersion").cloned().unwrap_or(json!("2025-11-25")),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "0"}
        }),
        "ping" if defect == "ping-error" => {
            return Some(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": "no ping today"}}));
        }
        "ping" => json!({}),
        "tools/list" => json!({"tools": [{"name": "echo", "description": "Echo", "inputSchema": {"type": "object"}}]}),
        "tools/call" => json!({"content": [{"type": "text", "text": "ok"}]}),
        _ => return Some(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}})),
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// `mcp-conform run ARGS -- <fake server>`, with the defect if given.
fn run_cli(args: &[&str], defect: Option<&str>, extra_server_args: &[&str]) -> Output {
    let me = std::env::current_exe().expect("the test binary");
    let mut cmd = Command::new(EXE);
    cmd.arg("run").args(["--timeout", "1000", "--spec-version", "2025-11-25"]).args(args).arg("--").arg(me).args(extra_server_args);
    cmd.env("MCP_FAKE_SERVER", "1").env_remove("NO_COLOR").stdin(Stdio::null());
    match defect {
        Some(d) => cmd.env("MCP_FAKE_DEFECT", d),
        None => cmd.env_remove("MCP_FAKE_DEFECT"),
    };
    cmd.output().expect("mcp-conform runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn show(o: &Output) -> String {
    format!("exit {}\nstdout:\n{}\nstderr:\n{}", code(o), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn read_report(path: &Path) -> Result<Report, Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    check_report_json(&text)
}

fn cli_all_reports() -> Result<(), Failed> {
    let d = tmpdir("all");
    let p = |f: &str| d.join(f).display().to_string();
    let o = run_cli(
        &["--json", &p("r.json"), "--junit", &p("r.xml"), "--html", &p("r.html"), "--markdown", &p("r.md"), "--sarif", &p("r.sarif"), "--ndjson", &p("r.ndjson")],
        Some("ping-error"),
        &[],
    );
    ensure(code(&o) == 1, || format!("a failing server exits 1\n{}", show(&o)))?;
    let r = read_report(&d.join("r.json"))?;
    let ping = r.results.iter().find(|r| r.id == "lifecycle/ping").ok_or("no lifecycle/ping result")?;
    ensure(ping.status == Status::Fail, || format!("ping-error should fail lifecycle/ping: {ping:?}"))?;
    junit_check(&std::fs::read_to_string(d.join("r.xml"))?, &r)?;
    let md = std::fs::read_to_string(d.join("r.md"))?;
    ensure(md.contains("`lifecycle/ping` MUST · stdio 2025-11-25 ·"), || format!("markdown lacks the ping failure:\n{md}"))?;
    let html = std::fs::read_to_string(d.join("r.html"))?;
    ensure(html.contains("2025-11-25/stdio/lifecycle/ping"), || "html lacks the ping failure".into())?;
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(d.join("r.sarif"))?)?;
    ensure(sarif["runs"][0]["results"].as_array().map_or(0, Vec::len) == r.summary.fail + r.summary.warn, || "sarif counts".into())?;
    // NDJSON: one line per result, then the summary, which agrees with the JSON.
    let nd = std::fs::read_to_string(d.join("r.ndjson"))?;
    let lines: Vec<Value> = nd.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    ensure(lines.len() == r.results.len() + 1, || format!("{} NDJSON lines for {} results", lines.len(), r.results.len()))?;
    let last = lines.last().unwrap();
    ensure(last["type"] == "summary" && last["summary"] == serde_json::to_value(r.summary)?, || format!("summary line {last}"))?;
    // The terminal summary: the table, the failure with its spec link, the count line.
    let stdout = String::from_utf8_lossy(&o.stdout);
    ensure(!stdout.contains('\u{1b}'), || "colour on a pipe".into())?;
    for want in ["version      transport", "FAIL  lifecycle/ping [MUST]", "      stdio 2025-11-25\n", "basic/", "checks:"] {
        ensure(stdout.contains(want), || format!("the summary lacks {want:?}\n{stdout}"))?;
    }
    Ok(())
}

fn cli_json_stdout() -> Result<(), Failed> {
    let o = run_cli(&["--json", "-", "--filter", "lifecycle/*"], None, &[]);
    ensure(code(&o) <= 1, || show(&o))?;
    check_report_json(&String::from_utf8_lossy(&o.stdout)).map_err(|e| format!("{}\n{}", e.message().unwrap_or(""), show(&o)))?;
    ensure(String::from_utf8_lossy(&o.stderr).contains("checks:"), || "the summary goes to stderr".into())
}

fn cli_ndjson_stdout() -> Result<(), Failed> {
    let d = tmpdir("ndjson");
    let b = d.join("b.yaml");
    std::fs::write(&b, "- {id: lifecycle/ping, reason: known}\n")?;
    let o = run_cli(&["--ndjson", "-", "--filter", "lifecycle/ping", "--expected-failures", &b.display().to_string()], Some("ping-error"), &[]);
    ensure(code(&o) == 0, || show(&o))?;
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<Value> = text.lines().map(serde_json::from_str).collect::<Result<_, _>>().map_err(|e| format!("{e}\n{text}"))?;
    let (last, results) = lines.split_last().ok_or("no lines")?;
    ensure(results.iter().all(|l| l["type"] == "result") && last["type"] == "summary", || text.to_string())?;
    // The baseline's xfail is applied as results stream.
    let ping = results.iter().find(|l| l["id"] == "lifecycle/ping").ok_or("no ping line")?;
    ensure(ping["status"] == "xfail", || format!("{ping}"))?;
    ensure(last["summary"]["xfail"] == json!(1) && last["baseline"]["entries"][0]["state"] == "used", || format!("{last}"))?;
    ensure(String::from_utf8_lossy(&o.stderr).contains("checks:"), || "the summary goes to stderr".into())
}

fn cli_two_stdout() -> Result<(), Failed> {
    let o = run_cli(&["--json", "-", "--junit", "-"], None, &[]);
    ensure(code(&o) == 2 && String::from_utf8_lossy(&o.stderr).contains("only one report"), || show(&o))
}

fn cli_stale_baseline() -> Result<(), Failed> {
    let d = tmpdir("stale");
    let b = d.join("b.yaml");
    std::fs::write(&b, "expected_failures:\n  - id: lifecycle/ping\n    reason: ping was broken in 1.2\n")?;
    let json = d.join("r.json");
    let o = run_cli(&["--filter", "lifecycle/ping", "--expected-failures", &b.display().to_string(), "--json", &json.display().to_string()], None, &[]);
    ensure(code(&o) == 1, || format!("a stale entry fails the run\n{}", show(&o)))?;
    let stdout = String::from_utf8_lossy(&o.stdout);
    ensure(stdout.contains("STALE baseline entry lifecycle/ping (ping was broken in 1.2)"), || show(&o))?;
    let r = read_report(&json)?;
    ensure(r.summary.xpass == 1 && r.summary.pass == 0, || format!("{:?}", r.summary))?;
    let e = &r.baseline.as_ref().ok_or("no baseline in the report")?.entries[0];
    ensure(e.state == report::EntryState::Stale, || format!("{e:?}"))?;
    // With the defect the entry is used: exit 0.
    let o = run_cli(&["--filter", "lifecycle/ping", "--expected-failures", &b.display().to_string()], Some("ping-error"), &[]);
    ensure(code(&o) == 0, || format!("a used entry makes the failure xfail\n{}", show(&o)))
}

fn cli_baseline_round_trip() -> Result<(), Failed> {
    let d = tmpdir("roundtrip");
    for name in ["b.yaml", "b.json"] {
        let b = d.join(name).display().to_string();
        let o = run_cli(&["--write-baseline", &b], Some("ping-error"), &[]);
        ensure(code(&o) == 1, || format!("the first run fails\n{}", show(&o)))?;
        let text = std::fs::read_to_string(&b)?;
        let baseline = Baseline::parse(&text, Format::of_path(&b)).map_err(|e| format!("{b}: {e}\n{text}"))?;
        ensure(baseline.entries.iter().any(|e| e.id == "lifecycle/ping" && e.reason.starts_with("recorded on ")), || text.clone())?;
        let json = d.join(format!("{name}.r.json"));
        let o = run_cli(&["--expected-failures", &b, "--json", &json.display().to_string()], Some("ping-error"), &[]);
        ensure(code(&o) == 0, || format!("with its own baseline the run passes\n{}\n{text}", show(&o)))?;
        let r = read_report(&json)?;
        ensure(r.summary.fail == 0 && r.summary.warn == 0 && r.summary.xfail > 0, || format!("{:?}", r.summary))?;
    }
    Ok(())
}

fn cli_unused_entry() -> Result<(), Failed> {
    let d = tmpdir("unused");
    let b = d.join("b.json");
    std::fs::write(&b, r#"[{"id": "lifecycle/ping", "reason": "r"}, {"id": "nothing/*", "reason": "gone long ago"}]"#)?;
    let o = run_cli(&["--filter", "lifecycle/ping", "--expected-failures", &b.display().to_string()], Some("ping-error"), &[]);
    ensure(code(&o) == 0, || show(&o))?;
    ensure(String::from_utf8_lossy(&o.stderr).contains("warning: baseline entry nothing/* matched no exercised check"), || show(&o))
}

fn cli_bad_baseline() -> Result<(), Failed> {
    let d = tmpdir("bad");
    let b = d.join("b.yaml");
    std::fs::write(&b, "- id: lifecycle/ping\n")?;
    let o = run_cli(&["--expected-failures", &b.display().to_string()], None, &[]);
    ensure(code(&o) == 2 && String::from_utf8_lossy(&o.stderr).contains("missing field `reason`"), || show(&o))
}

fn cli_compare() -> Result<(), Failed> {
    let d = tmpdir("compare");
    let (good, bad) = (d.join("good.json"), d.join("bad.json"));
    let o = run_cli(&["--filter", "lifecycle/*", "--json", &good.display().to_string()], None, &[]);
    ensure(code(&o) <= 1, || show(&o))?;
    let o = run_cli(&["--filter", "lifecycle/*", "--json", &bad.display().to_string()], Some("ping-error"), &[]);
    ensure(code(&o) == 1, || show(&o))?;
    let cmp = |a: &Path, b: &Path, json: bool| {
        let mut c = Command::new(EXE);
        c.arg("compare").arg(a).arg(b);
        if json {
            c.arg("--json");
        }
        c.output().expect("compare runs")
    };
    let o = cmp(&good, &bad, false);
    ensure(code(&o) == 1 && String::from_utf8_lossy(&o.stdout).contains("WORSE   2025-11-25/stdio/lifecycle/ping pass -> fail"), || show(&o))?;
    let o = cmp(&bad, &good, true);
    ensure(code(&o) == 0, || show(&o))?;
    let v: Value = serde_json::from_slice(&o.stdout)?;
    let better = v["better"].as_array().ok_or("no better list")?;
    ensure(better.iter().any(|c| c["trial"] == "2025-11-25/stdio/lifecycle/ping") && v["worse"] == json!([]), || v.to_string())?;
    let o = cmp(&good, &d.join("missing.json"), false);
    ensure(code(&o) == 2, || show(&o))
}

fn cli_shards() -> Result<(), Failed> {
    let d = tmpdir("shards");
    let full = d.join("full.json");
    let o = run_cli(&["--json", &full.display().to_string()], None, &[]);
    ensure(code(&o) <= 1, || show(&o))?;
    let all: std::collections::BTreeSet<String> = read_report(&full)?.results.iter().map(|r| r.trial_name()).collect();
    let mut union = std::collections::BTreeSet::new();
    for k in 1..=3 {
        let p = d.join(format!("s{k}.json"));
        let o = run_cli(&["--shard", &format!("{k}/3"), "--json", &p.display().to_string()], None, &[]);
        ensure(code(&o) <= 1, || show(&o))?;
        let r = read_report(&p)?;
        ensure(r.shard == Some(ShardInfo { index: k, count: 3 }), || format!("{:?}", r.shard))?;
        for t in r.results.iter().map(|r| r.trial_name()) {
            ensure(union.insert(t.clone()), || format!("{t} ran in two shards"))?;
        }
    }
    ensure(union == all, || format!("the shards ran {} trials, the full run {}", union.len(), all.len()))?;
    let o = run_cli(&["--shard", "4/3"], None, &[]);
    ensure(code(&o) == 2, || show(&o))
}

fn cli_redacts() -> Result<(), Failed> {
    let d = tmpdir("redact");
    let p = |f: &str| d.join(f).display().to_string();
    let o = run_cli(
        &["--filter", "lifecycle/*", "--json", &p("r.json"), "--junit", &p("r.xml"), "--html", &p("r.html"), "--markdown", &p("r.md"), "--sarif", &p("r.sarif"), "--ndjson", &p("r.ndjson")],
        Some("ping-error"),
        &["--token", SECRET],
    );
    ensure(code(&o) == 1, || show(&o))?;
    let r = read_report(&d.join("r.json"))?;
    ensure(r.target.command.as_ref().is_some_and(|c| c.iter().any(|a| a == "[REDACTED]")), || format!("{:?}", r.target))?;
    // The fake server's stderr echoes a bearer token: it must be in no report.
    let mut saw_stderr = false;
    for f in ["r.json", "r.xml", "r.html", "r.md", "r.sarif", "r.ndjson"] {
        let text = std::fs::read_to_string(d.join(f))?;
        ensure(!text.contains(SECRET) && !text.contains(ECHOED), || format!("{f} leaks a secret"))?;
        saw_stderr |= text.contains("fake server up; debug: Authorization: [REDACTED]");
    }
    ensure(saw_stderr, || "the echoed header line was not kept (redacted) in any report".into())?;
    let out = String::from_utf8_lossy(&o.stdout);
    ensure(!out.contains(SECRET) && !out.contains(ECHOED), || "the terminal summary leaks a secret".into())
}

fn cli_auth_token_usage() -> Result<(), Failed> {
    let run = |args: &[&str]| {
        Command::new(EXE).arg("run").args(args).env_remove("MCP_CONFORM_UNSET_VAR").stdin(Stdio::null()).output().expect("mcp-conform runs")
    };
    let url = ["--url", "http://127.0.0.1:9/mcp"];
    let o = run(&[&url[..], &["--auth-token-env", "bogus=X"]].concat());
    ensure(code(&o) == 2 && String::from_utf8_lossy(&o.stderr).contains("wrong-audience"), || show(&o))?;
    let o = run(&[&url[..], &["--auth-token-env", "wrong-audience=MCP_CONFORM_UNSET_VAR"]].concat());
    ensure(code(&o) == 2 && String::from_utf8_lossy(&o.stderr).contains("MCP_CONFORM_UNSET_VAR is not set"), || show(&o))?;
    let o = Command::new(EXE)
        .args(["run", "--auth-token-env", "wrong-audience=V"])
        .env("V", "x")
        .stdin(Stdio::null())
        .output()?;
    ensure(code(&o) == 2 && String::from_utf8_lossy(&o.stderr).contains("for HTTP servers"), || show(&o))
}

/// The reference server with `--auth`, killed when dropped; its URL.
struct AuthServer(std::process::Child, String);

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn auth_server() -> Result<AuthServer, Failed> {
    let mut child = Command::new(EXE)
        .args(["reference-server", "--transport", "streamable-http", "--auth", "--auth-client-secret", "reports-secret"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut reader = std::io::BufReader::new(stderr);
    reader.read_line(&mut line)?;
    // Keep reading: the server goes on writing to stderr.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_string);
    let server = AuthServer(child, url.unwrap_or_default());
    ensure(!server.1.is_empty(), || format!("no URL in {line:?}"))?;
    Ok(server)
}

fn token(base: &str, resource: &str, scope: &str) -> Result<String, Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let enc = |v: &str| v.replace(':', "%3A").replace('/', "%2F");
    let body = format!("grant_type=client_credentials&client_id=mcp-conform&client_secret=reports-secret&resource={}&scope={scope}", enc(resource));
    let text = runtime.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{base}/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        r.text().await
    })?;
    let v: Value = serde_json::from_str(&text)?;
    Ok(v["access_token"].as_str().ok_or_else(|| format!("no token in {text}"))?.to_string())
}

fn cli_auth_run() -> Result<(), Failed> {
    let server = auth_server()?;
    let url = server.1.clone();
    let base = url.trim_end_matches("/mcp").to_string();
    let good = token(&base, &url, "mcp")?;
    let other = token(&base, "http://other.mcp-conform.invalid/mcp", "mcp")?;
    let unscoped = token(&base, &url, "profile")?;
    let d = tmpdir("auth");
    let report = d.join("r.json");
    let o = Command::new(EXE)
        .args(["run", "--url", &url, "--spec-version", "2025-11-25", "--filter", "auth/*", "--filter", "lifecycle/ping"])
        .args(["--bearer-token-env", "T", "--auth-token-env", "wrong-audience=O", "--auth-token-env", "insufficient-scope=S", "--json"])
        .arg(&report)
        .env("T", &good)
        .env("O", &other)
        .env("S", &unscoped)
        .stdin(Stdio::null())
        .output()?;
    ensure(code(&o) == 0, || show(&o))?;
    let r = read_report(&report)?;
    let ran = |id: &str| r.results.iter().any(|c| c.id == id);
    let every_kind = ran("auth/wrong-audience-401") && ran("auth/insufficient-scope-403") && ran("lifecycle/ping");
    ensure(every_kind && r.results.iter().all(|c| c.status == Status::Pass), || format!("{:?}", r.results.iter().map(|c| (&c.id, c.status)).collect::<Vec<_>>()))?;
    let text = std::fs::read_to_string(&report)?;
    for t in [&good, &other, &unscoped] {
        ensure(!text.contains(t.as_str()), || "the report leaks a token".into())?;
    }
    Ok(())
}

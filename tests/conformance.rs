//! The conformance suite as `cargo test` trials (libtest-mimic), against the bundled
//! reference server.
//!
//! Trials are named like paths so filters read naturally:
//! - `2025-11-25/stdio/lifecycle/ping`: the case passes against the reference server
//!   (over stdio, Streamable HTTP and legacy SSE: the transport is the second segment);
//! - `defect/2025-11-25/stdio/lifecycle/ping/ping-error`: the case fails (or warns, for
//!   a SHOULD rule) against the reference server started with that defect;
//! - `meta/...`: the case library's own invariants (every case names a defect, every
//!   named defect exists, every defect is used by some case or excused with a reason).

use libtest_mimic::{Arguments, Failed, Trial};
use mcp_conform::case::Case;
use mcp_conform::engine::Context;
use mcp_conform::runner::run_case_once;
use mcp_conform::schema::SchemaSet;
use mcp_conform::spec::{Level, ProtocolVersion, TransportKind};
use mcp_conform::target::Target;
use mcp_conform::verdict::Status;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_mcp-conform");

fn stdio_target(defects: &[&str]) -> Target {
    let mut command = vec![EXE.to_string(), "reference-server".to_string()];
    for d in defects {
        command.push("--defect".into());
        command.push(d.to_string());
    }
    Target::Stdio { command, env: Vec::new() }
}

/// The reference server over HTTP, on a free loopback port; killed when dropped.
struct HttpServer {
    child: std::process::Child,
    target: Target,
}

impl HttpServer {
    fn start(transport: TransportKind, defects: &[&str], extra: &[String]) -> Result<HttpServer, String> {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(EXE);
        cmd.args(["reference-server", "--transport", transport.as_str(), "--bind", "127.0.0.1:0"]);
        for d in defects {
            cmd.args(["--defect", d]);
        }
        cmd.args(extra);
        if extra.iter().any(|a| a == "--auth") {
            cmd.args(["--auth-client-secret", AUTH_CLIENT_SECRET]);
        }
        let mut child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the reference server: {e}"))?;
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let server = |url| HttpServer { child, target: Target::Http { url, transport, headers: Vec::new(), tokens: Vec::new() } };
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(url) => Ok(server(url)),
            Err(_) => {
                let mut s = server(String::new());
                let _ = s.child.kill();
                Err("the reference server did not say where it listens".into())
            }
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client secret the trials give a reference server started with `--auth`.
const AUTH_CLIENT_SECRET: &str = "mcp-conform-trials";

/// A token from the `--auth` reference server's local issuer (client_credentials).
async fn mint_token(url: &str, resource: &str, scope: &str) -> Result<String, String> {
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "mcp-conform"),
        ("client_secret", AUTH_CLIENT_SECRET),
        ("resource", resource),
        ("scope", scope),
    ];
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", v.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>()))
        .collect::<Vec<_>>()
        .join("&");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(|e| e.to_string())?;
    let r = client
        .post(format!("{base}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("token request failed: {e}"))?;
    let bytes = r.bytes().await.map_err(|e| format!("token response: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("token response: {e}"))?;
    v["access_token"].as_str().map(str::to_string).ok_or_else(|| format!("no access_token in {v}"))
}

/// The trials' tokens for an `--auth` server at `url`: the session's own (sent as
/// `Authorization`), and the test tokens the authorization checks send.
fn auth_tokens(target: &mut Target) -> Result<(), String> {
    let Target::Http { url, headers, tokens, .. } = target else { return Ok(()) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let (good, other, unscoped) = runtime.block_on(async {
        Ok::<_, String>((
            mint_token(url, url, "mcp").await?,
            mint_token(url, "http://other-resource.mcp-conform.invalid/mcp", "mcp").await?,
            mint_token(url, url, "profile").await?,
        ))
    })?;
    headers.push(("Authorization".into(), format!("Bearer {good}")));
    tokens.push(("wrong-audience".into(), other));
    tokens.push(("insufficient-scope".into(), unscoped));
    Ok(())
}

/// Run `case` against the reference server with `defects`, over `transport`.
fn run_on(case: &Case, version: ProtocolVersion, transport: TransportKind, defects: &[&str], schemas: &Arc<SchemaSet>) -> Result<mcp_conform::report::CheckResult, Failed> {
    if transport == TransportKind::Stdio {
        return Ok(run(case, version, &stdio_target(defects), schemas));
    }
    let mut server = HttpServer::start(transport, defects, &case.reference_args)?;
    if case.reference_args.iter().any(|a| a == "--auth") {
        auth_tokens(&mut server.target)?;
    }
    Ok(run(case, version, &server.target, schemas))
}

const DUPLICATE_HIDDEN: &str =
    "the reference server's Streamable HTTP layer drops a second response (its POST is answered): proven over SSE";

/// Trials that fail for a known reason of the reference server's, each with the reason;
/// they are listed as ignored (`cargo test -- --ignored` runs them).
const KNOWN_FAILURES: &[(&str, &str)] = &[
    ("defect/2024-11-05/streamable-http/http/one-response-per-request/duplicate-response", DUPLICATE_HIDDEN),
    ("defect/2025-03-26/streamable-http/http/one-response-per-request/duplicate-response", DUPLICATE_HIDDEN),
    ("defect/2025-06-18/streamable-http/http/one-response-per-request/duplicate-response", DUPLICATE_HIDDEN),
    ("defect/2025-11-25/streamable-http/http/one-response-per-request/duplicate-response", DUPLICATE_HIDDEN),
];

fn run(case: &Case, version: ProtocolVersion, target: &Target, schemas: &Arc<SchemaSet>) -> mcp_conform::report::CheckResult {
    let ctx = Context {
        version,
        transport: target.transport_kind(),
        schemas: schemas.clone(),
        timeout: Duration::from_millis(3000),
        close_grace: Duration::from_millis(2000),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(run_case_once(target, case, &ctx))
}

fn explain(r: &mcp_conform::report::CheckResult) -> String {
    let transcript: Vec<String> = r.transcript.iter().map(|e| format!("  {:>8.3} {:?} {}", e.t_ms, e.dir, e.raw)).collect();
    format!("{} {}: {}\n{}", r.status.as_str(), r.trial_name(), r.message, transcript.join("\n"))
}

fn main() {
    let mut args = Arguments::from_args();
    // Trials mostly wait (no-response windows, server start-up), so more run at once
    // than there are cores; `--test-threads` or RUST_TEST_THREADS still decide.
    if args.test_threads.is_none() && std::env::var_os("RUST_TEST_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        args.test_threads = Some(cores * 4);
    }
    let cases = mcp_conform::embedded_cases().expect("the embedded cases load");
    let schemas = SchemaSet::embedded().expect("the embedded schemas load");
    let listed: BTreeSet<String> = mcp_reference_server::defects().iter().map(|(n, _)| n.to_string()).collect();
    let mut trials = Vec::new();

    for case in &cases {
        for (version, transport) in ProtocolVersion::ALL.into_iter().flat_map(|v| TransportKind::ALL.map(|t| (v, t))) {
            if !case.applies_to(version, transport) {
                continue;
            }
            let name = format!("{version}/{transport}/{}", case.id);
            let known = KNOWN_FAILURES.iter().any(|(n, _)| *n == name);
            let (c, s) = (case.clone(), schemas.clone());
            let trial = Trial::test(name, move || {
                let r = run_on(&c, version, transport, &[], &s)?;
                match r.status {
                    Status::Pass => Ok(()),
                    _ => Err(Failed::from(format!("expected pass against the reference server\n{}", explain(&r)))),
                }
            });
            trials.push(trial.with_ignored_flag(known));
            // A general case's defects are proven over stdio; over HTTP only the cases
            // that are about HTTP (the reference server's HTTP layer hides some core
            // defects, e.g. a response to a notification never leaves a 202).
            let http_case = case.transports.as_ref().is_some_and(|t| !t.contains(&TransportKind::Stdio));
            if transport != TransportKind::Stdio && !http_case {
                continue;
            }
            for defect in &case.defects {
                let name = format!("defect/{version}/{transport}/{}/{defect}", case.id);
                let known = KNOWN_FAILURES.iter().any(|(n, _)| *n == name);
                let (c, s, d) = (case.clone(), schemas.clone(), defect.clone());
                let exists = listed.contains(defect);
                trials.push(Trial::test(name, move || {
                    if !exists {
                        // An unknown defect makes the server refuse to start, which would
                        // "fail" the check for the wrong reason.
                        return Err(format!("the reference server has no defect {d}").into());
                    }
                    let r = run_on(&c, version, transport, &[&d], &s)?;
                    let wanted = if c.level == Level::Must { Status::Fail } else { Status::Warn };
                    if r.status == wanted || r.status == Status::Fail {
                        Ok(())
                    } else {
                        Err(Failed::from(format!("defect {d} should make the check {}\n{}", wanted.as_str(), explain(&r))))
                    }
                }).with_ignored_flag(known));
            }
        }
    }

    let used: BTreeSet<String> = cases.iter().flat_map(|c| c.defects.iter().cloned()).collect();
    let (proven, all) = (used.clone(), listed.clone());
    trials.push(Trial::test("meta/every-defect-is-proven", move || {
        // Defects no case can prove yet, each with why. A new defect must come with the
        // case that proves it; one that gets proven must leave this list.
        const UNPROVEN: &[(&str, &str)] = &[
            ("completion-ignores-prefix", "the spec only asks for relevance and fuzzy matching (SHOULD); no rule says values start with the typed text"),
            ("no-host-check", "the spec's DNS-rebinding rule is about Origin (proven by http/origin-*); Host validation is SDK practice, not a spec rule"),
        ];
        let excused: BTreeSet<String> = UNPROVEN.iter().map(|(d, _)| d.to_string()).collect();
        let idle: Vec<_> = all.difference(&proven).filter(|d| !excused.contains(*d)).collect();
        let stale: Vec<_> = excused.intersection(&proven).collect();
        match (idle.is_empty(), stale.is_empty()) {
            (true, true) => Ok(()),
            _ => Err(format!("defects no case names: {idle:?}; listed as unproven but proven now: {stale:?}").into()),
        }
    }));
    let (u, l) = (used, listed);
    trials.push(Trial::test("meta/every-named-defect-exists", move || {
        let missing: Vec<_> = u.difference(&l).collect();
        if missing.is_empty() { Ok(()) } else { Err(format!("cases name defects the reference server lacks: {missing:?}").into()) }
    }));
    let catalogue = mcp_conform::catalogue::markdown(&cases);
    trials.push(Trial::test("meta/docs-checks-md-is-current", move || {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/checks.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if on_disk == catalogue {
            Ok(())
        } else {
            Err("docs/checks.md is stale: run `cargo run -- list --markdown > docs/checks.md`".into())
        }
    }));

    libtest_mimic::run(&args, trials).exit();
}

//! The conformance suite as `cargo test` trials (libtest-mimic), against the bundled
//! reference server.
//!
//! Trials are named like paths so filters read naturally:
//! - `2025-11-25/stdio/lifecycle/ping`: the case passes against the reference server;
//! - `defect/2025-11-25/stdio/lifecycle/ping/ping-error`: the case fails (or warns, for
//!   a SHOULD rule) against the reference server started with that defect;
//! - `meta/...`: the case library's own invariants (every case names a defect, every
//!   named defect exists, every defect is used by some case).

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
    let args = Arguments::from_args();
    let cases = mcp_conform::embedded_cases().expect("the embedded cases load");
    let schemas = SchemaSet::embedded().expect("the embedded schemas load");
    let listed: BTreeSet<String> = mcp_reference_server::defects().iter().map(|(n, _)| n.to_string()).collect();
    let mut trials = Vec::new();

    for case in &cases {
        for version in ProtocolVersion::ALL {
            let transport = TransportKind::Stdio;
            if !case.applies_to(version, transport) {
                continue;
            }
            let name = format!("{version}/{transport}/{}", case.id);
            let (c, s) = (case.clone(), schemas.clone());
            trials.push(Trial::test(name, move || {
                let r = run(&c, version, &stdio_target(&[]), &s);
                match r.status {
                    Status::Pass => Ok(()),
                    _ => Err(Failed::from(format!("expected pass against the reference server\n{}", explain(&r)))),
                }
            }));
            for defect in &case.defects {
                let name = format!("defect/{version}/{transport}/{}/{defect}", case.id);
                let (c, s, d) = (case.clone(), schemas.clone(), defect.clone());
                let exists = listed.contains(defect);
                trials.push(Trial::test(name, move || {
                    if !exists {
                        // An unknown defect makes the server refuse to start, which would
                        // "fail" the check for the wrong reason.
                        return Err(format!("the reference server has no defect {d}").into());
                    }
                    let r = run(&c, version, &stdio_target(&[&d]), &s);
                    let wanted = if c.level == Level::Must { Status::Fail } else { Status::Warn };
                    if r.status == wanted || r.status == Status::Fail {
                        Ok(())
                    } else {
                        Err(Failed::from(format!("defect {d} should make the check {}\n{}", wanted.as_str(), explain(&r))))
                    }
                }));
            }
        }
    }

    let used: BTreeSet<String> = cases.iter().flat_map(|c| c.defects.iter().cloned()).collect();
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

//! The suite inside a server's own `cargo test` (cargo feature `testing`).
//!
//! Each check x protocol version becomes a [`libtest_mimic::Trial`] named like the
//! CLI's trials (`2025-11-25/stdio/tools/list`), so `cargo test -- tools/` filters
//! naturally and `cargo nextest` can partition them.
//!
//! In the server's crate:
//!
//! ```toml
//! [dev-dependencies]
//! mcp-conform = { version = "0.1", features = ["testing"] }
//!
//! [[test]]
//! name = "mcp_conformance"
//! harness = false
//! ```
//!
//! and `tests/mcp_conformance.rs`:
//!
//! ```no_run
//! use mcp_conform::testing::{self, Options};
//!
//! fn main() {
//!     // In a real server crate: env!("CARGO_BIN_EXE_my-server").
//!     let server = "target/debug/my-server";
//!     let target = testing::stdio([server, "--stdio"]);
//!     // Or an HTTP server that the test started: testing::http("http://127.0.0.1:8080/mcp").
//!     let options = Options {
//!         expected_failures: Some(
//!             testing::Baseline::parse("- {id: tools/call-unknown-tool, reason: 'issue #12'}", testing::Format::Yaml)
//!                 .expect("a valid baseline"),
//!         ),
//!         ..Options::default()
//!     };
//!     testing::main(target, options);
//! }
//! ```
//!
//! How a trial ends: `fail` fails it (with the message, spec link and transcript);
//! `pass`, `skip` and `warn` pass it (`warn` fails it with `warnings_fail`); with a
//! baseline, a matched failure passes and a matched pass fails (the entry is stale).
//! Each trial is judged alone, so a glob entry is stale per trial here, where the CLI
//! calls it stale only when all its matches pass.
//! Versions the server declines are ignored trials; a server that cannot be set up
//! for a version fails that version's trials.

use crate::case::Case;
use crate::engine::{self, Context, Probe};
use crate::report::{CheckResult, redact};
use crate::runner::{VersionSelection, build_filter, run_case_once};
use crate::schema::SchemaSet;
use crate::spec::{ProtocolVersion, TransportKind};
use crate::transcript::Transcript;
use crate::verdict::Status;
use std::sync::Arc;
use std::time::Duration;

pub use crate::baseline::{Baseline, Format};
pub use crate::target::Target;
pub use libtest_mimic;
use libtest_mimic::{Failed, Trial};

/// What to run and how to judge it.
#[derive(Clone)]
pub struct Options {
    /// Default: every version the server accepts.
    pub versions: VersionSelection,
    /// Globs over check ids or trial names, as `--filter`; empty runs everything.
    pub filters: Vec<String>,
    /// Per-response timeout. Default 5 s.
    pub timeout: Duration,
    /// Known failures, each with a reason (as `--expected-failures`).
    pub expected_failures: Option<Baseline>,
    /// Fail trials whose SHOULD/MAY rule is violated. Default false.
    pub warnings_fail: bool,
    /// The cases to run. Default: the library built into mcp-conform.
    pub cases: Option<Vec<Case>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            versions: VersionSelection::All,
            filters: Vec::new(),
            timeout: Duration::from_secs(5),
            expected_failures: None,
            warnings_fail: false,
            cases: None,
        }
    }
}

/// A stdio server: the program and its arguments.
pub fn stdio<S: Into<String>>(command: impl IntoIterator<Item = S>) -> Target {
    Target::Stdio { command: command.into_iter().map(Into::into).collect(), env: Vec::new() }
}

/// A Streamable HTTP server at `url`.
pub fn http(url: impl Into<String>) -> Target {
    Target::Http { url: url.into(), transport: TransportKind::StreamableHttp, headers: Vec::new(), tokens: Vec::new() }
}

/// Parse libtest arguments, run [`trials`], exit with libtest's code.
pub fn main(target: Target, options: Options) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    libtest_mimic::run(&args, trials(target, options)).exit()
}

/// One trial per applicable check x protocol version. Probes the server's versions
/// first (one short session per version).
pub fn trials(target: Target, options: Options) -> Vec<Trial> {
    match build(target, options) {
        Ok(t) => t,
        Err(e) => vec![Trial::test("mcp-conform/setup", move || Err(Failed::from(e.clone())))],
    }
}

fn build(target: Target, options: Options) -> Result<Vec<Trial>, String> {
    let cases = match options.cases.clone() {
        Some(c) => c,
        None => crate::embedded_cases().map_err(|e| e.to_string())?,
    };
    let schemas = SchemaSet::embedded()?;
    let filter = build_filter(&options.filters).map_err(|e| e.to_string())?;
    let transport = target.transport_kind();
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            filter.as_ref().is_none_or(|f| {
                f.is_match(&c.id) || ProtocolVersion::ALL.iter().any(|v| f.is_match(format!("{v}/{transport}/{}", c.id)))
            })
        })
        .collect();
    let candidates: Vec<ProtocolVersion> = match &options.versions {
        VersionSelection::One(v) => vec![*v],
        _ => ProtocolVersion::ALL.to_vec(),
    };
    let ctx = |version| Context {
        version,
        transport,
        schemas: schemas.clone(),
        timeout: options.timeout,
        close_grace: (options.timeout / 2).clamp(Duration::from_millis(100), Duration::from_secs(2)),
    };
    // Probe the versions all at once: a slow-starting server costs one start-up, not one per version.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let versions: Vec<ProtocolVersion> = candidates
        .into_iter()
        .filter(|v| options.versions == VersionSelection::Latest || selected.iter().any(|c| c.applies_to(*v, transport)))
        .collect();
    let probe = |v: ProtocolVersion| {
        let (target, context) = (&target, ctx(v));
        async move {
            let transcript = Transcript::new(redact::secrets_of(target));
            let probe = match target.open(transcript, options.timeout).await {
                Ok(mut t) => engine::probe_version(&context, t.as_mut()).await,
                Err(e) => Probe::Broken(format!("cannot open a session: {e}")),
            };
            (v, probe)
        }
    };
    let mut probes: Vec<(ProtocolVersion, Probe)> =
        runtime.block_on(futures_util::future::join_all(versions.into_iter().map(probe)));
    if options.versions == VersionSelection::Latest {
        let keep = probes.iter().rev().find(|(_, p)| matches!(p, Probe::Supported(_))).map(|(v, _)| *v);
        probes.retain(|(v, _)| Some(*v) == keep || keep.is_none() && *v == ProtocolVersion::LATEST);
    }

    let target = Arc::new(target);
    let baseline = Arc::new(options.expected_failures.clone());
    let mut trials = Vec::new();
    for (version, probe) in probes {
        for case in selected.iter().filter(|c| c.applies_to(version, transport)) {
            let name = format!("{version}/{transport}/{}", case.id);
            if filter.as_ref().is_some_and(|f| !f.is_match(&case.id) && !f.is_match(&name)) {
                continue;
            }
            match &probe {
                Probe::Unsupported(_) => trials.push(Trial::test(name, || Ok(())).with_ignored_flag(true)),
                Probe::Broken(reason) => {
                    let message = format!("the server could not be set up for {version}: {reason}");
                    trials.push(Trial::test(name, move || Err(Failed::from(message))));
                }
                Probe::Supported(_) => {
                    let (case, context) = ((*case).clone(), ctx(version));
                    let (target, baseline, warnings_fail) = (target.clone(), baseline.clone(), options.warnings_fail);
                    trials.push(Trial::test(name, move || {
                        let runtime = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .map_err(|e| Failed::from(e.to_string()))?;
                        let mut r = runtime.block_on(run_case_once(&target, &case, &context));
                        redact::result(&mut r, &redact::secrets_of(&target));
                        judge(&r, baseline.as_ref().as_ref(), warnings_fail)
                    }));
                }
            }
        }
    }
    Ok(trials)
}

/// A result as a trial outcome (see the module docs).
pub fn judge(r: &CheckResult, baseline: Option<&Baseline>, warnings_fail: bool) -> Result<(), Failed> {
    let entry = baseline.and_then(|b| b.entry_for(r));
    match (r.status, entry) {
        (Status::Fail | Status::Warn, Some(_)) => Ok(()),
        (Status::Pass, Some(e)) => Err(Failed::from(format!(
            "xpass: expected to fail ({}) but passed: the baseline entry `{}` is stale\nspec: {}",
            e.reason, e.id, r.spec
        ))),
        (Status::Fail | Status::Xpass, None) => Err(Failed::from(explain(r))),
        (Status::Warn, None) if warnings_fail => Err(Failed::from(explain(r))),
        _ => Ok(()),
    }
}

fn explain(r: &CheckResult) -> String {
    format!(
        "{} {} [{}]: {}\nspec: {}\ntranscript:\n{}",
        r.status.as_str(),
        r.trial_name(),
        r.level.as_str(),
        r.message,
        r.spec,
        crate::report::junit::transcript_text(r)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Level;

    #[test]
    fn judge_table() {
        let baseline = Baseline::parse("- {id: a/listed, reason: known}", Format::Yaml).unwrap();
        let r = |id: &str, status| CheckResult {
            id: id.into(),
            title: String::new(),
            spec_version: "2025-11-25".into(),
            transport: "stdio".into(),
            status,
            level: Level::Must,
            spec: "https://spec".into(),
            message: "m".into(),
            duration_ms: 0.0,
            transcript: Vec::new(),
            aliases: Vec::new(),
        };
        // (id, status, warnings_fail, trial passes)
        let table = [
            ("a/other", Status::Pass, false, true),
            ("a/other", Status::Fail, false, false),
            ("a/other", Status::Warn, false, true),
            ("a/other", Status::Warn, true, false),
            ("a/other", Status::Skip, true, true),
            ("a/listed", Status::Fail, false, true),
            ("a/listed", Status::Warn, true, true),
            ("a/listed", Status::Pass, false, false),
            ("a/listed", Status::Skip, false, true),
        ];
        for (id, status, warnings_fail, ok) in table {
            let got = judge(&r(id, status), Some(&baseline), warnings_fail);
            assert_eq!(got.is_ok(), ok, "{id} {status:?} warnings_fail={warnings_fail}: {got:?}");
        }
        let err = judge(&r("a/listed", Status::Pass), Some(&baseline), false).unwrap_err();
        assert!(err.message().unwrap().contains("stale"));
    }
}

//! JUnit XML (`--junit`), for CI test dashboards.
//!
//! One `<testsuite>` per version x transport (`2025-11-25/stdio`), one `<testcase>`
//! per result: `classname` is `VERSION.TRANSPORT.AREA` (so a matrix of versions and
//! transports stays distinct in dashboards that group by class), `name` is the check id.
//! Status mapping, so the counts match the JSON report:
//!
//! | JSON    | JUnit                                                         |
//! |---------|---------------------------------------------------------------|
//! | pass    | passed                                                        |
//! | fail    | `<failure type="MUST">` with the message and spec link        |
//! | xpass   | `<failure type="xpass">`: the baseline is stale               |
//! | warn    | passed, with `warning: ...` in `system-err` (a warning does not fail a run) |
//! | skip    | `<skipped>` with the reason                                   |
//! | xfail   | `<skipped type="xfail">` with the baseline's reason           |
//!
//! So `tests` = total, `failures` = fail + xpass, `skipped` = skip + xfail, `errors` = 0.
//! Every testcase carries an `mcp.status` property with the JSON status.
//! The wire transcript is in each failing or warning testcase's `system-out`.

use super::{CheckResult, Report};
use crate::verdict::Status;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

pub fn to_string(report: &Report) -> String {
    let mut junit = quick_junit::Report::new("mcp-conform");
    let mut total_ms = 0.0;
    for (version, transport) in report.matrix_columns() {
        let mut suite = TestSuite::new(format!("{version}/{transport}"));
        let mut suite_ms = 0.0;
        for r in report.results.iter().filter(|r| r.spec_version == version && r.transport == transport) {
            suite_ms += r.duration_ms;
            suite.add_test_case(test_case(report, r));
        }
        suite.set_time(Duration::from_secs_f64(suite_ms.max(0.0) / 1000.0));
        suite.add_property(Property::new("spec_version", version.as_str()));
        suite.add_property(Property::new("transport", transport.as_str()));
        total_ms += suite_ms;
        junit.add_test_suite(suite);
    }
    junit.set_time(Duration::from_secs_f64(total_ms.max(0.0) / 1000.0));
    let mut s = junit.to_string().expect("a JUnit report always serialises");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// `2025-11-25.stdio.lifecycle`
pub fn classname(r: &CheckResult) -> String {
    format!("{}.{}.{}", r.spec_version, r.transport, r.area())
}

fn test_case(report: &Report, r: &CheckResult) -> TestCase {
    let detail = || format!("{} [{}] {}\nspec: {}\n{}", r.trial_name(), r.level.as_str(), r.title, r.spec, r.message);
    let status = match r.status {
        Status::Pass | Status::Warn => TestCaseStatus::success(),
        Status::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(one_line(&r.message, &r.spec)).set_type(r.level.as_str()).set_description(detail());
            s
        }
        Status::Xpass => {
            let reason = report.baseline_reason(&r.trial_name()).unwrap_or("");
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("expected to fail ({reason}) but passed: the baseline entry is stale ({})", r.spec))
                .set_type("xpass")
                .set_description(detail());
            s
        }
        Status::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(r.message.clone());
            s
        }
        Status::Xfail => {
            let reason = report.baseline_reason(&r.trial_name()).unwrap_or("");
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("expected failure: {reason}")).set_type("xfail").set_description(detail());
            s
        }
    };
    let mut tc = TestCase::new(r.id.as_str(), status);
    tc.set_classname(classname(r));
    tc.set_time(Duration::from_secs_f64(r.duration_ms.max(0.0) / 1000.0));
    tc.add_property(Property::new("mcp.status", r.status.as_str()));
    tc.add_property(Property::new("mcp.level", r.level.as_str()));
    tc.add_property(Property::new("mcp.spec", r.spec.as_str()));
    if r.status == Status::Warn {
        tc.set_system_err(format!("warning: {}\nspec: {}", r.message, r.spec));
    }
    if matches!(r.status, Status::Fail | Status::Warn | Status::Xpass | Status::Xfail) {
        tc.set_system_out(transcript_text(r));
    }
    tc
}

fn one_line(message: &str, spec: &str) -> String {
    let first: String = message.chars().take(300).collect();
    let more = if message.chars().count() > 300 { "…" } else { "" };
    format!("{first}{more} ({spec})")
}

/// The transcript as plain text: `  t_ms dir raw`, one entry a line.
pub fn transcript_text(r: &CheckResult) -> String {
    let mut out = String::new();
    for e in &r.transcript {
        let dir = match e.dir {
            crate::transcript::Dir::Out => "->",
            crate::transcript::Dir::In => "<-",
            crate::transcript::Dir::Stderr => "!!",
            crate::transcript::Dir::Note => "##",
        };
        out.push_str(&format!("{:>10.3} {dir} {}\n", e.t_ms, e.raw.trim_end_matches(['\r', '\n'])));
    }
    out
}

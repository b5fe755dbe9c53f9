//! The differential oracle: the same messages go to the target and to the bundled
//! reference server, and their answers are compared message by message.
//!
//! A divergence in whether an answer came, in the error class (result, or which
//! error code), or in which members a result has is a finding: a failure where the
//! spec fixes the answer, a warning where it leaves the choice open. Messages that
//! name the target's own tools, resources or prompts are not compared (the
//! reference server has other ones). Pure.

use super::generators::FuzzMessage;
use super::invariants::{Answer, Class, Expect, Violation};
use crate::spec::Level;
use std::collections::HashMap;
use std::ops::Range;

/// Compare two sessions' answers to the same `messages`.
pub fn compare(
    messages: &[FuzzMessage],
    planned: &[Vec<Expect>],
    windows: &[Range<usize>],
    target: &HashMap<usize, Vec<Answer>>,
    reference: &HashMap<usize, Vec<Answer>>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for (w, range) in windows.iter().enumerate() {
        for i in range.clone() {
            let m = &messages[i];
            if m.catalogue || planned[i].len() != 1 {
                continue;
            }
            let expect = &planned[i][0];
            if matches!(expect, Expect::Silence | Expect::Lenient(_)) {
                continue; // answers to these are the invariants' business
            }
            let t = target.get(&i).and_then(|a| a.first());
            let r = reference.get(&i).and_then(|a| a.first());
            let describe = |a: Option<&Answer>| a.map(Answer::describe).unwrap_or_else(|| "no answer".into());
            let (what, level) = match (t, r) {
                (None, None) => continue,
                (Some(_), None) | (None, Some(_)) => ("answer", presence_level(expect)),
                (Some(a), Some(b)) if a == b => continue,
                (Some(Answer::Result(_)), Some(Answer::Result(_))) => ("result-members", Level::Should),
                (Some(_), Some(_)) => ("error-class", class_level(expect)),
            };
            let message = format!(
                "{} message #{}: the target gave {}, the reference server gave {}",
                m.label,
                i + 1,
                describe(t),
                describe(r)
            );
            out.push(Violation { kind: "divergence", key: format!("divergence/{what}:{}", m.label), level, message, msg: Some(i), window: w });
        }
    }
    out
}

/// Whether the spec requires an answer (so a missing one on either side is a failure).
fn presence_level(expect: &Expect) -> Level {
    match expect {
        Expect::Reply(r) if !r.optional && !r.alt_null => Level::Must,
        Expect::NullError(n) => n.answer_level,
        _ => Level::Should,
    }
}

/// Whether the spec fixes the class (a single error code, or a result) at MUST.
fn class_level(expect: &Expect) -> Level {
    match expect {
        Expect::Reply(r) => match &r.class {
            Class::Result if r.level == Level::Must => Level::Must,
            Class::Error(codes) if codes.len() == 1 && r.code_level == Level::Must => Level::Must,
            _ => Level::Should,
        },
        Expect::NullError(n) if n.codes.len() == 1 => n.code_level,
        _ => Level::Should,
    }
}

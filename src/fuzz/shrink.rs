//! Shrinking: delta debugging (ddmin) over the message list, then single-message
//! removals until no message can go. Every test re-runs the candidate on a fresh
//! server session (the `Reproduce` implementation opens one) and asks whether the
//! same invariant breaks.

use super::generators::{Effect, FuzzMessage};
use async_trait::async_trait;
use std::collections::HashMap;
use std::time::Instant;

#[async_trait]
pub trait Reproduce: Sync {
    /// Whether running `messages` on a fresh session breaks the invariant sought.
    async fn reproduces(&self, messages: &[FuzzMessage]) -> bool;
}

#[derive(Debug, Clone)]
pub struct Shrunk {
    pub messages: Vec<FuzzMessage>,
    /// Fresh sessions run while shrinking.
    pub runs: usize,
    /// Whether the original sequence failed again on a fresh session.
    pub reproduced: bool,
}

struct Search<'a> {
    all: &'a [FuzzMessage],
    /// Messages every candidate keeps (the initialize that opens an HTTP session).
    pinned: &'a [usize],
    oracle: &'a dyn Reproduce,
    runs: usize,
    max_runs: usize,
    deadline: Instant,
    seen: HashMap<Vec<usize>, bool>,
}

impl Search<'_> {
    fn exhausted(&self) -> bool {
        self.runs >= self.max_runs || Instant::now() >= self.deadline
    }

    async fn test(&mut self, candidate: &[usize]) -> bool {
        let candidate = &with_pinned(candidate, self.pinned);
        if candidate.len() == self.pinned.len() {
            return false;
        }
        if let Some(&known) = self.seen.get(candidate) {
            return known;
        }
        if self.exhausted() {
            return false;
        }
        self.runs += 1;
        let messages: Vec<FuzzMessage> = candidate.iter().map(|&i| self.all[i].clone()).collect();
        let result = self.oracle.reproduces(&messages).await;
        self.seen.insert(candidate.to_vec(), result);
        result
    }
}

/// Shrink `messages` to a minimal sequence that still breaks the invariant. `hint`
/// is the index of the message the violation was about, when known: the lifecycle
/// plus that message is tried first.
///
/// `pinned` messages stay in every candidate: over HTTP a session exists only after
/// its initialize, and without it every request is refused for another reason.
pub async fn shrink(messages: Vec<FuzzMessage>, hint: Option<usize>, pinned: &[usize], oracle: &dyn Reproduce, max_runs: usize, deadline: Instant) -> Shrunk {
    let pinned: Vec<usize> = pinned.iter().copied().filter(|&i| i < messages.len()).collect();
    let mut s = Search { all: &messages, pinned: &pinned, oracle, runs: 0, max_runs, deadline, seen: HashMap::new() };
    let full: Vec<usize> = (0..messages.len()).collect();
    if !s.test(&full).await {
        let runs = s.runs;
        return Shrunk { messages, runs, reproduced: false };
    }
    let mut current = full;
    if let Some(h) = hint.filter(|&h| h < messages.len()) {
        let lifecycle: Vec<usize> = (0..h)
            .filter(|&i| matches!(messages[i].effect, Effect::Initialize { valid: true } | Effect::Initialized))
            .collect();
        let mut with_lifecycle = lifecycle.clone();
        with_lifecycle.push(h);
        let mut quick = vec![vec![h]];
        if !lifecycle.is_empty() {
            quick.push(with_lifecycle);
        }
        // The window the violation was seen in, with the lifecycle.
        for candidate in quick {
            if s.test(&candidate).await {
                current = candidate;
                break;
            }
        }
    }
    current = ddmin(&mut s, current).await;
    // One-minimal: no single message can go.
    let mut i = current.len();
    while i > 0 && current.len() > 1 {
        i -= 1;
        let mut candidate = current.clone();
        candidate.remove(i);
        if s.test(&candidate).await {
            current = candidate;
            i = i.min(current.len());
        }
    }
    let current = with_pinned(&current, &pinned);
    let runs = s.runs;
    let minimal = current.iter().map(|&i| messages[i].clone()).collect();
    Shrunk { messages: minimal, runs, reproduced: true }
}

/// `candidate` with the pinned messages, in sequence order.
fn with_pinned(candidate: &[usize], pinned: &[usize]) -> Vec<usize> {
    let mut all: Vec<usize> = candidate.iter().chain(pinned).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

async fn ddmin(s: &mut Search<'_>, mut current: Vec<usize>) -> Vec<usize> {
    let mut n = 2usize;
    while current.len() >= 2 && !s.exhausted() {
        let chunks = split(&current, n);
        let mut reduced = false;
        for chunk in &chunks {
            if s.test(chunk).await {
                current = chunk.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && n > 2 {
            for k in 0..chunks.len() {
                let complement: Vec<usize> = chunks.iter().enumerate().filter(|(j, _)| *j != k).flat_map(|(_, c)| c.iter().copied()).collect();
                if s.test(&complement).await {
                    current = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (n * 2).min(current.len());
        }
    }
    current
}

fn split(items: &[usize], n: usize) -> Vec<Vec<usize>> {
    let n = n.min(items.len()).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for k in 0..n {
        let end = start + (items.len() - start) / (n - k);
        out.push(items[start..end].to_vec());
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::generators::FuzzMessage;

    fn msg(label: &'static str) -> FuzzMessage {
        FuzzMessage {
            label,
            bytes: label.as_bytes().to_vec(),
            method: None,
            expects: Vec::new(),
            effect: if label == "init" { Effect::Initialize { valid: true } } else { Effect::None },
            phase_sensitive: false,
            barrier: false,
            isolate: false,
            keep_with_next: false,
            catalogue: false,
        }
    }

    /// Fails when the sequence holds both "init" and "bad", in that order.
    struct Needs;

    #[async_trait]
    impl Reproduce for Needs {
        async fn reproduces(&self, m: &[FuzzMessage]) -> bool {
            let init = m.iter().position(|x| x.label == "init");
            let bad = m.iter().position(|x| x.label == "bad");
            matches!((init, bad), (Some(i), Some(b)) if i < b)
        }
    }

    #[tokio::test]
    async fn ddmin_finds_the_two_needed_messages() {
        let mut all: Vec<FuzzMessage> = (0..200).map(|_| msg("noise")).collect();
        all[3] = msg("init");
        all[150] = msg("bad");
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        let out = shrink(all.clone(), None, &[], &Needs, 10_000, deadline).await;
        let labels: Vec<_> = out.messages.iter().map(|m| m.label).collect();
        assert_eq!(labels, ["init", "bad"]);
        let hinted = shrink(all, Some(150), &[], &Needs, 10_000, deadline).await;
        assert_eq!(hinted.messages.len(), 2);
        assert!(hinted.runs < out.runs, "the hint saves runs: {} vs {}", hinted.runs, out.runs);
    }
}

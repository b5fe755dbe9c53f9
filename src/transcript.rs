//! The wire transcript of one case: every frame out and in, stderr lines, HTTP
//! status lines and the harness's own notes, timestamped from the case start.
//!
//! The transcript is the evidence behind a verdict. It is bounded (a flooding server
//! cannot exhaust memory through it) and redacts secrets before anything is stored.
//! Must never interpret what it records.

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Direction or source of a transcript entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Harness to server.
    Out,
    /// Server to harness.
    In,
    /// A line the server wrote on stderr.
    Stderr,
    /// The harness's own remark (timeouts, process exit, HTTP status...).
    Note,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub dir: Dir,
    pub t_ms: f64,
    pub raw: String,
    /// Set when `raw` was cut to the per-entry bound; the original length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_from: Option<usize>,
}

/// Bounds that keep a transcript's memory small whatever the server does.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;
pub const MAX_ENTRIES: usize = 2_000;

struct Inner {
    start: Instant,
    entries: Vec<Entry>,
    dropped: usize,
    secrets: Vec<String>,
}

/// A shared handle: the transport's reader tasks and the engine write to the same log.
#[derive(Clone)]
pub struct Transcript(Arc<Mutex<Inner>>);

impl Default for Transcript {
    fn default() -> Self {
        Transcript::new(Vec::new())
    }
}

impl Transcript {
    /// `secrets` are replaced by `[REDACTED]` wherever they appear.
    pub fn new(secrets: Vec<String>) -> Transcript {
        let secrets = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        Transcript(Arc::new(Mutex::new(Inner { start: Instant::now(), entries: Vec::new(), dropped: 0, secrets })))
    }

    pub fn record(&self, dir: Dir, raw: &[u8]) {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let t_ms = inner.start.elapsed().as_secs_f64() * 1000.0;
        if inner.entries.len() >= MAX_ENTRIES {
            inner.dropped += 1;
            return;
        }
        let (slice, truncated_from) =
            if raw.len() > MAX_ENTRY_BYTES { (&raw[..MAX_ENTRY_BYTES], Some(raw.len())) } else { (raw, None) };
        let mut text = String::from_utf8_lossy(slice).into_owned();
        for s in &inner.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), "[REDACTED]");
            }
        }
        let t_ms = (t_ms * 1000.0).round() / 1000.0;
        inner.entries.push(Entry { dir, t_ms, raw: text, truncated_from });
    }

    pub fn note(&self, text: impl AsRef<str>) {
        self.record(Dir::Note, text.as_ref().as_bytes());
    }

    pub fn elapsed_ms(&self) -> f64 {
        let inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        inner.start.elapsed().as_secs_f64() * 1000.0
    }

    /// The entries so far, with a closing note if the bound dropped any.
    pub fn entries(&self) -> Vec<Entry> {
        let inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = inner.entries.clone();
        if inner.dropped > 0 {
            let t_ms = out.last().map(|e| e.t_ms).unwrap_or(0.0);
            out.push(Entry {
                dir: Dir::Note,
                t_ms,
                raw: format!("{} more entries not kept (transcript bound {MAX_ENTRIES})", inner.dropped),
                truncated_from: None,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_and_bounds() {
        let t = Transcript::new(vec!["s3cr3t-token".into()]);
        t.record(Dir::Out, b"Authorization: Bearer s3cr3t-token");
        t.record(Dir::In, &vec![b'x'; MAX_ENTRY_BYTES + 10]);
        let e = t.entries();
        assert_eq!(e[0].raw, "Authorization: Bearer [REDACTED]");
        assert_eq!(e[1].raw.len(), MAX_ENTRY_BYTES);
        assert_eq!(e[1].truncated_from, Some(MAX_ENTRY_BYTES + 10));
        for _ in 0..MAX_ENTRIES + 5 {
            t.note("n");
        }
        let e = t.entries();
        assert_eq!(e.len(), MAX_ENTRIES + 1);
        assert!(e.last().unwrap().raw.contains("not kept"));
    }
}

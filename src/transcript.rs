//! The wire transcript of one case: every frame out and in, stderr lines, HTTP
//! status lines and the harness's own notes, timestamped from the case start.
//!
//! The transcript is the evidence behind a verdict. It is bounded (a flooding server
//! cannot exhaust memory through it) and redacts secrets before anything is stored.
//! Must never interpret what it records.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};
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
    pub raw: Raw,
    /// Set when `raw` was cut to the per-entry bound; the original length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_from: Option<usize>,
}

/// An entry's text. Shared: the frames many cases record alike (an initialize
/// exchange, a tools/list page) are stored once for the whole run; a default run
/// records 6.5 MB of frames of which 0.5 MB are distinct.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Raw(Arc<str>);

/// At most this much distinct text is shared; beyond it entries get their own copy,
/// so a long run of unique frames (fuzzing) holds no more than this in the table.
const SHARED_MAX_BYTES: usize = 8 << 20;

struct Shared {
    texts: HashSet<Arc<str>>,
    bytes: usize,
}

static SHARED: LazyLock<Mutex<Shared>> = LazyLock::new(|| Mutex::new(Shared { texts: HashSet::new(), bytes: 0 }));

impl Raw {
    /// The shared copy of `text`, adding it to the table while there is room.
    fn shared(text: String) -> Raw {
        let mut table = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = table.texts.get(text.as_str()) {
            return Raw(known.clone());
        }
        let text: Arc<str> = Arc::from(text);
        if table.bytes + text.len() <= SHARED_MAX_BYTES {
            table.bytes += text.len();
            table.texts.insert(text.clone());
        }
        Raw(text)
    }
}

impl std::ops::Deref for Raw {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Raw {
    fn from(text: String) -> Raw {
        Raw(Arc::from(text))
    }
}

impl From<&str> for Raw {
    fn from(text: &str) -> Raw {
        Raw(Arc::from(text))
    }
}

impl PartialEq<str> for Raw {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Raw {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl Serialize for Raw {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        String::deserialize(d).map(Raw::from)
    }
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
        inner.entries.push(Entry { dir, t_ms, raw: Raw::shared(text), truncated_from });
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
                raw: format!("{} more entries not kept (transcript bound {MAX_ENTRIES})", inner.dropped).into(),
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

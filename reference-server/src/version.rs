//! Protocol versions the server knows, and what differs between them.
//!
//! Vocabulary only: this module must never do IO and never hold session state.

use std::fmt;

/// A released protocol version, ordered by release date (`v >= V2025_06_18` reads as
/// "2025-06-18 or later").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    V2024_11_05,
    V2025_03_26,
    V2025_06_18,
    V2025_11_25,
    V2026_07_28,
}

impl Version {
    pub const ALL: [Version; 5] = [
        Version::V2024_11_05,
        Version::V2025_03_26,
        Version::V2025_06_18,
        Version::V2025_11_25,
        Version::V2026_07_28,
    ];
    /// The newest version that uses the `initialize` handshake.
    pub const LATEST_LEGACY: Version = Version::V2025_11_25;
    pub const LATEST: Version = Version::V2026_07_28;

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2024_11_05 => "2024-11-05",
            Version::V2025_03_26 => "2025-03-26",
            Version::V2025_06_18 => "2025-06-18",
            Version::V2025_11_25 => "2025-11-25",
            Version::V2026_07_28 => "2026-07-28",
        }
    }

    pub fn parse(s: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Versions negotiated with `initialize` (everything before 2026-07-28).
    pub fn is_legacy(self) -> bool {
        self < Version::V2026_07_28
    }

    /// Newest first, as listed in `supported` of an UnsupportedProtocolVersionError.
    pub fn supported_newest_first() -> Vec<&'static str> {
        Version::ALL.iter().rev().map(|v| v.as_str()).collect()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

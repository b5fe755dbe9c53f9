//! mcp-conform: a conformance test suite for Model Context Protocol servers.
//!
//! The public API: load cases ([`embedded_cases`], [`case::load_dir`]), describe a
//! [`target::Target`], and [`runner::run`] it to get a [`report::Report`].
//! See ARCHITECTURE.md for the bird's-eye view and the code map.

pub mod baseline;
pub mod case;
pub mod catalogue;
pub mod check;
pub mod compare;
pub mod engine;
pub mod fuzz;
pub mod report;
pub mod runner;
pub mod schema;
pub mod shard;
pub mod spec;
pub mod target;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
pub mod transcript;
pub mod transport;
pub mod verdict;
pub mod wire;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_cases.rs"));
}

/// The case library compiled into this binary.
pub fn embedded_cases() -> Result<Vec<case::Case>, case::LoadError> {
    case::load_sources(embedded::CASE_FILES.iter().copied())
}

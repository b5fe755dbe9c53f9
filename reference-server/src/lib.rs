//! The bundled MCP reference server of mcp-conform.
//!
//! It implements the Model Context Protocol (2024-11-05 through 2026-07-28) with real
//! behaviour, strictly, and can be told to break single rules (`--defect NAME`) so that
//! every check of the suite can be shown to pass and to fail.
//!
//! Module map:
//! - [`cli`]: argument parsing and runtime set-up (`run_cli`).
//! - [`defects`]: the table of injectable defects and the set switched on.
//! - [`version`]: protocol versions.
//! - [`jsonrpc`]: JSON-RPC framing, classification and error codes.
//! - [`server`]: the protocol core (sessions, dispatch, lifecycle, logging, progress,
//!   cancellation, server->client requests); no IO.
//! - `tools`, `resources`, `prompts`, `completion`, `pagination`: the features.
//! - `modern`: the stateless 2026-07-28 protocol.
//! - `validate`: the JSON Schema subset used to check tool arguments.
//! - `media`: small PNG/WAV payloads.
//! - [`stdio`], [`http`]: the transports; [`auth`]: OAuth resource server and local issuer (`--auth`).
//!
//! This crate must never panic on any input and never write anything but JSON-RPC
//! messages to stdout when serving stdio.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

/// `eprintln!` that never panics: stderr may be closed (a parent that stopped reading).
macro_rules! note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

pub mod auth;
pub mod cli;
mod completion;
pub mod defects;
mod ext_tasks;
pub mod http;
pub mod jsonrpc;
mod media;
mod modern;
mod pagination;
mod prompts;
mod resources;
pub mod server;
pub mod stdio;
mod tasks;
mod tools;
mod validate;
pub mod version;

pub use cli::run_cli;
pub use http::{HttpOptions, serve_http, serve_http_with};
pub use server::{Config, Connection, Outgoing};
pub use stdio::{serve_io, serve_stdio};

/// All defects: (name, one-line description).
pub fn defects() -> &'static [(&'static str, &'static str)] {
    defects::TABLE
}

/// `n` random bytes as lowercase hex (visible ASCII), from the OS generator.
pub(crate) fn random_token(n: usize) -> String {
    let mut b = vec![0u8; n];
    if getrandom::fill(&mut b).is_err() {
        // Never panic: fall back to a time-derived value (still unique per call).
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, x) in b.iter_mut().enumerate() {
            *x = (t >> ((i % 16) * 8)) as u8 ^ (i as u8);
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod core_tests;
#[cfg(test)]
mod defect_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod schema_tests;

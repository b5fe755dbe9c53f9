//! Run the MCP conformance suite from a server's own `cargo test`.
//!
//! In your server's crate, copy this file to `tests/mcp_conformance.rs` and add:
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
//! then replace the server command with `env!("CARGO_BIN_EXE_<your-binary>")`.
//! `cargo test --test mcp_conformance -- tools/` runs the tools checks only;
//! `cargo test --test mcp_conformance -- --list` lists the trials.
//!
//! Here, as an example of this repository, it takes the server from the environment:
//!
//! ```sh
//! MCP_SERVER='npx -y @modelcontextprotocol/server-everything' \
//!     cargo run --example server_author --features testing -- --test-threads 4
//! MCP_SERVER_URL=http://127.0.0.1:8080/mcp cargo run --example server_author --features testing
//! ```
//!
//! With no variable set it tests the reference server bundled with mcp-conform.

use mcp_conform::testing::{self, Baseline, Format, Options};

fn main() {
    let target = if let Ok(url) = std::env::var("MCP_SERVER_URL") {
        testing::http(url)
    } else if let Ok(cmd) = std::env::var("MCP_SERVER") {
        testing::stdio(cmd.split_whitespace())
    } else {
        // The bundled reference server: `mcp-conform reference-server`.
        let exe = std::env::var("MCP_CONFORM").unwrap_or_else(|_| "target/debug/mcp-conform".into());
        testing::stdio([exe, "reference-server".into()])
    };
    // Known failures, each with a reason; a listed check that passes fails its trial.
    let expected_failures = match std::env::var("MCP_EXPECTED_FAILURES") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path).expect("the baseline file is readable");
            Some(Baseline::parse(&text, Format::of_path(&path)).expect("the baseline is valid"))
        }
        Err(_) => None,
    };
    let options = Options { expected_failures, ..Options::default() };
    testing::main(target, options);
}

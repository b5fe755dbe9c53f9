//! The `mcp-reference-server` binary: a thin wrapper around [`mcp_reference_server::run_cli`].

fn main() -> std::process::ExitCode {
    mcp_reference_server::run_cli(std::env::args().skip(1).collect())
}

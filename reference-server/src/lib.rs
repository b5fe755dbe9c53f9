//! The bundled MCP reference server (placeholder until the real one lands).

pub fn run_cli(_args: Vec<String>) -> std::process::ExitCode {
    eprintln!("the reference server is not built yet");
    std::process::ExitCode::from(2)
}

pub fn defects() -> &'static [(&'static str, &'static str)] {
    &[]
}

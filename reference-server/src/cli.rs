//! Command-line entry point: parses arguments, builds a tokio runtime, runs a transport.
//!
//! This module must never print anything on stdout except `--list-defects` output and
//! clap's help/version; everything else goes to stderr.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::defects::{Defects, TABLE};
use crate::server::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    Stdio,
    StreamableHttp,
    Sse,
}

#[derive(Debug, Parser)]
#[command(
    name = "reference-server",
    about = "The reference MCP server of mcp-conform (with injectable defects)",
    version
)]
struct Cli {
    /// Transport to serve.
    #[arg(long, value_enum, default_value = "stdio")]
    transport: Transport,
    /// Address to bind for HTTP transports (the bound URL is printed on stderr).
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: String,
    /// Inject a defect (repeatable); see --list-defects.
    #[arg(long = "defect", value_name = "NAME")]
    defects: Vec<String>,
    /// Print every defect (name, two spaces, description) and exit.
    #[arg(long)]
    list_defects: bool,
    /// HTTP only: be an OAuth resource server with a local issuer (RFC 9728 metadata,
    /// RFC 8414 issuer metadata, a client_credentials token endpoint at /token).
    #[arg(long)]
    auth: bool,
    /// With --auth: the secret of the issuer's one client (`mcp-conform`); random and
    /// printed on stderr when absent.
    #[arg(long, value_name = "SECRET", requires = "auth")]
    auth_client_secret: Option<String>,
    /// HTTP: at most this many open sessions (an initialize beyond it gets 503).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    max_sessions: u32,
    /// HTTP: end a session after this many seconds without a request (and without an
    /// open GET stream).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    session_idle_secs: u64,
    /// HTTP: request bodies larger than this get 413.
    #[arg(long, default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..))]
    max_body_bytes: u64,
    /// Items per page of list results.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    page_size: u16,
}

/// Runs the server CLI with `args` (without a program name); returns the exit code.
pub fn run_cli(args: Vec<String>) -> ExitCode {
    let cli = match Cli::try_parse_from(std::iter::once("reference-server".to_string()).chain(args))
    {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(code.clamp(0, 255) as u8);
        }
    };
    if cli.list_defects {
        let mut out = String::new();
        for (name, desc) in TABLE {
            out.push_str(&format!("{name}  {desc}\n"));
        }
        // Not print!: a closed stdout (`| head`) must not panic.
        use std::io::Write as _;
        let _ = std::io::stdout().write_all(out.as_bytes());
        return ExitCode::SUCCESS;
    }
    let defects = match Defects::parse(&cli.defects) {
        Ok(d) => d,
        Err(name) => {
            note!(
                "error: unknown defect {name:?} (run with --list-defects to see all defects)"
            );
            return ExitCode::from(2);
        }
    };
    // Called from inside an async runtime (e.g. an async `main`)? Run on a fresh thread,
    // since a runtime cannot be started from within another.
    if tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::spawn(move || serve(cli, defects))
            .join()
            .unwrap_or(ExitCode::from(1));
    }
    serve(cli, defects)
}

fn serve(cli: Cli, defects: Defects) -> ExitCode {
    let config = Arc::new(Config {
        defects,
        page_size: cli.page_size as usize,
        ..Config::default()
    });
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            note!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    if cli.auth && cli.transport == Transport::Stdio {
        note!("error: --auth needs an HTTP transport (--transport streamable-http or sse)");
        return ExitCode::from(2);
    }
    let result = rt.block_on(async move {
        match cli.transport {
            Transport::Stdio => crate::stdio::serve_stdio(config).await,
            Transport::StreamableHttp | Transport::Sse => {
                let listener = tokio::net::TcpListener::bind(&cli.bind).await?;
                let addr = listener.local_addr()?;
                let path = if cli.transport == Transport::Sse {
                    "sse"
                } else {
                    "mcp"
                };
                let mut options = crate::http::HttpOptions {
                    max_sessions: cli.max_sessions as usize,
                    session_idle: Duration::from_secs(cli.session_idle_secs),
                    max_body_bytes: usize::try_from(cli.max_body_bytes).unwrap_or(usize::MAX),
                    ..crate::http::HttpOptions::default()
                };
                let mut auth_note = None;
                if cli.auth {
                    let secret = cli
                        .auth_client_secret
                        .clone()
                        .unwrap_or_else(|| crate::random_token(16));
                    let auth = crate::auth::Auth::new(format!("http://{addr}"), secret.clone());
                    auth_note = Some(format!(
                        "auth: issuer {} (token endpoint {}/token), client_id {} client_secret {secret}",
                        auth.issuer(),
                        auth.issuer(),
                        crate::auth::CLIENT_ID
                    ));
                    options.auth = Some(Arc::new(auth));
                }
                // The URL line comes first: tools read the first URL on stderr.
                note!("listening on http://{addr}/{path}");
                if let Some(note) = auth_note {
                    note!("{note}");
                }
                crate::http::serve_http_with(config, listener, options).await
            }
        }
    });
    rt.shutdown_timeout(Duration::from_millis(10));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("error: {e}");
            ExitCode::from(1)
        }
    }
}

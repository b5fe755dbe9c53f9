//! Targets: which server a run drives, and how to open a fresh connection to it.
//!
//! This is where transports are chosen and constructed; nothing here judges messages.

use crate::spec::TransportKind;
use crate::transcript::Transcript;
use crate::transport::Transport;
use crate::transport::http::DEFAULT_MAX_BODY_BYTES;
use crate::transport::in_process::InProcessTransport;
use crate::transport::sse::SseTransport;
use crate::transport::stdio::{DEFAULT_MAX_LINE_BYTES, StdioConfig, StdioTransport};
use crate::transport::streamable_http::{HttpConfig, StreamableHttpTransport};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Target {
    /// Spawn `command` and speak newline-delimited JSON-RPC over its stdio.
    Stdio { command: Vec<String>, env: Vec<(String, String)> },
    /// The bundled reference server, without defects, run in-process with stdio
    /// framing over an in-memory pipe: a fresh server per session, no process start.
    InProcess,
    /// An HTTP endpoint, over Streamable HTTP or the legacy HTTP+SSE transport.
    /// `tokens`: extra test tokens by kind (`wrong-audience`, `insufficient-scope`) for
    /// the authorization checks; only those cases send them.
    Http { url: String, transport: TransportKind, headers: Vec<(String, String)>, tokens: Vec<(String, String)> },
}

impl Target {
    pub fn transport_kind(&self) -> TransportKind {
        match self {
            Target::Stdio { .. } | Target::InProcess => TransportKind::Stdio,
            Target::Http { transport, .. } => *transport,
        }
    }

    /// Secrets to redact from transcripts: the values of auth-like headers.
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Target::Stdio { .. } | Target::InProcess => Vec::new(),
            Target::Http { headers, tokens, .. } => headers
                .iter()
                .filter(|(k, _)| is_secret_header(k))
                .flat_map(|(_, v)| {
                    let token = v.split_once(' ').map(|(_, t)| t.to_string());
                    std::iter::once(v.clone()).chain(token)
                })
                .chain(tokens.iter().map(|(_, t)| t.clone()))
                .collect(),
        }
    }

    /// Open a fresh session. `timeout` bounds writes (stdio) and every HTTP wait.
    pub async fn open(&self, transcript: Transcript, timeout: Duration) -> Result<Box<dyn Transport>, String> {
        match self {
            Target::Stdio { command, env } => {
                let config = StdioConfig {
                    command: command.clone(),
                    env: env.clone(),
                    max_line_bytes: DEFAULT_MAX_LINE_BYTES,
                    write_timeout: timeout,
                };
                Ok(Box::new(StdioTransport::spawn(&config, transcript)?))
            }
            Target::InProcess => Ok(Box::new(InProcessTransport::start(transcript, timeout))),
            Target::Http { url, transport, headers, tokens } => {
                let config = HttpConfig {
                    url: url.clone(),
                    headers: headers.clone(),
                    timeout,
                    max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                    tokens: tokens.clone(),
                };
                match transport {
                    TransportKind::Sse => Ok(Box::new(SseTransport::open(&config, transcript).await?)),
                    _ => Ok(Box::new(StreamableHttpTransport::open(&config, transcript).await?)),
                }
            }
        }
    }
}

pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization" || n == "proxy-authorization" || n == "cookie" || n.contains("token") || n.contains("api-key") || n.contains("secret")
}

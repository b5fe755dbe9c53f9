//! HTTP transports (Streamable HTTP at `/mcp`, legacy HTTP+SSE at `/sse`). Being written.

use std::sync::Arc;

use crate::server::Config;

/// Serves HTTP on `listener` until the process ends.
pub async fn serve_http(_config: Arc<Config>, _listener: tokio::net::TcpListener) -> std::io::Result<()> {
    Err(std::io::Error::other("HTTP transports are not implemented yet"))
}

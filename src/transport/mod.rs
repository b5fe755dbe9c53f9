//! Transports: how frames reach a server and come back. Each transport does IO and
//! nothing else: it writes the bytes it is given, reads framed bytes, records both in
//! the transcript, and reports what happened at the edges (timeouts, closed streams,
//! over-long or undecodable frames, process exit, HTTP status).
//!
//! Must never parse, repair or drop a message: classification and judgement belong
//! to `wire` and `check`.

pub mod stdio;

use crate::transcript::Transcript;
use async_trait::async_trait;
use std::time::Duration;

/// What a transport hands to the engine.
#[derive(Debug)]
pub enum Event {
    /// One framed message's bytes, exactly as received (without the frame terminator).
    Frame(Vec<u8>),
    /// Bytes that could not be framed: an over-long line, an SSE event that broke the
    /// framing, an HTTP body of the wrong content type. Never silently dropped.
    BadFrame { raw: Vec<u8>, reason: String },
    /// The server's output ended (process exit, connection closed).
    Closed { reason: String },
    /// Nothing arrived within the wait.
    Timeout,
}

/// Why sending failed: the server is gone or refused the bytes.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// The outcome of ending a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReport {
    /// stdio: the process exited by itself after stdin closed, within the grace period.
    /// HTTP: the session ended as asked (DELETE accepted or not needed).
    pub ended_cleanly: bool,
    pub detail: String,
}

#[async_trait]
pub trait Transport: Send {
    /// Send one message's bytes (stdio adds the newline; HTTP POSTs them).
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SendError>;
    /// The next event from the server, waiting at most `wait`.
    async fn recv(&mut self, wait: Duration) -> Event;
    /// End the session politely, then forcefully; always releases every resource.
    async fn close(&mut self, grace: Duration) -> CloseReport;
    /// The transcript this transport records into.
    fn transcript(&self) -> &Transcript;
}

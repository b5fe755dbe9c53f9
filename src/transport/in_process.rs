//! The bundled reference server without a process: each session runs a fresh server
//! (fresh configuration and state, as a fresh process would have) as a task on the
//! harness's runtime, joined to the harness by an in-memory byte pipe. The bytes are the
//! stdio transport's: newline-delimited frames read by the same bounded line reader,
//! every frame recorded in the transcript; the server's diagnostics are recorded as its
//! stderr. What it saves is the process start (exec, dynamic linking, runtime start-up),
//! which was most of a default run's CPU time.
//!
//! Must never be used for a server other than the bundled one, nor take any shortcut
//! past the bytes: the engine sees exactly what a child process would have written.

use super::stdio::{CHANNEL_FRAMES, DEFAULT_MAX_LINE_BYTES, read_lines};
use super::{CloseReport, Event, SendError, Transport};
use crate::transcript::{Dir, Transcript};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, DuplexStream, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Bytes either direction may hold before the writer waits for the reader, as a pipe would.
const PIPE_BYTES: usize = 64 * 1024;

pub struct InProcessTransport {
    /// The server's "stdin"; dropping it is end of input.
    input: Option<WriteHalf<DuplexStream>>,
    events: mpsc::Receiver<Event>,
    server: JoinHandle<std::io::Result<()>>,
    transcript: Transcript,
    write_timeout: Duration,
    closed: bool,
}

impl InProcessTransport {
    /// Start a fresh bundled reference server (no defects: the run's default target).
    pub fn start(transcript: Transcript, write_timeout: Duration) -> InProcessTransport {
        let (client, server) = tokio::io::duplex(PIPE_BYTES);
        let (client_read, client_write) = tokio::io::split(client);
        let (server_read, server_write) = tokio::io::split(server);
        let (notes_tx, mut notes) = mpsc::unbounded_channel::<String>();
        let config = mcp_reference_server::Config { notes: Some(notes_tx), ..Default::default() };
        let server = tokio::spawn(mcp_reference_server::serve_io(Arc::new(config), server_read, server_write));
        transcript.note("started the bundled reference server in-process (stdio framing over an in-memory pipe)");
        let (tx, events) = mpsc::channel(CHANNEL_FRAMES);
        tokio::spawn(read_lines(client_read, tx, transcript.clone(), DEFAULT_MAX_LINE_BYTES));
        let stderr = transcript.clone();
        tokio::spawn(async move {
            while let Some(line) = notes.recv().await {
                stderr.record(Dir::Stderr, line.as_bytes());
            }
        });
        InProcessTransport { input: Some(client_write), events, server, transcript, write_timeout, closed: false }
    }
}

#[async_trait]
impl Transport for InProcessTransport {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        self.transcript.record(Dir::Out, bytes);
        let input = self.input.as_mut().ok_or_else(|| SendError("stdin already closed".into()))?;
        let mut line = Vec::with_capacity(bytes.len() + 1);
        line.extend_from_slice(bytes);
        line.push(b'\n');
        match tokio::time::timeout(self.write_timeout, input.write_all(&line)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(SendError(format!("writing to the server's input failed: {e}"))),
            Err(_) => Err(SendError(format!("the server did not read its input for {} ms", self.write_timeout.as_millis()))),
        }
    }

    async fn recv(&mut self, wait: Duration) -> Event {
        match tokio::time::timeout(wait, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => Event::Closed { reason: "the server's output is closed".into() },
            Err(_) => Event::Timeout,
        }
    }

    async fn close(&mut self, grace: Duration) -> CloseReport {
        if self.closed {
            return CloseReport { ended_cleanly: true, detail: "already closed".into() };
        }
        self.closed = true;
        // A split half does not end the pipe when dropped (the other half still owns
        // it): shut the write side down so the server reads end of input.
        if let Some(mut input) = self.input.take() {
            let _ = tokio::time::timeout(self.write_timeout, input.shutdown()).await;
        }
        self.transcript.note("closed the server's stdin");
        let report = match tokio::time::timeout(grace, &mut self.server).await {
            Ok(_) => CloseReport { ended_cleanly: true, detail: "the server ended after stdin closed".into() },
            Err(_) => {
                self.server.abort();
                CloseReport {
                    ended_cleanly: false,
                    detail: format!("the server did not end within {} ms of stdin closing; stopped", grace.as_millis()),
                }
            }
        };
        self.transcript.note(&report.detail);
        report
    }

    fn transcript(&self) -> &Transcript {
        &self.transcript
    }
}

impl Drop for InProcessTransport {
    fn drop(&mut self) {
        self.server.abort();
    }
}

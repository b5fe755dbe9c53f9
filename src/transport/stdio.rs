//! The stdio transport: spawn the server as a child process in its own process group,
//! write newline-delimited messages to its stdin, read lines from its stdout, record
//! its stderr. Every wait has a deadline; every buffer has a bound; the whole process
//! group is killed and reaped when the session ends, whatever the server does.

use super::{CloseReport, Event, SendError, Transport};
use crate::transcript::{Dir, Transcript};
use async_trait::async_trait;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// A line longer than this is a finding, not a message: it is reported as a bad frame
/// with its first bytes, and the rest of it is discarded up to the next newline.
pub const DEFAULT_MAX_LINE_BYTES: usize = 8 * 1024 * 1024;
/// Stderr bytes kept in the transcript; the rest is read and discarded.
const MAX_STDERR_BYTES: usize = 256 * 1024;
/// Frames buffered between the reader task and the engine. A full channel stops the
/// reader, which stops the server on a full pipe: memory stays bounded.
pub(super) const CHANNEL_FRAMES: usize = 256;

/// Process groups of every live server this process spawned, so an interrupted run
/// (Ctrl-C, SIGTERM) can kill them all: they run in their own groups, which a terminal's
/// signal does not reach.
static LIVE_GROUPS: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Kill every server process group still alive. Called on interruption.
pub fn kill_all_spawned() {
    let groups = LIVE_GROUPS.lock().unwrap_or_else(|p| p.into_inner());
    for pgid in groups.iter() {
        // SAFETY: plain syscall on a group we created.
        unsafe {
            libc::killpg(*pgid, libc::SIGKILL);
        }
    }
}

pub struct StdioConfig {
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub max_line_bytes: usize,
    /// How long one write may block (a server that stops reading its stdin).
    pub write_timeout: Duration,
}

pub struct StdioTransport {
    child: Child,
    pgid: Option<i32>,
    stdin: Option<ChildStdin>,
    events: mpsc::Receiver<Event>,
    transcript: Transcript,
    write_timeout: Duration,
    closed: bool,
}

impl StdioTransport {
    pub fn spawn(config: &StdioConfig, transcript: Transcript) -> Result<StdioTransport, String> {
        let (program, args) = config.command.split_first().ok_or("empty server command")?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {program:?}: {e}"))?;
        let pgid = child.id().map(|p| p as i32);
        if let Some(g) = pgid {
            LIVE_GROUPS.lock().unwrap_or_else(|p| p.into_inner()).push(g);
        }
        transcript.note(format!("spawned {:?} (pid {})", config.command, pgid.unwrap_or(-1)));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, events) = mpsc::channel(CHANNEL_FRAMES);
        tokio::spawn(read_lines(stdout, tx, transcript.clone(), config.max_line_bytes));
        tokio::spawn(read_stderr(stderr, transcript.clone()));
        Ok(StdioTransport {
            stdin: child.stdin.take(),
            child,
            pgid,
            events,
            transcript,
            write_timeout: config.write_timeout,
            closed: false,
        })
    }

    fn signal_group(&self, signal: i32) {
        if let Some(pgid) = self.pgid {
            // SAFETY: plain syscall; a stale group id fails with ESRCH, which is fine.
            unsafe {
                libc::killpg(pgid, signal);
            }
        }
    }

    async fn wait_exit(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(wait, self.child.wait()).await.ok().and_then(Result::ok)
    }
}

#[async_trait]
impl Transport for StdioTransport {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        self.transcript.record(Dir::Out, bytes);
        let stdin = self.stdin.as_mut().ok_or_else(|| SendError("stdin already closed".into()))?;
        let mut line = Vec::with_capacity(bytes.len() + 1);
        line.extend_from_slice(bytes);
        line.push(b'\n');
        let write = async {
            stdin.write_all(&line).await?;
            stdin.flush().await
        };
        match tokio::time::timeout(self.write_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(SendError(format!("writing to the server's stdin failed: {e}"))),
            Err(_) => Err(SendError(format!(
                "the server did not read its stdin for {} ms",
                self.write_timeout.as_millis()
            ))),
        }
    }

    async fn recv(&mut self, wait: Duration) -> Event {
        match tokio::time::timeout(wait, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => Event::Closed { reason: "the server's stdout is closed".into() },
            Err(_) => Event::Timeout,
        }
    }

    async fn close(&mut self, grace: Duration) -> CloseReport {
        if self.closed {
            return CloseReport { ended_cleanly: true, detail: "already closed".into() };
        }
        self.closed = true;
        drop(self.stdin.take());
        self.transcript.note("closed the server's stdin");
        let report = if let Some(status) = self.wait_exit(grace).await {
            CloseReport { ended_cleanly: true, detail: format!("the server exited after stdin closed ({status})") }
        } else {
            self.signal_group(libc::SIGTERM);
            let detail = match self.wait_exit(Duration::from_millis(500)).await {
                Some(status) => format!(
                    "the server did not exit within {} ms of stdin closing; it ended on SIGTERM ({status})",
                    grace.as_millis()
                ),
                None => {
                    self.signal_group(libc::SIGKILL);
                    let _ = self.child.start_kill();
                    let status = self.wait_exit(Duration::from_secs(2)).await;
                    format!(
                        "the server did not exit within {} ms of stdin closing nor on SIGTERM; killed ({})",
                        grace.as_millis(),
                        status.map(|s| s.to_string()).unwrap_or_else(|| "not reaped".into())
                    )
                }
            };
            CloseReport { ended_cleanly: false, detail }
        };
        // Grandchildren that kept the group alive go too.
        self.signal_group(libc::SIGKILL);
        self.transcript.note(&report.detail);
        report
    }

    fn transcript(&self) -> &Transcript {
        &self.transcript
    }
}

impl Drop for StdioTransport {
    fn drop(&mut self) {
        // kill_on_drop reaps the child; the group kill reaches its descendants.
        self.signal_group(libc::SIGKILL);
        if let Some(g) = self.pgid {
            LIVE_GROUPS.lock().unwrap_or_else(|p| p.into_inner()).retain(|x| *x != g);
        }
    }
}

/// Split stdout into lines, bounded. Each complete line becomes a `Frame` (or a
/// `BadFrame` when over-long); a last line without newline is reported too.
pub(super) async fn read_lines<R: AsyncRead + Unpin>(
    mut out: R,
    tx: mpsc::Sender<Event>,
    transcript: Transcript,
    max_line: usize,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut overflow: Option<usize> = None; // bytes seen of an over-long line
    loop {
        let n = match out.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Event::Closed { reason: format!("reading stdout failed: {e}") }).await;
                return;
            }
        };
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            let newline = chunk.iter().position(|&b| b == b'\n');
            let (part, rest, complete) = match newline {
                Some(i) => (&chunk[..i], &chunk[i + 1..], true),
                None => (chunk, &chunk[chunk.len()..], false),
            };
            chunk = rest;
            match overflow.as_mut() {
                Some(seen) => *seen += part.len(),
                None if line.len() + part.len() > max_line => {
                    // Keep a prefix as evidence; count the rest without storing it.
                    overflow = Some(line.len() + part.len());
                    line.extend_from_slice(part);
                    line.truncate(crate::transcript::MAX_ENTRY_BYTES);
                }
                None => line.extend_from_slice(part),
            }
            if complete {
                let event = finish_line(std::mem::take(&mut line), overflow.take(), max_line, &transcript);
                if tx.send(event).await.is_err() {
                    return;
                }
            }
        }
    }
    if !line.is_empty() || overflow.is_some() {
        let mut event = finish_line(std::mem::take(&mut line), overflow.take(), max_line, &transcript);
        if let Event::Frame(raw) = event {
            event = Event::BadFrame { raw, reason: "the last line on stdout has no terminating newline".into() };
        }
        let _ = tx.send(event).await;
    }
    let _ = tx.send(Event::Closed { reason: "the server closed its stdout".into() }).await;
}

fn finish_line(line: Vec<u8>, overflow: Option<usize>, max_line: usize, transcript: &Transcript) -> Event {
    transcript.record(Dir::In, &line);
    match overflow {
        Some(seen) => Event::BadFrame {
            raw: line,
            reason: format!("a line on stdout is longer than the {max_line}-byte bound (at least {seen} bytes)"),
        },
        None => Event::Frame(line),
    }
}

async fn read_stderr<R: AsyncRead + Unpin>(mut err: R, transcript: Transcript) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut kept = 0usize;
    loop {
        let n = match err.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if kept >= MAX_STDERR_BYTES {
            continue; // keep draining so the server never blocks on a full stderr pipe
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            kept += line.len();
            transcript.record(Dir::Stderr, &line[..line.len() - 1]);
        }
        if pending.len() > crate::transcript::MAX_ENTRY_BYTES {
            kept += pending.len();
            transcript.record(Dir::Stderr, &pending);
            pending.clear();
        }
        if kept >= MAX_STDERR_BYTES {
            transcript.note(format!("stderr beyond {MAX_STDERR_BYTES} bytes not kept"));
        }
    }
    if !pending.is_empty() && kept < MAX_STDERR_BYTES {
        transcript.record(Dir::Stderr, &pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(input: &[u8], max: usize) -> Vec<Event> {
        let (tx, mut rx) = mpsc::channel(64);
        read_lines(input, tx, Transcript::default(), max).await;
        let mut out = Vec::new();
        while let Some(e) = rx.recv().await {
            out.push(e);
        }
        out
    }

    #[tokio::test]
    async fn frames_lines_and_reports_overlong_and_unterminated() {
        let events = lines_of(b"{\"a\":1}\nxxxxxxxxxxxxxxxxxxxx\n{}\ntail", 10).await;
        assert!(matches!(&events[0], Event::Frame(f) if f == b"{\"a\":1}"));
        assert!(matches!(&events[1], Event::BadFrame { reason, .. } if reason.contains("longer")));
        assert!(matches!(&events[2], Event::Frame(f) if f == b"{}"));
        assert!(matches!(&events[3], Event::BadFrame { reason, .. } if reason.contains("no terminating newline")));
        assert!(matches!(&events[4], Event::Closed { .. }));
    }

    #[tokio::test]
    async fn server_that_ignores_stdin_close_is_killed() {
        let config = StdioConfig {
            command: vec!["sh".into(), "-c".into(), "trap '' TERM; while true; do sleep 1; done".into()],
            env: vec![],
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            write_timeout: Duration::from_secs(1),
        };
        let mut t = StdioTransport::spawn(&config, Transcript::default()).unwrap();
        let started = std::time::Instant::now();
        let report = t.close(Duration::from_millis(100)).await;
        assert!(!report.ended_cleanly, "{report:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}

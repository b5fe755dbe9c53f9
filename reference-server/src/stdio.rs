//! The stdio transport: newline-delimited JSON-RPC over stdin/stdout.
//!
//! Reads lines as bytes (a line that is not UTF-8 is a parse error, answered by the
//! core), writes every outgoing message as one line of compact JSON. stdout carries
//! nothing but JSON-RPC messages; diagnostics go to stderr. At EOF on stdin the server
//! lets in-flight work finish for a moment, flushes, and returns. This module must never
//! interpret messages: that is the core's job.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::defects::Defect;
use crate::server::{Config, Connection, Outgoing};

/// How long in-flight requests may still finish after stdin closed.
const EOF_GRACE: Duration = Duration::from_millis(100);

/// Serves one connection over the process's stdin/stdout.
pub async fn serve_stdio(config: Arc<Config>) -> std::io::Result<()> {
    serve_io(config, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves one connection over any byte streams (used by tests with in-memory pipes).
pub async fn serve_io<R, W>(config: Arc<Config>, reader: R, mut writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let defects = config.defects;
    if defects.has(Defect::StdoutBanner) {
        writer.write_all(b"mcp-reference-server ready\n").await?;
        writer.flush().await?;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let pretty = defects.has(Defect::EmbeddedNewline);
    let latin1 = defects.has(Defect::StdoutLatin1);
    let write_one = move |msg: &serde_json::Value| -> Vec<u8> {
        let mut line = if pretty {
            serde_json::to_vec_pretty(msg)
        } else {
            serde_json::to_vec(msg)
        }
        .unwrap_or_default();
        if latin1 {
            // A stdout opened with a legacy code page: one byte per character.
            let text = String::from_utf8_lossy(&line).into_owned();
            line = text.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect();
        }
        line.push(b'\n');
        line
    };
    let mut writer = tokio::io::BufWriter::with_capacity(16 * 1024, writer);
    let writer_task = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                m = rx.recv() => match m {
                    Some(m) if m.message.is_null() => {}
                    Some(m) => {
                        if writer.write_all(&write_one(&m.message)).await.is_err() { return; }
                        // Whatever else is ready goes out with the same flush: one
                        // write to the pipe per burst instead of one per message.
                        while let Ok(m) = rx.try_recv() {
                            if m.message.is_null() { continue; }
                            if writer.write_all(&write_one(&m.message)).await.is_err() { return; }
                        }
                        if writer.flush().await.is_err() { return; }
                    }
                    None => break,
                },
                _ = &mut stop_rx => {
                    while let Ok(m) = rx.try_recv() {
                        if m.message.is_null() { continue; }
                        if writer.write_all(&write_one(&m.message)).await.is_err() { return; }
                    }
                    break;
                }
            }
        }
        let _ = writer.flush().await;
    });

    let conn = Connection::new(config.clone(), tx);
    let mut reader = BufReader::new(reader);
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) => break,
            Ok(_) => {
                let mut l: &[u8] = &line;
                while let [rest @ .., b'\n' | b'\r'] = l {
                    l = rest;
                }
                conn.handle_bytes(l);
            }
            Err(e) => {
                config.note(format!("[mcp-reference-server] stdin read error: {e}"));
                break;
            }
        }
    }
    if defects.has(Defect::IgnoreStdinClose) {
        config.note("[mcp-reference-server] stdin closed; staying alive (defect ignore-stdin-close)".into());
        futures_util::future::pending::<()>().await;
    }
    let deadline = Instant::now() + EOF_GRACE;
    while conn.has_inflight() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    conn.close();
    let _ = stop_tx.send(());
    let _ = writer_task.await;
    Ok(())
}

//! Hostile HTTP servers: `mcp-conform run --url` must survive anything a server does.
//!
//! Each trial serves one hostile mode from a raw TCP server inside this test process (so
//! the bytes on the wire are exactly what the mode says), runs the real CLI against it
//! with one protocol version, two cases and a short timeout, and asserts that the run
//! ends in bounded time with exit code 1, that the JSON report was written with a
//! finding, and that the harness's peak memory stayed bounded (read from the child's
//! rusage). The measured time and memory are printed (`--nocapture`).

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const EXE: &str = env!("CARGO_BIN_EXE_mcp-conform");
const TIMEOUT_MS: u64 = 1000;
/// Peak resident memory the harness may reach against any mode.
const MAX_RSS_KB: i64 = 256 * 1024;

/// Modes: what the server does with every POST that carries a request (notifications
/// get 202). `-after-init` modes answer `initialize` properly first.
const MODES: &[&str] = &[
    "never-answers",
    "endless-sse",
    "endless-sse-after-init",
    "slow-drip",
    "slow-drip-after-init",
    "redirect-loop",
    "wrong-content-type",
    "huge-body",
    "endless-body",
    "garbage-status-line",
    "sse-not-a-stream",
    "sse-no-endpoint",
    "sse-endpoint-elsewhere",
];

fn main() {
    let args = Arguments::from_args();
    let trials = MODES
        .iter()
        .map(|mode| Trial::test(format!("hostile-http/{mode}"), move || check_mode(mode)))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn check_mode(mode: &'static str) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    runtime.spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, mode));
        }
    });
    let report = std::env::temp_dir().join(format!("mcp-conform-hostile-http-{mode}-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let started = Instant::now();
    // `sse-*` modes are legacy HTTP+SSE servers (2024-11-05).
    let (path, transport, version) =
        if mode.starts_with("sse-") { ("sse", "sse", "2024-11-05") } else { ("mcp", "streamable-http", "2025-11-25") };
    let child = std::process::Command::new(EXE)
        .args(["run", "--url", &format!("http://{addr}/{path}"), "--transport", transport, "--spec-version", version])
        .args(["--filter", "lifecycle/ping", "--filter", "tools/list"])
        .args(["--timeout", &TIMEOUT_MS.to_string(), "--json"])
        .arg(&report)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start mcp-conform: {e}"))?;
    let (code, max_rss_kb) = wait_bounded(child.id() as i32, Duration::from_secs(60))?;
    let elapsed = started.elapsed();
    drop(runtime);
    println!("hostile-http/{mode}: exit {code:?}, {} ms, peak RSS {} MiB", elapsed.as_millis(), max_rss_kb / 1024);
    // One version probe: its setup may take two timeouts (an endless stream holds the
    // initialize that long), then the cases run in parallel, one timeout each; measured
    // at most ~2.05 timeouts. The bound leaves room for a loaded machine.
    let bound = Duration::from_millis(TIMEOUT_MS * 4);
    if elapsed > bound {
        return Err(format!("{mode}: the run took {elapsed:?}, more than {bound:?}").into());
    }
    if code != Some(1) {
        return Err(format!("{mode}: exit code {code:?}, expected 1 (findings)").into());
    }
    if max_rss_kb > MAX_RSS_KB {
        return Err(format!("{mode}: peak RSS {max_rss_kb} KiB over {MAX_RSS_KB} KiB").into());
    }
    let text = std::fs::read_to_string(&report).map_err(|e| format!("{mode}: no JSON report: {e}"))?;
    let _ = std::fs::remove_file(&report);
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{mode}: the report is not JSON: {e}"))?;
    let fails = v["summary"]["fail"].as_u64().unwrap_or(0);
    let first = v["results"].as_array().and_then(|r| r.iter().find(|r| r["status"] == "fail")).map(|r| format!("{}: {}", r["id"], r["message"]));
    println!("hostile-http/{mode}: {fails} failures; first {}", first.unwrap_or_default().chars().take(300).collect::<String>());
    if fails == 0 {
        return Err(format!("{mode}: the report has no failure: {}", v["summary"]).into());
    }
    Ok(())
}

/// Wait for `pid` at most `limit` (then kill it): its exit code and peak RSS (KiB).
fn wait_bounded(pid: i32, limit: Duration) -> Result<(Option<i32>, i64), String> {
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: plain syscalls on our own child; rusage is a plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            return Ok((code, usage.ru_maxrss));
        }
        if r < 0 {
            return Err(format!("wait4 failed: {}", std::io::Error::last_os_error()));
        }
        if Instant::now() > deadline {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Err(format!("mcp-conform did not end within {limit:?}; killed"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ----- the hostile server side -------------------------------------------------------

/// One HTTP/1.1 request: method, path and body (Content-Length only; bounded).
async fn read_request(socket: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut first = head.lines().next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((method, path, body))
}

async fn respond(socket: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body).await;
    let _ = socket.shutdown().await;
}

fn answer(request: &Value) -> Value {
    let result = match request["method"].as_str() {
        Some("initialize") => json!({
            "protocolVersion": request.pointer("/params/protocolVersion").cloned().unwrap_or(json!("2025-11-25")),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "hostile-http", "version": "0"}
        }),
        Some("tools/list") => json!({"tools": []}),
        _ => json!({}),
    };
    json!({"jsonrpc": "2.0", "id": request["id"], "result": result})
}

async fn serve(mut socket: TcpStream, mode: &'static str) {
    let Some((method, path, body)) = read_request(&mut socket).await else { return };
    if mode.starts_with("sse-") {
        return serve_legacy(socket, mode, &method).await;
    }
    if method != "POST" {
        // No GET stream, and DELETE is not supported: both allowed by the spec.
        respond(&mut socket, "405 Method Not Allowed", &[("allow", "POST".into())], b"").await;
        return;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if request.get("id").is_none() {
        respond(&mut socket, "202 Accepted", &[], b"").await;
        return;
    }
    let is_init = request["method"] == "initialize";
    let json_ct = ("content-type", "application/json".to_string());
    let sid = ("mcp-session-id", "hostile-session-0001".to_string());
    if is_init && mode.ends_with("-after-init") {
        let text = answer(&request).to_string();
        respond(&mut socket, "200 OK", &[json_ct, sid], text.as_bytes()).await;
        return;
    }
    let text = answer(&request).to_string();
    match mode {
        "never-answers" => {
            // Hold the connection open, reading nothing more, until the client leaves.
            let mut sink = [0u8; 1];
            let _ = socket.read(&mut sink).await;
        }
        "endless-sse" | "endless-sse-after-init" => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            // Notifications (and keep-alive comments) forever, never the response.
            let event = "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"still here\"}}\n\n: keep-alive\n\n";
            let chunk = format!("{:x}\r\n{event}\r\n", event.len());
            loop {
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        "slow-drip" | "slow-drip-after-init" => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", text.len());
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for b in text.bytes() {
                if socket.write_all(&[b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        "redirect-loop" => {
            let next = if path.ends_with("/mcp") { "/mcp2" } else { "/mcp" };
            respond(&mut socket, "307 Temporary Redirect", &[("location", next.into())], b"").await;
        }
        "wrong-content-type" => {
            let html = b"<html><body><h1>It works!</h1></body></html>";
            respond(&mut socket, "200 OK", &[("content-type", "text/html".into())], html).await;
        }
        "huge-body" => {
            // A 1 GiB JSON body (announced), streamed: a string that never closes in time.
            let total: u64 = 1 << 30;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n");
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let prefix = format!("{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{{\"pad\":\"", request["id"]);
            if socket.write_all(prefix.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'x'; 64 * 1024];
            let mut sent = prefix.len() as u64;
            while sent < total {
                if socket.write_all(&block).await.is_err() {
                    return;
                }
                sent += block.len() as u64;
            }
        }
        "endless-body" => {
            // Chunked JSON that never ends.
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = " ".repeat(16 * 1024);
            let chunk = format!("1\r\n[\r\n{:x}\r\n{block}\r\n", block.len());
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("{:x}\r\n{block}\r\n", block.len());
            loop {
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
        "garbage-status-line" => {
            let _ = socket.write_all(b"SMTP 220 hello there\r\n\r\n").await;
            let _ = socket.shutdown().await;
        }
        _ => respond(&mut socket, "200 OK", &[json_ct, sid], text.as_bytes()).await,
    }
}

/// Legacy HTTP+SSE modes: what `GET /sse` gets (POSTs are accepted and never answered).
async fn serve_legacy(mut socket: TcpStream, mode: &'static str, method: &str) {
    if method != "GET" {
        respond(&mut socket, "202 Accepted", &[], b"").await;
        return;
    }
    let stream_head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    let first = match mode {
        "sse-not-a-stream" => {
            respond(&mut socket, "200 OK", &[("content-type", "text/html".into())], b"<html>hello</html>").await;
            return;
        }
        // Comments forever, never the endpoint event.
        "sse-no-endpoint" => String::new(),
        // An endpoint on another origin: the harness must not send there.
        _ => "event: endpoint\ndata: http://elsewhere.mcp-conform.invalid/messages\n\n".to_string(),
    };
    if socket.write_all(stream_head.as_bytes()).await.is_err() {
        return;
    }
    if !first.is_empty() && socket.write_all(format!("{:x}\r\n{first}\r\n", first.len()).as_bytes()).await.is_err() {
        return;
    }
    let comment = ": waiting\n\n";
    loop {
        if socket.write_all(format!("{:x}\r\n{comment}\r\n", comment.len()).as_bytes()).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

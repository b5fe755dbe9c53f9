//! Load generator for MCP servers over stdio or Streamable HTTP: requests per second and
//! latency percentiles, with a bounded number of requests in flight (pipelined on stdio,
//! concurrent POSTs on HTTP).
//!
//! `cargo bench --bench server_load` measures the bundled reference server;
//! `cargo bench --bench server_load -- --requests 20000 --window 32 -- CMD ARGS` any
//! stdio server; `... -- --url http://127.0.0.1:PORT/mcp` any Streamable HTTP server.
//! The same load drives every server, so numbers compare.
//! Requests cycle through ping, tools/list and a tools/call of the first listed tool
//! whose input schema needs no arguments (when there is one).

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut requests = 20_000usize;
    let mut window = 32usize;
    let mut version = "2025-11-25".to_string();
    let mut command: Vec<String> = Vec::new();
    let mut url: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--requests" => { requests = args[i + 1].parse().expect("--requests N"); i += 2; }
            "--window" => { window = args[i + 1].parse().expect("--window N"); i += 2; }
            "--spec-version" => { version = args[i + 1].clone(); i += 2; }
            "--url" => { url = Some(args[i + 1].clone()); i += 2; }
            "--" => { command = args[i + 1..].to_vec(); break; }
            _ => { i += 1; }
        }
    }
    if command.is_empty() {
        command = vec![env!("CARGO_BIN_EXE_mcp-conform").to_string(), "reference-server".to_string()];
    }
    let outcome = match &url {
        Some(url) => run_http(url, requests, window.max(1), &version),
        None => run(&command, requests, window.max(1), &version),
    };
    match outcome {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("server_load: {e}");
            std::process::exit(1);
        }
    }
}

fn run(command: &[String], requests: usize, window: usize, version: &str) -> Result<String, String> {
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, Value)>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send((Instant::now(), v)).is_err() {
                    break;
                }
            }
        }
    });
    let recv = |id: i64| -> Result<(Instant, Value), String> {
        loop {
            let (t, v) = rx.recv_timeout(Duration::from_secs(10)).map_err(|_| format!("no response to {id}"))?;
            if v.get("id") == Some(&json!(id)) {
                return Ok((t, v));
            }
        }
    };
    let send = |stdin: &mut std::process::ChildStdin, v: &Value| -> Result<(), String> {
        writeln!(stdin, "{v}").map_err(|e| e.to_string())
    };
    if version < "2026-07-28" {
        send(&mut stdin, &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "server_load", "version": "0"}}}))?;
        recv(0)?;
        send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
    }
    let meta = json!({"io.modelcontextprotocol/protocolVersion": version, "io.modelcontextprotocol/clientCapabilities": {}});
    send(&mut stdin, &json!({"jsonrpc": "2.0", "id": -1, "method": "tools/list", "params": {"_meta": meta}}))?;
    let (_, tools) = recv(-1)?;
    let no_arg_tool = tools.pointer("/result/tools").and_then(Value::as_array).and_then(|ts| {
        ts.iter().find(|t| t.pointer("/inputSchema/required").and_then(Value::as_array).is_none_or(|r| r.is_empty()))
    });
    let mut kinds = vec![json!({"method": "tools/list", "params": {"_meta": meta}})];
    if version < "2026-07-28" {
        kinds.push(json!({"method": "ping"}));
    }
    if let Some(t) = no_arg_tool {
        kinds.push(json!({"method": "tools/call", "params": {"name": t["name"], "arguments": {}, "_meta": meta}}));
    }

    let mut sent_at = vec![Instant::now(); requests];
    let mut latencies = Vec::with_capacity(requests);
    let started = Instant::now();
    let mut next = 0usize;
    let mut done = 0usize;
    while done < requests {
        while next < requests && next - done < window {
            let mut msg = kinds[next % kinds.len()].clone();
            msg["jsonrpc"] = json!("2.0");
            msg["id"] = json!(next as i64 + 1);
            sent_at[next] = Instant::now();
            send(&mut stdin, &msg)?;
            next += 1;
        }
        let (t, v) = rx.recv_timeout(Duration::from_secs(10)).map_err(|_| format!("stalled after {done} responses"))?;
        if let Some(id) = v.get("id").and_then(Value::as_i64).filter(|id| *id >= 1) {
            latencies.push(t.duration_since(sent_at[id as usize - 1]));
            done += 1;
        }
    }
    let elapsed = started.elapsed();
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    Ok(summary(requests, window, elapsed, latencies, &format!("{command:?}")))
}

fn summary(requests: usize, window: usize, elapsed: Duration, mut latencies: Vec<Duration>, what: &str) -> String {
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    format!(
        "server_load: {requests} requests, window {window}, {:.0} req/s, p50 {:.1} us, p99 {:.1} us, max {:.1} us ({what})",
        requests as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        latencies.last().unwrap().as_secs_f64() * 1e6,
    )
}

/// One Streamable HTTP session; the same request mix as over stdio, `window` POSTs in
/// flight at once.
fn run_http(url: &str, requests: usize, window: usize, version: &str) -> Result<String, String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut session: Option<String> = None;
        if version < "2026-07-28" {
            let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "server_load", "version": "0"}}});
            let (headers, _) = post(&client, url, None, version, &init).await?;
            session = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_string);
            post(&client, url, session.as_deref(), version, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;
        }
        let meta = json!({"io.modelcontextprotocol/protocolVersion": version, "io.modelcontextprotocol/clientCapabilities": {}});
        let list = json!({"jsonrpc": "2.0", "id": -1, "method": "tools/list", "params": {"_meta": meta}});
        let (_, tools) = post(&client, url, session.as_deref(), version, &list).await?;
        let no_arg_tool = tools.and_then(|t| {
            t.pointer("/result/tools").and_then(Value::as_array).and_then(|ts| {
                ts.iter().find(|t| t.pointer("/inputSchema/required").and_then(Value::as_array).is_none_or(|r| r.is_empty())).cloned()
            })
        });
        let mut kinds = vec![json!({"method": "tools/list", "params": {"_meta": meta}})];
        if version < "2026-07-28" {
            kinds.push(json!({"method": "ping"}));
        }
        if let Some(t) = no_arg_tool {
            kinds.push(json!({"method": "tools/call", "params": {"name": t["name"], "arguments": {}, "_meta": meta}}));
        }
        let kinds = std::sync::Arc::new(kinds);
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..window {
            let (client, kinds, next, session, url, version) =
                (client.clone(), kinds.clone(), next.clone(), session.clone(), url.to_string(), version.to_string());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= requests {
                        return Ok::<_, String>(latencies);
                    }
                    let mut msg = kinds[n % kinds.len()].clone();
                    msg["jsonrpc"] = json!("2.0");
                    msg["id"] = json!(n as i64 + 1);
                    let sent = Instant::now();
                    let (_, answer) = post(&client, &url, session.as_deref(), &version, &msg).await?;
                    if answer.is_none() {
                        return Err(format!("no answer to request {}", n + 1));
                    }
                    latencies.push(sent.elapsed());
                }
            }));
        }
        let mut latencies = Vec::with_capacity(requests);
        for w in workers {
            latencies.extend(w.await.map_err(|e| e.to_string())??);
        }
        Ok(summary(requests, window, started.elapsed(), latencies, url))
    })
}

/// POSTs one message; the answer is the JSON body, or the first `data:` line of an SSE
/// body that carries a response.
async fn post(
    client: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    version: &str,
    msg: &Value,
) -> Result<(reqwest::header::HeaderMap, Option<Value>), String> {
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", version)
        .timeout(Duration::from_secs(10))
        .body(msg.to_string());
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    let resp = req.send().await.map_err(|e| format!("POST {url}: {e}"))?;
    let headers = resp.headers().clone();
    let sse = headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("text/event-stream"));
    let body = resp.text().await.map_err(|e| e.to_string())?;
    let answer = if sse {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|v| v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some()))
    } else {
        serde_json::from_str(&body).ok()
    };
    Ok((headers, answer))
}

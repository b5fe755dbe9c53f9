//! Load generator for MCP servers over stdio: requests per second and latency
//! percentiles, with a bounded number of requests in flight (pipelined).
//!
//! `cargo bench --bench server_load` measures the bundled reference server;
//! `cargo bench --bench server_load -- --requests 20000 --window 32 -- CMD ARGS` any
//! stdio server. The same load drives every server, so numbers compare.
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
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--requests" => { requests = args[i + 1].parse().expect("--requests N"); i += 2; }
            "--window" => { window = args[i + 1].parse().expect("--window N"); i += 2; }
            "--spec-version" => { version = args[i + 1].clone(); i += 2; }
            "--" => { command = args[i + 1..].to_vec(); break; }
            _ => { i += 1; }
        }
    }
    if command.is_empty() {
        command = vec![env!("CARGO_BIN_EXE_mcp-conform").to_string(), "reference-server".to_string()];
    }
    match run(&command, requests, window.max(1), &version) {
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
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok(format!(
        "server_load: {requests} requests, window {window}, {:.0} req/s, p50 {:.1} us, p99 {:.1} us, max {:.1} us ({:?})",
        requests as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        latencies.last().unwrap().as_secs_f64() * 1e6,
        command
    ))
}

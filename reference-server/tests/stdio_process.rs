//! Process-level tests: spawn the built binary and talk to it over stdio.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-reference-server");

fn run(args: &[&str], input: &str) -> (String, String, Option<i32>, Duration) {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("wait");
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
        out.status.code(),
        start.elapsed(),
    )
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

#[test]
fn serves_and_exits_on_eof() {
    let input = format!(
        "{INIT}\n{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}}\n{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}}\nnot json\n"
    );
    let (out, _err, code, took) = run(&[], &input);
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0]["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(lines[1]["id"], 2);
    assert_eq!(lines[2]["error"]["code"], -32700);
}

#[test]
fn list_defects_and_unknown_defect() {
    let out = Command::new(BIN).arg("--list-defects").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 20);
    for line in text.lines() {
        let (name, desc) = line
            .split_once("  ")
            .expect("name, two spaces, description");
        assert!(!name.is_empty() && !desc.is_empty());
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("initialize-wrong-version  "))
    );
    let out = Command::new(BIN)
        .args(["--defect", "no-such-defect"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-defect"));
}

#[test]
fn stdout_banner_defect() {
    let (out, _, code, _) = run(&["--defect", "stdout-banner"], &format!("{INIT}\n"));
    assert_eq!(code, Some(0));
    assert!(serde_json::from_str::<serde_json::Value>(out.lines().next().unwrap()).is_err());
}

#[test]
fn ignore_stdin_close_defect_keeps_running() {
    let mut child = Command::new(BIN)
        .args(["--defect", "ignore-stdin-close"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "should still run");
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn cancellation_over_stdio() {
    let mut child = Command::new(BIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    writeln!(stdin, "{INIT}").unwrap();
    stdout.read_line(&mut line).unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{{"name":"slow","arguments":{{"ms":3000}}}}}}"#).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/cancelled","params":{{"requestId":"s"}}}}"#
    )
    .unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":3,"method":"ping"}}"#).unwrap();
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        v["id"], 3,
        "the cancelled request must not be answered: {line}"
    );
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest}");
    assert!(child.wait().unwrap().success());
}

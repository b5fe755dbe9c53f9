//! `mcp-conform validate` on recorded traces: the exit code and the findings a user
//! reads (line, JSON pointer, the member's name), end to end through the binary.

use std::process::Command;

fn validate(file: &str) -> (i32, String) {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-conform"))
        .args(["validate", "--spec-version", "auto", &path])
        .output()
        .expect("run mcp-conform validate");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_clean_trace_exits_0() {
    let (code, out) = validate("trace-2025-06-18-clean.ndjson");
    assert_eq!(code, 0, "{out}");
    assert!(out.is_empty(), "{out}");
}

#[test]
fn tool_results_without_content_or_mime_type_are_named() {
    let (code, out) = validate("trace-2025-06-18-bad-tool-results.ndjson");
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains("line 5: /result:") && lines[0].contains("\"content\""), "{out}");
    assert!(lines[1].contains("line 7: /result/content/0:") && lines[1].contains("\"mimeType\""), "{out}");
}

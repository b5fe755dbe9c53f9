//! Randomised robustness test: thousands of random, mostly-wrong messages must never
//! make the server panic (in the core or in any task it spawns), and everything it
//! sends must be a well-formed JSON-RPC message.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::core_tests::T;

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// A tiny deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const METHODS: &[&str] = &[
    "ping",
    "initialize",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "logging/setLevel",
    "completion/complete",
    "tasks/get",
    "tasks/list",
    "tasks/cancel",
    "server/discover",
    "notifications/cancelled",
    "notifications/initialized",
    "nope",
];
const NAMES: &[&str] = &[
    "echo",
    "add",
    "slow",
    "test_sampling",
    "test_elicitation",
    "list_roots",
    "json_schema_2020_12_tool",
    "run_query",
    "test_prompt_with_arguments",
    "code_review",
    "toggle_extra_tool",
    "update_watched",
    "test_url_elicitation",
    "long_job",
    "",
];
const STRINGS: &[&str] = &[
    "",
    "x",
    "test://template/1/data",
    "test://static-text",
    "debug",
    "loud",
    "2026-07-28",
    "2025-06-18",
    "ref/prompt",
    "ref/resource",
    "é\u{0}\u{7f}",
    "=?base64?!!?=",
];

fn value(r: &mut Rng, depth: u32) -> Value {
    match r.below(if depth > 3 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(r.below(2) == 0),
        2 => json!(r.next() as i64 % 100_000),
        3 => json!((r.next() % 1000) as f64 / 7.0),
        4 => json!(r.pick(STRINGS)),
        5 => Value::Array((0..r.below(3)).map(|_| value(r, depth + 1)).collect()),
        _ => {
            let keys = [
                "name",
                "arguments",
                "uri",
                "cursor",
                "level",
                "ref",
                "argument",
                "taskId",
                "task",
                "_meta",
                "message",
                "a",
                "b",
                "ms",
                "prompt",
                "requestId",
                "protocolVersion",
                "capabilities",
                "clientInfo",
            ];
            let mut m = Map::new();
            for _ in 0..r.below(4) {
                m.insert(r.pick(&keys).to_string(), value(r, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn message(r: &mut Rng, id: i64) -> Value {
    let method = *r.pick(METHODS);
    let mut params = match value(r, 0) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if r.below(2) == 0 {
        params.insert("name".into(), json!(r.pick(NAMES)));
    }
    if method == "tools/call" && r.below(2) == 0 {
        params.insert(
            "arguments".into(),
            json!({"message": "m", "a": 1, "b": 2, "ms": r.below(30), "prompt": "p"}),
        );
    }
    if r.below(4) == 0 {
        params.insert("_meta".into(), json!({
            "io.modelcontextprotocol/protocolVersion": r.pick(&["2026-07-28", "2025-11-25", "x"]),
            "io.modelcontextprotocol/clientCapabilities": value(r, 2),
            "progressToken": value(r, 3),
        }));
    }
    let mut m = json!({"jsonrpc": "2.0", "method": method, "params": Value::Object(params)});
    match r.below(10) {
        0 => {} // notification
        1 => m["id"] = value(r, 3),
        _ => m["id"] = json!(id),
    }
    if r.below(20) == 0 {
        m["jsonrpc"] = value(r, 3);
    }
    m
}

fn well_formed(m: &Value) -> bool {
    match m {
        Value::Array(items) => !items.is_empty() && items.iter().all(well_formed),
        Value::Object(o) => {
            o.get("jsonrpc") == Some(&json!("2.0"))
                && (o.contains_key("method")
                    || (o.contains_key("id")
                        && (o.contains_key("result") ^ o.contains_key("error"))))
        }
        _ => false,
    }
}

#[tokio::test]
async fn random_messages_never_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info
            .location()
            .is_some_and(|l| l.file().ends_with(".rs") && !l.file().contains("tests"))
        {
            PANICS.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..12 {
        let mut t = T::new(&[]);
        if round % 3 != 0 {
            let version = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"][round % 4];
            t.result("initialize", json!({"protocolVersion": version, "capabilities": {"sampling": {}, "roots": {}}, "clientInfo": {"name": "f", "version": "1"}})).await;
            t.notify("notifications/initialized", None);
        }
        for i in 0..250 {
            let m = message(&mut r, i);
            if r.below(15) == 0 {
                t.send(Value::Array(vec![m.clone(), message(&mut r, i + 10_000)]));
            } else {
                t.send(m);
            }
            if r.below(25) == 0 {
                t.raw(b"{\"jsonrpc\": ");
            }
        }
        // Drain for a moment, answering nothing; everything must be well formed.
        while let Some(m) = t.nothing_within(80).await {
            assert!(well_formed(&m), "malformed output: {m}");
        }
        t.conn.close();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked");
}

//! Running a message sequence on one server session: pipelined windows, a liveness
//! probe closing each window, responses matched by id, every invariant checked.
//!
//! A window is sent in one go (no waiting between messages), then a sentinel `ping`
//! (`server/discover` for 2026-07-28); the window is complete when everything owed
//! has arrived and the sentinel is answered, or when the timeout passes. A barrier
//! message (initialize) ends its window early so that what follows it is ordered;
//! an isolated message (deep nesting, huge strings) has a window of its own.
//! All IO goes through the `Transport`.

use super::generators::{self, Catalogue, FuzzMessage, SLOW_TOOL, Tool};
use super::invariants::{Answer, SessionCheck, Sent, Violation, loose_key};
use crate::check::synth;
use crate::schema::SchemaSet;
use crate::spec::{ProtocolVersion, meta_key};
use crate::transport::http::Outgoing;
use crate::transport::{Event, Transport};
use crate::wire::{Id, Kind, Message};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct ExecConfig {
    pub version: ProtocolVersion,
    pub schemas: Arc<SchemaSet>,
    /// Per-response timeout.
    pub timeout: Duration,
    /// Messages sent before waiting for answers.
    pub window: usize,
    /// How long the server must stay quiet after the last window before the session
    /// ends (late duplicates and answers to notifications show up here).
    pub final_drain: Duration,
    pub close_grace: Duration,
    /// HTTP: each message is a POST answered on its own, in any order. A window of
    /// one message that may be answered with id null then waits for that answer (or
    /// for the transport to say none will come) before its sentinel goes out, so the
    /// answer cannot arrive after the sentinel's, in another window.
    pub concurrent_posts: bool,
}

/// What one session of a sequence produced.
#[derive(Debug, Default)]
pub struct Execution {
    pub violations: Vec<Violation>,
    /// What came back for each message (by index).
    pub answers: HashMap<usize, Vec<Answer>>,
    /// Messages of the windows started (deterministic whatever the server's timing).
    pub sent: usize,
    /// Liveness probes sent (one per window).
    pub probes: usize,
    pub died: bool,
}

/// The pipelined groups of a sequence.
pub fn windows(messages: &[FuzzMessage], size: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, m) in messages.iter().enumerate() {
        if m.isolate && start < i {
            out.push(start..i);
            start = i;
        }
        let full = i + 1 - start >= size.max(1) && !m.keep_with_next;
        if full || m.barrier || m.isolate {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < messages.len() {
        out.push(start..messages.len());
    }
    out
}

/// Run `messages` over `transport` (a fresh session), checking every invariant.
/// `stop` is asked after each window whether to go on (shrinking stops as soon as
/// the violation it looks for shows up). Does not close the transport.
pub async fn execute(
    transport: &mut dyn Transport,
    messages: &[FuzzMessage],
    cfg: &ExecConfig,
    stop: &(dyn Fn(&[Violation]) -> bool + Sync),
) -> Execution {
    let wins = windows(messages, cfg.window);
    let planned = generators::plan(messages, cfg.version, &wins);
    let mut check = SessionCheck::new(cfg.version, &cfg.schemas);
    if cfg.concurrent_posts {
        check = check.with_header_validation();
    }
    let mut out = Execution::default();
    let timeout_ms = cfg.timeout.as_millis();
    let mut stopped = false;
    'windows: for (w, range) in wins.iter().enumerate() {
        let sentinel = generators::sentinel(cfg.version, w);
        let mut sent: Vec<Sent<'_>> = range
            .clone()
            .map(|i| Sent { index: i, label: messages[i].label, method: messages[i].method.as_deref(), expects: &planned[i], sentinel: false })
            .collect();
        sent.push(Sent { index: messages.len() + w, label: "sentinel", method: sentinel.method.as_deref(), expects: &sentinel.expects, sentinel: true });
        check.open_window(w, &sent);
        // Over concurrent POSTs the sentinel's answer says nothing of the others: the
        // window also waits for every request's own exchange to end (an answer or a
        // refusal), so a refusal's body is never judged before the refusal itself.
        let mut posts = OpenPosts::of(cfg.concurrent_posts, range.clone().map(|i| &messages[i].bytes[..]));
        // Counted when the window starts: how far a dying server lets the writes go
        // is timing, and the report must not depend on it.
        out.sent += range.len();
        out.probes += 1;
        for i in range.clone() {
            if let Err(e) = transport.send(&messages[i].bytes).await {
                died_on_send(transport, &mut check, &e.0, cfg.timeout).await;
                out.died = true;
                break 'windows;
            }
        }
        if cfg.concurrent_posts && range.len() == 1 && messages[range.start].isolate && posted_as_request(&messages[range.start].bytes) {
            let deadline = Instant::now() + cfg.timeout;
            loop {
                let wait = deadline.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break;
                }
                let event = transport.recv(wait).await;
                posts.saw(&event);
                // Only this message's answer settles it: a late answer to an earlier
                // window (a cancelled slow call) must not send the sentinel early.
                let settled = match &event {
                    Event::BadFrame { .. } | Event::Unanswered { .. } => true,
                    Event::Frame(raw) => Message::parse(raw.clone()).response_id().is_some_and(|id| *id == crate::wire::Id::Null),
                    _ => false,
                };
                if !handle(transport, &mut check, event).await {
                    out.died = true;
                    break 'windows;
                }
                if settled || check.has_answer(range.start) {
                    break;
                }
            }
        }
        // What follows a barrier (initialize) must come after its answer, the sentinel
        // too: over HTTP the session id comes with that answer.
        let last = range.end - 1;
        if messages[last].barrier {
            let deadline = Instant::now() + cfg.timeout;
            while !check.answered(last) {
                let wait = deadline.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break;
                }
                if !receive(transport, &mut check, &mut posts, wait).await {
                    out.died = true;
                    break 'windows;
                }
            }
        }
        if let Err(e) = transport.send(&sentinel.bytes).await {
            died_on_send(transport, &mut check, &e.0, cfg.timeout).await;
            out.died = true;
            break;
        }
        let deadline = Instant::now() + cfg.timeout;
        while !(check.window_complete() && posts.ended()) {
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                break;
            }
            if !receive(transport, &mut check, &mut posts, wait).await {
                out.died = true;
                break 'windows;
            }
        }
        check.close_window(timeout_ms);
        if stop(&check.violations) {
            stopped = true;
            break;
        }
    }
    // A run stopped on the violation it looked for needs no quiet period.
    if !out.died && !stopped {
        // Quiet period: late answers, duplicates, answers to notifications.
        let end = Instant::now() + cfg.timeout;
        while Instant::now() < end {
            match transport.recv(cfg.final_drain).await {
                Event::Timeout => break,
                event => {
                    if !handle(transport, &mut check, event).await {
                        out.died = true;
                        break;
                    }
                }
            }
        }
    }
    if out.died {
        // What a dead server still owed is not a finding of its own.
        check.abandon();
    }
    check.finish();
    out.violations = check.violations;
    out.answers = check.answers;
    out
}

/// Whether the HTTP transport posts these bytes as a request (answered in the POST's
/// response, or reported unanswered), rather than as a notification or response
/// (taken or refused before `send` returns); as `transport::http::Outgoing` decides.
fn posted_as_request(bytes: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(o)) => {
            let method = o.get("method").is_some_and(Value::is_string);
            (method && o.contains_key("id")) || !(method || o.contains_key("result") || o.contains_key("error"))
        }
        _ => true,
    }
}

/// A send failed: the server is gone. Whether a write fails before the end of its
/// output is read is timing, so the death is reported as the output's end (with what
/// came before it), and as the failed write only when no end comes in time.
async fn died_on_send(transport: &mut dyn Transport, check: &mut SessionCheck<'_>, reason: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            check.send_failed(reason);
            return;
        }
        if !receive(transport, check, &mut OpenPosts::default(), wait).await {
            return;
        }
    }
}

/// Receive one event; false when the server is gone.
async fn receive(transport: &mut dyn Transport, check: &mut SessionCheck<'_>, posts: &mut OpenPosts, wait: Duration) -> bool {
    let event = transport.recv(wait).await;
    posts.saw(&event);
    handle(transport, check, event).await
}

/// The requests of a window whose HTTP exchange has not ended: no answer by id and no
/// refusal yet. Empty unless messages are posted concurrently.
#[derive(Default)]
struct OpenPosts {
    ids: Vec<Id>,
}

impl OpenPosts {
    fn of<'m>(concurrent: bool, messages: impl Iterator<Item = &'m [u8]>) -> OpenPosts {
        // `subscriptions/listen` opens a stream that is answered only when it ends.
        let exchange = |o: Outgoing| o.id.filter(|_| o.method.as_deref() != Some("subscriptions/listen"));
        let ids = if concurrent { messages.filter_map(|bytes| exchange(Outgoing::of(bytes))).collect() } else { Vec::new() };
        OpenPosts { ids }
    }

    fn saw(&mut self, event: &Event) {
        if self.ids.is_empty() {
            return;
        }
        let id = match event {
            Event::Unanswered { id: Some(id), .. } => Some(id.clone()),
            Event::Frame(raw) => Message::parse(raw.clone()).response_id().cloned(),
            _ => None,
        };
        // Loosely: an answer echoing the id with another JSON type ends the exchange too
        // (the checker judges the type).
        if let Some(at) = id.and_then(|id| self.ids.iter().position(|open| loose_key(open) == loose_key(&id))) {
            self.ids.swap_remove(at);
        }
    }

    fn ended(&self) -> bool {
        self.ids.is_empty()
    }
}

async fn handle(transport: &mut dyn Transport, check: &mut SessionCheck<'_>, event: Event) -> bool {
    match event {
        // A request the transport knows will go unanswered: the oracle sees the silence.
        Event::Timeout => true,
        // Over HTTP a request may be refused with an HTTP error status (a session-less
        // request gets 400): that refusal is its answer, an error.
        Event::Unanswered { id, status: Some(status), body_delivered, sessionless, .. } if (400..500).contains(&status) => {
            // Without a readable id (a batch) the transport reports no refusal once a body
            // came: that body is then judged as an id-null answer (docs/fuzzing.md).
            if let Some(id) = id {
                check.refused(&id, status, body_delivered, sessionless);
            }
            true
        }
        // Otherwise the oracle sees the silence.
        Event::Unanswered { .. } => true,
        Event::Closed { reason } => {
            check.closed(&reason);
            false
        }
        Event::BadFrame { raw, reason } => {
            check.bad_frame(&reason, &raw);
            true
        }
        Event::Frame(raw) => {
            for request in check.frame(Message::parse(raw)) {
                if let Kind::Request { id, method } = &request.kind {
                    let reply = json!({"jsonrpc": "2.0", "id": id.to_value(), "error": {
                        "code": -32601, "message": format!("mcp-conform fuzz does not answer {method}")}});
                    let _ = transport.send(&serde_json::to_vec(&reply).expect("serialisable")).await;
                }
            }
            true
        }
    }
}

// ----- catalogue discovery -----------------------------------------------------------

/// Send one request and wait for its answer (other messages are skipped).
async fn call(transport: &mut dyn Transport, version: ProtocolVersion, id: i64, method: &str, params: Value, timeout: Duration) -> Result<Value, String> {
    let params = if version.is_stateless() {
        let mut p = params;
        p["_meta"] = json!({
            meta_key::PROTOCOL_VERSION: version.as_str(),
            meta_key::CLIENT_CAPABILITIES: {},
            meta_key::CLIENT_INFO: {"name": "mcp-conform-fuzz", "version": env!("CARGO_PKG_VERSION")},
        });
        p
    } else {
        params
    };
    let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    transport.send(&serde_json::to_vec(&msg).expect("serialisable")).await.map_err(|e| e.0)?;
    let deadline = Instant::now() + timeout;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Err(format!("no answer to {method} within {} ms", timeout.as_millis()));
        }
        match transport.recv(wait).await {
            Event::Frame(raw) => {
                let m = Message::parse(raw);
                // Loosely: a server that echoes ids with the wrong type is the fuzzer's
                // finding to make, not a reason to stop before starting.
                if m.response_id().is_some_and(|rid| rid.to_string().trim_matches('"') == id.to_string()) {
                    let v = m.value.unwrap_or(Value::Null);
                    return match v.get("result") {
                        Some(r) => Ok(r.clone()),
                        None => Err(format!("{method} failed: {}", v.get("error").cloned().unwrap_or(Value::Null))),
                    };
                }
            }
            Event::Closed { reason } => return Err(reason),
            Event::Unanswered { reason, .. } => return Err(format!("no answer to {method}: {reason}")),
            Event::BadFrame { .. } | Event::Timeout => {}
        }
    }
}

/// Follow a list method's pages (at most 20) and collect its items.
async fn list_all(transport: &mut dyn Transport, version: ProtocolVersion, next_id: &mut i64, method: &str, key: &str, timeout: Duration) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<Value> = None;
    for _ in 0..20 {
        *next_id += 1;
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let Ok(result) = call(transport, version, *next_id, method, params, timeout).await else { break };
        if let Some(Value::Array(page)) = result.get(key) {
            items.extend(page.iter().cloned());
        }
        match result.get("nextCursor") {
            Some(c) if !c.is_null() && Some(c) != cursor.as_ref() => cursor = Some(c.clone()),
            _ => break,
        }
    }
    items
}

/// Learn what the server offers for `version`: its capabilities, read-only tools
/// (with arguments synthesised from their input schemas), resources and prompts.
pub async fn discover(transport: &mut dyn Transport, version: ProtocolVersion, timeout: Duration) -> Result<Catalogue, String> {
    let mut next_id = 1;
    let capabilities = if version.is_stateless() {
        call(transport, version, next_id, "server/discover", json!({}), timeout * 3).await?.get("capabilities").cloned().unwrap_or(json!({}))
    } else {
        let params = json!({
            "protocolVersion": version.as_str(),
            "capabilities": {},
            "clientInfo": {"name": "mcp-conform-fuzz", "version": env!("CARGO_PKG_VERSION")},
        });
        let result = call(transport, version, next_id, "initialize", params, timeout * 3).await?;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        transport.send(&serde_json::to_vec(&note).expect("serialisable")).await.map_err(|e| e.0)?;
        result.get("capabilities").cloned().unwrap_or(json!({}))
    };
    let mut cat = Catalogue { capabilities: capabilities.clone(), ..Catalogue::default() };
    let has = |c: &str| capabilities.get(c).is_some_and(|v| !v.is_null());
    if has("tools") {
        for tool in list_all(transport, version, &mut next_id, "tools/list", "tools", timeout).await {
            let read_only = tool.pointer("/annotations/readOnlyHint") == Some(&Value::Bool(true));
            let Some(name) = tool.get("name").and_then(Value::as_str) else { continue };
            if read_only && cat.tools.len() < 64 {
                let schema = tool.get("inputSchema").cloned().unwrap_or(json!({"type": "object"}));
                cat.tools.push(Tool { name: name.to_string(), arguments: synth::example_of(&schema), slow: false });
            }
        }
        // A tool that is slow to answer would stall every window that calls it.
        let mut slow = Vec::new();
        for tool in &cat.tools {
            next_id += 1;
            let params = json!({"name": tool.name, "arguments": tool.arguments});
            slow.push(call(transport, version, next_id, "tools/call", params, SLOW_TOOL).await.is_err());
        }
        for (tool, slow) in cat.tools.iter_mut().zip(slow) {
            tool.slow = slow;
        }
    }
    if has("resources") {
        for r in list_all(transport, version, &mut next_id, "resources/list", "resources", timeout).await {
            if let Some(uri) = r.get("uri").and_then(Value::as_str)
                && cat.resources.len() < 64 {
                    cat.resources.push(uri.to_string());
                }
        }
    }
    if has("prompts") {
        for p in list_all(transport, version, &mut next_id, "prompts/list", "prompts", timeout).await {
            let Some(name) = p.get("name").and_then(Value::as_str) else { continue };
            let mut args = serde_json::Map::new();
            for a in p.get("arguments").and_then(Value::as_array).into_iter().flatten() {
                if a.get("required") == Some(&Value::Bool(true))
                    && let Some(n) = a.get("name").and_then(Value::as_str) {
                        args.insert(n.to_string(), json!("example"));
                    }
            }
            if cat.prompts.len() < 64 {
                cat.prompts.push((name.to_string(), Value::Object(args)));
            }
        }
    }
    Ok(cat)
}

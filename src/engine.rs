//! The engine: runs one case's steps against a `Transport` and decides its verdict.
//!
//! It builds the frames to send, reads what comes back through the transport, answers
//! server-to-client requests as the case says, correlates responses with requests by
//! id (type included), validates every received message against the negotiated
//! version's schema, and evaluates the case's expectations. It has no IO of its own:
//! everything it sends or waits for goes through the `Transport` it is given, and
//! every wait has a deadline.

use crate::case::{Binding, Case, Expect, ForEachSpec, HttpSpec, Outcome, RequestSpec, Setup, Step, WaitKind};
use crate::check::session_rules::SessionRules;
use crate::check::{matchers, synth};
use crate::schema::{SchemaSet, Sender};
use crate::spec::{Level, ProtocolVersion, TransportKind, meta_key};
use crate::transport::{Event, HttpError, HttpRequest, Transport};
use crate::verdict::{Finding, Status, decide};
use crate::wire::{Id, Kind, Message};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the engine needs to know about the run it is part of.
#[derive(Clone)]
pub struct Context {
    pub version: ProtocolVersion,
    pub transport: TransportKind,
    pub schemas: Arc<SchemaSet>,
    /// Per-response timeout.
    pub timeout: Duration,
    /// How long a server may take to end after the harness closes the session.
    pub close_grace: Duration,
}

/// A case's verdict with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseVerdict {
    pub status: Status,
    pub message: String,
}

/// Why the steps stopped early.
enum Stop {
    /// Nothing to act on: the verdict is `skip` with this reason.
    Skip(String),
    /// The case cannot go on (the server is gone, a response never came). The
    /// finding is already recorded.
    Abort,
}

type Flow<T> = Result<T, Stop>;

/// Run `case` over `transport` and decide its verdict. Closes the transport.
pub async fn run_case(case: &Case, ctx: &Context, transport: &mut dyn Transport) -> CaseVerdict {
    let mut session = Session::new(case, ctx, transport);
    let flow = session.run_steps().await;
    if !session.closed {
        session.transport.close(ctx.close_grace).await;
    }
    session.take_transport_findings();
    let (status, message) = decide(&session.findings);
    match flow {
        Err(Stop::Skip(reason)) if session.findings.is_empty() => {
            session.transport.transcript().note(format!("skipped: {reason}"));
            CaseVerdict { status: Status::Skip, message: reason }
        }
        _ => CaseVerdict { status, message },
    }
}

struct Pending {
    id: Id,
    method: String,
}

struct Session<'a> {
    case: &'a Case,
    ctx: &'a Context,
    transport: &'a mut dyn Transport,
    next_id: i64,
    /// Requests sent whose response has not been consumed.
    pending: Vec<Pending>,
    /// Responses received before anyone asked for them.
    stash: Vec<Message>,
    /// Notifications and server requests received, and how many a `wait_for` consumed.
    server_messages: Vec<Message>,
    /// When each of `server_messages` arrived.
    arrivals: Vec<Instant>,
    consumed: usize,
    /// When the message the last `wait_for` took arrived (for `gap_as`).
    last_waited: Option<Instant>,
    /// How many server messages had arrived when each response arrived, and when, by its id.
    response_marks: Vec<(Id, usize, Instant)>,
    /// That count for the last response a step took: what came before it and after it.
    last_response_mark: usize,
    /// When that response arrived: windows "after the response" are measured from it.
    last_response_at: Option<Instant>,
    /// Ids (as JSON text) of responses that arrived inside a batch array (`expect.batched`).
    batched_ids: Vec<String>,
    /// The client sent `initialize` but not yet `notifications/initialized`: the server
    /// should send no request but ping meanwhile.
    awaiting_initialized: bool,
    findings: Vec<Finding>,
    bindings: BTreeMap<String, Value>,
    client_capabilities: Value,
    closed: bool,
    unique: u64,
    /// A version probe: an error answer to the setup means "unsupported", not "broken".
    probing: bool,
    rules: SessionRules,
    findings_dropped: usize,
    /// Recorded findings by (level, message): their index and how often they occurred.
    repeated: std::collections::HashMap<(Level, String), (usize, usize)>,
    /// Requests the transport says will get no response (id, HTTP status, why).
    unanswered: Vec<(Option<Id>, Option<u16>, String)>,
}

/// Findings kept per case; a server that floods invalid output is reported, not stored.
const MAX_FINDINGS: usize = 50;

/// Requests a `concurrent` for_each keeps in flight ahead of the element being judged.
const AHEAD: usize = 8;

/// A window whose time has already passed still reads what is queued for this long.
const QUEUED: Duration = Duration::from_millis(2);

impl<'a> Session<'a> {
    fn new(case: &'a Case, ctx: &'a Context, transport: &'a mut dyn Transport) -> Session<'a> {
        transport.set_protocol_version(ctx.version);
        let client_capabilities =
            case.client.capabilities.clone().unwrap_or_else(|| default_client_capabilities(ctx.version));
        let mut bindings: BTreeMap<String, Value> = transport.case_bindings().into_iter().collect();
        bindings.insert("version".to_string(), json!(ctx.version.as_str()));
        Session {
            case,
            ctx,
            transport,
            next_id: 1,
            pending: Vec::new(),
            stash: Vec::new(),
            server_messages: Vec::new(),
            arrivals: Vec::new(),
            consumed: 0,
            last_waited: None,
            response_marks: Vec::new(),
            last_response_mark: 0,
            last_response_at: None,
            batched_ids: Vec::new(),
            awaiting_initialized: false,
            findings: Vec::new(),
            bindings,
            client_capabilities,
            closed: false,
            unique: 0,
            probing: false,
            rules: SessionRules::default(),
            findings_dropped: 0,
            repeated: std::collections::HashMap::new(),
            unanswered: Vec::new(),
        }
    }

    async fn run_steps(&mut self) -> Flow<()> {
        if self.case.setup == Setup::Initialize {
            self.setup().await?;
            self.check_requirements()?;
        }
        for (index, step) in self.case.steps.iter().enumerate() {
            let label = step.label.clone().unwrap_or_else(|| format!("step {}", index + 1));
            self.transport.transcript().note(format!("{label}"));
            self.run_step(step, &label).await?;
        }
        Ok(())
    }

    // ----- setup -------------------------------------------------------------

    async fn setup(&mut self) -> Flow<()> {
        let v = self.ctx.version;
        if v.is_stateless() {
            let msg = self.request_and_wait("server/discover", Some(json!({})), true, self.setup_wait(), "setup").await?;
            let result = self.require_result(&msg, "setup: server/discover")?;
            let supported = result.get("supportedVersions").and_then(Value::as_array);
            if supported.is_some_and(|list| !list.iter().any(|s| s == v.as_str())) {
                return Err(Stop::Skip(format!("the server does not support protocol version {v}")));
            }
            self.learn_capabilities(&result);
            self.bindings.insert("init".into(), result);
            return Ok(());
        }
        let params = json!({
            "protocolVersion": v.as_str(),
            "capabilities": self.client_capabilities.clone(),
            "clientInfo": {"name": "mcp-conform", "version": env!("CARGO_PKG_VERSION")},
        });
        let msg = self.request_and_wait("initialize", Some(params), false, self.setup_wait(), "setup").await?;
        let result = self.require_result(&msg, "setup: initialize")?;
        let negotiated = result.get("protocolVersion").cloned().unwrap_or(Value::Null);
        if negotiated != json!(v.as_str()) {
            return Err(Stop::Skip(format!(
                "the server does not support protocol version {v} (it answered {negotiated})"
            )));
        }
        self.learn_capabilities(&result);
        self.bindings.insert("init".into(), result);
        self.send_notification("notifications/initialized", None).await?;
        Ok(())
    }

    /// The first answer of a session includes the server's start-up (seconds for an
    /// interpreter under load). The version probe gets two timeouts (a dead server is
    /// still found fast); a case, after the probe proved the server answers, gets three,
    /// so a loaded machine is not mistaken for a bug.
    fn setup_wait(&self) -> Duration {
        if self.probing { self.ctx.timeout * 2 } else { self.ctx.timeout * 3 }
    }

    fn learn_capabilities(&mut self, result: &Value) {
        if let Some(caps) = result.get("capabilities") {
            self.rules.on_capabilities(caps);
        }
    }

    fn require_result(&mut self, msg: &Message, what: &str) -> Flow<Value> {
        match (&msg.kind, &msg.value) {
            (Kind::Response { .. }, Some(v)) => Ok(v["result"].clone()),
            (Kind::ErrorResponse { .. }, _) if self.probing => Err(Stop::Skip(format!(
                "the server declined protocol version {}: {}",
                self.ctx.version,
                preview(&msg.raw)
            ))),
            _ => {
                self.fail(Level::Must, format!("{what} failed: {}", matchers::short(msg.value.as_ref().unwrap_or(&Value::Null))));
                Err(Stop::Abort)
            }
        }
    }

    fn check_requirements(&mut self) -> Flow<()> {
        let caps = self.bindings.get("init").and_then(|i| i.get("capabilities")).cloned().unwrap_or(Value::Null);
        for path in &self.case.requires.server_capabilities {
            // A dotted path, or a JSON pointer for keys that hold dots (extension names).
            let pointer = if path.starts_with('/') { path.clone() } else { format!("/{}", path.replace('.', "/")) };
            let present = caps.pointer(&pointer).is_some_and(|v| !v.is_null() && v != &json!(false));
            if !present {
                return Err(Stop::Skip(format!("the server does not declare the `{path}` capability")));
            }
        }
        Ok(())
    }

    // ----- steps -------------------------------------------------------------

    async fn run_step(&mut self, step: &Step, label: &str) -> Flow<()> {
        let level = step.level.unwrap_or(self.case.level);
        if let Some(req) = &step.request {
            let id = self.send_step_request(req).await?;
            if req.no_wait {
                return Ok(());
            }
            return self.finish_request(step, id, label).await;
        }
        if let Some(n) = &step.notify {
            let params = n.params.as_ref().map(|p| self.substitute(p)).transpose()?;
            let method = self.substitute_str(&n.method)?;
            return self.send_notification(&method, params).await;
        }
        if let Some(raw) = &step.raw {
            let text = self.substitute_str(raw)?;
            self.send_bytes(text.as_bytes()).await?;
            if step.expect.is_some() {
                let msg = self.await_any_response(self.ctx.timeout, label, expects_error(step)).await?;
                self.judge(step, &msg, level, label)?;
                return self.bind(step, msg.value.as_ref().unwrap_or(&Value::Null));
            }
            return Ok(());
        }
        if let Some(p) = &step.paginate {
            let params = p.params.as_ref().map(|p| self.substitute(p)).transpose()?;
            let collected = self.paginate(&p.method, params, &p.items, p.max_pages, level, label).await?;
            if let Some(expect) = &step.expect {
                self.judge_value(expect, &collected, level, label)?;
            }
            return self.bind(step, &collected);
        }
        if let Some(w) = &step.wait_for {
            let wait = w.within_ms.map(Duration::from_millis).unwrap_or(self.ctx.timeout);
            let mut filters = Vec::with_capacity(w.where_.len());
            for a in &w.where_ {
                filters.push(self.substitute_assertion(a)?);
            }
            let previous = self.last_waited;
            // Only what arrived before the last response: nothing to wait for.
            let (wait, upto) = if w.before_response { (Duration::ZERO, self.last_response_mark) } else { (wait, usize::MAX) };
            let (msg, arrived) = self.wait_for(w.kind, &w.method, &filters, upto, wait, level, label, w.skip_if_absent.as_deref()).await?;
            if let Some(name) = &w.gap_as {
                let Some(previous) = previous else {
                    self.fail(Level::Must, format!("case error: `gap_as` in {label} needs an earlier wait_for"));
                    return Err(Stop::Abort);
                };
                let gap = arrived.saturating_duration_since(previous).as_millis() as u64;
                self.transport.transcript().note(format!("{label}: {gap} ms after the previous one"));
                self.bindings.insert(name.clone(), json!(gap));
            }
            if let Some(expect) = &step.expect {
                let value = msg.value.clone().unwrap_or(Value::Null);
                self.judge_value(expect, &value, level, label)?;
            }
            return self.bind(step, msg.value.as_ref().unwrap_or(&Value::Null));
        }
        if let Some(ms) = step.no_response_ms {
            return self.expect_no_response(Duration::from_millis(ms), level, label).await;
        }
        if let Some(c) = &step.close {
            self.closed = true;
            // The case's window, but never longer than the run's timeout: every wait is bounded by it.
            let window = Duration::from_millis(c.within_ms).min(self.ctx.timeout);
            let report = self.transport.close(window).await;
            if !report.ended_cleanly {
                self.fail(level, format!("{label}: {}", report.detail));
            }
            return Ok(());
        }
        if let Some(h) = &step.http {
            return self.http_step(step, h, level, label).await;
        }
        if let Some(f) = &step.for_each {
            return self.for_each(f, label).await;
        }
        if let Some(n) = &step.no_notification {
            let mut filters = Vec::with_capacity(n.where_.len());
            for a in &n.where_ {
                filters.push(self.substitute_assertion(a)?);
            }
            let from = if n.after_response {
                self.last_response_mark
            } else if n.new_only {
                self.server_messages.len()
            } else {
                self.consumed
            };
            let window = match &n.scale {
                None => n.within_ms,
                Some(scale) => {
                    let Some(ms) = self.lookup(&scale.by)?.as_u64() else {
                        self.fail(Level::Must, format!("case error: `{}` is not a number of milliseconds", scale.by));
                        return Err(Stop::Abort);
                    };
                    let window = ms.saturating_mul(scale.times).clamp(scale.min_ms.min(n.within_ms), n.within_ms);
                    self.transport.transcript().note(format!("{label}: a window of {window} ms"));
                    window
                }
            };
            let window = Duration::from_millis(window).min(self.ctx.timeout);
            // After a response, the window runs from its arrival (it may have waited in
            // the stash while other elements were judged); what is already queued is
            // still read.
            let deadline = match self.last_response_at.filter(|_| n.after_response) {
                Some(arrived) => (arrived + window).max(Instant::now() + QUEUED),
                None => Instant::now() + window,
            };
            return self.no_notification(&n.method, &filters, from, deadline, level, label).await;
        }
        if let Some(v) = &step.value {
            let value = self.substitute(v)?;
            self.skip_unless(step, &value)?;
            if let Some(expect) = &step.expect {
                self.judge_value(expect, &value, level, label)?;
            }
            return self.bind(step, &value);
        }
        if let Some(ms) = step.sleep_ms {
            let until = Instant::now() + Duration::from_millis(ms);
            while Instant::now() < until {
                self.pump(until).await?;
            }
        }
        Ok(())
    }

    /// Send a `request` step's message (parameters substituted now); its id, if tracked.
    async fn send_step_request(&mut self, req: &RequestSpec) -> Flow<Option<Id>> {
        let params = req.params.as_ref().map(|p| self.substitute(p)).transpose()?;
        let explicit_id = req.id.as_ref().map(|i| self.substitute(i)).transpose()?;
        let method = self.substitute_str(&req.method)?;
        self.send_request(&method, params, explicit_id, req.meta).await
    }

    /// The rest of a `request` step once its message is sent: take the answer, judge it, bind.
    async fn finish_request(&mut self, step: &Step, id: Option<Id>, label: &str) -> Flow<()> {
        let level = step.level.unwrap_or(self.case.level);
        let refusal_ok = expects_error(step);
        let msg = match id {
            Some(id) => self.await_response(&id, self.ctx.timeout, label, refusal_ok).await?,
            None => self.await_any_response(self.ctx.timeout, label, refusal_ok).await?,
        };
        self.skip_unless(step, msg.value.as_ref().unwrap_or(&Value::Null))?;
        self.judge(step, &msg, level, label)?;
        self.bind(step, msg.value.as_ref().unwrap_or(&Value::Null))
    }

    /// `for_each`: the nested steps once per matching element of a bound array, with
    /// the element bound under `as`. Nothing matching is a skip: a rule exercised on
    /// nothing has not passed.
    async fn for_each(&mut self, f: &ForEachSpec, label: &str) -> Flow<()> {
        let items = match self.lookup(&f.in_)? {
            Value::Array(items) => items,
            other => {
                self.fail(Level::Must, format!("case error: `{}` is not an array: {}", f.in_, matchers::short(&other)));
                return Err(Stop::Abort);
            }
        };
        let mut filters = Vec::with_capacity(f.where_.len());
        for a in &f.where_ {
            filters.push(self.substitute_assertion(a)?);
        }
        let items: Vec<Value> = items.into_iter().filter(|item| matchers::satisfies(item, &filters)).take(f.max).collect();
        // `concurrent`: the first step's requests go out ahead, at most AHEAD in flight,
        // so independent calls overlap instead of queueing behind the slowest.
        let ahead = if f.concurrent { f.steps.first().and_then(|s| s.request.as_ref()) } else { None };
        let mut sent: Vec<Option<Id>> = Vec::new();
        let (mut visited, mut completed, mut last_skip) = (0, 0, None);
        'items: for (index, item) in items.iter().enumerate() {
            visited += 1;
            if let Some(req) = ahead {
                while sent.len() < items.len().min(index + AHEAD) {
                    self.bindings.insert(f.as_.clone(), items[sent.len()].clone());
                    sent.push(self.send_step_request(req).await?);
                }
            }
            let name = ["name", "uri", "uriTemplate"]
                .iter()
                .find_map(|k| item.get(*k).and_then(Value::as_str))
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{visited}"));
            self.bindings.insert(f.as_.clone(), item.clone());
            for (i, step) in f.steps.iter().enumerate() {
                let inner = step.label.clone().unwrap_or_else(|| format!("step {}", i + 1));
                let sub = format!("{label} [{} {name}] {inner}", f.as_);
                self.transport.transcript().note(sub.clone());
                let outcome = if i == 0 && ahead.is_some() {
                    Box::pin(self.finish_request(step, sent[index].take(), &sub)).await
                } else {
                    Box::pin(self.run_step(step, &sub)).await
                };
                match outcome {
                    Ok(()) => {}
                    // The rule does not apply to this element: go on with the next.
                    Err(Stop::Skip(reason)) => {
                        self.transport.transcript().note(format!("{sub}: not applicable: {reason}"));
                        last_skip = Some(reason);
                        continue 'items;
                    }
                    Err(stop) => return Err(stop),
                }
            }
            completed += 1;
            if f.first {
                break;
            }
        }
        if completed == 0 {
            // The case's `skip` says why nothing was listed; when elements were visited
            // and none applied, their own reason is the true one.
            let reason = match (last_skip, &f.skip) {
                (Some(r), _) if visited > 0 => format!("{r} ({visited} visited)"),
                (_, Some(s)) => s.clone(),
                _ => format!("nothing to act on: no element of `{}` matches", f.in_),
            };
            return Err(Stop::Skip(reason));
        }
        Ok(())
    }

    /// `no_notification`: no notification of `method` (satisfying `where`, if given) is
    /// waiting unconsumed, and none arrives in the window.
    async fn no_notification(&mut self, method: &str, filters: &[crate::case::Assertion], from: usize, deadline: Instant, level: Level, label: &str) -> Flow<()> {
        loop {
            let seen = self.server_messages[from.max(self.consumed)..]
                .iter()
                .find(|m| {
                    m.method() == Some(method)
                        && matches!(m.kind, Kind::Notification { .. })
                        && m.value.as_ref().is_some_and(|v| matchers::satisfies(v, filters))
                })
                .map(|m| preview(&m.raw));
            if let Some(text) = seen {
                self.fail(level, format!("{label}: expected no {method} notification, got {text}"));
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Ok(());
            }
            if let Some(msg) = self.pump(deadline).await? {
                self.file_response(msg);
            }
        }
    }

    /// `skip_unless`: the rule does not apply to what the server chose.
    fn skip_unless(&mut self, step: &Step, value: &Value) -> Flow<()> {
        let Some(s) = &step.skip_unless else { return Ok(()) };
        for a in &s.assert {
            let a = self.substitute_assertion(a)?;
            if !matchers::satisfies(value, std::slice::from_ref(&a)) {
                return Err(Stop::Skip(s.because.clone()));
            }
        }
        Ok(())
    }

    /// A raw HTTP exchange: the expectations judge the HTTP response as a JSON value.
    async fn http_step(&mut self, step: &Step, h: &HttpSpec, level: Level, label: &str) -> Flow<()> {
        let mut headers = Vec::new();
        for (k, v) in &h.headers {
            let v = v.as_ref().map(|v| self.substitute_str(v)).transpose()?;
            headers.push((k.clone(), v));
        }
        let body = match (&h.body, &h.body_raw) {
            (Some(b), _) => {
                let mut b = self.substitute(b)?;
                let is_request = b.get("method").is_some() && b.get("id").is_some();
                if h.meta && is_request && self.ctx.version.is_stateless() {
                    b["params"] = self.with_meta(b.get("params").cloned());
                }
                Some(serde_json::to_vec(&b).expect("a Value always serialises"))
            }
            (None, Some(raw)) => Some(self.substitute_str(raw)?.into_bytes()),
            (None, None) => None,
        };
        let read_window = h.read_ms.map(Duration::from_millis).unwrap_or(self.ctx.timeout).min(self.ctx.timeout);
        // The URLs to try: the session's own (None), or candidates whose names are bound.
        let urls: Vec<Option<String>> = match &h.url {
            None => vec![None],
            Some(spec) => {
                let urls: Vec<_> = spec.candidates().iter().filter_map(|u| self.substitute_bound(u)).map(Some).collect();
                if urls.is_empty() {
                    return Err(Stop::Skip(format!("{label}: no URL to request (every candidate names an unbound value)")));
                }
                urls
            }
        };
        let mut last = None;
        for (i, url) in urls.iter().enumerate() {
            let request = HttpRequest {
                method: h.method.to_ascii_uppercase(),
                headers: headers.clone(),
                body: body.clone(),
                read_window,
                stop_at_response: h.stop_at_response,
                url: url.clone(),
            };
            let result = self.transport.http_exchange(request).await;
            self.take_transport_findings();
            let more = i + 1 < urls.len();
            match result {
                Ok(r) if r.status == 404 && more => continue,
                Ok(r) => {
                    last = Some(r);
                    break;
                }
                Err(HttpError::NotHttp) => {
                    return Err(Stop::Skip(format!("{label} is an HTTP check; the {} transport has no HTTP", self.ctx.transport)));
                }
                Err(HttpError::Failed(_)) if more => continue,
                Err(HttpError::Failed(e)) => {
                    self.fail(level, format!("{label}: the HTTP request failed: {e}"));
                    return Err(Stop::Abort);
                }
            }
        }
        let Some(response) = last else {
            self.fail(level, format!("{label}: no HTTP answer"));
            return Err(Stop::Abort);
        };
        let value = response.to_value();
        self.skip_unless(step, &value)?;
        if let Some(expect) = &step.expect {
            self.judge_value(expect, &value, level, label)?;
        }
        self.bind(step, &value)
    }

    // ----- sending -----------------------------------------------------------

    async fn send_bytes(&mut self, bytes: &[u8]) -> Flow<()> {
        let sent = self.transport.send(bytes).await;
        self.take_transport_findings();
        match sent {
            Ok(()) => Ok(()),
            Err(e) => {
                self.fail(Level::Must, format!("cannot send to the server: {e}"));
                Err(Stop::Abort)
            }
        }
    }

    async fn send_value(&mut self, value: &Value) -> Flow<()> {
        let bytes = serde_json::to_vec(value).expect("a Value always serialises");
        self.send_bytes(&bytes).await
    }

    /// Send a request; returns the id to await, or None when the id is not one a
    /// response could be correlated by (a deliberately invalid id).
    async fn send_request(
        &mut self,
        method: &str,
        params: Option<Value>,
        explicit_id: Option<Value>,
        meta: bool,
    ) -> Flow<Option<Id>> {
        let id_value = explicit_id.unwrap_or_else(|| {
            let id = self.next_id;
            self.next_id += 1;
            json!(id)
        });
        let params = if meta && self.ctx.version.is_stateless() { Some(self.with_meta(params)) } else { params };
        if method == "initialize" {
            self.awaiting_initialized = true;
        }
        self.rules.on_request_sent(method, params.as_ref());
        let mut msg = json!({"jsonrpc": "2.0", "id": id_value.clone(), "method": method});
        if let Some(p) = params {
            msg["params"] = p;
        }
        self.send_value(&msg).await?;
        let id = match &id_value {
            Value::String(_) => Id::from_value(&id_value),
            Value::Number(n) if n.is_i64() || n.is_u64() => Id::from_value(&id_value),
            _ => None,
        };
        if let Some(id) = &id {
            self.pending.push(Pending { id: id.clone(), method: method.to_string() });
        }
        Ok(id)
    }

    async fn send_notification(&mut self, method: &str, params: Option<Value>) -> Flow<()> {
        if method == "notifications/initialized" {
            self.awaiting_initialized = false;
        }
        let mut msg = json!({"jsonrpc": "2.0", "method": method});
        if let Some(p) = params {
            msg["params"] = p;
        }
        self.send_value(&msg).await
    }

    async fn request_and_wait(
        &mut self,
        method: &str,
        params: Option<Value>,
        meta: bool,
        wait: Duration,
        label: &str,
    ) -> Flow<Message> {
        let id = self.send_request(method, params, None, meta).await?.expect("engine ids are integers");
        self.await_response(&id, wait, label, false).await
    }

    /// The stateless-era `_meta`: protocol version, client capabilities and info.
    fn with_meta(&self, params: Option<Value>) -> Value {
        let mut params = match params {
            Some(Value::Object(o)) => o,
            Some(other) => return other, // deliberately malformed params stay as they are
            None => Map::new(),
        };
        let meta = params.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(m) = meta {
            m.entry(meta_key::PROTOCOL_VERSION).or_insert(json!(self.ctx.version.as_str()));
            m.entry(meta_key::CLIENT_CAPABILITIES).or_insert(self.client_capabilities.clone());
            m.entry(meta_key::CLIENT_INFO)
                .or_insert(json!({"name": "mcp-conform", "version": env!("CARGO_PKG_VERSION")}));
        }
        Value::Object(params)
    }

    // ----- receiving ---------------------------------------------------------

    /// Receive one event and process it. Returns the response it carried, if any
    /// (notifications and server requests are recorded, invalid frames become findings).
    async fn pump(&mut self, deadline: Instant) -> Flow<Option<Message>> {
        let wait = deadline.saturating_duration_since(Instant::now());
        let event = self.transport.recv(wait).await;
        self.take_transport_findings();
        match event {
            Event::Timeout => Ok(None),
            Event::Unanswered { id, status, reason, .. } => {
                self.unanswered.push((id, status, reason));
                Ok(None)
            }
            Event::Closed { reason } => {
                self.fail(Level::Must, format!("the server ended the session unexpectedly: {reason}"));
                Err(Stop::Abort)
            }
            Event::BadFrame { raw, reason } => {
                self.fail(Level::Must, format!("{reason}: {}", preview(&raw)));
                Ok(None)
            }
            Event::Frame(raw) => {
                let msg = Message::parse(raw);
                self.observe(msg).await
            }
        }
    }

    async fn observe(&mut self, msg: Message) -> Flow<Option<Message>> {
        match &msg.kind {
            Kind::Invalid { reason } => {
                self.fail(Level::Must, format!("the server sent an invalid JSON-RPC message ({reason}): {}", preview(&msg.raw)));
                Ok(self.stand_in_for_invalid(&msg))
            }
            Kind::Batch => {
                if self.ctx.version == ProtocolVersion::V2025_03_26 {
                    // 2025-03-26 allows batches; judge each element.
                    let items = msg.value.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
                    if items.is_empty() {
                        // JSON-RPC 2.0 section 6: a batch with no responses to send gets
                        // nothing at all, never an empty array.
                        self.fail(Level::Must, format!("the server sent an empty JSON-RPC batch array: {}", preview(&msg.raw)));
                    }
                    let mut response = None;
                    for item in items {
                        if let Some(id) = item.get("id").filter(|_| item.get("method").is_none()) {
                            self.batched_ids.push(id.to_string());
                        }
                        if let Some(r) = Box::pin(self.observe(Message::from_value(item))).await? {
                            response.get_or_insert(r);
                        }
                    }
                    return Ok(response);
                }
                self.fail(Level::Must, format!("the server sent a JSON-RPC batch, which protocol version {} does not have", self.ctx.version));
                Ok(None)
            }
            Kind::Notification { method } => {
                self.validate(&msg, None);
                let params = msg.value.as_ref().and_then(|v| v.get("params")).cloned().unwrap_or(Value::Null);
                for f in self.rules.on_notification(self.ctx.version, method, &params) {
                    self.fail(f.level, f.message);
                }
                self.server_messages.push(msg);
                self.arrivals.push(Instant::now());
                Ok(None)
            }
            Kind::Request { .. } => {
                self.validate(&msg, None);
                self.answer_server_request(&msg).await?;
                self.server_messages.push(msg);
                self.arrivals.push(Instant::now());
                Ok(None)
            }
            Kind::Response { .. } | Kind::ErrorResponse { .. } => Ok(Some(msg)),
        }
    }

    /// An invalid message that still carries the id of an open request ends the wait
    /// for that request (the violation is already recorded), so a malformed answer
    /// fails at once instead of after the timeout. The stand-in keeps the raw bytes.
    fn stand_in_for_invalid(&self, msg: &Message) -> Option<Message> {
        let value = msg.value.as_ref()?;
        if value.get("id").is_none() && value.get("error").is_some_and(Value::is_object) {
            // An error that left out `"id": null`: already a finding; as the answer to
            // malformed input it still shows which code the server chose.
            let code = value.pointer("/error/code").and_then(Value::as_i64);
            return Some(Message { raw: msg.raw.clone(), value: Some(value.clone()), kind: Kind::ErrorResponse { id: Id::Null, code } });
        }
        let id = Id::from_value(value.get("id")?)?;
        let open = self.pending.iter().find(|p| p.id == id)?;
        let kind = if value.get("error").is_some() {
            Kind::ErrorResponse { id: open.id.clone(), code: value.pointer("/error/code").and_then(Value::as_i64) }
        } else {
            Kind::Response { id: open.id.clone() }
        };
        Some(Message { raw: msg.raw.clone(), value: Some(value.clone()), kind })
    }

    fn validate(&mut self, msg: &Message, request_method: Option<&str>) {
        let Some(value) = &msg.value else { return };
        if matches!(msg.kind, Kind::ErrorResponse { id: Id::Null, .. }) {
            // JSON-RPC 2.0 requires "id": null when the request's id could not be read;
            // the MCP schemas do not express that case, so the envelope rules judge it.
            return;
        }
        let findings = self.ctx.schemas.validate_message(self.ctx.version, value, Sender::Server, request_method);
        for f in findings {
            let what = match (msg.method(), request_method) {
                (Some(m), _) => format!("{m} message"),
                (None, Some(m)) => format!("response to {m}"),
                (None, None) => "message".to_string(),
            };
            self.fail(
                Level::Must,
                format!("schema: {what} violates {} at {}: {} (rule `{}`, schema {})", f.definition, or_root(&f.instance_path), f.message, f.rule, f.schema_path),
            );
        }
    }

    /// Take the response for `id`: from the stash, or by receiving until the deadline.
    async fn await_response(&mut self, id: &Id, wait: Duration, label: &str, refusal_ok: bool) -> Flow<Message> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(pos) = self.stash.iter().position(|m| m.response_id() == Some(id)) {
                let msg = self.stash.remove(pos);
                return Ok(self.accept_response(msg, id));
            }
            if let Some(pos) = self.unanswered.iter().position(|(u, _, _)| u.as_ref() == Some(id)) {
                let (_, status, reason) = self.unanswered.remove(pos);
                // An HTTP error whose body is a JSON-RPC error without the request's id
                // (id null): the exchange ties it to this request, so it is the answer.
                let refused = status.is_some_and(|s| s >= 400);
                let null_id_error = |m: &Message| matches!(m.kind, Kind::ErrorResponse { .. }) && m.response_id() == Some(&Id::Null);
                if let Some(at) = self.stash.iter().position(null_id_error).filter(|_| refused) {
                    let msg = self.stash.remove(at);
                    self.transport.transcript().note(format!("{label}: the id-null error of the same HTTP exchange ({reason}) answers id {id}"));
                    return Ok(self.accept_response(msg, id));
                }
                let method = self.pending_method(id).unwrap_or_default();
                self.pending.retain(|p| &p.id != id);
                if self.probing && status.is_some_and(|s| (400..500).contains(&s)) {
                    return Err(Stop::Skip(format!("the server declined protocol version {}: {reason}", self.ctx.version)));
                }
                if refusal_ok && status.is_some_and(|s| (400..500).contains(&s)) {
                    return Err(self.http_refusal(label, &reason));
                }
                self.fail(Level::Must, format!("{label}: no response to {method} (id {id}): {reason}"));
                return Err(Stop::Abort);
            }
            match self.pump(deadline).await? {
                Some(msg) => self.file_response(msg),
                None if Instant::now() >= deadline => {
                    let method = self.pending_method(id).unwrap_or_default();
                    self.fail(Level::Must, format!("{label}: no response to {method} (id {id}) within {} ms", wait.as_millis()));
                    return Err(Stop::Abort);
                }
                None => {}
            }
        }
    }

    /// An error was expected and the server refused the input with a bare HTTP 4xx. A
    /// server that cannot accept input MUST answer with an HTTP error status and MAY add
    /// a JSON-RPC error (transports, "Sending Messages to the Server"), so the refusal
    /// itself keeps the rules; the missing error object (and so the code the case wanted)
    /// is a warning, and the case cannot judge further.
    fn http_refusal(&mut self, label: &str, reason: &str) -> Stop {
        self.fail(
            Level::Should,
            format!("{label}: refused at the HTTP level without a JSON-RPC error object ({reason}); the expected error code cannot be checked"),
        );
        Stop::Abort
    }

    /// Take the next response not claimed by a tracked request (after a raw frame or a
    /// request with a deliberately invalid id).
    async fn await_any_response(&mut self, wait: Duration, label: &str, refusal_ok: bool) -> Flow<Message> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(pos) = self.stash.iter().position(|m| !self.is_pending(m.response_id())) {
                let msg = self.stash.remove(pos);
                self.validate(&msg, None);
                return Ok(msg);
            }
            if let Some(pos) = self.unanswered.iter().position(|(u, _, _)| !self.is_pending(u.as_ref())) {
                let (_, status, reason) = self.unanswered.remove(pos);
                if refusal_ok && status.is_some_and(|s| (400..500).contains(&s)) {
                    return Err(self.http_refusal(label, &reason));
                }
                self.fail(Level::Must, format!("{label}: no response: {reason}"));
                return Err(Stop::Abort);
            }
            match self.pump(deadline).await? {
                Some(msg) => self.stash.push(msg),
                None if Instant::now() >= deadline => {
                    self.fail(Level::Must, format!("{label}: no response within {} ms", wait.as_millis()));
                    return Err(Stop::Abort);
                }
                None => {}
            }
        }
    }

    /// A response arrived while waiting for another one: keep it for its request, or
    /// flag it when no request of ours has its id.
    fn file_response(&mut self, msg: Message) {
        let id = msg.response_id().cloned().unwrap_or(Id::Null);
        self.response_marks.push((id.clone(), self.server_messages.len(), Instant::now()));
        if self.is_pending(Some(&id)) {
            self.stash.push(msg);
            return;
        }
        if let Some(sent) = self.pending.iter().find(|p| p.id.to_string().trim_matches('"') == id.to_string().trim_matches('"')) {
            // Same id, other JSON type: record the violation, then treat it as the answer.
            let sent_id = sent.id.clone();
            self.fail(Level::Must, format!("a response carries id {id} but the request's id was {sent_id}: ids must be echoed with their type"));
            let mut value = msg.value.clone().unwrap_or(Value::Null);
            value["id"] = sent_id.to_value();
            let mut fixed = Message::from_value(value);
            fixed.raw = msg.raw;
            self.stash.push(fixed);
            return;
        }
        if id == Id::Null && !self.pending.is_empty() {
            self.stash.push(msg); // a null-id error: judged by whoever waits for any response
            return;
        }
        self.validate(&msg, None);
        self.fail(Level::Must, format!("a response with id {id} answers no request the harness has open: {}", preview(&msg.raw)));
    }

    fn accept_response(&mut self, msg: Message, id: &Id) -> Message {
        (self.last_response_mark, self.last_response_at) = match self.response_marks.iter().rposition(|(m, _, _)| m == id) {
            Some(at) => {
                let (_, mark, arrived) = self.response_marks.swap_remove(at);
                (mark, Some(arrived))
            }
            None => (self.server_messages.len(), Some(Instant::now())),
        };
        let method = self.pending_method(id);
        self.pending.retain(|p| &p.id != id);
        self.validate(&msg, method.as_deref());
        msg
    }

    fn is_pending(&self, id: Option<&Id>) -> bool {
        id.is_some_and(|id| self.pending.iter().any(|p| &p.id == id))
    }

    fn pending_method(&self, id: &Id) -> Option<String> {
        self.pending.iter().find(|p| &p.id == id).map(|p| p.method.clone())
    }

    async fn expect_no_response(&mut self, wait: Duration, level: Level, label: &str) -> Flow<()> {
        let deadline = Instant::now() + wait;
        if let Some(msg) = self.stash.first() {
            let text = preview(&msg.raw);
            self.fail(level, format!("{label}: expected no response, got {text}"));
            return Ok(());
        }
        while Instant::now() < deadline {
            if let Some(msg) = self.pump(deadline).await? {
                self.fail(level, format!("{label}: expected no response within {} ms, got {}", wait.as_millis(), preview(&msg.raw)));
                self.stash.push(msg);
                return Ok(());
            }
        }
        Ok(())
    }

    async fn wait_for(
        &mut self,
        kind: WaitKind,
        method: &str,
        filters: &[crate::case::Assertion],
        upto: usize,
        wait: Duration,
        level: Level,
        label: &str,
        skip_if_absent: Option<&str>,
    ) -> Flow<(Message, Instant)> {
        let deadline = Instant::now() + wait;
        loop {
            let end = upto.min(self.server_messages.len());
            let found = self.server_messages[self.consumed.min(end)..end].iter().position(|m| {
                m.method() == Some(method)
                    && matches!((&m.kind, kind), (Kind::Notification { .. }, WaitKind::Notification) | (Kind::Request { .. }, WaitKind::Request))
                    && m.value.as_ref().is_some_and(|v| matchers::satisfies(v, filters))
            });
            if let Some(pos) = found {
                let index = self.consumed + pos;
                self.consumed = index + 1;
                self.last_waited = Some(self.arrivals[index]);
                return Ok((self.server_messages[index].clone(), self.arrivals[index]));
            }
            if Instant::now() >= deadline || end < self.server_messages.len() {
                if let Some(reason) = skip_if_absent {
                    return Err(Stop::Skip(reason.to_string()));
                }
                let what = if kind == WaitKind::Request { "request" } else { "notification" };
                self.fail(level, format!("{label}: no {method} {what} within {} ms", wait.as_millis()));
                return Err(Stop::Abort);
            }
            if let Some(msg) = self.pump(deadline).await? {
                self.file_response(msg);
            }
        }
    }

    async fn paginate(
        &mut self,
        method: &str,
        params: Option<Value>,
        items_key: &str,
        max_pages: usize,
        level: Level,
        label: &str,
    ) -> Flow<Value> {
        let mut items = Vec::new();
        let mut cursors: Vec<Value> = Vec::new();
        let mut pages = 0;
        loop {
            let mut p = params.clone().unwrap_or_else(|| json!({}));
            if let Some(c) = cursors.last() {
                p["cursor"] = c.clone();
            }
            let id = self.send_request(method, Some(p), None, true).await?.expect("engine ids are integers");
            let msg = self.await_response(&id, self.ctx.timeout, label, false).await?;
            pages += 1;
            let result = match (&msg.kind, &msg.value) {
                (Kind::Response { .. }, Some(v)) => v["result"].clone(),
                _ => {
                    self.fail(level, format!("{label}: page {pages} of {method} is not a result: {}", preview(&msg.raw)));
                    return Err(Stop::Abort);
                }
            };
            match result.get(items_key) {
                Some(Value::Array(page)) => items.extend(page.iter().cloned()),
                _ => {
                    self.fail(level, format!("{label}: page {pages} of {method} has no `{items_key}` array"));
                    return Err(Stop::Abort);
                }
            }
            match result.get("nextCursor") {
                None => break,
                Some(c) if !c.is_string() => {
                    // The schema makes nextCursor an optional string: the last page omits it.
                    self.fail(Level::Must, format!("{label}: page {pages} of {method} has nextCursor {c}; it must be a string, or absent on the last page"));
                    break;
                }
                Some(cursor) if cursors.contains(cursor) => {
                    self.fail(level, format!("{label}: {method} returned cursor {cursor} again on page {pages}: the pages loop"));
                    break;
                }
                Some(cursor) => cursors.push(cursor.clone()),
            }
            if pages >= max_pages {
                self.fail(level, format!("{label}: {method} still had a next page after {max_pages} pages"));
                break;
            }
        }
        Ok(json!({"items": items, "pages": pages}))
    }

    // ----- server-to-client requests -------------------------------------------

    async fn answer_server_request(&mut self, msg: &Message) -> Flow<()> {
        let (Kind::Request { id, method }, Some(value)) = (&msg.kind, &msg.value) else { return Ok(()) };
        if self.awaiting_initialized && method != "ping" && self.ctx.version != ProtocolVersion::V2024_11_05 {
            // basic/lifecycle#initialization: "The server SHOULD NOT send requests other
            // than pings and logging before receiving the initialized notification."
            self.fail(Level::Should, format!("the server sent {method} before the client's notifications/initialized"));
        }
        let needed = match method.as_str() {
            "sampling/createMessage" => Some("sampling"),
            "roots/list" => Some("roots"),
            "elicitation/create" => Some("elicitation"),
            _ => None,
        };
        if let Some(cap) = needed {
            if self.client_capabilities.get(cap).is_none() {
                self.fail(
                    Level::Must,
                    format!("the server sent {method} although the client did not declare the `{cap}` capability"),
                );
            }
        }
        let answer = self
            .case
            .client
            .answers
            .get(method)
            .cloned()
            .or_else(|| default_answer(method, value, self.ctx.version));
        let mut reply = json!({"jsonrpc": "2.0", "id": id.to_value()});
        match answer {
            Some(Value::Object(mut a)) if a.contains_key("error") => reply["error"] = a.remove("error").unwrap(),
            Some(Value::Object(mut a)) if a.contains_key("result") => reply["result"] = a.remove("result").unwrap(),
            _ => reply["error"] = json!({"code": -32601, "message": format!("mcp-conform does not answer {method}")}),
        }
        self.send_value(&reply).await
    }

    // ----- judging -----------------------------------------------------------

    fn judge(&mut self, step: &Step, msg: &Message, level: Level, label: &str) -> Flow<()> {
        let Some(expect) = &step.expect else { return Ok(()) };
        let value = msg.value.clone().unwrap_or(Value::Null);
        let wanted = expect.outcome.unwrap_or(if expect.error.is_some() { Outcome::Error } else { Outcome::Result });
        match (&msg.kind, wanted) {
            (Kind::Response { .. }, Outcome::Error) => {
                self.fail(level, format!("{label}: expected an error response, got a result: {}", preview(&msg.raw)));
            }
            (Kind::ErrorResponse { code, .. }, Outcome::Result) => {
                let text = value.pointer("/error/message").and_then(Value::as_str).unwrap_or("");
                self.fail(level, format!("{label}: expected a result, got error {} {text:?}", code.unwrap_or(0)));
            }
            _ => {}
        }
        if let (Some(codes), Kind::ErrorResponse { code, .. }) = (&expect.error, &msg.kind) {
            if !code.is_some_and(|c| codes.codes.contains(&c)) {
                self.fail(level, format!("{label}: error code {} is not the expected {:?}", code.map(|c| c.to_string()).unwrap_or("(none)".into()), codes.codes));
            }
        }
        if let (Some(def), Kind::Response { .. }) = (&expect.schema, &msg.kind) {
            self.check_schema(def, &value["result"], "/result", label);
        }
        if let Some(want) = expect.batched {
            let got = value.get("id").is_some_and(|id| self.batched_ids.contains(&id.to_string()));
            if got != want {
                let how = if got { "inside a batch array" } else { "as a message of its own, not inside a batch array" };
                self.fail(level, format!("{label}: the response came {how}: {}", preview(&msg.raw)));
            }
        }
        self.judge_value(expect, &value, level, label)
    }

    /// `match` and `assert` against a value (a message, or a step's collected value).
    fn judge_value(&mut self, expect: &Expect, value: &Value, level: Level, label: &str) -> Flow<()> {
        let mut problems = Vec::new();
        if let Some(m) = &expect.match_ {
            let m = self.substitute(m)?;
            matchers::partial_match(&m, value, "", &mut problems);
        }
        for p in problems {
            self.fail(level, format!("{label}: {p}"));
        }
        for a in &expect.assert {
            let mut problems = Vec::new();
            let a = self.substitute_assertion(a)?;
            matchers::check_assertion(&a, value, "", &mut problems);
            for p in problems {
                self.fail(a.level.unwrap_or(level), format!("{label}: {p}"));
            }
        }
        Ok(())
    }

    fn check_schema(&mut self, definition: &str, instance: &Value, base: &str, label: &str) {
        if !self.ctx.schemas.has_definition(self.ctx.version, definition) {
            self.transport.transcript().note(format!("{label}: no schema definition {definition} for {}", self.ctx.version));
            return;
        }
        for f in self.ctx.schemas.validate_definition(self.ctx.version, definition, instance) {
            self.fail(
                Level::Must,
                format!("{label}: {} at {}{}: {} (rule `{}`)", definition, base, f.instance_path, f.message, f.rule),
            );
        }
    }

    // ----- bindings ----------------------------------------------------------

    fn bind(&mut self, step: &Step, value: &Value) -> Flow<()> {
        for (name, binding) in &step.bind {
            let found = value.pointer(binding.pointer());
            let bound = match binding {
                Binding::Pointer(_) => found.cloned(),
                Binding::Capture { regex, optional, .. } => {
                    let captured = found.and_then(Value::as_str).and_then(|text| {
                        let re = matchers::compiled(regex).ok()?;
                        re.captures(text)?.get(1).map(|m| json!(m.as_str()))
                    });
                    if captured.is_none() && *optional {
                        continue;
                    }
                    captured
                }
                Binding::Find { find, capture, .. } => {
                    let element = match found {
                        Some(Value::Array(items)) => items.iter().find(|item| matchers::satisfies(item, find)).cloned(),
                        // Nothing to search: `{"pointer": ...}` binds the value itself.
                        Some(other) if find.is_empty() => Some(other.clone()),
                        _ => None,
                    };
                    match capture {
                        // The first capture group of the regex, in the bound string.
                        Some(re) => element.and_then(|v| {
                            let text = v.as_str()?.to_string();
                            let re = matchers::compiled(re).ok()?;
                            re.captures(&text).and_then(|c| c.get(1)).map(|m| json!(m.as_str()))
                        }),
                        None => element,
                    }
                }
            };
            match bound {
                Some(v) => {
                    self.bindings.insert(name.clone(), v);
                }
                None => {
                    let reason = match binding {
                        Binding::Find { skip: Some(reason), .. } | Binding::Capture { skip: Some(reason), .. } => reason.clone(),
                        _ => format!("nothing to act on: no value at {} to bind as `{name}`", binding.pointer()),
                    };
                    return Err(Stop::Skip(reason));
                }
            }
        }
        Ok(())
    }

    /// Replace `${name}` and `${name/pointer}` in strings, and `{"$example": schema}`
    /// objects by a synthesised instance of the schema.
    fn substitute(&mut self, value: &Value) -> Flow<Value> {
        Ok(match value {
            Value::String(s) => {
                if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    if !inner.contains("${") && !inner.contains('}') {
                        return self.lookup(inner);
                    }
                }
                Value::String(self.substitute_str(s)?)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect::<Flow<_>>()?),
            Value::Object(o) if o.len() == 1 && o.contains_key("$example") => {
                let schema = self.substitute(&o["$example"])?;
                synth::example_of(&schema)
            }
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, v) in o {
                    // A key naming a binding (`"${prompt/arguments/0/name}": …`) takes its
                    // value; when it is not bound the member is left out, so one object
                    // can name "every argument, up to N".
                    let key = if k.contains("${") {
                        match self.substitute_bound(k) {
                            Some(key) => key,
                            None => continue,
                        }
                    } else {
                        k.clone()
                    };
                    out.insert(key, self.substitute(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn substitute_str(&mut self, s: &str) -> Flow<String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else { break };
            let name = &rest[start + 2..start + len];
            match self.lookup(name)? {
                Value::String(v) => out.push_str(&v),
                other => out.push_str(&other.to_string()),
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `s` with its `${name}`s replaced, or None when one of them is not bound.
    fn substitute_bound(&self, s: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let len = rest[start..].find('}')?;
            let name = &rest[start + 2..start + len];
            let (key, pointer) = name.find('/').map_or((name, ""), |i| (&name[..i], &name[i..]));
            match self.bindings.get(key)?.pointer(pointer)? {
                Value::String(v) => out.push_str(v),
                other => out.push_str(&other.to_string()),
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    fn lookup(&mut self, name: &str) -> Flow<Value> {
        if name == "unique" {
            self.unique += 1;
            return Ok(json!(format!("mcp-conform-{}-{}", std::process::id(), self.unique)));
        }
        let (key, pointer) = match name.find('/') {
            Some(i) => (&name[..i], &name[i..]),
            None => (name, ""),
        };
        match self.bindings.get(key).and_then(|v| v.pointer(pointer)) {
            Some(v) => Ok(v.clone()),
            // A test token the user did not give: the check has nothing to send.
            None if key == "tokens" => {
                let kind = pointer.trim_start_matches('/');
                Err(Stop::Skip(format!("no {kind} token was given (mcp-conform run --auth-token-env {kind}=VAR)")))
            }
            None => {
                self.fail(Level::Must, format!("case error: `${{{name}}}` is not bound"));
                Err(Stop::Abort)
            }
        }
    }

    fn substitute_assertion(&mut self, a: &crate::case::Assertion) -> Flow<crate::case::Assertion> {
        let mut a = a.clone();
        if let Some(e) = &a.equals {
            a.equals = Some(self.substitute(e)?);
        }
        if let Some(e) = &a.not_equals {
            a.not_equals = Some(self.substitute(e)?);
        }
        if let Some(e) = &a.valid_against {
            a.valid_against = Some(self.substitute(e)?);
        }
        if let Some(items) = &a.one_of {
            a.one_of = Some(items.iter().map(|e| self.substitute(e)).collect::<Flow<_>>()?);
        }
        Ok(a)
    }

    /// What the transport saw break at its own layer (HTTP statuses, content types,
    /// session ids) becomes findings like any other.
    fn take_transport_findings(&mut self) {
        for f in self.transport.take_findings() {
            self.fail(f.level, f.message);
        }
    }

    /// Record a finding. A flooding server cannot grow memory through findings: past
    /// `MAX_FINDINGS` only a count is kept.
    fn fail(&mut self, level: Level, message: String) {
        // The same violation again (a flooding server) is counted on its first record,
        // so it does not crowd out the findings that follow.
        if let Some((at, count)) = self.repeated.get_mut(&(level, message.clone())) {
            *count += 1;
            if let Some(f) = self.findings.get_mut(*at) {
                f.message = format!("{message} ({count} times)");
            }
            return;
        }
        if self.findings.len() >= MAX_FINDINGS {
            self.findings_dropped += 1;
            if let Some(last) = self.findings.last_mut() {
                last.message = format!("… and {} more findings", self.findings_dropped);
            }
            return;
        }
        self.transport.transcript().note(format!("finding [{}]: {message}", level.as_str()));
        self.repeated.insert((level, message.clone()), (self.findings.len(), 1));
        self.findings.push(Finding::new(level, message));
        if self.findings.len() == MAX_FINDINGS {
            self.findings.push(Finding::new(Level::Must, "… and more findings".to_string()));
        }
    }
}

/// What the harness declares by default: everything it can answer.
pub fn default_client_capabilities(version: ProtocolVersion) -> Value {
    let mut caps = json!({"roots": {"listChanged": true}, "sampling": {}});
    if version >= ProtocolVersion::V2025_06_18 {
        caps["elicitation"] = json!({});
    }
    caps
}

fn default_answer(method: &str, request: &Value, version: ProtocolVersion) -> Option<Value> {
    Some(match method {
        "ping" => json!({"result": {}}),
        "roots/list" => json!({"result": {"roots": [{"uri": "file:///tmp/mcp-conform-root", "name": "mcp-conform"}]}}),
        "sampling/createMessage" => json!({"result": {
            "role": "assistant",
            "content": {"type": "text", "text": "mcp-conform sampled reply"},
            "model": "mcp-conform",
            "stopReason": "endTurn"
        }}),
        "elicitation/create" if version >= ProtocolVersion::V2025_06_18 => {
            let _ = request;
            json!({"result": {"action": "decline"}})
        }
        _ => return None,
    })
}

/// Whether the step's expectation is an error (or either outcome).
fn expects_error(step: &Step) -> bool {
    step.expect.as_ref().is_some_and(|e| match e.outcome {
        Some(Outcome::Error) | Some(Outcome::Any) => true,
        Some(Outcome::Result) => false,
        None => e.error.is_some(),
    })
}

fn preview(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(300)]).into_owned();
    if raw.len() > 300 { format!("{text}… ({} bytes)", raw.len()) } else { text }
}

fn or_root(path: &str) -> &str {
    if path.is_empty() { "(root)" } else { path }
}

/// Whether a server speaks a protocol version, decided from one setup exchange.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// The server accepted the version; its initialize (or discover) result.
    Supported(Value),
    /// The server answered with another version, or declined with an error.
    Unsupported(String),
    /// The server did not answer sensibly at all (crash, timeout, garbage).
    Broken(String),
}

/// Try the setup exchange for `ctx.version` over `transport`, then close it.
pub async fn probe_version(ctx: &Context, transport: &mut dyn Transport) -> Probe {
    let case = Case::synthetic("probe");
    let mut session = Session::new(&case, ctx, transport);
    session.probing = true;
    let flow = session.setup().await;
    session.transport.close(ctx.close_grace).await;
    session.take_transport_findings();
    match flow {
        Ok(()) => Probe::Supported(session.bindings.remove("init").unwrap_or(Value::Null)),
        Err(Stop::Skip(reason)) => Probe::Unsupported(reason),
        Err(Stop::Abort) => Probe::Broken(decide(&session.findings).1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_cases;
    use crate::transcript::{Dir, Transcript};
    use crate::transport::{CloseReport, SendError};
    use async_trait::async_trait;
    use std::collections::VecDeque;

    /// A server as a function from each message the harness sends to the lines it
    /// answers with: the tests read like a transcript.
    struct Scripted {
        reply: Box<dyn FnMut(&Value) -> Vec<String> + Send>,
        queue: VecDeque<Event>,
        transcript: Transcript,
    }

    #[async_trait]
    impl Transport for Scripted {
        async fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
            self.transcript.record(Dir::Out, bytes);
            let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            for line in (self.reply)(&value) {
                // "!http STATUS": the HTTP exchange ended without a response.
                if let Some(status) = line.strip_prefix("!http ") {
                    let status: u16 = status.parse().expect("!http STATUS");
                    self.queue.push_back(Event::Unanswered { id: None, status: Some(status), reason: format!("HTTP {status}"), body_delivered: false, sessionless: false });
                    continue;
                }
                self.transcript.record(Dir::In, line.as_bytes());
                self.queue.push_back(Event::Frame(line.into_bytes()));
            }
            Ok(())
        }
        async fn recv(&mut self, wait: Duration) -> Event {
            match self.queue.pop_front() {
                Some(e) => e,
                None => {
                    tokio::time::sleep(wait).await;
                    Event::Timeout
                }
            }
        }
        async fn close(&mut self, _grace: Duration) -> CloseReport {
            CloseReport { ended_cleanly: true, detail: "closed".into() }
        }
        fn transcript(&self) -> &Transcript {
            &self.transcript
        }
    }

    /// A well-behaved server, with a hook to misbehave per method.
    fn server(mut special: impl FnMut(&str, &Value) -> Option<Vec<String>> + Send + 'static) -> Scripted {
        Scripted {
            reply: Box::new(move |msg| {
                let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
                if let Some(lines) = special(method, msg) {
                    return lines;
                }
                let Some(id) = msg.get("id") else { return vec![] };
                if msg.get("method").is_none() {
                    return vec![];
                }
                let result = match method {
                    "initialize" => json!({"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": {"name": "s", "version": "1"}}),
                    "tools/list" => json!({"tools": [{"name": "t", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": true}}]}),
                    "tools/call" => json!({"content": []}),
                    _ => json!({}),
                };
                vec![json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()]
            }),
            queue: VecDeque::new(),
            transcript: Transcript::default(),
        }
    }

    fn case(steps: &str) -> Case {
        let text = format!(r#"{{"id":"t/t","title":"t","spec":"basic","level":"MUST","defects":["d"],"steps":{steps}}}"#);
        parse_cases("t.json", &text).unwrap().remove(0)
    }

    fn ctx() -> Context {
        Context {
            version: ProtocolVersion::V2025_11_25,
            transport: TransportKind::Stdio,
            schemas: SchemaSet::embedded().unwrap(),
            timeout: Duration::from_millis(100),
            close_grace: Duration::from_millis(10),
        }
    }

    async fn verdict(steps: &str, mut t: Scripted) -> CaseVerdict {
        run_case(&case(steps), &ctx(), &mut t).await
    }

    #[tokio::test]
    async fn a_good_exchange_passes() {
        let v = verdict(r#"[{"request":{"method":"ping"},"expect":{"assert":[{"pointer":"/result","equals":{}}]}}]"#, server(|_, _| None)).await;
        assert_eq!(v, CaseVerdict { status: Status::Pass, message: String::new() });
    }

    #[tokio::test]
    async fn an_id_echoed_with_another_type_fails_without_waiting() {
        let t = server(|m, msg| (m == "ping").then(|| vec![json!({"jsonrpc": "2.0", "id": msg["id"].to_string(), "result": {}}).to_string()]));
        let v = verdict(r#"[{"request":{"method":"ping"}}]"#, t).await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("echoed with their type"), "{}", v.message);
    }

    #[tokio::test]
    async fn a_bare_http_4xx_for_malformed_input_warns_and_anything_else_fails() {
        let steps = r#"[{"raw":"{bad","expect":{"error":{"codes":[-32700]}}}]"#;
        let v = verdict(steps, server(|m, _| m.is_empty().then(|| vec!["!http 415".to_string()]))).await;
        assert_eq!(v.status, Status::Warn, "{}", v.message);
        assert!(v.message.contains("refused at the HTTP level"), "{}", v.message);
        let v = verdict(steps, server(|m, _| m.is_empty().then(|| vec!["!http 202".to_string()]))).await;
        assert_eq!(v.status, Status::Fail, "{}", v.message);
    }

    #[tokio::test]
    async fn an_error_without_id_is_a_finding_and_still_the_answer() {
        let t = server(|m, _| m.is_empty().then(|| vec![r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"bad"}}"#.to_string()]));
        let v = verdict(r#"[{"raw":"{bad","expect":{"error":{"codes":[-32700]}}}]"#, t).await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("must have an \"id\""), "{}", v.message);
        assert!(!v.message.contains("no response"), "{}", v.message);
    }

    #[tokio::test]
    async fn silence_is_a_timeout_finding() {
        let v = verdict(r#"[{"request":{"method":"ping"}}]"#, server(|m, _| (m == "ping").then(Vec::new))).await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("no response to ping"), "{}", v.message);
    }

    #[tokio::test]
    async fn invalid_output_is_a_finding() {
        let t = server(|m, _| (m == "ping").then(|| vec!["hello there".to_string(), r#"{"jsonrpc":"2.0","id":2,"result":{}}"#.to_string()]));
        let v = verdict(r#"[{"request":{"method":"ping"}}]"#, t).await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("invalid JSON-RPC message"), "{}", v.message);
    }

    #[tokio::test]
    async fn undeclared_server_requests_fail_and_get_answered() {
        let t = server(|m, msg| {
            (m == "ping").then(|| {
                vec![
                    json!({"jsonrpc": "2.0", "id": "s1", "method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 1}}).to_string(),
                    json!({"jsonrpc": "2.0", "id": msg["id"], "result": {}}).to_string(),
                ]
            })
        });
        let c = r#"[{"request":{"method":"ping"}}]"#;
        let mut t = t;
        let mut case = case(c);
        case.client.capabilities = Some(json!({}));
        let v = run_case(&case, &ctx(), &mut t).await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("did not declare the `sampling` capability"), "{}", v.message);
        assert!(t.transcript.entries().iter().any(|e| e.dir == Dir::Out && e.raw.contains("\"s1\"")), "the request is answered");
    }

    #[tokio::test]
    async fn nothing_to_bind_is_a_skip_with_the_reason() {
        let t = server(|m, msg| (m == "tools/list").then(|| vec![json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": []}}).to_string()]));
        let v = verdict(r#"[{"paginate":{"method":"tools/list","items":"tools"},"bind":{"x":{"pointer":"/items","find":[],"skip":"no tools"}}}]"#, t).await;
        assert_eq!(v, CaseVerdict { status: Status::Skip, message: "no tools".into() });
    }

    #[tokio::test]
    async fn bound_values_and_synthesised_arguments_reach_the_wire() {
        let t = server(|_, _| None);
        let steps = r#"[{"paginate":{"method":"tools/list","items":"tools"},"bind":{"tool":{"pointer":"/items","find":[]}}},
                        {"request":{"method":"tools/call","params":{"name":"${tool/name}","arguments":{"$example":"${tool/inputSchema}"}}}}]"#;
        let mut t = t;
        let v = run_case(&case(steps), &ctx(), &mut t).await;
        assert_eq!(v.status, Status::Pass, "{}", v.message);
        assert!(t.transcript.entries().iter().any(|e| e.raw.contains(r#""name":"t","arguments":{}"#)));
    }

    #[tokio::test]
    async fn keys_naming_bindings_take_their_value_or_are_left_out() {
        let t = server(|m, msg| {
            let result = match m {
                "prompts/list" => json!({"prompts": [{"name": "p", "arguments": [{"name": "lang"}]}]}),
                "prompts/get" => json!({"messages": []}),
                _ => return None,
            };
            Some(vec![json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}).to_string()])
        });
        let steps = r#"[{"paginate":{"method":"prompts/list","items":"prompts"},"bind":{"prompt":{"pointer":"/items","find":[]}}},
                        {"request":{"method":"prompts/get","params":{"name":"${prompt/name}","arguments":{"${prompt/arguments/0/name}":"v","${prompt/arguments/1/name}":"w"}}},"expect":{"outcome":"any"}}]"#;
        let mut t = t;
        let v = run_case(&case(steps), &ctx(), &mut t).await;
        assert_eq!(v.status, Status::Pass, "{}", v.message);
        assert!(t.transcript.entries().iter().any(|e| e.raw.contains(r#""arguments":{"lang":"v"}"#)));
    }

    #[tokio::test]
    async fn for_each_visits_matching_elements_and_skips_only_inapplicable_ones() {
        let t = server(|m, msg| {
            (m == "tools/list").then(|| {
                let tools = json!([{"name": "a", "inputSchema": {"type": "object"}, "title": "A"}, {"name": "b", "inputSchema": {"type": "object"}, "title": "B"}, {"name": "c", "inputSchema": {"type": "object"}}]);
                vec![json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": tools}}).to_string()]
            })
        });
        let steps = r#"[{"paginate":{"method":"tools/list","items":"tools"},"bind":{"tools":"/items"}},
            {"for_each":{"in":"tools","as":"tool","where":[{"pointer":"/title","exists":true}],"steps":[
              {"request":{"method":"tools/call","params":{"name":"${tool/name}"}},
               "skip_unless":{"assert":[{"pointer":"/result/isError","exists":true}],"because":"not an error"}}]}}]"#;
        let mut t = t;
        let v = run_case(&case(steps), &ctx(), &mut t).await;
        assert_eq!(v, CaseVerdict { status: Status::Skip, message: "not an error (2 visited)".into() }, "no element applied");
        let calls = t.transcript.entries().iter().filter(|e| e.dir == Dir::Out && e.raw.contains("tools/call")).count();
        assert_eq!(calls, 2, "only the elements matching `where` are visited");
    }

    #[tokio::test]
    async fn a_concurrent_for_each_sends_ahead_and_judges_each_element() {
        let t = server(|m, msg| match m {
            "tools/list" => {
                let tools = json!([{"name": "a", "inputSchema": {"type": "object"}}, {"name": "b", "inputSchema": {"type": "object"}}, {"name": "c", "inputSchema": {"type": "object"}}]);
                Some(vec![json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": tools}}).to_string()])
            }
            "tools/call" => {
                let failing = msg["params"]["name"] == "b";
                Some(vec![json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"content": [], "isError": failing}}).to_string()])
            }
            _ => None,
        });
        let steps = r#"[{"paginate":{"method":"tools/list","items":"tools"},"bind":{"tools":"/items"}},
            {"for_each":{"in":"tools","as":"tool","concurrent":true,"steps":[
              {"request":{"method":"tools/call","params":{"name":"${tool/name}"}},
               "expect":{"assert":[{"pointer":"/result/isError","equals":false}]}}]}}]"#;
        let mut t = t;
        let v = run_case(&case(steps), &ctx(), &mut t).await;
        assert_eq!(v.status, Status::Fail, "element b's own answer is judged: {}", v.message);
        assert!(v.message.contains("[tool b]"), "the finding names its element: {}", v.message);
        let entries = t.transcript.entries();
        let last_call = entries.iter().rposition(|e| e.dir == Dir::Out && e.raw.contains("\"name\":\"c\"")).expect("c was called");
        let first_judged = entries.iter().position(|e| e.dir == Dir::Note && e.raw.contains("[tool a]")).expect("a was judged");
        assert!(last_call < first_judged, "every call went out before the first was judged");
    }

    #[tokio::test]
    async fn no_notification_fails_on_a_matching_notification_only() {
        let updating = |m: &str, msg: &Value| {
            if m == "initialize" {
                let caps = json!({"resources": {"subscribe": true}});
                let result = json!({"protocolVersion": msg["params"]["protocolVersion"], "capabilities": caps, "serverInfo": {"name": "s", "version": "1"}});
                return Some(vec![json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}).to_string()]);
            }
            (m == "ping").then(|| {
                vec![
                    json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "x://a"}}).to_string(),
                    json!({"jsonrpc": "2.0", "id": msg["id"], "result": {}}).to_string(),
                ]
            })
        };
        let quiet = r#"[{"request":{"method":"ping"}},{"no_notification":{"method":"notifications/resources/updated","within_ms":20,"where":[{"pointer":"/params/uri","equals":"x://b"}]}}]"#;
        let v = verdict(quiet, server(updating)).await;
        assert_eq!(v.status, Status::Pass, "{}", v.message);
        let loud = r#"[{"request":{"method":"ping"}},{"no_notification":{"method":"notifications/resources/updated","within_ms":20}}]"#;
        assert_eq!(verdict(loud, server(updating)).await.status, Status::Fail);
    }

    #[tokio::test]
    async fn a_value_step_judges_bound_values() {
        let steps = r#"[{"value":"${init/capabilities}","expect":{"assert":[{"pointer":"/prompts","exists":true}]}}]"#;
        assert_eq!(verdict(steps, server(|_, _| None)).await.status, Status::Fail);
        let steps = r#"[{"value":"${init/capabilities}","expect":{"assert":[{"pointer":"/tools","exists":true}]}}]"#;
        assert_eq!(verdict(steps, server(|_, _| None)).await.status, Status::Pass);
    }

    #[tokio::test]
    async fn capture_binds_a_regex_group_and_skips_without_a_match() {
        let steps = r#"[{"value":"test://x/{id}/data","bind":{"var":{"pointer":"","capture":"\\{([a-z]+)\\}"}}},
                        {"value":"${var}","expect":{"assert":[{"pointer":"","equals":"id"}]}}]"#;
        assert_eq!(verdict(steps, server(|_, _| None)).await.status, Status::Pass);
        let steps = r#"[{"value":"test://plain","bind":{"var":{"pointer":"","capture":"\\{([a-z]+)\\}","skip":"no variable"}}}]"#;
        assert_eq!(verdict(steps, server(|_, _| None)).await, CaseVerdict { status: Status::Skip, message: "no variable".into() });
    }

    #[tokio::test]
    async fn unsupported_versions_skip_in_setup() {
        let t = server(|m, msg| {
            (m == "initialize").then(|| vec![json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"protocolVersion": "2024-11-05", "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}}).to_string()])
        });
        let v = verdict(r#"[{"request":{"method":"ping"}}]"#, t).await;
        assert_eq!(v.status, Status::Skip);
        assert!(v.message.contains("does not support protocol version 2025-11-25"), "{}", v.message);
    }

    /// An HTTP server as a function from each raw exchange to its answer; remembers the
    /// URLs asked (None: the session's own).
    struct Web {
        answer: Box<dyn FnMut(&HttpRequest) -> crate::transport::HttpResponse + Send>,
        asked: Vec<Option<String>>,
        transcript: Transcript,
    }

    #[async_trait]
    impl Transport for Web {
        async fn send(&mut self, _bytes: &[u8]) -> Result<(), SendError> {
            Ok(())
        }
        async fn recv(&mut self, _wait: Duration) -> Event {
            Event::Timeout
        }
        async fn close(&mut self, _grace: Duration) -> CloseReport {
            CloseReport { ended_cleanly: true, detail: "closed".into() }
        }
        fn transcript(&self) -> &Transcript {
            &self.transcript
        }
        async fn http_exchange(&mut self, request: HttpRequest) -> Result<crate::transport::HttpResponse, HttpError> {
            self.asked.push(request.url.clone());
            Ok((self.answer)(&request))
        }
        fn case_bindings(&self) -> Vec<(String, Value)> {
            vec![
                ("endpoint".into(), json!({"url": "http://h.test/mcp", "origin": "http://h.test", "path": "/mcp"})),
                ("tokens".into(), json!({})),
            ]
        }
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> crate::transport::HttpResponse {
        crate::transport::HttpResponse {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
            events: None,
            complete: true,
        }
    }

    const DISCOVERY: &str = r#"[
        {"http": {"headers": {"Authorization": null}, "body": {"jsonrpc": "2.0", "id": 1, "method": "ping"}},
         "bind": {"meta": {"pointer": "/headers/www-authenticate", "regex": "resource_metadata=\"([^\"]+)\"", "optional": true}}},
        {"http": {"method": "GET", "url": ["${meta}", "/.well-known/oauth-protected-resource${endpoint/path}", "/.well-known/oauth-protected-resource"]},
         "expect": {"assert": [{"pointer": "/json/resource", "one_of": ["${endpoint/url}", "${endpoint/origin}"]}]}}
    ]"#;

    #[tokio::test]
    async fn url_candidates_pass_over_unbound_names_and_404s() {
        let mut web = Web {
            answer: Box::new(|r| match r.url.as_deref() {
                None => response(401, &[("www-authenticate", "Bearer scope=\"mcp\"")], ""),
                Some("/.well-known/oauth-protected-resource") => response(200, &[("content-type", "application/json")], r#"{"resource":"http://h.test"}"#),
                Some(_) => response(404, &[], ""),
            }),
            asked: Vec::new(),
            transcript: Transcript::new(vec![]),
        };
        let mut c = case(DISCOVERY);
        c.setup = Setup::None;
        let v = run_case(&c, &ctx(), &mut web).await;
        assert_eq!(v.status, Status::Pass, "{}", v.message);
        let asked: Vec<_> = web.asked.iter().map(|u| u.as_deref()).collect();
        assert_eq!(asked, [None, Some("/.well-known/oauth-protected-resource/mcp"), Some("/.well-known/oauth-protected-resource")]);
    }

    #[tokio::test]
    async fn a_captured_url_is_asked_first_and_its_answer_judged() {
        let mut web = Web {
            answer: Box::new(|r| match r.url.as_deref() {
                None => response(401, &[("www-authenticate", "Bearer resource_metadata=\"http://as.test/prm\"")], ""),
                Some(_) => response(200, &[], r#"{"resource":"http://other.test/mcp"}"#),
            }),
            asked: Vec::new(),
            transcript: Transcript::new(vec![]),
        };
        let mut c = case(DISCOVERY);
        c.setup = Setup::None;
        let v = run_case(&c, &ctx(), &mut web).await;
        assert_eq!(v.status, Status::Fail, "{}", v.message);
        assert!(v.message.contains("expected one of \"http://h.test/mcp\""), "{}", v.message);
        assert_eq!(web.asked, [None, Some("http://as.test/prm".to_string())]);
    }

    #[tokio::test]
    async fn a_test_token_not_given_skips_naming_the_flag() {
        let mut web = Web { answer: Box::new(|_| response(401, &[], "")), asked: Vec::new(), transcript: Transcript::new(vec![]) };
        let mut c = case(r#"[{"http": {"headers": {"Authorization": "Bearer ${tokens/wrong-audience}"}, "body": {"jsonrpc": "2.0", "id": 1, "method": "ping"}}}]"#);
        c.setup = Setup::None;
        let v = run_case(&c, &ctx(), &mut web).await;
        assert_eq!(v.status, Status::Skip, "{}", v.message);
        assert!(v.message.contains("--auth-token-env wrong-audience=VAR"), "{}", v.message);
        assert!(web.asked.is_empty());
    }
}

//! Case files: declarative conformance checks as JSON data.
//!
//! Loading is two-staged: the file is validated against `schemas/case.schema.json`
//! (so a malformed case names its file and the JSON pointer of the problem), then
//! deserialised into the types below. Must never run anything: this module only reads
//! and describes cases.

use crate::spec::{Level, ProtocolVersion, TransportKind};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The case format's own schema, authored in `schemas/case.schema.json`.
pub const CASE_SCHEMA: &str = include_str!("../schemas/case.schema.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub title: String,
    /// Page and anchor in the specification, e.g. `basic/lifecycle#initialization`;
    /// or a map from version (or `default`) to such a path where pages moved.
    pub spec: SpecRef,
    pub level: Level,
    #[serde(default)]
    pub versions: Versions,
    /// Transports the rule applies to; all when absent.
    #[serde(default)]
    pub transports: Option<Vec<TransportKind>>,
    #[serde(default)]
    pub requires: Requires,
    #[serde(default)]
    pub setup: Setup,
    /// A case that does its own handshake (`setup: none`) and judges version
    /// negotiation itself runs even where the probe found the version unsupported
    /// (`true`); any other case is skipped there.
    #[serde(default)]
    pub judges_negotiation: bool,
    #[serde(default)]
    pub client: ClientOptions,
    pub steps: Vec<Step>,
    /// How the check is proven able to fail: reference-server defects that make it
    /// fail (or warn, for SHOULD rules).
    pub defects: Vec<String>,
    /// Other suites' ids for the same rule (e.g. the official suite's scenario ids).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Arguments the bundled reference server needs to exercise the rule in the
    /// project's own trials (`--auth`); no effect on a run against any server.
    #[serde(default)]
    pub reference_args: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Where the case was loaded from (set by the loader).
    #[serde(skip)]
    pub source: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SpecRef {
    Path(String),
    PerVersion(BTreeMap<String, String>),
}

impl Case {
    /// The milliseconds the case is sure to spend waiting by design (no-response and
    /// no-notification windows, pauses; a loop's steps counted once). The runner starts
    /// the longest waits first, so they overlap the short cases instead of trailing
    /// after them.
    pub fn planned_wait_ms(&self) -> u64 {
        planned_wait(&self.steps)
    }

    /// The spec link for one version.
    pub fn spec_url(&self, version: ProtocolVersion) -> String {
        let path = match &self.spec {
            SpecRef::Path(p) => p.as_str(),
            SpecRef::PerVersion(map) => map
                .get(version.as_str())
                .or_else(|| map.get("default"))
                .map(String::as_str)
                .unwrap_or(""),
        };
        if path.starts_with("http") {
            path.replace("{version}", version.as_str())
        } else {
            version.spec_url(path)
        }
    }

    pub fn applies_to(&self, version: ProtocolVersion, transport: TransportKind) -> bool {
        self.versions.contains(version) && self.transports.as_ref().is_none_or(|t| t.contains(&transport))
    }

    /// A case with no steps, for the harness's own exchanges (version probes).
    pub fn synthetic(id: &str) -> Case {
        Case {
            id: id.to_string(),
            title: id.to_string(),
            spec: SpecRef::Path("basic/lifecycle".into()),
            level: Level::Must,
            versions: Versions::default(),
            transports: None,
            requires: Requires::default(),
            setup: Setup::Initialize,
            judges_negotiation: false,
            client: ClientOptions::default(),
            steps: Vec::new(),
            defects: Vec::new(),
            aliases: Vec::new(),
            reference_args: Vec::new(),
            description: None,
            source: PathBuf::new(),
        }
    }

    /// The area a case belongs to: the first segment of its id (`tools/list` -> `tools`).
    pub fn area(&self) -> &str {
        self.id.split('/').next().unwrap_or(&self.id)
    }
}

/// Versions a case applies to: a list, or a range with optional ends.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Versions {
    List(Vec<ProtocolVersion>),
    Range {
        #[serde(default)]
        min: Option<ProtocolVersion>,
        #[serde(default)]
        max: Option<ProtocolVersion>,
    },
}

impl Default for Versions {
    fn default() -> Self {
        Versions::Range { min: None, max: None }
    }
}

impl Versions {
    pub fn contains(&self, v: ProtocolVersion) -> bool {
        match self {
            Versions::List(list) => list.contains(&v),
            Versions::Range { min, max } => min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// Dotted paths into the server's declared capabilities (`tools`,
    /// `resources.subscribe`); the case is skipped when one is absent.
    #[serde(default)]
    pub server_capabilities: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Setup {
    /// `initialize` + `notifications/initialized` (or `server/discover` for stateless
    /// versions) before the steps; the result is bound as `init`.
    #[default]
    Initialize,
    /// A raw connection: the steps do everything.
    None,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientOptions {
    /// The capabilities the harness declares; a version-appropriate default when absent.
    #[serde(default)]
    pub capabilities: Option<Value>,
    /// Answers to server-to-client requests by method: `{"result": ...}` or `{"error": ...}`.
    #[serde(default)]
    pub answers: BTreeMap<String, Value>,
}

/// One step: exactly one action, with optional expectations and bindings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Send a request and wait for its response.
    #[serde(default)]
    pub request: Option<RequestSpec>,
    /// Send a notification.
    #[serde(default)]
    pub notify: Option<NotifySpec>,
    /// Send this text as one frame, byte for byte (no JSON encoding).
    #[serde(default)]
    pub raw: Option<String>,
    /// Follow `nextCursor` through every page of a list method.
    #[serde(default)]
    pub paginate: Option<PaginateSpec>,
    /// Wait for a server message of a kind (a notification or a request by method).
    #[serde(default)]
    pub wait_for: Option<WaitSpec>,
    /// No response may arrive for this many milliseconds.
    #[serde(default)]
    pub no_response_ms: Option<u64>,
    /// Close the connection (stdio: stdin) and expect the server to end within `within_ms`.
    #[serde(default)]
    pub close: Option<CloseSpec>,
    /// Wait without expecting anything.
    #[serde(default)]
    pub sleep_ms: Option<u64>,
    /// One raw HTTP request outside the message flow (HTTP transports only; the case is
    /// skipped on others). `expect` and `bind` see the response as
    /// `{"status", "headers", "content_type", "body", "json", "events", "messages", "complete"}`.
    #[serde(default)]
    pub http: Option<HttpSpec>,
    /// Run nested steps once per element of a bound array (e.g. every listed tool).
    #[serde(default)]
    pub for_each: Option<ForEachSpec>,
    /// No notification of this method arrives (none unconsumed so far, none in the window).
    #[serde(default)]
    pub no_notification: Option<NoNotificationSpec>,
    /// A value built from bindings (`${init/capabilities}`), judged by `expect`.
    #[serde(default)]
    pub value: Option<Value>,

    /// What the response (or awaited message) must look like.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Values to remember from the response, by name.
    #[serde(default)]
    pub bind: BTreeMap<String, Binding>,
    /// Skip the case, with `because`, unless these hold for the step's response (before
    /// `expect`): for rules that apply only when the server chose an option the spec
    /// leaves open (a session id, an SSE response, letting clients end sessions).
    #[serde(default)]
    pub skip_unless: Option<SkipUnless>,
    /// Level of this step's expectations, when it differs from the case's.
    #[serde(default)]
    pub level: Option<Level>,
    #[serde(default)]
    pub label: Option<String>,
}

impl Step {
    pub fn action_count(&self) -> usize {
        [
            self.request.is_some(),
            self.notify.is_some(),
            self.raw.is_some(),
            self.paginate.is_some(),
            self.wait_for.is_some(),
            self.no_response_ms.is_some(),
            self.close.is_some(),
            self.sleep_ms.is_some(),
            self.http.is_some(),
            self.for_each.is_some(),
            self.no_notification.is_some(),
            self.value.is_some(),
        ]
        .into_iter()
        .filter(|b| *b)
        .count()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub method: String,
    #[serde(default)]
    pub params: Option<Value>,
    /// An explicit id (any JSON); the engine numbers requests otherwise.
    #[serde(default)]
    pub id: Option<Value>,
    /// Add the stateless-era `_meta` (protocol version, client capabilities); default true.
    #[serde(default = "yes")]
    pub meta: bool,
    /// Send without waiting for the response (it may be awaited by no later step; a
    /// `no_response_ms` step then checks that none arrives, e.g. after cancellation).
    #[serde(default)]
    pub no_wait: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// `GET`, `POST` (default), `DELETE`...
    #[serde(default = "post")]
    pub method: String,
    /// Headers over the transport's defaults (Accept, Content-Type, session id, protocol
    /// version, the stateless `Mcp-*` headers, the user's); `null` leaves one out.
    #[serde(default)]
    pub headers: BTreeMap<String, Option<String>>,
    /// A JSON body; a request gets the stateless-era `_meta` as `request` does, unless `meta` is false.
    #[serde(default)]
    pub body: Option<Value>,
    /// A body sent byte for byte instead.
    #[serde(default)]
    pub body_raw: Option<String>,
    #[serde(default = "yes")]
    pub meta: bool,
    /// How long to read the response body (capped by the run's timeout).
    #[serde(default)]
    pub read_ms: Option<u64>,
    /// Stop reading an SSE body at its first JSON-RPC response (default true).
    #[serde(default = "yes")]
    pub stop_at_response: bool,
    /// Request another URL than the server's (relative references resolve against it),
    /// with only `headers`: neither the transport's defaults nor the user's credentials.
    /// A list holds candidates tried in order: one naming an unbound value is passed
    /// over, and the first answer other than 404 is judged (else the last one).
    #[serde(default)]
    pub url: Option<UrlSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum UrlSpec {
    One(String),
    Candidates(Vec<String>),
}

impl UrlSpec {
    pub fn candidates(&self) -> Vec<String> {
        match self {
            UrlSpec::One(u) => vec![u.clone()],
            UrlSpec::Candidates(c) => c.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipUnless {
    pub assert: Vec<Assertion>,
    pub because: String,
}

fn post() -> String {
    "POST".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    pub method: String,
    #[serde(default)]
    pub params: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaginateSpec {
    pub method: String,
    #[serde(default)]
    pub params: Option<Value>,
    /// The member of each result that holds the page's items (`tools`, `resources`...).
    pub items: String,
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
}

fn default_max_pages() -> usize {
    100
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitSpec {
    /// `notification` or `request` (a server-to-client request).
    pub kind: WaitKind,
    pub method: String,
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// When nothing arrives: skip the case with this reason instead of failing
    /// (the server MAY send the message; without it the rule has nothing to judge).
    #[serde(default)]
    pub skip_if_absent: Option<String>,
    /// Only messages satisfying these count (pointers into the whole message).
    #[serde(default, rename = "where")]
    pub where_: Vec<Assertion>,
    /// Bind the milliseconds between the arrival of the message the previous
    /// `wait_for` took and this one's: a server's own cadence, for windows that
    /// must be long enough to see its next message.
    #[serde(default)]
    pub gap_as: Option<String>,
    /// Only messages that arrived before the response the last request step took:
    /// they are all in already, so nothing is waited for.
    #[serde(default)]
    pub before_response: bool,
}

/// `for_each`: the nested steps run once per element of the array bound at `in`
/// (`name` or `name/pointer`) that satisfies `where`, with the element bound as `as`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForEachSpec {
    #[serde(rename = "in")]
    pub in_: String,
    #[serde(rename = "as")]
    pub as_: String,
    #[serde(default, rename = "where")]
    pub where_: Vec<Assertion>,
    /// At most this many elements are visited (bounded work on a server with many).
    #[serde(default = "default_for_each_max")]
    pub max: usize,
    /// When no element matches, or a nested step skipped for every element (a skip inside
    /// the loop skips that element only): skip the case with this reason.
    #[serde(default)]
    pub skip: Option<String>,
    /// Stop after the first element for which every nested step ran.
    #[serde(default)]
    pub first: bool,
    /// The first nested step is a request sent for several elements ahead (a few in
    /// flight), then judged element by element: independent calls overlap.
    #[serde(default)]
    pub concurrent: bool,
    pub steps: Vec<Step>,
}

fn default_for_each_max() -> usize {
    50
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoNotificationSpec {
    pub method: String,
    pub within_ms: u64,
    /// Only notifications satisfying these count (pointers into the whole message).
    #[serde(default, rename = "where")]
    pub where_: Vec<Assertion>,
    /// Only notifications that arrive from this step on count (not those already received).
    #[serde(default)]
    pub new_only: bool,
    /// Only notifications that arrived after the response the last request step took.
    #[serde(default)]
    pub after_response: bool,
    /// A window measured on the server instead of a fixed one (`within_ms` caps it).
    #[serde(default)]
    pub scale: Option<ScaleSpec>,
}

/// A window of `times` x the milliseconds bound at `by`, at least `min_ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleSpec {
    pub by: String,
    pub times: u64,
    pub min_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitKind {
    Notification,
    Request,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseSpec {
    pub within_ms: u64,
}

/// Expectations about one received message.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `result`, `error` or `any`; default `result` unless `error` is given.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// The response must be an error whose code is in this set.
    #[serde(default)]
    pub error: Option<ErrorExpect>,
    /// Schema definition the result (or awaited message's params) must satisfy.
    #[serde(default)]
    pub schema: Option<String>,
    /// A partial match against the whole message: objects match by subset, arrays
    /// element by element, scalars by equality.
    #[serde(default, rename = "match")]
    pub match_: Option<Value>,
    #[serde(default)]
    pub assert: Vec<Assertion>,
    /// The response arrived inside a JSON-RPC batch array (true) or on its own (false).
    #[serde(default)]
    pub batched: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Result,
    Error,
    Any,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorExpect {
    pub codes: Vec<i64>,
}

/// A rule about the value at a JSON pointer. All given conditions must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    pub pointer: String,
    #[serde(default)]
    pub exists: Option<bool>,
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default)]
    pub not_equals: Option<Value>,
    /// JSON type name or names: `string`, `integer`, `number`, `object`, `array`, `boolean`, `null`.
    #[serde(default, rename = "type")]
    pub type_: Option<TypeNames>,
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub min_items: Option<usize>,
    #[serde(default)]
    pub max_items: Option<usize>,
    /// The value validates against this JSON Schema (e.g. a tool's bound `outputSchema`).
    #[serde(default)]
    pub valid_against: Option<Value>,
    /// The elements of the array at `pointer` are unique by the value at this pointer
    /// (relative to each element; "" for the whole element).
    #[serde(default)]
    pub unique_by: Option<String>,
    /// Every element of the array at `pointer` satisfies these (pointers relative to the element).
    #[serde(default)]
    pub each: Option<Vec<Assertion>>,
    /// What the rule means, for the verdict message.
    #[serde(default)]
    pub because: Option<String>,
    /// Level of this assertion when it differs from the step's.
    #[serde(default)]
    pub level: Option<Level>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TypeNames {
    One(String),
    Many(Vec<String>),
}

impl TypeNames {
    pub fn names(&self) -> Vec<&str> {
        match self {
            TypeNames::One(s) => vec![s.as_str()],
            TypeNames::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Remember a value from a response. With `find`, `pointer` names an array and the
/// first element satisfying every assertion is bound.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Binding {
    Pointer(String),
    /// The first capture group of `regex` in the string at `pointer`. With `optional`,
    /// no match leaves the name unbound instead of skipping the case.
    Capture {
        pointer: String,
        regex: String,
        #[serde(default)]
        optional: bool,
        #[serde(default)]
        skip: Option<String>,
    },
    Find {
        pointer: String,
        #[serde(default)]
        find: Vec<Assertion>,
        /// The skip reason when nothing is there to bind (e.g. "the server lists no tools").
        #[serde(default)]
        skip: Option<String>,
        /// Bind the first capture group of this regex in the (string) value instead,
        /// e.g. a variable name of a URI template.
        #[serde(default)]
        capture: Option<String>,
    },
}

impl Binding {
    pub fn pointer(&self) -> &str {
        match self {
            Binding::Pointer(p) => p,
            Binding::Capture { pointer, .. } | Binding::Find { pointer, .. } => pointer,
        }
    }
}

/// A case file that could not be loaded: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {pointer}: {message}", pointer = if pointer.is_empty() { "(root)" } else { pointer.as_str() })]
pub struct LoadError {
    pub file: String,
    /// JSON pointer of the problem in the file; empty for the root.
    pub pointer: String,
    pub message: String,
}

/// The validator of one case (`#/$defs/case`). Files are checked case by case rather
/// than against the file-level `oneOf`, so an error points at the member at fault
/// instead of "not valid under any of the schemas".
fn case_schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let doc: Value = serde_json::from_str(CASE_SCHEMA).expect("case.schema.json is valid JSON");
        let one_case = serde_json::json!({
            "$schema": doc["$schema"],
            "$ref": "#/$defs/case",
            "$defs": doc["$defs"],
        });
        jsonschema::validator_for(&one_case).expect("case.schema.json is a valid schema")
    })
}

/// Parse one case file's text. A file holds one case or `{"cases": [...]}`.
pub fn parse_cases(file: &str, text: &str) -> Result<Vec<Case>, LoadError> {
    let err = |pointer: &str, message: String| LoadError { file: file.to_string(), pointer: pointer.to_string(), message };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| err("", format!("not valid JSON at line {}, column {}: {e}", e.line(), e.column())))?;
    let (items, prefix): (Vec<Value>, &str) = match value {
        Value::Object(mut o) if o.contains_key("cases") => {
            if let Some(extra) = o.keys().find(|k| *k != "cases" && *k != "$schema") {
                return Err(err(&format!("/{extra}"), "a case family holds only \"cases\"".into()));
            }
            match o.remove("cases") {
                Some(Value::Array(a)) if !a.is_empty() => (a, "/cases/"),
                _ => return Err(err("/cases", "must be a non-empty array of cases".into())),
            }
        }
        other => (vec![other], ""),
    };
    let mut cases = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let at = if prefix.is_empty() { String::new() } else { format!("{prefix}{i}") };
        if let Some(first) = case_schema().iter_errors(&item).next() {
            return Err(err(&format!("{at}{}", first.instance_path()), first.to_string()));
        }
        let mut case: Case = serde_json::from_value(item).map_err(|e| err(&at, e.to_string()))?;
        check_steps(&case.steps, &format!("{at}/steps"), &err)?;
        case.source = PathBuf::from(file);
        cases.push(case);
    }
    Ok(cases)
}

fn planned_wait(steps: &[Step]) -> u64 {
    steps
        .iter()
        .map(|s| {
            let silence = s.no_notification.as_ref().map_or(0, |n| n.scale.as_ref().map_or(n.within_ms, |k| k.min_ms.min(n.within_ms)));
            let nested = s.for_each.as_ref().map_or(0, |f| planned_wait(&f.steps));
            s.no_response_ms.unwrap_or(0) + s.sleep_ms.unwrap_or(0) + silence + nested
        })
        .sum()
}

/// Every step (nested `for_each` steps too) has exactly one action and valid regexes.
fn check_steps(steps: &[Step], at: &str, err: &dyn Fn(&str, String) -> LoadError) -> Result<(), LoadError> {
    for (s, step) in steps.iter().enumerate() {
        if step.action_count() != 1 {
            return Err(err(&format!("{at}/{s}"), "a step needs exactly one action".into()));
        }
        for (a, assertion) in step.expect.iter().flat_map(|e| e.assert.iter()).enumerate() {
            if let Some(re) = &assertion.regex {
                regex::Regex::new(re).map_err(|e| err(&format!("{at}/{s}/expect/assert/{a}/regex"), e.to_string()))?;
            }
        }
        for (name, binding) in &step.bind {
            if let Binding::Capture { regex, .. } = binding {
                regex::Regex::new(regex).map_err(|e| err(&format!("{at}/{s}/bind/{name}/regex"), e.to_string()))?;
            }
        }
        if let Some(f) = &step.for_each {
            if f.concurrent {
                let first = f.steps.first().and_then(|s| s.request.as_ref());
                if first.is_none_or(|r| r.no_wait || r.id.is_some()) || f.first {
                    return Err(err(
                        &format!("{at}/{s}/for_each/concurrent"),
                        "a concurrent for_each starts with a request that waits for its answer and has no explicit id, and cannot be `first`".into(),
                    ));
                }
            }
            check_steps(&f.steps, &format!("{at}/{s}/for_each/steps"), err)?;
        }
    }
    Ok(())
}

/// Load every `*.json` under `dir`, sorted by path; ids must be unique.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, LoadError> {
    let mut files = Vec::new();
    collect_json(dir, &mut files).map_err(|e| LoadError {
        file: dir.display().to_string(),
        pointer: String::new(),
        message: e.to_string(),
    })?;
    files.sort();
    let mut sources = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|e| LoadError {
            file: path.display().to_string(),
            pointer: String::new(),
            message: e.to_string(),
        })?;
        sources.push((path.display().to_string(), text));
    }
    load_sources(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())))
}

/// Load cases from (file name, text) pairs; ids must be unique across all of them.
pub fn load_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Vec<Case>, LoadError> {
    let mut all: Vec<Case> = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (file, text) in sources {
        for case in parse_cases(file, text)? {
            if let Some(other) = seen.insert(case.id.clone(), file.to_string()) {
                return Err(LoadError {
                    file: file.to_string(),
                    pointer: "/id".into(),
                    message: format!("duplicate case id {:?} (also in {other})", case.id),
                });
            }
            all.push(case);
        }
    }
    Ok(all)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"id":"a/b","title":"t","spec":"basic","level":"MUST","defects":["d"],
        "steps":[{"request":{"method":"ping"}}]}"#;

    #[test]
    fn loads_a_minimal_case() {
        let cases = parse_cases("x.json", MINIMAL).unwrap();
        assert_eq!(cases[0].id, "a/b");
        assert!(cases[0].applies_to(ProtocolVersion::V2024_11_05, TransportKind::Sse));
        assert_eq!(
            cases[0].spec_url(ProtocolVersion::V2025_11_25),
            "https://modelcontextprotocol.io/specification/2025-11-25/basic"
        );
    }

    #[test]
    fn errors_name_file_and_pointer() {
        let cases = [
            (r#"{"id":"a"}"#, ""),
            (&MINIMAL.replace(r#""level":"MUST""#, r#""level":"MUSTN'T""#), "/level"),
            (&MINIMAL.replace(r#"{"request":{"method":"ping"}}"#, r#"{"request":{"method":"ping"},"raw":"x"}"#), "/steps/0"),
            (&MINIMAL.replace(r#""method":"ping""#, r#""method":"ping","bogus":1"#), "/steps/0/request"),
            (&MINIMAL.replace(r#""versions""#, "").replace(r#""title":"t""#, r#""title":"t","versions":["2020-01-01"]"#), "/versions"),
            (&MINIMAL.replace(r#"{"request":{"method":"ping"}}"#, r#"{"for_each":{"in":"x","as":"y","concurrent":true,"steps":[{"sleep_ms":1}]}}"#), "/steps/0/for_each/concurrent"),
            (&MINIMAL.replace(r#"{"request":{"method":"ping"}}"#, r#"{"for_each":{"in":"x","as":"y","concurrent":true,"first":true,"steps":[{"request":{"method":"ping"}}]}}"#), "/steps/0/for_each/concurrent"),
        ];
        for (text, pointer) in cases {
            let e = parse_cases("cases/x.json", text).unwrap_err();
            assert_eq!(e.file, "cases/x.json");
            assert!(e.pointer.starts_with(pointer), "{e} should point at {pointer}");
        }
        let e = parse_cases("f.json", "{\n  \"id\": ,\n}").unwrap_err();
        assert!(e.message.contains("line 2"), "{e}");
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let e = load_sources([("a.json", MINIMAL), ("b.json", MINIMAL)]).unwrap_err();
        assert!(e.message.contains("duplicate"), "{e}");
    }
}

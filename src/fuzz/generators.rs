//! Generators: proptest strategies for fuzz sessions, and the renderer that turns
//! abstract operations into the exact bytes sent, each with what the server owes it.
//!
//! A session is an opener (the lifecycle: `initialize` + `notifications/initialized`,
//! sometimes broken or missing; nothing for the stateless 2026-07-28) followed by a
//! body of operations drawn from typed strategies: valid requests and notifications
//! of every method of the version, malformed variants of them (broken JSON, wrong or
//! missing `jsonrpc`, ids of wrong types, huge or negative ids, deep nesting, huge
//! strings, unknown methods, params of wrong types, missing and extra members,
//! invalid UTF-8, embedded newlines, batches, duplicate ids, cancellations,
//! out-of-order lifecycle, notifications with ids). Operations carry selectors that
//! the renderer resolves against the session's state (recent request ids, subscribed
//! resources, the lifecycle phase): a small state machine.
//!
//! Deterministic: the same seed, session index, version and catalogue give the same
//! bytes. No clock, no hash-map iteration order.

use super::invariants::{Class, Expect, NullError, Reply};
use crate::spec::{Level, ProtocolVersion, TransportKind, error_code, meta_key};
use crate::wire::Id;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// What the server offers, discovered once per version before fuzzing: the
/// stateful operations call, read and get these.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// The server's declared capabilities.
    pub capabilities: Value,
    /// Tools annotated `readOnlyHint: true`, with arguments synthesised from their
    /// input schema. Only these are ever called.
    pub tools: Vec<Tool>,
    pub resources: Vec<String>,
    /// Prompts with their required arguments filled in.
    pub prompts: Vec<(String, Value)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub arguments: Value,
    /// It did not answer within [`SLOW_TOOL`] at discovery: every call to it is
    /// cancelled at once (so a window never waits for it).
    pub slow: bool,
}

/// A read-only tool slower than this at discovery is cancelled right after each call.
pub const SLOW_TOOL: std::time::Duration = std::time::Duration::from_millis(250);

impl Catalogue {
    fn has(&self, capability: &str) -> bool {
        self.capabilities.get(capability).is_some_and(|c| !c.is_null())
    }
}

/// Everything generation depends on.
#[derive(Debug, Clone)]
pub struct GenContext {
    pub version: ProtocolVersion,
    pub transport: TransportKind,
    pub catalogue: Arc<Catalogue>,
}

/// What a message does to the session's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    None,
    /// An `initialize` request; `valid` when the server must accept it.
    Initialize { valid: bool },
    /// `notifications/initialized`.
    Initialized,
    /// `notifications/cancelled` for this id.
    Cancel(Id),
}

/// One message as sent: exact bytes and what the server owes it.
#[derive(Debug, Clone)]
pub struct FuzzMessage {
    /// The generator that made it, e.g. `valid/tools/call`, `malformed/id-float`.
    pub label: &'static str,
    /// The frame, without the stdio newline (it may contain newlines of its own).
    pub bytes: Vec<u8>,
    /// The method, for requests whose response can be correlated (schema validation).
    pub method: Option<String>,
    /// What the server owes, in an initialised session (see `plan`).
    pub expects: Vec<Expect>,
    pub effect: Effect,
    /// Before initialisation completes, the reply's class is the server's choice.
    pub phase_sensitive: bool,
    /// A window ends after this message (the lifecycle orders what follows).
    pub barrier: bool,
    /// This message has a window of its own: an id-null error may stand in for its
    /// reply, which is only unambiguous when nothing else in the window expects one.
    pub isolate: bool,
    /// The next message goes in the same window (a call and its cancellation).
    pub keep_with_next: bool,
    /// Refers to the target's own tools, resources or prompts (not comparable with
    /// another server's answers).
    pub catalogue: bool,
}

impl FuzzMessage {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

// ----- abstract operations ---------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum IdShape {
    Int,
    Str,
    Negative,
    /// Near u64::MAX.
    BigU64,
    /// Near i64::MIN.
    MinI64,
    /// Beyond 2^53 (JavaScript loses precision).
    Js,
    Unicode,
    Long,
}

#[derive(Debug, Clone)]
struct ReqSpec {
    label: &'static str,
    method: String,
    params: Option<Value>,
    class: Class,
    level: Level,
    code_level: Level,
    catalogue: bool,
    optional: bool,
    phase_sensitive: bool,
    /// Follow the request with `notifications/cancelled` for it, in the same window.
    cancel_after: bool,
}

impl ReqSpec {
    fn new(label: &'static str, method: &str, params: Option<Value>, class: Class) -> ReqSpec {
        ReqSpec {
            label,
            method: method.to_string(),
            params,
            class,
            level: Level::Must,
            code_level: Level::Must,
            catalogue: false,
            optional: false,
            phase_sensitive: true,
            cancel_after: false,
        }
    }

    fn levels(mut self, level: Level, code_level: Level) -> ReqSpec {
        self.level = level;
        self.code_level = code_level;
        self
    }

    fn catalogue(mut self) -> ReqSpec {
        self.catalogue = true;
        self
    }
}

/// How a valid request is broken.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    /// 0 "1.0", 1 missing, 2 number 2.0, 3 "2.0 ", 4 null.
    Jsonrpc(u8),
    /// 0 float, 1 bool, 2 object, 3 array, 4 null.
    IdType(u8),
    /// params: 0 number, 1 string, 2 boolean, 3 null, 4 array.
    ParamsType(u8),
    /// 0 truncate, 1 stray character, 2 delete a character, 3 single quotes.
    Broken(u8, Index),
    /// An invalid byte sequence: inside a string (0..4) or around the object (4).
    Utf8(u8),
    /// 0 around the braces, 1 inside a string, 2 pretty-printed.
    Newline(u8),
    TopExtra,
    ParamExtra,
    Deep(usize),
    Huge(usize),
}

/// For the stateless 2026-07-28 protocol: the `_meta` a request carries.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MetaMode {
    Full,
    None,
    MissingVersion,
    MissingCaps,
    Unsupported,
    VersionWrongType,
}

#[derive(Debug, Clone)]
enum Garbage {
    NotObject(u8),
    Empty,
    Whitespace,
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Op {
    Req { spec: ReqSpec, id: IdShape, mutation: Mutation, meta: MetaMode },
    /// A notification; `Some(id)` sends it with an id (a request for a notification method).
    Note { label: &'static str, method: &'static str, params: Option<Value>, with_id: bool },
    Cancel { pick: Option<Index>, reason: bool },
    Reuse { pick: Index },
    Subscribe { pick: Index, unsubscribe: bool, id: IdShape },
    Batch { items: Vec<(ReqSpec, bool)>, empty: bool },
    Garbage(Garbage),
    Reinit(u8),
    StrayInitialized,
}

#[derive(Debug, Clone)]
enum Opener {
    Standard { caps: Value, name: String },
    NoInit,
    BadInit(u8),
    NoInitialized,
    /// 2026-07-28: whether to call `server/discover` first.
    Stateless { discover: bool },
}

// ----- strategies ------------------------------------------------------------------

const ALPHABET: &[char] = &[
    'a', 'b', 'q', 'z', 'A', 'Z', '0', '7', ' ', '-', '_', '.', '/', ':', '"', '\\', '\n', '\t', '\r', '\u{0}', '\u{7f}',
    'é', 'ß', 'ф', '中', '😀', '\u{202e}', '\u{feff}', '{', '}', '[', ']', ',', '%', '#', '?', '&', '=', '\'',
];

/// Short strings over an alphabet of JSON-awkward characters (quotes, backslashes,
/// control characters, non-BMP). Never `$`: case files substitute `${...}`.
fn text() -> BoxedStrategy<String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..12).prop_map(String::from_iter).boxed()
}

fn cursor() -> BoxedStrategy<Option<String>> {
    prop_oneof![4 => Just(None), 1 => text().prop_map(Some)].boxed()
}

fn id_shape() -> BoxedStrategy<IdShape> {
    prop_oneof![
        60 => Just(IdShape::Int),
        20 => Just(IdShape::Str),
        4 => Just(IdShape::Negative),
        3 => Just(IdShape::BigU64),
        3 => Just(IdShape::MinI64),
        3 => Just(IdShape::Js),
        4 => Just(IdShape::Unicode),
        3 => Just(IdShape::Long),
    ]
    .boxed()
}

fn with_cursor(c: Option<String>) -> Option<Value> {
    Some(match c {
        Some(c) => json!({ "cursor": c }),
        None => json!({}),
    })
}

/// A list method: a result when the capability is declared and no cursor is made up.
fn list(label: &'static str, method: &'static str, capability: &'static str, cat: &Arc<Catalogue>) -> BoxedStrategy<ReqSpec> {
    let has = cat.has(capability);
    cursor()
        .prop_map(move |c| {
            let class = if has && c.is_none() { Class::Result } else { Class::Any };
            ReqSpec::new(label, method, with_cursor(c), class)
        })
        .boxed()
}

fn pick<T: Clone>(items: &[T], index: &Index) -> Option<T> {
    if items.is_empty() { None } else { Some(items[index.index(items.len())].clone()) }
}

/// Valid requests of every method of the version (initialize is the opener's).
fn valid_request(v: ProtocolVersion, cat: &Arc<Catalogue>) -> BoxedStrategy<ReqSpec> {
    let c = cat.clone();
    let tools_call = (any::<Index>(), any::<bool>(), text())
        .prop_map(move |(i, known, name)| match pick(&c.tools, &i).filter(|_| known || c.tools.is_empty()) {
            Some(tool) => {
                let mut spec = ReqSpec::new("valid/tools/call", "tools/call", Some(json!({"name": tool.name, "arguments": tool.arguments})), Class::Any).catalogue();
                spec.cancel_after = tool.slow;
                spec
            }
            None => ReqSpec::new("valid/tools/call-unknown", "tools/call", Some(json!({"name": format!("fz-no-such-tool-{name}"), "arguments": {}})), Class::Any),
        })
        .boxed();
    let c = cat.clone();
    let read = (any::<Index>(), any::<bool>(), text())
        .prop_map(move |(i, known, junk)| match pick(&c.resources, &i).filter(|_| known) {
            Some(uri) => ReqSpec::new("valid/resources/read", "resources/read", Some(json!({"uri": uri})), Class::Any).catalogue(),
            None => ReqSpec::new("valid/resources/read-unknown", "resources/read", Some(json!({"uri": format!("fz://no-such/{}", junk.len())})), Class::Any),
        })
        .boxed();
    let c = cat.clone();
    let get = (any::<Index>(), any::<bool>())
        .prop_map(move |(i, known)| match pick(&c.prompts, &i).filter(|_| known) {
            Some((name, args)) => ReqSpec::new("valid/prompts/get", "prompts/get", Some(json!({"name": name, "arguments": args})), Class::Any).catalogue(),
            None => ReqSpec::new("valid/prompts/get-unknown", "prompts/get", Some(json!({"name": "fz-no-such-prompt"})), Class::Any),
        })
        .boxed();
    let c = cat.clone();
    let complete = (any::<Index>(), text())
        .prop_map(move |(i, value)| {
            let reference = match pick(&c.prompts, &i) {
                Some((name, _)) => json!({"type": "ref/prompt", "name": name}),
                None => json!({"type": "ref/prompt", "name": "fz-prompt"}),
            };
            ReqSpec::new("valid/completion/complete", "completion/complete", Some(json!({"ref": reference, "argument": {"name": "arg", "value": value}})), Class::Any)
        })
        .boxed();
    let mut options: Vec<(u32, BoxedStrategy<ReqSpec>)> = vec![
        (6, list("valid/tools/list", "tools/list", "tools", cat)),
        (3, list("valid/resources/list", "resources/list", "resources", cat)),
        (2, list("valid/resources/templates/list", "resources/templates/list", "resources", cat)),
        (3, list("valid/prompts/list", "prompts/list", "prompts", cat)),
        (6, tools_call),
        (3, read),
        (3, get),
        (2, complete),
    ];
    if v.is_stateless() {
        options.push((4, Just(ReqSpec::new("valid/server/discover", "server/discover", Some(json!({})), Class::Result)).boxed()));
        let listen = prop::collection::vec(any::<bool>(), 3)
            .prop_map(|flags| {
                let mut spec = ReqSpec::new(
                    "valid/subscriptions/listen",
                    "subscriptions/listen",
                    Some(json!({"notifications": {"toolsListChanged": flags[0], "promptsListChanged": flags[1], "resourcesListChanged": flags[2]}})),
                    Class::Any,
                );
                spec.optional = true; // a stream: answered only when it ends
                spec
            })
            .boxed();
        options.push((1, listen));
    } else {
        let ping = prop_oneof![
            Just(None),
            Just(Some(json!({}))),
            (0u32..1000).prop_map(|t| Some(json!({"_meta": {"progressToken": t}}))),
        ]
        .prop_map(|params| {
            let mut spec = ReqSpec::new("valid/ping", "ping", params, Class::Result);
            spec.phase_sensitive = false;
            spec
        })
        .boxed();
        options.push((6, ping));
        let levels = prop::sample::select(&["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"][..])
            .prop_map(|level| ReqSpec::new("valid/logging/setLevel", "logging/setLevel", Some(json!({"level": level})), Class::Any))
            .boxed();
        options.push((2, levels));
        let c = cat.clone();
        let subscribe = (any::<Index>(), any::<bool>())
            .prop_map(move |(i, sub)| {
                let uri = pick(&c.resources, &i).unwrap_or_else(|| "fz://nothing".into());
                let method = if sub { "resources/subscribe" } else { "resources/unsubscribe" };
                let label = if sub { "valid/resources/subscribe" } else { "valid/resources/unsubscribe" };
                ReqSpec::new(label, method, Some(json!({"uri": uri})), Class::Any).catalogue()
            })
            .boxed();
        options.push((1, subscribe));
    }
    if v == ProtocolVersion::V2025_11_25 {
        let tasks = (prop::sample::select(&["tasks/get", "tasks/result", "tasks/cancel", "tasks/list"][..]), text())
            .prop_map(|(method, id)| {
                let params = if method == "tasks/list" { json!({}) } else { json!({"taskId": format!("fz-task-{id}")}) };
                let label = match method {
                    "tasks/get" => "valid/tasks/get",
                    "tasks/result" => "valid/tasks/result",
                    "tasks/cancel" => "valid/tasks/cancel",
                    _ => "valid/tasks/list",
                };
                ReqSpec::new(label, method, Some(params), Class::Any)
            })
            .boxed();
        options.push((2, tasks));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

/// Requests whose params break the method's schema: an error is due.
fn bad_params(v: ProtocolVersion) -> BoxedStrategy<ReqSpec> {
    let e = || Class::Error(vec![error_code::INVALID_PARAMS]);
    let mut cases: Vec<ReqSpec> = vec![
        ReqSpec::new("malformed/tools/call-name-type", "tools/call", Some(json!({"name": 42, "arguments": {}})), e()),
        ReqSpec::new("malformed/tools/call-no-name", "tools/call", Some(json!({"arguments": {}})), e()),
        ReqSpec::new("malformed/tools/call-arguments-type", "tools/call", Some(json!({"name": "fz-tool", "arguments": "not an object"})), e())
            .levels(Level::Should, Level::Should),
        ReqSpec::new("malformed/resources/read-uri-type", "resources/read", Some(json!({"uri": 7})), e()),
        ReqSpec::new("malformed/resources/read-no-uri", "resources/read", Some(json!({})), e()),
        ReqSpec::new("malformed/prompts/get-name-type", "prompts/get", Some(json!({"name": ["x"]})), e()),
        ReqSpec::new("malformed/prompts/get-no-name", "prompts/get", Some(json!({})), e()),
        ReqSpec::new("malformed/tools/list-cursor-type", "tools/list", Some(json!({"cursor": {"page": 2}})), e()),
        ReqSpec::new("malformed/completion/complete-no-ref", "completion/complete", Some(json!({"argument": {"name": "a", "value": "b"}})), e()),
    ];
    if !v.is_stateless() {
        cases.push(ReqSpec::new("malformed/logging/setLevel-level", "logging/setLevel", Some(json!({"level": "loudest"})), e()));
        cases.push(ReqSpec::new("malformed/resources/subscribe-no-uri", "resources/subscribe", Some(json!({})), e()));
    }
    for c in &mut cases {
        // The JSON-RPC rule is clear (the request cannot succeed); the exact code is
        // the recommended one.
        if c.level == Level::Must {
            c.code_level = Level::Should;
        }
    }
    prop::sample::select(cases).boxed()
}

fn unknown_method(v: ProtocolVersion) -> BoxedStrategy<ReqSpec> {
    let mut names: Vec<String> =
        ["fz/unknown", "tools/lists", "Tools/List", "TOOLS/CALL", "", " ping", "rpc.discover", "resources/", "notifications/fz-unknown", "prompts//get"]
            .into_iter()
            .map(str::to_string)
            .collect();
    if v.is_stateless() {
        names.retain(|n| n != " ping");
    }
    (prop::sample::select(names), text())
        .prop_map(|(name, suffix)| {
            let method = if name == "fz/unknown" { format!("fz/unknown-{}", suffix.len()) } else { name };
            ReqSpec::new("malformed/unknown-method", &method, Some(json!({})), Class::Error(vec![error_code::METHOD_NOT_FOUND]))
        })
        .boxed()
}

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => (0u8..5).prop_map(Mutation::Jsonrpc),
        3 => (0u8..5).prop_map(Mutation::IdType),
        3 => (0u8..5).prop_map(Mutation::ParamsType),
        4 => (0u8..4, any::<Index>()).prop_map(|(k, i)| Mutation::Broken(k, i)),
        2 => (0u8..5).prop_map(Mutation::Utf8),
        2 => (0u8..3).prop_map(Mutation::Newline),
        1 => Just(Mutation::TopExtra),
        2 => Just(Mutation::ParamExtra),
        1 => prop::sample::select(&[10usize, 64, 127, 128, 129, 200, 1000, 5000][..]).prop_map(Mutation::Deep),
        1 => prop::sample::select(&[4096usize, 65_536, 300_000, 1_000_000][..]).prop_map(Mutation::Huge),
    ]
    .boxed()
}

fn meta_mode() -> BoxedStrategy<MetaMode> {
    prop_oneof![
        2 => Just(MetaMode::None),
        2 => Just(MetaMode::MissingVersion),
        2 => Just(MetaMode::MissingCaps),
        2 => Just(MetaMode::Unsupported),
        1 => Just(MetaMode::VersionWrongType),
    ]
    .boxed()
}

/// A notification: its generator label, method and params.
type NoteOp = (&'static str, &'static str, Option<Value>);

fn notification(v: ProtocolVersion) -> BoxedStrategy<NoteOp> {
    let mut options: Vec<(u32, BoxedStrategy<NoteOp>)> = vec![
        (3, (0u32..10_000, 0u32..100).prop_map(|(t, p)| ("valid/notifications/progress", "notifications/progress", Some(json!({"progressToken": format!("fz-{t}"), "progress": p})))).boxed()),
        (2, text().prop_map(|s| ("valid/notifications/unknown", "notifications/fz-unknown", Some(json!({"note": s})))).boxed()),
        (1, Just(("malformed/notifications/cancelled-no-id", "notifications/cancelled", Some(json!({"reason": "no request id"})))).boxed()),
        (1, Just(("malformed/notifications/progress-params", "notifications/progress", Some(json!("not an object")))).boxed()),
    ];
    if !v.is_stateless() {
        options.push((2, Just(("valid/notifications/roots/list_changed", "notifications/roots/list_changed", None)).boxed()));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

fn garbage() -> BoxedStrategy<Garbage> {
    prop_oneof![
        3 => (0u8..6).prop_map(Garbage::NotObject),
        1 => Just(Garbage::Empty),
        1 => Just(Garbage::Whitespace),
        3 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Garbage::Bytes),
    ]
    .boxed()
}

fn op(ctx: &GenContext) -> BoxedStrategy<Op> {
    let v = ctx.version;
    let cat = &ctx.catalogue;
    let meta_for = move |m: MetaMode| if v.is_stateless() { m } else { MetaMode::Full };
    let valid = (valid_request(v, cat), id_shape())
        .prop_map(move |(spec, id)| Op::Req { spec, id, mutation: Mutation::None, meta: MetaMode::Full })
        .boxed();
    let mutated = (valid_request(v, cat), id_shape(), mutation())
        .prop_map(move |(spec, id, mutation)| Op::Req { spec, id, mutation, meta: MetaMode::Full })
        .boxed();
    let bad = (bad_params(v), id_shape()).prop_map(move |(spec, id)| Op::Req { spec, id, mutation: Mutation::None, meta: meta_for(MetaMode::Full) }).boxed();
    let unknown = (unknown_method(v), id_shape()).prop_map(|(spec, id)| Op::Req { spec, id, mutation: Mutation::None, meta: MetaMode::Full }).boxed();
    let note = (notification(v), prop::bool::weighted(0.2))
        .prop_map(|((label, method, params), with_id)| Op::Note { label, method, params, with_id })
        .boxed();
    let cancel = (prop::option::weighted(0.7, any::<Index>()), any::<bool>()).prop_map(|(pick, reason)| Op::Cancel { pick, reason }).boxed();
    let reuse = any::<Index>().prop_map(|pick| Op::Reuse { pick }).boxed();
    let batch_item = (valid_request(v, cat), prop::bool::weighted(0.25)).boxed();
    let batch = (prop::collection::vec(batch_item, 1..5), prop::bool::weighted(0.1)).prop_map(|(items, empty)| Op::Batch { items, empty }).boxed();
    let mut options: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (44, valid),
        (22, mutated),
        (6, bad),
        (5, unknown),
        (7, note),
        (4, cancel),
        (2, reuse),
        (2, batch),
        (3, garbage().prop_map(Op::Garbage).boxed()),
    ];
    if v.is_stateless() {
        let meta = (valid_request(v, cat), id_shape(), meta_mode())
            .prop_map(|(spec, id, meta)| Op::Req { spec, id, mutation: Mutation::None, meta })
            .boxed();
        options.push((6, meta));
    } else {
        options.push((1, (0u8..4).prop_map(Op::Reinit).boxed()));
        options.push((1, Just(Op::StrayInitialized).boxed()));
        let c = cat.clone();
        if !c.resources.is_empty() {
            let sub = (any::<Index>(), any::<bool>(), id_shape()).prop_map(|(pick, unsubscribe, id)| Op::Subscribe { pick, unsubscribe, id }).boxed();
            options.push((2, sub));
        }
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

fn client_capabilities(v: ProtocolVersion) -> BoxedStrategy<Value> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>())
        .prop_map(move |(roots, list_changed, sampling, elicitation)| {
            let mut caps = Map::new();
            if roots {
                caps.insert("roots".into(), json!({"listChanged": list_changed}));
            }
            if sampling {
                caps.insert("sampling".into(), json!({}));
            }
            if elicitation && v >= ProtocolVersion::V2025_06_18 {
                caps.insert("elicitation".into(), json!({}));
            }
            Value::Object(caps)
        })
        .boxed()
}

fn opener(v: ProtocolVersion) -> BoxedStrategy<Opener> {
    if v.is_stateless() {
        return any::<bool>().prop_map(|discover| Opener::Stateless { discover }).boxed();
    }
    prop_oneof![
        85 => (client_capabilities(v), text()).prop_map(|(caps, name)| Opener::Standard { caps, name }),
        5 => Just(Opener::NoInit),
        6 => (0u8..3).prop_map(Opener::BadInit),
        4 => Just(Opener::NoInitialized),
    ]
    .boxed()
}

/// Derive the session's RNG seed from the run seed and the session index.
fn session_seed(seed: u64, index: u64, version: ProtocolVersion) -> [u8; 32] {
    let mut state = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (version as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out
}

/// Generate session `index` of a run: about `len` messages (the opener included).
pub fn session(ctx: &GenContext, seed: u64, index: u64, len: usize) -> Vec<FuzzMessage> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &session_seed(seed, index, ctx.version));
    let mut runner = TestRunner::new_with_rng(Config { failure_persistence: None, ..Config::default() }, rng);
    let body = len.saturating_sub(2).max(1);
    let strategy = (opener(ctx.version), prop::collection::vec(op(ctx), body));
    let (opener, ops) = strategy.new_tree(&mut runner).expect("fuzz strategies never reject").current();
    let mut r = Renderer::new(ctx);
    r.opener(opener);
    for op in ops {
        r.op(op);
    }
    r.out
}

/// The liveness probe that ends every window: `ping` (or `server/discover` for the
/// stateless protocol, which has no ping).
pub fn sentinel(version: ProtocolVersion, n: usize) -> FuzzMessage {
    let id = Id::String(format!("fz-sentinel-{n}"));
    let (method, params) = if version.is_stateless() { ("server/discover", Some(stateless_meta(version, Some(json!({}))))) } else { ("ping", None) };
    let mut v = json!({"jsonrpc": "2.0", "id": id.to_value(), "method": method});
    if let Some(p) = params {
        v["params"] = p;
    }
    FuzzMessage {
        label: "sentinel",
        bytes: serde_json::to_vec(&v).expect("serialisable"),
        method: Some(method.into()),
        expects: vec![Expect::Reply(Reply { id, class: Class::Result, level: Level::Must, code_level: Level::Must, optional: false, alt_null: false })],
        effect: Effect::None,
        phase_sensitive: false,
        barrier: false,
        isolate: false,
        keep_with_next: false,
        catalogue: false,
    }
}

fn stateless_meta(version: ProtocolVersion, params: Option<Value>) -> Value {
    let mut p = match params {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    };
    let meta = p.entry("_meta").or_insert_with(|| json!({}));
    if let Value::Object(m) = meta {
        m.insert(meta_key::PROTOCOL_VERSION.into(), json!(version.as_str()));
        m.insert(meta_key::CLIENT_CAPABILITIES.into(), json!({}));
        m.insert(meta_key::CLIENT_INFO.into(), json!({"name": "mcp-conform-fuzz", "version": env!("CARGO_PKG_VERSION")}));
    }
    Value::Object(p)
}

/// What the server owes bytes that are not a request it can read.
pub fn expect_for_garbage(bytes: &[u8]) -> Expect {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Expect::Lenient(Vec::new()); // servers may skip blank lines
    }
    match std::str::from_utf8(bytes).ok().and_then(|t| serde_json::from_str::<Value>(t).ok()) {
        None => Expect::NullError(NullError {
            codes: vec![error_code::PARSE_ERROR],
            echo: None,
            answer_level: Level::Should,
            code_level: Level::Must,
        }),
        Some(Value::Object(_)) | Some(Value::Array(_)) => Expect::Lenient(Vec::new()),
        Some(_) => Expect::NullError(NullError {
            codes: vec![error_code::INVALID_REQUEST],
            echo: None,
            answer_level: Level::Should,
            code_level: Level::Should,
        }),
    }
}

// ----- rendering ---------------------------------------------------------------------

struct Renderer<'a> {
    ctx: &'a GenContext,
    next: u64,
    /// Ids of recent requests (not initialize), newest last: targets for cancel and reuse.
    recent: Vec<Id>,
    subscribed: Vec<String>,
    out: Vec<FuzzMessage>,
}

impl<'a> Renderer<'a> {
    fn new(ctx: &'a GenContext) -> Renderer<'a> {
        Renderer { ctx, next: 1, recent: Vec::new(), subscribed: Vec::new(), out: Vec::new() }
    }

    fn fresh_id(&mut self, shape: IdShape) -> Id {
        let n = self.next;
        self.next += 1;
        match shape {
            IdShape::Int => Id::Number(n.into()),
            IdShape::Str => Id::String(format!("fz-{n}")),
            IdShape::Negative => Id::Number((-(n as i64)).into()),
            IdShape::BigU64 => Id::Number((u64::MAX - n).into()),
            IdShape::MinI64 => Id::Number((i64::MIN + n as i64).into()),
            IdShape::Js => Id::Number(((1u64 << 53) + n).into()),
            IdShape::Unicode => Id::String(format!("fz-ф中😀-{n}")),
            IdShape::Long => Id::String(format!("{}-{n}", "fz".repeat(300))),
        }
    }

    fn push(&mut self, mut m: FuzzMessage) {
        if self.ctx.transport != TransportKind::Stdio {
            over_http(&mut m);
        }
        self.out.push(m);
    }

    fn version(&self) -> ProtocolVersion {
        self.ctx.version
    }

    fn init_params(&self, caps: Value, name: &str) -> Value {
        json!({
            "protocolVersion": self.version().as_str(),
            "capabilities": caps,
            "clientInfo": {"name": format!("mcp-conform-fuzz {name}"), "version": env!("CARGO_PKG_VERSION")},
        })
    }

    fn initialize(&mut self, label: &'static str, params: Value, class: Class, level: Level, valid: bool) {
        let id = self.fresh_id(IdShape::Int);
        let v = json!({"jsonrpc": "2.0", "id": id.to_value(), "method": "initialize", "params": params});
        self.push(FuzzMessage {
            label,
            bytes: to_bytes(&v),
            method: Some("initialize".into()),
            expects: vec![reply(id, class, level, Level::Should)],
            effect: Effect::Initialize { valid },
            phase_sensitive: false,
            barrier: true,
            isolate: false,
            keep_with_next: false,
            catalogue: false,
        });
    }

    fn initialized(&mut self, label: &'static str) {
        let v = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        self.push(FuzzMessage {
            label,
            bytes: to_bytes(&v),
            method: None,
            expects: vec![Expect::Silence],
            effect: Effect::Initialized,
            phase_sensitive: false,
            barrier: false,
            isolate: false,
            keep_with_next: false,
            catalogue: false,
        });
    }

    fn opener(&mut self, opener: Opener) {
        match opener {
            Opener::Standard { caps, name } => {
                let p = self.init_params(caps, &name);
                self.initialize("lifecycle/initialize", p, Class::Result, Level::Must, true);
                self.initialized("lifecycle/initialized");
            }
            Opener::NoInit => {}
            Opener::BadInit(k) => {
                let mut p = self.init_params(json!({}), "bad");
                let label = match k {
                    0 => {
                        p.as_object_mut().unwrap().remove("protocolVersion");
                        "lifecycle/initialize-no-version"
                    }
                    1 => {
                        p["capabilities"] = json!("none");
                        "lifecycle/initialize-capabilities-type"
                    }
                    _ => {
                        p["protocolVersion"] = json!(20250618);
                        "lifecycle/initialize-version-type"
                    }
                };
                self.initialize(label, p, Class::Error(vec![error_code::INVALID_PARAMS]), Level::Should, false);
                self.initialized("lifecycle/initialized-after-failed-initialize");
            }
            Opener::NoInitialized => {
                let p = self.init_params(json!({}), "no-initialized");
                self.initialize("lifecycle/initialize", p, Class::Result, Level::Must, true);
            }
            Opener::Stateless { discover } => {
                if discover {
                    let id = self.fresh_id(IdShape::Int);
                    let spec = ReqSpec::new("valid/server/discover", "server/discover", Some(json!({})), Class::Result);
                    let m = self.request(spec, id, Mutation::None, MetaMode::Full);
                    self.push(m);
                }
            }
        }
    }

    fn op(&mut self, op: Op) {
        match op {
            Op::Req { spec, id, mutation, meta } => {
                let id = self.fresh_id(id);
                let cancel_after = spec.cancel_after;
                let mut m = self.request(spec, id.clone(), mutation, meta);
                if m.method.is_some() {
                    self.remember(id.clone());
                }
                if cancel_after && m.method.is_some() {
                    // A slow tool: cancelled at once, so its answer is optional and no
                    // window waits for it.
                    m.isolate = false;
                    m.keep_with_next = true;
                    self.push(m);
                    self.cancel("state/cancel-slow-call", id, true);
                    return;
                }
                self.push(m);
            }
            Op::Note { label, method, params, with_id } => {
                let structured = params.as_ref().is_none_or(|p| p.is_object() || p.is_array());
                let mut v = json!({"jsonrpc": "2.0", "method": method});
                if let Some(p) = params {
                    v["params"] = p;
                }
                if with_id {
                    let id = self.fresh_id(IdShape::Int);
                    v["id"] = id.to_value();
                    // JSON-RPC: a message with an id is a request and is answered; an
                    // error is the sensible answer for a notification method.
                    self.push(FuzzMessage {
                        label: "malformed/notification-with-id",
                        bytes: to_bytes(&v),
                        method: Some(method_str(&v)),
                        expects: vec![reply(id, Class::Error(Vec::new()), Level::Should, Level::Should)],
                        effect: Effect::None,
                        phase_sensitive: false,
                        barrier: false,
                        isolate: false,
                        keep_with_next: false,
                        catalogue: false,
                    });
                    return;
                }
                // Non-structured params make an invalid request object, which JSON-RPC
                // answers (id null) even without an id.
                let expect = if structured {
                    Expect::Silence
                } else {
                    Expect::NullError(NullError { codes: vec![error_code::INVALID_REQUEST], echo: None, answer_level: Level::Should, code_level: Level::Should })
                };
                self.push(FuzzMessage {
                    label,
                    bytes: to_bytes(&v),
                    method: None,
                    expects: vec![expect],
                    effect: Effect::None,
                    phase_sensitive: false,
                    barrier: false,
                    isolate: false,
                    keep_with_next: false,
                    catalogue: false,
                });
            }
            Op::Cancel { pick: target, reason } => {
                let (label, id) = match target.and_then(|i| pick(&self.recent, &i)) {
                    Some(id) => ("valid/notifications/cancelled", id),
                    None => {
                        let n = self.next;
                        self.next += 1;
                        ("malformed/cancel-unknown-id", Id::String(format!("fz-never-sent-{n}")))
                    }
                };
                self.cancel(label, id, reason);
            }
            Op::Reuse { pick: target } => {
                let Some(id) = pick(&self.recent, &target) else { return };
                let (method, params) = if self.version().is_stateless() {
                    ("tools/list", Some(stateless_meta(self.version(), Some(json!({})))))
                } else {
                    ("ping", None)
                };
                let mut v = json!({"jsonrpc": "2.0", "id": id.to_value(), "method": method});
                if let Some(p) = params {
                    v["params"] = p;
                }
                let mut r = reply(id, Class::Any, Level::Must, Level::Must);
                if let Expect::Reply(rr) = &mut r {
                    rr.optional = true;
                }
                self.push(FuzzMessage {
                    label: "malformed/duplicate-id",
                    bytes: to_bytes(&v),
                    method: Some(method.into()),
                    expects: vec![r],
                    effect: Effect::None,
                    phase_sensitive: false,
                    barrier: false,
                    isolate: false,
                    keep_with_next: false,
                    catalogue: false,
                });
            }
            Op::Subscribe { pick: target, unsubscribe, id } => {
                let id = self.fresh_id(id);
                let uri = if unsubscribe && !self.subscribed.is_empty() {
                    let i = target.index(self.subscribed.len());
                    self.subscribed.remove(i)
                } else {
                    let uri = pick(&self.ctx.catalogue.resources, &target).unwrap_or_else(|| "fz://nothing".into());
                    if !unsubscribe {
                        self.subscribed.push(uri.clone());
                    }
                    uri
                };
                let (label, method) =
                    if unsubscribe { ("state/resources/unsubscribe", "resources/unsubscribe") } else { ("state/resources/subscribe", "resources/subscribe") };
                let spec = ReqSpec::new(label, method, Some(json!({"uri": uri})), Class::Any).catalogue();
                let m = self.request(spec, id.clone(), Mutation::None, MetaMode::Full);
                self.remember(id);
                self.push(m);
            }
            Op::Batch { items, empty } => self.batch(items, empty),
            Op::Garbage(g) => {
                let (label, bytes): (&'static str, Vec<u8>) = match g {
                    Garbage::NotObject(k) => ("malformed/not-an-object", ["42", "\"ping\"", "null", "true", "1.5e3", "-0"][k as usize % 6].as_bytes().to_vec()),
                    Garbage::Empty => ("malformed/empty-line", Vec::new()),
                    Garbage::Whitespace => ("malformed/whitespace-line", b"  \t ".to_vec()),
                    Garbage::Bytes(mut b) => {
                        b.retain(|&c| c != b'\n');
                        if b.is_empty() {
                            b.push(b'x');
                        }
                        ("malformed/random-bytes", b)
                    }
                };
                let expects = vec![expect_for_garbage(&bytes)];
                self.push(FuzzMessage {
                    label,
                    bytes,
                    method: None,
                    expects,
                    effect: Effect::None,
                    phase_sensitive: false,
                    barrier: false,
                    isolate: false,
                    keep_with_next: false,
                    catalogue: false,
                });
            }
            Op::Reinit(k) => {
                let mut p = self.init_params(json!({}), "again");
                let label = match k {
                    0 => "lifecycle/initialize-again",
                    1 => {
                        p["protocolVersion"] = json!("1999-01-01");
                        "lifecycle/initialize-again-unknown-version"
                    }
                    2 => {
                        p["protocolVersion"] = json!("2099-12-31");
                        "lifecycle/initialize-again-future-version"
                    }
                    _ => {
                        p.as_object_mut().unwrap().remove("clientInfo");
                        "lifecycle/initialize-again-no-client-info"
                    }
                };
                // A second initialize: the spec does not say what the server does.
                self.initialize(label, p, Class::Any, Level::Must, false);
            }
            Op::StrayInitialized => self.initialized("lifecycle/initialized-again"),
        }
    }

    fn cancel(&mut self, label: &'static str, id: Id, reason: bool) {
        let mut params = json!({"requestId": id.to_value()});
        if reason {
            params["reason"] = json!("mcp-conform fuzz");
        }
        let v = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params});
        self.push(FuzzMessage {
            label,
            bytes: to_bytes(&v),
            method: None,
            expects: vec![Expect::Silence],
            effect: Effect::Cancel(id),
            phase_sensitive: false,
            barrier: false,
            isolate: false,
            keep_with_next: false,
            catalogue: false,
        });
    }

    fn remember(&mut self, id: Id) {
        self.recent.push(id);
        if self.recent.len() > 32 {
            self.recent.remove(0);
        }
    }

    fn base_value(&self, spec: &ReqSpec, id: &Id, meta: MetaMode) -> Value {
        let mut v = json!({"jsonrpc": "2.0", "id": id.to_value(), "method": spec.method});
        let params = if self.version().is_stateless() {
            let mut p = stateless_meta(self.version(), spec.params.clone());
            let m = p.get_mut("_meta").and_then(Value::as_object_mut).expect("meta was just added");
            match meta {
                MetaMode::Full => {}
                MetaMode::None => {
                    p.as_object_mut().unwrap().remove("_meta");
                }
                MetaMode::MissingVersion => {
                    m.remove(meta_key::PROTOCOL_VERSION);
                }
                MetaMode::MissingCaps => {
                    m.remove(meta_key::CLIENT_CAPABILITIES);
                }
                MetaMode::Unsupported => {
                    m.insert(meta_key::PROTOCOL_VERSION.into(), json!("1999-01-01"));
                }
                MetaMode::VersionWrongType => {
                    m.insert(meta_key::PROTOCOL_VERSION.into(), json!(20260728));
                }
            }
            Some(p)
        } else {
            spec.params.clone()
        };
        if let Some(p) = params {
            v["params"] = p;
        }
        v
    }

    /// The class the stateless `_meta` mode imposes on top of the method's own.
    fn meta_class(spec: &ReqSpec, meta: MetaMode) -> (Class, Level, Level) {
        let extra: Vec<i64> = match meta {
            MetaMode::Full => return (spec.class.clone(), spec.level, spec.code_level),
            MetaMode::Unsupported => vec![error_code::UNSUPPORTED_PROTOCOL_VERSION],
            MetaMode::MissingCaps => vec![error_code::INVALID_PARAMS],
            // Not a string: a malformed field, or a version nobody supports.
            MetaMode::VersionWrongType => vec![error_code::INVALID_PARAMS, error_code::UNSUPPORTED_PROTOCOL_VERSION],
            // Without a protocol version a dual-era server may take the request for a
            // legacy one before initialize (-32600).
            MetaMode::None | MetaMode::MissingVersion => vec![error_code::INVALID_PARAMS, error_code::INVALID_REQUEST],
        };
        let mut codes = match &spec.class {
            Class::Error(c) if !c.is_empty() => c.clone(),
            _ => Vec::new(),
        };
        codes.extend(extra);
        // A request without a protocol version may be taken for a legacy request
        // before initialize: the error is due, its code only recommended.
        let (level, code_level) =
            if matches!(meta, MetaMode::None | MetaMode::MissingVersion) { (Level::Should, Level::Should) } else { (Level::Must, Level::Must) };
        (Class::Error(codes), level, code_level)
    }

    fn request(&mut self, spec: ReqSpec, id: Id, mutation: Mutation, meta: MetaMode) -> FuzzMessage {
        let v = self.base_value(&spec, &id, meta);
        let (class, level, code_level) = Self::meta_class(&spec, meta);
        let label_meta = match meta {
            MetaMode::Full => None,
            MetaMode::None => Some("malformed/meta-missing"),
            MetaMode::MissingVersion => Some("malformed/meta-no-version"),
            MetaMode::MissingCaps => Some("malformed/meta-no-capabilities"),
            MetaMode::Unsupported => Some("malformed/meta-unsupported-version"),
            MetaMode::VersionWrongType => Some("malformed/meta-version-type"),
        };
        let mut m = FuzzMessage {
            label: label_meta.unwrap_or(spec.label),
            bytes: Vec::new(),
            method: Some(spec.method.clone()),
            expects: Vec::new(),
            effect: Effect::None,
            phase_sensitive: spec.phase_sensitive,
            barrier: false,
            isolate: false,
            keep_with_next: false,
            catalogue: spec.catalogue,
        };
        let mut r = Reply { id: id.clone(), class, level, code_level, optional: spec.optional, alt_null: false };
        let null_error = |codes: Vec<i64>, echo: Option<Value>, answer_level: Level, code_level: Level| {
            Expect::NullError(NullError { codes, echo, answer_level, code_level })
        };
        match mutation {
            Mutation::None => {
                m.bytes = to_bytes(&v);
                m.expects.push(Expect::Reply(r));
            }
            Mutation::Jsonrpc(k) => {
                let mut v = v;
                let obj = v.as_object_mut().unwrap();
                match k {
                    0 => obj.insert("jsonrpc".into(), json!("1.0")),
                    1 => obj.remove("jsonrpc"),
                    2 => obj.insert("jsonrpc".into(), json!(2.0)),
                    3 => obj.insert("jsonrpc".into(), json!("2.0 ")),
                    _ => obj.insert("jsonrpc".into(), Value::Null),
                };
                m.label = ["malformed/jsonrpc-1.0", "malformed/jsonrpc-missing", "malformed/jsonrpc-number", "malformed/jsonrpc-padded", "malformed/jsonrpc-null"]
                    [k as usize % 5];
                m.bytes = to_bytes(&v);
                m.method = None;
                m.phase_sensitive = false;
                m.expects.push(null_error(vec![error_code::INVALID_REQUEST], Some(id.to_value()), Level::Should, Level::Should));
            }
            Mutation::IdType(k) => {
                let n = match &id {
                    Id::Number(n) => n.as_f64().unwrap_or(1.0),
                    _ => 1.0,
                };
                let (label, bad) = match k {
                    0 => ("malformed/id-float", json!(n.trunc() + 0.5)),
                    1 => ("malformed/id-bool", json!(true)),
                    2 => ("malformed/id-object", json!({"id": id.to_value()})),
                    3 => ("malformed/id-array", json!([id.to_value()])),
                    _ => ("malformed/id-null", Value::Null),
                };
                let mut v = v;
                v["id"] = bad.clone();
                m.label = label;
                m.bytes = to_bytes(&v);
                m.method = None;
                m.phase_sensitive = false;
                let echo = if bad.is_object() || bad.is_array() { None } else { Some(bad) };
                m.expects.push(null_error(vec![error_code::INVALID_REQUEST], echo, Level::Should, Level::Should));
            }
            Mutation::ParamsType(k) => {
                let bad = [json!(42), json!("params"), json!(true), Value::Null, json!([1, 2])][k as usize % 5].clone();
                let mut v = v;
                v["params"] = bad;
                m.label = ["malformed/params-number", "malformed/params-string", "malformed/params-bool", "malformed/params-null", "malformed/params-array"]
                    [k as usize % 5];
                m.bytes = to_bytes(&v);
                // Non-structured params make an invalid request object; JSON-RPC allows
                // positional (array) params, which MCP does not use.
                let codes = vec![error_code::INVALID_PARAMS, error_code::INVALID_REQUEST];
                r.class = Class::Error(codes);
                r.alt_null = true;
                if k == 4 {
                    r.level = Level::Should;
                }
                r.code_level = Level::Should;
                m.phase_sensitive = false;
                m.expects.push(Expect::Reply(r));
            }
            Mutation::Broken(k, at) => {
                let good = to_bytes(&v);
                let pos = 1 + at.index(good.len() - 1); // 1..len
                let mut b = match k {
                    0 => good[..pos.min(good.len() - 1)].to_vec(),
                    1 => {
                        let mut b = good.clone();
                        b.insert(pos, [b',', b'}', b'"', b':', b'x'][pos % 5]);
                        b
                    }
                    2 => {
                        let mut b = good.clone();
                        b.remove(pos.min(good.len() - 1));
                        b
                    }
                    _ => good.iter().map(|&c| if c == b'"' { b'\'' } else { c }).collect(),
                };
                if serde_json::from_slice::<Value>(&b).is_ok() {
                    b = good[..good.len() / 2].to_vec();
                }
                m.label = ["malformed/json-truncated", "malformed/json-stray-char", "malformed/json-dropped-char", "malformed/json-single-quotes"][k as usize % 4];
                m.bytes = b;
                m.method = None;
                m.phase_sensitive = false;
                m.expects.push(expect_for_garbage(&m.bytes));
            }
            Mutation::Utf8(k) => {
                let seq: &[u8] = [&[0xff][..], &[0xc3][..], &[0xed, 0xa0, 0x80][..], &[0xc0, 0xaf][..], &[0xfe][..]][k as usize % 5];
                if k < 4 {
                    let mut v = v;
                    set_param(&mut v, "fzText", json!("abc\u{1}MARK\u{1}def"));
                    let text = to_bytes(&v);
                    let marker = b"\\u0001MARK\\u0001";
                    let at = find(&text, marker).expect("the marker was just added");
                    let mut b = text[..at].to_vec();
                    b.extend_from_slice(seq);
                    b.extend_from_slice(&text[at + marker.len()..]);
                    m.label = "malformed/utf8-in-string";
                    m.bytes = b;
                    // A lossy server may read the request anyway: recommended to refuse.
                    m.expects.push(null_error(vec![error_code::PARSE_ERROR], Some(id.to_value()), Level::Should, Level::Should));
                } else {
                    let mut b = seq.to_vec();
                    b.extend_from_slice(&to_bytes(&v));
                    m.label = "malformed/utf8-outside";
                    m.bytes = b;
                    m.expects.push(null_error(vec![error_code::PARSE_ERROR], None, Level::Should, Level::Must));
                }
                m.method = None;
                m.phase_sensitive = false;
            }
            Mutation::Newline(k) => {
                let mut v = v;
                let bytes = match k {
                    0 => {
                        let b = to_bytes(&v);
                        let mut out = vec![b'{', b'\n'];
                        out.extend_from_slice(&b[1..b.len() - 1]);
                        out.extend_from_slice(b"\n}");
                        out
                    }
                    1 => {
                        set_param(&mut v, "fzText", json!("line one\u{1}MARK\u{1}line two"));
                        let b = to_bytes(&v);
                        let marker = b"\\u0001MARK\\u0001";
                        let at = find(&b, marker).expect("the marker was just added");
                        let mut out = b[..at].to_vec();
                        out.push(b'\n');
                        out.extend_from_slice(&b[at + marker.len()..]);
                        out
                    }
                    _ => serde_json::to_vec_pretty(&v).expect("serialisable"),
                };
                m.label = ["malformed/newline-around", "malformed/newline-in-string", "malformed/newline-pretty"][k as usize % 3];
                m.phase_sensitive = false;
                if self.ctx.transport == TransportKind::Stdio || k == 1 {
                    // Over stdio a raw newline ends the frame: each line is its own
                    // (unparsable) message. A raw newline inside a string is invalid
                    // JSON on any transport.
                    m.method = None;
                    if self.ctx.transport == TransportKind::Stdio {
                        m.expects = bytes.split(|&b| b == b'\n').map(expect_for_garbage).collect();
                    } else {
                        m.expects.push(expect_for_garbage(&bytes));
                    }
                } else {
                    m.expects.push(Expect::Reply(r));
                }
                m.bytes = bytes;
            }
            Mutation::TopExtra => {
                let mut v = v;
                v["fzExtra"] = json!({"unexpected": true});
                m.label = "malformed/extra-top-member";
                m.bytes = to_bytes(&v);
                r.class = Class::Any;
                m.expects.push(Expect::Reply(r));
            }
            Mutation::ParamExtra => {
                let mut v = v;
                set_param(&mut v, "fzExtra", json!({"nested": [1, "two", null]}));
                m.label = "extra/param-member";
                m.bytes = to_bytes(&v);
                // Unknown members are ignored: the class stays the method's own.
                m.expects.push(Expect::Reply(r));
            }
            Mutation::Deep(depth) => {
                let mut v = v;
                set_param(&mut v, "fzDeep", json!("\u{1}DEEP\u{1}"));
                let b = to_bytes(&v);
                let marker = b"\"\\u0001DEEP\\u0001\"";
                let at = find(&b, marker).expect("the marker was just added");
                let mut out = b[..at].to_vec();
                out.extend(std::iter::repeat_n(b'[', depth));
                out.extend(std::iter::repeat_n(b']', depth));
                out.extend_from_slice(&b[at + marker.len()..]);
                m.label = "malformed/deep-nesting";
                m.bytes = out;
                m.isolate = true;
                r.class = Class::Any;
                r.alt_null = true;
                m.expects.push(Expect::Reply(r));
            }
            Mutation::Huge(len) => {
                let mut v = v;
                set_param(&mut v, "fzPad", json!("x".repeat(len)));
                m.label = "malformed/huge-string";
                m.bytes = to_bytes(&v);
                m.isolate = true;
                r.class = Class::Any;
                r.alt_null = true;
                m.expects.push(Expect::Reply(r));
            }
        }
        m
    }

    fn batch(&mut self, items: Vec<(ReqSpec, bool)>, empty: bool) {
        let v = self.version();
        if empty {
            let expects = vec![if v == ProtocolVersion::V2025_03_26 {
                Expect::NullError(NullError { codes: vec![error_code::INVALID_REQUEST], echo: None, answer_level: Level::Should, code_level: Level::Should })
            } else {
                Expect::Lenient(Vec::new())
            }];
            self.push(FuzzMessage {
                label: "batch/empty",
                bytes: b"[]".to_vec(),
                method: None,
                expects,
                effect: Effect::None,
                phase_sensitive: false,
                barrier: false,
                isolate: false,
                keep_with_next: false,
                catalogue: false,
            });
            return;
        }
        let mut values = Vec::new();
        let mut expects = Vec::new();
        let mut ids = Vec::new();
        let mut catalogue = false;
        for (spec, notification) in items {
            catalogue |= spec.catalogue;
            if notification {
                values.push(json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "fz-batch", "progress": 1}}));
                expects.push(Expect::Silence);
                continue;
            }
            let id = self.fresh_id(IdShape::Int);
            values.push(self.base_value(&spec, &id, MetaMode::Full));
            ids.push(id.clone());
            expects.push(Expect::Reply(Reply {
                id,
                class: if spec.class == Class::Result { Class::Result } else { Class::Any },
                level: spec.level,
                code_level: spec.code_level,
                optional: spec.optional,
                alt_null: false,
            }));
        }
        let (label, expects) = if v == ProtocolVersion::V2025_03_26 {
            ("batch/requests", expects)
        } else {
            // Versions without batches: whatever the server does is its choice, as long
            // as it stays alive and speaks JSON-RPC.
            ("batch/unsupported", vec![Expect::Lenient(ids)])
        };
        self.push(FuzzMessage {
            label,
            bytes: to_bytes(&Value::Array(values)),
            method: None,
            expects,
            effect: Effect::None,
            phase_sensitive: true,
            barrier: false,
            isolate: false,
            keep_with_next: false,
            catalogue,
        });
    }
}

/// What changes over HTTP, where each message is its own POST.
///
/// - A message the transport posts as a notification (an object with a method and no
///   id) that the server refuses gets an HTTP error; the JSON-RPC error in that body is
///   evidence in the transcript, not a message: no id-null error is owed as one.
/// - POSTs are answered concurrently, so id-null errors come back in any order: a
///   message that may be answered with id null gets a window of its own, where its
///   answer cannot be mistaken for another's.
fn over_http(m: &mut FuzzMessage) {
    let posted_as_notification = matches!(
        serde_json::from_slice::<Value>(&m.bytes),
        Ok(Value::Object(o)) if o.get("method").is_some_and(Value::is_string) && !o.contains_key("id")
    );
    for e in &mut m.expects {
        if let Expect::NullError(n) = e
            && posted_as_notification {
                n.answer_level = Level::May;
                n.code_level = Level::May;
            }
    }
    let may_answer_null = m.expects.iter().any(|e| match e {
        Expect::NullError(_) | Expect::Lenient(_) => true,
        Expect::Reply(r) => r.alt_null,
        Expect::Silence => false,
    });
    // (A slow call kept with its cancellation is a valid request: never affected.)
    if may_answer_null && !m.keep_with_next {
        m.isolate = true;
    }
}

fn reply(id: Id, class: Class, level: Level, code_level: Level) -> Expect {
    Expect::Reply(Reply { id, class, level, code_level, optional: false, alt_null: false })
}

fn method_str(v: &Value) -> String {
    v.get("method").and_then(Value::as_str).unwrap_or("").to_string()
}

fn set_param(v: &mut Value, key: &str, value: Value) {
    match v.get_mut("params") {
        Some(Value::Object(p)) => {
            p.insert(key.into(), value);
        }
        _ => v["params"] = json!({ key: value }),
    }
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("a Value always serialises")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The expectations of a sequence in context: before the lifecycle completes the
/// class of a phase-sensitive reply is the server's choice; a request cancelled in
/// the window that sent it may go unanswered. `windows` are the sequence's
/// pipelined groups (see `exec::windows`).
pub fn plan(messages: &[FuzzMessage], version: ProtocolVersion, windows: &[std::ops::Range<usize>]) -> Vec<Vec<Expect>> {
    let mut out: Vec<Vec<Expect>> = messages.iter().map(|m| m.expects.clone()).collect();
    let mut init_requested = version.is_stateless();
    let mut ready = version.is_stateless();
    for (i, m) in messages.iter().enumerate() {
        match &m.effect {
            Effect::Initialize { valid: true } => init_requested = true,
            Effect::Initialized if init_requested => ready = true,
            _ => {}
        }
        if !ready && m.label == "batch/requests" {
            // Before the handshake no version is agreed, so a server may take the batch
            // for one of a version without batches: as in those versions, its choice.
            let ids = out[i].iter().filter_map(|e| if let Expect::Reply(r) = e { Some(r.id.clone()) } else { None }).collect();
            out[i] = vec![Expect::Lenient(ids)];
        } else if !ready && m.phase_sensitive && !matches!(m.effect, Effect::Initialize { .. }) {
            for e in &mut out[i] {
                if let Expect::Reply(r) = e {
                    r.class = Class::Any;
                }
            }
        }
    }
    for w in windows {
        for i in w.clone() {
            if let Effect::Cancel(target) = &messages[i].effect {
                for expects in &mut out[w.start..i] {
                    for e in expects {
                        if let Expect::Reply(r) = e
                            && &r.id == target
                        {
                            r.optional = true;
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(v: ProtocolVersion) -> GenContext {
        let catalogue = Catalogue {
            capabilities: json!({"tools": {}, "resources": {"subscribe": true}, "prompts": {}}),
            tools: vec![Tool { name: "echo".into(), arguments: json!({"text": "example"}), slow: false }],
            resources: vec!["fz://one".into()],
            prompts: vec![("greet".into(), json!({"name": "example"}))],
        };
        GenContext { version: v, transport: TransportKind::Stdio, catalogue: Arc::new(catalogue) }
    }

    #[test]
    fn generation_is_deterministic_and_seed_dependent() {
        for v in ProtocolVersion::ALL {
            let a: Vec<_> = session(&ctx(v), 7, 3, 300).into_iter().map(|m| m.bytes).collect();
            let b: Vec<_> = session(&ctx(v), 7, 3, 300).into_iter().map(|m| m.bytes).collect();
            let c: Vec<_> = session(&ctx(v), 8, 3, 300).into_iter().map(|m| m.bytes).collect();
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }

    #[test]
    fn valid_requests_are_valid_json_rpc_and_ids_are_unique() {
        for v in ProtocolVersion::ALL {
            let msgs = session(&ctx(v), 1, 0, 2000);
            let mut ids = std::collections::HashSet::new();
            let mut labels = std::collections::BTreeSet::new();
            for m in &msgs {
                labels.insert(m.label);
                if m.label.starts_with("valid/") || m.label.starts_with("lifecycle/initialize") && m.label == "lifecycle/initialize" {
                    let parsed = crate::wire::Message::parse(m.bytes.clone());
                    assert!(
                        matches!(parsed.kind, crate::wire::Kind::Request { .. } | crate::wire::Kind::Notification { .. }),
                        "{}: {}",
                        m.label,
                        m.text()
                    );
                    if v.is_stateless() && matches!(parsed.kind, crate::wire::Kind::Request { .. }) {
                        let meta = &parsed.value.as_ref().unwrap()["params"]["_meta"];
                        assert_eq!(meta[meta_key::PROTOCOL_VERSION], json!(v.as_str()), "{}", m.text());
                    }
                }
                if m.label != "malformed/duplicate-id" {
                    for e in &m.expects {
                        if let Expect::Reply(r) = e {
                            assert!(ids.insert(r.id.to_string()), "id {} used twice", r.id);
                        }
                    }
                }
                if !m.label.starts_with("malformed/newline") {
                    assert!(!m.bytes.contains(&b'\n'), "{}: raw newline", m.label);
                }
                assert!(!m.bytes.windows(2).any(|w| w == b"${"), "{}", m.label);
            }
            for wanted in ["valid/tools/list", "valid/tools/call", "malformed/unknown-method", "malformed/json-truncated", "malformed/id-float"] {
                assert!(labels.contains(wanted), "{v}: no {wanted} in {labels:?}");
            }
            if v.is_stateless() {
                assert!(!labels.contains("lifecycle/initialize"));
                assert!(labels.contains("malformed/meta-missing"));
            }
        }
    }

    #[test]
    fn embedded_newlines_split_into_unparsable_frames_over_stdio() {
        let msgs = session(&ctx(ProtocolVersion::V2025_06_18), 3, 0, 3000);
        let m = msgs.iter().find(|m| m.label == "malformed/newline-around").expect("generated");
        let lines = m.bytes.split(|&b| b == b'\n').count();
        assert_eq!(m.expects.len(), lines);
        assert!(m.expects.iter().all(|e| matches!(e, Expect::NullError(_))));
    }

    #[test]
    fn plan_relaxes_before_initialization_and_after_cancellation() {
        let c = ctx(ProtocolVersion::V2025_06_18);
        let mut r = Renderer::new(&c);
        let spec = ReqSpec::new("malformed/unknown-method", "fz/x", None, Class::Error(vec![-32601]));
        r.op(Op::Req { spec: spec.clone(), id: IdShape::Int, mutation: Mutation::None, meta: MetaMode::Full });
        r.opener(Opener::Standard { caps: json!({}), name: "t".into() });
        r.op(Op::Req { spec: spec.clone(), id: IdShape::Int, mutation: Mutation::None, meta: MetaMode::Full });
        r.op(Op::Req { spec, id: IdShape::Int, mutation: Mutation::None, meta: MetaMode::Full });
        let index = any::<Index>().new_tree(&mut TestRunner::deterministic()).unwrap().current();
        r.op(Op::Cancel { pick: Some(index), reason: false });
        let msgs = r.out;
        let Effect::Cancel(cancelled) = msgs[5].effect.clone() else { panic!("{:?}", msgs[5]) };
        // One window: the whole sequence.
        let whole = [std::ops::Range { start: 0, end: msgs.len() }];
        let planned = plan(&msgs, ProtocolVersion::V2025_06_18, &whole);
        let class = |i: usize| match &planned[i][0] {
            Expect::Reply(r) => (r.class.clone(), r.optional, r.id.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(class(0).0, Class::Any, "before initialize the class is the server's choice");
        for i in [3, 4] {
            let (class, optional, id) = class(i);
            assert_eq!(class, Class::Error(vec![-32601]));
            assert_eq!(optional, id == cancelled, "only the cancelled request may go unanswered");
        }
    }
}

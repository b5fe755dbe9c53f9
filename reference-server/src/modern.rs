//! The 2026-07-28 ("modern") protocol: stateless requests that carry their protocol
//! version and client capabilities in `_meta`, `server/discover`, `subscriptions/listen`,
//! result decoration (`resultType`, serverInfo, caching hints) and multi round-trip
//! requests (`InputRequiredResult`, integrity-checked `requestState`).
//!
//! A modern request never reads or writes legacy session state (negotiated version,
//! log level, resource subscriptions). This module must never do IO.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::defects::Defect;
use crate::jsonrpc::{self, RpcError};
use crate::server::{self, Connection, Ctx, Extra, LogLevel, Reply, Req, WeakConnection};
use crate::version::Version;

pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
pub const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// Whether a request's params carry modern per-request metadata.
pub fn is_modern_request(params: &Map<String, Value>) -> bool {
    params
        .get("_meta")
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key(META_PROTOCOL_VERSION))
}

/// The `UnsupportedProtocolVersionError` for `requested`.
///
/// The schema makes `data.requested` a string: a version that is not one (a number,
/// or none at all) is reported as its JSON text.
pub fn unsupported_version(conn_defects_wrong_code: bool, requested: &Value) -> RpcError {
    let code = if conn_defects_wrong_code {
        jsonrpc::INVALID_PARAMS
    } else {
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION
    };
    let requested = match requested {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    RpcError::new(code, "Unsupported protocol version")
        .with_data(json!({"supported": Version::supported_newest_first(), "requested": requested}))
}

/// Validates the per-request `_meta` fields and builds the request context.
pub(crate) fn request_context(
    conn: &Connection,
    id: &Value,
    method: &str,
    params: &Map<String, Value>,
) -> Result<Req, RpcError> {
    let meta = params
        .get("_meta")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let requested = meta
        .get(META_PROTOCOL_VERSION)
        .cloned()
        .unwrap_or(Value::Null);
    let version = match requested.as_str().and_then(Version::parse) {
        Some(v) if !v.is_legacy() => v,
        _ => {
            return Err(unsupported_version(
                conn.has(Defect::UnsupportedVersionWrongCode),
                &requested,
            ));
        }
    };
    if conn.has(Defect::ClientInfoRequired) && !meta.contains_key("io.modelcontextprotocol/clientInfo") {
        return Err(RpcError::invalid_params("_meta[\"io.modelcontextprotocol/clientInfo\"] is required"));
    }
    let caps = match meta.get(META_CLIENT_CAPABILITIES) {
        Some(c @ Value::Object(_)) => c.clone(),
        None if conn.has(Defect::MetaMissingAccepted) => json!({}),
        _ => {
            return Err(RpcError::invalid_params(format!(
                "_meta[\"{META_CLIENT_CAPABILITIES}\"] (object) is required on every request"
            )));
        }
    };
    let log_level = match meta.get(META_LOG_LEVEL) {
        None => None,
        Some(l) => match l.as_str().and_then(LogLevel::parse) {
            Some(l) => Some(l),
            None if conn.has(Defect::InvalidMetaLogLevelAccepted) => None,
            None => {
                return Err(RpcError::invalid_params(format!(
                    "_meta[\"{META_LOG_LEVEL}\"]: unknown level {l}"
                )));
            }
        },
    };
    let input_responses = match params.get("inputResponses") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(RpcError::invalid_params("inputResponses must be an object")),
    };
    // Each answer is a result object (InputResponse: CreateMessageResult,
    // ListRootsResult or ElicitResult).
    if !conn.has(Defect::MrtrAcceptsInvalidResponses)
        && let Some((k, _)) = input_responses.iter().find(|(_, v)| !v.is_object())
    {
        return Err(RpcError::invalid_params(format!(
            "inputResponses.{k} must be a result object (ElicitResult, CreateMessageResult or ListRootsResult)"
        )));
    }
    let request_state = match params.get("requestState") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(RpcError::invalid_params("requestState must be a string")),
    };
    let input_name = match method {
        "resources/read" => params.get("uri"),
        _ => params.get("name"),
    }
    .and_then(Value::as_str)
    .unwrap_or("")
    .to_string();
    let req = Req {
        id: id.clone(),
        key: jsonrpc::id_key(id),
        method: method.to_string(),
        version,
        modern: true,
        client_caps: caps,
        meta_log_level: log_level,
        progress_token: None,
        input_responses,
        request_state,
        input_name,
        accept_any_state: conn.has(Defect::RequestStateUnverified),
        related_task: None,
        state_stage: None,
    };
    let mut req = req;
    req.state_stage = verify_state(&req, &req.input_name)?;
    Ok(req)
}

fn cache_hint(req: &Req, result: &Map<String, Value>) -> Option<(u64, &'static str)> {
    match req.method.as_str() {
        "server/discover" => Some((3_600_000, "public")),
        "tools/list" | "prompts/list" | "resources/templates/list" => Some((300_000, "public")),
        "resources/list" => Some((60_000, "public")),
        "resources/read" => {
            let changing = result
                .get("contents")
                .and_then(Value::as_array)
                .is_some_and(|c| {
                    c.iter().any(|c| {
                        c.get("uri").and_then(Value::as_str) == Some(crate::resources::WATCHED)
                    })
                });
            Some((if changing { 0 } else { 60_000 }, "public"))
        }
        _ => None,
    }
}

/// Adds what every modern result carries: `resultType`, serverInfo in `_meta`, and
/// caching hints on cacheable complete results.
pub(crate) fn decorate_result(conn: &Connection, req: &Req, result: &mut Value) {
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    if !obj.contains_key("resultType") && !conn.has(Defect::MissingResultType) {
        obj.insert("resultType".into(), json!("complete"));
    }
    let listing = matches!(
        req.method.as_str(),
        "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list"
    );
    if listing && conn.has(Defect::MrtrOnListRequests) {
        obj.insert("resultType".into(), json!("input_required"));
    }
    let complete = obj
        .get("resultType")
        .and_then(Value::as_str)
        .is_none_or(|t| t == "complete");
    if complete
        && !conn.has(Defect::MissingCacheFields)
        && let Some((ttl, scope)) = cache_hint(req, obj)
    {
        obj.insert("ttlMs".into(), json!(ttl));
        obj.insert("cacheScope".into(), json!(scope));
    }
    if conn.has(Defect::NoServerInfoMeta) {
        return;
    }
    let meta = obj.entry("_meta").or_insert_with(|| json!({}));
    if let Some(m) = meta.as_object_mut() {
        m.insert(
            META_SERVER_INFO.into(),
            json!({"name": server::SERVER_NAME, "version": server::SERVER_VERSION}),
        );
    }
}

pub(crate) fn discover(ctx: &Ctx) -> Result<Value, RpcError> {
    let mut m = Map::new();
    if !ctx.has(Defect::DiscoverMissingVersions) {
        m.insert(
            "supportedVersions".into(),
            json!(Version::supported_newest_first()),
        );
    }
    let mut caps = server::server_capabilities(Version::V2026_07_28, ctx.conn.defects());
    caps["extensions"] = json!({crate::ext_tasks::EXTENSION: {}});
    m.insert("capabilities".into(), caps);
    m.insert("instructions".into(), json!(server::INSTRUCTIONS));
    Ok(Value::Object(m))
}

// ---- multi round-trip requests ----

fn state_mac(payload: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ *STATE_KEY;
    for b in payload.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

static STATE_KEY: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
});

/// What a `requestState` is bound to: the method and the tool/prompt/resource name.
fn state_subject(req: &Req, name: &str) -> String {
    format!("{}:{}", req.method, name)
}

/// Mints a `requestState` bound to this request's subject (method and tool/prompt
/// name), carrying `stage`: how far a multi-round interaction got.
pub(crate) fn mint_state(req: &Req, name: &str, stage: &str) -> String {
    let payload = format!("{}|{stage}", state_subject(req, name));
    URL_SAFE_NO_PAD.encode(format!("{payload}|{}", state_mac(&payload)))
}

/// Verifies a client-echoed `requestState`; returns its stage (None: no state sent).
pub(crate) fn verify_state(req: &Req, name: &str) -> Result<Option<String>, RpcError> {
    let Some(state) = &req.request_state else {
        return Ok(None);
    };
    let decoded = URL_SAFE_NO_PAD
        .decode(state)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let parts = decoded.as_deref().and_then(|s| {
        let (payload, mac) = s.rsplit_once('|')?;
        let (subject, stage) = payload.rsplit_once('|')?;
        Some((
            payload.to_string(),
            subject.to_string(),
            stage.to_string(),
            mac.to_string(),
        ))
    });
    match parts {
        Some((payload, subject, stage, mac))
            if subject == state_subject(req, name) && mac == state_mac(&payload) =>
        {
            Ok(Some(stage))
        }
        // Defect request-state-unverified: take whatever stage the client claims.
        Some((_, _, stage, _)) if req.accept_any_state => Ok(Some(stage)),
        _ if req.accept_any_state => Ok(Some(String::new())),
        _ => Err(RpcError::invalid_params("requestState failed verification")),
    }
}

/// An `InputRequiredResult` asking for `requests` (an `inputRequests` map), with a
/// `requestState` carrying `stage`.
pub(crate) fn input_required(ctx: &Ctx, requests: Value, stage: &str) -> Value {
    let name = ctx.req.input_name.clone();
    let mut result = json!({"resultType": "input_required", "inputRequests": requests});
    // A single-round request needs no state: the retry's inputResponses say it all. A
    // staged one carries its integrity-checked stage (unless the defect drops it).
    if !stage.is_empty() && !ctx.has(Defect::MrtrRequestStateDropped) {
        result["requestState"] = json!(mint_state(&ctx.req, &name, stage));
    }
    result
}

// ---- subscriptions/listen ----

/// Which notifications a listen stream asked for.
#[derive(Debug, Clone, Default)]
struct Filter {
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: Vec<String>,
}

struct Listener {
    conn: WeakConnection,
    sub_id: Value,
    key: String,
    filter: Filter,
}

/// Server-wide state shared by every connection of one server: the active
/// `subscriptions/listen` streams.
#[derive(Default)]
pub struct Hub {
    listeners: Mutex<Vec<(u64, Listener)>>,
    next: Mutex<u64>,
    /// Legacy connections that subscribed to resources.
    legacy: Mutex<Vec<WeakConnection>>,
    /// How often `test://watched-resource` changed (server-wide).
    watched: std::sync::atomic::AtomicU64,
    /// 2026-07-28: which dynamic `extra_*` primitives are offered (server-wide).
    extras: [std::sync::atomic::AtomicBool; 3],
    /// 2026-07-28: the tasks of the tasks extension (server-wide).
    pub(crate) tasks: crate::ext_tasks::Store,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hub")
    }
}

impl Hub {
    pub(crate) fn extra(&self, e: Extra) -> bool {
        self.extras[e as usize].load(std::sync::atomic::Ordering::SeqCst)
    }
    pub(crate) fn toggle_extra(&self, e: Extra) -> bool {
        !self.extras[e as usize].fetch_xor(true, std::sync::atomic::Ordering::SeqCst)
    }
    pub(crate) fn watched_revision(&self) -> u64 {
        self.watched.load(std::sync::atomic::Ordering::SeqCst)
    }
    pub(crate) fn bump_watched(&self) -> u64 {
        self.watched
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }
    pub(crate) fn register_legacy(&self, conn: &Connection) {
        let mut l = self.legacy.lock().unwrap_or_else(|e| e.into_inner());
        l.retain(|w| w.upgrade().is_some());
        if !l
            .iter()
            .any(|w| w.upgrade().is_some_and(|c| c.same_as(conn)))
        {
            l.push(conn.downgrade());
        }
    }
    pub(crate) fn legacy_connections(&self) -> Vec<Connection> {
        let mut l = self.legacy.lock().unwrap_or_else(|e| e.into_inner());
        l.retain(|w| w.upgrade().is_some());
        l.iter().filter_map(WeakConnection::upgrade).collect()
    }
    fn add(&self, l: Listener) -> u64 {
        let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        let id = *n;
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, l));
        id
    }
    fn remove(&self, id: u64) {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _)| *i != id);
    }
    /// Sends a notification to every listener whose filter selects it.
    fn broadcast(
        &self,
        method: &str,
        params: Map<String, Value>,
        selects: impl Fn(&Filter) -> bool,
    ) {
        let targets: Vec<(Connection, Value, String)> = {
            let mut ls = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
            ls.retain(|(_, l)| l.conn.upgrade().is_some());
            ls.iter()
                .filter(|(_, l)| selects(&l.filter))
                .filter_map(|(_, l)| {
                    l.conn
                        .upgrade()
                        .map(|c| (c, l.sub_id.clone(), l.key.clone()))
                })
                .collect()
        };
        for (conn, sub_id, key) in targets {
            let mut p = params.clone();
            if !conn.has(Defect::ListenMissingSubscriptionId) {
                p.insert("_meta".into(), json!({META_SUBSCRIPTION_ID: sub_id}));
            }
            conn.send(
                jsonrpc::notification(method, Some(Value::Object(p))),
                Some(key),
            );
        }
    }
}

struct ListenGuard {
    hub: Arc<Hub>,
    id: u64,
}

impl Drop for ListenGuard {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}

/// Tells listen streams that `uri` changed.
pub(crate) fn resource_updated(conn: &Connection, uri: &str) {
    let mut p = Map::new();
    p.insert("uri".into(), json!(uri));
    conn.config()
        .hub
        .broadcast("notifications/resources/updated", p, |f| {
            f.uris.iter().any(|u| u == uri)
        });
}

/// Tells listen streams that a list changed.
pub(crate) fn list_changed(conn: &Connection, e: Extra) {
    conn.config()
        .hub
        .broadcast(e.list_changed_method(), Map::new(), |f| match e {
            Extra::Tool => f.tools,
            Extra::Prompt => f.prompts,
            Extra::Resource => f.resources,
        });
}

pub(crate) fn listen(ctx: &Ctx, params: Map<String, Value>) -> Reply {
    let Some(n) = params.get("notifications").and_then(Value::as_object) else {
        return Reply::Now(Err(RpcError::invalid_params(
            "subscriptions/listen: notifications (object) is required",
        )));
    };
    let flag = |k: &str| n.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut filter = Filter {
        tools: flag("toolsListChanged"),
        prompts: flag("promptsListChanged"),
        resources: flag("resourcesListChanged"),
        uris: vec![],
    };
    if let Some(uris) = n.get("resourceSubscriptions") {
        let Some(list) = uris.as_array() else {
            return Reply::Now(Err(RpcError::invalid_params(
                "resourceSubscriptions must be an array of URIs",
            )));
        };
        filter.uris = list
            .iter()
            .filter_map(Value::as_str)
            .filter(|u| crate::resources::exists(ctx, u))
            .map(str::to_string)
            .collect();
    }
    let mut ack = Map::new();
    if filter.tools {
        ack.insert("toolsListChanged".into(), json!(true));
    }
    if filter.prompts {
        ack.insert("promptsListChanged".into(), json!(true));
    }
    if filter.resources {
        ack.insert("resourcesListChanged".into(), json!(true));
    }
    if n.contains_key("resourceSubscriptions") {
        ack.insert("resourceSubscriptions".into(), json!(filter.uris));
    }
    let sub_id = ctx.req.id.clone();
    if !ctx.has(Defect::ListenNoAck) {
        ctx.conn.send(
            jsonrpc::notification(
                "notifications/subscriptions/acknowledged",
                Some(
                    json!({"_meta": {META_SUBSCRIPTION_ID: sub_id.clone()}, "notifications": ack}),
                ),
            ),
            Some(ctx.req.key.clone()),
        );
    }
    let hub = ctx.conn.config().hub.clone();
    let id = hub.add(Listener {
        conn: ctx.conn.downgrade(),
        sub_id,
        key: ctx.req.key.clone(),
        filter,
    });
    let guard = ListenGuard { hub, id };
    Reply::Later(Box::pin(async move {
        let _guard = guard;
        futures_util::future::pending::<()>().await;
        Ok(json!({}))
    }))
}

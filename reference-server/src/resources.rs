//! Resources: static resources, URI templates (RFC 6570 level-1 `{var}` expressions),
//! reading, and subscriptions to `test://watched-resource`.
//!
//! `test://watched-resource` really changes: the tool `update_watched` changes it, and
//! while a client is subscribed a timer changes it every 100 ms. This module must never read files or the network: every
//! resource is generated in memory.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::defects::Defect;
use crate::jsonrpc::{self, RpcError};
use crate::media;
use crate::pagination;
use crate::server::{Connection, Ctx, Extra};
use crate::version::Version;

pub const WATCHED: &str = "test://watched-resource";

struct Static {
    uri: &'static str,
    name: &'static str,
    title: &'static str,
    description: &'static str,
    mime: &'static str,
}

const EXTRA_RESOURCE: Static = Static {
    uri: "test://extra-resource",
    name: "extra-resource",
    title: "Extra resource",
    description: "Exists only while toggled on (toggle_extra_resource)",
    mime: "text/plain",
};

/// The static resources offered to this request, in a fixed order.
fn offered(ctx: &Ctx) -> Vec<&'static Static> {
    let mut v: Vec<&'static Static> = STATIC.iter().collect();
    if ctx.extra_enabled(Extra::Resource) {
        v.push(&EXTRA_RESOURCE);
    }
    v
}

const STATIC: &[Static] = &[
    Static {
        uri: "test://static-text",
        name: "static-text",
        title: "Static text",
        description: "A static text resource",
        mime: "text/plain",
    },
    Static {
        uri: "test://static-binary",
        name: "static-binary",
        title: "Static binary",
        description: "A small PNG image (the official suite's documented fixture), base64",
        mime: "image/png",
    },
    Static {
        uri: WATCHED,
        name: "watched-resource",
        title: "Watched resource",
        description: "Changes over time; subscribe to it",
        mime: "text/plain",
    },
    Static {
        uri: "test://docs/readme",
        name: "readme",
        title: "Read me",
        description: "A markdown document",
        mime: "text/markdown",
    },
    Static {
        uri: "test://docs/license",
        name: "license",
        title: "License",
        description: "License text",
        mime: "text/plain",
    },
    Static {
        uri: "test://data/config.json",
        name: "config.json",
        title: "Configuration",
        description: "A JSON document",
        mime: "application/json",
    },
    Static {
        uri: "test://data/numbers.csv",
        name: "numbers.csv",
        title: "Numbers",
        description: "A CSV table",
        mime: "text/csv",
    },
    Static {
        uri: "test://images/logo.png",
        name: "logo.png",
        title: "Logo",
        description: "A small PNG image",
        mime: "image/png",
    },
];

pub(crate) struct Template {
    pub uri_template: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub mime: &'static str,
}

pub(crate) const TEMPLATES: &[Template] = &[
    Template {
        uri_template: "test://template/{id}/data",
        name: "template-data",
        title: "Template data",
        description: "Data for any id",
        mime: "application/json",
    },
    Template {
        uri_template: "test://users/{userId}",
        name: "user",
        title: "User",
        description: "A user profile",
        mime: "application/json",
    },
    Template {
        uri_template: "test://users/{userId}/posts/{postId}",
        name: "user-post",
        title: "User post",
        description: "One post of a user",
        mime: "text/plain",
    },
    Template {
        uri_template: "test://colors/{color}",
        name: "color",
        title: "Color",
        description: "A color by name",
        mime: "text/plain",
    },
    Template {
        uri_template: "test://lang/{language}/greeting",
        name: "greeting",
        title: "Greeting",
        description: "Hello in a language",
        mime: "text/plain",
    },
];

/// Matches `uri` against a level-1 URI template; returns the variables.
pub(crate) fn match_template(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
    let mut vars = Vec::new();
    let mut t = template;
    let mut u = uri;
    while !t.is_empty() {
        if let Some(rest) = t.strip_prefix('{') {
            let close = rest.find('}')?;
            let name = &rest[..close];
            t = &rest[close + 1..];
            // The variable runs to the next literal (or the end), never across '/'.
            let next_literal_end = t.find('{').unwrap_or(t.len());
            let literal = &t[..next_literal_end];
            let value_len = if literal.is_empty() {
                u.len()
            } else {
                u.find(literal)?
            };
            let value = &u[..value_len];
            if value.is_empty() || value.contains('/') {
                return None;
            }
            vars.push((name.to_string(), value.to_string()));
            u = &u[value_len..];
        } else {
            let lit_end = t.find('{').unwrap_or(t.len());
            let lit = &t[..lit_end];
            u = u.strip_prefix(lit)?;
            t = &t[lit_end..];
        }
    }
    u.is_empty().then_some(vars)
}

fn resource_json(ctx: &Ctx, r: &Static) -> Value {
    let mut m = Map::new();
    if !ctx.has(Defect::ResourcesListBadSchema) {
        m.insert("uri".into(), json!(r.uri));
    }
    m.insert("name".into(), json!(r.name));
    if ctx.version() >= Version::V2025_06_18 {
        m.insert("title".into(), json!(r.title));
    }
    m.insert("description".into(), json!(r.description));
    m.insert("mimeType".into(), json!(r.mime));
    // The exact size of contents that do not change.
    if r.uri != WATCHED
        && let Some((_, body)) = contents_of(ctx, r.uri)
    {
        let size = match body {
            Ok(text) => text.len(),
            Err(blob) => STANDARD.decode(blob).map(|b| b.len()).unwrap_or(0),
        };
        m.insert("size".into(), json!(size));
    }
    if matches!(r.uri, "test://static-text" | "test://docs/readme") {
        let mut a = json!({"audience": ["user", "assistant"], "priority": 0.8});
        if ctx.version() >= Version::V2025_06_18 {
            a["lastModified"] = json!("2025-01-01T00:00:00Z");
        }
        m.insert("annotations".into(), a);
    }
    if ctx.version() >= Version::V2025_11_25 {
        m.insert("icons".into(), crate::tools::icon_list());
    }
    Value::Object(m)
}

pub(crate) fn list(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let items = offered(ctx)
        .into_iter()
        .map(|r| resource_json(ctx, r))
        .collect();
    pagination::page(ctx, "resources", "resources", items, params)
}

pub(crate) fn templates_list(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let mut items = TEMPLATES
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("uriTemplate".into(), json!(t.uri_template));
            m.insert("name".into(), json!(t.name));
            if ctx.version() >= Version::V2025_06_18 {
                m.insert("title".into(), json!(t.title));
            }
            m.insert("description".into(), json!(t.description));
            m.insert("mimeType".into(), json!(t.mime));
            if ctx.version() >= Version::V2025_11_25 {
                m.insert("icons".into(), crate::tools::icon_list());
            }
            Value::Object(m)
        })
        .collect::<Vec<Value>>();
    if ctx.has(Defect::TemplatesListBadSchema) {
        if let Some(first) = items.first_mut().and_then(Value::as_object_mut) {
            first.remove("uriTemplate");
        }
    }
    pagination::page(ctx, "resource-templates", "resourceTemplates", items, params)
}

/// Text or blob contents of an existing resource, or None.
fn contents_of(ctx: &Ctx, uri: &str) -> Option<(String, Result<String, String>)> {
    if let Some(r) = offered(ctx).into_iter().find(|r| r.uri == uri) {
        let body = match r.uri {
            "test://static-text" => {
                Ok("This is the content of the static text resource.".to_string())
            }
            "test://static-binary" => Err(media::PNG_BASE64.to_string()),
            WATCHED => Ok(format!(
                "Watched resource, revision {}",
                ctx.conn.config().hub.watched_revision()
            )),
            "test://docs/readme" => Ok(
                "# Read me\n\nThis server is the reference target of mcp-conform.\n".to_string(),
            ),
            "test://docs/license" => Ok("Apache-2.0".to_string()),
            "test://data/config.json" => Ok(
                json!({"pageSize": ctx.page_size(), "version": ctx.version().as_str()}).to_string(),
            ),
            "test://data/numbers.csv" => Ok("n,square\n1,1\n2,4\n3,9\n".to_string()),
            "test://images/logo.png" => Err(media::PNG_BASE64.to_string()),
            "test://extra-resource" => Ok("This resource was added at run time.".to_string()),
            _ => return None,
        };
        return Some((r.mime.to_string(), body));
    }
    for t in TEMPLATES {
        if let Some(vars) = match_template(t.uri_template, uri) {
            if ctx.has(Defect::TemplateReadFails) {
                return None;
            }
            let get = |k: &str| {
                vars.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let body = match t.name {
                "template-data" => {
                    // The official suite's documented text (member order kept: preserve_order).
                    json!({"id": get("id"), "templateTest": true, "data": format!("Data for ID: {}", get("id"))})
                        .to_string()
                }
                "user" => {
                    json!({"userId": get("userId"), "name": format!("User {}", get("userId"))})
                        .to_string()
                }
                "user-post" => format!("Post {} of user {}", get("postId"), get("userId")),
                "color" => format!("The color {}", get("color")),
                "greeting" => match get("language").as_str() {
                    "en" => "Hello".to_string(),
                    "fr" => "Bonjour".to_string(),
                    "de" => "Hallo".to_string(),
                    "es" => "Hola".to_string(),
                    other => format!("Hello (no translation for {other})"),
                },
                _ => return None,
            };
            return Some((t.mime.to_string(), Ok(body)));
        }
    }
    None
}

fn not_found(ctx: &Ctx, uri: &str) -> RpcError {
    let code = if ctx.has(Defect::ResourceNotFoundWrongCode) {
        jsonrpc::INTERNAL_ERROR
    } else if ctx.version() >= Version::V2026_07_28 {
        jsonrpc::INVALID_PARAMS
    } else {
        jsonrpc::RESOURCE_NOT_FOUND
    };
    RpcError::new(code, format!("Resource not found: {uri}")).with_data(json!({"uri": uri}))
}

fn uri_param(params: &Map<String, Value>, method: &str) -> Result<String, RpcError> {
    params
        .get("uri")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| RpcError::invalid_params(format!("{method}: uri (string) is required")))
}

pub(crate) fn read(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let uri = uri_param(params, "resources/read")?;
    let Some((mime, body)) = contents_of(ctx, &uri) else {
        if ctx.has(Defect::ResourceNotFoundEmpty) {
            return Ok(json!({"contents": []}));
        }
        return Err(not_found(ctx, &uri));
    };
    let shown_uri = if ctx.has(Defect::ResourceUriMismatch) {
        format!("{uri}-other")
    } else {
        uri
    };
    let mut c = Map::new();
    let fixture = shown_uri.as_str();
    c.insert("uri".into(), json!(shown_uri));
    if !(fixture == "test://static-text" && ctx.has(Defect::StaticTextMissingMimeType)) {
        c.insert("mimeType".into(), json!(mime));
    }
    let body = match body {
        Err(_) if fixture == "test://static-binary" && ctx.has(Defect::StaticBinaryAsText) => {
            Ok("(binary data shown as text)".to_string())
        }
        Err(_) if ctx.has(Defect::BlobBadBase64) => Err("this is *not* base64!".to_string()),
        other => other,
    };
    match body {
        Ok(text) => c.insert("text".into(), json!(text)),
        Err(blob) => c.insert("blob".into(), json!(blob)),
    };
    Ok(json!({"contents": [Value::Object(c)]}))
}

pub(crate) fn exists(ctx: &Ctx, uri: &str) -> bool {
    contents_of(ctx, uri).is_some()
}

pub(crate) fn subscribe(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let uri = uri_param(params, "resources/subscribe")?;
    if !exists(ctx, &uri) {
        return Err(not_found(ctx, &uri));
    }
    ctx.conn.config().hub.register_legacy(&ctx.conn);
    let start_ticker = {
        let mut s = ctx.conn.state();
        s.subscriptions.insert(uri.clone());
        // With updated-without-subscription, a subscription to any resource starts the
        // ticker, whose updates of the watched resource then reach this client unasked.
        let start = (uri == WATCHED || ctx.has(Defect::UpdatedWithoutSubscription)) && !s.watch_ticker;
        if start {
            s.watch_ticker = true;
        }
        start
    };
    if start_ticker {
        tokio::spawn(ticker(ctx.conn.clone()));
    }
    Ok(json!({}))
}

pub(crate) fn unsubscribe(ctx: &Ctx, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let uri = uri_param(params, "resources/unsubscribe")?;
    if ctx.has(Defect::UnsubscribeFails) {
        return Err(RpcError::internal("resources/unsubscribe failed"));
    }
    if !ctx.has(Defect::UnsubscribeIgnored) {
        ctx.conn.state().subscriptions.remove(&uri);
    }
    Ok(json!({}))
}

/// Changes the watched resource every 100 ms while someone is subscribed to it: a
/// quick cadence lets a client measure it and keep its quiet windows short.
async fn ticker(conn: Connection) {
    let delay = Duration::from_millis(100);
    loop {
        tokio::time::sleep(delay).await;
        {
            let mut s = conn.state();
            let unasked = conn.has(Defect::UpdatedWithoutSubscription) && !s.subscriptions.is_empty();
            if s.closed || !(s.subscriptions.contains(WATCHED) || unasked) {
                s.watch_ticker = false;
                return;
            }
        }
        bump(&conn);
    }
}

fn bump(conn: &Connection) -> u64 {
    let hub = &conn.config().hub;
    let rev = hub.bump_watched();
    let note = || {
        jsonrpc::notification(
            "notifications/resources/updated",
            Some(json!({"uri": WATCHED})),
        )
    };
    // Legacy sessions subscribed to it (on any connection of this server).
    let mut notified_self = false;
    for c in hub.legacy_connections() {
        if c.state().subscriptions.contains(WATCHED) {
            notified_self |= c.same_as(conn);
            c.send(note(), None);
        }
    }
    if !notified_self
        && conn.has(Defect::UpdatedWithoutSubscription)
        && !conn.state().subscriptions.contains(WATCHED)
    {
        conn.send(note(), None);
    }
    crate::modern::resource_updated(conn, WATCHED);
    rev
}

/// Changes `test://watched-resource` now (tool `update_watched`); returns the revision.
pub(crate) fn touch_watched(ctx: &Ctx) -> u64 {
    bump(&ctx.conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_matching() {
        let t = "test://template/{id}/data";
        assert_eq!(
            match_template(t, "test://template/42/data"),
            Some(vec![("id".into(), "42".into())])
        );
        assert_eq!(match_template(t, "test://template//data"), None);
        assert_eq!(match_template(t, "test://template/a/b/data"), None);
        assert_eq!(match_template(t, "test://template/42/datax"), None);
        let t2 = "test://users/{userId}/posts/{postId}";
        assert_eq!(
            match_template(t2, "test://users/u1/posts/p2"),
            Some(vec![
                ("userId".into(), "u1".into()),
                ("postId".into(), "p2".into())
            ])
        );
        assert_eq!(
            match_template("test://users/{userId}", "test://users/u1/posts/p2"),
            None
        );
    }
}

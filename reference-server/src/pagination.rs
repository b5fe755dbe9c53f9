//! Cursor-based pagination shared by every list method.
//!
//! A cursor is opaque to clients: base64url of `list:offset:check`, where `check` is a
//! keyed hash of the list name and offset, so a forged or corrupted cursor is rejected
//! with -32602. This module must never do IO and never accept a cursor it did not mint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::defects::Defect;
use crate::jsonrpc::RpcError;
use crate::server::Ctx;

const KEY: u64 = 0x6d63_702d_636f_6e66; // "mcp-conf"

fn check(list: &str, offset: usize) -> u64 {
    // FNV-1a over key, list and offset.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ KEY;
    for b in list.bytes().chain(offset.to_string().bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub fn encode(list: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}:{offset}:{:016x}", check(list, offset)))
}

/// The offset a cursor stands for, if the server minted it for `list`.
pub fn decode(list: &str, cursor: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.rsplitn(3, ':');
    let mac = parts.next()?;
    let offset: usize = parts.next()?.parse().ok()?;
    let name = parts.next()?;
    (name == list && mac == format!("{:016x}", check(list, offset))).then_some(offset)
}

/// Cuts one page out of `items` for the request's `cursor` and builds the result
/// object `{ <field>: [...], nextCursor? }`.
pub fn page(
    ctx: &Ctx,
    list: &str,
    field: &str,
    items: Vec<Value>,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let offset = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => match decode(list, c) {
            Some(o) if o <= items.len() => o,
            _ if ctx.has(Defect::InvalidCursorAccepted) => 0,
            _ => {
                return Err(RpcError::invalid_params(format!(
                    "invalid cursor for {list}"
                )));
            }
        },
        Some(_) if ctx.has(Defect::InvalidCursorAccepted) => 0,
        Some(_) => return Err(RpcError::invalid_params("cursor must be a string")),
    };
    let size = ctx.page_size();
    let end = (offset + size).min(items.len());
    let mut result = Map::new();
    let page: Vec<Value> = items[offset..end].to_vec();
    result.insert(field.into(), Value::Array(page));
    if end < items.len() {
        let next = if ctx.has(Defect::PaginationOverlap) && end > offset + 1 {
            end - 1
        } else {
            end
        };
        result.insert("nextCursor".into(), json!(encode(list, next)));
    } else if ctx.has(Defect::PaginationLoop) {
        result.insert("nextCursor".into(), json!(encode(list, 0)));
    } else if ctx.has(Defect::NullNextCursor) {
        result.insert("nextCursor".into(), Value::Null);
    }
    Ok(Value::Object(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let c = encode("tools", 4);
        assert_eq!(decode("tools", &c), Some(4));
        assert_eq!(decode("prompts", &c), None);
        assert_eq!(decode("tools", "garbage"), None);
        assert_eq!(
            decode("tools", &URL_SAFE_NO_PAD.encode("tools:8:0000000000000000")),
            None
        );
        assert_eq!(decode("tools", ""), None);
    }
}

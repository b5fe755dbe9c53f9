//! An incremental, bounded Server-Sent Events parser (the WHATWG "event stream
//! interpretation"), working on bytes so that a server's bytes reach the engine
//! exactly as sent: data is never decoded, re-encoded or repaired.
//!
//! Feed it chunks as they arrive, in any split; it yields one [`SseItem`] per
//! blank-line-terminated block that had any field, and per comment line. A block larger
//! than the bound is reported as [`SseItem::TooLarge`] with a prefix of its bytes, and
//! the rest of it is counted, not stored.
//!
//! Interpretation follows the standard: lines end in CRLF, LF or CR (a CR at the end
//! of one chunk and an LF at the start of the next are one line end); a UTF-8 BOM at
//! the very start is skipped; one space after the colon is removed; `data` lines are
//! joined with LF; `id` containing NUL is ignored; `retry` is honoured only when all
//! ASCII digits; unknown fields are ignored. Unlike a browser, a block with `id` but
//! no `data` (an SSE priming event) is still reported, so the transport can note it and
//! resume from it; it is never a frame.

/// One event block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event` field; empty means the default type, `message`.
    pub event: String,
    /// The `data` lines joined with LF; `None` when the block had no `data` field.
    pub data: Option<Vec<u8>>,
    /// The `id` field of this block, if it had one (an empty value resets the id).
    pub id: Option<String>,
    /// The stream's last event id after this block (what `Last-Event-ID` would carry).
    pub last_event_id: String,
    /// A valid `retry` field in this block, in milliseconds.
    pub retry: Option<u64>,
    /// The block's bytes as received (field lines with their line ends).
    pub raw: Vec<u8>,
}

impl SseEvent {
    /// The event type as dispatched (`message` when none was given).
    pub fn event_type(&self) -> &str {
        if self.event.is_empty() { "message" } else { &self.event }
    }

    /// Whether the block carries a message: some non-empty `data`.
    pub fn has_data(&self) -> bool {
        self.data.as_ref().is_some_and(|d| !d.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    Event(SseEvent),
    /// A comment line's text (after the colon).
    Comment(Vec<u8>),
    /// A block over the bound: its first bytes, and its size in bytes.
    TooLarge { prefix: Vec<u8>, size: usize },
}

pub struct SseParser {
    max_event: usize,
    keep_prefix: usize,
    /// The current line, without its terminator (a prefix of it past the bound).
    line: Vec<u8>,
    /// The current line's length in bytes, stored or not.
    line_seen: usize,
    /// Whether the BOM check at the stream start is done.
    started: bool,
    /// Bytes seen at the stream start while deciding whether they are a BOM.
    head: Vec<u8>,
    /// The previous chunk ended in CR: a leading LF in the next one is its pair.
    pending_cr: bool,
    // The block being built.
    event: String,
    data: Vec<u8>,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
    raw: Vec<u8>,
    any_field: bool,
    /// Bytes of the current block; set past the bound.
    block_bytes: usize,
    overflow: bool,
    last_event_id: String,
    reconnect_ms: Option<u64>,
}

impl SseParser {
    /// `max_event`: the largest block kept, in bytes (field names and line ends included).
    pub fn new(max_event: usize) -> SseParser {
        SseParser {
            max_event,
            keep_prefix: crate::transcript::MAX_ENTRY_BYTES.min(max_event.max(1)),
            line: Vec::new(),
            line_seen: 0,
            started: false,
            head: Vec::new(),
            pending_cr: false,
            event: String::new(),
            data: Vec::new(),
            has_data: false,
            id: None,
            retry: None,
            raw: Vec::new(),
            any_field: false,
            block_bytes: 0,
            overflow: false,
            last_event_id: String::new(),
            reconnect_ms: None,
        }
    }

    /// Continue after a reconnection: the last event id carries over.
    pub fn with_last_event_id(mut self, id: &str) -> SseParser {
        self.last_event_id = id.to_string();
        self
    }

    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the stream asked for with `retry`, if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.reconnect_ms
    }

    /// Bytes received that no complete block accounts for yet.
    pub fn pending_bytes(&self) -> usize {
        self.block_bytes + self.line.len() + self.head.len()
    }

    /// The unfinished block's bytes (for evidence when the stream ends mid-event).
    pub fn pending_raw(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        out.extend_from_slice(&self.raw);
        out.extend_from_slice(&self.line[..self.line.len().min(self.keep_prefix)]);
        out
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseItem> {
        let mut out = Vec::new();
        let mut chunk = chunk;
        if !self.started {
            // The BOM may itself be split across chunks.
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            self.head.extend_from_slice(chunk);
            if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
                return out;
            }
            self.started = true;
            let head = std::mem::take(&mut self.head);
            let rest = head.strip_prefix(BOM).unwrap_or(&head);
            self.feed_bytes(rest, &mut out);
            return out;
        }
        if self.pending_cr {
            self.pending_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                self.note_raw(b"\n");
                chunk = rest;
            }
        }
        self.feed_bytes(chunk, &mut out);
        out
    }

    fn feed_bytes(&mut self, mut chunk: &[u8], out: &mut Vec<SseItem>) {
        while !chunk.is_empty() {
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    self.push_line_bytes(chunk);
                    return;
                }
                Some(i) => {
                    self.push_line_bytes(&chunk[..i]);
                    let cr = chunk[i] == b'\r';
                    let mut end = i + 1;
                    if cr {
                        if end < chunk.len() {
                            if chunk[end] == b'\n' {
                                end += 1;
                            }
                        } else {
                            self.pending_cr = true;
                        }
                    }
                    self.note_raw(&chunk[i..end]);
                    chunk = &chunk[end..];
                    let line = std::mem::take(&mut self.line);
                    let blank = std::mem::take(&mut self.line_seen) == 0;
                    self.process_line(&line, blank, out);
                }
            }
        }
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) {
        self.line_seen += bytes.len();
        self.block_bytes += bytes.len();
        if self.block_bytes > self.max_event {
            self.overflow = true;
        }
        // Past the bound only a prefix of the block is kept.
        let room = if self.overflow { self.keep_prefix.saturating_sub(self.raw.len() + self.line.len()) } else { bytes.len() };
        self.line.extend_from_slice(&bytes[..room.min(bytes.len())]);
    }

    /// Line terminators count towards the block's size.
    fn note_raw(&mut self, terminator: &[u8]) {
        self.block_bytes += terminator.len();
        if self.block_bytes > self.max_event {
            self.overflow = true;
        }
    }

    fn process_line(&mut self, line: &[u8], blank: bool, out: &mut Vec<SseItem>) {
        if blank {
            self.dispatch(out);
            return;
        }
        if self.overflow {
            if self.raw.len() < self.keep_prefix {
                let room = self.keep_prefix - self.raw.len();
                self.raw.extend_from_slice(&line[..line.len().min(room)]);
                self.raw.push(b'\n');
            }
            self.any_field = true;
            return;
        }
        if let Some(comment) = line.strip_prefix(b":") {
            if !self.any_field {
                // A comment between blocks: its bytes belong to no event.
                self.block_bytes = 0;
            } else {
                self.raw.extend_from_slice(line);
                self.raw.push(b'\n');
            }
            out.push(SseItem::Comment(comment.to_vec()));
            return;
        }
        self.raw.extend_from_slice(line);
        self.raw.push(b'\n');
        self.any_field = true;
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
                self.has_data = true;
            }
            b"id" if !value.contains(&0) => {
                let id = String::from_utf8_lossy(value).into_owned();
                self.last_event_id = id.clone();
                self.id = Some(id);
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Ok(ms) = std::str::from_utf8(value).unwrap_or("").parse::<u64>() {
                    self.retry = Some(ms);
                    self.reconnect_ms = Some(ms);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let size = self.block_bytes;
        if self.overflow {
            out.push(SseItem::TooLarge { prefix: std::mem::take(&mut self.raw), size });
        } else if self.any_field {
            let mut data = std::mem::take(&mut self.data);
            if data.last() == Some(&b'\n') {
                data.pop();
            }
            out.push(SseItem::Event(SseEvent {
                event: std::mem::take(&mut self.event),
                data: self.has_data.then_some(data),
                id: self.id.take(),
                last_event_id: self.last_event_id.clone(),
                retry: self.retry.take(),
                raw: std::mem::take(&mut self.raw),
            }));
        }
        self.event.clear();
        self.data.clear();
        self.has_data = false;
        self.id = None;
        self.retry = None;
        self.raw.clear();
        self.any_field = false;
        self.block_bytes = 0;
        self.overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(items: &[SseItem]) -> Vec<&SseEvent> {
        items.iter().filter_map(|i| if let SseItem::Event(e) = i { Some(e) } else { None }).collect()
    }

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut p = SseParser::new(1024);
        chunks.iter().flat_map(|c| p.feed(c)).collect()
    }

    /// Every split of the input into two chunks gives the same items.
    fn same_for_every_split(input: &[u8]) -> Vec<SseItem> {
        let whole = parse_all(&[input]);
        for i in 0..=input.len() {
            assert_eq!(parse_all(&[&input[..i], &input[i..]]), whole, "split at {i}");
        }
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(parse_all(&bytewise), whole, "byte by byte");
        whole
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        let items = same_for_every_split(b"data: {\"a\":\ndata:  1}\n\n");
        let e = events(&items);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].data.as_deref(), Some(&b"{\"a\":\n 1}"[..]));
        assert_eq!(e[0].event_type(), "message");
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        for input in [&b"event: message\r\ndata: x\r\n\r\n"[..], b"event: message\rdata: x\r\r", b"event: message\r\ndata: x\r\r\n"] {
            let items = same_for_every_split(input);
            let e = events(&items);
            assert_eq!(e.len(), 1, "{input:?}");
            assert_eq!(e[0].data.as_deref(), Some(&b"x"[..]));
        }
        // CR then LF across chunks is one line end, not an empty line.
        let items = parse_all(&[b"data: a\r", b"\ndata: b\r\n\r\n"]);
        assert_eq!(events(&items)[0].data.as_deref(), Some(&b"a\nb"[..]));
    }

    #[test]
    fn comments_are_reported_and_carry_no_event() {
        let items = same_for_every_split(b": keep-alive\n\n:\r\ndata: y\n\n");
        assert_eq!(items[0], SseItem::Comment(b" keep-alive".to_vec()));
        assert_eq!(items[1], SseItem::Comment(Vec::new()));
        assert_eq!(events(&items).len(), 1);
    }

    #[test]
    fn id_retry_and_priming_events() {
        let items = same_for_every_split(b"id: 7\ndata:\n\nretry: 250\n\nretry: 1x\nid: bad\0id\ndata: z\n\n");
        let e = events(&items);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].id.as_deref(), Some("7"));
        assert_eq!(e[0].data.as_deref(), Some(&b""[..]));
        assert!(!e[0].has_data(), "a priming event carries no message");
        assert_eq!(e[1].retry, Some(250));
        assert_eq!(e[1].data, None);
        assert_eq!(e[2].retry, None, "a non-numeric retry is ignored");
        assert_eq!(e[2].id, None, "an id with NUL is ignored");
        assert_eq!(e[2].last_event_id, "7");
        let mut p = SseParser::new(100);
        p.feed(b"id: 1\nretry: 50\n\n");
        assert_eq!((p.last_event_id(), p.retry_ms()), ("1", Some(50)));
    }

    #[test]
    fn fields_without_colon_or_space_and_unknown_fields() {
        let items = same_for_every_split(b"data\ndata:x\nfoo: bar\nevent:endpoint\n\n");
        let e = events(&items);
        assert_eq!(e[0].data.as_deref(), Some(&b"\nx"[..]));
        assert_eq!(e[0].event_type(), "endpoint");
    }

    #[test]
    fn a_leading_bom_is_skipped_once() {
        let items = same_for_every_split(b"\xEF\xBB\xBFdata: 1\n\n");
        assert_eq!(events(&items)[0].data.as_deref(), Some(&b"1"[..]));
        // Not at the start: it is part of the field name, so the line is an unknown field.
        let items = parse_all(&[b"data: 1\n\n\xEF\xBB\xBFdata: 2\n\n"]);
        assert_eq!(events(&items).len(), 2);
        assert_eq!(events(&items)[1].data, None);
    }

    #[test]
    fn blocks_over_the_bound_are_reported_not_kept() {
        let mut p = SseParser::new(16);
        let mut items = p.feed(b"data: 0123456789abcdefghij");
        items.extend(p.feed(b"klmnop\ndata: more\n\ndata: ok\n\n"));
        match &items[0] {
            SseItem::TooLarge { prefix, size } => {
                assert!(*size > 16);
                assert!(prefix.starts_with(b"data: 0123456789"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(events(&items)[0].data.as_deref(), Some(&b"ok"[..]), "the parser recovers at the next block");
    }

    #[test]
    fn an_unterminated_block_stays_pending() {
        let mut p = SseParser::new(100);
        assert!(p.feed(b"data: {\"partial\"").is_empty());
        assert!(p.feed(b"\n").is_empty());
        assert!(p.pending_bytes() > 0);
        assert!(p.pending_raw().starts_with(b"data: {"));
    }
}

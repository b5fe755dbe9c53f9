//! The table of injectable defects.
//!
//! Each defect is one precise violation of one rule of the MCP specification (or of
//! JSON-RPC 2.0, or of the transport bindings). The server checks a defect at the exact
//! place where its behaviour diverges, and nowhere else. This module must never do IO
//! and never change behaviour by itself: it only names defects and holds the set that
//! is switched on.

use std::fmt;

macro_rules! defects {
    ($($variant:ident => $name:literal : $desc:literal,)*) => {
        /// One injectable defect.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Defect { $($variant,)* }

        /// Every defect: (name, one-line description), in declaration order.
        pub const TABLE: &[(&str, &str)] = &[$(($name, $desc),)*];

        const ALL: &[Defect] = &[$(Defect::$variant,)*];
    };
}

defects! {
    // --- lifecycle ---
    InitializeWrongVersion => "initialize-wrong-version": "answers initialize with protocolVersion \"1999-01-01\"",
    InitializeMissingServerInfo => "initialize-missing-server-info": "the initialize result lacks serverInfo",
    EchoUnsupportedVersion => "echo-unsupported-version": "echoes an unsupported requested protocol version back instead of answering with a supported one",
    RespondToInitialized => "respond-to-initialized": "sends a response (with id null) to notifications/initialized",
    RespondToNotifications => "respond-to-notifications": "answers every other notification with an empty result (id null)",
    PingError => "ping-error": "ping returns an error instead of an empty result",
    ServeBeforeInitialize => "serve-before-initialize": "answers requests before initialize as if initialized",
    DoubleInitializeAccepted => "double-initialize-accepted": "accepts a second initialize on the same connection",
    MissingCapabilities => "missing-capabilities": "the initialize result lacks capabilities",
    UndeclaredCapabilityServed => "tools-capability-undeclared": "serves tools but does not declare the tools capability",
    PromptsCapabilityUndeclared => "prompts-capability-undeclared": "serves prompts but does not declare the prompts capability",
    ResourcesCapabilityUndeclared => "resources-capability-undeclared": "serves resources but does not declare the resources capability",
    LoggingCapabilityUndeclared => "logging-capability-undeclared": "accepts logging/setLevel but does not declare the logging capability",
    CompletionsCapabilityUndeclared => "completions-capability-undeclared": "answers completion/complete but does not declare the completions capability",
    ServeOnlyAfterInitialized => "serve-only-after-initialized": "refuses every request, ping included, between the initialize response and notifications/initialized",
    // --- JSON-RPC framing ---
    UnknownMethodWrongCode => "unknown-method-wrong-code": "unknown methods get -32603 instead of -32601",
    InvalidParamsWrongCode => "invalid-params-wrong-code": "invalid params get -32603 instead of -32602",
    ParseErrorWithId => "parse-error-with-id": "the -32700 response carries \"id\": 0 instead of null",
    ParseErrorSilent => "parse-error-silent": "no response to malformed JSON",
    InvalidRequestSilent => "invalid-request-silent": "no response to a well-formed JSON message that is not a valid JSON-RPC request",
    IdAsString => "id-as-string": "numeric request ids are echoed as strings",
    ErrorWithoutMessage => "error-without-message": "error objects lack message",
    ResultAndError => "result-and-error": "error responses also carry a result member",
    WrongJsonrpcVersion => "wrong-jsonrpc-version": "responses carry \"jsonrpc\": \"1.0\"",
    NullIdAccepted => "null-id-accepted": "a request with \"id\": null is served instead of rejected with -32600",
    BatchRejected => "batch-rejected": "rejects JSON-RPC batches under 2025-03-26, where receiving them is a MUST",
    BatchAccepted => "batch-accepted": "accepts JSON-RPC batches under 2025-06-18 and later, where batching was removed",
    DuplicateResponse => "duplicate-response": "sends every response to a request twice",
    FalsyIdIgnored => "falsy-id-ignored": "a request whose id is 0 or \"\" is taken for a notification and never answered",
    NegativeIdRejected => "negative-id-rejected": "a request with a negative integer id is rejected with -32600 instead of served",
    LargeIdAsFloat => "large-id-as-float": "integer request ids beyond 32 bits are echoed as floating-point numbers (9007199254740991.0)",
    FractionalIdAccepted => "fractional-id-accepted": "a request whose id is a fractional number (1.5) is served instead of rejected with -32600",
    ScalarParamsAccepted => "scalar-params-accepted": "a request whose params is a string, number or boolean is served as if it had no params",
    ErrorIdNull => "error-id-null": "error responses carry id null instead of the id of the request they answer",
    InvalidRequestNullId => "invalid-request-null-id": "-32600 responses carry id null even when the request's id could be read",
    NotificationBatchAnswered => "notification-batch-answered": "answers a JSON-RPC batch of notifications only with an empty array instead of nothing",
    ServerRequestIdReused => "server-request-id-reused": "every server->client request carries id 1, so request ids repeat within the session",
    // --- stdio ---
    StdoutBanner => "stdout-banner": "prints a non-JSON banner line on stdout at start-up",
    IgnoreStdinClose => "ignore-stdin-close": "keeps running after stdin EOF (until killed)",
    EmbeddedNewline => "embedded-newline": "pretty-prints JSON messages on stdout, so they contain embedded newlines",
    StdoutLatin1 => "stdout-latin1": "writes messages on stdout in Latin-1 instead of UTF-8 (characters beyond U+00FF as '?')",
    // --- tools ---
    ToolsListBadSchema => "tools-list-bad-schema": "the first tool in tools/list lacks inputSchema",
    ToolsCallBadResult => "tools-call-bad-result": "tools/call results lack content",
    UnknownToolSucceeds => "unknown-tool-succeeds": "calling an unknown tool returns a normal successful result",
    UnknownToolIsError => "unknown-tool-is-error": "calling an unknown tool returns an isError result instead of a -32602 protocol error",
    ToolErrorAsProtocolError => "tool-error-as-protocol-error": "tool execution failures are returned as JSON-RPC errors instead of isError results",
    InvalidArgsAccepted => "invalid-args-accepted": "tool arguments that violate the inputSchema are accepted and the tool runs",
    StructuredContentMismatch => "structured-content-mismatch": "add returns structuredContent that does not match its outputSchema",
    StructuredContentMissing => "structured-content-missing": "a tool with an outputSchema returns no structuredContent",
    WrongContentType => "wrong-content-type": "uses content types that do not exist in the negotiated version (audio before 2025-03-26, resource_link before 2025-06-18)",
    ImageBadBase64 => "image-bad-base64": "test_image_content returns data that is not valid base64",
    ToolArgumentsNotObjectAccepted => "tool-arguments-not-object-accepted": "tools/call with arguments that are not an object runs the tool as if no arguments were given",
    OutputSchemaNotObject => "output-schema-not-object": "tools with an outputSchema list it as {\"type\": \"array\"} wrapping the object schema instead of an object schema",
    // --- resources ---
    ResourcesListBadSchema => "resources-list-bad-schema": "resources in resources/list lack uri",
    ResourceUriMismatch => "resource-uri-mismatch": "resources/read contents carry a uri different from the requested one",
    ResourceNotFoundWrongCode => "resource-not-found-wrong-code": "reading an unknown resource gives -32603 instead of the version's not-found code",
    ResourceNotFoundEmpty => "resource-not-found-empty": "reading an unknown resource returns empty contents instead of an error",
    UpdatedWithoutSubscription => "updated-without-subscription": "sends notifications/resources/updated for resources the client did not subscribe to",
    UnsubscribeIgnored => "unsubscribe-ignored": "keeps sending resource updates after resources/unsubscribe",
    // --- prompts ---
    PromptsListBadSchema => "prompts-list-bad-schema": "prompts in prompts/list lack name",
    MissingPromptArgAccepted => "missing-prompt-arg-accepted": "prompts/get accepts a prompt without its required arguments",
    PromptBadRole => "prompt-bad-role": "prompt messages use the role \"system\", which MCP does not allow",
    UnknownPromptSucceeds => "unknown-prompt-succeeds": "prompts/get of an unknown prompt returns a normal result",
    PromptNonStringArgAccepted => "prompt-non-string-arg-accepted": "prompts/get takes non-string argument values as their JSON text instead of refusing them",
    PromptImageMissingMimeType => "prompt-image-missing-mime-type": "image content in prompt messages lacks mimeType",
    PromptEmbeddedResourceNoMimeType => "prompt-embedded-resource-no-mime-type": "embedded resources in prompt messages lack mimeType",
    // --- pagination ---
    PaginationLoop => "pagination-loop": "the last page of every list carries a nextCursor pointing back to the first page",
    InvalidCursorAccepted => "invalid-cursor-accepted": "an invalid cursor is treated as the first page instead of rejected with -32602",
    NullNextCursor => "null-next-cursor": "the last page carries \"nextCursor\": null instead of omitting it",
    // --- logging ---
    LogLevelIgnored => "log-level-ignored": "notifications/message are sent below the level set with logging/setLevel",
    InvalidLogLevelAccepted => "invalid-log-level-accepted": "logging/setLevel accepts an unknown level",
    // --- completion ---
    CompletionTooManyValues => "completion-too-many-values": "completion/complete returns more than 100 values",
    CompletionWrongHasMore => "completion-wrong-has-more": "completion/complete says hasMore: false when values were cut",
    CompletionContextRejected => "completion-context-rejected": "completion/complete with context.arguments fails with -32602, as if context were an unknown parameter",
    // --- cancellation & progress ---
    CancelledStillResponds => "cancelled-still-responds": "a request cancelled with notifications/cancelled still gets a response",
    ProgressDecreasing => "progress-decreasing": "progress notifications decrease instead of strictly increase",
    ProgressWithoutToken => "progress-without-token": "sends progress notifications for requests that carried no progressToken",
    ProgressWrongToken => "progress-wrong-token": "progress notifications carry a different progressToken than the request's",
    // --- server->client requests ---
    RequestBeforeInitialized => "request-before-initialized": "sends server->client requests before the client sent notifications/initialized",
    SamplingWithoutCapability => "sampling-without-capability": "sends sampling/createMessage to a client that did not declare sampling",
    ElicitationWithoutCapability => "elicitation-without-capability": "sends elicitation/create to a client that did not declare elicitation",
    RootsWithoutCapability => "roots-without-capability": "sends roots/list to a client that did not declare roots",
    // --- HTTP ---
    SessionIdNotAscii => "session-id-not-ascii": "the Mcp-Session-Id contains a non-visible-ASCII character",
    NoHostCheck => "no-host-check": "a loopback server accepts requests whose Host header names a non-loopback host",
    NoOriginCheck => "no-origin-check": "accepts requests whose Origin header names a foreign origin",
    UnknownSessionAccepted => "unknown-session-accepted": "serves requests that carry an unknown Mcp-Session-Id instead of answering 404",
    MissingSessionAccepted => "missing-session-accepted": "serves non-initialize requests without Mcp-Session-Id instead of answering 400",
    NotificationNot202 => "notification-not-202": "answers a POSTed notification with 200 and a body instead of 202",
    ProtocolVersionHeaderIgnored => "protocol-version-header-ignored": "accepts an invalid MCP-Protocol-Version header instead of answering 400",
    DeleteIgnored => "delete-ignored": "a DELETE does not end the session; it keeps being served",
    WrongContentTypeHeader => "wrong-content-type-header": "JSON responses to POST carry Content-Type text/plain",
    SseMissingPrimingEvent => "sse-missing-priming-event": "2025-11-25 SSE response streams start without the priming event (an event id with empty data)",
    ResumeCrossesStreams => "resume-crosses-streams": "resuming with Last-Event-ID also replays events that belong to other streams",
    SseNoEndpointEvent => "sse-no-endpoint-event": "the legacy SSE stream does not start with an endpoint event",
    GetStreamRefused => "get-stream-refused": "a GET to the MCP endpoint is answered 400 instead of opening an SSE stream or answering 405 Method Not Allowed",
    SseStreamLeftOpen => "sse-stream-left-open": "an SSE response stream stays open after it carried its final response",
    SseEventIdsRestart => "sse-event-ids-restart": "every SSE stream numbers its event ids from the same start, so ids repeat across the session's streams",
    ProtocolVersionHeaderRequired => "protocol-version-header-required": "a request without an MCP-Protocol-Version header is refused with 400 instead of taken as 2025-03-26",
    SseWrongEventName => "sse-wrong-event-name": "the legacy SSE stream sends server messages as `response` events instead of `message` events",
    // --- 2026-07-28 ---
    MissingResultType => "missing-result-type": "2026-07-28 results lack resultType",
    MissingCacheFields => "missing-cache-fields": "2026-07-28 cacheable results lack ttlMs and cacheScope",
    UnsupportedVersionWrongCode => "unsupported-version-wrong-code": "an unsupported per-request protocol version gets -32602 instead of -32022",
    DiscoverMissingVersions => "discover-missing-versions": "server/discover lacks supportedVersions",
    LogWithoutLevelMeta => "log-without-level-meta": "2026-07-28 requests without a logLevel in _meta still receive notifications/message",
    HeaderMismatchAccepted => "header-mismatch-accepted": "2026-07-28 mirrored headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) that are missing or disagree with the body are accepted instead of rejected with -32020",
    ParamHeaderIgnored => "param-header-ignored": "a Mcp-Param-* header that disagrees with its x-mcp-header tool argument is accepted instead of rejected with -32020",
    StatelessErrorsHttp200 => "stateless-errors-http-200": "2026-07-28 error answers (unknown method, unsupported protocol version) come with HTTP 200 instead of 404 / 400",
    StatelessGetDeleteServed => "stateless-get-delete-served": "2026-07-28 GET and DELETE to the MCP endpoint are answered 200 instead of 405 Method Not Allowed",
    StatelessSessionIdEchoed => "stateless-session-id-echoed": "a 2026-07-28 request's Mcp-Session-Id header is echoed on the response, as if the stateless protocol had sessions",
    Base64HeaderNotDecoded => "base64-header-not-decoded": "a =?base64?...?= Mcp-Name header is compared without decoding, so a correctly encoded header is refused with -32020",
    // --- added with the harness's case library ---
    SetLevelError => "set-level-error": "logging/setLevel with a valid level fails with -32603",
    NoServerInfoMeta => "no-server-info-meta": "2026-07-28 results omit _meta io.modelcontextprotocol/serverInfo",
    RequireInitialize => "require-initialize": "2026-07-28 requests are refused until an initialize handshake, which the stateless protocol does not have",
    TemplatesListBadSchema => "templates-list-bad-schema": "the first template in resources/templates/list lacks uriTemplate",
    SubscribeError => "subscribe-error": "resources/subscribe to a listed resource fails with -32603",
    ToolNameInvalid => "tool-name-invalid": "the first tool's name contains a space and an exclamation mark",
    ListenNoAck => "listen-no-ack": "subscriptions/listen streams start without notifications/subscriptions/acknowledged",
    ListenMissingSubscriptionId => "listen-missing-subscription-id": "notifications on a subscriptions/listen stream lack io.modelcontextprotocol/subscriptionId",
    RequestStateUnverified => "request-state-unverified": "a forged or foreign requestState is accepted instead of rejected",
    MissingCapabilityAsToolError => "missing-capability-as-tool-error": "a 2026-07-28 request needing an undeclared client capability gets an isError result instead of -32021",
    // --- more rules ---
    ProgressAfterResponse => "progress-after-response": "sends a progress notification after the final response to the request",
    LogInvalidLevel => "log-invalid-level": "debug log messages carry the level \"trace\", which is not an RFC 5424 level",
    TemplateReadFails => "template-read-fails": "reading a URI that matches a resource template fails as not found",
    CompletionIgnoresPrefix => "completion-ignores-prefix": "completion/complete returns values that do not start with the typed value",
    BatchUnwrapped => "batch-unwrapped": "answers a JSON-RPC batch with separate messages instead of one array",
    ImageMissingMimeType => "image-missing-mime-type": "test_image_content returns image content without mimeType",
    PaginationOverlap => "pagination-overlap": "consecutive pages overlap: each nextCursor repeats the last item of the page",
    PingBeforeInitializeRejected => "ping-before-initialize-rejected": "ping before initialize is rejected, though ping is allowed at any time",
    TaskSupportIgnored => "task-support-ignored": "a task-augmented tools/call of a tool without taskSupport creates a task instead of failing with -32601",
    TaskResultNotBlocking => "task-result-not-blocking": "tasks/result for an unfinished task fails at once instead of blocking until the task ends",
    TaskCancelTerminalAccepted => "task-cancel-terminal-accepted": "tasks/cancel of a completed task succeeds (and moves it to cancelled) instead of -32602",
    TaskMissingRelatedTask => "task-missing-related-task": "messages sent on behalf of a task lack the io.modelcontextprotocol/related-task metadata",
    MrtrAcceptsInvalidResponses => "mrtr-accepts-invalid-responses": "an inputResponses value that is not a result object (e.g. a number) is taken as the answer instead of failing with -32602",
    UnknownTaskWrongCode => "unknown-task-wrong-code": "tasks/get, tasks/result and tasks/cancel of an unknown task id get -32603 instead of -32602",
    TaskCreatedPending => "task-created-pending": "a new task starts in the status \"pending\" instead of \"working\"",
    TaskTimestampsNotRfc3339 => "task-timestamps-not-rfc3339": "tasks/get writes createdAt and lastUpdatedAt as \"YYYY-MM-DD HH:MM:SS\", without the T and the time zone of ISO 8601 / RFC 3339",
    TasksListMissesNewest => "tasks-list-misses-newest": "tasks/list leaves out the newest task (a listing taken before it was stored), though tasks/get finds it",
    TaskIdsRepeat => "task-ids-repeat": "every task of a tool gets the same id (derived from the tool name), so task ids are not unique",
    // --- the tasks extension (io.modelcontextprotocol/tasks) on 2026-07-28 ---
    TasksUngated => "tasks-ungated": "tasks/get, tasks/update and tasks/cancel are served to requests that do not declare the io.modelcontextprotocol/tasks extension instead of failing with -32021",
    TaskForUndeclaredClient => "task-for-undeclared-client": "tools/call of a task-supporting tool returns a CreateTaskResult to a request that does not declare the tasks extension",
    TaskLegacyWireFields => "task-legacy-wire-fields": "tasks carry the 2025-11-25 names ttl and pollInterval instead of ttlMs and pollIntervalMs",
    TaskResultRelatedMeta => "task-result-related-meta": "the result inlined in a completed task carries the 2025-11-25 io.modelcontextprotocol/related-task _meta",
    SessionIdPredictable => "session-id-predictable": "Mcp-Session-Id values are a counter (session-1, session-2, ...) instead of cryptographically random",
    // --- authorization (--auth) ---
    AuthNoWwwAuthenticate => "auth-no-www-authenticate": "with --auth, 401 answers carry no WWW-Authenticate header",
    AuthNoResourceMetadata => "auth-no-resource-metadata": "with --auth, the WWW-Authenticate challenge lacks resource_metadata",
    AuthMetadataNoAuthorizationServers => "auth-metadata-no-authorization-servers": "with --auth, the protected resource metadata lacks authorization_servers",
    AuthMetadataWrongResource => "auth-metadata-wrong-resource": "with --auth, the protected resource metadata names another resource than the endpoint",
    AuthAnyTokenAccepted => "auth-any-token-accepted": "with --auth, any well-formed bearer token is served without validation",
    AuthWrongAudienceAccepted => "auth-wrong-audience-accepted": "with --auth, a token issued for another resource (audience) is served",
    AuthScopeIgnored => "auth-scope-ignored": "with --auth, a token without the required scope is served instead of answered 403 insufficient_scope",
    AuthMalformedHeaderAccepted => "auth-malformed-header-accepted": "with --auth, a malformed Authorization header is served as if authorized",
    AuthChallengeWithoutScope => "auth-challenge-without-scope": "with --auth, the WWW-Authenticate challenge lacks scope",
    AuthNoAuthorizationServerMetadata => "auth-no-authorization-server-metadata": "with --auth, /.well-known/oauth-authorization-server answers 404",
    // --- tool content (the case library's content checks) ---
    AudioBadBase64 => "audio-bad-base64": "audio content in tool results carries data that is not valid base64",
    EmbeddedResourceMissingUri => "embedded-resource-missing-uri": "embedded resources in tool results lack their uri",
    ResourceLinkMissingName => "resource-link-missing-name": "resource_link content in tool results lacks name",
    ErrorResultEmpty => "error-result-empty": "tool execution errors (isError: true) carry an empty content array",
    BlobBadBase64 => "blob-bad-base64": "binary resource contents carry a blob that is not valid base64",
    StructuredWithoutText => "structured-without-text": "tools returning structuredContent leave out the serialized JSON text block",
    IconMissingSrc => "icon-missing-src": "tool icons lack src (2025-11-25)",
    CompletionUnknownRefAccepted => "completion-unknown-ref-accepted": "completion/complete for an unknown prompt or template returns empty values instead of -32602",
    InvalidMetaLogLevelAccepted => "invalid-meta-log-level-accepted": "a 2026-07-28 request whose _meta logLevel is not a log level is served (as if no level were given) instead of rejected with -32602",
    // --- official-suite fixtures (cases/official) ---
    AudioContentWrongMimeType => "audio-content-wrong-mime-type": "audio content in tool results says audio/mpeg although the data is WAV",
    LoggingFixtureSilent => "logging-fixture-silent": "test_tool_with_logging sends no notifications/message",
    SamplingFixtureNoRequest => "sampling-fixture-no-request": "test_sampling answers without sending sampling/createMessage",
    ElicitationFixtureNoRequest => "elicitation-fixture-no-request": "test_elicitation answers without sending elicitation/create",
    Sep1034DefaultMissing => "sep1034-default-missing": "test_elicitation_sep1034_defaults leaves default out of age",
    Sep1330EnumVariantMissing => "sep1330-enum-variant-missing": "test_elicitation_sep1330_enums sends titledSingle as a plain enum (no oneOf)",
    JsonSchema2106KeywordsStripped => "json-schema-2106-keywords-stripped": "json_schema_2020_12_tool is listed without allOf, if/then/else and the $anchor of $defs.address (2026-07-28)",
    JsonSchemaKeywordsStripped => "json-schema-keywords-stripped": "json_schema_2020_12_tool is listed without $schema, $defs and additionalProperties",
    StaticTextMissingMimeType => "static-text-missing-mime-type": "test://static-text contents lack mimeType",
    StaticBinaryAsText => "static-binary-as-text": "test://static-binary is returned as text instead of blob",
    UnsubscribeFails => "unsubscribe-fails": "resources/unsubscribe returns an error",
    PromptArgsNotSubstituted => "prompt-args-not-substituted": "test_prompt_with_arguments returns its template text without the argument values",
    PromptEmbeddedResourceMissing => "prompt-embedded-resource-missing": "test_prompt_with_embedded_resource returns only its text message",
    PromptImageMissingData => "prompt-image-missing-data": "test_prompt_with_image's image content lacks data",
    MetaMissingAccepted => "meta-missing-accepted": "2026-07-28 requests whose _meta lacks io.modelcontextprotocol/clientCapabilities are served as if it were empty",
    ClientInfoRequired => "client-info-required": "2026-07-28 requests whose _meta lacks io.modelcontextprotocol/clientInfo get -32602, though clientInfo is optional",
    RemovedMethodsServed => "removed-methods-served": "ping and logging/setLevel, removed in 2026-07-28, are still served on 2026-07-28 requests",
    MrtrRequestStateDropped => "mrtr-request-state-dropped": "2026-07-28 InputRequiredResults carry no requestState",
    MrtrExtraResponsesRejected => "mrtr-extra-responses-rejected": "2026-07-28 inputResponses keys the server did not ask for make the request fail instead of being ignored",
    MrtrCompleteAtOnce => "mrtr-complete-at-once": "2026-07-28 tools and prompts that need client input complete on the first call without an InputRequiredResult, as if every input were answered empty",
    MrtrOnListRequests => "mrtr-on-list-requests": "2026-07-28 tools/list, prompts/list, resources/list and resources/templates/list answer resultType \"input_required\"",
}

impl Defect {
    pub fn name(self) -> &'static str {
        TABLE[self as usize].0
    }
    pub fn description(self) -> &'static str {
        TABLE[self as usize].1
    }
    pub fn from_name(name: &str) -> Option<Defect> {
        ALL.iter().copied().find(|d| d.name() == name)
    }
    pub fn all() -> &'static [Defect] {
        ALL
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const WORDS: usize = 4;

const _: () = assert!(
    TABLE.len() <= WORDS * 64,
    "the Defects bit set holds at most 256 defects"
);

/// The set of defects switched on for one server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Defects([u64; WORDS]);

impl Defects {
    pub fn none() -> Self {
        Defects([0; WORDS])
    }
    pub fn with(mut self, d: Defect) -> Self {
        self.insert(d);
        self
    }
    pub fn insert(&mut self, d: Defect) {
        let i = d as usize;
        self.0[i / 64] |= 1u64 << (i % 64);
    }
    #[inline]
    pub fn has(&self, d: Defect) -> bool {
        let i = d as usize;
        self.0[i / 64] & (1u64 << (i % 64)) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    /// Parses names; the error names the first unknown one.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut set = Defects::none();
        for n in names {
            let n = n.as_ref();
            match Defect::from_name(n) {
                Some(d) => set.insert(d),
                None => return Err(n.to_string()),
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for (i, d) in Defect::all().iter().enumerate() {
            assert_eq!(*d as usize, i);
            assert!(seen.insert(d.name()), "duplicate {}", d.name());
            assert!(
                d.name()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
            assert!(!d.description().is_empty() && !d.description().contains('\n'));
            assert_eq!(Defect::from_name(d.name()), Some(*d));
        }
    }

    #[test]
    fn set_operations() {
        let s = Defects::parse(&["ping-error", "id-as-string"]).unwrap();
        assert!(s.has(Defect::PingError) && s.has(Defect::IdAsString));
        assert!(!s.has(Defect::ParseErrorSilent));
        assert_eq!(Defects::parse(&["nope"]).unwrap_err(), "nope");
    }
}

#[cfg(test)]
mod readme_tests {
    #[test]
    fn readme_lists_every_defect() {
        let readme = include_str!("../README.md");
        for (name, desc) in super::TABLE {
            assert!(
                readme.contains(&format!("| `{name}` | {desc} |")),
                "README.md lacks or misdescribes {name}"
            );
        }
    }
}

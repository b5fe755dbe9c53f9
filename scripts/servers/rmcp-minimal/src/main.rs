//! A small MCP server written with `rmcp` (the official Rust SDK), for
//! scripts/certify-real-servers.sh. It mirrors scripts/servers/py_minimal_server.py:
//! two read-only tools (one with a structured result), one text resource, one prompt.
//!
//!   rmcp-minimal                        # stdio
//!   rmcp-minimal --http 127.0.0.1:PORT  # Streamable HTTP at http://127.0.0.1:PORT/mcp

use rmcp::{
    ErrorData, Json, RoleServer, ServerHandler, ServiceExt,
    handler::server::{router::prompt::PromptRouter, tool::ToolRouter, wrapper::Parameters},
    model::{
        Implementation, ListResourcesResult, PaginatedRequestParams, PromptMessage,
        ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
        ResourceContents, Role, ServerCapabilities, ServerConfig,
    },
    prompt, prompt_handler, prompt_router,
    service::RequestContext,
    tool, tool_handler, tool_router,
    transport::{
        StreamableHttpServerConfig, StreamableHttpService,
        streamable_http_server::session::local::LocalSessionManager,
    },
};
use serde::{Deserialize, Serialize};

const GREETING_URI: &str = "memo://greeting";

#[derive(Clone)]
struct Minimal {
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ReviewArgs {
    /// The code to review.
    code: String,
}

#[tool_router]
impl Minimal {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
        }
    }

    #[tool(
        description = "Return the given text unchanged.",
        annotations(read_only_hint = true)
    )]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }

    #[tool(description = "Add two integers.", annotations(read_only_hint = true))]
    fn add(
        &self,
        Parameters(AddArgs { a, b }): Parameters<AddArgs>,
    ) -> Result<Json<Sum>, ErrorData> {
        let sum = a
            .checked_add(b)
            .ok_or_else(|| ErrorData::invalid_params("the sum overflows a 64-bit integer", None))?;
        Ok(Json(Sum { sum }))
    }
}

#[prompt_router]
impl Minimal {
    #[prompt(description = "Ask for a code review.")]
    fn review(
        &self,
        Parameters(ReviewArgs { code }): Parameters<ReviewArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            format!("Please review:\n{code}"),
        )]
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for Minimal {
    fn get_info(&self) -> ServerConfig {
        let caps = ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .build();
        ServerConfig::new(caps).with_server_info(Implementation::new(
            "mcp-conform-rmcp-minimal",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let greeting = Resource::new(GREETING_URI, "greeting")
            .with_description("A fixed greeting.")
            .with_mime_type("text/plain");
        Ok(ListResourcesResult::with_all_items(vec![greeting]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != GREETING_URI {
            let data = serde_json::json!({ "uri": request.uri });
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                Some(data),
            ));
        }
        Ok(ReadResourceResult::new(vec![ResourceContents::text("hello", GREETING_URI)]).into())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {
            let service = Minimal::new().serve(rmcp::transport::stdio()).await?;
            service.waiting().await?;
        }
        [flag, addr] if flag == "--http" => {
            let mcp = StreamableHttpService::new(
                || Ok(Minimal::new()),
                LocalSessionManager::default().into(),
                StreamableHttpServerConfig::default(),
            );
            let app = axum::Router::new().nest_service("/mcp", mcp);
            let listener = tokio::net::TcpListener::bind(addr).await?;
            eprintln!("rmcp-minimal: Streamable HTTP on http://{addr}/mcp");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    tokio::signal::ctrl_c().await.ok();
                })
                .await?;
        }
        _ => {
            eprintln!("usage: rmcp-minimal [--http 127.0.0.1:PORT]");
            std::process::exit(2);
        }
    }
    Ok(())
}

//! mcp-conform: a conformance test suite for Model Context Protocol servers.
//!
//! See ARCHITECTURE.md for the bird's-eye view and the code map.

pub mod schema;
pub mod spec;

//! The bundled MCP reference server (placeholder, being written).
